//! The parts of an HTTP request that CORS decisions read, borrowed from the
//! caller's own request type so that deciding never copies.

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
