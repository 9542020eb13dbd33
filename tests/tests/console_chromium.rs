//! The console's tester against Chromium itself: what the page says a
//! browser does with a request is what Debian Chromium does when a real
//! page makes that request.
//!
//! `console_dir` checks the tester's exchanges against `bucketcors eval`,
//! and `browser_fetch_model` checks the browser model against Chromium on
//! scripted answers. This test closes the loop through the page: for each
//! random request it fills the tester (URL, origin, method, headers,
//! credentials) in the console, then has a second Chromium, on a page at
//! that very origin (`http://NAME.test:PORT`), `fetch` that URL from a
//! loopback bucket answering with the engine's S3 decision for the same
//! manifest ([`support::engine_origin`]). The expectation comes from
//! Chromium and from what reached the bucket, never from the model:
//!
//! - the page shows a preflight exactly when one reached the bucket, with
//!   the `Access-Control-Request-Headers` Chromium sent;
//! - the page says "allowed" exactly when Chromium's `fetch` resolved;
//! - when refused, Chromium's console holds the page's message, URL and
//!   origin included (for several unlisted headers Chromium names one of
//!   them, which must be one the page lists);
//! - a header the page says the browser drops never reached the bucket.
//!
//! `BUCKETCORS_TESTER_SEED` replays a run; `BUCKETCORS_TESTER_CASES` sets
//! how many (default 150). Fails (never skips) without Node, the
//! harnesses' playwright-core or Chromium.

mod support;

use bucketcors_operator::crd::BucketCorsSpec;
use bucketcors_testkit::scratch;
use serde_json::{Value, json};
use support::browser::{Browser, Fetch};
use support::console::{Console, Page};
use support::dice::{Dice, env_u64};
use support::engine_origin::EngineOrigin;
use support::manifest::BucketCorsManifest;

/// Rules that give the three pages different fates: `admin` may write
/// with two headers, `app` (matched through a `*` in the origin) may read
/// with `Range`, anyone may `HEAD` (`*`, refused with credentials).
fn manifest(browser: &Browser, endpoint: &str) -> Value {
    let app_pattern = browser.origin("app").replace("app.test", "app.*");
    let text = BucketCorsManifest::garage("web", "probe", endpoint, "probe")
        .rule_with(json!({
            "id": "admin",
            "allowedOrigins": [browser.origin("admin")],
            "allowedMethods": ["GET", "HEAD", "PUT", "DELETE"],
            "allowedHeaders": ["content-type", "x-amz-*"],
            "exposeHeaders": ["ETag"],
            "maxAgeSeconds": 300,
        }))
        .rule_with(json!({
            "id": "app",
            "allowedOrigins": [app_pattern],
            "allowedMethods": ["GET"],
            "allowedHeaders": ["range"],
        }))
        .rule_with(json!({
            "id": "anyone",
            "allowedOrigins": ["*"],
            "allowedMethods": ["HEAD"],
        }))
        .render();
    serde_json::from_str(&text).expect("the manifest is JSON")
}

/// One random request: the page it comes from, method, headers, credentials.
fn random_request(dice: &mut Dice) -> (&'static str, &'static str, Vec<(String, String)>, bool) {
    let page = *dice.pick(&["admin", "app", "evil", "admin", "app"]);
    let method = *dice.pick(&[
        "GET", "GET", "HEAD", "PUT", "PUT", "DELETE", "POST", "PATCH", "get", "put", "patch",
    ]);
    let headers = [
        ("content-type", "text/plain"),
        ("content-type", "application/json"),
        ("range", "bytes=0-9"),
        ("range", "bytes=-9"),
        ("x-amz-meta-note", "a"),
        ("authorization", "AWS x"),
        ("x-custom", "1"),
        ("accept", "*/*"),
        ("cookie", "a=b"),
    ];
    // Mostly none or one: each added header is one more chance of a refusal.
    let count = *dice.pick(&[0, 0, 1, 1, 1, 2]);
    let mut chosen: Vec<(String, String)> = Vec::new();
    for _ in 0..count {
        let (n, v) = *dice.pick(&headers);
        if !chosen.iter().any(|(c, _)| c == n) {
            chosen.push((n.to_owned(), v.to_owned()));
        }
    }
    (page, method, chosen, dice.chance(25))
}

/// `Name: value` lines of a shown request, by lower-case name.
fn shown_header<'a>(exchange: &'a Value, name: &str) -> Option<&'a str> {
    exchange["requestHeaders"]
        .as_array()?
        .iter()
        .find(|pair| {
            pair[0]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
        .and_then(|pair| pair[1].as_str())
}

/// The header a "Request header field X is not allowed" message names.
fn named_header(message: &str) -> Option<&str> {
    let rest = message.split("Request header field ").nth(1)?;
    rest.split(" is not allowed").next()
}

#[test]
fn the_testers_browser_verdict_is_what_chromium_does() {
    let seed = env_u64("BUCKETCORS_TESTER_SEED", 0x7e57_c0de);
    let cases = env_u64("BUCKETCORS_TESTER_CASES", 150);
    let mut browser = Browser::start(&["admin", "app", "evil"]);
    let bucket = EngineOrigin::start();
    let endpoint = format!("http://127.0.0.1:{}", bucket.port());
    let manifest = manifest(&browser, &endpoint);
    let spec: BucketCorsSpec =
        serde_json::from_value(manifest["spec"].clone()).expect("the manifest's spec");
    // The bucket answers for exactly the rules the console reads from the file.
    bucket.set(&spec.cors_config());
    let dir = scratch::fresh_dir("console-chromium").expect("scratch dir");
    std::fs::write(dir.join("probe.yaml"), manifest.to_string()).expect("write manifest");
    let console = Console::start(&["--dir", dir.to_str().expect("utf-8")], &[]);
    let mut page = Page::open(&console.url);
    page.goto("#/o/web/probe/test");

    let mut dice = Dice(seed);
    let (mut allowed, mut preflights, mut dropped_checked, mut wrong) = (0, 0, 0, Vec::new());
    let mut reasons = std::collections::BTreeMap::<String, u32>::new();
    for case in 0..cases {
        let (name, method, headers, credentials) = random_request(&mut dice);
        let origin = browser.origin(name).to_owned();
        let path = format!("/probe/case-{case}");
        let url = format!("{endpoint}{path}");
        let pairs: Vec<Value> = headers.iter().map(|(n, v)| json!([n, v])).collect();
        let request = json!({"url": url, "origin": origin, "method": method,
            "headers": pairs, "credentials": credentials});
        let reply = page.cmd(json!({"cmd": "tester", "requests": [request]}));
        let shown = &reply["results"][0]["applied"];
        assert!(shown.get("error").is_none(), "{request}: {shown}");

        let mut fetch = Fetch::get(name, &url).method(method);
        for (n, v) in &headers {
            fetch = fetch.header(n, v);
        }
        if credentials {
            fetch = fetch.with_credentials();
        }
        let before = bucket.seen().len();
        let seen = browser.fetch(&fetch);
        let arrived: Vec<_> = bucket.seen()[before..]
            .iter()
            .filter(|s| s.target == path)
            .cloned()
            .collect();

        let case_wrong = |what: String| format!("case {case} {request}: {what}");
        let preflight = arrived.iter().find(|s| s.method == "OPTIONS");
        let page_shows_preflight = !shown["preflight"].is_null();
        if preflight.is_some() != page_shows_preflight {
            wrong.push(case_wrong(format!(
                "preflight reached the bucket: {}, the page shows one: {page_shows_preflight}",
                preflight.is_some(),
            )));
        }
        if let Some(p) = preflight {
            preflights += 1;
            let page_value = shown_header(&shown["preflight"], "access-control-request-headers");
            let sent = p.header("access-control-request-headers");
            if sent != page_value {
                wrong.push(case_wrong(format!(
                    "Chromium sent Access-Control-Request-Headers {sent:?}, the page shows {page_value:?}"
                )));
            }
        }
        let page_allowed = shown["allowed"] == true;
        if seen.ok != page_allowed {
            wrong.push(case_wrong(format!(
                "Chromium {}, the page says {:?}; console {:?}",
                if seen.ok { "allowed it" } else { "refused it" },
                shown["browser"],
                seen.console
            )));
        }
        if !seen.ok && !page_allowed {
            let text = shown["browser"].as_str().unwrap_or_default();
            let message = text
                .strip_prefix("Chromium blocks it: ")
                .unwrap_or_else(|| panic!("the page words a refusal so: {text:?}"));
            // Several unlisted headers: Chromium names one of them, which
            // the page must list among the ones to allow.
            let listed = |logged: &str| {
                let (Some(page_named), Some(logged_named)) =
                    (named_header(message), named_header(logged))
                else {
                    return false;
                };
                let notes = shown["notes"].to_string();
                message.replace(page_named, logged_named) == logged && notes.contains(logged_named)
            };
            if !seen
                .console
                .iter()
                .any(|m| m.contains(message) || listed(m))
            {
                wrong.push(case_wrong(format!(
                    "the page says {message:?}; Chromium logged {:?}",
                    seen.console
                )));
            }
        }
        if seen.ok {
            allowed += 1;
        } else {
            let reason = shown["reason"].as_str().unwrap_or("?").to_owned();
            *reasons.entry(reason).or_default() += 1;
        }
        // A header the page calls dropped never reaches the bucket.
        for note in shown["notes"].as_array().into_iter().flatten() {
            let note = note.as_str().unwrap_or_default();
            if let Some(rest) = note.strip_prefix("A page cannot set ") {
                let names = rest.split(':').next().unwrap_or_default();
                for dropped in names.split(", ") {
                    dropped_checked += 1;
                    let sent = arrived.iter().any(|s| {
                        s.header(dropped).is_some()
                            || s.header("access-control-request-headers")
                                .is_some_and(|h| h.split(',').any(|n| n == dropped))
                    });
                    if sent {
                        wrong.push(case_wrong(format!(
                            "the page says {dropped} is dropped, yet it reached the bucket"
                        )));
                    }
                }
            }
        }
    }
    println!(
        "console tester vs Chromium: seed {seed}, {cases} requests, {allowed} allowed, \
         {preflights} preflights, {dropped_checked} dropped headers checked, {} disagreements; refusals by reason {reasons:?}",
        wrong.len()
    );
    assert!(
        wrong.is_empty(),
        "{} of {cases} disagree (BUCKETCORS_TESTER_SEED={seed} replays):\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert!(
        allowed > 0 && allowed < cases && preflights > 0 && dropped_checked > 0,
        "the sample needs both outcomes, preflights and a dropped header: {allowed} allowed, \
         {preflights} preflights, {dropped_checked} dropped headers checked"
    );
}
