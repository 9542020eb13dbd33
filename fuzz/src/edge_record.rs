//! The edge-record target's invariants: the engine's hand-written JSON
//! reader ([`EdgeRecord::from_json`]) against a general JSON parser
//! (`serde_json`) on the same bytes.
//!
//! The reader replaced a serde path so that the worker's wasm stays small,
//! and promises to give the serde types' verdict on every record (see the
//! differential test in `engine/src/edge_record/shape.rs`). The fuzzer
//! checks that promise on arbitrary bytes:
//!
//! - no input panics, and every refusal renders;
//! - what the reader accepts, `serde_json::Value` reads with the same
//!   meaning: every field the reader returns equals what a plain reading of
//!   the generic tree finds ([`plain_record`]);
//! - reader and serde types ([`reference`], the path the reader replaced)
//!   accept and refuse the same records, with the same kind of error;
//! - what the reader accepts, [`EdgeRecord::to_json`] writes back, and the
//!   reader reads that back equal (and the writer is then a fixed point).
//!
//! A rule set carries a SHA-256 revision of its content, which random
//! mutation never gets right, so almost every mutated rule set would be
//! refused for its revision alone. The input may therefore spell the
//! revision as [`AUTO_REVISION`]: before checking, that placeholder is
//! replaced with the revision of the configuration as `serde_json` reads it
//! (when it reads one). The substituted text is what both parsers see, so a
//! kept input still means the same bytes forever.
//!
//! This file depends only on the engine, serde and serde_json (all of which
//! the engine depends on), so an engine test can include it unchanged.

use bucketcors_engine::edge_record::EdgeRecord;
use bucketcors_engine::edge_record::serde_reference::reference;
use bucketcors_engine::{CorsConfig, Dialect, Rule, RuleSet, revision};
use serde::Deserialize;
use serde_json::Value as Json;

/// Stands for "the revision of this record's configuration" in an input.
pub const AUTO_REVISION: &str = "sha256:auto";

/// `data` read as an edge record; panics when an invariant breaks.
pub fn check_edge_record(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let text = with_revision(text);
    let ours = EdgeRecord::from_json(&text);
    let general = serde_json::from_str::<Json>(&text);

    if let Err(e) = &general
        && e.to_string().starts_with("number out of range")
    {
        // Known difference, reported, not a change of meaning: the reader
        // keeps numbers as text, so a number beyond f64 range (`1e400`) in a
        // repeated rule-set member that is dropped anyway is accepted, where
        // serde_json refuses the whole document. Matching serde_json's f64
        // rounding boundary would need a float parser in the worker.
        if let Ok(record) = &ours {
            check_writes_back(record);
        }
        return;
    }

    match &ours {
        Ok(record) => {
            let general = general.unwrap_or_else(|e| {
                panic!("the reader accepts what serde_json refuses ({e}):\n{text}")
            });
            let plain = plain_record(&general)
                .unwrap_or_else(|| panic!("serde_json reads another shape:\n{text}"));
            assert_eq!(*record, plain, "serde_json reads another meaning:\n{text}");
            check_writes_back(record);
            let _ = record.revision();
            let _ = record.compile();
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }

    let theirs = reference(&text);
    match (&ours, &theirs) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "reader and serde types differ:\n{text}"),
        (Err(a), Err(b)) => assert_eq!(
            std::mem::discriminant(a),
            std::mem::discriminant(b),
            "reader and serde types refuse differently ({a} / {b}):\n{text}"
        ),
        _ => panic!("reader {ours:?}, serde types {theirs:?}:\n{text}"),
    }
}

/// The writer's output reads back as `record`, and writing that again gives
/// the same text; a general parser reads the same meaning in it too.
fn check_writes_back(record: &EdgeRecord) {
    let written = record.to_json();
    let back = EdgeRecord::from_json(&written)
        .unwrap_or_else(|e| panic!("the reader refuses the writer's output ({e}):\n{written}"));
    assert_eq!(
        back, *record,
        "write then read changed the record:\n{written}"
    );
    assert_eq!(back.to_json(), written, "writing is not a fixed point");
    let general = serde_json::from_str::<Json>(&written).expect("the writer writes JSON");
    assert_eq!(
        plain_record(&general).as_ref(),
        Some(record),
        "serde_json reads another meaning in the writer's output:\n{written}"
    );
}

/// `text` with every [`AUTO_REVISION`] replaced by the revision of the
/// rule set's configuration as serde_json reads it; unchanged when it has
/// no placeholder or serde reads no configuration.
pub fn with_revision(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains(AUTO_REVISION) {
        return text.into();
    }
    let computed = (|| {
        let general: Json = serde_json::from_str(text).ok()?;
        let rule_set = general.get("ruleSet")?;
        let dialect = Dialect::deserialize(rule_set.get("dialect")?).ok()?;
        let config = CorsConfig::deserialize(rule_set.get("config")?).ok()?;
        Some(revision(dialect, &config))
    })();
    match computed {
        Some(rev) => text.replace(AUTO_REVISION, &rev).into(),
        None => text.into(),
    }
}

/// The record as a plain reading of serde_json's generic tree finds it,
/// without any checks; `None` when the tree is not of the record's shape.
/// Absent and `null` optional fields read as absent; absent lists as empty.
pub fn plain_record(value: &Json) -> Option<EdgeRecord> {
    let rule_set = match value.get("ruleSet") {
        None | Some(Json::Null) => None,
        Some(rs) => Some(RuleSet {
            dialect: plain_dialect(rs.get("dialect")?)?,
            revision: rs.get("revision")?.as_str()?.to_owned(),
            config: plain_config(rs.get("config")?)?,
        }),
    };
    Some(EdgeRecord {
        origin_url: value.get("originUrl")?.as_str()?.to_owned(),
        dialect: plain_dialect(value.get("dialect")?)?,
        rule_set,
        cache_unmarked: match value.get("cacheUnmarked") {
            None => false,
            Some(v) => v.as_bool()?,
        },
        owner: match value.get("owner") {
            None | Some(Json::Null) => None,
            Some(v) => Some(v.as_str()?.to_owned()),
        },
    })
}

fn plain_dialect(value: &Json) -> Option<Dialect> {
    match value.as_str()? {
        "oss" => Some(Dialect::Oss),
        "s3" => Some(Dialect::S3),
        _ => None,
    }
}

fn plain_config(value: &Json) -> Option<CorsConfig> {
    let rules = value
        .get("rules")?
        .as_array()?
        .iter()
        .map(plain_rule)
        .collect::<Option<Vec<Rule>>>()?;
    let response_vary = match value.get("responseVary") {
        None => false,
        Some(v) => v.as_bool()?,
    };
    Some(CorsConfig {
        rules,
        response_vary,
    })
}

fn plain_rule(value: &Json) -> Option<Rule> {
    let strings = |name: &str, required: bool| -> Option<Vec<String>> {
        match value.get(name) {
            None if !required => Some(Vec::new()),
            None => None,
            Some(v) => v
                .as_array()?
                .iter()
                .map(|s| s.as_str().map(str::to_owned))
                .collect(),
        }
    };
    Some(Rule {
        id: match value.get("id") {
            None | Some(Json::Null) => None,
            Some(v) => Some(v.as_str()?.to_owned()),
        },
        allowed_origins: strings("allowedOrigins", true)?,
        allowed_methods: strings("allowedMethods", true)?,
        allowed_headers: strings("allowedHeaders", false)?,
        expose_headers: strings("exposeHeaders", false)?,
        max_age_seconds: match value.get("maxAgeSeconds") {
            None | Some(Json::Null) => None,
            Some(v) => Some(v.as_u64()?),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(dialect: Dialect, rules: Option<CorsConfig>) -> String {
        let rule_set = rules.map(|c| RuleSet::new(dialect, c).unwrap());
        EdgeRecord::new("https://bucket.example.com/p", dialect, rule_set)
            .unwrap()
            .to_json()
    }

    fn config() -> CorsConfig {
        CorsConfig {
            rules: vec![Rule {
                id: Some("a".into()),
                allowed_origins: vec!["https://*.example.com".into()],
                allowed_methods: vec!["GET".into()],
                allowed_headers: vec!["x-amz-*".into()],
                expose_headers: vec!["ETag".into()],
                max_age_seconds: Some(600),
            }],
            response_vary: false,
        }
    }

    #[test]
    fn engine_records_pass() {
        for text in [
            record(Dialect::S3, Some(config())),
            record(Dialect::Oss, None),
        ] {
            assert!(EdgeRecord::from_json(&text).is_ok());
            check_edge_record(text.as_bytes());
        }
    }

    #[test]
    fn the_placeholder_becomes_the_revision() {
        let text = record(Dialect::S3, Some(config()));
        let real = serde_json::from_str::<Json>(&text).unwrap()["ruleSet"]["revision"]
            .as_str()
            .unwrap()
            .to_owned();
        let auto = text.replace(&real, AUTO_REVISION);
        assert_eq!(with_revision(&auto), text);
        check_edge_record(auto.as_bytes());
    }

    /// A rule-set member repeated with its first value nested `extra`
    /// arrays deep inside the record and rule-set objects; the reader
    /// drops the first value, so only the JSON grammar decides.
    fn nested_in_dropped_member(extra: usize) -> String {
        let text = record(Dialect::S3, Some(config()));
        let deep = "[".repeat(extra) + &"]".repeat(extra);
        text.replacen(
            "\"ruleSet\":{",
            &format!("\"ruleSet\":{{\"dialect\":{deep},"),
            1,
        )
    }

    #[test]
    fn nesting_is_refused_where_serde_json_refuses_it() {
        // serde_json refuses the 128th nested array or object; the record
        // and the rule set are two of them.
        for extra in [120, 125, 126, 127] {
            let text = nested_in_dropped_member(extra);
            assert_eq!(
                EdgeRecord::from_json(&text).is_ok(),
                serde_json::from_str::<Json>(&text).is_ok(),
                "{extra} nested arrays"
            );
            check_edge_record(text.as_bytes());
        }
    }

    #[test]
    fn numbers_beyond_f64_in_dropped_members_are_the_known_difference() {
        let text = record(Dialect::S3, Some(config())).replacen(
            "\"ruleSet\":{",
            "\"ruleSet\":{\"dialect\":1e400,",
            1,
        );
        assert!(EdgeRecord::from_json(&text).is_ok());
        assert!(serde_json::from_str::<Json>(&text).is_err());
        check_edge_record(text.as_bytes());
    }

    #[test]
    fn garbage_and_cut_records_pass() {
        let text = record(Dialect::S3, Some(config()));
        for cut in 0..text.len() {
            check_edge_record(&text.as_bytes()[..cut]);
        }
        for bad in ["", "{", "[]", "null", "{\"format\":1}", "\u{0}"] {
            check_edge_record(bad.as_bytes());
        }
    }

    /// Every seed, including the inputs kept because they once failed
    /// these checks (`deep_nesting_in_repeated_member_128.json`).
    #[test]
    fn seeds_pass() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/edge_record");
        let mut count = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            check_edge_record(&std::fs::read(entry.unwrap().path()).unwrap());
            count += 1;
        }
        assert!(count >= 10, "only {count} seeds in {}", dir.display());
    }
}
