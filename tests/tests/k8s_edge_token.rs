//! A rejected Cloudflare API token, against the real control plane, Garage
//! and the edge harness (whose KV API answers a wrong token as Cloudflare
//! does: 401 with error code 10000).
//!
//! The operator writes the bucket, then the edge refuses its token: the
//! object says so with `EdgePublished=False`, reason `EdgeTokenRejected`,
//! and a message telling the installer what to do (the Secret the chart
//! value names, the permission, a restart). It is a terminal condition: the
//! operator stops trying (no reconcile over several resync intervals)
//! instead of backing off forever. The token never appears in status,
//! Events or the log. Following the advice (a good token, a restart)
//! publishes the route.

mod support;

use std::time::Duration;

use bucketcors_testkit::edge::EdgeOptions;
use support::cluster::{Cluster, Operator, RELEASE_NS};
use support::manifest::{self, BucketCorsManifest, GARAGE_SECRET};
use support::world::World;

const NS: &str = "team-t";
const BUCKET: &str = "token-site";
const HOST: &str = "site.t.edge.test";
const APP: &str = "https://app.example.com";
const SETTLE: Duration = Duration::from_secs(60);
/// The object's resync interval.
const RESYNC: Duration = Duration::from_secs(2);

#[test]
fn a_rejected_token_stops_with_advice_and_a_good_one_publishes_after_a_restart() {
    let world = World::start(&[BUCKET], &EdgeOptions::default());
    let cluster = Cluster::install_with_edge(
        &world.edge,
        &[
            "--set-json",
            &format!(r#"tenancy.edgeHosts={{"{NS}":["*.t.edge.test"]}}"#),
        ],
    );
    let wrong = format!("revoked-token-{}-do-not-print", std::process::id());
    cluster.apply(&manifest::secret_entry(
        RELEASE_NS,
        "cloudflare-api-token",
        "apiToken",
        &wrong,
    ));
    let mut operator = Operator::start(&cluster, "bucketcors-0");
    cluster.create_namespace(NS);
    cluster.apply(&manifest::credentials(
        NS,
        GARAGE_SECRET,
        world.garage.key(),
    ));
    let endpoint = world.garage.endpoint();
    let object = BucketCorsManifest::garage(NS, "site", &endpoint, BUCKET)
        .rule(&[APP], &["GET"])
        .edge(HOST, &format!("{endpoint}/{BUCKET}"))
        .spec("resyncInterval", "2s")
        .render();
    cluster.apply(&object);

    let edge = cluster.wait_condition(
        NS,
        "site",
        "EdgePublished",
        "False",
        Some("EdgeTokenRejected"),
        SETTLE,
    );
    let message = edge["message"].as_str().unwrap_or_default();
    for advice in [
        "401",
        "edge.cloudflare.apiToken.existingSecret",
        "Workers KV Storage: Edit",
        "restart the operator",
    ] {
        assert!(
            message.contains(advice),
            "the message says {advice}: {edge}"
        );
    }
    // The bucket itself was written: the edge is the only problem.
    let synced = cluster
        .condition(NS, "site", "BackendSynced")
        .unwrap_or_else(|| panic!("no BackendSynced condition"));
    assert_eq!(synced["status"], "True", "{synced}");

    // Terminal: nothing is tried again over several resync intervals.
    let before = operator.reconciles();
    std::thread::sleep(4 * RESYNC);
    assert_eq!(
        operator.reconciles(),
        before,
        "a rejected token is not retried:\n{}",
        operator.log()
    );

    // The token reaches neither status, Events nor the log.
    let status = cluster.kubectl(&["get", "bucketcors", "-n", NS, "site", "-o", "json"]);
    let events = cluster.kubectl(&["get", "events", "-n", NS, "-o", "json"]);
    for (what, text) in [
        ("status", status),
        ("events", events),
        ("log", operator.log()),
    ] {
        assert!(!text.contains(&wrong), "the token reached the {what}");
    }

    // The advice works: a good token and a restart publish the route.
    cluster.apply(&manifest::secret_entry(
        RELEASE_NS,
        "cloudflare-api-token",
        "apiToken",
        &world.edge.token,
    ));
    assert!(operator.terminate().success());
    let _operator = Operator::start(&cluster, "bucketcors-1");
    cluster.wait_condition(NS, "site", "EdgePublished", "True", None, SETTLE);
    cluster.wait_condition(NS, "site", "Ready", "True", None, SETTLE);
    let (status, acao) = world.edge_preflight(HOST, APP, "GET");
    assert_eq!(
        (status, acao.as_deref()),
        (200, Some(APP)),
        "the edge answers the published rules"
    );
}
