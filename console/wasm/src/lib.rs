//! The engine for the console's page, compiled to wasm with wasm-bindgen.
//!
//! The page never interprets a rule itself: every check, conversion and
//! answer it shows comes from these functions, which only translate between
//! JSON strings (what crosses the wasm boundary cheaply, with no generated
//! glue per type) and the engine's own APIs, the same ones `bucketcors
//! validate`, `convert`, `import` and `eval --json` call.
//!
//! Each function takes and returns JSON text; the shapes are documented on
//! the `api` module's types, which the page's TypeScript mirrors.
//!
//! - [`validate`]: errors, warnings and lints with their rule and field
//!   path;
//! - [`convert`]: OSS XML, S3 XML, S3 JSON and YAML, with what each loses;
//! - [`import`]: a pasted OSS XML, S3 XML or AWS CLI JSON document;
//! - [`eval`]: the page's fetch as the bucket answers it (preflight and
//!   actual request, status, headers in order, error body, explanation) and
//!   what a browser does with those answers (`bucketcors-fetch`, the
//!   model `bucketcors doctor` uses, checked against Chromium).

pub mod api;
pub mod lints;

use wasm_bindgen::prelude::wasm_bindgen;

/// Validates a configuration (spec-shape JSON) for a dialect (`oss`/`s3`)
/// and lints it for a target flavor (empty: the dialect's provider).
/// Returns [`api::Validation`] as JSON.
#[wasm_bindgen]
pub fn validate(config_json: &str, dialect: &str, target: &str) -> String {
    api::to_json(&api::validate(config_json, dialect, target))
}

/// The configuration in every format. Returns [`api::Conversions`] as JSON.
#[wasm_bindgen]
pub fn convert(config_json: &str) -> String {
    api::to_json(&api::convert(config_json))
}

/// Reads a pasted document in any format. Returns [`api::Imported`] as JSON.
/// (`importText` in JavaScript, where `import` is a keyword.)
#[wasm_bindgen(js_name = importText)]
pub fn import(text: &str) -> String {
    api::to_json(&api::import(text))
}

/// Answers a page's fetch ([`api::FetchRequest`] as JSON) with the
/// configuration. Returns [`api::Evaluation`] as JSON. (`evaluate` in
/// JavaScript, where `eval` is reserved.)
#[wasm_bindgen(js_name = evaluate)]
pub fn eval(config_json: &str, dialect: &str, request_json: &str) -> String {
    api::to_json(&api::eval(config_json, dialect, request_json))
}
