//! `controlplane`: the test kit's Kubernetes control plane for scripts.
//!
//! Starts [`ControlPlane`] exactly as the tests do (one definition of how a
//! control plane is started here), prints `KUBECONFIG=<path>` and
//! `DIR=<path>` once it is ready, and keeps it running until its standard
//! input closes; then it stops etcd and kube-apiserver and removes their
//! directory. `scripts/demo.sh` and `scripts/bench.sh` run it as a
//! coprocess and close its input to stop it.

use bucketcors_testkit::controlplane::ControlPlane;
use std::io::{Read, Write};

fn main() -> std::process::ExitCode {
    let plane = match ControlPlane::start() {
        Ok(plane) => plane,
        Err(e) => {
            eprintln!("controlplane: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    eprintln!(
        "controlplane: kube-apiserver ready at {} in {:.1} s",
        plane.server(),
        plane.started_in().as_secs_f64()
    );
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "KUBECONFIG={}", plane.kubeconfig().display());
    let _ = writeln!(out, "DIR={}", plane.dir().display());
    let _ = out.flush();
    drop(out);
    // Until the caller closes our input (or exits).
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    drop(plane);
    std::process::ExitCode::SUCCESS
}
