//! The reconcile core alone on N fresh buckets: the peer of the operator
//! benchmark (`scripts/bench.sh operator`, in `scripts/bench/sections.sh`).
//!
//! ```text
//! /usr/bin/time -v controller_bench run --mode core --garage garage.json --objects 1000 --offset 1000
//! ```
//!
//! The same objects the benchmark gives the operator (same spec shape, one
//! bucket `bench-<i>` each, buckets `offset..offset+objects` of a Garage that
//! the script started and described in `--garage`: endpoint, region,
//! access keys), each applied by the reconcile core (`Reconciler::apply`)
//! with the operator's concurrency and no Kubernetes at all. The difference
//! from the operator's figures is what the controller and the API server
//! cost. Prints one `mode=core ...` line; exits non-zero unless every
//! object was applied.
//!
//! It used to have a `controller` mode against an in-process mock API
//! server; the operator is now measured against a real kube-apiserver.

use bucketcors_operator::crd::{BucketCors, BucketCorsSpec};
use bucketcors_sync::backend::{AccessKeys, Connector, CredentialSource};
use bucketcors_sync::reconcile::{Desired, Reconciler};
use futures::StreamExt;
use kube::Resource;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Instant;

const NS: &str = "bench";
const SECRET: &str = "garage";

fn usage() -> ! {
    eprintln!(
        "usage: controller_bench run --mode core --garage FILE [--objects 1000] [--offset 0] [--concurrency 16]"
    );
    std::process::exit(2)
}

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) != Some("run")
        || flag(&args, "--mode").as_deref() != Some("core")
    {
        usage();
    }
    // The operator's runtime shape (`bucketcors run`: two worker threads).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(run(&args));
}

struct GarageInfo {
    endpoint: String,
    region: String,
    keys: AccessKeys,
}

fn read_garage(path: &str) -> GarageInfo {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("read --garage")).expect("JSON");
    GarageInfo {
        endpoint: v["endpoint"].as_str().unwrap().to_string(),
        region: v["region"].as_str().unwrap().to_string(),
        keys: AccessKeys {
            access_key_id: v["accessKeyId"].as_str().unwrap().to_string(),
            secret_access_key: v["secretAccessKey"].as_str().unwrap().to_string(),
            session_token: None,
        },
    }
}

fn objects(garage: &GarageInfo, count: usize, offset: usize) -> Vec<BucketCors> {
    (offset..offset + count)
        .map(|i| {
            let spec: BucketCorsSpec = serde_json::from_value(json!({
                "backend": {
                    "provider": "s3", "bucket": format!("bench-{i}"), "endpoint": garage.endpoint,
                    "region": garage.region, "pathStyle": true, "credentialsSecretRef": {"name": SECRET}
                },
                "rules": [
                    {"allowedOrigins": [format!("https://app{i}.example.com"), "https://*.example.org"], "allowedMethods": ["GET", "PUT"], "allowedHeaders": ["content-type", "x-amz-*"], "exposeHeaders": ["ETag"], "maxAgeSeconds": 600},
                    {"allowedOrigins": ["*"], "allowedMethods": ["GET", "HEAD"]}
                ]
            }))
            .unwrap();
            let mut obj = BucketCors::new(&format!("bc-{i}"), spec);
            let meta = obj.meta_mut();
            meta.namespace = Some(NS.into());
            obj
        })
        .collect()
}

async fn run(args: &[String]) {
    let garage = read_garage(&flag(args, "--garage").unwrap_or_else(|| usage()));
    let count: usize = flag(args, "--objects")
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000);
    let offset: usize = flag(args, "--offset")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let concurrency: u16 = flag(args, "--concurrency")
        .and_then(|n| n.parse().ok())
        .unwrap_or(16);
    let objects = objects(&garage, count, offset);

    let started = Instant::now();
    let ready = run_core(&garage, objects, concurrency).await;
    let elapsed = started.elapsed();
    println!(
        "mode=core objects={count} ready={ready} concurrency={concurrency} elapsed_s={:.3} throughput_per_s={:.1}",
        elapsed.as_secs_f64(),
        ready as f64 / elapsed.as_secs_f64()
    );
    assert_eq!(ready, count, "every object must be applied");
}

/// The peer: the reconcile core alone.
async fn run_core(garage: &GarageInfo, objects: Vec<BucketCors>, concurrency: u16) -> usize {
    let source = CredentialSource::Keys(garage.keys.clone());
    let connector = Arc::new(Connector::new(source.clone(), source));
    futures::stream::iter(objects)
        .map(|obj| {
            let connector = connector.clone();
            async move {
                let backend = obj.spec.backend.connect(&connector).await.expect("backend");
                Reconciler::new(backend.as_ref())
                    .apply(&Desired::new(obj.spec.cors_config()))
                    .await
                    .is_ok()
            }
        })
        .buffer_unordered(usize::from(concurrency))
        .filter(|ok| futures::future::ready(*ok))
        .count()
        .await
}
