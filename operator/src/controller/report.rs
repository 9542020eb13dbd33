//! What a reconcile's result means for the status and the Events, as pure
//! functions of the result and the old status.
//!
//! The reconciler ([`super::reconciler`]) runs the steps and performs the
//! side effects; every decision about what the conditions say and which
//! Events are published is made here, so that it is unit-tested without an
//! API server, a bucket or an edge.

use super::error::Error;
use super::status::{Outcome, Verdict, reason};
use crate::crd::BucketCorsStatus;
use bucketcors_sync::backend::Target;
use bucketcors_sync::edge::Route;
use bucketcors_sync::reconcile::{self, Change, EdgeResult};
use bucketcors_sync::tenancy::Refusal;

pub mod lints;

/// Normal or Warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteKind {
    /// Something changed as asked.
    Normal,
    /// Something failed.
    Warning,
}

/// One Event to publish about the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// Normal or Warning.
    pub kind: NoteKind,
    /// CamelCase reason.
    pub reason: &'static str,
    /// What the controller did (`PutBucketCors`, `Publish`...).
    pub action: &'static str,
    /// What a person running `kubectl describe` reads.
    pub text: String,
}

impl Note {
    fn normal(reason: &'static str, action: &'static str, text: String) -> Note {
        Note {
            kind: NoteKind::Normal,
            reason,
            action,
            text,
        }
    }
}

/// The `BackendSynced` verdict of a bucket holding `revision`.
fn synced(target: &Target, revision: &str) -> Verdict {
    Verdict::ok(
        reason::SYNCED,
        format!("{target} holds revision {revision}"),
    )
}

fn edge_disabled() -> Verdict {
    Verdict::ok(reason::DISABLED, "edge publishing is off for this resource")
}

/// The Event of a bucket write, `None` when nothing was written. Published
/// also when a later edge step fails: the bucket did change.
pub fn bucket_note(outcome: &reconcile::Outcome, rule_count: usize) -> Option<Note> {
    let target = &outcome.target;
    let revision = &outcome.revision;
    match outcome.change {
        Change::Unchanged => None,
        Change::Created | Change::Updated => Some(Note::normal(
            reason::APPLIED,
            "PutBucketCors",
            format!("{target} now holds {rule_count} rule(s), revision {revision}"),
        )),
        Change::DriftRepaired => Some(Note::normal(
            reason::DRIFT_REPAIRED,
            "PutBucketCors",
            format!("{target} had been changed outside bucketcors; restored revision {revision}"),
        )),
    }
}

/// The status and Events of a successful reconcile, from the core's
/// outcome: what the edge was written, repaired and withdrawn is in it.
/// `None` for [`EdgeResult::NoPublisher`], which the controller refuses
/// before the core runs.
pub fn succeeded(outcome: &reconcile::Outcome, rule_count: usize) -> Option<(Outcome, Vec<Note>)> {
    let target = &outcome.target;
    let revision = &outcome.revision;
    let mut notes: Vec<Note> = bucket_note(outcome, rule_count).into_iter().collect();
    let list = |routes: &[Route]| {
        routes
            .iter()
            .map(Route::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (edge, edge_revision) = match &outcome.edge {
        EdgeResult::Published(sync) => {
            let served = &sync.revision;
            if !sync.repaired.is_empty() {
                notes.push(Note::normal(
                    reason::EDGE_DRIFT_REPAIRED,
                    "Publish",
                    format!(
                        "the edge record of {} had been changed or removed at the edge; restored revision {served}",
                        list(&sync.repaired)
                    ),
                ));
            }
            let updated: Vec<Route> = sync
                .written
                .iter()
                .filter(|r| !sync.repaired.contains(r))
                .cloned()
                .collect();
            if !updated.is_empty() {
                notes.push(Note::normal(
                    reason::EDGE_PUBLISHED,
                    "Publish",
                    format!("the edge serves revision {served} on {}", list(&updated)),
                ));
            }
            let all: Vec<Route> = sync.routes.iter().map(|r| r.route.clone()).collect();
            let verdict = Verdict::ok(
                reason::PUBLISHED,
                format!("the edge serves revision {served} on {}", list(&all)),
            );
            (verdict, Some(served.clone()))
        }
        EdgeResult::Disabled => (edge_disabled(), None),
        EdgeResult::NoPublisher => return None,
    };
    if !outcome.edge_withdrawn.is_empty() {
        notes.push(Note::normal(
            reason::EDGE_UNPUBLISHED,
            "Unpublish",
            format!(
                "withdrew the edge route(s) the spec no longer names: {}",
                list(&outcome.edge_withdrawn)
            ),
        ));
    }
    let status = Outcome {
        backend: synced(target, revision),
        edge,
        applied_revision: Some(revision.clone()),
        edge_revision,
        edge_routes: outcome.edge.routes().iter().map(Into::into).collect(),
        synced: true,
        rule_count,
    };
    Some((status, notes))
}

/// The status when the bucket holds `revision` but the edge step (publish
/// or withdrawal) failed with `error`: the edge keeps what it had.
pub fn edge_failed(
    target: &Target,
    revision: &str,
    error: &Error,
    old: &BucketCorsStatus,
    rule_count: usize,
) -> Outcome {
    Outcome {
        backend: synced(target, revision),
        edge: Verdict::failed(error.reason(), error.to_string()),
        applied_revision: Some(revision.to_owned()),
        edge_revision: old.edge_revision.clone(),
        edge_routes: old.edge_routes.clone(),
        synced: true,
        rule_count,
    }
}

/// The status when the reconcile failed before the bucket was known to be
/// in sync; the revisions stay as the old status has them.
pub fn failed(error: &Error, edge_on: bool, old: &BucketCorsStatus, rule_count: usize) -> Outcome {
    let message = error.to_string();
    let edge_refused = matches!(
        error,
        Error::EdgeNotConfigured | Error::NotPermitted(Refusal::EdgeHost { .. })
    );
    let (backend, edge) = if edge_refused {
        // Refused before the bucket was touched: the bucket's state is not
        // known, the edge's problem is.
        (
            Verdict::unknown(
                reason::NOT_ATTEMPTED,
                "the bucket is written once the edge can be published too",
            ),
            Verdict::failed(error.reason(), message),
        )
    } else {
        let edge = if edge_on {
            Verdict::unknown(
                reason::WAITING_FOR_BACKEND,
                "the edge is published after the bucket is in sync",
            )
        } else {
            edge_disabled()
        };
        (Verdict::failed(error.reason(), message), edge)
    };
    Outcome {
        backend,
        edge,
        applied_revision: old.applied_revision.clone(),
        edge_revision: old.edge_revision.clone(),
        edge_routes: old.edge_routes.clone(),
        synced: false,
        rule_count,
    }
}

/// The Warning Event of a failed reconcile.
pub fn failure_note(error: &Error) -> Note {
    Note {
        kind: NoteKind::Warning,
        reason: error.reason(),
        action: "Reconcile",
        text: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::status::ConditionStatus;
    use bucketcors_sync::backend::{BackendError, ErrorKind};

    fn target() -> Target {
        Target {
            provider: "s3",
            bucket: "b".into(),
        }
    }

    fn outcome(change: Change, edge: EdgeResult) -> reconcile::Outcome {
        reconcile::Outcome {
            target: target(),
            change,
            revision: "sha256:new".into(),
            previous_revision: None,
            edge,
            edge_withdrawn: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn route(host: &str) -> Route {
        Route::new(host, Some("/assets")).unwrap()
    }

    /// The edge holds `revision` on `hosts`; `written` and `repaired` name
    /// the hosts written now.
    fn served(hosts: &[&str], written: &[&str], repaired: &[&str]) -> EdgeResult {
        EdgeResult::Published(reconcile::EdgeSync {
            revision: "sha256:served".into(),
            routes: hosts
                .iter()
                .map(|h| bucketcors_sync::edge::PublishedRoute {
                    route: route(h),
                    revision: "sha256:served".into(),
                })
                .collect(),
            written: written.iter().map(|h| route(h)).collect(),
            repaired: repaired.iter().map(|h| route(h)).collect(),
            took: std::time::Duration::ZERO,
        })
    }

    fn old() -> BucketCorsStatus {
        BucketCorsStatus {
            applied_revision: Some("sha256:old".into()),
            edge_revision: Some("sha256:edge".into()),
            edge_routes: vec![crate::crd::EdgeRouteStatus {
                host: "a.test".into(),
                path_prefix: Some("/assets".into()),
                revision: "sha256:edge".into(),
            }],
            ..BucketCorsStatus::default()
        }
    }

    /// Which Events a successful reconcile publishes: one per change, none
    /// for a resync that finds everything in order.
    #[test]
    fn events_follow_what_changed() {
        let published = served(&["a.test"], &["a.test"], &[]);
        let in_order = served(&["a.test"], &[], &[]);
        let repaired = served(&["a.test", "b.test"], &["a.test", "b.test"], &["a.test"]);
        let cases: [(Change, EdgeResult, bool, &[&str]); 7] = [
            (Change::Unchanged, in_order.clone(), false, &[]),
            (Change::Unchanged, EdgeResult::Disabled, false, &[]),
            (
                Change::Created,
                published.clone(),
                false,
                &["Applied", "EdgePublished"],
            ),
            (Change::Updated, in_order.clone(), false, &["Applied"]),
            (
                Change::DriftRepaired,
                EdgeResult::Disabled,
                false,
                &["DriftRepaired"],
            ),
            (
                Change::Unchanged,
                EdgeResult::Disabled,
                true,
                &["EdgeUnpublished"],
            ),
            (
                Change::Unchanged,
                repaired,
                true,
                &["EdgeDriftRepaired", "EdgePublished", "EdgeUnpublished"],
            ),
        ];
        for (change, edge, withdrawn, reasons) in cases {
            let mut result = outcome(change, edge.clone());
            if withdrawn {
                result.edge_withdrawn = vec![route("gone.test")];
            }
            let (status, notes) = succeeded(&result, 2).unwrap();
            let got: Vec<&str> = notes.iter().map(|n| n.reason).collect();
            assert_eq!(got, reasons, "{change:?} {edge:?} {withdrawn}");
            assert!(notes.iter().all(|n| n.kind == NoteKind::Normal));
            assert_eq!(status.backend.status, ConditionStatus::True);
            assert_eq!(status.edge.status, ConditionStatus::True);
            assert_eq!(status.applied_revision.as_deref(), Some("sha256:new"));
            assert!(status.synced);
        }
        assert!(succeeded(&outcome(Change::Created, EdgeResult::NoPublisher), 1).is_none());
    }

    /// The status's edge revision and routes are what the edge API answered,
    /// route by route; without the edge, no route is remembered.
    #[test]
    fn the_edge_revision_and_routes_are_what_the_edge_serves() {
        let (status, _) = succeeded(
            &outcome(Change::Unchanged, served(&["a.test", "b.test"], &[], &[])),
            1,
        )
        .unwrap();
        assert_eq!(status.edge_revision.as_deref(), Some("sha256:served"));
        assert_eq!(status.edge.reason, "Published");
        let routes: Vec<(&str, Option<&str>, &str)> = status
            .edge_routes
            .iter()
            .map(|r| {
                (
                    r.host.as_str(),
                    r.path_prefix.as_deref(),
                    r.revision.as_str(),
                )
            })
            .collect();
        assert_eq!(
            routes,
            [
                ("a.test", Some("/assets"), "sha256:served"),
                ("b.test", Some("/assets"), "sha256:served")
            ]
        );
        let (off, _) = succeeded(&outcome(Change::Unchanged, EdgeResult::Disabled), 1).unwrap();
        assert_eq!(off.edge_revision, None);
        assert!(off.edge_routes.is_empty());
        assert_eq!(off.edge.reason, "Disabled");
    }

    #[test]
    fn a_failed_edge_keeps_the_bucket_synced_and_the_old_edge_revision() {
        let error = Error::Reconcile(bucketcors_sync::reconcile::ReconcileError::Edge {
            target: target(),
            error: bucketcors_sync::edge::PublishError::transient("Cloudflare API answered 500"),
        });
        let status = edge_failed(&target(), "sha256:new", &error, &old(), 3);
        assert_eq!(status.backend.status, ConditionStatus::True);
        assert_eq!(status.edge.status, ConditionStatus::False);
        assert_eq!(status.edge.reason, "EdgePublishFailed");
        assert_eq!(status.applied_revision.as_deref(), Some("sha256:new"));
        assert_eq!(status.edge_revision.as_deref(), Some("sha256:edge"));
        assert_eq!(status.edge_routes, old().edge_routes, "still to withdraw");
        assert!(status.synced);
    }

    #[test]
    fn failures_keep_the_old_revisions_and_say_why() {
        let denied = Error::Backend(BackendError::new(ErrorKind::AccessDenied, &target(), "no"));
        for (edge_on, edge_reason, edge_status) in [
            (true, "WaitingForBackend", ConditionStatus::Unknown),
            (false, "Disabled", ConditionStatus::True),
        ] {
            let status = failed(&denied, edge_on, &old(), 1);
            assert_eq!(status.backend.status, ConditionStatus::False);
            assert_eq!(status.backend.reason, "AccessDenied");
            assert_eq!(status.edge.reason, edge_reason);
            assert_eq!(status.edge.status, edge_status);
            assert_eq!(status.applied_revision.as_deref(), Some("sha256:old"));
            assert!(!status.synced);
        }
        // Tenancy refusals: the bucket's refusal is the backend's, an edge
        // host's is the edge's; both say which chart value to change.
        let credentials = Error::NotPermitted(Refusal::DefaultCredentials {
            namespace: "team-x".into(),
        });
        let status = failed(&credentials, false, &old(), 1);
        assert_eq!(status.backend.status, ConditionStatus::False);
        assert_eq!(status.backend.reason, "DefaultCredentialsNotAllowed");
        assert!(
            status
                .backend
                .message
                .contains("tenancy.defaultCredentialsNamespaces")
        );
        assert!(credentials.is_terminal());
        let host = Error::NotPermitted(Refusal::EdgeHost {
            namespace: "team-x".into(),
            host: "cdn.a.example.com".into(),
            allowed: "none".into(),
        });
        let status = failed(&host, true, &old(), 1);
        assert_eq!(status.backend.reason, "NotAttempted");
        assert_eq!(status.edge.status, ConditionStatus::False);
        assert_eq!(status.edge.reason, "EdgeHostNotAllowed");
        assert!(status.edge.message.contains("tenancy.edgeHosts"));
        let endpoint = Error::NotPermitted(Refusal::Endpoint {
            endpoint: "localhost:3900".into(),
            allowed: "127.0.0.1".into(),
        });
        assert_eq!(
            failed(&endpoint, false, &old(), 1).backend.reason,
            "EndpointNotAllowed"
        );
        assert_eq!(failure_note(&endpoint).reason, "EndpointNotAllowed");
        let refused = failed(&Error::EdgeNotConfigured, true, &old(), 1);
        assert_eq!(refused.backend.status, ConditionStatus::Unknown);
        assert_eq!(refused.backend.reason, "NotAttempted");
        assert_eq!(refused.edge.reason, "EdgeNotConfigured");
        let note = failure_note(&denied);
        assert_eq!(
            (note.kind, note.reason, note.action),
            (NoteKind::Warning, "AccessDenied", "Reconcile")
        );
        assert!(note.text.contains("s3 bucket `b`"), "{}", note.text);
    }
}
