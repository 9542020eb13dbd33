//! `bucketcors console` against a real control plane: the chart installed,
//! the operator running with the chart's RBAC, Garage behind it, and the
//! console using the admin kubeconfig (the user's identity; the console has
//! none of its own). Expected values come from `kubectl` and from Garage,
//! not from the console.
//!
//! The page: the overview lists what `kubectl get bucketcors -A` lists and
//! follows a new object from the watch; the detail shows the conditions as
//! the API server holds them and the object's Events; saving in the editor
//! changes the object (server-side apply), the operator applies it to
//! Garage, and the new status reaches the page without a reload; a
//! console given two `--namespace`s lists only those two and follows a
//! deletion.

mod support;

use std::time::{Duration, Instant};

use bucketcors_testkit::garage::Garage;
use serde_json::{Value, json};
use support::cluster::{Cluster, Operator};
use support::console::{Console, Page, screenshot_path};
use support::manifest::{self, BucketCorsManifest, GARAGE_SECRET};
use support::world::garage_bucket_rules;

const NS: &str = "team-console";
const OTHER_NS: &str = "team-other";
/// Outside the scoped console's `--namespace`s.
const THIRD_NS: &str = "team-third";
const BUCKET: &str = "console-site";
const OTHER_BUCKET: &str = "console-other";
const APP: &str = "https://app.example.com";
const NEW: &str = "https://new.example.com";
const SETTLE: Duration = Duration::from_secs(60);

/// `namespace/name` of every BucketCors in `namespaces` (all when empty),
/// as kubectl lists them.
fn kubectl_names(cluster: &Cluster, namespaces: &[&str]) -> Vec<String> {
    let jsonpath = r#"jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}{"\n"}{end}"#;
    let outputs: Vec<String> = if namespaces.is_empty() {
        vec![cluster.kubectl(&["get", "bucketcors", "-A", "-o", jsonpath])]
    } else {
        namespaces
            .iter()
            .map(|ns| cluster.kubectl(&["get", "bucketcors", "-n", ns, "-o", jsonpath]))
            .collect()
    };
    let mut names: Vec<String> = outputs
        .iter()
        .flat_map(|out| out.lines())
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    names.sort();
    names
}

fn listed(page: &mut Page) -> Vec<String> {
    let mut names = page.texts("#objects tbody tr td:first-child");
    names.sort();
    names
}

/// Polls `f` until it gives a value.
fn wait<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn the_console_shows_the_cluster_and_a_save_reaches_garage_and_the_page() {
    let garage =
        Garage::start(&[BUCKET, OTHER_BUCKET]).unwrap_or_else(|e| panic!("Garage must run: {e}"));
    let cluster = Cluster::install(&[]);
    let _operator = Operator::start(&cluster, "bucketcors-0");
    for ns in [NS, OTHER_NS] {
        cluster.create_namespace(ns);
        cluster.apply(&manifest::credentials(ns, GARAGE_SECRET, garage.key()));
    }
    cluster.apply(
        &BucketCorsManifest::garage(NS, "site", &garage.endpoint(), BUCKET)
            .rule_with(
                json!({"allowedOrigins": [APP], "allowedMethods": ["GET", "PUT"],
                "allowedHeaders": ["content-type"], "maxAgeSeconds": 600}),
            )
            .render(),
    );
    cluster.wait_condition(NS, "site", "Ready", "True", None, SETTLE);

    let kubeconfig = cluster
        .plane
        .kubeconfig()
        .to_str()
        .expect("utf-8")
        .to_owned();
    let console = Console::start(&[], &[("KUBECONFIG", kubeconfig.as_str())]);
    let mut page = Page::open(&console.url);
    println!(
        "console first render against the cluster: {:.0} ms",
        page.first_render_ms
    );

    // Overview = kubectl get; a new object appears from the watch.
    assert_eq!(
        listed(&mut page),
        kubectl_names(&cluster, &[]),
        "the overview lists what kubectl lists"
    );
    cluster.apply(
        &BucketCorsManifest::garage(OTHER_NS, "other", &garage.endpoint(), OTHER_BUCKET)
            .rule(&[APP], &["GET"])
            .render(),
    );
    let expected = kubectl_names(&cluster, &[]);
    assert_eq!(expected.len(), 2);
    wait("the new object in the overview", SETTLE, || {
        (listed(&mut page) == expected).then_some(())
    });
    cluster.wait_condition(OTHER_NS, "other", "Ready", "True", None, SETTLE);
    let ready_cell = wait("Ready True in the overview", SETTLE, || {
        let cell = page.text(&format!(
            "#objects tr[data-name=\"{OTHER_NS}/other\"] td:nth-child(3)"
        ));
        cell.starts_with("True").then_some(cell)
    });
    let condition = cluster
        .condition(OTHER_NS, "other", "Ready")
        .expect("Ready");
    assert!(
        ready_cell.contains(condition["reason"].as_str().unwrap_or("?")),
        "{ready_cell} vs {condition}"
    );
    assert!(page.axe().is_empty(), "axe on the cluster overview");
    page.screenshot(&screenshot_path("overview-cluster"));

    // Detail: conditions as the API server holds them, and the Events.
    page.goto(&format!("#/o/{NS}/site"));
    let ready = cluster.condition(NS, "site", "Ready").expect("Ready");
    let conditions = page.text("#conditions");
    for field in ["reason", "message", "lastTransitionTime"] {
        let value = ready[field].as_str().unwrap_or_default();
        assert!(
            conditions.contains(value),
            "the conditions table shows {field} `{value}`:\n{conditions}"
        );
    }
    let events: Value = serde_json::from_str(&cluster.kubectl(&[
        "get",
        "events",
        "-n",
        NS,
        "--field-selector",
        "involvedObject.name=site",
        "-o",
        "json",
    ]))
    .expect("events JSON");
    let reasons: Vec<String> = events["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["reason"].as_str().map(str::to_owned))
        .collect();
    assert!(!reasons.is_empty(), "the operator recorded Events");
    let shown = wait("the Events table", Duration::from_secs(10), || {
        let t = page.text("#events");
        (!t.contains("Loading")).then_some(t)
    });
    for reason in &reasons {
        assert!(
            shown.contains(reason.as_str()),
            "Event {reason} is shown:\n{shown}"
        );
    }
    assert!(page.axe().is_empty(), "axe on the cluster detail");
    page.screenshot(&screenshot_path("detail-cluster"));

    // Save: server-side apply, the operator applies, the page follows.
    let before = cluster.get("bucketcors", NS, "site").expect("object");
    let old_revision = before["status"]["appliedRevision"]
        .as_str()
        .expect("revision")
        .to_owned();
    page.goto(&format!("#/o/{NS}/site/edit"));
    page.cmd(
        json!({"cmd": "fill", "selector": "#r0-allowedOrigins", "value": format!("{APP}\n{NEW}")}),
    );
    page.cmd(json!({"cmd": "click", "selector": "#save"}));
    let saved = page.wait_text("#save-status", "Saved", Duration::from_secs(20));
    assert_eq!(saved["ok"], true, "save: {}", page.text("#save-status"));
    let object = cluster.get("bucketcors", NS, "site").expect("object");
    assert_eq!(
        object["spec"]["rules"][0]["allowedOrigins"],
        json!([APP, NEW]),
        "the object changed"
    );
    // kubectl hides managedFields unless asked.
    let with_managers: Value = serde_json::from_str(&cluster.kubectl(&[
        "get",
        "bucketcors",
        "-n",
        NS,
        "site",
        "-o",
        "json",
        "--show-managed-fields",
    ]))
    .expect("object JSON");
    let managers: Vec<&str> = with_managers["metadata"]["managedFields"]
        .as_array()
        .expect("managedFields")
        .iter()
        .filter_map(|m| m["manager"].as_str())
        .collect();
    assert!(
        managers.contains(&"bucketcors-console"),
        "applied as bucketcors-console: {managers:?}"
    );
    let revision = wait("the operator to apply the new rules", SETTLE, || {
        let o = cluster.get("bucketcors", NS, "site")?;
        let r = o["status"]["appliedRevision"].as_str()?.to_owned();
        (r != old_revision && o["status"]["observedGeneration"] == o["metadata"]["generation"])
            .then_some(r)
    });
    let at_garage = garage_bucket_rules(&garage, BUCKET).expect("Garage holds rules");
    assert_eq!(
        at_garage["CORSRules"][0]["AllowedOrigins"],
        json!([APP, NEW]),
        "Garage holds the saved rule"
    );
    let status = page.wait_text("#object-status", &revision[..12], SETTLE);
    assert_eq!(
        status["ok"],
        true,
        "the new revision {revision} reaches the page: {}",
        page.text("#object-status")
    );
    page.screenshot(&screenshot_path("editor-saved-cluster"));
    drop(page);

    // A read-only console on the same cluster: no write control, and a
    // forged write (with the CSRF token) is refused before the API server.
    let read_only = Console::start(&["--read-only"], &[("KUBECONFIG", kubeconfig.as_str())]);
    let mut page = Page::open(&read_only.url);
    page.goto(&format!("#/o/{NS}/site/edit"));
    for control in ["#save", "#add-rule", "#import", "[data-action]"] {
        assert_eq!(page.count(control), 0, "{control} is offered read-only");
    }
    let generation =
        cluster.get("bucketcors", NS, "site").expect("object")["metadata"]["generation"].clone();
    let body = json!({"rules": [{"allowedOrigins": ["https://forged.example"], "allowedMethods": ["GET"]}]});
    let forged = page.cmd(
        json!({"cmd": "forgeWrite", "path": format!("api/objects/{NS}/site"),
        "body": body.to_string(), "csrf": true}),
    );
    assert_eq!(forged["status"], 403, "{forged}");
    let after = cluster.get("bucketcors", NS, "site").expect("object");
    assert_eq!(
        after["metadata"]["generation"], generation,
        "the object is unchanged"
    );
    drop(page);

    // A console given two `--namespace`s (one watch each) lists what
    // kubectl lists in those two, not a third namespace's object, and
    // follows a deletion from the watch without a reload.
    cluster.create_namespace(THIRD_NS);
    cluster.apply(&manifest::credentials(
        THIRD_NS,
        GARAGE_SECRET,
        garage.key(),
    ));
    cluster.apply(
        &BucketCorsManifest::garage(THIRD_NS, "third", &garage.endpoint(), "console-third")
            .rule(&[APP], &["GET"])
            .render(),
    );
    let scoped = Console::start(
        &["--namespace", NS, "--namespace", OTHER_NS],
        &[("KUBECONFIG", kubeconfig.as_str())],
    );
    let mut page = Page::open(&scoped.url);
    let in_scope = kubectl_names(&cluster, &[NS, OTHER_NS]);
    assert_eq!(in_scope.len(), 2, "{in_scope:?}");
    assert_eq!(kubectl_names(&cluster, &[]).len(), 3, "the third exists");
    wait("the scoped overview", SETTLE, || {
        (listed(&mut page) == in_scope).then_some(())
    });
    cluster.kubectl(&[
        "delete",
        "bucketcors",
        "-n",
        OTHER_NS,
        "other",
        "--wait=true",
        "--timeout=60s",
    ]);
    let left = kubectl_names(&cluster, &[NS, OTHER_NS]);
    assert_eq!(left, vec![format!("{NS}/site")], "kubectl after the delete");
    wait("the deleted object to leave the overview", SETTLE, || {
        (listed(&mut page) == left).then_some(())
    });
}
