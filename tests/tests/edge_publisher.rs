//! The operator's Cloudflare KV publisher against the harness's KV REST
//! endpoint (same URL shape, bearer token and error envelope as the real
//! API): records land where the worker reads them, transient failures
//! (429 with `Retry-After`, 5xx) are retried, permanent ones are not, and
//! the token never appears in an error.

mod edge_support;

use std::time::{Duration, Instant};

use bucketcors_engine::Dialect;
use bucketcors_engine::edge_record::{EdgeRecord, route_key};
use bucketcors_sync::edge::Publisher;
use bucketcors_sync::edge::cloudflare::{CloudflareKv, KvNamespace};
use bucketcors_sync::edge::token::ApiToken;
use bucketcors_sync::retry::RetryPolicy;
use bucketcors_testkit::edge::EdgeOptions;
use edge_support::{Edge, config};

async fn inject(edge: &Edge, status: u16, count: u32, retry_after: Option<&str>) {
    let base = edge.harness.api_url.trim_end_matches("/client/v4");
    let mut body = serde_json::json!({"status": status, "count": count});
    if let Some(r) = retry_after {
        body["retryAfter"] = r.into();
    }
    let r = reqwest::Client::new()
        .post(format!("{base}/__harness/faults"))
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
}

async fn stored(edge: &Edge, key: &str) -> Option<String> {
    let url = format!(
        "{}/accounts/{}/storage/kv/namespaces/{}/values/{}",
        edge.harness.api_url,
        edge.harness.account_id,
        edge.harness.namespace_id,
        key.replace(':', "%3A").replace('/', "%2F")
    );
    let r = reqwest::Client::new()
        .get(url)
        .bearer_auth(&edge.harness.token)
        .send()
        .await
        .unwrap();
    if r.status() == 404 {
        None
    } else {
        Some(r.text().await.unwrap())
    }
}

fn rules() -> bucketcors_engine::RuleSet {
    bucketcors_engine::RuleSet::new(
        Dialect::S3,
        config(r#"{"rules":[{"allowedOrigins":["https://a.example"],"allowedMethods":["GET"]}]}"#),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishes_every_host_and_returns_the_revision() {
    let edge = Edge::start(EdgeOptions::default());
    let mut target = edge.target("a.edge.test", Some("bucket"));
    target.hosts.push("b.edge.test".into());
    let rules = rules();
    let published = edge
        .publisher
        .publish(&target, &rules)
        .await
        .expect("publish");
    let revision = published.routes[0].revision.clone();
    assert_eq!(revision, rules.revision);
    assert_eq!(published.written.len(), 2, "both hosts were written");
    let again = edge
        .publisher
        .publish(&target, &rules)
        .await
        .expect("publish again");
    assert!(
        again.written.is_empty(),
        "records that the edge API already holds are not written again"
    );
    for host in ["a.edge.test", "b.edge.test"] {
        let key = route_key(host, Some("bucket")).unwrap();
        let text = stored(&edge, &key).await.expect("record stored");
        let record = EdgeRecord::from_json(&text).expect("the worker can read it");
        assert_eq!(record.revision(), revision);
        assert_eq!(record.origin_url, edge.origin.url);
    }
    edge.publisher.unpublish(&target).await.expect("unpublish");
    assert_eq!(
        stored(&edge, &route_key("a.edge.test", Some("bucket")).unwrap()).await,
        None
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_failures_are_retried_honouring_retry_after() {
    let edge = Edge::start(EdgeOptions::default());
    let target = edge.target("retry.edge.test", None);

    inject(&edge, 429, 2, Some("1")).await;
    let start = Instant::now();
    edge.publisher
        .publish(&target, &rules())
        .await
        .expect("succeeds after two 429s");
    let took = start.elapsed();
    assert!(
        took >= Duration::from_secs(2),
        "waited Retry-After twice: {took:?}"
    );
    assert!(took < Duration::from_secs(6), "{took:?}");

    inject(&edge, 503, 2, None).await;
    edge.publisher
        .publish(&target, &rules())
        .await
        .expect("succeeds after two 503s");

    inject(&edge, 500, 10, None).await;
    let err = edge
        .publisher
        .publish(&target, &rules())
        .await
        .expect_err("gives up");
    assert!(err.transient, "{err:?}");
    assert!(
        err.message.contains("500") && err.message.contains("gave up after 5 attempts"),
        "{}",
        err.message
    );
    inject(&edge, 0, 0, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_fails_at_once_and_is_never_printed() {
    let edge = Edge::start(EdgeOptions::default());
    let secret = "wrong-token-do-not-print-42";
    let publisher = CloudflareKv::new(
        KvNamespace {
            api_url: edge.harness.api_url.clone(),
            account_id: edge.harness.account_id.clone(),
            namespace_id: edge.harness.namespace_id.clone(),
        },
        ApiToken::new(secret, "test").unwrap(),
    )
    .unwrap()
    .with_retry(RetryPolicy {
        max_attempts: 5,
        base_delay: Duration::from_millis(500),
        max_delay: Duration::from_secs(5),
    });
    let start = Instant::now();
    let err = publisher
        .publish(&edge.target("auth.edge.test", None), &rules())
        .await
        .expect_err("401");
    assert!(
        start.elapsed() < Duration::from_millis(500),
        "no retry on 401"
    );
    assert!(!err.transient);
    assert!(err.token_rejected, "a 401 rejects the token itself");
    assert!(
        err.message.contains("401") && err.message.contains("Authentication error"),
        "{}",
        err.message
    );
    assert!(
        err.message
            .contains("edge.cloudflare.apiToken.existingSecret")
            && err.message.contains("Workers KV Storage: Edit"),
        "the message says what to do: {}",
        err.message
    );
    let printed = format!("{err} {err:?} {publisher:?}");
    assert!(!printed.contains(secret), "{printed}");
}
