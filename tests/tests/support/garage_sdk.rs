//! Garage through the AWS SDK, as the tests that set a bucket's CORS
//! directly need it: a client with the node's key, and PutBucketCors of an
//! engine [`CorsConfig`] rule for rule (no bucketcors code in between, so
//! what Garage then answers is Garage's own doing).
//!
//! Also the two small builders those tests write rules with.

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::types::{CorsConfiguration, CorsRule};
use bucketcors_engine::{CorsConfig, Rule};
use bucketcors_testkit::garage::Garage;

/// An S3 client for `garage` with its node key, path-style; `who` names
/// the credentials' provider in the SDK's own logs.
pub fn client(garage: &Garage, who: &'static str) -> aws_sdk_s3::Client {
    let key = garage.key();
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(garage.region()))
        .endpoint_url(garage.endpoint())
        .force_path_style(true)
        .credentials_provider(Credentials::new(
            &key.access_key_id,
            &key.secret_access_key,
            None,
            None,
            who,
        ))
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// PutBucketCors of `config` on `bucket`; the store's error, if any.
/// Empty header lists and no max age are left out, as a user's XML would.
pub async fn put_cors(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    config: &CorsConfig,
) -> Result<(), String> {
    let rules: Vec<CorsRule> = config
        .rules
        .iter()
        .map(|r| {
            CorsRule::builder()
                .set_allowed_origins(Some(r.allowed_origins.clone()))
                .set_allowed_methods(Some(r.allowed_methods.clone()))
                .set_allowed_headers(Some(r.allowed_headers.clone()).filter(|h| !h.is_empty()))
                .set_expose_headers(Some(r.expose_headers.clone()).filter(|h| !h.is_empty()))
                .set_max_age_seconds(r.max_age_seconds.map(|s| s as i32))
                .build()
                .expect("a rule with origins and methods")
        })
        .collect();
    let cors = CorsConfiguration::builder()
        .set_cors_rules(Some(rules))
        .build()
        .expect("a configuration with rules");
    client
        .put_bucket_cors()
        .bucket(bucket)
        .cors_configuration(cors)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| format!("{e:?}"))
}

/// A rule allowing `origins` to use `methods` with `headers`.
pub fn rule(origins: &[&str], methods: &[&str], headers: &[&str]) -> Rule {
    Rule {
        allowed_origins: origins.iter().map(|s| s.to_string()).collect(),
        allowed_methods: methods.iter().map(|s| s.to_string()).collect(),
        allowed_headers: headers.iter().map(|s| s.to_string()).collect(),
        ..Rule::default()
    }
}

/// A configuration of `rules`, without OSS `ResponseVary`.
pub fn config(rules: Vec<Rule>) -> CorsConfig {
    CorsConfig {
        rules,
        response_vary: false,
    }
}
