//! Engine decisions against tower-http's `CorsLayer`, in the same run.
//!
//! Configurations of 1, 10 and 100 rules. Rule `i` allows either the exact
//! origin `https://app{i}.example.com` (even `i`) or the pattern
//! `https://*.tenant{i}.example.com` (odd `i`), methods GET/PUT/HEAD,
//! headers `x-amz-*` and `content-type`, exposes `ETag` and sets a max age.
//! Requests target the LAST rule, so every rule is scanned (worst case).
//! Preflights request three headers, in the form browsers send.
//!
//! Both sides start from the same prebuilt `http::Request`
//! (`engine_decision_only` shows the decision alone, without writing the
//! headers):
//! - engine: read Origin / Access-Control-Request-* from its `HeaderMap`,
//!   decide, and hand each response header (name, borrowed value, or the
//!   requested-headers value formatted into a reused buffer) to the
//!   response, as a server does; the request is borrowed.
//! - tower-http: the equivalent policy (an origin predicate over the same
//!   exact origins and prefix/suffix patterns, the same methods, the three
//!   requested header names since it has no header patterns, expose
//!   headers, max age, credentials) in front of a no-op service, called
//!   with the request; the request is built in criterion's untimed setup
//!   because the service consumes it (dropping the response is timed).
//!   Note that tower-http answers a preflight with its configured header
//!   list without checking the requested headers; the engine checks each
//!   one against the rule, as the providers do.

use std::convert::Infallible;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use bucketcors_engine::request::header_text;
use bucketcors_engine::{Compiled, CorsConfig, Dialect, Request, ResourceType, Rule};
use bytes::Bytes;
use criterion::measurement::Measurement;
use criterion::{BatchSize, Criterion};
use futures::FutureExt;
use http::{HeaderValue, Method, header};
use http_body_util::Empty;
use tower::{Layer, Service, ServiceExt, service_fn};
use tower_http::cors::{AllowOrigin, CorsLayer};

const SIZES: [usize; 3] = [1, 10, 100];
/// Access-Control-Request-Headers as browsers send it: Fetch lower-cases,
/// sorts and comma-joins the names.
const REQUESTED: &str = "content-type,x-amz-content-sha256,x-amz-date";

fn origin_of_rule(i: usize) -> (String, String) {
    // (allowed origin as written, an origin the rule matches)
    if i.is_multiple_of(2) {
        let o = format!("https://app{i}.example.com");
        (o.clone(), o)
    } else {
        (
            format!("https://*.tenant{i}.example.com"),
            format!("https://eu.tenant{i}.example.com"),
        )
    }
}

fn config(n: usize) -> CorsConfig {
    CorsConfig {
        rules: (0..n)
            .map(|i| Rule {
                id: None,
                allowed_origins: vec![origin_of_rule(i).0],
                allowed_methods: ["GET", "PUT", "HEAD"].map(String::from).to_vec(),
                allowed_headers: vec!["x-amz-*".into(), "content-type".into()],
                expose_headers: vec!["ETag".into()],
                max_age_seconds: Some(3000),
            })
            .collect(),
        response_vary: false,
    }
}

fn http_request(n: usize, preflight: bool) -> http::Request<()> {
    let origin = origin_of_rule(n - 1).1;
    let mut b = http::Request::builder().header(header::ORIGIN, origin);
    b = if preflight {
        b.method(Method::OPTIONS)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "PUT")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, REQUESTED)
    } else {
        b.method(Method::GET)
    };
    b.uri("/photos/cat.jpg").body(()).unwrap()
}

/// The tower-http policy equivalent to `config(n)`.
fn tower_layer(n: usize) -> CorsLayer {
    let mut exact: Vec<HeaderValue> = Vec::new();
    let mut patterns: Vec<(String, String)> = Vec::new();
    for i in 0..n {
        let (allowed, _) = origin_of_rule(i);
        match allowed.split_once('*') {
            Some((p, s)) => patterns.push((p.to_owned(), s.to_owned())),
            None => exact.push(HeaderValue::from_str(&allowed).unwrap()),
        }
    }
    let patterns = Arc::new(patterns);
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin, _| {
            exact.iter().any(|e| e == origin)
                || origin.to_str().is_ok_and(|o| {
                    patterns.iter().any(|(p, s)| {
                        o.len() >= p.len() + s.len() && o.starts_with(p) && o.ends_with(s)
                    })
                })
        }))
        .allow_methods([Method::GET, Method::PUT, Method::HEAD])
        .allow_headers([
            header::HeaderName::from_static("x-amz-date"),
            header::CONTENT_TYPE,
            header::HeaderName::from_static("x-amz-content-sha256"),
        ])
        .expose_headers([header::ETAG])
        .max_age(Duration::from_secs(3000))
        .allow_credentials(true)
}

/// The engine's view of an `http::Request`: borrowed header values, read
/// in one pass over the request's headers (three hashed lookups cost more
/// than walking the handful of headers a request has); the first value of
/// each header wins, as with `HeaderMap::get`.
fn engine_request(req: &http::Request<()>) -> Request<'_> {
    let mut request = Request {
        method: req.method().as_str(),
        resource: ResourceType::Object,
        ..Request::default()
    };
    for (name, value) in req.headers() {
        let slot = if name == header::ORIGIN {
            &mut request.origin
        } else if name == header::ACCESS_CONTROL_REQUEST_METHOD {
            &mut request.request_method
        } else if name == header::ACCESS_CONTROL_REQUEST_HEADERS {
            &mut request.request_headers
        } else {
            continue;
        };
        // The engine's `header_text` (ASCII checked a word at a time) rather
        // than `HeaderValue::to_str` (visible ASCII, byte by byte) or
        // `std::str::from_utf8` (which costs about as much as the rest of
        // the decision on these short values): the engine needs text and
        // validates nothing else about these values.
        if slot.is_none() {
            *slot = header_text(value.as_bytes());
        }
    }
    request
}

/// Decides and hands each response header to the response as a server
/// sets it (the worker calls `Headers.set(name, value)`, an `http` server
/// inserts into its `HeaderMap`): values borrowed where they already exist,
/// the one formatted value (`Access-Control-Allow-Headers`) written into
/// the reused `scratch` first. Returns the status and the number of
/// headers.
fn engine_decide(
    compiled: &Compiled,
    req: &http::Request<()>,
    scratch: &mut String,
) -> (u16, usize) {
    let decision = compiled.decide(&engine_request(req));
    let mut n = 0;
    // Internal iteration: `Headers` walks its slots in straight-line code.
    decision.headers().for_each(|(name, value)| {
        match value.as_str() {
            Some(text) => black_box((name, text)),
            None => {
                scratch.clear();
                let _ = value.write_to(scratch);
                black_box((name, scratch.as_str()))
            }
        };
        n += 1;
    });
    (decision.status(), n)
}

fn bench<M: Measurement + 'static>(c: &mut Criterion<M>) {
    for (kind, preflight) in [("preflight", true), ("actual", false)] {
        let mut group = c.benchmark_group(kind);
        for n in SIZES {
            let compiled = Compiled::new(&config(n), Dialect::S3).expect("valid bench config");
            let req = http_request(n, preflight);
            let mut scratch = String::with_capacity(1024);
            // Same answer as tower-http where they overlap: allowed, with
            // the full header set.
            let want_headers = if preflight { 7 } else { 6 };
            assert_eq!(
                engine_decide(&compiled, &req, &mut scratch),
                (200, want_headers)
            );
            group.bench_function(format!("engine_decision_only/{n}"), |b| {
                b.iter(|| {
                    let d = compiled.decide(black_box(&engine_request(&req)));
                    (d.status(), d.matched_rule())
                })
            });
            group.bench_function(format!("engine/{n}"), |b| {
                b.iter(|| engine_decide(&compiled, black_box(&req), &mut scratch))
            });

            let noop = service_fn(|_req: http::Request<()>| async {
                Ok::<_, Infallible>(http::Response::new(Empty::<Bytes>::new()))
            });
            let mut svc = tower_layer(n).layer(noop);
            let check = svc
                .ready()
                .now_or_never()
                .unwrap()
                .unwrap()
                .call(http_request(n, preflight))
                .now_or_never()
                .unwrap()
                .unwrap();
            assert!(
                check
                    .headers()
                    .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN),
                "tower-http must allow the same request"
            );
            group.bench_function(format!("tower_http/{n}"), |b| {
                b.iter_batched(
                    || http_request(n, preflight),
                    |req| svc.call(req).now_or_never().unwrap().unwrap(),
                    BatchSize::SmallInput,
                )
            });
        }
        group.finish();
    }
}

#[path = "support/cpu_time.rs"]
mod cpu_time;

fn main() {
    // `BUCKETCORS_BENCH_CLOCK=cpu`: thread CPU time instead of wall time
    // (see support/cpu_time.rs).
    if std::env::var("BUCKETCORS_BENCH_CLOCK").as_deref() == Ok("cpu") {
        let mut c = Criterion::default()
            .with_measurement(cpu_time::CpuTime)
            .configure_from_args();
        bench(&mut c);
        c.final_summary();
    } else {
        let mut c = Criterion::default().configure_from_args();
        bench(&mut c);
        c.final_summary();
    }
}
