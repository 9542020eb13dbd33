//! The canonical form of a configuration: what is left once everything that
//! cannot change a response is normalised away. Two configurations with the
//! same canonical form answer every request the same way, so revisions,
//! duplicate detection and "does the bucket already have these rules"
//! comparisons all go through it.
//!
//! What is normalised, and why it is safe:
//! - rule `id`s are dropped for OSS, which has no place for them; S3 stores
//!   and returns them, so for S3 an ID change is a change the bucket must
//!   receive (rule comparison for duplicates ignores them either way, see
//!   [`canonical_rule`]);
//! - allowed headers are ASCII lower-cased, sorted and de-duplicated, and a
//!   list containing `*` becomes just `*`: they only decide whether a rule
//!   matches, case-insensitively, and the answer echoes the request's names;
//! - repeated allowed origins keep only their first occurrence (the first
//!   matching origin decides S3's `*` answer, so order is kept); for OSS,
//!   which always echoes the Origin, they are also sorted;
//! - `responseVary` is false for S3, which has no such setting.
//!
//! Everything else (method order, expose headers and their order, max age,
//! rule order) appears in responses and is kept as written.

use crate::model::{CorsConfig, Dialect, Rule};

/// The canonical form of `config` for `dialect`; see the module docs.
pub fn canonical(dialect: Dialect, config: &CorsConfig) -> CorsConfig {
    CorsConfig {
        rules: config
            .rules
            .iter()
            .map(|r| Rule {
                id: match dialect {
                    Dialect::S3 => r.id.clone(),
                    Dialect::Oss => None,
                },
                ..canonical_rule(dialect, r)
            })
            .collect(),
        response_vary: dialect == Dialect::Oss && config.response_vary,
    }
}

/// The canonical form of one rule without its `id`: what decides whether two
/// rules behave the same (duplicate and shadowing checks).
pub fn canonical_rule(dialect: Dialect, rule: &Rule) -> Rule {
    let mut origins: Vec<String> = Vec::with_capacity(rule.allowed_origins.len());
    for origin in &rule.allowed_origins {
        if !origins.contains(origin) {
            origins.push(origin.clone());
        }
    }
    if dialect == Dialect::Oss {
        origins.sort();
    }
    let mut headers: Vec<String> = rule
        .allowed_headers
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    if headers.iter().any(|h| h == "*") {
        headers = vec!["*".to_owned()];
    }
    headers.sort();
    headers.dedup();
    Rule {
        id: None,
        allowed_origins: origins,
        allowed_methods: rule.allowed_methods.clone(),
        allowed_headers: headers,
        expose_headers: rule.expose_headers.clone(),
        max_age_seconds: rule.max_age_seconds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_keeps_rule_ids_oss_drops_them() {
        let config = CorsConfig {
            rules: vec![Rule {
                id: Some("uploads".into()),
                allowed_origins: vec!["https://a".into()],
                allowed_methods: vec!["GET".into()],
                ..Rule::default()
            }],
            response_vary: false,
        };
        assert_eq!(
            canonical(Dialect::S3, &config).rules[0].id.as_deref(),
            Some("uploads")
        );
        assert_eq!(canonical(Dialect::Oss, &config).rules[0].id, None);
    }

    #[test]
    fn drops_what_no_response_shows() {
        let a = Rule {
            id: Some("a".into()),
            allowed_origins: vec!["https://b".into(), "https://a".into(), "https://b".into()],
            allowed_methods: vec!["GET".into()],
            allowed_headers: vec!["X-B".into(), "x-a".into(), "x-b".into()],
            ..Rule::default()
        };
        let c = canonical_rule(Dialect::S3, &a);
        assert_eq!(c.id, None);
        assert_eq!(c.allowed_origins, ["https://b", "https://a"]);
        assert_eq!(c.allowed_headers, ["x-a", "x-b"]);
        assert_eq!(
            canonical_rule(Dialect::Oss, &a).allowed_origins,
            ["https://a", "https://b"]
        );
    }
}
