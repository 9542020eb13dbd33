//! Chromium's side: how its console words each refusal (the text users
//! paste into a search box at 2 a.m.), its cap on preflight caching, and
//! the one place it deviates from the Fetch standard.
//!
//! When several requested headers are not allowed, Chromium's message
//! names one of them, and which one is neither the standard's sorted
//! first nor the page's order (measured: with `x-custom` and
//! `authorization` both unlisted it names `x-custom`; with `range` and
//! `content-type`, `range`). So [`crate::check::unlisted_headers`] lists
//! them all, and a tool shows every header to add rather than one per
//! reload.
//!
//! Each sentence is the one Debian Chromium logs; `browser_fetch_model`
//! and `doctor_browser` compare them with its console.

use crate::check::{Blocked, Browser, Stage};
use crate::redact::redact_url;

/// Chromium's cap on `Access-Control-Max-Age`, in seconds: two hours since
/// Chromium 76 [Chromium `services/network/public/cpp/cors/preflight_result.cc`;
/// MDN `Access-Control-Max-Age`].
pub const MAX_AGE_CAP: u64 = 7_200;

/// Firefox's cap on `Access-Control-Max-Age`, in seconds: one day
/// [Firefox `netwerk/protocol/http/nsCORSListenerProxy.cpp`; MDN
/// `Access-Control-Max-Age`]. Not Chromium's, but kept beside it: the
/// lints compare the two.
pub const FIREFOX_MAX_AGE_CAP: u64 = 86_400;

/// True when `*` in `Access-Control-Allow-Headers` covers `Authorization`.
/// The Fetch standard says never; Chromium 156 still lets it (measured by
/// `browser_lints` and `browser_fetch_model`), so a page that works there
/// can fail in a browser that follows the standard.
pub fn wildcard_covers_authorization(browser: Browser) -> bool {
    browser == Browser::Chromium
}

/// The tail of Chromium's console message: the sentence after "blocked by
/// CORS policy: " (and after the preflight prefix, when there is one).
pub fn detail(blocked: &Blocked) -> String {
    match blocked {
        Blocked::NoAllowOrigin => {
            "No 'Access-Control-Allow-Origin' header is present on the requested resource."
                .to_owned()
        }
        Blocked::MultipleAllowOrigin(v) => format!(
            "The 'Access-Control-Allow-Origin' header contains multiple values '{v}', but only \
             one is allowed."
        ),
        Blocked::OriginMismatch(v) => format!(
            "The 'Access-Control-Allow-Origin' header has a value '{v}' that is not equal to the \
             supplied origin."
        ),
        Blocked::WildcardWithCredentials => "The value of the 'Access-Control-Allow-Origin' \
             header in the response must not be the wildcard '*' when the request's credentials \
             mode is 'include'."
            .to_owned(),
        Blocked::CredentialsNotTrue(v) => format!(
            "The value of the 'Access-Control-Allow-Credentials' header in the response is '{v}' \
             which must be 'true' when the request's credentials mode is 'include'."
        ),
        Blocked::PreflightNotOk(_) => "It does not have HTTP ok status.".to_owned(),
        Blocked::PreflightRedirect(_) => {
            "Redirect is not allowed for a preflight request.".to_owned()
        }
        Blocked::MethodNotAllowed(m) => format!(
            "Method {m} is not allowed by Access-Control-Allow-Methods in preflight response."
        ),
        Blocked::HeaderNotAllowed(h) => format!(
            "Request header field {h} is not allowed by Access-Control-Allow-Headers in preflight \
             response."
        ),
    }
}

/// The reason as Chromium words it after "blocked by CORS policy: ": a
/// preflight failure other than a method or header carries Chromium's
/// "Response to preflight request doesn't pass access control check: "
/// prefix.
pub fn reason(stage: Stage, blocked: &Blocked) -> String {
    let prefix = match (stage, blocked) {
        (Stage::Preflight, Blocked::MethodNotAllowed(_) | Blocked::HeaderNotAllowed(_)) => "",
        (Stage::Preflight, _) => {
            "Response to preflight request doesn't pass access control check: "
        }
        (Stage::Actual, _) => "",
    };
    format!("{prefix}{}", detail(blocked))
}

/// Chromium's whole console message for a refused `fetch` of `url` from
/// `origin`, with `url`'s query values redacted ([`redact_url`]): Chromium
/// prints a presigned URL whole, but a message this crate builds is shown
/// and reported, so a signature must never reach it.
pub fn message(url: &str, origin: &str, stage: Stage, blocked: &Blocked) -> String {
    format!(
        "Access to fetch at '{}' from origin '{origin}' has been blocked by CORS policy: {}",
        redact_url(url),
        reason(stage, blocked)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_presigned_urls_signature_never_reaches_the_message() {
        let url = "https://b.example/k?X-Amz-Signature=s3cr3t&X-Amz-Credential=AKIA";
        let m = message(
            url,
            "https://app.example",
            Stage::Actual,
            &Blocked::NoAllowOrigin,
        );
        assert!(!m.contains("s3cr3t") && !m.contains("AKIA"), "{m}");
        assert!(m.starts_with(
            "Access to fetch at 'https://b.example/k?X-Amz-Signature=…&X-Amz-Credential=…' from origin 'https://app.example'"
        ));
    }
}
