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
    /// The order of ownership: older first, then by name.
    fn rank(&self) -> (bool, &str, &str) {
        (
            self.created.is_none(),
            self.created.as_deref().unwrap_or(""),
            &self.object,
        )
    }
}

/// The first thing `claim` claims that an older object in `all` (which may
/// include `claim` itself) also claims; `None` when `claim` owns all of it.
pub fn conflict(claim: &Claim, all: &[Claim]) -> Option<Conflict> {
    let older = |other: &&Claim| other.object != claim.object && other.rank() < claim.rank();
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
        }
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
