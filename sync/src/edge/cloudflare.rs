//! The Cloudflare Workers KV publisher.
//!
//! One record per route, written with
//! `PUT {api}/accounts/{account_id}/storage/kv/namespaces/{namespace_id}/values/{key}`
//! (the record JSON as the raw body) and removed with `DELETE` on the same
//! URL. The API base is configurable so that the local harness, which speaks
//! the same API, can stand in for Cloudflare in tests and demos.
//!
//! A publish reads every route of the target back and writes the ones that
//! differ from the desired record; it is idempotent, so a retried reconcile
//! after a partial failure converges, and a record changed at the edge is
//! put back on the next resync. Withdrawing a key that is already gone
//! counts as success.
//!
//! After each route record, the host's routes record
//! ([`HostRoutes`], `routes:{host}`) is read, updated and written back, so
//! the worker knows which prefixes the host routes and never reads KV for
//! one it does not. Two publishers racing on one host may drop each
//! other's entry; the next reconcile of either writes it again.

use std::time::Duration;

use async_trait::async_trait;
use bucketcors_engine::edge_record::{EdgeRecord, HostRoutes};
use bucketcors_engine::ruleset::RuleSet;

use super::token::ApiToken;
use super::{EdgeTarget, PublishError, Published, PublishedRoute, Publisher, Route};
use crate::retry::{RetryPolicy, is_transient_status};

/// The real Cloudflare API.
pub const DEFAULT_API_URL: &str = "https://api.cloudflare.com/client/v4";

/// Where the records go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvNamespace {
    /// API base, [`DEFAULT_API_URL`] unless testing.
    pub api_url: String,
    /// Cloudflare account id.
    pub account_id: String,
    /// Workers KV namespace id (the worker's `BUCKETCORS_RULES` binding).
    pub namespace_id: String,
}

/// Publishes edge records to Workers KV through the Cloudflare API.
#[derive(Debug, Clone)]
pub struct CloudflareKv {
    client: reqwest::Client,
    namespace: KvNamespace,
    token: ApiToken,
    retry: RetryPolicy,
}

/// One API call's outcome before retry handling.
enum Attempt {
    /// Succeeded; the body of a `GET` (`None`: the key does not exist).
    Done(Option<String>),
    Retry {
        error: PublishError,
        retry_after: Option<String>,
    },
    Fail(PublishError),
}

impl CloudflareKv {
    /// A publisher for `namespace`, authenticating with `token`.
    pub fn new(namespace: KvNamespace, token: ApiToken) -> Result<CloudflareKv, PublishError> {
        for (field, value) in [
            ("account id", &namespace.account_id),
            ("namespace id", &namespace.namespace_id),
        ] {
            if value.is_empty()
                || !value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(PublishError::failed(format!(
                    "Cloudflare {field} `{value}` must be non-empty letters, digits, `-` or `_`"
                )));
            }
        }
        if !(namespace.api_url.starts_with("https://") || namespace.api_url.starts_with("http://"))
        {
            return Err(PublishError::failed(format!(
                "Cloudflare API URL `{}` must start with https:// or http://",
                namespace.api_url
            )));
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("bucketcors/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| PublishError::failed(format!("HTTP client: {e}")))?;
        Ok(CloudflareKv {
            client,
            namespace,
            token,
            retry: RetryPolicy::default(),
        })
    }

    /// Replaces the retry policy (tests use short delays).
    pub fn with_retry(mut self, retry: RetryPolicy) -> CloudflareKv {
        self.retry = retry;
        self
    }

    /// The URL of one key's value.
    fn value_url(&self, key: &str) -> String {
        format!(
            "{}/accounts/{}/storage/kv/namespaces/{}/values/{}",
            self.namespace.api_url.trim_end_matches('/'),
            self.namespace.account_id,
            self.namespace.namespace_id,
            encode_key(key)
        )
    }

    /// Makes every route of `target` hold `record`: each route record is
    /// read back and written only when it differs from `record` (or is
    /// missing, or unreadable), then read back again, so the revision
    /// reported is the one the edge API holds; each host's routes record
    /// is written only when it lacks the route.
    pub async fn publish_record(
        &self,
        target: &EdgeTarget,
        record: &EdgeRecord,
    ) -> Result<Published, PublishError> {
        let body = record.to_json();
        let mut published = Published {
            routes: Vec::new(),
            written: Vec::new(),
        };
        for route in target.routes()? {
            let key = route.key();
            let mut held = self.read_record(&key).await?;
            let mut written = false;
            if held.as_ref() != Some(record) {
                self.call(reqwest::Method::PUT, &key, Some(&body)).await?;
                tracing::info!(key = %key, revision = %record.revision(), repaired = held.is_some(), "edge record published");
                held = self.read_record(&key).await?;
                written = true;
            }
            let Some(held) = held.filter(|held| held == record) else {
                return Err(PublishError::transient(format!(
                    "PUT {key}: the edge API did not return the record just written"
                )));
            };
            if self.set_host_route(&route, true).await? {
                written = true;
            }
            if written {
                published.written.push(route.clone());
            }
            published.routes.push(PublishedRoute {
                route,
                revision: held.revision().to_owned(),
            });
        }
        Ok(published)
    }

    /// The value stored under `key` (`None`: no such key), read through the
    /// API with the same retries as writes.
    pub async fn read_value(&self, key: &str) -> Result<Option<String>, PublishError> {
        self.call(reqwest::Method::GET, key, None).await
    }

    /// The route record under `key`; one that cannot be read as a record
    /// counts as missing (it is rewritten).
    async fn read_record(&self, key: &str) -> Result<Option<EdgeRecord>, PublishError> {
        Ok(self
            .read_value(key)
            .await?
            .and_then(|text| match EdgeRecord::from_json(&text) {
                Ok(record) => Some(record),
                Err(err) => {
                    tracing::warn!(key = %key, error = %err, "edge record unreadable; rewriting it");
                    None
                }
            }))
    }

    /// Adds (`on`) or removes `route` in its host's routes record, stamped
    /// with the time; a record left empty is deleted, a record that already
    /// says so is left alone. A routes record that cannot be read as one is
    /// replaced. True when it wrote.
    async fn set_host_route(&self, route: &Route, on: bool) -> Result<bool, PublishError> {
        let key = route.host_routes_key();
        let (mut routes, valid) = match self.read_value(&key).await? {
            Some(text) => match HostRoutes::from_json(&text) {
                Ok(routes) => (routes, true),
                Err(err) => {
                    tracing::warn!(key = %key, error = %err, "host routes record replaced");
                    (HostRoutes::default(), false)
                }
            },
            None => (HostRoutes::default(), true),
        };
        let prefix = route.path_prefix.as_deref();
        if valid && routes.has(prefix) == on {
            return Ok(false);
        }
        routes.set(prefix, on);
        if routes.is_empty() {
            self.call(reqwest::Method::DELETE, &key, None).await?;
        } else {
            routes.written_at = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .ok()
                .map(|d| d.as_secs());
            self.call(reqwest::Method::PUT, &key, Some(&routes.to_json()))
                .await?;
        }
        Ok(true)
    }

    /// One call with retries; the body of a `GET`.
    async fn call(
        &self,
        method: reqwest::Method,
        key: &str,
        body: Option<&str>,
    ) -> Result<Option<String>, PublishError> {
        let url = self.value_url(key);
        let mut attempt = 1;
        loop {
            match self.once(method.clone(), &url, key, body).await {
                Attempt::Done(text) => return Ok(text),
                Attempt::Fail(error) => return Err(error),
                Attempt::Retry { error, retry_after } => {
                    if attempt >= self.retry.max_attempts {
                        return Err(PublishError::transient(format!(
                            "{} (gave up after {attempt} attempts)",
                            error.message
                        )));
                    }
                    let delay = self.retry.delay(attempt, retry_after.as_deref());
                    tracing::warn!(
                        key = %key,
                        attempt,
                        delay_ms = delay.as_millis() as u64,
                        error = %error.message,
                        "transient Cloudflare API failure; retrying"
                    );
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
            }
        }
    }

    async fn once(
        &self,
        method: reqwest::Method,
        url: &str,
        key: &str,
        body: Option<&str>,
    ) -> Attempt {
        let what = format!("{method} {key}");
        let mut request = self
            .client
            .request(method.clone(), url)
            .header(reqwest::header::AUTHORIZATION, self.token.bearer());
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "text/plain; charset=utf-8")
                .body(body.to_owned());
        }
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => {
                // reqwest errors name the URL (no credentials in it), never headers.
                let error =
                    PublishError::transient(format!("{what}: Cloudflare API unreachable: {e}"));
                return Attempt::Retry {
                    error,
                    retry_after: None,
                };
            }
        };
        let status = response.status().as_u16();
        if method == reqwest::Method::GET && status == 404 {
            // "key not found" (code 10009) is an answer; any other 404 (a
            // wrong namespace) is a failure.
            let text = response.text().await.unwrap_or_default();
            if text.contains("10009") {
                return Attempt::Done(None);
            }
            return Attempt::Fail(PublishError::failed(format!(
                "{what}: Cloudflare API answered 404{}",
                api_errors(&text)
            )));
        }
        if method == reqwest::Method::GET && response.status().is_success() {
            return match response.text().await {
                Ok(text) => Attempt::Done(Some(text)),
                Err(e) => Attempt::Retry {
                    error: PublishError::transient(format!(
                        "{what}: reading the value failed: {e}"
                    )),
                    retry_after: None,
                },
            };
        }
        if response.status().is_success() || (method == reqwest::Method::DELETE && status == 404) {
            return Attempt::Done(None);
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = response.text().await.unwrap_or_default();
        let detail = api_errors(&text);
        let error = if rejects_token(status, &text) {
            PublishError::token_rejected(format!(
                "{what}: Cloudflare API answered {status}{detail}: the API token was rejected. \
                 Give the operator an active token with the Workers KV Storage: Edit permission \
                 on this account (the Secret the chart's edge.cloudflare.apiToken.existingSecret \
                 names, then restart the operator; or CLOUDFLARE_API_TOKEN for the CLI). The \
                 edge keeps serving the rules it last loaded."
            ))
        } else if is_transient_status(status) {
            PublishError::transient(format!("{what}: Cloudflare API answered {status}{detail}"))
        } else {
            PublishError::failed(format!("{what}: Cloudflare API answered {status}{detail}"))
        };
        if error.transient {
            Attempt::Retry { error, retry_after }
        } else {
            Attempt::Fail(error)
        }
    }
}

#[async_trait]
impl Publisher for CloudflareKv {
    async fn publish(
        &self,
        target: &EdgeTarget,
        rules: &RuleSet,
    ) -> Result<Published, PublishError> {
        let record = EdgeRecord::new(
            target.origin_url.clone(),
            rules.dialect,
            Some(rules.clone()),
        )
        .map_err(|e| PublishError::failed(e.to_string()))?;
        self.publish_record(target, &record).await
    }

    async fn withdraw(&self, routes: &[Route]) -> Result<(), PublishError> {
        for route in routes {
            let key = route.key();
            self.call(reqwest::Method::DELETE, &key, None).await?;
            tracing::info!(key = %key, "edge record deleted");
            self.set_host_route(route, false).await?;
        }
        Ok(())
    }
}

/// The KV keys of every route of `target`.
pub fn keys(target: &EdgeTarget) -> Result<Vec<String>, PublishError> {
    Ok(target.routes()?.iter().map(Route::key).collect())
}

/// Percent-encodes a key for a URL path segment (everything but unreserved).
fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len() * 3);
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The `errors` of a Cloudflare API envelope, as `: message (code N); ...`.
/// Whether an answer rejects the token itself rather than one request: a
/// 401, or a 400/403 carrying Cloudflare's authentication error codes
/// (10000 "Authentication error", 9109 "Invalid access token", 6003/6111
/// "Invalid request headers" / "Invalid format for Authorization header").
/// A token without the right permission also gets 10000, and the cure is
/// the same: another token.
fn rejects_token(status: u16, body: &str) -> bool {
    const AUTH_CODES: [i64; 4] = [10000, 9109, 6003, 6111];
    status == 401
        || (matches!(status, 400 | 403)
            && api_error_codes(body).iter().any(|c| AUTH_CODES.contains(c)))
}

/// The `code` of every entry of the envelope's `errors`.
fn api_error_codes(body: &str) -> Vec<i64> {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.get("errors").and_then(|e| e.as_array()).map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e.get("code").and_then(|c| c.as_i64()))
                    .collect()
            })
        })
        .unwrap_or_default()
}

fn api_errors(body: &str) -> String {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(body) else {
        return String::new();
    };
    let parts: Vec<String> = value
        .get("errors")
        .and_then(|e| e.as_array())
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    let message = e.get("message").and_then(|m| m.as_str()).unwrap_or("?");
                    match e.get("code").and_then(|c| c.as_i64()) {
                        Some(code) => format!("{message} (code {code})"),
                        None => message.to_owned(),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    if parts.is_empty() {
        String::new()
    } else {
        format!(": {}", parts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_percent_encoded() {
        assert_eq!(
            encode_key("route:cdn.example.com/assets"),
            "route%3Acdn.example.com%2Fassets"
        );
    }

    #[test]
    fn api_errors_are_summarized() {
        let body =
            r#"{"success":false,"errors":[{"code":10000,"message":"Authentication error"}]}"#;
        assert_eq!(api_errors(body), ": Authentication error (code 10000)");
        assert_eq!(api_errors("not json"), "");
    }

    #[test]
    fn token_rejections_are_told_apart() {
        let auth =
            r#"{"success":false,"errors":[{"code":10000,"message":"Authentication error"}]}"#;
        let other = r#"{"success":false,"errors":[{"code":10013,"message":"bad value"}]}"#;
        assert!(rejects_token(401, ""));
        assert!(rejects_token(403, auth));
        assert!(rejects_token(
            400,
            r#"{"errors":[{"code":6003,"message":"Invalid request headers"}]}"#
        ));
        assert!(!rejects_token(403, other), "a 403 for another reason");
        assert!(!rejects_token(400, other));
        assert!(!rejects_token(500, auth), "a 5xx is the API's own trouble");
    }

    #[test]
    fn bad_namespace_ids_are_refused() {
        let token = ApiToken::new("t", "test").unwrap();
        let ns = KvNamespace {
            api_url: DEFAULT_API_URL.into(),
            account_id: "a/b".into(),
            namespace_id: "n".into(),
        };
        let err = CloudflareKv::new(ns, token).unwrap_err();
        assert!(err.message.contains("account id"), "{}", err.message);
    }
}
