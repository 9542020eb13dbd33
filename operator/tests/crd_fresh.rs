//! The CRD checked in at `crds/` (the one source) and the Helm chart's copy
//! are exactly what the Rust types generate, and `bucketcors crd` prints
//! that same text. When a type changes, this test fails and prints the
//! commands that regenerate both files.

use bucketcors_operator::crd::{CHART_CRD_PATH, CRD_PATH, crd_yaml};
use std::path::Path;
use std::process::Command;

fn regenerate() -> String {
    format!(
        "regenerate them with:\n  cargo run -p bucketcors-operator -- crd > {CRD_PATH} && cp {CRD_PATH} {CHART_CRD_PATH}"
    )
}

#[test]
fn checked_in_crds_match_the_types() {
    let generated = crd_yaml();
    for file in [CRD_PATH, CHART_CRD_PATH] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(file);
        let checked_in = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {} ({e}); {}", path.display(), regenerate()));
        if checked_in != generated {
            let first = checked_in
                .lines()
                .zip(generated.lines())
                .position(|(a, b)| a != b)
                .map(|i| i + 1)
                .unwrap_or_else(|| checked_in.lines().count().min(generated.lines().count()) + 1);
            panic!(
                "{file} is stale (first difference at line {first}); {}",
                regenerate()
            );
        }
    }
}

#[test]
fn crd_command_prints_the_generated_crd() {
    let out = Command::new(env!("CARGO_BIN_EXE_bucketcors"))
        .arg("crd")
        .output()
        .expect("run bucketcors crd");
    assert!(
        out.status.success(),
        "bucketcors crd failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8(out.stdout).expect("UTF-8");
    assert_eq!(printed, crd_yaml());
    // It is a CRD a cluster would take: the right kind, group and version.
    let doc: serde_norway::Value = serde_norway::from_str(&printed).expect("YAML");
    assert_eq!(doc["kind"].as_str(), Some("CustomResourceDefinition"));
    assert_eq!(
        doc["metadata"]["name"].as_str(),
        Some("bucketcors.bucketcors.dev")
    );
    assert_eq!(
        doc["spec"]["versions"][0]["name"].as_str(),
        Some("v1alpha1")
    );
}
