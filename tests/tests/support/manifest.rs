//! The manifests the `k8s_*` tests apply, built in one place.
//!
//! A team's credentials Secret and a `BucketCors` on Garage, written as JSON
//! (which `kubectl apply -f -` takes as it takes YAML) from `serde_json`
//! values, so that no test quotes YAML by hand: an all-digit fake key is a
//! string, not a number, and a field is spelt once.

use bucketcors_testkit::garage::GarageKey;
use serde_json::{Value, json};

/// The Secret name the tests' `BucketCors` objects refer to.
pub const GARAGE_SECRET: &str = "garage-credentials";

/// A `Namespace` called `name`: applying it twice is harmless (a cluster of
/// one's own may already have it; see `ControlPlane::for_tests`).
pub fn namespace(name: &str) -> String {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}).to_string()
}

/// A Secret `namespace/name` holding `key` under the keys the operator reads
/// (`accessKeyId`, `secretAccessKey`).
pub fn credentials(namespace: &str, name: &str, key: &GarageKey) -> String {
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "stringData": {
            "accessKeyId": key.access_key_id,
            "secretAccessKey": key.secret_access_key,
        },
    })
    .to_string()
}

/// A Secret `namespace/name` with one string entry (for example the
/// Cloudflare API token under `apiToken`).
pub fn secret_entry(namespace: &str, name: &str, entry: &str, value: &str) -> String {
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "stringData": {entry: value},
    })
    .to_string()
}

/// Whether `manifest` is a Secret (so that a failed apply never echoes its
/// credentials).
pub fn is_secret(manifest: &str) -> bool {
    manifest.contains("kind: Secret")
        || serde_json::from_str::<Value>(manifest).is_ok_and(|v| v["kind"] == "Secret")
}

/// A `BucketCors` for a Garage bucket, reached path-style with the
/// [`GARAGE_SECRET`] credentials, built up rule by rule.
#[derive(Debug, Clone)]
pub struct BucketCorsManifest {
    value: Value,
}

impl BucketCorsManifest {
    /// `namespace/name` for `bucket` at Garage's S3 `endpoint`, with no rules yet.
    pub fn garage(namespace: &str, name: &str, endpoint: &str, bucket: &str) -> Self {
        BucketCorsManifest {
            value: json!({
                "apiVersion": "bucketcors.dev/v1alpha1",
                "kind": "BucketCors",
                "metadata": {"name": name, "namespace": namespace},
                "spec": {
                    "backend": {
                        "provider": "s3",
                        "bucket": bucket,
                        "endpoint": endpoint,
                        "region": "garage",
                        "pathStyle": true,
                        "credentialsSecretRef": {"name": GARAGE_SECRET},
                    },
                    "rules": [],
                },
            }),
        }
    }

    /// Adds a rule allowing `origins` to use `methods`.
    pub fn rule(self, origins: &[&str], methods: &[&str]) -> Self {
        self.rule_with(json!({"allowedOrigins": origins, "allowedMethods": methods}))
    }

    /// Adds a rule given as its CRD fields (`allowedHeaders`, `maxAgeSeconds`, ...).
    pub fn rule_with(mut self, rule: Value) -> Self {
        self.value["spec"]["rules"]
            .as_array_mut()
            .expect("rules is a list")
            .push(rule);
        self
    }

    /// Publishes to the edge for `host`, fronting `origin_url`.
    pub fn edge(self, host: &str, origin_url: &str) -> Self {
        self.spec(
            "edge",
            json!({"enabled": true, "hosts": [host], "originUrl": origin_url}),
        )
    }

    /// Sets `spec.<field>` (for example `resyncInterval`, `deletionPolicy`).
    pub fn spec(mut self, field: &str, value: impl Into<Value>) -> Self {
        self.value["spec"][field] = value.into();
        self
    }

    /// The manifest, for `kubectl apply -f -`.
    pub fn render(&self) -> String {
        self.value.to_string()
    }
}
