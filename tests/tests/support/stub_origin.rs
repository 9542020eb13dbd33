//! A stand-in bucket origin for the edge bad-input tests.
//!
//! The worker forwards actual requests to the route's origin URL; these
//! tests are about what the edge does with hostile requests, so the origin
//! is a tiny deterministic server: every request gets `200` (no body for
//! `HEAD`) with the body `object {path}`, and the response carries CORS
//! headers of its own (`Access-Control-Allow-Origin: https://planted.example`,
//! `Vary: Origin`) that the edge must remove before applying the engine's
//! decision. It counts requests, so a test can prove a preflight never
//! reached it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// The `Access-Control-Allow-Origin` the origin plants in every response.
pub const PLANTED_ORIGIN: &str = "https://planted.example";

/// A running stub origin; stops accepting when dropped.
pub struct StubOrigin {
    addr: SocketAddr,
    requests: Arc<AtomicU64>,
    options_seen: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl StubOrigin {
    /// Listens on a free loopback port.
    pub fn start() -> std::io::Result<StubOrigin> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let requests = Arc::new(AtomicU64::new(0));
        let options_seen = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (r, o, s) = (requests.clone(), options_seen.clone(), stop.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (r, o) = (r.clone(), o.clone());
                        std::thread::spawn(move || {
                            let _ = serve(stream, &r, &o);
                        });
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(2));
                    }
                    Err(_) => break,
                }
            }
        });
        Ok(StubOrigin {
            addr,
            requests,
            options_seen,
            stop,
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests served so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// `OPTIONS` requests that reached the origin (the edge must answer
    /// every preflight itself).
    pub fn options_seen(&self) -> u64 {
        self.options_seen.load(Ordering::Relaxed)
    }

    /// The body the origin answers for `path`.
    pub fn body_for(path: &str) -> String {
        format!("object {path}")
    }
}

impl Drop for StubOrigin {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn serve(stream: TcpStream, requests: &AtomicU64, options_seen: &AtomicU64) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_owned();
        let path = parts.next().unwrap_or("/").to_owned();
        let mut content_length = 0usize;
        let mut chunked = false;
        let mut close = false;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h)? == 0 {
                return Ok(());
            }
            if h == "\r\n" || h == "\n" {
                break;
            }
            let lower = h.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                content_length = v.trim().parse().unwrap_or(0);
            } else if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
                chunked = true;
            } else if lower.starts_with("connection:") && lower.contains("close") {
                close = true;
            }
        }
        if chunked {
            loop {
                let mut size = String::new();
                reader.read_line(&mut size)?;
                let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
                let mut skip = vec![0; n + 2];
                if n == 0 {
                    // Trailers end with an empty line.
                    let mut end = String::new();
                    reader.read_line(&mut end)?;
                    break;
                }
                reader.read_exact(&mut skip)?;
            }
        } else if content_length > 0 {
            let mut skip = vec![0; content_length];
            reader.read_exact(&mut skip)?;
        }
        requests.fetch_add(1, Ordering::Relaxed);
        if method == "OPTIONS" {
            options_seen.fetch_add(1, Ordering::Relaxed);
        }
        let body = StubOrigin::body_for(&path);
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
             Access-Control-Allow-Origin: {PLANTED_ORIGIN}\r\nAccess-Control-Allow-Credentials: true\r\n\
             Access-Control-Expose-Headers: x-planted\r\nVary: Origin\r\nCache-Control: max-age=60\r\n{}\r\n",
            body.len(),
            if close { "Connection: close\r\n" } else { "" }
        );
        writer.write_all(head.as_bytes())?;
        if method != "HEAD" {
            writer.write_all(body.as_bytes())?;
        }
        writer.flush()?;
        if close {
            return Ok(());
        }
    }
}
