//! `bucketcors doctor URL --origin ORIGIN [--method M] [--header NAME]...
//! [--credentials] [--manifest FILE | --bucket-from-manifest FILE]
//! [--via URL]... [--second-origin O] [--json]`
//!
//! Looks at what a live URL really answers, as a browser would ask it, and
//! says why a page's request passes or is "blocked by CORS policy". It sends
//! the preflight when the Fetch standard needs one and then the actual
//! request, and reports, in this order:
//!
//! 1. not a CORS problem ([`not_cors`]): provider error bodies, redirects,
//!    unreachable hosts;
//! 2. which field fails ([`bisect`], [`rules`]): one thing varied at a time,
//!    and with the bucket's rules the engine's explanation and the edit
//!    that would allow the request;
//! 3. the Fetch standard's checks on the answers ([`fetch_checks`]);
//! 4. cache safety ([`cache`]): answers for different origins compared
//!    across cache hits;
//! 5. layers that disagree ([`layers`]).
//!
//! It never changes anything: only `OPTIONS`, `GET` and `HEAD` are sent
//! (the actual request of any other method is not sent, and the verdict
//! then rests on the preflight), at most [`probe::MAX_REQUESTS`] requests,
//! each with a timeout. Exit status: 0 the browser would let the page have
//! the answer, 1 it would refuse it, 2 the doctor could not probe (bad
//! arguments, unreachable host, unreadable rules).

mod bisect;
mod browser;
mod cache;
mod fetch_checks;
mod layers;
mod not_cors;
mod probe;
mod report;
mod rules;

use std::path::PathBuf;
use std::process::ExitCode;

use super::backend_args::runtime;
use browser::PageRequest;
use report::{Report, Verdict};

/// Exit status: the browser would let the page have the answer.
const EXIT_ALLOWED: u8 = 0;
/// Exit status: the browser would refuse it.
const EXIT_REFUSED: u8 = 1;
/// Exit status: the doctor could not probe.
const EXIT_NOT_PROBED: u8 = 2;

/// Arguments of `bucketcors doctor`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit status: 0 the browser would let the page have the answer, \
1 it would refuse it (a CORS error), 2 the doctor could not probe. \
Only OPTIONS, GET and HEAD are ever sent; nothing is changed anywhere."
)]
pub struct Args {
    /// The object (or bucket) URL the page fetches: the bucket's endpoint,
    /// the bucketcors edge or a CDN in front (http or https).
    pub url: String,
    /// The page's origin, `scheme://host[:port]` exactly as the browser
    /// sends it.
    #[arg(long)]
    pub origin: String,
    /// The method the page uses.
    #[arg(long, default_value = "GET")]
    pub method: String,
    /// A request header the page sets, `NAME` or `NAME: VALUE`; repeat for
    /// several. `Content-Type` without a value counts as not safelisted.
    #[arg(long = "header", short = 'H', value_name = "NAME[: VALUE]")]
    pub headers: Vec<String>,
    /// The page sends credentials (`credentials: "include"`).
    #[arg(long)]
    pub credentials: bool,
    /// The rules the bucket should have: a BucketCors manifest or any
    /// configuration file `bucketcors eval` reads.
    #[arg(long, value_name = "FILE", conflicts_with = "bucket_from_manifest")]
    pub manifest: Option<PathBuf>,
    /// Read the live rules of the bucket this BucketCors manifest names,
    /// with the backend's credentials (the environment or --credentials).
    #[arg(long, value_name = "FILE")]
    pub bucket_from_manifest: Option<PathBuf>,
    /// The backend credentials file for --bucket-from-manifest (the
    /// `--credentials FILE` of `bucketcors get`; here `--credentials` is
    /// the page's credentials mode). Without it, the environment.
    #[arg(long, value_name = "FILE", requires = "bucket_from_manifest")]
    pub backend_credentials: Option<PathBuf>,
    /// Another URL for the same object (the bucket's endpoint, the edge, a
    /// CDN): probed the same way and compared side by side; repeat for
    /// several (at most 3).
    #[arg(long, value_name = "URL")]
    pub via: Vec<String>,
    /// The second origin of the cache checks.
    #[arg(long, default_value = "https://doctor-second-origin.example")]
    pub second_origin: String,
    /// Seconds to wait for each answer.
    #[arg(long, default_value_t = 10)]
    pub timeout: u64,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Runs the command.
pub fn run(args: &Args) -> ExitCode {
    let request = match browser::request_from_args(args) {
        Ok(request) => request,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(EXIT_NOT_PROBED);
        }
    };
    let report = runtime().block_on(diagnose(args, request));
    if args.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_text(report::colour_wanted()));
    }
    ExitCode::from(match report.verdict {
        Verdict::Allowed => EXIT_ALLOWED,
        Verdict::Refused => EXIT_REFUSED,
        Verdict::NotProbed => EXIT_NOT_PROBED,
    })
}

/// Everything the doctor does, in the order of the report.
async fn diagnose(args: &Args, request: PageRequest) -> Report {
    let prober = match probe::Prober::new(std::time::Duration::from_secs(args.timeout.max(1))) {
        Ok(prober) => prober,
        Err(message) => return Report::not_probed(&request, message),
    };
    let known = match rules::load(args).await {
        Ok(known) => known,
        Err(message) => return Report::not_probed(&request, message),
    };

    // The main URL, then each --via layer, as the browser would ask.
    let mut urls = vec![request.url.clone()];
    urls.extend(args.via.iter().cloned());
    let mut layers = Vec::new();
    for url in &urls {
        layers.push(layers::Layer::probe(&prober, &request.at(url)).await);
    }
    let main = &layers[0];
    let mut report = Report::new(&request, main.verdict(&request));

    report.extend(not_cors::findings(main));
    report.extend(fetch_checks::findings(&request, main));
    if report.verdict == Verdict::Refused {
        report.extend(bisect::findings(&prober, &request, main).await);
    }
    if let Some(known) = &known {
        report.extend(rules::findings(known, &request, main));
    }
    for layer in &layers {
        report.extend(cache::findings(&prober, &request, layer, &args.second_origin).await);
    }
    report.extend(layers::findings(&request, &layers));
    report.record(&layers, &prober.log(), probe::MAX_REQUESTS);
    report
}
