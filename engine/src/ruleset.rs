//! The one serialized form of a rule set, published by the operator and
//! loaded by the worker. API contract (issue 2 fills the bodies):
//!
//! ```ignore
//! pub struct RuleSet { pub dialect: Dialect, pub revision: String, pub config: CorsConfig }
//! RuleSet::new(dialect, config) -> Result<RuleSet, Report>   // validates, computes the revision
//! ruleset.to_json() -> String; RuleSet::from_json(&str) -> Result<RuleSet, RuleSetError> // checks revision and validity
//! ruleset.compile() -> Compiled
//! pub fn revision(dialect, &CorsConfig) -> String  // hash of the canonical form: equal meaning, equal revision
//! pub fn canonical(dialect, &CorsConfig) -> CorsConfig // what semantic comparison compares
//! ```

/// Placeholder so dependents compile until issue 2 lands the real type.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSet;
