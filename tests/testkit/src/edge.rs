//! The local edge: the bucketcors worker in workerd (Miniflare) with a local
//! Workers KV, and a Cloudflare KV REST API endpoint writing into it
//! (`edge-worker/harness/harness.mjs`).
//!
//! [`EdgeHarness::start`] runs the harness with Node on free loopback ports
//! and waits for it to print its URLs. Dropping the value closes the
//! harness's standard input, which makes it stop workerd and exit; if it has
//! not exited after a few seconds it is killed.
//!
//! The harness runs the worker exactly as `wrangler deploy --dry-run
//! --outdir edge-worker/dist` bundled it (`scripts/bundle-worker.sh`): the
//! deploy path is the tested path. Every line it writes (workerd's and the
//! worker's logs) is kept ([`EdgeHarness::log_lines`]), so tests can check
//! what reached the logs.
//!
//! Missing pieces are errors naming the script that provides them
//! (`scripts/build-worker.sh` builds the worker and installs the harness's
//! npm packages); tests fail, they never skip.

use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
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

impl EdgeError {
    /// An error saying `why`.
    pub(crate) fn new(why: impl Into<String>) -> EdgeError {
        EdgeError(why.into())
    }
}

/// How to start the harness.
#[derive(Debug, Clone)]
pub struct EdgeOptions {
    /// `RULES_TTL_SECONDS`: how long the worker trusts a loaded record.
    pub rules_ttl_seconds: f64,
    /// `BODY_CACHE_TTL_SECONDS`: edge cache lifetime of bodies without `Cache-Control`.
    pub body_cache_ttl_seconds: u32,
    /// `DEFAULT_DIALECT` for hosts without a route (`s3` or `oss`).
    pub default_dialect: String,
    /// `TMPDIR` for the harness (its own and Miniflare's temporary
    /// directories go there); the system's when `None`.
    pub temp_dir: Option<PathBuf>,
}

impl Default for EdgeOptions {
    fn default() -> Self {
        EdgeOptions {
            rules_ttl_seconds: 5.0,
            body_cache_ttl_seconds: 60,
            default_dialect: "s3".into(),
            temp_dir: None,
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
    log: Arc<Mutex<Vec<String>>>,
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

/// The worker as `wrangler deploy --dry-run --outdir` bundles it
/// (`edge-worker/dist`, written by `scripts/bundle-worker.sh`).
pub fn worker_bundle_dir() -> PathBuf {
    workspace_root().join("edge-worker").join("dist")
}

/// At most this many log lines are kept per harness (a soak test's worth).
const LOG_LINES_KEPT: usize = 2_000_000;

/// Appends every line of `pipe` to `log` (echoed to this process's stderr
/// when `echo`), never blocking the child.
fn collect(pipe: impl Read + Send + 'static, log: Arc<Mutex<Vec<String>>>, echo: bool) {
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if echo {
                eprintln!("{line}");
            }
            let mut log = log.lock().unwrap_or_else(|p| p.into_inner());
            if log.len() < LOG_LINES_KEPT {
                log.push(line);
            }
        }
    });
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
        let bundle = worker_bundle_dir();
        if !bundle.join("shim.js").exists() {
            return Err(EdgeError(format!(
                "the worker is not bundled ({} is missing): run scripts/bundle-worker.sh",
                bundle.join("shim.js").display()
            )));
        }
        let token = format!("test-token-{}-{}", std::process::id(), nanos());
        let mut command = Command::new("node");
        if let Some(tmp) = &options.temp_dir {
            command.env("TMPDIR", tmp);
        }
        let mut child = command
            .arg(dir.join("harness.mjs"))
            .arg("--worker-bundle")
            .arg(&bundle)
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
        let log = Arc::new(Mutex::new(Vec::new()));
        let echo = std::env::var_os("BUCKETCORS_EDGE_LOG").is_some();
        collect(child.stderr.take().expect("piped"), log.clone(), echo);
        let rx = crate::child_io::lines(stdout);
        let mut harness = EdgeHarness {
            child,
            stdin,
            edge_url: String::new(),
            api_url: String::new(),
            account_id: String::new(),
            namespace_id: String::new(),
            token,
            log: log.clone(),
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
                        _ => log.lock().unwrap_or_else(|p| p.into_inner()).push(line),
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
        // From here on stdout is log lines too (the worker's console.log).
        std::thread::spawn(move || {
            for line in rx {
                if echo {
                    eprintln!("{line}");
                }
                let mut log = log.lock().unwrap_or_else(|p| p.into_inner());
                if log.len() < LOG_LINES_KEPT {
                    log.push(line);
                }
            }
        });
        Ok(harness)
    }

    /// Every line the harness wrote so far (stdout and stderr: workerd's
    /// and the worker's logs), in arrival order per stream.
    pub fn log_lines(&self) -> Vec<String> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// How many log lines so far contain `needle`.
    pub fn count_log_lines(&self, needle: &str) -> usize {
        self.log
            .lock()
            .map(|l| l.iter().filter(|line| line.contains(needle)).count())
            .unwrap_or(0)
    }

    /// The last 64 KiB of the harness's log lines.
    pub fn log_tail(&self) -> String {
        let lines = self.log_lines();
        let mut out = String::new();
        for line in lines.iter().rev() {
            if out.len() + line.len() > 64 * 1024 {
                break;
            }
            out.insert_str(0, &format!("{line}\n"));
        }
        out
    }

    /// The harness process's id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` (`TERM`, `INT`, ...) to the harness process.
    pub fn signal(&self, signal: &str) -> Result<(), EdgeError> {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .map_err(|e| EdgeError(format!("cannot run `kill`: {e}")))?;
        if status.success() {
            Ok(())
        } else {
            Err(EdgeError(format!("kill -{signal} failed: {status}")))
        }
    }

    /// Waits up to `limit` for the harness to exit; its status, or `None`
    /// when it is still running (then it is left running).
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
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
