//! Kubernetes-specific schema for the engine's types.
//!
//! The engine's [`Rule`] derives a plain JSON Schema: it is pure and knows
//! nothing of the API server. Here that schema is taken as generated (so a
//! new field in the model shows up in the CRD by itself) and tightened with
//! what the API server can enforce at `kubectl apply`: item limits, the method
//! enum, length bounds (which also keep CEL's cost estimate within the
//! budget) and CEL rules on single values. A field this module expects but
//! the model lost is a programming error and panics at CRD generation, which
//! the CRD tests exercise.

use bucketcors_engine::Rule;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{Map, Value, json};

/// The five methods both providers accept, as the spec lists them.
pub const METHODS: [&str; 5] = ["GET", "PUT", "POST", "DELETE", "HEAD"];

/// S3's rule limit; OSS's (10) is a CEL rule on the spec, because it depends
/// on the provider.
pub const MAX_RULES: u64 = 100;

/// Bounds on list sizes and string lengths. Real configurations stay far
/// below them; they exist so that the API server can bound the cost of the
/// CEL rules (a list without `maxItems` is costed as if it were huge).
const MAX_ORIGINS: u64 = 64;
const MAX_HEADERS: u64 = 64;
const MAX_VALUE_LEN: u64 = 256;

/// Forbids control characters (including CR/LF) anywhere in a value.
const NO_CONTROL: &str = r"^[^\x00-\x1f\x7f]*$";

/// The schema of `spec.rules`: an ordered list of 1 to 100 engine rules.
pub fn rules(generator: &mut SchemaGenerator) -> Schema {
    let mut rule = Rule::json_schema(generator).to_value();
    let props = rule
        .get_mut("properties")
        .and_then(Value::as_object_mut)
        .expect("the engine's Rule schema has properties");

    patch(
        props,
        "id",
        json!({"maxLength": 255, "pattern": NO_CONTROL}),
    );
    patch(
        props,
        "allowedOrigins",
        json!({
            "minItems": 1,
            "maxItems": MAX_ORIGINS,
            "items": {
                "minLength": 1,
                "maxLength": MAX_VALUE_LEN,
                "pattern": NO_CONTROL,
                "x-kubernetes-validations": [
                    {
                        "rule": "!self.matches('[*].*[*]')",
                        "message": "an allowed origin may contain at most one '*' (for example https://*.example.com)"
                    },
                    {
                        "rule": "!self.matches('^[^/]*//[^/]*/')",
                        "message": "an allowed origin has no path and no trailing slash (write https://app.example.com, not https://app.example.com/): browsers never send one, so it could never match"
                    }
                ]
            }
        }),
    );
    patch(
        props,
        "allowedMethods",
        json!({
            "minItems": 1,
            "maxItems": METHODS.len(),
            "x-kubernetes-list-type": "set",
            "items": {
                "enum": METHODS,
                "description": "GET, PUT, POST, DELETE or HEAD, in upper case"
            }
        }),
    );
    patch(
        props,
        "allowedHeaders",
        json!({
            "maxItems": MAX_HEADERS,
            "items": {
                "minLength": 1,
                "maxLength": MAX_VALUE_LEN,
                "pattern": NO_CONTROL,
                "x-kubernetes-validations": [
                    {
                        "rule": "!self.matches('[*].*[*]')",
                        "message": "an allowed header may contain at most one '*' (for example x-amz-*)"
                    }
                ]
            }
        }),
    );
    patch(
        props,
        "exposeHeaders",
        json!({
            "maxItems": MAX_HEADERS,
            "items": {
                "minLength": 1,
                "maxLength": MAX_VALUE_LEN,
                "pattern": NO_CONTROL,
                "x-kubernetes-validations": [
                    {
                        "rule": "!self.contains('*')",
                        "message": "exposeHeaders name response headers one by one: remove the '*' and list each header"
                    }
                ]
            }
        }),
    );
    // schemars describes u64 as `format: uint64`, which the API server does
    // not know; int64 with a lower bound says the same thing to it.
    patch(
        props,
        "maxAgeSeconds",
        json!({"format": "int64", "minimum": 0, "maximum": i32::MAX}),
    );

    let schema = json!({
        "type": "array",
        "description": "The CORS rules, in order; the first matching rule wins. 1 to 100 rules (S3's limit; OSS allows 10).",
        "minItems": 1,
        "maxItems": MAX_RULES,
        "items": rule,
    });
    Schema::try_from(schema).expect("an object is a schema")
}

/// The schema of `spec.edge.hosts`: up to 32 lower-case DNS host names.
///
/// The CEL rule sits on each item, which is bounded by the DNS limit of 253
/// characters: the API server costs a rule over the whole list by the
/// largest string it could hold, and refused the CRD (cost 19x over its
/// budget) while the rule looped over unbounded items.
pub fn edge_hosts(_: &mut SchemaGenerator) -> Schema {
    let schema = json!({
        "type": "array",
        "description": "Host names the worker serves this bucket on (lower-case DNS names such as `assets.example.com`; no scheme, port or path).",
        "default": [],
        "maxItems": 32,
        "items": {
            "type": "string",
            "minLength": 1,
            "maxLength": 253,
            "x-kubernetes-validations": [{
                "rule": HOST_RULE,
                "message": "each spec.edge.hosts entry must be a lower-case DNS host name such as assets.example.com (no scheme, port, path or '*')",
            }],
        },
    });
    Schema::try_from(schema).expect("an object is a schema")
}

/// A lower-case DNS host name: labels of 1 to 63 letters, digits and inner
/// hyphens, joined by dots.
const HOST_RULE: &str =
    r"self.matches('^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$')";

/// The schema of `status.conditions`: the standard Kubernetes condition,
/// keyed by `type` so that server-side apply merges conditions one by one.
pub fn conditions(generator: &mut SchemaGenerator) -> Schema {
    let item = Condition::json_schema(generator).to_value();
    let schema = json!({
        "type": "array",
        "description": "Ready, BackendSynced and EdgePublished.",
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["type"],
        "items": item,
    });
    Schema::try_from(schema).expect("an object is a schema")
}

/// Merges `extra` into the property `name` of a rule schema.
fn patch(props: &mut Map<String, Value>, name: &str, extra: Value) {
    let target = props
        .get_mut(name)
        .unwrap_or_else(|| panic!("the engine's Rule schema lost the field `{name}`"));
    merge(target, extra);
}

fn merge(target: &mut Value, extra: Value) {
    match (target, extra) {
        (Value::Object(t), Value::Object(e)) => {
            for (k, v) in e {
                match t.get_mut(&k) {
                    Some(existing) if existing.is_object() && v.is_object() => merge(existing, v),
                    _ => {
                        t.insert(k, v);
                    }
                }
            }
        }
        (t, e) => *t = e,
    }
}
