//! The harness stops cleanly: on SIGTERM and on SIGINT (Ctrl-C) it stops
//! workerd, exits 0 as its header promises, and leaves no temporary
//! directory behind: neither its own `bucketcors-edge-*` nor Miniflare's
//! `miniflare-*`. Each harness gets an empty `TMPDIR` of its own, so
//! "nothing left" is exact: that directory is empty again afterwards. The
//! third case is the one every test uses: standard input closed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bucketcors_testkit::edge::{EdgeHarness, EdgeOptions};

fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "bucketcors-harness-stop-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Starts a harness in its own TMPDIR, checks that it made its
/// directories there, stops it with `stop`, and checks exit code and
/// leftovers.
fn stops_cleanly(name: &str, stop: impl FnOnce(&mut EdgeHarness)) {
    let tmp = scratch(name);
    let mut harness = EdgeHarness::start(&EdgeOptions {
        temp_dir: Some(tmp.clone()),
        ..EdgeOptions::default()
    })
    .unwrap_or_else(|e| panic!("edge harness: {e}"));
    // The worker answers, so workerd and its directories exist.
    let made = entries(&tmp);
    assert!(
        made.iter().any(|n| n.starts_with("bucketcors-edge-")),
        "{name}: the harness works in its TMPDIR: {made:?}"
    );
    stop(&mut harness);
    let status = harness
        .wait_exit(Duration::from_secs(20))
        .unwrap_or_else(|| panic!("{name}: the harness did not exit\n{}", harness.log_tail()));
    assert_eq!(
        status.code(),
        Some(0),
        "{name}: exit status {status:?}\n{}",
        harness.log_tail()
    );
    let left = entries(&tmp);
    assert!(left.is_empty(), "{name}: left behind in TMPDIR: {left:?}");
    std::fs::remove_dir_all(&tmp).expect("remove scratch dir");
}

#[test]
fn sigterm_exits_0_and_leaves_nothing() {
    stops_cleanly("term", |h| h.signal("TERM").expect("kill -TERM"));
}

#[test]
fn sigint_exits_0_and_leaves_nothing() {
    stops_cleanly("int", |h| h.signal("INT").expect("kill -INT"));
}

#[test]
fn closed_stdin_exits_0_and_leaves_nothing() {
    let tmp = scratch("stdin");
    let harness = EdgeHarness::start(&EdgeOptions {
        temp_dir: Some(tmp.clone()),
        ..EdgeOptions::default()
    })
    .unwrap_or_else(|e| panic!("edge harness: {e}"));
    let status = harness.stop().expect("the harness exits");
    assert_eq!(status.code(), Some(0), "exit status {status:?}");
    let left = entries(&tmp);
    assert!(left.is_empty(), "left behind in TMPDIR: {left:?}");
    std::fs::remove_dir_all(&tmp).expect("remove scratch dir");
}
