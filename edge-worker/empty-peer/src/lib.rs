//! # bucketcors-edge-empty
//!
//! The benchmark peer of the bucketcors worker: an *empty* workers-rs worker
//! with no CORS logic, no routing table and no cache. `scripts/bench.sh edge`
//! serves it in the same workerd (Miniflare version, compatibility date) as
//! the real worker and compares the two, so the ratio measures what the
//! bucketcors logic costs on top of workers-rs itself.
//!
//! It does the least a worker in front of a bucket can do, the same way the
//! real worker does it:
//!
//! - `OPTIONS` gets an empty `200`, the floor for a preflight answered at the
//!   edge;
//! - anything else is passed through to `ORIGIN_URL` (a var) with the
//!   client's method, path, query and headers (minus hop-by-hop ones) and the
//!   body as a stream; the origin's response goes back untouched, streaming.

use worker::wasm_bindgen::JsValue;
use worker::web_sys;
use worker::{
    Context, Env, Fetch, Headers, Request, RequestInit, RequestRedirect, Response, Result, event,
};

/// The var naming the origin every forwarded request goes to.
const ORIGIN_VAR: &str = "ORIGIN_URL";

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let method = req.inner().method();
    if method == "OPTIONS" {
        return Ok(Response::empty()?.with_status(200));
    }
    let origin = env.var(ORIGIN_VAR)?.to_string();
    let raw_url = req.inner().url();
    let (path, query) = path_and_query(&raw_url);
    let url = format!("{}{path}{query}", origin.trim_end_matches('/'));
    pass_through(&req, &method, &url).await
}

/// The path (`/` when empty) and the query (with its `?`, or empty) of an
/// absolute URL. Split by hand, as the real worker does, rather than linking
/// a URL parser.
fn path_and_query(url: &str) -> (&str, &str) {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[after_scheme..];
    let rest = rest.find('#').map_or(rest, |i| &rest[..i]);
    let (before_query, query) = rest.find('?').map_or((rest, ""), |i| rest.split_at(i));
    let path = before_query.find('/').map_or("/", |i| &before_query[i..]);
    (path, query)
}

/// Request headers that describe the hop to the edge, not the request.
fn is_hop_header(name: &str) -> bool {
    matches!(
        name,
        "host" | "connection" | "keep-alive" | "transfer-encoding" | "upgrade" | "proxy-connection"
    ) || name.starts_with("cf-")
}

/// Sends the request to `url` as the client sent it and returns the origin's
/// answer unchanged.
async fn pass_through(req: &Request, method: &str, url: &str) -> Result<Response> {
    let headers = Headers::new();
    for (name, value) in req.headers().entries() {
        if !is_hop_header(&name) {
            headers.append(&name, &value)?;
        }
    }
    let mut init = RequestInit::new();
    init.with_headers(headers)
        .with_redirect(RequestRedirect::Manual);
    if let Some(body) = req.inner().body() {
        init.with_body(Some(JsValue::from(body)));
    }
    // The raw method string, so methods workers-rs has no variant for pass
    // through as sent.
    let platform_init = web_sys::RequestInit::from(&init);
    platform_init.set_method(method);
    let outbound = web_sys::Request::new_with_str_and_init(url, &platform_init)?;
    Fetch::Request(Request::from(outbound)).send().await
}

#[cfg(test)]
mod tests {
    use super::path_and_query;

    #[test]
    fn path_and_query_keeps_everything_after_the_authority() {
        assert_eq!(path_and_query("http://h:1/a/b?x=1"), ("/a/b", "?x=1"));
        assert_eq!(path_and_query("http://h"), ("/", ""));
        assert_eq!(path_and_query("http://h/"), ("/", ""));
        assert_eq!(path_and_query("http://h?x=/y"), ("/", "?x=/y"));
    }
}
