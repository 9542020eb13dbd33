//! Validation of a [`CorsConfig`] for a [`Dialect`]: limits and rules from the
//! spec's sections 1 and 6, plus what bucketcors rejects because it can never
//! work. Every problem is reported at once, each naming the rule and field.
//!
//! The checks, in the order they are reported:
//! - configuration-wide: no rules, too many rules (OSS 10, S3 100), XML
//!   XML document too large (OSS 16 KB, S3 64 KB, measured on the document
//!   [`crate::format::print_provider_xml`] produces, which is what the operator sends),
//!   `responseVary` with S3 (S3 formats have no place for it);
//! - per rule: `id` (S3: at most 255 characters; OSS: a warning, since OSS
//!   has nowhere to keep it), origins (at least one; not empty; at most one
//!   `*`; no path or trailing slash), methods (at least one; exactly `GET`,
//!   `PUT`, `POST`, `DELETE`, `HEAD`), allowed headers (at most one `*`),
//!   expose headers (no `*`), and control characters (CR, LF, ...) anywhere;
//! - across rules: a rule equal in meaning to an earlier one is an error (a
//!   duplicate); a rule whose every request an earlier rule already matches
//!   is a warning (it can never be used).
//!
//! A negative max age cannot be represented (`u64`), so it needs no check.

use std::fmt;

use serde::Serialize;

use crate::canonical::canonical_rule;
use crate::format::print_provider_xml;
use crate::model::{CorsConfig, Dialect, Rule};
use crate::pattern::Pattern;

/// The methods a rule may allow, as the providers spell them.
pub const METHODS: [&str; 5] = ["GET", "PUT", "POST", "DELETE", "HEAD"];

/// How serious a [`Diagnostic`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The configuration is refused.
    Error,
    /// The configuration works but probably not as intended.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// Which rule a diagnostic is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleRef {
    /// Zero-based position in the configuration.
    pub index: usize,
    /// The rule's `id`, when it has one.
    pub id: Option<String>,
}

impl fmt::Display for RuleRef {
    /// `rule 2` or `rule 2 (id "uploads")`; the index is zero-based, like
    /// `matched_rule` in decisions.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rule {}", self.index)?;
        if let Some(id) = &self.id {
            write!(f, " (id {id:?})")?;
        }
        Ok(())
    }
}

/// One problem found in a configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

impl fmt::Display for Diagnostic {
    /// `rule 2 (id "uploads"), allowedMethods[1]: <what is wrong and what to do>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.rule, &self.field) {
            (Some(rule), Some(field)) => write!(f, "{rule}, {field}: ")?,
            (Some(rule), None) => write!(f, "{rule}: ")?,
            (None, Some(field)) => write!(f, "{field}: ")?,
            (None, None) => {}
        }
        f.write_str(&self.message)
    }
}

/// The result of validating a configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
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

    /// Errors first, then warnings.
    pub fn diagnostics(&self) -> impl Iterator<Item = &Diagnostic> {
        self.errors.iter().chain(&self.warnings)
    }

    fn push(&mut self, d: Diagnostic) {
        match d.severity {
            Severity::Error => self.errors.push(d),
            Severity::Warning => self.warnings.push(d),
        }
    }
}

impl fmt::Display for Report {
    /// One line per diagnostic: `error: ...` / `warning: ...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diagnostics().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{}: {d}", d.severity)?;
        }
        Ok(())
    }
}

impl std::error::Error for Report {}

/// The largest number of rules `dialect` accepts.
pub fn max_rules(dialect: Dialect) -> usize {
    match dialect {
        Dialect::Oss => 10,
        Dialect::S3 => 100,
    }
}

/// The largest XML document, in bytes, `dialect` accepts.
pub fn max_document_bytes(dialect: Dialect) -> usize {
    match dialect {
        Dialect::Oss => 16 * 1024,
        Dialect::S3 => 64 * 1024,
    }
}

/// The longest S3 rule `ID`, in characters.
pub const MAX_ID_CHARS: usize = 255;

/// Validates `config` for `dialect`.
pub fn validate(config: &CorsConfig, dialect: Dialect) -> Report {
    let mut report = Report::default();
    let provider = match dialect {
        Dialect::Oss => "OSS",
        Dialect::S3 => "S3",
    };

    if config.rules.is_empty() {
        report.push(config_error(
            Some("rules"),
            format!(
                "the configuration has no rules, which {provider} refuses; add at least one \
                 rule, or delete the bucket's CORS configuration instead"
            ),
        ));
    }
    let max = max_rules(dialect);
    if config.rules.len() > max {
        report.push(config_error(
            Some("rules"),
            format!(
                "the configuration has {} rules but {provider} allows at most {max}; merge \
                 rules (a rule takes several origins, methods and headers) or remove some",
                config.rules.len()
            ),
        ));
    }
    let size = document_size(config, dialect);
    let max_size = max_document_bytes(dialect);
    if size > max_size {
        report.push(config_error(
            None,
            format!(
                "the {provider} XML document would be {size} bytes but {provider} allows at \
                 most {max_size}; shorten or merge rules (for example use one `*` pattern \
                 instead of many origins)"
            ),
        ));
    }
    if config.response_vary && dialect == Dialect::S3 {
        report.push(config_error(
            Some("responseVary"),
            "S3 has no ResponseVary setting and its formats have no place for it; remove \
             `responseVary` or use the oss dialect"
                .to_owned(),
        ));
    }

    for (index, rule) in config.rules.iter().enumerate() {
        check_rule(&mut report, index, rule, dialect);
    }
    check_duplicates_and_shadowing(&mut report, config, dialect);
    report
}

/// Bytes of the provider XML document for `config`: the printer's output,
/// exactly what a PutBucketCors body carries.
pub fn document_size(config: &CorsConfig, dialect: Dialect) -> usize {
    print_provider_xml(config, dialect).len()
}

fn config_error(field: Option<&str>, message: String) -> Diagnostic {
    Diagnostic {
        severity: Severity::Error,
        rule: None,
        field: field.map(str::to_owned),
        message,
    }
}

/// Builds diagnostics for one rule.
struct RuleDiagnostics<'a> {
    report: &'a mut Report,
    rule: RuleRef,
}

impl RuleDiagnostics<'_> {
    fn push(&mut self, severity: Severity, field: Option<String>, message: String) {
        self.report.push(Diagnostic {
            severity,
            rule: Some(self.rule.clone()),
            field,
            message,
        });
    }

    fn error(&mut self, field: impl Into<String>, message: String) {
        self.push(Severity::Error, Some(field.into()), message);
    }

    fn warning(&mut self, field: impl Into<String>, message: String) {
        self.push(Severity::Warning, Some(field.into()), message);
    }

    /// Control characters (CR and LF above all) would split or corrupt the
    /// header they end up in, and no browser sends them.
    fn check_controls(&mut self, field: &str, value: &str) -> bool {
        match value.char_indices().find(|(_, c)| c.is_control()) {
            Some((at, c)) => {
                self.error(
                    field,
                    format!(
                        "{value:?} contains the control character {c:?} at byte {at}; remove \
                         it (CR, LF and other control characters can never appear in a header)"
                    ),
                );
                false
            }
            None => true,
        }
    }
}

fn check_rule(report: &mut Report, index: usize, rule: &Rule, dialect: Dialect) {
    let mut d = RuleDiagnostics {
        report,
        rule: RuleRef {
            index,
            id: rule.id.clone(),
        },
    };

    if let Some(id) = &rule.id {
        d.check_controls("id", id);
        match dialect {
            Dialect::S3 => {
                let chars = id.chars().count();
                if chars > MAX_ID_CHARS {
                    d.error(
                        "id",
                        format!(
                            "the ID is {chars} characters long but S3 allows at most \
                             {MAX_ID_CHARS}; shorten it"
                        ),
                    );
                }
            }
            Dialect::Oss => d.warning(
                "id",
                "OSS has no place for a rule ID: it is not sent to the bucket and only \
                 appears in explanations; remove it to silence this warning"
                    .to_owned(),
            ),
        }
    }

    if rule.allowed_origins.is_empty() {
        d.error(
            "allowedOrigins",
            "the rule allows no origin, so it can never match; add at least one origin such \
             as `https://app.example.com`, `https://*.example.com` or `*`"
                .to_owned(),
        );
    }
    for (i, origin) in rule.allowed_origins.iter().enumerate() {
        let field = format!("allowedOrigins[{i}]");
        if !d.check_controls(&field, origin) {
            continue;
        }
        if origin.is_empty() {
            d.error(
                field,
                "the origin is empty and no browser sends an empty Origin; write the origin \
                 as scheme://host[:port], or `*` for any origin"
                    .to_owned(),
            );
            continue;
        }
        if origin.matches('*').count() > 1 {
            d.error(
                field.clone(),
                format!(
                    "{origin:?} has more than one `*`; an origin may contain at most one `*` \
                     (such as `https://*.example.com`): split it into several origins"
                ),
            );
        }
        let after_scheme = origin.split_once("://").map_or(origin.as_str(), |(_, r)| r);
        if after_scheme.contains('/') {
            let what = if after_scheme.ends_with('/') && after_scheme.matches('/').count() == 1 {
                "a trailing slash"
            } else {
                "a path"
            };
            let fixed = after_scheme.split('/').next().unwrap_or_default();
            let scheme = &origin[..origin.len() - after_scheme.len()];
            d.error(
                field,
                format!(
                    "{origin:?} has {what}, but a browser's Origin is only scheme://host[:port] \
                     and never matches it; write {:?}",
                    format!("{scheme}{fixed}")
                ),
            );
        }
    }

    if rule.allowed_methods.is_empty() {
        d.error(
            "allowedMethods",
            "the rule allows no method, so it can never match; add at least one of GET, PUT, \
             POST, DELETE, HEAD"
                .to_owned(),
        );
    }
    for (i, method) in rule.allowed_methods.iter().enumerate() {
        let field = format!("allowedMethods[{i}]");
        if !d.check_controls(&field, method) || METHODS.contains(&method.as_str()) {
            continue;
        }
        let upper = method.to_ascii_uppercase();
        let hint = if METHODS.contains(&upper.as_str()) {
            format!("write it in upper case: {upper}")
        } else {
            "use one of GET, PUT, POST, DELETE, HEAD (upper case)".to_owned()
        };
        d.error(
            field,
            format!(
                "Found unsupported HTTP method in CORS config. Unsupported method is {method}; \
                 {hint}"
            ),
        );
    }

    for (i, header) in rule.allowed_headers.iter().enumerate() {
        let field = format!("allowedHeaders[{i}]");
        if !d.check_controls(&field, header) {
            continue;
        }
        if header.matches('*').count() > 1 {
            d.error(
                field,
                format!(
                    "{header:?} has more than one `*`; a header pattern may contain at most \
                     one `*` (such as `x-amz-*`): split it into several headers"
                ),
            );
        } else if header.trim().is_empty() {
            d.warning(
                field,
                "the header name is empty and matches no requested header; remove it".to_owned(),
            );
        }
    }

    for (i, header) in rule.expose_headers.iter().enumerate() {
        let field = format!("exposeHeaders[{i}]");
        if !d.check_controls(&field, header) {
            continue;
        }
        if header.contains('*') {
            d.error(
                field,
                format!(
                    "{header:?} contains `*`, which expose headers do not allow; list each \
                     response header the browser may read by its full name"
                ),
            );
        } else if header.trim().is_empty() {
            d.warning(
                field,
                "the header name is empty and exposes nothing; remove it".to_owned(),
            );
        }
    }
}

/// The parts of a rule that decide whether it matches, for shadowing.
struct Matcher {
    origins: Vec<Pattern>,
    methods: Vec<String>,
    headers: Vec<Pattern>,
}

impl Matcher {
    fn new(rule: &Rule) -> Matcher {
        Matcher {
            origins: rule
                .allowed_origins
                .iter()
                .map(|o| Pattern::new(o))
                .collect(),
            methods: rule.allowed_methods.clone(),
            headers: rule
                .allowed_headers
                .iter()
                .map(|h| Pattern::new_header(h))
                .collect(),
        }
    }

    /// True when every request `later` matches is matched by `self`
    /// (checked pattern by pattern, which is sufficient, not necessary).
    fn shadows(&self, later: &Matcher) -> bool {
        // A rule without origins or methods is already an error; saying it
        // is also shadowed would only add noise.
        !later.origins.is_empty()
            && !later.methods.is_empty()
            && later
                .origins
                .iter()
                .all(|o| self.origins.iter().any(|p| p.covers(o)))
            && later.methods.iter().all(|m| self.methods.contains(m))
            && later
                .headers
                .iter()
                .all(|h| self.headers.iter().any(|p| p.covers(h)))
    }
}

fn check_duplicates_and_shadowing(report: &mut Report, config: &CorsConfig, dialect: Dialect) {
    let canon: Vec<Rule> = config
        .rules
        .iter()
        .map(|r| canonical_rule(dialect, r))
        .collect();
    let matchers: Vec<Matcher> = config.rules.iter().map(Matcher::new).collect();
    for (j, rule) in config.rules.iter().enumerate() {
        let rule_ref = RuleRef {
            index: j,
            id: rule.id.clone(),
        };
        if let Some(i) = (0..j).find(|&i| canon[i] == canon[j]) {
            report.push(Diagnostic {
                severity: Severity::Error,
                rule: Some(rule_ref),
                field: None,
                message: format!(
                    "this rule duplicates {}: it means the same and can never be used; \
                     remove one of them",
                    RuleRef {
                        index: i,
                        id: config.rules[i].id.clone()
                    }
                ),
            });
        } else if let Some(i) = (0..j).find(|&i| matchers[i].shadows(&matchers[j])) {
            report.push(Diagnostic {
                severity: Severity::Warning,
                rule: Some(rule_ref),
                field: None,
                message: format!(
                    "{} matches every request this rule matches, and the first matching rule \
                     wins, so this rule is never used; move it before that rule or remove it",
                    RuleRef {
                        index: i,
                        id: config.rules[i].id.clone()
                    }
                ),
            });
        }
    }
}
