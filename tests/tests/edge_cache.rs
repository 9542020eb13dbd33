//! The caching guarantee (spec section 5): the worker caches bodies without
//! CORS headers and adds the headers per request after the cache, so two
//! origins alternately fetching the same cached object each see only their
//! own `Access-Control-Allow-Origin`, while the bucket is asked only once.

mod edge_support;

use bucketcors_engine::Dialect;
use bucketcors_testkit::edge::EdgeOptions;
use edge_support::{Edge, Probe, config};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alternating_origins_never_see_each_others_allow_origin() {
    let edge = Edge::start(EdgeOptions::default());
    let host = "cache.edge.test";
    let rules = config(
        r#"{"rules":[{"allowedOrigins":["https://one.example","https://two.example"],"allowedMethods":["GET"],"exposeHeaders":["x-amz-meta-color"]}]}"#,
    );
    edge.publish(host, None, Dialect::S3, &rules).await;

    let path = "/assets/shared.js";
    let origins = [
        "https://one.example",
        "https://two.example",
        "https://three.example",
    ];
    let mut statuses = Vec::new();
    for i in 0..12 {
        let origin = origins[i % origins.len()];
        let a = edge
            .send(host, &Probe::new("GET", path).header("origin", origin))
            .await;
        assert_eq!(a.status, 200);
        assert_eq!(a.body, format!("object {path}"));
        let acao = a.header("access-control-allow-origin");
        if origin == "https://three.example" {
            assert_eq!(
                acao, None,
                "request {i}: a disallowed origin gets no Allow-Origin: {a:#?}"
            );
            assert_eq!(a.header("vary"), None);
        } else {
            assert_eq!(
                acao.as_deref(),
                Some(origin),
                "request {i}: its own Allow-Origin only: {a:#?}"
            );
            assert_eq!(
                a.header("vary").as_deref(),
                Some("Origin, Access-Control-Request-Headers, Access-Control-Request-Method")
            );
        }
        assert_ne!(acao.as_deref(), Some("https://bucket-said.example"));
        // What the origin answered is reported by its x-origin-hits; cached
        // answers repeat the first one's headers (minus CORS).
        assert_eq!(
            a.header("x-origin-hits").as_deref(),
            Some("1"),
            "request {i} served from the first fetch"
        );
        statuses.push(a.header("x-bucketcors-cache").unwrap_or_default());
    }
    assert_eq!(statuses[0], "MISS");
    assert!(
        statuses[1..].iter().all(|s| s == "HIT"),
        "every later request is a cache hit: {statuses:?}"
    );
    assert_eq!(
        edge.origin.seen_under(path).len(),
        1,
        "the bucket was asked once"
    );

    // The body cache never holds CORS headers: a request without Origin,
    // after the cache was filled by allowed origins, gets none.
    let a = edge.send(host, &Probe::new("GET", path)).await;
    assert_eq!(a.header("x-bucketcors-cache").as_deref(), Some("HIT"));
    assert!(a.cors_headers().is_empty(), "{a:#?}");
    // Cache-Control the edge added for itself is not shown to clients.
    assert_eq!(a.header("cache-control"), None);

    // Uncacheable answers are not cached.
    for _ in 0..2 {
        let a = edge
            .send(
                host,
                &Probe::new("GET", "/nostore/x.js").header("origin", "https://one.example"),
            )
            .await;
        assert_eq!(a.header("x-bucketcors-cache").as_deref(), Some("BYPASS"));
        assert_eq!(
            a.header("access-control-allow-origin").as_deref(),
            Some("https://one.example")
        );
    }
    assert_eq!(edge.origin.seen_under("/nostore/x.js").len(), 2);
}
