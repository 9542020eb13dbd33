//! Structured logs: one JSON object per line on the Workers console, with an
//! `event` name and string fields, so `wrangler tail` output can be filtered.
//!
//! No secret reaches a line: every value passes [`redact`] (URL query
//! strings, signature parameters and `Authorization`-style credentials are
//! replaced), and cache keys, which are URLs, are logged as [`key_hash`].
//! The worker never logs header values of `Authorization` or `Cookie`.
//!
//! The line is written by hand: every value is a string, so escaping is all
//! a JSON writer would add, and not linking `serde_json::Value` (a map type
//! and its serializer) keeps the wasm small.

use std::fmt::Write;

fn line(level: &str, event: &str, fields: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(64);
    out.push('{');
    member(&mut out, "level", level);
    out.push(',');
    member(&mut out, "event", event);
    for (k, v) in fields {
        out.push(',');
        member(&mut out, k, &redact(v));
    }
    out.push('}');
    out
}

fn member(out: &mut String, key: &str, value: &str) {
    string(out, key);
    out.push(':');
    string(out, value);
}

/// A JSON string literal: `"` and `\` escaped, control characters as
/// `\n`-style or `\u00XX` escapes (what JSON requires, nothing more).
fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A short, stable name for a cache key (a URL, possibly carrying a
/// signature): 64-bit FNV-1a, in hex. Enough to tell keys apart in logs
/// and to match a line with a known URL, never to read the URL back.
pub fn key_hash(key: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// Written instead of a removed secret.
const REDACTED: &str = "<redacted>";

/// `value` with what may be a secret replaced by [`REDACTED`]: the query
/// string of every URL in it, the value of every signature parameter
/// ([`crate::cache_policy::SIGNATURE_PARAMS`], wherever it appears), and
/// the credential after `Bearer `, `Basic ` or `AWS4-HMAC-SHA256 `. Error
/// texts from the platform may quote a URL; this keeps them loggable.
pub fn redact(value: &str) -> std::borrow::Cow<'_, str> {
    let lower = value.to_ascii_lowercase();
    let mut cuts: Vec<(usize, usize)> = Vec::new();
    // Query strings of URLs: from `?` to the end of the URL.
    let mut from = 0;
    while let Some(at) = lower[from..].find("://") {
        let start = from + at;
        let end = url_end(value, start);
        if let Some(q) = value[start..end].find('?') {
            cuts.push((start + q + 1, end));
        }
        from = end.max(start + 3);
    }
    // `name=value` of signature parameters, with or without a URL around.
    for param in crate::cache_policy::SIGNATURE_PARAMS {
        let mut from = 0;
        while let Some(at) = lower[from..].find(param) {
            let start = from + at;
            let after = start + param.len();
            from = after;
            let bounded = start == 0 || !is_name_byte(lower.as_bytes()[start - 1]);
            if bounded && lower.as_bytes().get(after) == Some(&b'=') {
                cuts.push((after + 1, value_end(value, after + 1)));
            }
        }
    }
    // Credentials in an Authorization-style value.
    for scheme in ["bearer ", "basic ", "aws4-hmac-sha256 "] {
        let mut from = 0;
        while let Some(at) = lower[from..].find(scheme) {
            let start = from + at + scheme.len();
            let end = url_end(value, start);
            cuts.push((start, end));
            from = end.max(start);
        }
    }
    if cuts.is_empty() {
        return std::borrow::Cow::Borrowed(value);
    }
    cuts.sort_unstable();
    let mut out = String::with_capacity(value.len());
    let mut at = 0;
    for (start, end) in cuts {
        if end <= at || start >= end {
            continue;
        }
        if start < at {
            // Overlaps the previous cut: extend it.
            at = end;
            continue;
        }
        out.push_str(&value[at..start]);
        out.push_str(REDACTED);
        at = end;
    }
    out.push_str(&value[at..]);
    std::borrow::Cow::Owned(out)
}

/// Where a URL (or credential) starting at `start` ends: at whitespace, a
/// quote or a closing bracket.
fn url_end(value: &str, start: usize) -> usize {
    value[start..]
        .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | ')' | ']' | '`'))
        .map(|i| start + i)
        .unwrap_or(value.len())
}

/// Where a query parameter's value starting at `start` ends.
fn value_end(value: &str, start: usize) -> usize {
    let end = url_end(value, start);
    value[start..end]
        .find(['&', ';', ','])
        .map(|i| start + i)
        .unwrap_or(end)
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// An informational event.
pub fn info(event: &str, fields: &[(&str, &str)]) {
    worker::console_log!("{}", line("info", event, fields));
}

/// Something went wrong but the worker carried on.
pub fn error(event: &str, fields: &[(&str, &str)]) {
    worker::console_error!("{}", line("error", event, fields));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_json_objects_with_escaped_strings() {
        let text = line("error", "x", &[("error", "a \"b\"\n\\ \u{1}é")]);
        assert_eq!(
            text,
            r#"{"level":"error","event":"x","error":"a \"b\"\n\\ \u0001é"}"#
        );
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["error"], "a \"b\"\n\\ \u{1}é");
    }

    #[test]
    fn secrets_never_reach_a_line() {
        let url = "http://127.0.0.1:3900/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=GK1%2F2026&X-Amz-Signature=0123abcd";
        let text = line("error", "x", &[("error", &format!("fetch {url} failed"))]);
        assert_eq!(
            text,
            r#"{"level":"error","event":"x","error":"fetch http://127.0.0.1:3900/b/k?<redacted> failed"}"#
        );
        // Without a URL around it, a signature parameter still loses its value.
        assert_eq!(
            redact("at &Signature=abc%2B&Expires=1 and x-oss-signature=ff"),
            "at &Signature=<redacted>&Expires=1 and x-oss-signature=<redacted>"
        );
        assert_eq!(redact("my-signature=1"), "my-signature=1");
        assert_eq!(
            redact("Authorization: Bearer t0k3n."),
            "Authorization: Bearer <redacted>"
        );
        assert_eq!(redact("plain words"), "plain words");
        let hash = key_hash(url);
        assert_eq!(hash.len(), 16);
        assert_ne!(hash, key_hash("http://127.0.0.1:3900/b/k"));
        assert!(!hash.contains("0123abcd"));
    }
}
