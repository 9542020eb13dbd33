//! The Cloudflare API token: read from the environment or a Secret's
//! value, and impossible to print by accident.
//!
//! Looking a key up in a Kubernetes Secret is the operator's job (this crate
//! knows no Kubernetes types); [`ApiToken::from_secret_value`] turns what it
//! found into a token, so the messages stay in one place.

use std::fmt;

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

    /// The token stored under `key` of the Secret named `secret`, given
    /// the value found there (`None` when the Secret has no such key).
    pub fn from_secret_value(
        secret: &str,
        key: &str,
        value: Option<&[u8]>,
    ) -> Result<ApiToken, TokenError> {
        let source = format!("Secret `{secret}` key `{key}`");
        let Some(bytes) = value else {
            return Err(TokenError::MissingKey {
                secret: secret.to_owned(),
                key: key.to_owned(),
            });
        };
        let text = std::str::from_utf8(bytes).map_err(|_| TokenError::Malformed(source.clone()))?;
        ApiToken::new(text, &source)
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

    #[test]
    fn debug_never_shows_the_token() {
        let token = ApiToken::new("s3cr3t-value", "test").unwrap();
        let printed = format!("{token:?} {:?}", Some(&token));
        assert!(!printed.contains("s3cr3t"), "{printed}");
        assert_eq!(token.bearer(), "Bearer s3cr3t-value");
    }

    #[test]
    fn secret_lookup_names_the_missing_key() {
        assert_eq!(
            ApiToken::from_secret_value("cf", "apiToken", Some(b"abc"))
                .unwrap()
                .bearer(),
            "Bearer abc"
        );
        let err = ApiToken::from_secret_value("cf", "token", None).unwrap_err();
        assert_eq!(
            err,
            TokenError::MissingKey {
                secret: "cf".into(),
                key: "token".into()
            }
        );
        assert!(err.to_string().contains("`token`"));
        let err = ApiToken::from_secret_value("cf", "token", Some(&[0xff, 0xfe])).unwrap_err();
        assert_eq!(err, TokenError::Malformed("Secret `cf` key `token`".into()));
    }

    #[test]
    fn malformed_tokens_are_refused_without_echoing_them() {
        let err = ApiToken::new("bad token\n", "env X").unwrap_err();
        assert!(!err.to_string().contains("bad token"));
    }
}
