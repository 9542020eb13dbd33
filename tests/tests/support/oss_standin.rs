//! A local stand-in for one Alibaba Cloud OSS bucket, path-style.
//!
//! No OSS can run on this machine, yet the system tests need a second
//! bucket in the OSS dialect behind the same worker. This server speaks the
//! three calls bucketcors makes (`PUT`, `GET`, `DELETE /{bucket}/?cors`,
//! OSS XML, errors in OSS's `<Error>` shape) and serves objects
//! (`GET /{bucket}/{key}`: `object {key}`), so `bucketcors apply` runs its
//! real OSS backend (signing included) against it, and the worker forwards
//! to it. It keeps the configuration as the client sent it, refuses
//! unsigned requests (`Authorization: OSS4-HMAC-SHA256 ...` required, as OSS
//! V4) and records every CORS call for assertions.

use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::raw_http::{RawRequest, read_request};

/// A running stand-in; stops accepting when dropped.
pub struct OssStandIn {
    addr: SocketAddr,
    bucket: String,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

#[derive(Default)]
struct State {
    cors_xml: Option<String>,
    calls: Vec<String>,
}

impl OssStandIn {
    /// Serves `bucket` on a free loopback port.
    pub fn start(bucket: &str) -> std::io::Result<OssStandIn> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, s, b) = (state.clone(), stop.clone(), bucket.to_owned());
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (st, b) = (st.clone(), b.clone());
                        std::thread::spawn(move || {
                            let _ = serve(stream, &b, &st);
                        });
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5))
                    }
                    Err(_) => break,
                }
            }
        });
        Ok(OssStandIn {
            addr,
            bucket: bucket.to_owned(),
            state,
            stop,
        })
    }

    /// The endpoint to give the OSS backend (path-style).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bucket's object URL prefix, for the edge route's origin.
    pub fn origin_url(&self) -> String {
        format!("http://{}/{}", self.addr, self.bucket)
    }

    /// The CORS configuration currently stored (OSS XML), if any.
    pub fn cors_xml(&self) -> Option<String> {
        self.state.lock().unwrap().cors_xml.clone()
    }

    /// `METHOD path` of every CORS call received.
    pub fn calls(&self) -> Vec<String> {
        self.state.lock().unwrap().calls.clone()
    }
}

impl Drop for OssStandIn {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn error(code: &str, message: &str, ec: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>5F1E0000000000000000000A</RequestId><HostId>standin.oss.local</HostId><EC>{ec}</EC></Error>"
    )
}

fn serve(stream: TcpStream, bucket: &str, state: &Mutex<State>) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader)? {
        let authorized = request
            .header("authorization")
            .is_some_and(|a| a.contains("OSS4-HMAC-SHA256 Credential="));
        let RawRequest {
            method,
            target,
            body,
            ..
        } = request;
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let bucket_root = format!("/{bucket}/");
        let is_cors = query
            .split('&')
            .any(|p| p == "cors" || p.starts_with("cors="));
        let (status, content_type, answer) =
            if is_cors && (path == bucket_root || path == format!("/{bucket}")) {
                let mut st = state.lock().unwrap();
                st.calls.push(format!("{method} {target}"));
                if !authorized {
                    (
                        403,
                        "application/xml",
                        error(
                            "AccessDenied",
                            "The request is not signed with OSS V4.",
                            "0002-00000201",
                        ),
                    )
                } else {
                    match method.as_str() {
                        "PUT" => {
                            st.cors_xml = Some(String::from_utf8_lossy(&body).into_owned());
                            (200, "application/xml", String::new())
                        }
                        "GET" => match &st.cors_xml {
                            Some(xml) => (200, "application/xml", xml.clone()),
                            None => (
                                404,
                                "application/xml",
                                error(
                                    "NoSuchCORSConfiguration",
                                    "The CORS Configuration does not exist.",
                                    "0034-00000001",
                                ),
                            ),
                        },
                        "DELETE" => {
                            st.cors_xml = None;
                            (204, "application/xml", String::new())
                        }
                        _ => (
                            405,
                            "application/xml",
                            error("MethodNotAllowed", "method not allowed", "0000-00000000"),
                        ),
                    }
                }
            } else if let Some(key) = path.strip_prefix(&bucket_root) {
                (200, "text/plain", format!("object {key}"))
            } else {
                (
                    404,
                    "application/xml",
                    error(
                        "NoSuchBucket",
                        "The specified bucket does not exist.",
                        "0015-00000101",
                    ),
                )
            };
        let head = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nx-oss-request-id: 5F1E0000000000000000000A\r\n\r\n",
            if method == "HEAD" { 0 } else { answer.len() }
        );
        writer.write_all(head.as_bytes())?;
        if method != "HEAD" {
            writer.write_all(answer.as_bytes())?;
        }
        writer.flush()?;
    }
    Ok(())
}
