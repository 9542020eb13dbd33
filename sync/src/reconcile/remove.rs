//! Removal under a deletion policy.

use super::{DeletionPolicy, Operation, ReconcileError, Reconciler, Removal};
use crate::backend::ErrorKind;
use crate::edge::Route;

/// Shortcut for `DeletionPolicy: Delete` without an edge record: removes
/// `backend`'s CORS configuration.
pub async fn remove(backend: &dyn crate::backend::Backend) -> Result<Removal, ReconcileError> {
    Reconciler::new(backend)
        .remove(DeletionPolicy::Delete, &[])
        .await
}

impl Reconciler<'_> {
    /// Called when the BucketCors goes away.
    ///
    /// - `Delete`: removes the bucket's CORS configuration (a bucket that no
    ///   longer exists counts as done, so a finalizer cannot get stuck on
    ///   it), then withdraws the edge `routes` (the ones published) when a
    ///   publisher is set.
    /// - `Retain`: touches nothing, neither the bucket nor the edge: the
    ///   edge keeps answering as the bucket still would.
    pub async fn remove(
        &self,
        policy: DeletionPolicy,
        routes: &[Route],
    ) -> Result<Removal, ReconcileError> {
        let target = self.target().clone();
        match policy {
            DeletionPolicy::Retain => {
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
                        .withdraw(routes)
                        .await
                        .map_err(|error| ReconcileError::Edge {
                            target: target.clone(),
                            error,
                        })?;
                }
                tracing::info!(provider = target.provider, bucket = %target.bucket, "bucket CORS configuration deleted");
                Ok(Removal::Deleted)
            }
        }
    }
}
