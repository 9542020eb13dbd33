//! The HTTP side of OSS: endpoints, signed requests, retries.
//!
//! Only the three bucket `?cors` calls are needed, so this is a small
//! client, not an SDK: it builds the URL (virtual-hosted
//! `https://{bucket}.{endpoint}/?cors` or path-style
//! `{endpoint}/{bucket}/?cors`), signs with [`super::signer`] (signing
//! `host` as an additional header), sends with `reqwest`, and turns non-2xx
//! answers into classified errors through [`super::error`]. Transient
//! failures are retried a few times with a short backoff, as the AWS SDK does
//! for S3, so both backends behave alike for callers.

use super::credentials::{CredentialsError, ProvideCredentials};
use super::signer::{self, SignableRequest, SigningTime, UNSIGNED_PAYLOAD};
use crate::backend::{BackendError, ErrorKind, Target};
use base64::Engine as _;
use md5::{Digest as _, Md5};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

/// Where OSS is and how to address buckets there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `https` or `http`.
    pub scheme: String,
    /// Host, with `:port` when not the scheme's default.
    pub authority: String,
    /// `{endpoint}/{bucket}` instead of `{bucket}.{endpoint}`.
    pub path_style: bool,
}

impl Endpoint {
    /// Parses `oss-cn-hangzhou.aliyuncs.com`, `https://...` or
    /// `http://127.0.0.1:9000`; a bare host means `https`.
    pub fn parse(endpoint: &str, path_style: bool) -> Result<Endpoint, String> {
        let with_scheme = if endpoint.contains("://") {
            endpoint.to_owned()
        } else {
            format!("https://{endpoint}")
        };
        let url = url::Url::parse(&with_scheme)
            .map_err(|e| format!("endpoint `{endpoint}` is not a URL: {e}"))?;
        let host = url
            .host_str()
            .ok_or_else(|| format!("endpoint `{endpoint}` has no host"))?;
        if url.path() != "/" || url.query().is_some() {
            return Err(format!(
                "endpoint `{endpoint}` must be a host or scheme://host[:port], without a path"
            ));
        }
        let authority = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        Ok(Endpoint {
            scheme: url.scheme().to_owned(),
            authority,
            path_style,
        })
    }

    /// The public endpoint of a region: `oss-{region}.aliyuncs.com`.
    pub fn for_region(region: &str, path_style: bool) -> Endpoint {
        Endpoint {
            scheme: "https".into(),
            authority: format!("oss-{region}.aliyuncs.com"),
            path_style,
        }
    }

    /// The region an `oss-{region}[-internal].aliyuncs.com` endpoint belongs to.
    pub fn region(&self) -> Option<String> {
        let host = self.authority.split(':').next()?;
        let label = host.strip_suffix(".aliyuncs.com")?.rsplit('.').next()?;
        let region = label.strip_prefix("oss-")?;
        let region = region.strip_suffix("-internal").unwrap_or(region);
        (!region.is_empty()).then(|| region.to_owned())
    }

    /// The `Host` of requests for `bucket`.
    pub fn host(&self, bucket: &str) -> String {
        if self.path_style {
            self.authority.clone()
        } else {
            format!("{bucket}.{}", self.authority)
        }
    }

    /// The URL of `bucket`'s `?cors` sub-resource.
    pub fn cors_url(&self, bucket: &str) -> String {
        if self.path_style {
            format!("{}://{}/{bucket}/?cors", self.scheme, self.authority)
        } else {
            format!("{}://{bucket}.{}/?cors", self.scheme, self.authority)
        }
    }
}

/// A response that reached us: status and body.
#[derive(Debug)]
pub struct OssResponse {
    /// HTTP status.
    pub status: u16,
    /// Body text.
    pub body: String,
}

/// Signs and sends `?cors` requests. Cheap to clone.
#[derive(Clone, Debug)]
pub struct OssHttp {
    http: reqwest::Client,
    endpoint: Endpoint,
    region: String,
    credentials: Arc<dyn ProvideCredentials>,
    max_attempts: u32,
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
        max_attempts: u32,
    ) -> OssHttp {
        OssHttp {
            http,
            endpoint,
            region,
            credentials,
            max_attempts: max_attempts.max(1),
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
            let retry = match &result {
                Ok(response) => response.status >= 500 || response.status == 429,
                Err(error) => error.kind == ErrorKind::Transient,
            };
            if !retry || attempt >= self.max_attempts {
                return result;
            }
            tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
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
        let body = response
            .text()
            .await
            .map_err(|e| transport_error(target, operation, &e))?;
        Ok(OssResponse { status, body })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_and_regions() {
        let e = Endpoint::parse("oss-cn-hangzhou.aliyuncs.com", false).unwrap();
        assert_eq!(
            e.cors_url("b"),
            "https://b.oss-cn-hangzhou.aliyuncs.com/?cors"
        );
        assert_eq!(e.host("b"), "b.oss-cn-hangzhou.aliyuncs.com");
        assert_eq!(e.region().as_deref(), Some("cn-hangzhou"));
        let internal =
            Endpoint::parse("https://oss-eu-central-1-internal.aliyuncs.com", false).unwrap();
        assert_eq!(internal.region().as_deref(), Some("eu-central-1"));
        let local = Endpoint::parse("http://127.0.0.1:9000", true).unwrap();
        assert_eq!(local.cors_url("b"), "http://127.0.0.1:9000/b/?cors");
        assert_eq!(local.host("b"), "127.0.0.1:9000");
        assert_eq!(local.region(), None);
        assert!(Endpoint::parse("http://x/y", false).is_err());
    }
}
