//! The `BucketCors` custom resource (`bucketcors.dev/v1alpha1`).
//!
//! The spec embeds the engine's rule model unchanged, so what the API server
//! stores is exactly what the engine validates and compiles. Issue 4 adds the
//! CEL validations, printer columns and status details.

use bucketcors_engine::{Dialect, Rule};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Desired CORS configuration of one bucket.
#[derive(CustomResource, Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "bucketcors.dev",
    version = "v1alpha1",
    kind = "BucketCors",
    plural = "bucketcors",
    singular = "bucketcors",
    shortname = "bcors",
    namespaced,
    status = "BucketCorsStatus"
)]
#[serde(rename_all = "camelCase")]
pub struct BucketCorsSpec {
    /// Where the bucket lives and how to reach it.
    pub backend: BackendSpec,
    /// The CORS rules, in order; the first matching rule wins.
    pub rules: Vec<Rule>,
    /// OSS only: send `Vary: Origin` on every response of the bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_vary: Option<bool>,
    /// Publishing the rules to the edge worker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edge: Option<EdgeSpec>,
    /// What happens to the bucket's CORS configuration when this object is deleted.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
    /// How often the bucket is re-read to repair drift (for example `5m`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resync_interval: Option<String>,
}

/// The storage provider holding the bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// Alibaba Cloud OSS, native API.
    Oss,
    /// AWS S3 or an S3-compatible store (Garage, Ceph RGW, Cloudflare R2).
    S3,
}

impl Provider {
    /// The engine dialect whose semantics this provider follows.
    pub fn dialect(self) -> Dialect {
        match self {
            Provider::Oss => Dialect::Oss,
            Provider::S3 => Dialect::S3,
        }
    }
}

/// Backend coordinates. Credentials never live here: only a Secret reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackendSpec {
    /// `oss` or `s3`.
    pub provider: Provider,
    /// The bucket name.
    pub bucket: String,
    /// Endpoint URL; the provider default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Region (S3 signing region; OSS region such as `cn-hangzhou`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Path-style addressing (`endpoint/bucket`) instead of virtual-hosted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_style: Option<bool>,
    /// The Secret holding the credentials (same namespace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_secret_ref: Option<CredentialsSecretRef>,
}

/// A reference to a Secret with access keys, with configurable key names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CredentialsSecretRef {
    /// Secret name.
    pub name: String,
    /// Key holding the access key id (default `accessKeyId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_id_key: Option<String>,
    /// Key holding the secret access key (default `secretAccessKey`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_access_key_key: Option<String>,
    /// Key holding an optional session / security token (default `sessionToken`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_token_key: Option<String>,
}

/// Edge publishing settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EdgeSpec {
    /// Publish the compiled rules to the edge worker.
    #[serde(default)]
    pub enabled: bool,
    /// Host names the worker serves this bucket on.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Optional path prefix under those hosts (for example `/assets`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_prefix: Option<String>,
    /// The bucket's origin URL the worker forwards actual requests to; derived
    /// from the backend when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_url: Option<String>,
}

/// What to do with the bucket's CORS configuration when the resource goes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum DeletionPolicy {
    /// Remove the bucket's CORS configuration (and the edge record).
    #[default]
    Delete,
    /// Leave the bucket's CORS configuration as it is.
    Retain,
}

/// Observed state, written by the controller through server-side apply.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BucketCorsStatus {
    /// `Ready`, `BackendSynced`, `EdgePublished`.
    #[serde(default)]
    pub conditions: Vec<Condition>,
    /// Revision (engine content hash) last applied to the bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_revision: Option<String>,
    /// Revision last published to the edge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edge_revision: Option<String>,
    /// When the bucket was last read and found in sync (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync_time: Option<String>,
    /// Generation the status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

/// A status condition in the usual Kubernetes shape.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// Condition type.
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    /// Machine-readable reason (CamelCase).
    #[serde(default)]
    pub reason: String,
    /// Human-readable message.
    #[serde(default)]
    pub message: String,
    /// When the status last changed (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<String>,
    /// Generation the condition was computed for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}
