//! The request as the doctor's flags describe it. What a browser derives
//! from a request (is a preflight sent, what it carries) is the Fetch
//! standard's and lives in `bucketcors-fetch`, shared with the console and
//! checked against Chromium; this file only reads and checks the flags.

use bucketcors_fetch::safelist::is_forbidden_request_header;
pub use bucketcors_fetch::{PageHeader, PageRequest};

use super::Args;

/// Methods the doctor sends as the actual request: reading ones only, so
/// that probing never changes a bucket.
pub const SAFE_METHODS: [&str; 2] = ["GET", "HEAD"];

/// The request the arguments describe; a sentence naming the flag when
/// one is malformed.
pub fn request_from_args(args: &Args) -> Result<PageRequest, String> {
    check_url("URL", &args.url)?;
    for via in &args.via {
        check_url("--via", via)?;
    }
    if args.via.len() > 3 {
        return Err(format!(
            "--via: {} layers given, at most 3 are probed (the request budget is bounded)",
            args.via.len()
        ));
    }
    check_origin("--origin", &args.origin)?;
    check_origin("--second-origin", &args.second_origin)?;
    if args.second_origin == args.origin {
        return Err("--second-origin must differ from --origin".to_owned());
    }
    if args.method.is_empty() || !args.method.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(format!(
            "--method `{}` is not an HTTP method (letters only, such as PUT)",
            args.method
        ));
    }
    let mut headers = Vec::new();
    for raw in &args.headers {
        let (name, value) = match raw.split_once(':') {
            Some((n, v)) => (n.trim(), Some(v.trim().to_owned())),
            None => (raw.trim(), None),
        };
        if name.is_empty() || !name.bytes().all(is_token_byte) {
            return Err(format!(
                "--header `{raw}`: `{name}` is not a header name (expected NAME or NAME: VALUE)"
            ));
        }
        let name = name.to_ascii_lowercase();
        if is_forbidden_request_header(&name) {
            return Err(format!(
                "--header `{raw}`: a page cannot set `{name}` (the browser owns it), so it never \
                     reaches the bucket"
            ));
        }
        headers.push(PageHeader { name, value });
    }
    if headers.len() > 8 {
        return Err("--header: at most 8 headers (the request budget is bounded)".to_owned());
    }
    Ok(PageRequest::new(
        &args.url,
        &args.origin,
        &args.method,
        headers,
        args.credentials,
    ))
}

/// True when the doctor may send the actual request itself: only reading
/// methods, so that probing never changes a bucket.
pub fn actual_is_safe(request: &PageRequest) -> bool {
    SAFE_METHODS.contains(&request.method.as_str())
}

fn check_url(flag: &str, raw: &str) -> Result<(), String> {
    let url = url::Url::parse(raw).map_err(|e| format!("{flag} `{raw}` is not a URL: {e}"))?;
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return Err(format!(
                "{flag} `{raw}`: scheme `{other}` is not probed (http or https)"
            ));
        }
    }
    if url.host_str().is_none() {
        return Err(format!("{flag} `{raw}` has no host"));
    }
    Ok(())
}

/// An origin is `scheme://host[:port]` with nothing after it: what a
/// browser sends. A trailing `/` or a path never matches a rule.
fn check_origin(flag: &str, raw: &str) -> Result<(), String> {
    let url = url::Url::parse(raw).map_err(|e| format!("{flag} `{raw}` is not an origin: {e}"))?;
    let serialized = url.origin().ascii_serialization();
    if serialized != raw {
        return Err(format!(
            "{flag} `{raw}` is not an origin as a browser sends it: expected `{serialized}` \
             (scheme, host and port only, no path or trailing slash, default port omitted)"
        ));
    }
    Ok(())
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, headers: &[(&str, Option<&str>)]) -> PageRequest {
        PageRequest {
            url: "https://b.example/o".into(),
            origin: "https://app.example".into(),
            method: method.into(),
            headers: headers
                .iter()
                .map(|(n, v)| PageHeader {
                    name: n.to_string(),
                    value: v.map(str::to_owned),
                })
                .collect(),
            credentials: false,
        }
    }

    #[test]
    fn fetch_preflight_rules() {
        assert!(!request("GET", &[]).needs_preflight());
        assert!(!request("POST", &[("content-type", Some("text/plain"))]).needs_preflight());
        assert!(request("POST", &[("content-type", Some("application/json"))]).needs_preflight());
        assert!(request("PUT", &[]).needs_preflight());
        let r = request("GET", &[("x-b", None), ("accept", None), ("x-a", None)]);
        assert_eq!(r.request_headers_value().as_deref(), Some("x-a,x-b"));
    }

    #[test]
    fn origins_as_browsers_send_them() {
        assert!(check_origin("--origin", "https://app.example").is_ok());
        assert!(check_origin("--origin", "http://127.0.0.1:8080").is_ok());
        assert!(check_origin("--origin", "https://app.example/").is_err());
        assert!(check_origin("--origin", "https://app.example:443").is_err());
    }
}
