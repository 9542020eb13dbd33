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

/// The status and Events of a successful reconcile: the core's outcome,
/// and whether an earlier edge record was withdrawn because the spec turned
/// edge publishing off. `None` for [`EdgeResult::NoPublisher`], which the
/// controller refuses before the core runs.
pub fn succeeded(
    outcome: &reconcile::Outcome,
    withdrawn: bool,
    rule_count: usize,
) -> Option<(Outcome, Vec<Note>)> {
    let target = &outcome.target;
    let revision = &outcome.revision;
    let mut notes: Vec<Note> = bucket_note(outcome, rule_count).into_iter().collect();
    let (edge, edge_revision) = match &outcome.edge {
        EdgeResult::Published { revision: served } => {
            notes.push(Note::normal(
                reason::EDGE_PUBLISHED,
                "Publish",
                format!("the edge serves revision {served}"),
            ));
            let verdict = Verdict::ok(
                reason::PUBLISHED,
                format!("the edge serves revision {served}"),
            );
            (verdict, Some(served.clone()))
        }
        EdgeResult::AlreadyPublished { revision: served } => (
            Verdict::ok(
                reason::PUBLISHED,
                format!("the edge serves revision {served}"),
            ),
            Some(served.clone()),
        ),
        EdgeResult::Disabled => {
            if withdrawn {
                notes.push(Note::normal(
                    reason::EDGE_UNPUBLISHED,
                    "Unpublish",
                    "edge publishing turned off: removed the edge record".to_string(),
                ));
            }
            (edge_disabled(), None)
        }
        EdgeResult::NoPublisher => return None,
    };
    let status = Outcome {
        backend: synced(target, revision),
        edge,
        applied_revision: Some(revision.clone()),
        edge_revision,
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
            warnings: Vec::new(),
        }
    }

    fn old() -> BucketCorsStatus {
        BucketCorsStatus {
            applied_revision: Some("sha256:old".into()),
            edge_revision: Some("sha256:edge".into()),
            ..BucketCorsStatus::default()
        }
    }

    /// Which Events a successful reconcile publishes: one per change, none
    /// for a resync that finds everything in order.
    #[test]
    fn events_follow_what_changed() {
        let published = EdgeResult::Published {
            revision: "sha256:new".into(),
        };
        let already = EdgeResult::AlreadyPublished {
            revision: "sha256:new".into(),
        };
        let cases: [(Change, EdgeResult, bool, &[&str]); 6] = [
            (Change::Unchanged, already.clone(), false, &[]),
            (Change::Unchanged, EdgeResult::Disabled, false, &[]),
            (
                Change::Created,
                published.clone(),
                false,
                &["Applied", "EdgePublished"],
            ),
            (Change::Updated, already, false, &["Applied"]),
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
        ];
        for (change, edge, withdrawn, reasons) in cases {
            let (status, notes) = succeeded(&outcome(change, edge.clone()), withdrawn, 2).unwrap();
            let got: Vec<&str> = notes.iter().map(|n| n.reason).collect();
            assert_eq!(got, reasons, "{change:?} {edge:?} {withdrawn}");
            assert!(notes.iter().all(|n| n.kind == NoteKind::Normal));
            assert_eq!(status.backend.status, ConditionStatus::True);
            assert_eq!(status.edge.status, ConditionStatus::True);
            assert_eq!(status.applied_revision.as_deref(), Some("sha256:new"));
            assert!(status.synced);
        }
        assert!(succeeded(&outcome(Change::Created, EdgeResult::NoPublisher), false, 1).is_none());
    }

    #[test]
    fn the_edge_revision_is_what_the_edge_serves() {
        let (status, _) = succeeded(
            &outcome(
                Change::Unchanged,
                EdgeResult::Published {
                    revision: "sha256:served".into(),
                },
            ),
            false,
            1,
        )
        .unwrap();
        assert_eq!(status.edge_revision.as_deref(), Some("sha256:served"));
        assert_eq!(status.edge.reason, "Published");
        let (off, _) =
            succeeded(&outcome(Change::Unchanged, EdgeResult::Disabled), true, 1).unwrap();
        assert_eq!(off.edge_revision, None);
        assert_eq!(off.edge.reason, "Disabled");
    }

    #[test]
    fn a_failed_edge_keeps_the_bucket_synced_and_the_old_edge_revision() {
        let error = Error::Edge {
            message: "Cloudflare API answered 500".into(),
            transient: true,
            token_rejected: false,
        };
        let status = edge_failed(&target(), "sha256:new", &error, &old(), 3);
        assert_eq!(status.backend.status, ConditionStatus::True);
        assert_eq!(status.edge.status, ConditionStatus::False);
        assert_eq!(status.edge.reason, "EdgePublishFailed");
        assert_eq!(status.applied_revision.as_deref(), Some("sha256:new"));
        assert_eq!(status.edge_revision.as_deref(), Some("sha256:edge"));
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
