//! Reconcile failures, classified for the two callers: the controller picks
//! requeue timing from [`ErrorClass`], the CLI picks its exit code.

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
    /// Unreachable, throttled, 5xx, not yet consistent: retry with backoff.
    Transient,
    /// Anything else: retry slowly and tell the user.
    Other,
}

impl ErrorClass {
    /// CamelCase reason for status conditions, events and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Invalid => "Invalid",
            ErrorClass::Refused => "Refused",
            ErrorClass::BucketNotFound => "BucketNotFound",
            ErrorClass::AccessDenied => "AccessDenied",
            ErrorClass::Transient => "Transient",
            ErrorClass::Other => "Other",
        }
    }
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
            ReconcileError::Backend { error, .. } => match error.kind {
                ErrorKind::BucketNotFound => ErrorClass::BucketNotFound,
                ErrorKind::AccessDenied => ErrorClass::AccessDenied,
                ErrorKind::Refused => ErrorClass::Refused,
                ErrorKind::Transient => ErrorClass::Transient,
                ErrorKind::Other => ErrorClass::Other,
            },
            ReconcileError::NotVerified { .. } => ErrorClass::Transient,
            ReconcileError::Edge { error, .. } => {
                if error.transient {
                    ErrorClass::Transient
                } else {
                    ErrorClass::Other
                }
            }
        }
    }

    /// True when running the same reconcile again, unchanged, may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.class(),
            ErrorClass::Transient | ErrorClass::Other | ErrorClass::BucketNotFound
        )
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
