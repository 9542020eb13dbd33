//! A rule's allowed headers, compiled for the preflight hot path.
//!
//! Every candidate rule of every preflight checks each requested header
//! name against its allowed headers, ignoring ASCII case. Comparing a name
//! with every pattern byte by byte (or even word by word, folding case on
//! both sides each time) costs more than the rest of the decision, so the
//! work is split by what varies:
//!
//! - each pattern's first eight bytes (lower case, zero-padded) and length
//!   are one word and one number, computed when the rule is compiled;
//! - each requested name's first eight bytes are loaded and lower-cased
//!   once, whatever the number of patterns;
//! - an exact pattern is then rejected by length or first word, and a
//!   wildcard by its prefix's first word under a mask: one comparison each.
//!   Only a pattern that survives compares the rest of the name.
//!
//! Matching stays what [`crate::Pattern::matches_ignore_case`] defines: the
//! `*` matches any run of characters, and case is folded for ASCII only.

use crate::ascii::{eq_lower, find_byte, head_word};
use crate::pattern::Pattern;

/// The allowed headers of one rule; see the module docs.
#[derive(Debug, Clone, Default)]
pub(crate) struct AllowedHeaders {
    /// One allowed header is `*`: every name matches.
    any: bool,
    exact: Box<[ExactName]>,
    wildcards: Box<[WildcardName]>,
}

/// An allowed header without `*`, lower case.
#[derive(Debug, Clone)]
struct ExactName {
    len: usize,
    head: u64,
    /// The bytes after the first eight.
    tail: Box<[u8]>,
}

/// An allowed header with one `*`, lower case.
#[derive(Debug, Clone)]
struct WildcardName {
    /// The prefix's first eight bytes, and the mask of those that exist.
    head: u64,
    mask: u64,
    /// The prefix after its first eight bytes.
    prefix_tail: Box<[u8]>,
    prefix_len: usize,
    suffix: Box<[u8]>,
}

impl AllowedHeaders {
    /// Compiles header patterns made by [`Pattern::new_header`].
    pub(crate) fn new(patterns: &[Pattern]) -> AllowedHeaders {
        let mut compiled = AllowedHeaders::default();
        let (mut exact, mut wildcards) = (Vec::new(), Vec::new());
        for pattern in patterns {
            match pattern {
                Pattern::Any => compiled.any = true,
                Pattern::Exact(name) => {
                    let name = name.as_bytes();
                    exact.push(ExactName {
                        len: name.len(),
                        head: head_word(name),
                        tail: name.get(8..).unwrap_or_default().into(),
                    });
                }
                Pattern::Wildcard { prefix, suffix } => {
                    let prefix = prefix.as_bytes();
                    let shown = prefix.len().min(8);
                    wildcards.push(WildcardName {
                        head: head_word(prefix),
                        mask: u64::MAX.checked_shr(64 - 8 * shown as u32).unwrap_or(0),
                        prefix_tail: prefix.get(8..).unwrap_or_default().into(),
                        prefix_len: prefix.len(),
                        suffix: suffix.as_bytes().into(),
                    });
                }
            }
        }
        compiled.exact = exact.into();
        compiled.wildcards = wildcards.into();
        compiled
    }

    /// True when `name` (non-empty, trimmed) matches one allowed header.
    #[inline]
    pub(crate) fn allows(&self, name: &[u8]) -> bool {
        if self.any {
            return true;
        }
        let (len, head) = (name.len(), head_word(name));
        self.exact
            .iter()
            .any(|e| e.len == len && e.head == head && (len <= 8 || eq_lower(&name[8..], &e.tail)))
            || self.wildcards.iter().any(|w| {
                let suffix = w.suffix.len();
                len >= w.prefix_len + suffix
                    && head & w.mask == w.head
                    && (w.prefix_len <= 8 || eq_lower(&name[8..w.prefix_len], &w.prefix_tail))
                    && (suffix == 0 || eq_lower(&name[len - suffix..], &w.suffix))
            })
    }

    /// True when every name in a raw `Access-Control-Request-Headers`
    /// value (or its absence) is allowed. The value is split here, in
    /// place, the way [`crate::request::RequestedHeaders`] splits it
    /// (commas, surrounding spaces and tabs trimmed, empty names skipped):
    /// this runs for every candidate rule of every preflight.
    #[inline]
    pub(crate) fn allow_all(&self, request_headers: Option<&str>) -> bool {
        let Some(raw) = request_headers else {
            return true;
        };
        // `*` allows every name: no need to split the value.
        if self.any {
            return true;
        }
        let mut rest = raw.as_bytes();
        loop {
            let end = find_byte(rest, b',').unwrap_or(rest.len());
            let name = trim_ows(&rest[..end]);
            if !name.is_empty() && !self.allows(name) {
                return false;
            }
            match rest.get(end + 1..) {
                Some(next) => rest = next,
                None => return true,
            }
        }
    }
}

/// `bytes` without leading and trailing spaces and tabs (HTTP's optional
/// whitespace).
#[inline(always)]
fn trim_ows(bytes: &[u8]) -> &[u8] {
    let is_ows = |b: &u8| *b == b' ' || *b == b'\t';
    match (bytes.first(), bytes.last()) {
        // The form browsers send: nothing to trim.
        (Some(first), Some(last)) if !is_ows(first) && !is_ows(last) => bytes,
        _ => {
            let start = bytes.iter().position(|b| !is_ows(b)).unwrap_or(bytes.len());
            let stop = bytes
                .iter()
                .rposition(|b| !is_ows(b))
                .map_or(start, |i| i + 1);
            &bytes[start..stop]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Names around every length boundary of the compiled words, against
    /// `Pattern::matches_ignore_case`.
    #[test]
    fn agrees_with_pattern_matching() {
        let patterns = [
            "*",
            "x",
            "x-amz-*",
            "content-type",
            "abcdefgh",
            "abcdefghi",
            "abcdefg*",
            "abcdefgh*",
            "abcdefghi*",
            "*-id",
            "x-*-id",
            "abcdefghij*klmnopqrs",
            "*abcdefghijk",
        ];
        let names = [
            "x",
            "X",
            "y",
            "x-amz-",
            "X-Amz-Date",
            "x-amz",
            "content-type",
            "Content-Typf",
            "content-typ",
            "abcdefg",
            "abcdefgh",
            "ABCDEFGH",
            "abcdefghi",
            "abcdefghij",
            "x-req-id",
            "x--id",
            "x-id",
            "-id",
            "abcdefghijklmnopqrs",
            "abcdefghij-klmnopqrs",
            "abcdefghijk",
            "zabcdefghijk",
            "é-id",
        ];
        for pattern in patterns {
            let p = Pattern::new_header(pattern);
            let compiled = AllowedHeaders::new(std::slice::from_ref(&p));
            for name in names {
                assert_eq!(
                    compiled.allows(name.as_bytes()),
                    p.matches_ignore_case(name),
                    "{pattern:?} vs {name:?}"
                );
            }
        }
    }

    #[test]
    fn section3_every_requested_name_must_be_allowed() {
        let patterns = ["x-amz-*", "content-type"].map(Pattern::new_header);
        let allowed = AllowedHeaders::new(&patterns);
        assert!(allowed.allow_all(None));
        assert!(allowed.allow_all(Some("")));
        assert!(allowed.allow_all(Some(" Content-Type ,, x-amz-date,")));
        assert!(allowed.allow_all(Some("content-type,x-amz-date")));
        assert!(!allowed.allow_all(Some("content-type,x-other")));
        assert!(!AllowedHeaders::new(&[]).allow_all(Some("x")));
        assert!(AllowedHeaders::new(&[Pattern::Any]).allow_all(Some("x")));
    }
}
