//! Writing edge records straight into the harness's Cloudflare KV API, and
//! waiting until the worker serves them.
//!
//! The system and fault tests publish through `bucketcors apply` (the real
//! publisher); the bad-input tests only need routes in place, and a record
//! written here is the same bytes the publisher would write
//! ([`EdgeRecord::to_json`] under [`route_key`]).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bucketcors_engine::edge_record::{EdgeRecord, route_key};
use bucketcors_testkit::edge::EdgeHarness;

use super::raw_http;

/// `127.0.0.1:PORT` of an `http://127.0.0.1:PORT[/...]` URL.
pub fn addr_of(url: &str) -> SocketAddr {
    let rest = url.strip_prefix("http://").unwrap_or(url);
    let authority = rest.split('/').next().unwrap_or(rest);
    authority
        .parse()
        .unwrap_or_else(|e| panic!("`{url}` is not http://IP:PORT: {e}"))
}

/// Percent-encodes a KV key for the URL path, as the Cloudflare API expects.
pub fn encode_key(key: &str) -> String {
    key.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Sends one request to the KV API; returns the status.
pub fn kv_request(harness: &EdgeHarness, method: &str, key: &str, body: &[u8]) -> u16 {
    let api = addr_of(&harness.api_url);
    let path = format!(
        "/client/v4/accounts/{}/storage/kv/namespaces/{}/values/{}",
        harness.account_id,
        harness.namespace_id,
        encode_key(key)
    );
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {api}\r\nAuthorization: Bearer {}\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        harness.token,
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    raw_http::send(api, &req, Duration::from_secs(10))
        .expect("the harness KV API answers")
        .status
}

/// The value the harness's KV API holds under `key` (`None`: 404).
pub fn kv_get(harness: &EdgeHarness, key: &str) -> Option<String> {
    let api = addr_of(&harness.api_url);
    let path = format!(
        "/client/v4/accounts/{}/storage/kv/namespaces/{}/values/{}",
        harness.account_id,
        harness.namespace_id,
        encode_key(key)
    );
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: {api}\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
        harness.token
    );
    let resp = raw_http::send(api, req.as_bytes(), Duration::from_secs(10))
        .expect("the harness KV API answers");
    match resp.status {
        200 => Some(resp.text()),
        404 => None,
        other => panic!("GET {key} through the harness KV API answered {other}"),
    }
}

/// Writes `record` for `host` (no path prefix) and waits until the edge
/// answers with its revision.
pub fn publish(harness: &EdgeHarness, host: &str, record: &EdgeRecord) {
    let key = route_key(host, None).expect("a valid route host");
    let status = kv_request(harness, "PUT", &key, record.to_json().as_bytes());
    assert_eq!(status, 200, "writing {key} through the harness KV API");
    wait_for_revision(harness, host, record.revision(), Duration::from_secs(30));
}

/// The revision the edge currently serves for `host` (`x-bucketcors-revision`
/// of a preflight), if it answered.
pub fn served_revision(harness: &EdgeHarness, host: &str) -> Option<String> {
    let edge = addr_of(&harness.edge_url);
    let req = raw_http::request_bytes(
        b"OPTIONS",
        "/revision-probe",
        host,
        &[
            ("Origin", b"https://probe.invalid"),
            ("Access-Control-Request-Method", b"GET"),
        ],
        false,
    );
    let resp = raw_http::send(edge, &req, Duration::from_secs(10)).ok()?;
    resp.header("x-bucketcors-revision").map(str::to_owned)
}

/// Polls until the edge serves `revision` for `host`; panics after `timeout`.
pub fn wait_for_revision(
    harness: &EdgeHarness,
    host: &str,
    revision: &str,
    timeout: Duration,
) -> Duration {
    let start = Instant::now();
    loop {
        if served_revision(harness, host).as_deref() == Some(revision) {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < timeout,
            "the edge did not serve revision {revision} for {host} within {timeout:?} (serving {:?}); harness log:\n{}",
            served_revision(harness, host),
            harness.log_tail()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
