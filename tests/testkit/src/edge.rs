//! The local edge: the bucketcors worker in workerd (Miniflare) with a local
//! Workers KV, and a Cloudflare KV REST API endpoint writing into it
//! (`edge-worker/harness/harness.mjs`).
//!
//! [`EdgeHarness::start`] runs the harness with Node on free loopback ports
//! and waits for it to print its URLs. Dropping the value closes the
//! harness's standard input, which makes it stop workerd and exit; if it has
//! not exited after a few seconds it is killed.
//!
//! Missing pieces are errors naming the script that provides them
//! (`scripts/build-worker.sh` builds the worker and installs the harness's
//! npm packages); tests fail, they never skip.

use std::fmt;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use crate::tools::workspace_root;

/// Why the harness could not be started.
#[derive(Debug)]
pub struct EdgeError(String);

impl fmt::Display for EdgeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EdgeError {}

/// How to start the harness.
#[derive(Debug, Clone)]
pub struct EdgeOptions {
    /// `RULES_TTL_SECONDS`: how long the worker trusts a loaded record.
    pub rules_ttl_seconds: f64,
    /// `BODY_CACHE_TTL_SECONDS`: edge cache lifetime of bodies without `Cache-Control`.
    pub body_cache_ttl_seconds: u32,
    /// `DEFAULT_DIALECT` for hosts without a route (`s3` or `oss`).
    pub default_dialect: String,
}

impl Default for EdgeOptions {
    fn default() -> Self {
        EdgeOptions {
            rules_ttl_seconds: 5.0,
            body_cache_ttl_seconds: 60,
            default_dialect: "s3".into(),
        }
    }
}

/// A running harness. Stops on drop.
pub struct EdgeHarness {
    child: Child,
    stdin: Option<ChildStdin>,
    /// The worker's URL (`http://127.0.0.1:PORT`).
    pub edge_url: String,
    /// The KV REST API base (`http://127.0.0.1:PORT/client/v4`).
    pub api_url: String,
    /// The account id the API accepts.
    pub account_id: String,
    /// The namespace id the API accepts.
    pub namespace_id: String,
    /// The bearer token the API accepts.
    pub token: String,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl fmt::Debug for EdgeHarness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EdgeHarness")
            .field("edge_url", &self.edge_url)
            .field("api_url", &self.api_url)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// The harness directory (`edge-worker/harness`).
pub fn harness_dir() -> PathBuf {
    workspace_root().join("edge-worker").join("harness")
}

/// The worker build output (`edge-worker/build`).
pub fn worker_build_dir() -> PathBuf {
    workspace_root().join("edge-worker").join("build")
}

impl EdgeHarness {
    /// Starts the harness; see the module docs.
    pub fn start(options: &EdgeOptions) -> Result<EdgeHarness, EdgeError> {
        let dir = harness_dir();
        if !dir.join("node_modules").join("miniflare").exists() {
            return Err(EdgeError(format!(
                "{}/node_modules is missing: run scripts/install/worker-tools.sh (or scripts/build-worker.sh)",
                dir.display()
            )));
        }
        let build = worker_build_dir();
        if !build.join("worker").join("shim.mjs").exists() {
            return Err(EdgeError(format!(
                "the worker is not built ({} is missing): run scripts/build-worker.sh",
                build.join("worker/shim.mjs").display()
            )));
        }
        let token = format!("test-token-{}-{}", std::process::id(), nanos());
        let mut child = Command::new("node")
            .arg(dir.join("harness.mjs"))
            .arg("--worker-build")
            .arg(&build)
            .args(["--token", &token])
            .args(["--rules-ttl", &options.rules_ttl_seconds.to_string()])
            .args([
                "--body-cache-ttl",
                &options.body_cache_ttl_seconds.to_string(),
            ])
            .args(["--default-dialect", &options.default_dialect])
            .arg("--exit-on-stdin-close")
            .current_dir(&dir)
            .env("WRANGLER_SEND_METRICS", "false")
            .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| EdgeError(format!("cannot run `node` (install Node.js 20+): {e}")))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("piped");
        let stderr = crate::child_io::tail(
            child.stderr.take().expect("piped"),
            64 * 1024,
            std::env::var_os("BUCKETCORS_EDGE_LOG").is_some(),
        );
        let rx = crate::child_io::lines(stdout);
        let mut harness = EdgeHarness {
            child,
            stdin,
            edge_url: String::new(),
            api_url: String::new(),
            account_id: String::new(),
            namespace_id: String::new(),
            token,
            stderr,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    let (word, rest) = line.split_once(' ').unwrap_or((line.as_str(), ""));
                    match word {
                        "edge" => harness.edge_url = rest.trim().to_owned(),
                        "api" => harness.api_url = rest.trim().to_owned(),
                        "account" => harness.account_id = rest.trim().to_owned(),
                        "namespace" => harness.namespace_id = rest.trim().to_owned(),
                        "ready" => break,
                        _ => {}
                    }
                }
                Err(_) => {
                    let log = harness.log_tail();
                    return Err(EdgeError(format!(
                        "the edge harness did not become ready within 60 s; its log:\n{log}"
                    )));
                }
            }
        }
        Ok(harness)
    }

    /// The last part of the harness's stderr (workerd and worker logs).
    pub fn log_tail(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// True while the harness process runs.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Stops the harness and waits for it; returns its exit status.
    pub fn stop(mut self) -> Option<std::process::ExitStatus> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Option<std::process::ExitStatus> {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        self.child.wait().ok()
    }
}

impl Drop for EdgeHarness {
    fn drop(&mut self) {
        if self.is_running() {
            self.shutdown();
        }
    }
}

fn nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}
