//! RBAC as the real API server enforces it: the operator runs with a token
//! of the chart's ServiceAccount, so the chart's ClusterRole is all it may
//! do. The positive case is every other `k8s_*` test (the chart's RBAC is
//! enough for the whole life of a BucketCors); this is the negative control:
//! with one needed verb taken out of the ClusterRole (`get` on Secrets),
//! the API server answers Forbidden, and that surfaces in the operator's
//! log and in the object's status, naming the verb and the resource, while
//! nothing is written to the bucket.

mod support;

use std::time::Duration;

use bucketcors_testkit::garage::Garage;
use support::cluster::{Cluster, Operator, RELEASE};
use support::manifest::{self, BucketCorsManifest, GARAGE_SECRET};

const NS: &str = "team-c";
const BUCKET: &str = "rbac-site";

#[test]
fn a_verb_taken_out_of_the_chart_role_surfaces_as_forbidden() {
    let garage = Garage::start(&[BUCKET]).unwrap_or_else(|e| panic!("Garage must run: {e}"));
    let cluster = Cluster::install(&[]);

    // The chart's ClusterRole, with `get` removed from the Secrets rule.
    let role = cluster
        .get("clusterrole", "", RELEASE)
        .expect("the chart's ClusterRole");
    let rules = role["rules"].as_array().expect("rules");
    let index = rules
        .iter()
        .position(|r| r["resources"] == serde_json::json!(["secrets"]))
        .expect("a rule for Secrets");
    assert!(
        rules[index]["verbs"]
            .as_array()
            .unwrap()
            .contains(&"get".into())
    );
    cluster.kubectl(&[
        "patch",
        "clusterrole",
        RELEASE,
        "--type=json",
        "-p",
        &format!(r#"[{{"op":"replace","path":"/rules/{index}/verbs","value":["list","watch"]}}]"#),
    ]);

    let operator = Operator::start(&cluster, "bucketcors-0");
    cluster.create_namespace(NS);
    cluster.apply(&manifest::credentials(NS, GARAGE_SECRET, garage.key()));
    cluster.apply(
        &BucketCorsManifest::garage(NS, "site", &garage.endpoint(), BUCKET)
            .rule(&["https://app.example.com"], &["GET"])
            .render(),
    );

    let ready = cluster.wait_condition(NS, "site", "Ready", "False", None, Duration::from_secs(60));
    let message = ready["message"].as_str().unwrap_or_default().to_lowercase();
    assert!(
        message.contains("forbidden") && message.contains("secret"),
        "the status says the Secret could not be read for lack of rights: {ready}"
    );
    let log = operator.log().to_lowercase();
    assert!(
        log.contains("forbidden") && log.contains("secrets"),
        "the operator's log names the Forbidden:\n{}",
        operator.log()
    );
    assert_eq!(
        garage.s3_request_count("PutBucketCors").unwrap(),
        0,
        "nothing reached the bucket"
    );
}
