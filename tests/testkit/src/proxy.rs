//! A real caching proxy standing in for a CDN: Debian's nginx, configured
//! in a fresh temporary directory and listening on a free loopback port.
//!
//! [`CachingProxy::start`] writes `nginx.conf` for one upstream and starts
//! `nginx -p DIR -c nginx.conf` in the foreground (`daemon off`, one worker
//! process), then waits for the port to open. [`ProxyOptions`] chooses what
//! kind of naive CDN it is: a cache keyed on the URL only that ignores
//! `Vary` (as some CDNs do), and/or a layer that adds its own
//! `Access-Control-Allow-Origin` on top of the upstream's. Every answer
//! carries `X-Cache: HIT|MISS|...` (nginx's `$upstream_cache_status`) when
//! caching. Dropping the value stops nginx and removes the directory.
//!
//! A missing nginx is an error naming the installer
//! (`scripts/install/nginx.sh`); tests fail, they never skip.

use std::fmt;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Why the proxy could not be started.
#[derive(Debug)]
pub struct ProxyError(String);

impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ProxyError {}

/// What kind of CDN the proxy plays.
#[derive(Debug, Clone, Default)]
pub struct ProxyOptions {
    /// Cache `200` answers for 10 minutes, keyed on the URL only, ignoring
    /// `Vary`, `Cache-Control` and `Expires` from the upstream.
    pub cache_ignoring_vary: bool,
    /// Add `Access-Control-Allow-Origin: <the request's Origin>` to every
    /// answer, on top of whatever the upstream sent (nginx `add_header`).
    pub add_allow_origin: bool,
}

/// A running nginx. Stops on drop.
pub struct CachingProxy {
    child: Option<Child>,
    dir: PathBuf,
    port: u16,
}

impl fmt::Debug for CachingProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachingProxy")
            .field("url", &self.url())
            .field("dir", &self.dir)
            .finish()
    }
}

/// Where nginx is: `$NGINX_BIN`, `/usr/sbin/nginx`, then `PATH`.
pub fn nginx_binary() -> Result<PathBuf, ProxyError> {
    let mut candidates = Vec::new();
    if let Some(bin) = std::env::var_os("NGINX_BIN") {
        candidates.push(PathBuf::from(bin));
    }
    candidates.push(PathBuf::from("/usr/sbin/nginx"));
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path).map(|dir| dir.join("nginx")));
    }
    candidates.into_iter().find(|p| p.is_file()).ok_or_else(|| {
        ProxyError(
            "nginx is not installed (looked at $NGINX_BIN, /usr/sbin/nginx and PATH): run \
             scripts/install/nginx.sh"
                .to_owned(),
        )
    })
}

impl CachingProxy {
    /// Starts nginx in front of `upstream` (`http://127.0.0.1:PORT`, no
    /// path): requests are forwarded with their path and query unchanged
    /// and the upstream's own `Host`, so presigned URLs stay valid.
    pub fn start(upstream: &str, options: &ProxyOptions) -> Result<CachingProxy, ProxyError> {
        let binary = nginx_binary()?;
        let dir = fresh_dir()?;
        let port = free_port()?;
        std::fs::write(
            dir.join("nginx.conf"),
            config(&dir, port, upstream, options),
        )
        .map_err(|e| ProxyError(format!("writing nginx.conf in {}: {e}", dir.display())))?;
        let log = std::fs::File::create(dir.join("stderr.log"))
            .map_err(|e| ProxyError(format!("creating the nginx log: {e}")))?;
        let child = Command::new(&binary)
            .arg("-p")
            .arg(&dir)
            .args(["-c", "nginx.conf"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| ProxyError(format!("starting {}: {e}", binary.display())))?;
        let mut proxy = CachingProxy {
            child: Some(child),
            dir,
            port,
        };
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(proxy);
            }
            let exited = proxy
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if exited.is_some() || Instant::now() > deadline {
                return Err(ProxyError(format!(
                    "nginx did not start listening on {addr} ({}); its log:\n{}",
                    exited.map_or("timed out".to_owned(), |s| s.to_string()),
                    proxy.log_tail()
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The directory holding the configuration, logs and cache.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// nginx's error log and stderr, for failure messages.
    pub fn log_tail(&self) -> String {
        let read = |name: &str| std::fs::read_to_string(self.dir.join(name)).unwrap_or_default();
        format!("{}{}", read("stderr.log"), read("error.log"))
    }
}

impl Drop for CachingProxy {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The configuration: one server, one location, everything under `dir`.
fn config(dir: &Path, port: u16, upstream: &str, options: &ProxyOptions) -> String {
    let dir = dir.display();
    let mut location = format!("      proxy_pass {upstream};\n");
    if options.cache_ignoring_vary {
        location.push_str(
            "      proxy_cache doctor;\n\
             \x20     proxy_cache_valid 200 206 10m;\n\
             \x20     proxy_ignore_headers Vary Cache-Control Expires Set-Cookie;\n\
             \x20     add_header X-Cache $upstream_cache_status always;\n",
        );
    }
    if options.add_allow_origin {
        location.push_str("      add_header Access-Control-Allow-Origin $http_origin always;\n");
    }
    format!(
        "daemon off;\n\
         master_process off;\n\
         worker_processes 1;\n\
         pid {dir}/nginx.pid;\n\
         error_log {dir}/error.log warn;\n\
         events {{ worker_connections 128; }}\n\
         http {{\n\
         \x20 access_log {dir}/access.log;\n\
         \x20 client_body_temp_path {dir}/client_body;\n\
         \x20 proxy_temp_path {dir}/proxy_temp;\n\
         \x20 fastcgi_temp_path {dir}/fastcgi_temp;\n\
         \x20 uwsgi_temp_path {dir}/uwsgi_temp;\n\
         \x20 scgi_temp_path {dir}/scgi_temp;\n\
         \x20 proxy_cache_path {dir}/cache levels=1 keys_zone=doctor:1m max_size=16m inactive=10m use_temp_path=off;\n\
         \x20 server {{\n\
         \x20   listen 127.0.0.1:{port};\n\
         \x20   location / {{\n\
         {location}\
         \x20   }}\n\
         \x20 }}\n\
         }}\n"
    )
}

fn free_port() -> Result<u16, ProxyError> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| ProxyError(format!("finding a free port: {e}")))
}

fn fresh_dir() -> Result<PathBuf, ProxyError> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("bucketcors-nginx-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir)
        .map_err(|e| ProxyError(format!("creating {}: {e}", dir.display())))?;
    Ok(dir)
}
