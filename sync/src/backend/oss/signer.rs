//! OSS Signature Version 4 (`OSS4-HMAC-SHA256`).
//!
//! No maintained Rust crate implements OSS V4, so it is done here with
//! `hmac` and `sha2`, following the spec's section 6 (OSS "Signature version
//! 4" document). The signer is a pure function of the request parts, the
//! credentials and the time, so the official example is reproduced exactly
//! in a unit test and the fake-OSS tests can recompute what the client sent.
//!
//! Shape of the work:
//! 1. canonical request: verb, `/{bucket}/{key}` URI-encoded, sorted query,
//!    the always-signed headers (`x-oss-*`, `content-type`, `content-md5`)
//!    plus the additional headers (such as `host`), a blank line, the
//!    additional header names, and the payload hash (`UNSIGNED-PAYLOAD`);
//! 2. string to sign: algorithm, timestamp, scope, SHA-256 of step 1;
//! 3. signing key: HMAC chain from `"aliyun_v4" + secret` over date, region,
//!    `oss`, `aliyun_v4_request`;
//! 4. `Authorization: OSS4-HMAC-SHA256 Credential=..., AdditionalHeaders=..., Signature=...`.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::macros::format_description;

/// The only payload hash OSS V4 accepts.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// Algorithm name in the `Authorization` header and the string to sign.
pub const ALGORITHM: &str = "OSS4-HMAC-SHA256";

/// The parts of a request that the signature covers.
#[derive(Debug, Clone)]
pub struct SignableRequest<'a> {
    /// HTTP method, upper case.
    pub method: &'a str,
    /// Bucket name; `None` for service-level requests.
    pub bucket: Option<&'a str>,
    /// Object key; `None` for bucket-level requests such as `?cors`.
    pub key: Option<&'a str>,
    /// Query parameters, unencoded; a `None` value is a bare key (`cors`).
    pub query: &'a [(&'a str, Option<&'a str>)],
    /// Every header the request carries (any case). Only the always-signed
    /// ones and the `additional_headers` enter the signature.
    pub headers: &'a [(&'a str, &'a str)],
    /// Optional headers to sign too, lower case (for example `host`).
    pub additional_headers: &'a [&'a str],
}

/// Timestamps in the two forms V4 uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningTime {
    /// `yyyymmddTHHMMSSZ`, the `x-oss-date` value.
    pub datetime: String,
    /// `yyyymmdd`, used in the scope.
    pub date: String,
}

impl SigningTime {
    /// Formats `at` (converted to UTC).
    pub fn new(at: OffsetDateTime) -> SigningTime {
        let at = at.to_offset(time::UtcOffset::UTC);
        let datetime = at
            .format(format_description!(
                "[year][month][day]T[hour][minute][second]Z"
            ))
            .expect("a UTC timestamp always formats");
        let date = datetime[..8].to_owned();
        SigningTime { datetime, date }
    }
}

/// The result of signing: the header value plus the intermediate strings
/// (kept for tests and for debugging `SignatureDoesNotMatch`; they hold no
/// secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// The whole `Authorization` header value.
    pub authorization: String,
    /// Hex signature.
    pub signature: String,
    /// The canonical request that was hashed.
    pub canonical_request: String,
    /// The string that was signed.
    pub string_to_sign: String,
}

/// Signs `request`. The request must already carry `x-oss-date` (equal to
/// `time.datetime`), `x-oss-content-sha256: UNSIGNED-PAYLOAD` and, with
/// temporary credentials, `x-oss-security-token`: those are signed as any
/// `x-oss-*` header.
pub fn sign(
    request: &SignableRequest<'_>,
    access_key_id: &str,
    access_key_secret: &str,
    region: &str,
    time: &SigningTime,
) -> Signature {
    let canonical_request = canonical_request(request);
    let scope = format!("{}/{region}/oss/aliyun_v4_request", time.date);
    let string_to_sign = format!(
        "{ALGORITHM}\n{}\n{scope}\n{}",
        time.datetime,
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let key = signing_key(access_key_secret, &time.date, region);
    let signature = hex::encode(hmac(&key, string_to_sign.as_bytes()));
    let mut authorization = format!("{ALGORITHM} Credential={access_key_id}/{scope}");
    let additional = additional_header_names(request);
    if !additional.is_empty() {
        authorization.push_str(",AdditionalHeaders=");
        authorization.push_str(&additional);
    }
    authorization.push_str(",Signature=");
    authorization.push_str(&signature);
    Signature {
        authorization,
        signature,
        canonical_request,
        string_to_sign,
    }
}

/// The canonical request of step 1.
pub fn canonical_request(request: &SignableRequest<'_>) -> String {
    let mut path = String::from("/");
    if let Some(bucket) = request.bucket {
        path.push_str(bucket);
        path.push('/');
        if let Some(key) = request.key {
            path.push_str(&uri_encode(key, false));
        }
    }

    let mut query: Vec<(String, Option<String>)> = request
        .query
        .iter()
        .map(|(k, v)| {
            (
                uri_encode(k, true),
                v.filter(|v| !v.is_empty()).map(|v| uri_encode(v, true)),
            )
        })
        .collect();
    query.sort();
    let query = query
        .iter()
        .map(|(k, v)| match v {
            Some(v) => format!("{k}={v}"),
            None => k.clone(),
        })
        .collect::<Vec<_>>()
        .join("&");

    let additional = additional_set(request);
    let mut headers: Vec<(String, String)> = Vec::new();
    for (name, value) in request.headers {
        let name = name.to_ascii_lowercase();
        if !(is_default_signed(&name) || additional.contains(&name)) {
            continue;
        }
        let value = value.trim();
        // Repeated headers are joined with commas, in order of appearance.
        match headers.iter_mut().find(|(n, _)| *n == name) {
            Some((_, existing)) => {
                existing.push(',');
                existing.push_str(value);
            }
            None => headers.push((name, value.to_owned())),
        }
    }
    headers.sort();
    let mut canonical_headers = String::new();
    for (name, value) in &headers {
        canonical_headers.push_str(name);
        canonical_headers.push(':');
        canonical_headers.push_str(value);
        canonical_headers.push('\n');
    }

    format!(
        "{}\n{path}\n{query}\n{canonical_headers}\n{}\n{UNSIGNED_PAYLOAD}",
        request.method,
        additional_header_names(request)
    )
}

/// `x-oss-*`, `content-type` and `content-md5` are always signed and must
/// never be listed in `AdditionalHeaders`.
fn is_default_signed(lower_name: &str) -> bool {
    lower_name.starts_with("x-oss-") || lower_name == "content-type" || lower_name == "content-md5"
}

/// The additional headers that the request really carries, lower case,
/// sorted and deduplicated.
fn additional_set(request: &SignableRequest<'_>) -> Vec<String> {
    let mut names: Vec<String> = request
        .additional_headers
        .iter()
        .map(|n| n.to_ascii_lowercase())
        .filter(|n| !is_default_signed(n))
        .filter(|n| {
            request
                .headers
                .iter()
                .any(|(h, _)| h.eq_ignore_ascii_case(n))
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

fn additional_header_names(request: &SignableRequest<'_>) -> String {
    additional_set(request).join(";")
}

/// The V4 signing key for one day and region.
pub fn signing_key(access_key_secret: &str, date: &str, region: &str) -> Vec<u8> {
    let k = hmac(
        format!("aliyun_v4{access_key_secret}").as_bytes(),
        date.as_bytes(),
    );
    let k = hmac(&k, region.as_bytes());
    let k = hmac(&k, b"oss");
    hmac(&k, b"aliyun_v4_request")
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// RFC 3986 percent-encoding of everything but unreserved characters;
/// `/` is kept in paths (`encode_slash = false`).
pub fn uri_encode(input: &str, encode_slash: bool) -> String {
    let mut out = String::with_capacity(input.len());
    for byte in input.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            b'/' if !encode_slash => out.push('/'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The official example from OSS's "Signature version 4" document.
    #[test]
    fn official_example_reproduces() {
        let time = SigningTime::new(time::macros::datetime!(2023-12-03 12:12:12 UTC));
        assert_eq!(time.datetime, "20231203T121212Z");
        let headers = [
            ("Content-MD5", "eB5eJF1ptWaXm4bijSPyxw"),
            ("Content-Type", "text/html"),
            ("x-oss-meta-author", "alice"),
            ("x-oss-meta-magic", "abracadabra"),
            ("x-oss-date", "20231203T121212Z"),
            ("x-oss-content-sha256", "UNSIGNED-PAYLOAD"),
            ("Host", "examplebucket.oss-cn-hangzhou.aliyuncs.com"),
        ];
        let request = SignableRequest {
            method: "PUT",
            bucket: Some("examplebucket"),
            key: Some("exampleobject"),
            query: &[],
            headers: &headers,
            additional_headers: &["host"],
        };
        let signed = sign(
            &request,
            "accesskeyid",
            "accesskeysecret",
            "cn-hangzhou",
            &time,
        );
        assert_eq!(
            signed.signature,
            "4b663e424d2db9967401ff6ce1c86f8c83cabd77d9908475239d9110642c63fa"
        );
        assert_eq!(
            signed.authorization,
            "OSS4-HMAC-SHA256 Credential=accesskeyid/20231203/cn-hangzhou/oss/aliyun_v4_request,\
             AdditionalHeaders=host,Signature=4b663e424d2db9967401ff6ce1c86f8c83cabd77d9908475239d9110642c63fa"
        );
    }

    #[test]
    fn bucket_subresource_canonical_form() {
        let headers = [
            ("x-oss-date", "20240101T000000Z"),
            ("x-oss-content-sha256", "UNSIGNED-PAYLOAD"),
            ("Host", "b.oss-cn-hangzhou.aliyuncs.com"),
            ("User-Agent", "not signed"),
        ];
        let request = SignableRequest {
            method: "GET",
            bucket: Some("b"),
            key: None,
            query: &[("cors", None)],
            headers: &headers,
            additional_headers: &["host", "x-oss-date", "range"],
        };
        assert_eq!(
            canonical_request(&request),
            "GET\n/b/\ncors\nhost:b.oss-cn-hangzhou.aliyuncs.com\nx-oss-content-sha256:UNSIGNED-PAYLOAD\n\
             x-oss-date:20240101T000000Z\n\nhost\nUNSIGNED-PAYLOAD"
        );
    }

    #[test]
    fn uri_encoding_keeps_unreserved_only() {
        assert_eq!(uri_encode("a b/c+d~", false), "a%20b/c%2Bd~");
        assert_eq!(uri_encode("a/b", true), "a%2Fb");
    }
}
