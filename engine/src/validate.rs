//! Validation of a [`CorsConfig`] for a [`Dialect`]: limits and rules from the
//! spec's sections 1 and 6, plus what bucketcors rejects because it can never
//! work. Every problem is reported at once, each naming the rule and field.

use crate::model::{CorsConfig, Dialect};

/// How serious a [`Diagnostic`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The configuration is refused.
    Error,
    /// The configuration works but probably not as intended.
    Warning,
}

/// Which rule a diagnostic is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleRef {
    /// Zero-based position in the configuration.
    pub index: usize,
    /// The rule's `id`, when it has one.
    pub id: Option<String>,
}

/// One problem found in a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The rule concerned; `None` for configuration-wide problems.
    pub rule: Option<RuleRef>,
    /// The field path in BucketCors spec terms, such as `allowedOrigins[1]`.
    pub field: Option<String>,
    /// What is wrong and what to do about it.
    pub message: String,
}

/// The result of validating a configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Problems that make the configuration unacceptable.
    pub errors: Vec<Diagnostic>,
    /// Problems that do not block it.
    pub warnings: Vec<Diagnostic>,
}

impl Report {
    /// True when there are no errors (warnings allowed).
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Validates `config` for `dialect`.
pub fn validate(config: &CorsConfig, dialect: Dialect) -> Report {
    let _ = (config, dialect);
    todo!("issue 2: validation")
}
