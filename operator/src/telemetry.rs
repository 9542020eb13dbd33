//! Logs and metrics of the running operator.
//!
//! Logs are JSON lines through `tracing` (one object per event, fields as
//! fields), so that a log pipeline can filter on `bucket` or `reason`
//! without parsing prose. Metrics are Prometheus text through
//! `prometheus-client`, served on `/metrics`:
//!
//! | metric | kind | labels |
//! | --- | --- | --- |
//! | `bucketcors_reconciles_total` | counter | — |
//! | `bucketcors_reconcile_failures_total` | counter | `reason` |
//! | `bucketcors_reconcile_duration_seconds` | histogram | — |
//! | `bucketcors_drift_repairs_total` | counter | — |
//! | `bucketcors_edge_publish_duration_seconds` | histogram | — |
//! | `bucketcors_leader` | gauge | — |
//!
//! Failure reasons are the same CamelCase words the conditions carry
//! (`InvalidSpec`, `SecretNotFound`, `AccessDenied`, ...), a small closed
//! set, so the label cannot explode.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::time::Duration;

/// Installs the global `tracing` subscriber: JSON lines (or plain text) on
/// stderr, filtered by `RUST_LOG`, else by `level` (`info`, `debug`,
/// `bucketcors_operator=debug,kube=info`...). Calling it twice is harmless.
pub fn init_logging(json: bool, level: &str) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init()
    } else {
        builder.try_init()
    };
}

/// Label of the failures counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FailureLabels {
    /// Why the reconcile failed (a condition reason).
    pub reason: String,
}

/// The operator's Prometheus metrics.
pub struct Metrics {
    registry: Registry,
    reconciles: Counter,
    failures: Family<FailureLabels, Counter>,
    duration: Histogram,
    drift_repairs: Counter,
    edge_publish: Histogram,
    leader: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("bucketcors");
        let reconciles = Counter::default();
        let failures = Family::<FailureLabels, Counter>::default();
        // 1 ms .. ~33 s: a reconcile is one or two HTTP round trips.
        let duration = Histogram::new(exponential_buckets(0.001, 2.0, 16));
        let drift_repairs = Counter::default();
        let edge_publish = Histogram::new(exponential_buckets(0.001, 2.0, 16));
        let leader = Gauge::default();
        registry.register(
            "reconciles",
            "Reconciliations run, successful or not",
            reconciles.clone(),
        );
        registry.register(
            "reconcile_failures",
            "Reconciliations that failed, by reason",
            failures.clone(),
        );
        registry.register(
            "reconcile_duration_seconds",
            "Time spent in one reconciliation",
            duration.clone(),
        );
        registry.register(
            "drift_repairs",
            "Times a bucket's configuration differed from the spec and was rewritten",
            drift_repairs.clone(),
        );
        registry.register(
            "edge_publish_duration_seconds",
            "Time to publish one rule set to the edge",
            edge_publish.clone(),
        );
        registry.register(
            "leader",
            "1 while this replica holds the leader lease",
            leader.clone(),
        );
        Self {
            registry,
            reconciles,
            failures,
            duration,
            drift_repairs,
            edge_publish,
            leader,
        }
    }

    /// Records one finished reconciliation.
    pub fn reconciled(&self, took: Duration) {
        self.reconciles.inc();
        self.duration.observe(took.as_secs_f64());
    }

    /// Records a failed reconciliation with its reason.
    pub fn failed(&self, reason: &str) {
        self.failures
            .get_or_create(&FailureLabels {
                reason: reason.to_string(),
            })
            .inc();
    }

    /// Records a drift repair (the bucket differed and was rewritten).
    pub fn drift_repaired(&self) {
        self.drift_repairs.inc();
    }

    /// Records the latency of one edge publication.
    pub fn edge_published(&self, took: Duration) {
        self.edge_publish.observe(took.as_secs_f64());
    }

    /// Records whether this replica leads.
    pub fn set_leader(&self, leading: bool) {
        self.leader.set(i64::from(leading));
    }

    /// Total reconciliations so far (for tests and the benchmark).
    pub fn reconciles_total(&self) -> u64 {
        self.reconciles.get()
    }

    /// Failures so far for `reason`.
    pub fn failures_for(&self, reason: &str) -> u64 {
        self.failures
            .get(&FailureLabels {
                reason: reason.to_string(),
            })
            .map(|c| c.get())
            .unwrap_or(0)
    }

    /// Drift repairs so far.
    pub fn drift_repairs_total(&self) -> u64 {
        self.drift_repairs.get()
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}
