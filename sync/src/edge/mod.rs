//! Publishing rule sets to the edge worker.
//!
//! The worker reads one Workers KV record per route
//! ([`bucketcors_engine::edge_record::EdgeRecord`], keyed by
//! [`bucketcors_engine::edge_record::route_key`]); a [`Publisher`] writes and
//! deletes those records. [`cloudflare::CloudflareKv`] does it through the
//! Cloudflare API (or the local harness that speaks the same API), with the
//! bearer token kept in an [`token::ApiToken`] that never prints, and
//! transient failures retried by the core's one [`crate::retry::RetryPolicy`].

pub mod cloudflare;
pub mod token;

use async_trait::async_trait;
use bucketcors_engine::ruleset::RuleSet;

/// What the edge needs for one BucketCors: the routes it serves and the rules.
#[derive(Debug, Clone, PartialEq)]
pub struct EdgeTarget {
    /// Host names the worker serves the bucket on.
    pub hosts: Vec<String>,
    /// Optional path prefix under those hosts.
    pub path_prefix: Option<String>,
    /// The bucket origin URL actual requests are forwarded to.
    pub origin_url: String,
}

/// Writes and removes edge records.
#[async_trait]
pub trait Publisher: Send + Sync {
    /// Publishes `rules` for every route of `target`; returns the revision now served.
    async fn publish(&self, target: &EdgeTarget, rules: &RuleSet) -> Result<String, PublishError>;
    /// Removes every route of `target`.
    async fn unpublish(&self, target: &EdgeTarget) -> Result<(), PublishError>;
}

/// A failure to publish. Messages never contain the API token.
#[derive(Debug, Clone, thiserror::Error)]
#[error("edge publish failed: {message}")]
pub struct PublishError {
    /// True when retrying may help (5xx, 429, timeouts).
    pub transient: bool,
    /// True when the Cloudflare API rejected the token itself (401, or an
    /// authentication error code): no retry can help until a person gives
    /// the operator another token, so callers stop and say how.
    pub token_rejected: bool,
    /// What happened.
    pub message: String,
}

impl PublishError {
    /// A failure that retrying may cure.
    pub fn transient(message: impl Into<String>) -> PublishError {
        PublishError {
            transient: true,
            token_rejected: false,
            message: message.into(),
        }
    }

    /// A failure retrying the same request cannot cure.
    pub fn failed(message: impl Into<String>) -> PublishError {
        PublishError {
            transient: false,
            token_rejected: false,
            message: message.into(),
        }
    }

    /// The API rejected the token; `message` says what to do.
    pub fn token_rejected(message: impl Into<String>) -> PublishError {
        PublishError {
            transient: false,
            token_rejected: true,
            message: message.into(),
        }
    }
}
