//! A real browser against the edge: Debian Chromium, driven by npm
//! playwright-core (`edge-worker/harness/browser-test.mjs`), loads pages
//! from `http://app.test:P` and `http://other.test:P` and fetches through the
//! worker running in workerd. This test publishes the rules (through the
//! operator's publisher), hands the script the engine-built records it
//! switches between mid-test, runs it, and then checks at the bucket origin
//! what the browser could not see: the allowed preflighted PUT arrived with
//! its header and body, the refused one never did.
//!
//! Fails (never skips) without Chromium, Node or the built worker.

mod edge_support;

use std::process::Command;

use bucketcors_engine::edge_record::{EdgeRecord, route_key};
use bucketcors_engine::{Dialect, RuleSet};
use bucketcors_testkit::edge::{EdgeOptions, harness_dir};
use edge_support::{Edge, config};

const S3_RULES: &str = r#"{"rules":[
  {"allowedOrigins":["http://app.test:*"],"allowedMethods":["GET","PUT","HEAD"],
   "allowedHeaders":["x-amz-*","content-type"],"exposeHeaders":["x-amz-meta-color"],"maxAgeSeconds":0}
]}"#;
const S3_RULES_OPEN: &str = r#"{"rules":[
  {"allowedOrigins":["http://app.test:*","http://other.test:*"],"allowedMethods":["GET","PUT","HEAD"],
   "allowedHeaders":["x-amz-*","content-type"],"exposeHeaders":["x-amz-meta-color"],"maxAgeSeconds":0}
]}"#;
const OSS_RULES: &str = r#"{"rules":[
  {"allowedOrigins":["http://app.test:*"],"allowedMethods":["GET","PUT"],
   "allowedHeaders":["x-oss-*"],"exposeHeaders":["x-amz-meta-color"],"maxAgeSeconds":0}
]}"#;
const PUBLIC_RULES: &str = r#"{"rules":[{"allowedOrigins":["*"],"allowedMethods":["GET"]}]}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_fetches_through_the_edge() {
    let edge = Edge::start(EdgeOptions {
        rules_ttl_seconds: 0.5,
        ..EdgeOptions::default()
    });
    let (s3, oss, public, shared) = (
        "s3.edge.test",
        "oss.edge.test",
        "public.edge.test",
        "shared.edge.test",
    );
    edge.publish(s3, None, Dialect::S3, &config(S3_RULES)).await;
    edge.publish(oss, None, Dialect::Oss, &config(OSS_RULES))
        .await;
    edge.publish(public, None, Dialect::S3, &config(PUBLIC_RULES))
        .await;
    edge.publish(shared, None, Dialect::S3, &config(S3_RULES_OPEN))
        .await;

    let record = |json: &str| {
        let rules = RuleSet::new(Dialect::S3, config(json)).expect("valid");
        let revision = rules.revision.clone();
        (
            EdgeRecord::new(edge.origin.url.clone(), Dialect::S3, Some(rules))
                .unwrap()
                .to_json(),
            revision,
        )
    };
    let (open, open_revision) = record(S3_RULES_OPEN);
    let (closed, closed_revision) = record(S3_RULES);
    let edge_port = edge.harness.edge_url.rsplit(':').next().unwrap().to_owned();
    let cfg = serde_json::json!({
        "edgePort": edge_port.parse::<u16>().unwrap(),
        "api": {
            "url": edge.harness.api_url,
            "accountId": edge.harness.account_id,
            "namespaceId": edge.harness.namespace_id,
            "token": edge.harness.token,
        },
        "hosts": {"s3": s3, "oss": oss, "pub": public, "shared": shared},
        "changes": {
            "key": route_key(s3, None).unwrap(),
            "open": open, "openRevision": open_revision,
            "closed": closed, "closedRevision": closed_revision,
        },
    });
    let dir = std::env::temp_dir().join(format!("bucketcors-browser-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg_path = dir.join("config.json");
    std::fs::write(&cfg_path, cfg.to_string()).unwrap();

    let script = harness_dir().join("browser-test.mjs");
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(script)
            .arg(&cfg_path)
            .current_dir(harness_dir())
            .output()
    })
    .await
    .unwrap()
    .expect("run node browser-test.mjs (Node.js 20+ needed)");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let _ = std::fs::remove_dir_all(&dir);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "browser scenarios failed:\n{stdout}\n{stderr}\nharness log:\n{}",
        edge.harness.log_tail()
    );

    let scenarios: Vec<serde_json::Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v.get("name").is_some())
        .collect();
    assert!(
        scenarios.len() >= 12,
        "at least 12 scenarios ran: {}",
        scenarios.len()
    );
    assert!(scenarios.iter().all(|s| s["ok"] == true), "{stdout}");
    let summary = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v.get("summary").is_some())
        .expect("summary line");
    println!(
        "browser propagation (KV write to new rules served): {} ms",
        summary["propagationMs"]
    );

    // What only the bucket can tell.
    let put = edge.origin.seen_under("/b/put-allowed.bin");
    assert_eq!(
        put.len(),
        1,
        "the allowed PUT reached the bucket once: {put:?}"
    );
    assert_eq!(put[0].method, "PUT");
    assert_eq!(put[0].header("x-amz-meta-owner"), Some("browser"));
    assert_eq!(put[0].body, b"payload-allowed");
    assert!(
        edge.origin.seen_under("/b/put-denied.bin").is_empty(),
        "a refused preflight stops the PUT"
    );
    assert!(
        edge.origin.seen().iter().all(|s| s.method != "OPTIONS"),
        "no preflight was forwarded"
    );
    // The denied origin's GETs are simple requests: they reach the bucket,
    // the browser just may not read them.
    assert_eq!(edge.origin.seen_under("/b/denied-origin.txt").len(), 1);
}
