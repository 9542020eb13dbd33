//! Deleting a BucketCors, under each deletion policy, end to end: two
//! manifests (one `Delete`, one `Retain`) are applied with the real
//! `bucketcors apply` to a real Garage and the edge; then each is removed
//! through the reconcile core's `remove`, the code the operator's finalizer
//! runs when the resource is deleted, with the real S3 backend and the real
//! Cloudflare KV publisher.
//!
//! - `Delete`: the bucket has no CORS configuration any more (Garage
//!   refuses the preflight), the edge record is gone, and the edge answers
//!   like a bucket without CORS ("CORS is not enabled").
//! - `Retain`: the bucket and the edge keep the rules and keep answering.
//!
//! Needs Garage, the built worker and Node; fails when one is missing.

mod support;

use std::time::{Duration, Instant};

use bucketcors_operator::crd::{BucketCors, DeletionPolicy};
use bucketcors_sync::reconcile::Removal;
use bucketcors_testkit::edge::EdgeOptions;
use support::cli;
use support::world::World;

fn manifest(name: &str, host: &str, endpoint: &str, policy: &str) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "bucketcors.dev/v1alpha1",
        "kind": "BucketCors",
        "metadata": { "name": name, "namespace": "system-test" },
        "spec": {
            "backend": { "provider": "s3", "bucket": name, "endpoint": endpoint, "region": "garage", "pathStyle": true },
            "rules": [{ "allowedOrigins": ["https://app.example.com"], "allowedMethods": ["GET", "PUT"] }],
            "edge": { "enabled": true, "hosts": [host], "originUrl": "http://127.0.0.1:9" },
            "deletionPolicy": policy
        }
    })
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{what}: not within 20 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn deletion_under_each_policy() {
    let world = World::start(
        &["del-delete", "del-retain"],
        &EdgeOptions {
            rules_ttl_seconds: 1.0,
            ..EdgeOptions::default()
        },
    );
    let endpoint = world.garage.endpoint();
    let cases = [
        ("del-delete", "delete.system.test", "Delete"),
        ("del-retain", "retain.system.test", "Retain"),
    ];
    let mut objects = Vec::new();
    for (name, host, policy) in cases {
        let value = manifest(name, host, &endpoint, policy);
        // JSON is YAML: the same text feeds the CLI and the typed object.
        cli::write(&world.dir, &format!("{name}.yaml"), &value.to_string());
        let object: BucketCors = serde_json::from_value(value.clone()).expect("a BucketCors");
        objects.push((value, object, host));
    }
    let run = world.apply(&world.dir);
    assert_eq!(run.code, Some(0), "apply failed:\n{}", run.all());
    for (_, object, host) in &objects {
        assert!(
            world.bucket_rules(&object.spec.backend.bucket).is_some(),
            "{} has rules",
            object.spec.backend.bucket
        );
        wait_until(&format!("{host} served"), || {
            world
                .edge_preflight(host, "https://app.example.com", "GET")
                .0
                == 200
        });
    }

    for (value, object, host) in &objects {
        let spec = &object.spec;
        let removal = support::finalizer::remove(&world, value);
        let bucket = &spec.backend.bucket;
        match spec.deletion_policy {
            DeletionPolicy::Delete => {
                assert_eq!(removal, Removal::Deleted);
                assert_eq!(
                    world.bucket_rules(bucket),
                    None,
                    "Delete removes the bucket's CORS configuration"
                );
                let denied = world.bucket_request(
                    "OPTIONS",
                    bucket,
                    "/x",
                    &[
                        ("Origin", "https://app.example.com"),
                        ("Access-Control-Request-Method", "GET"),
                    ],
                );
                assert_eq!(
                    denied.status, 403,
                    "Garage refuses preflights once the rules are gone"
                );
                // The edge forgets the route: a host without rules answers
                // like a bucket without CORS.
                wait_until(&format!("{host} unpublished"), || {
                    let r = world.edge_request(
                        "OPTIONS",
                        host,
                        "/x",
                        &[
                            ("Origin", "https://app.example.com"),
                            ("Access-Control-Request-Method", "GET"),
                        ],
                    );
                    r.status == 403 && r.text().contains("CORS is not enabled for this bucket")
                });
            }
            DeletionPolicy::Retain => {
                assert_eq!(removal, Removal::Retained);
                assert!(
                    world.bucket_rules(bucket).is_some(),
                    "Retain leaves the bucket's rules"
                );
                std::thread::sleep(Duration::from_millis(2500));
                assert_eq!(
                    world.edge_preflight(host, "https://app.example.com", "GET"),
                    (200, Some("https://app.example.com".to_owned())),
                    "Retain leaves the edge answering as the bucket still does"
                );
            }
        }
    }
}
