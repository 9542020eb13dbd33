//! A bucket origin that cannot be reached: the edge answers `502` with a
//! short text body and still writes the engine's CORS headers, so a browser
//! page can read the failure instead of seeing an opaque CORS error.

mod edge_support;

use std::net::TcpListener;

use bucketcors_engine::Dialect;
use bucketcors_testkit::edge::EdgeOptions;
use edge_support::{Edge, Probe, config};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_origin_is_a_502_with_cors_headers() {
    let edge = Edge::start(EdgeOptions::default());
    // A loopback port nothing listens on any more.
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}", listener.local_addr().unwrap())
    };
    let host = "down.edge.test";
    let revision = edge
        .publish_to_origin(
            host,
            &closed,
            Dialect::S3,
            &config(
                r#"{"rules":[{"allowedOrigins":["https://one.example"],"allowedMethods":["GET"]}]}"#,
            ),
        )
        .await;

    for (origin, allowed) in [
        ("https://one.example", true),
        ("https://two.example", false),
    ] {
        let a = edge
            .send(
                host,
                &Probe::new("GET", "/a/b.txt").header("origin", origin),
            )
            .await;
        assert_eq!(a.status, 502, "{a:#?}");
        assert_eq!(
            a.body,
            "bucketcors: the bucket origin could not be reached\n"
        );
        assert_eq!(
            a.header("content-type").as_deref(),
            Some("text/plain; charset=utf-8")
        );
        assert_eq!(
            a.header("access-control-allow-origin").as_deref(),
            allowed.then_some(origin),
            "{a:#?}"
        );
        assert_eq!(a.header("x-bucketcors-cache").as_deref(), Some("BYPASS"));
        assert_eq!(
            a.header("x-bucketcors-revision").as_deref(),
            Some(revision.as_str())
        );
    }
}
