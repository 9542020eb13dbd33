//! The Fetch standard's CORS checks, applied to what a layer answered: the
//! browser's side of the decision, which no bucket setting can change.
//!
//! The checks themselves are `bucketcors-fetch`'s (shared with the
//! console's tester and checked against Chromium); the doctor applies them
//! by the standard ([`Browser::Standard`]), so that what it calls allowed
//! works in every browser. This file adds what is the doctor's own:
//! [`evaluate`] on a probed layer, and [`findings`], the checks that do not
//! block today but break something else: Max-Age above Chromium's 2-hour
//! cap, a per-origin answer without `Vary: Origin`, an upload whose `ETag`
//! the page cannot read, credentials headers that contradict each other.

pub use bucketcors_fetch::{Blocked, Stage};
use bucketcors_fetch::{Browser, Verdict, chromium};

use super::browser::PageRequest;
use super::layers::Layer;
use super::probe::Reply;
use super::report::{Finding, Kind, Severity};

/// Chromium's cap on `Access-Control-Max-Age` (seconds).
pub const CHROMIUM_MAX_AGE: u64 = chromium::MAX_AGE_CAP;

/// The CORS check on one reply.
pub fn cors_check(reply: &Reply, origin: &str, credentials: bool) -> Result<(), Blocked> {
    bucketcors_fetch::cors_check(&reply.answer(), origin, credentials)
}

/// The preflight check on one reply, by the standard (which Chromium 156
/// deviates from for `*` and `Authorization`; the finding says so).
pub fn preflight_check(reply: &Reply, request: &PageRequest) -> Result<(), Blocked> {
    bucketcors_fetch::preflight_check(&reply.answer(), request, Browser::Standard)
}

/// What the browser does with `layer`'s answers, by the standard.
pub fn evaluate(request: &PageRequest, layer: &Layer) -> Verdict {
    let preflight = layer.preflight_reply().map(Reply::answer);
    let actual = layer.actual_or_stand_in().map(Reply::answer);
    bucketcors_fetch::evaluate(
        request,
        preflight.as_ref(),
        actual.as_ref(),
        Browser::Standard,
    )
}

/// The refusal as a finding, plus the checks that do not block.
pub fn findings(request: &PageRequest, layer: &Layer) -> Vec<Finding> {
    let mut out = Vec::new();
    if !layer.reached() {
        return out;
    }
    if let Some((stage, blocked)) = evaluate(request, layer).blocked {
        let which = match stage {
            Stage::Preflight => "the preflight",
            Stage::Actual => "the actual response",
        };
        let mut finding = Finding::new(
            Kind::ResponseCheck,
            Severity::Error,
            format!("{which} fails the browser's CORS check: {}", blocked.code()),
        )
        .evidence(format!(
            "Chromium: {}",
            chromium::message(&request.url, &request.origin, stage, &blocked)
        ));
        if let Blocked::MultipleAllowOrigin(value) = &blocked {
            let lines = layer
                .reply(stage)
                .map_or(0, |r| r.all("access-control-allow-origin").len());
            finding = finding.evidence(if lines > 1 {
                format!(
                    "{lines} Access-Control-Allow-Origin header lines ({value}): two layers each \
                     add one; exactly one must, so remove it from all but one layer"
                )
            } else {
                format!(
                    "one Access-Control-Allow-Origin line holding a list ({value}): a browser \
                     accepts exactly one origin or `*`; the server must echo the request's origin"
                )
            });
        }
        if let (Stage::Preflight, Blocked::HeaderNotAllowed(_)) = (stage, &blocked)
            && let Some(reply) = layer.preflight_reply()
        {
            let all =
                bucketcors_fetch::unlisted_headers(&reply.answer(), request, Browser::Standard);
            if all.len() > 1 {
                finding = finding.evidence(format!(
                    "not allowed by the preflight's answer: {} (a browser names one at a time;                      allow them all)",
                    all.join(", ")
                ));
            }
        }
        if let Blocked::HeaderNotAllowed(name) = &blocked
            && name == "authorization"
            && layer.preflight_reply().is_some_and(|r| {
                r.list("access-control-allow-headers")
                    .iter()
                    .any(|h| h == "*")
            })
        {
            finding = finding.evidence(
                "Access-Control-Allow-Headers is `*`, which by the Fetch standard never covers \
                 Authorization (this check follows the standard; Chromium 156 deviates and lets \
                 `*` cover it, so the request may work there and fail in browsers that follow \
                 the standard): list `authorization` explicitly",
            );
        }
        out.push(finding);
    }
    let replies: Vec<&Reply> = [layer.preflight_reply(), layer.actual_reply()]
        .into_iter()
        .flatten()
        .collect();
    if let Some(preflight) = layer.preflight_reply() {
        out.extend(max_age(preflight));
        if request.method == "PUT" && !exposes(preflight, "etag", request.credentials) {
            out.push(
                Finding::new(
                    Kind::ResponseCheck,
                    Severity::Warning,
                    "ETag is not exposed: a multipart upload cannot read each part's ETag",
                )
                .evidence(format!(
                    "Access-Control-Expose-Headers: {}",
                    preflight
                        .get("access-control-expose-headers")
                        .unwrap_or_else(|| "(absent)".into())
                ))
                .fix("add ETag to the rule's exposeHeaders (S3 ExposeHeader, OSS ExposeHeader)"),
            );
        }
    }
    for reply in replies {
        let acao = reply.get("access-control-allow-origin");
        if reply.get("access-control-allow-credentials").as_deref() == Some("true")
            && acao.as_deref() == Some("*")
        {
            out.push(
                Finding::new(
                    Kind::ResponseCheck,
                    Severity::Warning,
                    "Access-Control-Allow-Credentials: true with Access-Control-Allow-Origin: *",
                )
                .evidence("a credentialed request is refused with `*`; the origin must be echoed"),
            );
            break;
        }
    }
    if let Some(actual) = layer.actual_reply() {
        let acao = actual.get("access-control-allow-origin");
        let varies = actual
            .list("vary")
            .iter()
            .any(|m| m.eq_ignore_ascii_case("origin") || m == "*");
        if let Some(acao) = acao
            && acao != "*"
            && !varies
        {
            out.push(
                Finding::new(
                    Kind::ResponseCheck,
                    Severity::Warning,
                    "the answer depends on Origin but does not say `Vary: Origin`",
                )
                .evidence(format!(
                    "Access-Control-Allow-Origin: {acao}; Vary: {}",
                    actual.get("vary").unwrap_or_else(|| "(absent)".into())
                ))
                .evidence(
                    "a shared cache (CDN, proxy, the browser's own) may hand this answer to \
                     another origin",
                )
                .fix(
                    "send Vary: Origin (OSS: ResponseVary true; S3 sends it with CORS headers), or \
                     answer CORS at the bucketcors edge, after the cache",
                ),
            );
        }
    }
    out
}

fn exposes(reply: &Reply, name: &str, credentials: bool) -> bool {
    bucketcors_fetch::readable(&reply.answer(), name, credentials)
}

fn max_age(reply: &Reply) -> Option<Finding> {
    let raw = reply.get("access-control-max-age")?;
    match raw.trim().parse::<i64>() {
        Ok(seconds) if seconds > CHROMIUM_MAX_AGE as i64 => Some(
            Finding::new(
                Kind::ResponseCheck,
                Severity::Warning,
                format!(
                    "Access-Control-Max-Age {seconds} s is above Chromium's cap of {CHROMIUM_MAX_AGE} s \
                     (2 hours)"
                ),
            )
            .evidence(
                "Chromium caches the preflight for 2 hours at most (Firefox 24 hours): a rule \
                 change reaches browsers on different schedules, and the longer value buys nothing \
                 in Chromium",
            )
            .fix(format!("set maxAgeSeconds to {CHROMIUM_MAX_AGE} or less")),
        ),
        Ok(seconds) if seconds < 0 => Some(Finding::new(
            Kind::ResponseCheck,
            Severity::Warning,
            format!("Access-Control-Max-Age {seconds} is negative; browsers ignore it"),
        )),
        Ok(_) => None,
        Err(_) => Some(Finding::new(
            Kind::ResponseCheck,
            Severity::Warning,
            format!("Access-Control-Max-Age `{raw}` is not a number; browsers ignore it"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, headers: &[(&str, &str)]) -> Reply {
        Reply {
            status,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: String::new(),
        }
    }

    #[test]
    fn cors_check_follows_fetch() {
        let o = "https://app.example";
        assert_eq!(
            cors_check(&reply(200, &[]), o, false),
            Err(Blocked::NoAllowOrigin)
        );
        assert!(
            cors_check(
                &reply(200, &[("access-control-allow-origin", "*")]),
                o,
                false
            )
            .is_ok()
        );
        assert_eq!(
            cors_check(
                &reply(200, &[("access-control-allow-origin", "*")]),
                o,
                true
            ),
            Err(Blocked::WildcardWithCredentials)
        );
        let two = reply(
            200,
            &[
                ("access-control-allow-origin", o),
                ("access-control-allow-origin", o),
            ],
        );
        assert!(matches!(
            cors_check(&two, o, false),
            Err(Blocked::MultipleAllowOrigin(_))
        ));
        assert_eq!(
            cors_check(&reply(200, &[("access-control-allow-origin", o)]), o, true),
            Err(Blocked::CredentialsNotTrue(String::new()))
        );
    }
}
