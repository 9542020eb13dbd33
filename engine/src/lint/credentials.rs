//! `*` origin in a rule that pages send credentials to.
//!
//! S3 answers `Access-Control-Allow-Origin: *` (and no
//! `Access-Control-Allow-Credentials`) when the first allowed origin of the
//! rule that matches is `*` (spec section 3), and a browser refuses `*` for
//! a request with credentials [Fetch, CORS check; spec section 7]: cookies
//! or `credentials: "include"` make every such request fail. OSS echoes the
//! origin even for `*` (section 4), so it is not affected by the `*` answer.
//! The configuration cannot say whether pages send credentials; the
//! caller does ([`super::LintOptions::credentials`]).

use super::{At, Lint, LintCode, LintOptions};
use crate::model::Dialect;

/// Adds a lint for the first `*` origin of an S3 rule when pages send
/// credentials.
pub(crate) fn check(at: &At<'_>, dialect: Dialect, options: &LintOptions, out: &mut Vec<Lint>) {
    if !options.credentials || dialect != Dialect::S3 {
        return;
    }
    let Some(i) = at.rule.allowed_origins.iter().position(|o| o == "*") else {
        return;
    };
    let listed: Vec<&String> = at.rule.allowed_origins[..i].iter().collect();
    let fix = if listed.is_empty() {
        "replace `*` with the exact origins of the pages that send credentials (S3 then echoes \
         the origin with `Access-Control-Allow-Credentials: true`)"
            .to_owned()
    } else {
        format!(
            "list every origin that sends credentials before `*` (like {}), or replace `*` \
             with them",
            listed[0]
        )
    };
    out.push(at.warning(
        LintCode::StarOriginWithCredentials,
        Some(format!("allowedOrigins[{i}]")),
        "`*` is allowed and pages send credentials".to_owned(),
        "S3 answers `Access-Control-Allow-Origin: *` to every origin this entry matches first, \
         and browsers refuse `*` for a request with credentials, so those requests fail",
        fix,
    ));
}
