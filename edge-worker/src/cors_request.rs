//! The CORS-relevant parts of an incoming request, owned (the Workers
//! `Headers` API hands out copies), and their view as an engine request.

use bucketcors_engine::ResourceType;
use bucketcors_engine::request::Request as EngineRequest;
use worker::Request;

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
    /// Reads `req`. `path_below` is the path under the route's prefix: `/`
    /// addresses the bucket, anything longer an object. The Workers `Headers`
    /// API already joins repeated headers with `, `, which is what the engine
    /// expects for `Access-Control-Request-Headers`.
    pub fn read(req: &Request, path_below: &str) -> CorsRequest {
        let header = |name: &str| req.headers().get(name).ok().flatten();
        CorsRequest {
            method: req.inner().method(),
            origin: header("origin"),
            request_method: header("access-control-request-method"),
            request_headers: header("access-control-request-headers"),
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
