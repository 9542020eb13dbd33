//! The chart's ValidatingAdmissionPolicy (issue 16, item 3, the parts that
//! need no cluster): the checked-in template is what `bucketcors
//! admission-policy` generates from the engine's lint catalog, and its CEL
//! agrees with the engine's lints.
//!
//! Agreement is checked offline with the same CEL evaluator the CRD tests
//! use (kube-cel): each policy expression, with `object` read as `self`, is
//! attached to the root of the CRD's schema and evaluated on manifests; the
//! codes whose expressions fail must be exactly the codes the engine's
//! `lint()` reports (among those that have an expression).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use bucketcors_engine::lint::{LintOptions, lint};
use bucketcors_engine::{CATALOG, Target};
use bucketcors_operator::admission::{POLICY_PATH, policy_yaml, validations};
use bucketcors_operator::crd::BucketCors;
use bucketcors_operator::crd::validate::openapi_schema;
use kube::core::cel::Validator;
use serde_json::{Value, json};

#[test]
fn checked_in_policy_matches_the_catalog() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(POLICY_PATH);
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == policy_yaml(),
        "{POLICY_PATH} is stale; regenerate it with:\n  cargo run -p bucketcors-operator -- admission-policy > {POLICY_PATH}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_bucketcors"))
        .arg("admission-policy")
        .output()
        .expect("run bucketcors admission-policy");
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), policy_yaml());
    // Without the Helm wrapper it is a policy and a Warn binding.
    let body: String = policy_yaml()
        .lines()
        .filter(|l| !l.starts_with("{{") && !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    let docs: Vec<serde_norway::Value> = body
        .split("---\n")
        .map(|d| serde_norway::from_str(d).expect("YAML"))
        .collect();
    assert_eq!(docs[0]["kind"].as_str(), Some("ValidatingAdmissionPolicy"));
    assert_eq!(
        docs[1]["kind"].as_str(),
        Some("ValidatingAdmissionPolicyBinding")
    );
    assert_eq!(
        docs[1]["spec"]["validationActions"][0].as_str(),
        Some("Warn")
    );
    let n = docs[0]["spec"]["validations"]
        .as_sequence()
        .map_or(0, |v| v.len());
    assert_eq!(n, CATALOG.iter().filter(|i| i.cel.is_some()).count());
}

/// A manifest with `rules` and an optional flavor.
fn manifest(flavor: Option<&str>, rules: Value) -> Value {
    let mut backend = json!({"provider": "s3", "bucket": "b"});
    if let Some(f) = flavor {
        backend["flavor"] = f.into();
    }
    json!({
        "apiVersion": "bucketcors.dev/v1alpha1",
        "kind": "BucketCors",
        "metadata": {"name": "m", "namespace": "default"},
        "spec": {"backend": backend, "rules": rules},
    })
}

/// The codes whose policy expressions fail on `manifest`.
fn cel_codes(manifest: &Value) -> BTreeSet<String> {
    let mut schema = openapi_schema();
    let rules: Vec<Value> = validations("self")
        .into_iter()
        .map(|(info, expression)| json!({"rule": expression, "message": info.id}))
        .collect();
    schema["x-kubernetes-validations"] = Value::Array(rules);
    match Validator::new().validate(&schema, manifest, None) {
        Ok(()) => BTreeSet::new(),
        Err(failures) => failures
            .iter()
            .map(|f| {
                let text = f.to_string();
                let at = text
                    .find("BC")
                    .unwrap_or_else(|| panic!("not a lint failure: {text}"));
                text[at..at + 5].to_owned()
            })
            .collect(),
    }
}

/// The codes the engine reports (among those with an expression).
fn engine_codes(manifest: &Value) -> BTreeSet<String> {
    let obj: BucketCors = serde_json::from_value(manifest.clone()).expect("manifest");
    let with_cel: BTreeSet<&str> = CATALOG
        .iter()
        .filter(|i| i.cel.is_some())
        .map(|i| i.id)
        .collect();
    let target = obj.spec.backend.flavor.or(Some(Target::S3));
    let options = LintOptions {
        credentials: false,
        target,
    };
    lint(&obj.spec.cors_config(), obj.spec.dialect(), &options)
        .into_iter()
        .map(|l| l.code.id().to_owned())
        .filter(|id| with_cel.contains(id.as_str()))
        .collect()
}

#[test]
fn policy_expressions_agree_with_the_engine() {
    let r = |origins: &[&str], methods: &[&str], extra: Value| {
        let mut rule = json!({"allowedOrigins": origins, "allowedMethods": methods});
        if let Value::Object(m) = extra {
            for (k, v) in m {
                rule[k] = v;
            }
        }
        rule
    };
    let none = json!({});
    let cases: Vec<(Option<&str>, Value)> = vec![
        (
            None,
            json!([r(&["https://app.example.com"], &["GET"], none.clone())]),
        ),
        (
            None,
            json!([r(&["https://App.example.com"], &["GET"], none.clone())]),
        ),
        (
            None,
            json!([r(
                &["https://app.example.com:443", "http://a.example.com:80"],
                &["GET"],
                none.clone()
            )]),
        ),
        (
            None,
            json!([r(
                &["https://app.example.com:8443", "http://a.example.com:8080"],
                &["GET"],
                none.clone()
            )]),
        ),
        (
            None,
            json!([r(
                &["https://app.example.com.", "https://b.example.com.:8443"],
                &["GET"],
                none.clone()
            )]),
        ),
        (
            None,
            json!([r(&["app.example.com"], &["GET"], none.clone())]),
        ),
        (None, json!([r(&["null"], &["GET"], none.clone())])),
        (
            None,
            json!([r(
                &["https://app.example.com"],
                &["GET"],
                json!({"maxAgeSeconds": 7201})
            )]),
        ),
        (
            None,
            json!([r(
                &["https://app.example.com"],
                &["GET"],
                json!({"maxAgeSeconds": 7200})
            )]),
        ),
        (
            None,
            json!([r(
                &["https://app.example.com"],
                &["GET"],
                json!({"maxAgeSeconds": 86401})
            )]),
        ),
        (
            None,
            json!([r(
                &["https://app.example.com"],
                &["GET"],
                json!({"maxAgeSeconds": 0})
            )]),
        ),
        (
            None,
            json!([r(
                &["https://app.example.com"],
                &["GET"],
                json!({"exposeHeaders": ["Content-Length", "ETag"]})
            )]),
        ),
        (
            None,
            json!([r(
                &["https://app.example.com"],
                &["GET"],
                json!({"exposeHeaders": ["ETag"]})
            )]),
        ),
        (None, json!([r(&["*"], &["GET", "PUT"], none.clone())])),
        (None, json!([r(&["https://*"], &["DELETE"], none.clone())])),
        (None, json!([r(&["*"], &["GET", "HEAD"], none.clone())])),
        (
            None,
            json!([r(&["https://*.example.com"], &["POST"], none.clone())]),
        ),
        (
            Some("garage"),
            json!([r(
                &["https://app.example.com"],
                &["PUT"],
                json!({"allowedHeaders": ["*"]})
            )]),
        ),
        (
            Some("garage"),
            json!([r(
                &["https://app.example.com"],
                &["PUT"],
                json!({"allowedHeaders": ["*", "Authorization"]})
            )]),
        ),
        (
            Some("garage"),
            json!([r(
                &["https://*.example.com"],
                &["GET"],
                json!({"allowedHeaders": ["x-amz-*"]})
            )]),
        ),
        (
            Some("garage"),
            json!([r(
                &["https://a.example.com", "https://b.example.com"],
                &["GET"],
                json!({"maxAgeSeconds": 600})
            )]),
        ),
        (
            Some("garage"),
            json!([r(
                &["https://a.example.com"],
                &["GET"],
                json!({"maxAgeSeconds": 0, "allowedHeaders": ["content-type"]})
            )]),
        ),
        (
            None,
            json!([r(
                &["https://app.example.com"],
                &["PUT"],
                json!({"allowedHeaders": ["*"]})
            )]),
        ),
        (
            Some("minio"),
            json!([r(&["https://app.example.com"], &["GET"], none.clone())]),
        ),
        (
            Some("gcs-interop"),
            json!([r(&["https://app.example.com"], &["GET"], none.clone())]),
        ),
        (
            Some("r2"),
            json!([r(&["http://localhost:*"], &["GET"], none.clone())]),
        ),
        (
            Some("r2"),
            json!([r(&["https://*.example.com:8443"], &["GET"], none.clone())]),
        ),
        (
            Some("ceph"),
            json!([r(&["https://App.example.com"], &["GET"], none.clone())]),
        ),
    ];
    let mut fired = BTreeSet::new();
    for (flavor, rules) in cases {
        let m = manifest(flavor, rules);
        let (cel, engine) = (cel_codes(&m), engine_codes(&m));
        assert_eq!(cel, engine, "policy vs engine on {m}");
        fired.extend(cel);
    }
    // Every expression was seen to fire at least once.
    let all: BTreeSet<String> = CATALOG
        .iter()
        .filter(|i| i.cel.is_some())
        .map(|i| i.id.to_owned())
        .collect();
    assert_eq!(fired, all);
}
