//! The one serialized form of a rule set, published by the operator and
//! loaded by the worker: the dialect, the configuration and a content
//! revision.
//!
//! The revision is `sha256:` followed by the full hex SHA-256 of the JSON of
//! the dialect and the [`canonical`] configuration, so equal meaning gives an
//! equal revision (a changed rule ID or header case does not churn the
//! edge), and a loader can check that what it received is what was
//! published. [`RuleSet::from_json`] refuses a rule set whose revision does
//! not match its content or whose configuration is invalid: the caller then
//! keeps the last good one.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use crate::canonical::canonical;
use crate::compile::Compiled;
use crate::model::{CorsConfig, Dialect};
use crate::validate::{Report, validate};

/// A validated configuration for one dialect, with its revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    /// Whose semantics the edge reproduces.
    pub dialect: Dialect,
    /// [`revision`] of the dialect and configuration.
    pub revision: String,
    /// The rules, as the user wrote them (IDs kept for explanations).
    pub config: CorsConfig,
}

/// Why a serialized rule set was refused.
#[derive(Debug, thiserror::Error)]
pub enum RuleSetError {
    /// Not a rule set in JSON.
    #[error("the rule set is not valid JSON of the expected shape: {0}")]
    Json(#[from] serde_json::Error),
    /// The revision does not belong to the content: corrupted, edited or
    /// produced by an incompatible version.
    #[error(
        "the rule set's revision {found} does not match its content (expected {expected}); \
         republish it from the operator"
    )]
    RevisionMismatch {
        /// What the content hashes to.
        expected: String,
        /// What the rule set claims.
        found: String,
    },
    /// The configuration does not validate for its dialect.
    #[error("the rule set's configuration is invalid:\n{0}")]
    Invalid(Report),
}

impl RuleSet {
    /// Validates `config` for `dialect` and computes its revision.
    pub fn new(dialect: Dialect, config: CorsConfig) -> Result<RuleSet, Report> {
        RuleSet::with_warnings(dialect, config).map(|(rule_set, _)| rule_set)
    }

    /// [`RuleSet::new`], also handing back the validation warnings (shadowed
    /// rules...), so that a caller that reports them validates once.
    pub fn with_warnings(
        dialect: Dialect,
        config: CorsConfig,
    ) -> Result<(RuleSet, Vec<crate::validate::Diagnostic>), Report> {
        let report = validate(&config, dialect);
        if !report.is_valid() {
            return Err(report);
        }
        let rule_set = RuleSet {
            revision: revision(dialect, &config),
            dialect,
            config,
        };
        Ok((rule_set, report.warnings))
    }

    /// The serialized form.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a rule set always serializes")
    }

    /// Parses the serialized form, checking the revision and validity.
    pub fn from_json(text: &str) -> Result<RuleSet, RuleSetError> {
        RuleSet::checked(serde_json::from_str(text)?)
    }

    /// Checks a rule set read from its serialized form: the revision must
    /// belong to the content and the configuration must be valid.
    pub(crate) fn checked(rule_set: RuleSet) -> Result<RuleSet, RuleSetError> {
        let expected = revision(rule_set.dialect, &rule_set.config);
        if expected != rule_set.revision {
            return Err(RuleSetError::RevisionMismatch {
                expected,
                found: rule_set.revision,
            });
        }
        let report = validate(&rule_set.config, rule_set.dialect);
        if !report.is_valid() {
            return Err(RuleSetError::Invalid(report));
        }
        Ok(rule_set)
    }

    /// Compiles the rules (already validated when built by [`RuleSet::new`]
    /// or [`RuleSet::from_json`]).
    pub fn compile(&self) -> Compiled {
        Compiled::new_unchecked(&self.config, self.dialect)
    }
}

/// The content revision of `config` for `dialect`: `sha256:` and 64 hex
/// digits over the canonical form. Equal meaning gives an equal revision.
pub fn revision(dialect: Dialect, config: &CorsConfig) -> String {
    #[derive(Serialize)]
    struct Hashed<'a> {
        dialect: Dialect,
        config: &'a CorsConfig,
    }
    let canonical = canonical(dialect, config);
    let json = serde_json::to_vec(&Hashed {
        dialect,
        config: &canonical,
    })
    .expect("a configuration always serializes");
    let digest = Sha256::digest(&json);
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for byte in digest {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Rule;

    #[test]
    fn with_warnings_is_new_plus_the_warnings_of_one_validation() {
        let rule = |origin: &str, methods: &[&str]| Rule {
            allowed_origins: vec![origin.into()],
            allowed_methods: methods.iter().map(|m| m.to_string()).collect(),
            ..Rule::default()
        };
        // The second rule can never match first: a shadowing warning.
        let config = CorsConfig {
            rules: vec![
                rule("*", &["GET", "PUT"]),
                rule("https://a.example", &["GET"]),
            ],
            response_vary: false,
        };
        let (rule_set, warnings) = RuleSet::with_warnings(Dialect::S3, config.clone()).unwrap();
        assert_eq!(warnings, validate(&config, Dialect::S3).warnings);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(rule_set, RuleSet::new(Dialect::S3, config).unwrap());
        let invalid = CorsConfig::default();
        assert!(RuleSet::with_warnings(Dialect::S3, invalid).is_err());
    }
}
