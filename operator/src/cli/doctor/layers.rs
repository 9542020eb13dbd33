//! One layer (the bucket's endpoint, the edge, a CDN) asked the browser's
//! questions, and layers compared with each other.
//!
//! [`Layer::probe`] sends what the browser would send: the preflight when
//! the Fetch standard needs one, then the actual request when it is a
//! reading one (`GET`, `HEAD`). For any other method the actual request is
//! not sent, so that nothing changes; the preflight's answer stands in for
//! its CORS headers, since S3 and OSS answer an actual request with the
//! headers of the rule its preflight matches.
//!
//! [`findings`] reports, side by side, where layers serving the same object
//! answer the same request differently: a CDN that adds its own
//! `Access-Control-Allow-Origin`, an edge with other rules than the bucket,
//! a cache that drops headers.

use bucketcors_fetch::redact_url;

use super::browser::{PageRequest, actual_is_safe};
use super::fetch_checks::{Stage, evaluate};
use super::probe::{Exchange, Prober, Reply, Sent};
use super::report::{Finding, Kind, Severity, Verdict};

/// What the doctor sends as a header's value when the page's is unknown.
pub const PLACEHOLDER_VALUE: &str = "bucketcors-doctor";

/// What one layer answered.
#[derive(Debug, Clone)]
pub struct Layer {
    /// The URL asked.
    pub url: String,
    /// The preflight, when the request needs one.
    pub preflight: Option<Exchange>,
    /// The actual request, when it is safe to send (and the preflight passed
    /// or was not needed).
    pub actual: Option<Exchange>,
}

impl Layer {
    /// Asks `request` of its URL as a browser would.
    pub async fn probe(prober: &Prober, request: &PageRequest) -> Layer {
        let mut layer = Layer {
            url: request.url.clone(),
            preflight: None,
            actual: None,
        };
        if request.needs_preflight() || !actual_is_safe(request) {
            let exchange = prober.send(preflight(request, "preflight")).await;
            layer.preflight = Some(exchange);
        }
        // A browser sends the actual request only after a passing preflight;
        // the doctor sends it anyway when safe: its answer is evidence (a
        // signature error shows only there).
        if actual_is_safe(request) && layer.preflight.as_ref().is_none_or(|p| p.reply().is_some()) {
            layer.actual = Some(prober.send(actual(request, "actual")).await);
        }
        layer
    }

    /// The preflight's reply.
    pub fn preflight_reply(&self) -> Option<&Reply> {
        self.preflight.as_ref().and_then(Exchange::reply)
    }

    /// The actual request's reply.
    pub fn actual_reply(&self) -> Option<&Reply> {
        self.actual.as_ref().and_then(Exchange::reply)
    }

    /// The reply of `stage`.
    pub fn reply(&self, stage: Stage) -> Option<&Reply> {
        match stage {
            Stage::Preflight => self.preflight_reply(),
            Stage::Actual => self.actual_or_stand_in(),
        }
    }

    /// The actual reply, or the preflight's standing in for an actual
    /// request that was not sent.
    pub fn actual_or_stand_in(&self) -> Option<&Reply> {
        match &self.actual {
            Some(exchange) => exchange.reply(),
            None => self.preflight_reply(),
        }
    }

    /// True when every request sent got an answer.
    pub fn reached(&self) -> bool {
        [&self.preflight, &self.actual]
            .into_iter()
            .flatten()
            .all(|e| e.reply().is_some())
    }

    /// The first failure to reach the layer.
    pub fn failure(&self) -> Option<String> {
        [&self.preflight, &self.actual]
            .into_iter()
            .flatten()
            .find_map(|e| e.failure().map(|f| f.to_string()))
    }

    /// The browser's verdict on this layer.
    pub fn verdict(&self, request: &PageRequest) -> Verdict {
        if !self.reached() {
            return Verdict::NotProbed;
        }
        match evaluate(request, self).blocked {
            None => Verdict::Allowed,
            Some(_) => Verdict::Refused,
        }
    }
}

/// The browser's preflight for `request`, for `purpose`.
pub fn preflight(request: &PageRequest, purpose: &str) -> Sent {
    let mut sent = Sent::new(purpose, "OPTIONS", &request.url)
        .header("Origin", &request.origin)
        .header("Access-Control-Request-Method", &request.method);
    if let Some(headers) = request.request_headers_value() {
        sent = sent.header("Access-Control-Request-Headers", &headers);
    }
    sent
}

/// The actual request (a reading method) for `request`, for `purpose`.
pub fn actual(request: &PageRequest, purpose: &str) -> Sent {
    let mut sent =
        Sent::new(purpose, &request.method, &request.url).header("Origin", &request.origin);
    for header in &request.headers {
        sent = sent.header(
            &header.name,
            header.value.as_deref().unwrap_or(PLACEHOLDER_VALUE),
        );
    }
    sent
}

/// The headers layers are compared on.
const COMPARED: [&str; 7] = [
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-expose-headers",
    "access-control-max-age",
    "vary",
];

/// How one layer answered one header: every line, as received.
fn shown(reply: Option<&Reply>, name: &str) -> String {
    match reply {
        None => "(not asked)".to_owned(),
        Some(reply) => {
            let values = reply.all(name);
            match values.len() {
                0 => "(absent)".to_owned(),
                1 => values[0].to_owned(),
                n => format!("{n} lines: {}", values.join(" | ")),
            }
        }
    }
}

/// Where the layers disagree, side by side.
pub fn findings(request: &PageRequest, layers: &[Layer]) -> Vec<Finding> {
    let mut out = Vec::new();
    if layers.len() < 2 {
        return out;
    }
    let verdicts: Vec<Verdict> = layers.iter().map(|l| l.verdict(request)).collect();
    for stage in [Stage::Preflight, Stage::Actual] {
        let replies: Vec<Option<&Reply>> = layers
            .iter()
            .map(|l| match stage {
                Stage::Preflight => l.preflight_reply(),
                Stage::Actual => l.actual_reply(),
            })
            .collect();
        if replies.iter().all(Option::is_none) {
            continue;
        }
        let mut differences = Vec::new();
        let statuses: Vec<String> = replies
            .iter()
            .map(|r| r.map_or("(not asked)".to_owned(), |r| r.status.to_string()))
            .collect();
        if statuses.windows(2).any(|w| w[0] != w[1]) {
            differences.push(("status".to_owned(), statuses));
        }
        for name in COMPARED {
            let values: Vec<String> = replies.iter().map(|r| shown(*r, name)).collect();
            if values.windows(2).any(|w| w[0] != w[1]) {
                differences.push((name.to_owned(), values));
            }
        }
        if differences.is_empty() {
            continue;
        }
        let what = match stage {
            Stage::Preflight => "preflight",
            Stage::Actual => "actual request",
        };
        let severity = if verdicts.windows(2).any(|w| w[0] != w[1]) {
            Severity::Error
        } else {
            Severity::Warning
        };
        let mut finding = Finding::new(
            Kind::LayersDisagree,
            severity,
            format!("the layers answer the {what} differently"),
        );
        for (i, layer) in layers.iter().enumerate() {
            finding = finding.evidence(format!(
                "layer {}: {} ({})",
                i + 1,
                redact_url(&layer.url),
                match verdicts[i] {
                    Verdict::Allowed => "browser allows",
                    Verdict::Refused => "browser refuses",
                    Verdict::NotProbed => "not reached",
                }
            ));
        }
        for (name, values) in &differences {
            let cells: Vec<String> = values
                .iter()
                .enumerate()
                .map(|(i, v)| format!("[{}] {v}", i + 1))
                .collect();
            finding = finding.evidence(format!("{name}: {}", cells.join("  ")));
        }
        if let Some(fix) = disagreement_fix(&replies) {
            finding = finding.fix(fix);
        }
        out.push(finding);
    }
    out
}

/// The usual cause of a disagreement, when the answers show it.
fn disagreement_fix(replies: &[Option<&Reply>]) -> Option<String> {
    let lines: Vec<usize> = replies
        .iter()
        .map(|r| r.map_or(0, |r| r.all("access-control-allow-origin").len()))
        .collect();
    if lines.iter().any(|n| *n > 1) && lines.contains(&1) {
        return Some(
            "a layer in front adds its own Access-Control-Allow-Origin on top of the one it \
             forwards: exactly one layer may answer CORS; remove the header rule from the proxy \
             or CDN (nginx add_header, a CDN response-header rule), or let it replace instead of \
             add"
            .to_owned(),
        );
    }
    let edge = replies
        .iter()
        .any(|r| r.is_some_and(|r| r.get("x-bucketcors-revision").is_some()));
    if edge {
        return Some(
            "the bucketcors edge answers from the rules last published; when the bucket differs, \
             apply the manifest again (`bucketcors apply`) so that both hold the same revision"
                .to_owned(),
        );
    }
    None
}
