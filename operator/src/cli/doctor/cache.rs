//! Cache safety: does a cache hand one origin's answer to another?
//!
//! A bucket's CORS headers depend on the request's `Origin`. A cache that
//! keys only on the URL (and ignores `Vary`, as some CDNs do) stores the
//! first answer and serves it to everyone: a page on another origin then
//! gets `Access-Control-Allow-Origin` naming the first origin (refused), or
//! an answer stored for a request without `Origin` (no CORS headers at all,
//! refused). The doctor asks the same object four times, with the page's
//! origin, without `Origin`, with a second origin, and with the page's
//! origin again, and compares `Access-Control-Allow-Origin` and `Vary`
//! across the answers the layer marks as cache hits (`Age`, `X-Cache`,
//! `X-Cache-Status`, `cf-cache-status`, `x-bucketcors-cache`).
//!
//! Only for reading requests (`GET`, `HEAD`): those are what caches store.

use bucketcors_fetch::redact_url;

use super::browser::{PageRequest, actual_is_safe};
use super::layers::{Layer, actual};
use super::probe::{Prober, Reply, Sent};
use super::report::{Finding, Kind, Severity};

/// Requests per layer.
pub const PROBES: usize = 4;

/// One cache probe and its answer.
struct Probe {
    label: String,
    origin: Option<String>,
    reply: Reply,
}

impl Probe {
    fn acao(&self) -> Option<String> {
        self.reply.get("access-control-allow-origin")
    }

    fn line(&self) -> String {
        format!(
            "{}: Access-Control-Allow-Origin {}, Vary {}, {}",
            self.label,
            self.acao().unwrap_or_else(|| "(absent)".into()),
            self.reply.get("vary").unwrap_or_else(|| "(absent)".into()),
            hit_evidence(&self.reply).unwrap_or_else(|| "no cache hit shown".into())
        )
    }
}

/// Why the reply looks like a cache hit, if it does.
pub fn hit_evidence(reply: &Reply) -> Option<String> {
    for name in [
        "x-cache",
        "x-cache-status",
        "cf-cache-status",
        "x-bucketcors-cache",
    ] {
        if let Some(value) = reply.get(name)
            && value.to_ascii_lowercase().contains("hit")
        {
            return Some(format!("{name}: {value}"));
        }
    }
    match reply.get("age").and_then(|a| a.trim().parse::<u64>().ok()) {
        Some(age) if age > 0 => Some(format!("age: {age}")),
        _ => None,
    }
}

/// What kind of layer answered, read from its headers, and the setting
/// that keys its cache on `Origin`.
fn fix_for(reply: &Reply) -> String {
    let has = |name: &str| reply.get(name).is_some();
    let server = reply.get("server").unwrap_or_default().to_ascii_lowercase();
    if has("cf-cache-status") || has("cf-ray") {
        "Cloudflare: add the Origin header to the cache key (Cache Rules > Cache key), or run the \
         bucketcors edge worker, which adds CORS headers after the cache"
            .to_owned()
    } else if has("x-oss-request-id") || server.contains("aliyunoss") {
        "OSS: set ResponseVary true (spec.responseVary) so every answer says Vary: Origin, and make \
         the CDN in front honour Vary or key its cache on Origin"
            .to_owned()
    } else if server.contains("nginx") || has("x-cache-status") {
        "nginx: add $http_origin to proxy_cache_key, or stop ignoring Vary (drop Vary from \
         proxy_ignore_headers); or put the bucketcors edge in front of the cache"
            .to_owned()
    } else if has("x-bucketcors-revision") {
        "a cache in front of the bucketcors edge stores its answers: the edge's CORS headers must \
         be added after every cache, so key that cache on Origin or move the edge in front of it"
            .to_owned()
    } else {
        "make Origin part of the cache key (or honour Vary: Origin), or answer CORS at the \
         bucketcors edge, which adds the headers after its cache"
            .to_owned()
    }
}

/// The cache findings for one layer.
pub async fn findings(
    prober: &Prober,
    request: &PageRequest,
    layer: &Layer,
    second_origin: &str,
) -> Vec<Finding> {
    if !actual_is_safe(request) || !layer.reached() {
        return Vec::new();
    }
    let plan: [(&str, Option<&str>); PROBES] = [
        ("with the page's origin", Some(request.origin.as_str())),
        ("without Origin", None),
        ("with the second origin", Some(second_origin)),
        (
            "with the page's origin again",
            Some(request.origin.as_str()),
        ),
    ];
    let here = request.at(&layer.url);
    let mut probes = Vec::new();
    for (label, origin) in plan {
        let sent = match origin {
            Some(o) => {
                let mut sent = actual(
                    &PageRequest {
                        origin: o.to_owned(),
                        ..here.clone()
                    },
                    "cache",
                );
                sent.purpose = format!("cache {label}");
                sent
            }
            None => Sent::new(&format!("cache {label}"), &here.method, &here.url),
        };
        let exchange = prober.send(sent).await;
        if let Some(reply) = exchange.reply() {
            probes.push(Probe {
                label: label.to_owned(),
                origin: origin.map(str::to_owned),
                reply: reply.clone(),
            });
        }
    }
    judge(&probes, request, second_origin, &layer.url)
}

fn judge(probes: &[Probe], request: &PageRequest, second: &str, url: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    let evidence = |mut f: Finding| {
        f = f.evidence(format!("layer {}", redact_url(url)));
        for p in probes {
            f = f.evidence(p.line());
        }
        f
    };
    let fix = probes
        .first()
        .map(|p| fix_for(&p.reply))
        .unwrap_or_default();

    // Another origin's Allow-Origin: only a shared cache produces that.
    let foreign: Vec<&Probe> = probes
        .iter()
        .filter(|p| {
            p.acao().is_some_and(|a| {
                a != "*" && !a.contains(',') && Some(a.as_str()) != p.origin.as_deref()
            })
        })
        .collect();
    if let Some(p) = foreign.iter().find(|p| p.origin.is_some()) {
        out.push(
            evidence(Finding::new(
                Kind::CacheSafety,
                Severity::Error,
                format!(
                    "cache poisoning: the answer for {} carries Access-Control-Allow-Origin {} \
                     (another origin's, served from a cache that ignores Origin)",
                    p.origin.as_deref().unwrap_or_default(),
                    p.acao().unwrap_or_default()
                ),
            ))
            .fix(fix.clone()),
        );
        return out;
    }
    // The page's origin answered with and without CORS headers: one of the
    // answers was stored for another request.
    let mine: Vec<&Probe> = probes
        .iter()
        .filter(|p| p.origin.as_deref() == Some(request.origin.as_str()))
        .collect();
    let with = mine.iter().any(|p| p.acao().is_some());
    let without = mine.iter().find(|p| p.acao().is_none());
    if with && let Some(p) = without {
        out.push(
            evidence(Finding::new(
                Kind::CacheSafety,
                Severity::Error,
                format!(
                    "cache poisoning: {} once gets Access-Control-Allow-Origin and once not ({}); \
                     an answer stored without CORS headers is served to the page",
                    request.origin, p.label
                ),
            ))
            .fix(fix.clone()),
        );
        return out;
    }
    // Every answer for the page's origin lacks CORS headers, but the
    // request without Origin was a cache hit: the stored answer may be the
    // one without CORS headers. Reported as a risk; rules may simply refuse.
    let no_origin_leak = probes
        .iter()
        .find(|p| p.origin.is_none() && p.acao().is_some_and(|a| a != "*"));
    if let Some(p) = no_origin_leak {
        out.push(
            evidence(Finding::new(
                Kind::CacheSafety,
                Severity::Warning,
                format!(
                    "the cache ignores Origin: a request without Origin got Access-Control-Allow-Origin {}",
                    p.acao().unwrap_or_default()
                ),
            ))
            .evidence(format!(
                "the next page on another origin (such as {second}) is served the same stored answer"
            ))
            .fix(fix.clone()),
        );
    }
    let hits_without_vary = probes.iter().any(|p| {
        hit_evidence(&p.reply).is_some()
            && p.acao().is_some_and(|a| a != "*")
            && !p
                .reply
                .list("vary")
                .iter()
                .any(|m| m.eq_ignore_ascii_case("origin"))
    });
    if hits_without_vary && out.is_empty() {
        out.push(
            evidence(Finding::new(
                Kind::CacheSafety,
                Severity::Warning,
                "cached answers echo the origin without Vary: Origin",
            ))
            .fix(fix),
        );
    }
    out
}
