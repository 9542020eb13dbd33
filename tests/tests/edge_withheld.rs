//! Why a request got no CORS, at the edge: every refused preflight logs
//! one `cors_refused` line and every actual request with an `Origin` that
//! gets no CORS headers one `cors_withheld` line, each with the reason
//! (origin, method, which header, no rules, no route), the route, the
//! revision, and the origin reduced to its host.
//!
//! Each request below is first checked against what the edge answered
//! (refused, or no `Access-Control-Allow-Origin`), then its line is looked
//! up by its unique origin host.

mod edge_support;

use std::time::{Duration, Instant};

use bucketcors_engine::Dialect;
use bucketcors_testkit::edge::EdgeOptions;
use edge_support::{Edge, Probe, config};
use serde_json::Value;

/// One request and the line it must log: (host, probe, event, reason,
/// method, header, route, revision).
type Case<'a> = (
    &'a str,
    Probe,
    &'a str,
    &'a str,
    &'a str,
    Option<&'a str>,
    String,
    String,
);

/// The one line of `event` whose `origin_host` is `host`, waiting briefly
/// for workerd to write it.
async fn line_for(edge: &Edge, event: &str, host: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let lines: Vec<Value> = edge
            .events(event)
            .into_iter()
            .filter(|v| v["origin_host"] == host)
            .collect();
        if lines.len() == 1 {
            return lines[0].clone();
        }
        assert!(
            lines.len() < 2,
            "more than one {event} line for {host}: {lines:#?}"
        );
        assert!(
            Instant::now() < deadline,
            "no {event} line for {host}:\n{}",
            edge.harness.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_without_cors_says_why() {
    let edge = Edge::start(EdgeOptions::default());
    let rules = config(
        r#"{"rules":[{"allowedOrigins":["https://*.app.example"],"allowedMethods":["GET","PUT"],"allowedHeaders":["content-type"]}]}"#,
    );
    let host = "why.edge.test";
    let revision = edge
        .publish(host, Some("assets"), Dialect::S3, &rules)
        .await;
    let oss = "why-oss.edge.test";
    let oss_revision = edge.publish(oss, None, Dialect::Oss, &rules).await;
    let bare = "bare.edge.test";
    edge.publish_without_rules(bare, None, Dialect::S3).await;

    // The requests, as [`Case`]s.
    let preflight = |origin: &str, method: Option<&str>, headers: Option<&str>| {
        let mut p = Probe::new("OPTIONS", "/assets/a.png").header("origin", origin);
        if let Some(m) = method {
            p = p.header("access-control-request-method", m);
        }
        if let Some(h) = headers {
            p = p.header("access-control-request-headers", h);
        }
        p
    };
    let route = format!("{host}/assets");
    let cases: Vec<Case> = vec![
        (
            host,
            preflight("https://evil.example:8443", Some("GET"), None),
            "cors_refused",
            "origin",
            "GET",
            None,
            route.clone(),
            revision.clone(),
        ),
        (
            host,
            preflight("https://m.app.example", Some("DELETE"), None),
            "cors_refused",
            "method",
            "DELETE",
            None,
            route.clone(),
            revision.clone(),
        ),
        (
            host,
            preflight(
                "https://h.app.example",
                Some("PUT"),
                Some("content-type, x-secret-header"),
            ),
            "cors_refused",
            "header",
            "PUT",
            Some("x-secret-header"),
            route.clone(),
            revision.clone(),
        ),
        (
            oss,
            Probe::new("OPTIONS", "/a.png").header("origin", "https://n.app.example"),
            "cors_refused",
            "no_request_method",
            "",
            None,
            oss.to_owned(),
            oss_revision.clone(),
        ),
        (
            bare,
            Probe::new("OPTIONS", "/a.png")
                .header("origin", "https://bare.example")
                .header("access-control-request-method", "GET"),
            "cors_refused",
            "no_rules",
            "GET",
            None,
            bare.to_owned(),
            "none".to_owned(),
        ),
        (
            "nowhere.edge.test",
            Probe::new("OPTIONS", "/a.png")
                .header("origin", "https://lost.example")
                .header("access-control-request-method", "GET"),
            "cors_refused",
            "no_route",
            "GET",
            None,
            "nowhere.edge.test".to_owned(),
            "none".to_owned(),
        ),
        (
            host,
            Probe::new("GET", "/assets/a.png").header("origin", "https://get-evil.example"),
            "cors_withheld",
            "origin",
            "GET",
            None,
            route.clone(),
            revision.clone(),
        ),
        (
            host,
            Probe::new("DELETE", "/assets/a.png").header("origin", "https://d.app.example"),
            "cors_withheld",
            "method",
            "DELETE",
            None,
            route.clone(),
            revision.clone(),
        ),
        (
            bare,
            Probe::new("GET", "/a.png").header("origin", "https://bare-get.example"),
            "cors_withheld",
            "no_rules",
            "GET",
            None,
            bare.to_owned(),
            "none".to_owned(),
        ),
        (
            "nowhere.edge.test",
            Probe::new("GET", "/a.png").header("origin", "https://lost-get.example"),
            "cors_withheld",
            "no_route",
            "GET",
            None,
            "nowhere.edge.test".to_owned(),
            "none".to_owned(),
        ),
    ];
    for (on, probe, event, reason, method, header, route, revision) in &cases {
        let answer = edge.send(on, probe).await;
        if *event == "cors_refused" {
            assert!(
                answer.status == 403 || answer.status == 400,
                "{reason}: the preflight is refused: {answer:#?}"
            );
        }
        assert_eq!(
            answer.header("access-control-allow-origin"),
            None,
            "{reason}: no CORS: {answer:#?}"
        );
        let origin = probe
            .headers
            .iter()
            .find(|(n, _)| n == "origin")
            .map(|(_, v)| v.clone())
            .unwrap();
        let origin_host = origin
            .trim_start_matches("https://")
            .split(':')
            .next()
            .unwrap()
            .to_owned();
        let line = line_for(&edge, event, &origin_host).await;
        assert_eq!(line["reason"], *reason, "{line}");
        assert_eq!(line["method"], *method, "{line}");
        assert_eq!(line["route"], route.as_str(), "{line}");
        assert_eq!(line["revision"], revision.as_str(), "{line}");
        match header {
            Some(h) => assert_eq!(line["header"], *h, "{line}"),
            None => assert!(line.get("header").is_none(), "{line}"),
        }
        // The origin is reduced to its host: no scheme, no port.
        assert!(!line.to_string().contains(&origin), "{line}");
    }

    // Allowed requests and requests without Origin get no line.
    let before = edge.events("cors_refused").len() + edge.events("cors_withheld").len();
    let ok = edge
        .send(
            host,
            &preflight("https://ok.app.example", Some("PUT"), Some("content-type")),
        )
        .await;
    assert_eq!(ok.status, 200, "{ok:#?}");
    let plain = edge.send(host, &Probe::new("GET", "/assets/a.png")).await;
    assert_eq!(plain.status, 200);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = edge.events("cors_refused").len() + edge.events("cors_withheld").len();
    assert_eq!(
        before, after,
        "allowed and non-CORS requests log no refusal"
    );
}
