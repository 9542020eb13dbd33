//! What a reconcile did, or (for a dry run) would do.

use crate::backend::Target;
use crate::edge::{PublishedRoute, Route};
use bucketcors_engine::ruleset::RuleSet;
use bucketcors_engine::validate::Diagnostic;
use bucketcors_engine::{CorsConfig, Dialect};
use std::fmt;

/// How the bucket's configuration changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The bucket had no configuration; it has the desired one now.
    Created,
    /// The desired rules changed; the bucket was updated.
    Updated,
    /// The bucket already had the desired rules: nothing was written.
    Unchanged,
    /// Someone changed or removed the bucket's rules since they were last
    /// applied; they were put back.
    DriftRepaired,
}

impl Change {
    /// Lower-case word for progress lines (`created`, `drift-repaired`).
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Created => "created",
            Change::Updated => "updated",
            Change::Unchanged => "unchanged",
            Change::DriftRepaired => "drift-repaired",
        }
    }

    /// True when the bucket was (or would be) written.
    pub fn writes(self) -> bool {
        self != Change::Unchanged
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happened at the edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EdgeResult {
    /// The spec does not publish to the edge.
    Disabled,
    /// The spec asks for the edge but the caller gave no publisher (the CLI
    /// without Cloudflare settings).
    NoPublisher,
    /// Every route of the spec holds the rules; see [`EdgeSync`].
    Published(EdgeSync),
}

/// The routes of a publish, read back from the edge API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeSync {
    /// The revision the edge API holds for the routes (read back after
    /// any write).
    pub revision: String,
    /// Every route of the spec with its revision.
    pub routes: Vec<PublishedRoute>,
    /// Routes written now: new, changed, or repaired.
    pub written: Vec<Route>,
    /// Of those, routes the last run had published at this same revision:
    /// their record had been changed or removed at the edge and was put
    /// back.
    pub repaired: Vec<Route>,
    /// How long the publish took (reads, writes and read-backs at the edge
    /// API, nothing else): `edge_publish_duration_seconds`.
    pub took: std::time::Duration,
}

impl EdgeResult {
    /// The revision the edge serves, when known.
    pub fn revision(&self) -> Option<&str> {
        match self {
            EdgeResult::Published(sync) => Some(&sync.revision),
            EdgeResult::Disabled | EdgeResult::NoPublisher => None,
        }
    }

    /// The routes published with their revisions (none unless published).
    pub fn routes(&self) -> &[PublishedRoute] {
        match self {
            EdgeResult::Published(sync) => &sync.routes,
            EdgeResult::Disabled | EdgeResult::NoPublisher => &[],
        }
    }
}

/// The result of a successful apply.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The bucket.
    pub target: Target,
    /// What changed in the bucket.
    pub change: Change,
    /// Revision (engine content hash) the bucket now has.
    pub revision: String,
    /// Revision the bucket had before, `None` when it had no configuration.
    pub previous_revision: Option<String>,
    /// What happened at the edge.
    pub edge: EdgeResult,
    /// Routes the last run published that the spec no longer names (all of
    /// them when it turned the edge off): withdrawn now.
    pub edge_withdrawn: Vec<Route>,
    /// Validation warnings (for example shadowed rules); not blocking.
    pub warnings: Vec<Diagnostic>,
}

/// What an apply would do, computed without writing anything. Its
/// [`RuleSet`] is built once, at the start of the reconcile, and is the value
/// that is then written, compared and published.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The bucket.
    pub target: Target,
    /// The desired rules, validated for the backend's dialect, with their
    /// revision.
    pub rules: RuleSet,
    /// What the bucket holds now.
    pub current: Option<CorsConfig>,
    /// What applying would report.
    pub change: Change,
    /// Revision of the current rules.
    pub current_revision: Option<String>,
    /// Validation warnings.
    pub warnings: Vec<Diagnostic>,
}

impl Plan {
    /// The backend's dialect.
    pub fn dialect(&self) -> Dialect {
        self.rules.dialect
    }

    /// Revision of the desired rules.
    pub fn revision(&self) -> &str {
        &self.rules.revision
    }

    /// A line diff of the current and desired rules in BucketCors YAML;
    /// empty when nothing would change.
    pub fn diff(&self) -> String {
        if !self.change.writes() {
            return String::new();
        }
        let print = |c: &CorsConfig| {
            bucketcors_engine::format::print(c, bucketcors_engine::format::Format::Yaml)
        };
        let old = self.current.as_ref().map(print).unwrap_or_default();
        super::diff::lines(&old, &print(&self.rules.config))
    }
}

/// What a removal did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// `DeletionPolicy: Delete`: the configuration was removed (or the
    /// bucket was already gone), and the edge record too.
    Deleted,
    /// `DeletionPolicy: Retain`: bucket and edge were left as they are.
    Retained,
}
