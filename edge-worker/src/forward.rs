//! Forwarding actual requests to the bucket's origin.
//!
//! The method, path below the route prefix, query, headers and body go to the
//! origin as they came (the body as a stream, never buffered); the origin's
//! answer comes back as a stream too, and [`crate::cors_headers`] rewrites
//! its headers.

use worker::Result;
use worker::js_sys::futures::JsFuture;
use worker::wasm_bindgen::JsCast;
use worker::web_sys::{self, Headers};

use crate::glue::{self, HeaderNames};

/// Request headers that describe the hop to the edge, not the request.
fn is_hop_header(name: &str) -> bool {
    matches!(
        name,
        "host" | "connection" | "keep-alive" | "transfer-encoding" | "upgrade" | "proxy-connection"
    ) || name.starts_with("cf-")
}

/// Sends `req` (whose method is `method`, headers `headers` with names
/// `names`) to `url` and returns the origin's response, as received.
///
/// The method is passed as the raw string: workers-rs maps any method it has
/// no variant for (PURGE, PROPFIND, ...) to GET, and the bucket must see the
/// method the client sent. Redirects are the client's business and pass
/// through.
pub async fn send(
    req: &web_sys::Request,
    method: &str,
    headers: &Headers,
    names: &HeaderNames,
    url: &str,
) -> Result<web_sys::Response> {
    // One native copy, then deletions by name, only when there is a hop
    // header to delete (`host` nearly always).
    let copy;
    let outgoing = if names.iter().any(is_hop_header) {
        copy = Headers::new_with_headers(headers)?;
        for name in names.iter().filter(|name| is_hop_header(name)) {
            copy.delete(name)?;
        }
        &copy
    } else {
        headers
    };
    let promise = glue::send(url, method, outgoing, req.body());
    Ok(JsFuture::from(promise).await?.unchecked_into())
}
