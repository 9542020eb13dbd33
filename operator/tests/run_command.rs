//! `bucketcors run`, the real binary, against a small fake API server
//! (an axum app on loopback, reached through a generated kubeconfig):
//!
//! - without the CRD it refuses to start and says how to install it;
//! - with it, it campaigns for the Lease, becomes leader, serves
//!   `/healthz`, `/readyz` and `/metrics`, logs JSON lines, and on SIGTERM
//!   releases the Lease and exits 0.

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Default)]
struct Cluster {
    crd_installed: bool,
    lease: Mutex<Option<Value>>,
    lease_writes: Mutex<Vec<Value>>,
}

type Shared = Arc<Cluster>;

fn json_response(status: StatusCode, body: Value) -> Response {
    (
        status,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn not_found(what: &str) -> Response {
    json_response(
        StatusCode::NOT_FOUND,
        json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404,
               "message": format!("{what} not found")}),
    )
}

/// A watch that stays open without events.
fn open_watch() -> Response {
    Response::builder()
        .header("content-type", "application/json")
        .body(Body::from_stream(futures::stream::pending::<
            Result<Vec<u8>, std::io::Error>,
        >()))
        .unwrap()
}

async fn bucketcors(State(c): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Response {
    if !c.crd_installed {
        // What the API server answers for an unknown resource.
        return not_found("the server could not find the requested resource");
    }
    if q.get("watch").is_some_and(|w| w == "true") {
        return open_watch();
    }
    json_response(
        StatusCode::OK,
        json!({"apiVersion": "bucketcors.dev/v1alpha1", "kind": "BucketCorsList", "metadata": {"resourceVersion": "1"}, "items": []}),
    )
}

async fn secrets(Query(q): Query<HashMap<String, String>>) -> Response {
    if q.get("watch").is_some_and(|w| w == "true") {
        return open_watch();
    }
    json_response(
        StatusCode::OK,
        json!({"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadataList", "metadata": {"resourceVersion": "1"}, "items": []}),
    )
}

async fn lease_get(State(c): State<Shared>, Path((_ns, name)): Path<(String, String)>) -> Response {
    match c.lease.lock().unwrap().clone() {
        Some(lease) => json_response(StatusCode::OK, lease),
        None => not_found(&format!("leases \"{name}\"")),
    }
}

async fn lease_put(State(c): State<Shared>, body: String) -> Response {
    let mut lease: Value = serde_json::from_str(&body).unwrap();
    lease["metadata"]["resourceVersion"] =
        json!(format!("{}", c.lease_writes.lock().unwrap().len() + 2));
    c.lease_writes.lock().unwrap().push(lease.clone());
    *c.lease.lock().unwrap() = Some(lease.clone());
    json_response(StatusCode::OK, lease)
}

async fn lease_create(State(c): State<Shared>, body: String) -> Response {
    let mut lease: Value = serde_json::from_str(&body).unwrap();
    lease["metadata"]["resourceVersion"] = json!("1");
    c.lease_writes.lock().unwrap().push(lease.clone());
    *c.lease.lock().unwrap() = Some(lease.clone());
    json_response(StatusCode::CREATED, lease)
}

/// Starts the fake API server; returns its kubeconfig path (in `dir`).
fn start_cluster(
    cluster: Shared,
    dir: &std::path::Path,
) -> (std::path::PathBuf, tokio::runtime::Runtime) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new()
        .route("/apis/bucketcors.dev/v1alpha1/bucketcors", get(bucketcors))
        .route("/api/v1/secrets", get(secrets))
        .route(
            "/apis/coordination.k8s.io/v1/namespaces/{ns}/leases/{name}",
            get(lease_get).put(lease_put),
        )
        .route(
            "/apis/coordination.k8s.io/v1/namespaces/{ns}/leases",
            axum::routing::post(lease_create),
        )
        .with_state(cluster);
    runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: http://{addr}\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\n    namespace: default\ncurrent-context: fake\nusers:\n- name: fake\n  user:\n    token: not-a-real-token\n"
        ),
    )
    .unwrap();
    (kubeconfig, runtime)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn operator(kubeconfig: &std::path::Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_bucketcors"))
        .args([
            "run",
            &format!("--listen-addr=127.0.0.1:{port}"),
            "--log-format=json",
            "--leader-election",
            "--lease-name=bucketcors-leader",
            "--lease-namespace=bucketcors-system",
            "--identity=pod-a",
        ])
        .env("KUBECONFIG", kubeconfig)
        .env_remove("RUST_LOG")
        .env_remove("CLOUDFLARE_ACCOUNT_ID")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start bucketcors run")
}

/// A plain HTTP GET on loopback: (status, body).
fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut raw = String::new();
    stream.read_to_string(&mut raw).ok()?;
    let status = raw.split_whitespace().nth(1)?.parse().ok()?;
    let body = raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Some((status, body))
}

fn wait_until(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn refuses_to_start_without_the_crd() {
    let dir = tempfile::tempdir().unwrap();
    let (kubeconfig, _rt) = start_cluster(Arc::new(Cluster::default()), dir.path());
    let mut child = operator(&kubeconfig, free_port());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("BucketCors CRD"), "{stderr}");
    assert!(
        stderr.contains("bucketcors crd | kubectl apply -f -"),
        "says how to install it: {stderr}"
    );
}

#[test]
fn leads_serves_probes_and_metrics_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = Arc::new(Cluster {
        crd_installed: true,
        ..Cluster::default()
    });
    let (kubeconfig, _rt) = start_cluster(cluster.clone(), dir.path());
    let port = free_port();
    let mut child = operator(&kubeconfig, port);

    wait_until("/healthz", || {
        http_get(port, "/healthz").is_some_and(|(s, _)| s == 200)
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    while http_get(port, "/readyz").is_none_or(|(s, _)| s != 200) {
        if Instant::now() > deadline {
            let _ = child.kill();
            let mut stderr = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut stderr)
                .unwrap();
            panic!("never ready; operator log:\n{stderr}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    wait_until("the Lease", || cluster.lease.lock().unwrap().is_some());
    let lease = cluster.lease.lock().unwrap().clone().unwrap();
    assert_eq!(lease["spec"]["holderIdentity"], "pod-a");
    assert_eq!(lease["metadata"]["name"], "bucketcors-leader");
    let (status, metrics) = http_get(port, "/metrics").unwrap();
    assert_eq!(status, 200);
    for name in [
        // The failures family appears with its first failure (by reason).
        "bucketcors_reconciles_total",
        "bucketcors_reconcile_duration_seconds",
        "bucketcors_drift_repairs_total",
        "bucketcors_edge_publish_duration_seconds",
        "bucketcors_leader 1",
    ] {
        assert!(metrics.contains(name), "/metrics lacks {name}:\n{metrics}");
    }

    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "no exit within 20 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(0), "graceful exit: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty());
    for line in &lines {
        let entry: Value =
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not a JSON log line: {line}"));
        assert!(
            entry["level"].is_string() && entry["message"].is_string(),
            "{line}"
        );
    }
    assert!(stderr.contains("became leader"), "{stderr}");
    let released = cluster.lease.lock().unwrap().clone().unwrap();
    assert!(
        released["spec"]["holderIdentity"].is_null(),
        "the Lease is released on shutdown: {released}"
    );
}
