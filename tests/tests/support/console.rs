//! The console as a user runs it: `bucketcors console` as a process (its
//! start URL read from standard output) and its page in Debian Chromium,
//! driven through `console/web/driver.mjs` (playwright-core, axe-core) one
//! JSON command per line. The page is observed as a user sees it; judging
//! it is the test's business. A missing Node, npm package or Chromium is a
//! panic naming what to run: the test fails, it never skips.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use bucketcors_testkit::tools::workspace_root;
use serde_json::{Value, json};

use super::cli::bucketcors_bin;

/// A running `bucketcors console`.
pub struct Console {
    child: Child,
    /// The start URL, token included.
    pub url: String,
}

impl Console {
    /// Starts `bucketcors console --listen 127.0.0.1:0 ARGS` with `env`.
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> Console {
        let mut child = Command::new(bucketcors_bin())
            .arg("console")
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("bucketcors console starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("bucketcors console prints its URL");
        let url = line
            .strip_prefix("bucketcors console: ")
            .unwrap_or_else(|| panic!("unexpected first line from the console: {line}"))
            .to_owned();
        Console { child, url }
    }

    /// `http://127.0.0.1:PORT`, without the token.
    pub fn base(&self) -> String {
        self.url.split("/?").next().unwrap_or_default().to_owned()
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The console's page in a browser.
pub struct Page {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    /// Navigation start to the first full render (the page's own clock), ms.
    pub first_render_ms: f64,
}

/// `console/web`, where the driver and its node_modules live.
pub fn web_dir() -> PathBuf {
    workspace_root().join("console/web")
}

impl Page {
    /// Opens `url` (the console's start URL) in Chromium.
    pub fn open(url: &str) -> Page {
        let dir = web_dir();
        assert!(
            dir.join("node_modules/playwright-core").exists()
                && dir.join("node_modules/axe-core").exists(),
            "{}/node_modules is missing: run scripts/build-console.sh (npm ci from its lockfile)",
            dir.display()
        );
        let mut child = Command::new("node")
            .arg(dir.join("driver.mjs"))
            .arg(url)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run `node` for the console's page (install Node.js 20+): {e}")
            });
        let stdin = child.stdin.take();
        let stdout: ChildStdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let ready = lines
            .recv_timeout(Duration::from_secs(90))
            .expect("the console driver starts (is /usr/bin/chromium installed?)");
        let ready: Value = serde_json::from_str(&ready).expect("the driver's ready line is JSON");
        assert_eq!(ready["ready"], true, "driver: {ready}");
        Page {
            child,
            stdin,
            lines,
            first_render_ms: ready["firstRenderMs"].as_f64().unwrap_or(f64::NAN),
        }
    }

    /// Sends one command and returns the reply; panics when it failed.
    pub fn cmd(&mut self, command: Value) -> Value {
        let reply = self.try_cmd(command.clone());
        assert_eq!(
            reply["ok"], true,
            "driver command {command} failed: {reply}"
        );
        reply
    }

    /// Sends one command and returns the reply, failed or not.
    pub fn try_cmd(&mut self, command: Value) -> Value {
        let stdin = self.stdin.as_mut().expect("driver stdin open");
        writeln!(stdin, "{command}").expect("driver reads commands");
        stdin.flush().expect("flush");
        let line = self
            .lines
            .recv_timeout(Duration::from_secs(300))
            .unwrap_or_else(|_| panic!("no answer from the driver to {command}"));
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("driver answered `{line}`: {e}"))
    }

    /// Goes to a view (`#/`, `#/o/NS/NAME`, `.../edit`, `.../test`).
    pub fn goto(&mut self, hash: &str) {
        self.cmd(json!({"cmd": "goto", "hash": hash}));
    }

    /// The text of the first element matching `selector` ("" when none).
    pub fn text(&mut self, selector: &str) -> String {
        self.cmd(json!({"cmd": "text", "selector": selector}))["text"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The texts of every element matching `selector`.
    pub fn texts(&mut self, selector: &str) -> Vec<String> {
        self.cmd(json!({"cmd": "texts", "selector": selector}))["texts"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// How many elements match `selector`.
    pub fn count(&mut self, selector: &str) -> u64 {
        self.cmd(json!({"cmd": "count", "selector": selector}))["count"]
            .as_u64()
            .unwrap_or(0)
    }

    /// Waits until `selector`'s text contains `text`.
    pub fn wait_text(&mut self, selector: &str, text: &str, timeout: Duration) -> Value {
        self.try_cmd(
            json!({"cmd": "waitText", "selector": selector, "contains": text,
            "timeoutMs": timeout.as_millis() as u64}),
        )
    }

    /// axe-core's WCAG 2.1 A/AA violations on the page as it is now.
    pub fn axe(&mut self) -> Vec<Value> {
        self.cmd(json!({"cmd": "axe"}))["violations"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Sets the viewport.
    pub fn viewport(&mut self, width: u32, height: u32) {
        self.cmd(json!({"cmd": "viewport", "width": width, "height": height}));
    }

    /// Screenshot of the whole page into `path`.
    pub fn screenshot(&mut self, path: &std::path::Path) {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("screenshot dir");
        }
        self.cmd(json!({"cmd": "screenshot", "path": path, "fullPage": true}));
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        drop(self.stdin.take());
        for _ in 0..50 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where the docs' screenshots go (`docs/console/NAME.png`).
pub fn screenshot_path(name: &str) -> PathBuf {
    workspace_root()
        .join("docs/console")
        .join(format!("{name}.png"))
}
