//! # bucketcors-edge
//!
//! The Cloudflare Worker that answers a bucket's CORS at the edge with the
//! same engine the operator and the CLI use.
//!
//! ## How a request is served
//!
//! 1. [`routing`]: the host (and optionally the first path segment) names a
//!    route; its record in Workers KV holds the bucket's origin URL and its
//!    published rule set ([`bucketcors_engine::edge_record::EdgeRecord`]).
//! 2. [`route_table`]: the record is compiled once per isolate and revision
//!    and re-read after a short TTL; a broken record or KV outage leaves the
//!    last good rules in force.
//! 3. The engine decides. A preflight is answered here ([`preflight`]) and
//!    never reaches the bucket. Anything else is forwarded ([`forward`]),
//!    streaming both ways; the bucket's own CORS headers are removed and the
//!    engine's written ([`cors_headers`]).
//! 4. [`body_cache`]: plain `GET` bodies are cached without CORS headers, and
//!    the headers are added per request after the cache, so one origin's
//!    `Access-Control-Allow-Origin` can never be served to another.
//!
//! A host without a published route behaves like a bucket without CORS
//! configuration (in the `DEFAULT_DIALECT`); its non-preflight requests get a
//! `404`, since there is no bucket to forward them to.
//!
//! ## Calls across the JavaScript boundary
//!
//! In workerd every call from wasm into JavaScript (each `Headers.get`,
//! each step of a header iterator, each field of a `RequestInit`) has a
//! fixed cost, and on a forwarded request they were most of what the worker
//! added to a plain pass-through. So the worker takes the platform's
//! `Request` and returns its `Response` directly (workers-rs's wrappers
//! read properties the worker never uses), lists header names once per
//! message ([`glue::HeaderNames`]) and decides everything in Rust from that
//! list, fetches only the headers that are present, writes its headers in
//! one batch, and builds requests and responses in one call each
//! ([`glue`]). Workers KV is only touched when a route record is due for a
//! re-read.

pub mod body_cache;
pub mod cache_policy;
pub mod cors_headers;
pub mod cors_request;
pub mod forward;
pub mod glue;
pub mod log;
pub mod preflight;
pub mod route_table;
pub mod routing;
pub mod settings;
pub mod stats;
pub mod withheld;

use std::rc::Rc;

use bucketcors_engine::compile::Compiled;
use worker::js_sys;
use worker::web_sys::{self, Headers};
use worker::{Context, Env, Result, event};

use crate::body_cache::CacheStatus;
use crate::cors_request::CorsRequest;
use crate::glue::{HeaderNames, HeaderWrites};
use crate::route_table::Route;
use crate::settings::Settings;

/// Response header naming the rule revision a response was decided with.
pub const REVISION_HEADER: &str = "x-bucketcors-revision";

/// Response header telling what the body cache did.
const CACHE_HEADER: &str = "x-bucketcors-cache";

#[event(fetch)]
async fn fetch(req: web_sys::Request, env: Env, ctx: Context) -> Result<web_sys::Response> {
    stats::count_request();
    let settings = Settings::for_isolate(&env);
    let raw_url = req.url();
    let url = routing::RequestUrl::parse(&raw_url);
    // One clock reading per request: route freshness and the body cache's
    // pass memory both use it.
    let now = js_sys::Date::now();
    let (route, prefix) = find_route(&env, &url, &settings, now).await;
    let below = routing::path_below(url.path, &prefix);
    let method = req.method();
    let headers = req.headers();
    // A preflight needs three headers and nothing else from the request; an
    // actual request is forwarded, which needs every header name anyway.
    let names = (method != "OPTIONS" && route.is_some()).then(|| HeaderNames::of(&headers));
    let cors = CorsRequest::read(method, &headers, names.as_ref(), below);

    let Some(route) = route else {
        return without_route(&cors, &settings, url.host);
    };
    {
        let request = cors.engine();
        let decision = route.compiled.decide(&request);
        if decision.is_preflight() {
            if let Some(why) = withheld::why(&route.compiled, &request, &decision) {
                withheld::log(true, &why, request.origin, route.name(), &route.revision);
            }
            return preflight::respond(&decision, &route.revision);
        }
    }
    let names = names.unwrap_or_else(|| HeaderNames::of(&headers));
    let origin = routing::origin_url_for(&route.origin_url, below, url.query);
    let incoming = Incoming {
        req: &req,
        headers: &headers,
        names: &names,
        cors: &cors,
        query: url.query,
    };
    forward_actual(&incoming, &ctx, &route, &origin, &settings, now).await
}

/// Looks the request's route up, most specific candidate first, among the
/// routes the host's routes record lists (so a prefix the host does not
/// have costs no KV read). Workers KV is only bound when a record is due
/// for a re-read.
async fn find_route(
    env: &Env,
    url: &routing::RequestUrl<'_>,
    settings: &Settings,
    now: f64,
) -> (Option<Rc<Route>>, String) {
    let ttl = settings.rules_ttl_ms;
    let mut kv = None;
    let Ok(hosts_key) = bucketcors_engine::edge_record::host_routes_key(url.host) else {
        return (None, String::new());
    };
    let host_routes = match route_table::fresh_host(&hosts_key, now, ttl) {
        Some(routes) => routes,
        None => {
            let Some(store) = bind_kv(env, &mut kv) else {
                return (None, String::new());
            };
            route_table::load_host(store, &hosts_key, now, ttl).await
        }
    };
    for candidate in routing::candidates(url, host_routes.as_deref()) {
        let route = match route_table::fresh(&candidate.key, now, ttl) {
            Some(route) => route,
            None => {
                let Some(store) = bind_kv(env, &mut kv) else {
                    return (None, String::new());
                };
                route_table::load(store, &candidate.key, now, ttl).await
            }
        };
        if let Some(route) = route {
            return (Some(route), candidate.prefix);
        }
    }
    (None, String::new())
}

/// The rules KV binding, bound on first use; `None` (logged) when the
/// deployment lacks it.
fn bind_kv<'a>(
    env: &Env,
    kv: &'a mut Option<worker::kv::KvStore>,
) -> Option<&'a worker::kv::KvStore> {
    if kv.is_none() {
        match env.kv(settings::RULES_BINDING) {
            Ok(store) => *kv = Some(store),
            Err(err) => {
                log::error(
                    "kv_binding_missing",
                    &[
                        ("binding", settings::RULES_BINDING),
                        ("error", &err.to_string()),
                    ],
                );
                return None;
            }
        }
    }
    kv.as_ref()
}

/// A host without a route: preflights get the dialect's "CORS is not enabled"
/// answer; other requests have no bucket to go to.
fn without_route(cors: &CorsRequest, settings: &Settings, host: &str) -> Result<web_sys::Response> {
    let none = Compiled::none(settings.default_dialect);
    let request = cors.engine();
    let decision = none.decide(&request);
    if request.origin.is_some() {
        let why = withheld::Why {
            reason: "no_route",
            method: request.request_method.unwrap_or(request.method).to_owned(),
            header: None,
        };
        withheld::log(decision.is_preflight(), &why, request.origin, host, "none");
    }
    if decision.is_preflight() {
        return preflight::respond(&decision, "none");
    }
    let headers = Headers::new()?;
    let mut writes = HeaderWrites::new();
    writes.set("content-type", "text/plain; charset=utf-8");
    writes.set(REVISION_HEADER, "none");
    writes.apply_to(&headers);
    Ok(glue::respond_with_text(
        "bucketcors: no route is published for this host\n",
        404,
        &headers,
    ))
}

/// The incoming request and what has been read from it.
struct Incoming<'a> {
    req: &'a web_sys::Request,
    headers: &'a Headers,
    names: &'a HeaderNames,
    cors: &'a CorsRequest,
    /// The query string, which may carry a presigned URL's signature.
    query: Option<&'a str>,
}

/// Forwards an actual request (through the body cache when it may be cached)
/// and writes the engine's CORS headers on the way back.
async fn forward_actual(
    incoming: &Incoming<'_>,
    ctx: &Context,
    route: &Route,
    origin: &str,
    settings: &Settings,
    now: f64,
) -> Result<web_sys::Response> {
    let ttl = settings.body_cache_ttl_seconds;
    let cors = incoming.cors;
    // A key the pass memory holds skips the cache altogether (module docs
    // of `body_cache`).
    let cacheable = ttl > 0
        && body_cache::is_cacheable_request(cors.method(), incoming.names, incoming.query)
        && !body_cache::recently_uncacheable(origin, now);
    if cacheable {
        match body_cache::lookup(origin).await {
            Ok(Some(hit)) => {
                let vary = hit.headers.get("vary")?;
                return finish(
                    route,
                    cors,
                    hit.status,
                    &hit.headers,
                    vary.as_deref(),
                    hit.body,
                    CacheStatus::Hit,
                );
            }
            Ok(None) => {}
            Err(err) => log::error("body_cache_lookup_failed", &[("error", &err.to_string())]),
        }
    }
    let resp = match forward::send(
        incoming.req,
        cors.method(),
        incoming.headers,
        incoming.names,
        origin,
    )
    .await
    {
        Ok(resp) => resp,
        Err(err) => {
            log::error(
                "origin_unreachable",
                &[
                    ("route", route.name()),
                    ("method", cors.method()),
                    ("error", &err.to_string()),
                ],
            );
            return origin_unreachable(route, cors);
        }
    };
    let status = resp.status();
    let stripped = cors_headers::without_cors(&resp.headers())?;
    let (body, cache_status) = if cacheable {
        let (body, stored) = body_cache::store(
            ctx,
            origin,
            status,
            &stripped.headers,
            &stripped.names,
            resp.body(),
            ttl,
            route.cache_unmarked,
        )?;
        body_cache::remember(origin, stored, now, ttl);
        (body, stored)
    } else {
        (resp.body(), CacheStatus::Bypass)
    };
    finish(
        route,
        cors,
        status,
        &stripped.headers,
        stripped.vary.as_deref(),
        body,
        cache_status,
    )
}

/// Writes the engine's CORS headers (decided against the same `route` the
/// request started with), the revision and the cache status into `headers`,
/// and builds the response.
fn finish(
    route: &Route,
    cors: &CorsRequest,
    status: u16,
    headers: &Headers,
    vary: Option<&str>,
    body: Option<web_sys::ReadableStream>,
    cache_status: CacheStatus,
) -> Result<web_sys::Response> {
    write_headers(route, cors, headers, vary, cache_status);
    Ok(glue::respond(body, status, headers))
}

/// `502` when the bucket origin could not be reached, with the engine's
/// CORS headers, so a browser can read the failure.
fn origin_unreachable(route: &Route, cors: &CorsRequest) -> Result<web_sys::Response> {
    let headers = Headers::new()?;
    headers.set("content-type", "text/plain; charset=utf-8")?;
    write_headers(route, cors, &headers, None, CacheStatus::Bypass);
    Ok(glue::respond_with_text(
        "bucketcors: the bucket origin could not be reached\n",
        502,
        &headers,
    ))
}

/// Queues the engine's decision, the revision and the cache status, and
/// writes them into `headers` in one call.
fn write_headers(
    route: &Route,
    cors: &CorsRequest,
    headers: &Headers,
    vary: Option<&str>,
    cache_status: CacheStatus,
) {
    let request = cors.engine();
    let decision = route.compiled.decide(&request);
    if let Some(why) = withheld::why(&route.compiled, &request, &decision) {
        withheld::log(false, &why, request.origin, route.name(), &route.revision);
    }
    let mut writes = HeaderWrites::new();
    cors_headers::apply(&mut writes, vary, decision.headers());
    writes.set(REVISION_HEADER, &route.revision);
    writes.set(CACHE_HEADER, cache_status.as_str());
    writes.apply_to(headers);
}
