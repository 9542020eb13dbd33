//! `bucketcors crd`: print the `BucketCors` CustomResourceDefinition.
//!
//! The YAML comes from the Rust types ([`crate::crd`]), so it is always the
//! schema this binary validates and reconciles against. `crds/` at the top
//! of the repository holds this output, and the chart's copy in
//! `charts/bucketcors/crds/` repeats it; a test and `scripts/check-chart.sh`
//! check both.

use std::io::Write;
use std::process::ExitCode;

/// Arguments of `bucketcors crd` (none yet).
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Prints the CRD YAML on standard output.
pub fn run(_args: &Args) -> ExitCode {
    let yaml = crate::crd::crd_yaml();
    let mut out = std::io::stdout().lock();
    match out.write_all(yaml.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bucketcors crd: writing the CRD failed: {e}");
            ExitCode::FAILURE
        }
    }
}
