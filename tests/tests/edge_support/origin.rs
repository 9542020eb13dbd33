//! A stand-in bucket origin for edge tests: a small HTTP/1.1 server that
//! records every request it gets and answers with its own (wrong) CORS
//! headers, so a test can prove the edge forwarded what it should, streamed
//! bodies both ways, and replaced the bucket's CORS headers with the
//! engine's.
//!
//! Answers: status 200 (or `NNN` for paths under `/status/NNN/`), body
//! `object {path}` for `GET`, the request body echoed for other methods;
//! headers `Access-Control-Allow-Origin: https://bucket-said.example`,
//! `Access-Control-Expose-Headers: x-bucket`, `Vary: Origin, Accept-Encoding`
//! (under `/vary/` only), `x-amz-meta-color: blue`, `x-hidden: secret`, `x-origin-hits: N` (per path
//! and query), `Cache-Control: no-store` under `/nostore/` and
//! `Cache-Control: public, max-age=60` under `/public/` (anything else has
//! no caching headers).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// One request as the origin saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Method.
    pub method: String,
    /// Path and query.
    pub target: String,
    /// Header names lower-cased, values as sent.
    pub headers: Vec<(String, String)>,
    /// The whole body (chunked bodies decoded).
    pub body: Vec<u8>,
}

impl Seen {
    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The running origin. Stops accepting on drop.
pub struct Origin {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
}

impl Origin {
    /// Starts the origin on a free loopback port.
    pub fn start() -> Origin {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind origin");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let hits = Arc::new(Mutex::new(HashMap::<String, u64>::new()));
        {
            let (seen, stop) = (seen.clone(), stop.clone());
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let (seen, hits) = (seen.clone(), hits.clone());
                    std::thread::spawn(move || serve(conn, seen, hits));
                }
            });
        }
        Origin { url, seen, stop }
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Requests so far whose target starts with `prefix`.
    pub fn seen_under(&self, prefix: &str) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.target.starts_with(prefix))
            .collect()
    }
}

impl Drop for Origin {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.url.trim_start_matches("http://"));
    }
}

fn serve(conn: TcpStream, seen: Arc<Mutex<Vec<Seen>>>, hits: Arc<Mutex<HashMap<String, u64>>>) {
    let mut reader = BufReader::new(conn.try_clone().expect("clone stream"));
    let mut writer = conn;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_owned();
        let target = parts.next().unwrap_or("/").to_owned();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
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
        let mut body = Vec::new();
        if get("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
            loop {
                let mut size = String::new();
                if reader.read_line(&mut size).unwrap_or(0) == 0 {
                    return;
                }
                let n = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)
                    .unwrap_or(0);
                if n == 0 {
                    // Trailers end with an empty line.
                    loop {
                        let mut t = String::new();
                        if reader.read_line(&mut t).unwrap_or(0) == 0 || t.trim().is_empty() {
                            break;
                        }
                    }
                    break;
                }
                let mut chunk = vec![0; n];
                if reader.read_exact(&mut chunk).is_err() {
                    return;
                }
                body.extend_from_slice(&chunk);
                let mut crlf = [0u8; 2];
                let _ = reader.read_exact(&mut crlf);
            }
        } else if let Some(len) = get("content-length").and_then(|v| v.parse::<usize>().ok()) {
            body = vec![0; len];
            if reader.read_exact(&mut body).is_err() {
                return;
            }
        }
        let count = {
            let mut hits = hits.lock().unwrap();
            let c = hits.entry(target.clone()).or_insert(0);
            *c += 1;
            *c
        };
        let status: u16 = target
            .strip_prefix("/status/")
            .and_then(|r| r.split('/').next())
            .and_then(|s| s.parse().ok())
            .unwrap_or(200);
        let response_body = if method == "GET" || method == "HEAD" {
            format!("object {target}").into_bytes()
        } else {
            body.clone()
        };
        seen.lock().unwrap().push(Seen {
            method: method.clone(),
            target: target.clone(),
            headers,
            body,
        });
        let mut head = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\
             access-control-allow-origin: https://bucket-said.example\r\n\
             access-control-expose-headers: x-bucket\r\n\
             access-control-allow-credentials: true\r\n\
             x-amz-meta-color: blue\r\nx-hidden: secret\r\nx-origin-hits: {count}\r\n",
            response_body.len()
        );
        if target.starts_with("/vary/") {
            head.push_str("vary: Origin, Accept-Encoding\r\n");
        }
        if target.starts_with("/nostore/") {
            head.push_str("cache-control: no-store\r\n");
        }
        if target.starts_with("/public/") {
            head.push_str("cache-control: public, max-age=60\r\n");
        }
        head.push_str("\r\n");
        if writer.write_all(head.as_bytes()).is_err() {
            return;
        }
        if method != "HEAD" && writer.write_all(&response_body).is_err() {
            return;
        }
        let _ = writer.flush();
    }
}
