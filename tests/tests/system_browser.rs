//! The whole system seen from a real browser: BucketCors manifests applied
//! with the real `bucketcors apply` (the reconcile core the operator runs)
//! reach a real Garage bucket and the real worker in workerd (published
//! through the edge harness's Cloudflare KV API), and Debian Chromium,
//! driven by playwright-core, loads pages from `http://app.test:P` and
//! `http://other.test:P` and fetches through the edge.
//!
//! Every browser outcome is checked against the engine's decision for the
//! same manifest (`support::browser_cors` turns a decision into what the
//! Fetch standard lets a page observe), never against written-down answers;
//! bodies and object metadata are checked against what the bucket holds.
//!
//! Scenarios, in order, on one Garage, one worker and one browser:
//!
//! 1. **Garage's web endpoint as the route's origin**: an allowed GET of an
//!    object stored in Garage, served by Garage's website hosting, not the
//!    S3 API; a denied origin's fetch fails.
//! 2. **A PUT with a custom header** (`x-amz-meta-owner`, so a real
//!    preflight) through the edge to the S3 API with a presigned URL: the
//!    object lands in the bucket with that metadata; the denied origin's PUT
//!    fails in the browser and never reaches the bucket.
//! 3. **A rule change propagating**: a changed manifest applied; the
//!    browser's next fetches reflect it within a bound derived from the
//!    harness's rules TTL (polled, not slept).
//! 4. **Two dialects behind one worker**: an S3 bucket (Garage) and an OSS
//!    bucket (the local OSS stand-in) with the same rules: a credentialed
//!    fetch is allowed by the S3 answer (echoed origin and
//!    `Access-Control-Allow-Credentials: true`) and refused by the browser
//!    for the OSS answer (no `Allow-Credentials`).
//! 5. **Deletion under each policy**, run through the reconcile core's
//!    `remove` (the operator's finalizer; `bucketcors apply` has no delete
//!    command): `Delete` leaves the bucket without CORS and the browser's
//!    fetch through the edge fails (the route is gone: like a bucket
//!    without CORS); `Retain` leaves the bucket's rules and the browser keeps
//!    being served as before.
//!
//! ## How the route reaches Garage's web endpoint without DNS
//!
//! The worker sends the origin request to the URL in the record and workerd
//! sets `Host` from that URL (the client's `Host` is a hop header and is
//! dropped). Garage's web endpoint picks the bucket from `Host` with the port
//! stripped: a host ending in its root domain (`.web.garage.localhost`)
//! names the bucket by the labels before it, any other host is taken whole as
//! a bucket's global alias. `*.localhost` does not resolve on every machine,
//! but `localhost` does, and `localhost` is a valid bucket name (3 to 63 of
//! `a-z0-9.-`, not an IP address; `127.0.0.1` is refused as one). So the
//! site bucket gets the global alias `localhost` and website access, and its
//! route's origin is `http://localhost:WEBPORT`: workerd resolves
//! `localhost`, sends `Host: localhost:WEBPORT`, and Garage serves the
//! bucket. The worker is unchanged. One node can serve one bucket this way;
//! the other Garage routes use the S3 API (`http://127.0.0.1:S3PORT/BUCKET`)
//! with presigned URLs, as private buckets are used from browsers.
//!
//! Fails (never skips) without Garage, Node with the harness's npm packages,
//! the built worker, or Chromium.

mod support;

use std::time::{Duration, Instant};

use bucketcors_engine::format::parse_document;
use bucketcors_engine::{Compiled, Dialect};
use bucketcors_sync::reconcile::Removal;
use bucketcors_testkit::edge::EdgeOptions;
use serde_json::{Value, json};
use support::browser::{Browser, Fetch, Seen};
use support::browser_cors::expected;
use support::oss_standin::OssStandIn;
use support::presign::{Presign, signed_url, via_edge};
use support::raw_http::{self, RawResponse};
use support::world::World;
use support::{cli, finalizer};

/// The harness's `RULES_TTL_SECONDS`: how long the worker trusts a record.
const RULES_TTL_SECONDS: f64 = 1.0;

/// How long a published change (or removal) may take to reach a browser:
/// the worker rereads a record once its TTL has run out, so one TTL plus
/// one more for a read in flight, and slack for a loaded two-core machine.
fn propagation_bound() -> Duration {
    Duration::from_secs_f64(RULES_TTL_SECONDS * 2.0) + Duration::from_secs(5)
}

const SITE_BUCKET: &str = "sb-site";
const UPLOADS_BUCKET: &str = "sb-uploads";
const S3_BUCKET: &str = "sb-s3";
const OSS_BUCKET: &str = "sb-oss";

const SITE_HOST: &str = "site.system.test";
const UPLOADS_HOST: &str = "uploads.system.test";
const S3_HOST: &str = "s3.system.test";
const OSS_HOST: &str = "oss.system.test";

/// Garage, the edge, the browser, and the scratch directory.
struct System {
    started: Instant,
    world: World,
    browser: Browser,
    edge_port: u16,
}

impl System {
    fn start() -> System {
        let started = Instant::now();
        let world = World::start(
            &[SITE_BUCKET, UPLOADS_BUCKET, S3_BUCKET],
            &EdgeOptions {
                rules_ttl_seconds: RULES_TTL_SECONDS,
                ..EdgeOptions::default()
            },
        );
        let browser = Browser::start(&["app", "other"]);
        let edge_port = world
            .edge
            .edge_url
            .rsplit(':')
            .next()
            .and_then(|p| p.trim_end_matches('/').parse().ok())
            .expect("the edge URL has a port");
        eprintln!(
            "browser: Garage, the edge and Chromium up in {:?}",
            started.elapsed()
        );
        System {
            started,
            world,
            browser,
            edge_port,
        }
    }

    fn app(&self) -> String {
        self.browser.origin("app").to_owned()
    }

    fn other(&self) -> String {
        self.browser.origin("other").to_owned()
    }

    /// `http://HOST:EDGEPORT`: the edge as the browser addresses a route.
    fn edge_base(&self, host: &str) -> String {
        format!("http://{host}:{}", self.edge_port)
    }

    /// Writes `manifest` and runs `bucketcors apply -f` on it; it must succeed.
    fn apply(&self, name: &str, manifest: &Value) {
        let path = cli::write(
            &self.world.dir,
            &format!("{name}.yaml"),
            &manifest.to_string(),
        );
        let run = self.world.apply(&path);
        eprintln!("browser: [{:>7.1?}] applied {name}", self.started.elapsed());
        assert_eq!(
            run.code,
            Some(0),
            "bucketcors apply {name} failed:\n{}",
            run.all()
        );
    }

    /// Runs `fetch` in the browser and checks the outcome against the engine:
    /// resolved or refused as the decision implies (a refusal must be
    /// Chromium's CORS refusal), and each response header readable exactly
    /// when the decision exposes it.
    fn check(&mut self, engine: &Compiled, fetch: &Fetch, what: &str) -> Seen {
        let (seen, preflighted) = self.check_quietly(engine, fetch, what);
        eprintln!(
            "browser: [{:>7.1?}] {what}: {}{}",
            self.started.elapsed(),
            if seen.ok {
                format!("status {}", seen.status.unwrap_or(0))
            } else {
                "refused by CORS".to_owned()
            },
            if preflighted {
                " (after a preflight)"
            } else {
                ""
            },
        );
        seen
    }

    /// [`System::check`] without the progress line.
    /// Also returns whether the browser had to send a preflight.
    fn check_quietly(&mut self, engine: &Compiled, fetch: &Fetch, what: &str) -> (Seen, bool) {
        let origin = self.browser.origin(&fetch.page).to_owned();
        let want = expected(engine, &origin, fetch);
        let seen = self.browser.fetch(fetch);
        assert_eq!(
            seen.ok,
            want.succeeds,
            "{what}: the browser's fetch from {origin} {} where the engine's decision says it {}\nseen: {seen:?}\nedge log:\n{}",
            if seen.ok { "resolved" } else { "failed" },
            if want.succeeds { "succeeds" } else { "fails" },
            self.world.edge.log_tail()
        );
        if !seen.ok {
            assert!(
                seen.blocked_by_cors(),
                "{what}: the failure must be Chromium's CORS refusal, not a network error: {seen:?}"
            );
        }
        for (name, readable) in &want.readable {
            assert_eq!(
                seen.header(name).is_some(),
                *readable,
                "{what}: header {name} readable by the page: seen {seen:?}"
            );
        }
        (seen, want.preflighted)
    }

    /// Sends `GET path` straight to Garage's S3 API with a presigned URL:
    /// what the bucket holds, bypassing the edge.
    fn bucket_object(&self, bucket: &str, key: &str) -> RawResponse {
        let url = signed_url(&self.world.garage, Presign::Get, bucket, key);
        let endpoint = self.world.garage.endpoint();
        let path = url.strip_prefix(&endpoint).expect("a Garage URL");
        raw_get(&endpoint, path, None)
    }
}

/// `GET path` on `base` (`http://127.0.0.1:PORT`), with `host` as `Host`.
fn raw_get(base: &str, path: &str, host: Option<&str>) -> RawResponse {
    let addr: std::net::SocketAddr = base
        .trim_start_matches("http://")
        .parse()
        .expect("a loopback address");
    let host = host.map(str::to_owned).unwrap_or_else(|| addr.to_string());
    let request = raw_http::request_bytes(b"GET", path, &host, &[], false);
    raw_http::send(addr, &request, Duration::from_secs(20))
        .unwrap_or_else(|e| panic!("GET {base}{path}: {e}"))
}

/// A BucketCors manifest (JSON, which `bucketcors apply` reads as YAML).
fn manifest(
    name: &str,
    backend: Value,
    rules: Value,
    host: &str,
    origin_url: &str,
    policy: &str,
) -> Value {
    json!({
        "apiVersion": "bucketcors.dev/v1alpha1",
        "kind": "BucketCors",
        "metadata": { "name": name, "namespace": "system-browser" },
        "spec": {
            "backend": backend,
            "rules": rules,
            "edge": { "enabled": true, "hosts": [host], "originUrl": origin_url },
            "deletionPolicy": policy,
        }
    })
}

fn garage_backend(world: &World, bucket: &str) -> Value {
    json!({
        "provider": "s3",
        "bucket": bucket,
        "endpoint": world.garage.endpoint(),
        "region": world.garage.region(),
        "pathStyle": true,
    })
}

/// The engine's compiled rules for a manifest, as the edge serves them.
fn engine_for(manifest: &Value) -> Compiled {
    let doc = parse_document(&manifest.to_string()).expect("the manifest parses");
    Compiled::new(
        &doc.config,
        doc.dialect.expect("a manifest names its provider"),
    )
    .expect("valid rules")
}

/// The allowed origins of each rule of a manifest, as Garage should hold them.
fn manifest_origins(manifest: &Value) -> Vec<Vec<String>> {
    manifest["spec"]["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| {
            r["allowedOrigins"]
                .as_array()
                .expect("origins")
                .iter()
                .map(|o| o.as_str().expect("origin").to_owned())
                .collect()
        })
        .collect()
}

/// Polls `probe` until it returns true, within `bound`; returns how long it took.
fn poll(what: &str, bound: Duration, mut probe: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    loop {
        if probe() {
            return start.elapsed();
        }
        assert!(start.elapsed() < bound, "{what}: not within {bound:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn manifests_to_garage_and_the_edge_seen_by_chromium() {
    let mut sys = System::start();
    let (app, other) = (sys.app(), sys.other());

    // 1. Garage's web endpoint as the route's origin.
    let garage = &sys.world.garage;
    garage
        .enable_website(SITE_BUCKET)
        .expect("website access on the site bucket");
    garage
        .add_alias(SITE_BUCKET, "localhost")
        .expect("the alias `localhost` on the site bucket");
    let site_body = "hello from Garage's web endpoint\n";
    sys.world
        .put_object(SITE_BUCKET, "hello.txt", site_body.as_bytes());
    let web = garage.web_endpoint();
    let web_origin = format!("http://localhost:{}", garage.web_port());
    // What the bucket serves on its website, asked the way the worker asks.
    let direct = raw_get(
        &web,
        "/hello.txt",
        Some(&format!("localhost:{}", garage.web_port())),
    );
    assert_eq!(
        (direct.status, direct.text().as_str()),
        (200, site_body),
        "Garage's web endpoint serves the site bucket under Host localhost"
    );
    let site_etag = direct
        .header("etag")
        .expect("Garage sends an ETag")
        .to_owned();
    // The S3 API would refuse the same anonymous GET: a 200 through the edge
    // can only come from the web endpoint.
    let anonymous = sys
        .world
        .bucket_request("GET", SITE_BUCKET, "/hello.txt", &[]);
    assert_eq!(
        anonymous.status, 403,
        "Garage's S3 API refuses anonymous reads"
    );

    let site_v1 = manifest(
        "site",
        garage_backend(&sys.world, SITE_BUCKET),
        json!([{ "id": "site", "allowedOrigins": [app], "allowedMethods": ["GET", "HEAD"], "exposeHeaders": ["ETag"] }]),
        SITE_HOST,
        &web_origin,
        "Retain",
    );
    sys.apply("site", &site_v1);
    assert_eq!(
        sys.world.bucket_origins(SITE_BUCKET),
        Some(manifest_origins(&site_v1)),
        "the site rules are in Garage"
    );
    let site_engine = engine_for(&site_v1);
    let site_url = format!("{}/hello.txt", sys.edge_base(SITE_HOST));
    let seen = sys.check(
        &site_engine,
        &Fetch::get("app", &site_url).read(&["etag", "x-bucketcors-revision"]),
        "site: allowed GET served by Garage's web endpoint",
    );
    assert_eq!(seen.status, Some(200));
    assert_eq!(
        seen.body.as_deref(),
        Some(site_body),
        "the object Garage stores"
    );
    assert_eq!(
        seen.header("etag"),
        Some(site_etag.as_str()),
        "the exposed ETag is the bucket's"
    );
    // The edge does send its revision header; the page just may not read an
    // unexposed header.
    let raw = sys
        .world
        .edge_request("GET", SITE_HOST, "/hello.txt", &[("Origin", app.as_str())]);
    assert!(
        raw.header("x-bucketcors-revision").is_some(),
        "the edge sends x-bucketcors-revision: {:?}",
        raw.headers
    );
    sys.check(
        &site_engine,
        &Fetch::get("other", &site_url).read(&["etag"]),
        "site: denied origin",
    );

    // 2. A PUT with a custom header (a real preflight), presigned for the S3 API.
    let uploads = manifest(
        "uploads",
        garage_backend(&sys.world, UPLOADS_BUCKET),
        json!([{ "allowedOrigins": [app], "allowedMethods": ["GET", "PUT"], "allowedHeaders": ["x-amz-meta-*"], "exposeHeaders": ["ETag"] }]),
        UPLOADS_HOST,
        &format!("{}/{UPLOADS_BUCKET}", sys.world.garage.endpoint()),
        "Delete",
    );
    sys.apply("uploads", &uploads);
    assert_eq!(
        sys.world.bucket_origins(UPLOADS_BUCKET),
        Some(manifest_origins(&uploads)),
        "the upload rules are in Garage"
    );
    let uploads_engine = engine_for(&uploads);
    let uploads_base = sys.edge_base(UPLOADS_HOST);
    let upload = |sys: &System, key: &str| {
        let signed = signed_url(
            &sys.world.garage,
            Presign::PutWithMeta("owner", "browser"),
            UPLOADS_BUCKET,
            key,
        );
        via_edge(&sys.world.garage, &signed, UPLOADS_BUCKET, &uploads_base)
    };
    let put_body = "written by Chromium through the edge\n";
    let put = Fetch::get("app", &upload(&sys, "from-app.txt"))
        .method("PUT")
        .header("x-amz-meta-owner", "browser")
        .body(put_body)
        .read(&["etag"]);
    assert!(
        expected(&uploads_engine, &app, &put).preflighted,
        "the PUT with a custom header is preflighted"
    );
    let seen = sys.check(&uploads_engine, &put, "uploads: allowed preflighted PUT");
    assert_eq!(seen.status, Some(200), "Garage stored the object: {seen:?}");
    let stored = sys.bucket_object(UPLOADS_BUCKET, "from-app.txt");
    assert_eq!(
        (stored.status, stored.text().as_str()),
        (200, put_body),
        "the bucket holds the browser's body"
    );
    assert_eq!(
        stored.header("x-amz-meta-owner"),
        Some("browser"),
        "with the custom header as metadata"
    );
    assert_eq!(
        seen.header("etag"),
        stored.header("etag"),
        "the exposed ETag is the stored object's"
    );
    let denied_put = Fetch::get("other", &upload(&sys, "from-other.txt"))
        .method("PUT")
        .header("x-amz-meta-owner", "browser")
        .body("must never arrive");
    sys.check(&uploads_engine, &denied_put, "uploads: denied origin's PUT");
    assert_eq!(
        sys.bucket_object(UPLOADS_BUCKET, "from-other.txt").status,
        404,
        "the refused preflight kept the PUT from the bucket"
    );
    let signed_get = signed_url(
        &sys.world.garage,
        Presign::Get,
        UPLOADS_BUCKET,
        "from-app.txt",
    );
    let uploads_get = Fetch::get(
        "app",
        &via_edge(
            &sys.world.garage,
            &signed_get,
            UPLOADS_BUCKET,
            &uploads_base,
        ),
    );
    let seen = sys.check(
        &uploads_engine,
        &uploads_get,
        "uploads: allowed presigned GET",
    );
    assert_eq!(seen.body.as_deref(), Some(put_body));

    // 3. A rule change propagating to the browser.
    let site_v2 = manifest(
        "site",
        garage_backend(&sys.world, SITE_BUCKET),
        json!([{ "id": "site", "allowedOrigins": [app, other], "allowedMethods": ["GET", "HEAD"], "exposeHeaders": ["ETag"] }]),
        SITE_HOST,
        &web_origin,
        "Retain",
    );
    sys.apply("site", &site_v2);
    assert_eq!(
        sys.world.bucket_origins(SITE_BUCKET),
        Some(manifest_origins(&site_v2)),
        "the change is in Garage"
    );
    let site_v2_engine = engine_for(&site_v2);
    let from_other = Fetch::get("other", &site_url).read(&["etag"]);
    assert_ne!(
        expected(&site_engine, &other, &from_other).succeeds,
        expected(&site_v2_engine, &other, &from_other).succeeds,
        "the change is one the browser can see"
    );
    let took = poll(
        "the browser sees the changed rules",
        propagation_bound(),
        || sys.browser.fetch(&from_other).ok,
    );
    eprintln!(
        "browser: rule change seen {took:?} after apply returned (rules TTL {RULES_TTL_SECONDS} s)"
    );
    for page in ["app", "other"] {
        let seen = sys.check(
            &site_v2_engine,
            &Fetch::get(page, &site_url).read(&["etag"]),
            &format!("site after the change: {page}"),
        );
        assert_eq!(seen.body.as_deref(), Some(site_body));
    }

    // 4. Two dialects behind one worker.
    let oss = OssStandIn::start(OSS_BUCKET).expect("the OSS stand-in listens");
    sys.world.put_object(S3_BUCKET, "a.txt", b"from garage\n");
    let same_rules = json!([{ "allowedOrigins": [app], "allowedMethods": ["GET"] }]);
    let s3_manifest = manifest(
        "dialect-s3",
        garage_backend(&sys.world, S3_BUCKET),
        same_rules.clone(),
        S3_HOST,
        &format!("{}/{S3_BUCKET}", sys.world.garage.endpoint()),
        "Delete",
    );
    let mut oss_manifest = manifest(
        "dialect-oss",
        json!({ "provider": "oss", "bucket": OSS_BUCKET, "endpoint": oss.endpoint(), "region": "cn-hangzhou", "pathStyle": true }),
        same_rules,
        OSS_HOST,
        &oss.origin_url(),
        "Delete",
    );
    oss_manifest["spec"]["responseVary"] = json!(true);
    let dialects = sys.world.dir.join("dialects");
    std::fs::create_dir_all(&dialects).expect("dialects dir");
    cli::write(&dialects, "s3.yaml", &s3_manifest.to_string());
    cli::write(&dialects, "oss.yaml", &oss_manifest.to_string());
    let mut env = sys.world.env();
    env.push(("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI-standin".into()));
    env.push(("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "standin-secret".into()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let args = sys.world.apply_args(&dialects, &sys.world.edge.api_url);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = cli::run(&args, &env);
    assert_eq!(
        run.code,
        Some(0),
        "applying both dialects failed:\n{}",
        run.all()
    );
    assert!(
        sys.world.bucket_rules(S3_BUCKET).is_some(),
        "Garage got the S3 rules"
    );
    assert!(
        oss.cors_xml().is_some(),
        "the OSS bucket got PutBucketCors: {:?}",
        oss.calls()
    );
    let s3_engine = engine_for(&s3_manifest);
    let oss_engine = engine_for(&oss_manifest);
    assert_eq!(
        (s3_engine.dialect(), oss_engine.dialect()),
        (Dialect::S3, Dialect::Oss)
    );
    let s3_signed = signed_url(&sys.world.garage, Presign::Get, S3_BUCKET, "a.txt");
    let s3_url = via_edge(
        &sys.world.garage,
        &s3_signed,
        S3_BUCKET,
        &sys.edge_base(S3_HOST),
    );
    let oss_url = format!("{}/a.txt", sys.edge_base(OSS_HOST));
    let mut credentialed = Vec::new();
    for (dialect, engine, url, body) in [
        ("s3", &s3_engine, &s3_url, "from garage\n"),
        ("oss", &oss_engine, &oss_url, "object a.txt"),
    ] {
        for page in ["app", "other"] {
            for with_credentials in [false, true] {
                let mut fetch = Fetch::get(page, url);
                if with_credentials {
                    fetch = fetch.with_credentials();
                }
                let seen = sys.check(
                    engine,
                    &fetch,
                    &format!("{dialect}: GET from {page}, credentials {with_credentials}"),
                );
                if seen.ok {
                    assert_eq!(
                        seen.body.as_deref(),
                        Some(body),
                        "{dialect}: the route's own bucket"
                    );
                }
                if page == "app" && with_credentials {
                    credentialed.push(seen.ok);
                }
            }
        }
    }
    assert_ne!(
        credentialed[0], credentialed[1],
        "the browser sees the dialects differ on a credentialed request"
    );

    // 5. Deletion under each policy.
    assert_eq!(finalizer::remove(&sys.world, &uploads), Removal::Deleted);
    assert_eq!(
        sys.world.bucket_rules(UPLOADS_BUCKET),
        None,
        "Delete removes the bucket's CORS configuration"
    );
    let garage_preflight = sys.world.bucket_request(
        "OPTIONS",
        UPLOADS_BUCKET,
        "/from-app.txt",
        &[
            ("Origin", app.as_str()),
            ("Access-Control-Request-Method", "GET"),
        ],
    );
    assert_eq!(
        garage_preflight.status, 403,
        "Garage refuses preflights without rules"
    );
    let took = poll(
        "the edge forgets the deleted route",
        propagation_bound(),
        || !sys.browser.fetch(&uploads_get).ok,
    );
    eprintln!("browser: deletion seen {took:?} after remove returned");
    // A host without a record answers like a bucket without CORS.
    let no_rules = Compiled::none(Dialect::S3);
    sys.check(
        &no_rules,
        &uploads_get,
        "uploads after Delete: the origin the rules allowed",
    );
    assert_eq!(
        sys.bucket_object(UPLOADS_BUCKET, "from-app.txt").status,
        200,
        "Delete removes CORS, not the data"
    );

    let rules_before = sys.world.bucket_rules(SITE_BUCKET);
    assert_eq!(finalizer::remove(&sys.world, &site_v2), Removal::Retained);
    assert_eq!(
        sys.world.bucket_rules(SITE_BUCKET),
        rules_before,
        "Retain leaves the bucket's rules as they were"
    );
    // Nothing may change: watch the browser for longer than a change takes
    // to arrive.
    let watch = Instant::now();
    let mut fetches = 0;
    while watch.elapsed() < propagation_bound() {
        for page in ["app", "other"] {
            let (seen, _) = sys.check_quietly(
                &site_v2_engine,
                &Fetch::get(page, &site_url).read(&["etag"]),
                &format!("site after Retain: {page}"),
            );
            assert_eq!(seen.body.as_deref(), Some(site_body));
            fetches += 1;
        }
    }
    eprintln!(
        "browser: {fetches} fetches over {:?} after Retain all served as before; whole test {:?}",
        propagation_bound(),
        sys.started.elapsed()
    );
}
