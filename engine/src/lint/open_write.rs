//! Every origin allowed to write.
//!
//! `*` (or a pattern such as `https://*` that every origin of a scheme
//! matches) with `PUT`, `POST` or `DELETE` lets any web page a visitor
//! opens send writes to the bucket from the visitor's browser and read the
//! answers: with presigned URLs or a public-write bucket, any site can use
//! the bucket as its own upload target. Usually only the application's own
//! pages should.

use super::{At, Lint, LintCode};

/// The methods that change a bucket.
pub const WRITE_METHODS: [&str; 3] = ["PUT", "POST", "DELETE"];

/// True for an origin entry every origin (of some scheme) matches.
pub fn matches_every_origin(origin: &str) -> bool {
    match origin.split_once('*') {
        Some((prefix, "")) => {
            prefix.is_empty()
                || (prefix.ends_with("://") && !prefix[..prefix.len() - 3].contains('/'))
        }
        _ => false,
    }
}

/// Adds a lint for a rule that lets every origin write.
pub(crate) fn check(at: &At<'_>, out: &mut Vec<Lint>) {
    let Some(i) = at
        .rule
        .allowed_origins
        .iter()
        .position(|o| matches_every_origin(o))
    else {
        return;
    };
    let writes: Vec<&str> = at
        .rule
        .allowed_methods
        .iter()
        .map(String::as_str)
        .filter(|m| WRITE_METHODS.contains(m))
        .collect();
    if writes.is_empty() {
        return;
    }
    let origin = &at.rule.allowed_origins[i];
    out.push(at.warning(
        LintCode::AnyOriginCanWrite,
        Some(format!("allowedOrigins[{i}]")),
        format!("{origin:?} is allowed to send {}", writes.join(", ")),
        "any web page a visitor opens may then write to the bucket from the visitor's \
         browser and read the answer (with presigned URLs or a public-write bucket, any \
         site can use it as its upload target)",
        format!(
            "allow {} only from the application's origins: move them to a rule with exact \
             origins and keep `{origin}` for GET and HEAD",
            writes.join(", ")
        ),
    ));
}

#[cfg(test)]
mod tests {
    use super::matches_every_origin;

    #[test]
    fn star_and_scheme_star_match_every_origin() {
        assert!(matches_every_origin("*"));
        assert!(matches_every_origin("https://*"));
        assert!(!matches_every_origin("https://*.example.com"));
        assert!(!matches_every_origin("https://app.example.com"));
    }
}
