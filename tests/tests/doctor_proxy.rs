//! `bucketcors doctor` through a real caching proxy standing in for a naive
//! CDN: Debian's nginx (`bucketcors_testkit::proxy`) caching on the URL
//! alone and ignoring `Vary`, as some CDNs do, or adding its own
//! `Access-Control-Allow-Origin` on top of the bucket's.
//!
//! - Straight in front of Garage, the cache hands the first origin's
//!   `Access-Control-Allow-Origin` to the next: the doctor must name the
//!   poisoning and nginx's setting that fixes it.
//! - With the bucketcors edge in front of the same kind of proxy (browser
//!   -> edge -> nginx -> Garage), the edge adds CORS headers after the
//!   cache: the doctor must find no poisoning.
//! - A proxy that adds `Access-Control-Allow-Origin` while Garage adds its
//!   own sends two: the browser refuses, and comparing the proxy with the
//!   bucket shows which layer added the second.
//!
//! Fails (never skips) without Garage, nginx (`scripts/install/nginx.sh`),
//! Node with the harness's npm packages or the built worker.

mod doctor_support;
mod edge_support;
mod support;

use bucketcors_engine::{Dialect, RuleSet};
use bucketcors_sync::edge::{EdgeTarget, Publisher};
use bucketcors_testkit::edge::EdgeOptions;
use bucketcors_testkit::proxy::{CachingProxy, ProxyOptions};
use doctor_support::{Lab, doctor, rules_yaml};
use edge_support::{Edge, config};
use serde_json::json;

const APP: &str = "https://app.example";
const SECOND: &str = "https://second.example";

fn caching() -> ProxyOptions {
    ProxyOptions {
        cache_ignoring_vary: true,
        ..ProxyOptions::default()
    }
}

#[test]
fn a_cache_in_front_of_garage_is_found_poisoning_and_the_fix_named() {
    let lab = Lab::start(&["dp-poison"]);
    lab.apply(
        "dp-poison",
        &rules_yaml(&json!([{"allowedOrigins": [APP], "allowedMethods": ["GET"]}])),
    );
    let proxy = CachingProxy::start(&lab.garage.endpoint(), &caching())
        .unwrap_or_else(|e| panic!("nginx must run for this test: {e}"));
    let url = lab.through(&lab.get_url("dp-poison"), &proxy.url());
    let d = doctor(&[&url, "--origin", APP, "--second-origin", SECOND], &[]);
    assert!(
        d.mentions("cache_safety", "cache poisoning"),
        "nginx log:\n{}\n{}",
        proxy.log_tail(),
        d.pretty()
    );
    assert!(
        d.mentions(
            "cache_safety",
            &format!("the answer for {SECOND} carries Access-Control-Allow-Origin {APP}")
        ),
        "{}",
        d.pretty()
    );
    assert!(
        d.mentions("cache_safety", "proxy_cache_key"),
        "{}",
        d.pretty()
    );
    assert!(
        d.mentions("cache_safety", "X-Cache") || d.mentions("cache_safety", "x-cache: HIT"),
        "{}",
        d.pretty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_edge_in_front_of_the_same_cache_shows_no_poisoning() {
    let lab = Lab::start(&["dp-edge"]);
    lab.apply(
        "dp-edge",
        &rules_yaml(&json!([{"allowedOrigins": [APP], "allowedMethods": ["GET"]}])),
    );
    let proxy = CachingProxy::start(&lab.garage.endpoint(), &caching())
        .unwrap_or_else(|e| panic!("nginx must run for this test: {e}"));
    let edge = Edge::start(EdgeOptions::default());
    let target = EdgeTarget {
        hosts: vec!["127.0.0.1".to_owned()],
        path_prefix: Some("cdn".to_owned()),
        origin_url: format!("{}/dp-edge", proxy.url()),
    };
    let rules = RuleSet::new(
        Dialect::S3,
        config(
            &json!({"rules": [{"allowedOrigins": [APP], "allowedMethods": ["GET"]}]}).to_string(),
        ),
    )
    .unwrap();
    edge.publisher
        .publish(&target, &rules, None)
        .await
        .expect("publish");
    let signed = lab.get_url("dp-edge");
    let through_edge = lab.through_edge(&signed, "dp-edge", &edge.harness.edge_url, "cdn");
    let d = tokio::task::spawn_blocking(move || {
        doctor(
            &[&through_edge, "--origin", APP, "--second-origin", SECOND],
            &[],
        )
    })
    .await
    .unwrap();
    assert_eq!(d.code, Some(0), "{}", d.pretty());
    assert!(
        d.findings("cache_safety").is_empty(),
        "the edge adds CORS after the cache behind it\n{}",
        d.pretty()
    );
    // The same proxy asked directly (its cache already holds the object,
    // stored for the page's origin) hands the page's answer on.
    let direct = lab.through(&signed, &proxy.url());
    let p = tokio::task::spawn_blocking(move || {
        doctor(&[&direct, "--origin", APP, "--second-origin", SECOND], &[])
    })
    .await
    .unwrap();
    assert!(
        p.mentions("cache_safety", "cache poisoning"),
        "{}",
        p.pretty()
    );
}

#[test]
fn two_layers_both_adding_allow_origin_are_refused_and_located() {
    let lab = Lab::start(&["dp-twice"]);
    lab.apply(
        "dp-twice",
        &rules_yaml(&json!([{"allowedOrigins": [APP], "allowedMethods": ["GET"]}])),
    );
    let proxy = CachingProxy::start(
        &lab.garage.endpoint(),
        &ProxyOptions {
            add_allow_origin: true,
            ..ProxyOptions::default()
        },
    )
    .unwrap_or_else(|e| panic!("nginx must run for this test: {e}"));
    let direct = lab.get_url("dp-twice");
    let url = lab.through(&direct, &proxy.url());
    let d = doctor(&[&url, "--origin", APP, "--via", &direct], &[]);
    assert_eq!(d.code, Some(1), "{}", d.pretty());
    assert!(
        d.mentions("response_check", "multiple_allow_origin"),
        "{}",
        d.pretty()
    );
    assert!(
        d.mentions("response_check", "two layers each add one"),
        "{}",
        d.pretty()
    );
    assert!(
        d.mentions(
            "layers_disagree",
            "adds its own Access-Control-Allow-Origin"
        ),
        "{}",
        d.pretty()
    );
    assert_eq!(
        d.report["chromium"]
            .as_str()
            .map(|c| c.contains("contains multiple values")),
        Some(true),
        "{}",
        d.pretty()
    );
}
