//! The doctor's report: a verdict first, then findings in the issue's
//! order (not a CORS problem, which field fails, the Fetch standard's
//! checks, cache safety, layers that disagree), then every request sent and
//! what came back. Printed for a person (colour only on a terminal, never
//! with `NO_COLOR`) or as one JSON object for pipelines.
//!
//! URLs are printed without their query values: presigned URLs carry their
//! signature there.

use std::fmt::Write as _;
use std::io::IsTerminal;

use bucketcors_fetch::{chromium, redact_url};
use serde::Serialize;

use super::browser::PageRequest;
use super::fetch_checks::{Stage, evaluate};
use super::layers::Layer;
use super::probe::{Exchange, Outcome, strip_query};

/// What the browser would do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The page gets the answer (exit 0).
    Allowed,
    /// The browser refuses it with a CORS error (exit 1).
    Refused,
    /// The doctor could not tell (exit 2).
    NotProbed,
}

/// The five kinds of finding, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The failure is not CORS at all.
    NotCors,
    /// Which field of the request or the rules fails.
    FailingField,
    /// A Fetch-standard check on the answers.
    ResponseCheck,
    /// A cache hands one origin's answer to another.
    CacheSafety,
    /// Layers serving the same object answer differently.
    LayersDisagree,
}

impl Kind {
    fn heading(self) -> &'static str {
        match self {
            Kind::NotCors => "not a CORS problem",
            Kind::FailingField => "which field fails",
            Kind::ResponseCheck => "response checks (Fetch standard)",
            Kind::CacheSafety => "cache safety",
            Kind::LayersDisagree => "layers disagree",
        }
    }
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// It breaks the request (or another origin's).
    Error,
    /// It does not break this request but is wrong or risky.
    Warning,
    /// Context.
    Info,
}

/// One finding: a sentence, the evidence for it, and the fix.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Which kind.
    pub kind: Kind,
    /// How bad.
    pub severity: Severity,
    /// What is wrong, in one sentence.
    pub title: String,
    /// What shows it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
    /// What to change, and where.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Finding {
    /// A finding without evidence yet.
    pub fn new(kind: Kind, severity: Severity, title: impl Into<String>) -> Finding {
        Finding {
            kind,
            severity,
            title: title.into(),
            evidence: Vec::new(),
            fix: None,
        }
    }

    /// Adds a line of evidence.
    pub fn evidence(mut self, line: impl Into<String>) -> Finding {
        self.evidence.push(line.into());
        self
    }

    /// Sets the fix.
    pub fn fix(mut self, fix: impl Into<String>) -> Finding {
        self.fix = Some(fix.into());
        self
    }
}

/// One request as the report shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Shown {
    purpose: String,
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    response_headers: Vec<(String, String)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl From<&Exchange> for Shown {
    fn from(e: &Exchange) -> Shown {
        let (status, response_headers, error) = match &e.outcome {
            Outcome::Reply(r) => (
                Some(r.status),
                r.headers
                    .iter()
                    .map(|(n, v)| (n.clone(), strip_query(v)))
                    .collect(),
                None,
            ),
            Outcome::Failed(f) => (None, Vec::new(), Some(f.to_string())),
        };
        Shown {
            purpose: e.sent.purpose.clone(),
            method: e.sent.method.clone(),
            url: redact_url(&e.sent.url),
            headers: e.sent.headers.clone(),
            status,
            response_headers,
            error,
        }
    }
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// What the browser would do.
    pub verdict: Verdict,
    /// The verdict in one sentence.
    pub summary: String,
    /// Chromium's console message, when it would refuse.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chromium: Option<String>,
    /// The request diagnosed.
    pub request: RequestShown,
    /// Findings, in kind order.
    pub findings: Vec<Finding>,
    /// Requests sent, in order.
    pub requests: Vec<Shown>,
    /// How many requests were sent.
    pub requests_sent: usize,
    /// The most one run may send.
    pub request_budget: usize,
    #[serde(skip)]
    browser: PageRequest,
}

/// The diagnosed request, as the report shows it.
#[derive(Debug, Clone, Serialize)]
pub struct RequestShown {
    url: String,
    origin: String,
    method: String,
    headers: Vec<String>,
    credentials: bool,
    preflight: bool,
}

impl Report {
    /// A report with the verdict on the main layer.
    pub fn new(request: &PageRequest, verdict: Verdict) -> Report {
        Report {
            verdict,
            summary: String::new(),
            chromium: None,
            request: shown_request(request),
            findings: Vec::new(),
            requests: Vec::new(),
            requests_sent: 0,
            request_budget: super::probe::MAX_REQUESTS,
            browser: request.clone(),
        }
    }

    /// A report for a run that could not probe at all.
    pub fn not_probed(request: &PageRequest, message: String) -> Report {
        let mut report = Report::new(request, Verdict::NotProbed);
        report.summary = format!("could not probe: {message}");
        report
    }

    /// Adds findings.
    pub fn extend(&mut self, findings: impl IntoIterator<Item = Finding>) {
        self.findings.extend(findings);
    }

    /// Records the requests, sorts the findings and writes the summary.
    pub fn record(&mut self, layers: &[Layer], exchanges: &[Exchange], budget: usize) {
        self.findings.sort_by_key(|f| f.kind);
        self.requests_sent = exchanges.len();
        self.request_budget = budget;
        self.requests = exchanges.iter().map(Shown::from).collect();
        let request = self.browser.clone();
        let main = &layers[0];
        self.summary = match self.verdict {
            Verdict::Allowed => {
                let problems = self
                    .findings
                    .iter()
                    .filter(|f| f.severity != Severity::Info)
                    .count();
                let status = main
                    .actual_reply()
                    .map(|r| format!(" (status {})", r.status))
                    .unwrap_or_default();
                let not_cors = self
                    .findings
                    .iter()
                    .find(|f| f.kind == Kind::NotCors && f.severity == Severity::Error);
                if let Some(cause) = not_cors {
                    format!(
                        "the browser would let the page read the answer{status}, but it is an \
                         error, and not a CORS problem: {}",
                        cause.title.trim_start_matches("not a CORS problem: ")
                    )
                } else if problems == 0 {
                    format!("the browser would allow this request{status}; no problems found")
                } else {
                    format!(
                        "the browser would allow this request{status}, with {problems} problem{} \
                         below",
                        if problems == 1 { "" } else { "s" }
                    )
                }
            }
            Verdict::Refused => {
                let (stage, blocked) = evaluate(&request, main)
                    .blocked
                    .expect("a refused verdict has a refusal");
                self.chromium = Some(chromium::message(
                    &request.url,
                    &request.origin,
                    stage,
                    &blocked,
                ));
                let at = match stage {
                    Stage::Preflight => "the preflight",
                    Stage::Actual => "the actual response",
                };
                let cause = self
                    .findings
                    .iter()
                    .find(|f| f.kind == Kind::NotCors && f.severity == Severity::Error);
                match cause {
                    Some(cause) => format!(
                        "the browser would refuse this request at {at} ({}), but the cause is not \
                         CORS: {}",
                        blocked.code(),
                        cause.title.trim_start_matches("not a CORS problem: ")
                    ),
                    None => format!(
                        "the browser would refuse this request at {at}: {}",
                        blocked.code()
                    ),
                }
            }
            Verdict::NotProbed => format!(
                "could not probe {}: {}",
                redact_url(&main.url),
                main.failure().unwrap_or_else(|| "no answer".into())
            ),
        };
    }

    /// One JSON object.
    pub fn to_json(&self) -> String {
        // Strings, numbers and lists only: serializing cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Text for a person; `colour` adds ANSI colours.
    pub fn to_text(&self, colour: bool) -> String {
        let paint = |code: &str, text: &str| {
            if colour {
                format!("\x1b[{code}m{text}\x1b[0m")
            } else {
                text.to_owned()
            }
        };
        let mut out = String::new();
        let (word, code) = match self.verdict {
            Verdict::Allowed => ("ALLOWED", "1;32"),
            Verdict::Refused => ("REFUSED", "1;31"),
            Verdict::NotProbed => ("NOT PROBED", "1;33"),
        };
        let _ = writeln!(out, "{} {}", paint(code, word), self.summary);
        if let Some(chromium) = &self.chromium {
            let _ = writeln!(out, "  {chromium}");
        }
        let r = &self.request;
        let _ = writeln!(
            out,
            "\nrequest: {} {} from {}{}{}{}",
            r.method,
            r.url,
            r.origin,
            if r.headers.is_empty() {
                String::new()
            } else {
                format!(" with {}", r.headers.join(", "))
            },
            if r.credentials { ", credentials" } else { "" },
            if r.preflight {
                ", preflighted"
            } else {
                ", no preflight"
            }
        );
        let mut kind = None;
        for finding in &self.findings {
            if kind != Some(finding.kind) {
                kind = Some(finding.kind);
                let _ = writeln!(out, "\n{}", paint("1", finding.kind.heading()));
            }
            let mark = match finding.severity {
                Severity::Error => paint("31", "error"),
                Severity::Warning => paint("33", "warning"),
                Severity::Info => paint("36", "note"),
            };
            let _ = writeln!(out, "  {mark}: {}", finding.title);
            for line in &finding.evidence {
                let _ = writeln!(out, "    - {line}");
            }
            if let Some(fix) = &finding.fix {
                let _ = writeln!(out, "    fix: {fix}");
            }
        }
        if self.findings.is_empty() && self.verdict != Verdict::NotProbed {
            let _ = writeln!(out, "\nno findings");
        }
        let _ = writeln!(
            out,
            "\nevidence ({} request{} sent, at most {}):",
            self.requests_sent,
            if self.requests_sent == 1 { "" } else { "s" },
            self.request_budget
        );
        for shown in &self.requests {
            let sent: Vec<String> = shown
                .headers
                .iter()
                .map(|(n, v)| format!("{n}: {v}"))
                .collect();
            let _ = writeln!(
                out,
                "  [{}] {} {}{}",
                shown.purpose,
                shown.method,
                shown.url,
                if sent.is_empty() {
                    String::new()
                } else {
                    format!("  ({})", sent.join("; "))
                }
            );
            match (shown.status, &shown.error) {
                (Some(status), _) => {
                    let cors: Vec<String> = shown
                        .response_headers
                        .iter()
                        .filter(|(n, _)| is_evidence_header(n))
                        .map(|(n, v)| format!("{n}: {v}"))
                        .collect();
                    let _ = writeln!(
                        out,
                        "      -> {status}{}",
                        if cors.is_empty() {
                            String::new()
                        } else {
                            format!("  {}", cors.join("; "))
                        }
                    );
                }
                (None, Some(error)) => {
                    let _ = writeln!(out, "      -> {error}");
                }
                (None, None) => {}
            }
        }
        out
    }
}

/// The response headers the text report shows.
fn is_evidence_header(name: &str) -> bool {
    name.starts_with("access-control-")
        || matches!(
            name,
            "vary" | "age" | "x-cache" | "x-cache-status" | "cf-cache-status" | "location"
        )
        || name.starts_with("x-bucketcors-")
}

fn shown_request(request: &PageRequest) -> RequestShown {
    RequestShown {
        url: redact_url(&request.url),
        origin: request.origin.clone(),
        method: request.method.clone(),
        headers: request.headers.iter().map(|h| h.name.clone()).collect(),
        credentials: request.credentials,
        preflight: request.needs_preflight(),
    }
}

/// Colour only on a terminal, and never with `NO_COLOR` set.
pub fn colour_wanted() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}
