//! The request as a browser makes it: what the page asks for (URL, origin,
//! method, headers, credentials) and what the Fetch standard derives from
//! it: whether a preflight is needed and what the preflight carries.
//!
//! These are the browser's rules, not the bucket's: which methods and
//! headers are "simple" is fixed by the Fetch standard, and a bucket's
//! configuration cannot change them.

use super::Args;

/// Methods a page may send without a preflight (Fetch: CORS-safelisted methods).
pub const SIMPLE_METHODS: [&str; 3] = ["GET", "HEAD", "POST"];

/// Methods the doctor sends as the actual request: reading ones only, so
/// that probing never changes a bucket.
pub const SAFE_METHODS: [&str; 2] = ["GET", "HEAD"];

/// A header the page sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageHeader {
    /// The name, lower-cased (browsers lower-case it in the preflight).
    pub name: String,
    /// The value, when given; the doctor sends a placeholder otherwise.
    pub value: Option<String>,
}

impl PageHeader {
    /// Fetch's CORS-safelisted request headers (the parts a page can set):
    /// `Accept`, `Accept-Language`, `Content-Language`, and `Content-Type`
    /// with one of the three form types. A `Content-Type` without a value
    /// is taken as not safelisted (uploads send a file's own type).
    pub fn is_safelisted(&self) -> bool {
        match self.name.as_str() {
            "accept" | "accept-language" | "content-language" => true,
            "content-type" => self.value.as_deref().is_some_and(|v| {
                let essence = v.split(';').next().unwrap_or("").trim();
                [
                    "application/x-www-form-urlencoded",
                    "multipart/form-data",
                    "text/plain",
                ]
                .iter()
                .any(|t| essence.eq_ignore_ascii_case(t))
            }),
            _ => false,
        }
    }
}

/// What the page asks the browser to fetch.
#[derive(Debug, Clone)]
pub struct BrowserRequest {
    /// The URL.
    pub url: String,
    /// The page's origin.
    pub origin: String,
    /// The method, as the page writes it (methods are case-sensitive).
    pub method: String,
    /// The headers the page sets.
    pub headers: Vec<PageHeader>,
    /// `credentials: "include"`.
    pub credentials: bool,
}

impl BrowserRequest {
    /// The request the arguments describe; a sentence naming the flag when
    /// one is malformed.
    pub fn from_args(args: &Args) -> Result<BrowserRequest, String> {
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
            if is_forbidden(&name) {
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
        Ok(BrowserRequest {
            url: args.url.clone(),
            origin: args.origin.clone(),
            method: args.method.clone(),
            headers,
            credentials: args.credentials,
        })
    }

    /// The same request for another URL (a `--via` layer).
    pub fn at(&self, url: &str) -> BrowserRequest {
        BrowserRequest {
            url: url.to_owned(),
            ..self.clone()
        }
    }

    /// The headers that are not safelisted, lower-cased, sorted and without
    /// duplicates: what Chromium lists in `Access-Control-Request-Headers`.
    pub fn unsafe_headers(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .headers
            .iter()
            .filter(|h| !h.is_safelisted())
            .map(|h| h.name.clone())
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// True when the Fetch standard sends a preflight first: a method that
    /// is not simple, or a header that is not safelisted.
    pub fn needs_preflight(&self) -> bool {
        !SIMPLE_METHODS.contains(&self.method.as_str()) || !self.unsafe_headers().is_empty()
    }

    /// True when the doctor may send the actual request itself.
    pub fn actual_is_safe(&self) -> bool {
        SAFE_METHODS.contains(&self.method.as_str())
    }

    /// The `Access-Control-Request-Headers` value (`None` when empty).
    pub fn request_headers_value(&self) -> Option<String> {
        let names = self.unsafe_headers();
        (!names.is_empty()).then(|| names.join(","))
    }
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

/// Fetch's forbidden request-header names (those a page cannot set).
fn is_forbidden(name: &str) -> bool {
    const FORBIDDEN: [&str; 21] = [
        "accept-charset",
        "accept-encoding",
        "access-control-request-headers",
        "access-control-request-method",
        "connection",
        "content-length",
        "cookie",
        "cookie2",
        "date",
        "dnt",
        "expect",
        "host",
        "keep-alive",
        "origin",
        "referer",
        "set-cookie",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "via",
    ];
    FORBIDDEN.contains(&name) || name.starts_with("proxy-") || name.starts_with("sec-")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, headers: &[(&str, Option<&str>)]) -> BrowserRequest {
        BrowserRequest {
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
