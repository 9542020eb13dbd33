//! Sending the doctor's requests: one HTTP client without redirects,
//! proxies or cookies, a timeout per request, and a hard budget on how many
//! requests one run sends, so that pointing the doctor at a production URL
//! is always cheap and bounded.
//!
//! An [`Exchange`] keeps what was sent and what came back, headers in the
//! order received and repeated ones kept apart: duplicates are evidence
//! (two layers both adding `Access-Control-Allow-Origin`).

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bucketcors_fetch::redact_url;
use serde::Serialize;

/// The most requests one run sends: per layer (at most 4) a preflight, the
/// actual request and 4 cache probes; once for the main URL at most 11
/// variations (bisection).
pub const MAX_REQUESTS: usize = 4 * (2 + super::cache::PROBES) + super::bisect::MAX_VARIATIONS;

/// The most body bytes kept from one answer (error bodies are small).
const MAX_BODY: usize = 16 * 1024;

/// One request to send.
#[derive(Debug, Clone, Serialize)]
pub struct Sent {
    /// What the request is for, in the report (`preflight`, `actual`, ...).
    pub purpose: String,
    /// The method.
    pub method: String,
    /// The URL.
    pub url: String,
    /// The headers, in order.
    pub headers: Vec<(String, String)>,
}

impl Sent {
    /// A request for `purpose`.
    pub fn new(purpose: &str, method: &str, url: &str) -> Sent {
        Sent {
            purpose: purpose.to_owned(),
            method: method.to_owned(),
            url: url.to_owned(),
            headers: Vec::new(),
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Sent {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

/// What came back.
#[derive(Debug, Clone, Serialize)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// Headers, names lower-cased, in the order received, repeats kept.
    pub headers: Vec<(String, String)>,
    /// The body (at most 16 KiB, lossy UTF-8).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub body: String,
}

impl Reply {
    /// Every value of header `name` (any case).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.answer().all(name)
    }

    /// The one value of `name`, or several joined with `, ` (as HTTP
    /// combines list headers).
    pub fn get(&self, name: &str) -> Option<String> {
        self.answer().get(name)
    }

    /// The members of a comma-separated list header, trimmed.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.answer()
            .list(name)
            .into_iter()
            .map(str::to_owned)
            .collect()
    }

    /// The reply as the browser's checks read it.
    pub fn answer(&self) -> bucketcors_fetch::Answer<'_> {
        bucketcors_fetch::Answer::new(self.status, &self.headers)
    }

    /// True for 3xx.
    pub fn is_redirect(&self) -> bool {
        self.answer().is_redirect()
    }

    /// True for 2xx ("ok status" in Fetch's preflight check).
    pub fn is_ok(&self) -> bool {
        self.answer().is_ok()
    }
}

/// Why no answer came back.
#[derive(Debug, Clone, Serialize, thiserror::Error)]
#[serde(tag = "kind", content = "message", rename_all = "snake_case")]
pub enum ProbeError {
    /// Name resolution, connection or TLS failed.
    #[error("could not reach the host: {0}")]
    Unreachable(String),
    /// No answer within the timeout.
    #[error("no answer within {0} s")]
    Timeout(u64),
    /// The run's request budget is spent.
    #[error("the request budget ({MAX_REQUESTS}) is spent")]
    Budget,
}

/// One request and its outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Exchange {
    /// What was sent.
    pub sent: Sent,
    /// What came back, or why nothing did.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// A reply or a failure.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// An answer.
    Reply(Reply),
    /// No answer.
    Failed(ProbeError),
}

impl Exchange {
    /// The reply, when there is one.
    pub fn reply(&self) -> Option<&Reply> {
        match &self.outcome {
            Outcome::Reply(r) => Some(r),
            Outcome::Failed(_) => None,
        }
    }

    /// The failure, when there is one.
    pub fn failure(&self) -> Option<&ProbeError> {
        match &self.outcome {
            Outcome::Reply(_) => None,
            Outcome::Failed(e) => Some(e),
        }
    }
}

/// The client and the budget.
pub struct Prober {
    client: reqwest::Client,
    timeout: Duration,
    sent: AtomicUsize,
    log: Mutex<Vec<Exchange>>,
}

impl Prober {
    /// A prober whose requests each wait at most `timeout`.
    pub fn new(timeout: Duration) -> Result<Prober, String> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .timeout(timeout)
            .user_agent(concat!("bucketcors-doctor/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Prober {
            client,
            timeout,
            sent: AtomicUsize::new(0),
            log: Mutex::new(Vec::new()),
        })
    }

    /// Every request sent so far, in order, with its outcome.
    pub fn log(&self) -> Vec<Exchange> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Sends `sent` (never more than [`MAX_REQUESTS`] per run).
    pub async fn send(&self, sent: Sent) -> Exchange {
        if self.sent.fetch_add(1, Ordering::Relaxed) >= MAX_REQUESTS {
            return Exchange {
                sent,
                outcome: Outcome::Failed(ProbeError::Budget),
            };
        }
        let outcome = match self.fetch(&sent).await {
            Ok(reply) => Outcome::Reply(reply),
            Err(e) => Outcome::Failed(e),
        };
        tracing::debug!(purpose = %sent.purpose, method = %sent.method, "doctor request sent");
        let exchange = Exchange { sent, outcome };
        if let Ok(mut log) = self.log.lock() {
            log.push(exchange.clone());
        }
        exchange
    }

    async fn fetch(&self, sent: &Sent) -> Result<Reply, ProbeError> {
        let method = reqwest::Method::from_bytes(sent.method.as_bytes())
            .map_err(|e| ProbeError::Unreachable(format!("bad method: {e}")))?;
        let mut request = self.client.request(method, &sent.url);
        for (name, value) in &sent.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let response = request.send().await.map_err(|e| self.classify(e))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let mut body = Vec::new();
        let mut response = response;
        while body.len() < MAX_BODY {
            match response.chunk().await {
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(e) if e.is_timeout() => {
                    return Err(ProbeError::Timeout(self.timeout.as_secs()));
                }
                // A body cut short still tells what the head said.
                Err(_) => break,
            }
        }
        body.truncate(MAX_BODY);
        Ok(Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }

    fn classify(&self, e: reqwest::Error) -> ProbeError {
        if e.is_timeout() {
            return ProbeError::Timeout(self.timeout.as_secs());
        }
        // The chain holds the useful part (connection refused, DNS, TLS).
        let mut message = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(inner) = source {
            message = format!("{message}: {inner}");
            source = inner.source();
        }
        ProbeError::Unreachable(strip_query(&message))
    }
}

/// Presigned URLs carry their signature in the query: never print it.
pub fn strip_query(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("http") {
        let (before, url) = rest.split_at(start);
        out.push_str(before);
        let end = url
            .find(|c: char| c.is_whitespace() || c == ')' || c == '"')
            .unwrap_or(url.len());
        let (whole, after) = url.split_at(end);
        out.push_str(redact_url(whole).as_str());
        rest = after;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presigned_queries_never_printed() {
        let u = "https://b.example/k?X-Amz-Signature=abc&X-Amz-Expires=60";
        assert_eq!(
            redact_url(u),
            "https://b.example/k?X-Amz-Signature=…&X-Amz-Expires=…"
        );
        assert!(
            !strip_query(&format!("error sending request for url ({u}): refused")).contains("abc")
        );
    }
}
