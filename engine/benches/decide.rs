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
//!   decide, and produce the response's CORS headers as one batch (names,
//!   borrowed values, the requested-headers value formatted into a reused
//!   buffer), handed over once, as the edge worker does; the request is
//!   borrowed. `engine_each_header` hands each header to an opaque consumer
//!   as it comes instead (one `black_box` per header), for context.
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

/// Decides and produces the response's CORS headers as one batch, the way
/// the edge worker sets them (one call across to JavaScript for all of
/// them) and the way an `http` server extends its `HeaderMap`: names, values
/// borrowed where they already exist, and the one formatted value
/// (`Access-Control-Allow-Headers`) written into the reused `scratch`. The
/// batch is handed over once, at the end. Returns the status and the number
/// of headers.
fn engine_decide(
    compiled: &Compiled,
    req: &http::Request<()>,
    scratch: &mut String,
) -> (u16, usize) {
    let decision = compiled.decide(&engine_request(req));
    scratch.clear();
    // `None`: the formatted value, which is in `scratch`.
    let mut batch: [(&str, Option<&str>); 8] = [("", None); 8];
    let mut n = 0;
    // Internal iteration: `Headers` walks its slots in straight-line code.
    decision.headers().for_each(|(name, value)| {
        let text = value.as_str();
        if text.is_none() {
            let _ = value.write_to(scratch);
        }
        batch[n] = (name, text);
        n += 1;
    });
    black_box((&batch[..n], scratch.as_str()));
    (decision.status(), n)
}

/// [`engine_decide`], but each header is handed to an opaque consumer as it
/// comes (one `black_box` per header, as a server calling a setter that the
/// compiler cannot see into would): the same work plus what that costs.
fn engine_decide_each(
    compiled: &Compiled,
    req: &http::Request<()>,
    scratch: &mut String,
) -> (u16, usize) {
    let decision = compiled.decide(&engine_request(req));
    let mut n = 0;
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
            assert_eq!(
                engine_decide_each(&compiled, &req, &mut scratch),
                (200, want_headers)
            );
            group.bench_function(format!("engine/{n}"), |b| {
                b.iter(|| engine_decide(&compiled, black_box(&req), &mut scratch))
            });
            group.bench_function(format!("engine_each_header/{n}"), |b| {
                b.iter(|| engine_decide_each(&compiled, black_box(&req), &mut scratch))
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
#[path = "support/paired.rs"]
mod paired;

/// Requests built (untimed) per timed batch of tower-http calls.
const TOWER_BATCH: u64 = 128;

/// Paired rounds (see support/paired.rs) of the engine (with headers and
/// decision only) and tower-http on every case; returns a Markdown table.
fn paired_table(rounds: usize) -> String {
    use paired::{Contender, measure, median, time_loop};
    let mut out = String::new();
    out.push_str(&format!(
        "Paired rounds: {rounds} rounds per case; in each, the three contenders run back to back \
         for about 2 ms each (rotating which goes first), and the ratio is taken within the round. \
         Medians over the rounds; ratio ranges are the lowest and highest round.\n\n"
    ));
    out.push_str("| case | engine | engine_decision_only | tower_http | tower-http / engine | tower-http / decision only |\n");
    out.push_str("| --- | ---: | ---: | ---: | ---: | ---: |\n");
    for (kind, preflight) in [("preflight", true), ("actual", false)] {
        for n in SIZES {
            let compiled = Compiled::new(&config(n), Dialect::S3).expect("valid bench config");
            let req = http_request(n, preflight);
            let mut scratch = String::with_capacity(1024);
            let noop = service_fn(|_req: http::Request<()>| async {
                Ok::<_, Infallible>(http::Response::new(Empty::<Bytes>::new()))
            });
            let mut svc = tower_layer(n).layer(noop);
            let mut requests: Vec<http::Request<()>> = Vec::new();
            let mut responses = Vec::new();
            let mut contenders = [
                Contender {
                    name: "engine",
                    run: Box::new(|iters| {
                        time_loop(iters, || {
                            engine_decide(&compiled, black_box(&req), &mut scratch)
                        })
                    }),
                },
                Contender {
                    name: "engine_decision_only",
                    run: Box::new(|iters| {
                        time_loop(iters, || {
                            let d = compiled.decide(black_box(&engine_request(&req)));
                            (d.status(), d.matched_rule())
                        })
                    }),
                },
                Contender {
                    name: "tower_http",
                    run: Box::new(|iters| {
                        // As criterion's `iter_batched`: requests built and
                        // responses dropped outside the timed part, in
                        // batches small enough to stay in cache (criterion's
                        // are larger: this favours tower-http, if anything).
                        let mut took = Duration::ZERO;
                        let mut left = iters;
                        while left > 0 {
                            let batch = left.min(TOWER_BATCH);
                            left -= batch;
                            requests.extend((0..batch).map(|_| http_request(n, preflight)));
                            let start = std::time::Instant::now();
                            for req in requests.drain(..) {
                                responses.push(svc.call(req).now_or_never().unwrap().unwrap());
                            }
                            took += start.elapsed();
                            responses.clear();
                        }
                        took
                    }),
                },
            ];
            let names: Vec<&str> = contenders.iter().map(|c| c.name).collect();
            assert_eq!(names, ["engine", "engine_decision_only", "tower_http"]);
            let ns = measure(&mut contenders, rounds, Duration::from_millis(2));
            let column = |i: usize| -> Vec<f64> { ns.iter().map(|r| r[i]).collect() };
            let ratio = |i: usize| -> Vec<f64> { ns.iter().map(|r| r[2] / r[i]).collect() };
            let (mut full, mut decision) = (ratio(0), ratio(1));
            let range = |v: &[f64]| {
                let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = v.iter().copied().fold(0.0, f64::max);
                format!("{lo:.1}–{hi:.1}")
            };
            let (full_range, decision_range) = (range(&full), range(&decision));
            out.push_str(&format!(
                "| `{kind}/{n}` | {:.1} ns | {:.1} ns | {:.1} ns | **{:.1}x** ({full_range}) | **{:.1}x** ({decision_range}) |\n",
                median(&mut column(0)),
                median(&mut column(1)),
                median(&mut column(2)),
                median(&mut full),
                median(&mut decision),
            ));
        }
    }
    out
}

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
    // `BUCKETCORS_BENCH_PAIRED=FILE`: also run paired rounds and write
    // their table to FILE (scripts/bench.sh puts it in the report).
    if let Some(path) = std::env::var_os("BUCKETCORS_BENCH_PAIRED") {
        let rounds = std::env::var("BUCKETCORS_BENCH_PAIRED_ROUNDS")
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or(101);
        let table = paired_table(rounds);
        print!("{table}");
        std::fs::write(&path, table).expect("write the paired-rounds table");
    }
}
