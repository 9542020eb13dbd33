//! One reconciliation of one `BucketCors`, and what follows a failure.
//!
//! [`reconcile`] hands the object to kube's finalizer helper, which adds the
//! finalizer first and routes a deleting object to [`cleanup`]; everything
//! else goes to [`apply`]. `apply` checks the spec before it touches
//! anything (an invalid spec never reaches the backend), resolves the
//! credentials, runs the shared reconcile core against the bucket (plan,
//! then execute: validate, read, compare, write, verify, publish), withdraws
//! an edge record the spec no longer wants, and records the outcome as
//! conditions and Events. What those say is decided by the pure functions of
//! [`super::report`]; this file only runs the steps and the side effects.
//! [`error_policy`] turns a failure into the next wake-up: never for
//! terminal errors (the spec or Secret watch will wake it), a capped
//! exponential backoff for transient ones.

use super::Context;
use super::error::{Error, Retry};
use super::report;
use super::status::{self, Outcome, reason};
use crate::crd::{BucketCors, BucketCorsStatus, DeletionPolicy, FINALIZER};
use bucketcors_sync::backend::Backend;
use bucketcors_sync::reconcile::{Change, EdgeResult, ReconcileError, Reconciler};
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::controller::Action;
use kube::runtime::finalizer::{Event as Finalizer, finalizer};
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

    // The installer's edge hosts, before the bucket is written: a refused
    // host must not leave a bucket written and an edge half-claimed.
    if let Some(edge) = obj.spec.edge.as_ref().filter(|e| e.enabled)
        && let Err(refusal) = ctx
            .tenancy
            .check_edge_hosts(&obj.namespace().unwrap_or_default(), &edge.hosts)
    {
        return fail(&obj, ctx, api, refusal.into(), None).await;
    }

    let backend = match backend_for(&obj, ctx).await {
        Ok(b) => b,
        Err(error) => return fail(&obj, ctx, api, error, None).await,
    };
    let mut desired = match obj.spec.desired() {
        Ok(desired) => {
            desired.with_history(old.applied_revision.clone(), old.edge_revision.clone())
        }
        Err(error) => return fail(&obj, ctx, api, error.into(), None).await,
    };
    if ctx.republish_unchanged {
        desired.last_edge_revision = None;
    }
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
    let started = Instant::now();
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
    if matches!(outcome.edge, EdgeResult::Published { .. }) {
        ctx.metrics.edge_published(started.elapsed());
    }
    if outcome.change == Change::DriftRepaired {
        ctx.metrics.drift_repaired();
    }
    for warning in &outcome.warnings {
        tracing::warn!(object = %key, %warning, "rule warning");
    }
    tracing::info!(object = %key, bucket = %outcome.target, revision = %outcome.revision, change = outcome.change.as_str(), "bucket in sync");

    // Edge publishing turned off after an earlier generation published.
    let withdraw = outcome.edge == EdgeResult::Disabled && old.edge_revision.is_some();
    let withdrawn = match withdraw {
        false => false,
        true => match withdraw_edge(&obj, ctx).await {
            Ok(withdrawn) => withdrawn,
            Err(error) => {
                if let Some(note) = report::bucket_note(&outcome, rule_count) {
                    ctx.events.note(&obj, &note).await;
                }
                let partial = report::edge_failed(
                    &outcome.target,
                    &outcome.revision,
                    &error,
                    &old,
                    rule_count,
                );
                return fail(&obj, ctx, api, error, Some(partial)).await;
            }
        },
    };
    let Some((result, notes)) = report::succeeded(&outcome, withdrawn, rule_count) else {
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

/// The backend of `obj`, with the credentials its Secret holds. The
/// tenancy policy is checked first (default credentials for this
/// namespace, the endpoint), so a refused object reads no Secret and signs
/// nothing.
async fn backend_for(obj: &BucketCors, ctx: &Context) -> Result<Arc<dyn Backend>, Error> {
    if obj.spec.backend.credentials_secret_ref.is_none() {
        ctx.tenancy
            .check_default_credentials(&obj.namespace().unwrap_or_default())?;
    }
    ctx.tenancy.check_endpoint(&obj.spec.backend.settings())?;
    let connector = ctx.credentials.connector_for(obj).await?;
    Ok(obj.spec.backend.connect(&connector).await?)
}

/// Removes the edge record of `obj` (the spec turned edge publishing off);
/// true when there was a publisher and a route to remove.
async fn withdraw_edge(obj: &BucketCors, ctx: &Context) -> Result<bool, Error> {
    let (Some(publisher), Some(target)) = (ctx.publisher.as_ref(), obj.spec.edge_target()?) else {
        return Ok(false);
    };
    publisher
        .unpublish(&target)
        .await
        .map_err(|e| Error::Edge {
            message: e.to_string(),
            transient: e.transient,
            token_rejected: e.token_rejected,
        })?;
    Ok(true)
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
    if obj.spec.deletion_policy == DeletionPolicy::Retain {
        // Retain touches neither the bucket nor the edge, so it needs no
        // credentials and cannot get stuck on a deleted Secret.
        tracing::info!(object = %key, "deletionPolicy Retain: leaving the bucket's CORS configuration");
        ctx.events
            .normal(&obj, reason::RETAINED, "Delete", format!("deletionPolicy is Retain: {provider} bucket `{bucket}` keeps its CORS configuration"))
            .await;
        ctx.backoff.reset(&key);
        return Ok(Action::await_change());
    }
    let published = obj
        .status
        .as_ref()
        .and_then(|s| s.edge_revision.as_ref())
        .is_some();
    let edge = if published {
        obj.spec.edge_target().map_err(Error::from)
    } else {
        Ok(None)
    };
    let result = match (backend_for(&obj, ctx).await, edge) {
        (Err(error), _) | (_, Err(error)) => Err(error),
        (Ok(backend), Ok(edge)) => {
            let mut reconciler = Reconciler::new(backend.as_ref());
            if let Some(publisher) = ctx.publisher.as_deref() {
                reconciler = reconciler.with_publisher(publisher);
            }
            reconciler
                .remove(DeletionPolicy::Delete, edge.as_ref())
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
