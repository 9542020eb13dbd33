//! Lints: what a configuration that the provider accepts will still do
//! wrong in a browser. [`crate::validate()`] answers "will the provider
//! take it"; a lint answers "will the page work", from the Fetch
//! standard's rules and the browsers' own limits (spec section 7).
//!
//! Each lint has a stable [`LintCode`] (users silence and search for it),
//! names the rule and field, says why it matters in a browser and which
//! edit fixes it. One file per idea:
//!
//! - [`origin_form`]: allowed origins no browser ever sends (upper case,
//!   default port written out, trailing dot, no scheme, `null`);
//! - [`credentials`]: `*` origin where pages send credentials;
//! - [`wildcard_headers`]: `*` allowed headers on a store that answers a
//!   literal `*`, which by the Fetch standard never covers `Authorization`
//!   (Chromium 156 deviates and lets it);
//! - [`max_age`]: Max-Age above the browsers' caps, or 0;
//! - [`safelisted_expose`]: exposed headers pages can read anyway;
//! - [`shadowing`]: (origin, method) classes of a rule that an earlier rule
//!   always wins;
//! - [`open_write`]: every origin allowed to write.
//!
//! Target-specific checks ([`crate::target`]) produce the same [`Lint`]
//! type, so the CLI, the operator's status and the admission policy show
//! one list.

pub mod credentials;
pub mod max_age;
pub mod open_write;
pub mod origin_form;
pub mod safelisted_expose;
pub mod shadowing;
pub mod wildcard_headers;

use std::fmt;

use serde::Serialize;

use crate::model::{CorsConfig, Dialect, Rule};
use crate::target::Target;
use crate::validate::{RuleRef, Severity};

/// A lint's stable identity: the code never changes meaning once
/// released, so it can be searched for and allowed by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum LintCode {
    /// An allowed origin with upper-case letters.
    OriginUpperCase,
    /// An allowed origin with the scheme's default port written out.
    OriginDefaultPort,
    /// An allowed origin whose host ends with a dot.
    OriginTrailingDot,
    /// An allowed origin without a scheme.
    OriginNoScheme,
    /// `null` as an allowed origin.
    OriginNull,
    /// `*` origin in a rule pages send credentials to.
    StarOriginWithCredentials,
    /// `*` allowed headers answered as a literal `*`.
    WildcardHeadersLiteral,
    /// Max-Age above Chromium's cap.
    MaxAgeAboveChromiumCap,
    /// Max-Age above Firefox's cap (and Chromium's).
    MaxAgeAboveFirefoxCap,
    /// Max-Age 0.
    MaxAgeZero,
    /// A CORS-safelisted response header in exposeHeaders.
    ExposeSafelisted,
    /// (origin, method) classes of a rule an earlier rule always wins.
    RulePartlyShadowed,
    /// Actual requests answered by an earlier rule with other expose headers.
    ActualRequestsAnsweredEarlier,
    /// Every origin may write (`*` with PUT, POST or DELETE).
    AnyOriginCanWrite,
    /// The target store refuses PutBucketCors.
    TargetRefusesBucketCors,
    /// The target store takes another document format.
    TargetOtherFormat,
    /// The target refuses this origin pattern.
    TargetRefusesPattern,
    /// The target compares header names case-sensitively.
    TargetHeaderCase,
    /// The target never sends Access-Control-Max-Age.
    TargetNoMaxAge,
    /// The target never sends Access-Control-Allow-Credentials.
    TargetNoCredentials,
    /// The target picks the first rule by origin only.
    TargetFirstOriginMatch,
}

/// One entry of [`CATALOG`]: a code, its name and what it is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LintInfo {
    /// The code.
    pub code: LintCode,
    /// `BC` + number: what users write.
    pub id: &'static str,
    /// Kebab-case name.
    pub name: &'static str,
    /// One sentence.
    pub summary: &'static str,
    /// The lint as a CEL predicate, when one can say it: see [`Cel`].
    pub cel: Option<Cel>,
}

/// A lint as CEL, for the admission policy that makes `kubectl apply`
/// print it: `rule` is true for a clean rule `r` (BucketCors field names:
/// `r.allowedOrigins`, `r.maxAgeSeconds`, ...), and applies to every
/// object, or only to those whose `spec.backend.flavor` is `target`.
/// Lints that need the whole rule list (shadowing) or facts the object
/// does not hold (credentials) have none; the operator's status and
/// `bucketcors validate` still report them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Cel {
    /// True when the rule `r` is clean.
    pub rule: &'static str,
    /// Only for this flavor.
    pub target: Option<Target>,
}

const fn cel(rule: &'static str) -> Option<Cel> {
    Some(Cel { rule, target: None })
}

const fn cel_on(target: Target, rule: &'static str) -> Option<Cel> {
    Some(Cel {
        rule,
        target: Some(target),
    })
}

/// Every lint, in code order: the one list the CLI, docs and admission
/// policy are generated from.
pub const CATALOG: &[LintInfo] = &[
    info(
        LintCode::OriginUpperCase,
        "BC101",
        "origin-upper-case",
        "an allowed origin has upper-case letters, but browsers send scheme and host in lower case",
        cel("r.allowedOrigins.all(o, !o.contains('://') || o.lowerAscii() == o)"),
    ),
    info(
        LintCode::OriginDefaultPort,
        "BC102",
        "origin-default-port",
        "an allowed origin writes the scheme's default port, which browsers leave out",
        cel(
            "r.allowedOrigins.all(o, !o.lowerAscii().matches('^(http|ws)://[^/]*:80$') && !o.lowerAscii().matches('^(https|wss)://[^/]*:443$'))",
        ),
    ),
    info(
        LintCode::OriginTrailingDot,
        "BC103",
        "origin-trailing-dot",
        "an allowed origin's host ends with a dot, which only pages opened at the dotted name send",
        cel("r.allowedOrigins.all(o, !o.matches('^[^/]*://[^/]+[.](:[^/:]*)?$'))"),
    ),
    info(
        LintCode::OriginNoScheme,
        "BC104",
        "origin-no-scheme",
        "an allowed origin has no scheme, but browsers always send one",
        cel(
            "r.allowedOrigins.all(o, o == '*' || o == '' || o.lowerAscii() == 'null' || o.contains('://'))",
        ),
    ),
    info(
        LintCode::OriginNull,
        "BC105",
        "origin-null",
        "`null` is allowed, which any page can send from a sandboxed frame",
        cel("r.allowedOrigins.all(o, o.lowerAscii() != 'null')"),
    ),
    info(
        LintCode::StarOriginWithCredentials,
        "BC110",
        "star-origin-with-credentials",
        "`*` origin in a rule that pages send credentials to; browsers refuse `Access-Control-Allow-Origin: *` with credentials",
        None,
    ),
    info(
        LintCode::WildcardHeadersLiteral,
        "BC120",
        "wildcard-headers-literal",
        "`*` allowed headers on a store that answers a literal `*`, which by the Fetch standard never covers Authorization (Chromium 156 deviates and lets it)",
        cel_on(
            Target::Garage,
            "!has(r.allowedHeaders) || !('*' in r.allowedHeaders) || r.allowedHeaders.exists(h, h.lowerAscii() == 'authorization')",
        ),
    ),
    info(
        LintCode::MaxAgeAboveChromiumCap,
        "BC130",
        "max-age-above-chromium-cap",
        "maxAgeSeconds above 7200, which Chromium caps to 7200",
        cel("!has(r.maxAgeSeconds) || r.maxAgeSeconds <= 7200 || r.maxAgeSeconds > 86400"),
    ),
    info(
        LintCode::MaxAgeAboveFirefoxCap,
        "BC131",
        "max-age-above-firefox-cap",
        "maxAgeSeconds above 86400, which Firefox caps to 86400 and Chromium to 7200",
        cel("!has(r.maxAgeSeconds) || r.maxAgeSeconds <= 86400"),
    ),
    info(
        LintCode::MaxAgeZero,
        "BC132",
        "max-age-zero",
        "maxAgeSeconds 0 turns the preflight cache off: every request preflights",
        cel("!has(r.maxAgeSeconds) || r.maxAgeSeconds != 0"),
    ),
    info(
        LintCode::ExposeSafelisted,
        "BC140",
        "expose-safelisted",
        "an exposed header is CORS-safelisted, so pages can read it anyway",
        cel(
            "!has(r.exposeHeaders) || r.exposeHeaders.all(h, !(h.lowerAscii() in ['cache-control', 'content-language', 'content-length', 'content-type', 'expires', 'last-modified', 'pragma']))",
        ),
    ),
    info(
        LintCode::RulePartlyShadowed,
        "BC150",
        "rule-partly-shadowed",
        "an earlier rule wins some (origin, method) classes of this rule",
        None,
    ),
    info(
        LintCode::ActualRequestsAnsweredEarlier,
        "BC151",
        "actual-requests-answered-earlier",
        "actual requests are answered by an earlier rule with other expose headers",
        None,
    ),
    info(
        LintCode::AnyOriginCanWrite,
        "BC160",
        "any-origin-can-write",
        "every origin may send PUT, POST or DELETE",
        cel(
            "!r.allowedOrigins.exists(o, o == '*' || o.matches('^[^/*]*://[*]$')) || !r.allowedMethods.exists(m, m in ['PUT', 'POST', 'DELETE'])",
        ),
    ),
    info(
        LintCode::TargetRefusesBucketCors,
        "BC201",
        "target-refuses-bucket-cors",
        "the store refuses PutBucketCors",
        cel_on(Target::Minio, "false"),
    ),
    info(
        LintCode::TargetOtherFormat,
        "BC202",
        "target-other-format",
        "the store takes another CORS document format",
        cel_on(Target::GcsInterop, "false"),
    ),
    // BC203 (target-literal-wildcard) retired: Garage 2.5.0, its only
    // store, matches a partial `*` (tests/tests/garage_capabilities.rs).
    info(
        LintCode::TargetRefusesPattern,
        "BC204",
        "target-refuses-pattern",
        "the store refuses this origin pattern",
        cel_on(
            Target::R2,
            "r.allowedOrigins.all(o, !o.matches('^[^/]*://.*:[^:]*[*][^:]*$'))",
        ),
    ),
    info(
        LintCode::TargetHeaderCase,
        "BC205",
        "target-header-case",
        "the store compares header names case-sensitively, and browsers send them in lower case",
        cel_on(
            Target::Garage,
            "!has(r.allowedHeaders) || r.allowedHeaders.all(h, h.lowerAscii() == h)",
        ),
    ),
    // BC206 (target-joins-origins) retired: Garage 2.5.0, its only store,
    // echoes the request's origin (tests/tests/garage_capabilities.rs).
    info(
        LintCode::TargetNoMaxAge,
        "BC207",
        "target-no-max-age",
        "the store never sends Access-Control-Max-Age",
        cel_on(
            Target::Garage,
            "!has(r.maxAgeSeconds) || r.maxAgeSeconds == 0",
        ),
    ),
    info(
        LintCode::TargetNoCredentials,
        "BC208",
        "target-no-credentials",
        "the store never sends Access-Control-Allow-Credentials",
        None,
    ),
    info(
        LintCode::TargetFirstOriginMatch,
        "BC209",
        "target-first-origin-match",
        "the store picks the first rule by origin alone, so a later rule for the same origin is never reached",
        None,
    ),
];

const fn info(
    code: LintCode,
    id: &'static str,
    name: &'static str,
    summary: &'static str,
    cel: Option<Cel>,
) -> LintInfo {
    LintInfo {
        code,
        id,
        name,
        summary,
        cel,
    }
}

impl LintCode {
    /// The catalog entry.
    pub fn info(self) -> &'static LintInfo {
        // Every code has exactly one entry (a unit test checks it).
        CATALOG
            .iter()
            .find(|i| i.code == self)
            .unwrap_or(&CATALOG[0])
    }

    /// `BC101` and so on.
    pub fn id(self) -> &'static str {
        self.info().id
    }

    /// `origin-upper-case` and so on.
    pub fn name(self) -> &'static str {
        self.info().name
    }
}

impl fmt::Display for LintCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.id(), self.name())
    }
}

/// One finding: what, where, why it matters in a browser, and the fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lint {
    /// The stable code.
    pub code: LintCode,
    /// Warning, or error for what a target store refuses outright.
    pub severity: Severity,
    /// The rule concerned; `None` for the whole configuration.
    pub rule: Option<RuleRef>,
    /// The field path in BucketCors spec terms (`allowedOrigins[1]`).
    pub field: Option<String>,
    /// What the configuration says.
    pub message: String,
    /// What a browser (or the store) does with it.
    pub why: String,
    /// The edit that fixes it.
    pub fix: String,
}

impl fmt::Display for Lint {
    /// `BC101 origin-upper-case: rule 0 (id "a"), allowedOrigins[0]: <message>; <why>; fix: <fix>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.code)?;
        match (&self.rule, &self.field) {
            (Some(rule), Some(field)) => write!(f, "{rule}, {field}: ")?,
            (Some(rule), None) => write!(f, "{rule}: ")?,
            (None, Some(field)) => write!(f, "{field}: ")?,
            (None, None) => {}
        }
        write!(f, "{}; {}; fix: {}", self.message, self.why, self.fix)
    }
}

/// What the lints may assume about the pages and the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LintOptions {
    /// The pages send credentials (cookies, `credentials: "include"`).
    pub credentials: bool,
    /// The store that will answer; `None`: the dialect's own provider.
    pub target: Option<Target>,
}

/// Runs every lint on `config` for `dialect`, then the target's checks when
/// `options.target` is set. The configuration should be valid (see
/// [`crate::validate()`]); lints on an invalid one are still total.
pub fn lint(config: &CorsConfig, dialect: Dialect, options: &LintOptions) -> Vec<Lint> {
    let mut out = Vec::new();
    for (index, rule) in config.rules.iter().enumerate() {
        let at = At { index, rule };
        origin_form::check(&at, &mut out);
        credentials::check(&at, dialect, options, &mut out);
        wildcard_headers::check(&at, options, &mut out);
        max_age::check(&at, &mut out);
        safelisted_expose::check(&at, &mut out);
        open_write::check(&at, &mut out);
    }
    shadowing::check(config, &mut out);
    if let Some(target) = options.target {
        crate::target::check(config, target, options, &mut out);
    }
    out
}

/// A rule and its position, for building lints.
#[derive(Debug, Clone, Copy)]
pub(crate) struct At<'a> {
    pub(crate) index: usize,
    pub(crate) rule: &'a Rule,
}

impl At<'_> {
    pub(crate) fn rule_ref(&self) -> RuleRef {
        RuleRef {
            index: self.index,
            id: self.rule.id.clone(),
        }
    }

    /// A warning about `field` of this rule.
    pub(crate) fn warning(
        &self,
        code: LintCode,
        field: Option<String>,
        message: String,
        why: &str,
        fix: String,
    ) -> Lint {
        Lint {
            code,
            severity: Severity::Warning,
            rule: Some(self.rule_ref()),
            field,
            message,
            why: why.to_owned(),
            fix,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_has_one_entry_per_code_with_unique_ids() {
        let mut ids: Vec<&str> = CATALOG.iter().map(|i| i.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), CATALOG.len());
        for entry in CATALOG {
            assert_eq!(entry.code.info(), entry);
        }
    }
}
