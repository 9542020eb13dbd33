//! Issue item 5: explanations say, per rule, why it matched or not.

mod common;

use bucketcors_engine::{Compiled, Dialect, Request, explain};
use common::{compile, config, rule};

#[test]
fn explains_origin_method_and_header_per_rule() {
    let mut first = rule(&["https://app.example.com"], &["GET"], &[]);
    first.id = Some("reads".into());
    let second = rule(&["https://*.example.com"], &["PUT"], &["x-amz-*"]);
    let third = rule(&["*"], &["PUT"], &["*"]);
    let c = compile(&config(vec![first, second, third]), Dialect::S3);
    let r = Request::preflight("https://app.example.com", "PUT")
        .with_request_headers("X-Amz-Date, X-Custom");
    let e = explain(&c, &r);
    let text = e.to_string();
    assert!(
        text.contains("rule 0 (id \"reads\") does not match"),
        "{text}"
    );
    assert!(
        text.contains("method \"PUT\" is not one of [\"GET\"]"),
        "{text}"
    );
    assert!(text.contains("rule 1 does not match"), "{text}");
    assert!(
        text.contains(
            "requested header \"x-custom\" matches none of the allowed headers [\"x-amz-*\"]"
        ),
        "{text}"
    );
    assert!(
        text.contains("requested header \"x-amz-date\" matches allowed header \"x-amz-*\""),
        "{text}"
    );
    assert!(text.contains("rule 2 matches"), "{text}");
    assert!(
        e.lines.last().unwrap().starts_with("answer: 200, rule 2"),
        "{text}"
    );
    // Serializes as a list of strings.
    let json = serde_json::to_value(&e).unwrap();
    assert_eq!(json.as_array().unwrap().len(), e.lines.len());
}

#[test]
fn explains_origin_mismatch_and_refusals() {
    let c = compile(
        &config(vec![rule(&["https://app.example.com"], &["GET"], &[])]),
        Dialect::Oss,
    );
    let text = explain(&c, &Request::preflight("http://app.example.com", "GET")).to_string();
    assert!(
        text.contains("matches none of the allowed origins [\"https://app.example.com\"]"),
        "{text}"
    );
    assert!(
        text.contains("answer: 403 AccessForbidden, because no rule allows this preflight"),
        "{text}"
    );
    let text = explain(&c, &Request::new("OPTIONS")).to_string();
    assert!(
        text.contains("no Origin header") && text.contains("answer: 400 BadRequest"),
        "{text}"
    );
    let text = explain(
        &Compiled::none(Dialect::S3),
        &Request::preflight("https://a", "GET"),
    )
    .to_string();
    assert!(text.contains("no CORS configuration"), "{text}");
    let text = explain(
        &c,
        &Request::new("GET").with_origin("https://app.example.com"),
    )
    .to_string();
    assert!(
        text.contains("rule 0 matches") && text.contains("CORS headers from rule 0"),
        "{text}"
    );
}

#[test]
fn explanation_agrees_with_decision() {
    let c = compile(
        &config(vec![
            rule(&["*"], &["GET"], &[]),
            rule(&["*"], &["PUT"], &[]),
        ]),
        Dialect::S3,
    );
    let r = Request::preflight("https://a", "PUT");
    let text = explain(&c, &r).to_string();
    assert_eq!(c.decide(&r).matched_rule(), Some(1));
    assert!(
        text.contains("rule 1 matches") && text.contains("rule 0 does not match"),
        "{text}"
    );
}
