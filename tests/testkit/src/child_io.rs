//! Reading a child process's output without ever blocking it: stdout as a
//! channel of lines, stderr as a bounded tail kept to explain a failure.
//! Both the edge harness and the browser driver speak a line protocol on
//! stdout and log on stderr.

use std::io::{BufRead, BufReader, Read};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};

/// Sends each line of `pipe` on the returned channel. Once nobody listens,
/// the pipe is still drained, so the child never blocks on a full pipe.
pub fn lines(pipe: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            // A send error only means the receiver is gone; keep draining.
            let _ = tx.send(line);
        }
    });
    rx
}

/// Collects `pipe` into a string holding at most about `max` bytes (the
/// newest half is kept when it grows past that), echoing it to this
/// process's stderr when `echo` is set.
pub fn tail(pipe: impl Read + Send + 'static, max: usize, echo: bool) -> Arc<Mutex<String>> {
    let kept = Arc::new(Mutex::new(String::new()));
    let sink = kept.clone();
    let mut pipe = pipe;
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            let text = String::from_utf8_lossy(&buf[..n]);
            if echo {
                eprint!("{text}");
            }
            let mut all = sink.lock().unwrap_or_else(|p| p.into_inner());
            all.push_str(&text);
            if all.len() > max {
                let cut = (all.len() - max / 2..all.len())
                    .find(|i| all.is_char_boundary(*i))
                    .unwrap_or(all.len());
                all.drain(..cut);
            }
        }
    });
    kept
}
