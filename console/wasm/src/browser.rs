//! What a browser does with the bucket's answers: the Fetch standard's
//! rules (when a preflight is needed, the CORS check, the preflight check),
//! which no bucket setting changes, worded as Chromium words its console
//! errors.
//!
//! `bucketcors doctor` applies the same standard to live replies
//! (operator/src/cli/doctor/fetch_checks.rs); that code is tied to the
//! doctor's probe types and lives in the operator, which does not build for
//! wasm, so the page has this small pure version over the engine's answers.

use serde::Serialize;

use crate::api::{Exchange, FetchRequest};

/// Fetch's CORS-safelisted methods.
const SIMPLE_METHODS: [&str; 3] = ["GET", "HEAD", "POST"];

/// The page's fetch, with what Fetch derives from it.
#[derive(Debug, Clone)]
pub struct PageFetch {
    origin: String,
    method: String,
    /// Non-safelisted header names, lower-cased, sorted, deduplicated
    /// (as Chromium lists them in `Access-Control-Request-Headers`).
    unsafe_headers: Vec<String>,
    credentials: bool,
}

impl PageFetch {
    /// Derives the browser's view of `fetch`.
    pub fn new(fetch: &FetchRequest) -> PageFetch {
        let mut unsafe_headers: Vec<String> = fetch
            .headers
            .iter()
            .filter(|(n, v)| !is_safelisted(n, v))
            .map(|(n, _)| n.trim().to_ascii_lowercase())
            .filter(|n| !n.is_empty())
            .collect();
        unsafe_headers.sort();
        unsafe_headers.dedup();
        PageFetch {
            origin: fetch.origin.clone(),
            method: fetch.method.clone(),
            unsafe_headers,
            credentials: fetch.credentials,
        }
    }

    /// A preflight is sent for a non-safelisted method or header.
    pub fn needs_preflight(&self) -> bool {
        !SIMPLE_METHODS.contains(&self.method.as_str()) || !self.unsafe_headers.is_empty()
    }

    /// `Access-Control-Request-Headers`, when any header needs listing.
    pub fn request_headers_value(&self) -> Option<String> {
        (!self.unsafe_headers.is_empty()).then(|| self.unsafe_headers.join(","))
    }
}

/// Fetch's CORS-safelisted request headers a page can set.
fn is_safelisted(name: &str, value: &str) -> bool {
    match name.trim().to_ascii_lowercase().as_str() {
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

/// Which of the browser's two requests failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// The `OPTIONS` preflight.
    Preflight,
    /// The actual request.
    Actual,
}

/// Why the browser refuses, and the value at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blocked {
    /// No `Access-Control-Allow-Origin`.
    NoAllowOrigin,
    /// A list where one origin is allowed.
    MultipleAllowOrigin(String),
    /// Another origin.
    OriginMismatch(String),
    /// `*` with credentials.
    WildcardWithCredentials,
    /// `Access-Control-Allow-Credentials` is not `true` with credentials.
    CredentialsNotTrue(String),
    /// The preflight's status is not 2xx.
    PreflightNotOk,
    /// The method is not listed.
    MethodNotAllowed(String),
    /// A requested header is not listed.
    HeaderNotAllowed(String),
}

impl Blocked {
    fn detail(&self) -> String {
        match self {
            Blocked::NoAllowOrigin => {
                "No 'Access-Control-Allow-Origin' header is present on the requested resource."
                    .to_owned()
            }
            Blocked::MultipleAllowOrigin(v) => format!(
                "The 'Access-Control-Allow-Origin' header contains multiple values '{v}', but \
                 only one is allowed."
            ),
            Blocked::OriginMismatch(v) => format!(
                "The 'Access-Control-Allow-Origin' header has a value '{v}' that is not equal \
                 to the supplied origin."
            ),
            Blocked::WildcardWithCredentials => "The value of the \
                'Access-Control-Allow-Origin' header in the response must not be the wildcard \
                '*' when the request's credentials mode is 'include'."
                .to_owned(),
            Blocked::CredentialsNotTrue(v) => format!(
                "The value of the 'Access-Control-Allow-Credentials' header in the response is \
                 '{v}' which must be 'true' when the request's credentials mode is 'include'."
            ),
            Blocked::PreflightNotOk => "It does not have HTTP ok status.".to_owned(),
            Blocked::MethodNotAllowed(m) => format!(
                "Method {m} is not allowed by Access-Control-Allow-Methods in preflight response."
            ),
            Blocked::HeaderNotAllowed(h) => format!(
                "Request header field {h} is not allowed by Access-Control-Allow-Headers in \
                 preflight response."
            ),
        }
    }
}

/// The browser's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    /// The page reads the response.
    pub allowed: bool,
    /// Which request failed.
    pub stage: Option<Stage>,
    /// Chromium's console message.
    pub message: Option<String>,
}

impl Outcome {
    /// The page gets the response.
    pub fn allowed() -> Outcome {
        Outcome {
            allowed: true,
            stage: None,
            message: None,
        }
    }

    /// Refused at `stage`.
    pub fn blocked(page: &PageFetch, stage: Stage, blocked: Blocked) -> Outcome {
        let middle = match (stage, &blocked) {
            (Stage::Preflight, Blocked::MethodNotAllowed(_) | Blocked::HeaderNotAllowed(_)) => "",
            (Stage::Preflight, _) => {
                "Response to preflight request doesn't pass access control check: "
            }
            (Stage::Actual, _) => "",
        };
        Outcome {
            allowed: false,
            stage: Some(stage),
            message: Some(format!(
                "Access to fetch at 'https://BUCKET/OBJECT' from origin '{}' has been blocked by \
                 CORS policy: {middle}{}",
                page.origin,
                blocked.detail()
            )),
        }
    }
}

fn values<'a>(exchange: &'a Exchange, name: &str) -> Vec<&'a str> {
    exchange
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .collect()
}

fn list(exchange: &Exchange, name: &str) -> Vec<String> {
    values(exchange, name)
        .iter()
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect()
}

/// Fetch's CORS check on one response.
pub fn cors_check(exchange: &Exchange, origin: &str, credentials: bool) -> Result<(), Blocked> {
    let value = match values(exchange, "access-control-allow-origin").as_slice() {
        [] => return Err(Blocked::NoAllowOrigin),
        [one] => one.trim().to_owned(),
        many => return Err(Blocked::MultipleAllowOrigin(many.join(", "))),
    };
    if value.contains(',') {
        return Err(Blocked::MultipleAllowOrigin(value));
    }
    if value == "*" {
        return if credentials {
            Err(Blocked::WildcardWithCredentials)
        } else {
            Ok(())
        };
    }
    if value != origin {
        return Err(Blocked::OriginMismatch(value));
    }
    if credentials {
        let acac = values(exchange, "access-control-allow-credentials")
            .first()
            .map(|v| v.to_string())
            .unwrap_or_default();
        if acac != "true" {
            return Err(Blocked::CredentialsNotTrue(acac));
        }
    }
    Ok(())
}

/// Fetch's preflight check: CORS check, ok status, method and headers listed
/// (`*` only without credentials, and never for `Authorization`).
pub fn preflight_check(exchange: &Exchange, page: &PageFetch) -> Result<(), Blocked> {
    cors_check(exchange, &page.origin, page.credentials)?;
    if !(200..300).contains(&exchange.status) {
        return Err(Blocked::PreflightNotOk);
    }
    let methods = list(exchange, "access-control-allow-methods");
    let any_method = methods.iter().any(|m| m == "*") && !page.credentials;
    if !SIMPLE_METHODS.contains(&page.method.as_str())
        && !any_method
        && !methods.contains(&page.method)
    {
        return Err(Blocked::MethodNotAllowed(page.method.clone()));
    }
    let allowed = list(exchange, "access-control-allow-headers");
    let any_header = allowed.iter().any(|h| h == "*") && !page.credentials;
    for name in &page.unsafe_headers {
        let listed = allowed.iter().any(|a| a.eq_ignore_ascii_case(name));
        // `*` never covers Authorization.
        let wildcard_covers = any_header && name != "authorization";
        if !listed && !wildcard_covers {
            return Err(Blocked::HeaderNotAllowed(name.clone()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preflight(headers: &[(&str, &str)]) -> Exchange {
        Exchange {
            method: "OPTIONS".into(),
            request_headers: Vec::new(),
            status: 200,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: None,
            matched_rule: Some(0),
            explanation: Vec::new(),
        }
    }

    fn page(method: &str, headers: &[&str], credentials: bool) -> PageFetch {
        PageFetch::new(&FetchRequest {
            origin: "https://app.example".into(),
            method: method.into(),
            headers: headers
                .iter()
                .map(|h| (h.to_string(), "x".into()))
                .collect(),
            credentials,
        })
    }

    #[test]
    fn safelisted_requests_need_no_preflight() {
        assert!(!page("GET", &["accept"], false).needs_preflight());
        assert!(page("GET", &["x-custom"], false).needs_preflight());
        assert!(page("PUT", &[], false).needs_preflight());
        assert_eq!(
            page("PUT", &["X-B", "x-a", "x-b"], false).request_headers_value(),
            Some("x-a,x-b".into())
        );
    }

    #[test]
    fn a_wildcard_covers_neither_credentials_nor_authorization() {
        let star = preflight(&[
            ("Access-Control-Allow-Origin", "*"),
            ("Access-Control-Allow-Methods", "PUT"),
            ("Access-Control-Allow-Headers", "*"),
        ]);
        assert_eq!(
            preflight_check(&star, &page("PUT", &["x-a"], false)),
            Ok(())
        );
        assert_eq!(
            preflight_check(&star, &page("PUT", &["authorization"], false)),
            Err(Blocked::HeaderNotAllowed("authorization".into()))
        );
        assert_eq!(
            preflight_check(&star, &page("PUT", &[], true)),
            Err(Blocked::WildcardWithCredentials)
        );
    }
}
