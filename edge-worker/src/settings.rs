//! The worker's tunables, read from `wrangler.toml` `[vars]` once per
//! isolate: vars are fixed for a deployment (changing one deploys new
//! isolates), and reading them on every request costs several calls across
//! the JavaScript boundary.

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

thread_local! {
    /// The settings this isolate read first; see the module docs.
    static LOADED: std::cell::OnceCell<Settings> = const { std::cell::OnceCell::new() };
}

impl Settings {
    /// The isolate's settings, read from `env` on first use.
    pub fn for_isolate(env: &Env) -> Settings {
        LOADED.with(|loaded| *loaded.get_or_init(|| Settings::from_env(env)))
    }

    /// Defaults: rules re-read every 5 s, bodies cached 60 s, S3 answers for
    /// unknown hosts.
    pub fn from_env(env: &Env) -> Settings {
        let var = |name: &str| env.var(name).ok().map(|v| v.to_string());
        let rules_ttl_seconds = var("RULES_TTL_SECONDS")
            .and_then(|v| decimal(v.trim()))
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

/// A decimal number as Rust's `f64` parser reads it (`5`, `0.5`, `.5`,
/// `5.`, `+5`, `-0`, `1e3`), without linking that parser: its tables of
/// powers of five are several KB of the wasm, for a setting read in whole
/// seconds. `inf` and `NaN` are refused here rather than filtered later;
/// the caller refuses non-finite values either way. Rounding may differ
/// from the standard parser's in the last bit, far below a millisecond.
fn decimal(text: &str) -> Option<f64> {
    let bytes = text.as_bytes();
    let mut at = 0;
    let negative = match bytes.first() {
        Some(b'-') => {
            at = 1;
            true
        }
        Some(b'+') => {
            at = 1;
            false
        }
        _ => false,
    };
    let mut mantissa: u64 = 0;
    let mut exponent: i32 = 0;
    let mut digits = 0;
    let mut fraction = false;
    while let Some(&b) = bytes.get(at) {
        match b {
            b'0'..=b'9' => {
                digits += 1;
                if mantissa < (u64::MAX - 9) / 10 {
                    mantissa = mantissa * 10 + u64::from(b - b'0');
                    if fraction {
                        exponent -= 1;
                    }
                } else if !fraction {
                    // Digits beyond u64 precision still scale the number.
                    exponent += 1;
                }
            }
            b'.' if !fraction => fraction = true,
            _ => break,
        }
        at += 1;
    }
    if digits == 0 {
        return None;
    }
    if let Some(b'e' | b'E') = bytes.get(at) {
        at += 1;
        let sign = match bytes.get(at) {
            Some(b'-') => {
                at += 1;
                -1
            }
            Some(b'+') => {
                at += 1;
                1
            }
            _ => 1,
        };
        let start = at;
        let mut power: i32 = 0;
        while let Some(&b @ b'0'..=b'9') = bytes.get(at) {
            power = power.saturating_mul(10).saturating_add(i32::from(b - b'0'));
            at += 1;
        }
        if at == start {
            return None;
        }
        exponent = exponent.saturating_add(sign * power);
    }
    if at != bytes.len() {
        return None;
    }
    let value = mantissa as f64 * 10f64.powi(exponent);
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::decimal;

    #[test]
    fn decimals_read_like_the_standard_parser() {
        for text in [
            "5", "0", "0.5", ".5", "5.", "+5", "-0", "-1", "1e3", "1E-3", "2.5e+1", "007", "120",
            "0.001", "86400", "3.14159", "", ".", "e3", "1e", "1x", "1..2", "--1", "+-1", " 1",
            "inf", "NaN", "1_0",
        ] {
            let std = text.parse::<f64>().ok().filter(|v| v.is_finite());
            let ours = decimal(text);
            match (std, ours) {
                (Some(a), Some(b)) => {
                    assert!((a - b).abs() <= a.abs() * 1e-12, "{text:?}: {a} {b}")
                }
                (None, None) => {}
                _ => panic!("{text:?}: std {std:?}, ours {ours:?}"),
            }
        }
    }
}
