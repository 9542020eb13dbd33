//! The status the controller writes, and how it writes it.
//!
//! Three conditions describe an object: `BackendSynced` (the bucket holds the
//! rules), `EdgePublished` (the edge serves them, or edge publishing is off)
//! and `Ready` (both). `lastTransitionTime` moves only when a condition's
//! status changes, as the Kubernetes API conventions ask, so a periodic
//! resync that finds everything in order rewrites nothing but
//! `lastSyncTime`.
//!
//! The status is written with server-side apply under the field manager
//! [`FIELD_MANAGER`], with `force`, as the only writer of `.status`; the
//! conditions list is a map keyed by `type` in the schema, so apply merges it
//! condition by condition.

use crate::crd::{BucketCors, BucketCorsStatus};
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
}

/// One condition's new value, before times are filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// `True`, `False` or `Unknown`.
    pub status: &'static str,
    /// CamelCase reason.
    pub reason: String,
    /// Human-readable message.
    pub message: String,
}

impl Verdict {
    /// A `True` condition.
    pub fn ok(reason: &str, message: impl Into<String>) -> Self {
        Verdict {
            status: "True",
            reason: reason.to_string(),
            message: message.into(),
        }
    }
    /// A `False` condition.
    pub fn failed(reason: &str, message: impl Into<String>) -> Self {
        Verdict {
            status: "False",
            reason: reason.to_string(),
            message: message.into(),
        }
    }
    /// An `Unknown` condition.
    pub fn unknown(reason: &str, message: impl Into<String>) -> Self {
        Verdict {
            status: "Unknown",
            reason: reason.to_string(),
            message: message.into(),
        }
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
    /// Set when the bucket was read and found (or made) in sync.
    pub synced: bool,
    /// Number of rules in the spec.
    pub rule_count: usize,
}

/// Builds the new status from the old one and an outcome.
pub fn build(obj: &BucketCors, outcome: &Outcome, now: Timestamp) -> BucketCorsStatus {
    let old = obj.status.clone().unwrap_or_default();
    let generation = obj.meta().generation;
    // Ready is True when both are; otherwise it repeats the first False
    // condition (the bucket before the edge), else the first Unknown one.
    let parts = [&outcome.backend, &outcome.edge];
    let ready = if parts.iter().all(|v| v.status == "True") {
        Verdict::ok(
            "Synced",
            "the bucket holds the rules and the edge is up to date",
        )
    } else {
        let cause = parts
            .iter()
            .find(|v| v.status == "False")
            .or_else(|| parts.iter().find(|v| v.status != "True"))
            .expect("one part is not True");
        Verdict {
            status: if cause.status == "False" {
                "False"
            } else {
                "Unknown"
            },
            reason: cause.reason.clone(),
            message: cause.message.clone(),
        }
    };
    let condition = |type_: &str, v: &Verdict| -> Condition {
        let previous = old.condition(type_);
        let since = match previous {
            Some(p) if p.status == v.status => p.last_transition_time.clone(),
            _ => Time(now),
        };
        Condition {
            type_: type_.to_string(),
            status: v.status.to_string(),
            reason: v.reason.clone(),
            message: v.message.clone(),
            last_transition_time: since,
            observed_generation: generation,
        }
    };
    BucketCorsStatus {
        conditions: vec![
            condition(types::READY, &ready),
            condition(types::BACKEND_SYNCED, &outcome.backend),
            condition(types::EDGE_PUBLISHED, &outcome.edge),
        ],
        applied_revision: outcome.applied_revision.clone(),
        edge_revision: outcome.edge_revision.clone(),
        last_sync_time: if outcome.synced {
            Some(now.to_string())
        } else {
            old.last_sync_time
        },
        rule_count: Some(outcome.rule_count as i64),
        observed_generation: generation,
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
