//! AWS S3 and S3-compatible stores (Garage, Ceph RGW, Cloudflare R2).
//!
//! Built on `aws-sdk-s3`, which already does SigV4, `Content-MD5`/checksums
//! and the XML; this module only maps between the engine's [`CorsConfig`]
//! and the SDK's types, and SDK errors to [`BackendError`]s. One
//! [`S3Client`] (one connection pool, one credentials cache) serves every
//! bucket on the same endpoint; [`S3Client::bucket`] is cheap.
//!
//! The SDK retries transient failures itself, under the core's one
//! [`RetryPolicy`] (attempts and backoff) and with the one definition of a
//! transient HTTP status added to its own classifiers (`TransientStatus`:
//! the SDK alone would not retry a `408`), with short timeouts, so an
//! unreachable endpoint surfaces as a [`ErrorKind::Transient`] error within
//! seconds instead of hanging a reconcile.

use super::body::MAX_BODY_BYTES;
use super::classify::{advice, classify, expected_region};
use super::{Backend, BackendError, CredentialSource, ErrorKind, Target};
use crate::retry::{RetryPolicy, is_transient_status};
use async_trait::async_trait;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_s3::config::interceptors::{
    BeforeDeserializationInterceptorContextMut, InterceptorContext,
};
use aws_sdk_s3::config::retry::{ClassifyRetry, RetryAction};
use aws_sdk_s3::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_s3::error::BoxError;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::SdkBody;
use aws_sdk_s3::types::{CorsConfiguration, CorsRule};
use bucketcors_engine::{CorsConfig, Dialect, Rule};
use http_body_util::{BodyExt as _, LengthLimitError, Limited};
use std::time::Duration;

/// The region used for signing when none is configured anywhere. Most
/// S3-compatible stores accept any region; AWS answers with the right one.
pub const FALLBACK_REGION: &str = "us-east-1";

/// How to reach an S3-compatible endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct S3Settings {
    /// Endpoint URL (`http://127.0.0.1:3900`, `https://<account>.r2.cloudflarestorage.com`);
    /// AWS's own endpoints when absent.
    pub endpoint: Option<String>,
    /// Signing region; the AWS region chain, then [`FALLBACK_REGION`], when absent.
    pub region: Option<String>,
    /// Path-style addressing (`endpoint/bucket`), needed by Garage, RGW and
    /// any endpoint given as an IP address.
    pub path_style: bool,
    /// Explicit keys or the AWS standard chain.
    pub credentials: CredentialSource,
    /// Attempts per call, including the first (default: [`RetryPolicy`]'s).
    pub max_attempts: Option<u32>,
}

/// A configured S3 client; hands out per-bucket [`S3Backend`]s.
#[derive(Clone, Debug)]
pub struct S3Client {
    client: aws_sdk_s3::Client,
}

impl S3Client {
    /// Builds the client. Only the AWS region and credentials chains are
    /// consulted here; nothing is sent until a backend call.
    pub async fn new(settings: &S3Settings) -> S3Client {
        let retry = settings
            .max_attempts
            .map_or_else(RetryPolicy::default, RetryPolicy::with_max_attempts);
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .operation_attempt_timeout(Duration::from_secs(20))
                    .operation_timeout(Duration::from_secs(60))
                    .build(),
            )
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(retry.max_attempts)
                    .with_initial_backoff(retry.base_delay)
                    .with_max_backoff(retry.max_delay),
            );
        loader = match &settings.region {
            Some(region) => loader.region(Region::new(region.clone())),
            None => loader.region(
                aws_config::meta::region::RegionProviderChain::default_provider()
                    .or_else(FALLBACK_REGION),
            ),
        };
        if let CredentialSource::Keys(keys) = &settings.credentials {
            loader = loader.credentials_provider(aws_credential_types::Credentials::new(
                keys.access_key_id.clone(),
                keys.secret_access_key.clone(),
                keys.session_token.clone(),
                None,
                "bucketcors",
            ));
        }
        let shared = loader.load().await;
        let mut config = aws_sdk_s3::config::Builder::from(&shared)
            .force_path_style(settings.path_style)
            .retry_classifier(TransientStatus)
            .interceptor(BoundedBody);
        if let Some(endpoint) = &settings.endpoint {
            // A bare host means https, as for OSS (super::endpoint).
            config = config.endpoint_url(super::endpoint::with_scheme(endpoint));
        }
        S3Client {
            client: aws_sdk_s3::Client::from_conf(config.build()),
        }
    }

    /// The backend for one bucket on this endpoint.
    pub fn bucket(&self, bucket: &str) -> S3Backend {
        S3Backend {
            client: self.client.clone(),
            target: Target {
                provider: "s3",
                bucket: bucket.to_owned(),
            },
        }
    }
}

/// Adds the core's definition of a transient HTTP status
/// ([`is_transient_status`]) to the SDK's own retry classifiers, which
/// already cover throttling codes and connection failures.
#[derive(Debug)]
struct TransientStatus;

impl ClassifyRetry for TransientStatus {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        match ctx.response() {
            Some(response) if is_transient_status(response.status().as_u16()) => {
                RetryAction::server_error()
            }
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "bucketcors transient HTTP status"
    }
}

/// Bounds every S3 answer's body to [`MAX_BODY_BYTES`] before the SDK
/// reads it ([`super::body`]): a declared `Content-Length` above the bound
/// is refused at once, an undeclared one fails at the first chunk past it.
#[derive(Debug)]
struct BoundedBody;

/// The error the bounded body fails with; the SDK's error chain carries it
/// into the backend's message.
#[derive(Debug, thiserror::Error)]
#[error(
    "the answer's body is larger than {MAX_BODY_BYTES} bytes; bucketcors stops reading there (a CORS configuration is a few KiB): is this endpoint what it claims to be?"
)]
struct BodyTooLarge;

impl Intercept for BoundedBody {
    fn name(&self) -> &'static str {
        "bucketcors bounded response body"
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let declared = context
            .response()
            .headers()
            .get("content-length")
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
            return Err(Box::new(BodyTooLarge));
        }
        let body = std::mem::replace(context.response_mut().body_mut(), SdkBody::taken());
        *context.response_mut().body_mut() = body.map(|body| {
            SdkBody::from_body_1_x(Limited::new(body, MAX_BODY_BYTES).map_err(|e| -> BoxError {
                if e.is::<LengthLimitError>() {
                    Box::new(BodyTooLarge)
                } else {
                    e
                }
            }))
        });
        Ok(())
    }
}

/// One bucket on an S3-compatible store.
#[derive(Clone, Debug)]
pub struct S3Backend {
    client: aws_sdk_s3::Client,
    target: Target,
}

#[async_trait]
impl Backend for S3Backend {
    fn dialect(&self) -> Dialect {
        Dialect::S3
    }

    fn target(&self) -> &Target {
        &self.target
    }

    async fn get_cors(&self) -> Result<Option<CorsConfig>, BackendError> {
        let result = self
            .client
            .get_bucket_cors()
            .bucket(&self.target.bucket)
            .send()
            .await;
        match result {
            Ok(output) => Ok(Some(from_sdk(output.cors_rules()))),
            Err(SdkError::ServiceError(e)) if e.err().code() == Some("NoSuchCORSConfiguration") => {
                Ok(None)
            }
            Err(e) => Err(map_error(&self.target, "GetBucketCors", e)),
        }
    }

    async fn put_cors(&self, config: &CorsConfig) -> Result<(), BackendError> {
        let cors = to_sdk(config)
            .map_err(|message| BackendError::new(ErrorKind::Refused, &self.target, message))?;
        self.client
            .put_bucket_cors()
            .bucket(&self.target.bucket)
            .cors_configuration(cors)
            .send()
            .await
            .map_err(|e| map_error(&self.target, "PutBucketCors", e))?;
        Ok(())
    }

    async fn delete_cors(&self) -> Result<(), BackendError> {
        match self
            .client
            .delete_bucket_cors()
            .bucket(&self.target.bucket)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            // Some stores answer 404 instead of S3's 204 when nothing is set.
            Err(SdkError::ServiceError(e)) if e.err().code() == Some("NoSuchCORSConfiguration") => {
                Ok(())
            }
            Err(e) => Err(map_error(&self.target, "DeleteBucketCors", e)),
        }
    }
}

/// The engine's configuration as the SDK's. `response_vary` has no place in
/// S3 and is dropped (validation for the S3 dialect reports it).
fn to_sdk(config: &CorsConfig) -> Result<CorsConfiguration, String> {
    let rules = config
        .rules
        .iter()
        .enumerate()
        .map(|(index, rule)| {
            let max_age = rule
                .max_age_seconds
                .map(|age| {
                    i32::try_from(age).map_err(|_| {
                        format!(
                            "rules[{index}].maxAgeSeconds: {age} is larger than S3 accepts ({})",
                            i32::MAX
                        )
                    })
                })
                .transpose()?;
            CorsRule::builder()
                .set_id(rule.id.clone())
                .set_allowed_origins(Some(rule.allowed_origins.clone()))
                .set_allowed_methods(Some(rule.allowed_methods.clone()))
                .set_allowed_headers(non_empty(&rule.allowed_headers))
                .set_expose_headers(non_empty(&rule.expose_headers))
                .set_max_age_seconds(max_age)
                .build()
                .map_err(|e| format!("rules[{index}]: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    CorsConfiguration::builder()
        .set_cors_rules(Some(rules))
        .build()
        .map_err(|e| e.to_string())
}

fn non_empty(values: &[String]) -> Option<Vec<String>> {
    (!values.is_empty()).then(|| values.to_vec())
}

/// The SDK's rules as the engine's configuration.
fn from_sdk(rules: &[CorsRule]) -> CorsConfig {
    CorsConfig {
        rules: rules
            .iter()
            .map(|rule| Rule {
                id: rule.id().map(str::to_owned),
                allowed_origins: rule.allowed_origins().to_vec(),
                allowed_methods: rule.allowed_methods().to_vec(),
                allowed_headers: rule.allowed_headers().to_vec(),
                expose_headers: rule.expose_headers().to_vec(),
                // A negative value cannot come from a valid store; treat it as absent.
                max_age_seconds: rule
                    .max_age_seconds()
                    .and_then(|age| u64::try_from(age).ok()),
            })
            .collect(),
        response_vary: false,
    }
}

/// Classifies an SDK error. Messages carry the provider's code and message
/// and the transport error chain; the SDK never puts credentials in either.
fn map_error<E>(
    target: &Target,
    operation: &str,
    error: SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> BackendError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    // No identity: the credentials chain failed before anything was sent
    // (for web identity: STS refused the token or role, or was unreachable).
    let no_identity = match &error {
        SdkError::ServiceError(_) => None,
        _ => credentials_failure(&error),
    };
    let (kind, detail) = match &error {
        _ if no_identity.is_some() => (
            no_identity.unwrap_or(ErrorKind::AccessDenied),
            format!(
                "no credentials from the AWS chain (with web identity: does the role's trust allow this ServiceAccount and token audience?): {}",
                DisplayErrorContext(&error)
            ),
        ),
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let code = service.err().code();
            let kind = classify(code, Some(status));
            let mut detail = format!(
                "{} (HTTP {status}): {}",
                code.unwrap_or("no error code"),
                service.err().message().unwrap_or("no message")
            );
            if kind == ErrorKind::WrongRegion {
                let header = service.raw().headers().get("x-amz-bucket-region");
                match expected_region(header, service.err().message()) {
                    Some(region) => detail.push_str(&format!(
                        "; the bucket is in region `{region}`: set spec.backend.region: {region}"
                    )),
                    None => detail.push_str("; the provider did not say which region"),
                }
            }
            (kind, detail)
        }
        SdkError::TimeoutError(_) => (ErrorKind::Transient, "timed out".to_owned()),
        // Network-level failures (refused, reset, closed, timed out) are
        // worth retrying; only a request the SDK itself judged malformed is not.
        SdkError::DispatchFailure(failure) if !failure.is_user() => (
            ErrorKind::Transient,
            DisplayErrorContext(&error).to_string(),
        ),
        SdkError::ResponseError(_) => (
            ErrorKind::Transient,
            DisplayErrorContext(&error).to_string(),
        ),
        _ => {
            let text = DisplayErrorContext(&error).to_string();
            // A missing identity (no keys anywhere in the chain) is a
            // credentials problem, not a bug.
            let kind = if text.contains("credential") {
                ErrorKind::AccessDenied
            } else {
                ErrorKind::Other
            };
            (kind, text)
        }
    };
    BackendError::new(
        kind,
        target,
        format!("{operation} failed: {detail}; {}", advice(kind)),
    )
}

/// When `error` is the credentials chain failing (it then surfaces as a
/// dispatch failure, since nothing was sent), the class of that failure:
/// STS's own answer classified by its code and status like any provider
/// answer (`AccessDenied`, `InvalidIdentityToken`, `ExpiredTokenException`
/// need a human; a `5xx` or an unreachable STS is transient), a missing or
/// misconfigured identity is [`ErrorKind::AccessDenied`], a timeout is
/// transient. `None` when the failure is not about credentials.
fn credentials_failure(error: &(dyn std::error::Error + 'static)) -> Option<ErrorKind> {
    use aws_credential_types::provider::error::CredentialsError;
    use aws_sdk_sts::operation::assume_role_with_web_identity::AssumeRoleWithWebIdentityError;
    type StsError =
        SdkError<AssumeRoleWithWebIdentityError, aws_sdk_sts::config::http::HttpResponse>;

    let mut credentials = None;
    let mut next = Some(error);
    while let Some(current) = next {
        if credentials.is_none() {
            credentials = current.downcast_ref::<CredentialsError>();
        }
        if let Some(sts) = current.downcast_ref::<StsError>() {
            return Some(match sts {
                SdkError::ServiceError(service) => {
                    match classify(service.err().code(), Some(service.raw().status().as_u16())) {
                        // STS's own refusals of the token or the role.
                        ErrorKind::Other | ErrorKind::Refused | ErrorKind::BucketNotFound => {
                            ErrorKind::AccessDenied
                        }
                        kind => kind,
                    }
                }
                SdkError::DispatchFailure(failure) if failure.is_user() => ErrorKind::AccessDenied,
                _ => ErrorKind::Transient,
            });
        }
        next = current.source();
    }
    credentials.map(|failure| match failure {
        CredentialsError::ProviderTimedOut(_) => ErrorKind::Transient,
        _ => ErrorKind::AccessDenied,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_round_trip_keeps_every_field() {
        let config = CorsConfig {
            rules: vec![Rule {
                id: Some("r1".into()),
                allowed_origins: vec!["https://a.example".into(), "*".into()],
                allowed_methods: vec!["GET".into(), "PUT".into()],
                allowed_headers: vec!["x-amz-*".into()],
                expose_headers: vec!["ETag".into()],
                max_age_seconds: Some(300),
            }],
            response_vary: false,
        };
        let sdk = to_sdk(&config).unwrap();
        assert_eq!(from_sdk(sdk.cors_rules()), config);
    }

    /// An S3 call that failed before sending because the credentials
    /// chain failed with `failure` (as the SDK reports it).
    fn without_identity(
        failure: aws_credential_types::provider::error::CredentialsError,
    ) -> BackendError {
        use aws_sdk_s3::error::ConnectorError;
        use aws_sdk_s3::operation::get_bucket_cors::GetBucketCorsError;
        let error: SdkError<GetBucketCorsError, aws_sdk_s3::config::http::HttpResponse> =
            SdkError::dispatch_failure(ConnectorError::other(Box::new(failure), None));
        let target = Target {
            provider: "s3",
            bucket: "b".into(),
        };
        map_error(&target, "GetBucketCors", error)
    }

    /// STS answering `status` with `code`, wrapped as the web identity
    /// provider wraps it.
    fn sts_answer(status: u16, code: &str) -> BackendError {
        use aws_credential_types::provider::error::CredentialsError;
        use aws_sdk_sts::error::ErrorMetadata;
        use aws_sdk_sts::operation::assume_role_with_web_identity::AssumeRoleWithWebIdentityError;
        let err = AssumeRoleWithWebIdentityError::generic(
            ErrorMetadata::builder()
                .code(code)
                .message("refused by STS")
                .build(),
        );
        let response = aws_sdk_sts::config::http::HttpResponse::new(
            status.try_into().unwrap(),
            SdkBody::empty(),
        );
        without_identity(CredentialsError::provider_error(SdkError::service_error(
            err, response,
        )))
    }

    #[test]
    fn sts_refusals_need_a_human_and_say_why() {
        for (status, code) in [
            (403, "AccessDenied"),
            (400, "InvalidIdentityToken"),
            (400, "ExpiredTokenException"),
        ] {
            let error = sts_answer(status, code);
            assert_eq!(error.kind, ErrorKind::AccessDenied, "{code}: {error}");
            assert!(error.to_string().contains(code), "{error}");
        }
        let busy = sts_answer(503, "ServiceUnavailable");
        assert_eq!(busy.kind, ErrorKind::Transient, "{busy}");
    }

    #[test]
    fn an_unreachable_sts_is_transient_and_no_identity_is_denied() {
        use aws_credential_types::provider::error::CredentialsError;
        use aws_sdk_sts::error::ConnectorError;
        use aws_sdk_sts::operation::assume_role_with_web_identity::AssumeRoleWithWebIdentityError;
        let unreachable: SdkError<
            AssumeRoleWithWebIdentityError,
            aws_sdk_sts::config::http::HttpResponse,
        > = SdkError::dispatch_failure(ConnectorError::io("connection refused".into()));
        let error = without_identity(CredentialsError::provider_error(unreachable));
        assert_eq!(error.kind, ErrorKind::Transient, "{error}");
        let none = without_identity(CredentialsError::not_loaded("no providers in chain"));
        assert_eq!(none.kind, ErrorKind::AccessDenied, "{none}");
    }

    #[test]
    fn oversized_max_age_is_refused_naming_the_field() {
        let config = CorsConfig {
            rules: vec![Rule {
                allowed_origins: vec!["*".into()],
                allowed_methods: vec!["GET".into()],
                max_age_seconds: Some(u64::MAX),
                ..Rule::default()
            }],
            response_vary: false,
        };
        assert!(
            to_sdk(&config)
                .unwrap_err()
                .contains("rules[0].maxAgeSeconds")
        );
    }
}
