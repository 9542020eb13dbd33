//! Shared code of the fuzz targets: the invariants live in [`checks`], a
//! file the engine's regression tests (`engine/tests/fuzz_regressions.rs`)
//! include as is.

pub mod checks;

pub use checks::{ConfigSource, Input, check_eval, check_parser, check_round_trips};
