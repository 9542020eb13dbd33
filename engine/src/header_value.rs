//! Response header values, produced lazily from the compiled rules and the
//! request so that a [`crate::Decision`] never allocates.

use std::fmt;

use crate::ascii::{has_upper, join_names, text};
use crate::request::RequestedHeaders;

/// The value of one response header. Display it, or write it into a buffer
/// of your own with [`HeaderValue::write_to`]; [`HeaderValue::as_str`] gives
/// the value without copying when it already exists as one string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderValue<'a> {
    /// The value as is (a request's Origin, a joined rule list, a constant).
    Text(&'a str),
    /// `Access-Control-Allow-Headers`: the names of a raw
    /// `Access-Control-Request-Headers` value, trimmed, empty ones skipped,
    /// ASCII lower-cased, in request order, joined by `", "`.
    RequestedHeaders(&'a str),
}

/// Requested-header values up to this many bytes are formatted on the stack.
const SHORT: usize = 128;

impl<'a> HeaderValue<'a> {
    /// The value when it needs no formatting, else `None`.
    pub fn as_str(&self) -> Option<&'a str> {
        match self {
            HeaderValue::Text(s) => Some(s),
            HeaderValue::RequestedHeaders(_) => None,
        }
    }

    /// Writes the value into `out` (a `String`, or any fixed buffer
    /// implementing [`fmt::Write`]) without allocating.
    pub fn write_to<W: fmt::Write + ?Sized>(&self, out: &mut W) -> fmt::Result {
        match self {
            HeaderValue::Text(s) => out.write_str(s),
            HeaderValue::RequestedHeaders(raw) if raw.len() <= SHORT => {
                // Every real value: assembled on the stack, written once.
                // The output is at most twice the input (", " for ","),
                // plus the slack `join_names` stores into.
                let mut buf = [0u8; 2 * SHORT + 8];
                let len = match join_names(raw.as_bytes(), &mut buf) {
                    // The form browsers send, eight bytes at a time.
                    Some(len) => len,
                    // Whitespace or empty names: trimmed one by one.
                    None => {
                        let mut len = 0;
                        for (i, name) in RequestedHeaders::new(raw).enumerate() {
                            if i > 0 {
                                buf[len..len + 2].copy_from_slice(b", ");
                                len += 2;
                            }
                            let dst = &mut buf[len..len + name.len()];
                            dst.copy_from_slice(name.as_bytes());
                            dst.make_ascii_lowercase();
                            len += name.len();
                        }
                        len
                    }
                };
                // Lower-casing ASCII bytes keeps UTF-8 valid, and cuts
                // happen only at `,`, so this never fails.
                out.write_str(text(&buf[..len]).ok_or(fmt::Error)?)
            }
            HeaderValue::RequestedHeaders(raw) => {
                for (i, name) in RequestedHeaders::new(raw).enumerate() {
                    if i > 0 {
                        out.write_str(", ")?;
                    }
                    write_ascii_lowercase(out, name)?;
                }
                Ok(())
            }
        }
    }

    /// The value's length in bytes, as written.
    pub fn len(&self) -> usize {
        match self {
            HeaderValue::Text(s) => s.len(),
            HeaderValue::RequestedHeaders(raw) => {
                let (count, bytes): (usize, usize) =
                    RequestedHeaders::new(raw).fold((0, 0), |(c, b), n| (c + 1, b + n.len()));
                bytes + 2 * count.saturating_sub(1)
            }
        }
    }

    /// True when the value is the empty string.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Display for HeaderValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_to(f)
    }
}

/// Writes `s` ASCII lower-cased without touching the heap: as is when there
/// is nothing to lower-case, else through a stack buffer in one write for
/// names up to 64 bytes (every real header name), else in runs between
/// upper-case letters.
fn write_ascii_lowercase<W: fmt::Write + ?Sized>(out: &mut W, s: &str) -> fmt::Result {
    // Browsers send the names lower-cased already (Fetch sorts and
    // byte-lower-cases them), so this is the common case.
    if !has_upper(s.as_bytes()) {
        return out.write_str(s);
    }
    let mut buf = [0u8; 64];
    if let Some(buf) = buf.get_mut(..s.len()) {
        buf.copy_from_slice(s.as_bytes());
        buf.make_ascii_lowercase();
        // Lower-casing ASCII bytes keeps UTF-8 valid.
        return out.write_str(std::str::from_utf8(buf).map_err(|_| fmt::Error)?);
    }
    let mut rest = s;
    while let Some(at) = rest.bytes().position(|b| b.is_ascii_uppercase()) {
        out.write_str(&rest[..at])?;
        out.write_char(rest.as_bytes()[at].to_ascii_lowercase() as char)?;
        rest = &rest[at + 1..];
    }
    out.write_str(rest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Section 3's definition, written the plain way.
    fn reference(raw: &str) -> String {
        raw.split(',')
            .map(|n| n.trim_matches([' ', '\t']))
            .filter(|n| !n.is_empty())
            .map(str::to_ascii_lowercase)
            .collect::<Vec<_>>()
            .join(", ")
    }

    proptest! {
        /// Every path of the writer (the word-at-a-time one for the form
        /// browsers send, the trimming one, the one for long values)
        /// against the plain definition, with commas, whitespace, empty
        /// names, upper case and non-ASCII letters anywhere.
        #[test]
        fn section3_allow_headers_value_agrees_with_reference(
            raw in "[a-zA-Z0-9,é \t-]{0,300}"
        ) {
            let value = HeaderValue::RequestedHeaders(&raw);
            let written = value.to_string();
            prop_assert_eq!(&written, &reference(&raw));
            prop_assert_eq!(value.len(), written.len());
        }

        #[test]
        fn section3_browser_form_agrees_with_reference(
            names in proptest::collection::vec("[a-zA-Z0-9-]{1,24}", 1..12)
        ) {
            let raw = names.join(",");
            prop_assert_eq!(HeaderValue::RequestedHeaders(&raw).to_string(), reference(&raw));
        }
    }

    #[test]
    fn section3_allow_headers_lowercased_in_request_order() {
        let v = HeaderValue::RequestedHeaders(" X-Amz-Date ,,Content-Type,x-B");
        assert_eq!(v.to_string(), "x-amz-date, content-type, x-b");
        assert_eq!(v.len(), v.to_string().len());
        assert_eq!(v.as_str(), None);
        assert_eq!(HeaderValue::Text("abc").len(), 3);
        let long = format!("X-{}", "Ab".repeat(40));
        let v = HeaderValue::RequestedHeaders(&long);
        assert_eq!(v.to_string(), long.to_ascii_lowercase());
    }
}
