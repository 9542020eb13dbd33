//! One-call bulk operations on the platform's `Headers`, `fetch` and
//! `Response` (`src/glue.js`, bundled by worker-build).
//!
//! Every call from wasm into JavaScript has a fixed cost in workerd, and the
//! Headers API makes the common jobs chatty: listing a request's header names
//! through the iterator costs four or five calls per name; writing six
//! headers costs six; building a `RequestInit` or `ResponseInit` field by
//! field costs one call per field. On a forwarded request these added up to
//! more calls than the rest of the worker together. The helpers here do each
//! job in one call. They decide nothing: which headers are hop-by-hop, CORS
//! or relevant to caching is decided in Rust on the names [`HeaderNames`]
//! holds.

use worker::js_sys::Promise;
use worker::wasm_bindgen;
use worker::wasm_bindgen::prelude::wasm_bindgen;
use worker::web_sys::{Headers, ReadableStream, Response};

#[wasm_bindgen(module = "/src/glue.js")]
extern "C" {
    #[wasm_bindgen(js_name = headerNames)]
    fn header_names(headers: &Headers) -> String;

    #[wasm_bindgen(js_name = setHeaders)]
    fn set_headers_packed(headers: &Headers, pairs: &str);

    #[wasm_bindgen(js_name = send)]
    fn send_packed(
        url: &str,
        method: &str,
        headers: &Headers,
        body: Option<ReadableStream>,
    ) -> Promise;

    #[wasm_bindgen(js_name = respond)]
    fn respond_packed(body: Option<ReadableStream>, status: u16, headers: &Headers) -> Response;

    #[wasm_bindgen(js_name = respond)]
    fn respond_text(body: &str, status: u16, headers: &Headers) -> Response;
}

/// The names of a `Headers` object, read in one call: lower-case, repeated
/// names (`set-cookie`) repeated.
#[derive(Debug, Clone, Default)]
pub struct HeaderNames(String);

impl HeaderNames {
    /// The names in `headers`.
    pub fn of(headers: &Headers) -> HeaderNames {
        HeaderNames(header_names(headers))
    }

    /// Every name, in the platform's order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.split('\n').filter(|name| !name.is_empty())
    }

    /// True when `name` (lower-case) is present.
    pub fn has(&self, name: &str) -> bool {
        self.iter().any(|n| n == name)
    }
}

/// Header writes collected in Rust and applied in one call.
#[derive(Debug, Default)]
pub struct HeaderWrites(String);

impl HeaderWrites {
    /// An empty batch.
    pub fn new() -> HeaderWrites {
        HeaderWrites(String::with_capacity(256))
    }

    /// Queues `name: value` (replacing any earlier value when applied).
    pub fn set(&mut self, name: &str, value: &str) {
        self.0.push_str(name);
        self.0.push('\n');
        self.0.push_str(value);
        self.0.push('\n');
    }

    /// Applies every queued write to `headers`, in order.
    pub fn apply_to(&self, headers: &Headers) {
        if !self.0.is_empty() {
            set_headers_packed(headers, &self.0);
        }
    }
}

/// `fetch(url, {method, headers, body, redirect: "manual"})`.
pub fn send(url: &str, method: &str, headers: &Headers, body: Option<ReadableStream>) -> Promise {
    send_packed(url, method, headers, body)
}

/// `new Response(body, {status, headers})` with a streamed (or no) body.
pub fn respond(body: Option<ReadableStream>, status: u16, headers: &Headers) -> Response {
    respond_packed(body, status, headers)
}

/// `new Response(text, {status, headers})`.
pub fn respond_with_text(text: &str, status: u16, headers: &Headers) -> Response {
    respond_text(text, status, headers)
}

#[cfg(test)]
mod tests {
    use super::{HeaderNames, HeaderWrites};

    #[test]
    fn names_split_on_newlines() {
        let names = HeaderNames("accept\nset-cookie\nset-cookie\nx-a\n".to_owned());
        assert_eq!(
            names.iter().collect::<Vec<_>>(),
            ["accept", "set-cookie", "set-cookie", "x-a"]
        );
        assert!(names.has("x-a"));
        assert!(!names.has("x"));
        assert_eq!(HeaderNames::default().iter().count(), 0);
    }

    #[test]
    fn writes_pack_name_value_lines() {
        let mut writes = HeaderWrites::new();
        writes.set("vary", "Origin");
        writes.set("x-b", "");
        assert_eq!(writes.0, "vary\nOrigin\nx-b\n\n");
    }
}
