//! The serde path that [`EdgeRecord::from_json`] replaced, kept as the
//! oracle its hand-written reader is checked against: by the differential
//! test in `shape.rs` and by the `edge_record` fuzz target (feature
//! `serde-reference`). Not part of the engine's API.

use serde::Deserialize;
use serde_json::Value as Json;

use super::{EdgeRecord, EdgeRecordError, FORMAT};
use crate::model::Dialect;
use crate::ruleset::RuleSet;

/// What `EdgeRecord::from_json` did before the hand-written reader: the
/// serde types (unknown fields refused), then the rule set's own checks.
pub fn reference(text: &str) -> Result<EdgeRecord, EdgeRecordError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Wire {
        format: u32,
        origin_url: String,
        dialect: Dialect,
        #[serde(default)]
        rule_set: Option<Json>,
        #[serde(default)]
        cache_unmarked: bool,
        #[serde(default)]
        owner: Option<String>,
    }
    let wire: Wire =
        serde_json::from_str(text).map_err(|e| EdgeRecordError::Json(e.to_string()))?;
    if wire.format != FORMAT {
        return Err(EdgeRecordError::Format(wire.format));
    }
    let rule_set = match wire.rule_set {
        None | Some(Json::Null) => None,
        Some(value) => Some(
            RuleSet::from_json(&value.to_string())
                .map_err(|e| EdgeRecordError::RuleSet(e.to_string()))?,
        ),
    };
    Ok(EdgeRecord::new(wire.origin_url, wire.dialect, rule_set)?
        .with_cache_unmarked(wire.cache_unmarked)
        .with_owner(wire.owner))
}
