//! One reconciliation of one `BucketCors`, and what follows a failure.
//!
//! [`reconcile`] hands the object to kube's finalizer helper, which adds the
//! finalizer first and routes a deleting object to [`cleanup`]; everything
//! else goes to [`apply`]. `apply` checks the spec before it touches
//! anything (an invalid spec never reaches the backend), resolves the
//! credentials, runs the shared reconcile core against the bucket, publishes
//! to the edge, and records the outcome as conditions and Events.
//! [`error_policy`] turns a failure into the next wake-up: never for
//! terminal errors (the spec or Secret watch will wake it), a capped
//! exponential backoff for transient ones.

use super::Context;
use super::error::Error;
use super::status::{self, Outcome, Verdict};
use crate::backend::Backend;
use crate::crd::{BucketCors, DeletionPolicy, FINALIZER};
use crate::edge::EdgeTarget;
use crate::reconcile::{Change, Desired, EdgeResult, ReconcileError, Reconciler};
use bucketcors_engine::ruleset::revision;
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
    if error.is_terminal() {
        // Nothing but a spec or Secret change can help; both are watched.
        ctx.backoff.reset(&key);
        tracing::warn!(object = %key, reason = error.reason(), %error, "reconcile failed; waiting for a spec or Secret change");
        Action::await_change()
    } else {
        let delay = ctx.backoff.next_delay(&key, error.retry_after());
        tracing::warn!(object = %key, reason = error.reason(), %error, retry_in_ms = delay.as_millis() as u64, "reconcile failed; retrying");
        Action::requeue(delay)
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

    let backend = match backend_for(&obj, ctx).await {
        Ok(b) => b,
        Err(error) => return fail(&obj, ctx, api, error, None).await,
    };
    let mut desired = Desired::new(obj.spec.cors_config())
        .with_history(old.applied_revision.clone(), old.edge_revision.clone());
    if edge_on && let Some(target) = edge_target(&obj) {
        desired = desired.with_edge(target);
    }
    if ctx.republish_unchanged {
        desired.last_edge_revision = None;
    }
    let mut reconciler = Reconciler::new(backend.as_ref());
    if let Some(publisher) = ctx.publisher.as_deref() {
        reconciler = reconciler.with_publisher(publisher);
    }
    let started = Instant::now();
    let outcome = match reconciler.apply(&desired).await {
        Ok(outcome) => outcome,
        Err(error) => {
            // An edge failure comes after a successful bucket write: say so.
            let partial = matches!(error, ReconcileError::Edge { .. }).then(|| Outcome {
                backend: Verdict::ok("Synced", format!("{} holds the rules", backend.target())),
                edge: Verdict::failed("EdgePublishFailed", error.to_string()),
                applied_revision: Some(revision(obj.spec.dialect(), &desired.config)),
                edge_revision: old.edge_revision.clone(),
                synced: true,
                rule_count,
            });
            return fail(&obj, ctx, api, Error::Reconcile(error), partial).await;
        }
    };
    let target = &outcome.target;
    let revision = &outcome.revision;
    match outcome.change {
        Change::Unchanged => {}
        Change::Created | Change::Updated => {
            ctx.events
                .normal(
                    &obj,
                    "Applied",
                    "PutBucketCors",
                    format!("{target} now holds {rule_count} rule(s), revision {revision}"),
                )
                .await;
        }
        Change::DriftRepaired => {
            ctx.metrics.drift_repaired();
            ctx.events
                .normal(
                    &obj,
                    "DriftRepaired",
                    "PutBucketCors",
                    format!(
                        "{target} had been changed outside bucketcors; restored revision {revision}"
                    ),
                )
                .await;
        }
    }
    for warning in &outcome.warnings {
        tracing::warn!(object = %key, %warning, "rule warning");
    }
    tracing::info!(object = %key, bucket = %target, %revision, change = outcome.change.as_str(), "bucket in sync");

    let (edge, edge_revision) = match &outcome.edge {
        EdgeResult::Published { revision: served } => {
            ctx.metrics.edge_published(started.elapsed());
            ctx.events
                .normal(
                    &obj,
                    "EdgePublished",
                    "Publish",
                    format!("the edge serves revision {served}"),
                )
                .await;
            (
                Verdict::ok("Published", format!("the edge serves revision {served}")),
                Some(served.clone()),
            )
        }
        EdgeResult::AlreadyPublished { revision: served } => (
            Verdict::ok("Published", format!("the edge serves revision {served}")),
            Some(served.clone()),
        ),
        EdgeResult::NoPublisher => {
            // Refused above already; kept so that no outcome goes unhandled.
            return fail(&obj, ctx, api, Error::EdgeNotConfigured, None).await;
        }
        EdgeResult::Disabled => match withdraw_edge(&obj, ctx, old.edge_revision.is_some()).await {
            Ok(()) => (
                Verdict::ok("Disabled", "edge publishing is off for this resource"),
                None,
            ),
            Err(error) => {
                let partial = Outcome {
                    backend: Verdict::ok("Synced", format!("{target} holds revision {revision}")),
                    edge: Verdict::failed(error.reason(), error.to_string()),
                    applied_revision: Some(revision.clone()),
                    edge_revision: old.edge_revision.clone(),
                    synced: true,
                    rule_count,
                };
                return fail(&obj, ctx, api, error, Some(partial)).await;
            }
        },
    };
    let result = Outcome {
        backend: Verdict::ok("Synced", format!("{target} holds revision {revision}")),
        edge,
        applied_revision: Some(revision.clone()),
        edge_revision,
        synced: true,
        rule_count,
    };
    let new_status = status::build(&obj, &result, Timestamp::now());
    status::apply(api, &obj, &new_status).await?;
    for warning in status::new_warnings(obj.status.as_ref(), &new_status) {
        ctx.events
            .warning(&obj, "Lint", "Lint", warning.to_owned())
            .await;
    }
    ctx.backoff.reset(&key);
    Ok(Action::requeue(resync))
}

/// The backend of `obj`, with the credentials its Secret holds.
async fn backend_for(obj: &BucketCors, ctx: &Context) -> Result<Arc<dyn Backend>, Error> {
    let connector = ctx.credentials.connector_for(obj).await?;
    Ok(connector.for_spec(&obj.spec.backend).await?)
}

/// Removes the edge record when the spec turned edge publishing off after
/// an earlier generation published.
async fn withdraw_edge(obj: &BucketCors, ctx: &Context, was_published: bool) -> Result<(), Error> {
    if !was_published {
        return Ok(());
    }
    let (Some(publisher), Some(target)) = (ctx.publisher.as_ref(), edge_target(obj)) else {
        return Ok(());
    };
    publisher
        .unpublish(&target)
        .await
        .map_err(|e| Error::Edge {
            message: e.to_string(),
            transient: e.transient,
        })?;
    ctx.events
        .normal(
            obj,
            "EdgeUnpublished",
            "Unpublish",
            "edge publishing turned off: removed the edge record".to_string(),
        )
        .await;
    Ok(())
}

fn edge_target(obj: &BucketCors) -> Option<EdgeTarget> {
    let edge = obj.spec.edge.as_ref()?;
    Some(EdgeTarget {
        hosts: edge.hosts.clone(),
        path_prefix: edge.path_prefix.clone(),
        origin_url: origin_url(obj),
    })
}

/// `spec.edge.originUrl`, else the bucket's URL derived from the backend.
fn origin_url(obj: &BucketCors) -> String {
    if let Some(url) = obj.spec.edge.as_ref().and_then(|e| e.origin_url.clone()) {
        return url;
    }
    let backend = &obj.spec.backend;
    let bucket = &backend.bucket;
    let region = backend.region.as_deref();
    match (&backend.endpoint, backend.path_style.unwrap_or(false)) {
        (Some(endpoint), true) => format!("{}/{bucket}", endpoint.trim_end_matches('/')),
        (Some(endpoint), false) => match endpoint.split_once("://") {
            Some((scheme, host)) => format!("{scheme}://{bucket}.{}", host.trim_end_matches('/')),
            None => format!("https://{bucket}.{endpoint}"),
        },
        (None, _) => match backend.provider {
            crate::crd::Provider::S3 => match region {
                Some(r) => format!("https://{bucket}.s3.{r}.amazonaws.com"),
                None => format!("https://{bucket}.s3.amazonaws.com"),
            },
            crate::crd::Provider::Oss => format!(
                "https://{bucket}.oss-{}.aliyuncs.com",
                region.unwrap_or("cn-hangzhou")
            ),
        },
    }
}

/// Records a failed reconciliation (status and a Warning Event) and returns
/// the error for [`error_policy`].
async fn fail(
    obj: &BucketCors,
    ctx: &Context,
    api: &Api<BucketCors>,
    error: Error,
    outcome: Option<Outcome>,
) -> Result<Action, Error> {
    let old = obj.status.clone().unwrap_or_default();
    let message = error.to_string();
    let outcome = outcome.unwrap_or_else(|| {
        let edge_on = obj.spec.edge.as_ref().is_some_and(|e| e.enabled);
        if matches!(error, Error::EdgeNotConfigured) {
            // Refused before the bucket was touched: the bucket's state is
            // not known, the edge's problem is.
            return Outcome {
                backend: Verdict::unknown(
                    "NotAttempted",
                    "the bucket is written once the edge can be published too",
                ),
                edge: Verdict::failed(error.reason(), message.clone()),
                applied_revision: old.applied_revision.clone(),
                edge_revision: old.edge_revision.clone(),
                synced: false,
                rule_count: obj.spec.rules.len(),
            };
        }
        Outcome {
            backend: Verdict::failed(error.reason(), message.clone()),
            edge: if edge_on {
                Verdict::unknown(
                    "WaitingForBackend",
                    "the edge is published after the bucket is in sync",
                )
            } else {
                Verdict::ok("Disabled", "edge publishing is off for this resource")
            },
            applied_revision: old.applied_revision.clone(),
            edge_revision: old.edge_revision.clone(),
            synced: false,
            rule_count: obj.spec.rules.len(),
        }
    });
    let new_status = status::build(obj, &outcome, Timestamp::now());
    // One Warning per change of reason or message; a retried failure is
    // aggregated by the recorder anyway.
    ctx.events
        .warning(obj, error.reason(), "Reconcile", message)
        .await;
    if let Err(e) = status::apply(api, obj, &new_status).await {
        tracing::warn!(error = %e, "could not record the failure in the status");
    }
    Err(error)
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
            .normal(&obj, "Retained", "Delete", format!("deletionPolicy is Retain: {provider} bucket `{bucket}` keeps its CORS configuration"))
            .await;
        ctx.backoff.reset(&key);
        return Ok(Action::await_change());
    }
    let published = obj
        .status
        .as_ref()
        .and_then(|s| s.edge_revision.as_ref())
        .is_some();
    let edge = if published { edge_target(&obj) } else { None };
    let result = match backend_for(&obj, ctx).await {
        Ok(backend) => {
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
        Err(error) => Err(error),
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
            "Deleted",
            "Delete",
            format!("removed the CORS configuration of {provider} bucket `{bucket}`"),
        )
        .await;
    ctx.backoff.reset(&key);
    Ok(Action::await_change())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::BucketCorsSpec;

    fn with_backend(yaml: &str) -> BucketCors {
        let spec: BucketCorsSpec = serde_yaml::from_str(yaml).unwrap();
        BucketCors::new("x", spec)
    }

    #[test]
    fn origin_url_follows_the_backend() {
        let rules = "rules: [{allowedOrigins: ['*'], allowedMethods: [GET]}]";
        let s3 = with_backend(&format!(
            "backend: {{provider: s3, bucket: b, region: eu-west-1}}\n{rules}"
        ));
        assert_eq!(origin_url(&s3), "https://b.s3.eu-west-1.amazonaws.com");
        let oss = with_backend(&format!(
            "backend: {{provider: oss, bucket: b, region: cn-beijing}}\n{rules}"
        ));
        assert_eq!(origin_url(&oss), "https://b.oss-cn-beijing.aliyuncs.com");
        let path = with_backend(&format!(
            "backend: {{provider: s3, bucket: b, endpoint: 'http://127.0.0.1:3900/', pathStyle: true}}\n{rules}"
        ));
        assert_eq!(origin_url(&path), "http://127.0.0.1:3900/b");
        let vhost = with_backend(&format!(
            "backend: {{provider: s3, bucket: b, endpoint: 'https://r2.example'}}\n{rules}"
        ));
        assert_eq!(origin_url(&vhost), "https://b.r2.example");
    }
}
