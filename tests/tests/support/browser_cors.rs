//! What a browser must observe for one `fetch`, given the engine's decision
//! for the same rules: the expectation a real browser's behaviour is
//! checked against.
//!
//! The edge answers preflights with the engine's decision and puts the
//! engine's headers on forwarded responses, so a browser's outcome follows
//! from those headers and the browser's own rules. Those rules are
//! `bucketcors-fetch`'s (Chromium's where it deviates from the standard),
//! which `browser_fetch_model` checks against this same Chromium on random
//! answers; here they are only applied. Nothing here knows the rules:
//! every answer comes from `Compiled::decide`.

use bucketcors_engine::{Compiled, Request};
use bucketcors_fetch::{Answer, Browser, PageHeader, PageRequest};

use super::browser::Fetch;

/// What the page must observe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The browser sends a preflight first.
    pub preflighted: bool,
    /// `fetch` resolves (every CORS check passes).
    pub succeeds: bool,
    /// For each header the page reads: may it read it.
    pub readable: Vec<(String, bool)>,
}

impl Expected {
    /// Whether the page may read `name` (false when it did not ask).
    pub fn readable(&self, name: &str) -> bool {
        self.readable
            .iter()
            .any(|(n, r)| *r && n.eq_ignore_ascii_case(name))
    }
}

fn decided(engine: &Compiled, request: &Request<'_>) -> (u16, Vec<(String, String)>) {
    let decision = engine.decide(request);
    let headers = decision
        .headers()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    (decision.status(), headers)
}

/// What the page must observe when it makes `fetch` from `origin` to a
/// host whose rules compile to `engine`.
pub fn expected(engine: &Compiled, origin: &str, fetch: &Fetch) -> Expected {
    let page = PageRequest::new(
        &fetch.url,
        origin,
        &fetch.method,
        fetch.headers.iter().map(|(n, v)| PageHeader::new(n, v)),
        fetch.credentials,
    );
    let preflighted = page.needs_preflight();
    let preflight = preflighted.then(|| {
        let requested = page.request_headers_value();
        let mut request = Request::preflight(origin, &page.method);
        if let Some(requested) = &requested {
            request = request.with_request_headers(requested);
        }
        decided(engine, &request)
    });
    let actual = decided(engine, &Request::new(&page.method).with_origin(origin));
    let pre_answer = preflight.as_ref().map(|(s, h)| Answer::new(*s, h));
    let act_answer = Answer::new(actual.0, &actual.1);
    let succeeds = bucketcors_fetch::evaluate(
        &page,
        pre_answer.as_ref(),
        Some(&act_answer),
        Browser::Chromium,
    )
    .allowed();
    let readable = fetch
        .read_headers
        .iter()
        .map(|name| {
            let lower = name.to_ascii_lowercase();
            let may =
                succeeds && bucketcors_fetch::readable(&act_answer, &lower, fetch.credentials);
            (lower, may)
        })
        .collect();
    Expected {
        preflighted,
        succeeds,
        readable,
    }
}
