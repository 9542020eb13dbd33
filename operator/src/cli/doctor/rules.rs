//! The bucket's rules, when the doctor has them: from `--manifest` (what
//! the bucket should hold) or read live with the backend's credentials
//! (`--bucket-from-manifest`). With them, the engine, not this file,
//! decides: [`findings`] runs the request through [`Compiled::decide`] and
//! [`explain`], applies the browser's checks to the engine's answer, and
//! finds the smallest edit that makes the engine allow the request, by
//! trying edits and asking the engine again. What else an edit allows is
//! also asked of the engine: before and after, for the rule's other
//! methods and origins.

use bucketcors_engine::{Compiled, CorsConfig, Dialect, Request, explain};

use super::Args;
use super::browser::PageRequest;
use super::fetch_checks::{cors_check, preflight_check};
use super::layers::Layer;
use super::probe::Reply;
use super::report::{Finding, Kind, Severity, Verdict};
use crate::cli::backend_args::CredentialsArgs;
use crate::cli::document;
use crate::cli::manifests;

/// Rules the doctor knows, and where they came from.
pub struct KnownRules {
    /// `manifest FILE` or `live rules of s3 bucket NAME`.
    pub source: String,
    /// The bucket's dialect.
    pub dialect: Dialect,
    /// The configuration; `None` for a bucket without CORS.
    pub config: Option<CorsConfig>,
}

/// Reads the rules the flags name; `Ok(None)` without such a flag.
pub async fn load(args: &Args) -> Result<Option<KnownRules>, String> {
    if let Some(path) = &args.manifest {
        let loaded = manifests::load(std::slice::from_ref(path));
        if let Some(invalid) = loaded.invalid.first() {
            return Err(format!("{}: {}", invalid.source, invalid.message));
        }
        return match loaded.manifests.as_slice() {
            [one] => Ok(Some(KnownRules {
                source: format!("manifest {} ({})", one.source, one.name()),
                dialect: one.object.spec.dialect(),
                config: Some(one.object.spec.cors_config()),
            })),
            [] => {
                // Not a manifest: any configuration file `eval` reads.
                let document = document::load(path, None)?;
                let dialect = document.dialect.ok_or_else(|| {
                    format!(
                        "{}: cannot tell the dialect of a {}; use a BucketCors manifest",
                        path.display(),
                        document.format.description()
                    )
                })?;
                Ok(Some(KnownRules {
                    source: format!("configuration {}", path.display()),
                    dialect,
                    config: Some(document.config),
                }))
            }
            many => Err(format!(
                "{}: holds {} BucketCors documents; pass a file with one",
                path.display(),
                many.len()
            )),
        };
    }
    let Some(path) = &args.bucket_from_manifest else {
        return Ok(None);
    };
    let loaded = manifests::load(std::slice::from_ref(path));
    if let Some(invalid) = loaded.invalid.first() {
        return Err(format!("{}: {}", invalid.source, invalid.message));
    }
    let [manifest] = loaded.manifests.as_slice() else {
        return Err(format!(
            "--bucket-from-manifest {}: expected exactly one BucketCors document, found {}",
            path.display(),
            loaded.manifests.len()
        ));
    };
    let connector = CredentialsArgs {
        credentials: args.backend_credentials.clone(),
    }
    .connector()?;
    let spec = &manifest.object.spec;
    let backend = spec
        .backend
        .connect(&connector)
        .await
        .map_err(|e| format!("reading the bucket's rules: {e}"))?;
    let config = backend
        .get_cors()
        .await
        .map_err(|e| format!("reading the bucket's rules: {e}"))?;
    Ok(Some(KnownRules {
        source: format!("live rules of {}", backend.target()),
        dialect: spec.dialect(),
        config,
    }))
}

impl KnownRules {
    fn compiled(&self) -> Result<Compiled, String> {
        match &self.config {
            None => Ok(Compiled::none(self.dialect)),
            Some(config) => Compiled::new(config, self.dialect).map_err(|report| {
                let lines: Vec<String> = report.diagnostics().map(|d| d.to_string()).collect();
                format!(
                    "the rules are invalid for {}: {}",
                    self.dialect,
                    lines.join("; ")
                )
            }),
        }
    }
}

/// The engine's answer as a reply the browser checks read.
fn engine_reply(compiled: &Compiled, request: &Request<'_>) -> Reply {
    let decision = compiled.decide(request);
    Reply {
        status: decision.status(),
        headers: decision
            .headers()
            .map(|(n, v)| (n.to_ascii_lowercase(), v.to_string()))
            .collect(),
        body: String::new(),
    }
}

/// The engine's request for the browser's preflight, or for the actual
/// request when no preflight is needed.
fn engine_request<'a>(request: &'a PageRequest, headers: &'a Option<String>) -> Request<'a> {
    if request.needs_preflight() {
        let mut r = Request::preflight(&request.origin, &request.method);
        if let Some(h) = headers {
            r = r.with_request_headers(h);
        }
        r
    } else {
        Request::new(&request.method).with_origin(&request.origin)
    }
}

/// Would the browser let the page have the answer of a bucket with `compiled`?
fn browser_allows(compiled: &Compiled, request: &PageRequest) -> Result<(), String> {
    let headers = request.request_headers_value();
    if request.needs_preflight() {
        let reply = engine_reply(compiled, &engine_request(request, &headers));
        preflight_check(&reply, request).map_err(|b| b.code().to_owned())?;
    }
    let actual = Request::new(&request.method).with_origin(&request.origin);
    let reply = engine_reply(compiled, &actual);
    cors_check(&reply, &request.origin, request.credentials).map_err(|b| b.code().to_owned())
}

/// What one edit changes in one rule.
#[derive(Debug, Clone, Copy, Default)]
struct Edit {
    origin: bool,
    method: bool,
    headers: bool,
}

impl Edit {
    fn size(self) -> u8 {
        u8::from(self.origin) + u8::from(self.method) + u8::from(self.headers)
    }

    fn all() -> impl Iterator<Item = Edit> {
        (1u8..8).map(|bits| Edit {
            origin: bits & 1 != 0,
            method: bits & 2 != 0,
            headers: bits & 4 != 0,
        })
    }
}

/// `config` with `edit` applied to rule `index`; `None` when nothing changes.
fn edited(
    config: &CorsConfig,
    index: usize,
    edit: Edit,
    request: &PageRequest,
) -> Option<(CorsConfig, Vec<String>)> {
    let mut config = config.clone();
    let rule = &mut config.rules[index];
    let mut changes = Vec::new();
    if edit.origin && !rule.allowed_origins.contains(&request.origin) {
        // First, so that it is the first origin matching (before any `*`:
        // S3 echoes the origin, and so sends Allow-Credentials, only then).
        rule.allowed_origins.insert(0, request.origin.clone());
        changes.push(format!("allowedOrigins: add {:?} first", request.origin));
    }
    if edit.method && !rule.allowed_methods.contains(&request.method) {
        rule.allowed_methods.push(request.method.clone());
        changes.push(format!("allowedMethods: add {}", request.method));
    }
    if edit.headers {
        let missing: Vec<String> = request
            .unsafe_headers()
            .into_iter()
            .filter(|h| {
                !rule
                    .allowed_headers
                    .iter()
                    .any(|a| a.eq_ignore_ascii_case(h))
            })
            .collect();
        if !missing.is_empty() {
            changes.push(format!("allowedHeaders: add {}", missing.join(", ")));
            rule.allowed_headers.extend(missing);
        }
    }
    (!changes.is_empty()).then_some((config, changes))
}

/// Methods a rule may name (every dialect accepts these five).
const METHODS: [&str; 5] = ["GET", "PUT", "POST", "DELETE", "HEAD"];

/// What `after` allows that `before` did not, for the rule's own origins
/// and methods (asked of the engine, preflight by preflight).
fn widening(
    before: &Compiled,
    after: &Compiled,
    config: &CorsConfig,
    index: usize,
    request: &PageRequest,
) -> Vec<String> {
    let rule = &config.rules[index];
    let mut origins: Vec<String> = vec![request.origin.clone()];
    for o in &rule.allowed_origins {
        // A pattern stands for every origin it matches; ask with one of them.
        let sample = o.replacen('*', "any-site", 1);
        if !origins.contains(&sample) {
            origins.push(sample);
        }
    }
    let mut out = Vec::new();
    for origin in &origins {
        for method in METHODS {
            if *origin == request.origin && method == request.method {
                continue;
            }
            let r = Request::preflight(origin, method);
            let was = before.decide(&r).is_allowed();
            let now = after.decide(&r).is_allowed();
            if now && !was {
                let who = if origin.contains("any-site") {
                    let pattern = rule
                        .allowed_origins
                        .iter()
                        .find(|o| o.replacen('*', "any-site", 1) == *origin)
                        .cloned()
                        .unwrap_or_default();
                    format!("every origin matching {pattern:?}")
                } else {
                    format!("{origin:?}")
                };
                out.push(format!("{method} from {who}"));
            }
        }
    }
    out
}

/// The findings the rules support.
pub fn findings(known: &KnownRules, request: &PageRequest, main: &Layer) -> Vec<Finding> {
    let compiled = match known.compiled() {
        Ok(c) => c,
        Err(message) => {
            return vec![Finding::new(
                Kind::FailingField,
                Severity::Warning,
                format!("{}: {message}", known.source),
            )];
        }
    };
    let headers = request.request_headers_value();
    let engine_req = engine_request(request, &headers);
    let explanation = explain(&compiled, &engine_req);
    let engine_verdict = browser_allows(&compiled, request);
    let live = main.verdict(request);
    let mut out = Vec::new();

    let agree = matches!(
        (&engine_verdict, live),
        (Ok(()), Verdict::Allowed) | (Err(_), Verdict::Refused)
    );
    if !agree && live != Verdict::NotProbed {
        out.push(
            Finding::new(
                Kind::LayersDisagree,
                Severity::Error,
                format!(
                    "the live answer differs from the {}: the rules {} this request, the URL {} it",
                    known.source,
                    if engine_verdict.is_ok() {
                        "allow"
                    } else {
                        "refuse"
                    },
                    if live == Verdict::Allowed {
                        "allows"
                    } else {
                        "refuses"
                    },
                ),
            )
            .evidence(
                "the bucket does not hold these rules (not applied yet, drifted), or a layer in \
                 front (edge, CDN, proxy, cache) answers on its own",
            )
            .fix(
                "apply the manifest (`bucketcors apply -f FILE`), then run the doctor again; with \
                  --via, compare the bucket's endpoint and each layer",
            ),
        );
    }
    let Err(why) = engine_verdict else {
        return out;
    };
    let mut finding = Finding::new(
        Kind::FailingField,
        Severity::Error,
        format!(
            "the {} refuse this request ({why}); the engine explains:",
            known.source
        ),
    );
    for line in &explanation.lines {
        finding = finding.evidence(line.clone());
    }
    finding = match suggest(known, &compiled, request) {
        Suggestion::Edit {
            rule,
            changes,
            widens,
        } => {
            finding = finding.evidence(if widens.is_empty() {
                "this edit allows nothing else: no other origin or method gains access".to_owned()
            } else {
                format!(
                    "this edit also allows more than asked: {} (the engine says so, preflight by \
                     preflight); a separate rule for exactly this request would not",
                    widens.join(", ")
                )
            });
            finding.fix(format!("in rule {rule}: {}", changes.join("; ")))
        }
        Suggestion::NewRule { yaml } => finding
            .evidence("a rule for exactly this request allows nothing else")
            .fix(format!("add this rule first: {yaml}")),
        Suggestion::Impossible(why) => finding.fix(why),
    };
    out.push(finding);
    out
}

enum Suggestion {
    Edit {
        rule: usize,
        changes: Vec<String>,
        widens: Vec<String>,
    },
    NewRule {
        yaml: String,
    },
    Impossible(String),
}

fn suggest(known: &KnownRules, before: &Compiled, request: &PageRequest) -> Suggestion {
    if known.dialect == Dialect::Oss && request.credentials {
        return Suggestion::Impossible(
            "OSS never answers with Access-Control-Allow-Credentials: fetch without credentials, \
             or serve the bucket through the bucketcors edge with S3 rules"
                .to_owned(),
        );
    }
    if !METHODS.contains(&request.method.as_str()) {
        return Suggestion::Impossible(format!(
            "{} is not a method bucket CORS rules can allow (GET, PUT, POST, DELETE, HEAD)",
            request.method
        ));
    }
    let config = known.config.clone().unwrap_or_default();
    let mut best: Option<(u8, usize, Edit)> = None;
    for index in 0..config.rules.len() {
        for edit in Edit::all() {
            if best.is_some_and(|(size, _, _)| size <= edit.size()) {
                continue;
            }
            let Some((candidate, _)) = edited(&config, index, edit, request) else {
                continue;
            };
            let Ok(compiled) = Compiled::new(&candidate, known.dialect) else {
                continue;
            };
            if browser_allows(&compiled, request).is_ok() {
                best = Some((edit.size(), index, edit));
            }
        }
    }
    if let Some((_, index, edit)) = best
        && let Some((candidate, changes)) = edited(&config, index, edit, request)
        && let Ok(after) = Compiled::new(&candidate, known.dialect)
    {
        return Suggestion::Edit {
            rule: index,
            changes,
            widens: widening(before, &after, &config, index, request),
        };
    }
    // No edit of an existing rule works (or there are none): a rule of its own.
    let rule = bucketcors_engine::Rule {
        allowed_origins: vec![request.origin.clone()],
        allowed_methods: vec![request.method.clone()],
        allowed_headers: request.unsafe_headers(),
        ..Default::default()
    };
    let mut candidate = config.clone();
    candidate.rules.insert(0, rule.clone());
    match Compiled::new(&candidate, known.dialect) {
        Ok(after) if browser_allows(&after, request).is_ok() => Suggestion::NewRule {
            yaml: serde_json::to_string(&rule).unwrap_or_default(),
        },
        Ok(_) => Suggestion::Impossible(
            "no rule the engine accepts makes the browser allow this request".to_owned(),
        ),
        Err(report) => Suggestion::Impossible(format!(
            "a rule for this request is invalid for {}: {}",
            known.dialect,
            report
                .diagnostics()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::doctor::browser::PageHeader;

    fn known(rules: serde_json::Value, dialect: Dialect) -> KnownRules {
        KnownRules {
            source: "test rules".into(),
            dialect,
            config: Some(serde_json::from_value(serde_json::json!({ "rules": rules })).unwrap()),
        }
    }

    fn request(origin: &str, method: &str, headers: &[&str]) -> PageRequest {
        PageRequest {
            url: "https://b.example/k".into(),
            origin: origin.into(),
            method: method.into(),
            headers: headers
                .iter()
                .map(|h| PageHeader {
                    name: h.to_string(),
                    value: None,
                })
                .collect(),
            credentials: false,
        }
    }

    #[test]
    fn the_smallest_edit_is_found_and_its_widening_asked_of_the_engine() {
        let k = known(
            serde_json::json!([{"allowedOrigins": ["https://app.example", "https://admin.example"], "allowedMethods": ["GET"]}]),
            Dialect::S3,
        );
        let before = k.compiled().unwrap();
        let r = request("https://app.example", "DELETE", &[]);
        assert!(browser_allows(&before, &r).is_err());
        match suggest(&k, &before, &r) {
            Suggestion::Edit {
                rule,
                changes,
                widens,
            } => {
                assert_eq!(rule, 0);
                assert_eq!(changes, ["allowedMethods: add DELETE"]);
                assert_eq!(widens, [r#"DELETE from "https://admin.example""#]);
            }
            _ => panic!("an edit of rule 0"),
        }
    }

    #[test]
    fn a_wrong_scheme_gets_the_exact_origin_added() {
        let k = known(
            serde_json::json!([{"allowedOrigins": ["https://app.example"], "allowedMethods": ["GET", "PUT"]}]),
            Dialect::S3,
        );
        let before = k.compiled().unwrap();
        let r = request("http://app.example", "GET", &[]);
        match suggest(&k, &before, &r) {
            Suggestion::Edit {
                changes, widens, ..
            } => {
                assert_eq!(
                    changes,
                    [r#"allowedOrigins: add "http://app.example" first"#]
                );
                // The rule also allows PUT: the new origin gets it too.
                assert_eq!(widens, [r#"PUT from "http://app.example""#]);
            }
            _ => panic!("an edit"),
        }
    }

    #[test]
    fn oss_credentials_cannot_be_fixed_by_a_rule() {
        let k = known(
            serde_json::json!([{"allowedOrigins": ["https://app.example"], "allowedMethods": ["GET"]}]),
            Dialect::Oss,
        );
        let before = k.compiled().unwrap();
        let mut r = request("https://app.example", "GET", &[]);
        r.credentials = true;
        assert!(browser_allows(&before, &r).is_err());
        assert!(matches!(
            suggest(&k, &before, &r),
            Suggestion::Impossible(_)
        ));
    }
}
