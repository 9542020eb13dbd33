//! Fuzzes the S3Json parser: no input may panic, and whatever parses must
//! print and parse back unchanged in every format (see `bucketcors_fuzz::check_parser`).
#![no_main]

use bucketcors_engine::format::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    bucketcors_fuzz::check_parser(data, Format::S3Json);
});
