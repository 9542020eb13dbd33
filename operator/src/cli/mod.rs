//! The `bucketcors` command line: argument parsing and dispatch. Each
//! command lives in its own module and only translates between the terminal
//! and the library.

use std::process::ExitCode;

/// Entry point of the `bucketcors` binary.
pub fn main() -> ExitCode {
    ExitCode::SUCCESS
}
