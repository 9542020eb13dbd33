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

use crate::allowed_headers::AllowedHeaders;
use crate::decision::{Decision, Outcome, Refusal};
use crate::model::{CorsConfig, Dialect};
use crate::pattern::Pattern;
use crate::request::Request;
use crate::rule_index::RuleIndex;
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
    /// The rules that can match a method and origin, found without a scan;
    /// `None` only for more rules than any valid configuration has.
    index: Option<RuleIndex>,
    /// OSS `ResponseVary`: `Vary: Origin` on every response.
    pub(crate) response_vary: bool,
}

/// One rule, in the shape matching and answering need.
#[derive(Debug, Clone)]
pub(crate) struct CompiledRule {
    pub(crate) origins: Vec<Pattern>,
    /// Position of the first `*` among `origins`, if any.
    first_any: Option<usize>,
    /// Bit set over [`method_bit`].
    pub(crate) methods: u8,
    pub(crate) headers: Vec<Pattern>,
    /// `headers`, compiled for the hot path.
    allowed_headers: AllowedHeaders,
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
        let origins: Vec<Pattern> = rule
            .allowed_origins
            .iter()
            .map(|o| Pattern::new(o))
            .collect();
        let headers: Vec<Pattern> = rule
            .allowed_headers
            .iter()
            .map(|h| Pattern::new_header(h))
            .collect();
        CompiledRule {
            first_any: origins.iter().position(Pattern::is_any),
            origins,
            methods: rule
                .allowed_methods
                .iter()
                .fold(0, |bits, m| bits | method_bit(m)),
            allowed_headers: AllowedHeaders::new(&headers),
            headers,
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

    /// For an `origin` this rule is known to allow: whether the first of its
    /// origins matching it is the lone `*`. Only the origins listed before
    /// the first `*` need a comparison, and none at all without a `*`.
    #[inline]
    fn first_match_is_any(&self, origin: &str) -> bool {
        self.first_any
            .is_some_and(|k| !self.origins[..k].iter().any(|p| p.matches(origin)))
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
        let rules: Vec<CompiledRule> = config.rules.iter().map(CompiledRule::new).collect();
        Compiled {
            dialect,
            index: RuleIndex::new(&rules),
            rules,
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
            index: None,
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
        let Some(index) = &self.index else {
            return self.scan(origin, method, request_headers);
        };
        let mut candidates = index.candidates(method, origin);
        // Lowest position first: rule order decides.
        while candidates != 0 {
            let position = candidates.trailing_zeros() as usize;
            candidates &= candidates - 1;
            let rule = &self.rules[position];
            if rule.allowed_headers.allow_all(request_headers) {
                return Some((position, rule.first_match_is_any(origin)));
            }
        }
        None
    }

    /// [`Compiled::find`] by scanning every rule in order: the definition
    /// the index must agree with, used when there is no index.
    fn scan(
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
            rule.allowed_headers
                .allow_all(request_headers)
                .then_some((index, any_origin))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Rule;

    /// A small deterministic generator (xorshift): the test needs variety,
    /// not randomness, and must not depend on a crate.
    struct Gen(u64);
    impl Gen {
        fn next(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
        fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
            from[self.next(from.len())]
        }
    }

    const ORIGINS: [&str; 11] = [
        "http://*.example.com",
        "https://x*.example.com",
        "https://a.example.com",
        "https://b.example.com",
        "https://*.example.com",
        "https://*",
        "*",
        "http://localhost:*",
        "https://a.example.com:8443",
        "*.com",
        "https://*.b.example.com",
    ];
    const REQUEST_ORIGINS: [&str; 10] = [
        "http://x.b.example.com",
        "https://x.example.com",
        "https://a.example.com",
        "https://b.example.com",
        "https://x.b.example.com",
        "http://localhost:3000",
        "https://a.example.com:8443",
        "https://other.org",
        "",
        "null",
    ];
    const METHODS: [&str; 7] = ["GET", "PUT", "POST", "DELETE", "HEAD", "PATCH", "get"];
    const HEADERS: [&str; 5] = ["x-amz-*", "content-type", "*", "X-Custom", "x-*-id"];
    const REQUESTED: [Option<&str>; 6] = [
        None,
        Some(""),
        Some("content-type"),
        Some("x-amz-date,content-type"),
        Some("X-Custom, x-req-id"),
        Some("x-other"),
    ];

    fn config(g: &mut Gen, rules: usize) -> CorsConfig {
        CorsConfig {
            rules: (0..rules)
                .map(|_| Rule {
                    allowed_origins: (0..1 + g.next(3))
                        .map(|_| g.pick(&ORIGINS).into())
                        .collect(),
                    allowed_methods: (0..1 + g.next(3))
                        .map(|_| g.pick(&METHODS[..5]).into())
                        .collect(),
                    allowed_headers: (0..g.next(3)).map(|_| g.pick(&HEADERS).into()).collect(),
                    ..Rule::default()
                })
                .collect(),
            response_vary: false,
        }
    }

    #[test]
    fn index_agrees_with_the_in_order_scan() {
        let mut g = Gen(0x2545_f491_4f6c_dd1d);
        for round in 0..300 {
            let rules = 1 + g.next(if round % 10 == 0 { 128 } else { 12 });
            let compiled = Compiled::new_unchecked(&config(&mut g, rules), Dialect::S3);
            assert!(compiled.index.is_some());
            for origin in REQUEST_ORIGINS {
                for method in METHODS {
                    for requested in REQUESTED {
                        assert_eq!(
                            compiled.find(origin, method, requested),
                            compiled.scan(origin, method, requested),
                            "round {round}: {origin:?} {method} {requested:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn more_rules_than_the_index_holds_are_scanned() {
        let mut g = Gen(7);
        let mut config = config(&mut g, 150);
        // Only rule 140 allows GET: past the index's 128 bits.
        for rule in &mut config.rules {
            rule.allowed_methods = vec!["PUT".into()];
        }
        config.rules[140].allowed_origins = vec!["https://late.example.net".into()];
        config.rules[140].allowed_methods = vec!["GET".into()];
        let compiled = Compiled::new_unchecked(&config, Dialect::S3);
        assert!(compiled.index.is_none());
        let request = Request::new("GET").with_origin("https://late.example.net");
        assert_eq!(compiled.decide(&request).matched_rule(), Some(140));
    }
}
