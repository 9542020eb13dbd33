//! # bucketcors-testkit
//!
//! Real components for tests. Each helper starts its component on
//! 127.0.0.1 on a free port in a fresh temporary directory and stops it on
//! drop. A missing component is an error (the test fails), never a skip:
//! run `scripts/install-tools.sh` to install everything, cached under
//! `~/.cache/bucketcors`.

pub mod child_io;
pub mod controlplane;
pub mod edge;
pub mod edge_peer;
pub mod garage;
pub mod pod;
pub mod proxy;
pub mod scratch;
pub mod sts;
pub mod tools;
