//! `bucketcors console [--listen 127.0.0.1:PORT] [--context C]
//! [--namespace N]... [--dir DIR] [--read-only]`
//!
//! Serves a local web application to see, edit and test every bucket's
//! CORS rules: the page and the engine compiled to wasm come from the
//! binary ([`assets`]); the objects come from the user's kubeconfig
//! ([`source_cluster`]) or from manifests in a directory ([`source_dir`]).
//! The console holds no rights of its own: it lists, watches and applies
//! with the kubeconfig's identity, and with `--read-only` it writes nothing.
//!
//! Access ([`auth`]): loopback only unless `--allow-remote`; a random
//! token per start, in the URL printed on standard output; a cookie after
//! the first visit; writes need the CSRF token and a same-origin request.

mod assets;
mod auth;
mod server;
mod source_cluster;
mod source_dir;
mod splice;
mod view;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `bucketcors console`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to serve on; a loopback address unless --allow-remote.
    #[arg(long, default_value = "127.0.0.1:8690")]
    pub listen: SocketAddr,
    /// Allow a --listen address that is not loopback (anyone who can reach
    /// it and has the printed URL acts with this kubeconfig's identity).
    #[arg(long)]
    pub allow_remote: bool,
    /// The kubeconfig context; default: the current one.
    #[arg(long, conflicts_with = "dir")]
    pub context: Option<String>,
    /// Namespaces to show (repeat); default: every namespace the
    /// kubeconfig can list.
    #[arg(long = "namespace", short = 'n', conflicts_with = "dir")]
    pub namespaces: Vec<String>,
    /// Read (and save) BucketCors manifests in this directory instead of a
    /// cluster (`*.yaml`, `*.yml`, `*.json`, as `bucketcors apply` reads them).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Offer no write: the page hides every write control and the server
    /// refuses writes.
    #[arg(long)]
    pub read_only: bool,
}

/// Runs the command: exit 1 when the console cannot start.
pub fn run(args: &Args) -> ExitCode {
    if !args.listen.ip().is_loopback() && !args.allow_remote {
        eprintln!(
            "bucketcors console: --listen {} is not a loopback address; the console acts with \
             your kubeconfig's identity, so it serves loopback only unless --allow-remote is given",
            args.listen
        );
        return ExitCode::FAILURE;
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("bucketcors console: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(server::serve(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("bucketcors console: {message}");
            ExitCode::FAILURE
        }
    }
}
