//! Fuzzes the edge-record reader (`EdgeRecord::from_json`, the worker's
//! hand-written JSON reader): no input may panic, what it accepts must mean
//! the same to serde_json and to the serde types it replaced, and must write
//! back and read back equal (see `bucketcors_fuzz::check_edge_record`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    bucketcors_fuzz::check_edge_record(data);
});
