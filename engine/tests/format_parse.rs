//! Parsing documents as users and providers write them, and the errors for
//! documents that are wrong: each error says where and what was expected
//! (issue 2, item 2).

use bucketcors_engine::format::{self, Format, ParseError, parse, parse_any, parse_document};
use bucketcors_engine::{CorsConfig, Dialect, Rule};

fn rule(origins: &[&str], methods: &[&str]) -> Rule {
    Rule {
        allowed_origins: origins.iter().map(|s| s.to_string()).collect(),
        allowed_methods: methods.iter().map(|s| s.to_string()).collect(),
        ..Rule::default()
    }
}

fn err(text: &str, format: Format) -> ParseError {
    parse(text, format).expect_err("the document is wrong")
}

#[test]
fn oss_xml_as_in_the_put_bucket_cors_docs() {
    let text = r#"<?xml version="1.0" encoding="UTF-8"?>
<CORSConfiguration>
    <CORSRule>
      <AllowedOrigin>*</AllowedOrigin>
      <AllowedMethod>PUT</AllowedMethod>
      <AllowedMethod>GET</AllowedMethod>
      <AllowedHeader>Authorization</AllowedHeader>
    </CORSRule>
    <CORSRule>
      <AllowedOrigin>http://example.com</AllowedOrigin>
      <AllowedOrigin>http://example.net</AllowedOrigin>
      <AllowedMethod>GET</AllowedMethod>
      <AllowedHeader>Authorization</AllowedHeader>
      <ExposeHeader>x-oss-test</ExposeHeader>
      <ExposeHeader>x-oss-test1</ExposeHeader>
      <MaxAgeSeconds>100</MaxAgeSeconds>
    </CORSRule>
    <ResponseVary>false</ResponseVary>
</CORSConfiguration>"#;
    let doc = parse_document(text).unwrap();
    assert_eq!(doc.format, Format::OssXml);
    assert_eq!(doc.dialect, Some(Dialect::Oss));
    let mut first = rule(&["*"], &["PUT", "GET"]);
    first.allowed_headers = vec!["Authorization".into()];
    let mut second = rule(&["http://example.com", "http://example.net"], &["GET"]);
    second.allowed_headers = vec!["Authorization".into()];
    second.expose_headers = vec!["x-oss-test".into(), "x-oss-test1".into()];
    second.max_age_seconds = Some(100);
    assert_eq!(
        doc.config,
        CorsConfig {
            rules: vec![first, second],
            response_vary: false
        }
    );
}

#[test]
fn s3_xml_as_in_the_aws_docs() {
    let text = r#"<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
 <CORSRule>
   <ID>upload</ID>
   <AllowedOrigin>http://www.example.com</AllowedOrigin>
   <AllowedMethod>PUT</AllowedMethod>
   <AllowedMethod>POST</AllowedMethod>
   <AllowedMethod>DELETE</AllowedMethod>
   <AllowedHeader>*</AllowedHeader>
   <MaxAgeSeconds>3000</MaxAgeSeconds>
   <ExposeHeader>x-amz-server-side-encryption</ExposeHeader>
   <ExposeHeader>x-amz-request-id</ExposeHeader>
 </CORSRule>
 <CORSRule>
   <AllowedOrigin>*</AllowedOrigin>
   <AllowedMethod>GET</AllowedMethod>
 </CORSRule>
</CORSConfiguration>"#;
    let doc = parse_document(text).unwrap();
    assert_eq!(doc.format, Format::S3Xml);
    assert_eq!(doc.dialect, Some(Dialect::S3));
    assert_eq!(doc.config.rules.len(), 2);
    let r = &doc.config.rules[0];
    assert_eq!(r.id.as_deref(), Some("upload"));
    assert_eq!(r.allowed_methods, ["PUT", "POST", "DELETE"]);
    assert_eq!(r.allowed_headers, ["*"]);
    assert_eq!(r.max_age_seconds, Some(3000));
    assert_eq!(
        r.expose_headers,
        ["x-amz-server-side-encryption", "x-amz-request-id"]
    );
    assert_eq!(doc.config.rules[1], rule(&["*"], &["GET"]));
}

#[test]
fn a_bare_cors_configuration_leaves_the_dialect_open() {
    let text = "<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>\
                <AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>";
    let doc = parse_document(text).unwrap();
    assert_eq!(doc.dialect, None);
    assert_eq!(doc.config.rules, [rule(&["*"], &["GET"])]);
    // The same document reads as OSS XML too.
    assert_eq!(parse(text, Format::OssXml).unwrap(), doc.config);
}

#[test]
fn xml_values_are_kept_exactly_with_references_resolved() {
    let text = "<CORSConfiguration><CORSRule><AllowedOrigin> https://a.example&amp;b </AllowedOrigin>\
                <AllowedOrigin><![CDATA[<x>]]></AllowedOrigin><AllowedOrigin/>\
                <AllowedMethod>G&#69;T</AllowedMethod><MaxAgeSeconds> 5 </MaxAgeSeconds>\
                </CORSRule></CORSConfiguration>";
    let c = parse(text, Format::S3Xml).unwrap();
    assert_eq!(
        c.rules[0].allowed_origins,
        [" https://a.example&b ", "<x>", ""]
    );
    assert_eq!(c.rules[0].allowed_methods, ["GET"]);
    assert_eq!(c.rules[0].max_age_seconds, Some(5));
}

#[test]
fn s3_json_in_both_aws_cli_shapes() {
    let text = r#"{
    "CORSRules": [
        {
            "AllowedHeaders": ["*"],
            "AllowedMethods": ["PUT", "POST", "DELETE"],
            "AllowedOrigins": ["http://www.example.com"],
            "ExposeHeaders": ["x-amz-server-side-encryption"],
            "MaxAgeSeconds": 3000,
            "ID": "upload"
        }
    ]
}"#;
    let (c, f) = parse_any(text).unwrap();
    assert_eq!(f, Format::S3Json);
    assert_eq!(c.rules[0].id.as_deref(), Some("upload"));
    assert_eq!(c.rules[0].max_age_seconds, Some(3000));
    let wrapped = format!(r#"{{"Bucket": "b", "CORSConfiguration": {text}}}"#);
    assert_eq!(parse_any(&wrapped).unwrap(), (c, Format::S3Json));
}

#[test]
fn spec_shape_yaml_and_json() {
    let yaml = "rules:\n  - id: app\n    allowedOrigins: [\"https://app.example.com\"]\n    allowedMethods: [GET, HEAD]\n    maxAgeSeconds: 600\nresponseVary: true\n";
    let (c, f) = parse_any(yaml).unwrap();
    assert_eq!(f, Format::Yaml);
    assert!(c.response_vary);
    assert_eq!(c.rules[0].allowed_methods, ["GET", "HEAD"]);
    let json = r#"{"rules": [{"id": "app", "allowedOrigins": ["https://app.example.com"], "allowedMethods": ["GET", "HEAD"], "maxAgeSeconds": 600}], "responseVary": true}"#;
    assert_eq!(parse_any(json).unwrap(), (c, Format::Json));
}

#[test]
fn manifests_are_read_for_their_rules_and_provider() {
    let text = "# the team's bucket\napiVersion: bucketcors.dev/v1alpha1\nkind: BucketCors\nmetadata:\n  name: assets\nspec:\n  backend:\n    provider: oss\n    bucket: assets\n    region: cn-hangzhou\n  responseVary: true\n  edge:\n    enabled: true\n  rules:\n    - allowedOrigins: [\"https://*.example.com\"]\n      allowedMethods: [GET]\n";
    let doc = parse_document(text).unwrap();
    assert_eq!(doc.format, Format::Yaml);
    assert_eq!(doc.dialect, Some(Dialect::Oss));
    assert!(doc.config.response_vary);
    assert_eq!(
        doc.config.rules,
        [rule(&["https://*.example.com"], &["GET"])]
    );

    // Among other manifests in one file, the BucketCors one is taken.
    let many =
        format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: web}}\n---\n{text}---\n");
    assert_eq!(parse_document(&many).unwrap(), doc);

    let json = r#"{"apiVersion": "bucketcors.dev/v1alpha1", "kind": "BucketCors", "spec": {"backend": {"provider": "s3", "bucket": "b"}, "rules": []}}"#;
    let doc = parse_document(json).unwrap();
    assert_eq!((doc.format, doc.dialect), (Format::Json, Some(Dialect::S3)));
}

#[test]
fn yaml_errors_give_line_column_and_path() {
    let e = err(
        "rules:\n  - allowedOrigins: [a]\n    allowedMethod: [GET]\n",
        Format::Yaml,
    );
    assert_eq!((e.line, e.column), (Some(3), Some(5)));
    assert_eq!(e.path.as_deref(), Some("rules[0].allowedMethod"));
    assert!(e.message.contains("unknown field `allowedMethod`"), "{e}");
    assert!(e.message.contains("`allowedMethods`"), "{e}");

    let e = err(
        "rules:\n  - allowedOrigins: [a]\n    allowedMethods: [GET]\n    maxAgeSeconds: -1\n",
        Format::Yaml,
    );
    assert_eq!(e.path.as_deref(), Some("rules[0].maxAgeSeconds"));
    assert_eq!(e.line, Some(4));
    assert_eq!(
        e.to_string(),
        "YAML, line 4, column 20, at rules[0].maxAgeSeconds: invalid type: integer `-1`, expected u64"
    );

    let e = err("rules: [\n", Format::Yaml);
    assert_eq!(e.line, Some(2));
    assert!(
        !e.message.contains("at line"),
        "the location is not repeated: {e}"
    );

    let e = err(
        "rules:\n  - allowedOrigins: [*]\n    allowedMethods: [GET]\n",
        Format::Yaml,
    );
    assert_eq!(e.line, Some(2));
    assert!(e.message.contains("must be quoted"), "{e}");

    let e = err("hello", Format::Yaml);
    assert!(e.message.contains("expected a mapping with `rules`"), "{e}");
}

#[test]
fn json_errors_give_line_column_and_path() {
    let e = err(
        "{\"CORSRules\":[{\"AllowedOrigins\":[\"a\"],\"AllowedMethods\":[\"GET\"],\n\"MaxAgeSeconds\":\"x\"}]}",
        Format::S3Json,
    );
    assert_eq!(
        e.to_string(),
        "S3 JSON, line 2, column 19, at CORSRules[0].MaxAgeSeconds: invalid type: string \"x\", expected u64"
    );
    let e = err(
        "{\"CORSRules\":[{\"AllowedOrigins\":[\"a\"]}]}",
        Format::S3Json,
    );
    assert_eq!(e.path.as_deref(), Some("CORSRules[0]"));
    assert!(e.message.contains("missing field `AllowedMethods`"), "{e}");
    let e = err("{\"CORSRules\": []} x", Format::S3Json);
    assert!(e.message.contains("after the JSON object"), "{e}");
    let e = err(
        "{\"rules\": [{\"allowedOrigins\": [\"a\"], \"allowedMethods\": 3}]}",
        Format::Json,
    );
    assert_eq!(e.path.as_deref(), Some("rules[0].allowedMethods"));
    assert_eq!(e.line, Some(1));
}

#[test]
fn xml_errors_give_line_column_and_path() {
    let e = err(
        "<CORSConfiguration><CORSRule><AllowedOrigins>a</AllowedOrigins></CORSRule></CORSConfiguration>",
        Format::S3Xml,
    );
    assert_eq!((e.line, e.column), (Some(1), Some(30)));
    assert_eq!(e.path.as_deref(), Some("CORSConfiguration/CORSRule[0]"));
    assert!(
        e.message.contains("XML repeats the singular element"),
        "{e}"
    );

    let e = err(
        "<CORSConfiguration>\n<CORSRule></CORSRule>\n<CORSRule><MaxAgeSeconds>-3</MaxAgeSeconds></CORSRule></CORSConfiguration>",
        Format::S3Xml,
    );
    assert_eq!(
        e.path.as_deref(),
        Some("CORSConfiguration/CORSRule[1]/MaxAgeSeconds")
    );
    assert_eq!(e.line, Some(3));
    assert!(e.message.contains("expected a non-negative integer"), "{e}");

    let e = err(
        "<CORSConfiguration><CORSRule><ID>x</ID></CORSRule></CORSConfiguration>",
        Format::OssXml,
    );
    assert!(e.message.contains("OSS XML has no rule ID"), "{e}");
    let e = err(
        "<CORSConfiguration><ResponseVary>true</ResponseVary></CORSConfiguration>",
        Format::S3Xml,
    );
    assert!(e.message.contains("only OSS has ResponseVary"), "{e}");
    let e = err(
        "<CORSConfiguration><ResponseVary>yes</ResponseVary></CORSConfiguration>",
        Format::OssXml,
    );
    assert!(e.message.contains("expected true or false"), "{e}");
    let e = err(
        "<CORSConfiguration>\n<CORSRule></CORSRul></CORSConfiguration>",
        Format::OssXml,
    );
    assert!(e.message.contains("not well-formed XML"), "{e}");
    assert_eq!(e.line, Some(2));
    let e = err("<CORSConfiguration>\n<CORSRule>", Format::OssXml);
    assert!(e.message.contains("expected </CORSRule>"), "{e}");
    let e = err(
        "<CORSConfiguration><CORSRule><MaxAgeSeconds>1</MaxAgeSeconds><MaxAgeSeconds>2</MaxAgeSeconds></CORSRule></CORSConfiguration>",
        Format::S3Xml,
    );
    assert!(e.message.contains("appears twice"), "{e}");
    let e = err(
        "<CORSConfiguration><CORSRule><AllowedOrigin>&nbsp;</AllowedOrigin></CORSRule></CORSConfiguration>",
        Format::S3Xml,
    );
    assert!(e.message.contains("unknown entity"), "{e}");
    let e = err("<Other/>", Format::S3Xml);
    assert!(e.message.contains("expected <CORSConfiguration>"), "{e}");
    let e = err("<CORSConfiguration/><CORSConfiguration/>", Format::S3Xml);
    assert!(e.message.contains("after </CORSConfiguration>"), "{e}");
}

#[test]
fn manifest_errors_name_the_field() {
    let e = parse_any("apiVersion: bucketcors.dev/v1alpha1\nkind: BucketCors\nspec:\n  backend: {provider: gcs, bucket: b}\n  rules: []\n").unwrap_err();
    assert_eq!(e.path.as_deref(), Some("spec.backend.provider"));
    let e = parse_any("apiVersion: v1\nkind: ConfigMap\ndata: {}\n").unwrap_err();
    assert!(e.message.contains("expected kind BucketCors"), "{e}");
    let e = parse_any("apiVersion: bucketcors.dev/v1alpha1\nkind: BucketCors\nspec:\n  rules:\n  - allowedOrigins: [x]\n    allowedMethods: [GET]\n    foo: 1\n").unwrap_err();
    assert_eq!(e.path.as_deref(), Some("spec.rules[0].foo"));
    assert_eq!(e.line, Some(7));
    let two = "kind: BucketCors\nspec: {rules: []}\n---\nkind: BucketCors\nspec: {rules: []}\n";
    assert!(
        parse_any(two)
            .unwrap_err()
            .message
            .contains("2 BucketCors manifests")
    );
}

#[test]
fn empty_and_unknown_documents_are_refused() {
    let e = parse_any("  \n").unwrap_err();
    assert_eq!(e.format, None);
    assert!(e.message.contains("cannot tell the format"), "{e}");
    assert!(parse_any("---\n").is_err());
    assert!(parse_any("[1, 2]").is_err());
}

#[test]
fn hostile_documents_are_errors_not_crashes() {
    let deep_json = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_object = format!(
        "{{\"CORSRules\": {}{}}}",
        "[".repeat(50_000),
        "]".repeat(50_000)
    );
    let deep_yaml = format!("rules: {}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_xml = format!(
        "<CORSConfiguration>{}{}</CORSConfiguration>",
        "<CORSRule>".repeat(100_000),
        "</CORSRule>".repeat(100_000)
    );
    // Exponential alias expansion ("billion laughs").
    let mut laughs = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for (prev, name) in ["a", "b", "c", "d", "e", "f", "g", "h"]
        .windows(2)
        .map(|w| (w[0], w[1]))
    {
        laughs.push_str(&format!("{name}: &{name} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"));
    }
    laughs.push_str("rules: *h\n");
    let huge = format!("rules: []\n#{}", "x".repeat(format::MAX_DOCUMENT_BYTES));
    for (text, format) in [
        (deep_json.as_str(), Format::Json),
        (deep_json.as_str(), Format::S3Json),
        (deep_object.as_str(), Format::S3Json),
        (deep_yaml.as_str(), Format::Yaml),
        (deep_xml.as_str(), Format::S3Xml),
        (deep_xml.as_str(), Format::OssXml),
        (laughs.as_str(), Format::Yaml),
        (huge.as_str(), Format::Yaml),
        (huge.as_str(), Format::Json),
    ] {
        assert!(parse(text, format).is_err(), "{format}");
        assert!(parse_any(text).is_err());
    }
}
