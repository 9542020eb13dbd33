//! The browser's side of CORS: what a browser does with a page's `fetch`
//! and the server's answers, which no bucket setting can change.
//!
//! The engine decides what a bucket *answers*; this crate decides what the
//! browser *does* with that answer. Three products need the second half and
//! must agree on it: `bucketcors doctor` (live answers from a URL), the
//! console's tester (the engine's answers, in wasm), and the tests that
//! check both against real Chromium. So it lives here once, pure (no I/O,
//! builds for `wasm32-unknown-unknown`), with no knowledge of rules.
//!
//! - [`safelist`]: the Fetch standard's fixed lists: safelisted methods,
//!   request and response headers, forbidden request headers;
//! - [`request`]: the page's request and what the browser derives from it
//!   (is a preflight sent, what does it carry);
//! - [`answer`]: a read-only view of one response (status, header lines);
//! - [`check`]: the CORS check and the preflight check, the verdict on a
//!   preflight and actual pair, and which response headers a page may read;
//! - [`chromium`]: Chromium's console wording for each refusal, its
//!   Max-Age cap, and the one place where it deviates from the standard;
//! - [`redact`]: what may be printed of a URL (no presigned query values).
//!
//! Every rule here is checked against Debian Chromium by
//! `tests/tests/browser_fetch_model.rs`, on random requests and answers.

pub mod answer;
pub mod check;
pub mod chromium;
pub mod redact;
pub mod request;
pub mod safelist;

pub use answer::Answer;
pub use check::{
    Blocked, Browser, Stage, Verdict, cors_check, evaluate, preflight_check, readable,
    unlisted_headers,
};
pub use redact::{redact_url, request_target};
pub use request::{PageHeader, PageRequest};
