//! Offline admission: what the API server would say about a manifest.
//!
//! [`validate_manifest`] checks a `BucketCors` manifest against the schema
//! generated from the Rust types, in the order the API server does: the
//! structural OpenAPI checks first (types, required fields, unknown fields
//! under strict field validation, enums, limits, patterns, list types), then,
//! when the structure holds, every CEL `x-kubernetes-validations` rule through
//! `kube-cel`. No cluster is needed, so the tests and the Helm chart's example
//! checks can prove that `kubectl apply` would accept or refuse a manifest.
//!
//! Only the OpenAPI keywords the generated schema uses are implemented; an
//! unknown keyword in the schema is a bug here, caught by the CRD tests
//! (see [`KNOWN_KEYWORDS`]).

use super::BucketCors;
use kube::core::cel::Validator;
use kube::{CustomResourceExt, Resource};
use serde_json::Value;
use std::collections::HashSet;

/// Schema keywords this validator understands. Anything else in the
/// generated schema would be silently ignored, so the tests assert that the
/// schema uses no other keyword.
pub const KNOWN_KEYWORDS: &[&str] = &[
    "type",
    "description",
    "title",
    "properties",
    "required",
    "items",
    "additionalProperties",
    "enum",
    "format",
    "default",
    "nullable",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "pattern",
    "x-kubernetes-validations",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-preserve-unknown-fields",
];

/// The `openAPIV3Schema` of the generated CRD, as JSON.
pub fn openapi_schema() -> Value {
    let crd = BucketCors::crd();
    let schema = crd.spec.versions[0]
        .schema
        .as_ref()
        .and_then(|s| s.open_api_v3_schema.as_ref())
        .expect("the derived CRD has an openAPIV3Schema");
    serde_json::to_value(schema).expect("a schema serializes to JSON")
}

/// Validates one `BucketCors` manifest (already parsed from YAML or JSON) as
/// the API server would on create. Returns every problem found, each naming
/// the field and the reason; an empty list means the manifest is accepted.
pub fn validate_manifest(manifest: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    let api_version = format!("{}/{}", BucketCors::group(&()), BucketCors::version(&()));
    match manifest.get("apiVersion").and_then(Value::as_str) {
        Some(v) if v == api_version => {}
        other => errors.push(format!(
            "apiVersion: must be \"{api_version}\", found {}",
            describe(other)
        )),
    }
    match manifest.get("kind").and_then(Value::as_str) {
        Some("BucketCors") => {}
        other => errors.push(format!(
            "kind: must be \"BucketCors\", found {}",
            describe(other)
        )),
    }
    check_metadata(manifest.get("metadata"), &mut errors);
    if !errors.is_empty() {
        return errors;
    }

    let schema = openapi_schema();
    structural(&schema, manifest, "", &mut errors);
    if !errors.is_empty() {
        // The API server evaluates CEL only on structurally valid objects.
        return errors;
    }
    if let Err(failures) = Validator::new().validate(&schema, manifest, None) {
        for failure in failures.iter() {
            errors.push(failure.to_string());
        }
    }
    errors
}

fn describe(value: Option<&str>) -> String {
    match value {
        Some(v) => format!("\"{v}\""),
        None => "nothing".to_string(),
    }
}

fn check_metadata(metadata: Option<&Value>, errors: &mut Vec<String>) {
    let Some(name) = metadata.and_then(|m| m.get("name")).and_then(Value::as_str) else {
        errors.push("metadata.name: Required value: name the resource".to_string());
        return;
    };
    let valid = !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name.as_bytes()[name.len() - 1].is_ascii_alphanumeric();
    if !valid {
        errors.push(format!(
            "metadata.name: Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
        ));
    }
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_string()
    } else {
        format!("{path}.{field}")
    }
}

fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => format!("\"{s}\""),
        other => other.to_string(),
    }
}

/// The OpenAPI structural checks, recursively. `path` is the field path in
/// the API server's notation (`spec.rules[0].allowedMethods[1]`).
fn structural(schema: &Value, value: &Value, path: &str, errors: &mut Vec<String>) {
    let at = if path.is_empty() { "<root>" } else { path };
    if value.is_null() {
        if schema.get("nullable").and_then(Value::as_bool) != Some(true) {
            errors.push(format!("{at}: Invalid value: \"null\": must not be null"));
        }
        return;
    }
    if let Some(ty) = schema.get("type").and_then(Value::as_str) {
        let ok = match ty {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "boolean" => value.is_boolean(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            _ => true,
        };
        if !ok {
            errors.push(format!(
                "{at}: Invalid value: {}: must be of type {ty}",
                shown(value)
            ));
            return;
        }
    }

    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        let list: Vec<String> = allowed.iter().map(shown).collect();
        errors.push(format!(
            "{at}: Unsupported value: {}: supported values: {}",
            shown(value),
            list.join(", ")
        ));
    }

    match value {
        Value::Object(map) => {
            let props = schema.get("properties").and_then(Value::as_object);
            let preserve = schema
                .get("x-kubernetes-preserve-unknown-fields")
                .and_then(Value::as_bool)
                == Some(true);
            let additional = schema.get("additionalProperties");
            if let Some(required) = schema.get("required").and_then(Value::as_array) {
                for field in required.iter().filter_map(Value::as_str) {
                    if !map.contains_key(field) {
                        errors.push(format!("{}: Required value", join(path, field)));
                    }
                }
            }
            for (key, child) in map {
                let child_path = join(path, key);
                if let Some(sub) = props.and_then(|p| p.get(key)) {
                    structural(sub, child, &child_path, errors);
                } else if let Some(sub) = additional.filter(|a| a.is_object()) {
                    structural(sub, child, &child_path, errors);
                } else if path.is_empty()
                    && matches!(key.as_str(), "apiVersion" | "kind" | "metadata")
                {
                    // Implicit in every CRD schema; checked above.
                } else if !preserve && additional != Some(&Value::Bool(true)) {
                    errors.push(format!(
                        "{child_path}: unknown field \"{key}\": remove it or check its spelling"
                    ));
                }
            }
        }
        Value::Array(items) => {
            let len = items.len() as u64;
            if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
                && len < min
            {
                errors.push(format!(
                    "{at}: Invalid value: {len}: must have at least {min} items"
                ));
            }
            if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
                && len > max
            {
                errors.push(format!(
                    "{at}: Too many: {len}: must have at most {max} items"
                ));
            }
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    structural(item_schema, item, &format!("{path}[{i}]"), errors);
                }
            }
            check_list_type(schema, items, at, errors);
        }
        Value::String(s) => {
            let len = s.chars().count() as u64;
            if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
                && len < min
            {
                errors.push(format!(
                    "{at}: Invalid value: \"{s}\": must be at least {min} chars long"
                ));
            }
            if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
                && len > max
            {
                errors.push(format!("{at}: Too long: may not be more than {max} bytes"));
            }
            if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
                match regex::Regex::new(pattern) {
                    Ok(re) if !re.is_match(s) => errors.push(format!(
                        "{at}: Invalid value: {}: should match '{pattern}'",
                        shown(value)
                    )),
                    Ok(_) => {}
                    Err(e) => errors.push(format!("{at}: schema pattern does not compile: {e}")),
                }
            }
        }
        Value::Number(n) => {
            if let (Some(min), Some(v)) =
                (schema.get("minimum").and_then(Value::as_f64), n.as_f64())
                && v < min
            {
                errors.push(format!(
                    "{at}: Invalid value: {n}: should be greater than or equal to {min}"
                ));
            }
            if let (Some(max), Some(v)) =
                (schema.get("maximum").and_then(Value::as_f64), n.as_f64())
                && v > max
            {
                errors.push(format!(
                    "{at}: Invalid value: {n}: should be less than or equal to {max}"
                ));
            }
        }
        _ => {}
    }
}

/// `x-kubernetes-list-type: set` forbids duplicate items; `map` forbids two
/// items with the same keys.
fn check_list_type(schema: &Value, items: &[Value], at: &str, errors: &mut Vec<String>) {
    match schema.get("x-kubernetes-list-type").and_then(Value::as_str) {
        Some("set") => {
            let mut seen = HashSet::new();
            for (i, item) in items.iter().enumerate() {
                if !seen.insert(item.to_string()) {
                    errors.push(format!(
                        "{at}[{i}]: Duplicate value: {}: remove the repeated entry",
                        shown(item)
                    ));
                }
            }
        }
        Some("map") => {
            let keys: Vec<&str> = schema
                .get("x-kubernetes-list-map-keys")
                .and_then(Value::as_array)
                .map(|k| k.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let mut seen = HashSet::new();
            for (i, item) in items.iter().enumerate() {
                let key: Vec<String> = keys
                    .iter()
                    .map(|k| item.get(*k).map(Value::to_string).unwrap_or_default())
                    .collect();
                if !seen.insert(key.clone()) {
                    errors.push(format!(
                        "{at}[{i}]: Duplicate value: {{{}}}",
                        key.join(", ")
                    ));
                }
            }
        }
        _ => {}
    }
}
