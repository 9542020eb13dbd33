//! `bucketcors console --dir`: the page in Debian Chromium over manifests
//! in a directory, no cluster. What the page shows is compared with what
//! the directory holds and with the CLI (`bucketcors validate`, `eval
//! --json`, `convert`), never with answers written into the test.
//!
//! Also writes the screenshots docs/console.md shows (docs/console/*.png)
//! and prints the first-render figure with 100 objects (a measurement, not
//! an assertion).

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use bucketcors_testkit::scratch;
use bucketcors_testkit::tools::workspace_root;
use serde_json::{Value, json};
use support::cli;
use support::console::{Console, Page, screenshot_path};

/// A directory with the repository's example manifests and, when `extra`
/// is positive, that many generated S3 ones (`gen/bucket-N`).
fn manifest_dir(what: &str, extra: usize) -> PathBuf {
    let dir = scratch::fresh_dir(what).expect("scratch dir");
    for name in ["oss-uploads.yaml", "r2-media.yaml", "s3-assets-edge.yaml"] {
        std::fs::copy(workspace_root().join("examples").join(name), dir.join(name))
            .expect("copy example");
    }
    if extra > 0 {
        let mut text = String::new();
        for i in 0..extra {
            text.push_str(&format!(
                "---\napiVersion: bucketcors.dev/v1alpha1\nkind: BucketCors\nmetadata:\n  name: bucket-{i:03}\n  namespace: gen\nspec:\n  backend:\n    provider: s3\n    bucket: gen-{i:03}\n    endpoint: http://127.0.0.1:3900\n    region: garage\n    credentialsSecretRef:\n      name: creds\n  rules:\n    - allowedOrigins: [\"https://app{i}.example\"]\n      allowedMethods: [GET, PUT]\n      allowedHeaders: [content-type]\n      maxAgeSeconds: {i}\n"
            ));
        }
        std::fs::write(dir.join("generated.yaml"), text).expect("write generated");
    }
    dir
}

/// `namespace/name` of every BucketCors document in the directory's files,
/// read from the files as written (the console must list each one).
fn names_in(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read manifest");
        for doc in text.split("\n---\n").flat_map(|d| d.split("---\n")) {
            let name = doc.lines().find_map(|l| l.strip_prefix("  name: "));
            let ns = doc.lines().find_map(|l| l.strip_prefix("  namespace: "));
            if let (Some(name), Some(ns), true) = (name, ns, doc.contains("kind: BucketCors")) {
                names.push(format!("{ns}/{name}"));
            }
        }
    }
    names.sort();
    names
}

#[test]
fn the_overview_lists_every_manifest_and_every_view_passes_axe_at_both_widths() {
    let dir = manifest_dir("console-overview", 100);
    let console = Console::start(&["--dir", dir.to_str().expect("utf-8")], &[]);
    let mut page = Page::open(&console.url);
    println!(
        "console first render with {} objects: {:.0} ms (navigation start to rendered overview)",
        names_in(&dir).len(),
        page.first_render_ms
    );
    let mut listed = page.texts("#objects tbody tr td:first-child");
    listed.sort();
    assert_eq!(
        listed,
        names_in(&dir),
        "the overview lists what the directory holds"
    );

    // Filter narrows the list to what matches.
    page.cmd(json!({"cmd": "fill", "selector": "#filter", "value": "gen/bucket-04"}));
    let filtered = page.texts("#objects tbody tr td:first-child");
    assert_eq!(filtered.len(), 10, "bucket-040..049: {filtered:?}");
    page.cmd(json!({"cmd": "fill", "selector": "#filter", "value": ""}));

    let views = [
        ("overview", "#/"),
        ("detail", "#/o/web/uploads"),
        ("editor", "#/o/web/uploads/edit"),
        ("tester", "#/o/web/uploads/test"),
    ];
    for (width, height, suffix) in [(1280, 800, ""), (400, 800, "-400px")] {
        page.viewport(width, height);
        for (name, hash) in views {
            page.goto(hash);
            if name == "editor" && suffix.is_empty() {
                // An edit, so that the editor shows its diff and the tester
                // the edited rules beside the applied ones.
                page.cmd(json!({"cmd": "fill", "selector": "#r0-allowedOrigins",
                    "value": "https://app.acme.example\nhttps://*.preview.acme.example\nhttps://new.acme.example"}));
            }
            if name == "tester" {
                // An upload the rules allow: preflight and actual request.
                page.cmd(json!({"cmd": "tester", "requests": [{"origin": "https://app.acme.example",
                    "method": "PUT", "headers": [["content-type", "image/png"]], "credentials": false}]}));
            }
            if name == "overview" {
                page.cmd(json!({"cmd": "fill", "selector": "#filter", "value": if suffix.is_empty() { "" } else { "web/" }}));
            }
            let violations = page.axe();
            assert!(
                violations.is_empty(),
                "axe on {name} at {width}px: {violations:#?}"
            );
            page.screenshot(&screenshot_path(&format!("{name}{suffix}")));
        }
    }
    let errors = page.cmd(json!({"cmd": "errors"}));
    assert_eq!(errors["errors"], json!([]), "the page logged errors");
}

/// The lints `bucketcors validate` prints for `file` at `location` (`rule
/// 1 (id "players"), exposeHeaders[1]`), as `CODE NAME: message; why; fix`.
fn cli_lint(file: &Path, location: &str) -> Vec<String> {
    let run = cli::run(&["validate", file.to_str().expect("utf-8")], &[]);
    assert_eq!(run.code, Some(0), "valid, with warnings: {}", run.all());
    run.stderr
        .lines()
        .filter_map(|l| {
            // `FILE: warning: BC501 name: LOCATION: message; why; fix: ...`
            let (head, tail) = l.split_once(&format!(": {location}: "))?;
            let code = head.rsplit_once("warning: ")?.1;
            Some(format!("{code}: {tail}"))
        })
        .collect()
}

#[test]
fn lints_appear_on_their_field_as_bucketcors_validate_prints_them() {
    let dir = manifest_dir("console-lints", 0);
    let console = Console::start(&["--dir", dir.to_str().expect("utf-8")], &[]);
    let mut page = Page::open(&console.url);
    page.goto("#/o/media/media/edit");

    // The applied rules already have one: Content-Length is safelisted.
    let expected = cli_lint(
        &dir.join("r2-media.yaml"),
        "rule 1 (id \"players\"), exposeHeaders[1]",
    );
    assert_eq!(
        expected.len(),
        1,
        "the CLI lints exposeHeaders[1] once: {expected:?}"
    );
    assert!(expected[0].starts_with("BC"), "{expected:?}");
    let shown = page.text("#r1-exposeHeaders-issues");
    assert!(
        shown.contains(&format!("Warning: exposeHeaders[1]: {}", expected[0])),
        "the page shows the CLI's lint under the field: `{shown}`, CLI `{}`",
        expected[0]
    );

    // A keystroke that introduces one: an upper-case origin.
    page.cmd(json!({"cmd": "fill", "selector": "#r0-allowedOrigins", "value": "https://Admin.acme.example"}));
    let shown = page.text("#r0-allowedOrigins-issues");
    let edited = dir.join("r2-media.yaml");
    let text = std::fs::read_to_string(&edited).expect("read").replace(
        "- https://admin.acme.example",
        "- https://Admin.acme.example",
    );
    let copy = dir.join("edited.yaml");
    std::fs::write(&copy, text).expect("write");
    let expected = cli_lint(&copy, "rule 0 (id \"admin-console\"), allowedOrigins[0]");
    assert!(!expected.is_empty(), "the CLI lints the origin");
    for line in &expected {
        assert!(
            shown.contains(line.as_str()),
            "the page shows `{line}` under allowedOrigins: `{shown}`"
        );
    }
    assert_eq!(
        page.count("#r0-allowedOrigins[aria-invalid=true]"),
        0,
        "a lint warns; it does not make the field invalid"
    );
    assert_eq!(
        page.count("#save:disabled"),
        0,
        "a lint does not block saving"
    );
    page.screenshot(&screenshot_path("editor-lint"));
}

#[test]
fn an_invalid_origin_shows_the_engines_field_error_before_saving() {
    let dir = manifest_dir("console-invalid", 0);
    let before = std::fs::read_to_string(dir.join("r2-media.yaml")).expect("read");
    let console = Console::start(&["--dir", dir.to_str().expect("utf-8")], &[]);
    let mut page = Page::open(&console.url);
    page.goto("#/o/media/media/edit");
    let bad = "https://*.*.acme.example";
    page.cmd(json!({"cmd": "fill", "selector": "#r0-allowedOrigins", "value": bad}));
    let shown = page.text("#r0-allowedOrigins-issues");

    // What the CLI says about the same configuration.
    let edited = dir.join("edited.json");
    std::fs::write(
        &edited,
        json!({"rules": [{"allowedOrigins": [bad], "allowedMethods": ["GET"]}]}).to_string(),
    )
    .expect("write");
    let run = cli::run(
        &[
            "validate",
            "--dialect",
            "s3",
            edited.to_str().expect("utf-8"),
        ],
        &[],
    );
    assert_eq!(run.code, Some(1), "the CLI refuses it too: {}", run.all());
    let cli_line = run
        .stderr
        .lines()
        .find(|l| l.contains("allowedOrigins[0]"))
        .unwrap_or_else(|| panic!("the CLI names the field: {}", run.stderr));
    let message = cli_line
        .split("allowedOrigins[0]: ")
        .nth(1)
        .expect("message");
    assert!(
        shown.contains("allowedOrigins[0]") && shown.contains(message),
        "the field's error `{shown}` is the engine's `{message}`"
    );
    page.screenshot(&screenshot_path("editor-field-error"));
    let invalid = page.count("#r0-allowedOrigins[aria-invalid=true]");
    assert_eq!(invalid, 1, "the field is marked invalid");
    assert_eq!(page.count("#save:disabled"), 1, "saving is not offered");
    let reply = page.try_cmd(json!({"cmd": "click", "selector": "#save", "timeoutMs": 500}));
    assert_eq!(reply["ok"], false, "the disabled button cannot be clicked");
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        std::fs::read_to_string(dir.join("r2-media.yaml")).expect("read"),
        before
    );
}

/// A small deterministic generator (xorshift64*), so a failure reproduces.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() % from.len() as u64) as usize]
    }
}

fn random_fetch(rng: &mut Rng) -> Value {
    // Origins and methods the example rules name come up more often, so
    // that the sample holds allowed and refused requests in number.
    let origins = [
        "https://admin.acme.example",
        "https://acme.example",
        "https://app.acme.example",
        "https://app.acme.example",
        "https://admin.acme.example",
        "https://acme.example",
        "https://watch.acme.example",
        "https://app.acme.example",
        "https://pr-7.preview.acme.example",
        "https://evil.example",
        "http://acme.example",
        "https://assets.acme.example",
        "null",
    ];
    let methods = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "get", "GET", "PUT", "GET",
    ];
    let headers = [
        "content-type: text/plain",
        "content-type: application/json",
        "range: bytes=0-9",
        "x-amz-meta-note: a",
        "x-oss-meta-note: a",
        "authorization: AWS x",
        "content-md5: q",
        "accept: */*",
        "x-custom: 1",
    ];
    // Mostly none or one header: every added header is one more chance of a refusal.
    let n = rng.next() % 4 / 2;
    let chosen: Vec<Value> = (0..n)
        .map(|_| {
            let (name, value) = rng.pick(&headers).split_once(": ").expect("pair");
            json!([name, value])
        })
        .collect();
    json!({
        "origin": rng.pick(&origins),
        "method": rng.pick(&methods),
        "headers": chosen,
        "credentials": rng.next().is_multiple_of(4),
    })
}

/// `bucketcors eval --json` for one exchange the page shows.
fn eval_cli(manifest: &Path, exchange: &Value) -> Value {
    let mut args = vec![
        "eval".to_owned(),
        "--config".to_owned(),
        manifest.display().to_string(),
        "--method".to_owned(),
        exchange["method"].as_str().expect("method").to_owned(),
        "--json".to_owned(),
    ];
    for pair in exchange["requestHeaders"].as_array().expect("headers") {
        args.push("-H".into());
        args.push(format!(
            "{}: {}",
            pair[0].as_str().expect("name"),
            pair[1].as_str().expect("value")
        ));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = cli::run(&args, &[]);
    assert_eq!(run.code, Some(0), "bucketcors {args:?}: {}", run.all());
    serde_json::from_str(&run.stdout).expect("eval --json prints JSON")
}

#[test]
fn the_tester_agrees_with_bucketcors_eval_on_200_random_requests() {
    let dir = manifest_dir("console-tester", 0);
    let console = Console::start(&["--dir", dir.to_str().expect("utf-8")], &[]);
    let mut page = Page::open(&console.url);
    let mut rng = Rng(0x5eed_c0de_2026_1203);
    let mut compared = 0;
    let mut allowed = 0;
    for (hash, file) in [
        ("#/o/media/media/test", "r2-media.yaml"),
        ("#/o/web/uploads/test", "oss-uploads.yaml"),
    ] {
        page.goto(hash);
        let requests: Vec<Value> = (0..100).map(|_| random_fetch(&mut rng)).collect();
        let reply = page.cmd(json!({"cmd": "tester", "requests": requests}));
        let results = reply["results"].as_array().expect("results");
        assert_eq!(results.len(), requests.len());
        for (request, result) in requests.iter().zip(results) {
            let applied = &result["applied"];
            assert_eq!(
                &result["edited"], applied,
                "no edits: both columns agree for {request}"
            );
            assert!(applied.get("error").is_none(), "{request}: {applied}");
            if applied["allowed"] == true {
                allowed += 1;
            }
            for stage in ["preflight", "actual"] {
                let shown = &applied[stage];
                if shown.is_null() {
                    continue;
                }
                let expected = eval_cli(&dir.join(file), shown);
                let got = json!({
                    "status": shown["status"], "headers": shown["headers"], "body": shown["body"],
                    "matched_rule": shown["matchedRule"], "explanation": shown["explanation"],
                });
                assert_eq!(got, expected, "{file}, {stage} of {request}");
                compared += 1;
            }
        }
    }
    println!(
        "tester: {compared} exchanges agree with `bucketcors eval --json`; {allowed} of 200 fetches allowed"
    );
    assert!(compared >= 200, "only {compared} exchanges compared");
    assert!(
        allowed > 0 && allowed < 200,
        "the sample has both outcomes ({allowed} allowed)"
    );
}

#[test]
fn saving_writes_the_manifest_and_the_page_shows_it_without_a_reload() {
    let dir = manifest_dir("console-save", 0);
    let before = std::fs::read_to_string(dir.join("r2-media.yaml")).expect("read");
    let console = Console::start(&["--dir", dir.to_str().expect("utf-8")], &[]);
    let mut page = Page::open(&console.url);

    // A forged write without the CSRF token is refused, from the page itself.
    let body = json!({"rules": [{"allowedOrigins": ["https://forged.example"], "allowedMethods": ["GET"]}]}).to_string();
    let forged = page.cmd(json!({"cmd": "forgeWrite", "path": "api/objects/media/media", "body": body, "csrf": false}));
    assert_eq!(forged["status"], 403, "{forged}");

    page.goto("#/o/media/media/edit");
    let new_origin = "https://new.acme.example";
    page.cmd(json!({"cmd": "fill", "selector": "#r1-allowedOrigins", "value": format!("https://acme.example\n{new_origin}")}));
    let diff = page.text("#diff");
    assert!(
        diff.contains(&format!("+     - {new_origin}")) || diff.contains(new_origin),
        "the diff shows the change: {diff}"
    );
    page.cmd(json!({"cmd": "click", "selector": "#save"}));
    let saved = page.wait_text("#save-status", "Saved", Duration::from_secs(10));
    assert_eq!(
        saved["ok"],
        true,
        "save status: {}",
        page.text("#save-status")
    );

    // The file now holds the new rules, as the CLI reads it.
    let run = cli::run(
        &[
            "convert",
            "--to",
            "json",
            dir.join("r2-media.yaml").to_str().expect("utf-8"),
        ],
        &[],
    );
    assert_eq!(run.code, Some(0), "{}", run.all());
    let config: Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(
        config["rules"][1]["allowedOrigins"],
        json!(["https://acme.example", new_origin])
    );
    // Only the rules' lines changed: the comments and the lines before and
    // after `rules:` are as the user wrote them.
    let after = std::fs::read_to_string(dir.join("r2-media.yaml")).expect("read");
    let (head, _) = before.split_once("  rules:\n").expect("a rules block");
    assert!(
        after.starts_with(head),
        "the lines before the rules are kept:\n{after}"
    );
    assert!(
        after.ends_with("  deletionPolicy: Delete\n"),
        "the lines after the rules are kept:\n{after}"
    );
    assert!(
        after.contains("# R2 speaks the S3 dialect"),
        "comments are kept"
    );

    // The detail view shows it from the watch, without a reload.
    page.goto("#/o/media/media");
    let seen = page.wait_text("#rules", new_origin, Duration::from_secs(10));
    assert_eq!(seen["ok"], true, "rules table: {}", page.text("#rules"));
}

#[test]
fn a_read_only_console_offers_no_write_and_refuses_a_forged_one() {
    let dir = manifest_dir("console-read-only", 0);
    let before = std::fs::read_to_string(dir.join("r2-media.yaml")).expect("read");
    let console = Console::start(&["--dir", dir.to_str().expect("utf-8"), "--read-only"], &[]);
    let mut page = Page::open(&console.url);
    page.goto("#/o/media/media/edit");
    assert!(page.count("#r0-allowedOrigins") > 0, "the rules are shown");
    for control in [
        "#save",
        "#add-rule",
        "#import",
        "#discard",
        "[data-action]",
        "#import-text",
    ] {
        assert_eq!(
            page.count(control),
            0,
            "{control} is offered in a read-only console"
        );
    }
    assert_eq!(
        page.count("#rules-form textarea:not([readonly]), #rules-form input[type=text]:not([readonly]), #rules-form input[type=checkbox]:not([disabled])"),
        0,
        "every field is read-only"
    );
    assert!(page.axe().is_empty(), "axe on the read-only editor");
    page.screenshot(&screenshot_path("editor-read-only"));
    let body = json!({"rules": [{"allowedOrigins": ["https://forged.example"], "allowedMethods": ["GET"]}]}).to_string();
    let forged = page.cmd(
        json!({"cmd": "forgeWrite", "path": "api/objects/media/media", "body": body, "csrf": true}),
    );
    assert_eq!(forged["status"], 403, "{forged}");
    assert!(
        forged["text"]
            .as_str()
            .unwrap_or_default()
            .contains("read-only"),
        "{forged}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("r2-media.yaml")).expect("read"),
        before
    );
}

#[test]
fn the_editor_works_with_the_keyboard_alone() {
    let dir = manifest_dir("console-keyboard", 0);
    let console = Console::start(&["--dir", dir.to_str().expect("utf-8")], &[]);
    let mut page = Page::open(&console.url);
    // From the overview, Tab to the object's link and follow it with Enter.
    let mut reached = false;
    for _ in 0..40 {
        let focused = page.cmd(json!({"cmd": "press", "key": "Tab"}))["focused"].clone();
        if focused.as_str().is_some_and(|f| f.contains("media/media")) {
            reached = true;
            break;
        }
    }
    assert!(reached, "Tab reaches the media/media link in the overview");
    page.cmd(json!({"cmd": "press", "key": "Enter"}));
    page.wait_text("h1", "media/media", Duration::from_secs(5));
    page.goto("#/o/media/media/edit");
    let mut seen = Vec::new();
    for _ in 0..60 {
        let focused = page.cmd(json!({"cmd": "press", "key": "Tab"}))["focused"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let done = focused == "r0-maxAgeSeconds";
        seen.push(focused);
        if done {
            break;
        }
    }
    for control in [
        "r0-allowedOrigins",
        "r0-allowedHeaders",
        "r0-exposeHeaders",
        "r0-maxAgeSeconds",
    ] {
        assert!(
            seen.iter().any(|s| s == control),
            "Tab reaches {control}: {seen:?}"
        );
    }
    assert!(
        seen.iter().any(|s| s.starts_with("input:")),
        "Tab reaches the method checkboxes: {seen:?}"
    );
    // Typing into the focused max age: the engine's error appears under it.
    page.cmd(json!({"cmd": "press", "key": "End"}));
    page.cmd(json!({"cmd": "type", "text": "x"}));
    let issues = page.text("#r0-maxAgeSeconds-issues");
    assert!(
        issues.starts_with("Error:"),
        "a max age of `300x` is refused: {issues}"
    );
    assert_eq!(page.count("#save:disabled"), 1);
}
