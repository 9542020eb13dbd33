//! Parts of a rule that an earlier rule always wins.
//!
//! The first matching rule wins (spec section 2). Validation already warns
//! when one earlier rule matches every request a rule matches; this lint
//! looks at each (origin entry, method) class of a rule: when an earlier
//! rule covers the entry, allows the method and covers every allowed header
//! of the rule, every preflight of that class goes to the earlier rule, so
//! that part of the rule is dead, however the rest of it is used. The
//! winning rule is named per class.
//!
//! Actual requests are matched on origin and method alone (sections 3 and
//! 4), so an earlier rule that allows the class with other headers still
//! answers them, with its own `exposeHeaders`: when those differ, the
//! headers this rule exposes never reach the page
//! ([`LintCode::ActualRequestsAnsweredEarlier`]).

use super::{At, Lint, LintCode};
use crate::model::{CorsConfig, Rule};
use crate::pattern::Pattern;
use crate::validate::METHODS;

/// A rule's patterns, built once.
struct Shape {
    origins: Vec<Pattern>,
    headers: Vec<Pattern>,
}

impl Shape {
    fn new(rule: &Rule) -> Shape {
        Shape {
            origins: rule
                .allowed_origins
                .iter()
                .map(|o| Pattern::new(o))
                .collect(),
            headers: rule
                .allowed_headers
                .iter()
                .map(|h| Pattern::new_header(h))
                .collect(),
        }
    }

    fn covers_origin(&self, origin: &Pattern) -> bool {
        self.origins.iter().any(|p| p.covers(origin))
    }

    fn covers_headers(&self, other: &Shape) -> bool {
        other
            .headers
            .iter()
            .all(|h| self.headers.iter().any(|p| p.covers(h)))
    }
}

/// Adds the lints for every rule of `config`.
pub(crate) fn check(config: &CorsConfig, out: &mut Vec<Lint>) {
    let shapes: Vec<Shape> = config.rules.iter().map(Shape::new).collect();
    for (j, rule) in config.rules.iter().enumerate() {
        let at = At { index: j, rule };
        let methods: Vec<&str> = rule
            .allowed_methods
            .iter()
            .map(String::as_str)
            .filter(|m| METHODS.contains(m))
            .collect();
        // Winner of each (origin entry, method) class, for preflights.
        let winners: Vec<Vec<Option<usize>>> = shapes[j]
            .origins
            .iter()
            .map(|origin| {
                methods
                    .iter()
                    .map(|m| {
                        (0..j).find(|&i| {
                            config.rules[i].allowed_methods.iter().any(|x| x == m)
                                && shapes[i].covers_origin(origin)
                                && shapes[i].covers_headers(&shapes[j])
                        })
                    })
                    .collect()
            })
            .collect();
        let all = winners.iter().flatten().collect::<Vec<_>>();
        if all.is_empty() {
            continue;
        }
        // One earlier rule covering every class is validation's "never
        // used" warning (or a duplicate): do not say it twice.
        let covers_all = |i: usize| {
            shapes[j].origins.iter().all(|origin| {
                methods.iter().all(|m| {
                    config.rules[i].allowed_methods.iter().any(|x| x == m)
                        && shapes[i].covers_origin(origin)
                        && shapes[i].covers_headers(&shapes[j])
                })
            })
        };
        if all.iter().all(|w| w.is_some()) && (0..j).any(covers_all) {
            continue;
        }
        let never_used = all.iter().all(|w| w.is_some());
        for (a, origin) in rule.allowed_origins.iter().enumerate() {
            if origin.is_empty() {
                continue;
            }
            let won: Vec<(&str, usize)> = methods
                .iter()
                .zip(&winners[a])
                .filter_map(|(m, w)| w.map(|i| (*m, i)))
                .collect();
            if !won.is_empty() {
                out.push(shadowed(&at, config, a, origin, &won, never_used));
            }
            // Actual requests of the classes preflights still reach.
            for (m, w) in methods.iter().zip(&winners[a]) {
                if w.is_some() {
                    continue;
                }
                let origin_pattern = &shapes[j].origins[a];
                let earlier = (0..j).find(|&i| {
                    config.rules[i].allowed_methods.iter().any(|x| x == m)
                        && shapes[i].covers_origin(origin_pattern)
                });
                if let Some(i) = earlier
                    && !same_names(&config.rules[i].expose_headers, &rule.expose_headers)
                {
                    out.push(answered_earlier(&at, config, a, origin, m, i));
                }
            }
        }
    }
}

fn label(config: &CorsConfig, i: usize) -> String {
    crate::validate::RuleRef {
        index: i,
        id: config.rules[i].id.clone(),
    }
    .to_string()
}

fn shadowed(
    at: &At<'_>,
    config: &CorsConfig,
    a: usize,
    origin: &str,
    won: &[(&str, usize)],
    never_used: bool,
) -> Lint {
    let classes: Vec<String> = won
        .iter()
        .map(|(m, i)| format!("{m} goes to {}", label(config, *i)))
        .collect();
    let tail = if never_used {
        "; with its other classes won the same way, this rule is never used"
    } else {
        ""
    };
    let first = label(config, won[0].1);
    at.warning(
        LintCode::RulePartlyShadowed,
        Some(format!("allowedOrigins[{a}]")),
        format!("for origin {origin:?}: {}{tail}", classes.join(", ")),
        "the first matching rule wins and those rules match every such preflight first, so \
         this rule's answer (its methods, exposeHeaders, maxAgeSeconds) never reaches the \
         browser for them",
        format!(
            "move this rule before {first}, or remove {} from it for this origin",
            won.iter().map(|(m, _)| *m).collect::<Vec<_>>().join(", ")
        ),
    )
}

fn answered_earlier(
    at: &At<'_>,
    config: &CorsConfig,
    a: usize,
    origin: &str,
    method: &str,
    i: usize,
) -> Lint {
    let winner = label(config, i);
    at.warning(
        LintCode::ActualRequestsAnsweredEarlier,
        Some(format!("allowedOrigins[{a}]")),
        format!(
            "actual {method} requests from {origin:?} are answered by {winner}, whose \
             exposeHeaders {:?} differ from this rule's {:?}",
            config.rules[i].expose_headers, at.rule.expose_headers
        ),
        "actual requests are matched on origin and method only, so the earlier rule answers \
         them and the page cannot read the headers this rule exposes (an upload cannot read \
         its ETag, for example)",
        format!("give {winner} the same exposeHeaders, or move this rule before it"),
    )
}

/// The same header names, ignoring order and ASCII case.
fn same_names(a: &[String], b: &[String]) -> bool {
    let norm = |v: &[String]| {
        let mut v: Vec<String> = v.iter().map(|s| s.trim().to_ascii_lowercase()).collect();
        v.sort();
        v.dedup();
        v
    };
    norm(a) == norm(b)
}
