//! Why a request got no CORS: one structured log line per refused
//! preflight (`cors_refused`) and per actual request with an `Origin` that
//! gets no CORS headers (`cors_withheld`).
//!
//! A browser only says "blocked by CORS policy"; the line says which part
//! did not match, so an operator can tell a missing origin from a missing
//! method or header without replaying the request. Fields: `reason`
//! (below), `origin_host` (the `Origin` reduced to its host: the scheme,
//! port and anything else a client put there are left out), `method` (the
//! method matched: `Access-Control-Request-Method` for a preflight),
//! `header` (for `reason: header`, the first requested header no rule
//! allows), `route` and `revision`.
//!
//! Reasons: `no_route` (the host has no published route), `no_rules` (the
//! bucket has no CORS configuration), `no_origin` (a preflight without
//! `Origin`), `no_request_method` (a preflight without
//! `Access-Control-Request-Method`), `origin` (no rule allows the origin),
//! `method` (rules allow the origin, none with this method), `header`
//! (rules allow origin and method, not the requested headers).
//!
//! A request without `Origin` is not a CORS request (browsers send `Origin`
//! on every cross-origin request), so it gets no line: logging every plain
//! `GET` would bury the refusals.
//!
//! The reason is found by asking the same compiled rules again with parts
//! of the request left out, only for requests already refused, so the
//! words cannot drift from the decision and allowed requests pay nothing.

use bucketcors_engine::compile::Compiled;
use bucketcors_engine::decision::{Outcome, Refusal};
use bucketcors_engine::request::Request;
use bucketcors_engine::{Decision, Dialect};

use crate::log;

/// Why a request got no CORS headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Why {
    /// One of the reasons in the module docs.
    pub reason: &'static str,
    /// The method matched (for a preflight, the requested one).
    pub method: String,
    /// The requested header no rule allows (`reason == "header"`).
    pub header: Option<String>,
}

/// The methods a rule can allow.
const METHODS: [&str; 5] = ["GET", "PUT", "POST", "DELETE", "HEAD"];

/// Why `decision` (for `request`, decided by `compiled`) carries no CORS,
/// or `None` when it does, or when the request has no `Origin` and is not
/// a preflight.
pub fn why(compiled: &Compiled, request: &Request<'_>, decision: &Decision<'_, '_>) -> Option<Why> {
    let preflight = request.is_options();
    let matched_method = if preflight {
        request.request_method
    } else {
        match compiled.dialect() {
            Dialect::S3 => Some(request.request_method.unwrap_or(request.method)),
            Dialect::Oss => Some(request.method),
        }
    };
    let method = matched_method.unwrap_or("").to_owned();
    let simple = |reason| {
        Some(Why {
            reason,
            method: method.clone(),
            header: None,
        })
    };
    match decision.outcome() {
        Outcome::Allowed { .. } => None,
        Outcome::Refused(Refusal::MissingOrigin) => simple("no_origin"),
        Outcome::Refused(Refusal::NotEnabled) => simple("no_rules"),
        Outcome::Refused(Refusal::MissingRequestMethod) => simple("no_request_method"),
        Outcome::NoCors if request.origin.is_none() => None,
        Outcome::NoCors if compiled.config().is_none() => simple("no_rules"),
        Outcome::Refused(Refusal::NotAllowed) | Outcome::NoCors => {
            let origin = request.origin?;
            let Some(method) = matched_method else {
                return simple("no_request_method");
            };
            // Headers only count where the dialect matches them.
            let headers = if preflight || compiled.dialect() == Dialect::S3 {
                request.request_headers
            } else {
                None
            };
            let allows = |method: &str, headers: Option<&str>| {
                compiled
                    .decide(&Request {
                        method: "OPTIONS",
                        origin: Some(origin),
                        request_method: Some(method),
                        request_headers: headers,
                        resource: request.resource,
                    })
                    .is_allowed()
            };
            if allows(method, None) {
                let listed = headers.unwrap_or("");
                let header = listed
                    .split(',')
                    .map(str::trim)
                    .filter(|h| !h.is_empty())
                    .find(|h| !allows(method, Some(h)))
                    .unwrap_or(listed);
                return Some(Why {
                    reason: "header",
                    method: method.to_owned(),
                    header: Some(header.to_owned()),
                });
            }
            let reason = if METHODS.iter().any(|m| allows(m, None)) {
                "method"
            } else {
                "origin"
            };
            simple(reason)
        }
    }
}

/// The host of an `Origin` value (`https://app.example:8443` →
/// `app.example`); `null` and anything unreadable stay as short as they
/// can: the part before any `/`, `?` or `#`, without port or user.
pub fn origin_host(origin: &str) -> &str {
    let rest = origin.split_once("://").map(|(_, r)| r).unwrap_or(origin);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit('@').next().unwrap_or("");
    if authority.starts_with('[') {
        authority.split_inclusive(']').next().unwrap_or(authority)
    } else {
        authority.split(':').next().unwrap_or(authority)
    }
}

/// Logs `why` for a request with `origin` on `route` at `revision`: a
/// preflight as `cors_refused`, an actual request as `cors_withheld`.
pub fn log(preflight: bool, why: &Why, origin: Option<&str>, route: &str, revision: &str) {
    let event = if preflight {
        "cors_refused"
    } else {
        "cors_withheld"
    };
    let host = origin.map(origin_host).unwrap_or("");
    let mut fields: Vec<(&str, &str)> = vec![
        ("reason", why.reason),
        ("origin_host", host),
        ("method", &why.method),
    ];
    if let Some(header) = &why.header {
        fields.push(("header", header));
    }
    fields.push(("route", route));
    fields.push(("revision", revision));
    log::info(event, &fields);
}

#[cfg(test)]
mod tests {
    use super::*;
    use bucketcors_engine::model::{CorsConfig, Rule};
    use bucketcors_engine::{Dialect, ResourceType};

    fn compiled(dialect: Dialect) -> Compiled {
        let config = CorsConfig {
            rules: vec![Rule {
                id: None,
                allowed_origins: vec!["https://app.example".into()],
                allowed_methods: vec!["GET".into(), "PUT".into()],
                allowed_headers: vec!["content-type".into()],
                expose_headers: vec![],
                max_age_seconds: None,
            }],
            response_vary: false,
        };
        Compiled::new(&config, dialect).expect("valid rules")
    }

    fn reason_of(c: &Compiled, request: Request<'_>) -> Option<Why> {
        why(c, &request, &c.decide(&request))
    }

    fn preflight<'a>(
        origin: Option<&'a str>,
        method: Option<&'a str>,
        headers: Option<&'a str>,
    ) -> Request<'a> {
        Request {
            method: "OPTIONS",
            origin,
            request_method: method,
            request_headers: headers,
            resource: ResourceType::Object,
        }
    }

    #[test]
    fn every_refusal_names_what_did_not_match() {
        let s3 = compiled(Dialect::S3);
        let app = Some("https://app.example");
        assert_eq!(reason_of(&s3, preflight(app, Some("GET"), None)), None);
        let r = |req| reason_of(&s3, req).map(|w| (w.reason, w.header));
        assert_eq!(
            r(preflight(None, Some("GET"), None)),
            Some(("no_origin", None))
        );
        assert_eq!(
            r(preflight(Some("https://evil.example"), Some("GET"), None)),
            Some(("origin", None))
        );
        assert_eq!(
            r(preflight(app, Some("DELETE"), None)),
            Some(("method", None))
        );
        assert_eq!(
            r(preflight(app, Some("PUT"), Some("content-type, x-secret"))),
            Some(("header", Some("x-secret".into())))
        );
        assert_eq!(
            r(preflight(app, None, None)),
            Some(("no_request_method", None))
        );
        let oss = compiled(Dialect::Oss);
        assert_eq!(
            reason_of(&oss, preflight(app, None, None)).map(|w| w.reason),
            Some("no_request_method")
        );
        let none = Compiled::none(Dialect::S3);
        assert_eq!(
            reason_of(&none, preflight(app, Some("GET"), None)).map(|w| w.reason),
            Some("no_rules")
        );
        // Actual requests: no line without Origin; the reason otherwise.
        let get = |origin| Request {
            method: "DELETE",
            origin,
            request_method: None,
            request_headers: None,
            resource: ResourceType::Object,
        };
        assert_eq!(reason_of(&s3, get(None)), None);
        let w = reason_of(&s3, get(app)).unwrap();
        assert_eq!((w.reason, w.method.as_str()), ("method", "DELETE"));
        assert_eq!(
            reason_of(&none, get(app)).map(|w| w.reason),
            Some("no_rules")
        );
    }

    #[test]
    fn origins_are_reduced_to_their_host() {
        assert_eq!(origin_host("https://app.example:8443"), "app.example");
        assert_eq!(origin_host("https://u:p@app.example/x?y"), "app.example");
        assert_eq!(origin_host("http://[::1]:80"), "[::1]");
        assert_eq!(origin_host("null"), "null");
    }
}
