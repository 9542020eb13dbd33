//! Tenancy as the installer sets it in the chart, against the real control
//! plane, Garage and the edge harness: two teams share one operator.
//! `team-ok` is given the operator's default credentials and the edge hosts
//! `*.ok.edge.test`; `team-x` is given nothing. Every object of `team-x`
//! that reaches for what it was not given (the default credentials, an
//! endpoint off the allow-list, an edge host of another team) is refused
//! with `Ready=False`, a reason of its own, a message naming the chart value
//! to change, and a Warning Event; Garage sees no request and the edge no
//! record for any of them. Then `team-ok`'s objects (default credentials,
//! an allowed edge host) become Ready, so the refusals are the policy and
//! not a broken setup. A `credentialsSecretRef` cannot name another
//! namespace at all: the API server refuses the field.

mod support;

use std::time::Duration;

use bucketcors_testkit::edge::EdgeOptions;
use serde_json::{Value, json};
use support::cluster::{Cluster, Operator, RELEASE_NS};
use support::manifest::{self, BucketCorsManifest, GARAGE_SECRET};
use support::world::World;

const OK: &str = "team-ok";
const X: &str = "team-x";
const BUCKET: &str = "tenancy-site";
const OK_HOST: &str = "site.ok.edge.test";
const APP: &str = "https://app.example.com";
const SETTLE: Duration = Duration::from_secs(60);

/// A BucketCors on Garage with one rule for [`APP`].
fn object(namespace: &str, name: &str, endpoint: &str) -> BucketCorsManifest {
    BucketCorsManifest::garage(namespace, name, endpoint, BUCKET).rule(&[APP], &["GET", "PUT"])
}

/// The same object without `credentialsSecretRef`: the default credentials.
fn without_secret(manifest: BucketCorsManifest) -> String {
    let mut value: Value = serde_json::from_str(&manifest.render()).unwrap();
    value["spec"]["backend"]
        .as_object_mut()
        .unwrap()
        .remove("credentialsSecretRef");
    value.to_string()
}

fn garage_requests(world: &World) -> u64 {
    ["PutBucketCors", "GetBucketCors", "DeleteBucketCors"]
        .iter()
        .map(|op| world.garage.s3_request_count(op).expect("Garage metrics"))
        .sum()
}

/// The reasons of the Events about `namespace/name`.
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

#[test]
fn each_namespace_uses_only_what_the_installer_gave_it() {
    let world = World::start(&[BUCKET], &EdgeOptions::default());
    let edge = &world.edge;
    let endpoint = world.garage.endpoint();
    let cluster = Cluster::install_with_edge(
        edge,
        &[
            // The operator's default credentials: Garage's key in its own Secret.
            "--set",
            &format!("defaultCredentials.s3.existingSecret={GARAGE_SECRET}"),
            "--set",
            &format!("tenancy.defaultCredentialsNamespaces={{{OK}}}"),
            "--set-json",
            &format!(r#"tenancy.edgeHosts={{"{OK}":["*.ok.edge.test"]}}"#),
        ],
    );
    cluster.apply(&manifest::credentials(
        RELEASE_NS,
        GARAGE_SECRET,
        world.garage.key(),
    ));
    let _operator = Operator::start(&cluster, "bucketcors-0");
    for ns in [OK, X] {
        cluster.create_namespace(ns);
        cluster.apply(&manifest::credentials(
            ns,
            GARAGE_SECRET,
            world.garage.key(),
        ));
    }

    // 1. team-x reaches for what it was not given; every attempt is refused.
    // Garage's endpoint by another name: a request would still reach Garage
    // (and be counted), but `localhost` is not on the allow-list.
    let off_list = endpoint.replace("127.0.0.1", "localhost");
    assert_ne!(
        off_list, endpoint,
        "Garage listens on 127.0.0.1: {endpoint}"
    );
    // (name, manifest, reason, the chart value to change, what else the
    // message names: the namespace, or the endpoint refused for everyone).
    let refused: [(&str, String, &str, &str, &str); 3] = [
        (
            "no-secret",
            without_secret(object(X, "no-secret", &endpoint)),
            "DefaultCredentialsNotAllowed",
            "tenancy.defaultCredentialsNamespaces",
            X,
        ),
        (
            "off-list",
            object(X, "off-list", &off_list).render(),
            "EndpointNotAllowed",
            "tenancy.allowedEndpoints",
            "localhost",
        ),
        (
            "other-host",
            object(X, "other-host", &endpoint)
                .edge(OK_HOST, &format!("{endpoint}/{BUCKET}"))
                .render(),
            "EdgeHostNotAllowed",
            "tenancy.edgeHosts",
            X,
        ),
    ];
    for (_, manifest, _, _, _) in &refused {
        cluster.apply(manifest);
    }
    for (name, _, reason, value, names) in &refused {
        let ready = cluster.wait_condition(X, name, "Ready", "False", Some(reason), SETTLE);
        let message = ready["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(value) && message.contains(names),
            "{name}: the condition names {names} and the chart value {value}: {ready}"
        );
        assert!(
            !message.contains(&world.garage.key().secret_access_key),
            "{name}: no secret in the condition"
        );
        cluster.wait_for(&format!("a {reason} Event on {X}/{name}"), SETTLE, || {
            event_reasons(&cluster, X, name)
                .iter()
                .any(|r| r == reason)
                .then_some(())
        });
    }
    let other_host = cluster.condition(X, "other-host", "EdgePublished").unwrap();
    assert_eq!(other_host["reason"], "EdgeHostNotAllowed", "{other_host}");
    assert_eq!(
        garage_requests(&world),
        0,
        "Garage received no CORS request for a refused object"
    );
    let (status, acao) = world.edge_preflight(OK_HOST, APP, "PUT");
    assert!(
        acao.is_none(),
        "the edge serves no rules for the host team-x tried to claim: {status} {acao:?}"
    );

    // 2. A Secret reference cannot leave the object's namespace: the field
    // does not exist, and the API server says so.
    let mut cross: Value = serde_json::from_str(&object(X, "cross", &endpoint).render()).unwrap();
    cross["spec"]["backend"]["credentialsSecretRef"] =
        json!({"name": GARAGE_SECRET, "namespace": RELEASE_NS});
    let (ok, _, stderr) = cluster.apply_raw(&cross.to_string());
    assert!(!ok, "a credentialsSecretRef naming a namespace is refused");
    assert!(
        stderr.contains("namespace") && stderr.to_lowercase().contains("unknown field"),
        "the API server names the unknown field: {stderr}"
    );

    // 3. team-ok uses what it was given: the default credentials and an
    // edge host under its suffix.
    cluster.apply(&without_secret(
        object(OK, "site", &endpoint).edge(OK_HOST, &format!("{endpoint}/{BUCKET}")),
    ));
    let ready = cluster.wait_condition(OK, "site", "Ready", "True", None, SETTLE);
    assert_eq!(ready["reason"], "Synced", "{ready}");
    assert!(
        world.garage.s3_request_count("PutBucketCors").unwrap() >= 1,
        "the allowed object was written with the default credentials"
    );
    assert_eq!(
        world.bucket_origins(BUCKET),
        Some(vec![vec![APP.to_string()]]),
        "Garage holds team-ok's rule"
    );
    let published = cluster.wait_for("the edge to serve team-ok's host", SETTLE, || {
        let (status, acao) = world.edge_preflight(OK_HOST, APP, "PUT");
        (status == 200 && acao.as_deref() == Some(APP)).then_some(status)
    });
    assert_eq!(published, 200);
}
