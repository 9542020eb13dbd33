//! Running the real `bucketcors` binary, as a user or the demo would.
//!
//! The system and fault tests drive `bucketcors apply` as a separate
//! process: that is what users run, and the fault tests must be able to
//! kill it mid-run. The binary is the workspace's own
//! (`target/debug/bucketcors`), built on first use when missing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use bucketcors_testkit::tools::workspace_root;

/// The `bucketcors` binary of this workspace, built when missing.
pub fn bucketcors_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let root = workspace_root();
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target"));
        let bin = target.join("debug").join("bucketcors");
        // Always ask cargo: a no-op when the binary is fresh, a rebuild when
        // the operator changed since (a stale binary would test old code).
        let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .args([
                "build",
                "-q",
                "-p",
                "bucketcors-operator",
                "--bin",
                "bucketcors",
            ])
            .current_dir(&root)
            .stdin(Stdio::null())
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the bucketcors binary failed");
        assert!(
            bin.is_file(),
            "{} is missing after cargo build",
            bin.display()
        );
        bin
    })
    .clone()
}

/// What one CLI run printed, for assertions and failure messages.
#[derive(Debug)]
pub struct Run {
    /// Exit code (`None` when killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Standard output and error together.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// A `bucketcors` command with `env` set and nothing inherited that could
/// change its behaviour (credentials come only from `env`).
pub fn command(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(bucketcors_bin());
    cmd.args(args).stdin(Stdio::null());
    for var in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_REGION",
        "CLOUDFLARE_API_TOKEN",
        "CLOUDFLARE_API_URL",
        "CLOUDFLARE_ACCOUNT_ID",
        "CLOUDFLARE_KV_NAMESPACE_ID",
        "ALIBABA_CLOUD_ACCESS_KEY_ID",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    ] {
        cmd.env_remove(var);
    }
    // No ~/.aws lookups on the test machine.
    cmd.env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Runs `bucketcors ARGS` to completion.
pub fn run(args: &[&str], env: &[(&str, &str)]) -> Run {
    command(args, env).output().expect("bucketcors runs").into()
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write manifest");
    path
}
