//! Leader election against a real control plane: several operator
//! processes (each playing a pod of the chart's Deployment, with its
//! ServiceAccount token) share one Lease in the release namespace.
//!
//! Exactly one reconciles, shown two ways that do not depend on the
//! operator's own word: the Lease's holder as the API server stores it, and
//! the writes Garage itself counted (`PutBucketCors`). SIGKILL of the
//! leader hands over within the lease duration (15 s, client-go's default
//! and the operator's); SIGTERM releases the Lease at once, so the next
//! candidate takes over without waiting the lease out. Every edit of the
//! rules is exactly one write at Garage: at no moment do two processes write.
//! A replica whose wall clock runs an hour ahead (libfaketime preloaded into
//! a real process) does not take a live Lease: expiry is judged by each
//! replica's own monotonic clock, as in client-go, not by comparing the
//! holder's `renewTime` with a clock that may be skewed.

mod support;

use std::time::{Duration, Instant};

use bucketcors_testkit::garage::Garage;
use support::cluster::{Cluster, Operator, RELEASE, RELEASE_NS};
use support::manifest::{self, BucketCorsManifest, GARAGE_SECRET};

const NS: &str = "team-b";
const BUCKET: &str = "lead-site";
/// The operator's lease duration (`LeaseSettings::new`) and retry period.
const LEASE: Duration = Duration::from_secs(15);
const RETRY: Duration = Duration::from_secs(2);
/// Debian's libfaketime (`scripts/install/faketime.sh`).
const FAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

fn holder(cluster: &Cluster) -> Option<String> {
    let lease = cluster.get("lease", RELEASE_NS, &format!("{RELEASE}-leader"))?;
    lease["spec"]["holderIdentity"]
        .as_str()
        .filter(|h| !h.is_empty())
        .map(str::to_owned)
}

fn manifest(garage: &Garage, origin: &str) -> String {
    BucketCorsManifest::garage(NS, "site", &garage.endpoint(), BUCKET)
        .rule(&[origin], &["GET"])
        .spec("resyncInterval", "2s")
        .render()
}

fn puts(garage: &Garage) -> u64 {
    garage
        .s3_request_count("PutBucketCors")
        .expect("Garage metrics")
}

/// Applies an edit and waits until Garage holds it; returns the writes
/// Garage counted for it.
fn edit(cluster: &Cluster, garage: &Garage, origin: &str) -> u64 {
    let before = puts(garage);
    cluster.apply(&manifest(garage, origin));
    cluster.wait_for(
        &format!("Garage to hold {origin}"),
        Duration::from_secs(60),
        || (puts(garage) > before).then_some(()),
    );
    // Two resync periods more: a second writer would have written by now.
    std::thread::sleep(2 * RETRY + Duration::from_secs(1));
    puts(garage) - before
}

#[test]
fn exactly_one_replica_reconciles_and_leadership_moves_on_kill_and_on_term() {
    let garage = Garage::start(&[BUCKET]).unwrap_or_else(|e| panic!("Garage must run: {e}"));
    let cluster = Cluster::install(&[]);
    cluster.create_namespace(NS);
    cluster.apply(&manifest::credentials(NS, GARAGE_SECRET, garage.key()));

    let mut a = Operator::start(&cluster, "bucketcors-a");
    cluster.wait_for("a to take the Lease", Duration::from_secs(60), || {
        (holder(&cluster)? == a.identity).then_some(())
    });
    let mut b = Operator::start(&cluster, "bucketcors-b");
    // b is up (its metrics answer) and standing by.
    cluster.wait_for("b's endpoint", Duration::from_secs(30), || {
        b.metrics()
            .contains("bucketcors_reconciles_total")
            .then_some(())
    });

    assert_eq!(
        edit(&cluster, &garage, "https://one.example"),
        1,
        "one write for the first apply"
    );
    cluster.wait_condition(NS, "site", "Ready", "True", None, Duration::from_secs(30));
    assert_eq!(holder(&cluster).as_deref(), Some("bucketcors-a"));
    assert!(a.reconciles() >= 2, "the leader reconciles (and resyncs)");
    assert_eq!(b.reconciles(), 0, "the standby reconciles nothing");

    // SIGKILL: nothing is released; b takes over once the lease runs out.
    a.kill();
    let killed = Instant::now();
    cluster.wait_for("b to take the Lease", LEASE + 4 * RETRY, || {
        (holder(&cluster)? == b.identity).then_some(())
    });
    let handover = killed.elapsed();
    eprintln!("handover after SIGKILL: {handover:?} (lease {LEASE:?})");
    assert!(
        handover <= LEASE + 2 * RETRY,
        "handover within the lease duration: {handover:?}"
    );
    assert_eq!(
        edit(&cluster, &garage, "https://two.example"),
        1,
        "one writer after the handover"
    );

    // SIGTERM: b releases the Lease; c takes it at its next retry.
    let mut c = Operator::start(&cluster, "bucketcors-c");
    cluster.wait_for("c's endpoint", Duration::from_secs(30), || {
        c.metrics()
            .contains("bucketcors_reconciles_total")
            .then_some(())
    });
    assert_eq!(c.reconciles(), 0, "c stands by while b leads");
    let term = Instant::now();
    let status = b.terminate();
    assert!(
        status.success(),
        "SIGTERM is a clean exit ({status}):\n{}",
        b.log()
    );
    cluster.wait_for("c to take the released Lease", LEASE, || {
        (holder(&cluster)? == c.identity).then_some(())
    });
    let released = term.elapsed();
    eprintln!("handover after SIGTERM: {released:?}");
    assert!(
        released < LEASE / 2,
        "a released Lease is taken without waiting it out: {released:?}"
    );
    assert_eq!(
        edit(&cluster, &garage, "https://three.example"),
        1,
        "one writer after the release"
    );

    // A replica whose wall clock runs an hour ahead: c's renewTime looks an
    // hour old to it, yet c renews, so it stands by.
    let faketime = std::path::Path::new(FAKETIME);
    assert!(
        faketime.exists(),
        "{FAKETIME} is missing: run scripts/install/faketime.sh"
    );
    let mut d = Operator::start_with_env(
        &cluster,
        "bucketcors-d",
        &[
            ("LD_PRELOAD", FAKETIME),
            ("FAKETIME", "+1h"),
            ("FAKETIME_DONT_FAKE_MONOTONIC", "1"),
        ],
    );
    cluster.wait_for("d's endpoint", Duration::from_secs(30), || {
        d.metrics()
            .contains("bucketcors_reconciles_total")
            .then_some(())
    });
    // Its clock is really skewed: its own log timestamps are an hour ahead.
    let skewed = d.log();
    let logged: k8s_openapi::jiff::Timestamp = skewed
        .split("\"timestamp\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("no timestamp in d's log:\n{skewed}"));
    let ahead = logged.duration_since(k8s_openapi::jiff::Timestamp::now());
    assert!(
        ahead.as_secs() > 50 * 60,
        "d's clock should run an hour ahead, its log says {logged}"
    );
    std::thread::sleep(LEASE + 2 * RETRY);
    assert_eq!(
        holder(&cluster).as_deref(),
        Some("bucketcors-c"),
        "a skewed clock does not take a live Lease:\n{}",
        d.log()
    );
    assert_eq!(d.reconciles(), 0, "d stands by");
    assert_eq!(
        edit(&cluster, &garage, "https://four.example"),
        1,
        "one writer with a skewed standby"
    );
    assert!(d.terminate().success());
    assert!(c.terminate().success());
}
