//! Deciding and explaining are total: on any configuration (valid or not,
//! compiled with `new_unchecked`) and any request strings (any Unicode,
//! control characters, commas and stars anywhere), `decide`, its headers,
//! its body and `explain` never panic, and the answer keeps its invariants.

use bucketcors_engine::{
    Compiled, CorsConfig, Dialect, Outcome, Request, ResourceType, Rule, explain,
};
use proptest::prelude::*;

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-zA-Z*,. :/\t-]{0,12}",
        1 => any::<String>(),
        1 => Just(String::new()),
    ]
}

fn rule() -> impl Strategy<Value = Rule> {
    (
        prop::collection::vec(text(), 0..3),
        prop::collection::vec(
            prop_oneof![
                text(),
                prop::sample::select(vec!["GET", "PUT", "POST", "DELETE", "HEAD"])
                    .prop_map(String::from)
            ],
            0..3,
        ),
        prop::collection::vec(text(), 0..3),
        prop::collection::vec(text(), 0..2),
        prop::option::of(any::<u64>()),
        prop::option::of(text()),
    )
        .prop_map(|(o, m, h, e, max_age_seconds, id)| Rule {
            id,
            allowed_origins: o,
            allowed_methods: m,
            allowed_headers: h,
            expose_headers: e,
            max_age_seconds,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn decide_and_explain_never_panic(
        rules in prop::collection::vec(rule(), 0..4),
        vary in any::<bool>(),
        s3 in any::<bool>(),
        none in any::<bool>(),
        method in prop_oneof![text(), Just("OPTIONS".to_string()), Just("GET".to_string())],
        origin in prop::option::of(text()),
        acrm in prop::option::of(prop_oneof![text(), Just("PUT".to_string())]),
        acrh in prop::option::of(text()),
    ) {
        let dialect = if s3 { Dialect::S3 } else { Dialect::Oss };
        let config = CorsConfig { rules, response_vary: vary };
        let compiled = if none { Compiled::none(dialect) } else { Compiled::new_unchecked(&config, dialect) };
        let request = Request {
            method: &method,
            origin: origin.as_deref(),
            request_method: acrm.as_deref(),
            request_headers: acrh.as_deref(),
            resource: ResourceType::Bucket,
        };
        let d = compiled.decide(&request);
        let headers: Vec<(&str, String)> = d.headers().map(|(n, v)| {
            assert_eq!(v.len(), v.to_string().len());
            (n, v.to_string())
        }).collect();
        let body = d.body().map(|b| b.to_string());
        // Invariants: refusals are exactly the OPTIONS answers with a body
        // and status 400/403; everything else is 200 without a body.
        match d.outcome() {
            Outcome::Refused(_) => {
                prop_assert!(d.is_preflight());
                prop_assert!(matches!(d.status(), 400 | 403));
                prop_assert!(body.is_some());
                prop_assert_eq!(headers[0].0, "Content-Type");
            }
            Outcome::Allowed { rule, .. } => {
                prop_assert_eq!(d.status(), 200);
                prop_assert!(body.is_none());
                prop_assert!(rule < config.rules.len());
                prop_assert_eq!(headers[0].0, "Access-Control-Allow-Origin");
            }
            Outcome::NoCors => {
                prop_assert!(!d.is_preflight());
                prop_assert_eq!(d.status(), 200);
                prop_assert!(headers.iter().all(|(n, _)| *n == "Vary"));
            }
        }
        if let Some(b) = &body {
            // Request-supplied text is escaped: the element contents hold no
            // markup characters.
            for tag in ["Method", "RequestId", "HostId"] {
                if let Some((_, rest)) = b.split_once(&format!("<{tag}>")) {
                    let (content, _) = rest.split_once(&format!("</{tag}>")).expect("closed");
                    prop_assert!(!content.contains(['<', '>', '"', '\'']), "{} in {}", tag, b);
                }
            }
        }
        let e = explain(&compiled, &request);
        prop_assert!(e.lines.len() >= 2);
    }
}
