//! What can go wrong in one reconciliation, and how the controller reacts.
//!
//! Every error has a [`reason`](Error::reason) (the CamelCase word that ends
//! up in the conditions, the Events and the failures metric) and is either
//! *terminal* or *transient*. Transient errors (throttling, 5xx, timeouts,
//! an unreachable API server) are retried with a capped exponential backoff
//! ([`super::backoff`]). Terminal errors cannot heal by retrying at once;
//! [`Error::retry`] splits them in two. Those a human fixes, perhaps outside
//! Kubernetes (access denied by an IAM or RAM policy, a configuration the
//! provider refuses, the bucket's region, a skewed clock, a missing Secret),
//! are tried again at the object's resync interval, so the fix is noticed
//! without an edit. Those only an edit can fix (an invalid spec, the
//! installer's tenancy values, which restart the operator) wait for a change.
//!
//! Messages name the field or the object and say what to do; they never
//! contain credentials (the backend and Secret code only ever put key
//! *names* into messages). A missing bucket is retried with backoff rather
//! than waited on: it may be created after the `BucketCors`.

use bucketcors_sync::backend::BackendError;
use bucketcors_sync::reconcile::{ErrorClass, ReconcileError, reason as core_reason};
use bucketcors_sync::tenancy::Refusal;
use std::time::Duration;

/// The reasons of the controller's own failures; the core's are
/// `bucketcors_sync::reconcile::reason`.
pub mod reason {
    /// The referenced Secret does not exist.
    pub const SECRET_NOT_FOUND: &str = "SecretNotFound";
    /// The Secret lacks a key or holds a value that is not text.
    pub const SECRET_INVALID: &str = "SecretInvalid";
    /// The spec enables the edge but the operator has no publisher.
    pub const EDGE_NOT_CONFIGURED: &str = "EdgeNotConfigured";
    /// A Kubernetes API call failed.
    pub const KUBERNETES_API_ERROR: &str = "KubernetesApiError";
    /// Adding or removing the finalizer failed.
    pub const FINALIZER_ERROR: &str = "FinalizerError";
    /// The object names no Secret and its namespace may not use the
    /// operator's default credentials (chart value
    /// `tenancy.defaultCredentialsNamespaces`).
    pub const DEFAULT_CREDENTIALS_NOT_ALLOWED: &str = "DefaultCredentialsNotAllowed";
    /// The backend endpoint is not on the installer's allow-list (chart
    /// value `tenancy.allowedEndpoints`).
    pub const ENDPOINT_NOT_ALLOWED: &str = "EndpointNotAllowed";
    /// An edge host the namespace may not claim (chart value
    /// `tenancy.edgeHosts`).
    pub const EDGE_HOST_NOT_ALLOWED: &str = "EdgeHostNotAllowed";
    /// Another, older `BucketCors` owns the bucket or an edge route.
    pub const CONFLICT: &str = "Conflict";
}

/// A failed reconciliation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The spec cannot work (the engine or the controller refused it).
    #[error("invalid spec: {0}")]
    InvalidSpec(String),
    /// The referenced Secret does not exist.
    #[error(
        "Secret `{namespace}/{name}` not found: create it, or fix spec.backend.credentialsSecretRef.name"
    )]
    SecretNotFound {
        /// Namespace of the Secret.
        namespace: String,
        /// Name of the Secret.
        name: String,
    },
    /// The Secret exists but lacks a key, or a value is not UTF-8.
    #[error("Secret `{namespace}/{name}`: {problem}")]
    SecretInvalid {
        /// Namespace of the Secret.
        namespace: String,
        /// Name of the Secret.
        name: String,
        /// Which key is wrong and how to fix it (never a value).
        problem: String,
    },
    /// The backend could not even be set up (bad endpoint, region...).
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// The shared reconcile core failed (validation, a backend call, the
    /// read-back check, or the edge).
    #[error(transparent)]
    Reconcile(#[from] ReconcileError),
    /// Edge publication is enabled in the spec but the operator has no
    /// publisher (no Cloudflare settings).
    #[error(
        "spec.edge.enabled is true but this operator has no edge publisher: install the chart with edge.enabled=true, or set spec.edge.enabled to false"
    )]
    EdgeNotConfigured,
    /// A Kubernetes API call failed.
    #[error("Kubernetes API: {0}")]
    Kube(#[source] Box<kube::Error>),
    /// The finalizer machinery failed (adding or removing the finalizer).
    #[error("finalizer: {0}")]
    Finalizer(String),
    /// The installer's tenancy policy refuses the object; nothing was sent.
    #[error(transparent)]
    NotPermitted(#[from] Refusal),
    /// Another `BucketCors` owns what this one claims; nothing was sent.
    #[error(
        "{what} belongs to BucketCors `{owner}`: nothing is written for this object while that one exists; point this object elsewhere, or delete `{owner}` to hand it over"
    )]
    Conflict {
        /// The owner, `namespace/name`.
        owner: String,
        /// What both claim.
        what: String,
    },
}

/// How the controller waits after a failure ([`Error::retry`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Worth retrying soon: exponential backoff.
    Backoff,
    /// Needs a human, possibly outside Kubernetes: try again at the resync
    /// interval.
    Slowly,
    /// Only a change of the object (or the installer's values) can help.
    OnChange,
}

impl From<kube::Error> for Error {
    fn from(e: kube::Error) -> Self {
        Error::Kube(Box::new(e))
    }
}

impl Error {
    /// The condition / Event / metric reason.
    pub fn reason(&self) -> &'static str {
        match self {
            Error::InvalidSpec(_) => core_reason::INVALID_SPEC,
            Error::SecretNotFound { .. } => reason::SECRET_NOT_FOUND,
            Error::SecretInvalid { .. } => reason::SECRET_INVALID,
            Error::Backend(e) => ErrorClass::from(e.kind).reason(),
            Error::Reconcile(e) => e.reason(),
            Error::EdgeNotConfigured => reason::EDGE_NOT_CONFIGURED,
            Error::Kube(_) => reason::KUBERNETES_API_ERROR,
            Error::Finalizer(_) => reason::FINALIZER_ERROR,
            Error::Conflict { .. } => reason::CONFLICT,
            Error::NotPermitted(refusal) => match refusal {
                Refusal::DefaultCredentials { .. } => reason::DEFAULT_CREDENTIALS_NOT_ALLOWED,
                Refusal::Endpoint { .. } => reason::ENDPOINT_NOT_ALLOWED,
                Refusal::BadEndpoint(_) => core_reason::INVALID_SPEC,
                Refusal::EdgeHost { .. } => reason::EDGE_HOST_NOT_ALLOWED,
            },
        }
    }

    /// How the controller waits before trying again after this failure.
    ///
    /// Failures a human fixes outside Kubernetes (an IAM or RAM policy, the
    /// bucket's region, the host's clock, a Secret created later) are tried
    /// again at the object's resync interval, so the fix is noticed without
    /// an edit; only what no outside change can fix (an invalid spec, the
    /// installer's values and the Cloudflare token, which restart the
    /// operator) waits for a change.
    pub fn retry(&self) -> Retry {
        if !self.is_terminal() {
            return Retry::Backoff;
        }
        match self {
            Error::InvalidSpec(_) | Error::EdgeNotConfigured | Error::NotPermitted(_) => {
                Retry::OnChange
            }
            Error::Reconcile(ReconcileError::Invalid { .. }) => Retry::OnChange,
            // The token comes from the operator's environment: only a
            // restart (which reconciles everything) brings another one.
            Error::Reconcile(ReconcileError::Edge { error, .. }) if error.token_rejected => {
                Retry::OnChange
            }
            _ => Retry::Slowly,
        }
    }

    /// True when only a change of the spec or the Secret can fix it.
    pub fn is_terminal(&self) -> bool {
        match self {
            Error::InvalidSpec(_)
            | Error::SecretNotFound { .. }
            | Error::SecretInvalid { .. }
            | Error::EdgeNotConfigured
            // Tried again at the resync interval: the owner may go.
            | Error::Conflict { .. }
            // Only the spec or the installer's values (a restart) change it.
            | Error::NotPermitted(_) => true,
            Error::Backend(e) => !ErrorClass::from(e.kind).is_retryable(),
            // The core's own judgement: a bucket that does not exist yet may
            // be created, so only invalid, refused and denied wait.
            Error::Reconcile(e) => !e.is_retryable(),
            Error::Kube(_) | Error::Finalizer(_) => false,
        }
    }

    /// How long the other side asked us to wait, when it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Backend(e) => e.retry_after,
            Error::Reconcile(e) => e.retry_after(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bucketcors_sync::backend::{ErrorKind, Target};
    use bucketcors_sync::reconcile::Operation;

    /// A backend failure means the same whether it happened while setting
    /// the backend up or inside the core: one map decides both.
    #[test]
    fn backend_failures_have_one_reason_and_one_verdict() {
        let target = Target {
            provider: "s3",
            bucket: "b".into(),
        };
        for kind in [
            ErrorKind::BucketNotFound,
            ErrorKind::AccessDenied,
            ErrorKind::Refused,
            ErrorKind::Transient,
            ErrorKind::Other,
        ] {
            let error = BackendError::new(kind, &target, "x");
            let setup = Error::Backend(error.clone());
            let core = Error::Reconcile(ReconcileError::Backend {
                operation: Operation::Read,
                error,
            });
            assert_eq!(setup.reason(), core.reason(), "{kind:?}");
            assert_eq!(setup.is_terminal(), core.is_terminal(), "{kind:?}");
        }
        let denied = Error::Backend(BackendError::new(ErrorKind::AccessDenied, &target, "x"));
        assert_eq!(denied.reason(), "AccessDenied");
        assert!(denied.is_terminal());
    }

    /// Failures a human fixes outside Kubernetes come back at the resync
    /// interval; only an edit fixes an invalid spec; the rest back off.
    #[test]
    fn each_failure_waits_as_its_fix_needs() {
        let target = Target {
            provider: "s3",
            bucket: "b".into(),
        };
        let backend = |kind| Error::Backend(BackendError::new(kind, &target, "x"));
        assert_eq!(backend(ErrorKind::AccessDenied).retry(), Retry::Slowly);
        // A rejected Cloudflare token: stop until the operator restarts
        // with another (it reconciles everything then).
        let rejected = Error::Reconcile(ReconcileError::Edge {
            target: target.clone(),
            error: bucketcors_sync::edge::PublishError::token_rejected("m"),
        });
        assert_eq!(rejected.retry(), Retry::OnChange);
        assert_eq!(rejected.reason(), "EdgeTokenRejected");
        assert_eq!(backend(ErrorKind::Refused).retry(), Retry::Slowly);
        assert_eq!(backend(ErrorKind::WrongRegion).retry(), Retry::Slowly);
        assert_eq!(backend(ErrorKind::ClockSkewed).retry(), Retry::Slowly);
        assert_eq!(backend(ErrorKind::Transient).retry(), Retry::Backoff);
        assert_eq!(backend(ErrorKind::BucketNotFound).retry(), Retry::Backoff);
        assert_eq!(Error::InvalidSpec("x".into()).retry(), Retry::OnChange);
        assert_eq!(
            Error::SecretNotFound {
                namespace: "n".into(),
                name: "s".into()
            }
            .retry(),
            Retry::Slowly
        );
    }
}
