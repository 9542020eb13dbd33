//! End to end, without a browser: a BucketCors manifest applied with the
//! real `bucketcors apply` reaches a real Garage bucket and the real worker
//! in workerd (through the Cloudflare KV API of the edge harness), and the
//! answers on both sides are the engine's decision for the same manifest.
//!
//! - `manifest_reaches_bucket_and_edge_and_a_change_propagates`: apply,
//!   check the bucket (rules read back, Garage's own preflights) and the edge
//!   (preflights, a GET of an object stored in Garage, allowed and denied
//!   origins), re-apply unchanged, then change the rules and watch the change
//!   reach both.
//! - `two_dialects_behind_one_worker`: an S3 bucket (Garage) and an OSS
//!   bucket (a local OSS stand-in: no OSS runs here) applied together, each
//!   served by the same worker in its own dialect.
//!
//! Needs Garage, the built worker and Node; fails when one is missing.

mod support;

use std::time::{Duration, Instant};

use bucketcors_engine::format::parse_document;
use bucketcors_engine::{Compiled, Dialect, Request};
use bucketcors_testkit::edge::EdgeOptions;
use support::cli;
use support::oss_standin::OssStandIn;
use support::raw_http::RawResponse;
use support::world::{World, edge_block, s3_manifest};

fn fast_edge() -> EdgeOptions {
    // A short rules TTL keeps propagation waits short; the value is the
    // harness's, the mechanism is the worker's.
    EdgeOptions {
        rules_ttl_seconds: 1.0,
        ..EdgeOptions::default()
    }
}

/// The engine's decision for a manifest file, as the edge must give it.
fn engine_for(manifest: &str) -> Compiled {
    let doc = parse_document(manifest).expect("the manifest parses");
    Compiled::new(
        &doc.config,
        doc.dialect.expect("a manifest names its provider"),
    )
    .expect("valid rules")
}

/// `(status, ACAO, ACAC, Vary)` of a response.
fn cors_of(r: &RawResponse) -> (u16, Option<String>, Option<String>, Option<String>) {
    let h = |n: &str| r.header(n).map(str::to_owned);
    (
        r.status,
        h("access-control-allow-origin"),
        h("access-control-allow-credentials"),
        h("vary"),
    )
}

/// The same four values as the engine decides them for a preflight.
fn expected_preflight(
    c: &Compiled,
    origin: &str,
    method: &str,
) -> (u16, Option<String>, Option<String>, Option<String>) {
    let d = c.decide(&Request::preflight(origin, method));
    let h = |n: &str| {
        d.headers()
            .find(|(name, _)| name.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.to_string())
    };
    (
        d.status(),
        h("access-control-allow-origin"),
        h("access-control-allow-credentials"),
        h("vary"),
    )
}

fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < timeout, "{what}: not within {timeout:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    start.elapsed()
}

const RULES_V1: &str = "    - id: app\n      allowedOrigins: [\"https://app.example.com\"]\n      allowedMethods: [GET, PUT]\n      allowedHeaders: [content-type]\n      exposeHeaders: [ETag]\n      maxAgeSeconds: 600\n";
const RULES_V2: &str = "    - id: app\n      allowedOrigins: [\"https://app.example.com\", \"https://new.example.com\"]\n      allowedMethods: [GET, PUT]\n      allowedHeaders: [content-type]\n      exposeHeaders: [ETag]\n      maxAgeSeconds: 900\n";

#[test]
fn manifest_reaches_bucket_and_edge_and_a_change_propagates() {
    let world = World::start(&["sys-uploads"], &fast_edge());
    let web_port = world.serve_website("sys-uploads", "localhost");
    world.put_object("sys-uploads", "hello.txt", b"hello from Garage\n");
    let host = "uploads.system.test";
    let edge = edge_block(host, &format!("http://localhost:{web_port}"));
    let manifest = s3_manifest(
        "uploads",
        "sys-uploads",
        &world.garage.endpoint(),
        RULES_V1,
        &edge,
        "Delete",
    );
    let path = cli::write(&world.dir, "uploads.yaml", &manifest);

    // Apply: the bucket and the edge both get the rules.
    let run = world.apply(&path);
    assert_eq!(run.code, Some(0), "bucketcors apply failed:\n{}", run.all());
    assert_eq!(
        world.bucket_origins("sys-uploads"),
        Some(vec![vec!["https://app.example.com".to_owned()]]),
        "rules in Garage"
    );
    let engine = engine_for(&manifest);

    // Garage answers preflights with the rules it now holds (its own way).
    let allowed = world.bucket_request(
        "OPTIONS",
        "sys-uploads",
        "/hello.txt",
        &[
            ("Origin", "https://app.example.com"),
            ("Access-Control-Request-Method", "PUT"),
        ],
    );
    assert_eq!(
        allowed.status,
        200,
        "Garage allows the app origin: {}",
        allowed.text()
    );
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("https://app.example.com")
    );
    let denied = world.bucket_request(
        "OPTIONS",
        "sys-uploads",
        "/hello.txt",
        &[
            ("Origin", "https://evil.example"),
            ("Access-Control-Request-Method", "PUT"),
        ],
    );
    assert!(
        // Garage refuses with 403 (and puts `Access-Control-Allow-Origin: *`
        // on its error responses, its own way): the decision is what counts.
        denied.status == 403,
        "Garage refuses evil.example: {} {:?} {}",
        denied.status,
        denied.headers,
        denied.text()
    );

    // The edge answers exactly as the engine decides, for allowed and denied.
    for (origin, method) in [
        ("https://app.example.com", "PUT"),
        ("https://evil.example", "PUT"),
        ("https://app.example.com", "DELETE"),
    ] {
        let r = world.edge_request(
            "OPTIONS",
            host,
            "/hello.txt",
            &[
                ("Origin", origin),
                ("Access-Control-Request-Method", method),
            ],
        );
        assert_eq!(
            cors_of(&r),
            expected_preflight(&engine, origin, method),
            "edge preflight {origin} {method}"
        );
    }

    // A GET through the edge returns the object stored in Garage, with the
    // engine's headers for the allowed origin and none for the denied one.
    let get = world.edge_request(
        "GET",
        host,
        "/hello.txt",
        &[("Origin", "https://app.example.com")],
    );
    assert_eq!(
        get.status,
        200,
        "GET through the edge: {}\n{}",
        get.text(),
        world.edge.log_tail()
    );
    assert_eq!(get.text(), "hello from Garage\n");
    assert_eq!(
        get.header("access-control-allow-origin"),
        Some("https://app.example.com")
    );
    assert_eq!(get.header("access-control-expose-headers"), Some("ETag"));
    let get = world.edge_request(
        "GET",
        host,
        "/hello.txt",
        &[("Origin", "https://evil.example")],
    );
    assert_eq!(get.status, 200);
    assert_eq!(get.text(), "hello from Garage\n");
    assert_eq!(
        get.header("access-control-allow-origin"),
        None,
        "a denied origin gets the body without CORS headers"
    );

    // Re-applying the same manifest changes nothing.
    let rev_before = world.edge_request(
        "OPTIONS",
        host,
        "/",
        &[
            ("Origin", "https://app.example.com"),
            ("Access-Control-Request-Method", "GET"),
        ],
    );
    let run = world.apply(&path);
    assert_eq!(run.code, Some(0), "second apply failed:\n{}", run.all());
    assert!(
        run.all().to_lowercase().contains("unchanged"),
        "a second apply reports the bucket unchanged:\n{}",
        run.all()
    );

    // A rule change reaches the bucket and then the edge.
    let manifest = s3_manifest(
        "uploads",
        "sys-uploads",
        &world.garage.endpoint(),
        RULES_V2,
        &edge,
        "Delete",
    );
    cli::write(&world.dir, "uploads.yaml", &manifest);
    let run = world.apply(&path);
    assert_eq!(
        run.code,
        Some(0),
        "apply of the change failed:\n{}",
        run.all()
    );
    assert_eq!(
        world.bucket_origins("sys-uploads"),
        Some(vec![vec![
            "https://app.example.com".to_owned(),
            "https://new.example.com".to_owned()
        ]]),
        "the change is in Garage"
    );
    let took = wait_until(
        "the edge serves the new rules",
        Duration::from_secs(20),
        || {
            world
                .edge_preflight(host, "https://new.example.com", "GET")
                .0
                == 200
        },
    );
    eprintln!("rule change served by the edge {took:?} after apply returned");
    let engine = engine_for(&manifest);
    let r = world.edge_request(
        "OPTIONS",
        host,
        "/hello.txt",
        &[
            ("Origin", "https://new.example.com"),
            ("Access-Control-Request-Method", "PUT"),
        ],
    );
    assert_eq!(
        cors_of(&r),
        expected_preflight(&engine, "https://new.example.com", "PUT")
    );
    assert_eq!(r.header("access-control-max-age"), Some("900"));
    assert_ne!(
        r.header("x-bucketcors-revision"),
        rev_before.header("x-bucketcors-revision"),
        "a new revision is served"
    );
}

#[test]
fn two_dialects_behind_one_worker() {
    let world = World::start(&["sys-s3"], &fast_edge());
    let web_port = world.serve_website("sys-s3", "localhost");
    world.put_object("sys-s3", "a.txt", b"from garage\n");
    let oss = OssStandIn::start("sys-oss").expect("OSS stand-in listens");

    let s3 = s3_manifest(
        "s3-bucket",
        "sys-s3",
        &world.garage.endpoint(),
        "    - allowedOrigins: [\"https://app.example.com\"]\n      allowedMethods: [GET]\n",
        &edge_block("s3.system.test", &format!("http://localhost:{web_port}")),
        "Delete",
    );
    let oss_manifest = format!(
        "apiVersion: bucketcors.dev/v1alpha1\nkind: BucketCors\nmetadata:\n  name: oss-bucket\n  namespace: system-test\nspec:\n  backend:\n    provider: oss\n    bucket: sys-oss\n    endpoint: {}\n    region: cn-hangzhou\n    pathStyle: true\n  responseVary: true\n  rules:\n    - allowedOrigins: [\"https://app.example.com\"]\n      allowedMethods: [GET]\n{}  deletionPolicy: Delete\n",
        oss.endpoint(),
        edge_block("oss.system.test", &oss.origin_url())
    );
    cli::write(&world.dir, "s3.yaml", &s3);
    cli::write(&world.dir, "oss.yaml", &oss_manifest);
    let mut env = world.env();
    env.push(("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI-standin".into()));
    env.push(("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "standin-secret".into()));
    let args = world.apply_args(&world.dir, &world.edge.api_url);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let run = cli::run(&args, &env);
    assert_eq!(
        run.code,
        Some(0),
        "applying both manifests failed:\n{}",
        run.all()
    );
    assert!(
        run.all().contains("sys-s3") && run.all().contains("sys-oss"),
        "a progress line per bucket:\n{}",
        run.all()
    );
    assert!(
        oss.cors_xml()
            .is_some_and(|x| x.contains("<ResponseVary>true</ResponseVary>")),
        "OSS got PutBucketCors with ResponseVary: {:?}",
        oss.calls()
    );
    assert!(
        world.bucket_rules("sys-s3").is_some(),
        "Garage got the S3 rules"
    );

    // One worker, two routes, two dialects: the S3 answer echoes the origin
    // with credentials; the OSS answer echoes it without, and `Vary: Origin`
    // comes on every response because of ResponseVary.
    let s3_engine = engine_for(&s3);
    let oss_engine = engine_for(&oss_manifest);
    assert_eq!(oss_engine_dialect(&oss_manifest), Dialect::Oss);
    for (host, engine) in [
        ("s3.system.test", &s3_engine),
        ("oss.system.test", &oss_engine),
    ] {
        for origin in ["https://app.example.com", "https://evil.example"] {
            let r = world.edge_request(
                "OPTIONS",
                host,
                "/a.txt",
                &[("Origin", origin), ("Access-Control-Request-Method", "GET")],
            );
            assert_eq!(
                cors_of(&r),
                expected_preflight(engine, origin, "GET"),
                "{host} preflight from {origin}"
            );
        }
    }
    let s3_ok = world.edge_request(
        "OPTIONS",
        "s3.system.test",
        "/a.txt",
        &[
            ("Origin", "https://app.example.com"),
            ("Access-Control-Request-Method", "GET"),
        ],
    );
    assert_eq!(
        s3_ok.header("access-control-allow-credentials"),
        Some("true")
    );
    let oss_ok = world.edge_request(
        "OPTIONS",
        "oss.system.test",
        "/a.txt",
        &[
            ("Origin", "https://app.example.com"),
            ("Access-Control-Request-Method", "GET"),
        ],
    );
    assert_eq!(oss_ok.header("access-control-allow-credentials"), None);
    let oss_denied = world.edge_request(
        "OPTIONS",
        "oss.system.test",
        "/a.txt",
        &[
            ("Origin", "https://evil.example"),
            ("Access-Control-Request-Method", "GET"),
        ],
    );
    assert!(
        oss_denied.text().contains("<EC>"),
        "OSS error body shape: {}",
        oss_denied.text()
    );
    let s3_denied = world.edge_request(
        "OPTIONS",
        "s3.system.test",
        "/a.txt",
        &[
            ("Origin", "https://evil.example"),
            ("Access-Control-Request-Method", "GET"),
        ],
    );
    assert!(
        s3_denied
            .text()
            .contains("<ResourceType>OBJECT</ResourceType>"),
        "S3 error body shape: {}",
        s3_denied.text()
    );

    // Actual requests go to each route's own bucket.
    let a = world.edge_request(
        "GET",
        "s3.system.test",
        "/a.txt",
        &[("Origin", "https://app.example.com")],
    );
    assert_eq!((a.status, a.text().as_str()), (200, "from garage\n"));
    let b = world.edge_request(
        "GET",
        "oss.system.test",
        "/a.txt",
        &[("Origin", "https://evil.example")],
    );
    assert_eq!((b.status, b.text().as_str()), (200, "object a.txt"));
    assert_eq!(b.header("access-control-allow-origin"), None);
    assert_eq!(
        b.header("vary"),
        Some("Origin"),
        "ResponseVary: Vary: Origin even on a response without CORS"
    );
}

fn oss_engine_dialect(manifest: &str) -> Dialect {
    parse_document(manifest)
        .expect("parses")
        .dialect
        .expect("names a provider")
}
