//! How a store itself answers one request, where the capability table says
//! it departs from its dialect: the model behind `bucketcors eval
//! --target`.
//!
//! Two stores have a model:
//!
//! - Garage ([`super::table`]'s Garage row, each entry tested against the
//!   real server, Garage 2.5.0): the first rule whose origin matches the
//!   request's by a `*` pattern, whose method is the request's exactly or
//!   `*`, and each of whose requested header names matches by a `*`
//!   pattern case-sensitively; the answer carries `*` for a `*` rule, else the request's origin,
//!   carries the allowed headers as written and no Max-Age or credentials;
//! - Ceph RGW before ceph/ceph#69190: the first rule whose origin matches
//!   is the only one tried; when it does not allow the method and headers,
//!   the preflight is refused although a later rule allows it.
//!
//! Every other target answers as its dialect as far as the table knows;
//! [`answer`] returns `None` for them.

use crate::compile::Compiled;
use crate::model::{CorsConfig, Rule};
use crate::pattern::Pattern;
use crate::request::Request;

use super::Target;

/// A store's answer: status, CORS headers (in the store's order) and the
/// rule used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetAnswer {
    /// The store.
    pub target: Target,
    /// The status for a preflight (or the store's own for an actual request
    /// without CORS trouble: 200).
    pub status: u16,
    /// The CORS response headers.
    pub headers: Vec<(String, String)>,
    /// The rule that answered, zero-based.
    pub matched_rule: Option<usize>,
    /// Why, in one sentence.
    pub reason: String,
}

/// How `target` answers `request` for `config` (`None`: no CORS
/// configuration), or `None` when the target answers as its dialect.
pub fn answer(
    target: Target,
    config: Option<&CorsConfig>,
    request: &Request<'_>,
) -> Option<TargetAnswer> {
    match target {
        Target::Garage => Some(garage(config, request)),
        Target::Ceph => Some(ceph(config, request)),
        _ => None,
    }
}

fn garage(config: Option<&CorsConfig>, request: &Request<'_>) -> TargetAnswer {
    let refuse = |status: u16, reason: &str| TargetAnswer {
        target: Target::Garage,
        status,
        headers: Vec::new(),
        matched_rule: None,
        reason: reason.to_owned(),
    };
    let preflight = request.is_options();
    let Some(origin) = request.origin else {
        return if preflight {
            refuse(
                400,
                "Garage refuses a preflight without Origin (400 Missing Origin header)",
            )
        } else {
            refuse(200, "no Origin: not a CORS request, no CORS headers")
        };
    };
    let method = if preflight {
        match request.request_method {
            Some(m) => m,
            None => {
                return refuse(
                    400,
                    "Garage refuses a preflight without Access-Control-Request-Method (400)",
                );
            }
        }
    } else {
        // Garage matches an actual request by its own method.
        request.method
    };
    let names: Vec<&str> = request
        .request_headers
        .map(|h| h.split(',').map(str::trim).collect())
        .unwrap_or_default();
    let found = config.and_then(|c| {
        c.rules
            .iter()
            .enumerate()
            .find(|(_, rule)| garage_matches(rule, origin, method, &names))
    });
    match found {
        Some((index, rule)) => TargetAnswer {
            target: Target::Garage,
            status: 200,
            headers: vec![
                (
                    "Access-Control-Allow-Origin".into(),
                    // `*` for a rule allowing any origin, else the request's.
                    if rule.allowed_origins.iter().any(|o| o == "*") {
                        "*".to_owned()
                    } else {
                        origin.to_owned()
                    },
                ),
                (
                    "Access-Control-Allow-Methods".into(),
                    rule.allowed_methods.join(", "),
                ),
                (
                    "Access-Control-Allow-Headers".into(),
                    rule.allowed_headers.join(", "),
                ),
                (
                    "Access-Control-Expose-Headers".into(),
                    rule.expose_headers.join(", "),
                ),
            ],
            matched_rule: Some(index),
            reason: format!(
                "rule {index} matches by Garage's comparison; Garage sends `*` for a `*` rule \
                 or else the request's origin, sends the rule's other lists as configured, no Access-Control-Max-Age and no \
                 Access-Control-Allow-Credentials"
            ),
        },
        None if preflight => refuse(
            403,
            "no rule matches by Garage's comparison (403 This CORS request is not allowed.)",
        ),
        None => refuse(
            200,
            "no rule matches: Garage's response carries no CORS headers",
        ),
    }
}

/// Garage's rule match (observed against Garage 2.5.0): origin by a `*`
/// pattern, method exactly or `*`, every requested name by a `*` pattern
/// compared case-sensitively.
fn garage_matches(rule: &Rule, origin: &str, method: &str, names: &[&str]) -> bool {
    rule.allowed_origins
        .iter()
        .any(|o| Pattern::new(o).matches(origin))
        && rule.allowed_methods.iter().any(|m| m == "*" || m == method)
        && names.iter().all(|n| {
            rule.allowed_headers
                .iter()
                .any(|h| Pattern::new(h).matches(n))
        })
}

fn ceph(config: Option<&CorsConfig>, request: &Request<'_>) -> TargetAnswer {
    let dialect = Target::Ceph.dialect();
    let full = match config {
        Some(c) => Compiled::new_unchecked(c, dialect),
        None => Compiled::none(dialect),
    };
    let as_dialect = |compiled: &Compiled, reason: String| {
        let decision = compiled.decide(request);
        TargetAnswer {
            target: Target::Ceph,
            status: decision.status(),
            headers: decision
                .headers()
                .map(|(n, v)| (n.to_owned(), v.to_string()))
                .collect(),
            matched_rule: decision.matched_rule(),
            reason,
        }
    };
    let (Some(config), Some(origin)) = (config, request.origin) else {
        return as_dialect(&full, "as the s3 dialect".to_owned());
    };
    let first_by_origin = config.rules.iter().position(|r| {
        r.allowed_origins
            .iter()
            .any(|o| Pattern::new(o).matches(origin))
    });
    let Some(first) = first_by_origin else {
        return as_dialect(
            &full,
            "no rule allows the origin, as the s3 dialect".to_owned(),
        );
    };
    // Only the first origin match is tried: decide with that rule alone.
    let alone = CorsConfig {
        rules: vec![config.rules[first].clone()],
        response_vary: false,
    };
    let mut out = as_dialect(
        &Compiled::new_unchecked(&alone, dialect),
        format!(
            "Ceph RGW before ceph/ceph#69190 tries only rule {first}, the first whose origin \
             matches"
        ),
    );
    out.matched_rule = out.matched_rule.map(|_| first);
    out
}
