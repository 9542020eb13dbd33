//! Every format round-trips what it can hold (issue 2, item 7): printing a
//! configuration and parsing the text again gives back the same
//! configuration, minus exactly what [`losses`] reports; and detection
//! recognises every printed document as the format it was printed in.

use bucketcors_engine::format::{self, Format, Loss, losses, lossy, parse, parse_any, print};
use bucketcors_engine::{CorsConfig, Rule};
use proptest::prelude::*;

/// Values as people write them, and arbitrary Unicode (control characters,
/// quotes, markup, YAML indicators) to catch escaping mistakes.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z0-9:/.*_-]{0,24}",
        1 => prop::sample::select(vec![
            "*", "GET", "https://*.example.com", "x-amz-*", "", " ", "null", "~", "true",
            "- a", "a: b", "#x", "'", "\"", "<a>", "&amp;", "]]>", "\r\n", "\t", "\u{85}",
            "\u{feff}", "\u{2028}", "0x10", "1e3", "yes", "NO",
        ])
        .prop_map(str::to_owned),
        2 => any::<String>(),
        // Deep runs of brackets must not trip the YAML depth bound.
        1 => "[a-z :#-]{0,3}[\\[{]{60,80}[a-z ]{0,3}[\\]}]{0,3}",
    ]
}

fn values() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(value(), 0..4)
}

fn rule() -> impl Strategy<Value = Rule> {
    (
        prop::option::of(value()),
        values(),
        values(),
        values(),
        values(),
        prop::option::of(any::<u64>()),
    )
        .prop_map(|(id, origins, methods, headers, expose, max_age)| Rule {
            id,
            allowed_origins: origins,
            allowed_methods: methods,
            allowed_headers: headers,
            expose_headers: expose,
            max_age_seconds: max_age,
        })
}

fn config() -> impl Strategy<Value = CorsConfig> {
    (prop::collection::vec(rule(), 0..5), any::<bool>()).prop_map(|(rules, response_vary)| {
        CorsConfig {
            rules,
            response_vary,
        }
    })
}

fn format() -> impl Strategy<Value = Format> {
    prop::sample::select(Format::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn print_then_parse_gives_back_what_the_format_holds(c in config(), f in format()) {
        let text = print(&c, f);
        let parsed = parse(&text, f).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(parsed, lossy(&c, f), "format {} text:\n{}", f, text);
    }

    #[test]
    fn printed_documents_are_detected_as_their_format(c in config(), f in format()) {
        let text = print(&c, f);
        prop_assert_eq!(format::detect(&text), Some(f));
        let (parsed, detected) = parse_any(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(detected, f);
        prop_assert_eq!(parsed, lossy(&c, f));
    }

    #[test]
    fn losses_are_reported_exactly_when_something_is_lost(c in config(), f in format()) {
        prop_assert_eq!(losses(&c, f).is_empty(), lossy(&c, f) == c);
    }

    #[test]
    fn converting_through_any_chain_keeps_what_every_step_holds(
        c in config(),
        chain in prop::collection::vec(format(), 1..4),
    ) {
        let mut current = c.clone();
        let mut expected = c;
        for f in chain {
            current = parse(&print(&current, f), f).map_err(|e| TestCaseError::fail(e.to_string()))?;
            expected = lossy(&expected, f);
        }
        prop_assert_eq!(current, expected);
    }
}

#[test]
fn the_spec_shape_formats_hold_everything() {
    let c = CorsConfig {
        rules: vec![Rule {
            id: Some("app".into()),
            allowed_origins: vec!["https://app.example.com".into()],
            allowed_methods: vec!["GET".into()],
            ..Rule::default()
        }],
        response_vary: true,
    };
    assert!(losses(&c, Format::Yaml).is_empty());
    assert!(losses(&c, Format::Json).is_empty());
    assert_eq!(
        losses(&c, Format::OssXml),
        vec![Loss::RuleId {
            index: 0,
            id: "app".into()
        }]
    );
    assert_eq!(losses(&c, Format::S3Xml), vec![Loss::ResponseVary]);
    assert_eq!(losses(&c, Format::S3Json), vec![Loss::ResponseVary]);
}
