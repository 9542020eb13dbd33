//! The Kubernetes controller: keeps every bucket's CORS configuration (and
//! its edge record) equal to its `BucketCors` object.
//!
//! ## Design
//!
//! The controller follows kube-rs's controller-rs layout:
//!
//! - [`reconciler::reconcile`] runs one object through kube's finalizer
//!   helper: apply (read the Secret, run the shared reconcile core
//!   [`bucketcors_sync::reconcile`]: validate, read, compare, write, verify,
//!   publish; then write the status) or clean up (honour `deletionPolicy`). It returns when to look
//!   again: after `spec.resyncInterval` (default 5 minutes), which repairs
//!   drift.
//! - [`reconciler::error_policy`] decides what a failure means: terminal
//!   errors (invalid spec, missing Secret, access denied...) wait for a
//!   change; transient ones retry with a capped exponential [`backoff`].
//! - [`report`] decides, as pure functions of the core's outcome (or the
//!   error) and the old status, what the conditions say and which Events
//!   are published ([`report::lints`]: the spec's lints, their `Linted`
//!   condition and Events); [`status`] builds the conditions `Ready`,
//!   `BackendSynced`, `EdgePublished` and `Linted` from that and writes
//!   them with server-side apply; [`events`] publishes the Events.
//! - Before any Secret is read or request signed, the installer's
//!   [`Tenancy`] (`bucketcors run`'s `--default-credentials-namespace`,
//!   `--allowed-endpoint`, `--edge-hosts`; chart values `tenancy.*`)
//!   decides whether the object's namespace may use the default
//!   credentials, its endpoint and its edge hosts; a refusal is a terminal
//!   condition naming the chart value.
//! - One `BucketCors` owns a bucket and an edge route cluster-wide: the
//!   oldest claimant in the controller's cache ([`owner`]); a later one is
//!   refused with reason `Conflict` naming the owner, and nothing is
//!   written or removed for it, neither while it lives nor when it is
//!   deleted.
//! - [`secrets`] turns the referenced Secret into a backend connector.
//!   Secrets are watched as *metadata only*: a change of a Secret wakes the
//!   objects that reference it (rotation re-applies) without the operator
//!   ever caching secret values.
//! - The `BucketCors` watch passes only changes of generation, finalizers or
//!   deletion; status writes do not wake the controller again.
//! - [`leader`] elects one active replica through a Lease; [`http`] serves
//!   the probes and the metrics.
//!
//! ## Kubernetes API access (for least-privilege RBAC)
//!
//! Exactly these verbs on these resources, nothing else:
//!
//! | API group | resource | verbs | why |
//! | --- | --- | --- | --- |
//! | `bucketcors.dev` | `bucketcors` | `get`, `list`, `watch` | the watch and its cache; the start-up check that the CRD is installed (`list` with `limit=1`) |
//! | `bucketcors.dev` | `bucketcors` | `patch` | adding and removing the finalizer (JSON patch) |
//! | `bucketcors.dev` | `bucketcors/status` | `patch` | the status (server-side apply) |
//! | `""` (core) | `secrets` | `get` | reading the referenced credentials when reconciling |
//! | `""` (core) | `secrets` | `list`, `watch` | the metadata-only watch that notices rotation |
//! | `events.k8s.io` | `events` | `create`, `patch` | Events (`patch` extends an event series) |
//! | `coordination.k8s.io` | `leases` | `get`, `create`, `update` | leader election, in the operator's own namespace, one Lease (`update` also releases it on shutdown) |
//!
//! With `--namespace` given, every namespaced access above except the Lease
//! happens only in those namespaces, so a Role per namespace suffices;
//! without it the first four rows need a ClusterRole. The operator never
//! reads CustomResourceDefinitions, never writes Secrets, and never deletes
//! anything in Kubernetes.

pub mod backoff;
pub mod error;
pub mod events;
pub mod http;
pub mod leader;
pub mod owner;
pub mod reconciler;
pub mod report;
pub mod secrets;
pub mod status;

pub use error::Error;
pub use reconciler::{error_policy, reconcile};

use crate::crd::BucketCors;
use crate::telemetry::Metrics;
use backoff::Backoff;
use bucketcors_sync::backend::{Backends, Stores};
use bucketcors_sync::edge::Publisher;
use bucketcors_sync::tenancy::Tenancy;
use events::Events;
use futures::StreamExt;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ListParams};
use kube::core::PartialObjectMeta;
use kube::runtime::controller::{Config as ControllerConfig, Controller};
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::{WatchStreamExt, predicates, reflector, watcher};
use kube::{Client, Resource, ResourceExt};
use secrets::Credentials;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// What every reconciliation shares.
pub struct Context {
    /// The Kubernetes client.
    pub client: Client,
    /// Secrets to backend connectors.
    pub credentials: Credentials,
    /// Connectors to backends: the stores themselves ([`Stores`]), or what
    /// a test puts in their place ([`Context::with_backends`]).
    pub backends: Arc<dyn Backends>,
    /// The edge publisher; `None` when the operator has no edge settings.
    pub publisher: Option<Arc<dyn Publisher>>,
    /// Kubernetes Events.
    pub events: Events,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// Per-object failure counters.
    pub backoff: Backoff,
    /// Resync interval of objects without `spec.resyncInterval`.
    pub default_resync: Duration,
    /// The controller's cache of every watched object, from which
    /// [`owner`] decides who owns a bucket or an edge route; set by [`run`]
    /// (unset, as in tests without a watch, nobody conflicts).
    pub claims: std::sync::OnceLock<reflector::Store<BucketCors>>,
    /// The installer's tenancy policy, checked before anything is sent.
    /// [`Context::new`] starts unrestricted (one team, tests); `bucketcors
    /// run` always sets the installer's policy.
    pub tenancy: Tenancy,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("edge", &self.publisher.is_some())
            .finish_non_exhaustive()
    }
}

impl Context {
    /// A context with the default backoff (5 s doubling up to 5 min).
    pub fn new(
        client: Client,
        credentials: Credentials,
        publisher: Option<Arc<dyn Publisher>>,
        metrics: Arc<Metrics>,
        instance: &str,
    ) -> Self {
        let reporter = Reporter {
            controller: "bucketcors-controller".into(),
            instance: Some(instance.to_string()),
        };
        Context {
            events: Events::new(Recorder::new(client.clone(), reporter)),
            client,
            credentials,
            backends: Arc::new(Stores),
            publisher,
            metrics,
            backoff: Backoff::new(Duration::from_secs(5), Duration::from_secs(300)),
            default_resync: crate::crd::DEFAULT_RESYNC,
            claims: std::sync::OnceLock::new(),
            tenancy: Tenancy::unrestricted(),
        }
    }

    /// Opens backends through `backends` instead of the stores.
    pub fn with_backends(mut self, backends: Arc<dyn Backends>) -> Self {
        self.backends = backends;
        self
    }

    /// Replaces the tenancy policy.
    pub fn with_tenancy(mut self, tenancy: Tenancy) -> Self {
        self.tenancy = tenancy;
        self
    }

    /// Replaces the backoff bounds (tests use milliseconds).
    pub fn with_backoff(mut self, base: Duration, cap: Duration) -> Self {
        self.backoff = Backoff::new(base, cap);
        self
    }
}

/// A start-up problem, said so that the person running the operator knows
/// what to do.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The CRD is not installed.
    #[error(
        "the BucketCors CRD (bucketcors.bucketcors.dev, version v1alpha1) is not installed in this cluster: install it with `bucketcors crd | kubectl apply -f -` (or the Helm chart), then restart the operator"
    )]
    CrdMissing,
    /// The operator may not list BucketCors objects.
    #[error(
        "not allowed to list BucketCors objects{scope}: grant the operator's RBAC (the Helm chart does): {message}"
    )]
    Forbidden {
        /// ` in namespace X` or empty.
        scope: String,
        /// The API server's message.
        message: String,
    },
    /// Anything else talking to the API server.
    #[error("cannot reach the Kubernetes API: {0}")]
    Api(#[source] kube::Error),
}

/// Checks that BucketCors objects can be listed: the CRD is installed and
/// RBAC allows it. Called before the controller starts.
pub async fn preflight(client: &Client, namespace: Option<&str>) -> Result<(), StartError> {
    let api: Api<BucketCors> = match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    match api.list_metadata(&ListParams::default().limit(1)).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 => Err(StartError::CrdMissing),
        Err(kube::Error::Api(status)) if status.code == 403 => Err(StartError::Forbidden {
            scope: namespace
                .map(|n| format!(" in namespace {n}"))
                .unwrap_or_default(),
            message: status.message.clone(),
        }),
        Err(e) => Err(StartError::Api(e)),
    }
}

/// Hashes what should wake the controller: a new generation (spec change),
/// a change of finalizers, or the start of deletion. Status writes change
/// none of these.
fn wake_on(obj: &BucketCors) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    predicates::generation(obj).hash(&mut h);
    obj.finalizers().hash(&mut h);
    obj.meta().deletion_timestamp.is_some().hash(&mut h);
    Some(h.finish())
}

/// Runs the controller for `namespace` (every namespace when `None`) until
/// `shutdown` resolves. `on_ready` is called once the cache holds every
/// object.
pub async fn run(
    ctx: Arc<Context>,
    namespace: Option<String>,
    concurrency: u16,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
    on_ready: impl FnOnce() + Send + 'static,
) {
    let client = ctx.client.clone();
    // `PartialObjectMeta<Secret>` makes the Secret watch metadata-only.
    let (objects, secrets): (Api<BucketCors>, Api<PartialObjectMeta<Secret>>) = match &namespace {
        Some(ns) => (
            Api::namespaced(client.clone(), ns),
            Api::namespaced(client.clone(), ns),
        ),
        None => (Api::all(client.clone()), Api::all(client.clone())),
    };
    let (reader, writer) = reflector::store();
    let stream = watcher(objects, watcher::Config::default().any_semantic())
        .default_backoff()
        .reflect(writer)
        .applied_objects()
        .predicate_filter(wake_on, Default::default());
    let store = reader.clone();
    let _ = ctx.claims.set(reader.clone());
    let secret_changes = watcher(secrets, watcher::Config::default().any_semantic())
        .default_backoff()
        .touched_objects();
    let ready_reader = reader.clone();
    tokio::spawn(async move {
        // The store's readiness is a one-shot with a single waker, which the
        // controller itself also waits on; re-polling on a short timer means
        // this wait cannot be the one left without a wake-up.
        loop {
            match tokio::time::timeout(Duration::from_millis(200), ready_reader.wait_until_ready())
                .await
            {
                Ok(Ok(())) => return on_ready(),
                Ok(Err(_)) => return,
                Err(_) => continue,
            }
        }
    });
    let mapper_ctx = ctx.clone();
    Controller::for_stream(stream, reader)
        .with_config(ControllerConfig::default().concurrency(concurrency))
        .watches_stream(secret_changes, move |secret| {
            let namespace = secret.namespace();
            let name = secret.name_any();
            if secret.metadata.deletion_timestamp.is_some() {
                mapper_ctx
                    .credentials
                    .forget(namespace.as_deref().unwrap_or(""), &name);
            }
            secrets::referencing(&store, namespace.as_deref(), &name)
        })
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, ctx)
        .for_each(|result| async move {
            match result {
                Ok((object, _)) => tracing::debug!(object = %object, "reconciled"),
                Err(error) => {
                    tracing::debug!(%error, "reconcile error (recorded in the object's status)")
                }
            }
        })
        .await;
}
