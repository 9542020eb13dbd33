//! Shared fixture of the edge tests: the harness (worker in workerd with a
//! local KV and the KV REST API), a stand-in bucket origin, the operator's
//! real Cloudflare KV publisher pointed at the harness, and an HTTP client
//! that talks to the worker as a browser would (any `Host`, any header).
#![allow(dead_code)]

pub mod garage_s3;
pub mod origin;

use std::time::{Duration, Instant};

use bucketcors_engine::edge_record::EdgeRecord;
use bucketcors_engine::{CorsConfig, Dialect, RuleSet};
use bucketcors_sync::edge::cloudflare::{CloudflareKv, KvNamespace};
use bucketcors_sync::edge::token::ApiToken;
use bucketcors_sync::edge::{EdgeTarget, Publisher};
use bucketcors_sync::retry::RetryPolicy;
use bucketcors_testkit::edge::{EdgeHarness, EdgeOptions};

pub use origin::Origin;

/// Everything an edge test needs, stopped on drop.
pub struct Edge {
    /// The harness (worker + KV + API).
    pub harness: EdgeHarness,
    /// The bucket origin routes point at.
    pub origin: Origin,
    /// The operator's publisher, aimed at the harness's API.
    pub publisher: CloudflareKv,
    client: reqwest::Client,
}

/// A request to send to the edge.
#[derive(Debug, Clone, Default)]
pub struct Probe {
    /// Method (`GET` when empty).
    pub method: String,
    /// Path and query (`/` when empty).
    pub path: String,
    /// Extra headers, sent as given.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Option<Vec<u8>>,
}

impl Probe {
    /// A request with `method` for `path`.
    pub fn new(method: &str, path: &str) -> Probe {
        Probe {
            method: method.into(),
            path: path.into(),
            ..Probe::default()
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Probe {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: &[u8]) -> Probe {
        self.body = Some(body.to_vec());
        self
    }
}

/// What the edge answered.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Status code.
    pub status: u16,
    /// Headers, names lower-cased, in the order received.
    pub headers: Vec<(String, String)>,
    /// The body as text (lossy).
    pub body: String,
    /// The body as received.
    pub raw: Vec<u8>,
}

impl Answer {
    /// The value of header `name` (several joined with `, `).
    pub fn header(&self, name: &str) -> Option<String> {
        let values: Vec<&str> = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    }

    /// Every CORS-relevant header (`access-control-*`, `vary`), sorted by name.
    pub fn cors_headers(&self) -> Vec<(String, String)> {
        let mut names: Vec<String> = self
            .headers
            .iter()
            .map(|(n, _)| n.to_ascii_lowercase())
            .filter(|n| n.starts_with("access-control-") || n == "vary")
            .collect();
        names.sort();
        names.dedup();
        names
            .into_iter()
            .map(|n| (n.clone(), self.header(&n).unwrap()))
            .collect()
    }
}

impl Edge {
    /// Starts harness and origin with `options`.
    pub fn start(options: EdgeOptions) -> Edge {
        let harness = EdgeHarness::start(&options).unwrap_or_else(|e| panic!("edge harness: {e}"));
        let origin = Origin::start();
        let namespace = KvNamespace {
            api_url: harness.api_url.clone(),
            account_id: harness.account_id.clone(),
            namespace_id: harness.namespace_id.clone(),
        };
        let token = ApiToken::new(harness.token.clone(), "test harness").expect("token");
        let publisher = CloudflareKv::new(namespace, token)
            .expect("publisher")
            .with_retry(RetryPolicy {
                max_attempts: 5,
                base_delay: Duration::from_millis(50),
                max_delay: Duration::from_secs(3),
            });
        // Idle connections are dropped after one second: the edge's HTTP
        // server closes an idle keep-alive connection after a few seconds,
        // and a test that sleeps that long (edge_private waits out a
        // presigned URL's expiry) would otherwise send on a socket the
        // server is closing at that moment ("error sending request").
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .pool_idle_timeout(Duration::from_secs(1))
            .build()
            .expect("client");
        Edge {
            harness,
            origin,
            publisher,
            client,
        }
    }

    /// The route target for `host` (+ prefix), pointing at the origin.
    pub fn target(&self, host: &str, prefix: Option<&str>) -> EdgeTarget {
        EdgeTarget {
            hosts: vec![host.to_owned()],
            path_prefix: prefix.map(str::to_owned),
            origin_url: self.origin.url.clone(),
        }
    }

    /// Publishes `config` for `dialect` on `host` through the real publisher;
    /// returns the revision.
    pub async fn publish(
        &self,
        host: &str,
        prefix: Option<&str>,
        dialect: Dialect,
        config: &CorsConfig,
    ) -> String {
        self.publish_target(&self.target(host, prefix), dialect, config)
            .await
    }

    /// [`Edge::publish`] for a route whose bucket is `origin_url` instead of
    /// the harness's origin; returns the revision.
    pub async fn publish_to_origin(
        &self,
        host: &str,
        origin_url: &str,
        dialect: Dialect,
        config: &CorsConfig,
    ) -> String {
        let target = EdgeTarget {
            hosts: vec![host.to_owned()],
            path_prefix: None,
            origin_url: origin_url.to_owned(),
        };
        self.publish_target(&target, dialect, config).await
    }

    async fn publish_target(
        &self,
        target: &EdgeTarget,
        dialect: Dialect,
        config: &CorsConfig,
    ) -> String {
        let rules = RuleSet::new(dialect, config.clone())
            .unwrap_or_else(|r| panic!("invalid test rules: {r:?}"));
        let published = self
            .publisher
            .publish(target, &rules)
            .await
            .expect("publish");
        published.routes[0].revision.clone()
    }

    /// Publishes `record` for `host` (+ prefix) through the real publisher,
    /// as it is (its origin URL and opt-ins included).
    pub async fn publish_exact(&self, host: &str, prefix: Option<&str>, record: &EdgeRecord) {
        let target = EdgeTarget {
            hosts: vec![host.to_owned()],
            path_prefix: prefix.map(str::to_owned),
            origin_url: record.origin_url.clone(),
        };
        self.publisher
            .publish_record(&target, record)
            .await
            .expect("publish");
    }

    /// The worker's structured log lines so far whose `event` is `event`,
    /// parsed (the JSON object of each line).
    pub fn events(&self, event: &str) -> Vec<serde_json::Value> {
        self.harness
            .log_lines()
            .iter()
            .filter_map(|line| {
                let start = line.find('{')?;
                let value: serde_json::Value = serde_json::from_str(line[start..].trim()).ok()?;
                (value.get("event")?.as_str()? == event).then_some(value)
            })
            .collect()
    }

    /// Publishes a route whose bucket has no CORS configuration.
    pub async fn publish_without_rules(&self, host: &str, prefix: Option<&str>, dialect: Dialect) {
        let record = EdgeRecord::new(self.origin.url.clone(), dialect, None).expect("record");
        self.publisher
            .publish_record(&self.target(host, prefix), &record)
            .await
            .expect("publish");
    }

    /// Sends `probe` to the edge with `Host: host`.
    pub async fn send(&self, host: &str, probe: &Probe) -> Answer {
        let method = if probe.method.is_empty() {
            "GET"
        } else {
            &probe.method
        };
        let path = if probe.path.is_empty() {
            "/"
        } else {
            &probe.path
        };
        let url = format!("{}{}", self.harness.edge_url, path);
        let mut req = self
            .client
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).expect("method"),
                url,
            )
            .header("host", host);
        for (n, v) in &probe.headers {
            req = req.header(n.as_str(), v.as_str());
        }
        if let Some(body) = &probe.body {
            req = req.body(body.clone());
        }
        let resp = req
            .send()
            .await
            // Without the URL: a presigned query string is a credential.
            .unwrap_or_else(|e| {
                panic!(
                    "edge request {method} {} failed: {}\n{}",
                    path.split('?').next().unwrap_or_default(),
                    e.without_url(),
                    self.harness.log_tail()
                )
            });
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect();
        let raw = resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
        let body = String::from_utf8_lossy(&raw).into_owned();
        Answer {
            status,
            headers,
            body,
            raw,
        }
    }

    /// Polls `host` until the edge serves `revision` (from
    /// `x-bucketcors-revision` of a preflight-free `OPTIONS`); returns how
    /// long that took. Panics after `limit`.
    pub async fn wait_for_revision(
        &self,
        host: &str,
        path: &str,
        revision: &str,
        limit: Duration,
    ) -> Duration {
        let start = Instant::now();
        loop {
            let answer = self
                .send(
                    host,
                    &Probe::new("OPTIONS", path).header("origin", "https://probe.example"),
                )
                .await;
            if answer.header("x-bucketcors-revision").as_deref() == Some(revision) {
                return start.elapsed();
            }
            assert!(
                start.elapsed() < limit,
                "edge still serves {:?} instead of {revision} after {limit:?}",
                answer.header("x-bucketcors-revision")
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Parses a configuration written as JSON in BucketCors spec terms
/// (camelCase: `allowedOrigins`, `allowedMethods`, ...).
pub fn config(json: &str) -> CorsConfig {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("test config: {e}\n{json}"))
}

/// The values of header `name` in `probe`, joined with `, ` as the Workers
/// runtime joins repeated headers.
fn probe_header(probe: &Probe, name: &str) -> Option<String> {
    let values: Vec<&str> = probe
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .collect();
    (!values.is_empty()).then(|| values.join(", "))
}

/// Asserts that the edge answered `probe` exactly as the engine decides it
/// for `compiled`: for an answered preflight the status, every CORS header
/// and the error body; for a forwarded request `origin_status` and every
/// CORS header. `path_below` is the path under the route prefix.
pub fn assert_engine_answer(
    what: &str,
    answer: &Answer,
    compiled: &bucketcors_engine::Compiled,
    probe: &Probe,
    path_below: &str,
    origin_status: u16,
) {
    let method = if probe.method.is_empty() {
        "GET".to_owned()
    } else {
        probe.method.clone()
    };
    let origin = probe_header(probe, "origin");
    let acrm = probe_header(probe, "access-control-request-method");
    let acrh = probe_header(probe, "access-control-request-headers");
    let request = bucketcors_engine::Request {
        method: &method,
        origin: origin.as_deref(),
        request_method: acrm.as_deref(),
        request_headers: acrh.as_deref(),
        resource: if path_below == "/" {
            bucketcors_engine::ResourceType::Bucket
        } else {
            bucketcors_engine::ResourceType::Object
        },
    };
    let decision = compiled.decide(&request);
    let mut expected: Vec<(String, String)> = decision
        .headers()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.to_string()))
        .filter(|(n, _)| n.starts_with("access-control-") || n == "vary")
        .collect();
    expected.sort();
    if decision.is_preflight() {
        assert_eq!(
            answer.status,
            decision.status(),
            "{what}: status\n{answer:#?}"
        );
        let body = decision.body().map(|b| b.to_string()).unwrap_or_default();
        assert_eq!(answer.body, body, "{what}: body");
        if decision.body().is_some() {
            assert_eq!(
                answer.header("content-type").as_deref(),
                Some("application/xml"),
                "{what}: content-type"
            );
        }
    } else {
        assert_eq!(
            answer.status, origin_status,
            "{what}: status of the forwarded request\n{answer:#?}"
        );
    }
    assert_eq!(
        answer.cors_headers(),
        expected,
        "{what}: CORS headers\n{answer:#?}"
    );
}
