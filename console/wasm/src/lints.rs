//! The one place where lints join the page's diagnostics.
//!
//! The engine's lint rules (`engine/src/lint`) are not in this build yet;
//! until they are, the page shows the engine's validation warnings, which
//! [`api::validate`](crate::api::validate) already returns. When the lint API
//! lands, call it here and return its findings as [`api::Issue`]s: the page
//! attaches them to their fields like any other warning.

use bucketcors_engine::{CorsConfig, Dialect};

use crate::api::Issue;

/// Lint findings for `config` (none until the engine has a lint API).
pub fn lint(_config: &CorsConfig, _dialect: Dialect) -> Vec<Issue> {
    Vec::new()
}
