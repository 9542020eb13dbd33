//! Shared code of the fuzz targets: the invariants live in [`checks`], a
//! file the engine's regression tests (`engine/tests/fuzz_regressions.rs`)
//! include as is, and, for the edge-record reader, in [`edge_record`].

pub mod checks;
pub mod edge_record;

pub use checks::{ConfigSource, Input, check_eval, check_parser, check_round_trips};
pub use edge_record::check_edge_record;
