//! The browser's checks on the server's answers (Fetch: "CORS check" and
//! "CORS-preflight fetch"), the verdict on a preflight and actual pair, and
//! which response headers the page may then read.
//!
//! The checks return the first failure, in the order the standard runs
//! them, because that is the one the browser reports.

use serde::Serialize;

use crate::answer::Answer;
use crate::request::PageRequest;
use crate::safelist::{is_safelisted_response_header, is_simple_method};

/// Whose rules: the Fetch standard, or Chromium where it deviates (see
/// [`crate::chromium`]). The doctor follows the standard, so that what
/// works for its users works in every browser; the console shows what
/// Chromium does and says when the standard differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Browser {
    /// The Fetch standard.
    Standard,
    /// Chromium (Debian Chromium, as the tests drive it).
    Chromium,
}

/// Which request of the browser's pair failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The `OPTIONS` preflight.
    Preflight,
    /// The actual request.
    Actual,
}

/// Why the browser refuses, with the value at fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

impl Blocked {
    /// A short name, for JSON output and tests.
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

/// The CORS check on one response: exactly one
/// `Access-Control-Allow-Origin`, equal to the page's origin (or `*`
/// without credentials), and with credentials
/// `Access-Control-Allow-Credentials: true`.
pub fn cors_check(answer: &Answer<'_>, origin: &str, credentials: bool) -> Result<(), Blocked> {
    let value = match answer.all("access-control-allow-origin").as_slice() {
        [] => return Err(Blocked::NoAllowOrigin),
        [one] => one.trim(),
        many => return Err(Blocked::MultipleAllowOrigin(many.join(", "))),
    };
    if value.contains(',') {
        return Err(Blocked::MultipleAllowOrigin(value.to_owned()));
    }
    if value == "*" {
        return if credentials {
            Err(Blocked::WildcardWithCredentials)
        } else {
            Ok(())
        };
    }
    if value != origin {
        return Err(Blocked::OriginMismatch(value.to_owned()));
    }
    if credentials {
        let acac = answer
            .get("access-control-allow-credentials")
            .unwrap_or_default();
        if acac != "true" {
            return Err(Blocked::CredentialsNotTrue(acac));
        }
    }
    Ok(())
}

/// The preflight check: not redirected, the CORS check, an ok status, then
/// the method and every header that needed the preflight listed. `*`
/// counts only without credentials, and by the standard never for
/// `Authorization` (Chromium deviates: [`crate::chromium`]).
pub fn preflight_check(
    answer: &Answer<'_>,
    request: &PageRequest,
    browser: Browser,
) -> Result<(), Blocked> {
    if answer.is_redirect() {
        return Err(Blocked::PreflightRedirect(answer.status));
    }
    cors_check(answer, &request.origin, request.credentials)?;
    if !answer.is_ok() {
        return Err(Blocked::PreflightNotOk(answer.status));
    }
    let methods = answer.list("access-control-allow-methods");
    let any_method = methods.contains(&"*") && !request.credentials;
    if !is_simple_method(&request.method)
        && !any_method
        && !methods.contains(&request.method.as_str())
    {
        return Err(Blocked::MethodNotAllowed(request.method.clone()));
    }
    match unlisted_headers(answer, request, browser)
        .into_iter()
        .next()
    {
        Some(name) => Err(Blocked::HeaderNotAllowed(name)),
        None => Ok(()),
    }
}

/// The headers that needed the preflight and that its answer does not
/// allow, in the standard's (sorted) order. [`preflight_check`] names the
/// first; Chromium names one of them, not always the first (see
/// [`crate::chromium`]), so a page that fixes one may meet the next.
pub fn unlisted_headers(
    answer: &Answer<'_>,
    request: &PageRequest,
    browser: Browser,
) -> Vec<String> {
    let allowed = answer.list("access-control-allow-headers");
    let any_header = allowed.contains(&"*") && !request.credentials;
    request
        .unsafe_headers()
        .into_iter()
        .filter(|name| {
            let listed = allowed.iter().any(|a| a.eq_ignore_ascii_case(name));
            let wildcard_covers = any_header
                && (name != "authorization"
                    || crate::chromium::wildcard_covers_authorization(browser));
            !listed && !wildcard_covers
        })
        .collect()
}

/// The browser's verdict on one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// `None`: the page gets the response.
    pub blocked: Option<(Stage, Blocked)>,
}

impl Verdict {
    /// True when the page gets the response.
    pub fn allowed(&self) -> bool {
        self.blocked.is_none()
    }
}

/// What the browser does with the answers: the preflight (when one was
/// sent) must pass the preflight check, then the actual response the CORS
/// check. An absent answer is not judged (it was not sent, or not reached).
pub fn evaluate(
    request: &PageRequest,
    preflight: Option<&Answer<'_>>,
    actual: Option<&Answer<'_>>,
    browser: Browser,
) -> Verdict {
    if let Some(answer) = preflight
        && let Err(blocked) = preflight_check(answer, request, browser)
    {
        return Verdict {
            blocked: Some((Stage::Preflight, blocked)),
        };
    }
    let blocked = actual
        .and_then(|answer| cors_check(answer, &request.origin, request.credentials).err())
        .map(|b| (Stage::Actual, b));
    Verdict { blocked }
}

/// True when a page that passed the CORS check may read response header
/// `name`: it is safelisted, or listed in `Access-Control-Expose-Headers`
/// (`*` counts only without credentials).
pub fn readable(answer: &Answer<'_>, name: &str, credentials: bool) -> bool {
    is_safelisted_response_header(name)
        || answer
            .list("access-control-expose-headers")
            .iter()
            .any(|e| e.eq_ignore_ascii_case(name) || (*e == "*" && !credentials))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::PageHeader;

    const ORIGIN: &str = "https://app.example";

    fn lines(headers: &[(&str, &str)]) -> Vec<(String, String)> {
        headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    fn page(method: &str, headers: &[&str], credentials: bool) -> PageRequest {
        PageRequest::new(
            "https://b.example/o",
            ORIGIN,
            method,
            headers.iter().map(|h| PageHeader::new(h, "x")),
            credentials,
        )
    }

    #[test]
    fn cors_check_follows_fetch() {
        let check = |h: &[(&str, &str)], credentials| {
            let l = lines(h);
            cors_check(&Answer::new(200, &l), ORIGIN, credentials)
        };
        assert_eq!(check(&[], false), Err(Blocked::NoAllowOrigin));
        assert_eq!(
            check(&[("access-control-allow-origin", "*")], false),
            Ok(())
        );
        assert_eq!(
            check(&[("access-control-allow-origin", "*")], true),
            Err(Blocked::WildcardWithCredentials)
        );
        assert_eq!(
            check(
                &[
                    ("access-control-allow-origin", ORIGIN),
                    ("Access-Control-Allow-Origin", ORIGIN)
                ],
                false
            ),
            Err(Blocked::MultipleAllowOrigin(format!("{ORIGIN}, {ORIGIN}")))
        );
        assert_eq!(
            check(&[("access-control-allow-origin", ORIGIN)], true),
            Err(Blocked::CredentialsNotTrue(String::new()))
        );
    }

    #[test]
    fn a_wildcard_covers_neither_credentials_nor_authorization_by_the_standard() {
        let star = lines(&[
            ("Access-Control-Allow-Origin", "*"),
            ("Access-Control-Allow-Methods", "PUT"),
            ("Access-Control-Allow-Headers", "*"),
        ]);
        let answer = Answer::new(200, &star);
        let std = Browser::Standard;
        assert_eq!(
            preflight_check(&answer, &page("PUT", &["x-a"], false), std),
            Ok(())
        );
        assert_eq!(
            preflight_check(&answer, &page("PUT", &["authorization"], false), std),
            Err(Blocked::HeaderNotAllowed("authorization".into()))
        );
        assert_eq!(
            preflight_check(
                &answer,
                &page("PUT", &["authorization"], false),
                Browser::Chromium
            ),
            Ok(())
        );
        assert_eq!(
            preflight_check(&answer, &page("PUT", &[], true), std),
            Err(Blocked::WildcardWithCredentials)
        );
    }

    #[test]
    fn exposed_headers_are_readable_and_star_needs_no_credentials() {
        let l = lines(&[("Access-Control-Expose-Headers", "*")]);
        let answer = Answer::new(200, &l);
        assert!(readable(&answer, "etag", false));
        assert!(!readable(&answer, "etag", true));
        assert!(readable(&answer, "Content-Type", true));
    }
}
