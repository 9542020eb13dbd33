//! A loopback server whose every answer the test scripts: for path
//! `/case/N` it answers `OPTIONS` with case N's preflight and anything else
//! with case N's actual response, and records what arrived (method and
//! headers), so a test can see what the browser really sent.
//!
//! It proves nothing about any bucket: it exists so that a browser's
//! handling of an answer can be observed for answers no real store gives
//! (two `Access-Control-Allow-Origin` lines, a redirected preflight).

use std::collections::BTreeMap;
use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::raw_http::{RawRequest, read_request};

/// One scripted response.
#[derive(Debug, Clone, Default)]
pub struct Scripted {
    /// The status code.
    pub status: u16,
    /// The header lines, in order (repeats allowed).
    pub headers: Vec<(String, String)>,
}

/// One request as it arrived (method, target, header lines).
pub type Arrived = RawRequest;

#[derive(Default)]
struct State {
    script: BTreeMap<u64, (Scripted, Scripted)>,
    arrived: BTreeMap<u64, Vec<Arrived>>,
}

/// A running scripted server; its thread ends with the test process.
pub struct ScriptedOrigin {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl ScriptedOrigin {
    /// Listens on a free loopback port.
    pub fn start() -> std::io::Result<ScriptedOrigin> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = shared.clone();
                std::thread::spawn(move || {
                    let _ = serve(stream, &state);
                });
            }
        });
        Ok(ScriptedOrigin { addr, state })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Scripts case `id`: the preflight's answer and the actual answer.
    pub fn script(&self, id: u64, preflight: Scripted, actual: Scripted) {
        self.state
            .lock()
            .expect("state")
            .script
            .insert(id, (preflight, actual));
    }

    /// What arrived for case `id`, in order.
    pub fn arrived(&self, id: u64) -> Vec<Arrived> {
        self.state
            .lock()
            .expect("state")
            .arrived
            .get(&id)
            .cloned()
            .unwrap_or_default()
    }
}

fn serve(stream: TcpStream, state: &Mutex<State>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader)? {
        let id: Option<u64> = request
            .target
            .strip_prefix("/case/")
            .and_then(|n| n.parse().ok());
        let method = request.method.clone();
        let answer = {
            let mut state = state.lock().expect("state");
            let answer = id.and_then(|id| state.script.get(&id).cloned());
            if let Some(id) = id {
                state.arrived.entry(id).or_default().push(request);
            }
            answer
        };
        let scripted = match answer {
            Some((preflight, _)) if method == "OPTIONS" => preflight,
            Some((_, actual)) => actual,
            None => Scripted {
                status: 404,
                headers: Vec::new(),
            },
        };
        let body = if method == "HEAD" || method == "OPTIONS" {
            ""
        } else {
            "scripted"
        };
        let mut out = format!("HTTP/1.1 {} Scripted\r\n", scripted.status);
        for (n, v) in &scripted.headers {
            out.push_str(&format!("{n}: {v}\r\n"));
        }
        out.push_str(&format!(
            "Content-Type: text/plain\r\nContent-Length: {}\r\nCache-Control: no-store\r\n\r\n{body}",
            body.len()
        ));
        writer.write_all(out.as_bytes())?;
        writer.flush()?;
    }
    Ok(())
}
