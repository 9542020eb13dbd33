//! The browser model (`bucketcors-fetch`) against Debian Chromium itself,
//! on random requests and random answers: the model that `bucketcors
//! doctor` and the console's tester share must predict what the browser
//! really does.
//!
//! For each case a page (`http://app.test:PORT`) calls `fetch` on a
//! scripted loopback server ([`support::scripted_origin`]) that answers the
//! preflight and the actual request with the case's random headers. Then,
//! with the expectation taken from Chromium and the server, never from the
//! model:
//!
//! - a preflight arrived exactly when the model says one is sent, with the
//!   `Access-Control-Request-Method` and `-Headers` the model predicts;
//! - `fetch` resolved exactly when the model allows it;
//! - when refused, Chromium's console holds the model's whole message
//!   (URL, origin, stage and reason);
//! - when allowed, each header the page tried to read was readable exactly
//!   when the model says so.
//!
//! The answers include what no real store sends (two
//! `Access-Control-Allow-Origin` lines, a redirected preflight, `TRUE`),
//! because browsers meet them behind proxies. `BUCKETCORS_FETCH_SEED`
//! replays a run; `BUCKETCORS_FETCH_CASES` sets how many (default 300).
//!
//! Fails (never skips) without Node, the harness's playwright-core or
//! Chromium.

mod support;

use bucketcors_fetch::{
    Answer, Blocked, Browser as Model, PageHeader, PageRequest, chromium, evaluate, readable,
    unlisted_headers,
};
use support::browser::{Browser, Fetch};
use support::dice::{Dice, env_u64};
use support::scripted_origin::{Scripted, ScriptedOrigin};

const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "DELETE", "put", "PATCH"];

/// Headers a page may set (name, value), safelisted and not.
const HEADERS: [(&str, &str); 10] = [
    ("x-amz-date", "20260101T000000Z"),
    ("Content-Type", "application/json"),
    ("Content-Type", "text/plain;charset=UTF-8"),
    ("Authorization", "AWS4-HMAC-SHA256 Credential=x"),
    ("Accept", "application/json"),
    ("Accept-Language", "en(US)"),
    ("X-Custom", "1"),
    ("Range", "bytes=0-10"),
    ("Range", "bytes=-10"),
    ("Content-Language", "de-DE"),
];

fn allow_origin(dice: &mut Dice, origin: &str, lines: &mut Vec<(String, String)>) {
    let acao = "Access-Control-Allow-Origin".to_owned();
    match dice.below(10) {
        0 => {}
        1 | 2 => lines.push((acao, "*".into())),
        3 => lines.push((acao, "http://other.test".into())),
        4 => lines.push((acao, format!("{origin}, {origin}"))),
        5 => {
            lines.push((acao.clone(), origin.to_owned()));
            lines.push((acao, origin.to_owned()));
        }
        6 => lines.push((acao, "null".into())),
        _ => lines.push((acao, origin.to_owned())),
    }
    match dice.below(4) {
        0 => {}
        1 => lines.push(("Access-Control-Allow-Credentials".into(), "TRUE".into())),
        _ => lines.push(("Access-Control-Allow-Credentials".into(), "true".into())),
    }
}

/// A random answer to the preflight, biased toward what a page asks.
fn preflight_answer(dice: &mut Dice, origin: &str, page: &PageRequest) -> Scripted {
    let status = *dice.pick(&[200, 200, 200, 204, 403, 500, 307]);
    let mut headers = Vec::new();
    if status == 307 {
        headers.push(("Location".to_owned(), "/elsewhere".to_owned()));
    }
    allow_origin(dice, origin, &mut headers);
    let method = page.method.clone();
    let methods = match dice.below(6) {
        0 => None,
        1 => Some("*".to_owned()),
        2 => Some("GET, HEAD".to_owned()),
        3 => Some(method.to_ascii_lowercase()),
        _ => Some(format!("GET, {method}")),
    };
    if let Some(m) = methods {
        headers.push(("Access-Control-Allow-Methods".into(), m));
    }
    let asked = page.unsafe_headers();
    let allowed = match dice.below(7) {
        0 => None,
        1 => Some("*".to_owned()),
        2 => Some("*, authorization".to_owned()),
        3 if !asked.is_empty() => Some(asked[1..].join(", ")),
        4 => Some(asked.join(",").to_ascii_uppercase()),
        _ => Some(asked.join(", ")),
    };
    if let Some(h) = allowed.filter(|h| !h.is_empty()) {
        headers.push(("Access-Control-Allow-Headers".into(), h));
    }
    Scripted { status, headers }
}

/// A random actual answer: CORS headers, an ETag and an exposed list.
fn actual_answer(dice: &mut Dice, origin: &str) -> Scripted {
    let status = *dice.pick(&[200, 200, 200, 403, 404]);
    let mut headers = vec![
        ("ETag".to_owned(), "\"abc\"".to_owned()),
        ("X-Amz-Request-Id".to_owned(), "r1".to_owned()),
    ];
    allow_origin(dice, origin, &mut headers);
    match dice.below(4) {
        0 => {}
        1 => headers.push(("Access-Control-Expose-Headers".into(), "*".into())),
        2 => headers.push(("Access-Control-Expose-Headers".into(), "x-other".into())),
        _ => headers.push(("Access-Control-Expose-Headers".into(), "ETag".into())),
    }
    Scripted { status, headers }
}

#[test]
fn the_fetch_model_predicts_chromium() {
    let seed = env_u64("BUCKETCORS_FETCH_SEED", 0x0b0c_0c05);
    let cases = env_u64("BUCKETCORS_FETCH_CASES", 300);
    eprintln!("browser_fetch_model: seed {seed}, {cases} cases (BUCKETCORS_FETCH_SEED replays)");
    let server = ScriptedOrigin::start().expect("scripted server");
    let mut browser = Browser::start(&["app"]);
    let origin = browser.origin("app").to_owned();
    let mut dice = Dice(seed);
    let (mut allowed, mut preflighted, mut failures) = (0, 0, Vec::new());
    for id in 1..=cases {
        let url = format!("http://bucket.test:{}/case/{id}", server.port());
        let method = *dice.pick(&METHODS);
        let mut headers: Vec<(&str, &str)> = Vec::new();
        for _ in 0..dice.below(3) {
            let h = *dice.pick(&HEADERS);
            if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(h.0)) {
                headers.push(h);
            }
        }
        let credentials = dice.chance(30);
        let page = PageRequest::new(
            &url,
            &origin,
            method,
            headers.iter().map(|(n, v)| PageHeader::new(n, v)),
            credentials,
        );
        let preflight = preflight_answer(&mut dice, &origin, &page);
        let actual = actual_answer(&mut dice, &origin);
        server.script(id, preflight.clone(), actual.clone());

        let mut fetch = Fetch::get("app", &url).method(method).read(&[
            "etag",
            "x-amz-request-id",
            "content-type",
        ]);
        for (n, v) in &headers {
            fetch = fetch.header(n, v);
        }
        if credentials {
            fetch = fetch.with_credentials();
        }
        let seen = browser.fetch(&fetch);
        let arrived = server.arrived(id);
        let options: Vec<_> = arrived.iter().filter(|a| a.method == "OPTIONS").collect();

        // The model's prediction, from what the server scripted.
        let pre_answer = Answer::new(preflight.status, &preflight.headers);
        let act_answer = Answer::new(actual.status, &actual.headers);
        let sends_preflight = page.needs_preflight();
        let verdict = evaluate(
            &page,
            sends_preflight.then_some(&pre_answer),
            Some(&act_answer),
            Model::Chromium,
        );
        let mut wrong = Vec::new();
        if options.len() != usize::from(sends_preflight) {
            wrong.push(format!(
                "model: preflight {sends_preflight}; Chromium sent {} OPTIONS",
                options.len()
            ));
        }
        if let Some(o) = options.first() {
            if o.header("access-control-request-method") != Some(page.method.as_str()) {
                wrong.push(format!(
                    "Access-Control-Request-Method {:?}, model {:?}",
                    o.header("access-control-request-method"),
                    page.method
                ));
            }
            let predicted = page.request_headers_value();
            if o.header("access-control-request-headers") != predicted.as_deref() {
                wrong.push(format!(
                    "Access-Control-Request-Headers {:?}, model {predicted:?}",
                    o.header("access-control-request-headers")
                ));
            }
        }
        if seen.ok != verdict.allowed() {
            wrong.push(format!(
                "Chromium {}, model {:?}",
                if seen.ok { "allowed" } else { "refused" },
                verdict.blocked
            ));
        }
        if let Some((stage, blocked)) = &verdict.blocked
            && !seen.ok
        {
            // Chromium names any one of several unlisted headers.
            let candidates = match blocked {
                Blocked::HeaderNotAllowed(_) => {
                    unlisted_headers(&pre_answer, &page, Model::Chromium)
                        .into_iter()
                        .map(Blocked::HeaderNotAllowed)
                        .collect()
                }
                other => vec![other.clone()],
            };
            let messages: Vec<String> = candidates
                .iter()
                .map(|b| chromium::message(&url, &origin, *stage, b))
                .collect();
            if !seen
                .console
                .iter()
                .any(|m| messages.iter().any(|message| m.contains(message)))
            {
                let message = &messages[0];
                wrong.push(format!(
                    "model message {message:?}; Chromium logged {:?}",
                    seen.console
                ));
            }
        }
        if seen.ok {
            allowed += 1;
            for name in ["etag", "x-amz-request-id", "content-type"] {
                let model = readable(&act_answer, name, credentials);
                let chromium = seen.header(name).is_some();
                if model != chromium {
                    wrong.push(format!(
                        "{name}: readable by Chromium {chromium}, model {model}"
                    ));
                }
            }
        }
        preflighted += options.len();
        if !wrong.is_empty() {
            failures.push(format!(
                "case {id}: {method} {headers:?} credentials {credentials}\n  preflight {preflight:?}\n  actual {actual:?}\n  - {}",
                wrong.join("\n  - ")
            ));
        }
    }
    eprintln!(
        "browser_fetch_model: {cases} cases, {allowed} allowed, {preflighted} preflights, {} disagreements",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "the Fetch model and Chromium disagree on {} of {cases} cases (seed {seed}):\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        allowed > cases / 10 && allowed < cases * 9 / 10,
        "the cases must mix outcomes: {allowed} allowed"
    );
}
