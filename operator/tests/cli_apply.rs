//! `bucketcors apply`, `get` and `import`, run as the built binary against a
//! real Garage.

use bucketcors_testkit::garage::Garage;
use std::path::Path;
use std::process::{Command, Output};

fn bucketcors(garage: &Garage, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bucketcors"))
        .args(args)
        // The AWS standard chain reads the keys from the environment.
        .env("AWS_ACCESS_KEY_ID", &garage.key().access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &garage.key().secret_access_key)
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env_remove("CLOUDFLARE_ACCOUNT_ID")
        .output()
        .expect("run bucketcors")
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn manifest(garage: &Garage, name: &str, bucket: &str, origin: &str, method: &str) -> String {
    format!(
        r#"apiVersion: bucketcors.dev/v1alpha1
kind: BucketCors
metadata:
  name: {name}
  namespace: web
spec:
  backend:
    provider: s3
    bucket: {bucket}
    endpoint: {endpoint}
    region: garage
    pathStyle: true
  rules:
    - allowedOrigins: ["{origin}"]
      allowedMethods: ["GET", "{method}"]
      allowedHeaders: ["content-type"]
      maxAgeSeconds: 600
"#,
        endpoint = garage.endpoint()
    )
}

fn write(dir: &Path, file: &str, content: &str) {
    std::fs::write(dir.join(file), content).unwrap();
}

fn get(garage: &Garage, bucket: &str, format: &str) -> Output {
    let endpoint = garage.endpoint();
    bucketcors(
        garage,
        &[
            "get",
            "--provider",
            "s3",
            "--bucket",
            bucket,
            "--endpoint",
            &endpoint,
            "--region",
            "garage",
            "--path-style",
            "--to",
            format,
        ],
    )
}

#[test]
fn apply_directory_then_reapply_dry_run_get_and_import() {
    let garage = Garage::start(&["alpha", "beta", "gamma"]).expect("start Garage");
    let dir = tempfile::tempdir().unwrap();
    let manifests = dir.path().join("manifests");
    std::fs::create_dir(&manifests).unwrap();
    // Two documents in one file, one in another, and a Secret to skip.
    write(
        &manifests,
        "a.yaml",
        &format!(
            "{}---\n{}",
            manifest(&garage, "alpha", "alpha", "https://a.example", "PUT"),
            manifest(&garage, "beta", "beta", "https://b.example", "HEAD")
        ),
    );
    write(
        &manifests,
        "c.yaml",
        &manifest(&garage, "gamma", "gamma", "https://c.example", "POST"),
    );
    write(
        &manifests,
        "secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {a: b}\n",
    );
    write(&manifests, "notes.txt", "not a manifest");

    let dir_arg = manifests.to_str().unwrap();
    let first = bucketcors(&garage, &["apply", "-f", dir_arg]);
    let (out, err) = text(&first);
    assert_eq!(first.status.code(), Some(0), "{out}\n{err}");
    for bucket in ["alpha", "beta", "gamma"] {
        let line = out
            .lines()
            .find(|l| l.contains(&format!("`{bucket}`")))
            .unwrap_or_else(|| panic!("{out}"));
        assert!(
            line.starts_with("created") && line.contains("sha256:"),
            "{line}"
        );
    }
    assert!(
        out.contains(
            "3 bucket(s): 3 created, 0 updated, 0 drift-repaired, 0 unchanged, 0 invalid, 0 failed"
        ),
        "{out}"
    );
    assert!(err.contains("secret.yaml: not a BucketCors"), "{err}");

    // Again: nothing to do.
    let second = bucketcors(&garage, &["apply", "-f", dir_arg]);
    let (out, err) = text(&second);
    assert_eq!(second.status.code(), Some(0), "{out}\n{err}");
    assert!(
        out.contains("3 bucket(s): 0 created, 0 updated, 0 drift-repaired, 3 unchanged"),
        "{out}"
    );

    // Dry run of a change: a diff, and the bucket stays as it is.
    write(
        &manifests,
        "c.yaml",
        &manifest(&garage, "gamma", "gamma", "https://new.example", "POST"),
    );
    let before = text(&get(&garage, "gamma", "yaml")).0;
    let dry = bucketcors(
        &garage,
        &[
            "apply",
            "--dry-run",
            "-f",
            manifests.join("c.yaml").to_str().unwrap(),
        ],
    );
    let (out, err) = text(&dry);
    assert_eq!(dry.status.code(), Some(0), "{out}\n{err}");
    assert!(
        out.contains("would update") && out.contains("`gamma`"),
        "{out}"
    );
    assert!(
        out.contains("-   - https://c.example") && out.contains("+   - https://new.example"),
        "{out}"
    );
    assert!(out.contains("(dry run, nothing sent)"), "{out}");
    assert_eq!(
        text(&get(&garage, "gamma", "yaml")).0,
        before,
        "dry run sent nothing"
    );

    // get, in a provider format.
    let got = get(&garage, "alpha", "s3-json");
    let (out, err) = text(&got);
    assert_eq!(got.status.code(), Some(0), "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("S3 JSON");
    assert_eq!(
        json["CORSRules"][0]["AllowedOrigins"][0], "https://a.example",
        "{out}"
    );
    assert_eq!(
        json["CORSRules"][0]["AllowedMethods"],
        serde_json::json!(["GET", "PUT"]),
        "{out}"
    );

    // import prints a manifest that applies as unchanged.
    let endpoint = garage.endpoint();
    let imported = bucketcors(
        &garage,
        &[
            "import",
            "--provider",
            "s3",
            "--bucket",
            "beta",
            "--endpoint",
            &endpoint,
            "--region",
            "garage",
            "--path-style",
            "--namespace",
            "web",
        ],
    );
    let (out, err) = text(&imported);
    assert_eq!(imported.status.code(), Some(0), "{err}");
    assert!(
        out.contains("kind: BucketCors") && out.contains("deletionPolicy: Retain"),
        "{out}"
    );
    assert!(
        out.contains("bucket: beta") && out.contains("https://b.example"),
        "{out}"
    );
    let import_file = dir.path().join("imported.yaml");
    std::fs::write(&import_file, &out).unwrap();
    let reapply = bucketcors(&garage, &["apply", "-f", import_file.to_str().unwrap()]);
    let (out, err) = text(&reapply);
    assert_eq!(reapply.status.code(), Some(0), "{out}\n{err}");
    assert!(
        out.starts_with("unchanged") && out.contains("`beta`"),
        "{out}"
    );

    // A bucket without rules: get says so and succeeds; import refuses.
    garage.create_bucket("empty").unwrap();
    let none = get(&garage, "empty", "yaml");
    assert_eq!(none.status.code(), Some(0));
    assert!(text(&none).1.contains("has no CORS configuration"));
}

#[test]
fn invalid_manifests_exit_1_and_the_valid_ones_still_apply() {
    let garage = Garage::start(&["good", "bad"]).expect("start Garage");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("m.yaml");
    std::fs::write(
        &file,
        format!(
            "{}---\n{}",
            manifest(&garage, "good", "good", "https://a.example", "PUT"),
            manifest(&garage, "bad", "bad", "https://a.example", "PATCH")
        ),
    )
    .unwrap();
    let output = bucketcors(&garage, &["apply", "-f", file.to_str().unwrap()]);
    let (out, err) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{out}\n{err}");
    assert!(out.contains("created") && out.contains("`good`"), "{out}");
    assert!(
        err.contains("m.yaml#2") && err.contains("allowedMethods[1]") && err.contains("PATCH"),
        "{err}"
    );
    assert!(
        text(&get(&garage, "bad", "yaml"))
            .1
            .contains("has no CORS configuration"),
        "nothing sent for the bad one"
    );
}

#[test]
fn backend_errors_exit_2_without_secrets_and_credentials_file_works() {
    let garage = Garage::start(&["site"]).expect("start Garage");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("m.yaml");
    std::fs::write(
        &file,
        manifest(&garage, "site", "site", "https://a.example", "PUT"),
    )
    .unwrap();

    // Wrong keys from a credentials file: access denied, exit 2, no secret shown.
    let secret = "9".repeat(64);
    let creds = dir.path().join("creds.yaml");
    std::fs::write(
        &creds,
        format!(
            "s3:\n  accessKeyId: {}\n  secretAccessKey: {secret}\n",
            garage.key().access_key_id
        ),
    )
    .unwrap();
    let denied = bucketcors(
        &garage,
        &[
            "apply",
            "-f",
            file.to_str().unwrap(),
            "--credentials",
            creds.to_str().unwrap(),
        ],
    );
    let (out, err) = text(&denied);
    assert_eq!(denied.status.code(), Some(2), "{out}\n{err}");
    assert!(
        err.contains("failed") && err.contains("`site`") && err.contains("AccessDenied"),
        "{err}"
    );
    assert!(!out.contains(&secret) && !err.contains(&secret), "{err}");
    assert!(!err.contains(&garage.key().secret_access_key));

    // The right keys from a credentials file.
    std::fs::write(
        &creds,
        format!(
            "s3:\n  accessKeyId: {}\n  secretAccessKey: {}\n",
            garage.key().access_key_id,
            garage.key().secret_access_key
        ),
    )
    .unwrap();
    let ok = bucketcors(
        &garage,
        &[
            "apply",
            "-f",
            file.to_str().unwrap(),
            "--credentials",
            creds.to_str().unwrap(),
        ],
    );
    assert_eq!(ok.status.code(), Some(0), "{:?}", text(&ok));

    // A bucket that does not exist: exit 2 naming it.
    std::fs::write(
        &file,
        manifest(&garage, "nope", "nope", "https://a.example", "PUT"),
    )
    .unwrap();
    let missing = bucketcors(&garage, &["apply", "-f", file.to_str().unwrap()]);
    let (out, err) = text(&missing);
    assert_eq!(missing.status.code(), Some(2), "{out}\n{err}");
    assert!(
        err.contains("`nope`") && err.contains("NoSuchBucket"),
        "{err}"
    );
}

/// A manifest with `edge.enabled` is published through the Cloudflare KV
/// API when the Cloudflare settings are given; here the API is a local
/// server that records the calls and keeps what is written, answering reads
/// the way Workers KV does (the raw value, or 404 with code 10009).
/// One recorded KV API call: "METHOD path", body, Authorization header.
type KvWrite = (String, String, Option<String>);

#[test]
fn apply_publishes_enabled_edges_through_the_cloudflare_api() {
    use std::sync::{Arc, Mutex};
    let garage = Garage::start(&["media"]).expect("start Garage");
    let writes: Arc<Mutex<Vec<KvWrite>>> = Arc::default();
    let recorded = writes.clone();
    let store: Arc<Mutex<std::collections::HashMap<String, String>>> = Arc::default();
    let (tx, rx) = std::sync::mpsc::channel();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.spawn(async move {
        let app = axum::Router::new().fallback(
            move |method: axum::http::Method, uri: axum::http::Uri, headers: axum::http::HeaderMap, body: String| {
                let recorded = recorded.clone();
                let store = store.clone();
                async move {
                    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned);
                    let get = method == axum::http::Method::GET;
                    let path = uri.path().to_owned();
                    recorded.lock().unwrap().push((format!("{method} {path}"), body.clone(), auth));
                    let mut store = store.lock().unwrap();
                    if get {
                        // A stored value comes back raw; a missing one is
                        // Cloudflare's "key not found" (404, code 10009).
                        return match store.get(&path) {
                            Some(value) => (axum::http::StatusCode::OK, value.clone()),
                            None => (
                                axum::http::StatusCode::NOT_FOUND,
                                serde_json::json!({"success": false, "errors": [{"code": 10009, "message": "get: 'key not found'"}], "messages": [], "result": null}).to_string(),
                            ),
                        };
                    }
                    if method == axum::http::Method::PUT {
                        store.insert(path, body);
                    }
                    (
                        axum::http::StatusCode::OK,
                        serde_json::json!({"success": true, "errors": [], "messages": [], "result": null}).to_string(),
                    )
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        tx.send(listener.local_addr().unwrap()).unwrap();
        axum::serve(listener, app).await.unwrap();
    });
    let api = rx.recv().unwrap();

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("m.yaml");
    let mut yaml = manifest(&garage, "media", "media", "https://a.example", "PUT");
    yaml.push_str("  edge:\n    enabled: true\n    hosts: [media.example.com]\n");
    std::fs::write(&file, yaml).unwrap();

    let token = "cf-token-never-printed";
    let output = Command::new(env!("CARGO_BIN_EXE_bucketcors"))
        .args(["apply", "-f", file.to_str().unwrap()])
        .args(["--cloudflare-api-url", &format!("http://{api}/client/v4")])
        .args([
            "--cloudflare-account-id",
            "acc123",
            "--cloudflare-namespace-id",
            "ns456",
        ])
        .env("CLOUDFLARE_API_TOKEN", token)
        .env("AWS_ACCESS_KEY_ID", &garage.key().access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &garage.key().secret_access_key)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    let (out, err) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{out}\n{err}");
    assert!(
        out.contains("created") && out.contains("edge published sha256:"),
        "{out}"
    );
    assert!(!out.contains(token) && !err.contains(token));

    // The route record (read: absent, written, read back), then the host's
    // routes record (read, then written with the host's own route listed),
    // every call with the token.
    let writes = writes.lock().unwrap().clone();
    let values = "/client/v4/accounts/acc123/storage/kv/namespaces/ns456/values/";
    let calls: Vec<&str> = writes.iter().map(|(r, _, _)| r.as_str()).collect();
    assert_eq!(
        calls,
        [
            format!("GET {values}route%3Amedia.example.com"),
            format!("PUT {values}route%3Amedia.example.com"),
            format!("GET {values}route%3Amedia.example.com"),
            format!("GET {values}routes%3Amedia.example.com"),
            format!("PUT {values}routes%3Amedia.example.com"),
        ],
        "{writes:?}"
    );
    for (_, _, auth) in &writes {
        assert_eq!(auth.as_deref(), Some(format!("Bearer {token}").as_str()));
    }
    let route = &writes[1].1;
    assert!(
        route.contains("https://a.example") && route.contains("sha256:"),
        "{route}"
    );
    let routes: serde_json::Value = serde_json::from_str(&writes[4].1).expect("routes JSON");
    assert_eq!(routes["hostRoute"], true, "the host's own route: {routes}");
    assert_eq!(
        routes["prefixes"],
        serde_json::json!([]),
        "no prefix routes: {routes}"
    );
}
