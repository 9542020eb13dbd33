//! The worker reading a broken record from Workers KV: not JSON, a record
//! cut off half-way (a half-written value), a record whose revision does
//! not match its rules (edited or corrupted), and a record with invalid
//! rules. Each time the worker must keep answering with the last good rule
//! set it compiled, never a 5xx, and log the problem.
//!
//! The good record is published the normal way (`bucketcors apply`); the
//! broken ones are written straight into KV through the harness's API, as a
//! buggy or interrupted writer would.

mod support;

use std::time::Duration;

use bucketcors_engine::edge_record::route_key;
use bucketcors_testkit::edge::EdgeOptions;
use support::cli;
use support::edge_kv::kv_request;
use support::world::{World, edge_block, s3_manifest};

const HOST: &str = "record.edge.test";

#[test]
fn broken_records_leave_the_last_good_rules_in_force() {
    let ttl = 1.0;
    let world = World::start(
        &["fault-record"],
        &EdgeOptions {
            rules_ttl_seconds: ttl,
            ..EdgeOptions::default()
        },
    );
    let rules = "    - allowedOrigins: [\"https://good.example\"]\n      allowedMethods: [GET]\n";
    let manifest = s3_manifest(
        "record",
        "fault-record",
        &world.garage.endpoint(),
        rules,
        &edge_block(HOST, "http://127.0.0.1:9"),
        "Delete",
    );
    let path = cli::write(&world.dir, "record.yaml", &manifest);
    let run = world.apply(&path);
    assert_eq!(run.code, Some(0), "{}", run.all());
    let key = route_key(HOST, None).expect("route key");
    let good = {
        let start = std::time::Instant::now();
        loop {
            let r = world.edge_request(
                "OPTIONS",
                HOST,
                "/x",
                &[
                    ("Origin", "https://good.example"),
                    ("Access-Control-Request-Method", "GET"),
                ],
            );
            if r.status == 200 {
                break r
                    .header("x-bucketcors-revision")
                    .expect("revision header")
                    .to_owned();
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the good record is never served"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };

    // The published value, to corrupt in several ways.
    let published = {
        let api = support::edge_kv::addr_of(&world.edge.api_url);
        let req = format!(
            "GET /client/v4/accounts/{}/storage/kv/namespaces/{}/values/{} HTTP/1.1\r\nHost: {api}\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
            world.edge.account_id,
            world.edge.namespace_id,
            support::edge_kv::encode_key(&key),
            world.edge.token
        );
        let resp = support::raw_http::send(api, req.as_bytes(), Duration::from_secs(10))
            .expect("KV API answers");
        assert_eq!(resp.status, 200, "the published record can be read back");
        resp.text()
    };
    assert!(
        published.contains(&good),
        "the record carries the served revision"
    );

    let broken: Vec<(&str, String)> = vec![
        ("not JSON", "{this is not json".to_owned()),
        ("half-written", published[..published.len() / 2].to_owned()),
        ("empty value", String::new()),
        (
            "revision not matching the rules",
            published.replace("https://good.example", "https://evil.example"),
        ),
        ("invalid rules", published.replace("\"GET\"", "\"FETCH\"")),
        (
            "unknown format version",
            published.replacen("\"format\":1", "\"format\":99", 1),
        ),
    ];
    for (what, value) in broken {
        assert_eq!(
            kv_request(&world.edge, "PUT", &key, value.as_bytes()),
            200,
            "writing the {what} record"
        );
        // Let the worker's rules TTL pass twice, so it has re-read KV.
        std::thread::sleep(Duration::from_secs_f64(ttl * 2.5));
        for _ in 0..5 {
            let ok = world.edge_request(
                "OPTIONS",
                HOST,
                "/x",
                &[
                    ("Origin", "https://good.example"),
                    ("Access-Control-Request-Method", "GET"),
                ],
            );
            assert_eq!(
                ok.status,
                200,
                "{what}: the last good rules must stay in force; got {} {}",
                ok.status,
                ok.text()
            );
            assert_eq!(
                ok.header("x-bucketcors-revision"),
                Some(good.as_str()),
                "{what}: still the last good revision"
            );
            let no = world.edge_request(
                "OPTIONS",
                HOST,
                "/x",
                &[
                    ("Origin", "https://evil.example"),
                    ("Access-Control-Request-Method", "GET"),
                ],
            );
            assert_eq!(
                no.status, 403,
                "{what}: a broken record must not open anything"
            );
        }
    }
    let log = world.edge.log_tail();
    assert!(
        log.to_lowercase().contains("record") || log.contains("route"),
        "the worker reported the broken records; its log:\n{log}"
    );

    // A good publish afterwards is picked up again.
    let rules = "    - allowedOrigins: [\"https://good.example\", \"https://new.example\"]\n      allowedMethods: [GET]\n";
    let manifest = s3_manifest(
        "record",
        "fault-record",
        &world.garage.endpoint(),
        rules,
        &edge_block(HOST, "http://127.0.0.1:9"),
        "Delete",
    );
    cli::write(&world.dir, "record.yaml", &manifest);
    let run = world.apply(&path);
    assert_eq!(run.code, Some(0), "{}", run.all());
    let start = std::time::Instant::now();
    while world.edge_preflight(HOST, "https://new.example", "GET").0 != 200 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the repaired record is never served"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
