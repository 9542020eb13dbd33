//! The doctor's verdict against Chromium's own: for each setup of the
//! other doctor tests (a signature error, a wrong origin scheme, a missing
//! header, two layers both adding `Access-Control-Allow-Origin`, a cache
//! poisoned by another origin, an over-long Max-Age, an OSS route asked for
//! credentials, a healthy route), Debian Chromium driven by playwright-core
//! fetches the same URL from a page on the same origin, and
//!
//! - the doctor's exit code is 0 exactly when Chromium's `fetch` resolves,
//!   1 exactly when Chromium refuses it with a CORS error;
//! - when refused, the reason the doctor quotes is the one Chromium logs
//!   on its console (the text after "blocked by CORS policy: ").
//!
//! Real components throughout: Garage, the edge (workerd), nginx, Chromium.
//! Fails (never skips) when one is missing.

mod doctor_support;
mod edge_support;
mod support;

use bucketcors_engine::{Dialect, RuleSet};
use bucketcors_sync::edge::{EdgeTarget, Publisher};
use bucketcors_testkit::edge::EdgeOptions;
use bucketcors_testkit::proxy::{CachingProxy, ProxyOptions};
use doctor_support::{Doctor, Lab, Presign, doctor, rules_yaml, tamper_signature};
use edge_support::{Edge, config};
use serde_json::{Value, json};
use support::browser::{Browser, Fetch, Seen};

/// One setup: what the doctor is asked and what the page fetches.
struct Case {
    name: &'static str,
    args: Vec<String>,
    fetch: Fetch,
}

fn check(browser: &mut Browser, case: &Case) -> (Doctor, Seen) {
    let args: Vec<&str> = case.args.iter().map(String::as_str).collect();
    let d = doctor(&args, &[]);
    let seen = browser.fetch(&case.fetch);
    eprintln!(
        "doctor-browser: {}: doctor exit {:?}, Chromium {}",
        case.name,
        d.code,
        if seen.ok { "allowed" } else { "refused" }
    );
    assert!(
        matches!(d.code, Some(0) | Some(1)),
        "{}: the doctor must reach a verdict\n{}",
        case.name,
        d.pretty()
    );
    assert_eq!(
        d.code == Some(0),
        seen.ok,
        "{}: the doctor's verdict and Chromium's outcome differ\nChromium: {seen:?}\n{}",
        case.name,
        d.pretty()
    );
    if !seen.ok {
        assert!(
            seen.blocked_by_cors(),
            "{}: Chromium's failure must be its CORS refusal: {seen:?}",
            case.name
        );
        let predicted = d.report["chromium"].as_str().unwrap_or_default();
        let reason = predicted
            .split_once("blocked by CORS policy: ")
            .map(|(_, r)| r)
            .unwrap_or(predicted);
        assert!(
            !reason.is_empty() && seen.console.iter().any(|m| m.contains(reason)),
            "{}: the doctor quotes {reason:?}; Chromium logged {:?}",
            case.name,
            seen.console
        );
    }
    (d, seen)
}

fn args(url: &str, origin: &str, more: &[&str]) -> Vec<String> {
    let mut all = vec![url.to_owned(), "--origin".to_owned(), origin.to_owned()];
    all.extend(more.iter().map(|s| s.to_string()));
    all
}

async fn route(edge: &Edge, prefix: &str, origin_url: String, dialect: Dialect, rules: Value) {
    let target = EdgeTarget {
        hosts: vec!["127.0.0.1".to_owned()],
        path_prefix: Some(prefix.to_owned()),
        origin_url,
    };
    let rules = RuleSet::new(dialect, config(&rules.to_string())).expect("valid rules");
    edge.publisher
        .publish(&target, &rules, None)
        .await
        .expect("publish");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_agrees_with_the_doctor_on_every_setup() {
    let mut browser = Browser::start(&["app", "other"]);
    let app = browser.origin("app").to_owned();
    let other = browser.origin("other").to_owned();
    let buckets = [
        "db-sig",
        "db-scheme",
        "db-header",
        "db-twice",
        "db-poison",
        "db-edge",
    ];
    let lab = Lab::start(&buckets);
    let edge = Edge::start(EdgeOptions::default());
    let get = |rules: Value| rules_yaml(&rules);
    let mut cases = Vec::new();

    // 1. A signature error (the signer used another secret).
    lab.apply(
        "db-sig",
        &get(json!([{"allowedOrigins": [app], "allowedMethods": ["GET"]}])),
    );
    let good = lab.get_url("db-sig");
    let (bad, _) = tamper_signature(&good);
    cases.push(Case {
        name: "signature error",
        args: args(&bad, &app, &[]),
        fetch: Fetch::get("app", &bad),
    });

    // 2. The rule names the https origin; the page is http.
    let https_app = app.replacen("http://", "https://", 1);
    lab.apply(
        "db-scheme",
        &get(json!([{"allowedOrigins": [https_app], "allowedMethods": ["GET"]}])),
    );
    let url = lab.get_url("db-scheme");
    cases.push(Case {
        name: "wrong origin scheme",
        args: args(&url, &app, &[]),
        fetch: Fetch::get("app", &url),
    });

    // 3. An upload with a metadata header the rule does not allow.
    lab.apply(
        "db-header",
        &get(json!([{"allowedOrigins": [app], "allowedMethods": ["PUT"], "allowedHeaders": ["content-type"]}])),
    );
    let put = lab.presign(
        Presign::PutWithMeta("owner", "ana"),
        "db-header",
        "upload.txt",
    );
    cases.push(Case {
        name: "missing header",
        args: args(
            &put,
            &app,
            &["--method", "PUT", "--header", "x-amz-meta-owner: ana"],
        ),
        fetch: Fetch::get("app", &put)
            .method("PUT")
            .header("x-amz-meta-owner", "ana")
            .body("uploaded"),
    });

    // 4. A proxy adding its own Allow-Origin on top of Garage's.
    lab.apply(
        "db-twice",
        &get(json!([{"allowedOrigins": [app], "allowedMethods": ["GET"]}])),
    );
    let twice = CachingProxy::start(
        &lab.garage.endpoint(),
        &ProxyOptions {
            add_allow_origin: true,
            ..ProxyOptions::default()
        },
    )
    .unwrap_or_else(|e| panic!("nginx must run for this test: {e}"));
    let url = lab.through(&lab.get_url("db-twice"), &twice.url());
    cases.push(Case {
        name: "two layers add Allow-Origin",
        args: args(&url, &app, &[]),
        fetch: Fetch::get("app", &url),
    });

    // 5. A healthy edge route.
    let edge_origin = format!("{}/db-edge", lab.garage.endpoint());
    route(
        &edge,
        "ok",
        edge_origin.clone(),
        Dialect::S3,
        json!({"rules": [{"allowedOrigins": [app], "allowedMethods": ["GET"]}]}),
    )
    .await;
    let edge_get = lab.get_url("db-edge");
    let url = lab.through_edge(&edge_get, "db-edge", &edge.harness.edge_url, "ok");
    cases.push(Case {
        name: "healthy edge route",
        args: args(&url, &app, &[]),
        fetch: Fetch::get("app", &url),
    });

    // 6. An over-long Max-Age on a preflighted request: allowed, flagged.
    route(
        &edge,
        "age",
        edge_origin.clone(),
        Dialect::S3,
        json!({"rules": [{"allowedOrigins": [app], "allowedMethods": ["GET"], "allowedHeaders": ["x-doctor"], "maxAgeSeconds": 86400}]}),
    )
    .await;
    let url = lab.through_edge(&edge_get, "db-edge", &edge.harness.edge_url, "age");
    cases.push(Case {
        name: "over-long Max-Age",
        args: args(&url, &app, &["--header", "x-doctor: 1"]),
        fetch: Fetch::get("app", &url).header("x-doctor", "1"),
    });

    // 7. An OSS route asked for credentials.
    route(
        &edge,
        "oss",
        edge_origin,
        Dialect::Oss,
        json!({"rules": [{"allowedOrigins": [app], "allowedMethods": ["GET"]}]}),
    )
    .await;
    let url = lab.through_edge(&edge_get, "db-edge", &edge.harness.edge_url, "oss");
    cases.push(Case {
        name: "OSS route with credentials",
        args: args(&url, &app, &["--credentials"]),
        fetch: Fetch::get("app", &url).with_credentials(),
    });

    for case in &cases {
        check(&mut browser, case);
    }

    // 8. A cache poisoned by the first origin: the page on `app` fetches
    //    first (stored with its Allow-Origin), then `other` asks.
    lab.apply(
        "db-poison",
        &get(json!([
            {"allowedOrigins": [app], "allowedMethods": ["GET"]},
            {"allowedOrigins": [other], "allowedMethods": ["GET"]}
        ])),
    );
    let cache = CachingProxy::start(
        &lab.garage.endpoint(),
        &ProxyOptions {
            cache_ignoring_vary: true,
            ..ProxyOptions::default()
        },
    )
    .unwrap_or_else(|e| panic!("nginx must run for this test: {e}"));
    let url = lab.through(&lab.get_url("db-poison"), &cache.url());
    let first = browser.fetch(&Fetch::get("app", &url));
    assert!(first.ok, "the first origin is served: {first:?}");
    let (d, _) = check(
        &mut browser,
        &Case {
            name: "poisoned cache",
            args: args(&url, &other, &["--second-origin", &app]),
            fetch: Fetch::get("other", &url),
        },
    );
    assert!(
        d.mentions("cache_safety", "cache poisoning"),
        "{}",
        d.pretty()
    );
}
