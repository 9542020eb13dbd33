//! Spec section 1 (the rule model, limits, what bucketcors rejects) and the
//! limits of section 6: one test per statement.

mod common;

use bucketcors_engine::{
    Compiled, CorsConfig, Diagnostic, Dialect, Report, Rule, RuleRef, Severity, validate,
};
use common::{config, rule};

fn ok_rule() -> Rule {
    rule(&["https://app.example.com"], &["GET"], &[])
}

fn errors(c: &CorsConfig, d: Dialect) -> Vec<Diagnostic> {
    validate(c, d).errors
}

fn only_error(c: &CorsConfig, d: Dialect) -> Diagnostic {
    let e = errors(c, d);
    assert_eq!(e.len(), 1, "expected one error, got {e:#?}");
    e.into_iter().next().unwrap()
}

#[test]
fn section1_a_plain_rule_is_valid_in_both_dialects() {
    for d in [Dialect::S3, Dialect::Oss] {
        let r = validate(&config(vec![ok_rule()]), d);
        assert!(r.is_valid() && r.warnings.is_empty(), "{r}");
    }
}

#[test]
fn section1_origin_forms_exact_star_and_one_star_pattern_are_valid() {
    let c = config(vec![rule(
        &[
            "https://app.example.com",
            "*",
            "https://*.example.com",
            "localhost:4566",
        ],
        &["GET"],
        &[],
    )]);
    assert!(validate(&c, Dialect::S3).is_valid());
}

#[test]
fn section1_origin_with_two_stars_is_refused_naming_rule_and_field() {
    let mut r = rule(
        &["https://ok.example.com", "https://*.*.example.com"],
        &["GET"],
        &[],
    );
    r.id = Some("uploads".into());
    let e = only_error(&config(vec![r]), Dialect::S3);
    assert_eq!(e.severity, Severity::Error);
    assert_eq!(
        e.rule,
        Some(RuleRef {
            index: 0,
            id: Some("uploads".into())
        })
    );
    assert_eq!(e.field.as_deref(), Some("allowedOrigins[1]"));
    let shown = e.to_string();
    assert!(
        shown.starts_with("rule 0 (id \"uploads\"), allowedOrigins[1]: "),
        "{shown}"
    );
    assert!(shown.contains("at most one `*`"), "{shown}");
}

#[test]
fn section1_methods_are_exactly_get_put_post_delete_head() {
    let c = config(vec![rule(
        &["*"],
        &["GET", "PUT", "POST", "DELETE", "HEAD"],
        &[],
    )]);
    assert!(validate(&c, Dialect::Oss).is_valid());
    for bad in ["MYMETHOD", "PATCH", "OPTIONS", "get", "Get", ""] {
        let e = only_error(&config(vec![rule(&["*"], &["GET", bad], &[])]), Dialect::S3);
        assert_eq!(e.field.as_deref(), Some("allowedMethods[1]"));
        assert!(
            e.message.contains(&format!("Unsupported method is {bad}")),
            "{}",
            e.message
        );
    }
    let e = only_error(&config(vec![rule(&["*"], &["get"], &[])]), Dialect::S3);
    assert!(e.message.contains("upper case: GET"), "{}", e.message);
}

#[test]
fn section1_allowed_header_with_two_stars_is_refused() {
    let e = only_error(
        &config(vec![rule(&["*"], &["GET"], &["x-amz-*", "x-*-*"])]),
        Dialect::S3,
    );
    assert_eq!(e.field.as_deref(), Some("allowedHeaders[1]"));
    assert!(
        validate(
            &config(vec![rule(&["*"], &["GET"], &["*", "x-oss-*"])]),
            Dialect::Oss
        )
        .is_valid()
    );
}

#[test]
fn section1_expose_header_with_star_is_refused() {
    let mut r = ok_rule();
    r.expose_headers = vec!["ETag".into(), "x-amz-*".into()];
    let e = only_error(&config(vec![r]), Dialect::Oss);
    assert_eq!(e.field.as_deref(), Some("exposeHeaders[1]"));
    assert!(e.message.contains("`*`"));
}

#[test]
fn section1_max_age_zero_is_valid() {
    let mut r = ok_rule();
    r.max_age_seconds = Some(0);
    assert!(validate(&config(vec![r]), Dialect::S3).is_valid());
}

#[test]
fn section1_s3_id_up_to_255_characters() {
    let mut r = ok_rule();
    r.id = Some("é".repeat(255));
    assert!(validate(&config(vec![r.clone()]), Dialect::S3).is_valid());
    r.id = Some("x".repeat(256));
    let e = only_error(&config(vec![r]), Dialect::S3);
    assert_eq!(e.field.as_deref(), Some("id"));
    assert!(e.message.contains("255"));
}

#[test]
fn section1_id_on_oss_is_a_warning_because_oss_has_no_place_for_it() {
    let mut r = ok_rule();
    r.id = Some("uploads".into());
    let report = validate(&config(vec![r]), Dialect::Oss);
    assert!(report.is_valid());
    assert_eq!(report.warnings.len(), 1);
    assert_eq!(report.warnings[0].field.as_deref(), Some("id"));
}

#[test]
fn section1_response_vary_is_oss_only() {
    let c = CorsConfig {
        rules: vec![ok_rule()],
        response_vary: true,
    };
    assert!(validate(&c, Dialect::Oss).is_valid());
    let e = only_error(&c, Dialect::S3);
    assert_eq!(e.field.as_deref(), Some("responseVary"));
    assert!(e.rule.is_none());
}

#[test]
fn section1_limits_oss_10_rules_s3_100_rules() {
    let many = |n: usize| {
        config(
            (0..n)
                .map(|i| rule(&[&format!("https://h{i}.example.com")], &["GET"], &[]))
                .collect(),
        )
    };
    assert!(validate(&many(10), Dialect::Oss).is_valid());
    let e = only_error(&many(11), Dialect::Oss);
    assert!(e.message.contains("at most 10"), "{}", e.message);
    assert!(validate(&many(100), Dialect::S3).is_valid());
    let e = only_error(&many(101), Dialect::S3);
    assert!(e.message.contains("at most 100"), "{}", e.message);
}

#[test]
fn section1_limits_oss_16kb_s3_64kb_document() {
    // One rule with many origins: 300 origins of ~73 bytes (printed) of XML each is
    // about 21 KB, over OSS's limit and under S3's; 1000 are over S3's.
    let origins: Vec<String> = (0..300)
        .map(|i| format!("https://host-number-{i:04}.example.com"))
        .collect();
    let refs: Vec<&str> = origins.iter().map(String::as_str).collect();
    let c = config(vec![rule(&refs, &["GET"], &[])]);
    let e = only_error(&c, Dialect::Oss);
    assert!(e.message.contains("at most 16384"), "{}", e.message);
    assert!(validate(&c, Dialect::S3).is_valid());
    let origins: Vec<String> = (0..1000)
        .map(|i| format!("https://host-number-{i:04}.example.com"))
        .collect();
    let refs: Vec<&str> = origins.iter().map(String::as_str).collect();
    let e = only_error(&config(vec![rule(&refs, &["GET"], &[])]), Dialect::S3);
    assert!(e.message.contains("at most 65536"), "{}", e.message);
}

#[test]
fn section1_empty_rule_list_is_invalid() {
    for d in [Dialect::S3, Dialect::Oss] {
        let e = only_error(&config(vec![]), d);
        assert_eq!(e.field.as_deref(), Some("rules"));
    }
}

#[test]
fn section1_rule_needs_an_origin_and_a_method() {
    let e = errors(&config(vec![rule(&[], &[], &[])]), Dialect::S3);
    let fields: Vec<_> = e.iter().filter_map(|d| d.field.as_deref()).collect();
    assert_eq!(fields, ["allowedOrigins", "allowedMethods"]);
}

#[test]
fn section1_control_characters_and_crlf_are_refused_everywhere() {
    let bad = "https://a.example.com\r\nSet-Cookie: x";
    let mut r = rule(&[bad], &["GET\n"], &["x-a\u{7}"]);
    r.expose_headers = vec!["ETag\t".into()];
    r.id = Some("id\u{0}".into());
    let e = errors(&config(vec![r]), Dialect::S3);
    let fields: Vec<_> = e.iter().filter_map(|d| d.field.as_deref()).collect();
    assert_eq!(
        fields,
        [
            "id",
            "allowedOrigins[0]",
            "allowedMethods[0]",
            "allowedHeaders[0]",
            "exposeHeaders[0]"
        ]
    );
    assert!(e.iter().all(|d| d.message.contains("control character")));
}

#[test]
fn section1_empty_origin_is_refused() {
    let e = only_error(&config(vec![rule(&[""], &["GET"], &[])]), Dialect::S3);
    assert_eq!(e.field.as_deref(), Some("allowedOrigins[0]"));
    assert!(e.message.contains("empty"));
}

#[test]
fn section1_origin_with_path_or_trailing_slash_is_refused() {
    for (origin, what, fix) in [
        (
            "http://test.origin.com/",
            "trailing slash",
            "\"http://test.origin.com\"",
        ),
        (
            "https://a.example.com/app",
            "path",
            "\"https://a.example.com\"",
        ),
        (
            "https://*.example.com/",
            "trailing slash",
            "\"https://*.example.com\"",
        ),
        ("localhost:4566/x/", "path", "\"localhost:4566\""),
    ] {
        let e = only_error(&config(vec![rule(&[origin], &["GET"], &[])]), Dialect::S3);
        assert!(e.message.contains(what), "{origin}: {}", e.message);
        assert!(e.message.contains(fix), "{origin}: {}", e.message);
    }
}

#[test]
fn section1_duplicate_rules_are_refused() {
    let mut second = rule(&["https://app.example.com"], &["GET"], &[]);
    second.id = Some("copy".into());
    let e = only_error(&config(vec![ok_rule(), second]), Dialect::S3);
    assert_eq!(e.rule.as_ref().map(|r| r.index), Some(1));
    assert!(e.message.contains("duplicates rule 0"), "{}", e.message);
    // Equal in meaning: header case and order do not matter.
    let a = rule(&["*"], &["PUT"], &["X-A", "x-b"]);
    let b = rule(&["*"], &["PUT"], &["x-b", "x-a"]);
    assert_eq!(errors(&config(vec![a, b]), Dialect::Oss).len(), 1);
}

#[test]
fn section1_rule_fully_shadowed_by_an_earlier_rule_is_a_warning() {
    let broad = rule(&["https://*.example.com"], &["GET", "PUT"], &["x-amz-*"]);
    let narrow = rule(&["https://app.example.com"], &["GET"], &["X-Amz-Date"]);
    let report = validate(&config(vec![broad.clone(), narrow.clone()]), Dialect::S3);
    assert!(report.is_valid(), "{report}");
    assert_eq!(report.warnings.len(), 1);
    assert_eq!(report.warnings[0].rule.as_ref().unwrap().index, 1);
    assert!(report.warnings[0].message.contains("rule 0"));
    // The other way round nothing is shadowed.
    let report = validate(&config(vec![narrow, broad]), Dialect::S3);
    assert!(report.warnings.is_empty(), "{report}");
    // A method the earlier rule lacks means no shadowing.
    let report = validate(
        &config(vec![
            rule(&["*"], &["GET"], &["*"]),
            rule(&["*"], &["PUT"], &[]),
        ]),
        Dialect::S3,
    );
    assert!(report.warnings.is_empty(), "{report}");
}

#[test]
fn section1_every_problem_is_reported_at_once() {
    let c = config(vec![
        rule(&["https://a/"], &["PATCH"], &[]),
        rule(&[""], &["get"], &["a**"]),
    ]);
    let report: Report = validate(&c, Dialect::S3);
    assert_eq!(report.errors.len(), 5, "{report}");
    assert!(
        report
            .to_string()
            .lines()
            .all(|l| l.starts_with("error: rule "))
    );
}

#[test]
fn section1_compiled_new_refuses_an_invalid_configuration_with_its_report() {
    let c = config(vec![rule(&["*"], &["PATCH"], &[])]);
    let report = Compiled::new(&c, Dialect::S3).unwrap_err();
    assert_eq!(report, validate(&c, Dialect::S3));
}

#[test]
fn section1_document_limit_is_exact_on_the_printed_document() {
    use bucketcors_engine::format::{Format, print};
    use bucketcors_engine::validate::document_size;
    for (dialect, format, limit, count) in [
        (Dialect::Oss, Format::OssXml, 16 * 1024, 200),
        (Dialect::S3, Format::S3Xml, 64 * 1024, 1000),
    ] {
        // Many origins, then pad the last one so the document is exactly
        // at the limit, then one byte over.
        let mut origins: Vec<String> = (0..count)
            .map(|i| format!("https://h{i}.example.com"))
            .collect();
        origins.push("https://pad".into());
        let mut r = rule(&[], &["GET"], &[]);
        r.allowed_origins = origins;
        let mut c = config(vec![r]);
        let base = document_size(&c, dialect);
        assert_eq!(base, print(&c, format).len());
        assert!(base < limit, "{dialect}: base {base}");
        c.rules[0]
            .allowed_origins
            .last_mut()
            .unwrap()
            .push_str(&"a".repeat(limit - base));
        assert_eq!(document_size(&c, dialect), limit);
        assert!(validate(&c, dialect).is_valid(), "{dialect} at the limit");
        c.rules[0].allowed_origins.last_mut().unwrap().push('a');
        let e = only_error(&c, dialect);
        assert!(
            e.message.contains(&format!("would be {} bytes", limit + 1)),
            "{}",
            e.message
        );
    }
}
