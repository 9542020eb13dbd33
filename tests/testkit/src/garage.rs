//! A one-node Garage (a real S3-compatible server) for tests.
//!
//! [`Garage::start`] writes a configuration into a fresh temporary
//! directory, starts `garage server` with every listener (RPC, S3, web,
//! admin) on 127.0.0.1 on free ports, assigns and applies a one-node layout
//! with the CLI, creates an access key and the requested buckets through the
//! admin API (HTTP, fast enough to create a thousand buckets), and waits
//! until the S3 API answers. [`Garage::kill`] and [`Garage::restart`] let
//! fault tests take the server away and bring it back on the same ports with
//! the same data. Dropping the value stops the server and removes the
//! directory.
//!
//! A missing `garage` binary is an error naming the installer
//! (`scripts/install/garage.sh`); tests fail, they never skip.

use std::fmt;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The S3 signing region the node is configured with.
pub const REGION: &str = "garage";

/// The web endpoint's root domain: `NAME.web.garage.localhost` serves the
/// bucket `NAME` (when that name resolves; `*.localhost` may not).
pub const WEB_ROOT_DOMAIN: &str = ".web.garage.localhost";

/// The Garage version the tests are written against.
pub const VERSION: &str = "2.5.0";

/// Why Garage could not be started or driven.
#[derive(Debug)]
pub struct GarageError(String);

impl fmt::Display for GarageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GarageError {}

fn err(message: impl Into<String>) -> GarageError {
    GarageError(message.into())
}

/// An access key of the node. `Debug` redacts the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct GarageKey {
    /// Access key id (`GK...`).
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
}

impl fmt::Debug for GarageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GarageKey")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .finish()
    }
}

/// A running one-node Garage. Stops (and cleans up) on drop.
pub struct Garage {
    binary: PathBuf,
    dir: PathBuf,
    s3_port: u16,
    web_port: u16,
    admin_port: u16,
    admin_token: String,
    key: GarageKey,
    child: Option<Child>,
}

impl fmt::Debug for Garage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Garage")
            .field("dir", &self.dir)
            .field("endpoint", &self.endpoint())
            .field("key", &self.key)
            .field("running", &self.child.is_some())
            .finish_non_exhaustive()
    }
}

/// Where the `garage` binary is: `$GARAGE_BIN`, `~/.cargo/bin/garage`,
/// the tool cache, then `PATH`.
pub fn garage_binary() -> Result<PathBuf, GarageError> {
    let mut candidates = Vec::new();
    if let Some(bin) = std::env::var_os("GARAGE_BIN") {
        candidates.push(PathBuf::from(bin));
    }
    if let Some(home) = std::env::var_os("HOME") {
        candidates.push(PathBuf::from(home).join(".cargo/bin/garage"));
    }
    candidates.push(crate::tools::cache_dir().join("bin/garage"));
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path).map(|dir| dir.join("garage")));
    }
    candidates.into_iter().find(|path| path.is_file()).ok_or_else(|| {
        err(format!(
            "Garage {VERSION} is not installed (looked at $GARAGE_BIN, ~/.cargo/bin, the tool cache and PATH): \
             run scripts/install/garage.sh"
        ))
    })
}

impl Garage {
    /// Starts a node with the given buckets, all readable, writable and owned
    /// by [`Garage::key`].
    pub fn start(buckets: &[&str]) -> Result<Garage, GarageError> {
        let binary = garage_binary()?;
        let dir = fresh_dir()?;
        let [rpc_port, s3_port, web_port, admin_port] = free_ports()?;
        let admin_token = random_hex(32)?;
        let config = format!(
            r#"metadata_dir = "{dir}/meta"
data_dir = "{dir}/data"
db_engine = "sqlite"
replication_factor = 1

rpc_bind_addr = "127.0.0.1:{rpc_port}"
rpc_public_addr = "127.0.0.1:{rpc_port}"
rpc_secret = "{rpc_secret}"

[s3_api]
s3_region = "{REGION}"
api_bind_addr = "127.0.0.1:{s3_port}"
root_domain = ".s3.garage.localhost"

[s3_web]
bind_addr = "127.0.0.1:{web_port}"
root_domain = "{WEB_ROOT_DOMAIN}"
index = "index.html"

[admin]
api_bind_addr = "127.0.0.1:{admin_port}"
admin_token = "{admin_token}"
"#,
            dir = dir.display(),
            rpc_secret = random_hex(32)?,
        );
        std::fs::write(dir.join("garage.toml"), config)
            .map_err(|e| err(format!("writing Garage config in {}: {e}", dir.display())))?;

        let mut garage = Garage {
            binary,
            dir,
            s3_port,
            web_port,
            admin_port,
            admin_token,
            key: GarageKey {
                access_key_id: String::new(),
                secret_access_key: String::new(),
            },
            child: None,
        };
        garage.spawn()?;
        garage.setup_layout()?;
        garage.wait_healthy()?;
        garage.key = garage.create_key("bucketcors-test")?;
        for bucket in buckets {
            garage.create_bucket(bucket)?;
        }
        Ok(garage)
    }

    /// The S3 endpoint, `http://127.0.0.1:PORT` (use path-style addressing).
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.s3_port)
    }

    /// The web endpoint (static website hosting),
    /// `http://127.0.0.1:PORT`.
    ///
    /// Garage picks the bucket by the request's `Host` without its port: a
    /// host ending in [`WEB_ROOT_DOMAIN`] names the bucket by the labels
    /// before it, any other host is taken whole as a bucket's global alias.
    /// Only buckets with website access enabled
    /// ([`Garage::enable_website`]) are served.
    pub fn web_endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.web_port)
    }

    /// The web endpoint's port.
    pub fn web_port(&self) -> u16 {
        self.web_port
    }

    /// Enables website access on `bucket` (admin API `UpdateBucket`, what
    /// `garage bucket website --allow` does), with `index.html` as index.
    pub fn enable_website(&self, bucket: &str) -> Result<(), GarageError> {
        let id = self.bucket_id(bucket)?;
        let body = serde_json::json!({
            "websiteAccess": { "enabled": true, "indexDocument": "index.html" }
        })
        .to_string();
        self.admin("POST", &format!("/v2/UpdateBucket?id={id}"), &body)?;
        Ok(())
    }

    /// Adds the global alias `alias` to `bucket` (admin API
    /// `AddBucketAlias`). The alias must be a valid bucket name: 3 to 63
    /// characters of `a-z`, `0-9`, `.` and `-`, not an IP address; a single
    /// label such as `localhost` is valid.
    pub fn add_alias(&self, bucket: &str, alias: &str) -> Result<(), GarageError> {
        let id = self.bucket_id(bucket)?;
        let body = serde_json::json!({ "bucketId": id, "globalAlias": alias }).to_string();
        self.admin("POST", "/v2/AddBucketAlias", &body)?;
        Ok(())
    }

    fn bucket_id(&self, bucket: &str) -> Result<String, GarageError> {
        let info = self.admin(
            "GET",
            &format!("/v2/GetBucketInfo?globalAlias={bucket}"),
            "",
        )?;
        info["id"].as_str().map(str::to_owned).ok_or_else(|| {
            err(format!(
                "Garage GetBucketInfo `{bucket}` answered without an id"
            ))
        })
    }

    /// The S3 region (`garage`).
    pub fn region(&self) -> &'static str {
        REGION
    }

    /// The key that owns every bucket created through this value.
    pub fn key(&self) -> &GarageKey {
        &self.key
    }

    /// The node's data and log directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// True while the server process runs.
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Creates a bucket and gives [`Garage::key`] read, write and owner rights.
    pub fn create_bucket(&self, name: &str) -> Result<(), GarageError> {
        let body = serde_json::json!({ "globalAlias": name }).to_string();
        let created = self.admin("POST", "/v2/CreateBucket", &body)?;
        let id = created["id"].as_str().ok_or_else(|| {
            err(format!(
                "Garage CreateBucket `{name}` answered without an id: {created}"
            ))
        })?;
        let allow = serde_json::json!({
            "bucketId": id,
            "accessKeyId": self.key.access_key_id,
            "permissions": { "read": true, "write": true, "owner": true },
        })
        .to_string();
        self.admin("POST", "/v2/AllowBucketKey", &allow)?;
        Ok(())
    }

    /// Gives `key` read, write and owner rights on `bucket` (for example a
    /// rotated credential).
    pub fn allow_key(&self, bucket: &str, key: &GarageKey) -> Result<(), GarageError> {
        let info = self.admin(
            "GET",
            &format!("/v2/GetBucketInfo?globalAlias={bucket}"),
            "",
        )?;
        let id = info["id"].as_str().ok_or_else(|| {
            err(format!(
                "Garage GetBucketInfo `{bucket}` answered without an id"
            ))
        })?;
        let allow = serde_json::json!({
            "bucketId": id,
            "accessKeyId": key.access_key_id,
            "permissions": { "read": true, "write": true, "owner": true },
        })
        .to_string();
        self.admin("POST", "/v2/AllowBucketKey", &allow)?;
        Ok(())
    }

    /// How many S3 requests of kind `endpoint` (Garage's name: `PutBucketCors`,
    /// `GetBucketCors`, `DeleteBucketCors`, ...) this node has answered since
    /// it started, from its Prometheus metrics (`api_s3_request_counter`):
    /// what the bucket itself saw, whoever sent it.
    pub fn s3_request_count(&self, endpoint: &str) -> Result<u64, GarageError> {
        let (status, text) = http(self.admin_port, "GET", "/metrics", None, "")
            .map_err(|e| err(format!("Garage /metrics: {e}")))?;
        if status != 200 {
            return Err(err(format!("Garage /metrics answered {status}")));
        }
        let label = format!("api_endpoint=\"{endpoint}\"");
        Ok(text
            .lines()
            .filter(|l| l.starts_with("api_s3_request_counter{") && l.contains(&label))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .map(|v| v as u64)
            .sum())
    }

    /// Creates a further key with no rights on any bucket.
    pub fn create_key(&self, name: &str) -> Result<GarageKey, GarageError> {
        let body = serde_json::json!({ "name": name }).to_string();
        let key = self.admin("POST", "/v2/CreateKey", &body)?;
        let field = |f: &str| {
            key[f]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| err(format!("Garage CreateKey answered without `{f}`")))
        };
        Ok(GarageKey {
            access_key_id: field("accessKeyId")?,
            secret_access_key: field("secretAccessKey")?,
        })
    }

    /// Kills the server (SIGKILL): the S3 port refuses connections until
    /// [`Garage::restart`].
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same ports with the same data, and
    /// waits until it is healthy.
    pub fn restart(&mut self) -> Result<(), GarageError> {
        self.kill();
        self.spawn()?;
        self.wait_healthy()
    }

    /// The last lines of the server log, for failure messages.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("garage.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    fn config_path(&self) -> PathBuf {
        self.dir.join("garage.toml")
    }

    fn spawn(&mut self) -> Result<(), GarageError> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("garage.log"))
            .map_err(|e| err(format!("opening Garage log: {e}")))?;
        let log2 = log
            .try_clone()
            .map_err(|e| err(format!("opening Garage log: {e}")))?;
        let child = Command::new(&self.binary)
            .arg("-c")
            .arg(self.config_path())
            .arg("server")
            .env("RUST_LOG", "garage=warn")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .map_err(|e| err(format!("starting {}: {e}", self.binary.display())))?;
        self.child = Some(child);
        // The admin listener is up once the node has opened its database.
        let admin: SocketAddr = ([127, 0, 0, 1], self.admin_port).into();
        self.wait_until("the admin port to open", || {
            TcpStream::connect_timeout(&admin, Duration::from_millis(200)).is_ok()
        })
    }

    fn cli(&self, args: &[&str]) -> Result<String, GarageError> {
        let output = Command::new(&self.binary)
            .arg("-c")
            .arg(self.config_path())
            .args(args)
            .env("RUST_LOG", "garage=warn")
            .output()
            .map_err(|e| err(format!("running garage {}: {e}", args.join(" "))))?;
        if !output.status.success() {
            return Err(err(format!(
                "garage {} failed: {}{}",
                args.join(" "),
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )));
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    fn setup_layout(&self) -> Result<(), GarageError> {
        let node = self
            .cli(&["node", "id", "-q"])
            .or_else(|_| self.cli(&["node", "id"]))?;
        let node_id = node
            .lines()
            .map(str::trim)
            .find(|line| line.len() >= 64 && line.chars().take(64).all(|c| c.is_ascii_hexdigit()))
            .map(|line| line[..64].to_owned())
            .ok_or_else(|| {
                err(format!(
                    "could not read the node id from `garage node id`: {node}"
                ))
            })?;
        self.cli(&["layout", "assign", "-z", "dc1", "-c", "1G", &node_id])?;
        self.cli(&["layout", "apply", "--version", "1"])?;
        Ok(())
    }

    fn wait_healthy(&self) -> Result<(), GarageError> {
        self.wait_until("the cluster to report healthy", || {
            matches!(
                http(self.admin_port, "GET", "/health", None, ""),
                Ok((200, _))
            )
        })?;
        let s3: SocketAddr = ([127, 0, 0, 1], self.s3_port).into();
        self.wait_until("the S3 port to open", || {
            TcpStream::connect_timeout(&s3, Duration::from_millis(200)).is_ok()
        })
    }

    fn wait_until(&self, what: &str, mut ready: impl FnMut() -> bool) -> Result<(), GarageError> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if ready() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(err(format!(
                    "timed out waiting for {what}; Garage log:\n{}",
                    self.log_tail()
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn admin(
        &self,
        method: &str,
        path: &str,
        body: &str,
    ) -> Result<serde_json::Value, GarageError> {
        let auth = format!("Bearer {}", self.admin_token);
        let (status, text) = http(self.admin_port, method, path, Some(&auth), body)
            .map_err(|e| err(format!("Garage admin {path}: {e}")))?;
        if status != 200 {
            return Err(err(format!(
                "Garage admin {path} answered {status}: {text}"
            )));
        }
        serde_json::from_str(&text)
            .map_err(|e| err(format!("Garage admin {path}: bad JSON ({e}): {text}")))
    }
}

impl Drop for Garage {
    fn drop(&mut self) {
        self.kill();
        if std::env::var_os("BUCKETCORS_KEEP_GARAGE").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// One HTTP/1.1 request to the admin API over a fresh connection.
fn http(
    port: u16,
    method: &str,
    path: &str,
    auth: Option<&str>,
    body: &str,
) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(auth) = auth {
        request.push_str(&format!("Authorization: {auth}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad HTTP response: {head}")))?;
    let chunked = head.lines().any(|l| {
        l.to_ascii_lowercase()
            .starts_with("transfer-encoding: chunked")
    });
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_owned()
    };
    Ok((status, body))
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || tail.len() < size {
            break;
        }
        out.push_str(&tail[..size]);
        rest = tail[size..].strip_prefix("\r\n").unwrap_or(&tail[size..]);
    }
    out
}

fn free_ports() -> Result<[u16; 4], GarageError> {
    crate::scratch::free_ports().map_err(|e| err(format!("finding free ports: {e}")))
}

fn random_hex(bytes: usize) -> Result<String, GarageError> {
    crate::scratch::random_hex(bytes).map_err(|e| err(format!("reading /dev/urandom: {e}")))
}

fn fresh_dir() -> Result<PathBuf, GarageError> {
    crate::scratch::fresh_dir("garage")
        .map_err(|e| err(format!("creating a temporary directory: {e}")))
}
