//! The `bucketcors` command line: argument parsing and dispatch. Each
//! command lives in its own module and only translates between the terminal
//! and the library; what a configuration means is the engine's business.
//!
//! Exit codes: 0 success, 1 when the command ran and found a problem
//! (invalid configuration, unreadable file, refused conversion), 2 for
//! misuse of the command line itself (clap's usage errors); commands that
//! talk to backends document their own additions.

mod admission_policy;
mod apply;
mod backend_args;
mod console;
mod convert;
pub mod crd;
mod doctor;
mod document;
mod edge_status;
mod eval;
mod get;
mod import;
mod manifests;
pub mod run;
mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Bucket CORS as code: validate, convert and evaluate bucket CORS
/// configurations, and run the operator that applies them.
#[derive(Debug, Parser)]
#[command(name = "bucketcors", version, propagate_version = true)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands of `bucketcors`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check CORS configuration files against a provider's rules and limits.
    Validate(validate::Args),
    /// Convert a CORS configuration between formats.
    Convert(convert::Args),
    /// Show how a bucket would answer one request, and why.
    Eval(eval::Args),
    /// Print the BucketCors CustomResourceDefinition (YAML).
    Crd(crd::Args),
    /// Print the chart's ValidatingAdmissionPolicy for the lints (Helm template).
    AdmissionPolicy(admission_policy::Args),
    /// Run the Kubernetes operator.
    Run(run::Args),
    /// Apply BucketCors manifests to their buckets (and the edge) without a cluster.
    Apply(apply::Args),
    /// Print a bucket's current CORS rules.
    Get(get::Args),
    /// Print a BucketCors manifest reproducing a bucket's current rules.
    Import(import::Args),
    /// Diagnose what a live URL answers a browser's CORS request, and why.
    Doctor(Box<doctor::Args>),
    /// Inspect the edge worker: what it enforces for a host.
    Edge(edge_status::Args),
    /// Serve a local web page to see, edit and test every bucket's CORS rules.
    Console(console::Args),
}

/// A provider dialect on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DialectArg {
    /// Alibaba Cloud OSS.
    Oss,
    /// Amazon S3 and S3-compatible stores.
    S3,
}

impl From<DialectArg> for bucketcors_engine::Dialect {
    fn from(d: DialectArg) -> Self {
        match d {
            DialectArg::Oss => bucketcors_engine::Dialect::Oss,
            DialectArg::S3 => bucketcors_engine::Dialect::S3,
        }
    }
}

/// A file format on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// OSS PutBucketCors XML.
    OssXml,
    /// S3 PutBucketCors XML.
    S3Xml,
    /// S3 JSON as the AWS CLI reads and prints it.
    S3Json,
    /// BucketCors spec shape, YAML.
    Yaml,
    /// BucketCors spec shape, JSON.
    Json,
}

impl From<FormatArg> for bucketcors_engine::format::Format {
    fn from(f: FormatArg) -> Self {
        use bucketcors_engine::format::Format;
        match f {
            FormatArg::OssXml => Format::OssXml,
            FormatArg::S3Xml => Format::S3Xml,
            FormatArg::S3Json => Format::S3Json,
            FormatArg::Yaml => Format::Yaml,
            FormatArg::Json => Format::Json,
        }
    }
}

/// Entry point of the `bucketcors` binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Validate(args) => validate::run(&args),
        Command::Convert(args) => convert::run(&args),
        Command::Eval(args) => eval::run(&args),
        Command::Crd(args) => crd::run(&args),
        Command::AdmissionPolicy(args) => admission_policy::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Apply(args) => apply::run(&args),
        Command::Get(args) => get::run(&args),
        Command::Import(args) => import::run(&args),
        Command::Doctor(args) => doctor::run(&args),
        Command::Edge(args) => edge_status::run(&args),
        Command::Console(args) => console::run(&args),
    }
}
