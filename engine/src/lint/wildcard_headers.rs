//! `*` allowed headers on a store that answers with a literal `*`.
//!
//! In `Access-Control-Allow-Headers`, `*` is a wildcard only for requests
//! without credentials, and by the Fetch standard even then it never covers
//! `Authorization`, which must be listed by name [Fetch, CORS-preflight
//! fetch; spec section 7]. S3 and OSS echo the requested names, so a `*`
//! rule works there; a store that sends its rule's list as configured
//! (Garage, see [`crate::target`]) answers a literal `*`, and a browser that
//! follows the standard fails a browser SDK's signed request
//! (`Authorization`, `x-amz-date`, ...) at its preflight. Chromium 156 (the
//! Debian build `tests/tests/browser_lints.rs` runs) deviates: it lets the
//! literal `*` cover `Authorization`. The lint still warns, because the
//! standard is what every browser is held to and the pages do not choose
//! their users' browser.

use super::{At, Lint, LintCode, LintOptions};
use crate::target::AllowHeaders;

/// Headers a provider's browser SDK signs requests with (S3 SigV4 and OSS
/// V4): what signed uploads request in their preflight.
pub const SIGNATURE_HEADERS: [&str; 7] = [
    "authorization",
    "x-amz-date",
    "x-amz-content-sha256",
    "x-amz-security-token",
    "x-oss-date",
    "x-oss-content-sha256",
    "x-oss-security-token",
];

/// Adds a lint for a `*` allowed header answered literally by the target.
pub(crate) fn check(at: &At<'_>, options: &LintOptions, out: &mut Vec<Lint>) {
    let Some(target) = options.target else {
        return;
    };
    if target.capability().allow_headers.value != AllowHeaders::Literal {
        return;
    }
    let headers = &at.rule.allowed_headers;
    let Some(i) = headers.iter().position(|h| h == "*") else {
        return;
    };
    let named = |name: &str| headers.iter().any(|h| h.eq_ignore_ascii_case(name));
    let field = Some(format!("allowedHeaders[{i}]"));
    if options.credentials {
        let missing: Vec<&str> = SIGNATURE_HEADERS
            .iter()
            .copied()
            .filter(|h| !named(h))
            .collect();
        out.push(at.warning(
            LintCode::WildcardHeadersLiteral,
            field,
            format!("`*` is allowed and {target} answers it as a literal `*`"),
            "with credentials a browser takes `*` in Access-Control-Allow-Headers as the \
             name `*`, not a wildcard, so every non-safelisted request header fails the \
             preflight",
            format!(
                "list each header the pages send by name next to `*` (signed requests need {})",
                missing.join(", ")
            ),
        ));
    } else if !named("authorization") {
        out.push(at.warning(
            LintCode::WildcardHeadersLiteral,
            field,
            format!("`*` is allowed and {target} answers it as a literal `*`"),
            "by the Fetch standard a `*` in Access-Control-Allow-Headers never covers \
             Authorization, so in browsers that follow it signed requests (browser SDKs send \
             Authorization) fail the preflight; Chromium 156 deviates and lets `*` cover \
             Authorization, so testing in Chromium alone does not show the failure",
            "add `authorization` to allowedHeaders next to `*`".to_owned(),
        ));
    }
}
