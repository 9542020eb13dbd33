//! Private objects behind the edge, with real presigned URLs made for a
//! real Garage: the shared body cache never stores or serves them, and no
//! log line carries their signatures.
//!
//! A presigned URL is a bearer credential with an expiry. Were its answer
//! stored, anyone holding the URL would be served the private body from
//! the cache, and after the expiry too, while the bucket itself refuses
//! the URL. So every presigned GET must be `BYPASS` and reach the bucket,
//! even on a route that opts in to caching unmarked answers and even when
//! the object is stored with `Cache-Control: public`. What the bucket
//! answers for an expired URL is asked of Garage directly, and the edge
//! must answer the same.
//!
//! At the end every log line the harness wrote (workerd's and the
//! worker's) is scanned for each URL's signature and credential.
//!
//! Fails (never skips) without Garage or the bundled worker.

mod edge_support;
mod support;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use bucketcors_engine::edge_record::EdgeRecord;
use bucketcors_engine::{Dialect, RuleSet};
use bucketcors_testkit::edge::EdgeOptions;
use bucketcors_testkit::garage::Garage;
use edge_support::garage_s3::{self, Presigned};
use edge_support::{Edge, Probe, config};
use support::garage_sdk;

const BUCKET: &str = "private";
const HOST: &str = "private.edge.test";
const APP: &str = "https://app.example";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presigned_urls_are_never_cached_and_never_logged() {
    let garage = Garage::start(&[BUCKET]).unwrap_or_else(|e| panic!("garage: {e}"));
    let edge = Edge::start(EdgeOptions::default());
    let s3 = garage_sdk::client(&garage, "edge-test");
    let rules = config(&format!(
        r#"{{"rules":[{{"allowedOrigins":["{APP}"],"allowedMethods":["GET"]}}]}}"#
    ));
    let ruleset = RuleSet::new(Dialect::S3, rules).expect("rules");
    // The route opts in to caching unmarked answers: presigned requests
    // must pass the cache anyway.
    let origin = format!("{}/{BUCKET}", garage.endpoint());
    let record = EdgeRecord::new(origin.clone(), Dialect::S3, Some(ruleset.clone()))
        .expect("record")
        .with_cache_unmarked(true);
    edge.publish_exact(HOST, None, &record).await;
    let mut presigned: Vec<Presigned> = Vec::new();

    // 1. Marked public by the bucket, read through a presigned URL: never
    // stored, the bucket asked every time (each answer is the object as
    // it is at that moment).
    garage_s3::put(
        &s3,
        BUCKET,
        "doc.txt",
        "secret v1",
        Some("public, max-age=600"),
    )
    .await;
    let url =
        garage_s3::presign_get(&garage, &s3, BUCKET, "doc.txt", Duration::from_secs(3600)).await;
    let get = |path: String| {
        let edge = &edge;
        async move {
            edge.send(HOST, &Probe::new("GET", &path).header("origin", APP))
                .await
        }
    };
    for (round, body) in ["secret v1", "secret v2", "secret v3"].iter().enumerate() {
        if round > 0 {
            garage_s3::put(&s3, BUCKET, "doc.txt", body, Some("public, max-age=600")).await;
        }
        for i in 0..2 {
            let a = get(url.edge_path.clone()).await;
            assert_eq!(a.status, 200, "round {round}.{i}: {a:#?}");
            assert_eq!(
                a.body, *body,
                "round {round}.{i}: the bucket's current object"
            );
            assert_eq!(
                a.header("x-bucketcors-cache").as_deref(),
                Some("BYPASS"),
                "round {round}.{i}: a presigned GET never uses the shared cache"
            );
            assert_eq!(
                a.header("access-control-allow-origin").as_deref(),
                Some(APP)
            );
        }
    }
    presigned.push(url);

    // 2. An expired presigned URL: the edge answers what Garage answers,
    // never the body it served while the URL was valid.
    garage_s3::put(&s3, BUCKET, "short.txt", "short-lived secret", None).await;
    let short =
        garage_s3::presign_get(&garage, &s3, BUCKET, "short.txt", Duration::from_secs(3)).await;
    let signed_at = Instant::now();
    let a = get(short.edge_path.clone()).await;
    if signed_at.elapsed() < Duration::from_secs(3) {
        assert_eq!(a.status, 200, "{a:#?}");
        assert_eq!(a.body, "short-lived secret");
    }
    assert_eq!(a.header("x-bucketcors-cache").as_deref(), Some("BYPASS"));
    tokio::time::sleep(Duration::from_secs(5).saturating_sub(signed_at.elapsed())).await;
    let direct = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
        .get(&short.url)
        .send()
        .await
        .expect("Garage answers");
    let direct_status = direct.status().as_u16();
    let direct_body = direct.text().await.unwrap_or_default();
    assert_ne!(
        direct_status, 200,
        "Garage refuses the expired URL: {direct_body}"
    );
    let a = get(short.edge_path.clone()).await;
    assert_eq!(
        a.status, direct_status,
        "the edge answers the expired URL as Garage does ({direct_body}): {a:#?}"
    );
    assert!(!a.body.contains("short-lived secret"), "{a:#?}");
    assert_eq!(a.header("x-bucketcors-cache").as_deref(), Some("BYPASS"));
    presigned.push(short);

    // 3. The same object without a signature: Garage refuses anonymous
    // reads, and nothing cached earlier can answer for it.
    let a = get("/doc.txt".into()).await;
    assert_ne!(a.status, 200, "{a:#?}");
    assert!(!a.body.contains("secret v"), "{a:#?}");

    // 4. Paths that log with a presigned URL at hand: the bucket origin
    // unreachable, a refused preflight, a GET from an origin the rules do
    // not allow.
    let down = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        format!("http://127.0.0.1:{port}/{BUCKET}")
    };
    let down_record = EdgeRecord::new(down, Dialect::S3, Some(ruleset)).expect("record");
    edge.publish_exact("down.edge.test", None, &down_record)
        .await;
    let url =
        garage_s3::presign_get(&garage, &s3, BUCKET, "doc.txt", Duration::from_secs(3600)).await;
    let a = edge
        .send(
            "down.edge.test",
            &Probe::new("GET", &url.edge_path).header("origin", APP),
        )
        .await;
    assert_eq!(a.status, 502, "{a:#?}");
    let a = edge
        .send(
            HOST,
            &Probe::new("OPTIONS", &url.edge_path)
                .header("origin", "https://evil.example")
                .header("access-control-request-method", "GET"),
        )
        .await;
    assert_eq!(a.status, 403, "{a:#?}");
    let a = edge
        .send(
            HOST,
            &Probe::new("GET", &url.edge_path).header("origin", "https://evil.example"),
        )
        .await;
    assert_eq!(a.status, 200, "{a:#?}");
    assert_eq!(a.header("access-control-allow-origin"), None);
    presigned.push(url);

    // 5. Every log line, scanned. The lines exist (the scan is not of
    // nothing), and none holds a signature, a credential or a query.
    // Workerd writes asynchronously: give the last lines (all three
    // events, the last request's line included) a moment to arrive.
    let expected = ["origin_unreachable", "cors_refused", "cors_withheld"];
    let deadline = Instant::now() + Duration::from_secs(10);
    while expected.iter().any(|e| edge.events(e).is_empty()) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for event in expected {
        assert!(
            !edge.events(event).is_empty(),
            "no {event} line was logged:\n{}",
            edge.harness.log_tail()
        );
    }
    let lines = edge.harness.log_lines();
    let key_id = &garage.key().access_key_id;
    for line in &lines {
        for p in &presigned {
            assert!(
                !line.contains(&p.signature),
                "a log line holds a signature: {line}"
            );
            assert!(
                !line.contains(&p.credential),
                "a log line holds a credential: {line}"
            );
            assert!(
                !line.contains(&p.edge_path),
                "a log line holds a presigned path: {line}"
            );
        }
        assert!(
            !line.contains(key_id.as_str()),
            "a log line holds the access key id: {line}"
        );
        let lower = line.to_ascii_lowercase();
        if let Some(at) = lower.find("x-amz-signature=") {
            assert!(
                lower[at + "x-amz-signature=".len()..].starts_with("<redacted>"),
                "a log line holds a signature parameter: {line}"
            );
        }
    }
    eprintln!(
        "edge_private: {} log lines scanned for {} presigned URLs, none holds a secret",
        lines.len(),
        presigned.len()
    );
}
