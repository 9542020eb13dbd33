//! OSS credentials: explicit keys, the `ALIBABA_CLOUD_*` environment, and
//! RRSA (RAM Roles for Service Accounts on ACK).
//!
//! RRSA works like AWS IRSA: the pod gets a projected OIDC token file and
//! two ARNs; [`RrsaProvider`] exchanges the token for temporary keys with STS
//! `AssumeRoleWithOIDC` (an unsigned call: the token is the proof) and
//! caches them until [`REFRESH_BEFORE_EXPIRY`] before they expire. The token
//! file is re-read on every exchange because the kubelet rotates it.
//!
//! Every secret (key secret, security token, OIDC token) is redacted from
//! `Debug` and never enters an error message.

use async_trait::async_trait;
use serde::Deserialize;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

use crate::backend::body::{BodyError, MAX_BODY_BYTES, read_text};
use crate::retry::is_transient_status;

/// Refresh temporary credentials when less than this is left.
pub const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(5 * 60);

/// Keys to sign one request with.
#[derive(Clone, PartialEq, Eq)]
pub struct OssCredentials {
    /// AccessKey ID (`LTAI...`, or `STS....` for temporary keys).
    pub access_key_id: String,
    /// AccessKey secret.
    pub access_key_secret: String,
    /// STS security token, sent as `x-oss-security-token`.
    pub security_token: Option<String>,
    /// When temporary keys stop working.
    pub expiration: Option<OffsetDateTime>,
}

impl fmt::Debug for OssCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OssCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &"<redacted>")
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "<redacted>"),
            )
            .field("expiration", &self.expiration)
            .finish()
    }
}

/// Why no credentials could be obtained. Never contains a secret.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct CredentialsError {
    /// True when asking again later may work (STS unreachable or 5xx).
    pub transient: bool,
    /// What went wrong and what to do.
    pub message: String,
}

/// Anything that can hand out current credentials.
#[async_trait]
pub trait ProvideCredentials: Send + Sync + fmt::Debug {
    /// Credentials valid for at least the next request.
    async fn credentials(&self) -> Result<OssCredentials, CredentialsError>;
}

/// Fixed keys (explicit, or read once from the environment).
#[derive(Debug, Clone)]
pub struct StaticProvider(pub OssCredentials);

#[async_trait]
impl ProvideCredentials for StaticProvider {
    async fn credentials(&self) -> Result<OssCredentials, CredentialsError> {
        Ok(self.0.clone())
    }
}

/// Environment variable names (the Alibaba Cloud SDKs' own).
pub mod env {
    /// AccessKey ID.
    pub const ACCESS_KEY_ID: &str = "ALIBABA_CLOUD_ACCESS_KEY_ID";
    /// AccessKey secret.
    pub const ACCESS_KEY_SECRET: &str = "ALIBABA_CLOUD_ACCESS_KEY_SECRET";
    /// STS security token.
    pub const SECURITY_TOKEN: &str = "ALIBABA_CLOUD_SECURITY_TOKEN";
    /// RRSA: the RAM role to assume.
    pub const ROLE_ARN: &str = "ALIBABA_CLOUD_ROLE_ARN";
    /// RRSA: the cluster's OIDC provider.
    pub const OIDC_PROVIDER_ARN: &str = "ALIBABA_CLOUD_OIDC_PROVIDER_ARN";
    /// RRSA: the projected service account token.
    pub const OIDC_TOKEN_FILE: &str = "ALIBABA_CLOUD_OIDC_TOKEN_FILE";
    /// RRSA: optional session name.
    pub const ROLE_SESSION_NAME: &str = "ALIBABA_CLOUD_ROLE_SESSION_NAME";
    /// STS endpoint: a host (`sts-vpc.cn-hangzhou.aliyuncs.com`) or a URL.
    pub const STS_ENDPOINT: &str = "ALIBABA_CLOUD_STS_ENDPOINT";
}

/// The provider the environment describes: keys first, then RRSA.
pub fn from_environment(
    http: reqwest::Client,
) -> Result<Arc<dyn ProvideCredentials>, CredentialsError> {
    from_lookup(
        |name| std::env::var(name).ok().filter(|v| !v.is_empty()),
        http,
    )
}

/// [`from_environment`] with an injectable lookup (tests must not mutate
/// the process environment: tests run in parallel threads).
pub fn from_lookup(
    lookup: impl Fn(&str) -> Option<String>,
    http: reqwest::Client,
) -> Result<Arc<dyn ProvideCredentials>, CredentialsError> {
    if let (Some(id), Some(secret)) = (lookup(env::ACCESS_KEY_ID), lookup(env::ACCESS_KEY_SECRET)) {
        return Ok(Arc::new(StaticProvider(OssCredentials {
            access_key_id: id,
            access_key_secret: secret,
            security_token: lookup(env::SECURITY_TOKEN),
            expiration: None,
        })));
    }
    if let (Some(role_arn), Some(provider_arn), Some(token_file)) = (
        lookup(env::ROLE_ARN),
        lookup(env::OIDC_PROVIDER_ARN),
        lookup(env::OIDC_TOKEN_FILE),
    ) {
        let endpoint = lookup(env::STS_ENDPOINT).unwrap_or_else(|| "sts.aliyuncs.com".to_owned());
        return Ok(Arc::new(RrsaProvider::new(
            RrsaSettings {
                role_arn,
                oidc_provider_arn: provider_arn,
                oidc_token_file: PathBuf::from(token_file),
                role_session_name: lookup(env::ROLE_SESSION_NAME)
                    .unwrap_or_else(|| "bucketcors".to_owned()),
                sts_endpoint: endpoint,
                duration: Duration::from_secs(3600),
            },
            http,
        )));
    }
    Err(CredentialsError {
        transient: false,
        message: format!(
            "no OSS credentials: set {} and {} (and {} for STS keys), or {}, {} and {} for RRSA, \
             or pass --credentials FILE",
            env::ACCESS_KEY_ID,
            env::ACCESS_KEY_SECRET,
            env::SECURITY_TOKEN,
            env::ROLE_ARN,
            env::OIDC_PROVIDER_ARN,
            env::OIDC_TOKEN_FILE
        ),
    })
}

/// What RRSA needs.
#[derive(Debug, Clone)]
pub struct RrsaSettings {
    /// `acs:ram::<account>:role/<name>`.
    pub role_arn: String,
    /// `acs:ram::<account>:oidc-provider/<name>`.
    pub oidc_provider_arn: String,
    /// The projected token file (re-read on every exchange).
    pub oidc_token_file: PathBuf,
    /// Session name shown in ActionTrail.
    pub role_session_name: String,
    /// STS host or URL (`https://` is assumed for a bare host).
    pub sts_endpoint: String,
    /// Requested lifetime of the temporary keys.
    pub duration: Duration,
}

/// RRSA through STS `AssumeRoleWithOIDC`, cached until shortly before expiry.
pub struct RrsaProvider {
    settings: RrsaSettings,
    http: reqwest::Client,
    cache: tokio::sync::Mutex<Option<OssCredentials>>,
}

impl fmt::Debug for RrsaProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RrsaProvider")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StsResponse {
    credentials: Option<StsCredentials>,
    code: Option<String>,
    message: Option<String>,
    request_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StsCredentials {
    access_key_id: String,
    access_key_secret: String,
    security_token: String,
    expiration: String,
}

impl RrsaProvider {
    /// A provider with an empty cache.
    pub fn new(settings: RrsaSettings, http: reqwest::Client) -> RrsaProvider {
        RrsaProvider {
            settings,
            http,
            cache: tokio::sync::Mutex::new(None),
        }
    }

    fn sts_url(&self) -> String {
        let endpoint = self.settings.sts_endpoint.trim_end_matches('/');
        if endpoint.contains("://") {
            format!("{endpoint}/")
        } else {
            format!("https://{endpoint}/")
        }
    }

    async fn assume_role(&self) -> Result<OssCredentials, CredentialsError> {
        let fail = |transient: bool, message: String| CredentialsError { transient, message };
        let token = tokio::fs::read_to_string(&self.settings.oidc_token_file)
            .await
            .map_err(|e| {
                fail(
                    false,
                    format!(
                        "RRSA: reading the OIDC token file {}: {e}",
                        self.settings.oidc_token_file.display()
                    ),
                )
            })?;
        let timestamp = OffsetDateTime::now_utc()
            .format(time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
            ))
            .expect("UTC timestamps format");
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("Action", "AssumeRoleWithOIDC")
            .append_pair("Format", "JSON")
            .append_pair("Version", "2015-04-01")
            .append_pair("Timestamp", &timestamp)
            .finish();
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("RoleArn", &self.settings.role_arn)
            .append_pair("OIDCProviderArn", &self.settings.oidc_provider_arn)
            .append_pair("OIDCToken", token.trim())
            .append_pair("RoleSessionName", &self.settings.role_session_name)
            .append_pair(
                "DurationSeconds",
                &self.settings.duration.as_secs().to_string(),
            )
            .finish();
        let url = format!("{}?{query}", self.sts_url());
        let response = self
            .http
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            // reqwest's message names the URL (no secret in it: the token is in the body).
            .map_err(|e| {
                fail(
                    true,
                    format!(
                        "RRSA: calling STS AssumeRoleWithOIDC at {}: {e}",
                        self.sts_url()
                    ),
                )
            })?;
        let status = response.status().as_u16();
        let text = read_text(response, MAX_BODY_BYTES).await.map_err(|e| {
            let transient = matches!(e, BodyError::Read(_));
            fail(transient, format!("RRSA: reading the STS answer: {e}"))
        })?;
        let parsed: Option<StsResponse> = serde_json::from_str(&text).ok();
        match parsed {
            Some(StsResponse {
                credentials: Some(c),
                ..
            }) if (200..300).contains(&status) => {
                let expiration = OffsetDateTime::parse(
                    &c.expiration,
                    &time::format_description::well_known::Rfc3339,
                )
                .map_err(|e| {
                    fail(
                        false,
                        format!("RRSA: STS returned an unreadable Expiration: {e}"),
                    )
                })?;
                Ok(OssCredentials {
                    access_key_id: c.access_key_id,
                    access_key_secret: c.access_key_secret,
                    security_token: Some(c.security_token),
                    expiration: Some(expiration),
                })
            }
            other => {
                let (code, message, request_id) = other
                    .map(|r| (r.code, r.message, r.request_id))
                    .unwrap_or((None, None, None));
                let transient = sts_transient(status, code.as_deref());
                Err(fail(
                    transient,
                    format!(
                        "RRSA: STS AssumeRoleWithOIDC for role {} failed (HTTP {status}, {}{}): {}; check the role's \
                         trust policy and the OIDC provider ARN",
                        self.settings.role_arn,
                        code.as_deref().unwrap_or("no error code"),
                        request_id
                            .map(|id| format!(", RequestId {id}"))
                            .unwrap_or_default(),
                        message.as_deref().unwrap_or("no message"),
                    ),
                ))
            }
        }
    }
}

/// Whether a failed STS exchange may succeed when repeated: the one HTTP
/// definition ([`is_transient_status`]) plus STS's throttling codes
/// (`Throttling`, `Throttling.User`, ...). The OSS request that needed the
/// keys retries a transient failure under the one [`crate::retry::RetryPolicy`].
fn sts_transient(status: u16, code: Option<&str>) -> bool {
    is_transient_status(status) || code.is_some_and(|c| c.starts_with("Throttling"))
}

#[async_trait]
impl ProvideCredentials for RrsaProvider {
    async fn credentials(&self) -> Result<OssCredentials, CredentialsError> {
        // One exchange at a time: concurrent reconciles wait for it instead
        // of each calling STS.
        let mut cache = self.cache.lock().await;
        if let Some(current) = cache.as_ref() {
            let fresh = current
                .expiration
                .is_none_or(|at| at - OffsetDateTime::now_utc() > REFRESH_BEFORE_EXPIRY);
            if fresh {
                return Ok(current.clone());
            }
        }
        let new = self.assume_role().await?;
        tracing::debug!(role = %self.settings.role_arn, expiration = ?new.expiration, "RRSA credentials refreshed");
        *cache = Some(new.clone());
        Ok(new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sts_failures_are_transient_as_everywhere_else() {
        // 408 was not retried before the one definition.
        for status in [408, 429, 500, 503] {
            assert!(sts_transient(status, None), "{status}");
        }
        assert!(sts_transient(400, Some("Throttling.User")));
        assert!(!sts_transient(403, Some("NoPermission")));
        assert!(!sts_transient(400, Some("InvalidParameter.OIDCToken")));
    }
}
