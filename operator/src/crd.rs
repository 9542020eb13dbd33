//! The `BucketCors` custom resource (`bucketcors.dev/v1alpha1`).
//!
//! ## Design
//!
//! The spec embeds the engine's rule model ([`bucketcors_engine::Rule`])
//! unchanged, so what the API server stores is exactly what the engine
//! validates and compiles. The schema generated from these types carries every
//! check the API server can make on its own, so that `kubectl apply` refuses a
//! resource that could never work before the controller ever sees it:
//!
//! - OpenAPI keywords: method enums, item and length limits, patterns for
//!   durations, Secret names and path prefixes ([`schema`] patches the
//!   engine's rule schema, which knows nothing about Kubernetes);
//! - CEL `x-kubernetes-validations` for what a keyword cannot say: one `*`
//!   per origin and header, no `*` in `exposeHeaders`, at most 10 rules for
//!   OSS, `responseVary` only with OSS, valid edge host names. Each rule's
//!   message says what to change.
//!
//! The engine's own validation still runs in the controller (duplicates,
//! shadowed rules, document size), because CEL cannot express all of it and
//! the CLI must refuse the same configurations without a cluster.
//! [`validate_manifest`] runs the generated schema and its CEL rules offline,
//! which is how the tests (and the Helm chart's example checks) prove that
//! the API server would accept or refuse a manifest.
//!
//! The spec is translated into the sync core's inputs here, above the core
//! (`translate`): [`BackendSpec::settings`], [`BucketCorsSpec::desired`].
//! [`Provider`] and [`DeletionPolicy`] are the core's types, embedded as is.

pub mod schema;
mod translate;
pub mod validate;

/// The provider and the deletion policy are the sync core's own types,
/// embedded in the spec unchanged (one definition of each).
pub use bucketcors_sync::backend::Provider;
pub use bucketcors_sync::reconcile::DeletionPolicy;
pub use validate::validate_manifest;

use bucketcors_engine::{CorsConfig, Dialect, Rule, Target};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, CustomResourceExt, KubeSchema};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The finalizer the controller puts on every `BucketCors` so that deleting
/// it can first remove (or deliberately keep) the bucket's configuration.
pub const FINALIZER: &str = "bucketcors.dev/cleanup";

/// Resync interval used when `spec.resyncInterval` is absent.
pub const DEFAULT_RESYNC: Duration = Duration::from_secs(5 * 60);

/// Desired CORS configuration of one bucket.
#[derive(CustomResource, KubeSchema, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "bucketcors.dev",
    version = "v1alpha1",
    kind = "BucketCors",
    plural = "bucketcors",
    singular = "bucketcors",
    shortname = "bcors",
    category = "bucketcors",
    namespaced,
    status = "BucketCorsStatus",
    printcolumn = r#"{"name":"Provider","type":"string","jsonPath":".spec.backend.provider","description":"oss or s3"}"#,
    printcolumn = r#"{"name":"Bucket","type":"string","jsonPath":".spec.backend.bucket","description":"The bucket whose CORS configuration this resource owns"}"#,
    printcolumn = r#"{"name":"Rules","type":"integer","jsonPath":".status.ruleCount","description":"Number of rules in force at the bucket (the last rules applied and verified)"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status","description":"The bucket holds the rules (and the edge serves them when enabled)"}"#,
    printcolumn = r#"{"name":"Edge","type":"string","jsonPath":".status.conditions[?(@.type==\"EdgePublished\")].reason","description":"Edge publication state"}"#,
    printcolumn = r#"{"name":"Revision","type":"string","priority":1,"jsonPath":".status.appliedRevision","description":"Revision (content hash) of the rules the bucket holds; shown by kubectl get -o wide"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[x_kube(validation = kube::core::Rule::new(
    "self.backend.provider != 'oss' || size(self.rules) <= 10"
).message("OSS allows at most 10 CORS rules: merge or remove rules until spec.rules has 10 or fewer"))]
#[x_kube(validation = kube::core::Rule::new(
    "!has(self.responseVary) || self.backend.provider == 'oss'"
).message("spec.responseVary is an OSS setting: remove it, or set spec.backend.provider to oss"))]
#[serde(rename_all = "camelCase")]
pub struct BucketCorsSpec {
    /// Where the bucket lives and how to reach it.
    pub backend: BackendSpec,
    /// The CORS rules, in order; the first matching rule wins. 1 to 100
    /// rules (S3's limit; OSS allows 10).
    #[schemars(schema_with = "schema::rules")]
    pub rules: Vec<Rule>,
    /// OSS only: send `Vary: Origin` on every response of the bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_vary: Option<bool>,
    /// Publishing the rules to the edge worker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edge: Option<EdgeSpec>,
    /// What happens to the bucket's CORS configuration when this object is
    /// deleted: `Delete` (default) removes it, `Retain` leaves it in place.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
    /// How often the bucket is re-read to repair drift, as a duration such as
    /// `30s`, `5m` or `1h` (default `5m`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]+(ms|s|m|h))+$"), length(max = 32))]
    pub resync_interval: Option<String>,
}

impl BucketCorsSpec {
    /// The configuration the engine validates and the backend receives.
    pub fn cors_config(&self) -> CorsConfig {
        CorsConfig {
            rules: self.rules.clone(),
            response_vary: self.response_vary.unwrap_or(false),
        }
    }

    /// The dialect of the bucket's provider.
    pub fn dialect(&self) -> Dialect {
        self.backend.provider.dialect()
    }

    /// The resync interval (`default` when the spec has none), or an error
    /// naming the field when it does not parse (the schema pattern already
    /// rejects most bad values).
    pub fn resync(&self, default: Duration) -> Result<Duration, String> {
        match &self.resync_interval {
            None => Ok(default),
            Some(text) => match humantime::parse_duration(text) {
                Ok(d) if d >= Duration::from_secs(1) => Ok(d),
                Ok(_) => Err(format!(
                    "spec.resyncInterval `{text}` is shorter than 1s: use at least `1s`"
                )),
                Err(e) => Err(format!(
                    "spec.resyncInterval `{text}` is not a duration ({e}): write it like `5m` or `1h`"
                )),
            },
        }
    }

    /// The name of the referenced credentials Secret, when there is one.
    pub fn secret_name(&self) -> Option<&str> {
        self.backend
            .credentials_secret_ref
            .as_ref()
            .map(|r| r.name.as_str())
    }
}

/// Backend coordinates. Credentials never live here: only a Secret reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, KubeSchema)]
#[x_kube(validation = kube::core::Rule::new(
    "!has(self.flavor) || ((self.flavor == 'oss') == (self.provider == 'oss'))"
).message("spec.backend.flavor oss needs spec.backend.provider oss, and every other flavor provider s3"))]
#[serde(rename_all = "camelCase")]
pub struct BackendSpec {
    /// `oss` or `s3`.
    pub provider: Provider,
    /// The store behind the provider's API (`s3`, `oss`, `r2`, `garage`,
    /// `ceph`, `minio`, `gcs-interop`): lints check the rules against what
    /// it accepts and how it answers. Default: from the provider and the
    /// endpoint's host (R2 and GCS are told by it; anything else is `s3`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flavor: Option<Target>,
    /// The bucket name.
    #[schemars(length(min = 1, max = 255))]
    #[x_kube(validation = kube::core::Rule::new("self.matches('^[a-zA-Z0-9._-]+$')")
        .message("spec.backend.bucket may only contain letters, digits, '.', '_' and '-'"))]
    pub bucket: String,
    /// Endpoint URL (`https://s3.eu-west-1.amazonaws.com`,
    /// `https://oss-cn-hangzhou.aliyuncs.com`); the provider default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048))]
    #[x_kube(validation = kube::core::Rule::new("self.startsWith('https://') || self.startsWith('http://')")
        .message("spec.backend.endpoint must be a URL starting with https:// or http://"))]
    pub endpoint: Option<String>,
    /// Region (S3 signing region; OSS region such as `cn-hangzhou`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[a-z0-9-]{1,64}$"))]
    pub region: Option<String>,
    /// Path-style addressing (`endpoint/bucket`) instead of virtual-hosted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_style: Option<bool>,
    /// The Secret holding the credentials (same namespace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_secret_ref: Option<CredentialsSecretRef>,
}

impl BackendSpec {
    /// The store: `flavor`, else what provider and endpoint suggest.
    pub fn target(&self) -> Target {
        self.flavor.unwrap_or_else(|| {
            Target::default_for(self.provider.dialect(), self.endpoint.as_deref())
        })
    }
}

/// A reference to a Secret with access keys, with configurable key names.
#[derive(Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CredentialsSecretRef {
    /// Secret name (in the namespace of the BucketCors).
    #[schemars(regex(pattern = r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$"))]
    pub name: String,
    /// Key holding the access key id (default `accessKeyId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[-._a-zA-Z0-9]{1,253}$"))]
    pub access_key_id_key: Option<String>,
    /// Key holding the secret access key (default `secretAccessKey`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[-._a-zA-Z0-9]{1,253}$"))]
    pub secret_access_key_key: Option<String>,
    /// Key holding an optional session / security token (default `sessionToken`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[-._a-zA-Z0-9]{1,253}$"))]
    pub session_token_key: Option<String>,
}

impl CredentialsSecretRef {
    /// The key holding the access key id.
    pub fn access_key_id_key(&self) -> &str {
        self.access_key_id_key.as_deref().unwrap_or("accessKeyId")
    }
    /// The key holding the secret access key.
    pub fn secret_access_key_key(&self) -> &str {
        self.secret_access_key_key
            .as_deref()
            .unwrap_or("secretAccessKey")
    }
    /// The key holding the optional session token.
    pub fn session_token_key(&self) -> &str {
        self.session_token_key.as_deref().unwrap_or("sessionToken")
    }
}

// Only names, never values, live here; the Debug impl is written by hand
// anyway so that a future field holding something sensitive cannot leak
// through `{:?}` by accident.
impl std::fmt::Debug for CredentialsSecretRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialsSecretRef")
            .field("name", &self.name)
            .field("access_key_id_key", &self.access_key_id_key())
            .field("secret_access_key_key", &self.secret_access_key_key())
            .field("session_token_key", &self.session_token_key())
            .finish()
    }
}

/// Edge publishing settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, KubeSchema)]
#[x_kube(validation = kube::core::Rule::new("!self.enabled || size(self.hosts) > 0")
    .message("spec.edge.hosts must name at least one host when spec.edge.enabled is true"))]
#[serde(rename_all = "camelCase")]
pub struct EdgeSpec {
    /// Publish the compiled rules to the edge worker.
    #[serde(default)]
    pub enabled: bool,
    /// Host names the worker serves this bucket on (lower-case DNS names such
    /// as `assets.example.com`; no scheme, port or path).
    #[serde(default)]
    #[schemars(schema_with = "schema::edge_hosts")]
    pub hosts: Vec<String>,
    /// Optional path prefix under those hosts (for example `/assets`): one
    /// path segment, since the worker routes a request by its first
    /// segment only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^/[^\s?#]*$"), length(max = 1024))]
    #[x_kube(validation = kube::core::Rule::new("self.matches('^/[^/]+/?$')")
        .message("spec.edge.pathPrefix must be one path segment such as `/assets` (the edge routes by the first segment only): no `/` inside"))]
    pub path_prefix: Option<String>,
    /// The bucket's origin URL the worker forwards actual requests to; derived
    /// from the backend when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048))]
    #[x_kube(validation = kube::core::Rule::new("self.startsWith('https://') || self.startsWith('http://')")
        .message("spec.edge.originUrl must be a URL starting with https:// or http://"))]
    pub origin_url: Option<String>,
}

/// Observed state, written by the controller through server-side apply.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BucketCorsStatus {
    /// `Ready`, `BackendSynced`, `EdgePublished`, `Linted`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "schema::conditions")]
    pub conditions: Vec<Condition>,
    /// Revision (engine content hash) last applied to the bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_revision: Option<String>,
    /// Revision last published to the edge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edge_revision: Option<String>,
    /// The edge routes this object published, with the revision read back
    /// for each: the operator's memory of what to withdraw when a host or
    /// prefix leaves the spec, `spec.edge` goes, or the object is deleted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edge_routes: Vec<EdgeRouteStatus>,
    /// When the bucket was last read and found in sync (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync_time: Option<String>,
    /// Number of rules in force at the bucket: those of `appliedRevision`
    /// (shown by `kubectl get`; a failed edit leaves it as it was).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_count: Option<i64>,
    /// Generation the status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// What the rules will still do wrong in browsers or on the store
    /// (`bucketcors validate`'s lints), one line each: code, rule, field,
    /// why, fix. The `Linted` condition counts them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64))]
    pub warnings: Vec<String>,
}

/// One published edge route.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EdgeRouteStatus {
    /// The host, lower-cased.
    pub host: String,
    /// `/segment`, absent for the host's own route.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_prefix: Option<String>,
    /// The revision the edge API held for the route after the publish.
    pub revision: String,
}

impl BucketCorsStatus {
    /// The condition of the given type, when present.
    pub fn condition(&self, type_: &str) -> Option<&Condition> {
        self.conditions.iter().find(|c| c.type_ == type_)
    }
}

/// The CustomResourceDefinition as YAML, exactly as `bucketcors crd` prints
/// it, as [`CRD_PATH`] holds it and as the chart's copy ([`CHART_CRD_PATH`])
/// repeats it.
pub fn crd_yaml() -> String {
    let crd = BucketCors::crd();
    let body = serde_norway::to_string(&crd).expect("a CRD always serializes to YAML");
    format!(
        "# Generated by `bucketcors crd` from operator/src/crd.rs; do not edit.\n\
         # Regenerate: cargo run -p bucketcors-operator -- crd > {CRD_PATH}\n\
         # and copy it to {CHART_CRD_PATH} (CI checks both).\n{body}"
    )
}

/// Where the generated CRD is checked in, relative to the repository root:
/// the one source, for `kubectl apply` and any tool that is not Helm.
pub const CRD_PATH: &str = "crds/bucketcors.dev_bucketcors.yaml";

/// The Helm chart's copy of [`CRD_PATH`] (Helm installs CRDs only from the
/// chart's own `crds/`); checked identical to it.
pub const CHART_CRD_PATH: &str = "charts/bucketcors/crds/bucketcors.dev_bucketcors.yaml";
