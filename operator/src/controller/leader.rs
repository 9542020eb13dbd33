//! Leader election on a `coordination.k8s.io/v1` Lease.
//!
//! Several replicas may run; only the one holding the Lease reconciles, so
//! that two operators never write the same bucket at once. The protocol is
//! the one client-go uses, reduced to what one controller needs:
//!
//! - the holder renews `renewTime` every `retry_period`;
//! - a candidate takes the Lease only when it is free or when
//!   `renewTime + leaseDurationSeconds` has passed;
//! - every write carries the `resourceVersion` that was read, so when two
//!   candidates race, the API server accepts one and answers 409 to the other.
//!
//! A leader that fails to renew within `renew_deadline` stops leading (the
//! caller exits the process, so a restarted pod starts again as a
//! candidate); on graceful shutdown it empties `holderIdentity` so a
//! successor need not wait out the lease. No maintained crate targets kube 5
//! yet, which is why this small elector exists.

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::{Api, ObjectMeta, PostParams};
use std::time::Duration;
use tokio::sync::watch;

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

/// Campaigns for and holds one Lease.
pub struct LeaseElector {
    api: Api<Lease>,
    settings: LeaseSettings,
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
        LeaseElector { api, settings }
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
            let valid_for = SignedDuration::from_secs(i64::from(
                spec.lease_duration_seconds.unwrap_or(duration_secs),
            ));
            let expired = match &spec.renew_time {
                Some(MicroTime(renewed)) => *renewed + valid_for < now,
                None => true,
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
        let mut last_renewal: Option<tokio::time::Instant> = None;
        loop {
            let result = self.try_acquire_or_renew().await;
            let is_leader = match result {
                Ok(held) => held,
                Err(error) => {
                    tracing::warn!(lease = %self.settings.name, %error, "lease round failed");
                    false
                }
            };
            if is_leader {
                if last_renewal.is_none() {
                    tracing::info!(lease = %self.settings.name, identity = %self.settings.identity, "became leader");
                }
                last_renewal = Some(tokio::time::Instant::now());
                leading.send_replace(true);
            } else if let Some(at) = last_renewal
                && at.elapsed() >= self.settings.renew_deadline
            {
                tracing::error!(lease = %self.settings.name, "could not renew the lease in time: stepping down");
                leading.send_replace(false);
                return true;
            }
            tokio::select! {
                _ = tokio::time::sleep(self.settings.retry_period) => {}
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
