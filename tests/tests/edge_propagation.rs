//! Publish, then serve: rules written through the Cloudflare KV REST API (by
//! the operator's real publisher, into the local harness) reach the worker
//! within the rules TTL. Measures, for the default TTL (5 s) and a short
//! one (0.5 s), how long after the publish call returns the edge first
//! serves the new revision, and prints the figures.

mod edge_support;

use std::time::{Duration, Instant};

use bucketcors_engine::Dialect;
use bucketcors_testkit::edge::EdgeOptions;
use edge_support::{Edge, Probe, config};

async fn measure(ttl: f64, rounds: usize) -> Vec<Duration> {
    let edge = Edge::start(EdgeOptions {
        rules_ttl_seconds: ttl,
        ..EdgeOptions::default()
    });
    let host = "prop.edge.test";
    let mut latencies = Vec::new();
    for round in 0..rounds {
        let origin = format!("https://round{round}.example");
        let rules = config(&format!(
            r#"{{"rules":[{{"allowedOrigins":["{origin}"],"allowedMethods":["GET"]}}]}}"#
        ));
        // Warm the isolate's cache with the previous revision, so the
        // measurement includes waiting out the TTL (the worst realistic case
        // is a record read just before the publish).
        let _ = edge
            .send(host, &Probe::new("OPTIONS", "/k").header("origin", &origin))
            .await;
        let start = Instant::now();
        let revision = edge.publish(host, None, Dialect::S3, &rules).await;
        let publish_took = start.elapsed();
        let waited = edge
            .wait_for_revision(host, "/k", &revision, Duration::from_secs_f64(ttl + 10.0))
            .await;
        let total = publish_took + waited;
        // Once served, the new rules really answer.
        let a = edge
            .send(
                host,
                &Probe::new("OPTIONS", "/k")
                    .header("origin", &origin)
                    .header("access-control-request-method", "GET"),
            )
            .await;
        assert_eq!(a.status, 200, "{a:#?}");
        assert!(
            total <= Duration::from_secs_f64(ttl + 2.0),
            "propagation {total:?} exceeds TTL {ttl} s + 2 s"
        );
        latencies.push(total);
    }
    latencies
}

fn summary(ttl: f64, mut l: Vec<Duration>) {
    l.sort();
    let ms = |d: &Duration| d.as_secs_f64() * 1000.0;
    println!(
        "propagation with RULES_TTL_SECONDS={ttl}: n={} min={:.0} ms median={:.0} ms max={:.0} ms",
        l.len(),
        ms(&l[0]),
        ms(&l[l.len() / 2]),
        ms(&l[l.len() - 1])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_rules_are_served_within_the_ttl() {
    summary(0.5, measure(0.5, 8).await);
    summary(5.0, measure(5.0, 3).await);
}
