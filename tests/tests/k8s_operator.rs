//! The main job against a real Kubernetes control plane: the chart
//! installed with `helm install`, the operator running with the chart's
//! own ServiceAccount and RBAC, and a team using nothing but `kubectl`.
//!
//! One test walks the whole life of a `BucketCors` pointing at a real Garage
//! with edge publishing to the local edge harness: apply, Ready, what the
//! bucket and the edge answer, `kubectl get` and Events, conditions across
//! reconciles (server-side apply merging), an edit, drift from another S3
//! client, a rotated Secret, a restart of the operator, and deletion under
//! `Delete` and `Retain`. The expected answers come from the manifest and
//! the spec (`cors-semantics.md` section 3), not from the operator.
//!
//! What this cannot prove: pods never run (no kubelet), so the image, the
//! probes and the Deployment's scheduling are checked only as rendered
//! manifests by `scripts/check-chart.sh`.

mod support;

use std::time::{Duration, Instant};

use bucketcors_testkit::edge::EdgeOptions;
use bucketcors_testkit::garage::GarageKey;
use serde_json::json;
use support::cluster::{Cluster, Operator};
use support::garage_sdk::{self, config, rule};
use support::manifest::{self, BucketCorsManifest, GARAGE_SECRET};
use support::world::World;

const NS: &str = "team-a";
const BUCKET: &str = "k8s-site";
const KEPT: &str = "k8s-kept";
const HOST: &str = "site.edge.test";
const KEPT_HOST: &str = "kept.edge.test";
const APP: &str = "https://app.example.com";
const SHOP: &str = "https://shop.example.com";
const EVIL: &str = "https://evil.example";
const SETTLE: Duration = Duration::from_secs(60);

/// The test's BucketCors: one rule for `origin`, published to the edge for
/// `host` with Garage's bucket URL as the origin.
fn bucket_cors(
    world: &World,
    name: &str,
    bucket: &str,
    host: &str,
    origin: &str,
) -> BucketCorsManifest {
    let endpoint = world.garage.endpoint();
    BucketCorsManifest::garage(NS, name, &endpoint, bucket)
        .rule_with(json!({
            "allowedOrigins": [origin],
            "allowedMethods": ["GET", "PUT"],
            "allowedHeaders": ["content-type"],
            "maxAgeSeconds": 600,
        }))
        .edge(host, &format!("{endpoint}/{bucket}"))
}

/// The allowed origins Garage holds for `bucket`, rule by rule.
fn origins_at_garage(world: &World, bucket: &str) -> Option<Vec<Vec<String>>> {
    world.bucket_origins(bucket)
}

fn puts(world: &World) -> u64 {
    world
        .garage
        .s3_request_count("PutBucketCors")
        .expect("Garage metrics")
}

/// Section 3: an allowed preflight is 200 with the Origin echoed; a refused
/// one is 403 with no Access-Control-Allow-Origin.
#[track_caller]
fn edge_allows(world: &World, host: &str, origin: &str) -> bool {
    match world.edge_preflight(host, origin, "PUT") {
        (200, Some(acao)) => {
            assert_eq!(acao, origin, "the edge echoes the allowed Origin");
            true
        }
        (403, None) => false,
        other => panic!("the edge answered a preflight for {origin} on {host} with {other:?}"),
    }
}

#[test]
fn a_team_applies_a_bucket_cors_with_kubectl_and_the_bucket_and_the_edge_answer() {
    let world = World::start(&[BUCKET, KEPT], &EdgeOptions::default());
    let edge = &world.edge;
    let cluster = Cluster::install_with_edge(
        edge,
        &[
            "--set-json",
            &format!(r#"tenancy.edgeHosts={{"{NS}":["{HOST}","{KEPT_HOST}"]}}"#),
        ],
    );
    let mut operator = Operator::start(&cluster, "bucketcors-0");

    // 1. The team's Secret and BucketCors, with kubectl.
    cluster.create_namespace(NS);
    cluster.apply(&manifest::credentials(
        NS,
        GARAGE_SECRET,
        world.garage.key(),
    ));
    cluster.apply(
        &bucket_cors(&world, "site", BUCKET, HOST, APP)
            .spec("resyncInterval", "3s")
            .render(),
    );
    let ready = cluster.wait_condition(NS, "site", "Ready", "True", None, SETTLE);
    let object = cluster.get("bucketcors", NS, "site").unwrap();
    assert_eq!(
        ready["observedGeneration"],
        object["metadata"]["generation"]
    );
    assert_eq!(
        origins_at_garage(&world, BUCKET),
        Some(vec![vec![APP.to_string()]]),
        "Garage holds the declared rule"
    );
    assert_eq!(puts(&world), 1, "one PutBucketCors for one object");
    let status = &object["status"];
    let revision = status["appliedRevision"]
        .as_str()
        .expect("appliedRevision")
        .to_string();
    assert_eq!(status["edgeRevision"].as_str(), Some(revision.as_str()));
    assert_eq!(status["ruleCount"], 1);
    // The edge answers as the manifest says (within the worker's rules TTL).
    cluster.wait_for("the edge to serve the rules", SETTLE, || {
        edge_allows(&world, HOST, APP).then_some(())
    });
    assert!(
        !edge_allows(&world, HOST, EVIL),
        "an origin the rule does not name is refused"
    );

    // 2. `kubectl get`: the server's printer columns.
    let table = cluster.kubectl(&["get", "bucketcors", "-n", NS, "-o", "wide"]);
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    let row: Vec<&str> = table
        .lines()
        .nth(1)
        .expect("one row")
        .split_whitespace()
        .collect();
    let column = |name: &str| {
        row[header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("column {name} in {header:?}"))]
    };
    assert_eq!(column("PROVIDER"), "s3", "{table}");
    assert_eq!(column("BUCKET"), BUCKET, "{table}");
    assert_eq!(column("RULES"), "1", "{table}");
    assert_eq!(column("READY"), "True", "{table}");
    assert_eq!(column("EDGE"), "Published", "{table}");
    assert_eq!(column("REVISION"), revision, "{table}");

    // 3. Events, as kubectl lists them.
    let events = cluster.kubectl(&[
        "get",
        "events",
        "-n",
        NS,
        "--field-selector",
        "involvedObject.name=site",
        "-o",
        "json",
    ]);
    let events: serde_json::Value = serde_json::from_str(&events).unwrap();
    let reasons: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["reason"].as_str())
        .collect();
    assert!(
        reasons.contains(&"Applied"),
        "an Applied event: {reasons:?}"
    );
    assert!(
        reasons.contains(&"EdgePublished"),
        "an EdgePublished event: {reasons:?}"
    );

    // 4. Resyncs keep the conditions' lastTransitionTime (server-side apply
    // merges the status; a resync that changes nothing moves nothing).
    let first_sync = status["lastSyncTime"]
        .as_str()
        .expect("lastSyncTime")
        .to_string();
    cluster.wait_for("a resync", SETTLE, || {
        let now = cluster.get("bucketcors", NS, "site")?;
        (now["status"]["lastSyncTime"].as_str()? != first_sync).then_some(())
    });
    let again = cluster.condition(NS, "site", "Ready").unwrap();
    assert_eq!(
        again["lastTransitionTime"], ready["lastTransitionTime"],
        "a resync keeps lastTransitionTime"
    );
    assert_eq!(
        puts(&world),
        1,
        "a resync of an unchanged bucket writes nothing"
    );

    // 5. An edit of the rules is applied, at the bucket and at the edge.
    cluster.apply(
        &bucket_cors(&world, "site", BUCKET, HOST, SHOP)
            .spec("resyncInterval", "3s")
            .render(),
    );
    cluster.wait_for("the edit at Garage", SETTLE, || {
        (origins_at_garage(&world, BUCKET)? == vec![vec![SHOP.to_string()]]).then_some(())
    });
    let edited = cluster.wait_for("observedGeneration 2", SETTLE, || {
        let c = cluster.condition(NS, "site", "Ready")?;
        (c["observedGeneration"] == 2 && c["status"] == "True").then_some(c)
    });
    assert_eq!(edited["status"], "True");
    cluster.wait_for("the edge to serve the edit", SETTLE, || {
        (edge_allows(&world, HOST, SHOP) && !edge_allows(&world, HOST, APP)).then_some(())
    });

    // 6. Drift made by another S3 client is repaired within the resync interval.
    let before_drift = puts(&world);
    put_rules_behind_the_operators_back(&world, BUCKET, EVIL);
    assert_eq!(
        origins_at_garage(&world, BUCKET),
        Some(vec![vec![EVIL.to_string()]])
    );
    let drift_at = Instant::now();
    cluster.wait_for("the drift to be repaired", SETTLE, || {
        (origins_at_garage(&world, BUCKET)? == vec![vec![SHOP.to_string()]]).then_some(())
    });
    eprintln!(
        "drift repaired after {:?} (resyncInterval 3s)",
        drift_at.elapsed()
    );
    assert_eq!(
        puts(&world),
        before_drift + 2,
        "the drift write and exactly one repair"
    );

    // 7. A rotated Secret is used: first a key Garage does not know (the
    // operator notices the Secret change, not a resync: the interval is now
    // an hour), then a new valid key.
    cluster.apply(
        &bucket_cors(&world, "site", BUCKET, HOST, SHOP)
            .spec("resyncInterval", "1h")
            .render(),
    );
    cluster.wait_for("observedGeneration 3", SETTLE, || {
        let c = cluster.condition(NS, "site", "Ready")?;
        (c["observedGeneration"] == 3 && c["status"] == "True").then_some(())
    });
    let unknown = GarageKey {
        access_key_id: "GK00000000000000000000000000".into(),
        secret_access_key: "0".repeat(64),
    };
    cluster.apply(&manifest::credentials(NS, GARAGE_SECRET, &unknown));
    let denied = cluster.wait_condition(NS, "site", "Ready", "False", None, SETTLE);
    assert!(
        !denied["message"]
            .as_str()
            .unwrap_or("")
            .contains(&unknown.secret_access_key),
        "no secret in the status: {denied}"
    );
    let rotated = world.garage.create_key("rotated").expect("a new key");
    world
        .garage
        .allow_key(BUCKET, &rotated)
        .expect("allow the new key");
    world
        .garage
        .allow_key(KEPT, &rotated)
        .expect("allow the new key on the second bucket");
    cluster.apply(&manifest::credentials(NS, GARAGE_SECRET, &rotated));
    cluster.wait_condition(NS, "site", "Ready", "True", None, SETTLE);
    assert_eq!(
        origins_at_garage(&world, BUCKET),
        Some(vec![vec![SHOP.to_string()]])
    );

    // 8. A restart of the operator leaves the last good rules in force and
    // writes nothing twice: the new process reads, compares, and is done.
    let before_restart = puts(&world);
    let gets_before = world.garage.s3_request_count("GetBucketCors").unwrap();
    assert!(
        operator.terminate().success(),
        "SIGTERM is a clean exit:\n{}",
        operator.log()
    );
    let mut operator = Operator::start(&cluster, "bucketcors-1");
    cluster.wait_for("the new process to read the bucket", SETTLE, || {
        (world.garage.s3_request_count("GetBucketCors").ok()? > gets_before).then_some(())
    });
    // It reconciled (read the bucket) and found nothing to write.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        puts(&world),
        before_restart,
        "no second write after a restart"
    );
    assert!(
        edge_allows(&world, HOST, SHOP),
        "the edge still serves the last good rules"
    );

    // 9. Deletion. `Retain` first: the bucket keeps its rules.
    cluster.apply(
        &bucket_cors(&world, "kept", KEPT, KEPT_HOST, APP)
            .spec("deletionPolicy", "Retain")
            .render(),
    );
    cluster.wait_condition(NS, "kept", "Ready", "True", None, SETTLE);
    cluster.kubectl(&["delete", "bucketcors", "kept", "-n", NS, "--timeout=60s"]);
    assert!(
        cluster.get("bucketcors", NS, "kept").is_none(),
        "the finalizer let go"
    );
    assert_eq!(
        origins_at_garage(&world, KEPT),
        Some(vec![vec![APP.to_string()]]),
        "Retain leaves the bucket's rules"
    );
    // `Delete` (the default): the rules and the edge route go, then the object.
    cluster.kubectl(&["delete", "bucketcors", "site", "-n", NS, "--timeout=60s"]);
    assert!(
        cluster.get("bucketcors", NS, "site").is_none(),
        "the finalizer let go"
    );
    assert_eq!(
        origins_at_garage(&world, BUCKET),
        None,
        "Delete removed the rules"
    );
    cluster.wait_for("the edge route to be withdrawn", SETTLE, || {
        (!edge_allows(&world, HOST, SHOP)).then_some(())
    });
    let events = cluster.kubectl(&["get", "events", "-n", NS, "-o", "json"]);
    assert!(
        events.contains("\"Retained\"") && events.contains("\"Deleted\""),
        "deletion Events"
    );

    // Nothing secret reached the operator's log.
    let log = operator.log();
    for secret in [
        &world.garage.key().secret_access_key,
        &rotated.secret_access_key,
        &world.edge.token,
    ] {
        assert!(
            !log.contains(secret.as_str()),
            "a secret in the operator's log"
        );
    }
    assert!(operator.terminate().success());
}

/// Another S3 client (the AWS SDK with the team's key) replaces the rules.
fn put_rules_behind_the_operators_back(world: &World, bucket: &str, origin: &str) {
    let client = garage_sdk::client(&world.garage, "test");
    let rules = config(vec![rule(&[origin], &["GET"], &[])]);
    tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(garage_sdk::put_cors(&client, bucket, &rules))
        .expect("the other client's PutBucketCors");
}
