//! The console's checked-in page (console/dist/) is built from the sources
//! as they are: `scripts/build-console.sh` records a hash of its inputs in
//! console/dist/inputs.sha256, and this test recomputes it the same way
//! (every input file's SHA-256 as `sha256sum` lists them, sorted by path,
//! hashed again). A source changed without a rebuild fails here, with the
//! command to run; the wasm bytes themselves are not compared (they vary
//! with the toolchain, the inputs do not).

use std::path::{Path, PathBuf};

use bucketcors_testkit::tools::workspace_root;
use sha2::{Digest, Sha256};

/// The inputs the build script lists (keep in step with `inputs_hash` there).
const INPUTS: [&str; 13] = [
    "console/web/src",
    "console/web/index.html",
    "console/web/style.css",
    "console/web/package-lock.json",
    "console/wasm/Cargo.toml",
    "console/wasm/src",
    "engine/Cargo.toml",
    "engine/src",
    "fetch/Cargo.toml",
    "fetch/src",
    "Cargo.lock",
    "scripts/build-console.sh",
    "console/web/package.json",
];

fn files(root: &Path, rel: &str, out: &mut Vec<String>) {
    let path = root.join(rel);
    if path.is_dir() {
        for entry in std::fs::read_dir(&path).expect("read dir") {
            let name = entry.expect("entry").file_name();
            files(root, &format!("{rel}/{}", name.to_string_lossy()), out);
        }
    } else if path.is_file() {
        out.push(rel.to_owned());
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn the_checked_in_console_page_is_built_from_the_current_sources() {
    let root: PathBuf = workspace_root();
    let mut list = Vec::new();
    for input in INPUTS {
        files(&root, input, &mut list);
    }
    list.sort();
    let mut listing = String::new();
    for rel in &list {
        let bytes = std::fs::read(root.join(rel)).expect("read input");
        listing.push_str(&format!("{}  {rel}\n", hex(&Sha256::digest(&bytes))));
    }
    let now = hex(&Sha256::digest(listing.as_bytes()));
    let recorded = std::fs::read_to_string(root.join("console/dist/inputs.sha256"))
        .expect("console/dist/inputs.sha256 is checked in");
    assert_eq!(
        recorded.trim(),
        now,
        "console/dist is stale: run scripts/build-console.sh and commit console/dist ({} inputs)",
        list.len()
    );
    for asset in ["index.html", "app.js", "style.css", "engine.wasm"] {
        assert!(
            root.join("console/dist").join(asset).is_file(),
            "console/dist/{asset} is missing"
        );
    }
}
