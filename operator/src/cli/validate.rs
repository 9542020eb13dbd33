//! `bucketcors validate [--dialect oss|s3] [--target STORE] [--credentials]
//! [--strict] FILE...`
//!
//! Reads each file (any format, detected), validates it for its dialect,
//! lints it for browsers (and for the target store) and prints every
//! problem on stderr, one per line, as
//! `FILE: error: rule 1 (id "uploads"), allowedMethods[0]: ...` or
//! `FILE: warning: BC130 max-age-above-chromium-cap: rule 0, maxAgeSeconds: ...; fix: ...`.
//!
//! The dialect comes from `--dialect`, else `--target`'s, else the
//! document itself (a manifest's `spec.backend.provider`, or a format only
//! one provider uses); a document that serves both (the spec shape, a bare
//! `<CORSConfiguration>`) needs one of them. The target store comes from
//! `--target`, else a manifest's `spec.backend.flavor` (or what its
//! provider and endpoint suggest); without one only the dialect's own
//! provider is assumed.
//!
//! Exit status 0 when every file is valid (warnings and lints allowed), 1
//! otherwise; a target store that refuses the configuration (MinIO's
//! PutBucketCors, R2's `*` port) is an error. `--strict` makes every
//! warning and lint fail too.

use std::path::PathBuf;
use std::process::ExitCode;

use bucketcors_engine::lint::{LintOptions, lint};
use bucketcors_engine::{Dialect, Severity, Target, validate};

use super::DialectArg;
use super::document::load;

/// Arguments of `bucketcors validate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The provider whose rules apply; default: the target's, else what
    /// each document names.
    #[arg(long, value_enum)]
    pub dialect: Option<DialectArg>,
    /// The store that will hold the rules: s3, oss, r2, garage, ceph,
    /// minio or gcs-interop; checked against what it accepts and how it
    /// answers. Default: a manifest's spec.backend.flavor.
    #[arg(long, value_name = "STORE", value_parser = parse_target)]
    pub target: Option<Target>,
    /// The pages send credentials (cookies, `credentials: "include"`).
    #[arg(long)]
    pub credentials: bool,
    /// Fail (exit 1) on warnings and lints too.
    #[arg(long)]
    pub strict: bool,
    /// Configuration files (OSS XML, S3 XML, S3 JSON, YAML/JSON spec shape
    /// or BucketCors manifests); `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

/// Parses `--target`.
pub(crate) fn parse_target(raw: &str) -> Result<Target, String> {
    raw.parse()
}

/// Runs the command.
pub fn run(args: &Args) -> ExitCode {
    let mut all_valid = true;
    for path in &args.files {
        all_valid &= check(path, args);
    }
    if all_valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The dialect for a document: `--dialect`, `--target`'s, the document's.
/// Prints why when they disagree or none is known.
pub(crate) fn pick_dialect(
    name: &str,
    flag: Option<Dialect>,
    target: Option<Target>,
    document: &bucketcors_engine::format::Document,
) -> Option<Dialect> {
    if let (Some(flag), Some(target)) = (flag, target)
        && flag != target.dialect()
    {
        eprintln!(
            "{name}: --target {target} speaks the {} dialect, but --dialect {flag} was given; \
             drop one of them",
            target.dialect()
        );
        return None;
    }
    let chosen = flag.or(target.map(Target::dialect));
    match (chosen, document.dialect) {
        (Some(chosen), Some(named)) if chosen != named => {
            eprintln!(
                "{name}: warning: the document is written for {named}, but {chosen} was asked \
                 for; validating for {chosen}"
            );
            Some(chosen)
        }
        (Some(dialect), _) | (None, Some(dialect)) => Some(dialect),
        (None, None) => {
            eprintln!(
                "{name}: cannot tell the dialect: {} serves both OSS and S3; pass --dialect oss \
                 or --dialect s3, or --target (or set spec.backend.provider in a manifest)",
                document.format.description()
            );
            None
        }
    }
}

/// Validates and lints one file; prints its diagnostics and a summary line.
fn check(path: &std::path::Path, args: &Args) -> bool {
    let name = path.display().to_string();
    let document = match load(path, None) {
        Ok(document) => document,
        Err(message) => {
            eprintln!("{message}");
            return false;
        }
    };
    let Some(dialect) = pick_dialect(
        &name,
        args.dialect.map(Dialect::from),
        args.target,
        &document,
    ) else {
        return false;
    };
    let target = args
        .target
        .or(document.target.filter(|t| t.dialect() == dialect));
    let report = validate(&document.config, dialect);
    for diagnostic in report.diagnostics() {
        eprintln!("{name}: {}: {diagnostic}", diagnostic.severity);
    }
    let options = LintOptions {
        credentials: args.credentials,
        target,
    };
    let lints = if report.is_valid() {
        lint(&document.config, dialect, &options)
    } else {
        // Lints about a configuration the provider refuses anyway are noise.
        Vec::new()
    };
    for l in &lints {
        eprintln!("{name}: {}: {l}", l.severity);
    }
    let refused = lints
        .iter()
        .filter(|l| l.severity == Severity::Error)
        .count();
    let errors = report.errors.len() + refused;
    let warnings = report.warnings.len() + lints.len() - refused;
    let rules = document.config.rules.len();
    let warnings_text = match warnings {
        0 => String::new(),
        1 => ", 1 warning".to_owned(),
        n => format!(", {n} warnings"),
    };
    // The dialect's own provider needs no mention.
    let on = match target {
        Some(t) if t != Target::default_for(dialect, None) => format!("{dialect} on {t}"),
        _ => dialect.to_string(),
    };
    if errors == 0 {
        println!(
            "{name}: valid for {on} ({} {rules} {}{warnings_text})",
            document.format.description(),
            plural(rules, "rule", "rules"),
        );
        !(args.strict && warnings > 0)
    } else {
        eprintln!(
            "{name}: invalid for {on}: {errors} {}{warnings_text}",
            plural(errors, "error", "errors")
        );
        false
    }
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}
