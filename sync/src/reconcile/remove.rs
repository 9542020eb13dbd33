//! Removal under a deletion policy.

use super::{DeletionPolicy, Operation, ReconcileError, Reconciler, Removal};
use crate::backend::ErrorKind;
use crate::edge::Route;

/// Shortcut for `DeletionPolicy: Delete` without an edge record: removes
/// `backend`'s CORS configuration.
pub async fn remove(backend: &dyn crate::backend::Backend) -> Result<Removal, ReconcileError> {
    Reconciler::new(backend)
        .remove(DeletionPolicy::Delete, &[], None)
        .await
}

impl Reconciler<'_> {
    /// Called when the BucketCors goes away.
    ///
    /// - `Delete`: removes the bucket's CORS configuration (a bucket that no
    ///   longer exists counts as done, so a finalizer cannot get stuck on
    ///   it), then withdraws the edge `routes` (the ones published) when a
    ///   publisher is set.
    /// - `Retain`: leaves the bucket and what the edge serves as they are:
    ///   the edge keeps answering as the bucket still would. The edge
    ///   records `owner` held are released (rewritten unowned, the rules
    ///   unchanged), so that the next object to claim the routes may take
    ///   them over.
    ///
    /// Records another owner holds are left alone either way.
    pub async fn remove(
        &self,
        policy: DeletionPolicy,
        routes: &[Route],
        owner: Option<&str>,
    ) -> Result<Removal, ReconcileError> {
        let target = self.target().clone();
        let edge_error = |error| ReconcileError::Edge {
            target: target.clone(),
            error,
        };
        match policy {
            DeletionPolicy::Retain => {
                if let (false, Some(publisher), Some(owner)) =
                    (routes.is_empty(), self.publisher, owner)
                {
                    publisher.release(routes, owner).await.map_err(edge_error)?;
                }
                tracing::info!(provider = target.provider, bucket = %target.bucket, "deletion policy Retain: left as is");
                Ok(Removal::Retained)
            }
            DeletionPolicy::Delete => {
                match self.backend.delete_cors().await {
                    Ok(()) => {}
                    Err(error) if error.kind == ErrorKind::BucketNotFound => {
                        tracing::info!(provider = target.provider, bucket = %target.bucket, "bucket already gone");
                    }
                    Err(error) => {
                        return Err(ReconcileError::Backend {
                            operation: Operation::Delete,
                            error,
                        });
                    }
                }
                if let (false, Some(publisher)) = (routes.is_empty(), self.publisher) {
                    publisher
                        .withdraw(routes, owner)
                        .await
                        .map_err(edge_error)?;
                }
                tracing::info!(provider = target.provider, bucket = %target.bucket, "bucket CORS configuration deleted");
                Ok(Removal::Deleted)
            }
        }
    }
}
