//! The whole local system for one test: a real Garage, the edge harness
//! (the worker in workerd, local Workers KV, the Cloudflare KV REST API) and
//! a scratch directory for manifests, plus the few operations the system and
//! fault tests share: applying manifests with the real CLI, reading a
//! bucket's rules back, uploading an object, serving a bucket on Garage's
//! web endpoint, and asking the edge.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bucketcors_testkit::edge::{EdgeHarness, EdgeOptions};
use bucketcors_testkit::garage::Garage;

use super::cli::{self, Run};
use super::edge_kv::addr_of;
use super::raw_http::{self, RawResponse};

/// Garage, the edge and a scratch directory. Everything stops on drop.
pub struct World {
    /// The S3 backend.
    pub garage: Garage,
    /// The edge harness.
    pub edge: EdgeHarness,
    /// Scratch directory for manifests.
    pub dir: PathBuf,
}

impl World {
    /// Starts Garage with `buckets` and the edge harness with `options`.
    pub fn start(buckets: &[&str], options: &EdgeOptions) -> World {
        let garage =
            Garage::start(buckets).unwrap_or_else(|e| panic!("Garage must run for this test: {e}"));
        let edge = EdgeHarness::start(options)
            .unwrap_or_else(|e| panic!("the edge harness must run for this test: {e}"));
        let dir = std::env::temp_dir().join(format!(
            "bucketcors-system-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        World { garage, edge, dir }
    }

    /// The environment `bucketcors apply` needs: Garage credentials and the
    /// harness's API token.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", self.garage.key().access_key_id.clone()),
            (
                "AWS_SECRET_ACCESS_KEY",
                self.garage.key().secret_access_key.clone(),
            ),
            ("AWS_REGION", self.garage.region().to_owned()),
            ("CLOUDFLARE_API_TOKEN", self.edge.token.clone()),
        ]
    }

    /// `bucketcors apply -f PATH` publishing to `api_url` (the harness's
    /// API, or a fault proxy in front of it).
    pub fn apply_args(&self, path: &Path, api_url: &str) -> Vec<String> {
        vec![
            "apply".into(),
            "-f".into(),
            path.display().to_string(),
            "--cloudflare-api-url".into(),
            api_url.into(),
            "--cloudflare-account-id".into(),
            self.edge.account_id.clone(),
            "--cloudflare-namespace-id".into(),
            self.edge.namespace_id.clone(),
        ]
    }

    /// Runs `bucketcors apply` to completion against the harness's API.
    pub fn apply(&self, path: &Path) -> Run {
        self.apply_via(path, &self.edge.api_url)
    }

    /// Runs `bucketcors apply` to completion, publishing through `api_url`.
    pub fn apply_via(&self, path: &Path, api_url: &str) -> Run {
        let args = self.apply_args(path, api_url);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env = self.env();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        cli::run(&args, &env)
    }

    /// The bucket's rules as Garage holds them ([`garage_bucket_rules`]).
    pub fn bucket_rules(&self, bucket: &str) -> Option<serde_json::Value> {
        garage_bucket_rules(&self.garage, bucket)
    }

    /// The allowed origins of every rule Garage holds for `bucket`, in order.
    pub fn bucket_origins(&self, bucket: &str) -> Option<Vec<Vec<String>>> {
        let rules = self.bucket_rules(bucket)?;
        let rules = rules["CORSRules"].as_array().cloned().unwrap_or_default();
        Some(
            rules
                .iter()
                .map(|r| {
                    r["AllowedOrigins"]
                        .as_array()
                        .unwrap_or(&Vec::new())
                        .iter()
                        .map(|o| o.as_str().unwrap_or("").to_owned())
                        .collect()
                })
                .collect(),
        )
    }

    /// Uploads `body` as `bucket/key` (SigV4 through curl).
    pub fn put_object(&self, bucket: &str, key: &str, body: &[u8]) {
        let file = self.dir.join(format!("upload-{}", key.replace('/', "_")));
        std::fs::write(&file, body).expect("write object file");
        let sha = {
            use std::process::Command;
            let out = Command::new("sha256sum")
                .arg(&file)
                .output()
                .expect("sha256sum runs");
            String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_owned()
        };
        let k = self.garage.key();
        let status = std::process::Command::new("curl")
            .args(["-sf", "--aws-sigv4", "aws:amz:garage:s3", "--user"])
            .arg(format!("{}:{}", k.access_key_id, k.secret_access_key))
            .arg("-H")
            .arg(format!("x-amz-content-sha256: {sha}"))
            .arg("-T")
            .arg(&file)
            .arg(format!("{}/{bucket}/{key}", self.garage.endpoint()))
            .status()
            .expect("curl runs");
        assert!(
            status.success(),
            "uploading {bucket}/{key} to Garage failed"
        );
    }

    /// Serves `bucket` on Garage's web endpoint under the Host `alias`
    /// (Garage picks the bucket by Host) and returns the web port. Reads the
    /// node's own configuration for the web port and admin token.
    pub fn serve_website(&self, bucket: &str, alias: &str) -> u16 {
        let config =
            std::fs::read_to_string(self.garage.dir().join("garage.toml")).expect("Garage config");
        let section = |name: &str| {
            config
                .split(&format!("[{name}]"))
                .nth(1)
                .unwrap_or("")
                .split("\n[")
                .next()
                .unwrap_or("")
                .to_owned()
        };
        let value = |sec: &str, key: &str| {
            sec.lines()
                .find_map(|l| {
                    l.trim()
                        .strip_prefix(key)
                        .and_then(|r| r.trim().strip_prefix('='))
                        .map(|v| v.trim().trim_matches('"').to_owned())
                })
                .unwrap_or_else(|| panic!("`{key}` missing in the Garage config"))
        };
        let web: SocketAddr = value(&section("s3_web"), "bind_addr")
            .parse()
            .expect("web bind_addr");
        let admin_sec = section("admin");
        let admin: SocketAddr = value(&admin_sec, "api_bind_addr")
            .parse()
            .expect("admin bind_addr");
        let token = value(&admin_sec, "admin_token");
        let call = |method: &str, path: &str, body: &str| -> serde_json::Value {
            let req = format!(
                "{method} {path} HTTP/1.1\r\nHost: {admin}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let resp = raw_http::send(admin, req.as_bytes(), Duration::from_secs(10))
                .expect("Garage admin answers");
            assert_eq!(resp.status, 200, "Garage admin {path}: {}", resp.text());
            serde_json::from_slice(&resp.body).unwrap_or(serde_json::Value::Null)
        };
        let info = call(
            "GET",
            &format!("/v2/GetBucketInfo?globalAlias={bucket}"),
            "",
        );
        let id = info["id"].as_str().expect("bucket id").to_owned();
        call(
            "POST",
            &format!("/v2/UpdateBucket?id={id}"),
            r#"{"websiteAccess":{"enabled":true,"indexDocument":"index.html"}}"#,
        );
        call(
            "POST",
            "/v2/AddBucketAlias",
            &format!(r#"{{"bucketId":"{id}","globalAlias":"{alias}"}}"#),
        );
        web.port()
    }

    /// Sends a request to the edge with `Host: host`.
    pub fn edge_request(
        &self,
        method: &str,
        host: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> RawResponse {
        let h: Vec<(&str, &[u8])> = headers.iter().map(|(n, v)| (*n, v.as_bytes())).collect();
        let raw = raw_http::request_bytes(method.as_bytes(), path, host, &h, false);
        raw_http::send(addr_of(&self.edge.edge_url), &raw, Duration::from_secs(20)).unwrap_or_else(
            |e| {
                panic!(
                    "the edge did not answer {method} {host}{path}: {e}\n{}",
                    self.edge.log_tail()
                )
            },
        )
    }

    /// Sends a request straight to Garage's S3 endpoint (path-style).
    pub fn bucket_request(
        &self,
        method: &str,
        bucket: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> RawResponse {
        let addr = addr_of(&self.garage.endpoint());
        let h: Vec<(&str, &[u8])> = headers.iter().map(|(n, v)| (*n, v.as_bytes())).collect();
        let raw = raw_http::request_bytes(
            method.as_bytes(),
            &format!("/{bucket}{path}"),
            &addr.to_string(),
            &h,
            false,
        );
        raw_http::send(addr, &raw, Duration::from_secs(20)).expect("Garage answers")
    }

    /// A preflight to the edge: `(status, Access-Control-Allow-Origin)`.
    pub fn edge_preflight(&self, host: &str, origin: &str, method: &str) -> (u16, Option<String>) {
        let r = self.edge_request(
            "OPTIONS",
            host,
            "/probe",
            &[
                ("Origin", origin),
                ("Access-Control-Request-Method", method),
            ],
        );
        (
            r.status,
            r.header("access-control-allow-origin").map(str::to_owned),
        )
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A BucketCors manifest for a Garage bucket, S3 dialect.
pub fn s3_manifest(
    name: &str,
    bucket: &str,
    endpoint: &str,
    rules_yaml: &str,
    edge_yaml: &str,
    deletion: &str,
) -> String {
    format!(
        "apiVersion: bucketcors.dev/v1alpha1\nkind: BucketCors\nmetadata:\n  name: {name}\n  namespace: system-test\nspec:\n  backend:\n    provider: s3\n    bucket: {bucket}\n    endpoint: {endpoint}\n    region: garage\n    pathStyle: true\n  rules:\n{rules_yaml}{edge_yaml}  deletionPolicy: {deletion}\n"
    )
}

/// An `edge:` block.
pub fn edge_block(host: &str, origin_url: &str) -> String {
    format!("  edge:\n    enabled: true\n    hosts: [{host}]\n    originUrl: {origin_url}\n")
}

/// `bucket`'s rules as `garage` holds them, in S3 JSON, read with Garage's
/// own key by `bucketcors get`; `None` when the bucket has no configuration.
pub fn garage_bucket_rules(garage: &Garage, bucket: &str) -> Option<serde_json::Value> {
    let key = garage.key();
    let endpoint = garage.endpoint();
    let run = cli::run(
        &[
            "get",
            "--provider",
            "s3",
            "--bucket",
            bucket,
            "--endpoint",
            &endpoint,
            "--region",
            garage.region(),
            "--path-style",
            "--to",
            "s3-json",
        ],
        &[
            ("AWS_ACCESS_KEY_ID", key.access_key_id.as_str()),
            ("AWS_SECRET_ACCESS_KEY", key.secret_access_key.as_str()),
        ],
    );
    if run.code == Some(0) {
        let text = run.stdout.trim();
        if text.is_empty() {
            return None;
        }
        return Some(
            serde_json::from_str(text).unwrap_or_else(|e| {
                panic!("`bucketcors get` printed no JSON ({e}):\n{}", run.all())
            }),
        );
    }
    let all = run.all();
    assert!(
        all.contains("NoSuchCORSConfiguration")
            || all.to_lowercase().contains("no cors configuration"),
        "`bucketcors get {bucket}` failed:\n{all}"
    );
    None
}
