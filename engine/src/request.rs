//! The parts of an HTTP request that CORS decisions read, borrowed from the
//! caller's own request type so that deciding never copies.

use crate::ascii::find_byte;
use crate::model::ResourceType;

/// A request as the CORS engine sees it. Header values are raw; when a
/// header occurs several times the caller joins the values with `,` (as
/// HTTP allows for list headers and as `fetch`'s `Headers.get` does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Request<'a> {
    /// The request method, as sent (`OPTIONS`, `GET`, ...).
    pub method: &'a str,
    /// The `Origin` header; `Some("")` when present but empty.
    pub origin: Option<&'a str>,
    /// The `Access-Control-Request-Method` header.
    pub request_method: Option<&'a str>,
    /// The `Access-Control-Request-Headers` header(s), comma-joined.
    pub request_headers: Option<&'a str>,
    /// Object or bucket (S3 error bodies name it).
    pub resource: ResourceType,
}

impl<'a> Request<'a> {
    /// A request with `method` and no CORS headers, for an object.
    pub fn new(method: &'a str) -> Request<'a> {
        Request {
            method,
            ..Request::default()
        }
    }

    /// A browser preflight: `OPTIONS` with `Origin` and
    /// `Access-Control-Request-Method`.
    pub fn preflight(origin: &'a str, request_method: &'a str) -> Request<'a> {
        Request::new("OPTIONS")
            .with_origin(origin)
            .with_request_method(request_method)
    }

    /// Sets the `Origin` header.
    pub fn with_origin(mut self, origin: &'a str) -> Request<'a> {
        self.origin = Some(origin);
        self
    }

    /// Sets the `Access-Control-Request-Method` header.
    pub fn with_request_method(mut self, method: &'a str) -> Request<'a> {
        self.request_method = Some(method);
        self
    }

    /// Sets the `Access-Control-Request-Headers` header.
    pub fn with_request_headers(mut self, headers: &'a str) -> Request<'a> {
        self.request_headers = Some(headers);
        self
    }

    /// Sets whether the request addresses an object or the bucket.
    pub fn with_resource(mut self, resource: ResourceType) -> Request<'a> {
        self.resource = resource;
        self
    }

    /// True for `OPTIONS`: the CORS layer answers the request itself.
    /// Methods compare case-sensitively, as HTTP defines them.
    pub fn is_options(&self) -> bool {
        self.method == "OPTIONS"
    }

    /// The names in `Access-Control-Request-Headers`: split on commas,
    /// surrounding whitespace trimmed, empty names skipped, as sent (not
    /// lower-cased).
    pub fn requested_headers(&self) -> RequestedHeaders<'a> {
        RequestedHeaders::new(self.request_headers.unwrap_or(""))
    }
}

/// A raw header value, as HTTP libraries hold it (`http::HeaderValue::
/// as_bytes`, hyper, a socket buffer), as the text a [`Request`] borrows;
/// `None` when the bytes are not UTF-8 (such a value matches no rule:
/// treat the header as absent).
///
/// Use this rather than `std::str::from_utf8`: header values are ASCII, and
/// this checks ASCII a word at a time before falling back to the full
/// UTF-8 check. On the short values of a preflight, `from_utf8` costs about
/// as much as the rest of the decision.
///
/// ```
/// use bucketcors_engine::request::header_text;
/// assert_eq!(header_text(b"https://app.example.com"), Some("https://app.example.com"));
/// assert_eq!(header_text(b"\xff"), None);
/// ```
#[inline]
pub fn header_text(value: &[u8]) -> Option<&str> {
    crate::ascii::text(value)
}

/// Iterator over the header names of an `Access-Control-Request-Headers`
/// value; see [`Request::requested_headers`]. Borrows, never allocates.
#[derive(Debug, Clone)]
pub struct RequestedHeaders<'a> {
    rest: &'a str,
}

impl<'a> RequestedHeaders<'a> {
    /// Splits a raw `Access-Control-Request-Headers` value.
    pub fn new(raw: &'a str) -> RequestedHeaders<'a> {
        RequestedHeaders { rest: raw }
    }
}

impl<'a> Iterator for RequestedHeaders<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        while !self.rest.is_empty() {
            let current: &'a str = self.rest;
            let bytes = current.as_bytes();
            let end = find_byte(bytes, b',').unwrap_or(bytes.len());
            // `,` is ASCII, so both cuts fall on character boundaries.
            self.rest = current.get(end + 1..).unwrap_or("");
            // HTTP's optional whitespace is space and tab.
            let part = &bytes[..end];
            let is_ows = |b: &u8| *b == b' ' || *b == b'\t';
            match (part.first(), part.last()) {
                // Nothing to trim: the form browsers send.
                (Some(first), Some(last)) if !is_ows(first) && !is_ows(last) => {
                    return Some(&current[..end]);
                }
                (None, _) | (_, None) => continue,
                _ => {}
            }
            if let Some(start) = part.iter().position(|b| !is_ows(b)) {
                let stop = part
                    .iter()
                    .rposition(|b| !is_ows(b))
                    .map_or(start, |i| i + 1);
                // Both cuts sit next to ASCII bytes (whitespace, `,`) or at
                // the ends, so they are character boundaries.
                return Some(&current[start..stop]);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section3_request_headers_split_trimmed_empty_ignored() {
        let r = Request::new("OPTIONS").with_request_headers(" X-A ,, x-b,\t,Content-Type ");
        let names: Vec<_> = r.requested_headers().collect();
        assert_eq!(names, ["X-A", "x-b", "Content-Type"]);
        assert_eq!(Request::new("GET").requested_headers().count(), 0);
    }
}
