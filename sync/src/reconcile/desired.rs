//! What the caller wants a bucket to look like.

use crate::edge::{EdgeTarget, PublishedRoute};
use bucketcors_engine::CorsConfig;

/// The desired state of one bucket, plus what the caller remembers of the
/// last run (the controller keeps it in the status; the CLI has none).
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    /// The rules (and OSS `ResponseVary`).
    pub config: CorsConfig,
    /// Publish to the edge on these routes; `None` when the spec does not
    /// enable the edge.
    pub edge: Option<EdgeTarget>,
    /// Revision last applied to the bucket; tells updates from drift.
    pub last_applied_revision: Option<String>,
    /// The routes published by the last run, with their revisions: a
    /// route no longer in [`Desired::edge`] (or every one, without it) is
    /// withdrawn, and a route rewritten although it was published at the
    /// same revision is reported as repaired.
    pub published: Vec<PublishedRoute>,
}

impl Desired {
    /// Desired rules with no edge and no history.
    pub fn new(config: CorsConfig) -> Desired {
        Desired {
            config,
            edge: None,
            last_applied_revision: None,
            published: Vec::new(),
        }
    }

    /// Also publish to the edge on `target`'s routes.
    pub fn with_edge(mut self, target: EdgeTarget) -> Desired {
        self.edge = Some(target);
        self
    }

    /// Remember the revisions of the last successful run.
    pub fn with_history(
        mut self,
        applied: Option<String>,
        published: Vec<PublishedRoute>,
    ) -> Desired {
        self.last_applied_revision = applied;
        self.published = published;
        self
    }
}
