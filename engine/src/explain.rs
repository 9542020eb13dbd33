//! Why a request gets the answer it gets, in words: the slow, allocating
//! twin of [`Compiled::decide`]. For each rule it says whether the origin,
//! the method and each requested header matched, then states the answer.
//!
//! It reaches its verdicts with the same compiled patterns as `decide`, so
//! the words cannot drift from the decision; the final line is read off the
//! real [`crate::Decision`].

use std::fmt;

use serde::Serialize;

use crate::compile::Compiled;
use crate::decision::{Outcome, Refusal};
use crate::model::Dialect;
use crate::request::Request;

/// An explanation: one sentence per line. Serializes as a list of strings
/// (the CLI's `--json` `explanation` array).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Explanation {
    /// The sentences, in order: the request, each rule, the answer.
    pub lines: Vec<String>,
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, line) in self.lines.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            f.write_str(line)?;
        }
        Ok(())
    }
}

/// Explains how `compiled` answers `request`.
pub fn explain(compiled: &Compiled, request: &Request<'_>) -> Explanation {
    let mut lines = Vec::new();
    let dialect = compiled.dialect();
    let preflight = request.is_options();
    let decision = compiled.decide(request);

    // Which method and headers the rules are matched against.
    let (method, headers): (Option<&str>, Option<&str>) = if preflight {
        (request.request_method, request.request_headers)
    } else {
        match dialect {
            Dialect::S3 => (
                Some(request.request_method.unwrap_or(request.method)),
                request.request_headers,
            ),
            Dialect::Oss => (Some(request.method), None),
        }
    };
    let names: Vec<&str> = headers
        .map(|h| crate::request::RequestedHeaders::new(h).collect())
        .unwrap_or_default();

    lines.push(describe_request(request, dialect));
    if !preflight && dialect == Dialect::S3 && request.request_method.is_some() {
        lines.push(format!(
            "S3 matches an actual request carrying Access-Control-Request-Method as a \
             preflight for {}",
            method.unwrap_or_default()
        ));
    }
    if !preflight
        && dialect == Dialect::Oss
        && (request.request_method.is_some() || request.request_headers.is_some())
    {
        lines.push("OSS ignores Access-Control-Request-* headers on an actual request".to_owned());
    }

    match (request.origin, compiled.config()) {
        (None, _) => lines.push(
            "the request has no Origin header, so it is not a CORS request and no rule is \
             consulted"
                .to_owned(),
        ),
        (Some(_), None) => {
            lines.push("the bucket has no CORS configuration, so no rule is consulted".to_owned())
        }
        (Some(_), Some(_)) if preflight && method.is_none() => lines.push(
            "the preflight has no Access-Control-Request-Method header, so no rule is consulted"
                .to_owned(),
        ),
        (Some(origin), Some(config)) => {
            let method = method.unwrap_or_default();
            let mut matched: Option<usize> = None;
            for (index, (rule, compiled_rule)) in
                config.rules.iter().zip(&compiled.rules).enumerate()
            {
                let label = match &rule.id {
                    Some(id) => format!("rule {index} (id {id:?})"),
                    None => format!("rule {index}"),
                };
                if let Some(first) = matched {
                    lines.push(format!("{label}: not tried, rule {first} matched first"));
                    continue;
                }
                let mut reasons = Vec::new();
                let mut ok = true;
                match rule
                    .allowed_origins
                    .iter()
                    .zip(&compiled_rule.origins)
                    .find(|(_, p)| p.matches(origin))
                {
                    Some((written, _)) if written == origin => {
                        reasons.push(format!("origin {origin:?} is allowed"))
                    }
                    Some((written, _)) => reasons.push(format!(
                        "origin {origin:?} matches allowed origin {written:?}"
                    )),
                    None => {
                        ok = false;
                        reasons.push(format!(
                            "origin {origin:?} matches none of the allowed origins {} \
                             (scheme, host and port must all match)",
                            list(&rule.allowed_origins)
                        ));
                    }
                }
                if compiled_rule.methods & crate::compile::method_bit(method) != 0 {
                    reasons.push(format!("method {method} is allowed"));
                } else {
                    ok = false;
                    reasons.push(format!(
                        "method {method:?} is not one of {} (methods compare exactly, upper case)",
                        list(&rule.allowed_methods)
                    ));
                }
                if rule.allowed_headers.is_empty() && !names.is_empty() {
                    ok = false;
                    let lower: Vec<String> = names
                        .iter()
                        .map(|n| format!("{:?}", n.to_ascii_lowercase()))
                        .collect();
                    reasons.push(format!(
                        "the preflight requests headers {} but the rule allows none, so it \
                         matches only preflights that request no headers",
                        lower.join(", ")
                    ));
                }
                for name in names.iter().filter(|_| !rule.allowed_headers.is_empty()) {
                    let found = rule
                        .allowed_headers
                        .iter()
                        .zip(&compiled_rule.headers)
                        .find(|(_, p)| p.matches_ignore_case(name));
                    match found {
                        Some((written, _)) => reasons.push(format!(
                            "requested header {:?} matches allowed header {written:?}",
                            name.to_ascii_lowercase()
                        )),
                        None => {
                            ok = false;
                            reasons.push(format!(
                                "requested header {:?} matches none of the allowed headers {}",
                                name.to_ascii_lowercase(),
                                list(&rule.allowed_headers)
                            ));
                        }
                    }
                }
                let verdict = if ok { "matches" } else { "does not match" };
                lines.push(format!("{label} {verdict}: {}", reasons.join("; ")));
                if ok {
                    matched = Some(index);
                }
            }
            if config.rules.is_empty() {
                lines.push("the configuration has no rules".to_owned());
            }
        }
    }

    lines.push(describe_answer(&decision));
    Explanation { lines }
}

fn list(values: &[String]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
    format!("[{}]", quoted.join(", "))
}

fn describe_request(request: &Request<'_>, dialect: Dialect) -> String {
    let mut s = if request.is_options() {
        format!("{dialect} dialect, preflight (OPTIONS)")
    } else {
        format!("{dialect} dialect, actual request {}", request.method)
    };
    match request.origin {
        Some(o) => s.push_str(&format!(" from origin {o:?}")),
        None => s.push_str(" without Origin"),
    }
    if let Some(m) = request.request_method {
        s.push_str(&format!(", Access-Control-Request-Method {m:?}"));
    }
    if let Some(h) = request.request_headers {
        s.push_str(&format!(", Access-Control-Request-Headers {h:?}"));
    }
    s
}

fn describe_answer(decision: &crate::Decision<'_, '_>) -> String {
    match decision.outcome() {
        Outcome::Allowed { rule, .. } if decision.is_preflight() => {
            format!("answer: 200, rule {rule} allows the preflight")
        }
        Outcome::Allowed { rule, .. } => {
            format!("answer: the bucket's response with CORS headers from rule {rule}")
        }
        Outcome::Refused(refusal) => {
            let why = match refusal {
                Refusal::MissingOrigin => "the preflight has no Origin header",
                Refusal::NotEnabled => "the bucket has no CORS configuration",
                Refusal::MissingRequestMethod => {
                    "the preflight has no Access-Control-Request-Method header"
                }
                Refusal::NotAllowed => "no rule allows this preflight",
            };
            format!(
                "answer: {} {}, because {why}",
                refusal.status(),
                refusal.code()
            )
        }
        Outcome::NoCors => {
            "answer: the bucket's response without CORS headers (no rule applies)".to_owned()
        }
    }
}
