//! The CRD's test cases, shared by the offline validator's test
//! (`crd_schema.rs`) and the differential test against a real API server
//! (`crd_apiserver.rs`): one table, so both judge exactly the same manifests.

#![allow(dead_code)] // each test binary uses its own part of the table

use serde_json::{Value, json};

/// A manifest the API server must accept; cases below alter one thing.
pub fn good_s3() -> Value {
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

pub fn good_oss() -> Value {
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
pub fn with(mut base: Value, path: &str, value: Option<Value>) -> Value {
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

pub fn rules(n: usize) -> Value {
    Value::Array(
        (0..n)
            .map(|i| json!({"allowedOrigins": [format!("https://site{i}.example")], "allowedMethods": ["GET"]}))
            .collect(),
    )
}

/// A manifest the API server must refuse, the field the refusal names and
/// what it says there.
pub struct Refusal {
    pub manifest: Value,
    pub field: &'static str,
    pub says: &'static str,
}

/// Structural (OpenAPI) refusals: each alters one thing of a good manifest.
pub fn structural_refusals() -> Vec<Refusal> {
    vec![
        Refusal {
            manifest: with(
                good_s3(),
                "/spec/rules/0/allowedMethods/0",
                Some(json!("PATCH")),
            ),
            field: "spec.rules[0].allowedMethods[0]",
            says: "Unsupported value: \"PATCH\"",
        },
        Refusal {
            manifest: with(
                good_s3(),
                "/spec/rules/0/allowedMethods/0",
                Some(json!("get")),
            ),
            field: "spec.rules[0].allowedMethods[0]",
            says: "supported values",
        },
        Refusal {
            manifest: with(
                good_s3(),
                "/spec/rules/0/allowedMethods",
                Some(json!(["GET", "GET"])),
            ),
            field: "spec.rules[0].allowedMethods[1]",
            says: "Duplicate value",
        },
        Refusal {
            manifest: with(good_s3(), "/spec/rules/0/allowedMethods", Some(json!([]))),
            field: "spec.rules[0].allowedMethods",
            says: "at least 1 items",
        },
        Refusal {
            manifest: with(good_s3(), "/spec/rules/0/allowedOrigins", None),
            field: "spec.rules[0].allowedOrigins",
            says: "Required value",
        },
        Refusal {
            manifest: with(good_s3(), "/spec/rules", Some(json!([]))),
            field: "spec.rules",
            says: "at least 1 items",
        },
        Refusal {
            manifest: with(good_s3(), "/spec/rules", Some(rules(101))),
            field: "spec.rules",
            says: "at most 100 items",
        },
        Refusal {
            manifest: with(good_s3(), "/spec/rules", None),
            field: "spec.rules",
            says: "Required value",
        },
        Refusal {
            manifest: with(good_s3(), "/spec/rules/0/maxAgeSeconds", Some(json!(-1))),
            field: "spec.rules[0].maxAgeSeconds",
            says: "greater than or equal to 0",
        },
        Refusal {
            manifest: with(good_s3(), "/spec/rules/0/maxAgeSeconds", Some(json!("1h"))),
            field: "spec.rules[0].maxAgeSeconds",
            says: "must be of type integer",
        },
        Refusal {
            manifest: with(
                good_s3(),
                "/spec/rules/0/allowedOrigins/0",
                Some(json!("https://a.example\r\nX: y")),
            ),
            field: "spec.rules[0].allowedOrigins[0]",
            says: "should match",
        },
        Refusal {
            manifest: with(good_s3(), "/spec/rules/0/allowedOrigins/0", Some(json!(""))),
            field: "spec.rules[0].allowedOrigins[0]",
            says: "at least 1 chars",
        },
        Refusal {
            manifest: with(good_s3(), "/spec/rules/0/id", Some(json!("x".repeat(256)))),
            field: "spec.rules[0].id",
            says: "Too long",
        },
        Refusal {
            manifest: with(good_s3(), "/spec/rules/0/allowedHeader", Some(json!(["x"]))),
            field: "spec.rules[0].allowedHeader",
            says: "unknown field",
        },
        Refusal {
            manifest: with(good_s3(), "/spec/backend/provider", Some(json!("gcs"))),
            field: "spec.backend.provider",
            says: "supported values: \"oss\", \"s3\"",
        },
        Refusal {
            manifest: with(good_s3(), "/spec/backend/bucket", None),
            field: "spec.backend.bucket",
            says: "Required value",
        },
        Refusal {
            manifest: with(
                good_s3(),
                "/spec/backend/credentialsSecretRef/name",
                Some(json!("Bad_Name")),
            ),
            field: "spec.backend.credentialsSecretRef.name",
            says: "should match",
        },
        Refusal {
            manifest: with(good_s3(), "/spec/deletionPolicy", Some(json!("Orphan"))),
            field: "spec.deletionPolicy",
            says: "supported values: \"Delete\", \"Retain\"",
        },
        Refusal {
            manifest: with(
                good_s3(),
                "/spec/resyncInterval",
                Some(json!("five minutes")),
            ),
            field: "spec.resyncInterval",
            says: "should match",
        },
        Refusal {
            manifest: with(good_s3(), "/spec/edge/pathPrefix", Some(json!("static"))),
            field: "spec.edge.pathPrefix",
            says: "should match",
        },
        Refusal {
            manifest: with(good_s3(), "/spec/edge/hosts", Some(json!("a.example"))),
            field: "spec.edge.hosts",
            says: "must be of type array",
        },
        Refusal {
            manifest: with(good_s3(), "/spec/colour", Some(json!("blue"))),
            field: "spec.colour",
            says: "unknown field",
        },
        Refusal {
            manifest: with(good_s3(), "/apiVersion", Some(json!("bucketcors.dev/v1"))),
            field: "apiVersion",
            says: "bucketcors.dev/v1alpha1",
        },
        Refusal {
            manifest: with(good_s3(), "/metadata/name", Some(json!("Assets"))),
            field: "metadata.name",
            says: "RFC 1123",
        },
    ]
}

/// Manifests the API server must accept.
pub fn acceptances() -> Vec<Value> {
    vec![
        good_s3(),
        good_oss(),
        // Every optional field absent.
        json!({
            "apiVersion": "bucketcors.dev/v1alpha1", "kind": "BucketCors", "metadata": {"name": "min"},
            "spec": {"backend": {"provider": "s3", "bucket": "b"}, "rules": [{"allowedOrigins": ["*"], "allowedMethods": ["GET"]}]}
        }),
    ]
}

/// One CEL rule of the schema, with an object it accepts and one it refuses.
pub struct CelCase {
    pub rule: &'static str,
    pub pass: Value,
    pub fail: Value,
    pub field: &'static str,
    pub message: &'static str,
}

pub fn cel_cases() -> Vec<CelCase> {
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
            rule: "self.matches('^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$')",
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
            field: "spec.edge.hosts[1]",
            message: "must be a lower-case DNS host name",
        },
        CelCase {
            // The worker routes a request by its first path segment only.
            rule: "self.matches('^/[^/]+/?$')",
            pass: with(s3(), "/spec/edge/pathPrefix", Some(json!("/static/"))),
            fail: with(s3(), "/spec/edge/pathPrefix", Some(json!("/static/v2"))),
            field: "spec.edge.pathPrefix",
            message: "spec.edge.pathPrefix must be one path segment",
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
