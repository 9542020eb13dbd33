//! The record the operator publishes to Workers KV for one edge route, and
//! the KV key it lives under. Both the publisher (operator) and the worker
//! use this module, so they cannot disagree about either.
//!
//! A record carries the route's bucket origin URL, the bucket's dialect and
//! the published [`RuleSet`] (or none: a bucket without CORS configuration).
//! JSON, camelCase, versioned by `format`:
//!
//! ```json
//! {"format":1,"originUrl":"https://bucket.example.com","dialect":"s3","ruleSet":{...}}
//! ```
//!
//! `"cacheUnmarked":true` (written only when set; off by default) lets the
//! worker's shared body cache store answers the bucket sent without any
//! caching headers. Off, only answers the bucket marks cacheable for
//! everyone are stored, since a bucket that says nothing may be private.
//!
//! `"owner"` (written only when set) names who published the record: the
//! `namespace/name` of the `BucketCors` (the operator and `bucketcors
//! apply` name an object the same way). The worker does not read it to
//! answer; a publisher refuses to overwrite or delete a record another
//! owner holds, so two objects (or two operators, or a CLI run) sharing one
//! KV namespace cannot take each other's routes.
//!
//! Next to the route records, each host has one [`HostRoutes`] record
//! (`routes:{host}`) listing which of its routes exist, so the worker never
//! reads KV for a path prefix the host does not have.
//!
//! Keys: `route:{host}` or `route:{host}/{prefix}`, where the host is
//! lower-cased without a port and the prefix is one path segment. One
//! segment at most keeps the worker's lookup to two keys per request.

use serde::Serialize;

use crate::compile::Compiled;
use crate::model::Dialect;
use crate::ruleset::RuleSet;

mod host_routes;
mod json;
#[cfg(any(test, feature = "serde-reference"))]
#[doc(hidden)]
pub mod serde_reference;
mod shape;

pub use host_routes::{HOST_ROUTES_KEY_PREFIX, HostRoutes, host_routes_key};

/// The record format this crate writes and reads.
pub const FORMAT: u32 = 1;

/// Prefix of every route key, so a namespace can hold other data too.
pub const KEY_PREFIX: &str = "route:";

/// One route's published state.
#[derive(Debug, Clone, PartialEq)]
pub struct EdgeRecord {
    /// Where actual requests are forwarded (`http(s)://host[:port][/path]`).
    pub origin_url: String,
    /// The bucket's dialect; decides answers when there is no rule set.
    pub dialect: Dialect,
    /// The bucket's rules; `None` for a bucket without CORS configuration.
    pub rule_set: Option<RuleSet>,
    /// Opt-in: the worker may cache answers without caching headers (see
    /// the module docs). `false` unless set with
    /// [`EdgeRecord::with_cache_unmarked`].
    pub cache_unmarked: bool,
    /// Who published the record (see the module docs); `None` for a record
    /// written without one (by an older bucketcors).
    pub owner: Option<String>,
}

/// Why a record or a route key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EdgeRecordError {
    /// Not JSON of the record's shape.
    #[error("edge record is not valid JSON of the expected shape: {0}")]
    Json(String),
    /// Written by a newer bucketcors.
    #[error(
        "edge record format {0} is not supported (this build reads format {FORMAT}); upgrade the worker"
    )]
    Format(u32),
    /// `originUrl` is not an absolute http(s) URL.
    #[error(
        "originUrl `{0}` must be an absolute http:// or https:// URL without query or fragment"
    )]
    OriginUrl(String),
    /// The embedded rule set failed its checks.
    #[error("ruleSet: {0}")]
    RuleSet(String),
    /// The rule set's dialect differs from the record's.
    #[error("ruleSet dialect `{rules}` differs from the record dialect `{record}`")]
    DialectMismatch {
        /// The record's dialect.
        record: Dialect,
        /// The rule set's dialect.
        rules: Dialect,
    },
    /// A host that cannot name a route.
    #[error(
        "host `{0}` must be a DNS name or IP address (letters, digits, `-`, `.`), without port"
    )]
    Host(String),
    /// A path prefix that is not exactly one path segment.
    #[error(
        "path prefix `{0}` must be one non-empty path segment such as `assets` (no `/` inside)"
    )]
    PathPrefix(String),
}

/// What [`EdgeRecord::to_json`] writes; [`shape`] reads the same fields.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Wire {
    format: u32,
    origin_url: String,
    dialect: Dialect,
    rule_set: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    cache_unmarked: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner: Option<String>,
}

impl EdgeRecord {
    /// A record; checks the origin URL and that the dialects agree.
    pub fn new(
        origin_url: impl Into<String>,
        dialect: Dialect,
        rule_set: Option<RuleSet>,
    ) -> Result<EdgeRecord, EdgeRecordError> {
        let record = EdgeRecord {
            origin_url: origin_url.into(),
            dialect,
            rule_set,
            cache_unmarked: false,
            owner: None,
        };
        record.check()?;
        Ok(record)
    }

    /// The record with the route's opt-in to caching answers without
    /// caching headers set to `on`.
    pub fn with_cache_unmarked(mut self, on: bool) -> EdgeRecord {
        self.cache_unmarked = on;
        self
    }

    /// The record stamped with its publisher (see the module docs).
    pub fn with_owner(mut self, owner: Option<String>) -> EdgeRecord {
        self.owner = owner;
        self
    }

    fn check(&self) -> Result<(), EdgeRecordError> {
        check_origin_url(&self.origin_url)?;
        if let Some(rules) = &self.rule_set
            && rules.dialect != self.dialect
        {
            return Err(EdgeRecordError::DialectMismatch {
                record: self.dialect,
                rules: rules.dialect,
            });
        }
        Ok(())
    }

    /// The revision served: the rule set's, or `none`.
    pub fn revision(&self) -> &str {
        self.rule_set
            .as_ref()
            .map(|r| r.revision.as_str())
            .unwrap_or("none")
    }

    /// The compiled rules (or the "no CORS configuration" answer).
    pub fn compile(&self) -> Compiled {
        match &self.rule_set {
            Some(rules) => rules.compile(),
            None => Compiled::none(self.dialect),
        }
    }

    /// The JSON stored in KV.
    pub fn to_json(&self) -> String {
        let rule_set = self
            .rule_set
            .as_ref()
            .map(|r| serde_json::from_str(&r.to_json()).expect("RuleSet::to_json writes JSON"));
        serde_json::to_string(&Wire {
            format: FORMAT,
            origin_url: self.origin_url.clone(),
            dialect: self.dialect,
            rule_set,
            cache_unmarked: self.cache_unmarked,
            owner: self.owner.clone(),
        })
        .expect("a record always serializes")
    }

    /// Reads a record, checking every part (the rule set's revision and
    /// validity included), so a corrupted record is never served.
    ///
    /// The worker calls this, so it uses a small JSON reader of its own
    /// (`json`, `shape`) rather than serde's deserializers, which made
    /// up a large part of the worker's wasm; it accepts what the serde types
    /// would (the tests below compare the two).
    pub fn from_json(text: &str) -> Result<EdgeRecord, EdgeRecordError> {
        shape::read(text)
    }
}

fn check_origin_url(url: &str) -> Result<(), EdgeRecordError> {
    let bad = || EdgeRecordError::OriginUrl(url.to_owned());
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(bad)?;
    let authority = rest.split('/').next().unwrap_or("");
    if authority.is_empty()
        || url
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '?' || c == '#')
    {
        return Err(bad());
    }
    Ok(())
}

/// The KV key of the route `host` (+ optional one-segment `path_prefix`).
/// The host is lower-cased; a leading or trailing `/` on the prefix is
/// ignored.
pub fn route_key(host: &str, path_prefix: Option<&str>) -> Result<String, EdgeRecordError> {
    let valid_host = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_');
    // IPv6 literals come bracketed from URLs: `[::1]`.
    let valid_v6 = host.len() > 2
        && host.starts_with('[')
        && host.ends_with(']')
        && host[1..host.len() - 1]
            .chars()
            .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.');
    if !valid_host && !valid_v6 {
        return Err(EdgeRecordError::Host(host.to_owned()));
    }
    let mut key = String::with_capacity(KEY_PREFIX.len() + host.len() + 32);
    key.push_str(KEY_PREFIX);
    key.extend(host.chars().map(|c| c.to_ascii_lowercase()));
    if let Some(prefix) = path_prefix {
        let segment = prefix.trim_matches('/');
        if segment.is_empty()
            || segment.contains('/')
            || segment
                .chars()
                .any(|c| c.is_control() || c.is_whitespace() || c == '?' || c == '#')
        {
            return Err(EdgeRecordError::PathPrefix(prefix.to_owned()));
        }
        key.push('/');
        key.push_str(segment);
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_keys() {
        assert_eq!(
            route_key("CDN.Example.com", None).unwrap(),
            "route:cdn.example.com"
        );
        assert_eq!(
            route_key("cdn.example.com", Some("/assets/")).unwrap(),
            "route:cdn.example.com/assets"
        );
        assert!(matches!(
            route_key("cdn.example.com:443", None),
            Err(EdgeRecordError::Host(_))
        ));
        assert!(matches!(
            route_key("a.b", Some("x/y")),
            Err(EdgeRecordError::PathPrefix(_))
        ));
        assert!(matches!(
            route_key("a.b", Some("/")),
            Err(EdgeRecordError::PathPrefix(_))
        ));
        assert_eq!(route_key("[::1]", None).unwrap(), "route:[::1]");
    }

    #[test]
    fn record_without_rules_round_trips() {
        let record = EdgeRecord::new("http://127.0.0.1:3902", Dialect::Oss, None).unwrap();
        let back = EdgeRecord::from_json(&record.to_json()).unwrap();
        assert_eq!(back, record);
        assert_eq!(back.revision(), "none");
        assert!(!record.to_json().contains("cacheUnmarked"));
    }

    #[test]
    fn the_cache_opt_in_round_trips() {
        let record = EdgeRecord::new("http://127.0.0.1:3902", Dialect::S3, None)
            .unwrap()
            .with_cache_unmarked(true);
        assert!(record.to_json().contains(r#""cacheUnmarked":true"#));
        assert_eq!(EdgeRecord::from_json(&record.to_json()).unwrap(), record);
        assert!(matches!(
            EdgeRecord::from_json(
                r#"{"format":1,"originUrl":"http://a","dialect":"s3","cacheUnmarked":"yes"}"#
            ),
            Err(EdgeRecordError::Json(_))
        ));
    }

    /// The owner is written only when set, read back as written, and must
    /// be a string.
    #[test]
    fn the_owner_round_trips() {
        let record = EdgeRecord::new("http://127.0.0.1:3902", Dialect::S3, None).unwrap();
        assert!(!record.to_json().contains("owner"));
        let owned = record.with_owner(Some("team-a/site".into()));
        assert!(owned.to_json().contains(r#""owner":"team-a/site""#));
        assert_eq!(EdgeRecord::from_json(&owned.to_json()).unwrap(), owned);
        assert!(matches!(
            EdgeRecord::from_json(
                r#"{"format":1,"originUrl":"http://a","dialect":"s3","owner":7}"#
            ),
            Err(EdgeRecordError::Json(_))
        ));
    }

    #[test]
    fn bad_records_are_refused_with_the_reason() {
        assert!(matches!(
            EdgeRecord::new("ftp://x", Dialect::S3, None),
            Err(EdgeRecordError::OriginUrl(_))
        ));
        assert!(matches!(
            EdgeRecord::from_json(r#"{"format":2,"originUrl":"http://a","dialect":"s3"}"#),
            Err(EdgeRecordError::Format(2))
        ));
        assert!(matches!(
            EdgeRecord::from_json("{"),
            Err(EdgeRecordError::Json(_))
        ));
    }
}
