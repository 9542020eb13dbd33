//! What the spec's lints mean for the status and the Events, as pure
//! functions of the object and its old status.
//!
//! The engine's lints ([`bucketcors_engine::lint`]) say what the rules will
//! still do wrong in browsers or on the store `spec.backend.flavor` names
//! (the same lines `bucketcors validate` prints). They land in
//! `status.warnings`, the `Linted` condition counts them, and each warning
//! the old status did not list becomes one Warning Event (reason `Lint`),
//! so a resync publishes nothing new. The event recorder aggregates Events
//! of one object with the same type, reason and action into one series
//! (keeping the first note), so each warning's Event gets an action of its
//! own: its lint code and a digest of its line. Lints never make the object un-Ready:
//! the configuration is applied as written.

use crate::controller::status::Verdict;
use crate::crd::{BucketCors, BucketCorsStatus};
use bucketcors_engine::lint::{LintOptions, lint};
use sha2::{Digest, Sha256};

/// The Event reason (and the `Linted` reason while there are warnings).
pub const REASON: &str = "Lint";
/// The `Linted` reason when the spec has no lints.
pub const CLEAN: &str = "Clean";
/// The `Linted` reason when it has some.
pub const WARNINGS: &str = "Warnings";
/// At most this many lines in `status.warnings` (the CRD's `maxItems`);
/// the condition still counts them all.
pub const MAX_WARNINGS: usize = 64;

/// The lints of `obj`'s spec, one line each as `bucketcors validate` prints
/// them, checked against `spec.backend.flavor` (else its default). The
/// operator knows nothing about the requests' credentials, so the lints
/// that need them assume none. All of them, not capped: see [`listed`].
pub fn warnings(obj: &BucketCors) -> Vec<String> {
    let options = LintOptions {
        credentials: false,
        target: Some(obj.spec.backend.target()),
    };
    lint(&obj.spec.cors_config(), obj.spec.dialect(), &options)
        .iter()
        .map(|l| format!("{}: {l}", l.severity))
        .collect()
}

/// What `status.warnings` lists of `all`: the first [`MAX_WARNINGS`].
pub fn listed(mut all: Vec<String>) -> Vec<String> {
    all.truncate(MAX_WARNINGS);
    all
}

/// The `Linted` verdict for `count` lints, `listed` of them in the status.
pub fn linted(count: usize, listed: usize) -> Verdict {
    match count {
        0 => Verdict::ok(CLEAN, "no lint warnings"),
        1 => Verdict::ok(WARNINGS, "1 lint warning in status.warnings"),
        n if n == listed => Verdict::ok(WARNINGS, format!("{n} lint warnings in status.warnings")),
        n => Verdict::ok(
            WARNINGS,
            format!(
                "{n} lint warnings, the first {listed} in status.warnings (bucketcors validate lists all)"
            ),
        ),
    }
}

/// One Warning Event (reason [`REASON`]) about a lint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintNote {
    /// `Lint BC130 1a2b3c4d`: the code and the first 8 hex digits of the
    /// line's SHA-256, distinct per warning (see the module doc).
    pub action: String,
    /// The warning line, as `status.warnings` lists it.
    pub text: String,
}

/// One Event per warning of `new` that `old` did not list.
pub fn notes(old: Option<&BucketCorsStatus>, new: &BucketCorsStatus) -> Vec<LintNote> {
    new.warnings
        .iter()
        .filter(|w| !old.is_some_and(|o| o.warnings.contains(w)))
        .map(|w| LintNote {
            action: action(w),
            text: w.clone(),
        })
        .collect()
}

/// The action of `line`'s Event: `warning: BC130 ...` gives `Lint BC130 <digest>`.
fn action(line: &str) -> String {
    let code = line
        .split_once(": ")
        .and_then(|(_, rest)| rest.split(' ').next())
        .unwrap_or_default();
    let digest = Sha256::digest(line.as_bytes());
    let hex: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
    format!("{REASON} {code} {hex}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::status::ConditionStatus;
    use crate::crd::BucketCorsSpec;
    use bucketcors_engine::lint::LintCode;

    fn object(max_age: Option<u64>, flavor: &str) -> BucketCors {
        let mut rule = serde_json::json!({
            "allowedOrigins": ["https://app.example.com"],
            "allowedMethods": ["GET"],
        });
        if let Some(max_age) = max_age {
            rule["maxAgeSeconds"] = max_age.into();
        }
        let spec: BucketCorsSpec = serde_json::from_value(serde_json::json!({
            "backend": {"provider": "s3", "bucket": "b", "flavor": flavor},
            "rules": [rule],
        }))
        .expect("spec");
        BucketCors::new("b", spec)
    }

    fn status(warnings: Vec<String>) -> BucketCorsStatus {
        BucketCorsStatus {
            warnings,
            ..BucketCorsStatus::default()
        }
    }

    /// The lines are the engine's lints, code first; which ones fire is the
    /// engine's decision (its own tests pin each), so the expected codes
    /// come from `lint()` itself.
    #[test]
    fn the_warnings_are_the_engines_lints_for_the_flavor() {
        let obj = object(Some(9000), "s3");
        let expected = lint(
            &obj.spec.cors_config(),
            obj.spec.dialect(),
            &LintOptions {
                credentials: false,
                target: Some(obj.spec.backend.target()),
            },
        );
        let got = warnings(&obj);
        assert!(!expected.is_empty());
        assert_eq!(got.len(), expected.len());
        for (line, lint) in got.iter().zip(&expected) {
            assert!(line.contains(&lint.code.to_string()), "{line}");
        }
        assert!(
            got.iter()
                .any(|l| l.contains(&LintCode::MaxAgeAboveChromiumCap.to_string())),
            "{got:?}"
        );
        assert!(warnings(&object(None, "s3")).is_empty());
        // Another store, another verdict for the same rules.
        assert_ne!(warnings(&object(Some(9000), "garage")), got);
    }

    #[test]
    fn the_condition_counts_and_never_fails() {
        for (count, shown, reason, message) in [
            (0, 0, CLEAN, "no lint warnings"),
            (1, 1, WARNINGS, "1 lint warning in status.warnings"),
            (3, 3, WARNINGS, "3 lint warnings in status.warnings"),
            (
                70,
                64,
                WARNINGS,
                "70 lint warnings, the first 64 in status.warnings (bucketcors validate lists all)",
            ),
        ] {
            let v = linted(count, shown);
            assert_eq!(v.status, ConditionStatus::True);
            assert_eq!((v.reason.as_str(), v.message.as_str()), (reason, message));
        }
        let many: Vec<String> = (0..70).map(|i| format!("w{i}")).collect();
        assert_eq!(listed(many).len(), MAX_WARNINGS);
    }

    /// Distinct warnings, even of one code, are distinct Events; the
    /// action names the code and stays within the API's 128 characters.
    #[test]
    fn each_warning_has_an_action_of_its_own() {
        let mut obj = object(Some(9000), "s3");
        let second = obj.spec.rules[0].clone();
        obj.spec.rules.push(second);
        obj.spec.rules[1].allowed_origins = vec!["https://other.example.com".into()];
        let lines = warnings(&obj);
        let code = LintCode::MaxAgeAboveChromiumCap.id();
        let same_code: Vec<&String> = lines.iter().filter(|l| l.contains(code)).collect();
        assert_eq!(same_code.len(), 2, "{lines:#?}");
        let actions: Vec<String> = notes(None, &status(lines.clone()))
            .into_iter()
            .map(|n| n.action)
            .collect();
        let distinct: std::collections::BTreeSet<&String> = actions.iter().collect();
        assert_eq!(distinct.len(), actions.len(), "{actions:#?}");
        for (line, action) in lines.iter().zip(&actions) {
            assert!(
                action.starts_with("Lint BC") && action.len() <= 128,
                "{action}"
            );
            let code = action.split(' ').nth(1).unwrap();
            assert!(line.contains(code), "{line} / {action}");
        }
    }

    #[test]
    fn only_new_warnings_get_an_event() {
        let before = status(vec!["a".into(), "b".into()]);
        let first = notes(None, &before);
        assert_eq!(first.len(), 2);
        assert_ne!(first[0].action, first[1].action, "one series per warning");
        assert!(notes(Some(&before), &before).is_empty());
        let after = status(vec!["b".into(), "c".into()]);
        let fresh: Vec<String> = notes(Some(&before), &after)
            .into_iter()
            .map(|n| n.text)
            .collect();
        assert_eq!(fresh, ["c"]);
        assert!(notes(Some(&after), &status(Vec::new())).is_empty());
    }
}
