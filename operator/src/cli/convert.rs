//! `bucketcors convert --to FORMAT [--from FORMAT] [--allow-loss] FILE`
//!
//! Prints the configuration in another format on stdout. Conversion never
//! drops anything silently: when the target format has no place for
//! something the file holds (a rule ID in OSS XML, `responseVary` in the S3
//! formats), the command refuses and says what would be lost, unless
//! `--allow-loss` is given, in which case it says so on stderr and
//! converts. Converting does not validate; `bucketcors validate` does.

use std::path::PathBuf;
use std::process::ExitCode;

use bucketcors_engine::format::{self, Format};

use super::FormatArg;
use super::document::load;

/// Arguments of `bucketcors convert`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The format to write.
    #[arg(long, value_enum)]
    pub to: FormatArg,
    /// The format of FILE; detected when absent.
    #[arg(long, value_enum)]
    pub from: Option<FormatArg>,
    /// Convert even when the target format cannot hold everything (rule
    /// IDs, responseVary); what is dropped is listed on stderr.
    #[arg(long)]
    pub allow_loss: bool,
    /// The configuration file; `-` reads standard input.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// Runs the command.
pub fn run(args: &Args) -> ExitCode {
    let name = args.file.display();
    let document = match load(&args.file, args.from.map(Format::from)) {
        Ok(document) => document,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    let target = Format::from(args.to);
    let losses = format::losses(&document.config, target);
    if !losses.is_empty() {
        let severity = if args.allow_loss { "warning" } else { "error" };
        for loss in &losses {
            eprintln!("{name}: {severity}: {loss}");
        }
        if !args.allow_loss {
            eprintln!(
                "{name}: refusing to convert to {}: it would lose the above; pass --allow-loss \
                 to convert anyway",
                target.description()
            );
            return ExitCode::FAILURE;
        }
    }
    print!("{}", format::print(&document.config, target));
    ExitCode::SUCCESS
}
