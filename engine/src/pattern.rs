//! The one-`*` pattern used by allowed origins and allowed headers.
//!
//! The spec allows at most one `*` per value, so a pattern is either the
//! lone `*`, an exact string, or a prefix and a suffix around the `*`.
//! Matching is then two slice comparisons plus a length check: linear in
//! the input, no backtracking, no allocation. Validation refuses values with
//! more than one `*`; should one reach [`Pattern::new`] anyway, everything
//! after the first `*` is the suffix (so the extra `*`s only match
//! themselves), which keeps matching total and linear.

use crate::ascii::{bytes_eq, eq_lower};

/// A compiled origin or header pattern.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Pattern {
    /// `*`: matches anything, including the empty string.
    Any,
    /// No `*`: matches exactly this string.
    Exact(String),
    /// One `*`: matches any string that starts with `prefix`, ends with
    /// `suffix`, and is at least as long as both together (the `*` matches
    /// any run of characters, including none and including dots).
    Wildcard {
        /// What comes before the `*`.
        prefix: String,
        /// What comes after the `*`.
        suffix: String,
    },
}

impl Pattern {
    /// Compiles `value`, keeping its case (origins compare exactly).
    pub fn new(value: &str) -> Pattern {
        match value.split_once('*') {
            None => Pattern::Exact(value.to_owned()),
            Some(("", "")) => Pattern::Any,
            Some((prefix, suffix)) => Pattern::Wildcard {
                prefix: prefix.to_owned(),
                suffix: suffix.to_owned(),
            },
        }
    }

    /// Compiles a header-name pattern: ASCII lower-cased, because header
    /// names compare case-insensitively; match it with
    /// [`Pattern::matches_ignore_case`].
    pub fn new_header(value: &str) -> Pattern {
        Pattern::new(&value.to_ascii_lowercase())
    }

    /// True when `input` matches, comparing bytes exactly.
    #[inline]
    pub fn matches(&self, input: &str) -> bool {
        match self {
            Pattern::Any => true,
            Pattern::Exact(s) => bytes_eq(s.as_bytes(), input.as_bytes()),
            Pattern::Wildcard { prefix, suffix } => {
                let (input, p, s) = (input.as_bytes(), prefix.as_bytes(), suffix.as_bytes());
                // Suffix first: origins that differ usually differ in the
                // host's end (`.example.com`), while prefixes are mostly a
                // shared scheme.
                input.len() >= p.len() + s.len()
                    && bytes_eq(&input[input.len() - s.len()..], s)
                    && bytes_eq(&input[..p.len()], p)
            }
        }
    }

    /// True when `input` matches, ignoring ASCII case. The pattern must have
    /// been built with [`Pattern::new_header`] (lower case).
    #[inline]
    pub fn matches_ignore_case(&self, input: &str) -> bool {
        let input = input.as_bytes();
        match self {
            Pattern::Any => true,
            Pattern::Exact(s) => eq_lower(input, s.as_bytes()),
            Pattern::Wildcard { prefix, suffix } => {
                let (p, s) = (prefix.as_bytes(), suffix.as_bytes());
                input.len() >= p.len() + s.len()
                    && eq_lower(&input[..p.len()], p)
                    && eq_lower(&input[input.len() - s.len()..], s)
            }
        }
    }

    /// True when every string this pattern's `other` matches is also matched
    /// by `self`: the language of `other` is a subset of ours. Used to find
    /// rules an earlier rule fully shadows.
    pub fn covers(&self, other: &Pattern) -> bool {
        match (self, other) {
            (Pattern::Any, _) => true,
            (_, Pattern::Any) => false,
            (Pattern::Exact(a), Pattern::Exact(b)) => a == b,
            (Pattern::Exact(_), Pattern::Wildcard { .. }) => false,
            (Pattern::Wildcard { .. }, Pattern::Exact(b)) => self.matches(b),
            // `c*d` ⊆ `a*b` exactly when c starts with a and d ends with b:
            // the `*` of `c*d` can be anything, so the fixed parts alone must
            // carry the prefix and suffix.
            (
                Pattern::Wildcard {
                    prefix: a,
                    suffix: b,
                },
                Pattern::Wildcard {
                    prefix: c,
                    suffix: d,
                },
            ) => c.starts_with(a.as_str()) && d.ends_with(b.as_str()),
        }
    }

    /// True for the lone `*`.
    pub fn is_any(&self) -> bool {
        matches!(self, Pattern::Any)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section2_star_matches_any_run_including_none_and_dots() {
        let p = Pattern::new("https://*.example.com");
        assert!(p.matches("https://a.example.com"));
        assert!(p.matches("https://a.b.example.com"));
        assert!(p.matches("https://.example.com"));
        assert!(!p.matches("https://example.com"));
        assert!(!p.matches("http://a.example.com"));
        let p = Pattern::new("https://app*");
        assert!(p.matches("https://app"));
        assert!(p.matches("https://app.example.com:8443"));
    }

    #[test]
    fn section2_prefix_and_suffix_must_not_overlap() {
        // "ab*ba" must not match "aba": prefix and suffix would share the b.
        let p = Pattern::new("ab*ba");
        assert!(!p.matches("aba"));
        assert!(p.matches("abba"));
    }

    #[test]
    fn section2_headers_compare_case_insensitively() {
        let p = Pattern::new_header("X-Amz-*");
        assert!(p.matches_ignore_case("x-amz-date"));
        assert!(p.matches_ignore_case("X-AMZ-DATE"));
        assert!(!p.matches_ignore_case("x-oss-date"));
        assert!(Pattern::new_header("Content-Type").matches_ignore_case("content-type"));
    }

    #[test]
    fn covers_is_language_inclusion() {
        let any = Pattern::new("*");
        let w = Pattern::new("https://*.example.com");
        let w2 = Pattern::new("https://*.a.example.com");
        let e = Pattern::new("https://x.example.com");
        assert!(any.covers(&w) && w.covers(&w2) && w.covers(&e) && w2.covers(&w2));
        assert!(!w2.covers(&w) && !e.covers(&w) && !w.covers(&any));
    }
}
