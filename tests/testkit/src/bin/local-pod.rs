//! `local-pod`: run a pod of a Deployment as this process, for scripts.
//!
//! ```text
//! local-pod ADMIN_KUBECONFIG NAMESPACE DEPLOYMENT POD_NAME PROGRAM [--set-arg PREFIX=VALUE]...
//! ```
//!
//! Resolves the Deployment's container with [`LocalPod`] (arguments,
//! environment, a ServiceAccount token) and then `exec`s PROGRAM with it, so
//! the caller's PID, signals and exit code are the program's own.
//! `--set-arg --listen-addr=127.0.0.1:18080` replaces the argument starting
//! with `--listen-addr=`.

use bucketcors_testkit::pod::LocalPod;
use std::os::unix::process::CommandExt;
use std::path::Path;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 5 {
        eprintln!(
            "usage: local-pod ADMIN_KUBECONFIG NAMESPACE DEPLOYMENT POD_NAME PROGRAM [--set-arg PREFIX=VALUE]..."
        );
        return std::process::ExitCode::from(2);
    }
    let kubeconfig = Path::new(&args[0]);
    let dir = kubeconfig.parent().unwrap_or(Path::new("."));
    let mut pod = match LocalPod::of_deployment(kubeconfig, &args[1], &args[2], &args[3], dir) {
        Ok(pod) => pod,
        Err(e) => {
            eprintln!("local-pod: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let mut rest = args[5..].iter();
    while let Some(flag) = rest.next() {
        let set = match (flag.as_str(), rest.next()) {
            ("--set-arg", Some(set)) => set,
            _ => {
                eprintln!("local-pod: unexpected argument {flag}");
                return std::process::ExitCode::from(2);
            }
        };
        // `--listen-addr=127.0.0.1:1` -> prefix `--listen-addr=`.
        let Some(split) = set.find('=') else {
            eprintln!("local-pod: --set-arg wants PREFIX=VALUE, got {set}");
            return std::process::ExitCode::from(2);
        };
        pod.set_arg(&set[..=split], &set[split + 1..]);
    }
    let error = pod.command(Path::new(&args[4])).exec();
    eprintln!("local-pod: cannot run {}: {error}", args[4]);
    std::process::ExitCode::FAILURE
}
