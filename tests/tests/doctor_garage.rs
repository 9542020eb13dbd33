//! `bucketcors doctor` against a real Garage: each test builds a real
//! misconfiguration (rules applied with `bucketcors apply`), asks the doctor
//! about a presigned URL as a page would fetch it, and checks that the
//! report names the cause. Which answer is right comes from the Fetch
//! standard (the page's origin must be allowed exactly, scheme included;
//! every non-safelisted header must be allowed) and from Garage's own
//! answer; `doctor_browser.rs` confirms each verdict with Chromium.
//!
//! Fails (never skips) without Garage (`scripts/install/garage.sh`).

mod doctor_support;
mod support;

use doctor_support::{Lab, doctor, rules_yaml, tamper_signature};
use serde_json::json;

const APP: &str = "https://app.example";

#[test]
fn signature_error_is_reported_as_not_a_cors_problem() {
    let lab = Lab::start(&["dg-sig"]);
    lab.apply(
        "dg-sig",
        &rules_yaml(&json!([{"allowedOrigins": [APP], "allowedMethods": ["GET"]}])),
    );
    let good = lab.get_url("dg-sig");
    let (bad, sig) = tamper_signature(&good);
    let flipped = bad
        .split_once("X-Amz-Signature=")
        .map(|(_, s)| s[..sig.len()].to_owned())
        .unwrap();

    let d = doctor(&[&bad, "--origin", APP], &[]);
    assert!(
        d.mentions("not_cors", "not a CORS problem") && d.mentions("not_cors", "ignature"),
        "the signature error must be named as not CORS\n{}",
        d.pretty()
    );
    assert!(
        d.report["summary"].as_str().unwrap_or("").contains("not"),
        "the verdict line says the cause is not CORS\n{}",
        d.pretty()
    );
    let text = d.report.to_string();
    assert!(
        !text.contains(&flipped) && !text.contains(&sig),
        "the report never prints a signature"
    );
    // The good URL from the same origin passes: the rules were never the problem.
    let ok = doctor(&[&good, "--origin", APP], &[]);
    assert_eq!(ok.code, Some(0), "{}", ok.pretty());
}

#[test]
fn wrong_origin_scheme_is_named_with_the_engines_explanation_and_edit() {
    let lab = Lab::start(&["dg-scheme"]);
    let manifest = lab.apply(
        "dg-scheme",
        &rules_yaml(
            &json!([{"allowedOrigins": ["https://app.example"], "allowedMethods": ["GET"]}]),
        ),
    );
    let url = lab.get_url("dg-scheme");
    // The page is served over http; the rule names https.
    let page = "http://app.example";

    let live = doctor(&[&url, "--origin", page], &[]);
    assert_eq!(live.code, Some(1), "{}", live.pretty());
    assert!(
        live.mentions("failing_field", "the origin's scheme"),
        "varying the scheme alone must name it\n{}",
        live.pretty()
    );

    let with_rules = doctor(
        &[
            &url,
            "--origin",
            page,
            "--manifest",
            &manifest.display().to_string(),
        ],
        &[],
    );
    assert_eq!(with_rules.code, Some(1), "{}", with_rules.pretty());
    assert!(
        with_rules.mentions("failing_field", "scheme, host and port must all match"),
        "the engine's explanation is quoted\n{}",
        with_rules.pretty()
    );
    assert!(
        with_rules.mentions(
            "failing_field",
            r#"allowedOrigins: add \"http://app.example\""#
        ),
        "the edit adds the page's exact origin\n{}",
        with_rules.pretty()
    );
}

#[test]
fn missing_header_is_named_and_the_edit_allows_nothing_else() {
    let lab = Lab::start(&["dg-header"]);
    let manifest = lab.apply(
        "dg-header",
        &rules_yaml(&json!([{
            "allowedOrigins": [APP],
            "allowedMethods": ["PUT"],
            "allowedHeaders": ["content-type"]
        }])),
    );
    let url = lab.get_url("dg-header");
    let args = [
        url.as_str(),
        "--origin",
        APP,
        "--method",
        "PUT",
        "--header",
        "content-type",
        "--header",
        "x-amz-meta-owner",
    ];
    let live = doctor(&args, &[]);
    assert_eq!(live.code, Some(1), "{}", live.pretty());
    assert!(
        live.mentions("failing_field", "the requested header `x-amz-meta-owner`"),
        "one header at a time finds it\n{}",
        live.pretty()
    );
    assert!(
        live.report["requests"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["method"] == "OPTIONS"),
        "a PUT is never sent: the doctor changes nothing\n{}",
        live.pretty()
    );

    let manifest = manifest.display().to_string();
    let mut with_manifest = args.to_vec();
    with_manifest.extend(["--manifest", manifest.as_str()]);
    let d = doctor(&with_manifest, &[]);
    assert!(
        d.mentions("failing_field", "allowedHeaders: add x-amz-meta-owner"),
        "{}",
        d.pretty()
    );
    assert!(
        d.mentions("failing_field", "allows nothing else"),
        "adding an exact header to a one-origin rule widens nothing\n{}",
        d.pretty()
    );
}

#[test]
fn an_edit_that_widens_more_than_asked_says_so() {
    let lab = Lab::start(&["dg-widen"]);
    let manifest = lab.apply(
        "dg-widen",
        &rules_yaml(&json!([{
            "allowedOrigins": [APP, "https://admin.example"],
            "allowedMethods": ["GET"]
        }])),
    );
    let url = lab.get_url("dg-widen");
    let d = doctor(
        &[
            &url,
            "--origin",
            APP,
            "--method",
            "DELETE",
            "--manifest",
            &manifest.display().to_string(),
        ],
        &[],
    );
    assert_eq!(d.code, Some(1), "{}", d.pretty());
    assert!(
        d.mentions("failing_field", "allowedMethods: add DELETE"),
        "{}",
        d.pretty()
    );
    assert!(
        d.mentions("failing_field", r#"DELETE from \"https://admin.example\""#),
        "the rule's other origin gains DELETE too\n{}",
        d.pretty()
    );
}

#[test]
fn live_rules_are_read_with_the_backends_credentials() {
    let lab = Lab::start(&["dg-live"]);
    let manifest = lab.apply(
        "dg-live",
        &rules_yaml(&json!([{"allowedOrigins": [APP], "allowedMethods": ["GET"]}])),
    );
    let url = lab.get_url("dg-live");
    let env = lab.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let d = doctor(
        &[
            &url,
            "--origin",
            "https://intruder.example",
            "--bucket-from-manifest",
            &manifest.display().to_string(),
        ],
        &env,
    );
    assert_eq!(d.code, Some(1), "{}", d.pretty());
    assert!(
        d.mentions("failing_field", "live rules of s3 bucket `dg-live`")
            && d.mentions("failing_field", "matches none of the allowed origins"),
        "{}",
        d.pretty()
    );
    let text = d.report.to_string();
    assert!(
        !text.contains(&lab.garage.key().secret_access_key),
        "the secret never appears"
    );
}

#[test]
fn an_unreachable_host_cannot_be_probed() {
    // A port nobody listens on: bind one, then let it go.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/bucket/photo.txt");
    let d = doctor(&[&url, "--origin", APP], &[]);
    assert_eq!(d.code, Some(2), "{}", d.pretty());
    assert!(
        d.mentions("not_cors", "never got an answer"),
        "{}",
        d.pretty()
    );
}

#[test]
fn malformed_arguments_name_the_flag_and_send_nothing() {
    let run = support::cli::run(
        &[
            "doctor",
            "http://127.0.0.1:9/b/k",
            "--origin",
            "https://app.example/",
        ],
        &[],
    );
    assert_eq!(run.code, Some(2), "{}", run.all());
    assert!(
        run.stderr.contains("--origin") && run.stderr.contains("https://app.example"),
        "{}",
        run.all()
    );
}
