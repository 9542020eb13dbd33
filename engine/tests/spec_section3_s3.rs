//! Spec section 3 (S3 dialect responses): one test per statement.

mod common;

use bucketcors_engine::{Compiled, Dialect, Request, ResourceType};
use common::{answer, compile, config, rule};

const NOT_ALLOWED: &str = "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.";
const VARY: &str = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method";

fn s3(rules: Vec<bucketcors_engine::Rule>) -> Compiled {
    compile(&config(rules), Dialect::S3)
}

fn full_rule() -> bucketcors_engine::Rule {
    let mut r = rule(
        &["https://app.example.com"],
        &["PUT", "GET", "HEAD"],
        &["x-amz-*", "content-type"],
    );
    r.expose_headers = vec!["ETag".into(), "x-amz-request-id".into()];
    r.max_age_seconds = Some(3000);
    r
}

#[test]
fn section3_preflight_matched_200_empty_body_headers_in_order() {
    let c = s3(vec![full_rule()]);
    let r = Request::preflight("https://app.example.com", "PUT")
        .with_request_headers("X-Amz-Date, Content-Type");
    let got = answer(&c, &r);
    assert_eq!(got.status, 200);
    assert_eq!(got.body, None);
    let want: Vec<(String, String)> = [
        ("Access-Control-Allow-Origin", "https://app.example.com"),
        ("Access-Control-Allow-Credentials", "true"),
        ("Access-Control-Allow-Methods", "PUT, GET, HEAD"),
        ("Access-Control-Allow-Headers", "x-amz-date, content-type"),
        ("Access-Control-Expose-Headers", "ETag, x-amz-request-id"),
        ("Access-Control-Max-Age", "3000"),
        ("Vary", VARY),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(got.headers, want);
    assert!(c.decide(&r).is_preflight());
}

#[test]
fn section3_allow_origin_star_when_first_matching_origin_is_star() {
    let c = s3(vec![rule(&["*", "https://app.example.com"], &["GET"], &[])]);
    let got = answer(&c, &Request::preflight("https://app.example.com", "GET"));
    assert_eq!(got.header("Access-Control-Allow-Origin"), Some("*"));
    assert_eq!(got.header("Access-Control-Allow-Credentials"), None);
}

#[test]
fn section3_allow_origin_echoed_with_credentials_when_first_matching_origin_is_not_star() {
    let c = s3(vec![rule(&["https://app.example.com", "*"], &["GET"], &[])]);
    let got = answer(&c, &Request::preflight("https://app.example.com", "GET"));
    assert_eq!(
        got.header("Access-Control-Allow-Origin"),
        Some("https://app.example.com")
    );
    assert_eq!(got.header("Access-Control-Allow-Credentials"), Some("true"));
    // Another origin reaches the `*` first.
    let got = answer(&c, &Request::preflight("https://other.example.com", "GET"));
    assert_eq!(got.header("Access-Control-Allow-Origin"), Some("*"));
    // A one-star pattern is not `*`: echoed.
    let c = s3(vec![rule(&["https://*"], &["GET"], &[])]);
    let got = answer(&c, &Request::preflight("https://x.example.com", "GET"));
    assert_eq!(
        got.header("Access-Control-Allow-Origin"),
        Some("https://x.example.com")
    );
}

#[test]
fn section3_allow_methods_is_the_rules_whole_list_not_the_requested_method() {
    let c = s3(vec![rule(&["*"], &["DELETE", "GET", "POST"], &[])]);
    let got = answer(&c, &Request::preflight("https://a", "GET"));
    assert_eq!(
        got.header("Access-Control-Allow-Methods"),
        Some("DELETE, GET, POST")
    );
}

#[test]
fn section3_allow_headers_only_when_requested_lowercased_in_request_order_also_for_star() {
    let c = s3(vec![rule(&["*"], &["GET"], &["*"])]);
    let got = answer(&c, &Request::preflight("https://a", "GET"));
    assert_eq!(got.header("Access-Control-Allow-Headers"), None);
    let got = answer(
        &c,
        &Request::preflight("https://a", "GET").with_request_headers("X-B,  X-A ,content-TYPE"),
    );
    assert_eq!(
        got.header("Access-Control-Allow-Headers"),
        Some("x-b, x-a, content-type")
    );
}

#[test]
fn section3_expose_headers_and_max_age_only_when_the_rule_has_them() {
    let c = s3(vec![rule(&["*"], &["GET"], &[])]);
    let got = answer(&c, &Request::preflight("https://a", "GET"));
    assert_eq!(
        got.names(),
        [
            "Access-Control-Allow-Origin",
            "Access-Control-Allow-Methods",
            "Vary"
        ]
    );
}

#[test]
fn section3_preflight_not_matched_403_xml_no_cors_headers_no_vary() {
    let c = s3(vec![full_rule()]);
    let r =
        Request::preflight("https://evil.example.com", "PUT").with_resource(ResourceType::Object);
    let got = answer(&c, &r);
    assert_eq!(got.status, 403);
    assert_eq!(
        got.headers,
        [("Content-Type".to_string(), "application/xml".to_string())]
    );
    assert_eq!(
        got.body.as_deref(),
        Some(format!("<Error><Code>AccessForbidden</Code><Message>{NOT_ALLOWED}</Message><Method>PUT</Method><ResourceType>OBJECT</ResourceType><RequestId>0000000000000000</RequestId><HostId>bucketcors</HostId></Error>").as_str())
    );
    let got = answer(&c, &r.with_resource(ResourceType::Bucket));
    assert!(
        got.body
            .unwrap()
            .contains("<ResourceType>BUCKET</ResourceType>")
    );
}

#[test]
fn section3_error_body_escapes_request_values_and_takes_caller_ids() {
    let c = s3(vec![full_rule()]);
    let r = Request::preflight("https://a", "<PUT&>");
    let d = c.decide(&r);
    let body = d
        .body_with_request_id("REQ<1>")
        .unwrap()
        .with_host_id("host&id")
        .to_string();
    assert!(body.contains("<Method>&lt;PUT&amp;&gt;</Method>"), "{body}");
    assert!(
        body.contains("<RequestId>REQ&lt;1&gt;</RequestId><HostId>host&amp;id</HostId>"),
        "{body}"
    );
}

#[test]
fn section3_options_without_origin_400_whether_or_not_configured() {
    let want = "<Error><Code>BadRequest</Code><Message>Insufficient information. Origin request header needed.</Message><RequestId>0000000000000000</RequestId><HostId>bucketcors</HostId></Error>";
    for c in [s3(vec![full_rule()]), Compiled::none(Dialect::S3)] {
        let got = answer(&c, &Request::new("OPTIONS").with_request_method("GET"));
        assert_eq!(got.status, 400);
        assert_eq!(got.body.as_deref(), Some(want));
        assert!(got.no_access_control());
        assert_eq!(got.header("Vary"), None);
    }
}

#[test]
fn section3_empty_origin_counts_as_present() {
    let c = s3(vec![rule(&["*"], &["GET"], &[])]);
    let got = answer(&c, &Request::preflight("", "GET"));
    assert_eq!(got.status, 200);
    assert_eq!(got.header("Access-Control-Allow-Origin"), Some("*"));
    let got = answer(&Compiled::none(Dialect::S3), &Request::preflight("", "GET"));
    assert_eq!(got.status, 403);
}

#[test]
fn section3_options_with_origin_on_bucket_without_cors_403_not_enabled_bucket() {
    let none = Compiled::none(Dialect::S3);
    let got = answer(&none, &Request::preflight("https://a", "PUT"));
    assert_eq!(got.status, 403);
    assert_eq!(
        got.body.as_deref(),
        Some(
            "<Error><Code>AccessForbidden</Code><Message>CORSResponse: CORS is not enabled for this bucket.</Message><Method>PUT</Method><ResourceType>BUCKET</ResourceType><RequestId>0000000000000000</RequestId><HostId>bucketcors</HostId></Error>"
        )
    );
    let got = answer(&none, &Request::new("OPTIONS").with_origin("https://a"));
    assert!(
        got.body
            .unwrap()
            .contains("<Method>OPTIONS</Method><ResourceType>BUCKET</ResourceType>")
    );
}

#[test]
fn section3_options_with_origin_without_acrm_on_configured_bucket_403_method_options() {
    let c = s3(vec![rule(&["*"], &["GET"], &[])]);
    let got = answer(&c, &Request::new("OPTIONS").with_origin("https://a"));
    assert_eq!(got.status, 403);
    let body = got.body.unwrap();
    assert!(
        body.contains(NOT_ALLOWED)
            && body.contains("<Method>OPTIONS</Method><ResourceType>OBJECT</ResourceType>"),
        "{body}"
    );
}

#[test]
fn section3_methods_compare_case_sensitively() {
    let c = s3(vec![rule(&["*"], &["GET"], &[])]);
    assert_eq!(
        answer(&c, &Request::preflight("https://a", "get")).status,
        403
    );
}

#[test]
fn section3_several_request_headers_values_joined_with_commas() {
    // The caller joins repeated Access-Control-Request-Headers with commas.
    let c = s3(vec![rule(&["*"], &["GET"], &["x-a", "x-b"])]);
    let got = answer(
        &c,
        &Request::preflight("https://a", "GET").with_request_headers("x-a,x-b"),
    );
    assert_eq!(got.header("Access-Control-Allow-Headers"), Some("x-a, x-b"));
}

#[test]
fn section3_actual_request_matched_adds_headers_without_allow_headers() {
    let c = s3(vec![full_rule()]);
    let d = c.decide(&Request::new("GET").with_origin("https://app.example.com"));
    assert!(!d.is_preflight());
    let got = answer(
        &c,
        &Request::new("GET").with_origin("https://app.example.com"),
    );
    assert_eq!(got.status, 200);
    assert_eq!(got.body, None);
    assert_eq!(
        got.names(),
        [
            "Access-Control-Allow-Origin",
            "Access-Control-Allow-Credentials",
            "Access-Control-Allow-Methods",
            "Access-Control-Expose-Headers",
            "Access-Control-Max-Age",
            "Vary"
        ]
    );
    assert_eq!(got.header("Vary"), Some(VARY));
}

#[test]
fn section3_actual_request_other_headers_not_checked() {
    // The rule allows no headers; the actual request is matched on origin
    // and method only.
    let c = s3(vec![rule(&["*"], &["PUT"], &[])]);
    let got = answer(&c, &Request::new("PUT").with_origin("https://a"));
    assert_eq!(got.header("Access-Control-Allow-Origin"), Some("*"));
}

#[test]
fn section3_actual_request_not_matched_unchanged_no_vary() {
    let c = s3(vec![full_rule()]);
    for r in [
        Request::new("GET").with_origin("https://evil.example.com"),
        Request::new("DELETE").with_origin("https://app.example.com"),
        Request::new("GET"),
    ] {
        let got = answer(&c, &r);
        assert_eq!(
            (got.status, got.headers.len(), got.body),
            (200, 0, None),
            "{r:?}"
        );
    }
    let got = answer(
        &Compiled::none(Dialect::S3),
        &Request::new("GET").with_origin("https://a"),
    );
    assert!(got.headers.is_empty());
}

#[test]
fn section3_actual_request_with_acrm_is_matched_as_a_preflight_for_those_values() {
    let c = s3(vec![rule(&["*"], &["PUT"], &["x-a"])]);
    // GET with ACRM PUT: matched as PUT; headers of an actual request.
    let got = answer(
        &c,
        &Request::new("GET")
            .with_origin("https://a")
            .with_request_method("PUT"),
    );
    assert_eq!(got.matched_rule, Some(0));
    assert_eq!(got.header("Access-Control-Allow-Headers"), None);
    assert_eq!(got.header("Vary"), Some(VARY));
    // PUT with ACRH naming an unlisted header: fails, served without CORS.
    let got = answer(
        &c,
        &Request::new("PUT")
            .with_origin("https://a")
            .with_request_headers("x-b"),
    );
    assert_eq!((got.status, got.headers.len()), (200, 0));
    // The method is the request's own when only ACRH is present.
    let got = answer(
        &c,
        &Request::new("PUT")
            .with_origin("https://a")
            .with_request_headers("X-A"),
    );
    assert_eq!(got.matched_rule, Some(0));
    assert_eq!(got.header("Access-Control-Allow-Headers"), None);
    // ACRM names a method the rule lacks: no CORS headers, never refused.
    let got = answer(
        &c,
        &Request::new("PUT")
            .with_origin("https://a")
            .with_request_method("GET"),
    );
    assert_eq!((got.status, got.headers.len(), got.body), (200, 0, None));
}
