//! `bucketcors doctor` through the real bucketcors edge (the worker in
//! workerd, rules published by the operator's real publisher) in front of
//! a real Garage: a healthy route gets a clean report, an over-long
//! Max-Age is flagged against Chromium's 2-hour cap, an OSS-dialect route
//! refuses a credentialed request (OSS never sends Allow-Credentials), and
//! an edge whose rules differ from the bucket's is caught by comparing the
//! two layers.
//!
//! Fails (never skips) without Garage, Node with the harness's npm packages
//! or the built worker.

mod doctor_support;
mod edge_support;
mod support;

use bucketcors_engine::{Dialect, RuleSet};
use bucketcors_sync::edge::{EdgeTarget, Publisher};
use bucketcors_testkit::edge::EdgeOptions;
use doctor_support::{Lab, doctor, rules_yaml};
use edge_support::{Edge, config};
use serde_json::json;

const APP: &str = "https://app.example";

/// Publishes `rules` for the route `127.0.0.1/prefix`, whose bucket is
/// `bucket` on Garage's S3 API.
async fn route(edge: &Edge, lab: &Lab, prefix: &str, bucket: &str, dialect: Dialect, rules: &str) {
    let target = EdgeTarget {
        hosts: vec!["127.0.0.1".to_owned()],
        path_prefix: Some(prefix.to_owned()),
        origin_url: format!("{}/{bucket}", lab.garage.endpoint()),
    };
    let rules = RuleSet::new(dialect, config(rules)).expect("valid rules");
    edge.publisher
        .publish(&target, &rules, None)
        .await
        .expect("publish");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_route_gets_a_clean_report() {
    let lab = Lab::start(&["de-ok"]);
    let edge = Edge::start(EdgeOptions::default());
    route(
        &edge,
        &lab,
        "ok",
        "de-ok",
        Dialect::S3,
        &json!({"rules": [{"allowedOrigins": [APP], "allowedMethods": ["GET"], "maxAgeSeconds": 600}]})
            .to_string(),
    )
    .await;
    let url = lab.through_edge(&lab.get_url("de-ok"), "de-ok", &edge.harness.edge_url, "ok");
    let d = tokio::task::spawn_blocking(move || doctor(&[&url, "--origin", APP], &[]))
        .await
        .unwrap();
    assert_eq!(d.code, Some(0), "{}", d.pretty());
    assert!(
        d.problems().is_empty(),
        "a healthy route has no findings\n{}",
        d.pretty()
    );
    let sent = d.report["requests_sent"].as_u64().unwrap();
    assert!(
        sent <= d.report["request_budget"].as_u64().unwrap() && sent == 5,
        "the actual request and four cache probes\n{}",
        d.pretty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_over_long_max_age_is_flagged_against_chromiums_cap() {
    let lab = Lab::start(&["de-age"]);
    let edge = Edge::start(EdgeOptions::default());
    route(
        &edge,
        &lab,
        "age",
        "de-age",
        Dialect::S3,
        &json!({"rules": [{
            "allowedOrigins": [APP],
            "allowedMethods": ["GET", "PUT"],
            "allowedHeaders": ["content-type"],
            "exposeHeaders": ["ETag"],
            "maxAgeSeconds": 86400
        }]})
        .to_string(),
    )
    .await;
    let url = lab.through_edge(
        &lab.get_url("de-age"),
        "de-age",
        &edge.harness.edge_url,
        "age",
    );
    let d = tokio::task::spawn_blocking(move || {
        doctor(
            &[
                &url,
                "--origin",
                APP,
                "--method",
                "PUT",
                "--header",
                "content-type",
            ],
            &[],
        )
    })
    .await
    .unwrap();
    assert_eq!(d.code, Some(0), "the request itself passes\n{}", d.pretty());
    assert!(
        d.mentions(
            "response_check",
            "86400 s is above Chromium's cap of 7200 s"
        ),
        "{}",
        d.pretty()
    );
    assert!(
        d.mentions("response_check", "maxAgeSeconds to 7200"),
        "{}",
        d.pretty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oss_route_refuses_credentials_and_says_no_rule_can_fix_it() {
    let lab = Lab::start(&["de-oss"]);
    let edge = Edge::start(EdgeOptions::default());
    let rules = json!([{"allowedOrigins": [APP], "allowedMethods": ["GET"]}]);
    route(
        &edge,
        &lab,
        "oss",
        "de-oss",
        Dialect::Oss,
        &json!({ "rules": rules }).to_string(),
    )
    .await;
    let manifest = support::cli::write(
        &lab.dir,
        "oss.yaml",
        &format!(
            "apiVersion: bucketcors.dev/v1alpha1\nkind: BucketCors\nmetadata:\n  name: uploads\n  namespace: web\nspec:\n  backend:\n    provider: oss\n    bucket: de-oss\n    endpoint: https://oss-cn-hangzhou.aliyuncs.com\n    region: cn-hangzhou\n  rules:\n{}",
            rules_yaml(&rules)
        ),
    );
    let url = lab.through_edge(
        &lab.get_url("de-oss"),
        "de-oss",
        &edge.harness.edge_url,
        "oss",
    );
    let without = url.clone();
    let (plain, credentialed) = tokio::task::spawn_blocking(move || {
        (
            doctor(&[&without, "--origin", APP], &[]),
            doctor(
                &[
                    &url,
                    "--origin",
                    APP,
                    "--credentials",
                    "--manifest",
                    &manifest.display().to_string(),
                ],
                &[],
            ),
        )
    })
    .await
    .unwrap();
    assert_eq!(plain.code, Some(0), "{}", plain.pretty());
    assert_eq!(credentialed.code, Some(1), "{}", credentialed.pretty());
    assert!(
        credentialed.mentions("failing_field", "the failing field is credentials"),
        "{}",
        credentialed.pretty()
    );
    assert!(
        credentialed.mentions(
            "failing_field",
            "OSS never answers with Access-Control-Allow-Credentials"
        ),
        "{}",
        credentialed.pretty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edge_and_a_bucket_with_different_rules_disagree() {
    let lab = Lab::start(&["de-layers"]);
    // The bucket allows another origin; the edge allows the page's.
    lab.apply(
        "de-layers",
        &rules_yaml(
            &json!([{"allowedOrigins": ["https://other.example"], "allowedMethods": ["GET"]}]),
        ),
    );
    let edge = Edge::start(EdgeOptions::default());
    route(
        &edge,
        &lab,
        "layers",
        "de-layers",
        Dialect::S3,
        &json!({"rules": [{"allowedOrigins": [APP], "allowedMethods": ["GET"]}]}).to_string(),
    )
    .await;
    let direct = lab.get_url("de-layers");
    let url = lab.through_edge(&direct, "de-layers", &edge.harness.edge_url, "layers");
    let d = tokio::task::spawn_blocking(move || {
        doctor(&[&url, "--origin", APP, "--via", &direct], &[])
    })
    .await
    .unwrap();
    assert_eq!(
        d.code,
        Some(0),
        "the edge, the URL the page uses, allows it\n{}",
        d.pretty()
    );
    assert!(
        d.mentions(
            "layers_disagree",
            "the layers answer the actual request differently"
        ),
        "{}",
        d.pretty()
    );
    assert!(
        d.mentions("layers_disagree", "browser refuses"),
        "the bucket's own endpoint would refuse\n{}",
        d.pretty()
    );
    assert!(
        d.mentions("layers_disagree", "bucketcors apply"),
        "{}",
        d.pretty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oss_error_behind_an_oss_route_is_decoded_with_its_ec() {
    // The OSS stand-in (support::oss_standin) answers a bucket it does not
    // serve with OSS's NoSuchBucket body, EC included.
    let standin = support::oss_standin::OssStandIn::start("real-bucket").expect("stand-in");
    let edge = Edge::start(EdgeOptions::default());
    let target = EdgeTarget {
        hosts: vec!["127.0.0.1".to_owned()],
        path_prefix: Some("missing".to_owned()),
        origin_url: format!("{}/no-such-bucket", standin.endpoint()),
    };
    let rules = RuleSet::new(
        Dialect::Oss,
        config(
            &json!({"rules": [{"allowedOrigins": [APP], "allowedMethods": ["GET"]}]}).to_string(),
        ),
    )
    .unwrap();
    edge.publisher
        .publish(&target, &rules, None)
        .await
        .expect("publish");
    let url = format!("{}/missing/photo.txt", edge.harness.edge_url);
    let d = tokio::task::spawn_blocking(move || doctor(&[&url, "--origin", APP], &[]))
        .await
        .unwrap();
    assert!(
        d.mentions("not_cors", "NoSuchBucket") && d.mentions("not_cors", "OSS EC 0015-00000101"),
        "{}",
        d.pretty()
    );
    // The edge puts the route's CORS headers on the error too, so the page
    // can read the 404: allowed, and the report says it is an error.
    assert_eq!(d.code, Some(0), "{}", d.pretty());
    assert!(
        d.report["summary"]
            .as_str()
            .unwrap_or("")
            .contains("not a CORS problem"),
        "{}",
        d.pretty()
    );
}
