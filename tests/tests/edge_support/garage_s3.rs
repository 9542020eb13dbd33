//! A real Garage bucket behind the edge, reached with the AWS SDK: objects
//! uploaded with the caching headers a test needs, and GETs presigned the
//! way private buckets are read from browsers (the signature, credential
//! and expiry in the query string).
//!
//! The route's origin is Garage's S3 endpoint path-style
//! (`http://127.0.0.1:S3PORT/BUCKET`), and workerd sends that origin's own
//! `Host`, the one the URL is signed for; so a URL presigned for Garage is
//! sent to the edge with only scheme, authority and bucket segment changed
//! ([`Presigned::edge_path`]).

use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use bucketcors_testkit::garage::Garage;

/// Uploads `body` as `bucket/key`, with `Cache-Control: cache_control`
/// stored on the object when given (Garage answers GETs with it).
pub async fn put(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    body: &str,
    cache_control: Option<&str>,
) {
    let mut put = client
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(body.as_bytes().to_vec()));
    if let Some(cc) = cache_control {
        put = put.cache_control(cc);
    }
    put.send()
        .await
        .unwrap_or_else(|e| panic!("uploading {bucket}/{key} to Garage: {e:?}"));
}

/// A presigned GET of one object.
#[derive(Debug, Clone)]
pub struct Presigned {
    /// The URL as signed, for Garage's S3 endpoint.
    pub url: String,
    /// The path and query after `ENDPOINT/BUCKET`: what is sent to the edge.
    pub edge_path: String,
    /// The `X-Amz-Signature` value (64 hex digits).
    pub signature: String,
    /// The `X-Amz-Credential` value as it appears in the URL.
    pub credential: String,
}

/// Presigns `GET bucket/key` for `expires`.
pub async fn presign_get(
    garage: &Garage,
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    expires: Duration,
) -> Presigned {
    let config = PresigningConfig::expires_in(expires).expect("expiry");
    let url = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .presigned(config)
        .await
        .unwrap_or_else(|e| panic!("presigning {bucket}/{key}: {e:?}"))
        .uri()
        .to_owned();
    let prefix = format!("{}/{bucket}", garage.endpoint());
    let edge_path = url
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("presigned URL {url} does not start with {prefix}"))
        .to_owned();
    let param = |name: &str| {
        url.split(['?', '&'])
            .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("presigned URL without {name}: {url}"))
            .to_owned()
    };
    Presigned {
        signature: param("X-Amz-Signature"),
        credential: param("X-Amz-Credential"),
        url,
        edge_path,
    }
}
