//! Structured logs: one JSON object per line on the Workers console, with an
//! `event` name and string fields, so `wrangler tail` output can be filtered.
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
        member(&mut out, k, v);
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
}
