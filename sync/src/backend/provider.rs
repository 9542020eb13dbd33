//! The storage provider holding a bucket.
//!
//! Defined here, below the CRD, because the backends and the reconcile core
//! decide by it; the `BucketCors` CRD embeds this type as
//! `spec.backend.provider`, so its serde names are the spec's words.

use bucketcors_engine::Dialect;
use serde::{Deserialize, Serialize};

/// The storage provider holding the bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// Alibaba Cloud OSS, native API.
    Oss,
    /// AWS S3 or an S3-compatible store (Garage, Ceph RGW, Cloudflare R2).
    S3,
}

impl Provider {
    /// The engine dialect whose semantics this provider follows.
    pub fn dialect(self) -> Dialect {
        match self {
            Provider::Oss => Dialect::Oss,
            Provider::S3 => Dialect::S3,
        }
    }

    /// The name used in the spec and in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Oss => "oss",
            Provider::S3 => "s3",
        }
    }
}
