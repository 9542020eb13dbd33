//! The size of the XML document a provider receives for a configuration.
//!
//! OSS limits the PutBucketCors body to 16 KB and S3 to 64 KB. The limit is
//! on the provider's XML, so the size is measured on that shape: the compact
//! document (no indentation) with an XML declaration, entity-escaped values,
//! S3's namespace and `ID`, OSS's `ResponseVary`. Counting instead of
//! printing keeps validation free of the format printers; it is exact for
//! the compact form and the pretty-printed form a printer may choose only
//! adds whitespace the provider would also count, which is why the limit
//! check leaves no margin for it but names the measured size.

use crate::model::{CorsConfig, Dialect};

const DECLARATION: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;
const S3_ROOT_OPEN: &str = r#"<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">"#;
const OSS_ROOT_OPEN: &str = "<CORSConfiguration>";
const ROOT_CLOSE: &str = "</CORSConfiguration>";

/// Bytes of the compact provider XML document for `config` in `dialect`.
pub fn xml_document_size(config: &CorsConfig, dialect: Dialect) -> usize {
    let mut size = DECLARATION.len() + ROOT_CLOSE.len();
    size += match dialect {
        Dialect::S3 => S3_ROOT_OPEN.len(),
        Dialect::Oss => OSS_ROOT_OPEN.len(),
    };
    for rule in &config.rules {
        size += element("CORSRule", 0);
        if let (Dialect::S3, Some(id)) = (dialect, &rule.id) {
            size += element("ID", escaped_len(id));
        }
        for (name, values) in [
            ("AllowedOrigin", &rule.allowed_origins),
            ("AllowedMethod", &rule.allowed_methods),
            ("AllowedHeader", &rule.allowed_headers),
            ("ExposeHeader", &rule.expose_headers),
        ] {
            size += values
                .iter()
                .map(|v| element(name, escaped_len(v)))
                .sum::<usize>();
        }
        if let Some(max_age) = rule.max_age_seconds {
            size += element("MaxAgeSeconds", max_age.to_string().len());
        }
    }
    if dialect == Dialect::Oss {
        let value = if config.response_vary {
            "true"
        } else {
            "false"
        };
        size += element("ResponseVary", value.len());
    }
    size
}

/// `<name>` + content + `</name>`.
fn element(name: &str, content_len: usize) -> usize {
    2 * name.len() + 5 + content_len
}

/// Length of `value` once `&`, `<`, `>`, `"` and `'` are escaped.
fn escaped_len(value: &str) -> usize {
    value
        .bytes()
        .map(|b| match b {
            b'&' => 5,
            b'<' | b'>' => 4,
            b'"' | b'\'' => 6,
            _ => 1,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Rule;

    #[test]
    fn counts_the_compact_document() {
        let config = CorsConfig {
            rules: vec![Rule {
                allowed_origins: vec!["*".into()],
                allowed_methods: vec!["GET".into()],
                ..Rule::default()
            }],
            response_vary: false,
        };
        let oss = format!(
            "{DECLARATION}<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>\
             <AllowedMethod>GET</AllowedMethod></CORSRule><ResponseVary>false</ResponseVary>\
             </CORSConfiguration>"
        );
        assert_eq!(xml_document_size(&config, Dialect::Oss), oss.len());
        assert_eq!(escaped_len("a&b"), 7);
    }
}
