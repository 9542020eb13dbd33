//! Kubernetes Events for changes and failures.
//!
//! An Event is published when something happened that a person running
//! `kubectl describe` wants to see: the bucket was written (`Applied`), drift
//! was repaired (`DriftRepaired`), the edge was updated (`EdgePublished`),
//! the configuration was removed or kept on deletion (`Deleted`,
//! `Retained`), a reconciliation failed (Warning, with the failure's
//! reason), or the spec has a lint the old status did not list (Warning,
//! `Lint`, one per lint). A resync that finds everything in order publishes nothing. The
//! recorder aggregates repeats into an event series, so a failure retried
//! with backoff does not flood the namespace. Failing to publish an Event is
//! logged and otherwise ignored: it must never block a reconciliation.

use super::report::lints::{self, LintNote};
use super::report::{Note, NoteKind};
use crate::crd::BucketCors;
use kube::Resource;
use kube::runtime::events::{Event, EventType, Recorder};

/// Publishes Events about `BucketCors` objects.
pub struct Events {
    recorder: Recorder,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events").finish_non_exhaustive()
    }
}

impl Events {
    /// Wraps a recorder.
    pub fn new(recorder: Recorder) -> Self {
        Events { recorder }
    }

    /// Publishes `note` (decided by [`super::report`]).
    pub async fn note(&self, obj: &BucketCors, note: &Note) {
        let type_ = match note.kind {
            NoteKind::Normal => EventType::Normal,
            NoteKind::Warning => EventType::Warning,
        };
        self.publish(obj, type_, note.reason, note.action, note.text.clone())
            .await;
    }

    /// The Warning Event of one lint ([`super::report::lints::notes`]).
    pub async fn lint(&self, obj: &BucketCors, note: &LintNote) {
        self.publish(
            obj,
            EventType::Warning,
            lints::REASON,
            &note.action,
            note.text.clone(),
        )
        .await;
    }

    /// A Normal event.
    pub async fn normal(&self, obj: &BucketCors, reason: &str, action: &str, note: String) {
        self.publish(obj, EventType::Normal, reason, action, note)
            .await;
    }

    /// A Warning event.
    pub async fn warning(&self, obj: &BucketCors, reason: &str, action: &str, note: String) {
        self.publish(obj, EventType::Warning, reason, action, note)
            .await;
    }

    async fn publish(
        &self,
        obj: &BucketCors,
        type_: EventType,
        reason: &str,
        action: &str,
        note: String,
    ) {
        let event = Event {
            type_,
            reason: reason.to_string(),
            // The API limits notes to 1 kB.
            note: Some(truncate(note, 1000)),
            action: action.to_string(),
            secondary: None,
        };
        let reference = obj.object_ref(&());
        if let Err(error) = self.recorder.publish(&event, &reference).await {
            tracing::warn!(%error, reason, "could not publish an Event");
        }
    }
}

fn truncate(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut cut = max;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text
}
