//! When and how long to wait before retrying a Cloudflare API call.
//!
//! Transient failures (connection errors, timeouts, `429`, `5xx`) are
//! retried with exponential backoff; a `Retry-After` from the server wins
//! over the backoff (capped, so a hostile or broken value cannot park the
//! operator). Everything else fails at once: retrying a `403` only delays
//! the error the user has to fix.

use std::time::{Duration, SystemTime};

/// Retry limits.
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
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(30),
        }
    }
}

/// True for HTTP statuses worth retrying.
pub fn is_transient_status(status: u16) -> bool {
    status == 429 || status == 408 || (500..=599).contains(&status)
}

impl RetryPolicy {
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

    #[test]
    fn transient_statuses() {
        assert!(is_transient_status(429) && is_transient_status(503));
        assert!(!is_transient_status(403) && !is_transient_status(404));
    }
}
