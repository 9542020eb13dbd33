//! The record's shape, checked on the tree [`super::json`] reads: the same
//! fields, types and strictness as the serde types that write it (unknown
//! and repeated fields refused, optional fields absent or `null`, counts
//! unsigned integers), with errors naming the field.

use super::json::{self, Value};
use super::{EdgeRecord, EdgeRecordError, FORMAT};
use crate::model::{CorsConfig, Dialect, Rule};
use crate::ruleset::RuleSet;

/// Reads and checks a whole record (see [`EdgeRecord::from_json`]).
pub(super) fn read(text: &str) -> Result<EdgeRecord, EdgeRecordError> {
    let value = json::parse(text).map_err(EdgeRecordError::Json)?;
    let [format, origin_url, dialect, rule_set, cache_unmarked, owner] = fields(
        value,
        "the record",
        [
            "format",
            "originUrl",
            "dialect",
            "ruleSet",
            "cacheUnmarked",
            "owner",
        ],
        Repeated::Refused,
    )
    .map_err(EdgeRecordError::Json)?;
    let cache_unmarked = match cache_unmarked {
        None => false,
        Some(Value::Bool(b)) => b,
        Some(_) => {
            return Err(EdgeRecordError::Json(expected(
                "cacheUnmarked",
                "a boolean",
            )));
        }
    };
    let format = uint(required(format, "format")?, "format", u32::MAX.into())
        .map_err(EdgeRecordError::Json)?;
    let origin_url =
        string(required(origin_url, "originUrl")?, "originUrl").map_err(EdgeRecordError::Json)?;
    let dialect =
        dialect_of(required(dialect, "dialect")?, "dialect").map_err(EdgeRecordError::Json)?;
    if format != u64::from(FORMAT) {
        // At most u32::MAX, checked above.
        return Err(EdgeRecordError::Format(format as u32));
    }
    let rule_set = match rule_set {
        None | Some(Value::Null) => None,
        Some(value) => Some(read_rule_set(value).map_err(EdgeRecordError::RuleSet)?),
    };
    let owner = match owner {
        None | Some(Value::Null) => None,
        Some(value) => Some(string(value, "owner").map_err(EdgeRecordError::Json)?),
    };
    Ok(EdgeRecord::new(origin_url, dialect, rule_set)?
        .with_cache_unmarked(cache_unmarked)
        .with_owner(owner))
}

fn required(value: Option<Value>, field: &str) -> Result<Value, EdgeRecordError> {
    value.ok_or_else(|| EdgeRecordError::Json(format!("missing field `{field}`")))
}

/// A rule set: its shape, then its revision and validity.
fn read_rule_set(value: Value) -> Result<RuleSet, String> {
    let shape = |message: String| {
        format!("the rule set is not valid JSON of the expected shape: {message}")
    };
    let [dialect, revision, config] = fields(
        value,
        "ruleSet",
        ["dialect", "revision", "config"],
        Repeated::LastWins,
    )
    .map_err(shape)?;
    let dialect = dialect_of(
        need(dialect, "ruleSet.dialect").map_err(shape)?,
        "ruleSet.dialect",
    )
    .map_err(shape)?;
    let revision = string(
        need(revision, "ruleSet.revision").map_err(shape)?,
        "ruleSet.revision",
    )
    .map_err(shape)?;
    let config = read_config(need(config, "ruleSet.config").map_err(shape)?).map_err(shape)?;
    RuleSet::checked(RuleSet {
        dialect,
        revision,
        config,
    })
    .map_err(|err| err.to_string())
}

fn read_config(value: Value) -> Result<CorsConfig, String> {
    let at = "ruleSet.config";
    let [rules, response_vary] = fields(value, at, ["rules", "responseVary"], Repeated::LastWins)?;
    let Value::Array(items) = need(rules, "ruleSet.config.rules")? else {
        return Err(expected("ruleSet.config.rules", "an array"));
    };
    let rules = items
        .into_iter()
        .enumerate()
        .map(|(i, item)| read_rule(item, &format!("ruleSet.config.rules[{i}]")))
        .collect::<Result<Vec<Rule>, String>>()?;
    let response_vary = match response_vary {
        None => false,
        Some(Value::Bool(b)) => b,
        Some(_) => return Err(expected("ruleSet.config.responseVary", "a boolean")),
    };
    Ok(CorsConfig {
        rules,
        response_vary,
    })
}

fn read_rule(value: Value, at: &str) -> Result<Rule, String> {
    let [
        id,
        allowed_origins,
        allowed_methods,
        allowed_headers,
        expose_headers,
        max_age_seconds,
    ] = fields(
        value,
        at,
        [
            "id",
            "allowedOrigins",
            "allowedMethods",
            "allowedHeaders",
            "exposeHeaders",
            "maxAgeSeconds",
        ],
        Repeated::LastWins,
    )?;
    let field = |name: &str| format!("{at}.{name}");
    Ok(Rule {
        id: match id {
            None | Some(Value::Null) => None,
            Some(v) => Some(string(v, &field("id"))?),
        },
        allowed_origins: strings(
            need(allowed_origins, &field("allowedOrigins"))?,
            &field("allowedOrigins"),
        )?,
        allowed_methods: strings(
            need(allowed_methods, &field("allowedMethods"))?,
            &field("allowedMethods"),
        )?,
        allowed_headers: match allowed_headers {
            None => Vec::new(),
            Some(v) => strings(v, &field("allowedHeaders"))?,
        },
        expose_headers: match expose_headers {
            None => Vec::new(),
            Some(v) => strings(v, &field("exposeHeaders"))?,
        },
        max_age_seconds: match max_age_seconds {
            None | Some(Value::Null) => None,
            Some(v) => Some(uint(v, &field("maxAgeSeconds"), u64::MAX)?),
        },
    })
}

/// What a repeated member means.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Repeated {
    /// An error (the record's own fields, as its serde type says).
    Refused,
    /// The last one counts: the rule set has always been read through a
    /// JSON map first, which keeps the last of repeated keys.
    LastWins,
}

/// The members of an object, in the order of `names`; unknown members are
/// refused, repeated ones as `repeated` says.
pub(super) fn fields<const N: usize>(
    value: Value,
    at: &str,
    names: [&str; N],
    repeated: Repeated,
) -> Result<[Option<Value>; N], String> {
    let Value::Object(members) = value else {
        return Err(expected(at, "an object"));
    };
    let mut out = [const { None }; N];
    for (key, value) in members {
        let Some(i) = names.iter().position(|n| *n == key) else {
            return Err(format!(
                "{at}: unknown field `{key}`, expected one of {}",
                names.join(", ")
            ));
        };
        if out[i].is_some() && repeated == Repeated::Refused {
            return Err(format!("{at}: duplicate field `{key}`"));
        }
        out[i] = Some(value);
    }
    Ok(out)
}

pub(super) fn need(value: Option<Value>, field: &str) -> Result<Value, String> {
    value.ok_or_else(|| format!("missing field `{field}`"))
}

pub(super) fn expected(at: &str, what: &str) -> String {
    format!("{at}: expected {what}")
}

pub(super) fn string(value: Value, at: &str) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s),
        _ => Err(expected(at, "a string")),
    }
}

pub(super) fn strings(value: Value, at: &str) -> Result<Vec<String>, String> {
    let Value::Array(items) = value else {
        return Err(expected(at, "an array of strings"));
    };
    items.into_iter().map(|item| string(item, at)).collect()
}

/// An unsigned integer up to `max`, written without fraction or exponent.
pub(super) fn uint(value: Value, at: &str, max: u64) -> Result<u64, String> {
    let bad = || expected(at, &format!("an integer from 0 to {max}"));
    let Value::Number(text) = value else {
        return Err(bad());
    };
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let mut n: u64 = 0;
    for b in text.bytes() {
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(b - b'0')))
            .ok_or_else(bad)?;
    }
    if n > max {
        return Err(bad());
    }
    Ok(n)
}

/// `oss` or `s3`, exactly as written by the serde types.
fn dialect_of(value: Value, at: &str) -> Result<Dialect, String> {
    match value {
        Value::String(s) if s == "oss" => Ok(Dialect::Oss),
        Value::String(s) if s == "s3" => Ok(Dialect::S3),
        _ => Err(expected(at, "`oss` or `s3`")),
    }
}

#[cfg(test)]
mod tests {
    //! The reader against the serde types it replaces: every record and
    //! every mutation of one (field removed, unknown or repeated, each value
    //! swapped for every JSON type and for edge-case numbers) must get the
    //! same verdict, and the same record when accepted.

    use serde_json::{Value as Json, json};

    use super::*;
    use crate::edge_record::serde_reference::reference;

    fn records() -> Vec<String> {
        let s3 = CorsConfig {
            rules: vec![
                Rule {
                    id: Some("app \"1\" \u{e9}".into()),
                    allowed_origins: vec!["https://*.example.com".into(), "*".into()],
                    allowed_methods: vec!["GET".into(), "PUT".into()],
                    allowed_headers: vec!["X-Amz-*".into(), "content-type".into()],
                    expose_headers: vec!["ETag".into()],
                    max_age_seconds: Some(600),
                },
                Rule {
                    allowed_origins: vec!["https://app.example.com".into()],
                    allowed_methods: vec!["POST".into()],
                    ..Rule::default()
                },
            ],
            response_vary: false,
        };
        let oss = CorsConfig {
            rules: vec![Rule {
                allowed_origins: vec!["https://a.example".into()],
                allowed_methods: vec!["GET".into()],
                max_age_seconds: Some(0),
                ..Rule::default()
            }],
            response_vary: true,
        };
        vec![
            EdgeRecord::new(
                "https://bucket.example.com/path",
                Dialect::S3,
                Some(RuleSet::new(Dialect::S3, s3).unwrap()),
            )
            .unwrap()
            .to_json(),
            EdgeRecord::new(
                "http://127.0.0.1:3902",
                Dialect::Oss,
                Some(RuleSet::new(Dialect::Oss, oss).unwrap()),
            )
            .unwrap()
            .to_json(),
            EdgeRecord::new("http://127.0.0.1:3902", Dialect::S3, None)
                .unwrap()
                .to_json(),
            EdgeRecord::new("http://127.0.0.1:3902", Dialect::S3, None)
                .unwrap()
                .with_owner(Some("team-a/site".into()))
                .to_json(),
        ]
    }

    /// Every variant of `value` with one change somewhere in it.
    fn mutations(value: &Json, out: &mut Vec<Json>) {
        let replacements = [
            Json::Null,
            json!(true),
            json!(false),
            json!(0),
            json!(1),
            json!(-1),
            json!(1.5),
            json!(1e2),
            json!(4294967296u64),
            json!(u64::MAX),
            json!("s3"),
            json!("oss"),
            json!("S3"),
            json!("x"),
            json!([]),
            json!(["GET"]),
            json!([1]),
            json!({}),
        ];
        for r in &replacements {
            out.push(r.clone());
        }
        match value {
            Json::Object(map) => {
                for key in map.keys() {
                    let mut removed = map.clone();
                    removed.remove(key);
                    out.push(Json::Object(removed));
                    let mut inner = Vec::new();
                    mutations(&map[key], &mut inner);
                    for m in inner {
                        let mut changed = map.clone();
                        changed.insert(key.clone(), m);
                        out.push(Json::Object(changed));
                    }
                }
                let mut unknown = map.clone();
                unknown.insert("unknownField".into(), json!(1));
                out.push(Json::Object(unknown));
            }
            Json::Array(items) => {
                for i in 0..items.len() {
                    let mut removed = items.clone();
                    removed.remove(i);
                    out.push(Json::Array(removed));
                    let mut inner = Vec::new();
                    mutations(&items[i], &mut inner);
                    for m in inner {
                        let mut changed = items.clone();
                        changed[i] = m;
                        out.push(Json::Array(changed));
                    }
                }
            }
            _ => {}
        }
    }

    fn same_verdict(text: &str) {
        let ours = read(text);
        let theirs = reference(text);
        match (&ours, &theirs) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{text}"),
            (Err(a), Err(b)) => assert_eq!(
                std::mem::discriminant(a),
                std::mem::discriminant(b),
                "{text}: {a} / {b}"
            ),
            _ => panic!("{text}: reader {ours:?}, serde {theirs:?}"),
        }
    }

    #[test]
    fn agrees_with_the_serde_types_on_records_and_their_mutations() {
        let mut checked = 0;
        for record in records() {
            same_verdict(&record);
            assert!(read(&record).is_ok());
            let mut variants = Vec::new();
            mutations(&serde_json::from_str(&record).unwrap(), &mut variants);
            for variant in variants {
                same_verdict(&variant.to_string());
                checked += 1;
            }
            // Repeated fields, whitespace, and text cut short.
            same_verdict(&record.replacen('{', "{\"format\":1,", 1));
            same_verdict(&record.replace("\"rules\":", "\"rules\":[],\"rules\":"));
            same_verdict(&record.replace(',', " ,\n\t"));
            same_verdict(&format!(" {record} "));
            for cut in 0..record.len() {
                if record.is_char_boundary(cut) {
                    same_verdict(&record[..cut]);
                }
            }
        }
        assert!(checked > 500, "{checked} mutations");
    }

    #[test]
    fn escapes_read_like_serde() {
        for text in [
            r#"{"format":1,"originUrl":"http://a\/b","dialect":"s3"}"#,
            r#"{"format":1,"originUrl":"http://\u0061","dialect":"s3"}"#,
            r#"{"format":1,"originUrl":"http://a\ud83d\ude00","dialect":"s3"}"#,
            r#"{"format":1,"originUrl":"http://a\ud83d","dialect":"s3"}"#,
            r#"{"format":01,"originUrl":"http://a","dialect":"s3"}"#,
            r#"{"format":1.0,"originUrl":"http://a","dialect":"s3"}"#,
            r#"{"format":-0,"originUrl":"http://a","dialect":"s3"}"#,
            r#"{"format":1,"originUrl":"http://a","dialect":"s3","ruleSet":null}"#,
            r#"{"format":2,"originUrl":"http://a","dialect":"s3"}"#,
            r#"{"format":2,"originUrl":"ftp://a","dialect":"x"}"#,
            r#"{"format":1,"originUrl":"ftp://a","dialect":"s3"}"#,
        ] {
            same_verdict(text);
        }
    }
}
