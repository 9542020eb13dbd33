//! One owner per bucket and per edge route, against the real control plane,
//! Garage and the edge harness: two teams name one bucket.
//!
//! `owners-a/first` is created first and owns Garage's bucket and its edge
//! host. `owners-b/second` names the same bucket, spelt differently (a
//! trailing `/` on the endpoint: the same bucket in canonical form), and
//! `owners-b/third` another bucket but `first`'s edge host: both get
//! `Ready=False` with reason `Conflict` naming `owners-a/first`, a
//! `Conflict` Event, and Garage and the edge keep `first`'s rules. Deleting
//! `third` leaves `first`'s bucket and route alone. When `first` goes,
//! `second` takes over on its next reconcile: Garage then holds `second`'s
//! rule.

mod support;

use std::time::Duration;

use bucketcors_testkit::edge::EdgeOptions;
use serde_json::Value;
use support::cluster::{Cluster, Operator};
use support::manifest::{self, BucketCorsManifest, GARAGE_SECRET};
use support::world::World;

const A: &str = "owners-a";
const B: &str = "owners-b";
const BUCKET: &str = "owners-site";
const OTHER: &str = "owners-other";
const HOST: &str = "site.owners.test";
const APP: &str = "https://app.example.com";
const SHOP: &str = "https://shop.example.com";
const SETTLE: Duration = Duration::from_secs(60);

fn event_reasons(cluster: &Cluster, namespace: &str, name: &str) -> Vec<String> {
    let events = cluster.kubectl(&[
        "get",
        "events",
        "-n",
        namespace,
        "--field-selector",
        &format!("involvedObject.name={name}"),
        "-o",
        "json",
    ]);
    let events: Value = serde_json::from_str(&events).unwrap();
    events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["reason"].as_str().map(str::to_owned))
        .collect()
}

/// Section 3: the edge echoes an allowed Origin on a preflight.
fn edge_allows(world: &World, origin: &str) -> bool {
    let (status, acao) = world.edge_preflight(HOST, origin, "PUT");
    status == 200 && acao.as_deref() == Some(origin)
}

#[test]
fn a_bucket_and_an_edge_route_have_one_owner() {
    let world = World::start(&[BUCKET, OTHER], &EdgeOptions::default());
    let endpoint = world.garage.endpoint();
    let cluster = Cluster::install_with_edge(
        &world.edge,
        &[
            "--set-json",
            &format!(r#"tenancy.edgeHosts={{"{A}":["*.owners.test"],"{B}":["*.owners.test"]}}"#),
        ],
    );
    let _operator = Operator::start(&cluster, "bucketcors-0");
    for ns in [A, B] {
        cluster.create_namespace(ns);
        cluster.apply(&manifest::credentials(
            ns,
            GARAGE_SECRET,
            world.garage.key(),
        ));
    }

    // 1. The owner: first's rule at Garage and at the edge.
    cluster.apply(
        &BucketCorsManifest::garage(A, "first", &endpoint, BUCKET)
            .rule(&[APP], &["GET", "PUT"])
            .edge(HOST, &format!("{endpoint}/{BUCKET}"))
            .render(),
    );
    cluster.wait_condition(A, "first", "Ready", "True", None, SETTLE);
    cluster.wait_for("the edge to serve first's rule", SETTLE, || {
        edge_allows(&world, APP).then_some(())
    });
    let puts = world.garage.s3_request_count("PutBucketCors").unwrap();

    // 2. Two later claimants: the same bucket, spelt differently; and the
    // same edge host for another bucket.
    cluster.apply(
        &BucketCorsManifest::garage(B, "second", &format!("{endpoint}/"), BUCKET)
            .rule(&[SHOP], &["GET", "PUT"])
            .spec("resyncInterval", "2s")
            .render(),
    );
    cluster.apply(
        &BucketCorsManifest::garage(B, "third", &endpoint, OTHER)
            .rule(&[SHOP], &["GET", "PUT"])
            .edge(HOST, &format!("{endpoint}/{OTHER}"))
            .render(),
    );
    for (name, what) in [("second", BUCKET), ("third", HOST)] {
        let ready = cluster.wait_condition(B, name, "Ready", "False", Some("Conflict"), SETTLE);
        let message = ready["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("owners-a/first") && message.contains(what),
            "{name}: the condition names the owner and what it owns: {ready}"
        );
        cluster.wait_for(&format!("a Conflict Event on {name}"), SETTLE, || {
            event_reasons(&cluster, B, name)
                .iter()
                .any(|r| r == "Conflict")
                .then_some(())
        });
    }
    assert_eq!(
        world.garage.s3_request_count("PutBucketCors").unwrap(),
        puts,
        "nothing was written for a claimant"
    );
    assert_eq!(
        world.bucket_origins(BUCKET),
        Some(vec![vec![APP.to_string()]])
    );
    assert_eq!(world.bucket_origins(OTHER), None, "third wrote nothing");
    assert!(edge_allows(&world, APP) && !edge_allows(&world, SHOP));

    // 3. Deleting a claimant leaves the owner's bucket and route alone.
    cluster.kubectl(&["delete", "bucketcors", "third", "-n", B, "--wait=true"]);
    assert_eq!(
        world.bucket_origins(BUCKET),
        Some(vec![vec![APP.to_string()]])
    );
    assert!(edge_allows(&world, APP), "the owner's route stays");
    assert_eq!(
        world.garage.s3_request_count("DeleteBucketCors").unwrap(),
        0,
        "no DeleteBucketCors for a claimant"
    );

    // 4. The owner goes: second takes over on its next reconcile.
    cluster.kubectl(&["delete", "bucketcors", "first", "-n", A, "--wait=true"]);
    cluster.wait_condition(B, "second", "Ready", "True", None, SETTLE);
    assert_eq!(
        world.bucket_origins(BUCKET),
        Some(vec![vec![SHOP.to_string()]])
    );
}
