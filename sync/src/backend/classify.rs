//! Provider error codes and HTTP statuses to [`ErrorKind`].
//!
//! S3 and OSS share most error codes (OSS copied S3's), so one table serves
//! both. The code decides when it is known; otherwise the HTTP status does,
//! transient exactly when [`crate::retry::is_transient_status`] says so
//! (408, 429, 5xx), the one definition the retry loops use too.

use super::ErrorKind;
use crate::retry::is_transient_status;

/// The class of a provider error, from its code and HTTP status.
pub fn classify(code: Option<&str>, status: Option<u16>) -> ErrorKind {
    if let Some(kind) = code.and_then(classify_code) {
        return kind;
    }
    match status {
        Some(404) => ErrorKind::BucketNotFound,
        Some(401 | 403) => ErrorKind::AccessDenied,
        Some(s) if is_transient_status(s) => ErrorKind::Transient,
        _ => ErrorKind::Other,
    }
}

fn classify_code(code: &str) -> Option<ErrorKind> {
    Some(match code {
        "NoSuchBucket" => ErrorKind::BucketNotFound,
        "AccessDenied"
        | "InvalidAccessKeyId"
        | "SignatureDoesNotMatch"
        | "ExpiredToken"
        | "InvalidToken"
        | "InvalidSecurityToken"
        | "SecurityTokenExpired"
        | "AllAccessDisabled"
        | "AccountProblem"
        | "InvalidObjectState"
        | "UserDisable" => ErrorKind::AccessDenied,
        "MalformedXML" | "InvalidArgument" | "InvalidRequest" | "InvalidDigest"
        | "EntityTooLarge" | "InvalidCORSRule" => ErrorKind::Refused,
        "SlowDown"
        | "Throttling"
        | "ThrottlingException"
        | "TooManyRequests"
        | "RequestTimeout"
        | "RequestTimeTooSkewed"
        | "InternalError"
        | "ServiceUnavailable"
        | "ServiceBusy" => ErrorKind::Transient,
        _ => return None,
    })
}

/// What the user should do about an error of `kind`, appended to messages.
pub fn advice(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::BucketNotFound => "check the bucket name, endpoint and region",
        ErrorKind::AccessDenied => {
            "check the access key and its permission to read and write the bucket's CORS configuration"
        }
        ErrorKind::Refused => "the provider refused the configuration; fix the rules",
        ErrorKind::Transient => {
            "the provider is unreachable, busy or timed out; this is worth retrying"
        }
        ErrorKind::Other => "unexpected answer from the provider",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_win_over_statuses() {
        assert_eq!(
            classify(Some("NoSuchBucket"), Some(404)),
            ErrorKind::BucketNotFound
        );
        assert_eq!(
            classify(Some("SignatureDoesNotMatch"), Some(403)),
            ErrorKind::AccessDenied
        );
        assert_eq!(
            classify(Some("MalformedXML"), Some(400)),
            ErrorKind::Refused
        );
        assert_eq!(
            classify(Some("RequestTimeout"), Some(400)),
            ErrorKind::Transient
        );
        assert_eq!(
            classify(Some("SomethingNew"), Some(503)),
            ErrorKind::Transient
        );
        assert_eq!(classify(None, Some(429)), ErrorKind::Transient);
        assert_eq!(classify(None, Some(408)), ErrorKind::Transient);
        assert_eq!(classify(None, Some(400)), ErrorKind::Other);
        assert_eq!(classify(None, None), ErrorKind::Other);
    }

    /// Without a code, a status is transient here exactly when the retry
    /// loops would retry it.
    #[test]
    fn statuses_agree_with_the_retry_definition() {
        for status in 100..=600 {
            assert_eq!(
                classify(None, Some(status)) == ErrorKind::Transient,
                is_transient_status(status),
                "HTTP {status}"
            );
        }
    }
}
