//! Max-Age the browsers will not honour as written.
//!
//! Browsers cap the preflight cache: Chromium at 7,200 s, Firefox at
//! 86,400 s (sources at [`CHROMIUM_CAP_SECONDS`] and
//! [`FIREFOX_CAP_SECONDS`]; spec section 7). A larger value is cut
//! silently, so the author's expectation (one preflight a day) is wrong. 0
//! keeps nothing: every non-simple request is preceded by a preflight.

use super::{At, Lint, LintCode};

/// Chromium's cap on `Access-Control-Max-Age`, in seconds (the browser
/// facts live in `bucketcors-fetch`, with their sources).
pub const CHROMIUM_CAP_SECONDS: u64 = bucketcors_fetch::chromium::MAX_AGE_CAP;

/// Firefox's cap on `Access-Control-Max-Age`, in seconds.
pub const FIREFOX_CAP_SECONDS: u64 = bucketcors_fetch::chromium::FIREFOX_MAX_AGE_CAP;

/// Adds a lint for a Max-Age above a browser cap, or 0.
pub(crate) fn check(at: &At<'_>, out: &mut Vec<Lint>) {
    let Some(seconds) = at.rule.max_age_seconds else {
        return;
    };
    let field = Some("maxAgeSeconds".to_owned());
    if seconds == 0 {
        out.push(at.warning(
            LintCode::MaxAgeZero,
            field,
            "maxAgeSeconds is 0".to_owned(),
            "browsers keep no preflight result, so every non-simple request is preceded by \
             its own preflight (twice the round trips)",
            format!(
                "remove maxAgeSeconds (browsers then cache 5 s) or set it up to \
                 {CHROMIUM_CAP_SECONDS}"
            ),
        ));
    } else if seconds > FIREFOX_CAP_SECONDS {
        out.push(at.warning(
            LintCode::MaxAgeAboveFirefoxCap,
            field,
            format!("maxAgeSeconds is {seconds}"),
            "Firefox caches a preflight for at most 86400 s and Chromium for at most 7200 s, \
             so the value is cut silently",
            format!("set maxAgeSeconds to {CHROMIUM_CAP_SECONDS} (what Chromium keeps)"),
        ));
    } else if seconds > CHROMIUM_CAP_SECONDS {
        out.push(at.warning(
            LintCode::MaxAgeAboveChromiumCap,
            field,
            format!("maxAgeSeconds is {seconds}"),
            "Chromium caches a preflight for at most 7200 s, so Chromium-based browsers \
             preflight again after two hours",
            format!("set maxAgeSeconds to {CHROMIUM_CAP_SECONDS}"),
        ));
    }
}
