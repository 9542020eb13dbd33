//! `bucketcors validate` lints and targets, and `bucketcors eval --target`,
//! run as a user runs them (issue 16, items 1, 2 and 4).

mod cli_support;
use cli_support::{bucketcors, write};

const LINTED: &str = r#"rules:
  - id: app
    allowedOrigins: ["https://App.example.com"]
    allowedMethods: [GET, PUT]
    allowedHeaders: ["*"]
    maxAgeSeconds: 86400
"#;

const CLEAN: &str = r#"rules:
  - id: app
    allowedOrigins: ["https://app.example.com"]
    allowedMethods: [GET, PUT]
    allowedHeaders: ["*", "authorization"]
    maxAgeSeconds: 7200
"#;

#[test]
fn lints_are_warnings_and_fail_only_with_strict() {
    let dir = tempfile::tempdir().unwrap();
    let linted = write(dir.path(), "linted.yaml", LINTED);
    let path = linted.to_str().unwrap();
    let run = bucketcors(&["validate", "--dialect", "s3", path]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains("BC101"))
        .unwrap_or_else(|| panic!("no BC101 in:\n{}", run.stderr));
    assert!(
        line.starts_with(&format!(
            "{path}: warning: BC101 origin-upper-case: rule 0 (id \"app\"), allowedOrigins[0]: "
        )),
        "{line}"
    );
    assert!(
        line.contains("fix: write \"https://app.example.com\""),
        "{line}"
    );
    assert!(
        run.stderr.contains("BC130 max-age-above-chromium-cap"),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout
            .contains("valid for s3 (YAML 1 rule, 2 warnings)"),
        "{}",
        run.stdout
    );

    let strict = bucketcors(&["validate", "--strict", "--dialect", "s3", path]);
    assert_eq!(strict.code, 1, "{}", strict.stderr);

    // Garage sends no Max-Age: its clean twin has none.
    let clean = write(
        dir.path(),
        "clean.yaml",
        &CLEAN.replace("    maxAgeSeconds: 7200\n", ""),
    );
    let run = bucketcors(&[
        "validate",
        "--strict",
        "--target",
        "garage",
        clean.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("valid for s3 on garage (YAML 1 rule)"),
        "{}",
        run.stdout
    );
}

#[test]
fn target_garage_adds_the_store_lints_and_minio_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let linted = write(dir.path(), "linted.yaml", LINTED);
    let path = linted.to_str().unwrap();
    let run = bucketcors(&["validate", "--target", "garage", path]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for code in ["BC120 wildcard-headers-literal", "BC207 target-no-max-age"] {
        assert!(run.stderr.contains(code), "{code} missing:\n{}", run.stderr);
    }
    assert!(
        run.stderr.contains(
            "tested: observed against Garage 2.5.0 in tests/tests/garage_capabilities.rs"
        ),
        "{}",
        run.stderr
    );
    // S3 echoes requested headers: no BC120 there.
    let s3 = bucketcors(&["validate", "--target", "s3", path]);
    assert!(!s3.stderr.contains("BC120"), "{}", s3.stderr);

    let minio = bucketcors(&["validate", "--target", "minio", path]);
    assert_eq!(minio.code, 1, "{}", minio.stderr);
    assert!(
        minio
            .stderr
            .contains("error: BC201 target-refuses-bucket-cors"),
        "{}",
        minio.stderr
    );
    assert!(
        minio.stderr.contains("invalid for s3 on minio: 1 error"),
        "{}",
        minio.stderr
    );

    let clash = bucketcors(&["validate", "--target", "oss", "--dialect", "s3", path]);
    assert_eq!(clash.code, 1);
    assert!(
        clash.stderr.contains("--target oss speaks the oss dialect"),
        "{}",
        clash.stderr
    );
    let unknown = bucketcors(&["validate", "--target", "nope", path]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown
            .stderr
            .contains("expected one of s3, oss, r2, garage, ceph, minio, gcs-interop"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn a_manifests_flavor_is_its_target() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = write(
        dir.path(),
        "m.yaml",
        r#"apiVersion: bucketcors.dev/v1alpha1
kind: BucketCors
metadata: {name: m}
spec:
  backend: {provider: s3, bucket: m, flavor: garage}
  rules:
    - allowedOrigins: ["https://a.example.com"]
      allowedMethods: [PUT]
      allowedHeaders: [Content-Type]
"#,
    );
    let run = bucketcors(&["validate", manifest.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("BC205 target-header-case"),
        "{}",
        run.stderr
    );
    let r2 = write(
        dir.path(),
        "r2.yaml",
        r#"apiVersion: bucketcors.dev/v1alpha1
kind: BucketCors
metadata: {name: r}
spec:
  backend: {provider: s3, bucket: r, endpoint: "https://acct.r2.cloudflarestorage.com"}
  rules:
    - allowedOrigins: ["http://localhost:*"]
      allowedMethods: [GET]
"#,
    );
    let run = bucketcors(&["validate", r2.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("error: BC204 target-refuses-pattern"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("cloudflare/cloudflare-docs#32888"),
        "{}",
        run.stderr
    );
}

#[test]
fn eval_target_marks_what_garage_answers_differently() {
    let dir = tempfile::tempdir().unwrap();
    let config = write(dir.path(), "g.yaml", CLEAN);
    let path = config.to_str().unwrap();
    let args = [
        "eval",
        "--target",
        "garage",
        "--config",
        path,
        "--method",
        "OPTIONS",
        "-H",
        "Origin: https://app.example.com",
        "-H",
        "Access-Control-Request-Method: PUT",
        "-H",
        "Access-Control-Request-Headers: authorization",
    ];
    let run = bucketcors(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The dialect's answer first: S3 echoes the requested name.
    assert!(
        run.stdout.starts_with("HTTP/1.1 200 OK\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("\nAccess-Control-Allow-Headers: authorization\n"),
        "{}",
        run.stdout
    );
    let garage = run
        .stdout
        .split_once("On garage (differs from the s3 dialect):")
        .unwrap_or_else(|| panic!("no garage section:\n{}", run.stdout))
        .1;
    assert!(
        garage.contains("Access-Control-Allow-Headers: *, authorization   (differs)"),
        "{garage}"
    );
    assert!(
        garage.contains("(no Access-Control-Max-Age; the dialect sends \"7200\")   (differs)"),
        "{garage}"
    );
    assert!(
        garage.contains("Access-Control-Allow-Methods: GET, PUT\n"),
        "{garage}"
    );

    let mut json = args.to_vec();
    json.push("--json");
    let run = bucketcors(&json);
    let value: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(value["target"]["name"], "garage");
    assert_eq!(value["target"]["differs"], true);

    // Without --target nothing about stores is said.
    let plain: Vec<&str> = args
        .iter()
        .copied()
        .filter(|a| *a != "--target" && *a != "garage")
        .chain(["--dialect", "s3"])
        .collect();
    let run = bucketcors(&plain);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stdout.contains("On garage"), "{}", run.stdout);
}
