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

use std::path::PathBuf;
use std::process::ExitCode;

use bucketcors_engine::{Compiled, Dialect, Request, ResourceType, Severity, explain};

use super::DialectArg;
use super::document::load;

/// Arguments of `bucketcors eval`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The provider whose answers to reproduce; default: what the
    /// configuration document names.
    #[arg(long, value_enum)]
    pub dialect: Option<DialectArg>,
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
    let compiled = if args.config.as_os_str() == "none" {
        let Some(dialect) = flag else {
            eprintln!("--config none needs --dialect oss or --dialect s3");
            return ExitCode::FAILURE;
        };
        Compiled::none(dialect)
    } else {
        match compile(args, flag) {
            Ok(compiled) => compiled,
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

    if args.json {
        let out = JsonOutput {
            status: decision.status(),
            headers: &headers,
            body: body.as_deref(),
            matched_rule: decision.matched_rule(),
            explanation: &explanation.lines,
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
    }
    ExitCode::SUCCESS
}

/// Loads, validates and compiles the configuration; prints why not.
fn compile(args: &Args, flag: Option<Dialect>) -> Result<Compiled, ()> {
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
    match Compiled::new(&document.config, dialect) {
        Ok(compiled) => {
            let report = bucketcors_engine::validate(&document.config, dialect);
            for warning in &report.warnings {
                eprintln!("{name}: warning: {warning}");
            }
            Ok(compiled)
        }
        Err(report) => {
            for diagnostic in report.diagnostics() {
                let severity = match diagnostic.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                };
                eprintln!("{name}: {severity}: {diagnostic}");
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
