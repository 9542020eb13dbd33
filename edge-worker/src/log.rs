//! Structured logs: one JSON object per line on the Workers console, with an
//! `event` name and string fields, so `wrangler tail` output can be filtered.

fn line(level: &str, event: &str, fields: &[(&str, &str)]) -> String {
    let mut obj = serde_json::Map::new();
    obj.insert("level".into(), level.into());
    obj.insert("event".into(), event.into());
    for (k, v) in fields {
        obj.insert((*k).into(), (*v).into());
    }
    serde_json::Value::Object(obj).to_string()
}

/// An informational event.
pub fn info(event: &str, fields: &[(&str, &str)]) {
    worker::console_log!("{}", line("info", event, fields));
}

/// Something went wrong but the worker carried on.
pub fn error(event: &str, fields: &[(&str, &str)]) {
    worker::console_error!("{}", line("error", event, fields));
}
