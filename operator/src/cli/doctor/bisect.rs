//! Which part of a refused request the answer objects to, found from the
//! live answers alone by varying one thing at a time, as Alibaba's own
//! troubleshooting page has people do by hand (origin, then method, then
//! headers), but without touching the rules.
//!
//! For a refused preflight: the same preflight without headers, then with
//! `GET` instead of the method, then each requested header alone, then the
//! origin with the other scheme. For a refused actual request: a preflight
//! for the same origin and method (does any rule allow it at all?) and the
//! origin with the other scheme. Every variation is an `OPTIONS` or a `GET`:
//! nothing changes. At most [`MAX_VARIATIONS`] requests.

use super::browser::PageRequest;
use super::fetch_checks::{Blocked, Stage, cors_check, evaluate, preflight_check};
use super::layers::{Layer, actual, preflight};
use super::probe::Prober;
use super::report::{Finding, Kind, Severity};

/// The most requests one bisection sends.
pub const MAX_VARIATIONS: usize = 11;

/// One variation and how it fared.
struct Tried {
    what: String,
    outcome: Result<(), String>,
}

impl Tried {
    fn line(&self) -> String {
        match &self.outcome {
            Ok(()) => format!("{}: passes", self.what),
            Err(why) => format!("{}: refused ({why})", self.what),
        }
    }
}

/// The origin with the other scheme (`https` ↔ `http`), default ports
/// kept default.
fn other_scheme(origin: &str) -> Option<String> {
    if let Some(rest) = origin.strip_prefix("https://") {
        Some(format!("http://{rest}"))
    } else {
        origin
            .strip_prefix("http://")
            .map(|rest| format!("https://{rest}"))
    }
}

async fn try_preflight(prober: &Prober, variant: &PageRequest, what: String) -> Tried {
    let exchange = prober.send(preflight(variant, "bisect")).await;
    let outcome = match exchange.reply() {
        None => Err(exchange
            .failure()
            .map(|f| f.to_string())
            .unwrap_or_default()),
        Some(reply) => preflight_check(reply, variant).map_err(|b| b.code().to_owned()),
    };
    Tried { what, outcome }
}

/// The failing-field findings for a refused request.
pub async fn findings(prober: &Prober, request: &PageRequest, main: &Layer) -> Vec<Finding> {
    let Some((stage, blocked)) = evaluate(request, main).blocked else {
        return Vec::new();
    };
    match &blocked {
        Blocked::WildcardWithCredentials | Blocked::CredentialsNotTrue(_) => {
            return vec![
                Finding::new(
                    Kind::FailingField,
                    Severity::Error,
                    "the failing field is credentials: the answer would do without them",
                )
                .evidence(format!(
                    "the page sends credentials and the answer has {}",
                    match blocked {
                        Blocked::WildcardWithCredentials => "Access-Control-Allow-Origin: *",
                        _ => "no Access-Control-Allow-Credentials: true",
                    }
                ))
                .fix(
                    "either fetch without credentials (the default `same-origin` mode for another \
                     origin), or allow the exact origin (not `*`) in an S3 rule, which answers \
                     with Allow-Credentials: true; OSS never sends it",
                ),
            ];
        }
        Blocked::MultipleAllowOrigin(_) | Blocked::PreflightRedirect(_) => return Vec::new(),
        _ => {}
    }
    let mut tried = Vec::new();
    let mut culprit: Option<String> = None;
    let variant = |method: &str, headers: &[String], origin: &str| PageRequest {
        method: method.to_owned(),
        origin: origin.to_owned(),
        headers: request
            .headers
            .iter()
            .filter(|h| h.is_safelisted() || headers.contains(&h.name))
            .cloned()
            .collect(),
        ..request.clone()
    };
    let unsafe_headers = request.unsafe_headers();
    if stage == Stage::Preflight {
        let mut origin_and_method_pass = false;
        if !unsafe_headers.is_empty() {
            let t = try_preflight(
                prober,
                &variant(&request.method, &[], &request.origin),
                format!("{} without requested headers", request.method),
            )
            .await;
            origin_and_method_pass = t.outcome.is_ok();
            tried.push(t);
        }
        if origin_and_method_pass {
            let failing: Vec<String> = if unsafe_headers.len() == 1 {
                unsafe_headers.clone()
            } else {
                let mut failing = Vec::new();
                for name in &unsafe_headers {
                    let t = try_preflight(
                        prober,
                        &variant(&request.method, std::slice::from_ref(name), &request.origin),
                        format!("{} with only `{name}`", request.method),
                    )
                    .await;
                    if t.outcome.is_err() {
                        failing.push(name.clone());
                    }
                    tried.push(t);
                }
                failing
            };
            culprit = Some(if failing.is_empty() {
                "the combination of requested headers (each passes alone)".to_owned()
            } else {
                format!(
                    "the requested header{} {}",
                    if failing.len() == 1 { "" } else { "s" },
                    failing
                        .iter()
                        .map(|h| format!("`{h}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            });
        } else if request.method != "GET" {
            let t = try_preflight(
                prober,
                &variant("GET", &[], &request.origin),
                "GET instead, without requested headers".to_owned(),
            )
            .await;
            if t.outcome.is_ok() {
                culprit = Some(format!("the method {}", request.method));
            }
            tried.push(t);
        }
    } else {
        // The actual response lacks a passing Allow-Origin: would a
        // preflight for the same origin and method pass?
        let t = try_preflight(
            prober,
            &variant(&request.method, &unsafe_headers, &request.origin),
            format!("a preflight for {} from the same origin", request.method),
        )
        .await;
        if t.outcome.is_ok() {
            culprit = Some(
                "not the rules: a preflight for the same origin and method passes, but the actual \
                 answer lacks the CORS headers (a layer strips them, a cache served an answer \
                 stored without them, or the error path of the server adds none)"
                    .to_owned(),
            );
        }
        tried.push(t);
    }
    if culprit.is_none()
        && let Some(swapped) = other_scheme(&request.origin)
    {
        let v = variant(&request.method, &unsafe_headers, &swapped);
        let t = if stage == Stage::Preflight {
            try_preflight(prober, &v, format!("the same request from {swapped}")).await
        } else {
            let exchange = prober.send(actual(&v, "bisect")).await;
            let outcome = match exchange.reply() {
                None => Err(exchange
                    .failure()
                    .map(|f| f.to_string())
                    .unwrap_or_default()),
                Some(reply) => {
                    cors_check(reply, &swapped, v.credentials).map_err(|b| b.code().to_owned())
                }
            };
            Tried {
                what: format!("the same request from {swapped}"),
                outcome,
            }
        };
        if t.outcome.is_ok() {
            culprit = Some(format!(
                "the origin's scheme: {swapped} is allowed, the page's {} is not (scheme, host and \
                 port must all match)",
                request.origin
            ));
        }
        tried.push(t);
    }
    let all_not_ok = tried.iter().all(|t| {
        t.outcome
            .as_ref()
            .is_err_and(|why| why == Blocked::PreflightNotOk(0).code())
    });
    let culprit = culprit.unwrap_or_else(|| {
        if all_not_ok && matches!(blocked, Blocked::PreflightNotOk(_)) {
            return "none of the request's fields: every variation of the preflight gets a status \
                    other than 2xx, whatever the origin, method or headers (the layer does not \
                    answer preflights, or refuses them all)"
                .to_owned();
        }
        format!(
            "the origin {} (or the origin and the method together): no variation passes",
            request.origin
        )
    });
    let mut finding = Finding::new(
        Kind::FailingField,
        Severity::Error,
        format!("the failing field is {culprit}"),
    );
    for t in &tried {
        finding = finding.evidence(t.line());
    }
    vec![finding]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_swaps() {
        assert_eq!(
            other_scheme("https://app.example").as_deref(),
            Some("http://app.example")
        );
        assert_eq!(
            other_scheme("http://127.0.0.1:8080").as_deref(),
            Some("https://127.0.0.1:8080")
        );
    }
}
