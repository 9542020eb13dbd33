//! Publishing rule sets to the edge worker.
//!
//! The worker reads one Workers KV record per route
//! ([`bucketcors_engine::edge_record::EdgeRecord`], keyed by
//! [`bucketcors_engine::edge_record::route_key`]); a [`Publisher`] makes
//! those records hold what the spec says and withdraws the ones it no
//! longer names. [`cloudflare::CloudflareKv`] does it through the
//! Cloudflare API (or the local harness that speaks the same API), with the
//! bearer token kept in an [`token::ApiToken`] that never prints, and
//! transient failures retried by the core's one [`crate::retry::RetryPolicy`].
//!
//! A publish reads every route's record back and writes only the routes
//! whose record differs from the desired one (rules, dialect, origin URL),
//! so running it on each resync repairs a record changed or deleted behind
//! the operator's back, and sends no write when all is in order.

pub mod cloudflare;
mod route;
pub mod token;

pub use route::{PublishedRoute, Route};

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

impl EdgeTarget {
    /// Every route of the target, canonical and without duplicates (two
    /// spellings of one host are one route); an error naming the host or
    /// prefix the edge cannot route.
    pub fn routes(&self) -> Result<Vec<Route>, PublishError> {
        if self.hosts.is_empty() {
            return Err(PublishError::failed(
                "edge.hosts is empty: name at least one host",
            ));
        }
        let mut routes: Vec<Route> = Vec::with_capacity(self.hosts.len());
        for host in &self.hosts {
            let route = Route::new(host, self.path_prefix.as_deref())?;
            if !routes.contains(&route) {
                routes.push(route);
            }
        }
        Ok(routes)
    }
}

/// What a publish found and did, route by route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// Every route of the target with the revision read back from the edge
    /// API after the publish.
    pub routes: Vec<PublishedRoute>,
    /// The routes whose record (or whose host's routes record) differed
    /// from the desired one and was written.
    pub written: Vec<Route>,
}

/// Writes and removes edge records.
#[async_trait]
pub trait Publisher: Send + Sync {
    /// Makes every route of `target` hold the record of `rules` (rules,
    /// dialect, origin URL): reads each record back, writes those that
    /// differ or are missing, and reports the revision the edge API holds
    /// for each route afterwards.
    async fn publish(
        &self,
        target: &EdgeTarget,
        rules: &RuleSet,
    ) -> Result<Published, PublishError>;
    /// Removes `routes` (a route already gone counts as removed).
    async fn withdraw(&self, routes: &[Route]) -> Result<(), PublishError>;
    /// Removes every route of `target`.
    async fn unpublish(&self, target: &EdgeTarget) -> Result<(), PublishError> {
        self.withdraw(&target.routes()?).await
    }
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
