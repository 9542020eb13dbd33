//! Backend targets: the stores that speak a dialect, and how each one
//! departs from it.
//!
//! A [`Dialect`] is what bucketcors reproduces (S3's or OSS's documented
//! and recorded answers). The stores behind the S3 API do not all answer
//! that way, and some refuse parts of it. [`Target`] names a store;
//! [`Target::capability`] is its row in the capability table
//! ([`table`]), every entry with the source it comes from (docs, source
//! code, an issue thread, or a test in this repository against the real
//! store). [`check`] turns the table into lints for one configuration;
//! [`answer`] says how the store itself would answer one request, where it
//! has a model that differs from the dialect.

pub mod answer;
pub mod table;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::lint::{At, Lint, LintCode, LintOptions};
use crate::model::{CorsConfig, Dialect};
use crate::pattern::Pattern;
use crate::validate::Severity;

pub use answer::{TargetAnswer, answer};
pub use table::{
    AllowHeaders, AllowOrigin, Capability, Fact, HeaderCase, Selection, Source, Submission,
    Wildcards,
};

/// The store behind the bucket's API (`s3`, `oss`, `r2`, `garage`, `ceph`,
/// `minio`, `gcs-interop`): lints check the rules against what it accepts
/// and how it answers. Default: from the provider and the endpoint's host
/// (R2 and GCS are told by it; any other S3 endpoint is `s3`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    /// Amazon S3.
    S3,
    /// Alibaba Cloud OSS.
    Oss,
    /// Cloudflare R2 (S3 API).
    R2,
    /// Garage.
    Garage,
    /// Ceph RADOS Gateway.
    Ceph,
    /// MinIO community server.
    Minio,
    /// Google Cloud Storage through its S3-interoperable XML API.
    GcsInterop,
}

impl Target {
    /// Every target, in the order `--target` lists them.
    pub const ALL: [Target; 7] = [
        Target::S3,
        Target::Oss,
        Target::R2,
        Target::Garage,
        Target::Ceph,
        Target::Minio,
        Target::GcsInterop,
    ];

    /// The name on the command line and in `spec.backend.flavor`.
    pub fn as_str(self) -> &'static str {
        match self {
            Target::S3 => "s3",
            Target::Oss => "oss",
            Target::R2 => "r2",
            Target::Garage => "garage",
            Target::Ceph => "ceph",
            Target::Minio => "minio",
            Target::GcsInterop => "gcs-interop",
        }
    }

    /// The dialect whose API the store speaks.
    pub fn dialect(self) -> Dialect {
        match self {
            Target::Oss => Dialect::Oss,
            _ => Dialect::S3,
        }
    }

    /// The store's row in the capability table.
    pub fn capability(self) -> &'static Capability {
        table::capability(self)
    }

    /// The store a backend most likely is, from its dialect and endpoint:
    /// OSS is OSS; an S3 endpoint on `r2.cloudflarestorage.com` is R2, on
    /// `storage.googleapis.com` GCS; anything else (AWS, or a self-hosted
    /// store the endpoint cannot tell apart) is S3. Garage, Ceph and MinIO
    /// cannot be told by their endpoint: name them with
    /// `spec.backend.flavor` or `--target`.
    pub fn default_for(dialect: Dialect, endpoint: Option<&str>) -> Target {
        if dialect == Dialect::Oss {
            return Target::Oss;
        }
        let host = endpoint
            .map(|e| e.split_once("://").map_or(e, |(_, rest)| rest))
            .map(|rest| rest.split(['/', ':']).next().unwrap_or(rest))
            .unwrap_or_default()
            .to_ascii_lowercase();
        let on = |domain: &str| host == domain || host.ends_with(&format!(".{domain}"));
        if on("r2.cloudflarestorage.com") {
            Target::R2
        } else if on("storage.googleapis.com") {
            Target::GcsInterop
        } else {
            Target::S3
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Target {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        Target::ALL
            .into_iter()
            .find(|t| t.as_str() == lower)
            .ok_or_else(|| {
                let names: Vec<&str> = Target::ALL.iter().map(|t| t.as_str()).collect();
                format!("unknown target `{s}`: expected one of {}", names.join(", "))
            })
    }
}

/// Adds the lints for what `target` refuses in `config` or answers
/// differently from its dialect.
pub(crate) fn check(
    config: &CorsConfig,
    target: Target,
    options: &LintOptions,
    out: &mut Vec<Lint>,
) {
    let cap = target.capability();
    let config_lint =
        |code: LintCode, severity: Severity, message: String, why: String, fix: String| Lint {
            code,
            severity,
            rule: None,
            field: None,
            message,
            why,
            fix,
        };
    match cap.submission.value {
        Submission::Refused { answer } => {
            out.push(config_lint(
                LintCode::TargetRefusesBucketCors,
                Severity::Error,
                format!("{target} refuses PutBucketCors"),
                format!("it answers {answer} [{}]", cap.submission.source),
                cap.submission.note.to_owned(),
            ));
            return;
        }
        Submission::OtherFormat { format } => {
            out.push(config_lint(
                LintCode::TargetOtherFormat,
                Severity::Error,
                format!(
                    "{target} does not take the {} CORS document",
                    target.dialect()
                ),
                format!("its XML API takes {format} [{}]", cap.submission.source),
                cap.submission.note.to_owned(),
            ));
            return;
        }
        Submission::Accepted => {}
    }
    for (index, rule) in config.rules.iter().enumerate() {
        let at = At { index, rule };
        for (i, origin) in rule.allowed_origins.iter().enumerate() {
            let field = Some(format!("allowedOrigins[{i}]"));
            let partial = origin.contains('*') && origin != "*";
            if cap.origin_wildcards.value == Wildcards::NotInPort && partial && star_in_port(origin)
            {
                out.push(Lint {
                    severity: Severity::Error,
                    ..at.warning(
                        LintCode::TargetRefusesPattern,
                        field,
                        format!("{origin:?} has `*` in the port"),
                        &format!(
                            "{target} refuses it with MalformedXML [{}]",
                            cap.origin_wildcards.source
                        ),
                        "list each port by name (`http://localhost:3000`)".to_owned(),
                    )
                });
            }
        }
        for (i, header) in rule.allowed_headers.iter().enumerate() {
            let field = || Some(format!("allowedHeaders[{i}]"));
            if cap.header_case.value == HeaderCase::Sensitive
                && header.bytes().any(|b| b.is_ascii_uppercase())
            {
                out.push(at.warning(
                    LintCode::TargetHeaderCase,
                    field(),
                    format!("{header:?} has upper-case letters"),
                    &format!(
                        "{target} compares requested header names case-sensitively and \
                         browsers send them in lower case, so this entry never matches [{}]",
                        cap.header_case.source
                    ),
                    format!("write {:?}", header.to_ascii_lowercase()),
                ));
            }
        }
        if !cap.max_age.value && rule.max_age_seconds.is_some_and(|s| s > 0) {
            out.push(
                at.warning(
                    LintCode::TargetNoMaxAge,
                    Some("maxAgeSeconds".to_owned()),
                    "maxAgeSeconds is set".to_owned(),
                    &format!(
                        "{target} never sends Access-Control-Max-Age, so browsers cache the \
                     preflight for 5 s only [{}]",
                        cap.max_age.source
                    ),
                    "expect a preflight before most requests, or answer preflights at the edge \
                 (spec.edge)"
                        .to_owned(),
                ),
            );
        }
        if options.credentials && !cap.credentials.value {
            out.push(
                at.warning(
                    LintCode::TargetNoCredentials,
                    None,
                    "pages send credentials".to_owned(),
                    &format!(
                        "{target} never sends Access-Control-Allow-Credentials, so browsers refuse \
                     every credentialed request [{}]",
                        cap.credentials.source
                    ),
                    "send requests without credentials, or answer them at the edge (spec.edge)"
                        .to_owned(),
                ),
            );
        }
        if cap.selection.value == Selection::FirstOriginMatch {
            first_origin_match(config, &at, target, cap, out);
        }
    }
}

/// Ceph before its fix: the first rule whose origin matches is the only
/// one tried. A later rule for an origin an earlier rule covers only
/// gets the methods and headers the earlier rule allows.
fn first_origin_match(
    config: &CorsConfig,
    at: &At<'_>,
    target: Target,
    cap: &Capability,
    out: &mut Vec<Lint>,
) {
    for (a, origin) in at.rule.allowed_origins.iter().enumerate() {
        let pattern = Pattern::new(origin);
        let Some(i) = (0..at.index).find(|&i| {
            config.rules[i]
                .allowed_origins
                .iter()
                .any(|o| Pattern::new(o).covers(&pattern))
        }) else {
            continue;
        };
        let earlier = &config.rules[i];
        let lost: Vec<&str> = at
            .rule
            .allowed_methods
            .iter()
            .map(String::as_str)
            .filter(|m| !earlier.allowed_methods.iter().any(|x| x == m))
            .collect();
        if lost.is_empty() && earlier.allowed_headers == at.rule.allowed_headers {
            continue;
        }
        let winner = crate::validate::RuleRef {
            index: i,
            id: earlier.id.clone(),
        };
        out.push(at.warning(
            LintCode::TargetFirstOriginMatch,
            Some(format!("allowedOrigins[{a}]")),
            format!("{winner} already allows origin {origin:?}"),
            &format!(
                "{target} takes the first rule whose origin matches and checks method and \
                 headers against it alone, so requests from this origin never reach this rule{} \
                 [{}]",
                if lost.is_empty() {
                    String::new()
                } else {
                    format!(" and {} from it is refused", lost.join(", "))
                },
                cap.selection.source
            ),
            format!("merge this rule into {winner}, or upgrade to a release with the fix"),
        ));
    }
}

/// True for an origin whose `*` stands in the port (`http://localhost:*`).
fn star_in_port(origin: &str) -> bool {
    let rest = origin.split_once("://").map_or(origin, |(_, r)| r);
    rest.rsplit_once(':')
        .is_some_and(|(_, port)| port.contains('*'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_name_the_store_they_can() {
        let d = |e: &str| Target::default_for(Dialect::S3, Some(e));
        assert_eq!(d("https://abc.r2.cloudflarestorage.com"), Target::R2);
        assert_eq!(d("https://storage.googleapis.com"), Target::GcsInterop);
        assert_eq!(d("https://s3.eu-west-1.amazonaws.com"), Target::S3);
        assert_eq!(d("http://127.0.0.1:3900"), Target::S3);
        assert_eq!(Target::default_for(Dialect::Oss, None), Target::Oss);
        assert_eq!(Target::default_for(Dialect::S3, None), Target::S3);
    }

    #[test]
    fn names_round_trip() {
        for t in Target::ALL {
            assert_eq!(t.as_str().parse::<Target>(), Ok(t));
        }
        assert!("minio2".parse::<Target>().is_err());
    }

    #[test]
    fn port_stars_are_told_from_host_stars() {
        assert!(star_in_port("http://localhost:*"));
        assert!(!star_in_port("https://*.example.com"));
        assert!(!star_in_port("https://*.example.com:8443"));
    }
}
