//! The Cloudflare API token: read from the environment or a Kubernetes
//! Secret, and impossible to print by accident.

use std::fmt;

use k8s_openapi::api::core::v1::Secret;

/// The environment variable the token is read from by default.
pub const TOKEN_ENV: &str = "CLOUDFLARE_API_TOKEN";

/// A bearer token for the Cloudflare API. `Debug` and `Display` never show
/// it; only the `Authorization` header of a request does.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken(String);

/// Why no usable token was found. Never contains the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The variable is unset or empty.
    #[error(
        "environment variable {0} is not set or empty; set it to a Cloudflare API token with Workers KV write access"
    )]
    MissingEnv(String),
    /// The Secret has no such key.
    #[error("Secret `{secret}` has no key `{key}`; add the Cloudflare API token under that key")]
    MissingKey {
        /// The Secret's name.
        secret: String,
        /// The key looked up.
        key: String,
    },
    /// The value is not usable in an HTTP header.
    #[error(
        "the Cloudflare API token from {0} is empty or contains characters not allowed in an HTTP header"
    )]
    Malformed(String),
}

impl ApiToken {
    /// A token from a string; refuses empty values and ones that cannot go
    /// into a header. `source` names where it came from, for the error.
    pub fn new(value: impl Into<String>, source: &str) -> Result<ApiToken, TokenError> {
        let value = value.into().trim().to_owned();
        if value.is_empty() || value.bytes().any(|b| !(0x21..=0x7e).contains(&b)) {
            return Err(TokenError::Malformed(source.to_owned()));
        }
        Ok(ApiToken(value))
    }

    /// The token from environment variable `var` ([`TOKEN_ENV`] usually).
    pub fn from_env(var: &str) -> Result<ApiToken, TokenError> {
        match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => {
                ApiToken::new(v, &format!("environment variable {var}"))
            }
            _ => Err(TokenError::MissingEnv(var.to_owned())),
        }
    }

    /// The token under `key` of `secret` (`data`, or `stringData` for
    /// Secrets built in memory).
    pub fn from_secret(secret: &Secret, key: &str) -> Result<ApiToken, TokenError> {
        let name = secret.metadata.name.clone().unwrap_or_default();
        let source = format!("Secret `{name}` key `{key}`");
        if let Some(bytes) = secret.data.as_ref().and_then(|d| d.get(key)) {
            let text = String::from_utf8(bytes.0.clone())
                .map_err(|_| TokenError::Malformed(source.clone()))?;
            return ApiToken::new(text, &source);
        }
        if let Some(text) = secret.string_data.as_ref().and_then(|d| d.get(key)) {
            return ApiToken::new(text.clone(), &source);
        }
        Err(TokenError::MissingKey {
            secret: name,
            key: key.to_owned(),
        })
    }

    /// The `Authorization` header value. The only way to read the token.
    pub(crate) fn bearer(&self) -> String {
        format!("Bearer {}", self.0)
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::ByteString;
    use std::collections::BTreeMap;

    #[test]
    fn debug_never_shows_the_token() {
        let token = ApiToken::new("s3cr3t-value", "test").unwrap();
        let printed = format!("{token:?} {:?}", Some(&token));
        assert!(!printed.contains("s3cr3t"), "{printed}");
        assert_eq!(token.bearer(), "Bearer s3cr3t-value");
    }

    #[test]
    fn secret_lookup_names_the_missing_key() {
        let mut secret = Secret::default();
        secret.metadata.name = Some("cf".into());
        secret.data = Some(BTreeMap::from([(
            "apiToken".to_owned(),
            ByteString(b"abc".to_vec()),
        )]));
        assert_eq!(
            ApiToken::from_secret(&secret, "apiToken").unwrap().bearer(),
            "Bearer abc"
        );
        let err = ApiToken::from_secret(&secret, "token").unwrap_err();
        assert_eq!(
            err,
            TokenError::MissingKey {
                secret: "cf".into(),
                key: "token".into()
            }
        );
        assert!(err.to_string().contains("`token`"));
    }

    #[test]
    fn malformed_tokens_are_refused_without_echoing_them() {
        let err = ApiToken::new("bad token\n", "env X").unwrap_err();
        assert!(!err.to_string().contains("bad token"));
    }
}
