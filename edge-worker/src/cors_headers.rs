//! Header rewriting: the edge is the one source of truth for CORS.
//!
//! Whatever the bucket said about CORS is removed (every `Access-Control-*`
//! header, and the CORS parts of `Vary`), then the engine's decision for this
//! request is written. Other `Vary` members the bucket sent (such as
//! `Accept-Encoding`) are kept.

use std::fmt::Display;

use worker::{Headers, Result};

/// Vary members that belong to CORS and so to the engine.
fn is_cors_vary_member(member: &str) -> bool {
    member.eq_ignore_ascii_case("origin")
        || member.eq_ignore_ascii_case("access-control-request-method")
        || member.eq_ignore_ascii_case("access-control-request-headers")
}

/// A mutable copy of `from` without any CORS header (see the module docs).
/// The copy is made natively in one call and the CORS headers are then
/// deleted by name: a response has a dozen headers and rarely a CORS one, so
/// this crosses the JavaScript boundary far less than copying entry by entry.
pub fn without_cors(from: &Headers) -> Result<Headers> {
    let out = from.clone();
    for name in from.keys() {
        if name.starts_with("access-control-") {
            out.delete(&name)?;
        } else if name == "vary" {
            let value = out.get("vary")?.unwrap_or_default();
            let kept: Vec<&str> = value
                .split(',')
                .map(str::trim)
                .filter(|m| !m.is_empty() && !is_cors_vary_member(m))
                .collect();
            if kept.is_empty() {
                out.delete("vary")?;
            } else {
                out.set("vary", &kept.join(", "))?;
            }
        }
    }
    Ok(out)
}

/// Writes the engine's headers into `headers`. `Vary` is merged with what is
/// already there; every other header replaces any earlier value.
pub fn apply<'a, V: Display>(
    headers: &Headers,
    decided: impl IntoIterator<Item = (&'a str, V)>,
) -> Result<()> {
    for (name, value) in decided {
        let value = value.to_string();
        if name.eq_ignore_ascii_case("vary") {
            match headers.get("vary")? {
                Some(existing) if !existing.is_empty() => {
                    headers.set("vary", &format!("{existing}, {value}"))?
                }
                _ => headers.set("vary", &value)?,
            }
        } else {
            headers.set(name, &value)?;
        }
    }
    Ok(())
}
