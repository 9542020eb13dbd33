//! Tenancy: what a namespace may use of one shared operator.
//!
//! Many teams share one operator; the installer decides, and this type
//! enforces, three things before anything is signed, sent or published:
//!
//! - **default credentials** (the operator's own environment, Secret or
//!   workload identity, used when an object names no Secret) serve only the
//!   namespaces listed; every other namespace must name a Secret of its own;
//! - **backend endpoints** must match an allow-list (by default the
//!   providers' public endpoints), so a hostile endpoint never receives a
//!   signed request;
//! - **edge hosts** a namespace may claim are those its entry allows; a
//!   namespace without an entry may claim none.
//!
//! A namespace is only a string here: the core knows no Kubernetes. Every
//! refusal names the chart value that would allow it ([`Refusal`]).

use crate::backend::BackendSettings;
use crate::backend::endpoint::Endpoint;
use std::collections::BTreeMap;

/// Chart value listing the namespaces allowed the default credentials.
pub const DEFAULT_CREDENTIALS_VALUE: &str = "tenancy.defaultCredentialsNamespaces";
/// Chart value listing the backend endpoints allowed.
pub const ENDPOINTS_VALUE: &str = "tenancy.allowedEndpoints";
/// Chart value mapping namespaces to the edge hosts they may claim.
pub const EDGE_HOSTS_VALUE: &str = "tenancy.edgeHosts";
/// The namespace entry that applies to every namespace.
pub const EVERY_NAMESPACE: &str = "*";

/// The providers' public endpoints: AWS S3 (including China regions), OSS
/// and R2. What `tenancy.allowedEndpoints` is by default.
pub const PUBLIC_ENDPOINTS: &[&str] = &[
    "*.amazonaws.com",
    "*.amazonaws.com.cn",
    "*.aliyuncs.com",
    "*.r2.cloudflarestorage.com",
];

/// One host pattern: `example.com` is that host exactly; `*.example.com`
/// is any host below it, at a label boundary and at any depth, but not
/// `example.com` itself (as a platform team reads a wildcard: the zone's
/// children, never a look-alike such as `badexample.com`). An optional
/// `:port` restricts the pattern to that port; without it any port
/// matches. Compared case-insensitively, a trailing `.` ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPattern {
    /// The host (or, for a wildcard, the parent after `*.`), lower case.
    host: String,
    /// Children of `host` rather than `host` itself.
    wildcard: bool,
    /// The only port allowed, when given.
    port: Option<u16>,
}

impl HostPattern {
    /// Parses `host`, `*.host`, optionally followed by `:port`.
    pub fn parse(text: &str) -> Result<HostPattern, String> {
        let bad = |why: &str| format!("host pattern `{text}` {why}");
        let (rest, port) = match text.rsplit_once(':') {
            Some((host, port)) if host.ends_with(']') || !host.contains(':') => (
                host,
                Some(
                    port.parse::<u16>()
                        .map_err(|_| bad("has a port that is not a number"))?,
                ),
            ),
            _ => (text, None),
        };
        let (host, wildcard) = match rest.strip_prefix("*.") {
            Some(parent) => (parent, true),
            None => (rest, false),
        };
        let host = normalize(host);
        if host.is_empty() {
            return Err(bad("names no host"));
        }
        if host.contains('*') {
            return Err(bad("may only start with `*.`"));
        }
        if host.contains(['/', '@', '?', '#', ' ']) {
            return Err(bad("must be a host name, not a URL"));
        }
        Ok(HostPattern {
            host,
            wildcard,
            port,
        })
    }

    /// True when `host` (and `port`, when the pattern names one) match.
    pub fn matches(&self, host: &str, port: Option<u16>) -> bool {
        if self.port.is_some() && self.port != port {
            return false;
        }
        let host = normalize(host);
        if self.wildcard && self.host.is_empty() {
            // Only [`Tenancy::unrestricted`] builds this: every host.
            return true;
        }
        if self.wildcard {
            host.len() > self.host.len() + 1
                && host.ends_with(&self.host)
                && host.as_bytes()[host.len() - self.host.len() - 1] == b'.'
        } else {
            host == self.host
        }
    }
}

impl std::fmt::Display for HostPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.wildcard {
            f.write_str("*.")?;
        }
        f.write_str(&self.host)?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        Ok(())
    }
}

fn normalize(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// Why the tenancy policy refuses an object. Messages name the chart value
/// to change; they carry namespaces, hosts and endpoints, never a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The object names no Secret and its namespace may not use the
    /// operator's default credentials.
    #[error(
        "namespace `{namespace}` may not use the operator's default credentials: name a Secret of this namespace in spec.backend.credentialsSecretRef, or ask the installer to add `{namespace}` to the chart value {DEFAULT_CREDENTIALS_VALUE}"
    )]
    DefaultCredentials {
        /// The object's namespace.
        namespace: String,
    },
    /// The backend endpoint is not on the allow-list.
    #[error(
        "endpoint `{endpoint}` is not allowed by this operator (allowed: {allowed}): use an allowed endpoint, or ask the installer to add it to the chart value {ENDPOINTS_VALUE}"
    )]
    Endpoint {
        /// The endpoint as resolved (`host[:port]`).
        endpoint: String,
        /// The allow-list, for the reader.
        allowed: String,
    },
    /// The endpoint cannot be parsed, so it cannot be checked.
    #[error("spec.backend.endpoint: {0}")]
    BadEndpoint(String),
    /// An edge host the namespace may not claim.
    #[error(
        "namespace `{namespace}` may not claim edge host `{host}` (allowed here: {allowed}): remove it from spec.edge.hosts, or ask the installer to allow it for `{namespace}` in the chart value {EDGE_HOSTS_VALUE}"
    )]
    EdgeHost {
        /// The object's namespace.
        namespace: String,
        /// The host refused.
        host: String,
        /// What the namespace may claim, for the reader.
        allowed: String,
    },
}

/// The installer's tenancy policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenancy {
    /// Namespaces allowed the default credentials; `*` allows every one.
    default_credentials: Vec<String>,
    /// Endpoint patterns a backend must match.
    endpoints: Vec<HostPattern>,
    /// Namespace (or `*`) → edge host patterns.
    edge_hosts: BTreeMap<String, Vec<HostPattern>>,
}

impl Default for Tenancy {
    /// The chart's defaults: no namespace has the default credentials, the
    /// public endpoints only, no edge host for anyone.
    fn default() -> Self {
        Tenancy {
            default_credentials: Vec::new(),
            endpoints: PUBLIC_ENDPOINTS
                .iter()
                .map(|p| HostPattern::parse(p).expect("the public endpoints parse"))
                .collect(),
            edge_hosts: BTreeMap::new(),
        }
    }
}

impl Tenancy {
    /// A policy that allows everything: one team, one operator (tests, and
    /// callers that are not shared).
    pub fn unrestricted() -> Tenancy {
        Tenancy {
            default_credentials: vec![EVERY_NAMESPACE.into()],
            endpoints: vec![HostPattern {
                host: String::new(),
                wildcard: true,
                port: None,
            }],
            edge_hosts: BTreeMap::from([(
                EVERY_NAMESPACE.into(),
                vec![HostPattern {
                    host: String::new(),
                    wildcard: true,
                    port: None,
                }],
            )]),
        }
    }

    /// Allows these namespaces (`*`: every one) the default credentials.
    pub fn with_default_credentials(mut self, namespaces: Vec<String>) -> Tenancy {
        self.default_credentials = namespaces;
        self
    }

    /// Replaces the endpoint allow-list.
    pub fn with_endpoints(mut self, patterns: Vec<HostPattern>) -> Tenancy {
        self.endpoints = patterns;
        self
    }

    /// Adds edge host patterns for `namespace` (`*`: every namespace).
    pub fn with_edge_hosts(mut self, namespace: &str, patterns: Vec<HostPattern>) -> Tenancy {
        self.edge_hosts
            .entry(namespace.to_owned())
            .or_default()
            .extend(patterns);
        self
    }

    /// Every check of the policy for one object, in the order a user fixes
    /// them: the default credentials (when the object names no Secret of its
    /// own), the backend endpoint, then the edge hosts. The first refusal
    /// is returned. One place, so that the controller's reconcile and its
    /// ownership decision judge an object the same way.
    pub fn check(
        &self,
        namespace: &str,
        uses_default_credentials: bool,
        settings: &BackendSettings,
        edge_hosts: &[String],
    ) -> Result<(), Refusal> {
        if uses_default_credentials {
            self.check_default_credentials(namespace)?;
        }
        self.check_endpoint(settings)?;
        self.check_edge_hosts(namespace, edge_hosts)
    }

    /// Whether `namespace` may use the default credentials.
    pub fn check_default_credentials(&self, namespace: &str) -> Result<(), Refusal> {
        if self
            .default_credentials
            .iter()
            .any(|n| n == namespace || n == EVERY_NAMESPACE)
        {
            Ok(())
        } else {
            Err(Refusal::DefaultCredentials {
                namespace: namespace.to_owned(),
            })
        }
    }

    /// Whether the endpoint `settings` resolve to is allowed. Without an
    /// endpoint the provider's public one for the region is checked (what
    /// the backend will contact), so the defaults allow it.
    pub fn check_endpoint(&self, settings: &BackendSettings) -> Result<(), Refusal> {
        let endpoint = Endpoint::resolve(
            settings.provider,
            settings.endpoint.as_deref(),
            settings.region.as_deref(),
            settings.path_style,
        )
        .map_err(Refusal::BadEndpoint)?;
        let (host, port) = split_authority(&endpoint.authority);
        if self.endpoints.iter().any(|p| p.matches(host, port)) {
            Ok(())
        } else {
            Err(Refusal::Endpoint {
                endpoint: endpoint.authority.clone(),
                allowed: list(&self.endpoints),
            })
        }
    }

    /// Whether `namespace` may claim every one of `hosts`; the first host
    /// it may not is refused.
    pub fn check_edge_hosts(&self, namespace: &str, hosts: &[String]) -> Result<(), Refusal> {
        let allowed: Vec<&HostPattern> = [namespace, EVERY_NAMESPACE]
            .iter()
            .filter_map(|n| self.edge_hosts.get(*n))
            .flatten()
            .collect();
        for host in hosts {
            if !allowed.iter().any(|p| p.matches(host, None)) {
                return Err(Refusal::EdgeHost {
                    namespace: namespace.to_owned(),
                    host: host.clone(),
                    allowed: if allowed.is_empty() {
                        "none".into()
                    } else {
                        allowed
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    },
                });
            }
        }
        Ok(())
    }
}

fn list(patterns: &[HostPattern]) -> String {
    if patterns.is_empty() {
        return "none".into();
    }
    patterns
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `host:port` into its parts; IPv6 literals keep their brackets.
fn split_authority(authority: &str) -> (&str, Option<u16>) {
    match authority.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => (host, port.parse().ok()),
        _ => (authority, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::Provider;

    fn p(text: &str) -> HostPattern {
        HostPattern::parse(text).unwrap()
    }

    fn s3(endpoint: Option<&str>, region: Option<&str>) -> BackendSettings {
        BackendSettings {
            provider: Provider::S3,
            endpoint: endpoint.map(Into::into),
            region: region.map(Into::into),
            path_style: false,
        }
    }

    #[test]
    fn patterns_match_exact_hosts_or_children_at_a_label_boundary() {
        let cases: &[(&str, &str, Option<u16>, bool)] = &[
            ("*.example.com", "a.example.com", None, true),
            ("*.example.com", "a.b.example.com", Some(443), true),
            ("*.example.com", "A.Example.COM.", None, true),
            ("*.example.com", "example.com", None, false),
            ("*.example.com", "badexample.com", None, false),
            ("*.example.com", "example.com.evil.net", None, false),
            ("example.com", "example.com", None, true),
            ("example.com", "a.example.com", None, false),
            ("127.0.0.1", "127.0.0.1", Some(3900), true),
            ("127.0.0.1:3900", "127.0.0.1", Some(3900), true),
            ("127.0.0.1:3900", "127.0.0.1", Some(3901), false),
            ("127.0.0.1:3900", "127.0.0.1", None, false),
        ];
        for (pattern, host, port, expected) in cases {
            assert_eq!(
                p(pattern).matches(host, *port),
                *expected,
                "{pattern} vs {host}:{port:?}"
            );
        }
        for bad in ["", "*.", "a.*.com", "https://x.com", "x.com:port", "**.x"] {
            assert!(HostPattern::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(p("*.X.com:80").to_string(), "*.x.com:80");
    }

    #[test]
    fn default_credentials_serve_only_the_listed_namespaces() {
        let none = Tenancy::default();
        let err = none.check_default_credentials("team-a").unwrap_err();
        let text = err.to_string();
        assert!(text.contains(DEFAULT_CREDENTIALS_VALUE), "{text}");
        assert!(text.contains("credentialsSecretRef"), "{text}");
        let some = Tenancy::default().with_default_credentials(vec!["platform".into()]);
        assert!(some.check_default_credentials("platform").is_ok());
        assert!(some.check_default_credentials("team-a").is_err());
        let every = Tenancy::default().with_default_credentials(vec!["*".into()]);
        assert!(every.check_default_credentials("team-a").is_ok());
    }

    #[test]
    fn the_default_endpoints_are_the_providers_public_ones() {
        let policy = Tenancy::default();
        let allowed = [
            s3(None, None),
            s3(None, Some("eu-west-1")),
            s3(Some("https://s3.eu-west-1.amazonaws.com"), None),
            s3(Some("https://acct.r2.cloudflarestorage.com"), Some("auto")),
            s3(Some("https://acct.eu.r2.cloudflarestorage.com"), None),
            BackendSettings {
                provider: Provider::Oss,
                endpoint: None,
                region: Some("cn-hangzhou".into()),
                path_style: false,
            },
            BackendSettings {
                provider: Provider::Oss,
                endpoint: Some("oss-cn-beijing-internal.aliyuncs.com".into()),
                region: None,
                path_style: false,
            },
        ];
        for settings in &allowed {
            assert_eq!(policy.check_endpoint(settings), Ok(()), "{settings:?}");
        }
        for endpoint in [
            "http://127.0.0.1:3900",
            "https://amazonaws.com.evil.example",
            "https://evil-amazonaws.com",
            "https://169.254.169.254",
        ] {
            let err = policy
                .check_endpoint(&s3(Some(endpoint), None))
                .unwrap_err();
            assert!(matches!(err, Refusal::Endpoint { .. }), "{endpoint}: {err}");
            assert!(err.to_string().contains(ENDPOINTS_VALUE), "{err}");
        }
        let local = Tenancy::default().with_endpoints(vec![p("127.0.0.1:3900")]);
        assert!(
            local
                .check_endpoint(&s3(Some("http://127.0.0.1:3900"), None))
                .is_ok()
        );
        assert!(
            local
                .check_endpoint(&s3(Some("http://127.0.0.1:3901"), None))
                .is_err()
        );
        assert!(matches!(
            local.check_endpoint(&s3(Some("http://[::1"), None)),
            Err(Refusal::BadEndpoint(_))
        ));
    }

    #[test]
    fn edge_hosts_follow_the_namespace_entry_and_the_wildcard_entry() {
        let policy = Tenancy::default()
            .with_edge_hosts("team-a", vec![p("*.a.example.com"), p("a.example.com")])
            .with_edge_hosts("team-b", vec![p("cdn.b.example.com")]);
        let hosts = |h: &[&str]| h.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(
            policy
                .check_edge_hosts("team-a", &hosts(&["a.example.com", "cdn.a.example.com"]))
                .is_ok()
        );
        let err = policy
            .check_edge_hosts(
                "team-a",
                &hosts(&["cdn.a.example.com", "cdn.b.example.com"]),
            )
            .unwrap_err();
        assert_eq!(
            err,
            Refusal::EdgeHost {
                namespace: "team-a".into(),
                host: "cdn.b.example.com".into(),
                allowed: "*.a.example.com, a.example.com".into(),
            }
        );
        assert!(err.to_string().contains(EDGE_HOSTS_VALUE));
        // A namespace without an entry may claim nothing.
        let err = policy
            .check_edge_hosts("team-c", &hosts(&["x.example.com"]))
            .unwrap_err();
        assert!(err.to_string().contains("allowed here: none"), "{err}");
        assert!(policy.check_edge_hosts("team-c", &[]).is_ok());
        // The `*` entry applies to every namespace, in addition to its own.
        let shared = policy.with_edge_hosts("*", vec![p("*.preview.example.com")]);
        assert!(
            shared
                .check_edge_hosts("team-c", &hosts(&["pr-1.preview.example.com"]))
                .is_ok()
        );
        assert!(
            shared
                .check_edge_hosts(
                    "team-b",
                    &hosts(&["cdn.b.example.com", "x.preview.example.com"])
                )
                .is_ok()
        );
    }

    #[test]
    fn unrestricted_allows_everything() {
        let policy = Tenancy::unrestricted();
        assert!(policy.check_default_credentials("any").is_ok());
        assert!(
            policy
                .check_endpoint(&s3(Some("http://127.0.0.1:1"), None))
                .is_ok()
        );
        assert!(policy.check_edge_hosts("any", &["x.y".into()]).is_ok());
    }
}
