//! The CORS-relevant parts of an incoming request, owned (the Workers
//! `Headers` API hands out copies), and their view as an engine request.

use bucketcors_engine::ResourceType;
use bucketcors_engine::request::Request as EngineRequest;
use worker::web_sys::Headers;

use crate::glue::HeaderNames;

/// Method, `Origin` and the `Access-Control-Request-*` headers of a request.
#[derive(Debug, Clone)]
pub struct CorsRequest {
    method: String,
    origin: Option<String>,
    request_method: Option<String>,
    request_headers: Option<String>,
    resource: ResourceType,
}

impl CorsRequest {
    /// Reads the request with `method` and `headers`. With `names` (the
    /// request's header names, when the caller needs them anyway) only
    /// headers that are present are fetched; without, all three are asked
    /// for (fewer calls when they are likely there, as on a preflight).
    /// One call across the JavaScript boundary per header fetched.
    /// `path_below` is the path under the route's prefix: `/` addresses the
    /// bucket, anything longer an object. The Workers `Headers` API already
    /// joins repeated headers with `, `, which is what the engine expects
    /// for `Access-Control-Request-Headers`.
    pub fn read(
        method: String,
        headers: &Headers,
        names: Option<&HeaderNames>,
        path_below: &str,
    ) -> CorsRequest {
        let all = names.is_none();
        let (mut origin, mut request_method, mut request_headers) = (all, all, all);
        for name in names.into_iter().flat_map(HeaderNames::iter) {
            match name {
                "origin" => origin = true,
                "access-control-request-method" => request_method = true,
                "access-control-request-headers" => request_headers = true,
                _ => {}
            }
        }
        let header = |present: bool, name: &str| {
            if present {
                headers.get(name).ok().flatten()
            } else {
                None
            }
        };
        CorsRequest {
            method,
            origin: header(origin, "origin"),
            request_method: header(request_method, "access-control-request-method"),
            request_headers: header(request_headers, "access-control-request-headers"),
            resource: if path_below == "/" {
                ResourceType::Bucket
            } else {
                ResourceType::Object
            },
        }
    }

    /// The request method as sent.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The engine's view, borrowing from `self`.
    pub fn engine(&self) -> EngineRequest<'_> {
        EngineRequest {
            method: &self.method,
            origin: self.origin.as_deref(),
            request_method: self.request_method.as_deref(),
            request_headers: self.request_headers.as_deref(),
            resource: self.resource,
        }
    }
}
