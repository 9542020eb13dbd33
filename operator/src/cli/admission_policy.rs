//! `bucketcors admission-policy`: print the chart's ValidatingAdmissionPolicy
//! and its binding (a Helm template), generated from the engine's lint
//! catalog ([`crate::admission`]). The chart's copy is this output, checked
//! by a test.

use std::io::Write;
use std::process::ExitCode;

/// Arguments of `bucketcors admission-policy` (none).
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Prints the template on standard output.
pub fn run(_args: &Args) -> ExitCode {
    let yaml = crate::admission::policy_yaml();
    let mut out = std::io::stdout().lock();
    match out.write_all(yaml.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bucketcors admission-policy: writing failed: {e}");
            ExitCode::FAILURE
        }
    }
}
