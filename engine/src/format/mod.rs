//! Reading and writing CORS configurations in the formats people and
//! providers use.
//!
//! | [`Format`]        | Shape                                                        | Rule ID | ResponseVary |
//! |-------------------|--------------------------------------------------------------|---------|--------------|
//! | [`Format::OssXml`] | OSS PutBucketCors body, `<CORSConfiguration>` without namespace | no      | yes          |
//! | [`Format::S3Xml`]  | S3 PutBucketCors body, S3 `xmlns`                             | yes     | no           |
//! | [`Format::S3Json`] | AWS CLI `{"CORSRules": [...]}`                                | yes     | no           |
//! | [`Format::Yaml`]   | BucketCors spec shape (`rules`, `responseVary`), camelCase    | yes     | yes          |
//! | [`Format::Json`]   | the same as JSON                                              | yes     | yes          |
//!
//! ## Design
//!
//! Every format maps onto the one [`CorsConfig`] model, and each parser is
//! strict about shape (unknown elements and fields are errors, so a typo such
//! as `AllowedOrigins` in XML is caught rather than silently ignored) but
//! never judges values: `DELETE2` or an origin with a path parse fine and are
//! left to [`crate::validate()`], which can name the rule and field and say what
//! to do. Values are kept byte for byte (no trimming), so that printing and
//! parsing again gives back the same configuration: every format round-trips
//! what it can hold.
//!
//! What a format cannot hold (a rule ID in OSS XML, `ResponseVary` in the S3
//! formats, a NUL character in XML) is not dropped silently: [`losses`] lists
//! it before [`print()`] is called, so `bucketcors convert` can refuse.
//!
//! Parsing is not on any hot path, but it reads user files and provider
//! responses, so it must never panic: the XML reader is a flat state machine
//! (the expected document is three levels deep, so nothing recurses), and
//! the JSON and YAML readers keep their libraries' recursion limits. Work is
//! bounded too: documents over [`MAX_DOCUMENT_BYTES`] are refused, and so is
//! YAML nested more than 64 brackets deep, whose scanning time grows with
//! the square of the depth. The `fuzz/` targets at the workspace root
//! exercise every parser.
//!
//! Besides the spec shape, the YAML and JSON readers accept a whole
//! `BucketCors` manifest (`kind: BucketCors`, rules under `spec`), because
//! that is what users have at hand; [`parse_document`] also reports the
//! manifest's `spec.backend.provider` as the document's [`Dialect`].
//!
//! The parsers and [`print()`] need the crate's `formats` feature (on by
//! default; it brings quick-xml and serde_norway). Without it, which is how the
//! edge worker builds, this module keeps [`Format`], [`losses`] and
//! [`print_provider_xml`], which validation uses for the providers' size
//! limits.

#[cfg(feature = "formats")]
mod detect;
#[cfg(feature = "formats")]
mod error;
#[cfg(feature = "formats")]
mod oss_xml;
#[cfg(feature = "formats")]
mod s3_json;
#[cfg(feature = "formats")]
mod s3_xml;
#[cfg(feature = "formats")]
mod spec;
#[cfg(feature = "formats")]
mod xml;
mod xml_write;
#[cfg(feature = "formats")]
mod yaml_depth;

#[cfg(feature = "formats")]
pub use detect::detect;
#[cfg(feature = "formats")]
pub use error::ParseError;

use crate::model::{CorsConfig, Dialect};

/// A file format for CORS configurations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Alibaba Cloud OSS PutBucketCors XML (with `ResponseVary`, no rule ID).
    OssXml,
    /// S3 PutBucketCors XML (with rule `ID`, no `ResponseVary`).
    S3Xml,
    /// S3 JSON in the AWS CLI shape: `{"CORSRules": [{"AllowedOrigins": ...}]}`.
    S3Json,
    /// YAML in the BucketCors spec shape (`rules`, `responseVary`); also
    /// reads a whole `BucketCors` manifest.
    Yaml,
    /// JSON in the BucketCors spec shape; also reads a whole manifest.
    Json,
}

impl Format {
    /// Every format, in the order the command line lists them.
    pub const ALL: [Format; 5] = [
        Format::OssXml,
        Format::S3Xml,
        Format::S3Json,
        Format::Yaml,
        Format::Json,
    ];

    /// The name used on the command line (`oss-xml`, `s3-xml`, `s3-json`,
    /// `yaml`, `json`).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::OssXml => "oss-xml",
            Format::S3Xml => "s3-xml",
            Format::S3Json => "s3-json",
            Format::Yaml => "yaml",
            Format::Json => "json",
        }
    }

    /// A name for people, used in error messages (`OSS XML`).
    pub fn description(self) -> &'static str {
        match self {
            Format::OssXml => "OSS XML",
            Format::S3Xml => "S3 XML",
            Format::S3Json => "S3 JSON",
            Format::Yaml => "YAML",
            Format::Json => "JSON",
        }
    }

    /// The dialect a document in this format is written for, when the format
    /// alone says so (the XML and S3 JSON shapes belong to one provider; the
    /// spec shape serves both).
    pub fn dialect(self) -> Option<Dialect> {
        match self {
            Format::OssXml => Some(Dialect::Oss),
            Format::S3Xml | Format::S3Json => Some(Dialect::S3),
            Format::Yaml | Format::Json => None,
        }
    }

    /// Whether the format has a place for rule IDs.
    pub fn holds_rule_ids(self) -> bool {
        self != Format::OssXml
    }

    /// Whether the format has a place for `ResponseVary`.
    pub fn holds_response_vary(self) -> bool {
        matches!(self, Format::OssXml | Format::Yaml | Format::Json)
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown format name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown format `{0}`: expected one of oss-xml, s3-xml, s3-json, yaml, json")]
pub struct UnknownFormat(pub String);

impl std::str::FromStr for Format {
    type Err = UnknownFormat;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownFormat(s.to_owned()))
    }
}

#[cfg(feature = "formats")]
/// A parsed document: the configuration, the format it was written in and
/// the dialect the document itself names, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The configuration.
    pub config: CorsConfig,
    /// The format it was read as.
    pub format: Format,
    /// The dialect the document names: a manifest's `spec.backend.provider`,
    /// or an XML document that can only be one provider's (S3's namespace or
    /// an `<ID>`; OSS's `<ResponseVary>`). `None` when the document leaves it
    /// open, as the spec shape and a bare `<CORSConfiguration>` do.
    pub dialect: Option<Dialect>,
    /// The store a manifest names: `spec.backend.flavor`, else the one its
    /// provider and endpoint suggest ([`crate::Target::default_for`]).
    /// `None` for every other document.
    pub target: Option<crate::target::Target>,
}

#[cfg(feature = "formats")]
/// Parses `text` as `format`.
///
/// # Errors
/// A [`ParseError`] naming the line/column or field path and what was
/// expected there. Values are not judged here; see [`crate::validate()`].
pub fn parse(text: &str, format: Format) -> Result<CorsConfig, ParseError> {
    parse_as(text, format).map(|doc| doc.config)
}

#[cfg(feature = "formats")]
/// Detects the format of `text` and parses it.
///
/// # Errors
/// When the format cannot be told, or as [`parse`].
pub fn parse_any(text: &str) -> Result<(CorsConfig, Format), ParseError> {
    parse_document(text).map(|doc| (doc.config, doc.format))
}

#[cfg(feature = "formats")]
/// Detects the format of `text`, parses it, and reports the dialect the
/// document names (see [`Document::dialect`]).
///
/// # Errors
/// When the format cannot be told, or as [`parse`].
pub fn parse_document(text: &str) -> Result<Document, ParseError> {
    let format = detect(text).ok_or_else(|| {
        ParseError::new(
            None,
            "cannot tell the format: expected XML (<CORSConfiguration>), S3 JSON \
             ({\"CORSRules\": [...]}), or YAML/JSON with `rules` or a BucketCors manifest",
        )
    })?;
    parse_as(text, format)
}

#[cfg(feature = "formats")]
/// The largest document any parser reads. Providers take at most 64 KB
/// (S3) and 16 KB (OSS) of XML; this leaves room for manifests with
/// comments and many documents while bounding the work a hostile file can
/// cause.
pub const MAX_DOCUMENT_BYTES: usize = 4 * 1024 * 1024;

#[cfg(feature = "formats")]
fn parse_as(text: &str, format: Format) -> Result<Document, ParseError> {
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(ParseError::new(
            Some(format),
            format!(
                "the document is {} bytes; bucketcors reads at most {MAX_DOCUMENT_BYTES} bytes \
                 (providers accept 16 KB for OSS and 64 KB for S3)",
                text.len()
            ),
        ));
    }
    match format {
        Format::OssXml => oss_xml::parse(text),
        Format::S3Xml => s3_xml::parse(text),
        Format::S3Json => s3_json::parse(text).map(|config| Document {
            config,
            format,
            dialect: Some(Dialect::S3),
            target: None,
        }),
        Format::Yaml | Format::Json => spec::parse(text, format),
    }
}

#[cfg(feature = "formats")]
/// Prints `config` as `format`.
///
/// What the format cannot hold (see [`losses`]) is left out; everything else
/// reads back identically with [`parse`].
pub fn print(config: &CorsConfig, format: Format) -> String {
    match format {
        Format::OssXml => oss_xml::print(config),
        Format::S3Xml => s3_xml::print(config),
        Format::S3Json => s3_json::print(config),
        Format::Yaml => spec::print_yaml(config),
        Format::Json => spec::print_json(config),
    }
}

/// Prints `config` as `dialect`'s own XML document: exactly the body of the
/// provider's PutBucketCors. Unlike [`print()`] it names no other format, so a
/// caller that only needs the provider document (validation's size limit, on
/// the edge too) does not link the YAML and JSON printers.
pub fn print_provider_xml(config: &CorsConfig, dialect: Dialect) -> String {
    let format = match dialect {
        Dialect::Oss => Format::OssXml,
        Dialect::S3 => Format::S3Xml,
    };
    xml_write::write(config, format)
}

/// Something in a configuration that a format has no place for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loss {
    /// A rule's ID (OSS XML has none).
    RuleId {
        /// Zero-based rule position.
        index: usize,
        /// The ID that would be lost.
        id: String,
    },
    /// `responseVary: true` (the S3 formats have no such setting).
    ResponseVary,
    /// A value with a NUL character, which XML cannot carry in any form.
    NulCharacter {
        /// Zero-based rule position.
        index: usize,
        /// The field, in spec terms (`allowedOrigins[0]`).
        field: String,
    },
}

impl std::fmt::Display for Loss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Loss::RuleId { index, id } => write!(
                f,
                "rule {index} has id `{id}`, but OSS XML has no place for rule IDs"
            ),
            Loss::ResponseVary => f.write_str(
                "responseVary is true, but the S3 formats have no place for it (only OSS has it)",
            ),
            Loss::NulCharacter { index, field } => write!(
                f,
                "rule {index} {field} contains a NUL character, which XML cannot carry"
            ),
        }
    }
}

/// What printing `config` as `format` would leave out; empty when the
/// conversion is lossless.
pub fn losses(config: &CorsConfig, format: Format) -> Vec<Loss> {
    let mut out = Vec::new();
    if !format.holds_rule_ids() {
        for (index, rule) in config.rules.iter().enumerate() {
            if let Some(id) = &rule.id {
                out.push(Loss::RuleId {
                    index,
                    id: id.clone(),
                });
            }
        }
    }
    if config.response_vary && !format.holds_response_vary() {
        out.push(Loss::ResponseVary);
    }
    if matches!(format, Format::OssXml | Format::S3Xml) {
        for (index, rule) in config.rules.iter().enumerate() {
            let lists = [
                ("allowedOrigins", &rule.allowed_origins),
                ("allowedMethods", &rule.allowed_methods),
                ("allowedHeaders", &rule.allowed_headers),
                ("exposeHeaders", &rule.expose_headers),
            ];
            for (name, values) in lists {
                for (i, value) in values.iter().enumerate() {
                    if value.contains('\0') {
                        out.push(Loss::NulCharacter {
                            index,
                            field: format!("{name}[{i}]"),
                        });
                    }
                }
            }
            let id_has_nul = rule.id.as_deref().is_some_and(|id| id.contains('\0'));
            if id_has_nul && format.holds_rule_ids() {
                out.push(Loss::NulCharacter {
                    index,
                    field: "id".to_owned(),
                });
            }
        }
    }
    out
}

/// What `config` becomes after a trip through `format`: [`losses`] removed.
/// `parse(&print(c, f), f) == Ok(lossy(c, f))` for every configuration.
pub fn lossy(config: &CorsConfig, format: Format) -> CorsConfig {
    let mut out = config.clone();
    if !format.holds_rule_ids() {
        for rule in &mut out.rules {
            rule.id = None;
        }
    }
    if !format.holds_response_vary() {
        out.response_vary = false;
    }
    if matches!(format, Format::OssXml | Format::S3Xml) {
        for rule in &mut out.rules {
            for values in [
                &mut rule.allowed_origins,
                &mut rule.allowed_methods,
                &mut rule.allowed_headers,
                &mut rule.expose_headers,
            ] {
                for value in values.iter_mut() {
                    value.retain(|c| c != '\0');
                }
            }
            if let Some(id) = &mut rule.id {
                id.retain(|c| c != '\0');
            }
        }
    }
    out
}
