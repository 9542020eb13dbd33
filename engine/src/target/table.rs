//! The capability table: for each [`Target`], what the store accepts and
//! how it answers, each entry with its [`Source`].
//!
//! Entries are facts, not guesses: a provider's documentation, the store's
//! source code, an issue thread where its maintainers confirm the
//! behaviour, or a test in this repository against the real store (Garage,
//! `tests/tests/garage_capabilities.rs`, which sends a request for every
//! difference claimed here, observed against Garage 2.5.0). Where a store
//! documents S3 compatibility and
//! nothing more specific is known, the entry says so and points at the
//! S3 behaviour it inherits.

use std::fmt;

use serde::Serialize;

use super::Target;

/// Where an entry comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "at", rename_all = "lowercase")]
pub enum Source {
    /// A provider's documentation page.
    Docs(&'static str),
    /// The store's source code (repository, path, and commit or release).
    Code(&'static str),
    /// An issue or pull request thread.
    Issue(&'static str),
    /// A test in this repository against the real store.
    Test(&'static str),
    /// The store documents S3 compatibility; the S3 behaviour applies.
    Inherits(&'static str),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Docs(at) => write!(f, "docs: {at}"),
            Source::Code(at) => write!(f, "source: {at}"),
            Source::Issue(at) => write!(f, "issue: {at}"),
            Source::Test(at) => write!(f, "tested: {at}"),
            Source::Inherits(at) => write!(f, "as S3: {at}"),
        }
    }
}

/// One entry: the value and where it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Fact<T> {
    /// What the store does.
    pub value: T,
    /// Where that is known from.
    pub source: Source,
    /// What to do about it, when the value is a limitation.
    pub note: &'static str,
}

/// Whether the store takes PutBucketCors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Submission {
    /// The dialect's PutBucketCors document is accepted.
    Accepted,
    /// PutBucketCors is refused with this answer.
    Refused {
        /// The store's answer.
        answer: &'static str,
    },
    /// The store takes another document.
    OtherFormat {
        /// The document it takes.
        format: &'static str,
    },
}

/// Which `*` forms the store treats as wildcards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Wildcards {
    /// One `*` anywhere (the dialect's rule).
    OneStar,
    /// One `*`, but not in the port (refused there).
    NotInPort,
}

/// How requested header names are compared with allowed ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum HeaderCase {
    /// Ignoring ASCII case (the dialect's rule).
    Insensitive,
    /// Exactly.
    Sensitive,
}

/// What `Access-Control-Allow-Origin` carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum AllowOrigin {
    /// `*` for a `*` rule, else the request's origin (S3).
    EchoOrStar,
    /// The request's origin, also for `*` (OSS).
    Echo,
}

/// What `Access-Control-Allow-Headers` carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum AllowHeaders {
    /// The requested names, lower-cased (S3, OSS).
    EchoRequested,
    /// The rule's allowed headers as configured (a `*` rule sends `*`).
    Literal,
}

/// How the rule that answers is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Selection {
    /// The first rule matching origin, method and every requested header.
    FirstFullMatch,
    /// The first rule matching the origin; method and headers are then
    /// checked against it alone.
    FirstOriginMatch,
}

/// A store's row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Capability {
    /// The store.
    pub target: Target,
    /// Whether PutBucketCors is taken.
    pub submission: Fact<Submission>,
    /// Origin wildcard forms.
    pub origin_wildcards: Fact<Wildcards>,
    /// Header wildcard forms.
    pub header_wildcards: Fact<Wildcards>,
    /// Header name comparison.
    pub header_case: Fact<HeaderCase>,
    /// The Allow-Origin answer.
    pub allow_origin: Fact<AllowOrigin>,
    /// The Allow-Headers answer.
    pub allow_headers: Fact<AllowHeaders>,
    /// Whether Access-Control-Max-Age is sent.
    pub max_age: Fact<bool>,
    /// Whether Access-Control-Allow-Credentials is ever sent.
    pub credentials: Fact<bool>,
    /// Rule selection.
    pub selection: Fact<Selection>,
    /// Longest time, in seconds, between a PutBucketCors and every answer
    /// following it (0: at once).
    pub apply_delay_seconds: Fact<u32>,
}

const fn fact<T>(value: T, source: Source) -> Fact<T> {
    Fact {
        value,
        source,
        note: "",
    }
}

const S3_DOCS: &str = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html";
const S3_RECORDED: &str = "spec section 3 (responses recorded against AWS S3)";
const OSS_DOCS: &str = "https://www.alibabacloud.com/help/en/oss/developer-reference/putbucketcors";
const OSS_SPEC: &str = "spec section 4 (OSS Options and GetBucketCors docs)";
const R2_DOCS: &str = "https://developers.cloudflare.com/r2/buckets/cors/";
const CEPH_FIX: &str = "ceph/ceph#69190 (rgw: match CORS rules like Amazon S3; \
    before it RGWCORSConfiguration::host_name_rule matched the origin only)";
const GCS_DOCS: &str = "https://cloud.google.com/storage/docs/xml-api/put-bucket-cors";
const MINIO_ISSUES: &str = "minio/minio#20995, minio/minio#21332 (Bucket CORS only in AIStor; \
    community servers use global CORS, `mc admin config set ALIAS api cors_allow_origin=...`)";

/// The dialect's own behaviour, as S3 answers.
const S3: Capability = Capability {
    target: Target::S3,
    submission: fact(Submission::Accepted, Source::Docs(S3_DOCS)),
    origin_wildcards: fact(Wildcards::OneStar, Source::Docs(S3_DOCS)),
    header_wildcards: fact(Wildcards::OneStar, Source::Docs(S3_DOCS)),
    header_case: fact(HeaderCase::Insensitive, Source::Docs(S3_RECORDED)),
    allow_origin: fact(AllowOrigin::EchoOrStar, Source::Docs(S3_RECORDED)),
    allow_headers: fact(AllowHeaders::EchoRequested, Source::Docs(S3_RECORDED)),
    max_age: fact(true, Source::Docs(S3_RECORDED)),
    credentials: fact(true, Source::Docs(S3_RECORDED)),
    selection: fact(Selection::FirstFullMatch, Source::Docs(S3_DOCS)),
    apply_delay_seconds: fact(0, Source::Docs(S3_RECORDED)),
};

const OSS: Capability = Capability {
    target: Target::Oss,
    submission: fact(Submission::Accepted, Source::Docs(OSS_DOCS)),
    origin_wildcards: fact(Wildcards::OneStar, Source::Docs(OSS_DOCS)),
    header_wildcards: fact(Wildcards::OneStar, Source::Docs(OSS_DOCS)),
    header_case: fact(HeaderCase::Insensitive, Source::Docs(OSS_DOCS)),
    allow_origin: fact(AllowOrigin::Echo, Source::Docs(OSS_SPEC)),
    allow_headers: fact(AllowHeaders::EchoRequested, Source::Docs(OSS_SPEC)),
    max_age: fact(true, Source::Docs(OSS_SPEC)),
    credentials: fact(false, Source::Docs(OSS_SPEC)),
    selection: fact(Selection::FirstFullMatch, Source::Docs(OSS_DOCS)),
    apply_delay_seconds: fact(0, Source::Docs(OSS_DOCS)),
};

const R2: Capability = Capability {
    target: Target::R2,
    submission: fact(Submission::Accepted, Source::Docs(R2_DOCS)),
    origin_wildcards: fact(
        Wildcards::NotInPort,
        Source::Issue(
            "cloudflare/cloudflare-docs#32888 (`https://*-app.example.workers.dev` accepted \
             and matched; `http://localhost:*` refused with 400 MalformedXML)",
        ),
    ),
    header_wildcards: fact(Wildcards::OneStar, Source::Inherits(R2_DOCS)),
    header_case: fact(HeaderCase::Insensitive, Source::Inherits(R2_DOCS)),
    allow_origin: fact(AllowOrigin::EchoOrStar, Source::Inherits(R2_DOCS)),
    allow_headers: fact(AllowHeaders::EchoRequested, Source::Inherits(R2_DOCS)),
    max_age: fact(true, Source::Docs(R2_DOCS)),
    credentials: fact(true, Source::Inherits(R2_DOCS)),
    selection: fact(Selection::FirstFullMatch, Source::Inherits(R2_DOCS)),
    apply_delay_seconds: fact(
        30,
        Source::Docs(
            "https://developers.cloudflare.com/r2/buckets/cors/ (rules can take up to 30 seconds to propagate)",
        ),
    ),
};

/// Every Garage entry was observed against Garage 2.5.0 by this test.
const GARAGE_TEST: &str = "observed against Garage 2.5.0 in tests/tests/garage_capabilities.rs";

const GARAGE: Capability = Capability {
    target: Target::Garage,
    submission: fact(Submission::Accepted, Source::Test(GARAGE_TEST)),
    origin_wildcards: fact(Wildcards::OneStar, Source::Test(GARAGE_TEST)),
    header_wildcards: fact(Wildcards::OneStar, Source::Test(GARAGE_TEST)),
    header_case: fact(HeaderCase::Sensitive, Source::Test(GARAGE_TEST)),
    allow_origin: fact(AllowOrigin::EchoOrStar, Source::Test(GARAGE_TEST)),
    allow_headers: fact(AllowHeaders::Literal, Source::Test(GARAGE_TEST)),
    max_age: fact(false, Source::Test(GARAGE_TEST)),
    credentials: fact(false, Source::Test(GARAGE_TEST)),
    selection: fact(Selection::FirstFullMatch, Source::Test(GARAGE_TEST)),
    apply_delay_seconds: fact(0, Source::Test(GARAGE_TEST)),
};

const CEPH: Capability = Capability {
    target: Target::Ceph,
    submission: fact(
        Submission::Accepted,
        Source::Code("ceph/ceph src/rgw/rgw_cors_s3.cc"),
    ),
    origin_wildcards: fact(
        Wildcards::OneStar,
        Source::Code("ceph/ceph src/rgw/rgw_cors.cc"),
    ),
    header_wildcards: fact(
        Wildcards::OneStar,
        Source::Code("ceph/ceph src/rgw/rgw_cors.cc"),
    ),
    header_case: fact(
        HeaderCase::Insensitive,
        Source::Code("ceph/ceph src/rgw/rgw_cors.cc (headers compared lower-cased)"),
    ),
    allow_origin: fact(
        AllowOrigin::EchoOrStar,
        Source::Issue("ceph/ceph#8441 (rgw: Access-Control-Allow-Origin `*` for a `*` rule)"),
    ),
    allow_headers: fact(
        AllowHeaders::EchoRequested,
        Source::Issue("ceph/ceph#18556 (rgw: add cors header rule check in cors option request)"),
    ),
    max_age: fact(true, Source::Code("ceph/ceph src/rgw/rgw_cors.cc")),
    credentials: fact(
        true,
        Source::Code("ceph/ceph src/rgw/rgw_op.cc generate_cors_headers"),
    ),
    selection: Fact {
        value: Selection::FirstOriginMatch,
        source: Source::Issue(CEPH_FIX),
        note: "fixed on main; reef/squid/tentacle backports pending in 2026",
    },
    apply_delay_seconds: fact(0, Source::Code("ceph/ceph src/rgw/rgw_cors.cc")),
};

const MINIO: Capability = Capability {
    submission: Fact {
        value: Submission::Refused {
            answer: "501 NotImplemented (A header you provided implies functionality that is \
                     not implemented)",
        },
        source: Source::Issue(MINIO_ISSUES),
        note: "configure CORS on the server instead (`mc admin config set ALIAS api \
               cors_allow_origin=https://app.example.com`), or use a store that takes bucket \
               CORS",
    },
    target: Target::Minio,
    ..S3
};

const GCS: Capability = Capability {
    submission: Fact {
        value: Submission::OtherFormat {
            format: "its own `<CorsConfig><Cors><Origins><Origin>..` document (Methods, \
                     ResponseHeaders, MaxAgeSec; no AllowedHeader, no ID), and matches the \
                     first entry by Origin and Method only",
        },
        source: Source::Docs(GCS_DOCS),
        note: "set the bucket's CORS with `gcloud storage buckets update --cors-file`; \
               bucketcors writes S3 and OSS documents only",
    },
    target: Target::GcsInterop,
    ..S3
};

/// The row for `target`.
pub fn capability(target: Target) -> &'static Capability {
    match target {
        Target::S3 => &S3,
        Target::Oss => &OSS,
        Target::R2 => &R2,
        Target::Garage => &GARAGE,
        Target::Ceph => &CEPH,
        Target::Minio => &MINIO,
        Target::GcsInterop => &GCS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_target_has_its_own_row() {
        for t in Target::ALL {
            assert_eq!(capability(t).target, t);
        }
    }
}
