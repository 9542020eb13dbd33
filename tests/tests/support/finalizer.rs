//! Deleting a BucketCors the way the operator does: the reconcile core's
//! `remove` under the manifest's deletion policy, with the real backend and
//! the real Cloudflare KV publisher (pointed at the edge harness's API).
//!
//! `bucketcors apply` has no delete command: deletion is the finalizer's
//! job in the cluster, and this runs the code that finalizer runs.

use bucketcors_operator::crd::BucketCors;
use bucketcors_sync::backend::{AccessKeys, Connector, CredentialSource};
use bucketcors_sync::edge::cloudflare::{CloudflareKv, KvNamespace};
use bucketcors_sync::edge::token::ApiToken;
use bucketcors_sync::reconcile::{Reconciler, Removal};

use super::world::World;

/// Removes `manifest` (a BucketCors, as JSON) under its deletion policy,
/// using the world's Garage key for S3 buckets.
pub fn remove(world: &World, manifest: &serde_json::Value) -> Removal {
    let object: BucketCors =
        serde_json::from_value(manifest.clone()).expect("the manifest is a BucketCors");
    let spec = &object.spec;
    let key = world.garage.key();
    let connector = Connector::new(
        CredentialSource::Keys(AccessKeys {
            access_key_id: key.access_key_id.clone(),
            secret_access_key: key.secret_access_key.clone(),
            session_token: None,
        }),
        CredentialSource::Ambient,
    );
    let kv = CloudflareKv::new(
        KvNamespace {
            api_url: world.edge.api_url.clone(),
            account_id: world.edge.account_id.clone(),
            namespace_id: world.edge.namespace_id.clone(),
        },
        ApiToken::new(world.edge.token.clone(), "test").expect("token"),
    )
    .expect("publisher");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime
        .block_on(async {
            let backend = spec.backend.connect(&connector).await.expect("backend");
            let desired = spec.desired().expect("desired state");
            Reconciler::new(backend.as_ref())
                .with_publisher(&kv)
                .remove(
                    spec.deletion_policy,
                    &desired
                        .edge
                        .map(|edge| edge.routes().expect("routes"))
                        .unwrap_or_default(),
                )
                .await
        })
        .unwrap_or_else(|e| panic!("removing {} failed: {e}", spec.backend.bucket))
}
