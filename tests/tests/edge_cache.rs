//! The caching guarantee (spec section 5): the worker caches bodies without
//! CORS headers and adds the headers per request after the cache, so two
//! origins alternately fetching the same cached object each see only their
//! own `Access-Control-Allow-Origin`, while the bucket is asked only once.
//! And the body cache's pass memory ("hit-for-pass"): an object whose answer
//! could not be stored is passed to the bucket every time, for the body-cache
//! TTL, and is cached again once that is over. And only what is public is
//! shared: an answer without caching headers passes the cache unless its
//! route opts in (`cacheUnmarked`), and then the lifetime the edge gives it
//! is never shown to clients.

mod edge_support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bucketcors_engine::Dialect;
use bucketcors_engine::RuleSet;
use bucketcors_engine::edge_record::EdgeRecord;
use bucketcors_testkit::edge::EdgeOptions;
use edge_support::{Answer, Edge, Probe, config};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alternating_origins_never_see_each_others_allow_origin() {
    let edge = Edge::start(EdgeOptions::default());
    let host = "cache.edge.test";
    let rules = config(
        r#"{"rules":[{"allowedOrigins":["https://one.example","https://two.example"],"allowedMethods":["GET"],"exposeHeaders":["x-amz-meta-color"]}]}"#,
    );
    edge.publish(host, None, Dialect::S3, &rules).await;

    // The stand-in origin marks everything under /public/ `public, max-age=60`.
    let path = "/public/shared.js";
    let origins = [
        "https://one.example",
        "https://two.example",
        "https://three.example",
    ];
    let mut statuses = Vec::new();
    for i in 0..12 {
        let origin = origins[i % origins.len()];
        let a = edge
            .send(host, &Probe::new("GET", path).header("origin", origin))
            .await;
        assert_eq!(a.status, 200);
        assert_eq!(a.body, format!("object {path}"));
        let acao = a.header("access-control-allow-origin");
        if origin == "https://three.example" {
            assert_eq!(
                acao, None,
                "request {i}: a disallowed origin gets no Allow-Origin: {a:#?}"
            );
            assert_eq!(a.header("vary"), None);
        } else {
            assert_eq!(
                acao.as_deref(),
                Some(origin),
                "request {i}: its own Allow-Origin only: {a:#?}"
            );
            assert_eq!(
                a.header("vary").as_deref(),
                Some("Origin, Access-Control-Request-Headers, Access-Control-Request-Method")
            );
        }
        assert_ne!(acao.as_deref(), Some("https://bucket-said.example"));
        // What the origin answered is reported by its x-origin-hits; cached
        // answers repeat the first one's headers (minus CORS).
        assert_eq!(
            a.header("x-origin-hits").as_deref(),
            Some("1"),
            "request {i} served from the first fetch"
        );
        statuses.push(a.header("x-bucketcors-cache").unwrap_or_default());
    }
    assert_eq!(statuses[0], "MISS");
    assert!(
        statuses[1..].iter().all(|s| s == "HIT"),
        "every later request is a cache hit: {statuses:?}"
    );
    assert_eq!(
        edge.origin.seen_under(path).len(),
        1,
        "the bucket was asked once"
    );

    // The body cache never holds CORS headers: a request without Origin,
    // after the cache was filled by allowed origins, gets none.
    let a = edge.send(host, &Probe::new("GET", path)).await;
    assert_eq!(a.header("x-bucketcors-cache").as_deref(), Some("HIT"));
    assert!(a.cors_headers().is_empty(), "{a:#?}");
    // Clients see the origin's own Cache-Control.
    assert_eq!(
        a.header("cache-control").as_deref(),
        Some("public, max-age=60")
    );

    // Uncacheable answers are not cached.
    for _ in 0..2 {
        let a = edge
            .send(
                host,
                &Probe::new("GET", "/nostore/x.js").header("origin", "https://one.example"),
            )
            .await;
        assert_eq!(a.header("x-bucketcors-cache").as_deref(), Some("BYPASS"));
        assert_eq!(
            a.header("access-control-allow-origin").as_deref(),
            Some("https://one.example")
        );
    }
    assert_eq!(edge.origin.seen_under("/nostore/x.js").len(), 2);
}

/// A bucket origin with one kind of answer that the test switches between
/// `Cache-Control: no-store` and `public, max-age=60`, counting the GETs it
/// serves (the shared stand-in origin's answers are fixed per path).
struct SwitchingOrigin {
    url: String,
    no_store: Arc<AtomicBool>,
    gets: Arc<AtomicUsize>,
}

impl SwitchingOrigin {
    fn start() -> SwitchingOrigin {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind origin");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let no_store = Arc::new(AtomicBool::new(true));
        let gets = Arc::new(AtomicUsize::new(0));
        let (flag, count) = (no_store.clone(), gets.clone());
        // Detached: the listener lives until the test process exits.
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (flag, count) = (flag.clone(), count.clone());
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(conn.try_clone().expect("clone stream"));
                    let mut writer = conn;
                    // Bodiless GETs on a keep-alive connection: a request
                    // ends at its blank line.
                    loop {
                        let mut line = String::new();
                        let mut first = true;
                        loop {
                            line.clear();
                            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                                return;
                            }
                            if first {
                                if line.starts_with("GET ") {
                                    count.fetch_add(1, Ordering::SeqCst);
                                }
                                first = false;
                            } else if line.trim_end().is_empty() {
                                break;
                            }
                        }
                        let cache_control = if flag.load(Ordering::SeqCst) {
                            "no-store"
                        } else {
                            "public, max-age=60"
                        };
                        let body = "switching object";
                        let head = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\
                             cache-control: {cache_control}\r\n\r\n",
                            body.len()
                        );
                        if writer.write_all(head.as_bytes()).is_err()
                            || writer.write_all(body.as_bytes()).is_err()
                        {
                            return;
                        }
                    }
                });
            }
        });
        SwitchingOrigin {
            url,
            no_store,
            gets,
        }
    }

    fn gets(&self) -> usize {
        self.gets.load(Ordering::SeqCst)
    }
}

/// The pass memory with a short body-cache TTL: while it holds an object,
/// every GET goes to the bucket and is reported `BYPASS`, even after the
/// bucket starts allowing caching; once the TTL is over the next answer is
/// stored (`MISS`) and later GETs are served from the cache (`HIT`). CORS
/// headers are the engine's throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uncacheable_objects_pass_the_cache_for_its_ttl_then_are_cached_again() {
    const TTL: u64 = 4;
    let edge = Edge::start(EdgeOptions {
        body_cache_ttl_seconds: TTL as u32,
        ..EdgeOptions::default()
    });
    let origin = SwitchingOrigin::start();
    let host = "pass.edge.test";
    edge.publish_to_origin(
        host,
        &origin.url,
        Dialect::S3,
        &config(
            r#"{"rules":[{"allowedOrigins":["https://one.example"],"allowedMethods":["GET"]}]}"#,
        ),
    )
    .await;
    let get = || async {
        let a: Answer = edge
            .send(
                host,
                &Probe::new("GET", "/switch/object.bin").header("origin", "https://one.example"),
            )
            .await;
        assert_eq!(a.status, 200, "{a:#?}");
        assert_eq!(a.body, "switching object");
        assert_eq!(
            a.header("access-control-allow-origin").as_deref(),
            Some("https://one.example"),
            "{a:#?}"
        );
        a.header("x-bucketcors-cache").unwrap_or_default()
    };

    // The first answer is `no-store`: not stored, and the object is
    // remembered as uncacheable from the worker's clock reading, which is
    // no earlier than `started`.
    let started = Instant::now();
    let memory_ends = started + Duration::from_secs(TTL);
    assert_eq!(get().await, "BYPASS");
    for i in 2..=4 {
        assert_eq!(get().await, "BYPASS", "request {i}");
    }
    assert_eq!(origin.gets(), 4, "every uncacheable GET reached the bucket");

    // The bucket now allows caching, but the memory still passes the object
    // by: no lookup, no store, the bucket asked each time. Only answers
    // that came back before the memory can have ended are conclusive.
    origin.no_store.store(false, Ordering::SeqCst);
    let mut passed = 0;
    for i in 0..3 {
        let before = origin.gets();
        let status = get().await;
        if Instant::now() < memory_ends {
            assert_eq!(
                status, "BYPASS",
                "request {i} within the pass memory's TTL is passed to the bucket"
            );
            assert_eq!(origin.gets(), before + 1, "request {i} reached the bucket");
            passed += 1;
        }
    }
    assert!(
        passed > 0,
        "no request finished within the {TTL} s TTL; the machine is too slow for this test"
    );

    // Once the TTL is over, the next answer is stored and served from the
    // cache afterwards (the store completes in the background, so a few
    // more misses may come first).
    tokio::time::sleep(
        memory_ends.saturating_duration_since(Instant::now()) + Duration::from_millis(300),
    )
    .await;
    let before = origin.gets();
    assert_eq!(get().await, "MISS", "after the TTL the answer is stored");
    assert_eq!(origin.gets(), before + 1);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let before = origin.gets();
        let status = get().await;
        if status == "HIT" {
            assert_eq!(
                origin.gets(),
                before,
                "a cache hit does not reach the bucket"
            );
            break;
        }
        assert_eq!(
            status, "MISS",
            "until the store lands, answers are stored again"
        );
        assert!(
            Instant::now() < deadline,
            "the object never became a cache HIT"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Cached now: the bucket turning `no-store` again does not matter until
    // the cached copy expires.
    origin.no_store.store(true, Ordering::SeqCst);
    let before = origin.gets();
    assert_eq!(get().await, "HIT");
    assert_eq!(origin.gets(), before);
}

/// An answer without caching headers may be private: it passes the cache
/// (`BYPASS`, the bucket asked every time) unless the route opts in with
/// `cacheUnmarked`; then it is stored for the body-cache TTL, and the
/// `Cache-Control` the edge gave it for that is not shown to clients.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unmarked_answers_are_shared_only_when_the_route_opts_in() {
    let edge = Edge::start(EdgeOptions::default());
    let rules = config(
        r#"{"rules":[{"allowedOrigins":["https://one.example"],"allowedMethods":["GET"]}]}"#,
    );
    let ruleset = RuleSet::new(Dialect::S3, rules.clone()).expect("rules");
    let closed = "closed.edge.test";
    edge.publish(closed, None, Dialect::S3, &rules).await;
    let open = "optin.edge.test";
    let record = EdgeRecord::new(edge.origin.url.clone(), Dialect::S3, Some(ruleset))
        .expect("record")
        .with_cache_unmarked(true);
    edge.publish_exact(open, None, &record).await;

    let get = |host: &'static str| {
        let edge = &edge;
        // One object per route: the pass memory is per object.
        let path = if host == closed {
            "/unmarked/closed.txt"
        } else {
            "/unmarked/open.txt"
        };
        async move {
            let a = edge
                .send(
                    host,
                    &Probe::new("GET", path).header("origin", "https://one.example"),
                )
                .await;
            assert_eq!(a.status, 200, "{a:#?}");
            assert_eq!(a.header("cache-control"), None, "{a:#?}");
            assert_eq!(
                a.header("access-control-allow-origin").as_deref(),
                Some("https://one.example")
            );
            a.header("x-bucketcors-cache").unwrap_or_default()
        }
    };
    for i in 1..=3 {
        assert_eq!(
            get(closed).await,
            "BYPASS",
            "request {i} on the closed route"
        );
        assert_eq!(
            edge.origin.seen_under("/unmarked/closed.txt").len(),
            i,
            "the bucket is asked each time"
        );
    }
    assert_eq!(get(open).await, "MISS");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let status = get(open).await;
        if status == "HIT" {
            break;
        }
        assert_eq!(
            status, "MISS",
            "until the store lands, answers are stored again"
        );
        assert!(
            Instant::now() < deadline,
            "the opted-in route never served a HIT"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
