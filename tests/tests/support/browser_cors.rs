//! What a browser must observe for one `fetch`, given the engine's decision
//! for the same rules: the expectation a real browser's behaviour is
//! checked against.
//!
//! The edge answers preflights with the engine's decision and puts the
//! engine's headers on forwarded responses, so a browser's outcome follows
//! from those headers and the Fetch standard's CORS checks, which this file
//! applies (the parts a test fetch can reach):
//!
//! - a preflight is sent when the method is not `GET`/`HEAD`/`POST` or a
//!   request header is not CORS-safelisted; it passes on status 200, a CORS
//!   check, the method in `Access-Control-Allow-Methods` and every
//!   non-safelisted header in `Access-Control-Allow-Headers`;
//! - the CORS check: `Access-Control-Allow-Origin` is the page's origin, or
//!   `*` when no credentials are sent; with credentials,
//!   `Access-Control-Allow-Credentials` must be `true`;
//! - a response header is readable when safelisted or listed in
//!   `Access-Control-Expose-Headers` (`*` counts only without credentials).
//!
//! Nothing here knows the rules: every answer comes from `Compiled::decide`.

use bucketcors_engine::{Compiled, Request};

use super::browser::Fetch;

/// What the page must observe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The browser sends a preflight first.
    pub preflighted: bool,
    /// `fetch` resolves (every CORS check passes).
    pub succeeds: bool,
    /// For each header the page reads: may it read it.
    pub readable: Vec<(String, bool)>,
}

impl Expected {
    /// Whether the page may read `name` (false when it did not ask).
    pub fn readable(&self, name: &str) -> bool {
        self.readable
            .iter()
            .any(|(n, r)| *r && n.eq_ignore_ascii_case(name))
    }
}

const SIMPLE_METHODS: [&str; 3] = ["GET", "HEAD", "POST"];
const SAFELISTED_RESPONSE: [&str; 7] = [
    "cache-control",
    "content-language",
    "content-length",
    "content-type",
    "expires",
    "last-modified",
    "pragma",
];

fn safelisted_request_header(name: &str, value: &str) -> bool {
    match name.to_ascii_lowercase().as_str() {
        "accept" | "accept-language" | "content-language" => true,
        "content-type" => {
            let essence = value.split(';').next().unwrap_or("").trim();
            [
                "application/x-www-form-urlencoded",
                "multipart/form-data",
                "text/plain",
            ]
            .iter()
            .any(|t| essence.eq_ignore_ascii_case(t))
        }
        _ => false,
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn list(value: Option<&str>) -> impl Iterator<Item = &str> {
    value
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// The Fetch standard's CORS check on a response's headers.
fn cors_check(headers: &[(String, String)], origin: &str, credentials: bool) -> bool {
    let origin_ok = match header(headers, "access-control-allow-origin") {
        Some("*") => !credentials,
        Some(value) => value == origin,
        None => false,
    };
    origin_ok
        && (!credentials || header(headers, "access-control-allow-credentials") == Some("true"))
}

fn decided(engine: &Compiled, request: &Request<'_>) -> (u16, Vec<(String, String)>) {
    let decision = engine.decide(request);
    let headers = decision
        .headers()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    (decision.status(), headers)
}

/// What the page must observe when it makes `fetch` from `origin` to a
/// host whose rules compile to `engine`.
pub fn expected(engine: &Compiled, origin: &str, fetch: &Fetch) -> Expected {
    let unsafe_headers: Vec<String> = {
        let mut names: Vec<String> = fetch
            .headers
            .iter()
            .filter(|(n, v)| !safelisted_request_header(n, v))
            .map(|(n, _)| n.to_ascii_lowercase())
            .collect();
        // Chromium sends them lower-cased, sorted, comma-joined.
        names.sort();
        names.dedup();
        names
    };
    let method = fetch.method.as_str();
    let preflighted = !SIMPLE_METHODS.contains(&method) || !unsafe_headers.is_empty();
    let mut succeeds = true;
    if preflighted {
        let requested = unsafe_headers.join(",");
        let mut request = Request::preflight(origin, method);
        if !requested.is_empty() {
            request = request.with_request_headers(&requested);
        }
        let (status, headers) = decided(engine, &request);
        let any = |h: &str| list(header(&headers, h)).any(|v| v == "*") && !fetch.credentials;
        let method_ok = SIMPLE_METHODS.contains(&method)
            || any("access-control-allow-methods")
            || list(header(&headers, "access-control-allow-methods")).any(|m| m == method);
        let headers_ok = unsafe_headers.iter().all(|h| {
            any("access-control-allow-headers")
                || list(header(&headers, "access-control-allow-headers"))
                    .any(|a| a.eq_ignore_ascii_case(h))
        });
        succeeds = (200..300).contains(&status)
            && cors_check(&headers, origin, fetch.credentials)
            && method_ok
            && headers_ok;
    }
    let actual = if succeeds {
        let (_, headers) = decided(engine, &Request::new(method).with_origin(origin));
        succeeds = cors_check(&headers, origin, fetch.credentials);
        headers
    } else {
        Vec::new()
    };
    let exposed: Vec<&str> = list(header(&actual, "access-control-expose-headers")).collect();
    let readable = fetch
        .read_headers
        .iter()
        .map(|name| {
            let lower = name.to_ascii_lowercase();
            let may = succeeds
                && (SAFELISTED_RESPONSE.contains(&lower.as_str())
                    || exposed.iter().any(|e| e.eq_ignore_ascii_case(&lower))
                    || (exposed.contains(&"*") && !fetch.credentials));
            (lower, may)
        })
        .collect();
    Expected {
        preflighted,
        succeeds,
        readable,
    }
}
