//! Route records, loaded from Workers KV and compiled once per isolate and
//! revision, and each host's list of its routes.
//!
//! Every isolate keeps a small table from KV key to the last record it read.
//! An entry younger than the rules TTL is used as is; an older one is
//! re-read. When the text read is byte-for-byte the text already compiled,
//! nothing is recompiled, so a revision is compiled once per isolate. A
//! request takes an `Rc` to one [`Route`] and keeps it until it has been
//! answered, so rules published while it is in flight never mix with the
//! ones it started with.
//!
//! Absence is remembered like presence: a key KV reports as missing is not
//! asked for again within the TTL. And the table is bounded
//! ([`TABLE_CAP`] keys): random hosts and paths cannot grow an isolate's
//! memory. When it is full, entries past their TTL go first, then
//! remembered absences, and if that frees nothing the table starts over (a
//! forgotten key only costs one KV read), as the body cache's pass memory
//! does.
//!
//! Failures never take the edge down: when KV cannot be read or the record is
//! not a valid rule set, the last good compiled route stays in force and the
//! problem is logged; the entry is re-tried after the next TTL. A record that
//! KV reports as absent is authoritative (the route was unpublished).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use bucketcors_engine::compile::Compiled;
use bucketcors_engine::edge_record::{EdgeRecord, HostRoutes};
use worker::kv::KvStore;

use crate::log;

/// At most this many KV keys are remembered per isolate and table.
pub const TABLE_CAP: usize = 4096;

/// A compiled route: what one request is evaluated against.
#[derive(Debug)]
pub struct Route {
    /// The KV key the route was read from (`route:{host}[/{prefix}]`).
    pub key: String,
    /// The bucket's origin URL.
    pub origin_url: String,
    /// The revision of the rules (`none` for a route without CORS rules).
    pub revision: String,
    /// The route opted in to caching answers without caching headers.
    pub cache_unmarked: bool,
    /// The compiled rules (or the "no CORS configuration" answer).
    pub compiled: Compiled,
}

impl Route {
    /// The route's name in logs: the key without `route:`.
    pub fn name(&self) -> &str {
        self.key
            .strip_prefix(bucketcors_engine::edge_record::KEY_PREFIX)
            .unwrap_or(&self.key)
    }
}

/// What the table knows about one KV key.
struct Entry<T> {
    /// When KV was last asked (ms since the epoch).
    checked_at: f64,
    /// The raw text last read successfully, to skip re-reading an unchanged
    /// record.
    raw: Option<String>,
    /// The value in force; `None` when KV said the key does not exist.
    value: Option<Rc<T>>,
}

/// One bounded table of KV keys; see the module docs.
struct Table<T>(HashMap<String, Entry<T>>);

impl<T> Table<T> {
    fn fresh(&self, key: &str, now: f64, ttl_ms: f64) -> Option<Option<Rc<T>>> {
        self.0
            .get(key)
            .filter(|e| now - e.checked_at < ttl_ms)
            .map(|e| e.value.clone())
    }

    /// The entry for `key`, made room for when it is new.
    fn entry(&mut self, key: &str, now: f64, ttl_ms: f64) -> &mut Entry<T> {
        if !self.0.contains_key(key) && self.0.len() >= TABLE_CAP {
            self.0.retain(|_, e| now - e.checked_at < ttl_ms);
            if self.0.len() >= TABLE_CAP {
                self.0.retain(|_, e| e.value.is_some());
            }
            if self.0.len() >= TABLE_CAP {
                self.0.clear();
            }
        }
        self.0.entry(key.to_owned()).or_insert(Entry {
            checked_at: now,
            raw: None,
            value: None,
        })
    }
}

thread_local! {
    static ROUTES: RefCell<Table<Route>> = RefCell::new(Table(HashMap::new()));
    static HOSTS: RefCell<Table<HostRoutes>> = RefCell::new(Table(HashMap::new()));
}

/// The number of keys both tables hold (for the bound's unit test and
/// logs).
pub fn remembered() -> usize {
    ROUTES.with(|t| t.borrow().0.len()) + HOSTS.with(|t| t.borrow().0.len())
}

/// The route for `key` when the isolate's table holds a fresh entry for it
/// (`Some(None)`: fresh, and no route is published under `key`); `None`
/// when KV must be read ([`load`]).
pub fn fresh(key: &str, now: f64, ttl_ms: f64) -> Option<Option<Rc<Route>>> {
    ROUTES.with(|t| t.borrow().fresh(key, now, ttl_ms))
}

/// The host-routes record for `key` when fresh in the table; see
/// [`fresh`].
pub fn fresh_host(key: &str, now: f64, ttl_ms: f64) -> Option<Option<Rc<HostRoutes>>> {
    HOSTS.with(|t| t.borrow().fresh(key, now, ttl_ms))
}

/// What one KV read gave.
enum Read {
    Absent,
    Text(String),
    Failed(String),
}

async fn read(kv: &KvStore, key: &str) -> Read {
    log::info("route_kv_read", &[("key", key)]);
    match kv.get(key).text().await {
        Ok(None) => Read::Absent,
        Ok(Some(text)) => Read::Text(text),
        Err(err) => Read::Failed(err.to_string()),
    }
}

/// The host-routes record under `key`, read from KV now and remembered.
/// `None`: the host has no such record. A broken record or a failed read
/// keeps the last good one.
pub async fn load_host(kv: &KvStore, key: &str, now: f64, ttl_ms: f64) -> Option<Rc<HostRoutes>> {
    let got = read(kv, key).await;
    HOSTS.with(|t| {
        let mut table = t.borrow_mut();
        let entry = table.entry(key, now, ttl_ms);
        entry.checked_at = now;
        match got {
            Read::Absent => {
                entry.raw = None;
                entry.value = None;
            }
            Read::Text(text) if entry.raw.as_deref() == Some(text.as_str()) => {}
            Read::Text(text) => match HostRoutes::from_json(&text) {
                Ok(routes) => {
                    entry.raw = Some(text);
                    entry.value = Some(Rc::new(routes));
                }
                Err(err) => log::error(
                    "host_routes_invalid",
                    &[("key", key), ("error", &err.to_string())],
                ),
            },
            Read::Failed(error) => {
                log::error("route_kv_unreadable", &[("key", key), ("error", &error)])
            }
        }
        entry.value.clone()
    })
}

/// The route for `key`, read from KV now and remembered in the table.
/// `None` means no route is published under `key`.
pub async fn load(kv: &KvStore, key: &str, now: f64, ttl_ms: f64) -> Option<Rc<Route>> {
    let got = read(kv, key).await;
    ROUTES.with(|t| {
        let mut table = t.borrow_mut();
        let entry = table.entry(key, now, ttl_ms);
        entry.checked_at = now;
        match got {
            Read::Absent => {
                entry.raw = None;
                entry.value = None;
            }
            Read::Text(text) if entry.raw.as_deref() == Some(text.as_str()) => {}
            Read::Text(text) => match EdgeRecord::from_json(&text) {
                Ok(record) => {
                    let route = Rc::new(Route {
                        key: key.to_owned(),
                        origin_url: record.origin_url.clone(),
                        revision: record.revision().to_owned(),
                        cache_unmarked: record.cache_unmarked,
                        compiled: record.compile(),
                    });
                    log::info(
                        "route_loaded",
                        &[("key", key), ("revision", &route.revision)],
                    );
                    entry.raw = Some(text);
                    entry.value = Some(route);
                }
                Err(err) => {
                    // Keep `raw` as it was so that the next read of the
                    // same bad text is reported again after the TTL.
                    log::error(
                        "route_record_invalid",
                        &[
                            ("key", key),
                            ("error", &err.to_string()),
                            ("kept_revision", last_revision(&entry.value)),
                        ],
                    );
                }
            },
            Read::Failed(error) => {
                log::error(
                    "route_kv_unreadable",
                    &[
                        ("key", key),
                        ("error", &error),
                        ("kept_revision", last_revision(&entry.value)),
                    ],
                );
            }
        }
        entry.value.clone()
    })
}

fn last_revision(route: &Option<Rc<Route>>) -> &str {
    route
        .as_ref()
        .map(|r| r.revision.as_str())
        .unwrap_or("(none)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_never_holds_more_than_its_cap() {
        let mut table: Table<u32> = Table(HashMap::new());
        let ttl = 1000.0;
        for i in 0..(3 * TABLE_CAP) {
            let entry = table.entry(&format!("route:h{i}"), i as f64, ttl);
            // Every tenth key is a route, the rest remembered absences.
            if i % 10 == 0 {
                entry.value = Some(Rc::new(i as u32));
            }
            assert!(table.0.len() <= TABLE_CAP);
        }
        // Fresh entries answer without KV; expired ones do not.
        let last = 3 * TABLE_CAP - 1;
        assert!(
            table
                .fresh(&format!("route:h{last}"), last as f64, ttl)
                .is_some()
        );
        assert!(table.fresh("route:h0", last as f64, ttl).is_none());
    }
}
