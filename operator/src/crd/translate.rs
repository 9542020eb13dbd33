//! From the `BucketCors` spec to the sync core's inputs.
//!
//! The sync core (`bucketcors-sync`) knows no Kubernetes types; the
//! controller and `bucketcors apply` both come through here, so a spec means
//! the same thing to both.

use super::{BackendSpec, BucketCorsSpec, BucketCorsStatus, EdgeRouteStatus};
use bucketcors_sync::backend::{
    Backend, BackendError, BackendSettings, Connector, ErrorKind, Target, bucket_url,
};
use bucketcors_sync::edge::{EdgeTarget, PublishedRoute, Route};
use bucketcors_sync::reconcile::Desired;
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

impl super::BucketCors {
    /// The owner name the edge records carry: `namespace/name`, with the
    /// namespace `kubectl` would use for a manifest that names none
    /// (`default`), so that `bucketcors apply` and the operator name the
    /// same object the same way.
    pub fn owner(&self) -> String {
        format!(
            "{}/{}",
            self.metadata.namespace.as_deref().unwrap_or("default"),
            self.metadata.name.as_deref().unwrap_or_default()
        )
    }
}

impl BackendSpec {
    /// Where the bucket is, without the credentials reference.
    pub fn settings(&self) -> BackendSettings {
        BackendSettings::from(self)
    }

    /// The bucket's own URL, as the backend addresses it ([`bucket_url`]);
    /// an error naming the endpoint when it cannot be derived.
    pub fn bucket_url(&self) -> Result<String, String> {
        bucket_url(&self.settings(), &self.bucket)
    }

    /// The backend this block names, built by `connector` (which holds the
    /// credentials).
    pub async fn connect(&self, connector: &Connector) -> Result<Arc<dyn Backend>, BackendError> {
        connector.backend(&self.settings(), &self.bucket).await
    }
}

impl BucketCorsSpec {
    /// The edge routes of `spec.edge`, enabled or not (the controller also
    /// needs them to withdraw a route), `None` without `spec.edge`. The
    /// origin is `spec.edge.originUrl`, else the bucket's own URL as the
    /// backend addresses it ([`bucket_url`]); an error when that cannot be
    /// derived (the backend cannot reach the bucket either).
    pub fn edge_target(&self) -> Result<Option<EdgeTarget>, BackendError> {
        let Some(edge) = self.edge.as_ref() else {
            return Ok(None);
        };
        let origin_url = match &edge.origin_url {
            Some(url) => url.clone(),
            None => self.backend.bucket_url().map_err(|e| {
                BackendError::new(
                    ErrorKind::Other,
                    &Target {
                        provider: self.backend.provider.as_str(),
                        bucket: self.backend.bucket.clone(),
                    },
                    format!("the edge origin cannot be derived from spec.backend ({e}): set spec.edge.originUrl"),
                )
            })?,
        };
        Ok(Some(EdgeTarget {
            hosts: edge.hosts.clone(),
            path_prefix: edge.path_prefix.clone(),
            origin_url,
        }))
    }

    /// The desired state this spec describes, with no history: its rules
    /// and, when `spec.edge.enabled`, the edge routes.
    pub fn desired(&self) -> Result<Desired, BackendError> {
        let enabled = self.edge.as_ref().is_some_and(|e| e.enabled);
        let edge = if enabled { self.edge_target()? } else { None };
        Ok(Desired {
            edge,
            ..Desired::new(self.cors_config())
        })
    }
}

impl BucketCorsStatus {
    /// The routes this status remembers publishing, in the core's terms. A
    /// status written before `edgeRoutes` existed has only `edgeRevision`:
    /// then the routes of `spec.edge` are taken as the published ones (the
    /// best memory there is). Entries that no longer name a route are
    /// skipped.
    pub fn published_routes(&self, spec: &BucketCorsSpec) -> Vec<PublishedRoute> {
        if self.edge_routes.is_empty() {
            let (Some(revision), Ok(Some(target))) = (&self.edge_revision, spec.edge_target())
            else {
                return Vec::new();
            };
            return target
                .routes()
                .unwrap_or_default()
                .into_iter()
                .map(|route| PublishedRoute {
                    route,
                    revision: revision.clone(),
                })
                .collect();
        }
        self.edge_routes
            .iter()
            .filter_map(|r| {
                Some(PublishedRoute {
                    route: Route::new(&r.host, r.path_prefix.as_deref()).ok()?,
                    revision: r.revision.clone(),
                })
            })
            .collect()
    }
}

impl From<&PublishedRoute> for EdgeRouteStatus {
    fn from(published: &PublishedRoute) -> EdgeRouteStatus {
        EdgeRouteStatus {
            host: published.route.host.clone(),
            path_prefix: published.route.path_prefix.clone(),
            revision: published.revision.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(yaml: &str) -> BucketCorsSpec {
        serde_norway::from_str(&format!(
            "{yaml}\nrules: [{{allowedOrigins: ['*'], allowedMethods: [GET]}}]"
        ))
        .unwrap()
    }

    #[test]
    fn the_edge_origin_is_the_bucket_url_unless_given() {
        let derived = spec(
            "backend: {provider: s3, bucket: b, endpoint: 'http://127.0.0.1:3900/', pathStyle: true}\n\
             edge: {enabled: true, hosts: [cdn.example.com]}",
        );
        let target = derived.desired().unwrap().edge.unwrap();
        assert_eq!(target.origin_url, "http://127.0.0.1:3900/b");
        assert_eq!(target.hosts, ["cdn.example.com"]);
        let given = spec(
            "backend: {provider: oss, bucket: b, region: cn-beijing}\n\
             edge: {enabled: true, hosts: [cdn.example.com], originUrl: 'https://o.example'}",
        );
        assert_eq!(
            given.edge_target().unwrap().unwrap().origin_url,
            "https://o.example"
        );
    }

    #[test]
    fn a_disabled_edge_is_not_desired_but_still_known_for_withdrawal() {
        let off = spec(
            "backend: {provider: oss, bucket: b, region: cn-beijing}\n\
             edge: {enabled: false, hosts: [cdn.example.com]}",
        );
        assert_eq!(off.desired().unwrap().edge, None);
        assert_eq!(
            off.edge_target().unwrap().unwrap().origin_url,
            "https://b.oss-cn-beijing.aliyuncs.com"
        );
    }

    #[test]
    fn an_underivable_origin_names_the_field_to_set() {
        let no_region = spec(
            "backend: {provider: oss, bucket: b}\nedge: {enabled: true, hosts: [cdn.example.com]}",
        );
        let err = no_region.desired().unwrap_err();
        assert!(err.message.contains("spec.edge.originUrl"), "{err}");
        assert!(err.message.contains("set a region"), "{err}");
    }
}
