//! S3 XML: the body of S3's PutBucketCors and GetBucketCors.
//!
//! ```xml
//! <CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
//!   <CORSRule>
//!     <ID>app</ID>
//!     <AllowedOrigin>https://app.example.com</AllowedOrigin>
//!     <AllowedMethod>GET</AllowedMethod>
//!   </CORSRule>
//! </CORSConfiguration>
//! ```
//!
//! The namespace is optional on input (S3-compatible stores and many
//! examples omit it) and always written on output. There is no
//! `ResponseVary`: reading one is an error pointing at OSS XML.

use super::{Document, Format, ParseError, xml, xml_write};
use crate::model::{CorsConfig, Dialect};

/// Parses an S3 XML document.
pub(super) fn parse(text: &str) -> Result<Document, ParseError> {
    let doc = xml::read(text, Format::S3Xml)?;
    Ok(Document {
        config: doc.config,
        format: Format::S3Xml,
        // S3's namespace or a rule ID can only be S3's; a bare document
        // could be either provider's.
        dialect: (doc.s3_namespace || doc.has_rule_id).then_some(Dialect::S3),
        target: None,
    })
}

/// Prints `config` as S3 XML; `responseVary` is left out.
pub(super) fn print(config: &CorsConfig) -> String {
    xml_write::write(config, Format::S3Xml)
}
