//! Reconcile failures, classified for the two callers: the controller picks
//! requeue timing from [`ErrorClass`], the CLI picks its exit code.
//!
//! One chain decides what a failure means: a backend's [`ErrorKind`] maps
//! to an [`ErrorClass`] (`From`), and a class (or the core's own failures:
//! read-back mismatch, edge) to the CamelCase reason the controller puts in
//! conditions, Events and the failures metric ([`ReconcileError::reason`],
//! constants in [`reason`]). Nothing else maps kinds or classes.

use crate::backend::{BackendError, ErrorKind, Target};
use crate::edge::PublishError;
use bucketcors_engine::Dialect;
use bucketcors_engine::validate::Report;
use std::fmt;
use std::time::Duration;

/// Which backend call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Reading the current configuration.
    Read,
    /// Replacing the configuration.
    Write,
    /// Reading back what was written.
    ReadBack,
    /// Deleting the configuration.
    Delete,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Operation::Read => "reading the bucket's CORS configuration",
            Operation::Write => "writing the bucket's CORS configuration",
            Operation::ReadBack => "reading back the written CORS configuration",
            Operation::Delete => "deleting the bucket's CORS configuration",
        })
    }
}

/// What a caller should do about a [`ReconcileError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The spec is invalid: wait for the user to change it. Nothing was sent.
    Invalid,
    /// The provider refused the configuration: wait for a spec change.
    Refused,
    /// The bucket does not exist: retry slowly (it may be created).
    BucketNotFound,
    /// Bad or insufficient credentials: wait for new credentials.
    AccessDenied,
    /// The bucket is in another region than the spec says.
    WrongRegion,
    /// The operator's clock is too far from the provider's.
    ClockSkewed,
    /// Unreachable, throttled, 5xx, not yet consistent: retry with backoff.
    Transient,
    /// Anything else: retry slowly and tell the user.
    Other,
}

impl From<ErrorKind> for ErrorClass {
    fn from(kind: ErrorKind) -> ErrorClass {
        match kind {
            ErrorKind::BucketNotFound => ErrorClass::BucketNotFound,
            ErrorKind::AccessDenied => ErrorClass::AccessDenied,
            ErrorKind::Refused => ErrorClass::Refused,
            ErrorKind::WrongRegion => ErrorClass::WrongRegion,
            ErrorKind::ClockSkewed => ErrorClass::ClockSkewed,
            ErrorKind::Transient => ErrorClass::Transient,
            ErrorKind::Other => ErrorClass::Other,
        }
    }
}

impl ErrorClass {
    /// The condition / Event / metric reason of a failure of this class.
    pub fn reason(self) -> &'static str {
        match self {
            ErrorClass::Invalid => reason::INVALID_SPEC,
            ErrorClass::Refused => reason::BACKEND_REFUSED,
            ErrorClass::BucketNotFound => reason::BUCKET_NOT_FOUND,
            ErrorClass::AccessDenied => reason::ACCESS_DENIED,
            ErrorClass::WrongRegion => reason::WRONG_REGION,
            ErrorClass::ClockSkewed => reason::CLOCK_SKEWED,
            ErrorClass::Transient => reason::BACKEND_UNAVAILABLE,
            ErrorClass::Other => reason::BACKEND_ERROR,
        }
    }

    /// True when running the same reconcile again, unchanged, may succeed:
    /// transient and unexplained failures, and a bucket that may yet be
    /// created. Invalid, refused and denied wait for a change.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorClass::Transient | ErrorClass::Other | ErrorClass::BucketNotFound
        )
    }
}

/// The reasons of the core's failures, as conditions, Events and the
/// failures metric carry them (a small closed set).
pub mod reason {
    /// The rules are invalid for the dialect; nothing was sent.
    pub const INVALID_SPEC: &str = "InvalidSpec";
    /// The provider refused the configuration.
    pub const BACKEND_REFUSED: &str = "BackendRefused";
    /// The bucket does not exist.
    pub const BUCKET_NOT_FOUND: &str = "BucketNotFound";
    /// Bad or insufficient credentials.
    pub const ACCESS_DENIED: &str = "AccessDenied";
    /// The bucket is in another region than the spec says.
    pub const WRONG_REGION: &str = "WrongRegion";
    /// The operator's clock is too far from the provider's.
    pub const CLOCK_SKEWED: &str = "ClockSkewed";
    /// Unreachable, throttled, 5xx.
    pub const BACKEND_UNAVAILABLE: &str = "BackendUnavailable";
    /// Anything else the backend answered.
    pub const BACKEND_ERROR: &str = "BackendError";
    /// The bucket did not read back as written.
    pub const NOT_VERIFIED: &str = "NotVerified";
    /// Publishing to (or removing from) the edge failed.
    pub const EDGE_PUBLISH_FAILED: &str = "EdgePublishFailed";
    /// The Cloudflare API rejected the operator's token: nothing is tried
    /// again until the operator gets another one.
    pub const EDGE_TOKEN_REJECTED: &str = "EdgeTokenRejected";
    /// An edge route's record is held by another owner: nothing was
    /// written on it.
    pub const EDGE_ROUTE_HELD: &str = "EdgeRouteHeld";
}

/// Why a reconcile did not complete. Messages name the provider and bucket
/// and never contain credentials.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ReconcileError {
    /// The spec failed validation for the backend's dialect; nothing was sent.
    #[error(
        "{target}: the rules are invalid for the {dialect} dialect, nothing was sent:\n{report}"
    )]
    Invalid {
        /// The bucket.
        target: Target,
        /// The backend's dialect.
        dialect: Dialect,
        /// Every error (and warning) found.
        report: Report,
    },
    /// A backend call failed.
    #[error("{operation}: {error}")]
    Backend {
        /// Which call.
        operation: Operation,
        /// The classified backend error (names the bucket).
        error: BackendError,
    },
    /// The bucket did not read back as written.
    #[error(
        "{target}: wrote revision {expected} but the bucket reads back as {found}; the provider changed \
         or has not yet stored the rules, retrying"
    )]
    NotVerified {
        /// The bucket.
        target: Target,
        /// Revision written.
        expected: String,
        /// Revision read back (`none` when the bucket had no configuration).
        found: String,
    },
    /// Publishing to (or removing from) the edge failed; the bucket itself
    /// is up to date.
    #[error("{target}: the bucket is up to date but {error}")]
    Edge {
        /// The bucket.
        target: Target,
        /// The publisher's error (never contains the API token).
        error: PublishError,
    },
}

impl ReconcileError {
    /// What the caller should do.
    pub fn class(&self) -> ErrorClass {
        match self {
            ReconcileError::Invalid { .. } => ErrorClass::Invalid,
            ReconcileError::Backend { error, .. } => error.kind.into(),
            ReconcileError::NotVerified { .. } => ErrorClass::Transient,
            ReconcileError::Edge { error, .. } => {
                if error.token_rejected {
                    ErrorClass::AccessDenied
                } else if error.transient {
                    ErrorClass::Transient
                } else {
                    ErrorClass::Other
                }
            }
        }
    }

    /// True when running the same reconcile again, unchanged, may succeed.
    pub fn is_retryable(&self) -> bool {
        self.class().is_retryable()
    }

    /// The condition / Event / metric reason: the class's, except for the
    /// read-back check and the edge, which say which step failed.
    pub fn reason(&self) -> &'static str {
        match self {
            ReconcileError::NotVerified { .. } => reason::NOT_VERIFIED,
            ReconcileError::Edge { error, .. } if error.token_rejected => {
                reason::EDGE_TOKEN_REJECTED
            }
            ReconcileError::Edge { error, .. } if error.held_by.is_some() => {
                reason::EDGE_ROUTE_HELD
            }
            ReconcileError::Edge { .. } => reason::EDGE_PUBLISH_FAILED,
            _ => self.class().reason(),
        }
    }

    /// How long the provider asked to wait, when it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ReconcileError::Backend { error, .. } => error.retry_after,
            _ => None,
        }
    }

    /// True for problems in the input (the CLI exits 1), false for problems
    /// reaching or using the backend (exit 2).
    pub fn is_input_error(&self) -> bool {
        self.class() == ErrorClass::Invalid
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backend(kind: ErrorKind) -> ReconcileError {
        let target = Target {
            provider: "s3",
            bucket: "b".into(),
        };
        ReconcileError::Backend {
            operation: Operation::Write,
            error: BackendError::new(kind, &target, "x"),
        }
    }

    /// The whole chain, kind to class to reason to retry, in one table.
    #[test]
    fn kinds_map_to_classes_and_reasons() {
        let table = [
            (
                ErrorKind::BucketNotFound,
                ErrorClass::BucketNotFound,
                "BucketNotFound",
                true,
            ),
            (
                ErrorKind::AccessDenied,
                ErrorClass::AccessDenied,
                "AccessDenied",
                false,
            ),
            (
                ErrorKind::Refused,
                ErrorClass::Refused,
                "BackendRefused",
                false,
            ),
            (
                ErrorKind::Transient,
                ErrorClass::Transient,
                "BackendUnavailable",
                true,
            ),
            (ErrorKind::Other, ErrorClass::Other, "BackendError", true),
        ];
        for (kind, class, reason, retryable) in table {
            let error = backend(kind);
            assert_eq!(error.class(), class, "{kind:?}");
            assert_eq!(error.reason(), reason, "{kind:?}");
            assert_eq!(error.is_retryable(), retryable, "{kind:?}");
            assert!(!error.is_input_error(), "{kind:?}");
        }
    }

    #[test]
    fn the_cores_own_failures_name_their_step() {
        let target = Target {
            provider: "oss",
            bucket: "b".into(),
        };
        let not_verified = ReconcileError::NotVerified {
            target: target.clone(),
            expected: "sha256:a".into(),
            found: "none".into(),
        };
        assert_eq!(not_verified.reason(), "NotVerified");
        assert!(not_verified.is_retryable());
        for transient in [true, false] {
            let edge = ReconcileError::Edge {
                target: target.clone(),
                error: if transient {
                    PublishError::transient("m")
                } else {
                    PublishError::failed("m")
                },
            };
            assert_eq!(edge.reason(), "EdgePublishFailed");
            let class = if transient {
                ErrorClass::Transient
            } else {
                ErrorClass::Other
            };
            assert_eq!(edge.class(), class);
        }
        let rejected = ReconcileError::Edge {
            target: target.clone(),
            error: PublishError::token_rejected("m"),
        };
        assert_eq!(rejected.reason(), "EdgeTokenRejected");
        assert!(!rejected.is_retryable(), "another token is needed");
        let invalid = ReconcileError::Invalid {
            target,
            dialect: Dialect::S3,
            report: Report::default(),
        };
        assert_eq!(invalid.reason(), "InvalidSpec");
        assert!(invalid.is_input_error() && !invalid.is_retryable());
    }
}
