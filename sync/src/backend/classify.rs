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
        "PermanentRedirect"
        | "AuthorizationHeaderMalformed"
        | "IllegalLocationConstraintException" => ErrorKind::WrongRegion,
        "RequestTimeTooSkewed" => ErrorKind::ClockSkewed,
        "SlowDown"
        | "Throttling"
        | "ThrottlingException"
        | "TooManyRequests"
        | "RequestTimeout"
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
        ErrorKind::WrongRegion => {
            "set spec.backend.region (and the endpoint) to the bucket's region"
        }
        ErrorKind::ClockSkewed => {
            "the operator's clock differs from the provider's by more than it allows (S3: 15 minutes); fix the host's time synchronisation"
        }
        ErrorKind::Transient => {
            "the provider is unreachable, busy or timed out; this is worth retrying"
        }
        ErrorKind::Other => "unexpected answer from the provider",
    }
}

/// The region a wrong-region answer says the bucket is in, when it says:
/// the `x-amz-bucket-region` header S3 sends with `PermanentRedirect` (and
/// with a 301 or 400 on any bucket request), else the region an
/// `AuthorizationHeaderMalformed` message names (S3's `expecting 'R'`,
/// Garage's expected credential scope).
pub fn expected_region(
    bucket_region_header: Option<&str>,
    message: Option<&str>,
) -> Option<String> {
    let valid = |r: &str| {
        !r.is_empty()
            && r.len() <= 64
            && r.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if let Some(region) = bucket_region_header.map(str::trim).filter(|r| valid(r)) {
        return Some(region.to_owned());
    }
    let message = message?;
    // S3: "the region 'us-east-1' is wrong; expecting 'eu-west-1'".
    if let Some(rest) = message.split("expecting '").nth(1) {
        let region = rest.split('\'').next()?;
        return valid(region).then(|| region.to_owned());
    }
    // Garage: "unexpected scope: 'D/us-east-1/s3/aws4_request', expected:
    // 'D/garage/s3/aws4_request'" (the credential scope it wants).
    let scope = message.split("expected: '").nth(1)?.split('\'').next()?;
    let region = scope.split('/').nth(1)?;
    valid(region).then(|| region.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's documented answers (S3 API reference, "Error responses"; the
    /// message text as S3 sends it for a request signed for us-east-1 to a
    /// bucket in eu-west-1).
    #[test]
    fn wrong_region_answers_name_the_bucket_region() {
        assert_eq!(
            classify(Some("AuthorizationHeaderMalformed"), Some(400)),
            ErrorKind::WrongRegion
        );
        assert_eq!(
            classify(Some("PermanentRedirect"), Some(301)),
            ErrorKind::WrongRegion
        );
        assert_eq!(
            expected_region(
                None,
                Some(
                    "The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-west-1'"
                )
            ),
            Some("eu-west-1".to_owned())
        );
        assert_eq!(
            expected_region(
                Some("ap-southeast-2"),
                Some(
                    "The bucket you are attempting to access must be addressed using the specified endpoint."
                )
            ),
            Some("ap-southeast-2".to_owned())
        );
        // Garage 2.5.0's answer, recorded by sync/tests/backend_s3.rs.
        assert_eq!(
            expected_region(
                None,
                Some(
                    "Authorization header malformed, unexpected scope: '20261202/us-east-1/s3/aws4_request', expected: '20261202/garage/s3/aws4_request'"
                )
            ),
            Some("garage".to_owned())
        );
        assert_eq!(expected_region(None, Some("no region here")), None);
        assert_eq!(expected_region(Some("bad region!"), None), None);
    }

    /// A skewed clock is not transient: the same request fails again.
    #[test]
    fn a_skewed_clock_waits_for_a_human() {
        assert_eq!(
            classify(Some("RequestTimeTooSkewed"), Some(403)),
            ErrorKind::ClockSkewed
        );
    }

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
