//! Validate, read, compare, write, verify, publish.
//!
//! The desired rules become a [`RuleSet`] once, in [`Reconciler::plan`]:
//! that value is what is compared with the bucket, written, verified
//! against and published.

use super::{Change, Desired, EdgeResult, EdgeSync, Operation, Outcome, Plan, ReconcileError};
use crate::backend::{Backend, Target};
use crate::edge::{Published, PublishedRoute, Publisher, Route};
use bucketcors_engine::CorsConfig;
use bucketcors_engine::ruleset::{RuleSet, revision};
use bucketcors_engine::validate::Diagnostic;

/// Applies desired rules to one bucket (and the edge). Borrowed, cheap:
/// build one per reconcile.
#[derive(Clone, Copy)]
pub struct Reconciler<'a> {
    pub(super) backend: &'a dyn Backend,
    pub(super) publisher: Option<&'a dyn Publisher>,
}

impl std::fmt::Debug for Reconciler<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reconciler")
            .field("target", self.backend.target())
            .field("publisher", &self.publisher.is_some())
            .finish()
    }
}

impl<'a> Reconciler<'a> {
    /// A reconciler for `backend`, without an edge publisher.
    pub fn new(backend: &'a dyn Backend) -> Reconciler<'a> {
        Reconciler {
            backend,
            publisher: None,
        }
    }

    /// Publishes to the edge with `publisher` when the desired state asks for it.
    pub fn with_publisher(mut self, publisher: &'a dyn Publisher) -> Reconciler<'a> {
        self.publisher = Some(publisher);
        self
    }

    /// The bucket this reconciler drives.
    pub fn target(&self) -> &Target {
        self.backend.target()
    }

    /// Validates, reads and compares without writing anything: what
    /// [`Reconciler::apply`] would do. The desired rules are validated and
    /// hashed here, once, into the plan's [`RuleSet`].
    pub async fn plan(&self, desired: &Desired) -> Result<Plan, ReconcileError> {
        let dialect = self.backend.dialect();
        let (rules, warnings) =
            RuleSet::with_warnings(dialect, desired.config.clone()).map_err(|report| {
                ReconcileError::Invalid {
                    target: self.target().clone(),
                    dialect,
                    report,
                }
            })?;
        self.plan_rules(rules, warnings, desired).await
    }

    /// Reads and compares against rules already validated.
    async fn plan_rules(
        &self,
        rules: RuleSet,
        warnings: Vec<Diagnostic>,
        desired: &Desired,
    ) -> Result<Plan, ReconcileError> {
        let current = self.read(Operation::Read).await?;
        let current_revision = current.as_ref().map(|c| revision(rules.dialect, c));
        let change = classify_change(
            current_revision.as_deref(),
            &rules.revision,
            desired.last_applied_revision.as_deref(),
        );
        Ok(Plan {
            target: self.target().clone(),
            rules,
            current,
            change,
            current_revision,
            warnings,
        })
    }

    /// Brings the bucket (and the edge) to `desired`; see the module docs
    /// for the steps. Idempotent: a second call sends no write.
    pub async fn apply(&self, desired: &Desired) -> Result<Outcome, ReconcileError> {
        let plan = self.plan(desired).await?;
        self.execute(&plan, desired).await
    }

    /// Carries out `plan` (from [`Reconciler::plan`] on the same
    /// `desired`): writes and verifies the plan's rule set when it changes
    /// the bucket, then publishes that same rule set to the edge. A caller
    /// that keeps the plan knows the revision the bucket holds even when
    /// the edge then fails.
    pub async fn execute(&self, plan: &Plan, desired: &Desired) -> Result<Outcome, ReconcileError> {
        let target = plan.target.clone();
        if plan.change.writes() {
            self.backend
                .put_cors(&plan.rules.config)
                .await
                .map_err(|error| ReconcileError::Backend {
                    operation: Operation::Write,
                    error,
                })?;
            let stored = self.read(Operation::ReadBack).await?;
            let stored_revision = stored.as_ref().map(|c| revision(plan.dialect(), c));
            if stored_revision.as_deref() != Some(plan.revision()) {
                return Err(ReconcileError::NotVerified {
                    target,
                    expected: plan.rules.revision.clone(),
                    found: stored_revision.unwrap_or_else(|| "none".to_owned()),
                });
            }
            tracing::info!(
                provider = target.provider,
                bucket = %target.bucket,
                change = plan.change.as_str(),
                revision = %plan.revision(),
                previous = plan.current_revision.as_deref().unwrap_or("none"),
                "bucket CORS configuration written"
            );
        } else {
            tracing::debug!(provider = target.provider, bucket = %target.bucket, revision = %plan.revision(), "bucket already in sync");
        }
        let (edge, edge_withdrawn) = self.publish(desired, plan).await?;
        Ok(Outcome {
            target,
            change: plan.change,
            revision: plan.rules.revision.clone(),
            previous_revision: plan.current_revision.clone(),
            edge,
            edge_withdrawn,
            warnings: plan.warnings.clone(),
        })
    }

    async fn read(&self, operation: Operation) -> Result<Option<CorsConfig>, ReconcileError> {
        self.backend
            .get_cors()
            .await
            .map_err(|error| ReconcileError::Backend { operation, error })
    }

    /// Publishes the plan's rules on the spec's routes, then withdraws the
    /// routes published before that the spec no longer names.
    async fn publish(
        &self,
        desired: &Desired,
        plan: &Plan,
    ) -> Result<(EdgeResult, Vec<Route>), ReconcileError> {
        let edge_error = |error| ReconcileError::Edge {
            target: plan.target.clone(),
            error,
        };
        let Some(publisher) = self.publisher else {
            let result = match desired.edge {
                Some(_) => EdgeResult::NoPublisher,
                None => EdgeResult::Disabled,
            };
            return Ok((result, Vec::new()));
        };
        let (result, wanted) = match &desired.edge {
            None => (EdgeResult::Disabled, Vec::new()),
            Some(edge) => {
                let started = std::time::Instant::now();
                let published = publisher
                    .publish(edge, &plan.rules)
                    .await
                    .map_err(edge_error)?;
                let mut sync = edge_sync(published, &desired.published, plan.revision());
                sync.took = started.elapsed();
                if !sync.written.is_empty() {
                    tracing::info!(bucket = %plan.target.bucket, written = ?sync.written, repaired = ?sync.repaired, revision = %sync.revision, "published to the edge");
                }
                let wanted: Vec<Route> = sync.routes.iter().map(|r| r.route.clone()).collect();
                (EdgeResult::Published(sync), wanted)
            }
        };
        let stale = stale_routes(&desired.published, &wanted);
        if !stale.is_empty() {
            publisher.withdraw(&stale).await.map_err(edge_error)?;
            tracing::info!(bucket = %plan.target.bucket, withdrawn = ?stale, "edge routes withdrawn");
        }
        Ok((result, stale))
    }
}

/// The publish's result as the core reports it: the revision read back,
/// and which written routes were repairs (published before at this
/// revision, so someone changed them at the edge).
fn edge_sync(published: Published, before: &[PublishedRoute], revision: &str) -> EdgeSync {
    let repaired = published
        .written
        .iter()
        .filter(|route| {
            before
                .iter()
                .any(|b| &b.route == *route && b.revision == revision)
        })
        .cloned()
        .collect();
    let read_back = published
        .routes
        .first()
        .map(|r| r.revision.clone())
        .unwrap_or_else(|| revision.to_owned());
    EdgeSync {
        revision: read_back,
        routes: published.routes,
        written: published.written,
        repaired,
        took: std::time::Duration::ZERO,
    }
}

/// The routes published before that are not `wanted` now, each once.
fn stale_routes(before: &[PublishedRoute], wanted: &[Route]) -> Vec<Route> {
    let mut stale: Vec<Route> = Vec::new();
    for b in before {
        if !wanted.contains(&b.route) && !stale.contains(&b.route) {
            stale.push(b.route.clone());
        }
    }
    stale
}

/// Shortcut for a caller that handles the edge itself: applies `rules` to
/// `backend` with no history (so a difference reports as created or
/// updated, never as drift; use [`Reconciler::apply`] with
/// [`Desired::with_history`] for that).
/// `rules` are used as they are when their dialect is the backend's, and
/// validated for the backend's dialect otherwise.
pub async fn sync(backend: &dyn Backend, rules: &RuleSet) -> Result<Change, ReconcileError> {
    let reconciler = Reconciler::new(backend);
    let desired = Desired::new(rules.config.clone());
    let plan = if rules.dialect == backend.dialect() {
        reconciler
            .plan_rules(rules.clone(), Vec::new(), &desired)
            .await?
    } else {
        reconciler.plan(&desired).await?
    };
    reconciler
        .execute(&plan, &desired)
        .await
        .map(|outcome| outcome.change)
}

/// Created, updated, drift repaired or unchanged, from the revisions.
fn classify_change(current: Option<&str>, wanted: &str, last_applied: Option<&str>) -> Change {
    match (current, last_applied) {
        (Some(current), _) if current == wanted => Change::Unchanged,
        // The bucket no longer holds what we last applied: someone else
        // changed (or removed) it.
        (current, Some(last)) if current != Some(last) => Change::DriftRepaired,
        (None, _) => Change::Created,
        (Some(_), _) => Change::Updated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(host: &str) -> Route {
        Route::new(host, None).unwrap()
    }

    fn at(host: &str, revision: &str) -> PublishedRoute {
        PublishedRoute {
            route: route(host),
            revision: revision.into(),
        }
    }

    /// Withdrawn: what was published and is no longer wanted, once each.
    #[test]
    fn stale_routes_are_those_no_longer_named() {
        let before = [at("a.test", "r1"), at("b.test", "r1"), at("b.test", "r1")];
        assert_eq!(stale_routes(&before, &[route("a.test")]), [route("b.test")]);
        assert_eq!(
            stale_routes(&before, &[]),
            [route("a.test"), route("b.test")]
        );
        assert!(stale_routes(&[], &[route("a.test")]).is_empty());
    }

    /// A route rewritten at the revision it was published at was repaired;
    /// one published before at another revision was updated.
    #[test]
    fn a_rewrite_at_the_same_revision_is_a_repair() {
        let published = Published {
            routes: vec![at("a.test", "r2"), at("b.test", "r2"), at("c.test", "r2")],
            written: vec![route("a.test"), route("b.test"), route("c.test")],
        };
        let before = [at("a.test", "r2"), at("b.test", "r1")];
        let sync = edge_sync(published, &before, "r2");
        assert_eq!(sync.repaired, [route("a.test")]);
        assert_eq!(sync.revision, "r2");
        assert_eq!(sync.written.len(), 3);
    }

    #[test]
    fn change_classification() {
        assert_eq!(classify_change(Some("a"), "a", None), Change::Unchanged);
        assert_eq!(
            classify_change(Some("a"), "a", Some("x")),
            Change::Unchanged
        );
        assert_eq!(classify_change(None, "a", None), Change::Created);
        assert_eq!(classify_change(Some("b"), "a", None), Change::Updated);
        assert_eq!(classify_change(Some("b"), "a", Some("b")), Change::Updated);
        assert_eq!(
            classify_change(Some("c"), "a", Some("a")),
            Change::DriftRepaired
        );
        assert_eq!(classify_change(None, "a", Some("a")), Change::DriftRepaired);
    }
}
