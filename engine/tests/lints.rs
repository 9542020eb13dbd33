//! One test per lint: a configuration that triggers it and a near-identical
//! one that does not. Expectations come from the browser rules of spec
//! section 7 and the store facts of section 8, not from the lint code.

mod common;

use bucketcors_engine::lint::{LintCode, LintOptions, lint};
use bucketcors_engine::{CorsConfig, Dialect, Rule, Severity, Target, validate};
use common::{config, rule};

fn codes(c: &CorsConfig, d: Dialect, o: &LintOptions) -> Vec<LintCode> {
    assert!(
        validate(c, d).is_valid(),
        "the test configuration must be valid: {}",
        validate(c, d)
    );
    lint(c, d, o).into_iter().map(|l| l.code).collect()
}

fn s3(c: &CorsConfig) -> Vec<LintCode> {
    codes(c, Dialect::S3, &LintOptions::default())
}

fn one(origins: &[&str], methods: &[&str], headers: &[&str]) -> CorsConfig {
    config(vec![rule(origins, methods, headers)])
}

/// Asserts `bad` yields `code` (once, naming `field` of rule 0) and `good` does not.
fn pair(
    code: LintCode,
    field: &str,
    bad: &CorsConfig,
    good: &CorsConfig,
    d: Dialect,
    o: &LintOptions,
) {
    let found = lint(bad, d, o);
    let hits: Vec<_> = found.iter().filter(|l| l.code == code).collect();
    assert_eq!(hits.len(), 1, "{code}: expected one lint, got {found:#?}");
    let hit = hits[0];
    assert_eq!(hit.field.as_deref(), Some(field), "{hit}");
    assert_eq!(hit.rule.as_ref().map(|r| r.index), Some(0), "{hit}");
    assert!(!hit.why.is_empty() && !hit.fix.is_empty(), "{hit}");
    assert!(
        !codes(good, d, o).contains(&code),
        "{code} on the good twin: {:#?}",
        lint(good, d, o)
    );
}

const GET: &[&str] = &["GET"];

#[test]
fn bc101_upper_case_origin() {
    pair(
        LintCode::OriginUpperCase,
        "allowedOrigins[0]",
        &one(&["https://App.example.com"], GET, &[]),
        &one(&["https://app.example.com"], GET, &[]),
        Dialect::S3,
        &LintOptions::default(),
    );
    let l = lint(
        &one(&["https://App.example.com"], GET, &[]),
        Dialect::S3,
        &LintOptions::default(),
    );
    assert!(l[0].fix.contains("https://app.example.com"), "{}", l[0]);
}

#[test]
fn bc102_default_port_written_out() {
    for (bad, good) in [
        (
            "https://app.example.com:443",
            "https://app.example.com:8443",
        ),
        ("http://app.example.com:80", "http://app.example.com:8080"),
    ] {
        pair(
            LintCode::OriginDefaultPort,
            "allowedOrigins[0]",
            &one(&[bad], GET, &[]),
            &one(&[good], GET, &[]),
            Dialect::S3,
            &LintOptions::default(),
        );
    }
}

#[test]
fn bc103_trailing_dot() {
    pair(
        LintCode::OriginTrailingDot,
        "allowedOrigins[0]",
        &one(&["https://app.example.com."], GET, &[]),
        &one(&["https://app.example.com"], GET, &[]),
        Dialect::S3,
        &LintOptions::default(),
    );
}

#[test]
fn bc104_no_scheme() {
    pair(
        LintCode::OriginNoScheme,
        "allowedOrigins[0]",
        &one(&["app.example.com"], GET, &[]),
        &one(&["https://app.example.com"], GET, &[]),
        Dialect::S3,
        &LintOptions::default(),
    );
}

#[test]
fn bc105_null_origin() {
    pair(
        LintCode::OriginNull,
        "allowedOrigins[0]",
        &one(&["null"], GET, &[]),
        &one(&["https://null.example.com"], GET, &[]),
        Dialect::S3,
        &LintOptions::default(),
    );
}

#[test]
fn bc110_star_origin_with_credentials() {
    let creds = LintOptions {
        credentials: true,
        ..LintOptions::default()
    };
    pair(
        LintCode::StarOriginWithCredentials,
        "allowedOrigins[0]",
        &one(&["*"], GET, &[]),
        &one(&["https://app.example.com"], GET, &[]),
        Dialect::S3,
        &creds,
    );
    // Without credentials `*` is fine, and OSS echoes the origin for `*`.
    assert!(!s3(&one(&["*"], GET, &[])).contains(&LintCode::StarOriginWithCredentials));
    assert!(
        !codes(&one(&["*"], GET, &[]), Dialect::Oss, &creds)
            .contains(&LintCode::StarOriginWithCredentials)
    );
}

#[test]
fn bc120_wildcard_headers_on_a_literal_store() {
    let garage = LintOptions {
        target: Some(Target::Garage),
        ..LintOptions::default()
    };
    pair(
        LintCode::WildcardHeadersLiteral,
        "allowedHeaders[0]",
        &one(&["https://app.example.com"], &["PUT"], &["*"]),
        &one(
            &["https://app.example.com"],
            &["PUT"],
            &["*", "authorization"],
        ),
        Dialect::S3,
        &garage,
    );
    // S3 echoes the requested names: `*` is fine there.
    assert!(
        !s3(&one(&["https://app.example.com"], &["PUT"], &["*"]))
            .contains(&LintCode::WildcardHeadersLiteral)
    );
}

fn with_max_age(seconds: u64) -> CorsConfig {
    let mut r = rule(&["https://app.example.com"], &["PUT"], &["content-type"]);
    r.max_age_seconds = Some(seconds);
    config(vec![r])
}

#[test]
fn bc130_bc131_bc132_max_age() {
    let o = LintOptions::default();
    pair(
        LintCode::MaxAgeAboveChromiumCap,
        "maxAgeSeconds",
        &with_max_age(7_201),
        &with_max_age(7_200),
        Dialect::S3,
        &o,
    );
    pair(
        LintCode::MaxAgeAboveFirefoxCap,
        "maxAgeSeconds",
        &with_max_age(86_401),
        &with_max_age(86_400),
        Dialect::S3,
        &o,
    );
    pair(
        LintCode::MaxAgeZero,
        "maxAgeSeconds",
        &with_max_age(0),
        &with_max_age(1),
        Dialect::S3,
        &o,
    );
    // Above both caps is one lint, not two.
    assert_eq!(
        s3(&with_max_age(100_000)),
        vec![LintCode::MaxAgeAboveFirefoxCap]
    );
}

#[test]
fn bc140_exposed_safelisted_header() {
    let expose = |h: &str| {
        let mut r = rule(&["https://app.example.com"], GET, &[]);
        r.expose_headers = vec![h.to_owned()];
        config(vec![r])
    };
    pair(
        LintCode::ExposeSafelisted,
        "exposeHeaders[0]",
        &expose("Content-Length"),
        &expose("ETag"),
        Dialect::S3,
        &LintOptions::default(),
    );
}

#[test]
fn bc150_partly_shadowed_names_the_winner() {
    // Rule 0 wins GET from app; rule 1 still gets PUT.
    let bad = config(vec![
        rule(&["https://app.example.com"], &["GET"], &[]),
        rule(
            &["https://app.example.com", "https://b.example.com"],
            &["GET", "PUT"],
            &[],
        ),
    ]);
    let good = config(vec![
        rule(&["https://app.example.com"], &["GET"], &["x-only-rule-0"]),
        rule(
            &["https://app.example.com", "https://b.example.com"],
            &["GET", "PUT"],
            &["content-type"],
        ),
    ]);
    let found = lint(&bad, Dialect::S3, &LintOptions::default());
    let hit = found
        .iter()
        .find(|l| l.code == LintCode::RulePartlyShadowed)
        .unwrap_or_else(|| panic!("{found:#?}"));
    assert_eq!(hit.rule.as_ref().map(|r| r.index), Some(1));
    assert_eq!(hit.field.as_deref(), Some("allowedOrigins[0]"));
    assert!(hit.message.contains("GET goes to rule 0"), "{hit}");
    assert!(!hit.message.contains("PUT"), "{hit}");
    assert!(
        !s3(&good).contains(&LintCode::RulePartlyShadowed),
        "{:#?}",
        lint(&good, Dialect::S3, &LintOptions::default())
    );
    // A rule one earlier rule shadows whole stays validation's warning only.
    let whole = config(vec![
        rule(&["*"], &["GET", "PUT"], &[]),
        rule(&["https://app.example.com"], &["GET"], &[]),
    ]);
    assert_eq!(validate(&whole, Dialect::S3).warnings.len(), 1);
    assert!(!s3(&whole).contains(&LintCode::RulePartlyShadowed));
    // Also when another earlier rule wins some classes first.
    let whole = config(vec![
        rule(&["https://app.example.com"], &["GET"], &[]),
        rule(&["*"], &["GET", "PUT"], &[]),
        rule(&["https://app.example.com"], &["GET", "PUT"], &[]),
    ]);
    let warnings = validate(&whole, Dialect::S3).warnings;
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert!(warnings[0].message.contains("rule 1"), "{}", warnings[0]);
    assert!(
        !s3(&whole).contains(&LintCode::RulePartlyShadowed),
        "{:#?}",
        lint(&whole, Dialect::S3, &LintOptions::default())
    );
}

#[test]
fn bc150_unreachable_through_two_earlier_rules() {
    let c = config(vec![
        rule(&["https://app.example.com"], &["GET"], &[]),
        rule(&["https://app.example.com"], &["PUT"], &[]),
        rule(&["https://app.example.com"], &["GET", "PUT"], &[]),
    ]);
    let found = lint(&c, Dialect::S3, &LintOptions::default());
    let hit = found
        .iter()
        .find(|l| l.code == LintCode::RulePartlyShadowed)
        .expect("lint");
    assert_eq!(hit.rule.as_ref().map(|r| r.index), Some(2));
    assert!(
        hit.message.contains("GET goes to rule 0") && hit.message.contains("PUT goes to rule 1"),
        "{hit}"
    );
    assert!(hit.message.contains("never used"), "{hit}");
}

#[test]
fn bc151_actual_requests_answered_by_an_earlier_rule() {
    let two = |expose0: &[&str]| {
        let mut r0 = rule(&["https://app.example.com"], &["GET", "PUT"], &[]);
        r0.expose_headers = expose0.iter().map(|s| s.to_string()).collect();
        let mut r1 = rule(&["https://app.example.com"], &["PUT"], &["content-type"]);
        r1.expose_headers = vec!["ETag".into()];
        config(vec![r0, r1])
    };
    let found = lint(&two(&[]), Dialect::S3, &LintOptions::default());
    let hit = found
        .iter()
        .find(|l| l.code == LintCode::ActualRequestsAnsweredEarlier)
        .unwrap_or_else(|| panic!("{found:#?}"));
    assert_eq!(hit.rule.as_ref().map(|r| r.index), Some(1));
    assert!(
        hit.message.contains("PUT") && hit.message.contains("rule 0"),
        "{hit}"
    );
    assert!(!s3(&two(&["etag"])).contains(&LintCode::ActualRequestsAnsweredEarlier));
}

#[test]
fn bc160_any_origin_can_write() {
    pair(
        LintCode::AnyOriginCanWrite,
        "allowedOrigins[0]",
        &one(&["*"], &["GET", "PUT"], &[]),
        &one(&["*"], &["GET", "HEAD"], &[]),
        Dialect::S3,
        &LintOptions::default(),
    );
    assert!(s3(&one(&["https://*"], &["DELETE"], &[])).contains(&LintCode::AnyOriginCanWrite));
    assert!(
        !s3(&one(&["https://*.example.com"], &["DELETE"], &[]))
            .contains(&LintCode::AnyOriginCanWrite)
    );
}

#[test]
fn a_clean_configuration_has_no_lints() {
    let mut r = rule(
        &["https://app.example.com"],
        &["GET", "PUT"],
        &["content-type", "x-amz-*"],
    );
    r.expose_headers = vec!["ETag".into()];
    r.max_age_seconds = Some(600);
    let c = config(vec![r]);
    for d in [Dialect::S3, Dialect::Oss] {
        assert_eq!(
            codes(
                &c,
                d,
                &LintOptions {
                    credentials: true,
                    target: None
                }
            ),
            vec![]
        );
    }
}

fn target(c: &CorsConfig, t: Target) -> Vec<bucketcors_engine::Lint> {
    lint(
        c,
        t.dialect(),
        &LintOptions {
            credentials: false,
            target: Some(t),
        },
    )
}

fn target_codes(c: &CorsConfig, t: Target) -> Vec<LintCode> {
    target(c, t).into_iter().map(|l| l.code).collect()
}

#[test]
fn minio_and_gcs_refuse_the_document() {
    let c = one(&["https://app.example.com"], GET, &[]);
    let minio = target(&c, Target::Minio);
    assert_eq!(minio.len(), 1, "{minio:#?}");
    assert_eq!(
        (minio[0].code, minio[0].severity),
        (LintCode::TargetRefusesBucketCors, Severity::Error)
    );
    assert!(
        minio[0].why.contains("NotImplemented") && minio[0].why.contains("minio/minio#20995"),
        "{}",
        minio[0]
    );
    assert_eq!(
        target_codes(&c, Target::GcsInterop),
        vec![LintCode::TargetOtherFormat]
    );
    assert_eq!(target_codes(&c, Target::S3), vec![]);
}

#[test]
fn r2_refuses_a_star_port() {
    let bad = one(&["http://localhost:*"], GET, &[]);
    let good = one(&["https://*.example.com"], GET, &[]);
    let found = target(&bad, Target::R2);
    assert_eq!(
        found
            .iter()
            .map(|l| (l.code, l.severity))
            .collect::<Vec<_>>(),
        vec![(LintCode::TargetRefusesPattern, Severity::Error)]
    );
    assert_eq!(target_codes(&good, Target::R2), vec![]);
}

#[test]
fn garage_differences_each_have_a_lint() {
    let clean = one(
        &["https://app.example.com"],
        &["PUT"],
        &["content-type", "authorization"],
    );
    assert_eq!(target_codes(&clean, Target::Garage), vec![]);
    // Garage 2.5.0 matches a partial `*` and echoes the request's origin
    // (tests/tests/garage_capabilities.rs): no lint for these.
    for same in [
        one(&["https://*.example.com"], &["PUT"], &["content-type"]),
        one(&["https://app.example.com"], &["PUT"], &["x-amz-*"]),
        one(
            &["https://app.example.com", "https://b.example.com"],
            &["PUT"],
            &["content-type"],
        ),
    ] {
        assert_eq!(target_codes(&same, Target::Garage), vec![], "{same:?}");
    }
    let cases: Vec<(CorsConfig, LintCode)> = vec![
        (
            one(&["https://app.example.com"], &["PUT"], &["Content-Type"]),
            LintCode::TargetHeaderCase,
        ),
        (with_max_age(600), LintCode::TargetNoMaxAge),
    ];
    for (c, code) in cases {
        let found = target_codes(&c, Target::Garage);
        assert!(found.contains(&code), "{code}: {found:?}");
        // The same configuration on S3 has no target lint.
        assert!(
            target_codes(&c, Target::S3)
                .iter()
                .all(|c| c.id().starts_with("BC1")),
            "{c:?}"
        );
    }
    let creds = lint(
        &clean,
        Dialect::S3,
        &LintOptions {
            credentials: true,
            target: Some(Target::Garage),
        },
    );
    assert!(
        creds
            .iter()
            .any(|l| l.code == LintCode::TargetNoCredentials),
        "{creds:#?}"
    );
}

#[test]
fn ceph_first_origin_match_names_the_rule_that_takes_the_origin() {
    let bad = config(vec![
        rule(&["https://app.example.com"], &["GET"], &[]),
        rule(&["https://app.example.com"], &["PUT"], &[]),
    ]);
    let good = config(vec![rule(
        &["https://app.example.com"],
        &["GET", "PUT"],
        &[],
    )]);
    let found = target(&bad, Target::Ceph);
    let hit = found
        .iter()
        .find(|l| l.code == LintCode::TargetFirstOriginMatch)
        .expect("lint");
    assert_eq!(hit.rule.as_ref().map(|r| r.index), Some(1));
    assert!(
        hit.message.contains("rule 0")
            && hit.why.contains("PUT")
            && hit.why.contains("ceph/ceph#69190"),
        "{hit}"
    );
    assert_eq!(target_codes(&good, Target::Ceph), vec![]);
}

#[test]
fn every_lint_prints_code_rule_field_why_and_fix() {
    let c = one(&["https://App.example.com"], GET, &[]);
    let text = lint(&c, Dialect::S3, &LintOptions::default())[0].to_string();
    assert!(
        text.starts_with("BC101 origin-upper-case: rule 0, allowedOrigins[0]: "),
        "{text}"
    );
    assert!(
        text.contains("; fix: write \"https://app.example.com\""),
        "{text}"
    );
    let _ = Rule::default();
}
