//! `bucketcors run`: the operator.
//!
//! Start-up order: logging; the Kubernetes client (in-cluster or
//! `KUBECONFIG`); the preflight check that the CRD is installed and listable
//! (a clear error and exit code 1 otherwise); the HTTP endpoint; then,
//! when `--leader-election` is on, the campaign for the Lease; only the
//! leader runs the controller. SIGTERM or SIGINT stops the controller
//! gracefully (reconciliations in flight finish), releases the Lease and
//! exits 0. A leader that loses its Lease exits 1 so that its pod restarts
//! as a candidate: two replicas must never write the same bucket.

use crate::controller::http::{self, Health};
use crate::controller::leader::{LeaseElector, LeaseSettings};
use crate::controller::secrets::Credentials;
use crate::controller::{self, Context};
use crate::telemetry::{self, Metrics};
use bucketcors_sync::backend::{Connector, CredentialSource};
use bucketcors_sync::edge::Publisher;
use bucketcors_sync::edge::cloudflare::{CloudflareKv, DEFAULT_API_URL, KvNamespace};
use bucketcors_sync::edge::token::{ApiToken, TOKEN_ENV};
use bucketcors_sync::tenancy::{HostPattern, Tenancy};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// Human-readable text.
    Text,
}

/// Arguments of `bucketcors run`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address of /healthz, /readyz and /metrics.
    #[arg(long, default_value = "0.0.0.0:8080", env = "BUCKETCORS_LISTEN_ADDR")]
    pub listen_addr: SocketAddr,
    /// Log filter when RUST_LOG is unset (`info`, `debug`, ...).
    #[arg(long, default_value = "info")]
    pub log_level: String,
    /// Log format.
    #[arg(long, value_enum, default_value = "json")]
    pub log_format: LogFormat,
    /// Resync period of objects that set no `spec.resyncInterval`.
    #[arg(long, default_value = "5m", value_parser = humantime::parse_duration)]
    pub resync_interval: Duration,
    /// Watch only this namespace (repeatable); every namespace when absent.
    #[arg(long = "namespace")]
    pub namespaces: Vec<String>,
    /// Reconcile only while holding the leader Lease.
    #[arg(long)]
    pub leader_election: bool,
    /// Name of the leader Lease.
    #[arg(long, default_value = "bucketcors-leader")]
    pub lease_name: String,
    /// Namespace of the leader Lease (default: the pod's namespace).
    #[arg(long, env = "POD_NAMESPACE")]
    pub lease_namespace: Option<String>,
    /// This replica's identity in the Lease (default: the pod name).
    #[arg(long, env = "POD_NAME")]
    pub identity: Option<String>,
    /// Reconciliations running at once.
    #[arg(long, default_value_t = 16)]
    pub concurrency: u16,
    /// A namespace whose BucketCors may use the operator's default
    /// credentials when they name no Secret (repeatable; `*`: every
    /// namespace). None by default: every object names a Secret of its own
    /// namespace. Chart value `tenancy.defaultCredentialsNamespaces`.
    #[arg(long = "default-credentials-namespace")]
    pub default_credentials_namespaces: Vec<String>,
    /// A backend endpoint pattern (`host`, `*.parent`, optional `:port`)
    /// every backend must match (repeatable). When absent: the providers'
    /// public endpoints. Chart value `tenancy.allowedEndpoints`.
    #[arg(long = "allowed-endpoint", value_parser = HostPattern::parse)]
    pub allowed_endpoints: Vec<HostPattern>,
    /// `NAMESPACE=PATTERN[,PATTERN...]`: the edge hosts a namespace may
    /// claim (repeatable; namespace `*`: every namespace). A namespace
    /// without an entry may claim none. Chart value `tenancy.edgeHosts`.
    #[arg(long = "edge-hosts", value_parser = parse_edge_hosts)]
    pub edge_hosts: Vec<(String, Vec<HostPattern>)>,
}

/// `team-a=*.a.example.com,a.example.com`.
fn parse_edge_hosts(text: &str) -> Result<(String, Vec<HostPattern>), String> {
    let (namespace, patterns) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not NAMESPACE=PATTERN[,PATTERN...]"))?;
    if namespace.is_empty() {
        return Err(format!("`{text}` names no namespace"));
    }
    let patterns = patterns
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(HostPattern::parse)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((namespace.to_owned(), patterns))
}

impl Args {
    /// The installer's tenancy policy these flags describe.
    pub fn tenancy(&self) -> Tenancy {
        let mut tenancy = Tenancy::default()
            .with_default_credentials(self.default_credentials_namespaces.clone());
        if !self.allowed_endpoints.is_empty() {
            tenancy = tenancy.with_endpoints(self.allowed_endpoints.clone());
        }
        for (namespace, patterns) in &self.edge_hosts {
            tenancy = tenancy.with_edge_hosts(namespace, patterns.clone());
        }
        tenancy
    }
}

/// Selects rustls's process-wide crypto provider. Two providers (ring via
/// kube, aws-lc-rs via the AWS SDK) are compiled in, and rustls refuses to
/// guess; without this the Kubernetes client panics on first use. Calling it
/// again is harmless.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Runs the operator until SIGTERM.
pub fn run(args: &Args) -> ExitCode {
    install_tls_provider();
    telemetry::init_logging(args.log_format == LogFormat::Json, &args.log_level);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("bucketcors run: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(operate(args)) {
        Ok(code) => code,
        Err(message) => {
            tracing::error!(error = %message, "the operator cannot start");
            eprintln!("bucketcors run: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn operate(args: &Args) -> Result<ExitCode, String> {
    let client = kube::Client::try_default().await.map_err(|e| {
        format!("no Kubernetes configuration ({e}): run inside a cluster, or set KUBECONFIG")
    })?;
    let namespaces: Vec<Option<String>> = if args.namespaces.is_empty() {
        vec![None]
    } else {
        args.namespaces.iter().cloned().map(Some).collect()
    };
    for ns in &namespaces {
        controller::preflight(&client, ns.as_deref())
            .await
            .map_err(|e| e.to_string())?;
    }
    let publisher = edge_publisher()?;
    let metrics = Arc::new(Metrics::new());
    let health = Arc::new(Health::default());
    let identity = args
        .identity
        .clone()
        .unwrap_or_else(|| format!("bucketcors-{}", std::process::id()));

    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutdown requested; finishing reconciliations in flight");
        let _ = stop_tx.send(true);
    });
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };

    let server = tokio::spawn(http::serve(
        args.listen_addr,
        health.clone(),
        metrics.clone(),
        stopped(stop_rx.clone()),
    ));

    // Leadership first; a standby is healthy and ready, it just waits.
    let mut lost_leadership = None;
    if args.leader_election {
        let lease_ns = args.lease_namespace.clone().ok_or(
            "--leader-election needs the Lease's namespace: pass --lease-namespace or set POD_NAMESPACE",
        )?;
        let elector = LeaseElector::new(
            kube::Api::namespaced(client.clone(), &lease_ns),
            LeaseSettings::new(args.lease_name.clone(), identity.clone()),
        );
        let (leading_tx, mut leading_rx) = watch::channel(false);
        health.set_ready(true);
        let campaign = tokio::spawn({
            let stop = stop_rx.clone();
            async move { elector.run(leading_tx, stop).await }
        });
        // A stop wins over a campaign that ends at the same moment: the
        // campaign ends (and `wait_for` errs) only because of the stop, and
        // a replica stopping must never start reconciling.
        tokio::select! {
            biased;
            _ = stopped(stop_rx.clone()) => {}
            _ = leading_rx.wait_for(|l| *l) => {}
        }
        if *stop_rx.borrow() || !*leading_rx.borrow() {
            let _ = campaign.await;
            let _ = server.await;
            return Ok(ExitCode::SUCCESS);
        }
        metrics.set_leader(true);
        health.set_ready(false);
        lost_leadership = Some((campaign, leading_rx));
    } else {
        metrics.set_leader(true);
    }

    let ambient = Connector::new(CredentialSource::Ambient, CredentialSource::Ambient);
    let mut ctx = Context::new(
        client.clone(),
        Credentials::new(client.clone(), ambient),
        publisher,
        metrics.clone(),
        &identity,
    );
    ctx.default_resync = args.resync_interval;
    let ctx = ctx.with_tenancy(args.tenancy());
    tracing::info!(tenancy = ?ctx.tenancy, "tenancy policy");
    let ctx = Arc::new(ctx);

    // The controller stops on SIGTERM, or when leadership is lost.
    let (halt_tx, halt_rx) = watch::channel(false);
    let halt_on_stop = {
        let halt_tx = halt_tx.clone();
        let stop_rx = stop_rx.clone();
        tokio::spawn(async move {
            stopped(stop_rx).await;
            let _ = halt_tx.send(true);
        })
    };
    let mut leadership_lost = false;
    let watcher_of_lease = lost_leadership.map(|(campaign, mut leading_rx)| {
        let halt_tx = halt_tx.clone();
        tokio::spawn(async move {
            let _ = leading_rx.wait_for(|l| !*l).await;
            let _ = halt_tx.send(true);
            campaign.await.unwrap_or(false)
        })
    });

    let remaining = Arc::new(std::sync::atomic::AtomicUsize::new(namespaces.len()));
    let runs = namespaces.into_iter().map(|ns| {
        let health = health.clone();
        let remaining = remaining.clone();
        controller::run(
            ctx.clone(),
            ns,
            args.concurrency,
            stopped(halt_rx.clone()),
            move || {
                if remaining.fetch_sub(1, std::sync::atomic::Ordering::SeqCst) == 1 {
                    tracing::info!("controller cache synced; ready");
                    health.set_ready(true);
                }
            },
        )
    });
    futures::future::join_all(runs).await;
    halt_on_stop.abort();

    if let Some(task) = watcher_of_lease {
        // Lost leadership (true) or shut down (false, Lease released).
        if *stop_rx.borrow() {
            let _ = task.await;
        } else {
            leadership_lost = task.await.unwrap_or(true);
        }
    }
    let _ = server.await;
    if leadership_lost {
        tracing::error!("leadership lost: exiting so that this replica restarts as a candidate");
        return Ok(ExitCode::FAILURE);
    }
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// The Cloudflare KV publisher, when `CLOUDFLARE_ACCOUNT_ID` is set.
fn edge_publisher() -> Result<Option<Arc<dyn Publisher>>, String> {
    let Ok(account_id) = std::env::var("CLOUDFLARE_ACCOUNT_ID") else {
        return Ok(None);
    };
    let namespace_id = std::env::var("CLOUDFLARE_KV_NAMESPACE_ID").map_err(|_| {
        "CLOUDFLARE_ACCOUNT_ID is set but CLOUDFLARE_KV_NAMESPACE_ID is not: set both (the chart's edge.cloudflare values)".to_string()
    })?;
    let api_url = std::env::var("CLOUDFLARE_API_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| DEFAULT_API_URL.to_string());
    let token = ApiToken::from_env(TOKEN_ENV).map_err(|e| e.to_string())?;
    let kv = CloudflareKv::new(
        KvNamespace {
            api_url,
            account_id,
            namespace_id,
        },
        token,
    )
    .map_err(|e| e.to_string())?;
    Ok(Some(Arc::new(kv)))
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        run: Args,
    }

    fn parse(args: &[&str]) -> Result<Args, clap::Error> {
        Cli::try_parse_from(std::iter::once("run").chain(args.iter().copied())).map(|c| c.run)
    }

    /// The flags the chart renders become the policy; without any, the
    /// chart's defaults (no default credentials, public endpoints, no edge
    /// host).
    #[test]
    fn tenancy_flags_become_the_policy() {
        let none = parse(&[]).unwrap().tenancy();
        assert_eq!(none, Tenancy::default());
        let args = parse(&[
            "--default-credentials-namespace=platform",
            "--allowed-endpoint=127.0.0.1:3900",
            "--edge-hosts=team-a=*.a.example.com, a.example.com",
            "--edge-hosts=*=*.preview.example.com",
        ])
        .unwrap();
        let policy = args.tenancy();
        assert!(policy.check_default_credentials("platform").is_ok());
        assert!(policy.check_default_credentials("team-a").is_err());
        let hosts = |h: &str| vec![h.to_string()];
        assert!(
            policy
                .check_edge_hosts("team-a", &hosts("a.example.com"))
                .is_ok()
        );
        assert!(
            policy
                .check_edge_hosts("team-a", &hosts("x.a.example.com"))
                .is_ok()
        );
        assert!(
            policy
                .check_edge_hosts("team-b", &hosts("x.a.example.com"))
                .is_err()
        );
        assert!(
            policy
                .check_edge_hosts("team-b", &hosts("p.preview.example.com"))
                .is_ok()
        );
        for bad in [
            "--edge-hosts=team-a",
            "--edge-hosts==x.com",
            "--allowed-endpoint=https://x.com",
        ] {
            let err = parse(&[bad])
                .err()
                .unwrap_or_else(|| panic!("{bad} refused"));
            assert!(
                err.to_string().contains(bad.split('=').next().unwrap()),
                "{err}"
            );
        }
    }
}
