//! `bucketcors get`: print a bucket's current CORS rules.

use super::FormatArg;
use super::backend_args::{BucketArgs, EXIT_BACKEND, EXIT_INVALID, fail, runtime};
use bucketcors_engine::format::{self, Format};
use std::process::ExitCode;

/// Arguments of `bucketcors get`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit status: 0 printed (or the bucket has no configuration), \
1 bad arguments or credentials file, 2 the provider failed."
)]
pub struct Args {
    #[command(flatten)]
    pub bucket: BucketArgs,
    /// Output format (default: yaml, the BucketCors spec shape).
    #[arg(long, value_enum)]
    pub to: Option<FormatArg>,
}

/// Runs `bucketcors get`.
pub fn run(args: &Args) -> ExitCode {
    let connector = match args.bucket.credentials.connector() {
        Ok(c) => c,
        Err(e) => return fail(EXIT_INVALID, e),
    };
    let format: Format = args.to.map(Into::into).unwrap_or(Format::Yaml);
    let result = runtime().block_on(async {
        let backend = connector
            .backend(&args.bucket.settings(), &args.bucket.bucket)
            .await?;
        backend
            .get_cors()
            .await
            .map(|config| (backend.target().clone(), config))
    });
    match result {
        Err(e) => fail(EXIT_BACKEND, e),
        Ok((target, None)) => {
            eprintln!("{target} has no CORS configuration");
            ExitCode::SUCCESS
        }
        Ok((_, Some(config))) => {
            for loss in format::losses(&config, format) {
                eprintln!("warning: {loss}");
            }
            print!("{}", format::print(&config, format));
            ExitCode::SUCCESS
        }
    }
}
