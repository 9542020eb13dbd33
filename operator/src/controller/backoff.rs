//! Capped exponential backoff per object.
//!
//! `error_policy` is synchronous and sees only the object and the error, so
//! the number of consecutive transient failures lives here, keyed by object;
//! a successful reconciliation forgets it. The delay doubles from `base` up
//! to `cap`, and never undercuts a provider's `Retry-After`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// Consecutive-failure counters and the delay policy.
#[derive(Debug)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    failures: Mutex<HashMap<String, u32>>,
}

impl Backoff {
    /// Delays `base`, `2·base`, `4·base`, ... up to `cap`.
    pub fn new(base: Duration, cap: Duration) -> Self {
        Backoff {
            base,
            cap,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Records one more failure of `key` and returns how long to wait.
    pub fn next_delay(&self, key: &str, retry_after: Option<Duration>) -> Duration {
        let mut failures = self.failures.lock().expect("backoff lock poisoned");
        let attempt = failures.entry(key.to_string()).or_insert(0);
        let factor = 1u32.checked_shl(*attempt).unwrap_or(u32::MAX);
        *attempt = attempt.saturating_add(1);
        let delay = self.base.saturating_mul(factor).min(self.cap);
        match retry_after {
            Some(asked) => delay.max(asked.min(self.cap)),
            None => delay,
        }
    }

    /// Forgets `key`'s failures (after a success or a terminal error).
    pub fn reset(&self, key: &str) {
        self.failures
            .lock()
            .expect("backoff lock poisoned")
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_then_caps_and_resets() {
        let b = Backoff::new(Duration::from_secs(5), Duration::from_secs(60));
        let delays: Vec<u64> = (0..6).map(|_| b.next_delay("a", None).as_secs()).collect();
        assert_eq!(delays, [5, 10, 20, 40, 60, 60]);
        assert_eq!(b.next_delay("b", None).as_secs(), 5, "keys are independent");
        b.reset("a");
        assert_eq!(b.next_delay("a", None).as_secs(), 5);
    }

    #[test]
    fn honours_retry_after_up_to_the_cap() {
        let b = Backoff::new(Duration::from_secs(1), Duration::from_secs(30));
        assert_eq!(
            b.next_delay("a", Some(Duration::from_secs(12))).as_secs(),
            12
        );
        assert_eq!(
            b.next_delay("a", Some(Duration::from_secs(600))).as_secs(),
            30
        );
    }
}
