//! Compilation of a validated configuration into a matcher, and the
//! per-request decision. API contract (issue 2 fills the bodies):
//!
//! ```ignore
//! let compiled = Compiled::new(&config, Dialect::S3)?;   // validates; Err(Report) when invalid
//! let none = Compiled::none(Dialect::S3);                // a bucket without CORS
//! let d: Decision<'_, '_> = compiled.decide(&request);   // no heap allocation
//! d.status();            // u16: 200, 400, 403 for answered preflights; 200 for actual requests
//! d.is_preflight();      // true when the CORS layer answers the request itself (OPTIONS)
//! d.matched_rule();      // Option<usize>
//! for (name, value) in d.headers() { /* name: &'static str, value: impl Display */ }
//! d.body();              // Option<ErrorBody>: impl Display, the dialect's XML error body
//! ```
