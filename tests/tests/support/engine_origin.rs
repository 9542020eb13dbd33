//! A bucket stand-in that answers every request with the engine's
//! S3-dialect decision for the configuration it holds: what S3 answers
//! (spec section 3, whose statements the engine's own tests check against
//! recorded S3 responses), served on loopback so a real browser can be
//! shown what a lint predicts.
//!
//! Preflights get the decision's status, headers and body; any other
//! method gets `200`, the body `object`, `Content-Type: text/plain`, an
//! `ETag`, and the decision's headers. It records each request's method,
//! `Origin`, `Access-Control-Request-Headers` and header names, so a test
//! can see what the browser sent (its serialized origin, its lower-cased header names)
//! and how many preflights reached it. One request per connection.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bucketcors_engine::{Compiled, CorsConfig, Dialect, Request};

/// What one request carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The method.
    pub method: String,
    /// The path.
    pub path: String,
    /// `Origin`, when sent.
    pub origin: Option<String>,
    /// `Access-Control-Request-Headers`, when sent.
    pub request_headers: Option<String>,
    /// Every header name the request carried, lower-cased, in order.
    pub header_names: Vec<String>,
}

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
            .filter(|s| s.method == "OPTIONS" && s.path == path)
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
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or("/").to_owned();
    let mut headers: Vec<(String, String)> = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((n, v)) = h.split_once(':') {
            headers.push((n.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let get = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    if let Some(len) = get("content-length").and_then(|l| l.parse::<usize>().ok()) {
        let mut body = vec![0; len];
        reader.read_exact(&mut body)?;
    }
    let origin = get("origin");
    let request_method = get("access-control-request-method");
    let request_headers = get("access-control-request-headers");
    seen.lock().expect("lock").push(Seen {
        method: method.clone(),
        path: path.clone(),
        origin: origin.clone(),
        request_headers: request_headers.clone(),
        header_names: headers.iter().map(|(n, _)| n.clone()).collect(),
    });
    let compiled = compiled.lock().expect("lock").clone();
    let request = Request {
        method: &method,
        origin: origin.as_deref(),
        request_method: request_method.as_deref(),
        request_headers: request_headers.as_deref(),
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
