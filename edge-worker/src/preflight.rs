//! Answering preflights at the edge: the engine's decision becomes the whole
//! response, and the bucket never sees the request.

use bucketcors_engine::Decision;
use worker::{Headers, Response, Result};

use crate::cors_headers;

/// The response for a request the engine answers itself (`OPTIONS`):
/// the dialect's status, CORS headers and, for refusals, its XML error body.
pub fn respond(decision: &Decision<'_, '_>, revision: &str) -> Result<Response> {
    let headers = Headers::new();
    cors_headers::apply(&headers, decision.headers())?;
    headers.set("x-bucketcors-revision", revision)?;
    let body = decision.body().map(|b| b.to_string());
    if body.is_some() {
        headers.set("content-type", "application/xml")?;
    }
    let builder = Response::builder()
        .with_status(decision.status())
        .with_headers(headers);
    Ok(match body {
        Some(body) => builder.fixed(body.into_bytes()),
        None => builder.empty(),
    })
}
