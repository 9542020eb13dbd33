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

pub mod body_cache;
pub mod cors_headers;
pub mod cors_request;
pub mod forward;
pub mod log;
pub mod preflight;
pub mod route_table;
pub mod routing;
pub mod settings;

use std::rc::Rc;

use bucketcors_engine::compile::Compiled;
use worker::{Context, Date, Env, Headers, Request, Response, Result, event};

use crate::body_cache::CacheStatus;
use crate::cors_request::CorsRequest;
use crate::route_table::Route;
use crate::settings::Settings;

/// Response header naming the rule revision a response was decided with.
const REVISION_HEADER: &str = "x-bucketcors-revision";

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    let settings = Settings::for_isolate(&env);
    let raw_url = req.inner().url();
    let url = routing::RequestUrl::parse(&raw_url);
    // One clock reading per request: route freshness and the body cache's
    // pass memory both use it.
    let now = Date::now().as_millis() as f64;
    let (route, prefix) = find_route(&env, &url, &settings, now).await;
    let below = routing::path_below(url.path, &prefix).to_owned();
    let cors = CorsRequest::read(&req, &below);

    let Some(route) = route else {
        return without_route(&cors, &settings);
    };
    {
        let decision = route.compiled.decide(&cors.engine());
        if decision.is_preflight() {
            return preflight::respond(&decision, &route.revision);
        }
    }
    let origin = routing::origin_url_for(&route.origin_url, &below, url.query);
    forward_actual(&req, &ctx, &cors, &route, &origin, &settings, now).await
}

/// Looks the request's route up, most specific candidate first.
async fn find_route(
    env: &Env,
    url: &routing::RequestUrl<'_>,
    settings: &Settings,
    now: f64,
) -> (Option<Rc<Route>>, String) {
    let kv = match env.kv(settings::RULES_BINDING) {
        Ok(kv) => kv,
        Err(err) => {
            log::error(
                "kv_binding_missing",
                &[
                    ("binding", settings::RULES_BINDING),
                    ("error", &err.to_string()),
                ],
            );
            return (None, String::new());
        }
    };
    for candidate in routing::candidates(url) {
        if let Some(route) =
            route_table::route(&kv, &candidate.key, now, settings.rules_ttl_ms).await
        {
            return (Some(route), candidate.prefix);
        }
    }
    (None, String::new())
}

/// A host without a route: preflights get the dialect's "CORS is not enabled"
/// answer; other requests have no bucket to go to.
fn without_route(cors: &CorsRequest, settings: &Settings) -> Result<Response> {
    let none = Compiled::none(settings.default_dialect);
    let decision = none.decide(&cors.engine());
    if decision.is_preflight() {
        return preflight::respond(&decision, "none");
    }
    let headers = Headers::new();
    headers.set("content-type", "text/plain; charset=utf-8")?;
    headers.set(REVISION_HEADER, "none")?;
    Ok(Response::builder()
        .with_status(404)
        .with_headers(headers)
        .fixed(b"bucketcors: no route is published for this host\n".to_vec()))
}

/// Forwards an actual request (through the body cache when it may be cached)
/// and writes the engine's CORS headers on the way back.
async fn forward_actual(
    req: &Request,
    ctx: &Context,
    cors: &CorsRequest,
    route: &Route,
    origin: &str,
    settings: &Settings,
    now: f64,
) -> Result<Response> {
    let cacheable = settings.body_cache_ttl_seconds > 0 && body_cache::is_cacheable_request(req);
    let cached = if cacheable && !body_cache::recently_uncacheable(origin, now) {
        body_cache::lookup(origin).await.unwrap_or_else(|err| {
            log::error("body_cache_lookup_failed", &[("error", &err.to_string())]);
            None
        })
    } else {
        None
    };
    let (status, headers, body, cache_status) = match cached {
        Some((status, headers, body)) => (status, headers, body, CacheStatus::Hit),
        None => match forward::send(req, origin).await {
            Ok(resp) => {
                let (status, headers, body) = forward::strip_cors(resp)?;
                let (body, cache_status) = if cacheable {
                    body_cache::store(
                        ctx,
                        origin,
                        status,
                        &headers,
                        body,
                        settings.body_cache_ttl_seconds,
                    )
                    .inspect(|(_, stored)| {
                        body_cache::remember(origin, *stored, now, settings.body_cache_ttl_seconds)
                    })?
                } else {
                    (body, CacheStatus::Bypass)
                };
                (status, headers, body, cache_status)
            }
            Err(err) => {
                log::error(
                    "origin_unreachable",
                    &[("method", cors.method()), ("error", &err.to_string())],
                );
                let headers = Headers::new();
                headers.set("content-type", "text/plain; charset=utf-8")?;
                let body = worker::ResponseBody::Body(
                    b"bucketcors: the bucket origin could not be reached\n".to_vec(),
                );
                (502, headers, body, CacheStatus::Bypass)
            }
        },
    };
    // The decision is taken against the same `route` the lookup started with.
    let decision = route.compiled.decide(&cors.engine());
    cors_headers::apply(&headers, decision.headers())?;
    headers.set(REVISION_HEADER, &route.revision)?;
    headers.set("x-bucketcors-cache", cache_status.as_str())?;
    Ok(forward::assemble(status, headers, body))
}
