//! What the doctor tests share: a real Garage with one object per bucket
//! and rules applied by the real `bucketcors apply` from a manifest (the
//! same file the doctor reads with `--manifest`), presigned URLs for it
//! (Garage's S3 API needs a signature; the doctor and the browser fetch
//! such URLs as a page would), and a way to run `bucketcors doctor --json`
//! and read its report.
#![allow(dead_code)]

use std::path::PathBuf;

use bucketcors_testkit::garage::Garage;
use serde_json::Value;

use crate::support::cli;
pub use crate::support::presign::Presign;
use crate::support::presign::signed_url;
use crate::support::world::s3_manifest;

/// The object every bucket holds.
pub const KEY: &str = "photo.txt";
/// Its body.
pub const BODY: &str = "a photo, as text";

/// Garage plus a scratch directory; everything stops on drop.
pub struct Lab {
    /// The S3 server.
    pub garage: Garage,
    /// Manifests and uploads.
    pub dir: PathBuf,
}

impl Lab {
    /// Garage with `buckets`, each holding [`KEY`].
    pub fn start(buckets: &[&str]) -> Lab {
        let garage =
            Garage::start(buckets).unwrap_or_else(|e| panic!("Garage must run for this test: {e}"));
        let dir = std::env::temp_dir().join(format!(
            "bucketcors-doctor-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        let lab = Lab { garage, dir };
        for bucket in buckets {
            lab.put_object(bucket, KEY, BODY.as_bytes());
        }
        lab
    }

    /// Garage's credentials and region, as `apply` and `doctor
    /// --bucket-from-manifest` read them.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", self.garage.key().access_key_id.clone()),
            (
                "AWS_SECRET_ACCESS_KEY",
                self.garage.key().secret_access_key.clone(),
            ),
            ("AWS_REGION", self.garage.region().to_owned()),
        ]
    }

    /// Writes a manifest for `bucket` with `rules_yaml` (the `rules:` list,
    /// indented four spaces) and applies it with `bucketcors apply`;
    /// returns the manifest's path.
    pub fn apply(&self, bucket: &str, rules_yaml: &str) -> PathBuf {
        let manifest = s3_manifest(
            bucket,
            bucket,
            &self.garage.endpoint(),
            rules_yaml,
            "",
            "Retain",
        );
        let path = cli::write(&self.dir, &format!("{bucket}.yaml"), &manifest);
        let env = self.env();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let run = cli::run(&["apply", "-f", &path.display().to_string()], &env);
        assert_eq!(run.code, Some(0), "bucketcors apply failed:\n{}", run.all());
        path
    }

    /// A presigned GET of `bucket/KEY` at Garage's S3 endpoint.
    pub fn get_url(&self, bucket: &str) -> String {
        self.presign(Presign::Get, bucket, KEY)
    }

    /// A presigned URL for `op` on `bucket/key`, signed on a thread of its
    /// own (the signer runs its own runtime, which cannot nest in a test's).
    pub fn presign(&self, op: Presign<'_>, bucket: &str, key: &str) -> String {
        std::thread::scope(|s| {
            s.spawn(|| signed_url(&self.garage, op, bucket, key))
                .join()
                .expect("presigning does not panic")
        })
    }

    /// `url` (a presigned Garage URL) with its host and port swapped for
    /// `base` (`http://127.0.0.1:PORT`): the same request through a proxy.
    pub fn through(&self, url: &str, base: &str) -> String {
        let endpoint = self.garage.endpoint();
        let rest = url
            .strip_prefix(&endpoint)
            .unwrap_or_else(|| panic!("{url} is not at {endpoint}"));
        format!("{base}{rest}")
    }

    /// `url` (a presigned Garage URL for `bucket`) through an edge route
    /// `base/prefix` whose origin is `ENDPOINT/bucket`.
    pub fn through_edge(&self, url: &str, bucket: &str, base: &str, prefix: &str) -> String {
        let origin = format!("{}/{bucket}", self.garage.endpoint());
        let rest = url
            .strip_prefix(&origin)
            .unwrap_or_else(|| panic!("{url} is not under {origin}"));
        format!("{base}/{prefix}{rest}")
    }

    /// Uploads `body` as `bucket/key` (SigV4 through curl).
    pub fn put_object(&self, bucket: &str, key: &str, body: &[u8]) {
        let file = self.dir.join(format!("upload-{bucket}-{key}"));
        std::fs::write(&file, body).expect("write object file");
        let out = std::process::Command::new("sha256sum")
            .arg(&file)
            .output()
            .expect("sha256sum runs");
        let sha = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_owned();
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
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One `bucketcors doctor --json` run.
#[derive(Debug)]
pub struct Doctor {
    /// The exit code.
    pub code: Option<i32>,
    /// The report.
    pub report: Value,
    /// Standard error.
    pub stderr: String,
}

impl Doctor {
    /// Findings of `kind` (`not_cors`, `failing_field`, `response_check`,
    /// `cache_safety`, `layers_disagree`).
    pub fn findings(&self, kind: &str) -> Vec<&Value> {
        self.report["findings"]
            .as_array()
            .map(|a| a.iter().filter(|f| f["kind"] == kind).collect())
            .unwrap_or_default()
    }

    /// Findings of `kind` whose text (title, evidence, fix) contains `needle`.
    pub fn mentions(&self, kind: &str, needle: &str) -> bool {
        self.findings(kind)
            .iter()
            .any(|f| f.to_string().contains(needle))
    }

    /// Findings at error or warning level.
    pub fn problems(&self) -> Vec<&Value> {
        self.report["findings"]
            .as_array()
            .map(|a| a.iter().filter(|f| f["severity"] != "info").collect())
            .unwrap_or_default()
    }

    /// The whole report, for failure messages.
    pub fn pretty(&self) -> String {
        format!(
            "exit {:?}\n{}\nstderr: {}",
            self.code,
            serde_json::to_string_pretty(&self.report).unwrap_or_default(),
            self.stderr
        )
    }
}

/// Runs `bucketcors doctor ARGS --json` with `env`.
pub fn doctor(args: &[&str], env: &[(&str, &str)]) -> Doctor {
    let mut all: Vec<&str> = vec!["doctor"];
    all.extend_from_slice(args);
    all.push("--json");
    let run = cli::run(&all, env);
    // The person's output of the same run, for docs/troubleshooting.md.
    if std::env::var_os("BUCKETCORS_DOCTOR_SHOW_TEXT").is_some() {
        let text = cli::run(&all[..all.len() - 1], env);
        eprintln!(
            "$ bucketcors {}\n{}",
            all[..all.len() - 1].join(" "),
            text.stdout
        );
    }
    let report = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("doctor printed no JSON report ({e}):\n{}", run.all()));
    Doctor {
        code: run.code,
        report,
        stderr: run.stderr,
    }
}

/// A rule list in manifest YAML (four-space indent), from JSON rules.
pub fn rules_yaml(rules: &Value) -> String {
    let mut out = String::new();
    for rule in rules.as_array().expect("rules array") {
        out.push_str(&format!("    - {rule}\n"));
    }
    out
}

/// `url` (SigV4 presigned) with the first digit of its signature changed,
/// as a signer with the wrong secret would produce; also returns the
/// original signature.
pub fn tamper_signature(url: &str) -> (String, String) {
    let (base, signature) = url.split_once("X-Amz-Signature=").expect("a SigV4 URL");
    let sig: String = signature
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .collect();
    let first = if sig.starts_with('0') { '1' } else { '0' };
    let flipped = format!("{first}{}", &sig[1..]);
    (
        format!("{base}X-Amz-Signature={flipped}{}", &signature[sig.len()..]),
        sig,
    )
}
