//! `bucketcors edge status` against the harness: the route's record read
//! through the KV API, the revision the edge answers with, and whether they
//! agree, including while an isolate still serves the previous revision.
//!
//! The stale isolate is made, not hoped for: the worker trusts a loaded
//! record for the rules TTL (10 s here), so right after a new publish the
//! edge still answers with the old revision until that TTL ends; the
//! assertion on "stale" only counts when the command finished inside that
//! window.

mod edge_support;

#[allow(dead_code)]
#[path = "support/cli.rs"]
mod cli;

use std::time::{Duration, Instant};

use bucketcors_engine::Dialect;
use bucketcors_testkit::edge::EdgeOptions;
use edge_support::{Edge, Probe, config};
use serde_json::Value;

const TTL: Duration = Duration::from_secs(10);

fn status(edge: &Edge, args: &[&str]) -> cli::Run {
    let mut all = vec![
        "edge",
        "status",
        "--edge-url",
        edge.harness.edge_url.as_str(),
    ];
    all.extend_from_slice(args);
    cli::run(
        &all,
        &[
            ("CLOUDFLARE_API_TOKEN", edge.harness.token.as_str()),
            ("CLOUDFLARE_API_URL", edge.harness.api_url.as_str()),
            ("CLOUDFLARE_ACCOUNT_ID", edge.harness.account_id.as_str()),
            (
                "CLOUDFLARE_KV_NAMESPACE_ID",
                edge.harness.namespace_id.as_str(),
            ),
        ],
    )
}

fn json(run: &cli::Run) -> Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("edge status --json printed no JSON ({e}):\n{}", run.all()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_shows_what_is_published_and_what_the_edge_enforces() {
    let edge = Edge::start(EdgeOptions {
        rules_ttl_seconds: TTL.as_secs_f64(),
        ..EdgeOptions::default()
    });
    // Build the CLI before any timing matters.
    cli::bucketcors_bin();
    let host = "status.edge.test";
    let first = config(
        r#"{"rules":[{"allowedOrigins":["https://one.example"],"allowedMethods":["GET","PUT"],"allowedHeaders":["content-type"],"maxAgeSeconds":600}]}"#,
    );
    let rev_a = edge.publish(host, None, Dialect::S3, &first).await;
    edge.wait_for_revision(host, "/", &rev_a, Duration::from_secs(30))
        .await;

    // In agreement: exit 0, every field from the record.
    let run = status(&edge, &["--host", host, "--json"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    let s = json(&run);
    assert_eq!(s["route"], format!("route:{host}"));
    assert_eq!(s["publishedRevision"], rev_a.as_str());
    assert_eq!(s["edgeRevision"], rev_a.as_str());
    assert_eq!(s["agree"], true);
    assert_eq!(s["dialect"], "s3");
    assert_eq!(s["originUrl"], edge.origin.url.as_str());
    assert_eq!(s["rules"][0]["origins"][0], "https://one.example");
    assert_eq!(s["rules"][0]["methods"], serde_json::json!(["GET", "PUT"]));
    assert_eq!(s["rules"][0]["maxAgeSeconds"], 600);
    assert!(
        s["writtenSecondsAgo"].as_u64().is_some_and(|a| a < 120),
        "{s}"
    );

    // Stale isolate: publish B; the isolate keeps A until its TTL ends.
    let checked_a = Instant::now();
    let second = config(
        r#"{"rules":[{"allowedOrigins":["https://two.example"],"allowedMethods":["GET"]}]}"#,
    );
    let rev_b = edge.publish(host, None, Dialect::S3, &second).await;
    assert_ne!(rev_a, rev_b);
    let run = status(&edge, &["--host", host, "--json"]);
    if checked_a.elapsed() < TTL {
        assert_eq!(run.code, Some(1), "stale: exit 1\n{}", run.all());
        let s = json(&run);
        assert_eq!(s["publishedRevision"], rev_b.as_str(), "{s}");
        assert_eq!(s["edgeRevision"], rev_a.as_str(), "{s}");
        assert_eq!(s["agree"], false, "{s}");
        let text = status(&edge, &["--host", host]);
        if checked_a.elapsed() < TTL {
            assert!(text.stdout.contains("agree:     NO"), "{}", text.all());
            assert!(text.stdout.contains("s ago"), "{}", text.all());
        }
    } else {
        panic!(
            "publishing and one status run took longer than the {TTL:?} TTL; too slow to see the stale isolate"
        );
    }

    // Once the TTL is over the edge catches up and status agrees again.
    edge.wait_for_revision(host, "/", &rev_b, TTL * 3).await;
    let run = status(&edge, &["--host", host]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(run.stdout.contains("agree:     yes"), "{}", run.all());
    assert!(run.stdout.contains(&rev_b), "{}", run.all());
    assert!(
        run.stdout.contains("GET from https://two.example"),
        "{}",
        run.all()
    );

    // A prefix route is found from --path; a path outside it is not.
    let prefixed = "status-prefix.edge.test";
    let rev_p = edge
        .publish(prefixed, Some("assets"), Dialect::Oss, &second)
        .await;
    edge.wait_for_revision(prefixed, "/assets/x.png", &rev_p, TTL * 3)
        .await;
    let run = status(
        &edge,
        &["--host", prefixed, "--path", "/assets/x.png", "--json"],
    );
    assert_eq!(run.code, Some(0), "{}", run.all());
    let s = json(&run);
    assert_eq!(s["route"], format!("route:{prefixed}/assets"));
    assert_eq!(s["prefix"], "assets");
    assert_eq!(s["dialect"], "oss");
    let run = status(
        &edge,
        &["--host", prefixed, "--path", "/other/x.png", "--json"],
    );
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert_eq!(json(&run)["route"], Value::Null);

    // Nothing published: exit 1; the edge answers `none`.
    let run = status(&edge, &["--host", "nothing.edge.test", "--json"]);
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert_eq!(json(&run)["edgeRevision"], "none");

    // Unreachable API: exit 2 with the reason, no token in it.
    let run = cli::run(
        &[
            "edge",
            "status",
            "--host",
            host,
            "--edge-url",
            &edge.harness.edge_url,
        ],
        &[
            ("CLOUDFLARE_API_TOKEN", edge.harness.token.as_str()),
            ("CLOUDFLARE_API_URL", "http://127.0.0.1:1/client/v4"),
            ("CLOUDFLARE_ACCOUNT_ID", edge.harness.account_id.as_str()),
            (
                "CLOUDFLARE_KV_NAMESPACE_ID",
                edge.harness.namespace_id.as_str(),
            ),
        ],
    );
    assert_eq!(run.code, Some(2), "{}", run.all());
    assert!(!run.all().contains(&edge.harness.token), "{}", run.all());
    // The probe the command sends is an ordinary preflight.
    let a = edge
        .send(
            host,
            &Probe::new("OPTIONS", "/")
                .header("origin", "https://two.example")
                .header("access-control-request-method", "GET"),
        )
        .await;
    assert_eq!(a.status, 200);
}
