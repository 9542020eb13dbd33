//! Leader election on a `coordination.k8s.io/v1` Lease.
//!
//! Several replicas may run; only the one holding the Lease reconciles, so
//! that two operators never write the same bucket at once. The protocol is
//! the one client-go uses, reduced to what one controller needs:
//!
//! - the holder renews `renewTime` every `retry_period`;
//! - a candidate takes the Lease only when it is free or when it has seen
//!   the same record, unchanged, for `leaseDurationSeconds` of its *own*
//!   monotonic clock ([`Observation`]). The holder's `renewTime` is only
//!   compared for change, never against this replica's wall clock: two
//!   nodes' clocks may be minutes apart, and judging expiry by a skewed
//!   clock would let a replica whose clock runs ahead take a live lease
//!   (two writers on one bucket);
//! - every write carries the `resourceVersion` that was read, so when two
//!   candidates race, the API server accepts one and answers 409 to the other.
//!
//! A leader stops leading `renew_deadline` after the start of its last
//! successful renewal, even while a renewal request is still hanging: every
//! round is bounded by that deadline. Since `renew_deadline` is shorter than
//! the lease duration, and a candidate starts its own count only when it
//! sees the renewed record (after the renewal began), the old leader has
//! stopped writing before anyone can take over: the margin is the
//! difference (5 s with the defaults). The caller exits the process, so a
//! restarted pod starts again as a candidate; on graceful shutdown the
//! leader empties `holderIdentity` so a successor need not wait out the
//! lease. No maintained crate targets kube 5 yet, which is why this small
//! elector exists.

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, ObjectMeta, PostParams};
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// Timing of the election, as in client-go's defaults.
#[derive(Debug, Clone)]
pub struct LeaseSettings {
    /// The Lease object's name.
    pub name: String,
    /// This replica's identity (the pod name).
    pub identity: String,
    /// How long a lease stays valid without renewal.
    pub lease_duration: Duration,
    /// A leader that could not renew for this long steps down.
    pub renew_deadline: Duration,
    /// How often candidates retry and leaders renew.
    pub retry_period: Duration,
}

impl LeaseSettings {
    /// Defaults: 15 s lease, 10 s renew deadline, 2 s retry period.
    pub fn new(name: impl Into<String>, identity: impl Into<String>) -> Self {
        LeaseSettings {
            name: name.into(),
            identity: identity.into(),
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
        }
    }
}

/// What a candidate last saw of another holder's Lease record, and when by
/// its own monotonic clock. client-go keeps the same pair
/// (`observedRecord`, `observedTime`) for the same reason: expiry is
/// judged by how long the record has stood still here, which no clock
/// skew between nodes can shorten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    /// The holder, its `renewTime` and its transitions count, as read; any
    /// change means the holder is alive.
    record: (String, Option<Timestamp>, i32),
    /// When this replica first saw `record`.
    since: Instant,
}

impl Observation {
    /// The observation after reading `record` at `now`: unchanged records
    /// keep their first sighting, a changed one starts the count again.
    pub fn after(
        previous: Option<&Observation>,
        record: (String, Option<Timestamp>, i32),
        now: Instant,
    ) -> Observation {
        match previous {
            Some(seen) if seen.record == record => seen.clone(),
            _ => Observation { record, since: now },
        }
    }

    /// Whether the record has stood still for `lease` by this replica's
    /// clock (client-go: `observedTime + leaseDuration < now`).
    pub fn expired(&self, lease: Duration, now: Instant) -> bool {
        self.since + lease < now
    }
}

/// Campaigns for and holds one Lease.
pub struct LeaseElector {
    api: Api<Lease>,
    settings: LeaseSettings,
    observed: Mutex<Option<Observation>>,
}

impl std::fmt::Debug for LeaseElector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeaseElector")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl LeaseElector {
    /// An elector for the Lease `settings.name` in the namespace of `api`.
    pub fn new(api: Api<Lease>, settings: LeaseSettings) -> Self {
        LeaseElector {
            api,
            settings,
            observed: Mutex::new(None),
        }
    }

    /// One round: takes the Lease when free or expired, renews it when held.
    /// Returns whether this replica leads afterwards. A lost race (409) is
    /// "not leading", not an error.
    pub async fn try_acquire_or_renew(&self) -> Result<bool, kube::Error> {
        let now = Timestamp::now();
        let me = &self.settings.identity;
        let duration_secs =
            i32::try_from(self.settings.lease_duration.as_secs()).unwrap_or(i32::MAX);
        let Some(mut lease) = self.api.get_opt(&self.settings.name).await? else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.settings.name.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(LeaseSpec {
                    holder_identity: Some(me.clone()),
                    lease_duration_seconds: Some(duration_secs),
                    acquire_time: Some(MicroTime(now)),
                    renew_time: Some(MicroTime(now)),
                    lease_transitions: Some(0),
                    ..LeaseSpec::default()
                }),
            };
            return conflict_is_false(self.api.create(&PostParams::default(), &lease).await);
        };
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        let holder = spec.holder_identity.clone().unwrap_or_default();
        if holder != *me {
            let lease_for = Duration::from_secs(
                u64::try_from(spec.lease_duration_seconds.unwrap_or(duration_secs)).unwrap_or(0),
            );
            let record = (
                holder.clone(),
                spec.renew_time.as_ref().map(|t| t.0),
                spec.lease_transitions.unwrap_or(0),
            );
            let expired = {
                let mut observed = self.observed.lock().unwrap_or_else(|p| p.into_inner());
                let seen = Observation::after(observed.as_ref(), record, Instant::now());
                let expired = seen.expired(lease_for, Instant::now());
                *observed = Some(seen);
                expired
            };
            if !holder.is_empty() && !expired {
                return Ok(false);
            }
            spec.holder_identity = Some(me.clone());
            spec.acquire_time = Some(MicroTime(now));
            spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
        }
        spec.lease_duration_seconds = Some(duration_secs);
        spec.renew_time = Some(MicroTime(now));
        conflict_is_false(
            self.api
                .replace(&self.settings.name, &PostParams::default(), &lease)
                .await,
        )
    }

    /// Campaigns until elected, then renews until the deadline is missed or
    /// `shutdown` fires. `leading` follows the state. Returns `true` when
    /// leadership was lost (the caller should exit), `false` on shutdown.
    pub async fn run(
        &self,
        leading: watch::Sender<bool>,
        mut shutdown: watch::Receiver<bool>,
    ) -> bool {
        // The start of the last successful renewal: the lease runs from no
        // earlier than that at the API server.
        let mut last_renewal: Option<Instant> = None;
        loop {
            let started = Instant::now();
            // A leader's round may not outlive its renew deadline; a
            // candidate's is bounded the same way so it never hangs.
            let deadline = last_renewal.unwrap_or(started) + self.settings.renew_deadline;
            let result = tokio::time::timeout_at(deadline, self.try_acquire_or_renew()).await;
            let is_leader = match result {
                Ok(Ok(held)) => held,
                Ok(Err(error)) => {
                    tracing::warn!(lease = %self.settings.name, %error, "lease round failed");
                    false
                }
                Err(_) => {
                    tracing::warn!(lease = %self.settings.name, "lease round timed out");
                    false
                }
            };
            if is_leader {
                if last_renewal.is_none() {
                    tracing::info!(lease = %self.settings.name, identity = %self.settings.identity, "became leader");
                }
                last_renewal = Some(started);
                leading.send_replace(true);
            } else if let Some(at) = last_renewal
                && at + self.settings.renew_deadline <= Instant::now()
            {
                tracing::error!(lease = %self.settings.name, "could not renew the lease in time: stepping down");
                leading.send_replace(false);
                return true;
            }
            // Sleep a retry period, but wake at the renew deadline: a
            // leader whose renewals fail steps down on time.
            let mut wake = Instant::now() + self.settings.retry_period;
            if let Some(at) = last_renewal {
                wake = wake.min(at + self.settings.renew_deadline);
            }
            tokio::select! {
                _ = tokio::time::sleep_until(wake) => {}
                _ = shutdown.changed() => {
                    if last_renewal.is_some() {
                        self.release().await;
                    }
                    leading.send_replace(false);
                    return false;
                }
            }
        }
    }

    /// Gives the Lease up (empties the holder) so that another replica can
    /// take over at once. Failures are logged: the lease expires anyway.
    pub async fn release(&self) {
        let Ok(Some(mut lease)) = self.api.get_opt(&self.settings.name).await else {
            return;
        };
        let Some(spec) = lease.spec.as_mut() else {
            return;
        };
        if spec.holder_identity.as_deref() != Some(self.settings.identity.as_str()) {
            return;
        }
        spec.holder_identity = None;
        if let Err(error) = self
            .api
            .replace(&self.settings.name, &PostParams::default(), &lease)
            .await
        {
            tracing::warn!(lease = %self.settings.name, %error, "could not release the lease");
        }
    }
}

fn conflict_is_false<T>(result: Result<T, kube::Error>) -> Result<bool, kube::Error> {
    match result {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(renewed_secs: i64) -> (String, Option<Timestamp>, i32) {
        (
            "bucketcors-a".into(),
            Some(Timestamp::from_second(renewed_secs).expect("timestamp")),
            0,
        )
    }

    const LEASE: Duration = Duration::from_secs(15);

    #[test]
    fn a_record_that_stands_still_expires_by_the_local_clock() {
        let t0 = Instant::now();
        let seen = Observation::after(None, record(100), t0);
        let later = Observation::after(Some(&seen), record(100), t0 + Duration::from_secs(16));
        assert_eq!(
            later.since, t0,
            "an unchanged record keeps its first sighting"
        );
        assert!(!later.expired(LEASE, t0 + Duration::from_secs(14)));
        assert!(later.expired(LEASE, t0 + Duration::from_secs(16)));
    }

    #[test]
    fn a_renewal_starts_the_count_again() {
        let t0 = Instant::now();
        let seen = Observation::after(None, record(100), t0);
        let renewed = Observation::after(Some(&seen), record(102), t0 + Duration::from_secs(10));
        assert!(!renewed.expired(LEASE, t0 + Duration::from_secs(20)));
        assert!(renewed.expired(LEASE, t0 + Duration::from_secs(26)));
    }

    #[test]
    fn the_holders_wall_clock_does_not_decide() {
        // A holder whose clock runs an hour behind: its renewTime looks an
        // hour old by this replica's clock, yet it renews, so it is alive.
        let t0 = Instant::now();
        let an_hour_ago = Timestamp::now().as_second() - 3600;
        let seen = Observation::after(None, record(an_hour_ago), t0);
        assert!(!seen.expired(LEASE, t0 + Duration::from_secs(2)));
    }

    #[test]
    fn the_leader_stops_before_a_candidate_may_take_over() {
        // Defaults: the leader gives up renew_deadline after its last
        // renewal began; a candidate that saw that renewal no earlier waits
        // the whole lease duration.
        let settings = LeaseSettings::new("l", "a");
        assert!(settings.renew_deadline + settings.retry_period < settings.lease_duration);
    }
}
