//! Telling a document's format from its text.
//!
//! The first non-blank character decides the family: `<` is XML, `{` is
//! JSON, anything else is YAML. Within a family:
//!
//! - XML is S3's when it names S3's namespace or has a rule `<ID>`, OSS's when
//!   it has `<ResponseVary>`. A bare `<CORSConfiguration>` could be either;
//!   it is read as S3 XML, the more common of the two, whose reader accepts
//!   everything such a document can contain.
//! - JSON is S3 JSON when its top level has `CORSRules` (or the
//!   `CORSConfiguration` wrapper of `--cli-input-json`), otherwise the spec
//!   shape or a manifest.
//!
//! Detection only looks; it never fails on a malformed document. The parser
//! of the detected format then says what is wrong and where.

use quick_xml::events::Event;

use super::Format;
use super::xml_write::S3_NAMESPACE;

/// The format `text` is most likely in; `None` for an empty document.
pub fn detect(text: &str) -> Option<Format> {
    let body = text.trim_start_matches('\u{feff}').trim_start();
    if body.is_empty() {
        return None;
    }
    Some(if body.starts_with('<') {
        detect_xml(body)
    } else if body.starts_with('{') {
        detect_json(body)
    } else {
        Format::Yaml
    })
}

fn detect_xml(body: &str) -> Format {
    // Look at markup only: text, comments and CDATA may mention anything.
    let mut reader = quick_xml::Reader::from_str(body);
    let mut at_root = true;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) => {
                if std::mem::replace(&mut at_root, false) {
                    let s3_namespace = e.attributes().flatten().any(|a| {
                        a.key.as_ref() == b"xmlns" && a.value.as_ref() == S3_NAMESPACE.as_bytes()
                    });
                    if s3_namespace {
                        return Format::S3Xml;
                    }
                }
                match e.name().as_ref() {
                    b"ID" => return Format::S3Xml,
                    b"ResponseVary" => return Format::OssXml,
                    _ => {}
                }
            }
            // Malformed or finished: the parser will say what is wrong.
            Ok(Event::Eof) | Err(_) => return Format::S3Xml,
            Ok(_) => {}
        }
    }
}

fn detect_json(body: &str) -> Format {
    match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(body) {
        Ok(map) if map.contains_key("CORSRules") || map.contains_key("CORSConfiguration") => {
            Format::S3Json
        }
        Ok(_) => Format::Json,
        // Malformed: go by the key that only S3 JSON has, so the error comes
        // from the parser the user meant.
        Err(_) if body.contains("\"CORSRules\"") => Format::S3Json,
        Err(_) => Format::Json,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_flavours() {
        let s3 = format!(r#"<CORSConfiguration xmlns="{S3_NAMESPACE}"></CORSConfiguration>"#);
        assert_eq!(detect(&s3), Some(Format::S3Xml));
        assert_eq!(
            detect("<CORSConfiguration><CORSRule><ID>a</ID></CORSRule></CORSConfiguration>"),
            Some(Format::S3Xml)
        );
        assert_eq!(
            detect(
                "\n<?xml version=\"1.0\"?><CORSConfiguration><ResponseVary>true</ResponseVary></CORSConfiguration>"
            ),
            Some(Format::OssXml)
        );
        assert_eq!(detect("<CORSConfiguration/>"), Some(Format::S3Xml));
        // Text and comments do not count, only markup.
        assert_eq!(
            detect(&format!(
                "<CORSConfiguration><!-- <ID> --><CORSRule><AllowedOrigin>{S3_NAMESPACE}</AllowedOrigin>\
                 </CORSRule><ResponseVary>true</ResponseVary></CORSConfiguration>"
            )),
            Some(Format::OssXml)
        );
    }

    #[test]
    fn json_and_yaml() {
        assert_eq!(detect(r#"{"CORSRules": []}"#), Some(Format::S3Json));
        assert_eq!(
            detect(r#"{"CORSConfiguration": {"CORSRules": []}}"#),
            Some(Format::S3Json)
        );
        assert_eq!(detect(r#"{"CORSRules": [}"#), Some(Format::S3Json));
        assert_eq!(detect(r#"{"rules": []}"#), Some(Format::Json));
        assert_eq!(detect("rules: []\n"), Some(Format::Yaml));
        assert_eq!(detect("\u{feff}  \n"), None);
        assert_eq!(detect(""), None);
    }
}
