//! Every lint that claims a browser behaviour, shown in a real Chromium
//! (issue 16): for each, the configuration the lint fires on makes the
//! page fail the way the lint says, and the near-identical configuration
//! it does not fire on works. The lint is computed on both, so the test
//! ties the browser's outcome to the lint's prediction.
//!
//! S3's answers come from [`support::engine_origin`] (the engine's
//! S3-dialect decision served on loopback); the Garage lints (literal `*`
//! allowed headers, two origins in one rule, no Allow-Credentials) use a real
//! Garage. One lint warns about what the Fetch standard says where this
//! Chromium (Debian's 156) deviates: a literal `*` in
//! Access-Control-Allow-Headers covers Authorization here; the test asserts
//! what this Chromium does and that the lint says so. The Max-Age caps (7,200 s in Chromium, 86,400 s in Firefox) are
//! not waited out: their sources are cited in `engine/src/lint/max_age.rs`.
//! `null` origins come from sandboxed frames, which the driver does not
//! open; that lint cites the HTML standard.
//!
//! Fails (never skips) without Node and the harness's playwright-core,
//! Chromium, or Garage.

mod support;

use std::time::Duration;

use bucketcors_engine::lint::{LintCode, LintOptions, lint};
use bucketcors_engine::{CorsConfig, Dialect, Target};
use bucketcors_testkit::garage::Garage;
use support::browser::{Browser, Fetch, Seen};
use support::engine_origin::EngineOrigin;
use support::garage_sdk::{self, config, rule};

/// Asserts the lint fires on `bad` and not on `good`.
fn predicts(code: LintCode, bad: &CorsConfig, good: &CorsConfig, options: &LintOptions) {
    let codes = |c: &CorsConfig| -> Vec<LintCode> {
        lint(c, Dialect::S3, options)
            .into_iter()
            .map(|l| l.code)
            .collect()
    };
    assert!(codes(bad).contains(&code), "{code} should fire on {bad:?}");
    assert!(
        !codes(good).contains(&code),
        "{code} should not fire on {good:?}"
    );
}

fn console(seen: &Seen) -> String {
    seen.console.join("\n")
}

#[test]
fn s3_lints_show_in_chromium() {
    let origin = EngineOrigin::start();
    let mut browser = Browser::start(&["app"]);
    let page = browser.origin("app").to_owned();
    let port = page.rsplit(':').next().expect("page port").to_owned();
    let base = format!("http://bucket.test:{}", origin.port());
    let none = LintOptions::default();

    // Origin forms no browser sends: the page's own origin written another way.
    let forms = [
        (LintCode::OriginUpperCase, format!("http://App.test:{port}")),
        (
            LintCode::OriginTrailingDot,
            format!("http://app.test.:{port}"),
        ),
        (LintCode::OriginNoScheme, format!("app.test:{port}")),
    ];
    for (code, written) in forms {
        let bad = config(vec![rule(&[&written], &["GET"], &[])]);
        let good = config(vec![rule(&[&page], &["GET"], &[])]);
        predicts(code, &bad, &good, &none);
        let path = format!("/{}", code.name());
        origin.set(&bad);
        let seen = browser.fetch(&Fetch::get("app", &format!("{base}{path}")));
        assert!(seen.blocked_by_cors(), "{code}: {seen:?}");
        origin.set(&good);
        let seen = browser.fetch(&Fetch::get("app", &format!("{base}{path}-good")));
        assert!(
            seen.ok && seen.body.as_deref() == Some("object"),
            "{code}: {seen:?}"
        );
    }
    // What Chromium sent: the serialized origin, lower case, no dot.
    for s in origin.seen() {
        assert_eq!(s.header("origin"), Some(page.as_str()), "{s:?}");
    }

    // `*` with credentials: S3 answers `*`, Chromium refuses it.
    let bad = config(vec![rule(&["*"], &["GET"], &[])]);
    let good = config(vec![rule(&[&page], &["GET"], &[])]);
    let creds = LintOptions {
        credentials: true,
        ..LintOptions::default()
    };
    predicts(LintCode::StarOriginWithCredentials, &bad, &good, &creds);
    origin.set(&bad);
    let seen = browser.fetch(&Fetch::get("app", &format!("{base}/creds")).with_credentials());
    assert!(seen.blocked_by_cors(), "{seen:?}");
    assert!(
        console(&seen).contains("wildcard '*'"),
        "{}",
        console(&seen)
    );
    origin.set(&good);
    let seen = browser.fetch(&Fetch::get("app", &format!("{base}/creds-good")).with_credentials());
    assert!(seen.ok, "{seen:?}");

    // Max-Age 0: every request preflights; a positive Max-Age is cached.
    let with_age = |s: u64| {
        let mut r = rule(&[&page], &["PUT"], &["x-probe"]);
        r.max_age_seconds = Some(s);
        config(vec![r])
    };
    predicts(LintCode::MaxAgeZero, &with_age(0), &with_age(600), &none);
    for (seconds, path, preflights) in [(0, "/age-zero", 2), (600, "/age-600", 1)] {
        origin.set(&with_age(seconds));
        for _ in 0..2 {
            let put = Fetch::get("app", &format!("{base}{path}"))
                .method("PUT")
                .header("x-probe", "1")
                .body("x")
                // The driver's `no-store` would skip the preflight cache too.
                .cache("default");
            let seen = browser.fetch(&put);
            assert!(seen.ok, "Max-Age {seconds}: {seen:?}");
        }
        assert_eq!(origin.preflights(path), preflights, "Max-Age {seconds}");
    }
    // Chromium sent the requested header name in lower case.
    assert!(
        origin.seen().iter().any(|s| s.method == "OPTIONS"
            && s.header("access-control-request-headers") == Some("x-probe"))
    );

    // Safelisted response headers are readable without being exposed;
    // ETag is not.
    let exposing = {
        let mut r = rule(&[&page], &["GET"], &[]);
        r.expose_headers = vec!["Content-Type".into()];
        config(vec![r])
    };
    let plain = config(vec![rule(&[&page], &["GET"], &[])]);
    predicts(LintCode::ExposeSafelisted, &exposing, &plain, &none);
    origin.set(&plain);
    let seen = browser
        .fetch(&Fetch::get("app", &format!("{base}/expose")).read(&["content-type", "etag"]));
    assert!(seen.ok, "{seen:?}");
    assert_eq!(seen.header("content-type"), Some("text/plain"), "{seen:?}");
    assert_eq!(seen.header("etag"), None, "{seen:?}");
}

#[test]
fn default_port_origin_shows_in_chromium() {
    // Pages on port 80: their origin is `http://app.test`, no port.
    let origin = EngineOrigin::start();
    let mut browser = Browser::start_on_port(&["app"], 80);
    let page = browser.origin("app").to_owned();
    assert_eq!(page, "http://app.test");
    let base = format!("http://bucket.test:{}", origin.port());
    let bad = config(vec![rule(&["http://app.test:80"], &["GET"], &[])]);
    let good = config(vec![rule(&[&page], &["GET"], &[])]);
    predicts(
        LintCode::OriginDefaultPort,
        &bad,
        &good,
        &LintOptions::default(),
    );
    origin.set(&bad);
    let seen = browser.fetch(&Fetch::get("app", &format!("{base}/port")));
    assert!(seen.blocked_by_cors(), "{seen:?}");
    origin.set(&good);
    let seen = browser.fetch(&Fetch::get("app", &format!("{base}/port-good")));
    assert!(seen.ok, "{seen:?}");
    for s in origin.seen() {
        assert_eq!(s.header("origin"), Some("http://app.test"), "{s:?}");
    }
}

/// PutBucketCors on Garage through the SDK.
fn put(garage: &Garage, bucket: &str, config: &CorsConfig) {
    let client = garage_sdk::client(garage, "browser-lints");
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(garage_sdk::put_cors(&client, bucket, config))
        .expect("Garage takes the configuration");
}

/// Garage's `Access-Control-Allow-Headers` for a preflight of a GET from
/// `origin` asking for `header`, sent straight to its S3 port.
fn allow_headers(garage: &Garage, path: &str, origin: &str, header: &str) -> Option<String> {
    let url = format!("{}/{path}", garage.endpoint());
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async {
            let reply = reqwest::Client::new()
                .request(reqwest::Method::OPTIONS, &url)
                .header("Origin", origin)
                .header("Access-Control-Request-Method", "GET")
                .header("Access-Control-Request-Headers", header)
                .send()
                .await
                .expect("Garage answers the preflight");
            reply
                .headers()
                .get("access-control-allow-headers")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
}

#[test]
fn garage_lints_show_in_chromium() {
    let garage = Garage::start(&["site"]).expect("start Garage");
    let mut browser = Browser::start(&["app", "other"]);
    let page = browser.origin("app").to_owned();
    let other = browser.origin("other").to_owned();
    let s3_port = garage
        .endpoint()
        .rsplit(':')
        .next()
        .expect("port")
        .to_owned();
    let url = |key: &str| format!("http://garage.test:{s3_port}/site/{key}");
    let on_garage = LintOptions {
        credentials: false,
        target: Some(Target::Garage),
    };
    // Let Garage's own answers settle before the first preflight.
    std::thread::sleep(Duration::from_millis(100));

    // A literal `*` in Access-Control-Allow-Headers: by the Fetch standard
    // it never covers Authorization, which is what the lint warns about.
    // Garage answers the `*` as is; this Chromium (Debian's 156) deviates
    // from the standard and lets the literal `*` cover Authorization, and
    // the test asserts that, so a Chromium that starts to follow the
    // standard shows up here.
    let bad = config(vec![rule(&[&page], &["GET"], &["*"])]);
    let good = config(vec![rule(&[&page], &["GET"], &["*", "authorization"])]);
    predicts(LintCode::WildcardHeadersLiteral, &bad, &good, &on_garage);
    let lines: Vec<String> = lint(&bad, Dialect::S3, &on_garage)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("by the Fetch standard") && l.contains("Chromium 156 deviates")),
        "the lint says what the standard and this Chromium do: {lines:?}"
    );
    let signed = |key: &str| {
        Fetch::get("app", &url(key)).header("Authorization", "AWS4-HMAC-SHA256 Credential=test")
    };
    for (twin, key) in [(&bad, "auth"), (&good, "auth-good")] {
        put(&garage, "site", twin);
        // What Garage answers the preflight Chromium sends: the rule's
        // list as configured, a literal `*` first.
        let answer = allow_headers(&garage, &format!("site/{key}"), &page, "authorization");
        assert_eq!(
            answer.as_deref(),
            Some(twin.rules[0].allowed_headers.join(", ").as_str()),
            "Garage's Access-Control-Allow-Headers for {:?}",
            twin.rules[0].allowed_headers
        );
        let seen = browser.fetch(&signed(key));
        assert!(
            seen.ok,
            "{key}: Chromium 156 lets Access-Control-Allow-Headers {answer:?} cover Authorization: {seen:?} {}",
            console(&seen)
        );
    }

    // Two allowed origins in one rule: Garage 2.5.0 answers with the
    // request's origin alone, so Chromium accepts it and no lint warns.
    let both = config(vec![rule(&[&page, &other], &["GET"], &["x-probe"])]);
    let codes: Vec<LintCode> = lint(&both, Dialect::S3, &on_garage)
        .into_iter()
        .map(|l| l.code)
        .collect();
    assert!(codes.iter().all(|c| c.id().starts_with("BC1")), "{codes:?}");
    let probe = |key: &str| Fetch::get("app", &url(key)).header("x-probe", "1");
    put(&garage, "site", &both);
    let seen = browser.fetch(&probe("two-origins"));
    assert!(seen.ok, "{seen:?} {}", console(&seen));

    // No Access-Control-Allow-Credentials: credentialed requests fail.
    let one = config(vec![rule(&[&page], &["GET"], &["x-probe"])]);
    let with_credentials = LintOptions {
        credentials: true,
        target: Some(Target::Garage),
    };
    let codes: Vec<LintCode> = lint(&one, Dialect::S3, &with_credentials)
        .into_iter()
        .map(|l| l.code)
        .collect();
    assert!(codes.contains(&LintCode::TargetNoCredentials), "{codes:?}");
    put(&garage, "site", &one);
    let seen = browser.fetch(&probe("creds").with_credentials());
    assert!(!seen.ok, "{seen:?}");
    assert!(
        console(&seen).contains("Access-Control-Allow-Credentials"),
        "{}",
        console(&seen)
    );
    let seen = browser.fetch(&probe("creds-good"));
    assert!(
        !console(&seen).contains("Access-Control-Allow-Credentials"),
        "{}",
        console(&seen)
    );
}
