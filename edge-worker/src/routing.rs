//! Which route a request belongs to.
//!
//! A route is a host name, optionally narrowed by one leading path segment
//! (`cdn.example.com` or `cdn.example.com/assets`). Limiting the prefix to one
//! segment keeps the lookup to at most two KV keys per request, both of which
//! repeat across requests and so stay in the isolate's record cache; deeper
//! prefixes would make every distinct object path a new KV miss. The more
//! specific route wins. The key format itself lives in the engine
//! (`edge_record::route_key`) so that the publisher and the worker agree.
//!
//! Which candidates exist is decided by the host's routes record
//! (`edge_record::HostRoutes`): a prefix the host does not list is never
//! looked up, so random first segments cost no KV read.

use bucketcors_engine::edge_record::{HostRoutes, route_key};

/// The parts of a request URL routing needs, borrowed from the URL string.
///
/// The runtime hands the worker an already normalised absolute URL
/// (lower-case host, percent-encoded path), so splitting it is enough; not
/// linking a full URL parser keeps its Unicode tables out of the wasm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestUrl<'a> {
    /// Host name without port (`[::1]` for IPv6 literals).
    pub host: &'a str,
    /// Path, starting with `/`.
    pub path: &'a str,
    /// Query without `?`.
    pub query: Option<&'a str>,
}

impl<'a> RequestUrl<'a> {
    /// Splits an absolute `scheme://authority/path?query#fragment` URL.
    pub fn parse(url: &'a str) -> RequestUrl<'a> {
        let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
        let rest = rest.split('#').next().unwrap_or("");
        let (authority, path_query) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => match rest.find('?') {
                Some(i) => (&rest[..i], &rest[i..]),
                None => (rest, ""),
            },
        };
        let authority = authority.rsplit('@').next().unwrap_or("");
        let host = if authority.starts_with('[') {
            authority.split_inclusive(']').next().unwrap_or(authority)
        } else {
            authority.split(':').next().unwrap_or(authority)
        };
        let (path, query) = match path_query.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path_query, None),
        };
        RequestUrl {
            host,
            path: if path.is_empty() { "/" } else { path },
            query,
        }
    }
}

/// One candidate route for a request, most specific first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The KV key of the route's record.
    pub key: String,
    /// The path prefix this candidate consumes (`/assets`), empty for a
    /// host-only route.
    pub prefix: String,
}

/// The first path segment of `url` when it can be a route prefix: a
/// single-segment path (`/photo.jpg`) is an object of a host route, so only
/// a segment followed by `/` counts.
pub fn prefix_segment<'a>(url: &RequestUrl<'a>) -> Option<&'a str> {
    let rest = url.path.trim_start_matches('/');
    let first = rest.split('/').next().unwrap_or("");
    (!first.is_empty() && rest.len() > first.len()).then_some(first)
}

/// The candidate routes for `url` that `routes` lists, most specific
/// first: host plus first path segment, then host. Without a routes record
/// (`None`) only the host's own route is a candidate.
pub fn candidates(url: &RequestUrl<'_>, routes: Option<&HostRoutes>) -> Vec<Candidate> {
    let host = url.host;
    let mut out = Vec::with_capacity(2);
    if let (Some(first), Some(routes)) = (prefix_segment(url), routes)
        && routes.has(Some(first))
        && let Ok(key) = route_key(host, Some(first))
    {
        out.push(Candidate {
            key,
            prefix: format!("/{first}"),
        });
    }
    if routes.is_none_or(|r| r.host_route)
        && let Ok(key) = route_key(host, None)
    {
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
    fn urls_split_into_host_path_query() {
        let u = RequestUrl::parse("http://s3.edge.test:8787/a/b.png?x=1&y=2");
        assert_eq!(
            (u.host, u.path, u.query),
            ("s3.edge.test", "/a/b.png", Some("x=1&y=2"))
        );
        let u = RequestUrl::parse("https://[::1]:443?q");
        assert_eq!((u.host, u.path, u.query), ("[::1]", "/", Some("q")));
        let u = RequestUrl::parse("http://h/");
        assert_eq!((u.host, u.path, u.query), ("h", "/", None));
    }

    #[test]
    fn only_listed_prefixes_are_candidates() {
        let url = RequestUrl::parse("http://h.test/assets/a.png");
        let keys = |routes: Option<&HostRoutes>| -> Vec<String> {
            candidates(&url, routes)
                .into_iter()
                .map(|c| c.key)
                .collect()
        };
        assert_eq!(keys(None), ["route:h.test"]);
        let mut routes = HostRoutes::default();
        assert!(keys(Some(&routes)).is_empty());
        routes.set(Some("media"), true);
        assert!(
            keys(Some(&routes)).is_empty(),
            "an unlisted prefix costs nothing"
        );
        routes.set(Some("assets"), true);
        routes.set(None, true);
        assert_eq!(keys(Some(&routes)), ["route:h.test/assets", "route:h.test"]);
        let object = RequestUrl::parse("http://h.test/assets");
        assert_eq!(prefix_segment(&object), None);
    }

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
