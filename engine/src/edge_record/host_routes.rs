//! The host's list of its routes: which path prefixes it routes, and
//! whether it has a route of its own.
//!
//! Without it, a request whose first path segment could be a prefix costs
//! a KV read for `route:{host}/{segment}`, and random segments on a routed
//! host turn into one read each. With it the worker reads this one record
//! per host (and remembers it, or its absence, for the rules TTL), then
//! only the route records it lists. JSON, camelCase, versioned by `format`
//! like the route records, under `routes:{host}`:
//!
//! ```json
//! {"format":1,"hostRoute":true,"prefixes":["assets","media"],"writtenAt":1764690000}
//! ```
//!
//! The publisher rewrites it whenever it publishes or removes a route of
//! the host, right after the route record, with the time it did
//! (`writtenAt`, Unix seconds): Workers KV is eventually consistent, and
//! `bucketcors edge status` says how long ago the rules were written when
//! the edge still answers with an older revision. A host without this record is read as before it existed: its
//! own route only (`route:{host}`), no prefixes.

use serde::Serialize;

use super::json::{self, Value};
use super::shape::{Repeated, expected, fields, string, uint};
use super::{EdgeRecordError, FORMAT, route_key};

/// Prefix of every host-routes key.
pub const HOST_ROUTES_KEY_PREFIX: &str = "routes:";

/// Which routes one host has; see the module docs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostRoutes {
    /// The host has a route of its own (`route:{host}`).
    pub host_route: bool,
    /// The one-segment prefixes it routes (`route:{host}/{prefix}`),
    /// sorted, without duplicates or slashes.
    pub prefixes: Vec<String>,
    /// When the publisher last wrote a route of the host (Unix seconds).
    pub written_at: Option<u64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Wire<'a> {
    format: u32,
    host_route: bool,
    prefixes: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    written_at: Option<u64>,
}

impl HostRoutes {
    /// True when the host routes nothing (the record can be deleted).
    pub fn is_empty(&self) -> bool {
        !self.host_route && self.prefixes.is_empty()
    }

    /// True when the host has the route `prefix` (`None`: its own).
    pub fn has(&self, prefix: Option<&str>) -> bool {
        match prefix {
            None => self.host_route,
            Some(p) => {
                let p = p.trim_matches('/');
                self.prefixes.iter().any(|q| q == p)
            }
        }
    }

    /// Adds (`on`) or removes the route `prefix` (`None`: the host's own).
    pub fn set(&mut self, prefix: Option<&str>, on: bool) {
        match prefix {
            None => self.host_route = on,
            Some(p) => {
                let p = p.trim_matches('/').to_owned();
                self.prefixes.retain(|q| *q != p);
                if on {
                    self.prefixes.push(p);
                    self.prefixes.sort();
                }
            }
        }
    }

    /// The JSON stored in KV.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&Wire {
            format: FORMAT,
            host_route: self.host_route,
            prefixes: &self.prefixes,
            written_at: self.written_at,
        })
        .expect("a host-routes record always serializes")
    }

    /// Reads a record: unknown or repeated fields refused, every prefix a
    /// valid one-segment prefix, errors naming the field.
    pub fn from_json(text: &str) -> Result<HostRoutes, EdgeRecordError> {
        let value = json::parse(text).map_err(EdgeRecordError::Json)?;
        let [format, host_route, prefixes, written_at] = fields(
            value,
            "the host-routes record",
            ["format", "hostRoute", "prefixes", "writtenAt"],
            Repeated::Refused,
        )
        .map_err(EdgeRecordError::Json)?;
        let format =
            format.ok_or_else(|| EdgeRecordError::Json("missing field `format`".into()))?;
        let format = uint(format, "format", u32::MAX.into()).map_err(EdgeRecordError::Json)?;
        if format != u64::from(FORMAT) {
            return Err(EdgeRecordError::Format(format as u32));
        }
        let host_route = match host_route {
            None => false,
            Some(Value::Bool(b)) => b,
            Some(_) => return Err(EdgeRecordError::Json(expected("hostRoute", "a boolean"))),
        };
        let written_at = match written_at {
            None | Some(Value::Null) => None,
            Some(v) => Some(uint(v, "writtenAt", u64::MAX).map_err(EdgeRecordError::Json)?),
        };
        let mut out = HostRoutes {
            host_route,
            prefixes: Vec::new(),
            written_at,
        };
        match prefixes {
            None => {}
            Some(Value::Array(items)) => {
                for (i, item) in items.into_iter().enumerate() {
                    let prefix =
                        string(item, &format!("prefixes[{i}]")).map_err(EdgeRecordError::Json)?;
                    // The same rule as the route keys themselves.
                    route_key("h", Some(&prefix))?;
                    out.set(Some(&prefix), true);
                }
            }
            Some(_) => return Err(EdgeRecordError::Json(expected("prefixes", "an array"))),
        }
        Ok(out)
    }
}

/// The KV key of `host`'s routes record (the host lower-cased, checked as
/// [`route_key`] checks it).
pub fn host_routes_key(host: &str) -> Result<String, EdgeRecordError> {
    let route = route_key(host, None)?;
    Ok(format!(
        "{HOST_ROUTES_KEY_PREFIX}{}",
        &route[super::KEY_PREFIX.len()..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_routes_round_trip_and_refuse_bad_fields() {
        let mut routes = HostRoutes::default();
        assert!(routes.is_empty());
        routes.set(Some("/media/"), true);
        routes.set(Some("assets"), true);
        routes.set(Some("assets"), true);
        routes.set(None, true);
        assert_eq!(
            routes.to_json(),
            r#"{"format":1,"hostRoute":true,"prefixes":["assets","media"]}"#
        );
        assert_eq!(HostRoutes::from_json(&routes.to_json()).unwrap(), routes);
        routes.written_at = Some(1_764_690_000);
        assert!(routes.to_json().ends_with(r#","writtenAt":1764690000}"#));
        assert_eq!(HostRoutes::from_json(&routes.to_json()).unwrap(), routes);
        assert!(routes.has(Some("assets")) && routes.has(None) && !routes.has(Some("x")));
        routes.set(Some("media"), false);
        routes.set(None, false);
        assert_eq!(routes.prefixes, ["assets"]);
        for (bad, field) in [
            (r#"{"format":1,"prefixes":["a/b"]}"#, "path prefix"),
            (r#"{"format":1,"prefixes":"a"}"#, "prefixes"),
            (r#"{"format":1,"hostRoute":1}"#, "hostRoute"),
            (r#"{"format":1,"extra":1}"#, "extra"),
            (r#"{"hostRoute":true}"#, "format"),
            (r#"{"format":1,"writtenAt":-1}"#, "writtenAt"),
        ] {
            let err = HostRoutes::from_json(bad).unwrap_err().to_string();
            assert!(err.contains(field), "{bad}: {err}");
        }
        assert!(matches!(
            HostRoutes::from_json(r#"{"format":2}"#),
            Err(EdgeRecordError::Format(2))
        ));
        assert_eq!(
            host_routes_key("CDN.example.com").unwrap(),
            "routes:cdn.example.com"
        );
    }
}
