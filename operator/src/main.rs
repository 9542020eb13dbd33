//! The `bucketcors` command line.

fn main() -> std::process::ExitCode {
    bucketcors_operator::cli::main()
}
