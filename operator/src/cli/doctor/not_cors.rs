//! Answers that read as a CORS error in the browser but are something else:
//! a provider error (bad signature, expired URL, denied access, missing
//! bucket, a skewed clock), a redirect on the preflight, a host that cannot
//! be reached. The browser hides the status and body behind its CORS
//! message whenever the error carries no CORS headers, so the doctor reads
//! them and says where the fix really is.
//!
//! S3 and OSS both answer `<Error><Code>…</Code><Message>…</Message>…`; OSS
//! adds `<EC>` (its error number). Only the code, message and EC are read.

use bucketcors_fetch::redact_url;

use super::layers::Layer;
use super::probe::{Exchange, Reply};
use super::report::{Finding, Kind, Severity};

/// A provider's XML error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderError {
    /// `<Code>`.
    pub code: String,
    /// `<Message>`.
    pub message: String,
    /// OSS `<EC>`.
    pub ec: Option<String>,
}

/// Reads `<Error>` from a body; `None` when it is not one.
pub fn decode(body: &str) -> Option<ProviderError> {
    let error = element(body, "Error")?;
    Some(ProviderError {
        code: element(error, "Code")?.trim().to_owned(),
        message: element(error, "Message").unwrap_or("").trim().to_owned(),
        ec: element(error, "EC").map(|s| s.trim().to_owned()),
    })
}

/// The text inside the first `<name>…</name>` (no attributes in these bodies).
fn element<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&close)? + start;
    Some(&xml[start..end])
}

/// What an error code means for the page and where it is fixed; `None`
/// for the CORS refusals themselves (`AccessForbidden` on a preflight is
/// the bucket's CORS rules saying no).
fn explain(code: &str, message: &str) -> Option<(&'static str, &'static str)> {
    let lower = message.to_ascii_lowercase();
    let expired = lower.contains("expired");
    // Some stores (Garage) answer a bad signature with AccessDenied and say
    // so in the message.
    let signature = lower.contains("signature") && !expired;
    // A CORS refusal in an error body (S3 and OSS `AccessForbidden`,
    // Garage's `AccessDenied` "This CORS request is not allowed") is the
    // rules saying no: the other findings explain it.
    if code == "AccessForbidden" || lower.contains("cors") {
        return None;
    }
    Some(match code {
        _ if code == "SignatureDoesNotMatch" || signature => (
            "the request's signature does not match: the URL was signed for another method, \
             headers, host or key than the browser sends",
            "sign exactly what the browser sends (method, host, every signed header such as \
             Content-Type and x-amz-meta-*); a CORS rule cannot fix this",
        ),
        "AccessDenied" if expired => (
            "the presigned URL has expired",
            "issue a fresh presigned URL (or a longer expiry); CORS is not involved",
        ),
        "AccessDenied" => (
            "the bucket denies the request itself (policy, ACL or key permissions)",
            "grant the key or the public read/write the page needs in the bucket policy or ACL; \
             CORS rules do not grant access",
        ),
        "InvalidAccessKeyId" => (
            "the access key is unknown to the provider",
            "sign with a key that exists on this endpoint",
        ),
        "ExpiredToken" | "TokenRefreshRequired" => (
            "the session token in the signature has expired",
            "refresh the temporary credentials and sign again",
        ),
        "RequestTimeTooSkewed" => (
            "the signer's clock differs too much from the provider's",
            "fix the clock of the machine that signs the URL (NTP); CORS is not involved",
        ),
        "NoSuchBucket" => (
            "the bucket does not exist at this endpoint",
            "check the bucket name, region and endpoint in the URL",
        ),
        "NoSuchKey" => (
            "the object does not exist",
            "check the object key; a CORS rule cannot fix a missing object",
        ),
        "PermanentRedirect"
        | "AuthorizationHeaderMalformed"
        | "IllegalLocationConstraintException" => (
            "the request went to the wrong region's endpoint",
            "use the bucket's own regional endpoint",
        ),
        "MissingContentLength" | "MissingSecurityHeader" | "InvalidArgument" | "BadRequest" => (
            "the provider refuses the request as malformed",
            "fix the request the page sends",
        ),
        _ if code.ends_with("NotImplemented") || code == "MethodNotAllowed" => (
            "the provider does not support this operation here",
            "use an operation and endpoint that support it",
        ),
        _ => (
            "the provider refused the request for a reason of its own",
            "read the provider's code and message above; the browser shows only a CORS error",
        ),
    })
}

/// The not-a-CORS-problem findings for the main layer.
pub fn findings(layer: &Layer) -> Vec<Finding> {
    let mut out = Vec::new();
    for (what, exchange) in [
        ("preflight", &layer.preflight),
        ("actual request", &layer.actual),
    ] {
        let Some(exchange) = exchange else { continue };
        if let Some(finding) = finding(what, exchange) {
            out.push(finding);
        }
    }
    out
}

fn finding(what: &str, exchange: &Exchange) -> Option<Finding> {
    if let Some(failure) = exchange.failure() {
        return Some(
            Finding::new(
                Kind::NotCors,
                Severity::Error,
                format!("the {what} never got an answer: {failure}"),
            )
            .evidence(format!(
                "{} {}",
                exchange.sent.method,
                redact_url(&exchange.sent.url)
            ))
            .evidence(
                "a page sees this as \"TypeError: Failed to fetch\" and often a CORS message; the \
                 network, DNS or TLS is at fault, not the rules",
            )
            .fix("check the host name, port, scheme and certificate; a CORS rule cannot fix this"),
        );
    }
    let reply = exchange.reply()?;
    if what == "preflight" && reply.is_redirect() {
        return Some(
            Finding::new(
                Kind::NotCors,
                Severity::Error,
                format!("the preflight is redirected ({})", reply.status),
            )
            .evidence(format!(
                "Location: {}",
                reply
                    .get("location")
                    .map(|l| redact_url(&l))
                    .unwrap_or_else(|| "(absent)".into())
            ))
            .evidence("browsers never follow a redirect on a preflight")
            .fix(
                "point the page at the final URL (the bucket's regional endpoint, https instead of \
                 http, the host without the redirect)",
            ),
        );
    }
    if let Some(finding) = provider_error(what, reply) {
        return Some(finding);
    }
    if what == "preflight"
        && matches!(reply.status, 404 | 405 | 501)
        && decode(&reply.body).is_none()
    {
        return Some(
            Finding::new(
                Kind::NotCors,
                Severity::Error,
                format!(
                    "the layer does not answer preflights: OPTIONS gets {} without a provider error",
                    reply.status
                ),
            )
            .evidence(
                "a bucket answers OPTIONS itself (200 or its CORS refusal); this status comes from \
                 a server or proxy that does not know OPTIONS",
            )
            .fix(
                "let OPTIONS through to the bucket (CDN and proxy method allow-lists, WAF rules), or \
                 answer preflights at the bucketcors edge",
            ),
        );
    }
    None
}

fn provider_error(what: &str, reply: &Reply) -> Option<Finding> {
    if reply.is_ok() {
        return None;
    }
    let error = decode(&reply.body)?;
    let (meaning, fix) = explain(&error.code, &error.message)?;
    let mut finding = Finding::new(
        Kind::NotCors,
        Severity::Error,
        format!(
            "not a CORS problem: the {what} got {} {}: {meaning}",
            reply.status, error.code
        ),
    )
    .evidence(format!("Message: {}", error.message));
    if let Some(ec) = &error.ec {
        finding = finding.evidence(format!("OSS EC {ec} (look it up in OSS's error center)"));
    }
    if reply.get("access-control-allow-origin").is_none() {
        finding = finding.evidence(
            "the error carries no CORS headers, so the browser reports it as a CORS error and \
             hides this status and body from the page",
        );
    }
    Some(finding.fix(fix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_s3_and_oss_errors() {
        let s3 = "<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code><Message>nope</Message></Error>";
        assert_eq!(decode(s3).unwrap().code, "SignatureDoesNotMatch");
        let oss =
            "<Error><Code>NoSuchBucket</Code><Message>m</Message><EC>0015-00000101</EC></Error>";
        assert_eq!(decode(oss).unwrap().ec.as_deref(), Some("0015-00000101"));
        assert!(decode("<html>").is_none());
    }
}
