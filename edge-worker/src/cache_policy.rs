//! What may enter the shared body cache: only what is public.
//!
//! The body cache is shared by every client of a route, so an answer stored
//! there is served to anyone who asks for the same URL, however they are
//! (or are not) authorised. Two things must both hold before an answer is
//! stored or a stored one served:
//!
//! - **The request carries no credentials** ([`request_credential`]): no
//!   `Authorization`, no `Cookie`, and no signature in the query string
//!   (S3 `X-Amz-Signature`/`X-Amz-Credential`, OSS V1
//!   `Signature`/`OSSAccessKeyId`, OSS V4
//!   `x-oss-signature`/`x-oss-credential`, and the security tokens that go
//!   with them). A presigned URL is a bearer credential with an expiry: a
//!   copy served from the cache would outlive it, and would hand a private
//!   object to whoever learns the URL. `Range` requests are partial and
//!   pass too.
//! - **The origin marks the answer cacheable for everyone**
//!   ([`storability`]): `200`, no `Set-Cookie`, and a `Cache-Control` with
//!   `public`, `s-maxage` or `max-age` (a positive lifetime) and without
//!   `private`, `no-store` or `no-cache`. An answer without any of those
//!   marks is [`Storable::Unmarked`]: stored only when the route opts in
//!   (`cacheUnmarked` in its record), since a bucket that says nothing may
//!   be private.
//!
//! Pure functions of strings, so the host build tests them.

/// Query parameters that make a URL a credential (lower-case; compared
/// without regard to case, after percent-decoding the name).
pub const SIGNATURE_PARAMS: [&str; 10] = [
    // S3 SigV4 presigned URLs.
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
    // OSS V1 signed URLs.
    "signature",
    "ossaccesskeyid",
    "security-token",
    // OSS V4 signed URLs.
    "x-oss-signature",
    "x-oss-credential",
    "x-oss-security-token",
    // S3 SigV2 presigned URLs (`AWSAccessKeyId` + `Signature`).
    "awsaccesskeyid",
];

/// Request headers that make a request personal or partial.
const PERSONAL_HEADERS: [&str; 3] = ["authorization", "cookie", "range"];

/// Why a request may not use the shared cache, or `None` when it may:
/// the name of the credential header or query parameter found (never its
/// value). `header_names` are the request's header names, lower-case.
pub fn request_credential<'a>(
    method: &str,
    header_names: impl IntoIterator<Item = &'a str>,
    query: Option<&str>,
) -> Option<&'static str> {
    if method != "GET" {
        return Some("method");
    }
    for name in header_names {
        if let Some(found) = PERSONAL_HEADERS.iter().find(|h| **h == name) {
            return Some(found);
        }
    }
    query.and_then(signature_param)
}

/// The first signature parameter in `query` (without `?`), if any.
pub fn signature_param(query: &str) -> Option<&'static str> {
    query.split('&').find_map(|pair| {
        let name = pair.split('=').next().unwrap_or("");
        let name = percent_decoded_lower(name);
        SIGNATURE_PARAMS.iter().copied().find(|p| *p == name)
    })
}

/// `name` with `%XX` escapes decoded and ASCII lower-cased (a name spelled
/// `X%2DAmz-Signature` is still a signature).
fn percent_decoded_lower(name: &str) -> String {
    let bytes = name.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).and_then(|b| (*b as char).to_digit(16)),
                bytes.get(i + 2).and_then(|b| (*b as char).to_digit(16)),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).to_ascii_lowercase()
}

/// What the origin's answer allows the shared cache to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storable {
    /// Marked cacheable for everyone, with its own lifetime.
    Public,
    /// Marked `public` without a lifetime: stored for the body-cache TTL.
    PublicWithoutLifetime,
    /// No caching marks at all: stored only when the route opts in.
    Unmarked,
    /// Must not be stored: not `200`, `Set-Cookie`, `private`, `no-store`,
    /// `no-cache` or a zero lifetime.
    No,
}

/// How the answer with `status`, a `Set-Cookie` (or not) and
/// `cache_control` (the header's value, if sent) may be stored; see the
/// module docs. `s-maxage` is the shared caches' lifetime and overrides
/// `max-age`.
pub fn storability(status: u16, set_cookie: bool, cache_control: Option<&str>) -> Storable {
    if status != 200 || set_cookie {
        return Storable::No;
    }
    let Some(cache_control) = cache_control else {
        return Storable::Unmarked;
    };
    let (mut public, mut max_age, mut s_maxage) = (false, None, None);
    for directive in cache_control.split(',') {
        let (name, value) = match directive.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim().trim_matches('"'))),
            None => (directive.trim(), None),
        };
        let name = name.to_ascii_lowercase();
        match name.as_str() {
            "private" | "no-store" | "no-cache" => return Storable::No,
            "public" => public = true,
            "max-age" => max_age = Some(seconds(value)),
            "s-maxage" => s_maxage = Some(seconds(value)),
            _ => {}
        }
    }
    match s_maxage.or(max_age) {
        Some(Some(lifetime)) if lifetime > 0 => Storable::Public,
        // A zero or unreadable lifetime: stale at once.
        Some(_) => Storable::No,
        None if public => Storable::PublicWithoutLifetime,
        None => Storable::Unmarked,
    }
}

/// A delta-seconds value (RFC 9111 section 1.2.2), `None` when unreadable.
fn seconds(value: Option<&str>) -> Option<u64> {
    let value = value?;
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Longer than u64: "a very large number" is as good as the largest.
    Some(value.parse().unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presigned_and_personal_requests_never_share() {
        let none: [&str; 0] = [];
        assert_eq!(request_credential("GET", none, None), None);
        assert_eq!(request_credential("GET", ["accept"], Some("v=1")), None);
        assert_eq!(request_credential("HEAD", none, None), Some("method"));
        assert_eq!(
            request_credential("GET", ["authorization"], None),
            Some("authorization")
        );
        assert_eq!(request_credential("GET", ["cookie"], None), Some("cookie"));
        assert_eq!(request_credential("GET", ["range"], None), Some("range"));
        for (query, param) in [
            (
                "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=GK%2F2026&X-Amz-Signature=ab",
                "x-amz-credential",
            ),
            ("x-amz-signature=ab", "x-amz-signature"),
            (
                "OSSAccessKeyId=LT&Expires=1&Signature=a%2Bb",
                "ossaccesskeyid",
            ),
            ("Expires=1&Signature=a%2Bb", "signature"),
            (
                "x-oss-signature-version=OSS4-HMAC-SHA256&x-oss-credential=LT",
                "x-oss-credential",
            ),
            ("x-oss-signature=ab", "x-oss-signature"),
            ("X%2DAmz-Signature=ab", "x-amz-signature"),
            ("AWSAccessKeyId=AK&Signature=x", "awsaccesskeyid"),
        ] {
            assert_eq!(signature_param(query), Some(param), "{query}");
            assert_eq!(
                request_credential("GET", none, Some(query)),
                Some(param),
                "{query}"
            );
        }
        // A parameter merely containing a signature name is not one.
        assert_eq!(signature_param("my-signature=1&signatures=2"), None);
    }

    #[test]
    fn only_answers_marked_public_are_stored() {
        use Storable::*;
        for (status, cookie, cc, expected) in [
            (200, false, None, Unmarked),
            (200, false, Some("must-revalidate"), Unmarked),
            (200, false, Some("public"), PublicWithoutLifetime),
            (200, false, Some("public, max-age=60"), Public),
            (200, false, Some("max-age=60"), Public),
            (200, false, Some("s-maxage=30"), Public),
            (200, false, Some("Max-Age=\"60\""), Public),
            (200, false, Some("max-age=0"), No),
            (200, false, Some("max-age=60, s-maxage=0"), No),
            (200, false, Some("s-maxage=60, max-age=0"), Public),
            (200, false, Some("max-age=x"), No),
            (200, false, Some("public, max-age=60, private"), No),
            (200, false, Some("private=\"set-cookie\""), No),
            (200, false, Some("no-store"), No),
            (200, false, Some("No-Cache"), No),
            (200, true, Some("public, max-age=60"), No),
            (206, false, Some("public, max-age=60"), No),
            (403, false, None, No),
        ] {
            assert_eq!(storability(status, cookie, cc), expected, "{status} {cc:?}");
        }
    }
}
