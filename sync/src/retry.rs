//! What a transient failure is, and how long to wait before trying again:
//! one definition and one policy for the storage backends (S3 through the
//! AWS SDK, OSS), Alibaba STS (RRSA) and the Cloudflare API.
//!
//! A failure is transient when the same request may succeed later without
//! any change: no answer at all (connection refused or reset, timeout), or
//! an HTTP status in [`is_transient_status`]: `408 Request Timeout`, `429
//! Too Many Requests` and every `5xx`. Everything else fails at once:
//! retrying a `403` only delays the error the user has to fix. Provider
//! error codes refine this per backend (`SlowDown`, `Throttling`,
//! `RequestTimeout`: [`crate::backend::classify`]), never contradict it.
//!
//! Transient failures are retried with exponential backoff; a
//! `Retry-After` from the server wins over the backoff, capped so that a
//! hostile or broken value cannot park the operator.

use std::time::{Duration, SystemTime};

/// True for HTTP statuses worth retrying: 408, 429 and 5xx.
pub fn is_transient_status(status: u16) -> bool {
    status == 408 || status == 429 || (500..=599).contains(&status)
}

/// Retry limits, the same for every remote the core calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included.
    pub max_attempts: u32,
    /// Delay before the second attempt; doubled for each further one.
    pub base_delay: Duration,
    /// Upper bound for any single wait, `Retry-After` included.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Three attempts, 250 ms then 500 ms apart, waits capped at 30 s. A
    /// reconcile that still fails is retried by its caller (the controller's
    /// per-object backoff), so a longer chain here only holds a worker.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The default policy with `max_attempts` attempts (at least one).
    pub fn with_max_attempts(max_attempts: u32) -> RetryPolicy {
        RetryPolicy {
            max_attempts: max_attempts.max(1),
            ..RetryPolicy::default()
        }
    }

    /// True when attempt `attempt` (counting from 1) may be followed by another.
    pub fn allows_another(&self, attempt: u32) -> bool {
        attempt < self.max_attempts
    }

    /// The wait before attempt `attempt + 1` (attempt counts from 1), given
    /// the server's `Retry-After` header if any.
    pub fn delay(&self, attempt: u32, retry_after: Option<&str>) -> Duration {
        let backoff = self
            .base_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let wait = retry_after.and_then(parse_retry_after).unwrap_or(backoff);
        wait.min(self.max_delay)
    }
}

/// `Retry-After` as delay-seconds or an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let at = time::PrimitiveDateTime::parse(value, &format)
        .ok()?
        .assume_utc();
    let at = SystemTime::from(at);
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay(1, None), Duration::from_millis(250));
        assert_eq!(p.delay(3, None), Duration::from_millis(1000));
        assert_eq!(p.delay(20, None), Duration::from_secs(30));
    }

    #[test]
    fn retry_after_wins_and_is_capped() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay(1, Some("2")), Duration::from_secs(2));
        assert_eq!(p.delay(1, Some("86400")), Duration::from_secs(30));
        assert_eq!(
            p.delay(1, Some("Wed, 21 Oct 2015 07:28:00 GMT")),
            Duration::ZERO
        );
        assert_eq!(p.delay(2, Some("soon")), Duration::from_millis(500));
    }

    /// RFC 9110: 408 and 429 say "try again later", 5xx is the server's
    /// fault; every other 4xx needs a different request.
    #[test]
    fn transient_statuses() {
        for status in [408, 429, 500, 502, 503, 504, 599] {
            assert!(is_transient_status(status), "{status}");
        }
        for status in [200, 204, 301, 400, 401, 403, 404, 409, 412, 499, 600] {
            assert!(!is_transient_status(status), "{status}");
        }
    }

    #[test]
    fn attempts_are_counted_from_one_and_never_zero() {
        let p = RetryPolicy::with_max_attempts(0);
        assert_eq!(p.max_attempts, 1);
        assert!(!p.allows_another(1));
        let p = RetryPolicy::with_max_attempts(3);
        assert!(p.allows_another(1) && p.allows_another(2) && !p.allows_another(3));
    }
}
