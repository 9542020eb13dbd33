//! `bucketcors edge status`: what the edge enforces for a host, from both
//! ends.
//!
//! Workers KV is eventually consistent and every worker isolate keeps the
//! rules it loaded for `RULES_TTL_SECONDS`, so "what did we publish" and
//! "what does the edge answer with" can differ for a while. This command
//! reads the route's record through the Cloudflare KV API (the same API the
//! publisher writes with: dialect, revision, rules, origin URL, and from
//! the host's routes record which routes exist and when they were last
//! written), probes the edge with one preflight for the revision it
//! answers with (`x-bucketcors-revision`), and says whether the two agree.
//!
//! The route record does not name the BucketCors that published it (the
//! publisher's target carries hosts, prefix and origin only), so the
//! output says so instead of guessing an owner.
//!
//! Exit status: 0 the edge answers with the published revision; 1 it does
//! not (stale isolate, or nothing published), or bad arguments; 2 the KV
//! API or the edge could not be asked.

use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bucketcors_engine::edge_record::{EdgeRecord, HostRoutes, host_routes_key, route_key};
use serde::Serialize;

use super::backend_args::{EXIT_BACKEND, EXIT_INVALID, fail, runtime};
use bucketcors_sync::edge::cloudflare::{CloudflareKv, DEFAULT_API_URL, KvNamespace};
use bucketcors_sync::edge::token::{ApiToken, TOKEN_ENV};

/// Arguments of `bucketcors edge`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub command: EdgeCommand,
}

/// The `bucketcors edge` commands.
#[derive(Debug, clap::Subcommand)]
pub enum EdgeCommand {
    /// Show the rules the edge enforces for a host, as published and as
    /// the edge answers.
    #[command(
        after_help = "Exit status: 0 the edge answers with the published revision, \
1 it does not (or nothing is published, or bad arguments), 2 the KV API or the edge failed."
    )]
    Status(StatusArgs),
}

/// Arguments of `bucketcors edge status`.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// The host the route serves (as in `spec.edge.hosts`).
    #[arg(long)]
    pub host: String,
    /// A request path on the host; its first segment picks a prefix route
    /// when the host has one (default `/`).
    #[arg(long, default_value = "/")]
    pub path: String,
    /// Where to probe the edge (default `https://HOST`); the request is
    /// sent with `Host: HOST`, so a worker's own URL works too.
    #[arg(long)]
    pub edge_url: Option<String>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Cloudflare API base URL.
    #[arg(long, env = "CLOUDFLARE_API_URL", default_value = DEFAULT_API_URL)]
    pub cloudflare_api_url: String,
    /// Cloudflare account id (token from CLOUDFLARE_API_TOKEN).
    #[arg(long, env = "CLOUDFLARE_ACCOUNT_ID")]
    pub cloudflare_account_id: String,
    /// Workers KV namespace id of the worker's BUCKETCORS_RULES binding.
    #[arg(long, env = "CLOUDFLARE_KV_NAMESPACE_ID")]
    pub cloudflare_namespace_id: String,
}

/// One rule, summarised.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct RuleSummary {
    origins: Vec<String>,
    methods: Vec<String>,
    headers: Vec<String>,
    max_age_seconds: Option<u64>,
}

/// What the command found; printed as text or JSON.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Status {
    host: String,
    path: String,
    /// The KV key of the route that serves `path`, if any.
    route: Option<String>,
    prefix: Option<String>,
    owner: Option<String>,
    origin_url: Option<String>,
    dialect: Option<String>,
    /// The revision in KV (`none`: a route without CORS rules).
    published_revision: Option<String>,
    rules: Vec<RuleSummary>,
    cache_unmarked: bool,
    written_at: Option<u64>,
    written_seconds_ago: Option<u64>,
    edge_url: String,
    /// The revision the edge answered with (`x-bucketcors-revision`).
    edge_revision: Option<String>,
    agree: bool,
}

/// Runs `bucketcors edge ...`.
pub fn run(args: &Args) -> ExitCode {
    match &args.command {
        EdgeCommand::Status(status) => run_status(status),
    }
}

fn run_status(args: &StatusArgs) -> ExitCode {
    let token = match ApiToken::from_env(TOKEN_ENV) {
        Ok(t) => t,
        Err(e) => return fail(EXIT_INVALID, e),
    };
    let kv = match CloudflareKv::new(
        KvNamespace {
            api_url: args.cloudflare_api_url.clone(),
            account_id: args.cloudflare_account_id.clone(),
            namespace_id: args.cloudflare_namespace_id.clone(),
        },
        token,
    ) {
        Ok(kv) => kv,
        Err(e) => return fail(EXIT_INVALID, e.message),
    };
    if !args.path.starts_with('/') {
        return fail(
            EXIT_INVALID,
            format!("--path `{}` must start with `/`", args.path),
        );
    }
    let hosts_key = match host_routes_key(&args.host) {
        Ok(k) => k,
        Err(e) => return fail(EXIT_INVALID, format!("--host: {e}")),
    };
    let edge_url = args
        .edge_url
        .clone()
        .unwrap_or_else(|| format!("https://{}", args.host));
    if !(edge_url.starts_with("http://") || edge_url.starts_with("https://")) {
        return fail(
            EXIT_INVALID,
            format!("--edge-url `{edge_url}` must start with http:// or https://"),
        );
    }
    let result = runtime().block_on(async {
        let routes = match kv.read_value(&hosts_key).await {
            Ok(Some(text)) => Some(HostRoutes::from_json(&text).map_err(|e| {
                format!("the host's routes record {hosts_key} is not readable: {e}")
            })?),
            Ok(None) => None,
            Err(e) => return Err(format!("reading {hosts_key}: {}", e.message)),
        };
        let prefix = route_prefix(&args.path, routes.as_ref());
        let route = match (&prefix, &routes) {
            (Some(_), _) => Some(prefix.as_deref()),
            (None, Some(r)) if !r.host_route => None,
            (None, _) => Some(None),
        };
        let mut status = Status {
            host: args.host.clone(),
            path: args.path.clone(),
            route: None,
            prefix: prefix.clone(),
            owner: None,
            origin_url: None,
            dialect: None,
            published_revision: None,
            rules: Vec::new(),
            cache_unmarked: false,
            written_at: routes.as_ref().and_then(|r| r.written_at),
            written_seconds_ago: None,
            edge_url: edge_url.clone(),
            edge_revision: None,
            agree: false,
        };
        status.written_seconds_ago = status.written_at.map(|at| now_seconds().saturating_sub(at));
        if let Some(prefix) = route {
            let key = route_key(&args.host, prefix).map_err(|e| e.to_string())?;
            match kv.read_value(&key).await {
                Ok(Some(text)) => {
                    let record = EdgeRecord::from_json(&text)
                        .map_err(|e| format!("the route record {key} is not readable: {e}"))?;
                    describe(&mut status, &record);
                    status.route = Some(key);
                }
                Ok(None) => {}
                Err(e) => return Err(format!("reading {key}: {}", e.message)),
            }
        }
        status.edge_revision = probe(&edge_url, &args.host, &args.path).await?;
        // With nothing published the edge answers `none`; that agrees too.
        let published = status.published_revision.as_deref().unwrap_or("none");
        status.agree = status.edge_revision.as_deref() == Some(published);
        Ok::<Status, String>(status)
    });
    let status = match result {
        Ok(s) => s,
        Err(e) => return fail(EXIT_BACKEND, e),
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&status).expect("status serializes")
        );
    } else {
        print!("{}", text(&status));
    }
    if status.agree && status.route.is_some() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_INVALID)
    }
}

/// The prefix route `path` belongs to, when `routes` lists its first
/// segment (a segment followed by `/`, as the worker decides).
fn route_prefix(path: &str, routes: Option<&HostRoutes>) -> Option<String> {
    let rest = path.trim_start_matches('/');
    let first = rest.split('/').next().unwrap_or("");
    let routes = routes?;
    (!first.is_empty() && rest.len() > first.len() && routes.has(Some(first)))
        .then(|| first.to_owned())
}

fn describe(status: &mut Status, record: &EdgeRecord) {
    status.origin_url = Some(record.origin_url.clone());
    status.dialect = Some(record.dialect.to_string());
    status.published_revision = Some(record.revision().to_owned());
    status.cache_unmarked = record.cache_unmarked;
    if let Some(rules) = &record.rule_set {
        status.rules = rules
            .config
            .rules
            .iter()
            .map(|r| RuleSummary {
                origins: r.allowed_origins.clone(),
                methods: r.allowed_methods.clone(),
                headers: r.allowed_headers.clone(),
                max_age_seconds: r.max_age_seconds,
            })
            .collect();
    }
}

/// One preflight to the edge; the revision it answered with.
async fn probe(edge_url: &str, host: &str, path: &str) -> Result<Option<String>, String> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("HTTP client: {e}"))?;
    let url = format!("{}{path}", edge_url.trim_end_matches('/'));
    let response = client
        .request(reqwest::Method::OPTIONS, &url)
        .header(reqwest::header::HOST, host)
        .header(reqwest::header::ORIGIN, "https://bucketcors-status.invalid")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .map_err(|e| format!("probing the edge at {url}: {e}"))?;
    Ok(response
        .headers()
        .get("x-bucketcors-revision")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned))
}

fn now_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn text(s: &Status) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let or = |v: &Option<String>, none: &str| v.clone().unwrap_or_else(|| none.to_owned());
    let _ = writeln!(out, "host:      {}", s.host);
    let _ = writeln!(
        out,
        "route:     {}",
        or(&s.route, "none published for this path")
    );
    let _ = writeln!(
        out,
        "owner:     {}",
        or(
            &s.owner,
            "not recorded (route records do not name their BucketCors)"
        )
    );
    let _ = writeln!(out, "origin:    {}", or(&s.origin_url, "-"));
    let _ = writeln!(out, "dialect:   {}", or(&s.dialect, "-"));
    let _ = writeln!(
        out,
        "revision:  {} (published)",
        or(&s.published_revision, "-")
    );
    if s.route.is_some() && s.rules.is_empty() {
        let _ = writeln!(
            out,
            "rules:     none (the bucket has no CORS configuration)"
        );
    }
    for (i, r) in s.rules.iter().enumerate() {
        let _ = write!(
            out,
            "rule {}:    {} from {}",
            i + 1,
            r.methods.join(","),
            r.origins.join(" ")
        );
        if !r.headers.is_empty() {
            let _ = write!(out, ", headers {}", r.headers.join(" "));
        }
        if let Some(m) = r.max_age_seconds {
            let _ = write!(out, ", max-age {m}");
        }
        out.push('\n');
    }
    if s.cache_unmarked {
        let _ = writeln!(
            out,
            "cache:     answers without caching headers are cached (opt-in)"
        );
    }
    match (s.written_at, s.written_seconds_ago) {
        (Some(at), Some(ago)) => {
            let _ = writeln!(out, "written:   {ago} s ago (unix {at})");
        }
        _ => {
            let _ = writeln!(out, "written:   unknown (no routes record for the host)");
        }
    }
    let _ = writeln!(
        out,
        "edge:      {} answers revision {}",
        s.edge_url,
        or(&s.edge_revision, "(no x-bucketcors-revision header)")
    );
    let verdict = if s.agree {
        "yes: the edge enforces what is published".to_owned()
    } else {
        let ago = s
            .written_seconds_ago
            .map(|a| {
                format!(" (written {a} s ago; Workers KV and the worker's rules TTL take a while)")
            })
            .unwrap_or_default();
        format!("NO: the edge still answers with another revision{ago}")
    };
    let _ = writeln!(out, "agree:     {verdict}");
    out
}
