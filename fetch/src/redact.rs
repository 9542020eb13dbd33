//! What may be printed of a URL. A presigned URL carries its signature and
//! credential in the query (`X-Amz-Signature`, `Signature`, `OSSAccessKeyId`),
//! so anything the products show of a URL (a refusal message, a doctor's
//! evidence, the tester's request line) keeps the query's parameter names,
//! which say what kind of URL it is, and never their values.

/// `url` with every query value replaced by `…`
/// (`?X-Amz-Signature=…&X-Amz-Expires=…`); a URL without a query is
/// returned as it is.
pub fn redact_url(url: &str) -> String {
    match url.split_once('?') {
        Some((base, query)) if !query.is_empty() => {
            let names: Vec<String> = query
                .split('&')
                .map(|pair| format!("{}=…", pair.split('=').next().unwrap_or("")))
                .collect();
            format!("{base}?{}", names.join("&"))
        }
        _ => url.to_owned(),
    }
}

/// The request-target a browser sends for `url` (its path and query, `/`
/// when it has no path), with the query redacted as [`redact_url`] does.
/// A string that is not an absolute URL gives `/`.
pub fn request_target(url: &str) -> String {
    let Some((_, after_scheme)) = url.split_once("://") else {
        return "/".to_owned();
    };
    // The fragment is never sent.
    let after_scheme = after_scheme.split('#').next().unwrap_or("");
    match after_scheme.find(['/', '?']) {
        Some(at) if after_scheme[at..].starts_with('/') => redact_url(&after_scheme[at..]),
        Some(at) => redact_url(&format!("/{}", &after_scheme[at..])),
        None => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_presigned_query_keeps_its_names_and_loses_its_values() {
        let u = "https://b.example/k?X-Amz-Signature=abc&X-Amz-Expires=60";
        assert_eq!(
            redact_url(u),
            "https://b.example/k?X-Amz-Signature=…&X-Amz-Expires=…"
        );
        assert_eq!(redact_url("https://b.example/k"), "https://b.example/k");
        // Redacting twice changes nothing more.
        assert_eq!(redact_url(&redact_url(u)), redact_url(u));
    }

    #[test]
    fn the_request_target_is_the_path_and_the_redacted_query() {
        assert_eq!(
            request_target("https://b.example/dir/k.txt?Signature=s3cr3t&Expires=1#frag"),
            "/dir/k.txt?Signature=…&Expires=…"
        );
        assert_eq!(request_target("https://b.example"), "/");
        assert_eq!(request_target("https://b.example?x=1"), "/?x=…");
        assert_eq!(request_target("http://127.0.0.1:9000/b/k"), "/b/k");
        assert_eq!(request_target("not a url"), "/");
    }
}
