//! # bucketcors-engine
//!
//! The one place where the meaning of a bucket's CORS configuration lives.
//! The operator, the `bucketcors` CLI and the edge worker all call this crate,
//! so the same request gets the same answer everywhere.
//!
//! The crate is pure: no I/O, no async, no global state. It builds for
//! `wasm32-unknown-unknown`.
//!
//! ## Design
//!
//! A [`CorsConfig`] (an ordered list of [`Rule`]s, plus OSS's `ResponseVary`)
//! is the model. It is what users write, in any of the [`format`]s. Before it
//! can answer requests it goes through two steps:
//!
//! 1. [`validate`] checks it against a [`Dialect`]'s limits and rules and
//!    returns every error at once, each naming the rule and field.
//! 2. [`Compiled::new`] turns a valid configuration into a matcher: origins and
//!    header patterns become prefix/suffix pairs (one `*` per pattern means no
//!    backtracking is ever needed), response header values are joined ahead of
//!    time. After that, [`Compiled::decide`] answers a [`Request`] without
//!    touching the heap; the returned [`Decision`] borrows from the compiled
//!    configuration and the request and writes its headers and error body
//!    lazily.
//!
//! [`explain`] is the slow, allocating twin of `decide`: for each rule it says
//! why it matched or not, in words.
//!
//! [`RuleSet`] is the one serialized form that travels from the operator to
//! the edge: dialect, configuration and a content revision. Nothing outside
//! this crate re-interprets rules.

mod ascii;
pub mod canonical;
pub mod compile;
pub mod decision;
pub mod edge_record;
pub mod error_body;
pub mod explain;
pub mod format;
pub mod header_value;
pub mod model;
pub mod pattern;
pub mod request;
pub mod ruleset;
pub mod validate;

pub use compile::Compiled;
pub use decision::{Decision, Headers, Outcome, Refusal};
pub use error_body::ErrorBody;
pub use explain::{Explanation, explain};
pub use header_value::HeaderValue;
pub use model::{CorsConfig, Dialect, ResourceType, Rule};
pub use request::Request;
pub use ruleset::{RuleSet, RuleSetError, canonical, revision};
pub use validate::{Diagnostic, Report, RuleRef, Severity, validate};
