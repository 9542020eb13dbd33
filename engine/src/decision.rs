//! What the bucket answers to one request: status, response headers in the
//! dialect's order, and the XML error body when there is one.
//!
//! A [`Decision`] is small and `Copy`: a reference to the compiled rules,
//! the request (itself only borrowed slices) and the [`Outcome`]. Header
//! values and the error body are formed when the caller asks for them, from
//! strings that already exist, so nothing here allocates.
//!
//! Header order (spec sections 3 and 4): `Content-Type` (error answers),
//! `Access-Control-Allow-Origin`, `Access-Control-Allow-Credentials` (S3,
//! echoed origin), `Access-Control-Allow-Methods`,
//! `Access-Control-Allow-Headers` (matched preflights requesting headers),
//! `Access-Control-Expose-Headers`, `Access-Control-Max-Age`, `Vary`.

use crate::compile::Compiled;
use crate::error_body::{DEFAULT_HOST_ID, DEFAULT_REQUEST_ID, ErrorBody};
use crate::header_value::HeaderValue;
use crate::model::{Dialect, ResourceType};
use crate::request::Request;

/// S3's `Vary` on every CORS answer it gives.
pub const S3_VARY: &str = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method";
/// OSS's `Vary` with `ResponseVary: true`.
pub const OSS_VARY: &str = "Origin";

/// Why a preflight is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Refusal {
    /// `OPTIONS` without `Origin`: 400 `BadRequest`.
    MissingOrigin,
    /// `OPTIONS` on a bucket without CORS configuration: 403.
    NotEnabled,
    /// OSS: `OPTIONS` without `Access-Control-Request-Method`: 400. (S3
    /// answers [`Refusal::NotAllowed`] instead.)
    MissingRequestMethod,
    /// No rule matches: 403 `AccessForbidden`.
    NotAllowed,
}

impl Refusal {
    /// The HTTP status.
    pub fn status(self) -> u16 {
        match self {
            Refusal::MissingOrigin | Refusal::MissingRequestMethod => 400,
            Refusal::NotEnabled | Refusal::NotAllowed => 403,
        }
    }

    /// The error `Code`.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::MissingOrigin | Refusal::MissingRequestMethod => "BadRequest",
            Refusal::NotEnabled | Refusal::NotAllowed => "AccessForbidden",
        }
    }

    /// The error `Message`, verbatim (typos included) as `dialect` writes it.
    pub fn message(self, dialect: Dialect) -> &'static str {
        match (self, dialect) {
            (Refusal::MissingOrigin, Dialect::S3) => {
                "Insufficient information. Origin request header needed."
            }
            (Refusal::MissingOrigin, Dialect::Oss) => {
                "Insufficient information. Origin request header needed"
            }
            (Refusal::MissingRequestMethod, _) => {
                "Insufficient information. Request Access-Control-Request-Method header needed"
            }
            (Refusal::NotEnabled, _) => "CORSResponse: CORS is not enabled for this bucket.",
            (Refusal::NotAllowed, Dialect::S3) => {
                "CORSResponse: This CORS request is not allowed. This is usually because the \
                 evalution of Origin, request method / Access-Control-Request-Method or \
                 Access-Control-Request-Headers are not whitelisted by the resource's CORS spec."
            }
            (Refusal::NotAllowed, Dialect::Oss) => {
                "CORSResponse: This CORS request is not allowed. This is usually because the \
                 evalution of Origin, request method / Access-Control-Request-Method or \
                 Access-Control-Requet-Headers are not whitelisted by the resource's CORS spec."
            }
        }
    }

    /// The OSS `EC` element. The spec names no EC numbers for these
    /// answers; these are bucketcors's choice, kept in this one place.
    pub fn oss_ec(self) -> &'static str {
        match self {
            Refusal::NotAllowed | Refusal::NotEnabled => "0003-00000001",
            Refusal::MissingOrigin | Refusal::MissingRequestMethod => "0003-00000002",
        }
    }
}

/// The kind of answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// A rule matched: CORS headers are added (preflight: 200).
    Allowed {
        /// Zero-based index of the first matching rule.
        rule: usize,
        /// S3: the rule's first origin matching the request is `*`, so the
        /// answer is `Access-Control-Allow-Origin: *` without credentials.
        any_origin: bool,
    },
    /// The preflight is refused with an error body.
    Refused(Refusal),
    /// An actual request that gets no CORS headers (no `Origin`, no
    /// configuration, or no rule matched); only OSS `ResponseVary` adds
    /// `Vary: Origin`.
    NoCors,
}

/// The answer to one request; see the module docs.
#[derive(Debug, Clone, Copy)]
pub struct Decision<'c, 'r> {
    compiled: &'c Compiled,
    request: Request<'r>,
    outcome: Outcome,
}

/// Header slots in response order; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    ContentType,
    AllowOrigin,
    AllowCredentials,
    AllowMethods,
    AllowHeaders,
    ExposeHeaders,
    MaxAge,
    Vary,
}

const SLOTS: [Slot; 8] = [
    Slot::ContentType,
    Slot::AllowOrigin,
    Slot::AllowCredentials,
    Slot::AllowMethods,
    Slot::AllowHeaders,
    Slot::ExposeHeaders,
    Slot::MaxAge,
    Slot::Vary,
];

impl<'c, 'r> Decision<'c, 'r> {
    pub(crate) fn new(compiled: &'c Compiled, request: Request<'r>, outcome: Outcome) -> Self {
        Decision {
            compiled,
            request,
            outcome,
        }
    }

    /// The kind of answer.
    pub fn outcome(&self) -> Outcome {
        self.outcome
    }

    /// The dialect the answer follows.
    pub fn dialect(&self) -> Dialect {
        self.compiled.dialect
    }

    /// The HTTP status: 200 for matched preflights and for every actual
    /// request (the bucket's own status is the caller's business), 400 or
    /// 403 for refused preflights.
    pub fn status(&self) -> u16 {
        match self.outcome {
            Outcome::Refused(r) => r.status(),
            Outcome::Allowed { .. } | Outcome::NoCors => 200,
        }
    }

    /// True when the CORS layer answers the request itself (`OPTIONS`): the
    /// edge responds with this decision and never forwards the request.
    pub fn is_preflight(&self) -> bool {
        self.request.is_options()
    }

    /// The zero-based index of the rule that matched, if one did.
    pub fn matched_rule(&self) -> Option<usize> {
        match self.outcome {
            Outcome::Allowed { rule, .. } => Some(rule),
            _ => None,
        }
    }

    /// True when a rule matched.
    pub fn is_allowed(&self) -> bool {
        matches!(self.outcome, Outcome::Allowed { .. })
    }

    /// The response headers, in the dialect's order. For a preflight they
    /// are the whole header set; for an actual request they are the ones to
    /// add (after removing every `Access-Control-*` the bucket sent).
    pub fn headers(&self) -> Headers<'_> {
        let s3 = self.compiled.dialect == Dialect::S3;
        let (rule, any_origin) = match self.outcome {
            Outcome::Allowed { rule, any_origin } => (Some(&self.compiled.rules[rule]), any_origin),
            _ => (None, false),
        };
        let allow_headers = self
            .request
            .request_headers
            .filter(|_| rule.is_some() && self.is_preflight())
            // At least one name: a byte that is neither a separator nor
            // whitespace (usually the first one).
            .filter(|raw| raw.bytes().any(|b| !matches!(b, b',' | b' ' | b'\t')));
        let vary = if s3 {
            rule.map(|_| S3_VARY)
        } else {
            self.compiled.response_vary.then_some(OSS_VARY)
        };
        let credentials = s3 && !any_origin;
        let mut present = 0u8;
        let mut mark = |slot: Slot, on: bool| present |= u8::from(on) << slot as u8;
        mark(
            Slot::ContentType,
            matches!(self.outcome, Outcome::Refused(_)),
        );
        if let Some(rule) = rule {
            mark(Slot::AllowOrigin, true);
            mark(Slot::AllowCredentials, credentials);
            mark(Slot::AllowMethods, true);
            mark(Slot::AllowHeaders, allow_headers.is_some());
            mark(Slot::ExposeHeaders, rule.expose_headers.is_some());
            mark(Slot::MaxAge, rule.max_age.is_some());
        }
        mark(Slot::Vary, vary.is_some());
        // Values of slots that are not present are never read.
        Headers {
            present,
            allow_methods: rule.map_or("", |r| &r.allow_methods),
            expose_headers: rule
                .and_then(|r| r.expose_headers.as_deref())
                .unwrap_or_default(),
            max_age: rule.and_then(|r| r.max_age.as_deref()).unwrap_or_default(),
            allow_origin: if s3 && any_origin {
                "*"
            } else {
                self.request.origin.unwrap_or_default()
            },
            allow_headers: allow_headers.unwrap_or_default(),
            vary: vary.unwrap_or_default(),
        }
    }

    /// The XML error body of a refused preflight, with the default request
    /// and host ids (see [`crate::error_body`]); `None` otherwise (a matched
    /// preflight has an empty body; an actual request keeps the bucket's).
    pub fn body(&self) -> Option<ErrorBody<'r>> {
        let Outcome::Refused(refusal) = self.outcome else {
            return None;
        };
        Some(ErrorBody {
            dialect: self.compiled.dialect,
            refusal,
            method: self.request.request_method.unwrap_or("OPTIONS"),
            resource: match refusal {
                // S3 recorded: BUCKET whatever the request addressed.
                Refusal::NotEnabled => ResourceType::Bucket,
                _ => self.request.resource,
            },
            request_id: DEFAULT_REQUEST_ID,
            host_id: DEFAULT_HOST_ID,
        })
    }

    /// [`Decision::body`] with the caller's `RequestId`.
    pub fn body_with_request_id<'a>(&self, request_id: &'a str) -> Option<ErrorBody<'a>>
    where
        'r: 'a,
    {
        self.body().map(|b| b.with_request_id(request_id))
    }
}

/// Iterator over a decision's response headers: `(name, value)` pairs,
/// names in canonical case. Never allocates: which headers are present is
/// resolved when it is created (one bit per header slot), so each step takes
/// the lowest remaining bit and reads its value.
#[derive(Debug, Clone)]
pub struct Headers<'d> {
    present: u8,
    allow_origin: &'d str,
    allow_methods: &'d str,
    allow_headers: &'d str,
    expose_headers: &'d str,
    max_age: &'d str,
    vary: &'static str,
}

impl<'d> Headers<'d> {
    /// The header in `slot`, present or not.
    #[inline(always)]
    fn get(&self, slot: Slot) -> (&'static str, HeaderValue<'d>) {
        let text = HeaderValue::Text;
        match slot {
            Slot::ContentType => ("Content-Type", text("application/xml")),
            Slot::AllowOrigin => ("Access-Control-Allow-Origin", text(self.allow_origin)),
            Slot::AllowCredentials => ("Access-Control-Allow-Credentials", text("true")),
            Slot::AllowMethods => ("Access-Control-Allow-Methods", text(self.allow_methods)),
            Slot::AllowHeaders => (
                "Access-Control-Allow-Headers",
                HeaderValue::RequestedHeaders(self.allow_headers),
            ),
            Slot::ExposeHeaders => ("Access-Control-Expose-Headers", text(self.expose_headers)),
            Slot::MaxAge => ("Access-Control-Max-Age", text(self.max_age)),
            Slot::Vary => ("Vary", text(self.vary)),
        }
    }
}

impl<'d> Iterator for Headers<'d> {
    type Item = (&'static str, HeaderValue<'d>);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.present == 0 {
            return None;
        }
        let slot = SLOTS[self.present.trailing_zeros() as usize];
        self.present &= self.present - 1;
        Some(self.get(slot))
    }

    /// Internal iteration (`for_each`, `fold`, `collect`, ...): the slots
    /// are tested in order, each against its own constant, so the whole
    /// walk is straight-line code with no state to update and no jump
    /// through a table per header, which is what a server setting the
    /// headers on its response wants.
    #[inline]
    fn fold<B, F>(self, init: B, mut f: F) -> B
    where
        F: FnMut(B, Self::Item) -> B,
    {
        let mut acc = init;
        for slot in SLOTS {
            if self.present & (1 << slot as u8) != 0 {
                acc = f(acc, self.get(slot));
            }
        }
        acc
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.present.count_ones() as usize;
        (n, Some(n))
    }
}

impl ExactSizeIterator for Headers<'_> {}

#[cfg(test)]
mod tests {
    use crate::model::{CorsConfig, Rule};
    use crate::{Compiled, Dialect, Request};

    /// `fold` (what `for_each` and `collect` use) walks the slots itself;
    /// it must give what `next` gives, also after `next` took some.
    #[test]
    fn internal_iteration_agrees_with_next() {
        let config = CorsConfig {
            rules: vec![Rule {
                allowed_origins: vec!["https://a.example".into(), "*".into()],
                allowed_methods: vec!["GET".into(), "PUT".into()],
                allowed_headers: vec!["*".into()],
                expose_headers: vec!["ETag".into()],
                max_age_seconds: Some(60),
                ..Rule::default()
            }],
            response_vary: true,
        };
        let requests = [
            Request::preflight("https://a.example", "PUT").with_request_headers("X-A,x-b"),
            Request::preflight("https://other.example", "PUT"),
            Request::preflight("https://a.example", "PATCH"),
            Request::new("OPTIONS"),
            Request::new("GET").with_origin("https://a.example"),
            Request::new("GET"),
        ];
        for dialect in [Dialect::S3, Dialect::Oss] {
            for compiled in [
                // `responseVary` is OSS only: S3 ignores it unchecked.
                Compiled::new_unchecked(&config, dialect),
                Compiled::none(dialect),
            ] {
                for request in &requests {
                    let decision = compiled.decide(request);
                    // A `for` loop calls `next`.
                    let mut by_next = Vec::new();
                    for header in decision.headers() {
                        by_next.push(header);
                    }
                    let by_fold: Vec<_> = decision.headers().collect();
                    assert_eq!(by_fold, by_next, "{dialect:?} {request:?}");
                    for skip in 0..by_next.len() {
                        let mut rest = decision.headers();
                        rest.by_ref().take(skip).for_each(drop);
                        let mut tail = Vec::new();
                        rest.for_each(|h| tail.push(h));
                        assert_eq!(tail, by_next[skip..], "{dialect:?} {request:?} {skip}");
                    }
                }
            }
        }
    }
}
