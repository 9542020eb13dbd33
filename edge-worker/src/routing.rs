//! Which route a request belongs to.
//!
//! A route is a host name, optionally narrowed by one leading path segment
//! (`cdn.example.com` or `cdn.example.com/assets`). Limiting the prefix to one
//! segment keeps the lookup to at most two KV keys per request, both of which
//! repeat across requests and so stay in the isolate's record cache; deeper
//! prefixes would make every distinct object path a new KV miss. The more
//! specific route wins. The key format itself lives in the engine
//! (`edge_record::route_key`) so that the publisher and the worker agree.

use bucketcors_engine::edge_record::route_key;
use worker::Url;

/// One candidate route for a request, most specific first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The KV key of the route's record.
    pub key: String,
    /// The path prefix this candidate consumes (`/assets`), empty for a
    /// host-only route.
    pub prefix: String,
}

/// The candidate routes for `url`: host plus first path segment, then host.
pub fn candidates(url: &Url) -> Vec<Candidate> {
    let host = url.host_str().unwrap_or("");
    let mut out = Vec::with_capacity(2);
    let first = url
        .path()
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or("");
    // A single-segment path (`/photo.jpg`) is an object of a host route, not a
    // prefix; only a segment followed by `/` can be a prefix.
    let has_rest = url.path().trim_start_matches('/').len() > first.len();
    if !first.is_empty()
        && has_rest
        && let Ok(key) = route_key(host, Some(first))
    {
        out.push(Candidate {
            key,
            prefix: format!("/{first}"),
        });
    }
    if let Ok(key) = route_key(host, None) {
        out.push(Candidate {
            key,
            prefix: String::new(),
        });
    }
    out
}

/// The request path below the route's prefix: what is appended to the
/// bucket's origin URL. Always starts with `/`.
pub fn path_below<'a>(path: &'a str, prefix: &str) -> &'a str {
    let rest = path.strip_prefix(prefix).unwrap_or(path);
    if rest.is_empty() { "/" } else { rest }
}

/// The URL actual requests are forwarded to: the origin URL (which may carry
/// a path, such as a path-style bucket) joined with the path below the prefix
/// and the original query string.
pub fn origin_url_for(origin: &str, path_below: &str, query: Option<&str>) -> String {
    let mut out = String::with_capacity(origin.len() + path_below.len() + 16);
    out.push_str(origin.trim_end_matches('/'));
    out.push_str(path_below);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_below_strips_the_prefix() {
        assert_eq!(path_below("/assets/a/b.png", "/assets"), "/a/b.png");
        assert_eq!(path_below("/assets", "/assets"), "/");
        assert_eq!(path_below("/x.png", ""), "/x.png");
    }

    #[test]
    fn origin_url_keeps_query_and_origin_path() {
        assert_eq!(
            origin_url_for("http://127.0.0.1:3900/bucket/", "/a b", Some("x=1")),
            "http://127.0.0.1:3900/bucket/a b?x=1"
        );
    }
}
