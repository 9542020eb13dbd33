//! RuleSet: the serialized form published to the edge (issue item 4) and
//! its revision over the canonical form.

mod common;

use bucketcors_engine::{CorsConfig, Dialect, Request, RuleSet, RuleSetError, canonical, revision};
use common::{answer, config, rule};

fn sample() -> CorsConfig {
    let mut r = rule(
        &["https://*.example.com"],
        &["GET", "PUT"],
        &["X-Amz-Date", "content-type"],
    );
    r.id = Some("uploads".into());
    r.max_age_seconds = Some(60);
    config(vec![r])
}

#[test]
fn round_trips_through_json_and_compiles() {
    let rs = RuleSet::new(Dialect::S3, sample()).unwrap();
    assert!(rs.revision.starts_with("sha256:") && rs.revision.len() == 7 + 64);
    let json = rs.to_json();
    let back = RuleSet::from_json(&json).unwrap();
    assert_eq!(back, rs);
    let got = answer(
        &back.compile(),
        &Request::preflight("https://a.example.com", "PUT"),
    );
    assert_eq!(got.status, 200);
}

#[test]
fn equal_meaning_gives_equal_revision() {
    let a = sample();
    let mut b = sample();
    b.rules[0].allowed_headers = vec!["Content-Type".into(), "x-amz-date".into()];
    assert_eq!(revision(Dialect::S3, &a), revision(Dialect::S3, &b));
    assert_eq!(canonical(Dialect::S3, &a), canonical(Dialect::S3, &b));
}

#[test]
fn rule_id_counts_for_s3_only() {
    // S3 stores and returns IDs, so renaming one is a change to apply; OSS
    // has nowhere to keep them.
    let a = sample();
    let mut b = sample();
    b.rules[0].id = Some("other".into());
    assert_ne!(revision(Dialect::S3, &a), revision(Dialect::S3, &b));
    assert_eq!(revision(Dialect::Oss, &a), revision(Dialect::Oss, &b));
}

#[test]
fn different_meaning_or_dialect_gives_different_revision() {
    let a = sample();
    let mut b = sample();
    b.rules[0].allowed_methods = vec!["PUT".into(), "GET".into()];
    assert_ne!(revision(Dialect::S3, &a), revision(Dialect::S3, &b));
    let mut c = sample();
    c.rules[0].max_age_seconds = Some(61);
    assert_ne!(revision(Dialect::S3, &a), revision(Dialect::S3, &c));
    assert_ne!(revision(Dialect::S3, &a), revision(Dialect::Oss, &a));
}

#[test]
fn refuses_invalid_configuration() {
    let bad = config(vec![rule(&["*"], &["PATCH"], &[])]);
    let report = RuleSet::new(Dialect::S3, bad.clone()).unwrap_err();
    assert_eq!(report.errors.len(), 1);
    // Even with a correct revision, from_json refuses it.
    let forged = RuleSet {
        dialect: Dialect::S3,
        revision: revision(Dialect::S3, &bad),
        config: bad,
    };
    let json = serde_json::to_string(&forged).unwrap();
    assert!(matches!(
        RuleSet::from_json(&json),
        Err(RuleSetError::Invalid(_))
    ));
}

#[test]
fn refuses_wrong_revision_and_bad_json() {
    let mut rs = RuleSet::new(Dialect::Oss, config(vec![rule(&["*"], &["GET"], &[])])).unwrap();
    rs.revision = "sha256:0000".into();
    let err = RuleSet::from_json(&rs.to_json()).unwrap_err();
    assert!(matches!(err, RuleSetError::RevisionMismatch { .. }));
    assert!(err.to_string().contains("sha256:0000"));
    assert!(matches!(
        RuleSet::from_json("{"),
        Err(RuleSetError::Json(_))
    ));
}
