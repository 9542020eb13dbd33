//! The Fetch standard's CORS checks, applied to what a layer answered: the
//! browser's side of the decision, which no bucket setting can change.
//!
//! [`evaluate`] is what the browser does (preflight check, then the CORS
//! check of the actual response) and returns the first failure, worded as
//! Chromium words it on the console. [`findings`] adds the checks that do
//! not block today but break something else: Max-Age above Chromium's
//! 2-hour cap, a per-origin answer without `Vary: Origin`, an upload whose
//! `ETag` the page cannot read, credentials headers that contradict each
//! other.

use super::browser::{BrowserRequest, SIMPLE_METHODS};
use super::layers::Layer;
use super::probe::{Reply, redact_url};
use super::report::{Finding, Kind, Severity};

/// Chromium's cap on `Access-Control-Max-Age` (seconds): longer values are
/// cut to 2 hours (Firefox caps at 24 hours).
pub const CHROMIUM_MAX_AGE: u64 = 7200;

/// Which request of the browser's pair failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The `OPTIONS` preflight.
    Preflight,
    /// The actual request.
    Actual,
}

/// Why the browser refuses.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "reason", content = "value", rename_all = "snake_case")]
pub enum Blocked {
    /// No `Access-Control-Allow-Origin`.
    NoAllowOrigin,
    /// Several values (two header lines, or one comma-joined list).
    MultipleAllowOrigin(String),
    /// A value other than the page's origin.
    OriginMismatch(String),
    /// `*` with credentials.
    WildcardWithCredentials,
    /// `Access-Control-Allow-Credentials` is not `true` with credentials.
    CredentialsNotTrue(String),
    /// The preflight's status is not 2xx.
    PreflightNotOk(u16),
    /// The preflight was redirected.
    PreflightRedirect(u16),
    /// The method is not in `Access-Control-Allow-Methods`.
    MethodNotAllowed(String),
    /// A requested header is not in `Access-Control-Allow-Headers`.
    HeaderNotAllowed(String),
}

/// The browser's verdict on one layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    /// `None`: the page gets the answer.
    pub blocked: Option<(Stage, Blocked)>,
}

impl Blocked {
    /// The tail of Chromium's console message for this failure.
    pub fn chromium_detail(&self, origin: &str) -> String {
        match self {
            Blocked::NoAllowOrigin => {
                "No 'Access-Control-Allow-Origin' header is present on the requested resource."
                    .to_owned()
            }
            Blocked::MultipleAllowOrigin(v) => format!(
                "The 'Access-Control-Allow-Origin' header contains multiple values '{v}', but only \
                 one is allowed."
            ),
            Blocked::OriginMismatch(v) => format!(
                "The 'Access-Control-Allow-Origin' header has a value '{v}' that is not equal to \
                 the supplied origin."
            ),
            Blocked::WildcardWithCredentials => {
                "The value of the 'Access-Control-Allow-Origin' header in the response must not \
                 be the wildcard '*' when the request's credentials mode is 'include'."
                    .to_owned()
            }
            Blocked::CredentialsNotTrue(v) => format!(
                "The value of the 'Access-Control-Allow-Credentials' header in the response is \
                 '{v}' which must be 'true' when the request's credentials mode is 'include'."
            ),
            Blocked::PreflightNotOk(_) => "It does not have HTTP ok status.".to_owned(),
            Blocked::PreflightRedirect(_) => {
                "Redirect is not allowed for a preflight request.".to_owned()
            }
            Blocked::MethodNotAllowed(m) => format!(
                "Method {m} is not allowed by Access-Control-Allow-Methods in preflight response."
            ),
            Blocked::HeaderNotAllowed(h) => format!(
                "Request header field {h} is not allowed by Access-Control-Allow-Headers in \
                 preflight response."
            ),
        }
        .replace("{origin}", origin)
    }

    /// A short name, for the JSON output and the tests.
    pub fn code(&self) -> &'static str {
        match self {
            Blocked::NoAllowOrigin => "no_allow_origin",
            Blocked::MultipleAllowOrigin(_) => "multiple_allow_origin",
            Blocked::OriginMismatch(_) => "origin_mismatch",
            Blocked::WildcardWithCredentials => "wildcard_with_credentials",
            Blocked::CredentialsNotTrue(_) => "credentials_not_true",
            Blocked::PreflightNotOk(_) => "preflight_not_ok",
            Blocked::PreflightRedirect(_) => "preflight_redirect",
            Blocked::MethodNotAllowed(_) => "method_not_allowed",
            Blocked::HeaderNotAllowed(_) => "header_not_allowed",
        }
    }
}

/// Chromium's whole console message for a refusal.
pub fn chromium_message(request: &BrowserRequest, stage: Stage, blocked: &Blocked) -> String {
    let head = format!(
        "Access to fetch at '{}' from origin '{}' has been blocked by CORS policy: ",
        redact_url(&request.url),
        request.origin
    );
    let middle = match (stage, blocked) {
        (Stage::Preflight, Blocked::MethodNotAllowed(_) | Blocked::HeaderNotAllowed(_)) => "",
        (Stage::Preflight, _) => {
            "Response to preflight request doesn't pass access control check: "
        }
        (Stage::Actual, _) => "",
    };
    format!("{head}{middle}{}", blocked.chromium_detail(&request.origin))
}

/// Fetch's CORS check on one response.
pub fn cors_check(reply: &Reply, origin: &str, credentials: bool) -> Result<(), Blocked> {
    let values = reply.all("access-control-allow-origin");
    let value = match values.as_slice() {
        [] => return Err(Blocked::NoAllowOrigin),
        [one] => one.trim(),
        many => return Err(Blocked::MultipleAllowOrigin(many.join(", "))),
    };
    if value.contains(',') {
        return Err(Blocked::MultipleAllowOrigin(value.to_owned()));
    }
    if value == "*" {
        if credentials {
            return Err(Blocked::WildcardWithCredentials);
        }
        return Ok(());
    }
    if value != origin {
        return Err(Blocked::OriginMismatch(value.to_owned()));
    }
    if credentials {
        let acac = reply
            .get("access-control-allow-credentials")
            .unwrap_or_default();
        if acac != "true" {
            return Err(Blocked::CredentialsNotTrue(acac));
        }
    }
    Ok(())
}

/// Fetch's preflight check: the CORS check, an ok status, then the method
/// and every non-safelisted header listed (`*` counts only without
/// credentials, and never for `Authorization`, as the standard says; Chromium
/// 156 deviates there and lets `*` cover `Authorization`).
pub fn preflight_check(reply: &Reply, request: &BrowserRequest) -> Result<(), Blocked> {
    if reply.is_redirect() {
        return Err(Blocked::PreflightRedirect(reply.status));
    }
    cors_check(reply, &request.origin, request.credentials)?;
    if !reply.is_ok() {
        return Err(Blocked::PreflightNotOk(reply.status));
    }
    let methods = reply.list("access-control-allow-methods");
    let any_method = methods.iter().any(|m| m == "*") && !request.credentials;
    if !SIMPLE_METHODS.contains(&request.method.as_str())
        && !any_method
        && !methods.contains(&request.method)
    {
        return Err(Blocked::MethodNotAllowed(request.method.clone()));
    }
    let allowed = reply.list("access-control-allow-headers");
    let any_header = allowed.iter().any(|h| h == "*") && !request.credentials;
    for name in request.unsafe_headers() {
        let listed = allowed.iter().any(|a| a.eq_ignore_ascii_case(&name));
        let wildcard_covers = any_header && name != "authorization";
        if !listed && !wildcard_covers {
            return Err(Blocked::HeaderNotAllowed(name));
        }
    }
    Ok(())
}

/// What the browser does with `layer`'s answers.
pub fn evaluate(request: &BrowserRequest, layer: &Layer) -> Evaluation {
    if let Some(reply) = layer.preflight_reply()
        && let Err(blocked) = preflight_check(reply, request)
    {
        return Evaluation {
            blocked: Some((Stage::Preflight, blocked)),
        };
    }
    let blocked = layer
        .actual_or_stand_in()
        .and_then(|reply| cors_check(reply, &request.origin, request.credentials).err())
        .map(|b| (Stage::Actual, b));
    Evaluation { blocked }
}

/// The refusal as a finding, plus the checks that do not block.
pub fn findings(request: &BrowserRequest, layer: &Layer) -> Vec<Finding> {
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
            chromium_message(request, stage, &blocked)
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
    reply
        .list("access-control-expose-headers")
        .iter()
        .any(|e| e.eq_ignore_ascii_case(name) || (e == "*" && !credentials))
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
