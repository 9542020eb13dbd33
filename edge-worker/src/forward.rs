//! Forwarding actual requests to the bucket's origin.
//!
//! The method, path below the route prefix, query, headers and body go to the
//! origin as they came (the body as a stream, never buffered); the origin's
//! answer comes back as a stream too, its headers copied without CORS (see
//! [`crate::cors_headers`]) so the caller can add the engine's.

use worker::wasm_bindgen::JsValue;
use worker::web_sys;
use worker::{
    Fetch, Headers, Request, RequestInit, RequestRedirect, Response, ResponseBody, Result,
};

use crate::cors_headers;

/// Request headers that describe the hop to the edge, not the request.
fn is_hop_header(name: &str) -> bool {
    matches!(
        name,
        "host" | "connection" | "keep-alive" | "transfer-encoding" | "upgrade" | "proxy-connection"
    ) || name.starts_with("cf-")
}

/// Sends `req` to `url` and returns the origin's response, as received.
pub async fn send(req: &Request, url: &str) -> Result<Response> {
    // One native copy, then deletions by name: far fewer calls across the
    // JavaScript boundary than copying entry by entry.
    let headers: Headers = req.headers().clone();
    for name in req.headers().keys() {
        if is_hop_header(&name) {
            headers.delete(&name)?;
        }
    }
    let mut init = RequestInit::new();
    init.with_headers(headers)
        // Redirects are the client's business; pass them through.
        .with_redirect(RequestRedirect::Manual);
    if let Some(body) = req.inner().body() {
        init.with_body(Some(JsValue::from(body)));
    }
    // workers-rs maps any method it has no variant for (PURGE, PROPFIND, ...)
    // to GET; the bucket must see the method the client sent, so it is set
    // on the platform's RequestInit from the raw string.
    let platform_init = web_sys::RequestInit::from(&init);
    platform_init.set_method(&req.inner().method());
    let outbound = web_sys::Request::new_with_str_and_init(url, &platform_init)?;
    Fetch::Request(Request::from(outbound)).send().await
}

/// A response with `resp`'s status and body (still streaming) and a mutable
/// copy of its headers without any CORS header.
pub fn strip_cors(resp: Response) -> Result<(u16, Headers, ResponseBody)> {
    let status = resp.status_code();
    let headers = cors_headers::without_cors(resp.headers())?;
    let (_, body) = resp.into_parts();
    Ok((status, headers, body))
}

/// Assembles a response from parts.
pub fn assemble(status: u16, headers: Headers, body: ResponseBody) -> Response {
    Response::builder()
        .with_status(status)
        .with_headers(headers)
        .body(body)
}
