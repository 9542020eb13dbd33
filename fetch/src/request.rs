//! The page's request, and what the Fetch standard derives from it: the
//! method as sent, the headers that reach the server, whether a preflight
//! goes first and what it lists.

use crate::safelist::{
    MAX_SAFELISTED_TOTAL, is_forbidden_request_header, is_safelisted_request_header,
    is_simple_method, normalize_method,
};

/// A header the page sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageHeader {
    /// The name, lower-cased (browsers lower-case it in the preflight).
    pub name: String,
    /// The value, when known (the doctor's `--header NAME` gives none). A
    /// header without one is judged by its name alone: `Accept`,
    /// `Accept-Language` and `Content-Language` are safelisted for ordinary
    /// values; `Content-Type` and `Range` are not (uploads send a file's own
    /// type, and a suffix range needs a preflight).
    pub value: Option<String>,
}

impl PageHeader {
    /// A header with a value; the name is lower-cased.
    pub fn new(name: &str, value: &str) -> PageHeader {
        PageHeader {
            name: name.trim().to_ascii_lowercase(),
            value: Some(value.trim().to_owned()),
        }
    }

    /// True when the page may send it without a preflight, on its own.
    pub fn is_safelisted(&self) -> bool {
        match self.value.as_deref() {
            Some(v) => is_safelisted_request_header(&self.name, v),
            None => matches!(
                self.name.as_str(),
                "accept" | "accept-language" | "content-language"
            ),
        }
    }
}

/// What a page asks the browser to fetch, cross-origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// The URL (only quoted in messages: redact presigned queries first).
    pub url: String,
    /// The page's origin.
    pub origin: String,
    /// The method as the browser sends it ([`normalize_method`]).
    pub method: String,
    /// The headers the page sets, forbidden ones already dropped.
    pub headers: Vec<PageHeader>,
    /// `credentials: "include"`.
    pub credentials: bool,
}

impl PageRequest {
    /// The request a page's `fetch(url, {method, headers, credentials})`
    /// makes: the method normalized, empty and forbidden header names
    /// dropped (the browser never sends those).
    pub fn new(
        url: &str,
        origin: &str,
        method: &str,
        headers: impl IntoIterator<Item = PageHeader>,
        credentials: bool,
    ) -> PageRequest {
        PageRequest {
            url: url.to_owned(),
            origin: origin.to_owned(),
            method: normalize_method(method),
            headers: headers
                .into_iter()
                .filter(|h| !h.name.is_empty() && !is_forbidden_request_header(&h.name))
                .collect(),
            credentials,
        }
    }

    /// The same request for another URL.
    pub fn at(&self, url: &str) -> PageRequest {
        PageRequest {
            url: url.to_owned(),
            ..self.clone()
        }
    }

    /// The header names that need a preflight, lower-cased, sorted and
    /// without duplicates: what Chromium lists in
    /// `Access-Control-Request-Headers`. Safelisted values count toward a
    /// 1,024-byte total; past it, all of them need one (Fetch: "CORS-unsafe
    /// request-header names").
    pub fn unsafe_headers(&self) -> Vec<String> {
        let total: usize = self
            .headers
            .iter()
            .filter(|h| h.is_safelisted())
            .map(|h| h.value.as_deref().map_or(0, str::len))
            .sum();
        let mut names: Vec<String> = self
            .headers
            .iter()
            .filter(|h| !h.is_safelisted() || total > MAX_SAFELISTED_TOTAL)
            .map(|h| h.name.clone())
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// True when the browser sends a preflight first: a method that is not
    /// safelisted, or a header that needs one.
    pub fn needs_preflight(&self) -> bool {
        !is_simple_method(&self.method) || !self.unsafe_headers().is_empty()
    }

    /// The `Access-Control-Request-Headers` value (`None` when empty).
    pub fn request_headers_value(&self) -> Option<String> {
        let names = self.unsafe_headers();
        (!names.is_empty()).then(|| names.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(method: &str, headers: &[(&str, &str)]) -> PageRequest {
        PageRequest::new(
            "https://b.example/o",
            "https://app.example",
            method,
            headers.iter().map(|(n, v)| PageHeader::new(n, v)),
            false,
        )
    }

    #[test]
    fn a_preflight_is_sent_for_unsafe_methods_and_headers() {
        assert!(!page("GET", &[("Accept", "*/*")]).needs_preflight());
        assert!(page("get", &[("X-Custom", "1")]).needs_preflight());
        assert!(page("put", &[]).needs_preflight());
        assert_eq!(page("put", &[]).method, "PUT");
        assert_eq!(
            page("PUT", &[("X-B", "1"), ("x-a", "1"), ("x-b", "2")]).request_headers_value(),
            Some("x-a,x-b".into())
        );
    }

    #[test]
    fn forbidden_headers_never_leave_the_page() {
        let p = page(
            "GET",
            &[("Origin", "https://evil.example"), ("Cookie", "a=b")],
        );
        assert!(p.headers.is_empty());
        assert!(!p.needs_preflight());
    }

    #[test]
    fn safelisted_values_past_the_total_need_a_preflight() {
        let long = "a".repeat(100);
        let many: Vec<(String, String)> = (0..11)
            .map(|_| ("accept".to_owned(), long.clone()))
            .collect();
        let p = PageRequest::new(
            "https://b.example/o",
            "https://app.example",
            "GET",
            many.iter().map(|(n, v)| PageHeader::new(n, v)),
            false,
        );
        assert_eq!(p.unsafe_headers(), vec!["accept".to_owned()]);
    }
}
