//! One edge route (a host, optionally with a path prefix) in the one
//! canonical form the KV keys use, so that the routes a spec names, the
//! routes a status remembers and the keys at the edge compare equal when
//! they name the same route.

use bucketcors_engine::edge_record::{host_routes_key, route_key};

use super::PublishError;

/// A host and its optional one-segment path prefix, canonical: the host
/// lower-cased, the prefix written `/segment`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Route {
    /// The host, lower-cased.
    pub host: String,
    /// `/segment`, or `None` for the host's own route.
    pub path_prefix: Option<String>,
}

impl Route {
    /// The canonical route of `host` and `path_prefix`; an error naming the
    /// one the edge cannot route (a host with a port, a prefix of more than
    /// one segment).
    pub fn new(host: &str, path_prefix: Option<&str>) -> Result<Route, PublishError> {
        route_key(host, path_prefix)
            .map_err(|e| PublishError::failed(format!("edge route: {e}")))?;
        Ok(Route {
            host: host.to_ascii_lowercase(),
            path_prefix: path_prefix.map(|p| format!("/{}", p.trim_matches('/'))),
        })
    }

    /// The route record's KV key.
    pub fn key(&self) -> String {
        route_key(&self.host, self.path_prefix.as_deref()).expect("checked in Route::new")
    }

    /// The KV key of the host's routes record.
    pub fn host_routes_key(&self) -> String {
        host_routes_key(&self.host).expect("checked in Route::new")
    }
}

impl std::fmt::Display for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}{}",
            self.host,
            self.path_prefix.as_deref().unwrap_or("")
        )
    }
}

/// A route and the revision the edge API holds for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedRoute {
    /// The route.
    pub route: Route,
    /// The revision of the record read back from the edge API.
    pub revision: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_route_are_one_route() {
        let a = Route::new("CDN.Example.com", Some("assets/")).unwrap();
        let b = Route::new("cdn.example.com", Some("/assets")).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.path_prefix.as_deref(), Some("/assets"));
        assert_eq!(a.key(), "route:cdn.example.com/assets");
        assert_eq!(a.host_routes_key(), "routes:cdn.example.com");
        assert_eq!(a.to_string(), "cdn.example.com/assets");
        assert!(Route::new("cdn.example.com", Some("/a/b")).is_err());
        assert!(Route::new("cdn.example.com:443", None).is_err());
    }
}
