//! Storage backends: where a bucket's CORS configuration really lives.
//!
//! A [`Backend`] replaces, reads and deletes one bucket's whole configuration.
//! Errors are classified ([`ErrorKind`]) so that callers can choose between
//! retrying, waiting for a spec change, or giving up; every error names the
//! provider and bucket and never carries a secret.
//!
//! Two implementations:
//! - [`s3::S3Backend`]: AWS S3 and S3-compatible stores (Garage, Ceph RGW,
//!   Cloudflare R2) through `aws-sdk-s3`;
//! - [`oss::OssBackend`]: Alibaba Cloud OSS through its native API, signed
//!   with OSS Signature V4 ([`oss::signer`]).
//!
//! Callers rarely build them by hand: [`Connector`] turns a BucketCors
//! `backend:` block plus a [`CredentialSource`] into a `Backend`, sharing one
//! HTTP client per endpoint so that applying a thousand buckets opens a
//! handful of connections, not a thousand.

pub mod body;
pub mod classify;
pub mod connector;
pub mod credentials;
pub mod endpoint;
mod key;
pub mod oss;
pub mod provider;
pub mod s3;

pub use connector::{BackendSettings, Connector};
pub use credentials::{AccessKeys, CredentialSource};
pub use endpoint::bucket_url;
pub use key::BucketKey;
pub use provider::Provider;

use async_trait::async_trait;
use bucketcors_engine::{CorsConfig, Dialect};
use std::time::Duration;

/// One bucket on one provider.
#[async_trait]
pub trait Backend: Send + Sync {
    /// The dialect whose semantics this backend enforces.
    fn dialect(&self) -> Dialect;
    /// Provider name (`oss`, `s3`) and bucket, for messages.
    fn target(&self) -> &Target;
    /// The current configuration; `Ok(None)` when the bucket has none.
    async fn get_cors(&self) -> Result<Option<CorsConfig>, BackendError>;
    /// Replaces the whole configuration.
    async fn put_cors(&self, config: &CorsConfig) -> Result<(), BackendError>;
    /// Removes the configuration; succeeds when there is none.
    async fn delete_cors(&self) -> Result<(), BackendError>;
}

/// Which bucket, at which provider: what every message names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `oss` or `s3`.
    pub provider: &'static str,
    /// Bucket name.
    pub bucket: String,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} bucket `{}`", self.provider, self.bucket)
    }
}

/// How a caller should react to a backend failure. The reconcile core maps
/// it to its `ErrorClass`, and that to a condition reason, in one place
/// (`crate::reconcile::ErrorClass`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The bucket does not exist.
    BucketNotFound,
    /// Access denied or bad credentials: waiting for new credentials.
    AccessDenied,
    /// The provider refused the configuration itself.
    Refused,
    /// The bucket lives in another region than the spec says (S3
    /// `PermanentRedirect`, `AuthorizationHeaderMalformed` naming the
    /// expected region): only a spec change helps, and the message says
    /// which region.
    WrongRegion,
    /// The provider refused the request's clock (`RequestTimeTooSkewed`):
    /// the operator's host clock is off. Retrying at once sends the same
    /// clock again, so this waits for a human like a denied key.
    ClockSkewed,
    /// Throttled, 5xx, timeout, connection refused: retry with backoff.
    Transient,
    /// Anything else.
    Other,
}

/// A classified backend failure. Messages never contain secrets.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{provider} bucket `{bucket}`: {message}")]
pub struct BackendError {
    /// The class of failure.
    pub kind: ErrorKind,
    /// Provider name.
    pub provider: &'static str,
    /// Bucket name.
    pub bucket: String,
    /// What happened and what to do about it.
    pub message: String,
    /// How long the provider asked us to wait, when it said.
    pub retry_after: Option<Duration>,
}

impl BackendError {
    /// An error about `target`.
    pub fn new(kind: ErrorKind, target: &Target, message: impl Into<String>) -> BackendError {
        BackendError {
            kind,
            provider: target.provider,
            bucket: target.bucket.clone(),
            message: message.into(),
            retry_after: None,
        }
    }

    /// True when retrying the same call later may succeed without any change
    /// to the spec or the credentials.
    pub fn is_transient(&self) -> bool {
        self.kind == ErrorKind::Transient
    }
}
