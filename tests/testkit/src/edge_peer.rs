//! The empty peer worker in workerd: the floor a measurement of the
//! bucketcors worker is compared with.
//!
//! `edge-worker/empty-peer` is a workers-rs worker with no CORS logic (it
//! answers `OPTIONS` with an empty 200 and passes everything else to a
//! local origin). `scripts/bench/edge-peers.mjs` serves it through the same
//! Miniflare, hence the same workerd, as the harness serves the bucketcors
//! worker. What workerd does with memory under Miniflare (its resident set
//! grows by hundreds of megabytes over the first tens of thousands of
//! requests whatever the worker does, then levels off) is only a fact about
//! the bucketcors worker when the peer, driven with the same traffic in the
//! same run, does not do the same: that is what this handle is for.
//!
//! A missing build is an error naming the script that makes it
//! (`scripts/build-worker.sh edge-worker/empty-peer`); tests fail, they
//! never skip. Dropping the value stops the peer (SIGTERM, then SIGKILL
//! after five seconds).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::edge::{EdgeError, harness_dir};
use crate::tools::workspace_root;

/// The empty peer's worker-build output directory.
pub fn empty_peer_build_dir() -> PathBuf {
    workspace_root()
        .join("edge-worker")
        .join("empty-peer")
        .join("build")
}

/// A running empty peer (and the static origin it forwards to).
pub struct EmptyPeer {
    child: Child,
    /// The peer worker's URL (`http://127.0.0.1:PORT`).
    pub url: String,
    /// The static origin's URL.
    pub origin_url: String,
    stderr: Arc<Mutex<String>>,
}

impl EmptyPeer {
    /// Starts `scripts/bench/edge-peers.mjs` and waits for its URLs.
    pub fn start() -> Result<EmptyPeer, EdgeError> {
        if !harness_dir()
            .join("node_modules")
            .join("miniflare")
            .exists()
        {
            return Err(EdgeError::new(
                "edge-worker/harness/node_modules is missing: run scripts/install/worker-tools.sh",
            ));
        }
        let build = empty_peer_build_dir();
        if !build.join("worker").join("shim.mjs").exists() {
            return Err(EdgeError::new(format!(
                "the empty peer is not built ({} is missing): run scripts/build-worker.sh edge-worker/empty-peer",
                build.join("worker").join("shim.mjs").display()
            )));
        }
        let script = workspace_root()
            .join("scripts")
            .join("bench")
            .join("edge-peers.mjs");
        let mut child = Command::new("node")
            .arg(&script)
            .arg("--empty-build")
            .arg(&build)
            .env("WRANGLER_SEND_METRICS", "false")
            .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| EdgeError::new(format!("cannot run `node` (install Node.js 20+): {e}")))?;
        let rx = crate::child_io::lines(child.stdout.take().expect("piped"));
        let stderr = crate::child_io::tail(child.stderr.take().expect("piped"), 64 * 1024, false);
        let mut peer = EmptyPeer {
            child,
            url: String::new(),
            origin_url: String::new(),
            stderr,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(line) = rx.recv_timeout(left) else {
                let log = peer.stderr.lock().map(|s| s.clone()).unwrap_or_default();
                return Err(EdgeError::new(format!(
                    "the empty peer did not become ready within 60 s; its stderr:\n{log}"
                )));
            };
            match line.split_once(' ') {
                Some(("empty", url)) => peer.url = url.trim().to_owned(),
                Some(("origin", url)) => peer.origin_url = url.trim().to_owned(),
                _ if line.trim() == "ready" => break,
                _ => {}
            }
        }
        Ok(peer)
    }

    /// The peer process's id (workerd is its child).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for EmptyPeer {
    fn drop(&mut self) {
        // The peer stops Miniflare (and with it workerd) on SIGTERM.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
