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
//! is the model. It is what users write, in any of the [`format`](mod@format)s. Before it
//! can answer requests it goes through two steps:
//!
//! 1. [`validate()`] checks it against a [`Dialect`]'s limits and rules and
//!    returns every error at once, each naming the rule and field.
//! 2. [`Compiled::new`] turns a valid configuration into a matcher: origins and
//!    header patterns become prefix/suffix pairs (one `*` per pattern means no
//!    backtracking is ever needed), response header values are joined ahead of
//!    time. After that, [`Compiled::decide`] answers a [`Request`] without
//!    touching the heap; the returned [`Decision`] borrows from the compiled
//!    configuration and the request and writes its headers and error body
//!    lazily.
//!
//! [`explain()`] is the slow, allocating twin of `decide`: for each rule it says
//! why it matched or not, in words.
//!
//! [`RuleSet`] is the one serialized form that travels from the operator to
//! the edge: dialect, configuration and a content revision. Nothing outside
//! this crate re-interprets rules.
//!
//! ## Where things live
//!
//! - [`pattern`]: the one-`*` origin/header pattern (prefix and suffix);
//! - [`compile`]: [`Compiled`] and the first-match scan;
//! - [`decision`]: [`Decision`], [`Outcome`], [`Refusal`] and the header
//!   order; [`header_value`] and [`error_body`] produce values lazily;
//! - [`canonical`](mod@canonical): what "same meaning" means, for revisions and duplicates;
//! - [`lint()`]: what a valid configuration still does wrong in browsers;
//! - [`target`]: the stores behind each dialect, their capability table
//!   (each entry with its source) and how they answer where they differ.
//!
//! ## Unsafe code
//!
//! One function: [`request::header_text`] (and the response writer that
//! shares it) turns bytes it has just checked to be ASCII into a `&str`
//! without `std::str::from_utf8`'s second pass, which on a preflight's
//! short header values cost as much as the rest of the decision. The crate
//! denies `unsafe` everywhere else.
//!
//! ```
//! use bucketcors_engine::{Compiled, Dialect, Request, format};
//! let config = format::parse_any(
//!     "rules:\n- allowedOrigins: ['https://*.example.com']\n  allowedMethods: [GET]\n",
//! )
//! .expect("parses")
//! .0;
//! let compiled = Compiled::new(&config, Dialect::S3).expect("valid");
//! let decision = compiled.decide(&Request::preflight("https://app.example.com", "GET"));
//! assert_eq!(decision.status(), 200);
//! assert!(decision.is_preflight());
//! ```

#![deny(unsafe_code)]

mod allowed_headers;
mod ascii;
pub mod canonical;
pub mod compile;
pub mod decision;
pub mod edge_record;
pub mod error_body;
pub mod explain;
pub mod format;
pub mod header_value;
pub mod lint;
pub mod model;
pub mod pattern;
pub mod request;
mod rule_index;
pub mod ruleset;
pub mod target;
pub mod validate;

pub use compile::Compiled;
pub use decision::{Decision, Headers, Outcome, Refusal};
pub use error_body::ErrorBody;
pub use explain::{Explanation, explain};
pub use header_value::HeaderValue;
pub use lint::{CATALOG, Lint, LintCode, LintOptions, lint};
pub use model::{CorsConfig, Dialect, ResourceType, Rule};
pub use request::Request;
pub use ruleset::{RuleSet, RuleSetError, canonical, revision};
pub use target::Target;
pub use validate::{Diagnostic, Report, RuleRef, Severity, validate};
