//! A plain reference evaluator, written straight from the spec's sections
//! 2-4 without looking at the engine's compiled matcher: it works on the
//! configuration's strings, matches patterns with a general recursive glob
//! (not prefix/suffix), builds owned strings, and allocates freely. The
//! property test checks the engine agrees with it.
#![allow(dead_code)]

use bucketcors_engine::{CorsConfig, Dialect, ResourceType};

/// A request, owned.
#[derive(Debug, Clone)]
pub struct RefRequest {
    pub method: String,
    pub origin: Option<String>,
    pub acrm: Option<String>,
    pub acrh: Option<String>,
    pub resource: ResourceType,
}

/// A response, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    pub matched_rule: Option<usize>,
}

/// Glob with `*` matching any run of characters; general, recursive.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => (0..=text.len()).any(|i| glob(rest, &text[i..])),
        Some((c, rest)) => text.first() == Some(c) && glob(rest, &text[1..]),
    }
}

fn origin_allowed(allowed: &str, origin: &str) -> bool {
    allowed == "*" || glob(allowed.as_bytes(), origin.as_bytes())
}

fn header_allowed(allowed: &str, name: &str) -> bool {
    glob(
        allowed.to_lowercase().as_bytes(),
        name.to_lowercase().as_bytes(),
    )
}

/// Splits an Access-Control-Request-Headers value: commas, trimmed, empty
/// names ignored.
pub fn header_names(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(|s| s.trim_matches(|c| c == ' ' || c == '\t').to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The first rule matching; with whether its first matching origin is `*`.
fn first_match(
    config: &CorsConfig,
    origin: &str,
    method: &str,
    headers: &[String],
) -> Option<(usize, bool)> {
    for (i, rule) in config.rules.iter().enumerate() {
        let first_origin = rule
            .allowed_origins
            .iter()
            .find(|a| origin_allowed(a, origin));
        let Some(first_origin) = first_origin else {
            continue;
        };
        if !rule.allowed_methods.iter().any(|m| m == method) {
            continue;
        }
        let all_headers = headers
            .iter()
            .all(|h| rule.allowed_headers.iter().any(|a| header_allowed(a, h)));
        if !all_headers {
            continue;
        }
        return Some((i, first_origin == "*"));
    }
    None
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

const S3_VARY: &str = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method";
const S3_NOT_ALLOWED: &str = "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.";
const OSS_NOT_ALLOWED: &str = "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Requet-Headers are not whitelisted by the resource's CORS spec.";
const NOT_ENABLED: &str = "CORSResponse: CORS is not enabled for this bucket.";

fn s3_error(code: &str, message: &str, method_and_type: Option<(&str, &str)>) -> String {
    let mut s = format!("<Error><Code>{code}</Code><Message>{message}</Message>");
    if let Some((method, resource)) = method_and_type {
        s += &format!(
            "<Method>{}</Method><ResourceType>{resource}</ResourceType>",
            escape(method)
        );
    }
    s + "<RequestId>0000000000000000</RequestId><HostId>bucketcors</HostId></Error>"
}

fn oss_error(code: &str, message: &str, ec: &str) -> String {
    format!(
        "<Error><Code>{code}</Code><Message>{message}</Message><RequestId>0000000000000000</RequestId><HostId>bucketcors</HostId><EC>{ec}</EC></Error>"
    )
}

fn h(name: &str, value: &str) -> (String, String) {
    (name.to_string(), value.to_string())
}

/// Evaluates `request` against `config` (`None`: no CORS configuration).
pub fn evaluate(config: Option<&CorsConfig>, dialect: Dialect, r: &RefRequest) -> RefResponse {
    match dialect {
        Dialect::S3 => evaluate_s3(config, r),
        Dialect::Oss => evaluate_oss(config, r),
    }
}

fn resource_name(r: &RefRequest) -> &'static str {
    match r.resource {
        ResourceType::Object => "OBJECT",
        ResourceType::Bucket => "BUCKET",
    }
}

fn refused(status: u16, body: String, extra: Vec<(String, String)>) -> RefResponse {
    let mut headers = vec![h("Content-Type", "application/xml")];
    headers.extend(extra);
    RefResponse {
        status,
        headers,
        body: Some(body),
        matched_rule: None,
    }
}

fn evaluate_s3(config: Option<&CorsConfig>, r: &RefRequest) -> RefResponse {
    let pass = RefResponse {
        status: 200,
        headers: vec![],
        body: None,
        matched_rule: None,
    };
    if r.method == "OPTIONS" {
        let Some(origin) = &r.origin else {
            return refused(
                400,
                s3_error(
                    "BadRequest",
                    "Insufficient information. Origin request header needed.",
                    None,
                ),
                vec![],
            );
        };
        let Some(config) = config else {
            let m = r.acrm.as_deref().unwrap_or("OPTIONS");
            return refused(
                403,
                s3_error("AccessForbidden", NOT_ENABLED, Some((m, "BUCKET"))),
                vec![],
            );
        };
        let not_allowed = |m: &str| {
            refused(
                403,
                s3_error(
                    "AccessForbidden",
                    S3_NOT_ALLOWED,
                    Some((m, resource_name(r))),
                ),
                vec![],
            )
        };
        let Some(acrm) = &r.acrm else {
            return not_allowed("OPTIONS");
        };
        let names = header_names(r.acrh.as_deref().unwrap_or(""));
        let Some((i, star)) = first_match(config, origin, acrm, &names) else {
            return not_allowed(acrm);
        };
        let rule = &config.rules[i];
        let mut headers = Vec::new();
        if star {
            headers.push(h("Access-Control-Allow-Origin", "*"));
        } else {
            headers.push(h("Access-Control-Allow-Origin", origin));
            headers.push(h("Access-Control-Allow-Credentials", "true"));
        }
        headers.push(h(
            "Access-Control-Allow-Methods",
            &rule.allowed_methods.join(", "),
        ));
        if !names.is_empty() {
            let lower: Vec<String> = names.iter().map(|n| n.to_ascii_lowercase()).collect();
            headers.push(h("Access-Control-Allow-Headers", &lower.join(", ")));
        }
        if !rule.expose_headers.is_empty() {
            headers.push(h(
                "Access-Control-Expose-Headers",
                &rule.expose_headers.join(", "),
            ));
        }
        if let Some(age) = rule.max_age_seconds {
            headers.push(h("Access-Control-Max-Age", &age.to_string()));
        }
        headers.push(h("Vary", S3_VARY));
        return RefResponse {
            status: 200,
            headers,
            body: None,
            matched_rule: Some(i),
        };
    }
    let (Some(origin), Some(config)) = (&r.origin, config) else {
        return pass;
    };
    let method = r.acrm.clone().unwrap_or_else(|| r.method.clone());
    let names = header_names(r.acrh.as_deref().unwrap_or(""));
    let Some((i, star)) = first_match(config, origin, &method, &names) else {
        return pass;
    };
    let rule = &config.rules[i];
    let mut headers = Vec::new();
    if star {
        headers.push(h("Access-Control-Allow-Origin", "*"));
    } else {
        headers.push(h("Access-Control-Allow-Origin", origin));
        headers.push(h("Access-Control-Allow-Credentials", "true"));
    }
    headers.push(h(
        "Access-Control-Allow-Methods",
        &rule.allowed_methods.join(", "),
    ));
    if !rule.expose_headers.is_empty() {
        headers.push(h(
            "Access-Control-Expose-Headers",
            &rule.expose_headers.join(", "),
        ));
    }
    if let Some(age) = rule.max_age_seconds {
        headers.push(h("Access-Control-Max-Age", &age.to_string()));
    }
    headers.push(h("Vary", S3_VARY));
    RefResponse {
        status: 200,
        headers,
        body: None,
        matched_rule: Some(i),
    }
}

fn evaluate_oss(config: Option<&CorsConfig>, r: &RefRequest) -> RefResponse {
    let vary: Vec<(String, String)> = if config.is_some_and(|c| c.response_vary) {
        vec![h("Vary", "Origin")]
    } else {
        vec![]
    };
    if r.method == "OPTIONS" {
        let Some(origin) = &r.origin else {
            return refused(
                400,
                oss_error(
                    "BadRequest",
                    "Insufficient information. Origin request header needed",
                    "0003-00000002",
                ),
                vary,
            );
        };
        let Some(config) = config else {
            return refused(
                403,
                oss_error("AccessForbidden", NOT_ENABLED, "0003-00000001"),
                vary,
            );
        };
        let Some(acrm) = &r.acrm else {
            return refused(
                400,
                oss_error(
                    "BadRequest",
                    "Insufficient information. Request Access-Control-Request-Method header needed",
                    "0003-00000002",
                ),
                vary,
            );
        };
        let names = header_names(r.acrh.as_deref().unwrap_or(""));
        let Some((i, _)) = first_match(config, origin, acrm, &names) else {
            return refused(
                403,
                oss_error("AccessForbidden", OSS_NOT_ALLOWED, "0003-00000001"),
                vary,
            );
        };
        let rule = &config.rules[i];
        let mut headers = vec![
            h("Access-Control-Allow-Origin", origin),
            h(
                "Access-Control-Allow-Methods",
                &rule.allowed_methods.join(", "),
            ),
        ];
        if !names.is_empty() {
            let lower: Vec<String> = names.iter().map(|n| n.to_ascii_lowercase()).collect();
            headers.push(h("Access-Control-Allow-Headers", &lower.join(", ")));
        }
        if !rule.expose_headers.is_empty() {
            headers.push(h(
                "Access-Control-Expose-Headers",
                &rule.expose_headers.join(", "),
            ));
        }
        if let Some(age) = rule.max_age_seconds {
            headers.push(h("Access-Control-Max-Age", &age.to_string()));
        }
        headers.extend(vary);
        return RefResponse {
            status: 200,
            headers,
            body: None,
            matched_rule: Some(i),
        };
    }
    let pass = RefResponse {
        status: 200,
        headers: vary.clone(),
        body: None,
        matched_rule: None,
    };
    let (Some(origin), Some(config)) = (&r.origin, config) else {
        return pass;
    };
    let Some((i, _)) = first_match(config, origin, &r.method, &[]) else {
        return pass;
    };
    let rule = &config.rules[i];
    let mut headers = vec![
        h("Access-Control-Allow-Origin", origin),
        h(
            "Access-Control-Allow-Methods",
            &rule.allowed_methods.join(", "),
        ),
    ];
    if !rule.expose_headers.is_empty() {
        headers.push(h(
            "Access-Control-Expose-Headers",
            &rule.expose_headers.join(", "),
        ));
    }
    if let Some(age) = rule.max_age_seconds {
        headers.push(h("Access-Control-Max-Age", &age.to_string()));
    }
    headers.extend(vary);
    RefResponse {
        status: 200,
        headers,
        body: None,
        matched_rule: Some(i),
    }
}
