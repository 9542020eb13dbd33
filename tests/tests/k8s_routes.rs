//! Edge routes follow the spec, against the real control plane, Garage and
//! the edge harness (whose Cloudflare KV API is read directly here, so the
//! expectations are what the edge API really holds).
//!
//! One object's life: published on two hosts under a prefix (the status
//! lists both routes with the revision the edge API holds); a host removed
//! from the spec is withdrawn (its record and its host's routes record are
//! deleted); a new prefix publishes the new route and withdraws the old
//! one; a new origin URL republishes the record though the rules are the
//! same; a record deleted or changed at the edge is put back on the next
//! resync (`EdgeDriftRepaired`); removing `spec.edge` withdraws every
//! route. A prefix the edge cannot route (two segments) is refused by the
//! API server, before anything is written.

mod support;

use std::time::Duration;

use bucketcors_engine::edge_record::{EdgeRecord, HostRoutes, host_routes_key, route_key};
use bucketcors_testkit::edge::EdgeOptions;
use serde_json::{Value, json};
use support::cluster::{Cluster, Operator};
use support::edge_kv::{kv_get, kv_request};
use support::manifest::{self, BucketCorsManifest, GARAGE_SECRET};
use support::world::World;

const NS: &str = "routes";
const BUCKET: &str = "routes-site";
const A: &str = "a.routes.test";
const B: &str = "b.routes.test";
const APP: &str = "https://app.example.com";
const SETTLE: Duration = Duration::from_secs(60);

/// The object with `spec.edge` on `hosts` under `prefix`, fronting `origin`.
fn object(endpoint: &str, hosts: &[&str], prefix: &str, origin: &str) -> String {
    BucketCorsManifest::garage(NS, "site", endpoint, BUCKET)
        .rule(&[APP], &["GET", "PUT"])
        .spec("resyncInterval", "2s")
        .spec(
            "edge",
            json!({"enabled": true, "hosts": hosts, "pathPrefix": prefix, "originUrl": origin}),
        )
        .render()
}

/// The record the edge API holds for `host` + `prefix`, parsed.
fn record(world: &World, host: &str, prefix: &str) -> Option<EdgeRecord> {
    let key = route_key(host, Some(prefix)).unwrap();
    kv_get(&world.edge, &key)
        .map(|text| EdgeRecord::from_json(&text).expect("the worker can read the record"))
}

/// The prefixes the host's routes record lists (`None`: no record).
fn host_prefixes(world: &World, host: &str) -> Option<Vec<String>> {
    kv_get(&world.edge, &host_routes_key(host).unwrap())
        .map(|text| HostRoutes::from_json(&text).unwrap().prefixes)
}

/// `status.edgeRoutes` as (host, pathPrefix, revision).
fn status_routes(cluster: &Cluster) -> Vec<(String, String, String)> {
    let object = cluster.get("bucketcors", NS, "site").unwrap();
    object["status"]["edgeRoutes"]
        .as_array()
        .map(|routes| {
            routes
                .iter()
                .map(|r| {
                    (
                        r["host"].as_str().unwrap().to_owned(),
                        r["pathPrefix"].as_str().unwrap_or("").to_owned(),
                        r["revision"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn status(cluster: &Cluster) -> Value {
    cluster.get("bucketcors", NS, "site").unwrap()["status"].clone()
}

fn event_reasons(cluster: &Cluster) -> Vec<String> {
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
    let events: Value = serde_json::from_str(&events).unwrap();
    events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["reason"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn edge_routes_follow_the_spec_and_are_repaired_at_the_edge() {
    let world = World::start(&[BUCKET], &EdgeOptions::default());
    let endpoint = world.garage.endpoint();
    let origin = format!("{endpoint}/{BUCKET}");
    let cluster = Cluster::install_with_edge(
        &world.edge,
        &[
            "--set-json",
            &format!(r#"tenancy.edgeHosts={{"{NS}":["*.routes.test"]}}"#),
        ],
    );
    let _operator = Operator::start(&cluster, "bucketcors-0");
    cluster.create_namespace(NS);
    cluster.apply(&manifest::credentials(
        NS,
        GARAGE_SECRET,
        world.garage.key(),
    ));

    // 0. A prefix the edge cannot route is refused by the API server.
    let (ok, _, stderr) = cluster.apply_raw(&object(&endpoint, &[A], "/a/b", &origin));
    assert!(!ok, "a two-segment prefix is refused");
    assert!(
        stderr.contains("spec.edge.pathPrefix") && stderr.contains("one path segment"),
        "the refusal names the field and the reason: {stderr}"
    );
    assert!(cluster.get("bucketcors", NS, "site").is_none());
    assert_eq!(kv_get(&world.edge, &host_routes_key(A).unwrap()), None);

    // 1. Two hosts under /assets: both records hold the rules, dialect and
    // origin; the status lists both routes at the revision the edge holds.
    cluster.apply(&object(&endpoint, &[A, B], "/assets", &origin));
    cluster.wait_condition(NS, "site", "Ready", "True", None, SETTLE);
    let revision = status(&cluster)["appliedRevision"]
        .as_str()
        .unwrap()
        .to_owned();
    for host in [A, B] {
        let held = record(&world, host, "assets").expect("the route is published");
        assert_eq!(held.revision(), revision);
        assert_eq!(held.origin_url, origin);
        assert_eq!(held.dialect, bucketcors_engine::Dialect::S3);
        assert_eq!(host_prefixes(&world, host), Some(vec!["assets".into()]));
    }
    let both = vec![
        (A.to_owned(), "/assets".to_owned(), revision.clone()),
        (B.to_owned(), "/assets".to_owned(), revision.clone()),
    ];
    assert_eq!(status_routes(&cluster), both);
    assert_eq!(status(&cluster)["edgeRevision"], revision.as_str());

    // 2. B leaves the spec: its record and its routes record are deleted.
    cluster.apply(&object(&endpoint, &[A], "/assets", &origin));
    cluster.wait_for("B to be withdrawn", SETTLE, || {
        (record(&world, B, "assets").is_none() && status_routes(&cluster).len() == 1).then_some(())
    });
    assert_eq!(host_prefixes(&world, B), None, "B routes nothing now");
    assert!(record(&world, A, "assets").is_some(), "A stays");
    assert!(
        event_reasons(&cluster)
            .iter()
            .any(|r| r == "EdgeUnpublished")
    );

    // 3. A new prefix: /media is published, /assets withdrawn.
    cluster.apply(&object(&endpoint, &[A], "/media", &origin));
    cluster.wait_for("the prefix to move", SETTLE, || {
        (record(&world, A, "assets").is_none() && record(&world, A, "media").is_some())
            .then_some(())
    });
    assert_eq!(host_prefixes(&world, A), Some(vec!["media".into()]));
    cluster.wait_for("the status to list /media", SETTLE, || {
        (status_routes(&cluster) == [(A.to_owned(), "/media".to_owned(), revision.clone())])
            .then_some(())
    });

    // 4. A new origin URL with the same rules republishes the record.
    let moved = format!("{endpoint}/{BUCKET}/v2");
    cluster.apply(&object(&endpoint, &[A], "/media", &moved));
    cluster.wait_for("the record to carry the new origin", SETTLE, || {
        (record(&world, A, "media")?.origin_url == moved).then_some(())
    });

    // 5. Drift at the edge: a deleted record, then a changed one, are put
    // back on the next resync.
    let key = route_key(A, Some("media")).unwrap();
    assert_eq!(kv_request(&world.edge, "DELETE", &key, b""), 200);
    cluster.wait_for("the deleted record to come back", SETTLE, || {
        let held = record(&world, A, "media")?;
        (held.origin_url == moved && held.revision() == revision).then_some(())
    });
    let tampered = EdgeRecord::new(
        "http://127.0.0.1:9/evil",
        bucketcors_engine::Dialect::S3,
        None,
    )
    .unwrap();
    assert_eq!(
        kv_request(&world.edge, "PUT", &key, tampered.to_json().as_bytes()),
        200
    );
    cluster.wait_for("the changed record to be restored", SETTLE, || {
        let held = record(&world, A, "media")?;
        (held.origin_url == moved && held.revision() == revision).then_some(())
    });
    cluster.wait_for("an EdgeDriftRepaired Event", SETTLE, || {
        event_reasons(&cluster)
            .iter()
            .any(|r| r == "EdgeDriftRepaired")
            .then_some(())
    });

    // 6. spec.edge removed: every route is withdrawn.
    cluster.kubectl(&[
        "patch",
        "bucketcors",
        "site",
        "-n",
        NS,
        "--type=json",
        "-p",
        r#"[{"op":"remove","path":"/spec/edge"}]"#,
    ]);
    cluster.wait_condition(
        NS,
        "site",
        "EdgePublished",
        "True",
        Some("Disabled"),
        SETTLE,
    );
    assert_eq!(record(&world, A, "media"), None);
    assert_eq!(host_prefixes(&world, A), None);
    assert!(status_routes(&cluster).is_empty());
    assert!(status(&cluster)["edgeRevision"].is_null());
}
