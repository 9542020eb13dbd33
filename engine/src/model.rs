//! The rule model: what a bucket's CORS configuration says, independent of
//! any file format or provider API.
//!
//! Values are kept as the user wrote them (strings, not enums), so that an
//! invalid configuration can still be represented, printed and explained;
//! [`crate::validate()`] is what decides whether it is acceptable for a
//! [`Dialect`].

use serde::{Deserialize, Serialize};

/// Which provider's semantics a configuration follows.
///
/// The edge must answer exactly as the bucket would, and the providers differ
/// (limits, `*` answers, credentials, error bodies, `ResponseVary`), so every
/// validation and decision is made for one dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// Alibaba Cloud OSS (PutBucketCors with `ResponseVary`).
    Oss,
    /// Amazon S3 and S3-compatible stores (Garage, Ceph RGW, Cloudflare R2).
    S3,
}

impl Dialect {
    /// The name used on the command line and in serialized forms.
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Oss => "oss",
            Dialect::S3 => "s3",
        }
    }
}

impl std::fmt::Display for Dialect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Dialect {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "oss" => Ok(Dialect::Oss),
            "s3" => Ok(Dialect::S3),
            other => Err(format!("unknown dialect `{other}`: expected `oss` or `s3`")),
        }
    }
}

/// Whether a request addresses an object or the bucket itself. S3 names it in
/// the `<ResourceType>` of its error bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResourceType {
    /// A request for an object (any path below the bucket).
    #[default]
    Object,
    /// A request for the bucket itself (`/`).
    Bucket,
}

/// One CORS rule. Field names follow the BucketCors spec (camelCase).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rule {
    /// Optional identifier (S3 `ID`, up to 255 characters). OSS has no place
    /// for it; it is kept for explanations only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Origins allowed to make the request: exact (`https://app.example.com`),
    /// `*`, or a pattern with one `*` (`https://*.example.com`).
    pub allowed_origins: Vec<String>,
    /// Methods allowed: `GET`, `PUT`, `POST`, `DELETE`, `HEAD`, upper case.
    pub allowed_methods: Vec<String>,
    /// Header names a preflight may request, case-insensitive, each with at
    /// most one `*`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_headers: Vec<String>,
    /// Response headers the browser may read (`Access-Control-Expose-Headers`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expose_headers: Vec<String>,
    /// How long a browser may cache the preflight (`Access-Control-Max-Age`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_seconds: Option<u64>,
}

/// A bucket's whole CORS configuration: ordered rules (the first match wins)
/// and OSS's `ResponseVary`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CorsConfig {
    /// The rules, in the order they are tried.
    pub rules: Vec<Rule>,
    /// OSS only: when true every response of the bucket carries
    /// `Vary: Origin`, CORS or not.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub response_vary: bool,
}
