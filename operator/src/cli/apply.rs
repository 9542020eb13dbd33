//! `bucketcors apply`: apply BucketCors manifests to their buckets (and the
//! edge) without a cluster, through the same reconcile core the controller
//! uses.
//!
//! Manifests are checked first (schema and CEL rules as the API server
//! would, then the engine's validation inside the core); an invalid one is
//! reported and nothing is sent for it, the others still go. Buckets are
//! applied with bounded concurrency; each prints one progress line as it
//! finishes. Credentials come from the environment or `--credentials`,
//! never from the manifest (its `credentialsSecretRef` is for the
//! operator). The operator's tenancy policy
//! ([`bucketcors_sync::tenancy`]) does not apply: there is no namespace
//! and no shared default credential here, only the caller's own keys sent
//! to the endpoints the caller's manifests name.

use super::backend_args::{CredentialsArgs, EXIT_BACKEND, EXIT_INVALID, fail, runtime};
use super::manifests::{self, Manifest};
use bucketcors_sync::backend::{BackendSettings, Connector};
use bucketcors_sync::edge::Publisher;
use bucketcors_sync::edge::cloudflare::{CloudflareKv, DEFAULT_API_URL, KvNamespace};
use bucketcors_sync::edge::token::{ApiToken, TOKEN_ENV};
use bucketcors_sync::reconcile::{Change, EdgeResult, Outcome, Plan, ReconcileError, Reconciler};
use futures::StreamExt;
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `bucketcors apply`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit status: 0 every bucket applied or unchanged, 1 invalid input (nothing \
was sent for it; valid manifests were still applied), 2 a backend or the edge failed."
)]
pub struct Args {
    /// Manifest file or directory (its *.yaml, *.yml and *.json files);
    /// repeatable. Files may hold several YAML documents.
    #[arg(
        short = 'f',
        long = "filename",
        value_name = "FILE|DIR",
        required = true
    )]
    pub files: Vec<PathBuf>,
    /// Print what would change (a diff per bucket) and send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// How many buckets are applied at the same time.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    #[command(flatten)]
    pub credentials: CredentialsArgs,
    /// Cloudflare API base URL, for manifests that publish to the edge.
    #[arg(long, env = "CLOUDFLARE_API_URL", default_value = DEFAULT_API_URL)]
    pub cloudflare_api_url: String,
    /// Cloudflare account id; with the namespace id and CLOUDFLARE_API_TOKEN
    /// in the environment, manifests with `edge.enabled` are published.
    #[arg(long, env = "CLOUDFLARE_ACCOUNT_ID")]
    pub cloudflare_account_id: Option<String>,
    /// Workers KV namespace id the edge worker reads its rules from.
    #[arg(long, env = "CLOUDFLARE_KV_NAMESPACE_ID")]
    pub cloudflare_namespace_id: Option<String>,
}

/// What happened to one manifest.
enum Result1 {
    Applied(Outcome),
    Planned(Plan, bool),
    Failed(ReconcileError),
}

/// Runs `bucketcors apply`.
pub fn run(args: &Args) -> ExitCode {
    let connector = match args.credentials.connector() {
        Ok(c) => c,
        Err(e) => return fail(EXIT_INVALID, e),
    };
    let publisher = match publisher(args) {
        Ok(p) => p,
        Err(e) => return fail(EXIT_INVALID, e),
    };

    let loaded = manifests::load(&args.files);
    let mut exit = 0u8;
    for skipped in &loaded.skipped {
        eprintln!("skipped {skipped}: not a BucketCors");
    }
    for invalid in &loaded.invalid {
        eprintln!("invalid {}:\n{}", invalid.source, indent(&invalid.message));
        exit = exit.max(EXIT_INVALID);
    }
    let (manifests, duplicates) = dedupe(loaded.manifests);
    for (manifest, first) in &duplicates {
        eprintln!(
            "invalid {}: {} names the same bucket as {first}; nothing sent for it",
            manifest.source,
            manifest.name()
        );
        exit = exit.max(EXIT_INVALID);
    }
    if manifests.is_empty() && exit == 0 {
        return fail(
            EXIT_INVALID,
            "no BucketCors manifests found in the given files",
        );
    }

    let total = manifests.len();
    let counts = runtime().block_on(apply_all(args, &connector, publisher.as_deref(), manifests));
    exit = exit.max(counts.exit);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{total} bucket(s){}: {} created, {} updated, {} drift-repaired, {} unchanged, {} invalid, {} failed",
        if args.dry_run {
            " (dry run, nothing sent)"
        } else {
            ""
        },
        counts.by_change[0],
        counts.by_change[1],
        counts.by_change[3],
        counts.by_change[2],
        counts.invalid + loaded.invalid.len() + duplicates.len(),
        counts.failed,
    );
    ExitCode::from(exit)
}

#[derive(Default)]
struct Counts {
    /// Created, Updated, Unchanged, DriftRepaired.
    by_change: [usize; 4],
    invalid: usize,
    failed: usize,
    exit: u8,
}

async fn apply_all(
    args: &Args,
    connector: &Connector,
    publisher: Option<&dyn Publisher>,
    manifests: Vec<Manifest>,
) -> Counts {
    let dry_run = args.dry_run;
    let mut results = futures::stream::iter(manifests)
        .map(|manifest| async move {
            let result = apply_one(connector, publisher, &manifest, dry_run).await;
            (manifest, result)
        })
        .buffer_unordered(usize::from(args.concurrency));

    let mut counts = Counts::default();
    while let Some((manifest, result)) = results.next().await {
        let mut out = std::io::stdout().lock();
        match result {
            Result1::Applied(outcome) => {
                counts.by_change[change_index(outcome.change)] += 1;
                let _ = writeln!(
                    out,
                    "{:<14} {}  {}  {} ({}){}",
                    outcome.change.as_str(),
                    outcome.target,
                    short(&outcome.revision),
                    manifest.name(),
                    manifest.source,
                    edge_note(&outcome.edge)
                );
                for warning in &outcome.warnings {
                    let _ = writeln!(out, "    warning: spec.rules: {warning}");
                }
            }
            Result1::Planned(plan, edge) => {
                counts.by_change[change_index(plan.change)] += 1;
                let verb = match plan.change {
                    Change::Unchanged => "unchanged".to_owned(),
                    other => format!("would {}", verb(other)),
                };
                let _ = writeln!(
                    out,
                    "{verb:<22} {}  {}  {} ({}){}",
                    plan.target,
                    short(plan.revision()),
                    manifest.name(),
                    manifest.source,
                    if edge {
                        ", would publish to the edge"
                    } else {
                        ""
                    }
                );
                for line in plan.diff().lines() {
                    let _ = writeln!(out, "    {line}");
                }
            }
            Result1::Failed(error) => {
                let (label, code) = if error.is_input_error() {
                    counts.invalid += 1;
                    ("invalid", EXIT_INVALID)
                } else {
                    counts.failed += 1;
                    ("failed", EXIT_BACKEND)
                };
                counts.exit = counts.exit.max(code);
                drop(out);
                eprintln!(
                    "{label:<14} {} ({}):\n{}",
                    manifest.name(),
                    manifest.source,
                    indent(&error.to_string())
                );
            }
        }
    }
    counts
}

async fn apply_one(
    connector: &Connector,
    publisher: Option<&dyn Publisher>,
    manifest: &Manifest,
    dry_run: bool,
) -> Result1 {
    let spec = &manifest.object.spec;
    let backend = match spec.backend.connect(connector).await {
        Ok(b) => b,
        Err(error) => {
            return Result1::Failed(ReconcileError::Backend {
                operation: bucketcors_sync::reconcile::Operation::Read,
                error,
            });
        }
    };
    let desired = match spec.desired() {
        Ok(desired) => desired,
        Err(error) => {
            return Result1::Failed(ReconcileError::Backend {
                operation: bucketcors_sync::reconcile::Operation::Read,
                error,
            });
        }
    };
    let mut reconciler = Reconciler::new(backend.as_ref());
    if let Some(publisher) = publisher {
        reconciler = reconciler.with_publisher(publisher);
    }
    if dry_run {
        match reconciler.plan(&desired).await {
            Ok(plan) => Result1::Planned(plan, desired.edge.is_some() && publisher.is_some()),
            Err(e) => Result1::Failed(e),
        }
    } else {
        match reconciler.apply(&desired).await {
            Ok(outcome) => Result1::Applied(outcome),
            Err(e) => Result1::Failed(e),
        }
    }
}

/// Keeps the first manifest per bucket; later ones would race it.
fn dedupe(manifests: Vec<Manifest>) -> (Vec<Manifest>, Vec<(Manifest, String)>) {
    let mut seen: HashMap<(String, Option<String>, String), String> = HashMap::new();
    let mut keep = Vec::new();
    let mut duplicates = Vec::new();
    for manifest in manifests {
        let backend = &manifest.object.spec.backend;
        let settings = BackendSettings::from(backend);
        let key = (
            settings.provider.as_str().to_owned(),
            settings.endpoint.clone(),
            backend.bucket.clone(),
        );
        match seen.get(&key) {
            Some(first) => {
                let first = first.clone();
                duplicates.push((manifest, first));
            }
            None => {
                seen.insert(key, manifest.source.clone());
                keep.push(manifest);
            }
        }
    }
    (keep, duplicates)
}

/// The Cloudflare KV publisher when an account id is given.
fn publisher(args: &Args) -> Result<Option<Box<dyn Publisher>>, String> {
    let Some(account_id) = args.cloudflare_account_id.clone() else {
        return Ok(None);
    };
    let namespace_id = args.cloudflare_namespace_id.clone().ok_or_else(|| {
        "--cloudflare-account-id is set but --cloudflare-namespace-id is not: give both to publish to the edge".to_owned()
    })?;
    let token = ApiToken::from_env(TOKEN_ENV).map_err(|e| e.to_string())?;
    let kv = CloudflareKv::new(
        KvNamespace {
            api_url: args.cloudflare_api_url.clone(),
            account_id,
            namespace_id,
        },
        token,
    )
    .map_err(|e| e.to_string())?;
    Ok(Some(Box::new(kv)))
}

fn change_index(change: Change) -> usize {
    match change {
        Change::Created => 0,
        Change::Updated => 1,
        Change::Unchanged => 2,
        Change::DriftRepaired => 3,
    }
}

fn verb(change: Change) -> &'static str {
    match change {
        Change::Created => "create",
        Change::Updated => "update",
        Change::DriftRepaired => "repair drift",
        Change::Unchanged => "leave",
    }
}

/// `sha256:` and the first 12 hex digits: enough to tell revisions apart.
fn short(revision: &str) -> &str {
    revision.get(..19).unwrap_or(revision)
}

fn edge_note(edge: &EdgeResult) -> String {
    match edge {
        EdgeResult::Disabled => String::new(),
        EdgeResult::NoPublisher => {
            ", edge NOT published (give --cloudflare-account-id, --cloudflare-namespace-id and CLOUDFLARE_API_TOKEN)".into()
        }
        EdgeResult::Published(sync) => {
            format!(", edge published {}", short(&sync.revision))
        }
    }
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
