//! Alibaba Cloud OSS through its native API.
//!
//! `PutBucketCors` / `GetBucketCors` / `DeleteBucketCors` on `/?cors`, with
//! the OSS XML body (which carries `ResponseVary`, unlike S3's), signed with
//! OSS Signature V4. The pieces, one per file:
//! - [`signer`]: the V4 algorithm, pure and tested against the official example;
//! - [`client`]: signed requests and retries, to the endpoint
//!   [`crate::backend::endpoint`] parses for every backend;
//! - [`credentials`]: explicit keys, the `ALIBABA_CLOUD_*` environment, RRSA;
//! - [`error`]: OSS `<Error>` bodies to classified errors.
//!
//! The XML body itself is the engine's `oss-xml` format, so the CLI's
//! `convert`, the edge and the backend all read and write the same shape.

pub mod client;
pub mod credentials;
pub mod error;
pub mod signer;

use crate::backend::endpoint::Endpoint;
use crate::backend::{Backend, BackendError, CredentialSource, ErrorKind, Provider, Target};
use crate::retry::RetryPolicy;
use async_trait::async_trait;
use bucketcors_engine::format::{self, Format};
use bucketcors_engine::{CorsConfig, Dialect};
use client::OssHttp;
use credentials::{OssCredentials, ProvideCredentials, StaticProvider};
use error::OssErrorBody;
use std::net::SocketAddr;
use std::sync::Arc;

/// How to reach OSS.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OssSettings {
    /// Endpoint host or URL; `oss-{region}.aliyuncs.com` when absent.
    pub endpoint: Option<String>,
    /// Region (`cn-hangzhou`); derived from an `oss-{region}.aliyuncs.com`
    /// endpoint when absent.
    pub region: Option<String>,
    /// Path-style addressing (`endpoint/bucket`).
    pub path_style: bool,
    /// Explicit keys or the environment / RRSA.
    pub credentials: CredentialSource,
    /// Send every connection to this address whatever DNS says (private
    /// links; tests with a local server and virtual-hosted names).
    pub resolve_to: Option<SocketAddr>,
    /// Attempts per call, including the first (default: [`RetryPolicy`]'s).
    pub max_attempts: Option<u32>,
}

/// Why an [`OssClient`] could not be built. Never contains a secret.
#[derive(Debug, Clone, thiserror::Error)]
pub enum OssConfigError {
    /// Endpoint or region missing or malformed.
    #[error("OSS settings: {0}")]
    Settings(String),
    /// No credentials configured anywhere.
    #[error("OSS credentials: {0}")]
    Credentials(String),
}

/// A configured OSS endpoint; hands out per-bucket [`OssBackend`]s.
#[derive(Clone, Debug)]
pub struct OssClient {
    http: OssHttp,
}

impl OssClient {
    /// Resolves endpoint, region and credentials. Fails when the region
    /// cannot be known or no credentials are configured anywhere.
    pub fn new(settings: &OssSettings) -> Result<OssClient, OssConfigError> {
        OssClient::build(settings, None)
    }

    /// A client with a custom credentials provider (for example RRSA
    /// settings that do not come from the environment);
    /// `settings.credentials` is ignored.
    pub fn with_credentials(
        settings: &OssSettings,
        credentials: Arc<dyn ProvideCredentials>,
    ) -> Result<OssClient, OssConfigError> {
        OssClient::build(settings, Some(credentials))
    }

    fn build(
        settings: &OssSettings,
        provider: Option<Arc<dyn ProvideCredentials>>,
    ) -> Result<OssClient, OssConfigError> {
        let http = client::http_client(settings.resolve_to);
        let endpoint = Endpoint::resolve(
            Provider::Oss,
            settings.endpoint.as_deref(),
            settings.region.as_deref(),
            settings.path_style,
        )
        .map_err(OssConfigError::Settings)?;
        if !endpoint.path.is_empty() {
            return Err(OssConfigError::Settings(format!(
                "endpoint `{}` must be a host or scheme://host[:port], without a path",
                settings.endpoint.as_deref().unwrap_or_default()
            )));
        }
        let region = settings.region.clone().or_else(|| endpoint.region()).ok_or_else(|| {
            OssConfigError::Settings(format!(
                "cannot tell the signing region from endpoint `{}`: set the region (such as cn-hangzhou)",
                endpoint.authority
            ))
        })?;
        let credentials: Arc<dyn ProvideCredentials> = match (provider, &settings.credentials) {
            (Some(provider), _) => provider,
            (None, CredentialSource::Keys(keys)) => Arc::new(StaticProvider(OssCredentials {
                access_key_id: keys.access_key_id.clone(),
                access_key_secret: keys.secret_access_key.clone(),
                security_token: keys.session_token.clone(),
                expiration: None,
            })),
            (None, CredentialSource::Ambient) => credentials::from_environment(http.clone())
                .map_err(|e| OssConfigError::Credentials(e.message))?,
        };
        let retry = settings
            .max_attempts
            .map_or_else(RetryPolicy::default, RetryPolicy::with_max_attempts);
        Ok(OssClient {
            http: OssHttp::new(http, endpoint, region, credentials, retry),
        })
    }

    /// The backend for one bucket on this endpoint.
    pub fn bucket(&self, bucket: &str) -> OssBackend {
        OssBackend {
            http: self.http.clone(),
            target: Target {
                provider: "oss",
                bucket: bucket.to_owned(),
            },
        }
    }
}

/// One bucket on OSS.
#[derive(Clone, Debug)]
pub struct OssBackend {
    http: OssHttp,
    target: Target,
}

#[async_trait]
impl Backend for OssBackend {
    fn dialect(&self) -> Dialect {
        Dialect::Oss
    }

    fn target(&self) -> &Target {
        &self.target
    }

    async fn get_cors(&self) -> Result<Option<CorsConfig>, BackendError> {
        let op = "GetBucketCors";
        let response = self
            .http
            .send(&self.target, op, reqwest::Method::GET, None)
            .await?;
        if (200..300).contains(&response.status) {
            return format::parse(&response.body, Format::OssXml)
                .map(Some)
                .map_err(|e| {
                    BackendError::new(
                        ErrorKind::Other,
                        &self.target,
                        format!("{op}: unreadable OSS XML answer: {e}"),
                    )
                });
        }
        let error = OssErrorBody::parse(&response.body);
        if error.code.as_deref() == Some("NoSuchCORSConfiguration") {
            return Ok(None);
        }
        Err(error.into_error(&self.target, op, response.status))
    }

    async fn put_cors(&self, config: &CorsConfig) -> Result<(), BackendError> {
        let op = "PutBucketCors";
        let body = format::print(config, Format::OssXml);
        let response = self
            .http
            .send(&self.target, op, reqwest::Method::PUT, Some(&body))
            .await?;
        if (200..300).contains(&response.status) {
            return Ok(());
        }
        Err(OssErrorBody::parse(&response.body).into_error(&self.target, op, response.status))
    }

    async fn delete_cors(&self) -> Result<(), BackendError> {
        let op = "DeleteBucketCors";
        let response = self
            .http
            .send(&self.target, op, reqwest::Method::DELETE, None)
            .await?;
        if (200..300).contains(&response.status) {
            return Ok(());
        }
        let error = OssErrorBody::parse(&response.body);
        if error.code.as_deref() == Some("NoSuchCORSConfiguration") {
            return Ok(());
        }
        Err(error.into_error(&self.target, op, response.status))
    }
}
