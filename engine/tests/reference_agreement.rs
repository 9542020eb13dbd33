//! Property test: the compiled matcher and its decisions agree with the
//! plain reference evaluator (`reference/mod.rs`) on random valid
//! configurations and random requests, for both dialects (spec sections
//! 2-4): same status, same headers in the same order, same body, same rule.

mod common;
mod reference;

use bucketcors_engine::{Compiled, CorsConfig, Dialect, Request, ResourceType, Rule, validate};
use proptest::prelude::*;
use reference::{RefRequest, evaluate};

/// Short strings over a small alphabet, so that patterns and origins
/// collide often; `*` only where the spec allows it.
fn piece() -> impl Strategy<Value = String> {
    "[ab.:]{0,4}"
}

/// Origins requests use often, so that patterns hit them.
const ORIGINS: [&str; 6] = ["a.b", "a:b", "ab.a", "b", "a.b.b", "ba:a"];

fn origin_pattern() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => Just("*".to_string()),
        3 => prop::sample::select(ORIGINS.to_vec()).prop_map(String::from),
        2 => prop::sample::select(vec!["a*", "*b", "a*b", "*.b", "ab*a", "*:a"])
            .prop_map(String::from),
        2 => (piece(), piece()).prop_map(|(p, s)| format!("{p}*{s}")),
        2 => "[ab.:]{1,6}",
    ]
}

fn header_pattern() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => Just("*".to_string()),
        3 => prop::sample::select(vec!["x-*", "x-a", "X-B", "b", "*-a"]).prop_map(String::from),
        2 => ("[xXaB-]{0,3}", "[xXaB-]{0,3}").prop_map(|(p, s)| format!("{p}*{s}")),
        2 => "[xXaB-]{1,4}",
    ]
}

const METHODS: [&str; 5] = ["GET", "PUT", "POST", "DELETE", "HEAD"];

fn rule() -> impl Strategy<Value = Rule> {
    (
        prop::collection::vec(origin_pattern(), 1..4),
        prop::sample::subsequence(METHODS.to_vec(), 1..=5).prop_shuffle(),
        prop::collection::vec(header_pattern(), 0..3),
        prop::collection::vec("[a-zA-Z-]{1,6}", 0..3),
        prop::option::of(0u64..100_000),
        prop::option::of("[a-z0-9]{1,8}"),
    )
        .prop_map(|(origins, methods, headers, expose, max_age, id)| Rule {
            id,
            allowed_origins: origins,
            allowed_methods: methods.into_iter().map(String::from).collect(),
            allowed_headers: headers,
            expose_headers: expose,
            max_age_seconds: max_age,
        })
}

fn config_and_dialect() -> impl Strategy<Value = (Option<CorsConfig>, Dialect)> {
    (
        prop::collection::vec(rule(), 1..6),
        any::<bool>(),
        prop_oneof![Just(Dialect::S3), Just(Dialect::Oss)],
        0..10u8,
    )
        .prop_map(|(rules, vary, dialect, none)| {
            if none == 0 {
                return (None, dialect);
            }
            let mut rules = rules;
            if dialect == Dialect::Oss {
                for r in &mut rules {
                    r.id = None;
                }
            }
            let config = CorsConfig {
                rules,
                response_vary: vary && dialect == Dialect::Oss,
            };
            (Some(config), dialect)
        })
}

fn request() -> impl Strategy<Value = RefRequest> {
    let method = prop_oneof![
        4 => Just("OPTIONS".to_string()),
        4 => prop::sample::select(METHODS.to_vec()).prop_map(String::from),
        1 => prop::sample::select(vec!["get", "PATCH", "options"]).prop_map(String::from),
    ];
    let acrm = prop_oneof![
        6 => prop::sample::select(METHODS.to_vec()).prop_map(String::from),
        1 => Just("get".to_string()),
        1 => Just("PATCH".to_string()),
    ];
    let name = prop_oneof![
        2 => prop::sample::select(vec!["x-a", "X-A", "b", "x-b", "B"]).prop_map(String::from),
        1 => "[xXaB-]{0,4}",
    ];
    let names = prop::collection::vec(("[ \t]{0,1}", name, "[ \t]{0,1}"), 0..4).prop_map(|parts| {
        parts
            .into_iter()
            .map(|(a, n, b)| format!("{a}{n}{b}"))
            .collect::<Vec<_>>()
            .join(",")
    });
    (
        method,
        prop::option::weighted(
            0.9,
            prop_oneof![
                3 => prop::sample::select(ORIGINS.to_vec()).prop_map(String::from),
                1 => "[ab.:]{0,7}",
            ],
        ),
        prop::option::weighted(0.7, acrm),
        prop::option::weighted(0.5, names),
        any::<bool>(),
    )
        .prop_map(|(method, origin, acrm, acrh, bucket)| RefRequest {
            method,
            origin,
            acrm,
            acrh,
            resource: if bucket {
                ResourceType::Bucket
            } else {
                ResourceType::Object
            },
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn sections_2_to_4_compiled_agrees_with_reference(
        (config, dialect) in config_and_dialect(),
        requests in prop::collection::vec(request(), 1..8),
    ) {
        let compiled = match &config {
            Some(c) => {
                prop_assume!(validate(c, dialect).is_valid());
                Compiled::new(c, dialect).unwrap()
            }
            None => Compiled::none(dialect),
        };
        for r in &requests {
            let request = Request {
                method: &r.method,
                origin: r.origin.as_deref(),
                request_method: r.acrm.as_deref(),
                request_headers: r.acrh.as_deref(),
                resource: r.resource,
            };
            let got = common::answer(&compiled, &request);
            let want = evaluate(config.as_ref(), dialect, r);
            prop_assert_eq!(got.status, want.status, "status for {:?}", r);
            prop_assert_eq!(&got.headers, &want.headers, "headers for {:?}", r);
            prop_assert_eq!(&got.body, &want.body, "body for {:?}", r);
            prop_assert_eq!(got.matched_rule, want.matched_rule, "rule for {:?}", r);
        }
    }
}

/// The property above is only as good as its inputs: check that the
/// generators produce every kind of answer often enough (matched and
/// refused preflights, actual requests with and without CORS headers, both
/// dialects, `*` answers and echoed origins, requested headers).
#[test]
fn generators_cover_every_kind_of_answer() {
    use bucketcors_engine::Outcome;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    let mut runner = TestRunner::deterministic();
    let (mut allowed_pre, mut refused, mut allowed_actual, mut no_cors) = (0, 0, 0, 0);
    let (mut star, mut echoed, mut with_headers, mut oss, mut s3) = (0, 0, 0, 0, 0);
    let mut decided = 0;
    for _ in 0..3000 {
        let (config, dialect) = config_and_dialect()
            .new_tree(&mut runner)
            .unwrap()
            .current();
        let r = request().new_tree(&mut runner).unwrap().current();
        let compiled = match &config {
            Some(c) if validate(c, dialect).is_valid() => Compiled::new(c, dialect).unwrap(),
            Some(_) => continue,
            None => Compiled::none(dialect),
        };
        let request = Request {
            method: &r.method,
            origin: r.origin.as_deref(),
            request_method: r.acrm.as_deref(),
            request_headers: r.acrh.as_deref(),
            resource: r.resource,
        };
        let d = compiled.decide(&request);
        decided += 1;
        match (dialect, d.outcome()) {
            (Dialect::Oss, _) => oss += 1,
            (Dialect::S3, _) => s3 += 1,
        }
        match d.outcome() {
            Outcome::Allowed { any_origin, .. } => {
                if any_origin {
                    star += 1
                } else {
                    echoed += 1
                }
                if d.is_preflight() {
                    allowed_pre += 1;
                    if d.headers()
                        .any(|(n, _)| n == "Access-Control-Allow-Headers")
                    {
                        with_headers += 1;
                    }
                } else {
                    allowed_actual += 1;
                }
            }
            Outcome::Refused(_) => refused += 1,
            Outcome::NoCors => no_cors += 1,
        }
    }
    let share = |n: usize| n * 100 / decided.max(1);
    let counts = [
        ("allowed preflight", allowed_pre),
        ("refused", refused),
        ("allowed actual", allowed_actual),
        ("no cors", no_cors),
        ("star answer", star),
        ("echoed origin", echoed),
        ("oss", oss),
        ("s3", s3),
    ];
    println!("{decided} decided: {counts:?}, {with_headers} allowed preflights with headers");
    for (what, n) in counts {
        assert!(share(n) >= 3, "{what}: {n} of {decided} ({counts:?})");
    }
    assert!(
        with_headers >= 20,
        "allowed preflights with headers: {with_headers}"
    );
    assert!(
        decided >= 1500,
        "only {decided} of 3000 configurations were valid"
    );
}
