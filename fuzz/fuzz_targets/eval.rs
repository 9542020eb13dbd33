//! Fuzzes evaluation: a configuration (none, a document in any format, or
//! rules built from the input) and a request, through parse, validate,
//! compile, decide and explain; see `bucketcors_fuzz::check_eval` for the
//! invariants.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    bucketcors_fuzz::check_eval(data);
});
