//! The generated CRD schema, checked offline the way the API server checks
//! a manifest on `kubectl apply`: structural OpenAPI validation of good and
//! bad manifests, and every CEL `x-kubernetes-validations` rule evaluated
//! (through kube's `cel` feature, i.e. `kube-cel`) with one object it
//! accepts and one it refuses. A CEL rule added to the types without a case
//! here fails `every_cel_rule_is_tested`.

use bucketcors_operator::crd::validate::{KNOWN_KEYWORDS, openapi_schema};
use bucketcors_operator::crd::{BucketCors, validate_manifest};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// A manifest the API server must accept; cases below alter one thing.
fn good_s3() -> Value {
    json!({
        "apiVersion": "bucketcors.dev/v1alpha1",
        "kind": "BucketCors",
        "metadata": {"name": "assets", "namespace": "web"},
        "spec": {
            "backend": {
                "provider": "s3",
                "bucket": "acme-assets",
                "region": "eu-west-1",
                "endpoint": "https://s3.eu-west-1.amazonaws.com",
                "pathStyle": false,
                "credentialsSecretRef": {"name": "s3-credentials", "accessKeyIdKey": "id", "secretAccessKeyKey": "secret"}
            },
            "rules": [{
                "id": "sites",
                "allowedOrigins": ["https://acme.example", "https://*.acme.example"],
                "allowedMethods": ["GET", "HEAD"],
                "allowedHeaders": ["range", "x-amz-*"],
                "exposeHeaders": ["ETag"],
                "maxAgeSeconds": 86400
            }],
            "edge": {"enabled": true, "hosts": ["assets.acme.example"], "pathPrefix": "/static", "originUrl": "https://acme-assets.s3.eu-west-1.amazonaws.com"},
            "deletionPolicy": "Retain",
            "resyncInterval": "10m"
        }
    })
}

fn good_oss() -> Value {
    json!({
        "apiVersion": "bucketcors.dev/v1alpha1",
        "kind": "BucketCors",
        "metadata": {"name": "uploads"},
        "spec": {
            "backend": {"provider": "oss", "bucket": "uploads", "region": "cn-hangzhou"},
            "rules": [{"allowedOrigins": ["*"], "allowedMethods": ["PUT", "POST"], "allowedHeaders": ["*"]}],
            "responseVary": true
        }
    })
}

/// `base` with the JSON pointer `path` set to `value` (`None` removes it).
fn with(mut base: Value, path: &str, value: Option<Value>) -> Value {
    let (parent, last) = path.rsplit_once('/').expect("a pointer");
    let target = base
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("no {parent}"));
    match (target, value) {
        (Value::Object(map), Some(v)) => {
            map.insert(last.to_string(), v);
        }
        (Value::Object(map), None) => {
            map.remove(last);
        }
        (Value::Array(items), Some(v)) => items[last.parse::<usize>().unwrap()] = v,
        (other, _) => panic!("cannot set {path} in {other}"),
    }
    base
}

fn rules(n: usize) -> Value {
    Value::Array(
        (0..n)
            .map(|i| json!({"allowedOrigins": [format!("https://site{i}.example")], "allowedMethods": ["GET"]}))
            .collect(),
    )
}

#[track_caller]
fn accepted(manifest: &Value) {
    let errors = validate_manifest(manifest);
    assert!(errors.is_empty(), "expected acceptance, got: {errors:#?}");
}

#[track_caller]
fn refused(manifest: &Value, field: &str, says: &str) {
    let errors = validate_manifest(manifest);
    assert!(
        errors.iter().any(|e| e.contains(field) && e.contains(says)),
        "expected an error on `{field}` saying `{says}`, got: {errors:#?}"
    );
}

#[test]
fn good_manifests_are_accepted_and_deserialize() {
    for manifest in [good_s3(), good_oss()] {
        accepted(&manifest);
        let typed: BucketCors =
            serde_json::from_value(manifest).expect("the types read what the schema accepts");
        assert!(!typed.spec.rules.is_empty());
    }
    // Every optional field absent.
    accepted(&json!({
        "apiVersion": "bucketcors.dev/v1alpha1", "kind": "BucketCors", "metadata": {"name": "min"},
        "spec": {"backend": {"provider": "s3", "bucket": "b"}, "rules": [{"allowedOrigins": ["*"], "allowedMethods": ["GET"]}]}
    }));
}

#[test]
fn structural_checks_name_the_field() {
    let s3 = good_s3;
    refused(
        &with(s3(), "/spec/rules/0/allowedMethods/0", Some(json!("PATCH"))),
        "spec.rules[0].allowedMethods[0]",
        "Unsupported value: \"PATCH\"",
    );
    refused(
        &with(s3(), "/spec/rules/0/allowedMethods/0", Some(json!("get"))),
        "spec.rules[0].allowedMethods[0]",
        "supported values",
    );
    refused(
        &with(
            s3(),
            "/spec/rules/0/allowedMethods",
            Some(json!(["GET", "GET"])),
        ),
        "spec.rules[0].allowedMethods[1]",
        "Duplicate value",
    );
    refused(
        &with(s3(), "/spec/rules/0/allowedMethods", Some(json!([]))),
        "spec.rules[0].allowedMethods",
        "at least 1 items",
    );
    refused(
        &with(s3(), "/spec/rules/0/allowedOrigins", None),
        "spec.rules[0].allowedOrigins",
        "Required value",
    );
    refused(
        &with(s3(), "/spec/rules", Some(json!([]))),
        "spec.rules",
        "at least 1 items",
    );
    refused(
        &with(s3(), "/spec/rules", Some(rules(101))),
        "spec.rules",
        "at most 100 items",
    );
    refused(
        &with(s3(), "/spec/rules", None),
        "spec.rules",
        "Required value",
    );
    refused(
        &with(s3(), "/spec/rules/0/maxAgeSeconds", Some(json!(-1))),
        "spec.rules[0].maxAgeSeconds",
        "greater than or equal to 0",
    );
    refused(
        &with(s3(), "/spec/rules/0/maxAgeSeconds", Some(json!("1h"))),
        "spec.rules[0].maxAgeSeconds",
        "must be of type integer",
    );
    refused(
        &with(
            s3(),
            "/spec/rules/0/allowedOrigins/0",
            Some(json!("https://a.example\r\nX: y")),
        ),
        "spec.rules[0].allowedOrigins[0]",
        "should match",
    );
    refused(
        &with(s3(), "/spec/rules/0/allowedOrigins/0", Some(json!(""))),
        "spec.rules[0].allowedOrigins[0]",
        "at least 1 chars",
    );
    refused(
        &with(s3(), "/spec/rules/0/id", Some(json!("x".repeat(256)))),
        "spec.rules[0].id",
        "Too long",
    );
    refused(
        &with(s3(), "/spec/rules/0/allowedHeader", Some(json!(["x"]))),
        "spec.rules[0].allowedHeader",
        "unknown field",
    );
    refused(
        &with(s3(), "/spec/backend/provider", Some(json!("gcs"))),
        "spec.backend.provider",
        "supported values: \"oss\", \"s3\"",
    );
    refused(
        &with(s3(), "/spec/backend/bucket", None),
        "spec.backend.bucket",
        "Required value",
    );
    refused(
        &with(
            s3(),
            "/spec/backend/credentialsSecretRef/name",
            Some(json!("Bad_Name")),
        ),
        "spec.backend.credentialsSecretRef.name",
        "should match",
    );
    refused(
        &with(s3(), "/spec/deletionPolicy", Some(json!("Orphan"))),
        "spec.deletionPolicy",
        "supported values: \"Delete\", \"Retain\"",
    );
    refused(
        &with(s3(), "/spec/resyncInterval", Some(json!("five minutes"))),
        "spec.resyncInterval",
        "should match",
    );
    refused(
        &with(s3(), "/spec/edge/pathPrefix", Some(json!("static"))),
        "spec.edge.pathPrefix",
        "should match",
    );
    refused(
        &with(s3(), "/spec/edge/hosts", Some(json!("a.example"))),
        "spec.edge.hosts",
        "must be of type array",
    );
    refused(
        &with(s3(), "/spec/colour", Some(json!("blue"))),
        "spec.colour",
        "unknown field",
    );
    refused(
        &with(s3(), "/apiVersion", Some(json!("bucketcors.dev/v1"))),
        "apiVersion",
        "bucketcors.dev/v1alpha1",
    );
    refused(
        &with(s3(), "/metadata/name", Some(json!("Assets"))),
        "metadata.name",
        "RFC 1123",
    );
}

/// One CEL rule of the schema, with an object it accepts and one it refuses.
struct CelCase {
    rule: &'static str,
    pass: Value,
    fail: Value,
    field: &'static str,
    message: &'static str,
}

fn cel_cases() -> Vec<CelCase> {
    let s3 = good_s3;
    let oss = good_oss;
    vec![
        CelCase {
            rule: "self.backend.provider != 'oss' || size(self.rules) <= 10",
            pass: with(oss(), "/spec/rules", Some(rules(10))),
            fail: with(oss(), "/spec/rules", Some(rules(11))),
            field: "spec",
            message: "OSS allows at most 10 CORS rules",
        },
        CelCase {
            rule: "!has(self.responseVary) || self.backend.provider == 'oss'",
            pass: oss(),
            fail: with(s3(), "/spec/responseVary", Some(json!(true))),
            field: "spec",
            message: "spec.responseVary is an OSS setting",
        },
        CelCase {
            rule: "!has(self.flavor) || ((self.flavor == 'oss') == (self.provider == 'oss'))",
            pass: with(s3(), "/spec/backend/flavor", Some(json!("garage"))),
            fail: with(oss(), "/spec/backend/flavor", Some(json!("garage"))),
            field: "spec.backend",
            message: "spec.backend.flavor oss needs spec.backend.provider oss",
        },
        CelCase {
            rule: "self.matches('^[a-zA-Z0-9._-]+$')",
            pass: with(s3(), "/spec/backend/bucket", Some(json!("my.bucket-1_x"))),
            fail: with(s3(), "/spec/backend/bucket", Some(json!("my bucket/x"))),
            field: "spec.backend.bucket",
            message: "may only contain letters, digits",
        },
        CelCase {
            rule: "self.startsWith('https://') || self.startsWith('http://')",
            pass: with(
                s3(),
                "/spec/backend/endpoint",
                Some(json!("http://127.0.0.1:3900")),
            ),
            fail: with(
                s3(),
                "/spec/backend/endpoint",
                Some(json!("s3.amazonaws.com")),
            ),
            field: "spec.backend.endpoint",
            message: "must be a URL starting with https:// or http://",
        },
        CelCase {
            rule: "!self.enabled || size(self.hosts) > 0",
            pass: with(s3(), "/spec/edge", Some(json!({"enabled": false}))),
            fail: with(s3(), "/spec/edge", Some(json!({"enabled": true}))),
            field: "spec.edge",
            message: "spec.edge.hosts must name at least one host",
        },
        CelCase {
            rule: "self.all(h, size(h) <= 253 && h.matches('^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$'))",
            pass: with(
                s3(),
                "/spec/edge/hosts",
                Some(json!(["cdn.acme.example", "localhost"])),
            ),
            fail: with(
                s3(),
                "/spec/edge/hosts",
                Some(json!(["cdn.acme.example", "https://cdn.acme.example"])),
            ),
            field: "spec.edge.hosts",
            message: "must be a lower-case DNS host name",
        },
        CelCase {
            // The same text guards spec.edge.originUrl; see `origin_url_rule`.
            rule: "self.startsWith('https://') || self.startsWith('http://')#originUrl",
            pass: with(
                s3(),
                "/spec/edge/originUrl",
                Some(json!("http://127.0.0.1:3900/assets")),
            ),
            fail: with(
                s3(),
                "/spec/edge/originUrl",
                Some(json!("acme-assets.s3.amazonaws.com")),
            ),
            field: "spec.edge.originUrl",
            message: "spec.edge.originUrl must be a URL",
        },
        CelCase {
            rule: "!self.matches('[*].*[*]')#origin",
            pass: with(
                s3(),
                "/spec/rules/0/allowedOrigins/0",
                Some(json!("https://*.acme.example")),
            ),
            fail: with(
                s3(),
                "/spec/rules/0/allowedOrigins/0",
                Some(json!("https://*.acme.*")),
            ),
            field: "spec.rules[0].allowedOrigins[0]",
            message: "an allowed origin may contain at most one '*'",
        },
        CelCase {
            rule: "!self.matches('^[^/]*//[^/]*/')",
            pass: with(
                s3(),
                "/spec/rules/0/allowedOrigins/0",
                Some(json!("http://localhost:4200")),
            ),
            fail: with(
                s3(),
                "/spec/rules/0/allowedOrigins/0",
                Some(json!("https://app.example.com/")),
            ),
            field: "spec.rules[0].allowedOrigins[0]",
            message: "no path and no trailing slash",
        },
        CelCase {
            rule: "!self.matches('[*].*[*]')#header",
            pass: with(
                s3(),
                "/spec/rules/0/allowedHeaders/1",
                Some(json!("x-amz-*")),
            ),
            fail: with(
                s3(),
                "/spec/rules/0/allowedHeaders/1",
                Some(json!("x-*-meta-*")),
            ),
            field: "spec.rules[0].allowedHeaders[1]",
            message: "an allowed header may contain at most one '*'",
        },
        CelCase {
            rule: "!self.contains('*')",
            pass: with(
                s3(),
                "/spec/rules/0/exposeHeaders/0",
                Some(json!("x-amz-request-id")),
            ),
            fail: with(
                s3(),
                "/spec/rules/0/exposeHeaders/0",
                Some(json!("x-amz-*")),
            ),
            field: "spec.rules[0].exposeHeaders[0]",
            message: "exposeHeaders name response headers one by one",
        },
    ]
}

#[test]
fn every_cel_rule_accepts_and_refuses() {
    for case in cel_cases() {
        let errors = validate_manifest(&case.pass);
        assert!(
            errors.is_empty(),
            "rule `{}` refused its passing object: {errors:#?}",
            case.rule
        );
        let errors = validate_manifest(&case.fail);
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with(case.field) && e.contains(case.message)),
            "rule `{}` should refuse with `{}: ...{}...`, got {errors:#?}",
            case.rule,
            case.field,
            case.message
        );
    }
}

/// Every `x-kubernetes-validations` rule in the schema.
fn schema_rules(node: &Value, out: &mut Vec<String>) {
    match node {
        Value::Object(map) => {
            if let Some(Value::Array(rules)) = map.get("x-kubernetes-validations") {
                for rule in rules {
                    out.push(rule["rule"].as_str().expect("rule text").to_string());
                    assert!(
                        rule["message"].as_str().is_some_and(|m| m.len() > 20),
                        "every CEL rule says what to fix: {rule}"
                    );
                }
            }
            map.values().for_each(|v| schema_rules(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| schema_rules(v, out)),
        _ => {}
    }
}

#[test]
fn every_cel_rule_is_tested() {
    let mut in_schema = Vec::new();
    schema_rules(&openapi_schema(), &mut in_schema);
    let tested: Vec<String> = cel_cases()
        .iter()
        .map(|c| c.rule.split('#').next().unwrap().to_string())
        .collect();
    // Compare as multisets: the same rule text may guard several fields.
    let mut a = in_schema.clone();
    let mut b = tested.clone();
    a.sort();
    b.sort();
    assert_eq!(
        a, b,
        "each CEL rule of the schema needs exactly one case in cel_cases()"
    );
}

#[test]
fn schema_uses_only_keywords_the_offline_validator_knows() {
    fn walk(node: &Value, path: &str, unknown: &mut BTreeSet<String>) {
        let Value::Object(map) = node else { return };
        for (key, value) in map {
            if !KNOWN_KEYWORDS.contains(&key.as_str()) {
                unknown.insert(format!("{path}/{key}"));
            }
            match key.as_str() {
                "properties" => {
                    for (name, sub) in value.as_object().expect("properties is an object") {
                        walk(sub, &format!("{path}/{name}"), unknown);
                    }
                }
                "items" | "additionalProperties" => walk(value, &format!("{path}/{key}"), unknown),
                _ => {}
            }
        }
    }
    let mut unknown = BTreeSet::new();
    walk(&openapi_schema(), "", &mut unknown);
    assert!(
        unknown.is_empty(),
        "schema keywords validate_manifest ignores: {unknown:?}"
    );
}

#[test]
fn cel_rules_compile_and_fit_the_cost_budget() {
    use kube::core::cel::{compile_schema, estimate_rule_cost};
    // Each rule is costed against the schema node it is attached to, as the
    // API server does; the bounds (maxItems, maxLength) are what keep it low.
    fn walk(node: &Value, checked: &mut usize) {
        match node {
            Value::Object(map) => {
                if let Some(Value::Array(rules)) = map.get("x-kubernetes-validations") {
                    let compiled = compile_schema(node);
                    assert!(
                        !compiled.has_errors(),
                        "CEL compilation: {:?}",
                        compiled.compilation_errors()
                    );
                    for rule in rules {
                        let rule = rule["rule"].as_str().expect("rule text");
                        let warnings = estimate_rule_cost(rule, &compiled);
                        assert!(
                            warnings.is_empty(),
                            "rule `{rule}` may exceed the API server's cost budget: {warnings:?}"
                        );
                        *checked += 1;
                    }
                }
                map.values().for_each(|v| walk(v, checked));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, checked)),
            _ => {}
        }
    }
    let mut checked = 0;
    walk(&openapi_schema(), &mut checked);
    assert_eq!(checked, cel_cases().len());
}

#[test]
fn printer_columns_and_names() {
    use kube::CustomResourceExt;
    let crd = BucketCors::crd();
    assert_eq!(crd.spec.group, "bucketcors.dev");
    assert_eq!(
        crd.spec.names.short_names.as_deref(),
        Some(&["bcors".to_string()][..])
    );
    let version = &crd.spec.versions[0];
    assert_eq!(version.name, "v1alpha1");
    assert!(
        version
            .subresources
            .as_ref()
            .and_then(|s| s.status.as_ref())
            .is_some(),
        "status subresource"
    );
    let columns: Vec<&str> = version
        .additional_printer_columns
        .as_ref()
        .expect("printer columns")
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        columns,
        ["Provider", "Bucket", "Rules", "Ready", "Edge", "Age"]
    );
}
