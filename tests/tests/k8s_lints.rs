//! The lints in the cluster (issue 16), against the real control plane:
//! the chart's ValidatingAdmissionPolicy and its `Warn` binding make
//! `kubectl apply` print the lints of a linted manifest while the object is
//! still accepted, and nothing for a clean one; the operator then lists the
//! lints in `status.warnings`, counts them in the `Linted` condition (the
//! object stays Ready) and publishes one Warning Event (reason `Lint`) per
//! lint, once: resyncs add none, an edit adds one per new lint only.
//!
//! The expected warnings come from the engine's `lint()` and the policy's
//! own catalog (`bucketcors_operator::admission`), never from the operator:
//! a lint with a CEL predicate that the engine fires on the manifest must be
//! printed by kubectl, and one it does not fire must not be.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use bucketcors_engine::lint::{Lint, LintOptions, lint};
use bucketcors_operator::admission;
use bucketcors_operator::crd::BucketCorsSpec;
use bucketcors_testkit::garage::Garage;
use serde_json::{Value, json};
use support::cluster::{Cluster, Operator};
use support::manifest::{self, BucketCorsManifest, GARAGE_SECRET};

const NS: &str = "team-lint";
const LINTED_BUCKET: &str = "lint-site";
const CLEAN_BUCKET: &str = "clean-site";
const SETTLE: Duration = Duration::from_secs(60);

/// A BucketCors for Garage's `bucket` with `spec.backend.flavor: garage`
/// and `rule`.
fn object(endpoint: &str, name: &str, bucket: &str, rule: Value) -> Value {
    let manifest = BucketCorsManifest::garage(NS, name, endpoint, bucket)
        .rule_with(rule)
        .spec("resyncInterval", "2s")
        .render();
    let mut value: Value = serde_json::from_str(&manifest).expect("manifest JSON");
    value["spec"]["backend"]["flavor"] = "garage".into();
    value
}

/// The engine's lints of `manifest`'s spec, as the operator lints it
/// (the flavor's store, no credentials assumed).
fn engine_lints(manifest: &Value) -> Vec<Lint> {
    let spec: BucketCorsSpec =
        serde_json::from_value(manifest["spec"].clone()).expect("the spec parses");
    let options = LintOptions {
        credentials: false,
        target: Some(spec.backend.target()),
    };
    lint(&spec.cors_config(), spec.dialect(), &options)
}

/// The policy messages kubectl must print for `manifest`: those of the
/// catalog entries with a predicate that the engine fires.
fn expected_messages(manifest: &Value) -> (Vec<String>, Vec<String>) {
    let fired: BTreeSet<&str> = engine_lints(manifest).iter().map(|l| l.code.id()).collect();
    let mut shown = Vec::new();
    let mut quiet = Vec::new();
    for (info, _) in admission::validations("object") {
        let message = admission::message(info);
        if fired.contains(info.id) {
            shown.push(message);
        } else {
            quiet.push(format!("{} {}", info.id, info.name));
        }
    }
    (shown, quiet)
}

/// The `Lint` Events about `name`: their notes, and the highest repeat
/// count any of them carries (the recorder aggregates a repeat into a
/// series, and would fold warnings sharing an action into one Event).
fn lint_events(cluster: &Cluster, name: &str) -> (Vec<String>, u64) {
    let events = cluster.kubectl(&[
        "get",
        "events",
        "-n",
        NS,
        "--field-selector",
        &format!("involvedObject.name={name}"),
        "-o",
        "json",
    ]);
    let events: Value = serde_json::from_str(&events).expect("events JSON");
    let items: Vec<&Value> = events["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["reason"] == "Lint")
        .collect();
    let notes = items
        .iter()
        .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
        .collect();
    let repeats = items
        .iter()
        .map(|e| {
            e["series"]["count"]
                .as_u64()
                .or(e["count"].as_u64())
                .unwrap_or(1)
        })
        .max()
        .unwrap_or(0);
    (notes, repeats)
}

fn warnings_of(cluster: &Cluster, name: &str) -> Vec<String> {
    let object = cluster.get("bucketcors", NS, name).expect("the object");
    object["status"]["warnings"]
        .as_array()
        .map(|w| {
            w.iter()
                .map(|l| l.as_str().expect("a line").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Each line of `warnings` is one engine lint, in order (code first).
#[track_caller]
fn lines_are(warnings: &[String], lints: &[Lint]) {
    assert_eq!(warnings.len(), lints.len(), "{warnings:#?}");
    for (line, lint) in warnings.iter().zip(lints) {
        assert!(
            line.contains(&format!("{}: ", lint.code)) && line.contains(&lint.fix),
            "{line} is {lint}"
        );
    }
}

#[test]
fn kubectl_prints_the_lints_and_the_operator_reports_them() {
    let garage = Garage::start(&[LINTED_BUCKET, CLEAN_BUCKET])
        .unwrap_or_else(|e| panic!("Garage must run: {e}"));
    let endpoint = garage.endpoint();
    let cluster = Cluster::install(&[]);

    // The chart installed the policy and its Warn-only binding.
    let policy = cluster
        .get("validatingadmissionpolicy", "", admission::POLICY_NAME)
        .expect("the chart's ValidatingAdmissionPolicy");
    let binding = cluster
        .get(
            "validatingadmissionpolicybinding",
            "",
            admission::POLICY_NAME,
        )
        .expect("the chart's binding");
    assert_eq!(binding["spec"]["validationActions"], json!(["Warn"]));
    assert_eq!(binding["spec"]["policyName"], admission::POLICY_NAME);
    assert_eq!(
        policy["spec"]["validations"].as_array().map(Vec::len),
        Some(admission::validations("object").len())
    );

    cluster.create_namespace(NS);
    cluster.apply(&manifest::credentials(NS, GARAGE_SECRET, garage.key()));

    // Upper-case host, `*` headers without Authorization on Garage (a
    // literal `*`), Max-Age above Chromium's cap and one Garage never sends.
    let linted = object(
        &endpoint,
        "linted",
        LINTED_BUCKET,
        json!({
            "allowedOrigins": ["https://App.example.com"],
            "allowedMethods": ["GET", "PUT"],
            "allowedHeaders": ["*"],
            "maxAgeSeconds": 9000,
        }),
    );
    let clean = object(
        &endpoint,
        "clean",
        CLEAN_BUCKET,
        json!({
            "allowedOrigins": ["https://app.example.com"],
            "allowedMethods": ["GET", "PUT"],
            "allowedHeaders": ["content-type"],
        }),
    );
    let (shown, quiet) = expected_messages(&linted);
    assert!(shown.len() >= 3, "the manifest is linted: {shown:#?}");
    assert!(
        engine_lints(&clean).is_empty(),
        "the clean twin is clean: {:#?}",
        engine_lints(&clean)
    );

    // The API server loads a new policy asynchronously: wait (dry run)
    // until it warns, so the clean apply below is a real negative.
    let linted_text = linted.to_string();
    cluster.wait_for("the admission policy to warn", SETTLE, || {
        let out = cluster
            .plane
            .kubectl_with_input(&["apply", "--dry-run=server", "-f", "-"], &linted_text)
            .unwrap_or_else(|e| panic!("{e}"));
        String::from_utf8_lossy(&out.stderr)
            .contains(admission::POLICY_NAME)
            .then_some(())
    });

    // 1. kubectl apply: accepted, with the warnings on stderr.
    let (ok, stdout, stderr) = cluster.apply_raw(&linted_text);
    assert!(ok, "a linted object is accepted: {stderr}");
    assert!(
        stdout.contains("bucketcors.bucketcors.dev/linted created"),
        "{stdout}"
    );
    for message in &shown {
        assert!(
            stderr.contains("Warning: ") && stderr.contains(message.as_str()),
            "kubectl prints {message}:\n{stderr}"
        );
    }
    for id in &quiet {
        assert!(
            !stderr.contains(id.as_str()),
            "{id} is not a lint here:\n{stderr}"
        );
    }
    let (ok, stdout, stderr) = cluster.apply_raw(&clean.to_string());
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("bucketcors.bucketcors.dev/clean created"),
        "{stdout}"
    );
    assert!(
        !stderr.contains("Warning") && !stderr.contains(admission::POLICY_NAME),
        "no warnings for a clean manifest:\n{stderr}"
    );

    // 2. The operator: Ready as always, Linted counts, status lists, one
    // Event per lint.
    let mut operator = Operator::start(&cluster, "bucketcors-0");
    for name in ["linted", "clean"] {
        cluster.wait_condition(NS, name, "Ready", "True", Some("Synced"), SETTLE);
    }
    let lints = engine_lints(&linted);
    let linted_condition =
        cluster.wait_condition(NS, "linted", "Linted", "True", Some("Warnings"), SETTLE);
    assert_eq!(
        linted_condition["message"],
        format!("{} lint warnings in status.warnings", lints.len())
    );
    let warnings = warnings_of(&cluster, "linted");
    lines_are(&warnings, &lints);
    cluster.wait_condition(NS, "clean", "Linted", "True", Some("Clean"), SETTLE);
    assert!(warnings_of(&cluster, "clean").is_empty());

    let (notes, _) = cluster.wait_for("one Lint Event per warning", SETTLE, || {
        let events = lint_events(&cluster, "linted");
        (events.0.len() >= warnings.len()).then_some(events)
    });
    let notes: BTreeSet<String> = notes.into_iter().collect();
    let listed: BTreeSet<String> = warnings.iter().cloned().collect();
    assert_eq!(notes, listed, "one Event per status warning");
    assert!(lint_events(&cluster, "clean").0.is_empty());

    // 3. Resyncs (every 2 s) publish no Event again.
    let before = operator.reconciles();
    cluster.wait_for("two more reconciles", SETTLE, || {
        (operator.reconciles() >= before + 4).then_some(())
    });
    let (again, repeats) = lint_events(&cluster, "linted");
    assert_eq!(again.len(), warnings.len(), "{again:#?}");
    assert_eq!(repeats, 1, "a resync repeats no Lint Event");

    // 4. An edit: only the lints the old status did not list get an Event.
    let mut edited = linted.clone();
    edited["spec"]["rules"][0]["maxAgeSeconds"] = 0.into();
    let edited_lints = engine_lints(&edited);
    let old: BTreeSet<String> = warnings.iter().cloned().collect();
    cluster.apply(&edited.to_string());
    let edited_warnings = cluster.wait_for("the edit's warnings", SETTLE, || {
        let now = warnings_of(&cluster, "linted");
        (now.len() == edited_lints.len() && now != warnings).then_some(now)
    });
    lines_are(&edited_warnings, &edited_lints);
    let fresh: BTreeSet<String> = edited_warnings
        .iter()
        .filter(|w| !old.contains(*w))
        .cloned()
        .collect();
    assert!(!fresh.is_empty(), "Max-Age 0 is a lint of its own");
    let expected: BTreeSet<String> = old.union(&fresh).cloned().collect();
    let notes = cluster.wait_for("the new lints' Events", SETTLE, || {
        let (notes, _) = lint_events(&cluster, "linted");
        let notes: BTreeSet<String> = notes.into_iter().collect();
        (notes.len() >= expected.len()).then_some(notes)
    });
    assert_eq!(
        notes, expected,
        "one new Event per new lint, none for kept ones"
    );
    operator.terminate();
}
