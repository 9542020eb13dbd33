//! A fault-injecting HTTP proxy for the Cloudflare KV API.
//!
//! The fault tests put it between `bucketcors apply` and the edge harness's
//! local KV REST endpoint. In [`Fault::None`] it forwards each request
//! unchanged; otherwise it answers in place of the API: 500s, 429s with a
//! `Retry-After`, or it reads the request and never answers (a hung API).
//! Every request it sees is recorded, so a test can prove the publisher
//! retried, waited as told, or gave up.
//!
//! It speaks just enough HTTP/1.1 for that: one request per connection,
//! `Content-Length` bodies, and `Connection: close` on every answer.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the proxy does with the next requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forward to the real endpoint.
    None,
    /// Answer `500 Internal Server Error` with a Cloudflare-shaped error body.
    ServerError,
    /// Answer `429 Too Many Requests` with `Retry-After: secs`.
    TooManyRequests {
        /// The `Retry-After` value, seconds.
        retry_after_secs: u64,
    },
    /// Read the request and never answer (until the client gives up).
    Hang,
}

/// The fault in force and how many more requests it applies to (`None`:
/// until changed), after which the proxy forwards again.
#[derive(Debug, Clone, Copy)]
struct Budgeted {
    fault: Fault,
    left: Option<u32>,
}

impl Budgeted {
    /// The fault for the request arriving now, spending the budget.
    fn take(&mut self) -> Fault {
        match self.left {
            Some(0) => Fault::None,
            Some(n) => {
                self.left = Some(n - 1);
                self.fault
            }
            None => self.fault,
        }
    }
}

/// One request the proxy saw.
#[derive(Debug, Clone)]
pub struct Hit {
    /// Request method.
    pub method: String,
    /// Request target (path and query).
    pub path: String,
    /// The fault in force when it arrived.
    pub fault: Fault,
    /// When it arrived.
    pub at: Instant,
    /// The `Authorization` header was present (its value is not kept).
    pub had_authorization: bool,
}

/// A running proxy; stops when dropped.
pub struct FaultProxy {
    addr: SocketAddr,
    fault: Arc<Mutex<Budgeted>>,
    hits: Arc<Mutex<Vec<Hit>>>,
    stop: Arc<AtomicBool>,
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards to `upstream`
    /// (`127.0.0.1:PORT`).
    pub fn start(upstream: SocketAddr) -> std::io::Result<FaultProxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let fault = Arc::new(Mutex::new(Budgeted {
            fault: Fault::None,
            left: None,
        }));
        let hits = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (f, h, s) = (fault.clone(), hits.clone(), stop.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let (f, h, s) = (f.clone(), h.clone(), s.clone());
                        std::thread::spawn(move || {
                            let _ = serve(client, upstream, &f, &h, &s);
                        });
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err(_) => break,
                }
            }
        });
        Ok(FaultProxy {
            addr,
            fault,
            hits,
            stop,
        })
    }

    /// `http://127.0.0.1:PORT`: give this to the publisher as its API URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Changes what the proxy does with requests arriving from now on.
    pub fn set(&self, fault: Fault) {
        *self.fault.lock().unwrap() = Budgeted { fault, left: None };
    }

    /// Applies `fault` to the next `count` requests only, then forwards.
    pub fn set_for(&self, fault: Fault, count: u32) {
        *self.fault.lock().unwrap() = Budgeted {
            fault,
            left: Some(count),
        };
    }

    /// Every request seen so far.
    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }

    /// Forgets the requests seen so far.
    pub fn clear_hits(&self) {
        self.hits.lock().unwrap().clear();
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

struct Incoming {
    method: String,
    path: String,
    head: Vec<u8>,
    body: Vec<u8>,
    had_authorization: bool,
}

fn read_request(reader: &mut BufReader<TcpStream>) -> std::io::Result<Incoming> {
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or("").to_owned();
    let path = parts.next().unwrap_or("").to_owned();
    let mut head = Vec::new();
    head.extend_from_slice(request_line.as_bytes());
    let mut content_length = 0usize;
    let mut had_authorization = false;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        if line == "\r\n" || line == "\n" {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            content_length = v.trim().parse().unwrap_or(0);
        }
        if lower.starts_with("authorization:") {
            had_authorization = true;
        }
        // The upstream connection is not kept alive either.
        if lower.starts_with("connection:") {
            continue;
        }
        head.extend_from_slice(line.as_bytes());
    }
    head.extend_from_slice(b"Connection: close\r\n\r\n");
    let mut body = vec![0; content_length];
    reader.read_exact(&mut body)?;
    Ok(Incoming {
        method,
        path,
        head,
        body,
        had_authorization,
    })
}

fn serve(
    client: TcpStream,
    upstream: SocketAddr,
    fault: &Mutex<Budgeted>,
    hits: &Mutex<Vec<Hit>>,
    stop: &AtomicBool,
) -> std::io::Result<()> {
    client.set_nonblocking(false)?;
    client.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(client.try_clone()?);
    let req = read_request(&mut reader)?;
    let now = fault.lock().unwrap().take();
    hits.lock().unwrap().push(Hit {
        method: req.method.clone(),
        path: req.path.clone(),
        fault: now,
        at: Instant::now(),
        had_authorization: req.had_authorization,
    });
    let mut client = client;
    match now {
        Fault::None => {
            let mut up = TcpStream::connect(upstream)?;
            up.set_read_timeout(Some(Duration::from_secs(30)))?;
            up.write_all(&req.head)?;
            up.write_all(&req.body)?;
            let mut answer = Vec::new();
            up.read_to_end(&mut answer)?;
            client.write_all(&answer)?;
        }
        Fault::ServerError => {
            let body = r#"{"success":false,"errors":[{"code":10001,"message":"injected internal error"}],"messages":[],"result":null}"#;
            write!(
                client,
                "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )?;
        }
        Fault::TooManyRequests { retry_after_secs } => {
            let body = r#"{"success":false,"errors":[{"code":10013,"message":"injected rate limit"}],"messages":[],"result":null}"#;
            write!(
                client,
                "HTTP/1.1 429 Too Many Requests\r\nRetry-After: {retry_after_secs}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )?;
        }
        Fault::Hang => {
            // Hold the connection open, answering nothing, until the client
            // closes it or the proxy stops.
            client.set_read_timeout(Some(Duration::from_millis(100)))?;
            let mut buf = [0u8; 512];
            while !stop.load(Ordering::Relaxed) {
                match client.read(&mut buf) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) => {}
                    Err(_) => break,
                }
            }
        }
    }
    let _ = client.flush();
    Ok(())
}
