//! Writing the `<CORSConfiguration>` document shared by OSS and S3 (the
//! reader is `xml.rs`).
//!
//! It lives apart from the reader because validation needs it too (the
//! providers limit the document's size), on the edge as well, where the
//! parsers (and quick-xml) are not built: see the crate's `formats` feature.

use super::Format;
use crate::model::CorsConfig;

/// The S3 document namespace (`xmlns` of S3's `CORSConfiguration`).
pub(super) const S3_NAMESPACE: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// Writes `config` as a `<CORSConfiguration>` document for `format`.
pub(super) fn write(config: &CorsConfig, format: Format) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    if format == Format::S3Xml {
        out.push_str(&format!("<CORSConfiguration xmlns=\"{S3_NAMESPACE}\">\n"));
    } else {
        out.push_str("<CORSConfiguration>\n");
    }
    for rule in &config.rules {
        out.push_str("  <CORSRule>\n");
        if format == Format::S3Xml
            && let Some(id) = &rule.id
        {
            element(&mut out, "ID", id);
        }
        for value in &rule.allowed_origins {
            element(&mut out, "AllowedOrigin", value);
        }
        for value in &rule.allowed_methods {
            element(&mut out, "AllowedMethod", value);
        }
        for value in &rule.allowed_headers {
            element(&mut out, "AllowedHeader", value);
        }
        for value in &rule.expose_headers {
            element(&mut out, "ExposeHeader", value);
        }
        if let Some(seconds) = rule.max_age_seconds {
            element(&mut out, "MaxAgeSeconds", &seconds.to_string());
        }
        out.push_str("  </CORSRule>\n");
    }
    if format == Format::OssXml {
        out.push_str(&format!(
            "  <ResponseVary>{}</ResponseVary>\n",
            config.response_vary
        ));
    }
    out.push_str("</CORSConfiguration>\n");
    out
}

fn element(out: &mut String, name: &str, value: &str) {
    out.push_str("    <");
    out.push_str(name);
    out.push('>');
    escape_into(out, value);
    out.push_str("</");
    out.push_str(name);
    out.push_str(">\n");
}

/// Escapes text content. Control characters (tab, CR and LF included) are
/// written as character references so that XML's line-end normalization
/// cannot change them; NUL cannot be written at all and is dropped
/// ([`super::losses`] reports it).
fn escape_into(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\0' => {}
            c if (c as u32) < 0x20 => out.push_str(&format!("&#{};", c as u32)),
            c => out.push(c),
        }
    }
}
