//! S3 JSON in the AWS CLI shape, as `aws s3api get-bucket-cors` prints it
//! and `put-bucket-cors --cors-configuration file://...` reads it:
//!
//! ```json
//! {"CORSRules": [{"ID": "app", "AllowedOrigins": ["https://app.example.com"],
//!                 "AllowedMethods": ["GET"], "MaxAgeSeconds": 3000}]}
//! ```
//!
//! The `--cli-input-json` shape (`{"Bucket": ..., "CORSConfiguration":
//! {"CORSRules": ...}}`) is read too. `AllowedOrigins` and `AllowedMethods`
//! are required, as AWS requires them; the other fields are optional.
//! There is no `ResponseVary`.

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use super::error::from_json;
use super::{Format, ParseError};
use crate::model::{CorsConfig, Rule};

/// The top level: either shape.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Top {
    #[serde(rename = "CORSRules")]
    rules: Option<Vec<JsonRule>>,
    #[serde(rename = "CORSConfiguration")]
    configuration: Option<Configuration>,
    // The rest of `put-bucket-cors --cli-input-json`: not part of the
    // configuration.
    #[serde(rename = "Bucket")]
    _bucket: Option<IgnoredAny>,
    #[serde(rename = "ExpectedBucketOwner")]
    _owner: Option<IgnoredAny>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Configuration {
    #[serde(rename = "CORSRules")]
    rules: Vec<JsonRule>,
}

/// One rule, fields in the order the AWS CLI prints them.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct JsonRule {
    #[serde(rename = "ID", default, skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    allowed_headers: Vec<String>,
    allowed_methods: Vec<String>,
    allowed_origins: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    expose_headers: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_age_seconds: Option<u64>,
}

impl From<JsonRule> for Rule {
    fn from(r: JsonRule) -> Rule {
        Rule {
            id: r.id,
            allowed_origins: r.allowed_origins,
            allowed_methods: r.allowed_methods,
            allowed_headers: r.allowed_headers,
            expose_headers: r.expose_headers,
            max_age_seconds: r.max_age_seconds,
        }
    }
}

impl From<&Rule> for JsonRule {
    fn from(r: &Rule) -> JsonRule {
        JsonRule {
            id: r.id.clone(),
            allowed_origins: r.allowed_origins.clone(),
            allowed_methods: r.allowed_methods.clone(),
            allowed_headers: r.allowed_headers.clone(),
            expose_headers: r.expose_headers.clone(),
            max_age_seconds: r.max_age_seconds,
        }
    }
}

/// Parses an S3 JSON document.
pub(super) fn parse(text: &str) -> Result<CorsConfig, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut de = serde_json::Deserializer::from_str(text);
    let top: Top =
        serde_path_to_error::deserialize(&mut de).map_err(|e| from_json(Format::S3Json, e))?;
    de.end().map_err(|e| {
        ParseError::new(
            Some(Format::S3Json),
            "unexpected content after the JSON object",
        )
        .at_line_column(e.line(), e.column())
    })?;
    let rules = match (top.rules, top.configuration) {
        (Some(rules), None) => rules,
        (None, Some(configuration)) => configuration.rules,
        (Some(_), Some(_)) => {
            return Err(ParseError::new(
                Some(Format::S3Json),
                "both `CORSRules` and `CORSConfiguration` at the top; expected one of them",
            ));
        }
        (None, None) => {
            return Err(ParseError::new(
                Some(Format::S3Json),
                "missing `CORSRules`; expected {\"CORSRules\": [...]}",
            ));
        }
    };
    Ok(CorsConfig {
        rules: rules.into_iter().map(Rule::from).collect(),
        response_vary: false,
    })
}

/// Prints `config` as S3 JSON; `responseVary` is left out.
pub(super) fn print(config: &CorsConfig) -> String {
    let doc = Configuration {
        rules: config.rules.iter().map(JsonRule::from).collect(),
    };
    // Serializing plain strings and integers cannot fail.
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_default();
    out.push('\n');
    out
}
