//! Where a bucket is: the endpoint as the backends parse it, and the
//! bucket's own URL derived from it, in one place.
//!
//! The OSS client sends its requests to [`Endpoint::cors_url`], the S3
//! backend hands the same endpoint (a bare host meaning `https`) to the AWS
//! SDK, and the edge forwards actual requests to [`bucket_url`]: so the
//! origin the edge is given is the bucket the backend writes, by
//! construction. Addressing follows the providers: virtual-hosted
//! `{scheme}://{bucket}.{host}` by default, path-style
//! `{scheme}://{host}/{bucket}` when asked for (Garage, RGW, IP addresses);
//! without an endpoint, the provider's public one for the region.

use super::{BackendSettings, Provider};

/// An endpoint with a scheme: `https://` is prefixed to a bare host.
pub fn with_scheme(endpoint: &str) -> String {
    if endpoint.contains("://") {
        endpoint.to_owned()
    } else {
        format!("https://{endpoint}")
    }
}

/// Where a provider is and how to address buckets there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `https` or `http`.
    pub scheme: String,
    /// Host, with `:port` when not the scheme's default.
    pub authority: String,
    /// A path prefix in front of every bucket (`/rgw`), empty for none,
    /// never ending in `/`. OSS has none.
    pub path: String,
    /// `{endpoint}/{bucket}` instead of `{bucket}.{endpoint}`.
    pub path_style: bool,
}

impl Endpoint {
    /// Parses `oss-cn-hangzhou.aliyuncs.com`, `https://...` or
    /// `http://127.0.0.1:9000`; a bare host means `https`. A trailing `/` is
    /// ignored; a query is refused.
    pub fn parse(endpoint: &str, path_style: bool) -> Result<Endpoint, String> {
        let url = url::Url::parse(&with_scheme(endpoint))
            .map_err(|e| format!("endpoint `{endpoint}` is not a URL: {e}"))?;
        let host = url
            .host_str()
            .ok_or_else(|| format!("endpoint `{endpoint}` has no host"))?;
        if url.query().is_some() || url.fragment().is_some() {
            return Err(format!(
                "endpoint `{endpoint}` must be a host or scheme://host[:port], without a query"
            ));
        }
        let authority = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        Ok(Endpoint {
            scheme: url.scheme().to_owned(),
            authority,
            path: url.path().trim_end_matches('/').to_owned(),
            path_style,
        })
    }

    /// The endpoint `settings` name, else the provider's public endpoint
    /// for the region: `s3.{region}.amazonaws.com` (`s3.amazonaws.com`
    /// without a region), `oss-{region}.aliyuncs.com` (OSS needs a region).
    pub fn resolve(
        provider: Provider,
        endpoint: Option<&str>,
        region: Option<&str>,
        path_style: bool,
    ) -> Result<Endpoint, String> {
        let public = |authority: String| Endpoint {
            scheme: "https".into(),
            authority,
            path: String::new(),
            path_style,
        };
        match (endpoint, provider, region) {
            (Some(endpoint), _, _) => Endpoint::parse(endpoint, path_style),
            (None, Provider::S3, Some(region)) => Ok(public(format!("s3.{region}.amazonaws.com"))),
            (None, Provider::S3, None) => Ok(public("s3.amazonaws.com".into())),
            (None, Provider::Oss, Some(region)) => Ok(public(format!("oss-{region}.aliyuncs.com"))),
            (None, Provider::Oss, None) => Err(
                "set a region (such as cn-hangzhou) or an endpoint (such as oss-cn-hangzhou.aliyuncs.com)".into(),
            ),
        }
    }

    /// The region an `oss-{region}[-internal].aliyuncs.com` endpoint belongs to.
    pub fn region(&self) -> Option<String> {
        let host = self.authority.split(':').next()?;
        let label = host.strip_suffix(".aliyuncs.com")?.rsplit('.').next()?;
        let region = label.strip_prefix("oss-")?;
        let region = region.strip_suffix("-internal").unwrap_or(region);
        (!region.is_empty()).then(|| region.to_owned())
    }

    /// The `Host` of requests for `bucket`.
    pub fn host(&self, bucket: &str) -> String {
        if self.path_style {
            self.authority.clone()
        } else {
            format!("{bucket}.{}", self.authority)
        }
    }

    /// The bucket's own URL, without a trailing `/`.
    pub fn bucket_url(&self, bucket: &str) -> String {
        if self.path_style {
            format!("{}://{}{}/{bucket}", self.scheme, self.authority, self.path)
        } else {
            format!("{}://{bucket}.{}{}", self.scheme, self.authority, self.path)
        }
    }

    /// The URL of `bucket`'s `?cors` sub-resource.
    pub fn cors_url(&self, bucket: &str) -> String {
        format!("{}/?cors", self.bucket_url(bucket))
    }
}

/// The bucket's own URL, where the edge forwards actual requests; an error
/// (naming the endpoint) exactly when the backend could not reach it either.
pub fn bucket_url(settings: &BackendSettings, bucket: &str) -> Result<String, String> {
    Endpoint::resolve(
        settings.provider,
        settings.endpoint.as_deref(),
        settings.region.as_deref(),
        settings.path_style,
    )
    .map(|endpoint| endpoint.bucket_url(bucket))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_and_regions() {
        let e = Endpoint::parse("oss-cn-hangzhou.aliyuncs.com", false).unwrap();
        assert_eq!(
            e.cors_url("b"),
            "https://b.oss-cn-hangzhou.aliyuncs.com/?cors"
        );
        assert_eq!(e.host("b"), "b.oss-cn-hangzhou.aliyuncs.com");
        assert_eq!(e.region().as_deref(), Some("cn-hangzhou"));
        let internal =
            Endpoint::parse("https://oss-eu-central-1-internal.aliyuncs.com", false).unwrap();
        assert_eq!(internal.region().as_deref(), Some("eu-central-1"));
        let local = Endpoint::parse("http://127.0.0.1:9000", true).unwrap();
        assert_eq!(local.cors_url("b"), "http://127.0.0.1:9000/b/?cors");
        assert_eq!(local.host("b"), "127.0.0.1:9000");
        assert_eq!(local.region(), None);
        assert_eq!(Endpoint::parse("http://x/y", false).unwrap().path, "/y");
        assert!(Endpoint::parse("http://x/?a=b", false).is_err());
        assert!(Endpoint::parse("https://", false).is_err());
    }

    fn url(
        provider: Provider,
        endpoint: Option<&str>,
        region: Option<&str>,
        path_style: bool,
    ) -> String {
        let settings = BackendSettings {
            provider,
            endpoint: endpoint.map(str::to_owned),
            region: region.map(str::to_owned),
            path_style,
        };
        bucket_url(&settings, "b").unwrap()
    }

    /// The URLs the providers document for a bucket `b`: S3 virtual-hosted
    /// `https://b.s3.{region}.amazonaws.com` and path-style
    /// `{endpoint}/b`; OSS `https://b.oss-{region}.aliyuncs.com`.
    #[test]
    fn bucket_urls() {
        let cases = [
            // The two copies this replaces disagreed on these three.
            (
                Provider::S3,
                Some("127.0.0.1:3900"),
                None,
                true,
                "https://127.0.0.1:3900/b",
            ),
            (
                Provider::S3,
                Some("r2.example/"),
                None,
                false,
                "https://b.r2.example",
            ),
            (Provider::Oss, None, None, false, ""),
            // ...and agreed on these.
            (
                Provider::S3,
                Some("http://127.0.0.1:3900/"),
                None,
                true,
                "http://127.0.0.1:3900/b",
            ),
            (
                Provider::S3,
                Some("https://r2.example"),
                None,
                false,
                "https://b.r2.example",
            ),
            (
                Provider::Oss,
                Some("oss-cn-beijing.aliyuncs.com"),
                None,
                false,
                "https://b.oss-cn-beijing.aliyuncs.com",
            ),
            (
                Provider::S3,
                None,
                Some("eu-west-1"),
                false,
                "https://b.s3.eu-west-1.amazonaws.com",
            ),
            (
                Provider::S3,
                None,
                None,
                false,
                "https://b.s3.amazonaws.com",
            ),
            (
                Provider::Oss,
                None,
                Some("cn-shanghai"),
                false,
                "https://b.oss-cn-shanghai.aliyuncs.com",
            ),
            (
                Provider::S3,
                None,
                Some("eu-west-1"),
                true,
                "https://s3.eu-west-1.amazonaws.com/b",
            ),
            (
                Provider::S3,
                Some("https://rgw.example/store/"),
                None,
                true,
                "https://rgw.example/store/b",
            ),
        ];
        for (provider, endpoint, region, path_style, expected) in cases {
            if expected.is_empty() {
                let settings = BackendSettings {
                    provider,
                    endpoint: None,
                    region: None,
                    path_style,
                };
                let err = bucket_url(&settings, "b").unwrap_err();
                assert!(err.contains("set a region"), "{err}");
                continue;
            }
            assert_eq!(
                url(provider, endpoint, region, path_style),
                expected,
                "{provider:?} {endpoint:?} {region:?} {path_style}"
            );
        }
    }
}
