//! Faults of the Cloudflare KV API while `bucketcors apply` publishes: 500s,
//! 429s with `Retry-After`, and an API that accepts the connection and never
//! answers. A fault-injecting proxy ([`support::fault_proxy`]) sits between
//! the CLI and the edge harness's KV API.
//!
//! Every test ends the same way: the error is reported (non-zero exit, a
//! message naming the edge publish and never the API token), the bucket
//! holds the rules the apply wrote, the edge still serves the last rules it
//! was given (never nothing, never a 5xx), and once the fault is gone a
//! re-run publishes and the edge serves the new rules.

mod support;

use std::time::{Duration, Instant};

use bucketcors_testkit::edge::EdgeOptions;
use support::cli::{self, Run};
use support::edge_kv::addr_of;
use support::fault_proxy::{Fault, FaultProxy};
use support::world::{World, edge_block, s3_manifest};

const HOST: &str = "faults.edge.test";

fn rules(origin: &str) -> String {
    format!("    - allowedOrigins: [\"{origin}\"]\n      allowedMethods: [GET, PUT]\n")
}

/// Garage + edge + proxy, with `https://v1.example` applied and served.
fn setup(bucket: &str) -> (World, FaultProxy, std::path::PathBuf) {
    let world = World::start(
        &[bucket],
        &EdgeOptions {
            rules_ttl_seconds: 1.0,
            ..EdgeOptions::default()
        },
    );
    let proxy = FaultProxy::start(addr_of(&world.edge.api_url)).expect("proxy listens");
    let manifest = s3_manifest(
        "faults",
        bucket,
        &world.garage.endpoint(),
        &rules("https://v1.example"),
        &edge_block(HOST, "http://127.0.0.1:9"),
        "Delete",
    );
    let path = cli::write(&world.dir, "faults.yaml", &manifest);
    let run = world.apply_via(&path, &api_url(&proxy));
    assert_eq!(
        run.code,
        Some(0),
        "the first apply succeeds:\n{}",
        run.all()
    );
    wait_served(&world, "https://v1.example");
    (world, proxy, path)
}

fn api_url(proxy: &FaultProxy) -> String {
    format!("{}/client/v4", proxy.url())
}

fn write_v2(world: &World, bucket: &str) {
    let manifest = s3_manifest(
        "faults",
        bucket,
        &world.garage.endpoint(),
        &rules("https://v2.example"),
        &edge_block(HOST, "http://127.0.0.1:9"),
        "Delete",
    );
    cli::write(&world.dir, "faults.yaml", &manifest);
}

fn wait_served(world: &World, origin: &str) {
    let start = Instant::now();
    while world.edge_preflight(HOST, origin, "GET").0 != 200 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the edge never served {origin}:\n{}",
            world.edge.log_tail()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The state every fault must leave: error reported, no secret printed,
/// bucket on v2, edge still on v1 (after its rules TTL has passed twice).
fn assert_last_good_in_force(world: &World, bucket: &str, run: &Run) {
    assert_ne!(
        run.code,
        Some(0),
        "a failed publish must fail the apply:\n{}",
        run.all()
    );
    let all = run.all();
    assert!(
        all.to_lowercase().contains("edge") || all.to_lowercase().contains("publish"),
        "the error names the edge publish:\n{all}"
    );
    assert!(
        !all.contains(&world.edge.token),
        "the API token leaked into the output:\n{all}"
    );
    assert!(
        !all.contains(&world.garage.key().secret_access_key),
        "the S3 secret leaked into the output:\n{all}"
    );
    assert_eq!(
        world.bucket_origins(bucket),
        Some(vec![vec!["https://v2.example".to_owned()]]),
        "the bucket got the new rules"
    );
    std::thread::sleep(Duration::from_millis(2500));
    let (status, acao) = world.edge_preflight(HOST, "https://v1.example", "GET");
    assert_eq!(
        (status, acao.as_deref()),
        (200, Some("https://v1.example")),
        "the edge keeps serving the last published rules"
    );
    assert_eq!(
        world.edge_preflight(HOST, "https://v2.example", "GET").0,
        403,
        "the unpublished rules are not served"
    );
}

/// After the fault: a re-run publishes and the edge serves v2.
fn assert_recovers(world: &World, proxy: &FaultProxy, path: &std::path::Path) {
    proxy.set(Fault::None);
    let run = world.apply_via(path, &api_url(proxy));
    assert_eq!(
        run.code,
        Some(0),
        "the re-run after the fault succeeds:\n{}",
        run.all()
    );
    wait_served(world, "https://v2.example");
}

#[test]
fn kv_api_answering_500_is_retried_then_reported() {
    let (world, proxy, path) = setup("fault-500");
    write_v2(&world, "fault-500");
    proxy.clear_hits();
    proxy.set(Fault::ServerError);
    let run = world.apply_via(&path, &api_url(&proxy));
    let hits = proxy.hits();
    assert!(
        hits.len() > 1,
        "a 500 is transient and retried; the API saw {} request(s)",
        hits.len()
    );
    assert!(
        hits.iter().all(|h| h.had_authorization),
        "every call is authenticated"
    );
    assert_last_good_in_force(&world, "fault-500", &run);
    assert_recovers(&world, &proxy, &path);
}

#[test]
fn kv_api_answering_429_waits_for_retry_after() {
    let (world, proxy, path) = setup("fault-429");
    write_v2(&world, "fault-429");

    // Two 429s, then the API recovers: the publisher waits as told and succeeds.
    proxy.clear_hits();
    proxy.set_for(
        Fault::TooManyRequests {
            retry_after_secs: 1,
        },
        2,
    );
    let run = world.apply_via(&path, &api_url(&proxy));
    assert_eq!(run.code, Some(0), "two 429s are waited out:\n{}", run.all());
    let hits = proxy.hits();
    assert!(
        hits.len() >= 3,
        "two refused calls and one that went through: {hits:?}"
    );
    for pair in hits.windows(2).take(2) {
        let gap = pair[1].at.duration_since(pair[0].at);
        assert!(
            gap >= Duration::from_millis(900),
            "Retry-After: 1 was not honoured (retried after {gap:?})"
        );
    }
    wait_served(&world, "https://v2.example");

    // 429 for good: the apply gives up, reports it, and the edge keeps v2.
    let manifest = s3_manifest(
        "faults",
        "fault-429",
        &world.garage.endpoint(),
        &rules("https://v3.example"),
        &edge_block(HOST, "http://127.0.0.1:9"),
        "Delete",
    );
    cli::write(&world.dir, "faults.yaml", &manifest);
    proxy.set(Fault::TooManyRequests {
        retry_after_secs: 1,
    });
    let run = world.apply_via(&path, &api_url(&proxy));
    assert_ne!(
        run.code,
        Some(0),
        "persistent 429s fail the apply:\n{}",
        run.all()
    );
    assert!(
        !run.all().contains(&world.edge.token),
        "the API token leaked"
    );
    assert_eq!(
        world.bucket_origins("fault-429"),
        Some(vec![vec!["https://v3.example".to_owned()]])
    );
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(
        world.edge_preflight(HOST, "https://v2.example", "GET").0,
        200,
        "the last published rules stay in force"
    );
    assert_eq!(
        world.edge_preflight(HOST, "https://v3.example", "GET").0,
        403
    );
    proxy.set(Fault::None);
    let run = world.apply_via(&path, &api_url(&proxy));
    assert_eq!(run.code, Some(0), "{}", run.all());
    wait_served(&world, "https://v3.example");
}

#[test]
fn kv_api_hanging_times_out_and_is_reported() {
    let (world, proxy, path) = setup("fault-hang");
    write_v2(&world, "fault-hang");
    proxy.set(Fault::Hang);
    let start = Instant::now();
    let run = world.apply_via(&path, &api_url(&proxy));
    let took = start.elapsed();
    // The publisher's own timeouts end it; bounded, not forever.
    assert!(
        took < Duration::from_secs(180),
        "apply against a hanging API took {took:?}"
    );
    assert!(!proxy.hits().is_empty(), "the API was called");
    assert_last_good_in_force(&world, "fault-hang", &run);
    assert_recovers(&world, &proxy, &path);
}
