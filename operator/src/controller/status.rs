//! The status the controller writes, and how it writes it.
//!
//! Three conditions describe an object: `BackendSynced` (the bucket holds the
//! rules), `EdgePublished` (the edge serves them, or edge publishing is off)
//! and `Ready` (both). A fourth, `Linted`, counts the engine's lints of the
//! spec, listed in `status.warnings` ([`super::report::lints`] decides
//! both); it never makes the object un-Ready. `lastTransitionTime` moves only when a condition's
//! status changes, as the Kubernetes API conventions ask, so a periodic
//! resync that finds everything in order rewrites nothing but
//! `lastSyncTime`.
//!
//! The status is written with server-side apply under the field manager
//! [`FIELD_MANAGER`], with `force`, as the only writer of `.status`; the
//! conditions list is a map keyed by `type` in the schema, so apply merges it
//! condition by condition.

use super::report::lints;
use crate::crd::{BucketCors, BucketCorsStatus, EdgeRouteStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams};
use kube::{Resource, ResourceExt};

/// The field manager of every write the controller makes.
pub const FIELD_MANAGER: &str = "bucketcors-controller";

/// Condition types.
pub mod types {
    /// The bucket holds the rules and the edge (when enabled) serves them.
    pub const READY: &str = "Ready";
    /// The bucket's CORS configuration equals the spec.
    pub const BACKEND_SYNCED: &str = "BackendSynced";
    /// The edge serves the rules (or edge publishing is off).
    pub const EDGE_PUBLISHED: &str = "EdgePublished";
    /// The spec was linted; the message counts the warnings.
    pub const LINTED: &str = "Linted";
}

/// A condition's status, as the Kubernetes API conventions spell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConditionStatus {
    /// The condition holds.
    True,
    /// The condition does not hold; the reason says why.
    False,
    /// Not known yet (an earlier step has not succeeded).
    Unknown,
}

impl ConditionStatus {
    /// `True`, `False` or `Unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            ConditionStatus::True => "True",
            ConditionStatus::False => "False",
            ConditionStatus::Unknown => "Unknown",
        }
    }
}

/// The reasons of the controller's own conditions and Events; failure
/// reasons come from [`super::Error::reason`] (the core's from
/// `bucketcors_sync::reconcile::reason`).
pub mod reason {
    /// Condition: the bucket (and the edge) hold the rules.
    pub const SYNCED: &str = "Synced";
    /// Condition: the edge serves the rules.
    pub const PUBLISHED: &str = "Published";
    /// Condition: edge publishing is off for this resource.
    pub const DISABLED: &str = "Disabled";
    /// Condition: the bucket was not touched (the edge was refused first).
    pub const NOT_ATTEMPTED: &str = "NotAttempted";
    /// Condition: the edge waits for the bucket.
    pub const WAITING_FOR_BACKEND: &str = "WaitingForBackend";
    /// Event: the bucket was written.
    pub const APPLIED: &str = "Applied";
    /// Event: a change made outside bucketcors was undone.
    pub const DRIFT_REPAIRED: &str = "DriftRepaired";
    /// Event: the edge now serves a new revision.
    pub const EDGE_PUBLISHED: &str = "EdgePublished";
    /// Event: edge routes the spec no longer names were withdrawn.
    pub const EDGE_UNPUBLISHED: &str = "EdgeUnpublished";
    /// Event: an edge record changed or removed at the edge was put back.
    pub const EDGE_DRIFT_REPAIRED: &str = "EdgeDriftRepaired";
    /// Event: deletion left the bucket's configuration (deletionPolicy Retain).
    pub const RETAINED: &str = "Retained";
    /// Event: deletion removed the bucket's configuration.
    pub const DELETED: &str = "Deleted";
}

/// One condition's new value, before times are filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// `True`, `False` or `Unknown`.
    pub status: ConditionStatus,
    /// CamelCase reason.
    pub reason: String,
    /// Human-readable message.
    pub message: String,
}

impl Verdict {
    fn new(status: ConditionStatus, reason: &str, message: impl Into<String>) -> Self {
        Verdict {
            status,
            reason: reason.to_string(),
            message: message.into(),
        }
    }
    /// A `True` condition.
    pub fn ok(reason: &str, message: impl Into<String>) -> Self {
        Verdict::new(ConditionStatus::True, reason, message)
    }
    /// A `False` condition.
    pub fn failed(reason: &str, message: impl Into<String>) -> Self {
        Verdict::new(ConditionStatus::False, reason, message)
    }
    /// An `Unknown` condition.
    pub fn unknown(reason: &str, message: impl Into<String>) -> Self {
        Verdict::new(ConditionStatus::Unknown, reason, message)
    }
}

/// Everything one reconciliation learned.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The `BackendSynced` verdict.
    pub backend: Verdict,
    /// The `EdgePublished` verdict.
    pub edge: Verdict,
    /// Revision now in the bucket (the reconciler carries the old value
    /// over when it did not learn a new one).
    pub applied_revision: Option<String>,
    /// Revision now at the edge; `None` when nothing is published.
    pub edge_revision: Option<String>,
    /// The routes now published (carried over from the old status when the
    /// edge step did not run or failed).
    pub edge_routes: Vec<EdgeRouteStatus>,
    /// Set when the bucket was read and found (or made) in sync.
    pub synced: bool,
    /// Number of rules the bucket holds when [`Outcome::synced`] (the
    /// spec's, just applied); ignored otherwise, the old count staying.
    pub rule_count: usize,
}

/// Builds the new status from the old one and an outcome; the lints are
/// the spec's own, whatever the outcome.
pub fn build(obj: &BucketCors, outcome: &Outcome, now: Timestamp) -> BucketCorsStatus {
    let old = obj.status.clone().unwrap_or_default();
    let generation = obj.meta().generation;
    // Ready is True when both are; otherwise it repeats the first False
    // condition (the bucket before the edge), else the first Unknown one.
    let parts = [&outcome.backend, &outcome.edge];
    let ready = if parts.iter().all(|v| v.status == ConditionStatus::True) {
        Verdict::ok(
            reason::SYNCED,
            "the bucket holds the rules and the edge is up to date",
        )
    } else {
        let cause = parts
            .iter()
            .find(|v| v.status == ConditionStatus::False)
            .or_else(|| parts.iter().find(|v| v.status != ConditionStatus::True))
            .expect("one part is not True");
        (*cause).clone()
    };
    let condition = |type_: &str, v: &Verdict| -> Condition {
        let previous = old.condition(type_);
        let since = match previous {
            Some(p) if p.status == v.status.as_str() => p.last_transition_time.clone(),
            _ => Time(now),
        };
        Condition {
            type_: type_.to_string(),
            status: v.status.as_str().to_string(),
            reason: v.reason.clone(),
            message: v.message.clone(),
            last_transition_time: since,
            observed_generation: generation,
        }
    };
    let all = lints::warnings(obj);
    let count = all.len();
    let warnings = lints::listed(all);
    BucketCorsStatus {
        conditions: vec![
            condition(types::READY, &ready),
            condition(types::BACKEND_SYNCED, &outcome.backend),
            condition(types::EDGE_PUBLISHED, &outcome.edge),
            condition(types::LINTED, &lints::linted(count, warnings.len())),
        ],
        applied_revision: outcome.applied_revision.clone(),
        edge_revision: outcome.edge_revision.clone(),
        edge_routes: outcome.edge_routes.clone(),
        last_sync_time: if outcome.synced {
            Some(now.to_string())
        } else {
            old.last_sync_time
        },
        // The rules in force: the bucket's, so only a reconcile that found
        // (or made) the bucket in sync changes the count.
        rule_count: if outcome.synced {
            Some(outcome.rule_count as i64)
        } else {
            old.rule_count
        },
        observed_generation: generation,
        warnings,
    }
}

/// Writes `status` with server-side apply.
pub async fn apply(
    api: &Api<BucketCors>,
    obj: &BucketCors,
    status: &BucketCorsStatus,
) -> Result<(), kube::Error> {
    let patch = serde_json::json!({
        "apiVersion": "bucketcors.dev/v1alpha1",
        "kind": "BucketCors",
        "status": status,
    });
    let params = PatchParams::apply(FIELD_MANAGER).force();
    api.patch_status(&obj.name_any(), &params, &Patch::Apply(&patch))
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::BucketCorsSpec;

    fn object(status: Option<BucketCorsStatus>) -> BucketCors {
        let spec: BucketCorsSpec = serde_norway::from_str(
            "backend: {provider: s3, bucket: b}\nrules: [{allowedOrigins: ['*'], allowedMethods: [GET]}]",
        )
        .unwrap();
        let mut obj = BucketCors::new("x", spec);
        obj.metadata.generation = Some(3);
        obj.status = status;
        obj
    }

    fn outcome(backend: Verdict, edge: Verdict) -> Outcome {
        Outcome {
            backend,
            edge,
            applied_revision: Some("sha256:a".into()),
            edge_revision: None,
            edge_routes: Vec::new(),
            synced: true,
            rule_count: 1,
        }
    }

    fn ready(status: &BucketCorsStatus) -> (&str, &str) {
        let c = status.condition(types::READY).unwrap();
        (c.status.as_str(), c.reason.as_str())
    }

    /// Ready is True when both parts are, else repeats the first False
    /// part (the bucket before the edge), else the first Unknown one.
    #[test]
    fn ready_follows_the_parts() {
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let ok = || Verdict::ok(reason::SYNCED, "m");
        let cases = [
            (ok(), Verdict::ok(reason::DISABLED, "m"), ("True", "Synced")),
            (
                Verdict::failed("AccessDenied", "m"),
                Verdict::unknown(reason::WAITING_FOR_BACKEND, "m"),
                ("False", "AccessDenied"),
            ),
            (
                ok(),
                Verdict::failed("EdgePublishFailed", "m"),
                ("False", "EdgePublishFailed"),
            ),
            (
                Verdict::unknown(reason::NOT_ATTEMPTED, "m"),
                Verdict::failed("EdgeNotConfigured", "m"),
                ("False", "EdgeNotConfigured"),
            ),
            (
                Verdict::unknown(reason::NOT_ATTEMPTED, "m"),
                ok(),
                ("Unknown", "NotAttempted"),
            ),
        ];
        for (backend, edge, expected) in cases {
            let status = build(&object(None), &outcome(backend, edge), t0);
            assert_eq!(ready(&status), expected);
            assert_eq!(status.observed_generation, Some(3));
            assert!(
                status
                    .conditions
                    .iter()
                    .all(|c| c.observed_generation == Some(3))
            );
        }
    }

    /// The spec's lints are listed and counted whatever the outcome, and
    /// never touch Ready.
    #[test]
    fn lints_are_listed_and_counted_without_touching_ready() {
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let mut obj = object(None);
        // Above Chromium's cap on Max-Age: a lint whatever the store.
        obj.spec.rules[0].max_age_seconds = Some(9000);
        let expected = lints::warnings(&obj);
        assert!(!expected.is_empty());
        for parts in [
            (
                Verdict::ok(reason::SYNCED, "m"),
                Verdict::ok(reason::DISABLED, "m"),
            ),
            (
                Verdict::failed("AccessDenied", "m"),
                Verdict::ok(reason::DISABLED, "m"),
            ),
        ] {
            let ready_before = ready(&build(
                &object(None),
                &outcome(parts.0.clone(), parts.1.clone()),
                t0,
            ))
            .0
            .to_owned();
            let status = build(&obj, &outcome(parts.0, parts.1), t0);
            assert_eq!(status.warnings, expected);
            let linted = status.condition(types::LINTED).unwrap();
            assert_eq!(
                (linted.status.as_str(), linted.reason.as_str()),
                ("True", "Warnings")
            );
            assert_eq!(ready(&status).0, ready_before);
        }
    }

    /// The Rules column shows the rules in force: a failed reconcile (an
    /// edit the bucket refused) leaves the count of the rules applied.
    #[test]
    fn the_rule_count_is_the_buckets() {
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let mut ok = outcome(
            Verdict::ok(reason::SYNCED, "m"),
            Verdict::ok(reason::DISABLED, "m"),
        );
        ok.rule_count = 2;
        let applied = build(&object(None), &ok, t0);
        assert_eq!(applied.rule_count, Some(2));
        let mut refused = outcome(
            Verdict::failed("BackendRefused", "m"),
            Verdict::ok(reason::DISABLED, "m"),
        );
        refused.synced = false;
        refused.rule_count = 5;
        assert_eq!(
            build(&object(Some(applied)), &refused, t0).rule_count,
            Some(2)
        );
    }

    /// lastTransitionTime moves only when a condition's status changes.
    #[test]
    fn transition_time_moves_only_on_a_status_change() {
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let t1: Timestamp = "2026-01-01T00:05:00Z".parse().unwrap();
        let ok = outcome(
            Verdict::ok(reason::SYNCED, "m"),
            Verdict::ok(reason::DISABLED, "m"),
        );
        let first = build(&object(None), &ok, t0);
        let again = build(&object(Some(first.clone())), &ok, t1);
        let since = |s: &BucketCorsStatus| {
            s.condition(types::READY)
                .unwrap()
                .last_transition_time
                .clone()
        };
        assert_eq!(since(&again), since(&first));
        assert_eq!(again.last_sync_time, Some(t1.to_string()));
        let failed = outcome(
            Verdict::failed("AccessDenied", "m"),
            Verdict::ok(reason::DISABLED, "m"),
        );
        let broken = build(&object(Some(first.clone())), &failed, t1);
        assert_eq!(since(&broken), Time(t1));
        assert_eq!(
            broken
                .condition(types::EDGE_PUBLISHED)
                .unwrap()
                .last_transition_time,
            Time(t0),
            "the edge condition stayed True"
        );
    }
}
