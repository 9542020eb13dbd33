//! Answering preflights at the edge: the engine's decision becomes the whole
//! response, and the bucket never sees the request.

use bucketcors_engine::Decision;
use worker::Result;
use worker::web_sys::{Headers, Response};

use crate::cors_headers;
use crate::glue::{self, HeaderWrites};

/// The response for a request the engine answers itself (`OPTIONS`):
/// the dialect's status, CORS headers and, for refusals, its XML error body.
/// The headers are written in one call across the JavaScript boundary.
pub fn respond(decision: &Decision<'_, '_>, revision: &str) -> Result<Response> {
    let headers = Headers::new()?;
    let mut writes = HeaderWrites::new();
    cors_headers::apply(&mut writes, None, decision.headers());
    writes.set(crate::REVISION_HEADER, revision);
    let body = decision.body().map(|b| b.to_string());
    if body.is_some() {
        writes.set("content-type", "application/xml");
    }
    writes.apply_to(&headers);
    Ok(match body {
        Some(body) => glue::respond_with_text(&body, decision.status(), &headers),
        None => glue::respond(None, decision.status(), &headers),
    })
}
