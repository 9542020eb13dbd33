//! OSS XML: the body of Alibaba Cloud OSS's PutBucketCors and
//! GetBucketCors.
//!
//! ```xml
//! <CORSConfiguration>
//!   <CORSRule>
//!     <AllowedOrigin>https://app.example.com</AllowedOrigin>
//!     <AllowedMethod>GET</AllowedMethod>
//!     <MaxAgeSeconds>600</MaxAgeSeconds>
//!   </CORSRule>
//!   <ResponseVary>false</ResponseVary>
//! </CORSConfiguration>
//! ```
//!
//! No namespace and no rule ID; `ResponseVary` sits on the configuration,
//! after the rules. OSS answers every GetBucketCors with `ResponseVary`, so
//! printing always writes it (which also makes printed documents
//! unmistakably OSS for [`super::detect`]).

use super::{Document, Format, ParseError, xml, xml_write};
use crate::model::{CorsConfig, Dialect};

/// Parses an OSS XML document.
pub(super) fn parse(text: &str) -> Result<Document, ParseError> {
    let doc = xml::read(text, Format::OssXml)?;
    Ok(Document {
        config: doc.config,
        format: Format::OssXml,
        // Only `<ResponseVary>` is OSS's own; a bare document could be
        // either provider's.
        dialect: doc.has_response_vary.then_some(Dialect::Oss),
        target: None,
    })
}

/// Prints `config` as OSS XML; rule IDs are left out.
pub(super) fn print(config: &CorsConfig) -> String {
    xml_write::write(config, Format::OssXml)
}
