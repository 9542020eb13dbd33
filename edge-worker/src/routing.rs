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

/// The candidate routes for `url`: host plus first path segment, then host.
pub fn candidates(url: &RequestUrl<'_>) -> Vec<Candidate> {
    let host = url.host;
    let mut out = Vec::with_capacity(2);
    let first = url
        .path
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or("");
    // A single-segment path (`/photo.jpg`) is an object of a host route, not a
    // prefix; only a segment followed by `/` can be a prefix.
    let has_rest = url.path.trim_start_matches('/').len() > first.len();
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
