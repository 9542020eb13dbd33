//! From the `BucketCors` spec to the sync core's inputs.
//!
//! The sync core (`bucketcors-sync`) knows no Kubernetes types; the
//! controller and `bucketcors apply` both come through here, so a spec means
//! the same thing to both.

use super::{BackendSpec, BucketCorsSpec};
use bucketcors_sync::backend::{Backend, BackendError, BackendSettings, Connector};
use bucketcors_sync::edge::EdgeTarget;
use bucketcors_sync::reconcile::{Desired, origin_url};
use std::sync::Arc;

impl From<&BackendSpec> for BackendSettings {
    fn from(spec: &BackendSpec) -> BackendSettings {
        BackendSettings {
            provider: spec.provider,
            endpoint: spec.endpoint.clone(),
            region: spec.region.clone(),
            path_style: spec.path_style.unwrap_or(false),
        }
    }
}

impl BackendSpec {
    /// Where the bucket is, without the credentials reference.
    pub fn settings(&self) -> BackendSettings {
        BackendSettings::from(self)
    }

    /// The backend this block names, built by `connector` (which holds the
    /// credentials).
    pub async fn connect(&self, connector: &Connector) -> Result<Arc<dyn Backend>, BackendError> {
        connector.backend(&self.settings(), &self.bucket).await
    }
}

impl BucketCorsSpec {
    /// The edge routes of `spec.edge`, enabled or not (the controller also
    /// needs them to withdraw a route); the origin URL derived from the
    /// backend when `spec.edge.originUrl` is absent.
    pub fn edge_target(&self) -> Option<EdgeTarget> {
        let edge = self.edge.as_ref()?;
        Some(EdgeTarget {
            hosts: edge.hosts.clone(),
            path_prefix: edge.path_prefix.clone(),
            origin_url: edge
                .origin_url
                .clone()
                .unwrap_or_else(|| origin_url(&self.backend.settings(), &self.backend.bucket)),
        })
    }

    /// The desired state this spec describes, with no history: its rules
    /// and, when `spec.edge.enabled`, the edge routes.
    pub fn desired(&self) -> Desired {
        let enabled = self.edge.as_ref().is_some_and(|e| e.enabled);
        Desired {
            edge: self.edge_target().filter(|_| enabled),
            ..Desired::new(self.cors_config())
        }
    }
}
