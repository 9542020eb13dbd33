//! Spec section 2 (matching, both dialects): one test per statement.

mod common;

use bucketcors_engine::{Dialect, Request};
use common::{answer, compile, config, rule};

const BOTH: [Dialect; 2] = [Dialect::S3, Dialect::Oss];

#[test]
fn section2_first_matching_rule_wins() {
    let mut a = rule(&["https://*.example.com"], &["GET"], &[]);
    a.expose_headers = vec!["x-first".into()];
    let mut b = rule(&["https://app.example.com"], &["GET", "PUT"], &[]);
    b.expose_headers = vec!["x-second".into()];
    for d in BOTH {
        let c = compile(&config(vec![a.clone(), b.clone()]), d);
        let got = answer(&c, &Request::preflight("https://app.example.com", "GET"));
        assert_eq!(got.matched_rule, Some(0));
        assert_eq!(got.header("Access-Control-Expose-Headers"), Some("x-first"));
        let got = answer(&c, &Request::preflight("https://app.example.com", "PUT"));
        assert_eq!(got.matched_rule, Some(1));
    }
}

#[test]
fn section2_1_origin_equal_to_an_allowed_origin_matches() {
    for d in BOTH {
        let c = compile(
            &config(vec![rule(
                &["https://a.example.com", "https://b.example.com"],
                &["GET"],
                &[],
            )]),
            d,
        );
        assert_eq!(
            answer(&c, &Request::preflight("https://b.example.com", "GET")).status,
            200
        );
        assert_eq!(
            answer(&c, &Request::preflight("https://c.example.com", "GET")).status,
            403
        );
    }
}

#[test]
fn section2_1_star_in_pattern_matches_any_run_including_none_and_dots() {
    for d in BOTH {
        let c = compile(
            &config(vec![rule(&["https://*.example.com"], &["GET"], &[])]),
            d,
        );
        for ok in [
            "https://a.example.com",
            "https://a.b.c.example.com",
            "https://.example.com",
        ] {
            assert_eq!(
                answer(&c, &Request::preflight(ok, "GET")).status,
                200,
                "{ok}"
            );
        }
        for no in [
            "https://example.com",
            "https://a.example.com.evil",
            "http://a.example.com",
        ] {
            assert_eq!(
                answer(&c, &Request::preflight(no, "GET")).status,
                403,
                "{no}"
            );
        }
        let c = compile(
            &config(vec![rule(&["http://localhost:*"], &["GET"], &[])]),
            d,
        );
        assert_eq!(
            answer(&c, &Request::preflight("http://localhost:", "GET")).status,
            200
        );
    }
}

#[test]
fn section2_1_origin_comparison_is_exact_scheme_host_and_port() {
    for d in BOTH {
        let c = compile(
            &config(vec![rule(&["http://localhost:4200"], &["GET"], &[])]),
            d,
        );
        assert_eq!(
            answer(&c, &Request::preflight("http://localhost:4200", "GET")).status,
            200
        );
        for no in [
            "https://localhost:4200",
            "http://localhost:4201",
            "http://localhost",
            "HTTP://localhost:4200",
            "http://localhost:4200/",
        ] {
            assert_eq!(
                answer(&c, &Request::preflight(no, "GET")).status,
                403,
                "{no}"
            );
        }
    }
}

#[test]
fn section2_1_star_rule_matches_a_scheme_less_origin() {
    for d in BOTH {
        let c = compile(&config(vec![rule(&["*"], &["GET"], &[])]), d);
        assert_eq!(
            answer(&c, &Request::preflight("localhost:4566", "GET")).status,
            200
        );
    }
}

#[test]
fn section2_2_method_must_be_allowed_compared_exactly() {
    for d in BOTH {
        let c = compile(&config(vec![rule(&["*"], &["GET", "PUT"], &[])]), d);
        assert_eq!(
            answer(&c, &Request::preflight("https://a", "PUT")).status,
            200
        );
        for no in ["get", "Put", "DELETE", "PATCH", ""] {
            assert_eq!(
                answer(&c, &Request::preflight("https://a", no)).status,
                403,
                "{no}"
            );
        }
        // Actual requests: the request's own method.
        assert!(
            answer(&c, &Request::new("GET").with_origin("https://a"))
                .matched_rule
                .is_some()
        );
        assert!(
            answer(&c, &Request::new("DELETE").with_origin("https://a"))
                .matched_rule
                .is_none()
        );
    }
}

#[test]
fn section2_3_every_requested_header_must_match_case_insensitively() {
    for d in BOTH {
        let c = compile(
            &config(vec![rule(&["*"], &["PUT"], &["x-amz-*", "Content-Type"])]),
            d,
        );
        let ok = Request::preflight("https://a", "PUT")
            .with_request_headers(" X-Amz-Date , content-type,x-amz-meta-a ");
        assert_eq!(answer(&c, &ok).status, 200);
        let one_bad =
            Request::preflight("https://a", "PUT").with_request_headers("x-amz-date, x-other");
        assert_eq!(answer(&c, &one_bad).status, 403);
    }
}

#[test]
fn section2_3_rule_without_allowed_headers_matches_only_preflights_requesting_none() {
    for d in BOTH {
        let c = compile(&config(vec![rule(&["*"], &["PUT"], &[])]), d);
        assert_eq!(
            answer(&c, &Request::preflight("https://a", "PUT")).status,
            200
        );
        let empty_names = Request::preflight("https://a", "PUT").with_request_headers(" , ,");
        assert_eq!(answer(&c, &empty_names).status, 200);
        let some = Request::preflight("https://a", "PUT").with_request_headers("x-a");
        assert_eq!(answer(&c, &some).status, 403);
    }
}

#[test]
fn section2_3_header_star_matches_every_header() {
    let c = compile(&config(vec![rule(&["*"], &["PUT"], &["*"])]), Dialect::S3);
    let r = Request::preflight("https://a", "PUT").with_request_headers("A, b, X-Whatever-1");
    assert_eq!(answer(&c, &r).status, 200);
}

#[test]
fn section2_matching_is_linear_in_the_input() {
    // A pathological input for a backtracking glob: long origin, pattern
    // with a star and a suffix that almost matches. With prefix/suffix
    // matching this is one pass; it must finish instantly even at 1 MB.
    let origin = "a".repeat(1 << 20);
    let c = compile(
        &config(vec![rule(&["a*ab"], &["GET"], &["a*ab"])]),
        Dialect::S3,
    );
    let headers = format!("{origin},{origin}");
    let r = Request::preflight(&origin, "GET").with_request_headers(&headers);
    assert_eq!(answer(&c, &r).status, 403);
}
