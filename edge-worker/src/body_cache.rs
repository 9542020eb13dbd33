//! Caching object bodies at the edge without ever caching CORS.
//!
//! CDNs have been seen to ignore `Vary: Origin` and hand every client the
//! `Access-Control-Allow-Origin` computed for the first one. So the Cache API
//! only ever stores responses stripped of CORS headers (and of the CORS
//! members of `Vary`), keyed by the origin URL; the engine's headers are
//! added to each response after the cache, per request.
//!
//! Only plain `GET`s are cached: no `Authorization`, no `Cookie`, no `Range`
//! (those may be personal or partial), and only `200` answers without
//! `Set-Cookie`, `no-store` or `private`. An origin answer without
//! `Cache-Control` is stored with `public, max-age=BODY_CACHE_TTL_SECONDS`;
//! that header is marked and removed again on the way out, so clients see
//! what the origin sent.

use std::cell::RefCell;
use std::collections::HashMap;

use worker::{Cache, Context, Headers, Request, Response, ResponseBody, Result};

/// At most this many keys are remembered as uncacheable per isolate; when
/// full, the memory is cleared (a forgotten key only costs one lookup).
const PASS_MEMORY: usize = 1024;

thread_local! {
    /// Keys whose last origin answer could not be stored, with when that
    /// stops counting (ms since the epoch): "hit-for-pass", as shared caches
    /// call it. Looking such a key up would only find nothing; the request
    /// still goes to the origin, whose answer is stored again once it may
    /// be, so this changes how fast, never what, a client is served.
    static PASS: RefCell<HashMap<String, f64>> = RefCell::new(HashMap::new());
}

/// True when `key`'s last origin answer was not storable, less than the
/// body-cache TTL ago: the cache lookup can be skipped.
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

/// Marks a `Cache-Control` header the edge added for its own cache.
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

/// True when `req` may be answered from, and stored into, the shared cache.
pub fn is_cacheable_request(req: &Request) -> bool {
    let has = |name: &str| req.headers().has(name).unwrap_or(true);
    req.inner().method() == "GET" && !has("authorization") && !has("cookie") && !has("range")
}

/// The cached body for `key`, as status, CORS-free headers and body.
pub async fn lookup(key: &str) -> Result<Option<(u16, Headers, ResponseBody)>> {
    let Some(resp) = Cache::default().get(key, false).await? else {
        return Ok(None);
    };
    let status = resp.status_code();
    // A native copy (mutable, unlike a cached response's own headers).
    let headers = resp.headers().clone();
    if headers.has(ADDED_CACHE_CONTROL)? {
        headers.delete(ADDED_CACHE_CONTROL)?;
        headers.delete("cache-control")?;
    }
    let (_, body) = resp.into_parts();
    Ok(Some((status, headers, body)))
}

/// Stores a copy of a CORS-free origin answer under `key` when it may be
/// cached, in the background; returns the body to send on (the stream is
/// teed). `headers` must already be free of CORS headers.
pub fn store(
    ctx: &Context,
    key: &str,
    status: u16,
    headers: &Headers,
    body: ResponseBody,
    ttl_seconds: u32,
) -> Result<(ResponseBody, CacheStatus)> {
    let cache_control = headers
        .get("cache-control")?
        .unwrap_or_default()
        .to_ascii_lowercase();
    let storable = status == 200
        && ttl_seconds > 0
        && !headers.has("set-cookie")?
        && !cache_control.contains("no-store")
        && !cache_control.contains("private");
    if !storable {
        return Ok((body, CacheStatus::Bypass));
    }
    let stored_headers = headers.clone();
    if cache_control.is_empty() {
        stored_headers.set("cache-control", &format!("public, max-age={ttl_seconds}"))?;
        stored_headers.set(ADDED_CACHE_CONTROL, "1")?;
    }
    let mut stored = Response::builder()
        .with_status(status)
        .with_headers(stored_headers)
        .body(body);
    // Tee: one branch to the cache, one to the client.
    let to_client = stored.cloned()?;
    let key = key.to_owned();
    ctx.wait_until(async move {
        if let Err(err) = Cache::default().put(key.as_str(), stored).await {
            crate::log::error(
                "body_cache_put_failed",
                &[("key", &key), ("error", &err.to_string())],
            );
        }
    });
    let (_, body) = to_client.into_parts();
    Ok((body, CacheStatus::Miss))
}
