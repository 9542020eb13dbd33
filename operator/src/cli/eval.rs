//! `bucketcors eval --dialect oss|s3 --config FILE|none --method METHOD
//! [--header 'Name: value']... [--resource object|bucket] [--json]`
//!
//! Shows the response a bucket with this configuration gives to one
//! request (status line, headers, body) and the engine's explanation of
//! why. It runs the same compiled decision the operator and the edge worker
//! use, so what it prints is what they answer. The configuration is read in
//! any format and validated first; an invalid one is refused, as the
//! operator would refuse it. `--config none` is a bucket without CORS.
//!
//! Headers named several times are joined with `,` before the engine sees
//! them, as HTTP list headers combine.
//!
//! `--target STORE` (or a manifest's `spec.backend.flavor`) adds how that
//! store itself answers, where the capability table says it differs from
//! the dialect (Garage, Ceph RGW before its fix): its status and headers,
//! each line that differs marked `(differs)`, and why. The dialect's
//! answer stays first: it is what bucketcors reproduces at the edge.

use std::path::PathBuf;
use std::process::ExitCode;

use bucketcors_engine::lint::{LintOptions, lint};
use bucketcors_engine::target::{TargetAnswer, answer};
use bucketcors_engine::{Compiled, Dialect, Request, ResourceType, Target, explain};

use super::DialectArg;
use super::document::load;

/// Arguments of `bucketcors eval`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The provider whose answers to reproduce; default: what the
    /// configuration document names.
    #[arg(long, value_enum)]
    pub dialect: Option<DialectArg>,
    /// Also show how this store answers where it differs from the dialect:
    /// s3, oss, r2, garage, ceph, minio or gcs-interop (default: a
    /// manifest's spec.backend.flavor).
    #[arg(long, value_name = "STORE", value_parser = super::validate::parse_target)]
    pub target: Option<Target>,
    /// The configuration file (any format; `-` reads standard input), or
    /// `none` for a bucket without CORS.
    #[arg(long, value_name = "FILE|none")]
    pub config: PathBuf,
    /// The request method (`OPTIONS` for a preflight).
    #[arg(long)]
    pub method: String,
    /// A request header, `Name: value`; repeat for several.
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE", value_parser = parse_header)]
    pub headers: Vec<(String, String)>,
    /// Whether the request addresses an object or the bucket itself.
    #[arg(long, value_enum, default_value_t = ResourceArg::Object)]
    pub resource: ResourceArg,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// The `--json` output, fields in the documented order.
#[derive(serde::Serialize)]
struct JsonOutput<'a> {
    status: u16,
    headers: &'a [(&'a str, String)],
    body: Option<&'a str>,
    matched_rule: Option<usize>,
    explanation: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<JsonTarget<'a>>,
}

/// How the target store answers, in `--json`.
#[derive(serde::Serialize)]
struct JsonTarget<'a> {
    name: &'a str,
    status: u16,
    headers: &'a [(String, String)],
    matched_rule: Option<usize>,
    differs: bool,
    reason: &'a str,
}

/// `--resource`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ResourceArg {
    /// An object in the bucket.
    Object,
    /// The bucket itself.
    Bucket,
}

/// Splits `Name: value`; the value may be empty (`Origin:`).
fn parse_header(raw: &str) -> Result<(String, String), String> {
    let (name, value) = raw
        .split_once(':')
        .ok_or_else(|| format!("`{raw}` is not a header; expected 'Name: value'"))?;
    let name = name.trim();
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!(
            "`{name}` is not a header name; expected 'Name: value'"
        ));
    }
    Ok((name.to_owned(), value.trim_matches([' ', '\t']).to_owned()))
}

/// The value of header `name` (case-insensitive), repeated ones joined with `,`.
fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<String> {
    let values: Vec<&'a str> = headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .collect();
    (!values.is_empty()).then(|| values.join(","))
}

/// Runs the command.
pub fn run(args: &Args) -> ExitCode {
    let flag = args.dialect.map(Dialect::from);
    if let (Some(flag), Some(target)) = (flag, args.target)
        && flag != target.dialect()
    {
        eprintln!(
            "--target {target} speaks the {} dialect, but --dialect {flag} was given; drop one \
             of them",
            target.dialect()
        );
        return ExitCode::FAILURE;
    }
    let flag = flag.or(args.target.map(Target::dialect));
    let (compiled, target) = if args.config.as_os_str() == "none" {
        let Some(dialect) = flag else {
            eprintln!("--config none needs --dialect oss or --dialect s3 (or --target)");
            return ExitCode::FAILURE;
        };
        (Compiled::none(dialect), args.target)
    } else {
        match compile(args, flag) {
            Ok(found) => found,
            Err(()) => return ExitCode::FAILURE,
        }
    };

    let origin = header(&args.headers, "Origin");
    let request_method = header(&args.headers, "Access-Control-Request-Method");
    let request_headers = header(&args.headers, "Access-Control-Request-Headers");
    let request = Request {
        method: &args.method,
        origin: origin.as_deref(),
        request_method: request_method.as_deref(),
        request_headers: request_headers.as_deref(),
        resource: match args.resource {
            ResourceArg::Object => ResourceType::Object,
            ResourceArg::Bucket => ResourceType::Bucket,
        },
    };
    let decision = compiled.decide(&request);
    let headers: Vec<(&str, String)> = decision
        .headers()
        .map(|(name, value)| (name, value.to_string()))
        .collect();
    let body = decision.body().map(|b| b.to_string());
    let explanation = explain(&compiled, &request);
    let store = target.and_then(|t| answer(t, compiled.config(), &request));
    let differs = store
        .as_ref()
        .is_some_and(|a| a.status != decision.status() || a.headers != as_owned(&headers));

    if args.json {
        let out = JsonOutput {
            status: decision.status(),
            headers: &headers,
            body: body.as_deref(),
            matched_rule: decision.matched_rule(),
            explanation: &explanation.lines,
            target: store.as_ref().map(|a| JsonTarget {
                name: a.target.as_str(),
                status: a.status,
                headers: &a.headers,
                matched_rule: a.matched_rule,
                differs,
                reason: &a.reason,
            }),
        };
        // Serializing strings and numbers cannot fail.
        println!("{}", serde_json::to_string(&out).unwrap_or_default());
    } else {
        let status = decision.status();
        println!("HTTP/1.1 {status} {}", reason(status));
        for (name, value) in &headers {
            println!("{name}: {value}");
        }
        println!();
        match (&body, decision.is_preflight()) {
            (Some(body), _) => println!("{body}\n"),
            (None, false) => {
                println!("(an actual request: the bucket's own response, with the headers above)\n")
            }
            (None, true) => {}
        }
        println!("Explanation ({}):", compiled.dialect());
        for line in &explanation.lines {
            println!("  {line}");
        }
        match (target, &store) {
            (Some(t), Some(store)) => print_target(store, decision.status(), &headers, differs, t),
            (Some(t), None) if t != Target::default_for(compiled.dialect(), None) => println!(
                "\nOn {t}: answers as the {} dialect as far as the capability table knows \
                 (`bucketcors validate --target {t}` lists what it refuses)",
                compiled.dialect()
            ),
            _ => {}
        }
    }
    ExitCode::SUCCESS
}

fn as_owned(headers: &[(&str, String)]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| ((*n).to_owned(), v.clone()))
        .collect()
}

/// The store's answer, each line that differs from the dialect's marked.
fn print_target(
    store: &TargetAnswer,
    status: u16,
    headers: &[(&str, String)],
    differs: bool,
    target: Target,
) {
    if !differs {
        println!("\nOn {target}: the same answer ({})", store.reason);
        return;
    }
    let mark = |same: bool| if same { "" } else { "   (differs)" };
    println!(
        "\nOn {target} (differs from the {} dialect):",
        target.dialect()
    );
    println!(
        "  HTTP/1.1 {} {}{}",
        store.status,
        reason(store.status),
        mark(store.status == status)
    );
    for (name, value) in &store.headers {
        let same = headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case(name) && v == value);
        println!("  {name}: {value}{}", mark(same));
    }
    for (name, value) in headers {
        if !store
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            println!("  (no {name}; the dialect sends {value:?})   (differs)");
        }
    }
    println!("  why: {}", store.reason);
}

/// Loads, validates and compiles the configuration, with the target store
/// (`--target`, else a manifest's); prints why not, and the lints.
fn compile(args: &Args, flag: Option<Dialect>) -> Result<(Compiled, Option<Target>), ()> {
    let name = args.config.display();
    let document = load(&args.config, None).map_err(|message| eprintln!("{message}"))?;
    let Some(dialect) = flag.or(document.dialect) else {
        eprintln!(
            "{name}: cannot tell the dialect: {} serves both OSS and S3; pass --dialect oss or \
             --dialect s3",
            document.format.description()
        );
        return Err(());
    };
    let target = args
        .target
        .or(document.target.filter(|t| t.dialect() == dialect));
    match Compiled::new(&document.config, dialect) {
        Ok(compiled) => {
            let report = bucketcors_engine::validate(&document.config, dialect);
            for warning in &report.warnings {
                eprintln!("{name}: warning: {warning}");
            }
            let options = LintOptions {
                credentials: false,
                target,
            };
            for l in lint(&document.config, dialect, &options) {
                eprintln!("{name}: {}: {l}", l.severity);
            }
            Ok((compiled, target))
        }
        Err(report) => {
            for diagnostic in report.diagnostics() {
                eprintln!("{name}: {}: {diagnostic}", diagnostic.severity);
            }
            eprintln!("{name}: refusing to evaluate: the configuration is invalid for {dialect}");
            Err(())
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        _ => "",
    }
}
