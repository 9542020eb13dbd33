//! The CRD against a real kube-apiserver (testkit `ControlPlane`): the
//! chart's CRD becomes Established (so the server accepts its structural
//! schema and its CEL rules within their cost limits), every manifest in
//! `examples/` and `demo/` is accepted, and every case of the offline
//! validator's table (`crd_cases`) gets the same verdict from the server as
//! a server-side dry-run create with strict field validation (what
//! `kubectl apply` does), with each refusal naming the same field and
//! saying the same thing.
//!
//! Where the two disagree the server is right and the offline validator
//! (`bucketcors validate` without a cluster) is what gets fixed.

mod crd_cases;

use bucketcors_testkit::controlplane::ControlPlane;
use bucketcors_testkit::tools::workspace_root;
use crd_cases::{acceptances, cel_cases, structural_refusals};
use serde_json::Value;

const CRD: &str = "charts/bucketcors/crds/bucketcors.dev_bucketcors.yaml";

/// The server's verdict on a create: `Ok(())` or its error text.
fn dry_run_create(plane: &ControlPlane, manifest: &str) -> Result<(), String> {
    let args = [
        "create",
        "--dry-run=server",
        "--validate=strict",
        "-o",
        "name",
        "-f",
        "-",
    ];
    with_input(plane, &args, manifest)
}

/// `kubectl ARGS` with `input` on stdin: `Err(stderr)` when it failed.
fn with_input(plane: &ControlPlane, args: &[&str], input: &str) -> Result<(), String> {
    let out = plane
        .kubectl_with_input(args, input)
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn namespaced(mut manifest: Value) -> Value {
    // The table's manifests name `web` or no namespace; both exist.
    if manifest.pointer("/metadata/namespace").is_none() {
        manifest["metadata"]["namespace"] = "default".into();
    }
    manifest
}

#[test]
fn the_real_api_server_agrees_with_the_offline_validator() {
    let plane = ControlPlane::for_tests().expect("start the control plane");
    eprintln!("control plane ready in {:?}", plane.started_in());

    // 1. The chart's CRD is accepted and becomes Established.
    let crd = workspace_root().join(CRD);
    plane
        .kubectl_ok(&["apply", "--server-side", "-f", crd.to_str().unwrap()])
        .expect("the API server accepts the chart's CRD");
    plane
        .kubectl_ok(&[
            "wait",
            "--for=condition=Established",
            "--timeout=60s",
            "crd/bucketcors.bucketcors.dev",
        ])
        .expect("the CRD becomes Established");
    for namespace in ["web", "media", "demo", "bucketcors-system"] {
        plane
            .kubectl_ok(&[
                "create",
                "namespace",
                namespace,
                "--dry-run=client",
                "-o",
                "yaml",
            ])
            .map_err(|e| e.to_string())
            .and_then(|yaml| with_input(&plane, &["apply", "-f", "-"], &yaml))
            .expect("create a namespace");
    }

    // 2. Every shipped manifest is accepted.
    let mut shipped = Vec::new();
    for dir in ["examples", "examples/secrets", "demo"] {
        for entry in std::fs::read_dir(workspace_root().join(dir)).expect("read the directory") {
            let path = entry.expect("an entry").path();
            if path.extension().is_some_and(|e| e == "yaml") {
                shipped.push(path);
            }
        }
    }
    assert!(
        shipped.len() >= 8,
        "found the shipped manifests: {shipped:?}"
    );
    for path in &shipped {
        let text = std::fs::read_to_string(path).expect("read a manifest");
        if let Err(error) = dry_run_create(&plane, &text) {
            panic!("{} is refused by the API server:\n{error}", path.display());
        }
    }

    // 3. The offline validator's table, case by case.
    let mut disagreements = Vec::new();
    for manifest in acceptances() {
        if let Err(error) = dry_run_create(&plane, &namespaced(manifest.clone()).to_string()) {
            disagreements.push(format!(
                "accepted offline, refused by the server: {manifest}\n  {error}"
            ));
        }
    }
    let refusals = structural_refusals()
        .into_iter()
        .map(|r| (r.manifest, r.field, r.says));
    let cel = cel_cases().into_iter().flat_map(|c| {
        if let Err(error) = dry_run_create(&plane, &namespaced(c.pass.clone()).to_string()) {
            disagreements.push(format!(
                "CEL rule `{}`: its passing object is refused by the server:\n  {error}",
                c.rule
            ));
        }
        [(c.fail, c.field, c.message)]
    });
    let mut refused = 0;
    for (manifest, field, says) in refusals.chain(cel.collect::<Vec<_>>()) {
        // An unknown apiVersion never reaches validation: discovery has no
        // such kind, so the refusal names the version sent instead of the field.
        let (field, says) = match field {
            "apiVersion" => (
                "\"bucketcors.dev/v1\"",
                "no matches for kind \"BucketCors\" in version",
            ),
            _ => (field, says),
        };
        match dry_run_create(&plane, &namespaced(manifest.clone()).to_string()) {
            Ok(()) => disagreements.push(format!(
                "refused offline on `{field}` ({says}), accepted by the server: {manifest}"
            )),
            Err(error) if error.contains(field) && error.contains(says) => refused += 1,
            Err(error) => disagreements.push(format!(
                "refused offline on `{field}` saying `{says}`; the server said:\n  {}",
                error.trim()
            )),
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} disagreement(s) between the offline validator and the API server:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
    assert!(refused >= 30, "every refusal case ran ({refused})");
}
