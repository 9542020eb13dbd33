//! Header rewriting: the edge is the one source of truth for CORS.
//!
//! Whatever the bucket said about CORS is removed (every `Access-Control-*`
//! header, and the CORS parts of `Vary`), then the engine's decision for this
//! request is written. Other `Vary` members the bucket sent (such as
//! `Accept-Encoding`) are kept.

use std::fmt::Display;

use worker::Result;
use worker::web_sys::Headers;

use crate::glue::{HeaderNames, HeaderWrites};

/// Vary members that belong to CORS and so to the engine.
fn is_cors_vary_member(member: &str) -> bool {
    member.eq_ignore_ascii_case("origin")
        || member.eq_ignore_ascii_case("access-control-request-method")
        || member.eq_ignore_ascii_case("access-control-request-headers")
}

/// A response's headers without CORS, and what the rest of the worker needs
/// to know about them without asking the platform again.
#[derive(Debug)]
pub struct Stripped {
    /// A mutable copy without any CORS header.
    pub headers: Headers,
    /// The names in the original headers (CORS ones included).
    pub names: HeaderNames,
    /// `Vary` as kept in `headers`, if any.
    pub vary: Option<String>,
}

/// A mutable copy of `from` without any CORS header (see the module docs).
/// The names are listed in one call and the copy is made natively in
/// another; CORS headers (rare on a bucket's answer) are then deleted by
/// name, so an answer without them costs two calls across the JavaScript
/// boundary, however many headers it has.
pub fn without_cors(from: &Headers) -> Result<Stripped> {
    let names = HeaderNames::of(from);
    let headers = Headers::new_with_headers(from)?;
    let mut vary = None;
    for name in names.iter() {
        if name.starts_with("access-control-") {
            headers.delete(name)?;
        } else if name == "vary" && vary.is_none() {
            let value = headers.get("vary")?.unwrap_or_default();
            let kept: Vec<&str> = value
                .split(',')
                .map(str::trim)
                .filter(|m| !m.is_empty() && !is_cors_vary_member(m))
                .collect();
            if kept.is_empty() {
                headers.delete("vary")?;
                vary = Some(String::new());
            } else {
                let kept = kept.join(", ");
                if kept != value {
                    headers.set("vary", &kept)?;
                }
                vary = Some(kept);
            }
        }
    }
    Ok(Stripped {
        headers,
        names,
        vary: vary.filter(|v| !v.is_empty()),
    })
}

/// Queues the engine's headers into `writes`. `Vary` is merged with
/// `existing_vary` (what the headers already hold); every other header
/// replaces any earlier value.
pub fn apply<'a, V: Display>(
    writes: &mut HeaderWrites,
    existing_vary: Option<&str>,
    decided: impl IntoIterator<Item = (&'a str, V)>,
) {
    for (name, value) in decided {
        let value = value.to_string();
        if name.eq_ignore_ascii_case("vary") {
            match existing_vary {
                Some(existing) if !existing.is_empty() => {
                    writes.set("vary", &format!("{existing}, {value}"))
                }
                _ => writes.set("vary", &value),
            }
        } else {
            writes.set(name, &value);
        }
    }
}
