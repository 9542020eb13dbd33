//! Allowed origins that no browser's `Origin` header can equal.
//!
//! A browser sends the serialized origin of the page: scheme and host in
//! lower case, the port only when it is not the scheme's default, no path
//! [Fetch/HTML origin serialization; spec section 7]. Origins compare
//! exactly (section 2), so an entry written any other way never matches:
//! the page sees a CORS error although the rule "allows" it. Paths and
//! trailing slashes are validation errors already ([`crate::validate()`]);
//! the forms here are valid for the provider and still dead.

use super::{At, Lint, LintCode};

/// Adds one lint per dead origin entry of the rule.
pub(crate) fn check(at: &At<'_>, out: &mut Vec<Lint>) {
    for (i, origin) in at.rule.allowed_origins.iter().enumerate() {
        let field = || Some(format!("allowedOrigins[{i}]"));
        if origin == "*" || origin.is_empty() {
            continue;
        }
        if origin.eq_ignore_ascii_case("null") {
            out.push(
                at.warning(
                    LintCode::OriginNull,
                    field(),
                    format!("{origin:?} is allowed"),
                    "browsers send `Origin: null` from sandboxed frames, file:// pages and some \
                 redirects, and any site can put its page in a sandboxed frame, so this lets \
                 every site in under one name",
                    "remove it unless such pages are meant to be served; allow the real origins \
                 by name instead"
                        .to_owned(),
                ),
            );
            continue;
        }
        let Some((scheme, rest)) = origin.split_once("://") else {
            out.push(at.warning(
                LintCode::OriginNoScheme,
                field(),
                format!("{origin:?} has no scheme"),
                "a browser's Origin always starts with the scheme (`https://`), so this entry \
                 never matches one",
                format!("write {:?}", format!("https://{origin}")),
            ));
            continue;
        };
        if origin.bytes().any(|b| b.is_ascii_uppercase()) {
            out.push(at.warning(
                LintCode::OriginUpperCase,
                field(),
                format!("{origin:?} has upper-case letters"),
                "browsers send scheme and host in lower case and origins compare exactly, so \
                 this entry never matches",
                format!("write {:?}", origin.to_ascii_lowercase()),
            ));
        }
        let (host, port) = split_port(rest);
        let default = match scheme.to_ascii_lowercase().as_str() {
            "http" | "ws" => Some("80"),
            "https" | "wss" => Some("443"),
            _ => None,
        };
        if let (Some(port), Some(default)) = (port, default)
            && port == default
        {
            out.push(at.warning(
                LintCode::OriginDefaultPort,
                field(),
                format!("{origin:?} writes {scheme}'s default port {port}"),
                "browsers leave the default port out of the Origin they send, so this entry \
                 never matches",
                format!("write {:?}", format!("{scheme}://{host}")),
            ));
        }
        if host.ends_with('.') && host.len() > 1 {
            let bare = host.trim_end_matches('.');
            let port = port.map(|p| format!(":{p}")).unwrap_or_default();
            out.push(at.warning(
                LintCode::OriginTrailingDot,
                field(),
                format!("the host of {origin:?} ends with a dot"),
                "a browser sends the host as the page's address has it; pages opened at the \
                 usual name send no dot, so this entry matches only pages opened at the dotted \
                 name",
                format!("write {:?}", format!("{scheme}://{bare}{port}")),
            ));
        }
    }
}

/// `host[:port]` split at the port's colon; IPv6 literals keep their
/// brackets. A `*` port (`localhost:*`) counts as a port.
fn split_port(rest: &str) -> (&str, Option<&str>) {
    let rest = rest.split('/').next().unwrap_or(rest);
    let after_host = if rest.starts_with('[') {
        rest.find(']').map_or(rest.len(), |i| i + 1)
    } else {
        0
    };
    match rest[after_host..].rfind(':') {
        Some(at) => {
            let at = after_host + at;
            (&rest[..at], Some(&rest[at + 1..]))
        }
        None => (rest, None),
    }
}

#[cfg(test)]
mod tests {
    use super::split_port;

    #[test]
    fn ports_split_after_ipv6_brackets() {
        assert_eq!(split_port("a.example:80"), ("a.example", Some("80")));
        assert_eq!(split_port("[::1]:8080"), ("[::1]", Some("8080")));
        assert_eq!(split_port("[::1]"), ("[::1]", None));
        assert_eq!(split_port("a.example."), ("a.example.", None));
    }
}
