//! From a BucketCors `backend:` block to a [`Backend`].
//!
//! A [`Connector`] holds the credentials for each provider and caches one
//! client per (provider, endpoint, region, addressing style): building an
//! AWS client walks the region and credentials chains, and each client owns
//! a connection pool, so a thousand manifests on one endpoint share one.

use super::oss::{OssClient, OssConfigError, OssSettings};
use super::s3::{S3Client, S3Settings};
use super::{Backend, BackendError, CredentialSource, ErrorKind, Provider, Target};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::Mutex;

/// Where a bucket is: the `backend:` block without the credentials reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendSettings {
    /// `oss` or `s3`.
    pub provider: Provider,
    /// Endpoint URL or host; the provider's default when absent.
    pub endpoint: Option<String>,
    /// Region.
    pub region: Option<String>,
    /// Path-style addressing.
    pub path_style: bool,
}

/// What makes two clients different (`Provider` is not `Hash`; its dialect is).
type ClientKey = (
    bucketcors_engine::Dialect,
    Option<String>,
    Option<String>,
    bool,
);

enum Client {
    S3(S3Client),
    Oss(OssClient),
}

/// Where a caller gets the [`Backend`] for a bucket: the seam between the
/// sync core's callers and the stores. [`Connector`] is the real one;
/// controller tests put an in-memory bucket here to drive every failure a
/// store can give (a wrong region, a skewed clock) without a server that
/// can produce it, while one Garage-backed test per path keeps the real
/// store in the loop.
#[async_trait::async_trait]
pub trait Backends: Send + Sync {
    /// The backend for `bucket` at `settings`, with the credentials
    /// `connector` holds.
    async fn open(
        &self,
        connector: &Connector,
        settings: &BackendSettings,
        bucket: &str,
    ) -> Result<Arc<dyn Backend>, BackendError>;
}

/// The real [`Backends`]: the store the settings name, through
/// [`Connector::backend`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Stores;

#[async_trait::async_trait]
impl Backends for Stores {
    async fn open(
        &self,
        connector: &Connector,
        settings: &BackendSettings,
        bucket: &str,
    ) -> Result<Arc<dyn Backend>, BackendError> {
        connector.backend(settings, bucket).await
    }
}

/// Builds backends, sharing clients between buckets on the same endpoint.
pub struct Connector {
    s3_credentials: CredentialSource,
    oss_credentials: CredentialSource,
    /// Test and private-link hook for OSS: connect here whatever DNS says.
    oss_resolve_to: Option<SocketAddr>,
    max_attempts: Option<u32>,
    clients: Mutex<HashMap<ClientKey, Arc<Client>>>,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // CredentialSource's Debug already redacts secrets.
        f.debug_struct("Connector")
            .field("s3_credentials", &self.s3_credentials)
            .field("oss_credentials", &self.oss_credentials)
            .finish_non_exhaustive()
    }
}

impl Connector {
    /// A connector using `s3` credentials for S3-compatible backends and
    /// `oss` credentials for OSS.
    pub fn new(s3: CredentialSource, oss: CredentialSource) -> Connector {
        Connector {
            s3_credentials: s3,
            oss_credentials: oss,
            oss_resolve_to: None,
            max_attempts: None,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// Sends every OSS connection to `addr` (virtual-hosted names that DNS
    /// cannot resolve: private links, local test servers).
    pub fn with_oss_resolve_to(mut self, addr: SocketAddr) -> Connector {
        self.oss_resolve_to = Some(addr);
        self
    }

    /// Attempts per backend call, including the first (default 3).
    pub fn with_max_attempts(mut self, attempts: u32) -> Connector {
        self.max_attempts = Some(attempts);
        self
    }

    /// The backend for `bucket` at `settings`.
    pub async fn backend(
        &self,
        settings: &BackendSettings,
        bucket: &str,
    ) -> Result<Arc<dyn Backend>, BackendError> {
        let client = {
            let key = (
                settings.provider.dialect(),
                settings.endpoint.clone(),
                settings.region.clone(),
                settings.path_style,
            );
            let mut clients = self.clients.lock().await;
            match clients.get(&key) {
                Some(client) => client.clone(),
                None => {
                    let client = Arc::new(self.build(settings, bucket).await?);
                    clients.insert(key, client.clone());
                    client
                }
            }
        };
        Ok(match client.as_ref() {
            Client::S3(s3) => Arc::new(s3.bucket(bucket)),
            Client::Oss(oss) => Arc::new(oss.bucket(bucket)),
        })
    }

    async fn build(
        &self,
        settings: &BackendSettings,
        bucket: &str,
    ) -> Result<Client, BackendError> {
        match settings.provider {
            Provider::S3 => Ok(Client::S3(
                S3Client::new(&S3Settings {
                    endpoint: settings.endpoint.clone(),
                    region: settings.region.clone(),
                    path_style: settings.path_style,
                    credentials: self.s3_credentials.clone(),
                    max_attempts: self.max_attempts,
                })
                .await,
            )),
            Provider::Oss => OssClient::new(&OssSettings {
                endpoint: settings.endpoint.clone(),
                region: settings.region.clone(),
                path_style: settings.path_style,
                credentials: self.oss_credentials.clone(),
                resolve_to: self.oss_resolve_to,
                max_attempts: self.max_attempts,
            })
            .map(Client::Oss)
            .map_err(|e| {
                let kind = match e {
                    OssConfigError::Credentials(_) => ErrorKind::AccessDenied,
                    OssConfigError::Settings(_) => ErrorKind::Other,
                };
                BackendError::new(
                    kind,
                    &Target {
                        provider: "oss",
                        bucket: bucket.to_owned(),
                    },
                    e.to_string(),
                )
            }),
        }
    }
}
