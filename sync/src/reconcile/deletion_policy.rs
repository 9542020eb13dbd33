//! What removal does to a bucket's configuration.
//!
//! Defined here, below the CRD, because [`super::Reconciler::remove`] acts
//! on it; the `BucketCors` CRD embeds this type as `spec.deletionPolicy`, so
//! its serde names are the spec's words.

use serde::{Deserialize, Serialize};

/// What to do with the bucket's CORS configuration when the resource goes.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub enum DeletionPolicy {
    /// Remove the bucket's CORS configuration (and the edge record).
    #[default]
    Delete,
    /// Leave the bucket's CORS configuration as it is.
    Retain,
}
