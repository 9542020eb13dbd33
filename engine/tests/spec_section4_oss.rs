//! Spec section 4 (OSS dialect responses): one test per statement.

mod common;

use bucketcors_engine::{Compiled, CorsConfig, Dialect, Request};
use common::{answer, compile, config, rule};

const NOT_ALLOWED: &str = "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Requet-Headers are not whitelisted by the resource's CORS spec.";

fn oss(rules: Vec<bucketcors_engine::Rule>, vary: bool) -> Compiled {
    compile(
        &CorsConfig {
            rules,
            response_vary: vary,
        },
        Dialect::Oss,
    )
}

fn full_rule() -> bucketcors_engine::Rule {
    let mut r = rule(&["*"], &["GET", "PUT"], &["x-oss-*"]);
    r.expose_headers = vec!["ETag".into()];
    r.max_age_seconds = Some(600);
    r
}

fn body(code: &str, message: &str, ec: &str) -> String {
    format!(
        "<Error><Code>{code}</Code><Message>{message}</Message><RequestId>0000000000000000</RequestId><HostId>bucketcors</HostId><EC>{ec}</EC></Error>"
    )
}

#[test]
fn section4_check_order_missing_origin_first() {
    for c in [oss(vec![full_rule()], false), Compiled::none(Dialect::Oss)] {
        let got = answer(&c, &Request::new("OPTIONS"));
        assert_eq!(got.status, 400);
        assert_eq!(
            got.body.as_deref(),
            Some(
                body(
                    "BadRequest",
                    "Insufficient information. Origin request header needed",
                    "0003-00000002"
                )
                .as_str()
            )
        );
    }
}

#[test]
fn section4_check_order_no_configuration_before_missing_acrm() {
    let got = answer(
        &Compiled::none(Dialect::Oss),
        &Request::new("OPTIONS").with_origin("https://a"),
    );
    assert_eq!(got.status, 403);
    assert_eq!(
        got.body.as_deref(),
        Some(
            body(
                "AccessForbidden",
                "CORSResponse: CORS is not enabled for this bucket.",
                "0003-00000001"
            )
            .as_str()
        )
    );
    assert_eq!(
        got.headers,
        [("Content-Type".to_string(), "application/xml".to_string())]
    );
}

#[test]
fn section4_missing_acrm_400() {
    let got = answer(
        &oss(vec![full_rule()], false),
        &Request::new("OPTIONS").with_origin("https://a"),
    );
    assert_eq!(got.status, 400);
    assert_eq!(
        got.body.as_deref(),
        Some(
            body(
                "BadRequest",
                "Insufficient information. Request Access-Control-Request-Method header needed",
                "0003-00000002"
            )
            .as_str()
        )
    );
}

#[test]
fn section4_preflight_matched_echoes_origin_even_for_star_no_credentials() {
    let c = oss(vec![full_rule()], false);
    let got = answer(
        &c,
        &Request::preflight("https://app.example.com", "PUT").with_request_headers("X-Oss-Meta-A"),
    );
    assert_eq!(got.status, 200);
    assert_eq!(got.body, None);
    let want: Vec<(String, String)> = [
        ("Access-Control-Allow-Origin", "https://app.example.com"),
        ("Access-Control-Allow-Methods", "GET, PUT"),
        ("Access-Control-Allow-Headers", "x-oss-meta-a"),
        ("Access-Control-Expose-Headers", "ETag"),
        ("Access-Control-Max-Age", "600"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(got.headers, want);
}

#[test]
fn section4_preflight_not_matched_403_with_oss_message_typos_included() {
    let c = oss(vec![full_rule()], false);
    let got = answer(&c, &Request::preflight("https://a", "DELETE"));
    assert_eq!(got.status, 403);
    assert!(got.no_access_control());
    assert_eq!(
        got.body.as_deref(),
        Some(body("AccessForbidden", NOT_ALLOWED, "0003-00000001").as_str())
    );
}

#[test]
fn section4_actual_request_matched_adds_origin_methods_expose_max_age() {
    let c = oss(vec![full_rule()], false);
    let got = answer(&c, &Request::new("GET").with_origin("https://a"));
    assert_eq!(got.status, 200);
    assert_eq!(
        got.names(),
        [
            "Access-Control-Allow-Origin",
            "Access-Control-Allow-Methods",
            "Access-Control-Expose-Headers",
            "Access-Control-Max-Age"
        ]
    );
    assert_eq!(got.header("Access-Control-Allow-Origin"), Some("https://a"));
    let got = answer(
        &oss(vec![rule(&["https://a"], &["GET"], &[])], false),
        &Request::new("GET").with_origin("https://a"),
    );
    assert_eq!(
        got.names(),
        [
            "Access-Control-Allow-Origin",
            "Access-Control-Allow-Methods"
        ]
    );
}

#[test]
fn section4_actual_request_not_matched_gets_nothing() {
    let c = oss(vec![full_rule()], false);
    for r in [
        Request::new("DELETE").with_origin("https://a"),
        Request::new("GET"),
    ] {
        let got = answer(&c, &r);
        assert_eq!((got.status, got.headers.len(), got.body), (200, 0, None));
    }
}

#[test]
fn section4_actual_request_ignores_access_control_request_headers() {
    let c = oss(vec![rule(&["*"], &["GET"], &[])], false);
    // An ACRM or ACRH that would fail as a preflight changes nothing.
    let r = Request::new("GET")
        .with_origin("https://a")
        .with_request_method("PUT")
        .with_request_headers("x-not-allowed");
    assert_eq!(answer(&c, &r).matched_rule, Some(0));
}

#[test]
fn section4_response_vary_true_puts_vary_origin_on_every_response() {
    let c = oss(vec![full_rule()], true);
    for r in [
        Request::preflight("https://a", "GET"),
        Request::preflight("https://a", "DELETE"),
        Request::new("OPTIONS"),
        Request::new("OPTIONS").with_origin("https://a"),
        Request::new("GET").with_origin("https://a"),
        Request::new("DELETE").with_origin("https://a"),
        Request::new("GET"),
    ] {
        let got = answer(&c, &r);
        assert_eq!(
            got.headers.last().map(|(n, v)| (n.as_str(), v.as_str())),
            Some(("Vary", "Origin")),
            "{r:?}"
        );
        assert_eq!(got.headers.iter().filter(|(n, _)| n == "Vary").count(), 1);
    }
}

#[test]
fn section4_response_vary_false_never_vary() {
    let c = compile(&config(vec![full_rule()]), Dialect::Oss);
    for r in [
        Request::preflight("https://a", "GET"),
        Request::preflight("https://a", "DELETE"),
        Request::new("GET").with_origin("https://a"),
    ] {
        assert_eq!(answer(&c, &r).header("Vary"), None);
    }
}
