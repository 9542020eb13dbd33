//! The status the controller writes, and how it writes it.
//!
//! Three conditions describe an object: `BackendSynced` (the bucket holds the
//! rules), `EdgePublished` (the edge serves them, or edge publishing is off)
//! and `Ready` (both). A fourth, `Linted`, counts the engine's lints of the
//! spec (what the rules will still do wrong in browsers or on the store
//! `spec.backend.flavor` names), listed in `status.warnings`; it never makes
//! the object un-Ready. `lastTransitionTime` moves only when a condition's
//! status changes, as the Kubernetes API conventions ask, so a periodic
//! resync that finds everything in order rewrites nothing but
//! `lastSyncTime`.
//!
//! The status is written with server-side apply under the field manager
//! [`FIELD_MANAGER`], with `force`, as the only writer of `.status`; the
//! conditions list is a map keyed by `type` in the schema, so apply merges it
//! condition by condition.

use crate::crd::{BucketCors, BucketCorsStatus};
use bucketcors_engine::lint::{LintOptions, lint};
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

/// The lints of `obj`'s spec, one line each, as `bucketcors validate`
/// prints them (the store from `spec.backend.flavor`, else its default).
pub fn lints(obj: &BucketCors) -> Vec<String> {
    let options = LintOptions {
        credentials: false,
        target: Some(obj.spec.backend.target()),
    };
    lint(&obj.spec.cors_config(), obj.spec.dialect(), &options)
        .iter()
        .map(|l| format!("{}: {l}", l.severity))
        .collect()
}

/// The `Linted` verdict for `warnings`.
fn linted(warnings: &[String]) -> Verdict {
    match warnings.len() {
        0 => Verdict::ok("Clean", "no lint warnings"),
        n => Verdict::ok(
            "Warnings",
            format!(
                "{n} lint warning{} in status.warnings",
                if n == 1 { "" } else { "s" }
            ),
        ),
    }
}

/// The warnings of `new` that `old` did not have: one Event each.
pub fn new_warnings<'a>(old: Option<&BucketCorsStatus>, new: &'a BucketCorsStatus) -> Vec<&'a str> {
    new.warnings
        .iter()
        .filter(|w| !old.is_some_and(|o| o.warnings.contains(w)))
        .map(String::as_str)
        .collect()
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
    let warnings = lints(obj);
    BucketCorsStatus {
        conditions: vec![
            condition(types::READY, &ready),
            condition(types::BACKEND_SYNCED, &outcome.backend),
            condition(types::EDGE_PUBLISHED, &outcome.edge),
            condition(types::LINTED, &linted(&warnings)),
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

    fn object(max_age: u64) -> BucketCors {
        let spec: BucketCorsSpec = serde_json::from_value(serde_json::json!({
            "backend": {"provider": "s3", "bucket": "b", "flavor": "garage"},
            "rules": [{
                "allowedOrigins": ["https://app.example.com"],
                "allowedMethods": ["GET"],
                "maxAgeSeconds": max_age,
            }],
        }))
        .expect("spec");
        BucketCors::new("b", spec)
    }

    fn outcome() -> Outcome {
        Outcome {
            backend: Verdict::ok("Synced", "in sync"),
            edge: Verdict::ok("Disabled", "off"),
            applied_revision: None,
            edge_revision: None,
            synced: true,
            rule_count: 1,
        }
    }

    #[test]
    fn lints_land_in_warnings_and_the_linted_condition_counts_them() {
        let now = Timestamp::now();
        // Above Chromium's cap, and Garage (the flavor) sends no Max-Age.
        let status = build(&object(9000), &outcome(), now);
        assert_eq!(status.warnings.len(), 2, "{:#?}", status.warnings);
        assert!(
            status.warnings[0]
                .starts_with("warning: BC130 max-age-above-chromium-cap: rule 0, maxAgeSeconds: ")
        );
        assert!(status.warnings[1].contains("BC207 target-no-max-age"));
        let linted = status.condition(types::LINTED).expect("Linted");
        assert_eq!(
            (linted.status.as_str(), linted.reason.as_str()),
            ("True", "Warnings")
        );
        assert_eq!(linted.message, "2 lint warnings in status.warnings");
        assert_eq!(
            status.condition(types::READY).map(|c| c.status.as_str()),
            Some("True")
        );

        let mut obj = object(9000);
        obj.spec.rules[0].max_age_seconds = None;
        let clean = build(&obj, &outcome(), now);
        assert!(clean.warnings.is_empty());
        assert_eq!(
            clean.condition(types::LINTED).map(|c| c.reason.as_str()),
            Some("Clean")
        );
    }

    #[test]
    fn only_new_warnings_get_an_event() {
        let now = Timestamp::now();
        let before = build(&object(9000), &outcome(), now);
        assert_eq!(new_warnings(None, &before).len(), 2);
        assert!(new_warnings(Some(&before), &before).is_empty());
        let after = build(&object(0), &outcome(), now);
        let fresh = new_warnings(Some(&before), &after);
        assert_eq!(fresh.len(), 1, "{fresh:?}");
        assert!(fresh[0].contains("BC132 max-age-zero"), "{fresh:?}");
    }
}
