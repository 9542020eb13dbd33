//! A bucket stand-in that answers every request with the engine's
//! S3-dialect decision for the configuration it holds: what S3 answers
//! (spec section 3, whose statements the engine's own tests check against
//! recorded S3 responses), served on loopback so a real browser can be
//! shown what a lint predicts.
//!
//! Preflights get the decision's status, headers and body; any other
//! method gets `200`, the body `object`, `Content-Type: text/plain`, an
//! `ETag`, and the decision's headers. It records each request as it
//! arrived ([`RawRequest`]: method, target, header lines), so a test can
//! see what the browser sent (its serialized origin, its lower-cased header names)
//! and how many preflights reached it. One request per connection.

use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bucketcors_engine::{Compiled, CorsConfig, Dialect, Request};

use super::raw_http::{RawRequest, read_request};

/// What one request carried, as it arrived (method, target, header lines).
pub type Seen = RawRequest;

/// A running stand-in; stops accepting when dropped.
pub struct EngineOrigin {
    addr: SocketAddr,
    compiled: Arc<Mutex<Compiled>>,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
}

impl EngineOrigin {
    /// Listens on a free loopback port with no CORS configuration.
    pub fn start() -> EngineOrigin {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("address");
        let compiled = Arc::new(Mutex::new(Compiled::none(Dialect::S3)));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (c, s, st) = (compiled.clone(), seen.clone(), stop.clone());
        std::thread::spawn(move || {
            while !st.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (c, s) = (c.clone(), s.clone());
                        std::thread::spawn(move || {
                            let _ = serve(stream, &c, &s);
                        });
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(2));
                    }
                    Err(_) => break,
                }
            }
        });
        EngineOrigin {
            addr,
            compiled,
            seen,
            stop,
        }
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Answers with `config` (validated for S3) from now on.
    pub fn set(&self, config: &CorsConfig) {
        let compiled = Compiled::new(config, Dialect::S3)
            .unwrap_or_else(|report| panic!("invalid test configuration: {report}"));
        *self.compiled.lock().expect("lock") = compiled;
    }

    /// Every request so far, in arrival order.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }

    /// The preflights that reached `path`.
    pub fn preflights(&self, path: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.method == "OPTIONS" && s.target == path)
            .count()
    }
}

impl Drop for EngineOrigin {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn serve(
    stream: TcpStream,
    compiled: &Mutex<Compiled>,
    seen: &Mutex<Vec<Seen>>,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let Some(arrived) = read_request(&mut reader)? else {
        return Ok(());
    };
    seen.lock().expect("lock").push(arrived.clone());
    let method = arrived.method.as_str();
    let origin = arrived.header("origin");
    let request_method = arrived.header("access-control-request-method");
    let request_headers = arrived.header("access-control-request-headers");
    let compiled = compiled.lock().expect("lock").clone();
    let request = Request {
        method,
        origin,
        request_method,
        request_headers,
        ..Request::default()
    };
    let decision = compiled.decide(&request);
    let mut head = String::new();
    let body = if decision.is_preflight() {
        head.push_str(&format!("HTTP/1.1 {} CORS\r\n", decision.status()));
        decision.body().map(|b| b.to_string()).unwrap_or_default()
    } else {
        head.push_str("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nETag: \"object-etag\"\r\n");
        "object".to_owned()
    };
    for (name, value) in decision.headers() {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    let mut stream = stream;
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    stream.flush()
}
