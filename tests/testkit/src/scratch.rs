//! Scratch resources every component needs: free loopback ports, random
//! names and fresh temporary directories.
//!
//! One home so that Garage, the control plane and any later component pick
//! ports and directories the same way (held listeners so that ports are
//! distinct, names that cannot collide between parallel test binaries).

use std::io::{self, Read};
use std::net::TcpListener;
use std::path::PathBuf;

/// `N` distinct free ports on 127.0.0.1. All listeners are held until every
/// port is known, so no two of them can be the same.
pub fn free_ports<const N: usize>() -> io::Result<[u16; N]> {
    let listeners: Vec<TcpListener> = (0..N)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<_, _>>()?;
    let mut ports = [0u16; N];
    for (port, listener) in ports.iter_mut().zip(&listeners) {
        *port = listener.local_addr()?.port();
    }
    Ok(ports)
}

/// `bytes` random bytes from the kernel, as lower-case hex.
pub fn random_hex(bytes: usize) -> io::Result<String> {
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut buf)?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// A new directory `bucketcors-<what>-<pid>-<random>` under the system's
/// temporary directory.
pub fn fresh_dir(what: &str) -> io::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "bucketcors-{what}-{}-{}",
        std::process::id(),
        random_hex(6)?
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
