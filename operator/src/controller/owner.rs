//! Who owns a bucket and an edge route: exactly one `BucketCors`
//! cluster-wide, decided as a pure function of the objects in the
//! controller's cache.
//!
//! Every object claims its bucket ([`BucketKey`], canonical) and, when the
//! edge is on, its routes. Among the objects claiming the same bucket or
//! the same route, the owner is the oldest (`creationTimestamp`, then
//! `namespace/name`, so the order is total and every replica agrees).
//! Objects being deleted still own what they claim until they are gone:
//! their cleanup may yet remove the bucket's configuration, which a
//! successor must not have written first. When the owner goes, the next
//! claimant owns it on its next reconcile.
//!
//! Only an object that may hold what it claims takes part: one the
//! installer's tenancy policy refuses, or one that has never applied its
//! rules and is failing, claims nothing. Otherwise any namespace could
//! squat another team's bucket or edge host by creating an object naming
//! it first (refused, or with credentials that cannot write it), and the
//! team that may use it would be locked out. An object that once applied
//! keeps its claim while it fails, so a credential rotation on the owner
//! does not hand its bucket to someone else; and an object that has
//! applied outranks every one that has not, whatever their age, so a
//! squatter whose credentials are fixed later cannot take over a bucket
//! another object already holds.

use bucketcors_sync::backend::BucketKey;
use bucketcors_sync::edge::Route;

/// What one object claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// `namespace/name`.
    pub object: String,
    /// `creationTimestamp` as RFC 3339 text (the API server's format sorts
    /// as time; `None` sorts last: not yet created).
    pub created: Option<String>,
    /// The bucket, `None` when its endpoint cannot be resolved (then it
    /// claims nothing and fails on its own).
    pub bucket: Option<BucketKey>,
    /// The edge routes (empty with the edge off).
    pub routes: Vec<Route>,
    /// Whether the object may hold what it claims (see the module docs);
    /// an object that may not is never an owner.
    pub eligible: bool,
    /// Whether the object has applied its rules at least once
    /// (`status.appliedRevision`): such an object outranks every one that
    /// has not.
    pub established: bool,
}

/// What another object owns that `claim` also claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The owner, `namespace/name`.
    pub owner: String,
    /// What both claim, for the message (`s3 bucket ...`, `edge route ...`).
    pub what: String,
}

impl Claim {
    /// The order of ownership: established first, then older, then by
    /// name.
    fn rank(&self) -> (bool, bool, &str, &str) {
        (
            !self.established,
            self.created.is_none(),
            self.created.as_deref().unwrap_or(""),
            &self.object,
        )
    }
}

/// The first thing `claim` claims that an older object in `all` (which may
/// include `claim` itself) also claims; `None` when `claim` owns all of it.
pub fn conflict(claim: &Claim, all: &[Claim]) -> Option<Conflict> {
    // An ineligible claim ranks after every eligible one.
    let older = |other: &&Claim| {
        other.eligible
            && other.object != claim.object
            && (!claim.eligible || other.rank() < claim.rank())
    };
    let mut rivals: Vec<&Claim> = all.iter().filter(older).collect();
    rivals.sort_by(|a, b| a.rank().cmp(&b.rank()));
    for rival in rivals {
        if let (Some(mine), Some(theirs)) = (&claim.bucket, &rival.bucket)
            && mine == theirs
        {
            return Some(Conflict {
                owner: rival.object.clone(),
                what: mine.to_string(),
            });
        }
        if let Some(route) = claim.routes.iter().find(|r| rival.routes.contains(r)) {
            return Some(Conflict {
                owner: rival.object.clone(),
                what: format!("edge route {route}"),
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use bucketcors_sync::backend::{BackendSettings, Provider};

    fn bucket(name: &str) -> Option<BucketKey> {
        let settings = BackendSettings {
            provider: Provider::S3,
            endpoint: Some("http://127.0.0.1:3900".into()),
            region: Some("garage".into()),
            path_style: true,
        };
        Some(BucketKey::of(&settings, name).unwrap())
    }

    fn claim(object: &str, created: &str, b: &str, hosts: &[&str]) -> Claim {
        Claim {
            object: object.into(),
            created: Some(created.into()),
            bucket: bucket(b),
            routes: hosts.iter().map(|h| Route::new(h, None).unwrap()).collect(),
            eligible: true,
            established: false,
        }
    }

    /// An older object that may not hold what it claims (refused by the
    /// tenancy policy, or never applied and failing) is no owner: the
    /// younger one that may owns.
    #[test]
    fn an_ineligible_claimant_owns_nothing() {
        let squatter = Claim {
            eligible: false,
            ..claim("x/squat", "2026-01-01T00:00:00Z", "b", &["h.test"])
        };
        let team = claim("ok/site", "2026-01-02T00:00:00Z", "b", &["h.test"]);
        let all = [squatter.clone(), team.clone()];
        assert_eq!(conflict(&team, &all), None);
        // The squatter is told who owns, so its deletion removes nothing.
        assert_eq!(conflict(&squatter, &all).unwrap().owner, "ok/site");
        // Once the team has applied, the older squatter, even when it
        // becomes eligible (its credentials fixed), is told who owns.
        let established = Claim {
            established: true,
            ..team
        };
        let fixed = Claim {
            eligible: true,
            ..squatter
        };
        let c = conflict(&fixed, &[fixed.clone(), established.clone()]).unwrap();
        assert_eq!(c.owner, "ok/site");
        assert_eq!(conflict(&established, &[fixed, established.clone()]), None);
    }

    /// The oldest claimant owns; a later one conflicts and is told who
    /// owns; equal times fall back to the name; when the owner goes, the
    /// next claimant owns.
    #[test]
    fn the_oldest_claimant_owns() {
        let first = claim("a/one", "2026-01-01T00:00:00Z", "x", &["h.test"]);
        let second = claim("b/two", "2026-01-02T00:00:00Z", "x", &[]);
        let route_only = claim("b/three", "2026-01-03T00:00:00Z", "y", &["h.test"]);
        let same_time = claim("a/zero", "2026-01-01T00:00:00Z", "z", &["h.test"]);
        let unrelated = claim("c/four", "2025-01-01T00:00:00Z", "w", &["other.test"]);
        let all = [
            first.clone(),
            second.clone(),
            route_only.clone(),
            unrelated.clone(),
        ];
        assert_eq!(conflict(&first, &all), None);
        assert_eq!(conflict(&unrelated, &all), None);
        let c = conflict(&second, &all).unwrap();
        assert_eq!(c.owner, "a/one");
        assert!(c.what.contains("bucket `x`"), "{}", c.what);
        let c = conflict(&route_only, &all).unwrap();
        assert_eq!(
            (c.owner.as_str(), c.what.as_str()),
            ("a/one", "edge route h.test")
        );
        // Same creation time: `a/one` sorts before `a/zero`.
        let tie = [first.clone(), same_time.clone()];
        assert_eq!(conflict(&first, &tie), None);
        assert_eq!(conflict(&same_time, &tie).unwrap().owner, "a/one");
        // The owner is gone: the next claimant owns.
        assert_eq!(
            conflict(&second, &[second.clone(), route_only.clone()]),
            None
        );
        assert_eq!(conflict(&route_only, &[second, route_only.clone()]), None);
    }
}
