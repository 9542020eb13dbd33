//! Route records, loaded from Workers KV and compiled once per isolate and
//! revision.
//!
//! Every isolate keeps a small table from KV key to the last record it read.
//! An entry younger than the rules TTL is used as is; an older one is
//! re-read. When the text read is byte-for-byte the text already compiled,
//! nothing is recompiled, so a revision is compiled once per isolate. A
//! request takes an `Rc` to one [`Route`] and keeps it until it has been
//! answered, so rules published while it is in flight never mix with the
//! ones it started with.
//!
//! Failures never take the edge down: when KV cannot be read or the record is
//! not a valid rule set, the last good compiled route stays in force and the
//! problem is logged; the entry is re-tried after the next TTL. A record that
//! KV reports as absent is authoritative (the route was unpublished).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use bucketcors_engine::compile::Compiled;
use bucketcors_engine::edge_record::EdgeRecord;
use worker::kv::KvStore;

use crate::log;

/// A compiled route: what one request is evaluated against.
#[derive(Debug)]
pub struct Route {
    /// The bucket's origin URL.
    pub origin_url: String,
    /// The revision of the rules (`none` for a route without CORS rules).
    pub revision: String,
    /// The compiled rules (or the "no CORS configuration" answer).
    pub compiled: Compiled,
}

/// What the table knows about one KV key.
struct Entry {
    /// When KV was last asked (ms since the epoch).
    checked_at: f64,
    /// The raw text last compiled, to skip recompiling an unchanged record.
    raw: Option<String>,
    /// The route in force; `None` when KV said the key does not exist.
    route: Option<Rc<Route>>,
}

thread_local! {
    static TABLE: RefCell<HashMap<String, Entry>> = RefCell::new(HashMap::new());
}

/// The route for `key` when the isolate's table holds a fresh entry for it
/// (`Some(None)`: fresh, and no route is published under `key`); `None`
/// when KV must be read ([`load`]).
pub fn fresh(key: &str, now: f64, ttl_ms: f64) -> Option<Option<Rc<Route>>> {
    TABLE.with(|t| {
        t.borrow()
            .get(key)
            .filter(|e| now - e.checked_at < ttl_ms)
            .map(|e| e.route.clone())
    })
}

/// The route for `key`, read from KV now and remembered in the table.
/// `None` means no route is published under `key`.
pub async fn load(kv: &KvStore, key: &str, now: f64) -> Option<Rc<Route>> {
    let read = kv.get(key).text().await;
    TABLE.with(|t| {
        let mut table = t.borrow_mut();
        match read {
            Ok(None) => {
                table.insert(
                    key.to_owned(),
                    Entry {
                        checked_at: now,
                        raw: None,
                        route: None,
                    },
                );
                None
            }
            Ok(Some(text)) => {
                let entry = table.entry(key.to_owned()).or_insert(Entry {
                    checked_at: now,
                    raw: None,
                    route: None,
                });
                entry.checked_at = now;
                if entry.raw.as_deref() == Some(text.as_str()) {
                    return entry.route.clone();
                }
                match EdgeRecord::from_json(&text) {
                    Ok(record) => {
                        let route = Rc::new(Route {
                            origin_url: record.origin_url.clone(),
                            revision: record.revision().to_owned(),
                            compiled: record.compile(),
                        });
                        log::info(
                            "route_loaded",
                            &[("key", key), ("revision", &route.revision)],
                        );
                        entry.raw = Some(text);
                        entry.route = Some(route);
                    }
                    Err(err) => {
                        // Keep `raw` as it was so that the next read of the
                        // same bad text is reported again after the TTL.
                        log::error(
                            "route_record_invalid",
                            &[
                                ("key", key),
                                ("error", &err.to_string()),
                                ("kept_revision", last_revision(&entry.route)),
                            ],
                        );
                    }
                }
                entry.route.clone()
            }
            Err(err) => {
                let entry = table.entry(key.to_owned()).or_insert(Entry {
                    checked_at: now,
                    raw: None,
                    route: None,
                });
                entry.checked_at = now;
                log::error(
                    "route_kv_unreadable",
                    &[
                        ("key", key),
                        ("error", &err.to_string()),
                        ("kept_revision", last_revision(&entry.route)),
                    ],
                );
                entry.route.clone()
            }
        }
    })
}

fn last_revision(route: &Option<Rc<Route>>) -> &str {
    route
        .as_ref()
        .map(|r| r.revision.as_str())
        .unwrap_or("(none)")
}
