//! The shapes that cross the wasm boundary and the calls behind them.
//!
//! Plain Rust (no wasm-bindgen) so that host tests run them and the
//! page's contract is testable without a browser. Every configuration the
//! page sends is spec-shape JSON (`{"rules": [...], "responseVary": b}`),
//! read by the engine's own JSON parser so that a malformed field (a max age
//! that is not a number) comes back with its path, like any other error.

use bucketcors_engine::format::{self, Format};
use bucketcors_engine::{Compiled, CorsConfig, Diagnostic, Dialect, Request, Target, explain};
use serde::{Deserialize, Serialize};

use crate::lints;
use bucketcors_fetch::safelist::is_forbidden_request_header;
use bucketcors_fetch::{
    Answer, Blocked, Browser, PageHeader, PageRequest, Stage, Verdict, chromium,
};

/// One error or warning, attached to a field when it names one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Issue {
    /// Zero-based rule index; `None` for configuration-wide problems.
    pub rule: Option<usize>,
    /// Field path in spec terms (`allowedOrigins[1]`), relative to the rule.
    pub field: Option<String>,
    /// What is wrong and what to do, as the CLI words it.
    pub message: String,
}

impl From<&Diagnostic> for Issue {
    fn from(d: &Diagnostic) -> Self {
        Issue {
            rule: d.rule.as_ref().map(|r| r.index),
            field: d.field.clone(),
            message: d.message.clone(),
        }
    }
}

/// [`validate`]'s answer.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Validation {
    /// Errors: the configuration cannot be applied.
    pub errors: Vec<Issue>,
    /// The engine's validation warnings.
    pub warnings: Vec<Issue>,
    /// Lint findings ([`lints::lint`]).
    pub lints: Vec<Issue>,
}

/// Reads spec-shape JSON; a parse error becomes one issue with its path
/// mapped to a rule and field where it names one (`rules[2].maxAgeSeconds`).
pub fn read_config(config_json: &str) -> Result<CorsConfig, Issue> {
    format::parse(config_json, Format::Json).map_err(|e| {
        let (rule, field) = e.path.as_deref().map(split_path).unwrap_or((None, None));
        Issue {
            rule,
            field,
            message: e.message.clone(),
        }
    })
}

/// `rules[2].maxAgeSeconds` -> (Some(2), Some("maxAgeSeconds")).
fn split_path(path: &str) -> (Option<usize>, Option<String>) {
    let Some(rest) = path.strip_prefix("rules[") else {
        return (None, Some(path.to_owned()));
    };
    let Some((index, field)) = rest.split_once(']') else {
        return (None, Some(path.to_owned()));
    };
    let field = field.trim_start_matches('.');
    (
        index.parse().ok(),
        (!field.is_empty()).then(|| field.to_owned()),
    )
}

fn read_dialect(dialect: &str) -> Result<Dialect, Issue> {
    dialect.parse().map_err(|message| Issue {
        rule: None,
        field: Some("dialect".into()),
        message,
    })
}

/// Validates as `bucketcors validate` does, linting for `target` (a
/// flavor such as `garage`; empty: the dialect's own provider). Lints run
/// only on a valid configuration: about one the provider refuses anyway
/// they are noise.
pub fn validate(config_json: &str, dialect: &str, target: &str) -> Validation {
    let target = match target.trim() {
        "" => None,
        t => match t.parse::<Target>() {
            Ok(t) => Some(t),
            Err(message) => {
                return Validation {
                    errors: vec![Issue {
                        rule: None,
                        field: Some("target".into()),
                        message,
                    }],
                    ..Validation::default()
                };
            }
        },
    };
    let parsed = read_dialect(dialect).and_then(|d| read_config(config_json).map(|c| (c, d)));
    let (config, dialect) = match parsed {
        Ok(both) => both,
        Err(issue) => {
            return Validation {
                errors: vec![issue],
                ..Validation::default()
            };
        }
    };
    let report = bucketcors_engine::validate(&config, dialect);
    Validation {
        errors: report.errors.iter().map(Issue::from).collect(),
        warnings: report.warnings.iter().map(Issue::from).collect(),
        lints: if report.is_valid() {
            lints::lint(&config, dialect, target)
        } else {
            Vec::new()
        },
    }
}

/// One format's text and what it leaves out.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Converted {
    /// `oss-xml`, `s3-xml`, `s3-json`, `yaml`.
    pub format: &'static str,
    /// The document, as `bucketcors convert --allow-loss` prints it.
    pub text: String,
    /// What the format has no place for, as `convert` words it.
    pub losses: Vec<String>,
}

/// [`convert`]'s answer.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Conversions {
    /// Set when the configuration could not be read.
    pub error: Option<Issue>,
    /// Every format, in a fixed order.
    pub formats: Vec<Converted>,
}

/// The configuration in OSS XML, S3 XML, S3 JSON and YAML.
pub fn convert(config_json: &str) -> Conversions {
    let config = match read_config(config_json) {
        Ok(config) => config,
        Err(issue) => {
            return Conversions {
                error: Some(issue),
                formats: Vec::new(),
            };
        }
    };
    let formats = [Format::OssXml, Format::S3Xml, Format::S3Json, Format::Yaml]
        .into_iter()
        .map(|f| Converted {
            format: f.as_str(),
            text: format::print(&config, f),
            losses: format::losses(&config, f)
                .iter()
                .map(ToString::to_string)
                .collect(),
        })
        .collect();
    Conversions {
        error: None,
        formats,
    }
}

/// [`import`]'s answer.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Imported {
    /// The parse error, with line, column and path, when it failed.
    pub error: Option<String>,
    /// The configuration, spec-shape JSON.
    pub config: Option<serde_json::Value>,
    /// The format detected.
    pub format: Option<&'static str>,
    /// The dialect the document names, when it names one.
    pub dialect: Option<Dialect>,
}

/// Reads a pasted document (format detected, as `bucketcors convert` does).
pub fn import(text: &str) -> Imported {
    match format::parse_document(text) {
        Ok(document) => Imported {
            error: None,
            config: serde_json::from_str(&format::print(&document.config, Format::Json)).ok(),
            format: Some(document.format.as_str()),
            dialect: document.dialect,
        },
        Err(e) => Imported {
            error: Some(e.to_string()),
            ..Imported::default()
        },
    }
}

/// What the page's tester asks: a fetch as a page would make it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FetchRequest {
    /// The URL fetched (quoted in the browser's message; the bucket's
    /// answer does not depend on it). Default: `https://BUCKET/OBJECT`.
    #[serde(default)]
    pub url: Option<String>,
    /// The page's origin.
    pub origin: String,
    /// The fetch's method.
    pub method: String,
    /// Header names the page sets (values do not change the bucket's answer;
    /// `Content-Type`'s value decides whether it is safelisted).
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// `credentials: "include"`.
    #[serde(default)]
    pub credentials: bool,
}

/// One request the bucket answers, with its response.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Exchange {
    /// The request as `bucketcors eval` takes it: method and headers.
    pub method: String,
    /// The request's CORS headers, in the order the browser sends them.
    pub request_headers: Vec<(String, String)>,
    /// Response status.
    pub status: u16,
    /// Response CORS headers, in the order the dialect writes them.
    pub headers: Vec<(String, String)>,
    /// The XML error body of a refused preflight.
    pub body: Option<String>,
    /// Zero-based index of the matching rule.
    pub matched_rule: Option<usize>,
    /// The engine's explanation, one line per rule.
    pub explanation: Vec<String>,
}

/// [`eval`]'s answer.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Evaluation {
    /// Why nothing could be evaluated (invalid configuration or request).
    pub error: Option<String>,
    /// The request-target both requests carry: the URL's path and query,
    /// the query's values redacted (a pasted presigned URL's signature is
    /// never shown).
    pub target: String,
    /// The preflight, when the fetch needs one.
    pub preflight: Option<Exchange>,
    /// The actual request (absent when the preflight blocked it).
    pub actual: Option<Exchange>,
    /// What the browser does.
    pub browser: Option<Outcome>,
}

/// What Chromium does with the answers (the tests drive Debian Chromium
/// to check it), and where a browser that follows the Fetch standard does
/// otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    /// The page gets the response.
    pub allowed: bool,
    /// Which request failed.
    pub stage: Option<Stage>,
    /// A short name for the failure (`header_not_allowed`, ...).
    pub reason: Option<&'static str>,
    /// Chromium's console message.
    pub message: Option<String>,
    /// Every requested header the preflight's answer does not allow
    /// (Chromium names one at a time).
    pub unlisted_headers: Vec<String>,
    /// Header names the page cannot set (the browser drops them).
    pub dropped_headers: Vec<String>,
    /// What the Fetch standard says, when it differs from Chromium.
    pub standard: Option<String>,
}

impl Outcome {
    fn new(page: &PageRequest, chromium_verdict: &Verdict, standard: &Verdict) -> Outcome {
        let mut outcome = Outcome {
            allowed: chromium_verdict.allowed(),
            ..Outcome::default()
        };
        if let Some((stage, blocked)) = &chromium_verdict.blocked {
            outcome.stage = Some(*stage);
            outcome.reason = Some(blocked.code());
            outcome.message = Some(chromium::message(&page.url, &page.origin, *stage, blocked));
        }
        if standard.blocked != chromium_verdict.blocked {
            outcome.standard = Some(match &standard.blocked {
                Some((stage, blocked)) => format!(
                    "A browser that follows the Fetch standard blocks it: {}",
                    chromium::reason(*stage, blocked)
                ),
                None => {
                    "A browser that follows the Fetch standard lets the page read it.".to_owned()
                }
            });
        }
        outcome
    }
}

fn exchange(compiled: &Compiled, request: &Request<'_>, sent: Vec<(String, String)>) -> Exchange {
    let decision = compiled.decide(request);
    Exchange {
        method: request.method.to_owned(),
        request_headers: sent,
        status: decision.status(),
        headers: decision
            .headers()
            .map(|(n, v)| (n.to_owned(), v.to_string()))
            .collect(),
        body: decision.body().map(|b| b.to_string()),
        matched_rule: decision.matched_rule(),
        explanation: explain(compiled, request).lines,
    }
}

/// Answers a page's fetch: the preflight the browser sends when it needs
/// one, then the actual request, each decided by the compiled engine, and
/// the browser's checks on those answers.
pub fn eval(config_json: &str, dialect: &str, request_json: &str) -> Evaluation {
    let fail = |error: String| Evaluation {
        error: Some(error),
        ..Evaluation::default()
    };
    let dialect = match read_dialect(dialect) {
        Ok(d) => d,
        Err(issue) => return fail(issue.message),
    };
    let config = match read_config(config_json) {
        Ok(c) => c,
        Err(issue) => {
            return fail(format!(
                "the configuration cannot be read: {}",
                issue.message
            ));
        }
    };
    let fetch: FetchRequest = match serde_json::from_str(request_json) {
        Ok(f) => f,
        Err(e) => return fail(format!("the request cannot be read: {e}")),
    };
    let compiled = match Compiled::new(&config, dialect) {
        Ok(c) => c,
        Err(report) => {
            let first = report
                .errors
                .first()
                .map(ToString::to_string)
                .unwrap_or_default();
            return fail(format!(
                "the configuration is invalid for {dialect}, as `bucketcors eval` would refuse \
                 it: {first}"
            ));
        }
    };
    let url = fetch
        .url
        .clone()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "https://BUCKET/OBJECT".to_owned());
    let page = PageRequest::new(
        &url,
        &fetch.origin,
        &fetch.method,
        fetch.headers.iter().map(|(n, v)| PageHeader::new(n, v)),
        fetch.credentials,
    );
    let mut result = Evaluation {
        target: bucketcors_fetch::request_target(&url),
        ..Evaluation::default()
    };
    // The browser sends the normalized method (`put` as `PUT`).
    let method = page.method.as_str();
    let preflight = page.needs_preflight().then(|| {
        let requested = page.request_headers_value();
        let request = Request {
            method: "OPTIONS",
            origin: Some(&fetch.origin),
            request_method: Some(method),
            request_headers: requested.as_deref(),
            resource: Default::default(),
        };
        let mut sent = vec![
            ("Origin".to_owned(), fetch.origin.clone()),
            (
                "Access-Control-Request-Method".to_owned(),
                method.to_owned(),
            ),
        ];
        if let Some(h) = &requested {
            sent.push(("Access-Control-Request-Headers".to_owned(), h.clone()));
        }
        exchange(&compiled, &request, sent)
    });
    let request = Request::new(method).with_origin(&fetch.origin);
    let actual = exchange(
        &compiled,
        &request,
        vec![("Origin".to_owned(), fetch.origin.clone())],
    );
    let pre_answer = preflight
        .as_ref()
        .map(|e| Answer::new(e.status, &e.headers));
    let act_answer = Answer::new(actual.status, &actual.headers);
    let verdict = |browser| {
        bucketcors_fetch::evaluate(&page, pre_answer.as_ref(), Some(&act_answer), browser)
    };
    let (chromium_verdict, standard) = (verdict(Browser::Chromium), verdict(Browser::Standard));
    let mut outcome = Outcome::new(&page, &chromium_verdict, &standard);
    if let (Some(answer), Some((Stage::Preflight, Blocked::HeaderNotAllowed(_)))) =
        (&pre_answer, &chromium_verdict.blocked)
    {
        outcome.unlisted_headers =
            bucketcors_fetch::unlisted_headers(answer, &page, Browser::Chromium);
    }
    outcome.dropped_headers = fetch
        .headers
        .iter()
        .map(|(n, _)| n.trim().to_ascii_lowercase())
        .filter(|n| is_forbidden_request_header(n))
        .collect();
    let refused_at_preflight = matches!(chromium_verdict.blocked, Some((Stage::Preflight, _)));
    result.preflight = preflight;
    if !refused_at_preflight {
        result.actual = Some(actual);
    }
    result.browser = Some(outcome);
    result
}

/// Serializes an answer; the types hold only strings, numbers and lists.
pub fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_origin_names_its_rule_and_field() {
        let v = validate(
            r#"{"rules":[{"allowedOrigins":["https://*.*.example.com"],"allowedMethods":["GET"]}]}"#,
            "s3",
            "",
        );
        let e = v.errors.first().expect("an error");
        assert_eq!(e.rule, Some(0));
        assert_eq!(e.field.as_deref(), Some("allowedOrigins[0]"));
    }

    #[test]
    fn a_max_age_that_is_not_a_number_names_its_path() {
        let v = validate(
            r#"{"rules":[{"allowedOrigins":["*"],"allowedMethods":["GET"],"maxAgeSeconds":"x"}]}"#,
            "s3",
            "",
        );
        let e = v.errors.first().expect("an error");
        assert_eq!(e.rule, Some(0));
        assert_eq!(e.field.as_deref(), Some("maxAgeSeconds"));
    }

    #[test]
    fn lints_reach_the_page_on_their_field() {
        let config = r#"{"rules":[{"allowedOrigins":["https://App.example"],"allowedMethods":["GET"],"maxAgeSeconds":86401}]}"#;
        let v = validate(config, "s3", "");
        assert!(v.errors.is_empty(), "{:?}", v.errors);
        let on = |field: &str| {
            v.lints
                .iter()
                .any(|l| l.rule == Some(0) && l.field.as_deref() == Some(field))
        };
        assert!(on("maxAgeSeconds"), "{:?}", v.lints);
        assert!(on("allowedOrigins[0]"), "{:?}", v.lints);
        assert!(v.lints.iter().all(|l| l.message.starts_with("BC")));
        let bad = validate(config, "s3", "gcs-ish");
        assert_eq!(bad.errors[0].field.as_deref(), Some("target"));
    }

    #[test]
    fn the_tester_says_where_chromium_and_the_standard_differ() {
        let config = r#"{"rules":[{"allowedOrigins":["*"],"allowedMethods":["PUT"],"allowedHeaders":["*"]}]}"#;
        let request = r#"{"url":"https://b.example/k","origin":"https://app.example","method":"put","headers":[["Authorization","x"],["Cookie","a=b"]]}"#;
        let e = eval(config, "s3", request);
        assert_eq!(e.error, None);
        let preflight = e.preflight.expect("a preflight");
        assert!(
            preflight
                .request_headers
                .iter()
                .any(|(n, v)| n == "Access-Control-Request-Method" && v == "PUT")
        );
        let outcome = e.browser.expect("an outcome");
        assert_eq!(outcome.dropped_headers, vec!["cookie".to_owned()]);
        // S3 echoes the requested headers, so both allow it: no note.
        assert!(outcome.allowed, "{outcome:?}");
        assert_eq!(outcome.standard, None);
    }

    #[test]
    fn a_pasted_presigned_url_shows_no_signature() {
        let config =
            r#"{"rules":[{"allowedOrigins":["https://app.example"],"allowedMethods":["GET"]}]}"#;
        let request = r#"{"url":"https://b.example/k?X-Amz-Signature=s3cr3t","origin":"https://evil.example","method":"GET","headers":[]}"#;
        let e = eval(config, "s3", request);
        assert_eq!(e.target, "/k?X-Amz-Signature=…");
        let message = e.browser.and_then(|b| b.message).expect("refused");
        assert!(!message.contains("s3cr3t"), "{message}");
    }
}
