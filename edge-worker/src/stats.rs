//! A periodic line about the isolate's own memory, so that a bound on it
//! can be checked from the logs: every [`STATS_EVERY`] requests an isolate
//! logs `isolate_stats` with the requests it served, the size of its wasm
//! linear memory (everything the worker allocates lives there, and it never
//! shrinks, so growth shows) and how many keys its route tables and the
//! body cache's pass memory hold.
//!
//! workerd's own resident memory is not the worker's: under Miniflare it
//! grows with every request even for an empty workers-rs worker (measured
//! in `tests/tests/edge_soak.rs`'s docs), so the worker reports what it
//! controls.

use std::cell::Cell;

/// Requests between two `isolate_stats` lines.
pub const STATS_EVERY: u64 = 1000;

thread_local! {
    static SERVED: Cell<u64> = const { Cell::new(0) };
}

/// The size of the wasm linear memory, in bytes (0 off wasm).
pub fn wasm_memory_bytes() -> u64 {
    #[cfg(target_arch = "wasm32")]
    {
        core::arch::wasm32::memory_size(0) as u64 * 65_536
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0
    }
}

/// Counts one request; every [`STATS_EVERY`]th logs the line.
pub fn count_request() {
    let served = SERVED.with(|s| {
        let n = s.get() + 1;
        s.set(n);
        n
    });
    if served.is_multiple_of(STATS_EVERY) {
        crate::log::info(
            "isolate_stats",
            &[
                ("requests", &served.to_string()),
                ("wasm_memory_bytes", &wasm_memory_bytes().to_string()),
                ("route_keys", &crate::route_table::remembered().to_string()),
                ("pass_keys", &crate::body_cache::remembered().to_string()),
            ],
        );
    }
}
