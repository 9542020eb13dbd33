//! The engine commands of the `bucketcors` binary, run as a user runs them:
//! `validate`, `convert` and `eval` on files in a temporary directory
//! (issue 2, item 6).

use std::path::Path;

use bucketcors_engine::format::{self, Format};
use bucketcors_engine::{CorsConfig, Rule};

mod cli_support;
use cli_support::{Run, bucketcors, write};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

const OSS_XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<CORSConfiguration>
  <CORSRule>
    <AllowedOrigin>*</AllowedOrigin>
    <AllowedMethod>GET</AllowedMethod>
    <AllowedMethod>PUT</AllowedMethod>
    <AllowedHeader>x-oss-*</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader>
    <MaxAgeSeconds>600</MaxAgeSeconds>
  </CORSRule>
  <ResponseVary>true</ResponseVary>
</CORSConfiguration>
"#;

const S3_YAML: &str = r#"rules:
  - id: app
    allowedOrigins: ["https://app.example.com"]
    allowedMethods: [GET, PUT]
    allowedHeaders: ["x-amz-*", "content-type"]
    exposeHeaders: [ETag, x-amz-request-id]
    maxAgeSeconds: 3000
  - id: public
    allowedOrigins: ["*"]
    allowedMethods: [GET]
"#;

const MANIFEST: &str = r#"apiVersion: bucketcors.dev/v1alpha1
kind: BucketCors
metadata:
  name: assets
spec:
  backend:
    provider: s3
    bucket: assets
  rules:
    - allowedOrigins: ["https://*.example.com"]
      allowedMethods: [GET]
"#;

const INVALID_YAML: &str = r#"rules:
  - id: uploads
    allowedOrigins: ["https://app.example.com/"]
    allowedMethods: [GET, PATCH]
"#;

// ---- validate -------------------------------------------------------------

#[test]
fn validate_accepts_valid_files_and_takes_the_dialect_from_them() {
    let dir = tempfile::tempdir().unwrap();
    let oss = write(dir.path(), "cors.xml", OSS_XML);
    let manifest = write(dir.path(), "bucketcors.yaml", MANIFEST);
    let run = bucketcors(&["validate", s(&oss), s(&manifest)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains(&format!(
            // `*` may PUT: valid, with the any-origin-can-write lint.
            "{}: valid for oss (OSS XML 1 rule, 1 warning)",
            oss.display()
        )),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!(
            "{}: valid for s3 (YAML 1 rule)",
            manifest.display()
        )),
        "{}",
        run.stdout
    );
}

#[test]
fn validate_names_file_rule_and_field_of_each_error() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(dir.path(), "bad.yaml", INVALID_YAML);
    let good = write(dir.path(), "good.yaml", S3_YAML);
    let run = bucketcors(&["validate", "--dialect", "s3", s(&good), s(&bad)]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("good.yaml: valid for s3"),
        "{}",
        run.stdout
    );
    let name = bad.display().to_string();
    let method_error = run
        .stderr
        .lines()
        .find(|l| l.contains("allowedMethods[1]"))
        .unwrap_or_else(|| panic!("no allowedMethods[1] error in:\n{}", run.stderr));
    assert!(
        method_error.starts_with(&format!("{name}: error: rule 0 (id \"uploads\")")),
        "{method_error}"
    );
    assert!(method_error.contains("PATCH"), "{method_error}");
    assert!(
        run.stderr
            .lines()
            .any(|l| l.starts_with(&format!("{name}: error:")) && l.contains("allowedOrigins[0]")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(&format!("{name}: invalid for s3: 2 errors")),
        "{}",
        run.stderr
    );
}

#[test]
fn validate_requires_a_dialect_when_the_document_serves_both() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "rules.yaml", S3_YAML);
    let run = bucketcors(&["validate", s(&file)]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("pass --dialect oss or --dialect s3"),
        "{}",
        run.stderr
    );
}

#[test]
fn validate_checks_the_dialects_limits() {
    let dir = tempfile::tempdir().unwrap();
    // Eleven rules: within S3's 100, over OSS's 10.
    let config = CorsConfig {
        rules: (0..11)
            .map(|i| Rule {
                allowed_origins: vec![format!("https://{i}.example.com")],
                allowed_methods: vec!["GET".into()],
                ..Rule::default()
            })
            .collect(),
        response_vary: false,
    };
    let file = write(
        dir.path(),
        "many.yaml",
        &format::print(&config, Format::Yaml),
    );
    assert_eq!(
        bucketcors(&["validate", "--dialect", "s3", s(&file)]).code,
        0
    );
    let run = bucketcors(&["validate", "--dialect", "oss", s(&file)]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("many.yaml: error:"), "{}", run.stderr);
}

#[test]
fn validate_reports_parse_errors_with_their_location() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "typo.xml",
        "<CORSConfiguration>\n  <CORSRule>\n    <AllowedOrigins>*</AllowedOrigins>\n  </CORSRule>\n</CORSConfiguration>\n",
    );
    let run = bucketcors(&["validate", "--dialect", "s3", s(&file)]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains(&format!(
            "{}: S3 XML, line 3, column 5, at CORSConfiguration/CORSRule[0]: unexpected element <AllowedOrigins>",
            file.display()
        )),
        "{}",
        run.stderr
    );
    let missing = bucketcors(&["validate", "--dialect", "s3", "/nonexistent/cors.xml"]);
    assert_eq!(missing.code, 1);
    assert!(
        missing
            .stderr
            .contains("/nonexistent/cors.xml: cannot read"),
        "{}",
        missing.stderr
    );
}

// ---- convert --------------------------------------------------------------

#[test]
fn every_format_converts_to_every_other_and_reads_back_the_same() {
    let dir = tempfile::tempdir().unwrap();
    // What every format can hold: no rule IDs, no responseVary.
    let config = CorsConfig {
        rules: vec![
            Rule {
                allowed_origins: vec![
                    "https://app.example.com".into(),
                    "https://*.example.com".into(),
                ],
                allowed_methods: vec!["GET".into(), "PUT".into()],
                allowed_headers: vec!["x-amz-*".into(), "Content-Type".into()],
                expose_headers: vec!["ETag".into()],
                max_age_seconds: Some(3000),
                ..Rule::default()
            },
            Rule {
                allowed_origins: vec!["*".into()],
                allowed_methods: vec!["HEAD".into()],
                ..Rule::default()
            },
        ],
        response_vary: false,
    };
    let targets = [
        ("oss-xml", Format::OssXml),
        ("s3-xml", Format::S3Xml),
        ("s3-json", Format::S3Json),
        ("yaml", Format::Yaml),
        ("json", Format::Json),
    ];
    for (from_name, from) in targets {
        let source = write(
            dir.path(),
            &format!("source.{from_name}"),
            &format::print(&config, from),
        );
        for (to_name, to) in targets {
            let run = bucketcors(&["convert", "--to", to_name, s(&source)]);
            assert_eq!(run.code, 0, "{from_name} -> {to_name}: {}", run.stderr);
            let (back, detected) = format::parse_any(&run.stdout)
                .unwrap_or_else(|e| panic!("{from_name} -> {to_name}: {e}\n{}", run.stdout));
            assert_eq!(detected, to, "{from_name} -> {to_name}");
            assert_eq!(back, config, "{from_name} -> {to_name}");
        }
    }
}

#[test]
fn convert_refuses_to_lose_ids_and_response_vary_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = write(dir.path(), "rules.yaml", S3_YAML);
    let run = bucketcors(&["convert", "--to", "oss-xml", s(&yaml)]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(
        run.stderr
            .contains("error: rule 0 has id `app`, but OSS XML has no place for rule IDs"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("pass --allow-loss"), "{}", run.stderr);

    let run = bucketcors(&["convert", "--to", "oss-xml", "--allow-loss", s(&yaml)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("warning: rule 1 has id `public`"),
        "{}",
        run.stderr
    );
    let back = format::parse(&run.stdout, Format::OssXml).unwrap();
    assert_eq!(back.rules.len(), 2);
    assert!(back.rules.iter().all(|r| r.id.is_none()));

    let oss = write(dir.path(), "cors.xml", OSS_XML);
    let run = bucketcors(&["convert", "--to", "s3-json", s(&oss)]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("responseVary is true"),
        "{}",
        run.stderr
    );
    // The spec shape holds ResponseVary: no loss.
    let run = bucketcors(&["convert", "--to", "yaml", s(&oss)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("responseVary: true"), "{}", run.stdout);
}

// ---- eval -----------------------------------------------------------------

/// `--method METHOD` followed by `-H HEADER` for each header.
fn request_args<'a>(method: &'a str, headers: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["--method", method];
    for header in headers {
        args.extend(["-H", header]);
    }
    args
}

fn eval(dir: &Path, dialect: &str, config: &str, args: &[&str]) -> Run {
    let path = if config == "none" {
        "none".to_owned()
    } else {
        s(&write(dir, "config", config)).to_owned()
    };
    let mut all = vec!["eval", "--dialect", dialect, "--config", &path];
    all.extend_from_slice(args);
    bucketcors(&all)
}

fn eval_json(dir: &Path, dialect: &str, config: &str, args: &[&str]) -> serde_json::Value {
    let mut with_json = args.to_vec();
    with_json.push("--json");
    let run = eval(dir, dialect, config, &with_json);
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

fn headers(v: &serde_json::Value) -> Vec<(String, String)> {
    v["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| {
            let pair = pair.as_array().unwrap();
            assert_eq!(pair.len(), 2);
            (
                pair[0].as_str().unwrap().to_owned(),
                pair[1].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

#[test]
fn eval_json_has_the_documented_shape() {
    let dir = tempfile::tempdir().unwrap();
    let v = eval_json(
        dir.path(),
        "s3",
        S3_YAML,
        &request_args(
            "OPTIONS",
            &[
                "Origin: https://app.example.com",
                "Access-Control-Request-Method: PUT",
            ],
        ),
    );
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        ["body", "explanation", "headers", "matched_rule", "status"]
    );
    // One line, fields in the documented order.
    let run = eval(dir.path(), "s3", S3_YAML, &["--method", "GET", "--json"]);
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
    assert!(
        run.stdout.starts_with(
            r#"{"status":200,"headers":[],"body":null,"matched_rule":null,"explanation":["#
        ),
        "{}",
        run.stdout
    );
    assert_eq!(v["status"], 200);
    assert_eq!(v["matched_rule"], 0);
    assert!(v["body"].is_null());
    let explanation = v["explanation"].as_array().unwrap();
    assert!(!explanation.is_empty());
    assert!(explanation.iter().all(serde_json::Value::is_string));
}

#[test]
fn eval_s3_preflight_matched_section_3() {
    let dir = tempfile::tempdir().unwrap();
    let v = eval_json(
        dir.path(),
        "s3",
        S3_YAML,
        &[
            "--method",
            "OPTIONS",
            "-H",
            "Origin: https://app.example.com",
            "-H",
            "Access-Control-Request-Method: PUT",
            // Repeated headers are comma-joined before the engine sees them.
            "-H",
            "Access-Control-Request-Headers: X-Amz-Date",
            "-H",
            "access-control-request-headers: Content-Type",
        ],
    );
    assert_eq!(v["status"], 200);
    assert_eq!(
        headers(&v),
        pairs(&[
            ("Access-Control-Allow-Origin", "https://app.example.com"),
            ("Access-Control-Allow-Credentials", "true"),
            ("Access-Control-Allow-Methods", "GET, PUT"),
            ("Access-Control-Allow-Headers", "x-amz-date, content-type"),
            ("Access-Control-Expose-Headers", "ETag, x-amz-request-id"),
            ("Access-Control-Max-Age", "3000"),
            (
                "Vary",
                "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
            ),
        ])
    );
}

#[test]
fn eval_s3_star_rule_answers_star_without_credentials_section_3() {
    let dir = tempfile::tempdir().unwrap();
    let v = eval_json(
        dir.path(),
        "s3",
        S3_YAML,
        &request_args(
            "OPTIONS",
            &[
                "Origin: https://other.example",
                "Access-Control-Request-Method: GET",
            ],
        ),
    );
    assert_eq!(v["matched_rule"], 1);
    assert_eq!(
        headers(&v),
        pairs(&[
            ("Access-Control-Allow-Origin", "*"),
            ("Access-Control-Allow-Methods", "GET"),
            (
                "Vary",
                "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
            ),
        ])
    );
}

#[test]
fn eval_s3_preflight_refused_with_the_recorded_body_section_3() {
    let dir = tempfile::tempdir().unwrap();
    let run = eval(
        dir.path(),
        "s3",
        S3_YAML,
        &[
            "--method",
            "OPTIONS",
            "-H",
            "Origin: https://other.example",
            "-H",
            "Access-Control-Request-Method: DELETE",
            "--resource",
            "bucket",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut lines = run.stdout.lines();
    assert_eq!(lines.next(), Some("HTTP/1.1 403 Forbidden"));
    assert_eq!(lines.next(), Some("Content-Type: application/xml"));
    assert_eq!(lines.next(), Some(""));
    let body = lines.next().unwrap();
    assert!(body.starts_with("<Error><Code>AccessForbidden</Code><Message>CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin"), "{body}");
    assert!(
        body.contains("<Method>DELETE</Method><ResourceType>BUCKET</ResourceType>"),
        "{body}"
    );
    assert!(run.stdout.contains("Explanation (s3):"), "{}", run.stdout);
    assert!(
        !run.stdout.contains("Access-Control-Allow"),
        "{}",
        run.stdout
    );
}

#[test]
fn eval_s3_actual_request_gets_headers_but_no_allow_headers_section_3() {
    let dir = tempfile::tempdir().unwrap();
    let v = eval_json(
        dir.path(),
        "s3",
        S3_YAML,
        &request_args("GET", &["Origin: https://app.example.com"]),
    );
    assert_eq!(v["status"], 200);
    assert_eq!(v["matched_rule"], 0);
    assert!(v["body"].is_null());
    let names: Vec<String> = headers(&v).into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "Access-Control-Allow-Origin",
            "Access-Control-Allow-Credentials",
            "Access-Control-Allow-Methods",
            "Access-Control-Expose-Headers",
            "Access-Control-Max-Age",
            "Vary"
        ]
    );
    let run = eval(
        dir.path(),
        "s3",
        S3_YAML,
        &request_args("GET", &["Origin: https://app.example.com"]),
    );
    assert!(
        run.stdout.contains("the bucket's own response"),
        "{}",
        run.stdout
    );
}

#[test]
fn eval_oss_preflight_echoes_origin_even_for_star_and_varies_section_4() {
    let dir = tempfile::tempdir().unwrap();
    let v = eval_json(
        dir.path(),
        "oss",
        OSS_XML,
        &request_args(
            "OPTIONS",
            &[
                "Origin: https://app.example.com",
                "Access-Control-Request-Method: PUT",
                "Access-Control-Request-Headers: X-Oss-Meta-A",
            ],
        ),
    );
    assert_eq!(v["status"], 200);
    assert_eq!(
        headers(&v),
        pairs(&[
            ("Access-Control-Allow-Origin", "https://app.example.com"),
            ("Access-Control-Allow-Methods", "GET, PUT"),
            ("Access-Control-Allow-Headers", "x-oss-meta-a"),
            ("Access-Control-Expose-Headers", "ETag"),
            ("Access-Control-Max-Age", "600"),
            ("Vary", "Origin"),
        ])
    );
}

#[test]
fn eval_oss_missing_request_method_is_400_section_4() {
    let dir = tempfile::tempdir().unwrap();
    let v = eval_json(
        dir.path(),
        "oss",
        OSS_XML,
        &request_args("OPTIONS", &["Origin: https://app.example.com"]),
    );
    assert_eq!(v["status"], 400);
    let body = v["body"].as_str().unwrap();
    assert!(
        body.contains(
            "Insufficient information. Request Access-Control-Request-Method header needed"
        ),
        "{body}"
    );
    assert!(v["matched_rule"].is_null());
}

#[test]
fn eval_without_configuration_is_a_bucket_without_cors() {
    let dir = tempfile::tempdir().unwrap();
    for dialect in ["s3", "oss"] {
        let v = eval_json(
            dir.path(),
            dialect,
            "none",
            &request_args(
                "OPTIONS",
                &[
                    "Origin: https://app.example.com",
                    "Access-Control-Request-Method: GET",
                ],
            ),
        );
        assert_eq!(v["status"], 403, "{dialect}");
        assert!(
            v["body"]
                .as_str()
                .unwrap()
                .contains("CORSResponse: CORS is not enabled for this bucket."),
            "{dialect}: {v}"
        );
    }
    let run = bucketcors(&["eval", "--config", "none", "--method", "GET"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("--config none needs --dialect"),
        "{}",
        run.stderr
    );
}

#[test]
fn eval_refuses_an_invalid_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let run = eval(
        dir.path(),
        "s3",
        INVALID_YAML,
        &request_args(
            "OPTIONS",
            &[
                "Origin: https://app.example.com",
                "Access-Control-Request-Method: GET",
            ],
        ),
    );
    assert_eq!(run.code, 1);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(
        run.stderr
            .contains("error: rule 0 (id \"uploads\"), allowedMethods[1]"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("refusing to evaluate"),
        "{}",
        run.stderr
    );
}

#[test]
fn eval_reads_manifests_and_takes_their_provider() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "bucketcors.yaml", MANIFEST);
    let run = bucketcors(&[
        "eval",
        "--config",
        s(&path),
        "--method",
        "OPTIONS",
        "-H",
        "Origin: https://shop.example.com",
        "-H",
        "Access-Control-Request-Method: GET",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["status"], 200);
    // S3 (the manifest's provider): credentials with an echoed origin.
    assert!(
        headers(&v).contains(&("Access-Control-Allow-Credentials".into(), "true".into())),
        "{v}"
    );
}

#[test]
fn eval_rejects_a_malformed_header_argument() {
    let run = bucketcors(&[
        "eval",
        "--dialect",
        "s3",
        "--config",
        "none",
        "--method",
        "GET",
        "-H",
        "Origin",
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("expected 'Name: value'"),
        "{}",
        run.stderr
    );
}
