//! What the caller wants a bucket to look like.

use crate::crd::{BackendSpec, BucketCorsSpec, Provider};
use crate::edge::EdgeTarget;
use bucketcors_engine::CorsConfig;

/// The desired state of one bucket, plus what the caller remembers of the
/// last run (the controller keeps it in the status; the CLI has none).
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    /// The rules (and OSS `ResponseVary`).
    pub config: CorsConfig,
    /// Publish to the edge on these routes; `None` when the spec does not
    /// enable the edge.
    pub edge: Option<EdgeTarget>,
    /// Revision last applied to the bucket; tells updates from drift.
    pub last_applied_revision: Option<String>,
    /// Revision the edge is known to serve; skips a republish.
    pub last_edge_revision: Option<String>,
}

impl Desired {
    /// Desired rules with no edge and no history.
    pub fn new(config: CorsConfig) -> Desired {
        Desired {
            config,
            edge: None,
            last_applied_revision: None,
            last_edge_revision: None,
        }
    }

    /// The desired state a BucketCors spec describes, with no history: its
    /// rules and, when `spec.edge.enabled`, the edge routes (the origin URL
    /// derived with [`origin_url`] when the spec does not give one).
    pub fn from_spec(spec: &BucketCorsSpec) -> Desired {
        let edge = spec
            .edge
            .as_ref()
            .filter(|e| e.enabled)
            .map(|e| EdgeTarget {
                hosts: e.hosts.clone(),
                path_prefix: e.path_prefix.clone(),
                origin_url: e
                    .origin_url
                    .clone()
                    .unwrap_or_else(|| origin_url(&spec.backend)),
            });
        Desired {
            config: spec.cors_config(),
            edge,
            last_applied_revision: None,
            last_edge_revision: None,
        }
    }

    /// Also publish to the edge on `target`'s routes.
    pub fn with_edge(mut self, target: EdgeTarget) -> Desired {
        self.edge = Some(target);
        self
    }

    /// Remember the revisions of the last successful run.
    pub fn with_history(mut self, applied: Option<String>, edge: Option<String>) -> Desired {
        self.last_applied_revision = applied;
        self.last_edge_revision = edge;
        self
    }
}

/// The bucket's own URL, where the edge forwards actual requests:
/// `{endpoint}/{bucket}` (path-style), `{scheme}://{bucket}.{endpoint host}`
/// (virtual-hosted), or the provider's public endpoint for the region.
pub fn origin_url(backend: &BackendSpec) -> String {
    let bucket = &backend.bucket;
    match (&backend.endpoint, backend.path_style.unwrap_or(false)) {
        (Some(endpoint), true) => {
            let endpoint = endpoint.trim_end_matches('/');
            if endpoint.contains("://") {
                format!("{endpoint}/{bucket}")
            } else {
                format!("https://{endpoint}/{bucket}")
            }
        }
        (Some(endpoint), false) => match endpoint.split_once("://") {
            Some((scheme, host)) => format!("{scheme}://{bucket}.{}", host.trim_end_matches('/')),
            None => format!("https://{bucket}.{}", endpoint.trim_end_matches('/')),
        },
        (None, _) => match (backend.provider, backend.region.as_deref()) {
            (Provider::S3, Some(region)) => format!("https://{bucket}.s3.{region}.amazonaws.com"),
            (Provider::S3, None) => format!("https://{bucket}.s3.amazonaws.com"),
            (Provider::Oss, region) => format!(
                "https://{bucket}.oss-{}.aliyuncs.com",
                region.unwrap_or("cn-hangzhou")
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backend(
        provider: Provider,
        endpoint: Option<&str>,
        region: Option<&str>,
        path_style: bool,
    ) -> BackendSpec {
        BackendSpec {
            provider,
            bucket: "b".into(),
            endpoint: endpoint.map(str::to_owned),
            region: region.map(str::to_owned),
            path_style: Some(path_style),
            flavor: None,
            credentials_secret_ref: None,
        }
    }

    #[test]
    fn origin_urls() {
        assert_eq!(
            origin_url(&backend(
                Provider::S3,
                Some("http://127.0.0.1:3900/"),
                None,
                true
            )),
            "http://127.0.0.1:3900/b"
        );
        assert_eq!(
            origin_url(&backend(
                Provider::Oss,
                Some("oss-cn-beijing.aliyuncs.com"),
                None,
                false
            )),
            "https://b.oss-cn-beijing.aliyuncs.com"
        );
        assert_eq!(
            origin_url(&backend(Provider::S3, None, Some("eu-west-1"), false)),
            "https://b.s3.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            origin_url(&backend(Provider::Oss, None, Some("cn-shanghai"), false)),
            "https://b.oss-cn-shanghai.aliyuncs.com"
        );
    }
}
