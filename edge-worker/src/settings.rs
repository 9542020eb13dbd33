//! The worker's tunables, read from `wrangler.toml` `[vars]` on every
//! request (reading a var is a property lookup; there is nothing to cache).

use bucketcors_engine::Dialect;
use worker::Env;

/// KV binding holding one record per route.
pub const RULES_BINDING: &str = "BUCKETCORS_RULES";

/// Per-request view of the worker's configuration.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// How long a loaded route record is trusted before KV is read again.
    pub rules_ttl_ms: f64,
    /// `max-age` given to cached bodies whose origin response had no
    /// `Cache-Control`; 0 disables body caching.
    pub body_cache_ttl_seconds: u32,
    /// How preflights to hosts without any route are answered (as a bucket
    /// of this dialect without CORS configuration).
    pub default_dialect: Dialect,
}

impl Settings {
    /// Defaults: rules re-read every 5 s, bodies cached 60 s, S3 answers for
    /// unknown hosts.
    pub fn from_env(env: &Env) -> Settings {
        let var = |name: &str| env.var(name).ok().map(|v| v.to_string());
        let rules_ttl_seconds = var("RULES_TTL_SECONDS")
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|v| v.is_finite() && *v >= 0.0)
            .unwrap_or(5.0);
        let body_cache_ttl_seconds = var("BODY_CACHE_TTL_SECONDS")
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(60);
        let default_dialect = var("DEFAULT_DIALECT")
            .and_then(|v| v.parse().ok())
            .unwrap_or(Dialect::S3);
        Settings {
            rules_ttl_ms: rules_ttl_seconds * 1000.0,
            body_cache_ttl_seconds,
            default_dialect,
        }
    }
}
