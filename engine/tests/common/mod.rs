//! Helpers shared by the engine's integration tests.
#![allow(dead_code)]

use bucketcors_engine::{Compiled, CorsConfig, Dialect, Request, Rule};

/// A rule from string slices.
pub fn rule(origins: &[&str], methods: &[&str], headers: &[&str]) -> Rule {
    Rule {
        id: None,
        allowed_origins: origins.iter().map(|s| s.to_string()).collect(),
        allowed_methods: methods.iter().map(|s| s.to_string()).collect(),
        allowed_headers: headers.iter().map(|s| s.to_string()).collect(),
        expose_headers: Vec::new(),
        max_age_seconds: None,
    }
}

/// A configuration of `rules`.
pub fn config(rules: Vec<Rule>) -> CorsConfig {
    CorsConfig {
        rules,
        response_vary: false,
    }
}

/// Compiles, panicking with the report when invalid.
pub fn compile(config: &CorsConfig, dialect: Dialect) -> Compiled {
    Compiled::new(config, dialect).unwrap_or_else(|r| panic!("invalid config:\n{r}"))
}

/// A whole answer as owned strings: status, headers, body, matched rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    pub matched_rule: Option<usize>,
}

impl Answer {
    /// The value of header `name`, if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Header names in order.
    pub fn names(&self) -> Vec<&str> {
        self.headers.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// True when no `Access-Control-*` header is present.
    pub fn no_access_control(&self) -> bool {
        !self
            .headers
            .iter()
            .any(|(n, _)| n.to_ascii_lowercase().starts_with("access-control-"))
    }
}

/// Decides `request` on `compiled` and copies the answer out.
pub fn answer(compiled: &Compiled, request: &Request<'_>) -> Answer {
    let d = compiled.decide(request);
    Answer {
        status: d.status(),
        headers: d
            .headers()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        body: d.body().map(|b| b.to_string()),
        matched_rule: d.matched_rule(),
    }
}
