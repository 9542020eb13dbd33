//! The capability table's Garage row, checked against a real Garage: for
//! each way the table says Garage departs from the S3 dialect, a request
//! is sent and the difference seen (issue 16, item 2).
//!
//! Each test puts one configuration on a bucket with PutBucketCors (the
//! AWS SDK, as any client would), sends a preflight over a bare connection
//! and compares Garage's answer with two things: the table's claim (which
//! says what to look for) and the engine's S3-dialect decision for the same
//! request (which shows the difference is real). Garage's answer is also
//! compared with `target::answer`, the model `bucketcors eval --target
//! garage` prints, so the explanation cannot drift from the server.
//!
//! Fails (never skips) without Garage (`scripts/install/garage.sh`).

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use bucketcors_engine::target::{
    AllowHeaders, AllowOrigin, HeaderCase, Selection, Source, Submission, Wildcards, answer,
};
use bucketcors_engine::{Compiled, CorsConfig, Dialect, Request, Target};
use bucketcors_testkit::garage::Garage;
use support::garage_sdk::{self, config, rule};
use support::raw_http::{self, RawResponse};

const BUCKET: &str = "caps";

/// One Garage with one bucket, and a runtime for the SDK.
struct Store {
    garage: Garage,
    runtime: tokio::runtime::Runtime,
    client: aws_sdk_s3::Client,
}

impl Store {
    fn start() -> Store {
        let garage = Garage::start(&[BUCKET]).expect("start Garage");
        let client = garage_sdk::client(&garage, "garage-capabilities");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        Store {
            client,
            garage,
            runtime,
        }
    }

    /// PutBucketCors with `config`; the store's error, if any.
    fn put(&self, config: &CorsConfig) -> Result<(), String> {
        self.runtime
            .block_on(garage_sdk::put_cors(&self.client, BUCKET, config))
    }

    fn addr(&self) -> SocketAddr {
        self.garage
            .endpoint()
            .trim_start_matches("http://")
            .parse()
            .expect("loopback address")
    }

    /// A preflight for `bucket/key`: OPTIONS with Origin, ACRM and ACRH.
    fn preflight(&self, origin: &str, method: &str, headers: Option<&str>) -> RawResponse {
        let mut h: Vec<(&str, &[u8])> = vec![
            ("Origin", origin.as_bytes()),
            ("Access-Control-Request-Method", method.as_bytes()),
        ];
        if let Some(headers) = headers {
            h.push(("Access-Control-Request-Headers", headers.as_bytes()));
        }
        let host = self
            .garage
            .endpoint()
            .trim_start_matches("http://")
            .to_owned();
        let request =
            raw_http::request_bytes(b"OPTIONS", &format!("/{BUCKET}/key"), &host, &h, false);
        raw_http::send(self.addr(), &request, Duration::from_secs(10)).expect("preflight")
    }
}

/// The engine's S3-dialect answer: status and CORS headers, lower-cased.
fn s3_answer(config: &CorsConfig, request: &Request<'_>) -> (u16, Vec<(String, String)>) {
    let compiled = Compiled::new(config, Dialect::S3).expect("valid");
    let decision = compiled.decide(request);
    let headers = decision
        .headers()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.to_string()))
        .filter(|(n, _)| n.starts_with("access-control-"))
        .collect();
    (decision.status(), headers)
}

/// The Access-Control-* headers of a response, lower-cased names.
fn access_control(response: &RawResponse) -> Vec<(String, String)> {
    response
        .cors_headers()
        .into_iter()
        .filter(|(n, _)| n.starts_with("access-control-"))
        .collect()
}

/// Puts `config`, sends the preflight, and checks the model against the
/// real answer; returns the real answer and the S3 dialect's.
fn probe(
    store: &Store,
    config: &CorsConfig,
    origin: &str,
    method: &str,
    headers: Option<&str>,
) -> (RawResponse, (u16, Vec<(String, String)>)) {
    store.put(config).expect("Garage accepts the configuration");
    let real = store.preflight(origin, method, headers);
    let mut request = Request::preflight(origin, method);
    if let Some(h) = headers {
        request = request.with_request_headers(h);
    }
    let model = answer(Target::Garage, Some(config), &request).expect("Garage has a model");
    assert_eq!(
        model.status,
        real.status,
        "model status vs Garage: {}",
        real.text()
    );
    if real.status == 200 {
        let modelled: Vec<(String, String)> = model
            .headers
            .iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
            .collect();
        assert_eq!(modelled, access_control(&real), "model headers vs Garage");
    }
    (real, s3_answer(config, &request))
}

fn cap() -> &'static bucketcors_engine::target::Capability {
    Target::Garage.capability()
}

fn tested_here(source: Source) {
    assert_eq!(
        source,
        Source::Test("observed against Garage 2.5.0 in tests/tests/garage_capabilities.rs",)
    );
}

#[test]
fn garage_row_matches_the_real_server() {
    let store = Store::start();
    let app = "https://app.example.com";

    // Submission: the S3 document is accepted.
    assert_eq!(cap().submission.value, Submission::Accepted);
    tested_here(cap().submission.source);
    store
        .put(&config(vec![rule(&[app], &["GET"], &[])]))
        .expect("PutBucketCors accepted");

    // Origins: one `*` matches any run of characters (several labels
    // too); a second `*` is a literal character.
    assert_eq!(cap().origin_wildcards.value, Wildcards::OneStar);
    tested_here(cap().origin_wildcards.source);
    let c = config(vec![rule(&["https://*.example.com"], &["GET"], &[])]);
    let (real, s3) = probe(&store, &c, app, "GET", None);
    assert_eq!((real.status, s3.0), (200, 200), "{}", real.text());
    let (deep, _) = probe(&store, &c, "https://a.b.example.com", "GET", None);
    assert_eq!(deep.status, 200, "{}", deep.text());
    let (bare, _) = probe(&store, &c, "https://example.com", "GET", None);
    assert_eq!(bare.status, 403, "{}", bare.text());
    let c = config(vec![rule(&["https://*.*.com"], &["GET"], &[])]);
    // The S3 dialect refuses this document, so no `probe`: Garage stores it.
    store.put(&c).expect("Garage accepts two stars");
    let two_stars = store.preflight(app, "GET", None);
    assert_eq!(two_stars.status, 403, "{}", two_stars.text());
    let model = answer(Target::Garage, Some(&c), &Request::preflight(app, "GET"));
    assert_eq!(model.map(|m| m.status), Some(403));

    // Headers: one `*` matches too; the answer lists the rule's pattern.
    assert_eq!(cap().header_wildcards.value, Wildcards::OneStar);
    tested_here(cap().header_wildcards.source);
    let c = config(vec![rule(&[app], &["PUT"], &["x-amz-*"])]);
    let (real, s3) = probe(&store, &c, app, "PUT", Some("x-amz-date"));
    assert_eq!((real.status, s3.0), (200, 200), "{}", real.text());
    assert_eq!(real.header("access-control-allow-headers"), Some("x-amz-*"));

    // Header names compare case-sensitively; browsers send lower case.
    assert_eq!(cap().header_case.value, HeaderCase::Sensitive);
    tested_here(cap().header_case.source);
    let c = config(vec![rule(&[app], &["PUT"], &["Content-Type"])]);
    let (real, s3) = probe(&store, &c, app, "PUT", Some("content-type"));
    assert_eq!((real.status, s3.0), (403, 200), "{}", real.text());
    let c = config(vec![rule(&[app], &["PUT"], &["X-Amz-*"])]);
    let (real, s3) = probe(&store, &c, app, "PUT", Some("x-amz-date"));
    assert_eq!((real.status, s3.0), (403, 200), "{}", real.text());

    // Allow-Origin: the request's origin, not the rule's list; `*` for a
    // `*` rule, as S3.
    assert_eq!(cap().allow_origin.value, AllowOrigin::EchoOrStar);
    tested_here(cap().allow_origin.source);
    let two = ["https://app.example.com", "https://b.example.com"];
    let c = config(vec![rule(&two, &["GET"], &[])]);
    let (real, s3) = probe(&store, &c, app, "GET", None);
    assert_eq!(real.status, 200);
    assert_eq!(real.header("access-control-allow-origin"), Some(app));
    assert!(s3.1.contains(&("access-control-allow-origin".into(), app.into())));
    let c = config(vec![rule(&["*"], &["GET"], &[])]);
    let (real, s3) = probe(&store, &c, app, "GET", None);
    assert_eq!(real.status, 200);
    assert_eq!(real.header("access-control-allow-origin"), Some("*"));
    assert!(s3.1.contains(&("access-control-allow-origin".into(), "*".into())));

    // Allow-Headers: the rule's list as written, so `*` is sent literally.
    assert_eq!(cap().allow_headers.value, AllowHeaders::Literal);
    tested_here(cap().allow_headers.source);
    let c = config(vec![rule(&[app], &["PUT"], &["*"])]);
    let (real, s3) = probe(&store, &c, app, "PUT", Some("authorization"));
    assert_eq!(real.status, 200);
    assert_eq!(real.header("access-control-allow-headers"), Some("*"));
    assert!(s3.1.contains(&(
        "access-control-allow-headers".into(),
        "authorization".into()
    )));

    // No Max-Age and no Allow-Credentials, where S3 sends both.
    assert!(!cap().max_age.value && !cap().credentials.value);
    tested_here(cap().max_age.source);
    tested_here(cap().credentials.source);
    let mut r = rule(&[app], &["GET"], &[]);
    r.max_age_seconds = Some(600);
    let c = config(vec![r]);
    let (real, s3) = probe(&store, &c, app, "GET", None);
    assert_eq!(real.status, 200);
    assert_eq!(real.header("access-control-max-age"), None);
    assert_eq!(real.header("access-control-allow-credentials"), None);
    assert!(s3.1.contains(&("access-control-max-age".into(), "600".into())));
    assert!(s3.1.contains(&("access-control-allow-credentials".into(), "true".into())));

    // Selection: the first rule matching everything, like S3 (not Ceph's
    // first origin match): a PUT reaches the second rule for the origin.
    assert_eq!(cap().selection.value, Selection::FirstFullMatch);
    tested_here(cap().selection.source);
    let c = config(vec![
        rule(&[app], &["GET"], &[]),
        rule(&[app], &["PUT"], &[]),
    ]);
    let (real, s3) = probe(&store, &c, app, "PUT", None);
    assert_eq!((real.status, s3.0), (200, 200));
    assert_eq!(real.header("access-control-allow-methods"), Some("PUT"));

    // Applied at once: every probe above ran right after its PutBucketCors.
    assert_eq!(cap().apply_delay_seconds.value, 0);
    tested_here(cap().apply_delay_seconds.source);
}
