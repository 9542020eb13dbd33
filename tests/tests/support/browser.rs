//! A real browser the test drives step by step: Debian Chromium through
//! npm playwright-core (`edge-worker/harness/browser-driver.mjs`), one page
//! per named origin (`http://NAME.test:PORT`, every `*.test` name mapped to
//! 127.0.0.1 inside the browser).
//!
//! The system test interleaves browser fetches with its own steps (applying
//! manifests, deleting resources), so the driver speaks a line protocol on
//! its standard input and output instead of running a fixed script: one JSON
//! [`Fetch`] out, one JSON [`Seen`] back. [`Seen`] holds only what a web page
//! can observe; judging it is the test's business.
//!
//! A missing Node, playwright-core or Chromium is a panic naming what to
//! install: the test fails, it never skips. Dropping the value closes the
//! driver's standard input, which closes the browser.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bucketcors_testkit::edge::harness_dir;

/// One `fetch` a page makes.
#[derive(Debug, Clone)]
pub struct Fetch {
    /// The page (origin name) that calls `fetch`.
    pub page: String,
    /// The URL fetched.
    pub url: String,
    /// The request method.
    pub method: String,
    /// Request headers the page sets, as given.
    pub headers: Vec<(String, String)>,
    /// The request body, if any.
    pub body: Option<String>,
    /// `credentials: "include"` (otherwise the default, `same-origin`).
    pub credentials: bool,
    /// Response headers the page tries to read.
    pub read_headers: Vec<String>,
    /// The fetch `cache` mode; `None`: the driver's `no-store`, which also
    /// makes Chromium skip its preflight cache.
    pub cache: Option<String>,
}

impl Fetch {
    /// A plain `GET` of `url` from `page`.
    pub fn get(page: &str, url: &str) -> Fetch {
        Fetch {
            page: page.to_owned(),
            url: url.to_owned(),
            method: "GET".into(),
            headers: Vec::new(),
            body: None,
            credentials: false,
            read_headers: Vec::new(),
            cache: None,
        }
    }

    /// Sets the method.
    pub fn method(mut self, method: &str) -> Fetch {
        self.method = method.to_owned();
        self
    }

    /// Adds a request header.
    pub fn header(mut self, name: &str, value: &str) -> Fetch {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: &str) -> Fetch {
        self.body = Some(body.to_owned());
        self
    }

    /// Sends cookies and credentials (`credentials: "include"`).
    pub fn with_credentials(mut self) -> Fetch {
        self.credentials = true;
        self
    }

    /// Sets the fetch `cache` mode (`default` lets the preflight cache work).
    pub fn cache(mut self, mode: &str) -> Fetch {
        self.cache = Some(mode.to_owned());
        self
    }

    /// Tries to read these response headers.
    pub fn read(mut self, names: &[&str]) -> Fetch {
        self.read_headers = names.iter().map(|n| n.to_ascii_lowercase()).collect();
        self
    }
}

/// What the page observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// `fetch` resolved (false: it rejected, e.g. a CORS failure).
    pub ok: bool,
    /// The response status, when `fetch` resolved.
    pub status: Option<u16>,
    /// The response body, when `fetch` resolved.
    pub body: Option<String>,
    /// The requested response headers; `None` when the page may not read
    /// them (or the response has none).
    pub headers: BTreeMap<String, Option<String>>,
    /// The rejection, when `fetch` rejected.
    pub error: Option<String>,
    /// Console messages logged meanwhile (Chromium explains CORS failures there).
    pub console: Vec<String>,
}

impl Seen {
    /// A readable response header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.as_deref())
    }

    /// True when Chromium logged a CORS refusal for this fetch.
    pub fn blocked_by_cors(&self) -> bool {
        !self.ok && self.console.iter().any(|m| m.contains("CORS policy"))
    }
}

/// A running Chromium with one page per origin. Closes on drop.
pub struct Browser {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    origins: BTreeMap<String, String>,
    next_id: u64,
}

impl Browser {
    /// Starts Chromium with a page on each of `http://NAME.test:PORT`.
    pub fn start(names: &[&str]) -> Browser {
        Browser::start_with(names, None)
    }

    /// [`Browser::start`] with the pages on `port` (80: `http://NAME.test`,
    /// whose origin has no port).
    pub fn start_on_port(names: &[&str], port: u16) -> Browser {
        Browser::start_with(names, Some(port))
    }

    fn start_with(names: &[&str], port: Option<u16>) -> Browser {
        let dir = harness_dir();
        assert!(
            dir.join("node_modules/playwright-core").exists(),
            "{}/node_modules/playwright-core is missing: run scripts/install/worker-tools.sh (or scripts/build-worker.sh)",
            dir.display()
        );
        let mut command = Command::new("node");
        if let Some(port) = port {
            command.env("BROWSER_DRIVER_PAGE_PORT", port.to_string());
        }
        let mut child = command
            .arg(dir.join("browser-driver.mjs"))
            .args(names)
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run `node` for the browser (install Node.js 20+): {e}")
            });
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("piped");
        let stderr = bucketcors_testkit::child_io::tail(
            child.stderr.take().expect("piped"),
            32 * 1024,
            false,
        );
        let lines = bucketcors_testkit::child_io::lines(stdout);
        let mut browser = Browser {
            child,
            stdin,
            lines,
            stderr,
            origins: BTreeMap::new(),
            next_id: 0,
        };
        let ready = browser.next_json(Duration::from_secs(60), |v| v["ready"] == true);
        for (name, origin) in ready["origins"].as_object().expect("origins").iter() {
            browser
                .origins
                .insert(name.clone(), origin.as_str().expect("origin").to_owned());
        }
        browser
    }

    /// The origin of the page named `name` (`http://NAME.test:PORT`).
    pub fn origin(&self, name: &str) -> &str {
        self.origins
            .get(name)
            .unwrap_or_else(|| panic!("no page named {name}"))
    }

    /// Runs `fetch` in the page and returns what it observed.
    pub fn fetch(&mut self, fetch: &Fetch) -> Seen {
        self.next_id += 1;
        let id = self.next_id;
        let headers: serde_json::Map<String, serde_json::Value> = fetch
            .headers
            .iter()
            .map(|(n, v)| (n.clone(), serde_json::Value::from(v.as_str())))
            .collect();
        let mut init = serde_json::json!({ "method": fetch.method, "headers": headers });
        if let Some(body) = &fetch.body {
            init["body"] = body.as_str().into();
        }
        if fetch.credentials {
            init["credentials"] = "include".into();
        }
        if let Some(mode) = &fetch.cache {
            init["cache"] = mode.as_str().into();
        }
        let request = serde_json::json!({
            "id": id,
            "page": fetch.page,
            "url": fetch.url,
            "init": init,
            "readHeaders": fetch.read_headers,
        });
        let stdin = self.stdin.as_mut().expect("driver stdin open");
        writeln!(stdin, "{request}")
            .and_then(|()| stdin.flush())
            .unwrap_or_else(|e| panic!("the browser driver stopped: {e}\n{}", self.log_tail()));
        let answer = self.next_json(Duration::from_secs(60), |v| v["id"] == id);
        let headers = answer["headers"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().map(str::to_owned)))
                    .collect()
            })
            .unwrap_or_default();
        Seen {
            ok: answer["ok"] == true,
            status: answer["status"].as_u64().map(|s| s as u16),
            body: answer["body"].as_str().map(str::to_owned),
            headers,
            error: answer["error"].as_str().map(str::to_owned),
            console: answer["console"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|m| m.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// The driver's (and Chromium's) recent stderr.
    pub fn log_tail(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn next_json(
        &mut self,
        timeout: Duration,
        wanted: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Ok(value) = serde_json::from_str::<serde_json::Value>(&line)
                        && wanted(&value)
                    {
                        return value;
                    }
                }
                Err(reason) => {
                    // Let a driver that is exiting finish writing why.
                    let mut status = None;
                    let until = Instant::now() + Duration::from_secs(2);
                    while status.is_none() && Instant::now() < until {
                        status = self.child.try_wait().ok().flatten();
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    let what = match reason {
                        mpsc::RecvTimeoutError::Timeout => {
                            format!("gave no answer within {timeout:?}")
                        }
                        mpsc::RecvTimeoutError::Disconnected => "stopped".to_owned(),
                    };
                    panic!(
                        "the browser driver {what} (exit status {status:?}); it needs Node.js 20+, \
                         the harness's npm packages and Chromium (/usr/bin/chromium or $CHROMIUM_BIN; \
                         scripts/install/chromium.sh). Its log:\n{}",
                        self.log_tail()
                    );
                }
            }
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
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
