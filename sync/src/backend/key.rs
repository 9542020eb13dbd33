//! The one canonical name of a bucket, so that two specs naming the same
//! bucket are recognised as such however they spell it.
//!
//! A bucket is its provider, the endpoint it is reached at (resolved as the
//! backends resolve it: scheme and host lower-cased, default port and
//! trailing `/` dropped, the provider's public endpoint when none is
//! given), its region (the endpoint's own for OSS when the spec has none)
//! and its name. Path-style or virtual-hosted addressing is how the bucket
//! is reached, not which bucket it is, so it is not part of the key.

use super::endpoint::Endpoint;
use super::{BackendSettings, Provider};

/// A bucket's canonical identity; equal keys name one bucket.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BucketKey {
    /// `oss` or `s3`.
    pub provider: &'static str,
    /// `scheme://host[:port][/path]`, canonical.
    pub endpoint: String,
    /// The region, lower-cased; empty when neither the spec nor the
    /// endpoint names one.
    pub region: String,
    /// The bucket name.
    pub bucket: String,
}

impl BucketKey {
    /// The key of `bucket` as `settings` reach it; an error (naming the
    /// endpoint) exactly when the backend could not reach it either.
    pub fn of(settings: &BackendSettings, bucket: &str) -> Result<BucketKey, String> {
        let endpoint = Endpoint::resolve(
            settings.provider,
            settings.endpoint.as_deref(),
            settings.region.as_deref(),
            settings.path_style,
        )?;
        let region = match (&settings.region, settings.provider) {
            (Some(region), _) => region.to_ascii_lowercase(),
            (None, Provider::Oss) => endpoint.region().unwrap_or_default(),
            (None, Provider::S3) => String::new(),
        };
        Ok(BucketKey {
            provider: settings.provider.as_str(),
            endpoint: format!(
                "{}://{}{}",
                endpoint.scheme,
                endpoint.authority.to_ascii_lowercase(),
                endpoint.path
            ),
            region,
            bucket: bucket.to_owned(),
        })
    }
}

impl std::fmt::Display for BucketKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} bucket `{}` at {}{}",
            self.provider,
            self.bucket,
            self.endpoint,
            if self.region.is_empty() {
                String::new()
            } else {
                format!(" ({})", self.region)
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(
        provider: Provider,
        endpoint: Option<&str>,
        region: Option<&str>,
    ) -> BackendSettings {
        BackendSettings {
            provider,
            endpoint: endpoint.map(str::to_owned),
            region: region.map(str::to_owned),
            path_style: false,
        }
    }

    /// Spellings of one bucket are one key; another region, endpoint,
    /// provider or name is another bucket.
    #[test]
    fn spellings_of_one_bucket_are_one_key() {
        let key = |p, e, r| BucketKey::of(&settings(p, e, r), "b").unwrap();
        let s3 = key(Provider::S3, Some("http://127.0.0.1:3900"), Some("garage"));
        assert_eq!(
            key(Provider::S3, Some("http://127.0.0.1:3900/"), Some("garage")),
            s3
        );
        let mut path_style = settings(Provider::S3, Some("http://127.0.0.1:3900"), Some("garage"));
        path_style.path_style = true;
        assert_eq!(BucketKey::of(&path_style, "b").unwrap(), s3);
        assert_eq!(
            key(
                Provider::S3,
                Some("https://S3.EU-WEST-1.amazonaws.com:443"),
                Some("eu-west-1")
            ),
            key(Provider::S3, None, Some("eu-west-1")),
        );
        assert_eq!(
            key(Provider::Oss, Some("oss-cn-hangzhou.aliyuncs.com"), None),
            key(Provider::Oss, None, Some("cn-hangzhou")),
        );
        assert_ne!(
            key(Provider::S3, Some("http://127.0.0.1:3900"), Some("other")),
            s3
        );
        assert_ne!(
            key(Provider::S3, Some("http://127.0.0.1:3901"), Some("garage")),
            s3
        );
        assert_ne!(
            BucketKey::of(
                &settings(Provider::S3, Some("http://127.0.0.1:3900"), Some("garage")),
                "c"
            )
            .unwrap(),
            s3
        );
    }
}
