//! `bucketcors validate [--dialect oss|s3] FILE...`
//!
//! Reads each file (any format, detected), validates it for its dialect and
//! prints every problem on stderr, one per line, as
//! `FILE: error: rule 1 (id "uploads"), allowedMethods[0]: ...`. The
//! dialect comes from `--dialect`, else from the document itself (a
//! manifest's `spec.backend.provider`, or a format only one provider uses);
//! a document that serves both (the spec shape, a bare
//! `<CORSConfiguration>`) needs `--dialect`. Exit status 0 when every file
//! is valid (warnings allowed), 1 otherwise.

use std::path::PathBuf;
use std::process::ExitCode;

use bucketcors_engine::{Dialect, Severity, validate};

use super::DialectArg;
use super::document::load;

/// Arguments of `bucketcors validate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The provider whose rules apply; default: what each document names.
    #[arg(long, value_enum)]
    pub dialect: Option<DialectArg>,
    /// Configuration files (OSS XML, S3 XML, S3 JSON, YAML/JSON spec shape
    /// or BucketCors manifests); `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

/// Runs the command.
pub fn run(args: &Args) -> ExitCode {
    let mut all_valid = true;
    for path in &args.files {
        all_valid &= check(path, args.dialect.map(Dialect::from));
    }
    if all_valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Validates one file; prints its diagnostics and a summary line.
fn check(path: &std::path::Path, flag: Option<Dialect>) -> bool {
    let name = path.display();
    let document = match load(path, None) {
        Ok(document) => document,
        Err(message) => {
            eprintln!("{message}");
            return false;
        }
    };
    let dialect = match (flag, document.dialect) {
        (Some(flag), Some(named)) if flag != named => {
            eprintln!(
                "{name}: warning: the document is written for {named}, but --dialect {flag} \
                 was given; validating for {flag}"
            );
            flag
        }
        (Some(dialect), _) | (None, Some(dialect)) => dialect,
        (None, None) => {
            eprintln!(
                "{name}: cannot tell the dialect: {} serves both OSS and S3; pass --dialect oss \
                 or --dialect s3 (or set spec.backend.provider in a manifest)",
                document.format.description()
            );
            return false;
        }
    };
    let report = validate(&document.config, dialect);
    for diagnostic in report.diagnostics() {
        let severity = match diagnostic.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        eprintln!("{name}: {severity}: {diagnostic}");
    }
    let rules = document.config.rules.len();
    let warnings = match report.warnings.len() {
        0 => String::new(),
        1 => ", 1 warning".to_owned(),
        n => format!(", {n} warnings"),
    };
    if report.is_valid() {
        println!(
            "{name}: valid for {dialect} ({} {rules} {}{warnings})",
            document.format.description(),
            plural(rules, "rule", "rules"),
        );
        true
    } else {
        let errors = report.errors.len();
        eprintln!(
            "{name}: invalid for {dialect}: {errors} {}{warnings}",
            plural(errors, "error", "errors")
        );
        false
    }
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}
