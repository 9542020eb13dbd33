//! The Fetch standard's fixed lists. They decide when a browser sends a
//! preflight and what a page may read, whatever the server says.

/// CORS-safelisted methods: a page sends these without a preflight.
pub const SIMPLE_METHODS: [&str; 3] = ["GET", "HEAD", "POST"];

/// Methods `fetch` upper-cases when written in any case (Fetch: "normalize
/// a method"); every other method is sent exactly as written.
const NORMALIZED_METHODS: [&str; 6] = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"];

/// The method as the browser sends it: `put` becomes `PUT`, `patch` stays
/// `patch` (and so never matches an `Access-Control-Allow-Methods: PATCH`).
pub fn normalize_method(method: &str) -> String {
    NORMALIZED_METHODS
        .iter()
        .find(|m| m.eq_ignore_ascii_case(method))
        .map_or_else(|| method.to_owned(), |m| (*m).to_owned())
}

/// True for a CORS-safelisted method (after normalization).
pub fn is_simple_method(method: &str) -> bool {
    SIMPLE_METHODS.contains(&method)
}

/// The CORS-safelisted response header names, lower case: any page that
/// passed the CORS check reads these without them being exposed.
pub const SAFELISTED_RESPONSE_HEADERS: [&str; 7] = [
    "cache-control",
    "content-language",
    "content-length",
    "content-type",
    "expires",
    "last-modified",
    "pragma",
];

/// True for a CORS-safelisted response header name (any case).
pub fn is_safelisted_response_header(name: &str) -> bool {
    SAFELISTED_RESPONSE_HEADERS
        .iter()
        .any(|h| h.eq_ignore_ascii_case(name.trim()))
}

/// The longest value a safelisted request header may have (bytes); a
/// longer one makes the header need a preflight.
pub const MAX_SAFELISTED_VALUE: usize = 128;

/// The most bytes all safelisted request header values may add up to; past
/// it, every one of them needs a preflight.
pub const MAX_SAFELISTED_TOTAL: usize = 1024;

/// Fetch's "CORS-unsafe request-header byte": control bytes other than
/// tab, and `"():<>?@[\]{}` and DEL.
fn is_unsafe_byte(b: u8) -> bool {
    (b < 0x20 && b != b'\t') || b == 0x7f || b"\"():<>?@[\\]{}".contains(&b)
}

/// True when a page may send `name: value` without a preflight (Fetch:
/// "CORS-safelisted request-header"): `Accept`, `Accept-Language` and
/// `Content-Language` with plain values, `Content-Type` with one of the
/// three form types, `Range` with one simple byte range, each value at
/// most 128 bytes. `name` is lower case.
pub fn is_safelisted_request_header(name: &str, value: &str) -> bool {
    if value.len() > MAX_SAFELISTED_VALUE {
        return false;
    }
    match name {
        "accept" => !value.bytes().any(is_unsafe_byte),
        "accept-language" | "content-language" => value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b" *,-.;=".contains(&b)),
        "content-type" => {
            if value.bytes().any(is_unsafe_byte) {
                return false;
            }
            let essence = value.split(';').next().unwrap_or("").trim();
            [
                "application/x-www-form-urlencoded",
                "multipart/form-data",
                "text/plain",
            ]
            .iter()
            .any(|t| essence.eq_ignore_ascii_case(t))
        }
        "range" => is_simple_range(value),
        _ => false,
    }
}

/// Fetch's "simple range header value": `bytes=START-` or
/// `bytes=START-END` with START <= END, one range, no spaces. (A page's
/// `Range: bytes=0-10` sends no preflight; `bytes=-10` does.)
fn is_simple_range(value: &str) -> bool {
    let Some(range) = value.strip_prefix("bytes=") else {
        return false;
    };
    let Some((start, end)) = range.split_once('-') else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(start) || !(end.is_empty() || digits(end)) {
        return false;
    }
    match (start.parse::<u128>(), end.parse::<u128>()) {
        (Ok(s), Ok(e)) => s <= e,
        (Ok(_), Err(_)) => end.is_empty(),
        _ => false,
    }
}

/// Fetch's forbidden request-header names: a page's `fetch` silently drops
/// them (the browser owns them), so they never reach the server. `name` is
/// lower case.
pub fn is_forbidden_request_header(name: &str) -> bool {
    const FORBIDDEN: [&str; 21] = [
        "accept-charset",
        "accept-encoding",
        "access-control-request-headers",
        "access-control-request-method",
        "connection",
        "content-length",
        "cookie",
        "cookie2",
        "date",
        "dnt",
        "expect",
        "host",
        "keep-alive",
        "origin",
        "referer",
        "set-cookie",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "via",
    ];
    FORBIDDEN.contains(&name) || name.starts_with("proxy-") || name.starts_with("sec-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_normalized_only_for_the_six_fetch_names() {
        assert_eq!(normalize_method("put"), "PUT");
        assert_eq!(normalize_method("Delete"), "DELETE");
        assert_eq!(normalize_method("patch"), "patch");
        assert!(is_simple_method(&normalize_method("post")));
    }

    #[test]
    fn safelisted_request_headers_follow_fetch() {
        assert!(is_safelisted_request_header("accept", "application/json"));
        assert!(is_safelisted_request_header(
            "content-type",
            "text/plain; charset=utf-8"
        ));
        assert!(!is_safelisted_request_header(
            "content-type",
            "application/json"
        ));
        assert!(!is_safelisted_request_header("accept-language", "en(US)"));
        assert!(!is_safelisted_request_header("accept", &"a".repeat(129)));
        assert!(!is_safelisted_request_header(
            "x-amz-date",
            "20260101T000000Z"
        ));
        assert!(is_safelisted_request_header("range", "bytes=0-10"));
        assert!(is_safelisted_request_header("range", "bytes=5-"));
        assert!(!is_safelisted_request_header("range", "bytes=-10"));
        assert!(!is_safelisted_request_header("range", "bytes=10-5"));
        assert!(!is_safelisted_request_header("range", "bytes=0-1,3-4"));
    }
}
