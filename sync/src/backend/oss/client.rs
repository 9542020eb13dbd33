//! The HTTP side of OSS: endpoints, signed requests, retries.
//!
//! Only the three bucket `?cors` calls are needed, so this is a small
//! client, not an SDK: it sends to the bucket's `?cors` URL
//! ([`Endpoint::cors_url`], virtual-hosted `https://{bucket}.{endpoint}/?cors`
//! or path-style `{endpoint}/{bucket}/?cors`), signs with [`super::signer`] (signing
//! `host` as an additional header), sends with `reqwest`, and turns non-2xx
//! answers into classified errors through [`super::error`]. Transient
//! failures are retried under the core's one [`RetryPolicy`], which the S3
//! backend gives the AWS SDK too, so both backends behave alike for callers.

use super::credentials::{CredentialsError, ProvideCredentials};
use super::error::OssErrorBody;
use super::signer::{self, SignableRequest, SigningTime, UNSIGNED_PAYLOAD};
use crate::backend::body;
use crate::backend::classify::classify;
use crate::backend::endpoint::Endpoint;
use crate::backend::{BackendError, ErrorKind, Target};
use crate::retry::RetryPolicy;
use base64::Engine as _;
use md5::{Digest as _, Md5};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

/// A response that reached us: status and body.
#[derive(Debug)]
pub struct OssResponse {
    /// HTTP status.
    pub status: u16,
    /// Body text.
    pub body: String,
    /// The `Retry-After` header, when the answer had one.
    pub retry_after: Option<String>,
}

/// Signs and sends `?cors` requests. Cheap to clone.
#[derive(Clone, Debug)]
pub struct OssHttp {
    http: reqwest::Client,
    endpoint: Endpoint,
    region: String,
    credentials: Arc<dyn ProvideCredentials>,
    retry: RetryPolicy,
}

/// Sends every connection to one address whatever the host name says, so
/// virtual-hosted requests (`bucket.oss.test`) can reach a local server.
#[derive(Debug)]
struct FixedResolver(SocketAddr);

impl reqwest::dns::Resolve for FixedResolver {
    fn resolve(&self, _name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let addr = self.0;
        Box::pin(async move { Ok(Box::new(std::iter::once(addr)) as reqwest::dns::Addrs) })
    }
}

/// A `reqwest` client with bucketcors's timeouts; `resolve_to` pins every
/// host name to one address.
pub fn http_client(resolve_to: Option<SocketAddr>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .user_agent(concat!("bucketcors/", env!("CARGO_PKG_VERSION")));
    if let Some(addr) = resolve_to {
        builder = builder.dns_resolver(Arc::new(FixedResolver(addr)));
    }
    builder.build().expect("the TLS backend initialises")
}

impl OssHttp {
    /// A client for `endpoint` signing for `region`.
    pub fn new(
        http: reqwest::Client,
        endpoint: Endpoint,
        region: String,
        credentials: Arc<dyn ProvideCredentials>,
        retry: RetryPolicy,
    ) -> OssHttp {
        OssHttp {
            http,
            endpoint,
            region,
            credentials,
            retry,
        }
    }

    /// Sends `method /?cors` for `target`'s bucket, retrying transient
    /// failures; answers any status (callers decide what a 404 means).
    pub async fn send(
        &self,
        target: &Target,
        operation: &str,
        method: reqwest::Method,
        body: Option<&str>,
    ) -> Result<OssResponse, BackendError> {
        let mut attempt = 1;
        loop {
            let result = self
                .send_once(target, operation, method.clone(), body)
                .await;
            let (retry, retry_after) = match &result {
                Ok(response) if (200..300).contains(&response.status) => (false, None),
                // Retried exactly when the error it becomes is transient:
                // the one status definition, refined by OSS's codes.
                Ok(response) => (
                    classify(
                        OssErrorBody::parse(&response.body).code.as_deref(),
                        Some(response.status),
                    ) == ErrorKind::Transient,
                    response.retry_after.as_deref(),
                ),
                Err(error) => (error.kind == ErrorKind::Transient, None),
            };
            if !retry || !self.retry.allows_another(attempt) {
                return result;
            }
            tokio::time::sleep(self.retry.delay(attempt, retry_after)).await;
            attempt += 1;
        }
    }

    async fn send_once(
        &self,
        target: &Target,
        operation: &str,
        method: reqwest::Method,
        body: Option<&str>,
    ) -> Result<OssResponse, BackendError> {
        let credentials = self
            .credentials
            .credentials()
            .await
            .map_err(|e| credentials_error(target, e))?;
        let time = SigningTime::new(OffsetDateTime::now_utc());
        let host = self.endpoint.host(&target.bucket);

        let mut headers: Vec<(&str, String)> = vec![
            ("host", host),
            ("x-oss-date", time.datetime.clone()),
            ("x-oss-content-sha256", UNSIGNED_PAYLOAD.to_owned()),
        ];
        if let Some(body) = body {
            headers.push(("content-type", "application/xml".to_owned()));
            headers.push((
                "content-md5",
                base64::engine::general_purpose::STANDARD.encode(Md5::digest(body)),
            ));
        }
        if let Some(token) = &credentials.security_token {
            headers.push(("x-oss-security-token", token.clone()));
        }
        let signable: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let signature = signer::sign(
            &SignableRequest {
                method: method.as_str(),
                bucket: Some(&target.bucket),
                key: None,
                query: &[("cors", None)],
                headers: &signable,
                additional_headers: &["host"],
            },
            &credentials.access_key_id,
            &credentials.access_key_secret,
            &self.region,
            &time,
        );

        let mut request = self
            .http
            .request(method, self.endpoint.cors_url(&target.bucket));
        for (name, value) in &headers {
            // reqwest derives Host from the URL; it equals what was signed.
            if *name != "host" {
                request = request.header(*name, value);
            }
        }
        request = request.header("authorization", signature.authorization);
        if let Some(body) = body {
            request = request.body(body.to_owned());
        }
        let response = request
            .send()
            .await
            .map_err(|e| transport_error(target, operation, &e))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = body::read_text(response, body::MAX_BODY_BYTES)
            .await
            .map_err(|e| match e {
                body::BodyError::Read(e) => transport_error(target, operation, &e),
                too_large => BackendError::new(
                    ErrorKind::Other,
                    target,
                    format!("{operation} failed: {too_large}"),
                ),
            })?;
        Ok(OssResponse {
            status,
            body,
            retry_after,
        })
    }
}

fn credentials_error(target: &Target, error: CredentialsError) -> BackendError {
    let kind = if error.transient {
        ErrorKind::Transient
    } else {
        ErrorKind::AccessDenied
    };
    BackendError::new(kind, target, error.message)
}

fn transport_error(target: &Target, operation: &str, error: &reqwest::Error) -> BackendError {
    let kind = if error.is_connect() || error.is_timeout() || error.is_request() || error.is_body()
    {
        ErrorKind::Transient
    } else {
        ErrorKind::Other
    };
    // Walk the source chain: reqwest's top-level text omits the cause
    // ("connection refused"). URLs carry no secret: requests are signed in headers.
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    BackendError::new(kind, target, format!("{operation} failed: {message}"))
}
