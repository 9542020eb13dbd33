//! Every manifest in `examples/` is one `kubectl apply` would accept and the
//! operator could act on:
//!
//! - each `BucketCors` passes the generated CRD schema and its CEL rules
//!   offline ([`validate_manifest`], what the API server would check), and
//!   `bucketcors validate` (the engine's rules for the bucket's dialect);
//! - each Secret it references exists among the examples, in the same
//!   namespace, with the keys it names, and holds placeholders, never a
//!   real-looking secret.
//!
//! The checks are shown to bite: altered copies of the examples are refused
//! by both validators with a message naming the field.

use bucketcors_operator::crd::{BucketCors, validate_manifest};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

/// Every YAML document under `examples/`, with the file it came from.
fn example_documents() -> Vec<(PathBuf, Value)> {
    let mut files = Vec::new();
    let mut dirs = vec![examples_dir()];
    while let Some(dir) = dirs.pop() {
        for entry in
            std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml")
            ) {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut docs = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("example readable");
        for doc in serde_norway::Deserializer::from_str(&text) {
            let value = Value::deserialize(doc)
                .unwrap_or_else(|e| panic!("{}: not YAML: {e}", file.display()));
            if !value.is_null() {
                docs.push((file.clone(), value));
            }
        }
    }
    docs
}

fn kind(doc: &Value) -> &str {
    doc["kind"].as_str().unwrap_or("")
}

fn namespace(doc: &Value) -> &str {
    doc["metadata"]["namespace"].as_str().unwrap_or("default")
}

/// Runs the `bucketcors` binary of this build.
fn bucketcors(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_bucketcors"))
        .args(args)
        .output()
        .expect("the bucketcors binary runs")
}

#[test]
fn examples_cover_the_documented_buckets() {
    let docs = example_documents();
    let bucket_cors: Vec<&Value> = docs
        .iter()
        .map(|(_, d)| d)
        .filter(|d| kind(d) == "BucketCors")
        .collect();
    let provider = |d: &Value| {
        d["spec"]["backend"]["provider"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    assert!(
        bucket_cors
            .iter()
            .any(|d| provider(d) == "oss" && d["spec"]["responseVary"] == Value::Bool(true)),
        "an OSS upload bucket with responseVary"
    );
    assert!(
        bucket_cors
            .iter()
            .any(|d| provider(d) == "s3" && d["spec"]["edge"]["enabled"] == Value::Bool(true)),
        "an S3 assets bucket behind the edge"
    );
    assert!(
        bucket_cors.iter().any(|d| d["spec"]["backend"]["endpoint"]
            .as_str()
            .is_some_and(|e| e.ends_with(".r2.cloudflarestorage.com"))),
        "an R2 bucket"
    );
    for (file, doc) in &docs {
        assert!(
            matches!(kind(doc), "BucketCors" | "Secret"),
            "{}: unexpected kind `{}` in examples/",
            file.display(),
            kind(doc)
        );
    }
}

#[test]
fn every_bucket_cors_example_passes_the_crd_schema_and_cel_rules() {
    let mut checked = 0;
    for (file, doc) in example_documents() {
        if kind(&doc) != "BucketCors" {
            continue;
        }
        let errors = validate_manifest(&doc);
        assert!(
            errors.is_empty(),
            "{}: the API server would refuse it:\n  {}",
            file.display(),
            errors.join("\n  ")
        );
        let typed: BucketCors = serde_json::from_value(doc.clone()).unwrap_or_else(|e| {
            panic!(
                "{}: does not deserialize as BucketCors: {e}",
                file.display()
            )
        });
        assert!(
            !typed.spec.rules.is_empty(),
            "{}: has rules",
            file.display()
        );
        checked += 1;
    }
    assert!(
        checked >= 3,
        "expected at least 3 BucketCors examples, found {checked}"
    );
}

#[test]
fn altered_examples_are_refused_by_the_schema_with_the_field_named() {
    let docs = example_documents();
    let find = |pred: &dyn Fn(&Value) -> bool| -> Value {
        docs.iter()
            .map(|(_, d)| d)
            .find(|d| kind(d) == "BucketCors" && pred(d))
            .expect("example exists")
            .clone()
    };
    let s3 = find(&|d| d["spec"]["backend"]["provider"] == "s3");
    let oss = find(&|d| d["spec"]["backend"]["provider"] == "oss");

    let mut vary_on_s3 = s3.clone();
    vary_on_s3["spec"]["responseVary"] = Value::Bool(true);
    let mut eleven_oss_rules = oss.clone();
    let rule = oss["spec"]["rules"][0].clone();
    eleven_oss_rules["spec"]["rules"] = Value::Array((0..11).map(|_| rule.clone()).collect());
    let mut two_stars = s3.clone();
    two_stars["spec"]["rules"][0]["allowedOrigins"][0] = Value::from("https://*.*.acme.example");
    let mut bad_method = s3.clone();
    bad_method["spec"]["rules"][0]["allowedMethods"][0] = Value::from("PATCH");

    for (altered, expect) in [
        (vary_on_s3, "responseVary"),
        (eleven_oss_rules, "10"),
        (two_stars, "'*'"),
        (bad_method, "allowedMethods"),
    ] {
        let errors = validate_manifest(&altered);
        assert!(
            errors.iter().any(|e| e.contains(expect)),
            "expected a refusal mentioning `{expect}`, got {errors:?}"
        );
    }
}

#[test]
fn every_bucket_cors_example_passes_bucketcors_validate() {
    let mut checked = 0;
    for (file, doc) in example_documents() {
        if kind(&doc) != "BucketCors" {
            continue;
        }
        let out = bucketcors(&["validate", file.to_str().expect("utf-8 path")]);
        assert!(
            out.status.success(),
            "{}: `bucketcors validate` refused it:\n{}{}",
            file.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        checked += 1;
    }
    assert!(checked >= 3);
}

#[test]
fn bucketcors_validate_refuses_an_altered_example() {
    let (file, doc) = example_documents()
        .into_iter()
        .find(|(_, d)| kind(d) == "BucketCors" && d["spec"]["backend"]["provider"] == "s3")
        .expect("an S3 example");
    let mut altered = doc;
    // A path in an origin can never match a browser's Origin header.
    altered["spec"]["rules"][0]["allowedOrigins"][0] = Value::from("https://acme.example/app/");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(file.file_name().expect("file name"));
    std::fs::write(&path, serde_norway::to_string(&altered).expect("YAML")).expect("write");
    let out = bucketcors(&["validate", path.to_str().expect("utf-8 path")]);
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !out.status.success(),
        "`bucketcors validate` accepted an origin with a path:\n{said}"
    );
    assert!(
        said.contains("https://acme.example/app/"),
        "the refusal names the bad origin:\n{said}"
    );
}

#[test]
fn referenced_secrets_exist_with_their_keys_and_hold_placeholders_only() {
    let docs = example_documents();
    let mut secrets: BTreeMap<(String, String), &Value> = BTreeMap::new();
    for (file, doc) in &docs {
        if kind(doc) != "Secret" {
            continue;
        }
        assert!(
            doc.get("data").is_none(),
            "{}: use stringData with visible placeholders",
            file.display()
        );
        let data = doc["stringData"]
            .as_object()
            .unwrap_or_else(|| panic!("{}: stringData", file.display()));
        for (key, value) in data {
            let value = value.as_str().unwrap_or("");
            assert!(
                value.starts_with("REPLACE_WITH_"),
                "{}: stringData.{key} must be a REPLACE_WITH_... placeholder, never a real value",
                file.display()
            );
        }
        let name = doc["metadata"]["name"]
            .as_str()
            .expect("Secret name")
            .to_string();
        secrets.insert((namespace(doc).to_string(), name), doc);
    }
    let mut referenced = 0;
    for (file, doc) in &docs {
        if kind(doc) != "BucketCors" {
            continue;
        }
        let typed: BucketCors = serde_json::from_value(doc.clone()).expect("BucketCors");
        let Some(reference) = typed.spec.backend.credentials_secret_ref.as_ref() else {
            continue;
        };
        let secret = secrets
            .get(&(namespace(doc).to_string(), reference.name.clone()))
            .unwrap_or_else(|| {
                panic!(
                    "{}: Secret {}/{} is not among the examples",
                    file.display(),
                    namespace(doc),
                    reference.name
                )
            });
        for key in [
            reference.access_key_id_key(),
            reference.secret_access_key_key(),
        ] {
            assert!(
                secret["stringData"].get(key).is_some(),
                "{}: Secret {} has no key `{key}`",
                file.display(),
                reference.name
            );
        }
        referenced += 1;
    }
    assert!(
        referenced >= 3,
        "each bucket example references its Secret ({referenced} found)"
    );
}
