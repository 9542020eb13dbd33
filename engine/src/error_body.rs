//! The XML error bodies of refused preflights, in each dialect's shape.
//!
//! S3: `<Error><Code/><Message/>[<Method/><ResourceType/>]<RequestId/><HostId/></Error>`;
//! `Method` and `ResourceType` appear on `AccessForbidden` only.
//! OSS: `<Error><Code/><Message/><RequestId/><HostId/><EC/></Error>`.
//! The body starts at `<Error>`, as the spec quotes it, with no XML
//! declaration. Values that come from the request (the method, ids) are
//! entity-escaped.
//!
//! Request ids: providers put a fresh id in every error. The engine is pure,
//! so by default the body carries the fixed [`DEFAULT_REQUEST_ID`] and
//! [`DEFAULT_HOST_ID`] (deterministic output for `bucketcors eval` and
//! tests); a server supplies its own with [`ErrorBody::with_request_id`] and
//! [`ErrorBody::with_host_id`].

use std::fmt;

use crate::decision::Refusal;
use crate::model::{Dialect, ResourceType};

/// `RequestId` used unless the caller supplies one.
pub const DEFAULT_REQUEST_ID: &str = "0000000000000000";
/// `HostId` used unless the caller supplies one.
pub const DEFAULT_HOST_ID: &str = "bucketcors";

/// An error body; display it or [`ErrorBody::write_to`] a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorBody<'a> {
    pub(crate) dialect: Dialect,
    pub(crate) refusal: Refusal,
    /// S3's `<Method>`: the Access-Control-Request-Method, or `OPTIONS`.
    pub(crate) method: &'a str,
    pub(crate) resource: ResourceType,
    pub(crate) request_id: &'a str,
    pub(crate) host_id: &'a str,
}

impl<'a> ErrorBody<'a> {
    /// The same body with `RequestId` set to `request_id`.
    pub fn with_request_id(self, request_id: &'a str) -> ErrorBody<'a> {
        ErrorBody { request_id, ..self }
    }

    /// The same body with `HostId` set to `host_id`.
    pub fn with_host_id(self, host_id: &'a str) -> ErrorBody<'a> {
        ErrorBody { host_id, ..self }
    }

    /// The error `Code` (`BadRequest`, `AccessForbidden`).
    pub fn code(&self) -> &'static str {
        self.refusal.code()
    }

    /// The error `Message`, verbatim as the dialect writes it.
    pub fn message(&self) -> &'static str {
        self.refusal.message(self.dialect)
    }

    /// Writes the body into `out` without allocating.
    pub fn write_to<W: fmt::Write + ?Sized>(&self, out: &mut W) -> fmt::Result {
        out.write_str("<Error><Code>")?;
        out.write_str(self.code())?;
        out.write_str("</Code><Message>")?;
        out.write_str(self.message())?;
        out.write_str("</Message>")?;
        if self.dialect == Dialect::S3 && self.refusal != Refusal::MissingOrigin {
            out.write_str("<Method>")?;
            write_escaped(out, self.method)?;
            out.write_str("</Method><ResourceType>")?;
            out.write_str(match self.resource {
                ResourceType::Object => "OBJECT",
                ResourceType::Bucket => "BUCKET",
            })?;
            out.write_str("</ResourceType>")?;
        }
        out.write_str("<RequestId>")?;
        write_escaped(out, self.request_id)?;
        out.write_str("</RequestId><HostId>")?;
        write_escaped(out, self.host_id)?;
        out.write_str("</HostId>")?;
        if self.dialect == Dialect::Oss {
            out.write_str("<EC>")?;
            out.write_str(self.refusal.oss_ec())?;
            out.write_str("</EC>")?;
        }
        out.write_str("</Error>")
    }
}

impl fmt::Display for ErrorBody<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_to(f)
    }
}

/// Writes `s` with the five XML special characters escaped.
fn write_escaped<W: fmt::Write + ?Sized>(out: &mut W, s: &str) -> fmt::Result {
    let mut rest = s;
    while let Some(at) = rest.find(['&', '<', '>', '"', '\'']) {
        out.write_str(&rest[..at])?;
        out.write_str(match rest.as_bytes()[at] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            _ => "&apos;",
        })?;
        rest = &rest[at + 1..];
    }
    out.write_str(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_request_values() {
        let mut s = String::new();
        write_escaped(&mut s, "a<b>&\"c'").unwrap();
        assert_eq!(s, "a&lt;b&gt;&amp;&quot;c&apos;");
    }
}
