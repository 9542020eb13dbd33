//! What the page receives for one BucketCors: the fields the views show,
//! the configuration in spec shape (the engine in the page reads it), and
//! the manifest as YAML.

use bucketcors_engine::{CorsConfig, Target};
use serde::Serialize;

use crate::crd::{BucketCors, BucketCorsStatus, Provider};

/// One object, as the page's `types.ts` `BucketCors`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectView {
    /// Namespace (`default` for a manifest without one).
    pub namespace: String,
    /// Name.
    pub name: String,
    /// `oss` or `s3`.
    pub provider: Provider,
    /// The bucket.
    pub bucket: String,
    /// The bucket's own URL (`None` when the endpoint is unusable): the
    /// tester's default URL, quoted in the browser's messages.
    pub url: Option<String>,
    /// The store that answers (`spec.backend.flavor`, else its default):
    /// the page lints for it.
    pub target: Target,
    /// `spec.rules` and `spec.responseVary`.
    pub config: CorsConfig,
    /// `spec.edge.hosts` when the edge is enabled.
    pub edge_hosts: Vec<String>,
    /// The controller's status (none for manifests in a directory).
    pub status: Option<BucketCorsStatus>,
    /// `file` or `file#N` for manifests in a directory.
    pub source: Option<String>,
    /// The manifest, YAML, without server-side bookkeeping.
    pub manifest: String,
}

impl ObjectView {
    /// The view of `object`, read from `source` when it is a file.
    pub fn new(object: &BucketCors, source: Option<String>) -> ObjectView {
        let mut shown = object.clone();
        shown.metadata.managed_fields = None;
        shown.metadata.resource_version = None;
        shown.metadata.uid = None;
        let spec = &object.spec;
        ObjectView {
            namespace: object
                .metadata
                .namespace
                .clone()
                .unwrap_or_else(|| "default".into()),
            name: object.metadata.name.clone().unwrap_or_default(),
            provider: spec.backend.provider,
            bucket: spec.backend.bucket.clone(),
            url: spec.backend.bucket_url().ok(),
            target: spec.backend.target(),
            config: spec.cors_config(),
            edge_hosts: spec
                .edge
                .as_ref()
                .filter(|e| e.enabled)
                .map(|e| e.hosts.clone())
                .unwrap_or_default(),
            status: object.status.clone(),
            source,
            manifest: serde_norway::to_string(&shown).unwrap_or_default(),
        }
    }
}

/// Sorted by namespace and name, so that lists compare equal when nothing changed.
pub fn sorted(mut views: Vec<ObjectView>) -> Vec<ObjectView> {
    views.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    views
}
