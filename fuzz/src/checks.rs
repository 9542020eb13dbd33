//! The invariants the fuzz targets check. This file depends only on the
//! engine (and quick-xml, which the engine depends on), so that
//! `engine/tests/fuzz_regressions.rs` includes it unchanged and replays
//! every kept crash with exactly the checks that found it.
//!
//! Inputs are plain bytes. The evaluation target decodes its bytes with a
//! small reader of its own ([`Input::decode`]) rather than `arbitrary`, so
//! that a kept input means the same request forever, whatever version of
//! `arbitrary` is installed.

use bucketcors_engine::format::{self, Format};
use bucketcors_engine::{
    Compiled, CorsConfig, Dialect, Request, ResourceType, Rule, explain, validate,
};

/// A parser target: `data` read as `format`.
///
/// - parsing, detecting and validating never panic;
/// - what parses prints in every format and parses back as exactly what
///   that format holds ([`format::lossy`]).
pub fn check_parser(data: &[u8], format: Format) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = format::detect(text);
    let _ = format::parse_document(text).map_err(|e| e.to_string());
    match format::parse(text, format) {
        Ok(config) => {
            check_round_trips(&config);
            for dialect in [Dialect::Oss, Dialect::S3] {
                let report = validate(&config, dialect);
                let _ = report.to_string();
            }
        }
        Err(e) => {
            // Rendering the error must not panic either.
            let _ = e.to_string();
        }
    }
}

/// Every format prints `config` and reads back what it holds.
pub fn check_round_trips(config: &CorsConfig) {
    for target in Format::ALL {
        let printed = format::print(config, target);
        let back = match format::parse(&printed, target) {
            Ok(back) => back,
            Err(e) => panic!("{target} does not read its own output: {e}\n{printed}"),
        };
        assert_eq!(
            back,
            format::lossy(config, target),
            "{target} round trip\n{printed}"
        );
        assert_eq!(
            format::losses(config, target).is_empty(),
            back == *config,
            "{target} losses"
        );
        assert_eq!(format::detect(&printed), Some(target), "{target} detection");
    }
}

/// Strings the evaluation input picks from, so that random bytes often
/// make configurations that validate and requests that match.
const VOCABULARY: &[&str] = &[
    "*",
    "https://app.example.com",
    "https://*.example.com",
    "http://localhost:4200",
    "https://localhost:4200",
    "localhost:4566",
    "https://a.b.example.com",
    "http://test.origin.com/",
    "http://*.origin.com",
    "",
    "GET",
    "PUT",
    "POST",
    "DELETE",
    "HEAD",
    "OPTIONS",
    "get",
    "PATCH",
    "x-amz-*",
    "X-Amz-Date",
    "x-oss-*",
    "Content-Type",
    "content-type",
    "Authorization",
    "x-amz-date, content-type",
    " X-A ,, x-b,\t,",
    "ETag",
    "x-amz-request-id",
    "a*b",
    "**",
    "<&>\"'",
    "é*",
];

/// Reads decisions out of bytes: one byte per choice, strings either from
/// [`VOCABULARY`] or length-prefixed from the input. Past the end every
/// read gives zero, so any input decodes.
struct Reader<'a> {
    data: &'a [u8],
}

impl Reader<'_> {
    fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((b, rest)) => {
                self.data = rest;
                *b
            }
            None => 0,
        }
    }

    fn string(&mut self) -> String {
        let b = self.byte();
        if b < 0xc0 {
            return VOCABULARY[b as usize % VOCABULARY.len()].to_owned();
        }
        let len = (b - 0xc0) as usize;
        let take = len.min(self.data.len());
        let (s, rest) = self.data.split_at(take);
        self.data = rest;
        String::from_utf8_lossy(s).into_owned()
    }

    fn option(&mut self) -> Option<String> {
        (!self.byte().is_multiple_of(4)).then(|| self.string())
    }

    fn strings(&mut self) -> Vec<String> {
        let n = self.byte() % 5;
        (0..n).map(|_| self.string()).collect()
    }
}

/// Where the evaluation target's configuration comes from.
#[derive(Debug)]
pub enum ConfigSource {
    /// A bucket without CORS.
    None,
    /// A document in any format, detected.
    Text(String),
    /// Rules built directly (most inputs: reaches compile and decide).
    Rules(CorsConfig),
}

/// One evaluation case decoded from bytes.
#[derive(Debug)]
pub struct Input {
    /// The bucket's dialect.
    pub dialect: Dialect,
    /// Object or bucket.
    pub resource: ResourceType,
    /// The request method.
    pub method: String,
    /// `Origin`.
    pub origin: Option<String>,
    /// `Access-Control-Request-Method`.
    pub request_method: Option<String>,
    /// `Access-Control-Request-Headers`.
    pub request_headers: Option<String>,
    /// The configuration.
    pub config: ConfigSource,
}

impl Input {
    /// Decodes any bytes into a case.
    pub fn decode(data: &[u8]) -> Input {
        let mut r = Reader { data };
        let flags = r.byte();
        let dialect = if flags & 1 == 0 {
            Dialect::S3
        } else {
            Dialect::Oss
        };
        let resource = if flags & 2 == 0 {
            ResourceType::Object
        } else {
            ResourceType::Bucket
        };
        let method = if flags & 4 == 0 {
            "OPTIONS".to_owned()
        } else {
            r.string()
        };
        let origin = r.option();
        let request_method = r.option();
        let request_headers = r.option();
        let config = match (flags >> 3) % 8 {
            0 => ConfigSource::None,
            1 => ConfigSource::Text(String::from_utf8_lossy(r.data).into_owned()),
            _ => {
                let n = r.byte() % 12;
                let rules = (0..n)
                    .map(|_| Rule {
                        id: r.option(),
                        allowed_origins: r.strings(),
                        allowed_methods: r.strings(),
                        allowed_headers: r.strings(),
                        expose_headers: r.strings(),
                        max_age_seconds: (r.byte() % 2 == 1)
                            .then(|| u64::from(r.byte()) * 1000 + u64::from(r.byte())),
                    })
                    .collect();
                ConfigSource::Rules(CorsConfig {
                    rules,
                    response_vary: flags & 0x80 != 0,
                })
            }
        };
        Input {
            dialect,
            resource,
            method,
            origin,
            request_method,
            request_headers,
            config,
        }
    }

    fn request(&self) -> Request<'_> {
        Request {
            method: &self.method,
            origin: self.origin.as_deref(),
            request_method: self.request_method.as_deref(),
            request_headers: self.request_headers.as_deref(),
            resource: self.resource,
        }
    }
}

/// The evaluation target: parse (when text), validate, compile, decide and
/// explain. Checks that:
///
/// - compiling refuses exactly the configurations validation refuses;
/// - decisions are deterministic, statuses are 200/400/403, only answered
///   preflights have bodies, header names are canonical, and the response
///   is bounded by the sizes of configuration and request;
/// - every header value's `len()` is the length it writes;
/// - an error body is well-formed XML that echoes the method verbatim;
/// - for a valid configuration, a preflight matches exactly the first rule
///   a plain reference reading of the spec picks;
/// - an invalid configuration compiled unchecked still decides without
///   panicking.
pub fn check_eval(data: &[u8]) {
    let input = Input::decode(data);
    let config = match &input.config {
        ConfigSource::None => {
            check_decision(&Compiled::none(input.dialect), &input, None);
            return;
        }
        ConfigSource::Text(text) => match format::parse_any(text) {
            Ok((config, _)) => config,
            Err(_) => return,
        },
        ConfigSource::Rules(config) => config.clone(),
    };
    let report = validate(&config, input.dialect);
    match Compiled::new(&config, input.dialect) {
        Ok(compiled) => {
            assert!(report.is_valid(), "compiled an invalid configuration");
            check_decision(&compiled, &input, Some(&config));
        }
        Err(refused) => {
            assert!(!report.is_valid(), "refused a valid configuration");
            assert!(!refused.errors.is_empty());
            let unchecked = Compiled::new_unchecked(&config, input.dialect);
            check_decision(&unchecked, &input, None);
        }
    }
}

fn check_decision(compiled: &Compiled, input: &Input, valid: Option<&CorsConfig>) {
    let request = input.request();
    let decision = compiled.decide(&request);
    let status = decision.status();
    assert!(matches!(status, 200 | 400 | 403), "status {status}");
    if !request.is_options() {
        assert_eq!(status, 200, "an actual request is never refused");
        assert!(decision.body().is_none());
    }
    if status == 200 {
        assert!(decision.body().is_none());
    } else {
        assert!(decision.body().is_some());
    }

    let rules = compiled.config().map_or(0, |c| c.rules.len());
    if let Some(i) = decision.matched_rule() {
        assert!(i < rules, "matched rule {i} of {rules}");
    }

    let mut total = 0usize;
    let mut headers = Vec::new();
    for (name, value) in decision.headers() {
        assert!(!name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic()));
        let written = value.to_string();
        assert_eq!(value.len(), written.len(), "{name} length");
        total += written.len() + name.len();
        headers.push((name, written));
    }
    let config_bytes: usize = compiled.config().map_or(0, |c| {
        c.rules
            .iter()
            .map(|r| {
                [
                    &r.allowed_origins,
                    &r.allowed_methods,
                    &r.allowed_headers,
                    &r.expose_headers,
                ]
                .iter()
                .flat_map(|v| v.iter())
                .map(|s| s.len() + 2)
                .sum::<usize>()
                    + 24
            })
            .sum()
    });
    let request_bytes = input.method.len()
        + input.origin.as_ref().map_or(0, String::len)
        + input.request_method.as_ref().map_or(0, String::len)
        + input.request_headers.as_ref().map_or(0, String::len);
    let bound = 2 * (config_bytes + request_bytes) + 1024;
    assert!(total <= bound, "headers {total} bytes > {bound}");

    // Access-Control-Allow-Headers is spec section 3's plain definition of
    // the request's value (the writer has a word-at-a-time path).
    if let Some((_, written)) = headers
        .iter()
        .find(|(n, _)| *n == "Access-Control-Allow-Headers")
    {
        let plain: Vec<String> = request
            .request_headers
            .unwrap_or_default()
            .split(',')
            .map(|n| n.trim_matches([' ', '\t']))
            .filter(|n| !n.is_empty())
            .map(str::to_ascii_lowercase)
            .collect();
        assert_eq!(*written, plain.join(", "), "Access-Control-Allow-Headers");
    }

    // Deterministic.
    let again: Vec<(&str, String)> = compiled
        .decide(&request)
        .headers()
        .map(|(n, v)| (n, v.to_string()))
        .collect();
    assert_eq!(headers, again);

    if let Some(body) = decision.body() {
        let text = body.to_string();
        assert!(text.len() <= 2 * request_bytes + 1024, "body too long");
        check_error_body(&text, compiled.dialect(), &request);
    }

    let explanation = explain(compiled, &request);
    assert!(!explanation.lines.is_empty());

    if let (Some(config), true, Some(origin), Some(method)) = (
        valid,
        request.is_options(),
        request.origin,
        request.request_method,
    ) {
        let expected = reference_first_match(config, origin, method, request.request_headers);
        assert_eq!(decision.matched_rule(), expected, "first matching rule");
        assert_eq!(status == 200, expected.is_some());
    }
}

/// The error body parses as XML and, for S3, its `<Method>` is the
/// request's `Access-Control-Request-Method` (or `OPTIONS`) unchanged.
fn check_error_body(text: &str, dialect: Dialect, request: &Request<'_>) {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut in_method = false;
    let mut method: Option<String> = None;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                in_method = e.name().as_ref() == b"Method";
                if in_method {
                    method = Some(String::new());
                }
            }
            Ok(Event::End(_)) => in_method = false,
            Ok(Event::Text(t)) if in_method => {
                if let (Some(m), Ok(s)) = (method.as_mut(), t.decode()) {
                    m.push_str(&s);
                }
            }
            Ok(Event::GeneralRef(r)) if in_method => {
                let name = r.decode().expect("utf-8 reference");
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => quick_xml::escape::resolve_predefined_entity(&name)
                        .unwrap_or_else(|| panic!("unknown entity &{name}; in {text}"))
                        .to_owned(),
                };
                if let Some(m) = method.as_mut() {
                    m.push_str(&resolved);
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("error body is not well-formed XML: {e}\n{text}"),
        }
    }
    if dialect == Dialect::S3
        && let Some(method) = method
    {
        assert_eq!(method, request.request_method.unwrap_or("OPTIONS"));
    }
}

/// The spec's section 2, read plainly: the first rule whose origins,
/// methods and (all) requested headers match.
fn reference_first_match(
    config: &CorsConfig,
    origin: &str,
    method: &str,
    request_headers: Option<&str>,
) -> Option<usize> {
    let names: Vec<String> = request_headers
        .map(|raw| {
            raw.split(',')
                .map(|n| n.trim_matches([' ', '\t']).to_ascii_lowercase())
                .filter(|n| !n.is_empty())
                .collect()
        })
        .unwrap_or_default();
    config.rules.iter().position(|rule| {
        rule.allowed_origins.iter().any(|o| wildcard(o, origin))
            && rule.allowed_methods.iter().any(|m| m == method)
            && names.iter().all(|n| {
                rule.allowed_headers
                    .iter()
                    .any(|h| wildcard(&h.to_ascii_lowercase(), n))
            })
    })
}

/// `pattern` with at most one `*` (validated) against `value`.
fn wildcard(pattern: &str, value: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == value,
        Some((prefix, suffix)) => {
            value.len() >= prefix.len() + suffix.len()
                && value.starts_with(prefix)
                && value.ends_with(suffix)
        }
    }
}
