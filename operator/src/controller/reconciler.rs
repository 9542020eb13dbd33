//! One reconciliation of one `BucketCors`, and what follows a failure.
//!
//! [`reconcile`] hands the object to kube's finalizer helper, which adds the
//! finalizer first and routes a deleting object to [`cleanup`]; everything
//! else goes to [`apply`]. `apply` checks the spec before it touches
//! anything (an invalid spec never reaches the backend), resolves the
//! credentials, runs the shared reconcile core against the bucket (plan,
//! then execute: validate, read, compare, write, verify, publish, withdraw
//! the edge routes the status remembers and the spec no longer names), and
//! records the outcome as
//! conditions and Events. What those say is decided by the pure functions of
//! [`super::report`]; this file only runs the steps and the side effects.
//! [`error_policy`] turns a failure into the next wake-up: never for
//! terminal errors (the spec or Secret watch will wake it), a capped
//! exponential backoff for transient ones.

use super::Context;
use super::error::{Error, Retry};
use super::owner;
use super::report;
use super::status::{self, Outcome, reason};
use crate::crd::{BucketCors, BucketCorsStatus, DeletionPolicy, FINALIZER};
use bucketcors_sync::backend::{Backend, BucketKey};
use bucketcors_sync::reconcile::{Change, EdgeResult, ReconcileError, Reconciler};
use k8s_openapi::jiff::Timestamp;
use kube::api::Api;
use kube::runtime::controller::Action;
use kube::runtime::finalizer::{Event as Finalizer, finalizer};
use kube::{Resource, ResourceExt};
use std::sync::Arc;
use std::time::Instant;

/// The reconcile entry point the controller runs.
pub async fn reconcile(obj: Arc<BucketCors>, ctx: Arc<Context>) -> Result<Action, Error> {
    let started = Instant::now();
    let namespace = obj.namespace().unwrap_or_default();
    let api: Api<BucketCors> = Api::namespaced(ctx.client.clone(), &namespace);
    let result = finalizer(&api, FINALIZER, obj, |event| async {
        match event {
            Finalizer::Apply(obj) => apply(obj, &ctx, &api).await,
            Finalizer::Cleanup(obj) => cleanup(obj, &ctx).await,
        }
    })
    .await
    .map_err(|e| match e {
        kube::runtime::finalizer::Error::ApplyFailed(e)
        | kube::runtime::finalizer::Error::CleanupFailed(e) => e,
        other => Error::Finalizer(other.to_string()),
    });
    ctx.metrics.reconciled(started.elapsed());
    result
}

/// What the controller does after a failed reconciliation.
pub fn error_policy(obj: Arc<BucketCors>, error: &Error, ctx: Arc<Context>) -> Action {
    let key = key(&obj);
    ctx.metrics.failed(error.reason());
    match error.retry() {
        Retry::OnChange => {
            ctx.backoff.reset(&key);
            tracing::warn!(object = %key, reason = error.reason(), %error, "reconcile failed; waiting for a spec change");
            Action::await_change()
        }
        Retry::Slowly => {
            // A human fixes this, maybe outside Kubernetes: look again at
            // the resync interval (spec and Secret changes still wake us).
            ctx.backoff.reset(&key);
            let delay = obj
                .spec
                .resync(ctx.default_resync)
                .unwrap_or(ctx.default_resync);
            tracing::warn!(object = %key, reason = error.reason(), %error, retry_in_s = delay.as_secs(), "reconcile failed; needs a fix, trying again at the resync interval");
            Action::requeue(delay)
        }
        Retry::Backoff => {
            let delay = ctx.backoff.next_delay(&key, error.retry_after());
            tracing::warn!(object = %key, reason = error.reason(), %error, retry_in_ms = delay.as_millis() as u64, "reconcile failed; retrying");
            Action::requeue(delay)
        }
    }
}

fn key(obj: &BucketCors) -> String {
    format!("{}/{}", obj.namespace().unwrap_or_default(), obj.name_any())
}

/// Brings the bucket (and the edge) in line with the spec.
async fn apply(
    obj: Arc<BucketCors>,
    ctx: &Context,
    api: &Api<BucketCors>,
) -> Result<Action, Error> {
    let key = key(&obj);
    let rule_count = obj.spec.rules.len();
    let old = obj.status.clone().unwrap_or_default();

    // The controller's own part of the spec; the rules are the core's.
    let resync = match obj.spec.resync(ctx.default_resync) {
        Ok(resync) => resync,
        Err(message) => return fail(&obj, ctx, api, Error::InvalidSpec(message), None).await,
    };
    let edge_on = obj.spec.edge.as_ref().is_some_and(|e| e.enabled);
    if edge_on && ctx.publisher.is_none() {
        // Refuse before writing the bucket: the user asked for both.
        return fail(&obj, ctx, api, Error::EdgeNotConfigured, None).await;
    }

    // The installer's tenancy policy, before anything else: a refused
    // object reads no Secret, signs nothing, claims no bucket, and a
    // refused host leaves no bucket written and no edge half-claimed.
    if let Err(refusal) = check_tenancy(&obj, ctx) {
        return fail(&obj, ctx, api, refusal.into(), None).await;
    }

    // One owner per bucket and edge route: a later claimant sends nothing.
    if let Some(conflict) = conflict_of(&obj, ctx) {
        let error = Error::Conflict {
            owner: conflict.owner,
            what: conflict.what,
        };
        return fail(&obj, ctx, api, error, None).await;
    }

    let backend = match backend_for(&obj, ctx).await {
        Ok(b) => b,
        Err(error) => return fail(&obj, ctx, api, error, None).await,
    };
    // The status remembers the routes published: those the spec no longer
    // names are withdrawn by the core.
    let desired = match obj.spec.desired() {
        Ok(desired) => desired
            .with_history(
                old.applied_revision.clone(),
                old.published_routes(&obj.spec),
            )
            .with_owner(obj.owner()),
        Err(error) => return fail(&obj, ctx, api, error.into(), None).await,
    };
    let mut reconciler = Reconciler::new(backend.as_ref());
    if let Some(publisher) = ctx.publisher.as_deref() {
        reconciler = reconciler.with_publisher(publisher);
    }
    // The plan holds the one validated, revisioned rule set of this
    // reconcile: written, compared and published as is.
    let plan = match reconciler.plan(&desired).await {
        Ok(plan) => plan,
        Err(error) => return fail(&obj, ctx, api, Error::Reconcile(error), None).await,
    };
    let outcome = match reconciler.execute(&plan, &desired).await {
        Ok(outcome) => outcome,
        Err(error) => {
            // An edge failure comes after a successful bucket write: say so.
            let edge_failed = matches!(error, ReconcileError::Edge { .. });
            let error = Error::Reconcile(error);
            let partial = edge_failed.then(|| {
                report::edge_failed(&plan.target, plan.revision(), &error, &old, rule_count)
            });
            return fail(&obj, ctx, api, error, partial).await;
        }
    };
    // The publish alone, timed by the core; only when it wrote.
    if let EdgeResult::Published(sync) = &outcome.edge
        && !sync.written.is_empty()
    {
        ctx.metrics.edge_published(sync.took);
    }
    if outcome.change == Change::DriftRepaired {
        ctx.metrics.drift_repaired();
    }
    for warning in &outcome.warnings {
        tracing::warn!(object = %key, %warning, "rule warning");
    }
    tracing::info!(object = %key, bucket = %outcome.target, revision = %outcome.revision, change = outcome.change.as_str(), "bucket in sync");

    let Some((result, notes)) = report::succeeded(&outcome, rule_count) else {
        // Refused above already; kept so that no outcome goes unhandled.
        return fail(&obj, ctx, api, Error::EdgeNotConfigured, None).await;
    };
    for note in &notes {
        ctx.events.note(&obj, note).await;
    }
    write_status(
        api,
        &obj,
        ctx,
        &status::build(&obj, &result, Timestamp::now()),
    )
    .await?;
    ctx.backoff.reset(&key);
    Ok(Action::requeue(resync))
}

/// The installer's tenancy policy applied to `obj`: the default
/// credentials when it names no Secret, the endpoint, the edge hosts when
/// the edge is on.
fn check_tenancy(obj: &BucketCors, ctx: &Context) -> Result<(), bucketcors_sync::tenancy::Refusal> {
    let hosts: &[String] = obj
        .spec
        .edge
        .as_ref()
        .filter(|e| e.enabled)
        .map_or(&[], |e| &e.hosts);
    ctx.tenancy.check(
        &obj.namespace().unwrap_or_default(),
        obj.spec.backend.credentials_secret_ref.is_none(),
        &obj.spec.backend.settings(),
        hosts,
    )
}

/// Whether `obj` has failed: `Ready=False` for any reason but a conflict
/// (a conflict says nothing about whether it could write).
fn has_failed(obj: &BucketCors) -> bool {
    obj.status.as_ref().is_some_and(|status| {
        status.conditions.iter().any(|c| {
            c.type_ == super::status::types::READY
                && c.status == "False"
                && c.reason != super::error::reason::CONFLICT
        })
    })
}

/// What `obj` claims: its bucket, canonical, and its edge routes when the
/// edge is on; and whether it may hold them (see [`owner`]).
fn claim_of(obj: &BucketCors, ctx: &Context) -> owner::Claim {
    let established = obj
        .status
        .as_ref()
        .is_some_and(|s| s.applied_revision.is_some());
    let routes = obj
        .spec
        .desired()
        .ok()
        .and_then(|d| d.edge)
        .and_then(|edge| edge.routes().ok())
        .unwrap_or_default();
    owner::Claim {
        object: key(obj),
        created: obj
            .meta()
            .creation_timestamp
            .as_ref()
            .map(|t| t.0.to_string()),
        bucket: BucketKey::of(&obj.spec.backend.settings(), &obj.spec.backend.bucket).ok(),
        routes,
        eligible: check_tenancy(obj, ctx).is_ok() && (established || !has_failed(obj)),
        established,
    }
}

/// The older object in the controller's cache that owns something `obj`
/// claims, if any.
fn conflict_of(obj: &BucketCors, ctx: &Context) -> Option<owner::Conflict> {
    let store = ctx.claims.get()?;
    let all: Vec<owner::Claim> = store.state().iter().map(|o| claim_of(o, ctx)).collect();
    owner::conflict(&claim_of(obj, ctx), &all)
}

/// The backend of `obj`, with the credentials its Secret holds (the
/// reconcile has checked the tenancy policy already).
async fn backend_for(obj: &BucketCors, ctx: &Context) -> Result<Arc<dyn Backend>, Error> {
    let connector = ctx.credentials.connector_for(obj).await?;
    let backend = &obj.spec.backend;
    Ok(ctx
        .backends
        .open(&connector, &backend.settings(), &backend.bucket)
        .await?)
}

/// Records a failed reconciliation (status and a Warning Event) and returns
/// the error for [`error_policy`]; `outcome` when more is known than the
/// failure alone ([`report::edge_failed`]).
async fn fail(
    obj: &BucketCors,
    ctx: &Context,
    api: &Api<BucketCors>,
    error: Error,
    outcome: Option<Outcome>,
) -> Result<Action, Error> {
    let old = obj.status.clone().unwrap_or_default();
    let edge_on = obj.spec.edge.as_ref().is_some_and(|e| e.enabled);
    let outcome =
        outcome.unwrap_or_else(|| report::failed(&error, edge_on, &old, obj.spec.rules.len()));
    let new_status = status::build(obj, &outcome, Timestamp::now());
    // A retried failure is aggregated into an event series by the recorder.
    ctx.events.note(obj, &report::failure_note(&error)).await;
    if let Err(e) = write_status(api, obj, ctx, &new_status).await {
        tracing::warn!(error = %e, "could not record the failure in the status");
    }
    Err(error)
}

/// Writes `new` (server-side apply), then publishes one Warning Event per
/// lint the old status did not list ([`report::lints::notes`]); after the
/// write, so a failed write publishes them again next time.
async fn write_status(
    api: &Api<BucketCors>,
    obj: &BucketCors,
    ctx: &Context,
    new: &BucketCorsStatus,
) -> Result<(), kube::Error> {
    status::apply(api, obj, new).await?;
    for note in report::lints::notes(obj.status.as_ref(), new) {
        ctx.events.lint(obj, &note).await;
    }
    Ok(())
}

/// Honours `deletionPolicy` before the finalizer is removed.
async fn cleanup(obj: Arc<BucketCors>, ctx: &Context) -> Result<Action, Error> {
    let key = key(&obj);
    let provider = obj.spec.backend.provider.as_str();
    let bucket = &obj.spec.backend.bucket;
    if let Some(conflict) = conflict_of(&obj, ctx) {
        // Not the owner: the bucket and the routes are someone else's.
        tracing::info!(object = %key, owner = %conflict.owner, "not the owner: leaving the bucket and the edge alone");
        ctx.events
            .normal(
                &obj,
                super::error::reason::CONFLICT,
                "Delete",
                format!(
                    "{} belongs to BucketCors `{}`: left as it is",
                    conflict.what, conflict.owner
                ),
            )
            .await;
        ctx.backoff.reset(&key);
        return Ok(Action::await_change());
    }
    if let Err(refusal) = check_tenancy(&obj, ctx) {
        // The policy refuses this object: it may not touch the bucket or
        // the edge, so it removes nothing and its deletion is not held up.
        let refusal = Error::from(refusal);
        tracing::info!(object = %key, reason = refusal.reason(), "refused by the tenancy policy: leaving the bucket and the edge alone");
        ctx.events
            .normal(
                &obj,
                refusal.reason(),
                "Delete",
                format!("{refusal}; the bucket and the edge are left as they are"),
            )
            .await;
        ctx.backoff.reset(&key);
        return Ok(Action::await_change());
    }
    // The routes this object published, as its status remembers them.
    let routes: Vec<_> = obj
        .status
        .as_ref()
        .map(|s| s.published_routes(&obj.spec))
        .unwrap_or_default()
        .into_iter()
        .map(|p| p.route)
        .collect();
    if obj.spec.deletion_policy == DeletionPolicy::Retain {
        // Retain leaves the bucket and what the edge serves, so it needs no
        // backend credentials and cannot get stuck on a deleted Secret. It
        // only releases this object's edge records (rules unchanged), so
        // the next object to claim the routes may publish on them.
        if let (false, Some(publisher)) = (routes.is_empty(), ctx.publisher.as_deref())
            && let Err(error) = publisher.release(&routes, &obj.owner()).await
        {
            return Err(Error::Reconcile(ReconcileError::Edge {
                target: bucketcors_sync::backend::Target {
                    provider,
                    bucket: bucket.clone(),
                },
                error,
            }));
        }
        tracing::info!(object = %key, "deletionPolicy Retain: leaving the bucket's CORS configuration");
        ctx.events
            .normal(&obj, reason::RETAINED, "Delete", format!("deletionPolicy is Retain: {provider} bucket `{bucket}` keeps its CORS configuration"))
            .await;
        ctx.backoff.reset(&key);
        return Ok(Action::await_change());
    }
    let result = match backend_for(&obj, ctx).await {
        Err(error) => Err(error),
        Ok(backend) => {
            let mut reconciler = Reconciler::new(backend.as_ref());
            if let Some(publisher) = ctx.publisher.as_deref() {
                reconciler = reconciler.with_publisher(publisher);
            }
            reconciler
                .remove(DeletionPolicy::Delete, &routes, Some(&obj.owner()))
                .await
                .map(|_| ())
                .map_err(Error::from)
        }
    };
    if let Err(error) = result {
        let note = format!(
            "{error}. The object stays until this succeeds; to keep the bucket's configuration instead, set spec.deletionPolicy to Retain"
        );
        ctx.events
            .warning(&obj, error.reason(), "Delete", note)
            .await;
        return Err(error);
    }
    ctx.events
        .normal(
            &obj,
            reason::DELETED,
            "Delete",
            format!("removed the CORS configuration of {provider} bucket `{bucket}`"),
        )
        .await;
    ctx.backoff.reset(&key);
    Ok(Action::await_change())
}
