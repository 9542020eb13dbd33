//! YAML and JSON in the BucketCors spec shape, and whole `BucketCors`
//! manifests.
//!
//! ```yaml
//! rules:
//!   - id: app
//!     allowedOrigins: ["https://app.example.com"]
//!     allowedMethods: [GET, HEAD]
//!     maxAgeSeconds: 600
//! responseVary: true
//! ```
//!
//! The field names are the model's own ([`CorsConfig`], camelCase), and
//! unknown fields are errors. A document with `kind` (or `apiVersion`, or
//! `spec`) at the top is read as a manifest instead: `spec.rules` and
//! `spec.responseVary` are the configuration, `spec.backend.provider` names
//! the dialect, `spec.backend.flavor` (else provider and endpoint) the
//! [`Target`] store, and the rest of the spec (backend, edge, ...) belongs to the
//! operator and is not judged here. A YAML file may hold several documents
//! (`---`), as manifests often do; exactly one of them must be a
//! `BucketCors`.
//!
//! Each document is read twice: once as an untyped value, to see which shape
//! it has, and then typed, so that errors carry both the line and the field
//! path.

use serde::Deserialize;

use super::error::{from_json, from_json_at, from_yaml};
use super::yaml_depth::{MAX_FLOW_DEPTH, too_deep_at};
use super::{Document, Format, ParseError};
use crate::model::{CorsConfig, Dialect, Rule};
use crate::target::Target;

/// The parts of a `BucketCors` manifest this module reads.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    #[serde(default)]
    api_version: Option<String>,
    kind: String,
    spec: ManifestSpec,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ManifestSpec {
    #[serde(default)]
    backend: Option<ManifestBackend>,
    rules: Vec<Rule>,
    #[serde(default)]
    response_vary: Option<bool>,
}

#[derive(Deserialize)]
struct ManifestBackend {
    #[serde(default)]
    provider: Option<String>,
    #[serde(default)]
    endpoint: Option<String>,
    #[serde(default)]
    flavor: Option<String>,
}

/// The API group manifests must belong to.
const API_GROUP: &str = "bucketcors.dev/";

/// Which shape a document has, judged from its top-level keys.
enum Shape {
    Spec,
    Manifest,
    /// A manifest of another kind (in a multi-document file).
    Other(String),
}

fn shape_of_yaml(value: &serde_norway::Value) -> Option<Shape> {
    let map = value.as_mapping()?;
    Some(
        if map.contains_key("kind") || map.contains_key("apiVersion") || map.contains_key("spec") {
            match map.get("kind").and_then(serde_norway::Value::as_str) {
                Some("BucketCors") | None => Shape::Manifest,
                Some(other) => Shape::Other(other.to_owned()),
            }
        } else {
            Shape::Spec
        },
    )
}

fn shape_of_json(value: &serde_json::Value) -> Option<Shape> {
    let map = value.as_object()?;
    Some(
        if map.contains_key("kind") || map.contains_key("apiVersion") || map.contains_key("spec") {
            match map.get("kind").and_then(serde_json::Value::as_str) {
                Some("BucketCors") | None => Shape::Manifest,
                Some(other) => Shape::Other(other.to_owned()),
            }
        } else {
            Shape::Spec
        },
    )
}

const EXPECTED: &str =
    "expected a mapping with `rules` (the BucketCors spec shape) or a BucketCors manifest";

/// Parses YAML or JSON in the spec shape or as a manifest.
pub(super) fn parse(text: &str, format: Format) -> Result<Document, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match format {
        Format::Json => parse_json(text),
        _ => parse_yaml(text),
    }
}

fn parse_json(text: &str) -> Result<Document, ParseError> {
    let format = Format::Json;
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| from_json_at(format, String::new(), e))?;
    let shape = shape_of_json(&value).ok_or_else(|| ParseError::new(Some(format), EXPECTED))?;
    let mut de = serde_json::Deserializer::from_str(text);
    match shape {
        Shape::Spec => {
            let config: CorsConfig =
                serde_path_to_error::deserialize(&mut de).map_err(|e| from_json(format, e))?;
            Ok(Document {
                config,
                format,
                dialect: None,
                target: None,
            })
        }
        Shape::Manifest => {
            let manifest: Manifest =
                serde_path_to_error::deserialize(&mut de).map_err(|e| from_json(format, e))?;
            from_manifest(manifest, format)
        }
        Shape::Other(kind) => Err(not_bucket_cors(format, &kind)),
    }
}

/// Refuses YAML nested deeper than the flow-depth bound (see
/// [`super::yaml_depth`]).
fn check_flow_depth(text: &str) -> Result<(), ParseError> {
    match too_deep_at(text) {
        None => Ok(()),
        Some(offset) => Err(ParseError::new(
            Some(Format::Yaml),
            format!(
                "brackets nested more than {MAX_FLOW_DEPTH} deep; expected a configuration \
                 (a few levels)"
            ),
        )
        .at_offset(text, offset)),
    }
}

fn parse_yaml(text: &str) -> Result<Document, ParseError> {
    let format = Format::Yaml;
    check_flow_depth(text)?;
    // First pass: the shape of every document, skipping empty ones.
    let mut shapes = Vec::new();
    for (index, de) in serde_norway::Deserializer::from_str(text).enumerate() {
        let value =
            serde_norway::Value::deserialize(de).map_err(|e| from_yaml(format, None, &e))?;
        if value.is_null() {
            continue;
        }
        let shape = shape_of_yaml(&value).ok_or_else(|| ParseError::new(Some(format), EXPECTED))?;
        shapes.push((index, shape));
    }
    let chosen = match shapes.as_slice() {
        [] => {
            return Err(ParseError::new(
                Some(format),
                format!("the document is empty; {EXPECTED}"),
            ));
        }
        [(index, Shape::Spec | Shape::Manifest)] => *index,
        [(_, Shape::Other(kind))] => return Err(not_bucket_cors(format, kind)),
        many => {
            let manifests: Vec<usize> = many
                .iter()
                .filter(|(_, s)| matches!(s, Shape::Manifest))
                .map(|(i, _)| *i)
                .collect();
            match manifests.as_slice() {
                [index] => *index,
                [] => {
                    return Err(ParseError::new(
                        Some(format),
                        format!(
                            "{} YAML documents and none is a BucketCors manifest; \
                             expected one configuration per file",
                            many.len()
                        ),
                    ));
                }
                several => {
                    return Err(ParseError::new(
                        Some(format),
                        format!(
                            "{} BucketCors manifests in one file; expected one per file",
                            several.len()
                        ),
                    ));
                }
            }
        }
    };
    let is_manifest = shapes
        .iter()
        .any(|(i, s)| *i == chosen && matches!(s, Shape::Manifest));

    // Second pass: the chosen document, typed.
    let Some(de) = serde_norway::Deserializer::from_str(text).nth(chosen) else {
        return Err(ParseError::new(Some(format), EXPECTED));
    };
    let typed_error = |e: serde_path_to_error::Error<serde_norway::Error>| {
        let path = e.path().to_string();
        from_yaml(format, Some(path), e.inner())
    };
    if is_manifest {
        let manifest: Manifest = serde_path_to_error::deserialize(de).map_err(typed_error)?;
        from_manifest(manifest, format)
    } else {
        let config: CorsConfig = serde_path_to_error::deserialize(de).map_err(typed_error)?;
        Ok(Document {
            config,
            format,
            dialect: None,
            target: None,
        })
    }
}

fn not_bucket_cors(format: Format, kind: &str) -> ParseError {
    ParseError::new(
        Some(format),
        format!("this is a `{kind}` manifest; expected kind BucketCors"),
    )
    .at_path("kind")
}

fn from_manifest(manifest: Manifest, format: Format) -> Result<Document, ParseError> {
    if manifest.kind != "BucketCors" {
        return Err(not_bucket_cors(format, &manifest.kind));
    }
    if let Some(api_version) = &manifest.api_version
        && !api_version.starts_with(API_GROUP)
    {
        return Err(ParseError::new(
            Some(format),
            format!(
                "apiVersion `{api_version}` is not bucketcors.dev; expected bucketcors.dev/v1alpha1"
            ),
        )
        .at_path("apiVersion"));
    }
    let (provider, endpoint, flavor) = match manifest.spec.backend {
        Some(b) => (b.provider, b.endpoint, b.flavor),
        None => (None, None, None),
    };
    let dialect = match provider.as_deref() {
        None => None,
        Some(name) => Some(name.parse::<Dialect>().map_err(|_| {
            ParseError::new(
                Some(format),
                format!("unknown provider `{name}`; expected oss or s3"),
            )
            .at_path("spec.backend.provider")
        })?),
    };
    let target = match flavor.as_deref() {
        Some(name) => Some(name.parse::<Target>().map_err(|message| {
            ParseError::new(Some(format), message).at_path("spec.backend.flavor")
        })?),
        None => dialect.map(|d| Target::default_for(d, endpoint.as_deref())),
    };
    Ok(Document {
        target,
        config: CorsConfig {
            rules: manifest.spec.rules,
            response_vary: manifest.spec.response_vary.unwrap_or(false),
        },
        format,
        dialect,
    })
}

/// Prints the spec shape as YAML.
pub(super) fn print_yaml(config: &CorsConfig) -> String {
    // The model is plain strings, integers and booleans: serializing it
    // cannot fail.
    serde_norway::to_string(config).unwrap_or_default()
}

/// Prints the spec shape as JSON.
pub(super) fn print_json(config: &CorsConfig) -> String {
    let mut out = serde_json::to_string_pretty(config).unwrap_or_default();
    out.push('\n');
    out
}
