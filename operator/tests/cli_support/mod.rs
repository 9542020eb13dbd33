//! The one way the CLI test binaries run `bucketcors` and lay out its
//! input files, shared so that every CLI test reads a run the same way.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// One run of the binary: exit code and both streams as text.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `bucketcors` with `args`, as a user would.
pub fn bucketcors(args: &[&str]) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(env!("CARGO_BIN_EXE_bucketcors"))
        .args(args)
        .output()
        .expect("run bucketcors");
    Run {
        code: status.code().expect("exit code"),
        stdout: String::from_utf8(stdout).unwrap(),
        stderr: String::from_utf8(stderr).unwrap(),
    }
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}
