//! Replays the fuzz targets' inputs with the targets' own checks (issue 2,
//! item 7): every input a fuzzer ever crashed on (kept under
//! `tests/fuzz-regressions/<target>/`) and the fuzzers' seed documents
//! (`fuzz/seeds/<target>/`), so a fixed crash stays fixed without nightly
//! or cargo-fuzz.
//!
//! The checks are `fuzz/src/checks.rs`, included as is.

#[path = "../../fuzz/src/checks.rs"]
#[allow(dead_code)]
mod checks;

use std::path::{Path, PathBuf};

use bucketcors_engine::format::Format;

const TARGETS: [&str; 6] = [
    "oss_xml",
    "s3_xml",
    "s3_json",
    "spec_yaml",
    "spec_json",
    "eval",
];

fn check(target: &str, data: &[u8]) {
    match target {
        "oss_xml" => checks::check_parser(data, Format::OssXml),
        "s3_xml" => checks::check_parser(data, Format::S3Xml),
        "s3_json" => checks::check_parser(data, Format::S3Json),
        "spec_yaml" => checks::check_parser(data, Format::Yaml),
        "spec_json" => checks::check_parser(data, Format::Json),
        "eval" => checks::check_eval(data),
        other => panic!("unknown fuzz target {other}"),
    }
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                // `.gitkeep` holds an empty directory in git; not an input.
                .filter(|p| {
                    p.is_file()
                        && !p
                            .file_name()
                            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn replay(root: &Path) -> usize {
    let mut count = 0;
    for target in TARGETS {
        for file in files(&root.join(target)) {
            let data = std::fs::read(&file).unwrap();
            let outcome = std::panic::catch_unwind(|| check(target, &data));
            assert!(
                outcome.is_ok(),
                "{target}: {} fails its checks",
                file.display()
            );
            count += 1;
        }
    }
    count
}

#[test]
fn kept_crashes_stay_fixed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    let replayed = replay(&root);
    // Every target directory exists, even before it has a crash to keep.
    for target in TARGETS {
        assert!(
            root.join(target).is_dir(),
            "missing {}",
            root.join(target).display()
        );
    }
    eprintln!("replayed {replayed} kept crash inputs");
}

#[test]
fn seed_documents_pass_the_fuzz_checks() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds");
    let replayed = replay(&root);
    assert!(
        replayed >= TARGETS.len(),
        "only {replayed} seeds under {}",
        root.display()
    );
}

#[test]
fn the_evaluation_input_decodes_as_documented() {
    // flags: S3, object, OPTIONS, structured rules; Origin vocabulary[2]
    // (`https://*.example.com`, here as a literal origin), ACRM `GET`.
    let data = [
        0x10, 1, 2, 1, 10, 0, // flags, Origin, ACRM, no ACRH
        2, // two rules
        0, 1, 1, 1, 13, 0, 0, 0, // rule 0: no id, origin vocabulary[1], method DELETE
        0, 1, 2, 1, 10, 0, 0, 0, // rule 1: no id, origin vocabulary[2], method GET
    ];
    let input = checks::Input::decode(&data);
    assert_eq!(input.origin.as_deref(), Some("https://*.example.com"));
    assert_eq!(input.request_method.as_deref(), Some("GET"));
    let checks::ConfigSource::Rules(config) = &input.config else {
        panic!("decoded {input:?}");
    };
    assert_eq!(config.rules.len(), 2);
    assert_eq!(config.rules[0].allowed_methods, ["DELETE"]);
    assert_eq!(config.rules[1].allowed_origins, ["https://*.example.com"]);
    let compiled =
        bucketcors_engine::Compiled::new(config, bucketcors_engine::Dialect::S3).unwrap();
    let request = bucketcors_engine::Request::preflight("https://*.example.com", "GET");
    assert_eq!(compiled.decide(&request).matched_rule(), Some(1));
    checks::check_eval(&data);
}
