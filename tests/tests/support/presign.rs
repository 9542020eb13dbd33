//! Presigned Garage S3 URLs, addressed to the edge.
//!
//! A private bucket behind the edge is read and written by browsers through
//! presigned URLs: the signature travels in the query string, the worker
//! forwards path and query unchanged to the route's origin
//! (`http://127.0.0.1:S3PORT/BUCKET`, path-style), and workerd sends the
//! origin's own `Host`, the one the URL was signed for. So a URL presigned
//! for Garage's S3 endpoint works through the edge once its scheme, host and
//! bucket segment are swapped for the edge's.

use std::time::Duration;

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region, RequestChecksumCalculation};
use aws_sdk_s3::presigning::PresigningConfig;
use bucketcors_testkit::garage::Garage;

/// What to presign.
#[derive(Debug, Clone, Copy)]
pub enum Presign<'a> {
    /// `GET bucket/key`.
    Get,
    /// `PUT bucket/key` with `x-amz-meta-NAME: VALUE` signed in (the browser
    /// must send exactly that header).
    PutWithMeta(&'a str, &'a str),
}

/// A URL for `op` on `bucket/key` at Garage's S3 endpoint (path-style),
/// signed with the node's key, valid for an hour.
pub fn signed_url(garage: &Garage, op: Presign<'_>, bucket: &str, key: &str) -> String {
    let k = garage.key();
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(garage.region()))
        .endpoint_url(garage.endpoint())
        .force_path_style(true)
        // No checksum parameters in the URL: the browser's body is the only
        // payload, and an SDK-computed checksum of an empty body would not match it.
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .credentials_provider(Credentials::new(
            &k.access_key_id,
            &k.secret_access_key,
            None,
            None,
            "garage-test",
        ))
        .build();
    let client = aws_sdk_s3::Client::from_conf(config);
    let expires = PresigningConfig::expires_in(Duration::from_secs(3600)).expect("expiry");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let signed = runtime.block_on(async {
        match op {
            Presign::Get => client
                .get_object()
                .bucket(bucket)
                .key(key)
                .presigned(expires)
                .await
                .map(|r| r.uri().to_owned())
                .map_err(|e| e.to_string()),
            Presign::PutWithMeta(name, value) => client
                .put_object()
                .bucket(bucket)
                .key(key)
                .metadata(name, value)
                .presigned(expires)
                .await
                .map(|r| r.uri().to_owned())
                .map_err(|e| e.to_string()),
        }
    });
    signed.unwrap_or_else(|e| panic!("presigning {bucket}/{key}: {e}"))
}

/// [`signed_url`] rewritten to go through the edge at `edge_base`
/// (`http://HOST:PORT`, a route whose origin is `ENDPOINT/BUCKET`).
pub fn via_edge(garage: &Garage, signed: &str, bucket: &str, edge_base: &str) -> String {
    let prefix = format!("{}/{bucket}", garage.endpoint());
    let rest = signed
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("presigned URL {signed} does not start with {prefix}"));
    format!("{edge_base}{rest}")
}
