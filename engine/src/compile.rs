//! Compilation of a configuration into a matcher, and the per-request
//! decision.
//!
//! ```
//! use bucketcors_engine::{Compiled, CorsConfig, Dialect, Request, Rule};
//! let config = CorsConfig {
//!     rules: vec![Rule {
//!         allowed_origins: vec!["https://*.example.com".into()],
//!         allowed_methods: vec!["GET".into(), "PUT".into()],
//!         allowed_headers: vec!["x-amz-*".into()],
//!         ..Rule::default()
//!     }],
//!     response_vary: false,
//! };
//! let compiled = Compiled::new(&config, Dialect::S3).expect("valid");
//! let request = Request::preflight("https://app.example.com", "PUT")
//!     .with_request_headers("X-Amz-Date");
//! let decision = compiled.decide(&request);
//! assert_eq!(decision.status(), 200);
//! assert_eq!(decision.matched_rule(), Some(0));
//! let headers: Vec<(&str, String)> =
//!     decision.headers().map(|(n, v)| (n, v.to_string())).collect();
//! assert_eq!(headers[0], ("Access-Control-Allow-Origin", "https://app.example.com".into()));
//! ```
//!
//! Design: compiling does all the work that does not depend on the request.
//! Origins and header patterns become [`Pattern`]s (prefix/suffix pairs, so
//! matching is linear and never backtracks), the allowed methods become a
//! bit set, and the response header values that come from the rule
//! (`Access-Control-Allow-Methods`, `-Expose-Headers`, `-Max-Age`) are
//! joined once. [`Compiled::decide`] then only scans the rules and returns a
//! small [`Decision`] that borrows the compiled rules and the request; its
//! headers and error body are produced lazily, when the caller writes them,
//! so deciding never touches the heap.

use crate::decision::{Decision, Outcome, Refusal};
use crate::model::{CorsConfig, Dialect};
use crate::pattern::Pattern;
use crate::request::{Request, RequestedHeaders};
use crate::validate::{Report, validate};

/// A configuration compiled for one dialect, ready to answer requests.
///
/// Cheap to share (`&Compiled` is all `decide` needs) and immutable: a new
/// rule set means a new `Compiled`, so one request is always decided against
/// one whole rule set.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub(crate) dialect: Dialect,
    /// `None` for a bucket without CORS configuration.
    pub(crate) config: Option<CorsConfig>,
    pub(crate) rules: Vec<CompiledRule>,
    /// OSS `ResponseVary`: `Vary: Origin` on every response.
    pub(crate) response_vary: bool,
}

/// One rule, in the shape matching and answering need.
#[derive(Debug, Clone)]
pub(crate) struct CompiledRule {
    pub(crate) origins: Vec<Pattern>,
    /// Bit set over [`method_bit`].
    pub(crate) methods: u8,
    /// True when one allowed header is `*`: every requested header matches.
    pub(crate) any_header: bool,
    pub(crate) headers: Vec<Pattern>,
    /// `Access-Control-Allow-Methods`: the rule's methods joined by `", "`.
    pub(crate) allow_methods: String,
    /// `Access-Control-Expose-Headers`, when the rule has expose headers.
    pub(crate) expose_headers: Option<String>,
    /// `Access-Control-Max-Age`, when the rule sets it.
    pub(crate) max_age: Option<String>,
}

/// The bit for one of the five methods a rule may allow; 0 for anything
/// else (compared exactly: `get` is not `GET`).
#[inline]
pub(crate) fn method_bit(method: &str) -> u8 {
    match method {
        "GET" => 1,
        "PUT" => 2,
        "POST" => 4,
        "DELETE" => 8,
        "HEAD" => 16,
        _ => 0,
    }
}

impl CompiledRule {
    fn new(rule: &crate::model::Rule) -> CompiledRule {
        CompiledRule {
            origins: rule
                .allowed_origins
                .iter()
                .map(|o| Pattern::new(o))
                .collect(),
            methods: rule
                .allowed_methods
                .iter()
                .fold(0, |bits, m| bits | method_bit(m)),
            any_header: rule.allowed_headers.iter().any(|h| h == "*"),
            headers: rule
                .allowed_headers
                .iter()
                .map(|h| Pattern::new_header(h))
                .collect(),
            allow_methods: rule.allowed_methods.join(", "),
            expose_headers: (!rule.expose_headers.is_empty())
                .then(|| rule.expose_headers.join(", ")),
            max_age: rule.max_age_seconds.map(|s| s.to_string()),
        }
    }

    /// The first allowed origin (in rule order) matching `origin`: whether
    /// it is the lone `*`, or `None` when no origin matches.
    #[inline]
    pub(crate) fn match_origin(&self, origin: &str) -> Option<bool> {
        self.origins
            .iter()
            .find(|p| p.matches(origin))
            .map(Pattern::is_any)
    }

    /// True when `name` matches one of the allowed headers.
    #[inline]
    pub(crate) fn allows_header(&self, name: &str) -> bool {
        self.any_header || self.headers.iter().any(|p| p.matches_ignore_case(name))
    }
}

impl Compiled {
    /// Validates `config` for `dialect` and compiles it. The error is the
    /// whole validation [`Report`]; warnings alone do not fail.
    pub fn new(config: &CorsConfig, dialect: Dialect) -> Result<Compiled, Report> {
        let report = validate(config, dialect);
        if !report.is_valid() {
            return Err(report);
        }
        Ok(Compiled::new_unchecked(config, dialect))
    }

    /// Compiles without validating. Use it only for a configuration that was
    /// validated before (such as a [`crate::RuleSet`]); an invalid one still
    /// compiles and decides without panicking, but methods outside `GET`,
    /// `PUT`, `POST`, `DELETE`, `HEAD` never match and `responseVary` is
    /// ignored for S3.
    pub fn new_unchecked(config: &CorsConfig, dialect: Dialect) -> Compiled {
        Compiled {
            dialect,
            rules: config.rules.iter().map(CompiledRule::new).collect(),
            response_vary: dialect == Dialect::Oss && config.response_vary,
            config: Some(config.clone()),
        }
    }

    /// A bucket without a CORS configuration: preflights are refused
    /// ("CORS is not enabled for this bucket"), actual requests get no CORS
    /// headers.
    pub fn none(dialect: Dialect) -> Compiled {
        Compiled {
            dialect,
            config: None,
            rules: Vec::new(),
            response_vary: false,
        }
    }

    /// The dialect the decisions follow.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The configuration compiled, or `None` for a bucket without CORS.
    pub fn config(&self) -> Option<&CorsConfig> {
        self.config.as_ref()
    }

    /// Decides how the bucket answers `request` (spec sections 2-4). Never
    /// allocates; see [`Decision`].
    pub fn decide<'c, 'r>(&'c self, request: &Request<'r>) -> Decision<'c, 'r> {
        Decision::new(self, *request, self.outcome(request))
    }

    fn outcome(&self, request: &Request<'_>) -> Outcome {
        let configured = self.config.is_some();
        if request.is_options() {
            // Order of checks: missing Origin, no configuration, missing
            // Access-Control-Request-Method, rule matching (both dialects).
            let Some(origin) = request.origin else {
                return Outcome::Refused(Refusal::MissingOrigin);
            };
            if !configured {
                return Outcome::Refused(Refusal::NotEnabled);
            }
            let Some(method) = request.request_method else {
                return Outcome::Refused(match self.dialect {
                    Dialect::S3 => Refusal::NotAllowed,
                    Dialect::Oss => Refusal::MissingRequestMethod,
                });
            };
            return match self.find(origin, method, request.request_headers) {
                Some((rule, any_origin)) => Outcome::Allowed { rule, any_origin },
                None => Outcome::Refused(Refusal::NotAllowed),
            };
        }
        let (Some(origin), true) = (request.origin, configured) else {
            return Outcome::NoCors;
        };
        let found = match self.dialect {
            // S3 matches an actual request carrying Access-Control-Request-*
            // as if it were the preflight for those values.
            Dialect::S3 => self.find(
                origin,
                request.request_method.unwrap_or(request.method),
                request.request_headers,
            ),
            // OSS ignores Access-Control-Request-* on actual requests.
            Dialect::Oss => self.find(origin, request.method, None),
        };
        match found {
            Some((rule, any_origin)) => Outcome::Allowed { rule, any_origin },
            None => Outcome::NoCors,
        }
    }

    /// The first rule matching origin, method and requested headers (spec
    /// section 2), with whether its first matching origin is `*`.
    fn find(
        &self,
        origin: &str,
        method: &str,
        request_headers: Option<&str>,
    ) -> Option<(usize, bool)> {
        let bit = method_bit(method);
        if bit == 0 {
            return None;
        }
        self.rules.iter().enumerate().find_map(|(index, rule)| {
            if rule.methods & bit == 0 {
                return None;
            }
            let any_origin = rule.match_origin(origin)?;
            let headers_ok = match request_headers {
                None => true,
                Some(raw) => RequestedHeaders::new(raw).all(|name| rule.allows_header(name)),
            };
            headers_ok.then_some((index, any_origin))
        })
    }
}
