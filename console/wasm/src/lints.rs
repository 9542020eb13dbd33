//! Where the engine's lints join the page's diagnostics: what a
//! configuration the provider accepts will still do wrong in a browser,
//! the same findings `bucketcors validate` prints and the operator puts in
//! `status.warnings`, each attached to its rule and field.
//!
//! Like the operator, the page knows nothing about the pages' credentials,
//! so the lints that need them assume none; the target is the object's
//! `spec.backend.flavor` (its default when unset), which the server sends.

use bucketcors_engine::lint::{LintOptions, lint as engine_lint};
use bucketcors_engine::{CorsConfig, Dialect, Target};

use crate::api::Issue;

/// Lint findings for `config` answered by `target` (`None`: the dialect's
/// own provider), as issues worded like `bucketcors validate`'s lines
/// without the location the page shows by placement.
pub fn lint(config: &CorsConfig, dialect: Dialect, target: Option<Target>) -> Vec<Issue> {
    let options = LintOptions {
        credentials: false,
        target,
    };
    engine_lint(config, dialect, &options)
        .into_iter()
        .map(|l| Issue {
            rule: l.rule.as_ref().map(|r| r.index),
            field: l.field.clone(),
            message: format!("{}: {}; {}; fix: {}", l.code, l.message, l.why, l.fix),
        })
        .collect()
}
