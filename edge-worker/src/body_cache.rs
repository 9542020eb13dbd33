//! Caching object bodies at the edge without ever caching CORS, and
//! without ever sharing what is not public.
//!
//! CDNs have been seen to ignore `Vary: Origin` and hand every client the
//! `Access-Control-Allow-Origin` computed for the first one. So the Cache API
//! only ever stores responses stripped of CORS headers (and of the CORS
//! members of `Vary`), keyed by the origin URL; the engine's headers are
//! added to each response after the cache, per request.
//!
//! What may be shared is decided by [`crate::cache_policy`]: plain `GET`s
//! without credentials (no `Authorization`, `Cookie`, `Range`, nor a
//! presigned URL's signature), and answers the origin marks cacheable for
//! everyone. An answer without any caching marks is stored only when the
//! route opts in (`cacheUnmarked`), with `public,
//! max-age=BODY_CACHE_TTL_SECONDS`; an answer marked `public` without a
//! lifetime gets the same. That added header is marked and removed again on
//! the way out, so clients see what the origin sent.
//!
//! A key whose origin answer could not be stored is remembered for the
//! body-cache TTL ("hit-for-pass", as shared caches call it): its requests
//! skip the cache entirely, neither looking up (which would find nothing)
//! nor examining the answer for storing, and go to the origin like any
//! uncacheable request. Once the TTL is over the next answer is examined
//! again and stored if it may be. So the memory changes how much work a
//! request costs, never what a client is served; it does delay caching an
//! object whose origin starts allowing it by at most one TTL. Requests with
//! credentials never reach the memory (their keys would hold the
//! signature).
//!
//! Cache keys are URLs and may be long-lived identifiers of private
//! objects, so they are logged only as [`crate::log::key_hash`].
//!
//! Everything here works on header names already listed
//! ([`HeaderNames`]), so deciding costs no calls across the JavaScript
//! boundary beyond reading `Cache-Control` when the origin sent one.

use std::cell::RefCell;
use std::collections::HashMap;

use worker::web_sys::{self, Headers, ReadableStream};
use worker::{Cache, Context, ResponseBody, Result};

use crate::cache_policy::{self, Storable};
use crate::glue::{self, HeaderNames};

/// At most this many keys are remembered as uncacheable per isolate; when
/// full, the memory is cleared (a forgotten key only costs one lookup).
const PASS_MEMORY: usize = 1024;

thread_local! {
    /// Keys whose last origin answer could not be stored, with when that
    /// stops counting (ms since the epoch); see the module docs.
    static PASS: RefCell<HashMap<String, f64>> = RefCell::new(HashMap::new());
}

/// How many keys the pass memory holds.
pub fn remembered() -> usize {
    PASS.with(|pass| pass.borrow().len())
}

/// True when `key`'s last origin answer was not storable, less than the
/// body-cache TTL ago: the request passes the cache by.
pub fn recently_uncacheable(key: &str, now_ms: f64) -> bool {
    PASS.with(|pass| pass.borrow().get(key).is_some_and(|until| now_ms < *until))
}

/// Records what storing `key` did: a [`CacheStatus::Bypass`] is remembered
/// for `ttl_seconds`, anything else forgets the key.
pub fn remember(key: &str, status: CacheStatus, now_ms: f64, ttl_seconds: u32) {
    PASS.with(|pass| {
        let mut pass = pass.borrow_mut();
        if status != CacheStatus::Bypass {
            pass.remove(key);
            return;
        }
        if pass.len() >= PASS_MEMORY {
            pass.clear();
        }
        pass.insert(key.to_owned(), now_ms + f64::from(ttl_seconds) * 1000.0);
    });
}

/// Marks a `Cache-Control` header the edge wrote for its own cache; the
/// value is the origin's own (empty when it sent none).
const ADDED_CACHE_CONTROL: &str = "x-bucketcors-added-cache-control";

/// What the cache did for a response, reported in `x-bucketcors-cache`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheStatus {
    /// Served from the cache.
    Hit,
    /// Fetched from the origin and stored.
    Miss,
    /// Not cacheable; fetched from the origin.
    Bypass,
}

impl CacheStatus {
    /// The header value.
    pub fn as_str(self) -> &'static str {
        match self {
            CacheStatus::Hit => "HIT",
            CacheStatus::Miss => "MISS",
            CacheStatus::Bypass => "BYPASS",
        }
    }
}

/// True when a request with `method`, header names `names` and `query`
/// may be answered from, and stored into, the shared cache
/// ([`cache_policy::request_credential`]).
pub fn is_cacheable_request(method: &str, names: &HeaderNames, query: Option<&str>) -> bool {
    cache_policy::request_credential(method, names.iter(), query).is_none()
}

/// A cached answer: status, CORS-free headers (mutable) and body.
#[derive(Debug)]
pub struct Cached {
    /// The status stored.
    pub status: u16,
    /// A mutable copy of the stored headers, without the edge's own marks.
    pub headers: Headers,
    /// The stored body.
    pub body: Option<ReadableStream>,
}

/// The cached answer for `key`, if any.
pub async fn lookup(key: &str) -> Result<Option<Cached>> {
    let Some(resp) = Cache::default().get(key, false).await? else {
        return Ok(None);
    };
    let status = resp.status_code();
    // A native copy (mutable, unlike a cached response's own headers).
    let headers = Headers::new_with_headers(&resp.headers().0)?;
    // The origin's own `Cache-Control` (empty when it sent none) comes back.
    if let Some(original) = headers.get(ADDED_CACHE_CONTROL)? {
        headers.delete(ADDED_CACHE_CONTROL)?;
        if original.is_empty() {
            headers.delete("cache-control")?;
        } else {
            headers.set("cache-control", &original)?;
        }
    }
    let (_, body) = resp.into_parts();
    let body = match body {
        ResponseBody::Stream(stream) => Some(stream),
        ResponseBody::Empty => None,
        // workers-rs hands cache answers back as streams; a buffered body
        // would be streamed again.
        ResponseBody::Body(bytes) => {
            web_sys::Response::from(worker::Response::from_bytes(bytes)?).body()
        }
    };
    Ok(Some(Cached {
        status,
        headers,
        body,
    }))
}

/// Stores a copy of a CORS-free origin answer under `key` when it may be
/// shared ([`cache_policy::storability`]; unmarked answers only when
/// `cache_unmarked`, the route's opt-in), in the background; returns the
/// body to send on (the stream is teed when stored). `headers` must already
/// be free of CORS headers; `names` are the origin answer's header names.
#[allow(clippy::too_many_arguments)]
pub fn store(
    ctx: &Context,
    key: &str,
    status: u16,
    headers: &Headers,
    names: &HeaderNames,
    body: Option<ReadableStream>,
    ttl_seconds: u32,
    cache_unmarked: bool,
) -> Result<(Option<ReadableStream>, CacheStatus)> {
    let cache_control = if names.has("cache-control") {
        headers.get("cache-control")?
    } else {
        None
    };
    let storable =
        cache_policy::storability(status, names.has("set-cookie"), cache_control.as_deref());
    let add_lifetime = match storable {
        Storable::Public => false,
        Storable::PublicWithoutLifetime => true,
        Storable::Unmarked if cache_unmarked => true,
        Storable::Unmarked | Storable::No => return Ok((body, CacheStatus::Bypass)),
    };
    if ttl_seconds == 0 {
        return Ok((body, CacheStatus::Bypass));
    }
    let stored_headers = Headers::new_with_headers(headers)?;
    if add_lifetime {
        stored_headers.set("cache-control", &format!("public, max-age={ttl_seconds}"))?;
        stored_headers.set(ADDED_CACHE_CONTROL, cache_control.as_deref().unwrap_or(""))?;
    }
    let stored = glue::respond(body, status, &stored_headers);
    // Tee: one branch to the cache, one to the client.
    let to_client: web_sys::Response = stored.clone()?;
    let key = key.to_owned();
    ctx.wait_until(async move {
        if let Err(err) = Cache::default()
            .put(key.as_str(), worker::Response::from(stored))
            .await
        {
            crate::log::error(
                "body_cache_put_failed",
                &[
                    ("key_hash", &crate::log::key_hash(&key)),
                    ("error", &err.to_string()),
                ],
            );
        }
    });
    Ok((to_client.body(), CacheStatus::Miss))
}
