//! Shared code of the fuzz targets: the invariants live in [`checks`], a
//! file the engine's regression tests include as is.

#[path = "checks.rs"]
mod checks_impl;

pub use checks_impl::{ConfigSource, Input, check_eval, check_parser, check_round_trips};

/// The checks, for targets that want the module path.
pub mod checks {
    pub use super::checks_impl::*;
}
