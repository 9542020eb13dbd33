//! Helpers shared by the system, fault and bad-input tests. Each test binary
//! includes this module and uses part of it, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod browser;
pub mod browser_cors;
pub mod cli;
pub mod cluster;
pub mod console;
pub mod dice;
pub mod edge_kv;
pub mod engine_origin;
pub mod fault_proxy;
pub mod finalizer;
pub mod garage_sdk;
pub mod manifest;
pub mod oss_standin;
pub mod presign;
pub mod raw_http;
pub mod scripted_origin;
pub mod stub_origin;
pub mod world;
