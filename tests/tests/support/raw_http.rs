//! A deliberately small HTTP/1.1 client over a bare `TcpStream`.
//!
//! The bad-input tests must send what well-behaved clients refuse to send
//! (CR/LF and non-ASCII bytes in header values, repeated `Origin` headers,
//! 64 KB header values, unknown methods), and must see the status, every
//! header and the body exactly as the server wrote them, so no HTTP library
//! sits between the test and the server. [`Conn`] keeps one connection
//! alive for the soak, where a new connection per request would measure the
//! kernel instead of the worker.
//!
//! [`read_request`] is the server side the loopback stand-ins share: one
//! request off the wire, headers in order.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// A response as read from the wire.
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// The status code.
    pub status: u16,
    /// Headers in the order received, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
    /// Time from the first byte written to the last byte read.
    pub elapsed: Duration,
    /// Bytes of the head and body on the wire.
    pub wire_len: usize,
}

impl RawResponse {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every header whose name starts with `Access-Control-` (case-insensitive),
    /// plus `Vary`, lower-cased names, in order: what a CORS decision produced.
    pub fn cors_headers(&self) -> Vec<(String, String)> {
        self.headers
            .iter()
            .filter(|(n, _)| {
                let n = n.to_ascii_lowercase();
                n.starts_with("access-control-") || n == "vary"
            })
            .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
            .collect()
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Builds a request head: `METHOD PATH HTTP/1.1`, `Host`, then `headers` as
/// raw bytes (not validated: that is the point), then a blank line.
pub fn request_bytes(
    method: &[u8],
    path: &str,
    host: &str,
    headers: &[(&str, &[u8])],
    keep_alive: bool,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(method);
    out.extend_from_slice(format!(" {path} HTTP/1.1\r\nHost: {host}\r\n").as_bytes());
    for (name, value) in headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    if !keep_alive {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Sends `request` on a fresh connection and reads one response.
pub fn send(addr: SocketAddr, request: &[u8], timeout: Duration) -> io::Result<RawResponse> {
    let mut conn = Conn::connect(addr, timeout)?;
    conn.send(request, request.starts_with(b"HEAD "))
}

/// One kept-alive connection.
pub struct Conn {
    reader: BufReader<TcpStream>,
}

impl Conn {
    /// Connects with `timeout` for connecting, reading and writing.
    pub fn connect(addr: SocketAddr, timeout: Duration) -> io::Result<Conn> {
        let stream = TcpStream::connect_timeout(&addr, timeout)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            reader: BufReader::new(stream),
        })
    }

    /// Writes `request` and reads one response. `head_only`: the request was
    /// `HEAD`, so the response has no body whatever its headers say.
    pub fn send(&mut self, request: &[u8], head_only: bool) -> io::Result<RawResponse> {
        let start = Instant::now();
        self.reader.get_mut().write_all(request)?;
        let mut resp = read_response(&mut self.reader, head_only)?;
        resp.elapsed = start.elapsed();
        Ok(resp)
    }
}

fn read_line(reader: &mut impl BufRead, wire: &mut usize) -> io::Result<String> {
    let mut line = Vec::new();
    let n = reader.read_until(b'\n', &mut line)?;
    if n == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed before a full response",
        ));
    }
    *wire += n;
    while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        line.pop();
    }
    Ok(String::from_utf8_lossy(&line).into_owned())
}

/// Reads one response: status line, headers, and a body framed by
/// `Content-Length`, chunked encoding, or the end of the connection.
pub fn read_response(reader: &mut impl BufRead, head_only: bool) -> io::Result<RawResponse> {
    let mut wire = 0;
    let status_line = read_line(reader, &mut wire)?;
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("bad status line: {status_line:?}"),
            )
        })?;
    let mut headers = Vec::new();
    loop {
        let line = read_line(reader, &mut wire)?;
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    let get = |name: &str| {
        headers
            .iter()
            .find(|(n, _): &&(String, String)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let mut body = Vec::new();
    let no_body = head_only || status == 204 || status == 304 || (100..200).contains(&status);
    if !no_body {
        if get("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
            loop {
                let size_line = read_line(reader, &mut wire)?;
                let size =
                    usize::from_str_radix(size_line.split(';').next().unwrap_or("").trim(), 16)
                        .map_err(|_| {
                            io::Error::new(
                                io::ErrorKind::InvalidData,
                                format!("bad chunk size {size_line:?}"),
                            )
                        })?;
                if size == 0 {
                    // Trailers, then the blank line.
                    while !read_line(reader, &mut wire)?.is_empty() {}
                    break;
                }
                let mut chunk = vec![0; size];
                reader.read_exact(&mut chunk)?;
                wire += size;
                body.extend_from_slice(&chunk);
                read_line(reader, &mut wire)?;
            }
        } else if let Some(len) = get("content-length") {
            let len: usize = len.parse().map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("bad Content-Length {len:?}"),
                )
            })?;
            body = vec![0; len];
            reader.read_exact(&mut body)?;
            wire += len;
        } else {
            reader.read_to_end(&mut body)?;
            wire += body.len();
        }
    }
    Ok(RawResponse {
        status,
        headers,
        body,
        elapsed: Duration::ZERO,
        wire_len: wire,
    })
}

/// A request as a stand-in server reads it.
#[derive(Debug, Clone)]
pub struct RawRequest {
    /// The method.
    pub method: String,
    /// The request target (path and query).
    pub target: String,
    /// Header lines in order, names lower-cased, values trimmed.
    pub headers: Vec<(String, String)>,
    /// The body (`Content-Length` bytes).
    pub body: Vec<u8>,
}

impl RawRequest {
    /// The first value of `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads one request; `None` when the client closed the connection.
pub fn read_request(reader: &mut impl BufRead) -> io::Result<Option<RawRequest>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or("/").to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 {
            return Ok(None);
        }
        if h.trim().is_empty() {
            break;
        }
        if let Some((n, v)) = h.split_once(':') {
            headers.push((n.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(Some(RawRequest {
        method,
        target,
        headers,
        body,
    }))
}
