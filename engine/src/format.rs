//! Parsing and printing. API contract (issue 2 fills the bodies):
//!
//! ```ignore
//! pub enum Format { OssXml, S3Xml, S3Json, Yaml, Json /* BucketCors spec shape */ }
//! pub fn detect(text: &str) -> Option<Format>;
//! pub fn parse(text: &str, format: Format) -> Result<CorsConfig, ParseError>; // error says where and what was expected
//! pub fn parse_any(text: &str) -> Result<(CorsConfig, Format), ParseError>;
//! pub fn print(config: &CorsConfig, format: Format) -> String;
//! ```
