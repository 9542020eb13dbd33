//! Reconcile throughput and memory of the controller with 1,000 `BucketCors`
//! objects, served by an in-process mock API server, against a real Garage.
//!
//! Two processes, so that `/usr/bin/time -v` measures the operator alone:
//!
//! ```text
//! controller_bench serve-garage --buckets 2000 --out /tmp/garage.json   # background
//! /usr/bin/time -v controller_bench run --mode controller --garage /tmp/garage.json --offset 1000
//! /usr/bin/time -v controller_bench run --mode core       --garage /tmp/garage.json --offset 0
//! ```
//!
//! `--mode controller` runs the real controller (`controller::run`: watch,
//! reflector, Secret metadata watch, finalizer helper, reconcile core,
//! Events, server-side-apply status) against a tower service that plays the
//! API server: it lists the objects, holds the watches open, serves the
//! Secret, accepts Events and counts the status patches that report
//! `Ready=True`. The run ends when every object is Ready.
//!
//! `--mode core` is the peer: the same reconcile core on the same number of
//! fresh buckets, driven directly with the same concurrency and no
//! Kubernetes at all. The difference is the controller's overhead.
//!
//! `scripts/bench-controller.sh` runs both and prints the figures.

use bucketcors_operator::controller::secrets::Credentials;
use bucketcors_operator::controller::{self, Context};
use bucketcors_operator::crd::{BucketCors, BucketCorsSpec, FINALIZER};
use bucketcors_operator::telemetry::Metrics;
use bucketcors_sync::backend::{AccessKeys, Connector, CredentialSource};
use bucketcors_sync::reconcile::{Desired, Reconciler};
use bytes::Bytes;
use futures::StreamExt;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use kube::client::Body;
use kube::{Client, Resource};
use serde_json::{Value, json};
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

const NS: &str = "bench";
const SECRET: &str = "garage";

fn usage() -> ! {
    eprintln!(
        "usage:\n  controller_bench serve-garage --buckets N --out FILE\n  controller_bench run --mode controller|core --garage FILE [--objects 1000] [--offset 0] [--concurrency 16]"
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
    match args.first().map(String::as_str) {
        Some("serve-garage") => serve_garage(&args),
        Some("run") => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("tokio runtime");
            runtime.block_on(run(&args));
        }
        _ => usage(),
    }
}

/// Starts Garage with `--buckets` buckets named `bench-<i>`, writes how to
/// reach it to `--out`, and serves until SIGTERM (then stops Garage).
fn serve_garage(args: &[String]) {
    let buckets: usize = flag(args, "--buckets")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| usage());
    let out = flag(args, "--out").unwrap_or_else(|| usage());
    let garage = bucketcors_testkit::garage::Garage::start(&[]).expect("start Garage");
    for i in 0..buckets {
        garage
            .create_bucket(&format!("bench-{i}"))
            .expect("create bucket");
    }
    let info = json!({
        "endpoint": garage.endpoint(),
        "region": garage.region(),
        "accessKeyId": garage.key().access_key_id,
        "secretAccessKey": garage.key().secret_access_key,
    });
    std::fs::write(&out, info.to_string()).expect("write --out");
    eprintln!(
        "Garage ready at {} with {buckets} buckets",
        garage.endpoint()
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).unwrap();
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    });
    drop(garage);
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
            meta.uid = Some(format!("uid-{i}"));
            meta.generation = Some(1);
            meta.resource_version = Some("1".into());
            meta.finalizers = Some(vec![FINALIZER.into()]);
            obj
        })
        .collect()
}

async fn run(args: &[String]) {
    let mode = flag(args, "--mode").unwrap_or_else(|| usage());
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
    let ready = match mode.as_str() {
        "controller" => run_controller(&garage, objects, concurrency).await,
        "core" => run_core(&garage, objects, concurrency).await,
        _ => usage(),
    };
    let elapsed = started.elapsed();
    let hwm = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM"))
                .map(|l| l.to_string())
        })
        .unwrap_or_default();
    println!(
        "mode={mode} objects={count} ready={ready} concurrency={concurrency} elapsed_s={:.3} throughput_per_s={:.1} {hwm}",
        elapsed.as_secs_f64(),
        ready as f64 / elapsed.as_secs_f64()
    );
    assert_eq!(ready, count, "every object must end Ready");
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

/// The controller against the mock API server.
async fn run_controller(garage: &GarageInfo, objects: Vec<BucketCors>, concurrency: u16) -> usize {
    let total = objects.len();
    let state = Arc::new(ApiState {
        list: serde_json::to_vec(&json!({
            "apiVersion": "bucketcors.dev/v1alpha1", "kind": "BucketCorsList",
            "metadata": {"resourceVersion": "1"}, "items": objects,
        }))
        .unwrap(),
        objects: objects
            .iter()
            .map(|o| {
                (
                    o.metadata.name.clone().unwrap(),
                    serde_json::to_value(o).unwrap(),
                )
            })
            .collect(),
        secret: serde_json::to_vec(&json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": SECRET, "namespace": NS, "resourceVersion": "1"},
            "data": {
                "accessKeyId": base64(&garage.keys.access_key_id),
                "secretAccessKey": base64(&garage.keys.secret_access_key),
            }
        }))
        .unwrap(),
        ready: AtomicUsize::new(0),
        total,
        all_ready: Notify::new(),
    });
    let service = tower::service_fn({
        let state = state.clone();
        move |req: Request<Body>| {
            let state = state.clone();
            async move { Ok::<_, Infallible>(state.answer(req).await) }
        }
    });
    let client = Client::new(service, NS);
    let ambient = Connector::new(CredentialSource::Ambient, CredentialSource::Ambient);
    let ctx = Arc::new(Context::new(
        client.clone(),
        Credentials::new(client, ambient),
        None,
        Arc::new(Metrics::new()),
        "bench",
    ));
    let shutdown = {
        let state = state.clone();
        async move { state.all_ready.notified().await }
    };
    // Register interest before anything can notify.
    let run = controller::run(
        ctx.clone(),
        Some(NS.to_string()),
        concurrency,
        shutdown,
        || {},
    );
    tokio::time::timeout(Duration::from_secs(600), run)
        .await
        .expect("the controller finished within 10 minutes");
    state.ready.load(Ordering::SeqCst)
}

fn base64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// The API server's state: the objects, the Secret, the Ready count.
struct ApiState {
    list: Vec<u8>,
    objects: std::collections::HashMap<String, Value>,
    secret: Vec<u8>,
    ready: AtomicUsize,
    total: usize,
    all_ready: Notify,
}

type Reply = Response<BoxBody<Bytes, Infallible>>;

fn reply(status: StatusCode, body: Vec<u8>) -> Reply {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)).boxed())
        .unwrap()
}

/// A watch that stays open and sends nothing.
fn open_watch() -> Reply {
    let never = futures::stream::pending();
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .body(BodyExt::boxed(StreamBody::new(never)))
        .unwrap()
}

impl ApiState {
    async fn answer(&self, req: Request<Body>) -> Reply {
        let method = req.method().clone();
        let path = req.uri().path().to_string();
        let watch = req.uri().query().is_some_and(|q| q.contains("watch=true"));
        let body = req.into_body().collect_bytes().await.unwrap_or_default();
        let objects_path = format!("/apis/bucketcors.dev/v1alpha1/namespaces/{NS}/bucketcors");
        let secrets_path = format!("/api/v1/namespaces/{NS}/secrets");
        match (method, path.as_str()) {
            (Method::GET, p) if p == objects_path && watch => open_watch(),
            (Method::GET, p) if p == objects_path => reply(StatusCode::OK, self.list.clone()),
            (Method::GET, p) if p == secrets_path && watch => open_watch(),
            (Method::GET, p) if p == secrets_path => reply(
                StatusCode::OK,
                serde_json::to_vec(&json!({
                    "apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadataList",
                    "metadata": {"resourceVersion": "1"},
                    "items": [{"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadata",
                               "metadata": {"name": SECRET, "namespace": NS, "resourceVersion": "1"}}]
                }))
                .unwrap(),
            ),
            (Method::GET, p) if p == format!("{secrets_path}/{SECRET}") => reply(StatusCode::OK, self.secret.clone()),
            (Method::POST | Method::PATCH, p) if p.starts_with("/apis/events.k8s.io/v1/") => {
                reply(StatusCode::CREATED, body.to_vec())
            }
            (Method::PATCH, p) if p.starts_with(&objects_path) && p.ends_with("/status") => {
                let name = p.trim_end_matches("/status").rsplit('/').next().unwrap_or("");
                let patch: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let ready = patch["status"]["conditions"]
                    .as_array()
                    .is_some_and(|c| c.iter().any(|c| c["type"] == "Ready" && c["status"] == "True"));
                if ready && self.ready.fetch_add(1, Ordering::SeqCst) + 1 == self.total {
                    self.all_ready.notify_one();
                }
                let mut obj = self.objects.get(name).cloned().unwrap_or(Value::Null);
                obj["status"] = patch["status"].clone();
                reply(StatusCode::OK, serde_json::to_vec(&obj).unwrap())
            }
            (method, p) => reply(
                StatusCode::NOT_FOUND,
                serde_json::to_vec(&json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                    "message": format!("the benchmark's API server does not serve {method} {p}"), "reason": "NotFound", "code": 404}))
                .unwrap(),
            ),
        }
    }
}
