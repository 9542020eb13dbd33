//! Reading the `<CORSConfiguration>` document shared by OSS and S3: one
//! reader, told which provider's elements to allow (the writer is
//! [`super::xml_write`]).
//!
//! The reader is a flat state machine over quick-xml events rather than a
//! tree builder: the document is exactly three levels deep
//! (`CORSConfiguration/CORSRule/Field`), so anything deeper is an error at
//! once and no input can make it recurse or hold more than the configuration
//! itself. Leaf text is kept exactly as written (entity and character
//! references resolved, line ends normalized as XML requires, no trimming),
//! which is what lets every value round-trip; numbers and booleans are
//! trimmed before reading, since whitespace around them carries nothing.

use quick_xml::Reader;
use quick_xml::events::{BytesRef, BytesStart, Event};

use super::{Format, ParseError};
use crate::model::{CorsConfig, Rule};

use super::xml_write::S3_NAMESPACE;

/// What a reader saw besides the configuration: evidence of which provider
/// the document was written for.
pub(super) struct XmlDocument {
    pub config: CorsConfig,
    /// The root carried S3's namespace.
    pub s3_namespace: bool,
    /// Some rule had an `<ID>`.
    pub has_rule_id: bool,
    /// The configuration had a `<ResponseVary>`.
    pub has_response_vary: bool,
}

/// A field element inside `<CORSRule>` (or `ResponseVary` on the
/// configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    AllowedOrigin,
    AllowedMethod,
    AllowedHeader,
    ExposeHeader,
    MaxAgeSeconds,
    Id,
    ResponseVary,
}

impl Field {
    fn name(self) -> &'static str {
        match self {
            Field::AllowedOrigin => "AllowedOrigin",
            Field::AllowedMethod => "AllowedMethod",
            Field::AllowedHeader => "AllowedHeader",
            Field::ExposeHeader => "ExposeHeader",
            Field::MaxAgeSeconds => "MaxAgeSeconds",
            Field::Id => "ID",
            Field::ResponseVary => "ResponseVary",
        }
    }

    /// The rule field named `name`, if `format` has it.
    fn in_rule(name: &[u8], format: Format) -> Option<Field> {
        Some(match name {
            b"AllowedOrigin" => Field::AllowedOrigin,
            b"AllowedMethod" => Field::AllowedMethod,
            b"AllowedHeader" => Field::AllowedHeader,
            b"ExposeHeader" => Field::ExposeHeader,
            b"MaxAgeSeconds" => Field::MaxAgeSeconds,
            b"ID" if format == Format::S3Xml => Field::Id,
            _ => return None,
        })
    }
}

/// Where the reader is in the document.
enum State {
    /// Before the root element.
    Prolog,
    /// Inside `<CORSConfiguration>`, between rules.
    Configuration,
    /// Inside `<CORSRule>`.
    Rule,
    /// Inside a field element, collecting its text.
    Leaf { field: Field, text: String },
    /// After `</CORSConfiguration>`.
    Done,
}

/// Reads a `<CORSConfiguration>` document, allowing the elements `format`
/// (OSS or S3 XML) has.
pub(super) fn read(text: &str, format: Format) -> Result<XmlDocument, ParseError> {
    // A byte-order mark is not markup; positions count from after it.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = Reader::from_str(text);
    let mut doc = XmlDocument {
        config: CorsConfig::default(),
        s3_namespace: false,
        has_rule_id: false,
        has_response_vary: false,
    };
    let mut state = State::Prolog;
    let mut rule = Rule::default();
    let mut seen_max_age = false;
    let mut seen_id = false;

    loop {
        let start = reader.buffer_position() as usize;
        let event = reader.read_event().map_err(|e| {
            ParseError::new(Some(format), format!("not well-formed XML: {e}"))
                .at_offset(text, reader.error_position() as usize)
        })?;
        // Errors about this event point at where it starts.
        let fail = |message: String, path: String| {
            ParseError::new(Some(format), message)
                .at_offset(text, start)
                .at_path(path)
        };
        let rule_path =
            |doc: &XmlDocument| format!("CORSConfiguration/CORSRule[{}]", doc.config.rules.len());

        state = match (state, event) {
            // Markup that carries nothing, anywhere outside a leaf.
            (s, Event::Comment(_) | Event::PI(_) | Event::Decl(_)) => s,
            (State::Prolog, Event::DocType(_)) => State::Prolog,
            (
                s @ (State::Prolog | State::Configuration | State::Rule | State::Done),
                Event::Text(t),
            ) if t.iter().all(u8::is_ascii_whitespace) => s,

            (State::Prolog, Event::Start(e)) => {
                root(&e, format, &mut doc).map_err(|m| fail(m, String::new()))?;
                State::Configuration
            }
            (State::Prolog, Event::Empty(e)) => {
                root(&e, format, &mut doc).map_err(|m| fail(m, String::new()))?;
                State::Done
            }

            (State::Configuration, Event::Start(e)) if e.name().as_ref() == b"CORSRule" => {
                no_attributes(&e).map_err(|m| fail(m, rule_path(&doc)))?;
                seen_max_age = false;
                seen_id = false;
                State::Rule
            }
            (State::Configuration, Event::Empty(e)) if e.name().as_ref() == b"CORSRule" => {
                no_attributes(&e).map_err(|m| fail(m, rule_path(&doc)))?;
                doc.config.rules.push(Rule::default());
                State::Configuration
            }
            (State::Configuration, Event::Start(e))
                if format == Format::OssXml && e.name().as_ref() == b"ResponseVary" =>
            {
                if doc.has_response_vary {
                    return Err(fail(
                        "<ResponseVary> appears twice; expected it at most once".into(),
                        "CORSConfiguration/ResponseVary".into(),
                    ));
                }
                no_attributes(&e).map_err(|m| fail(m, "CORSConfiguration/ResponseVary".into()))?;
                doc.has_response_vary = true;
                State::Leaf {
                    field: Field::ResponseVary,
                    text: String::new(),
                }
            }
            (State::Configuration, Event::End(_)) => State::Done,
            (State::Configuration, Event::Start(e) | Event::Empty(e)) => {
                let expected = if format == Format::OssXml {
                    "<CORSRule> or <ResponseVary>"
                } else {
                    "<CORSRule>"
                };
                return Err(fail(
                    format!(
                        "unexpected element <{}> in <CORSConfiguration>; expected {expected}{}",
                        name_of(&e),
                        hint(&e, format)
                    ),
                    "CORSConfiguration".into(),
                ));
            }

            (State::Rule, Event::Start(e)) => {
                let field = rule_field(&e, format).map_err(|m| fail(m, rule_path(&doc)))?;
                once(field, &mut seen_max_age, &mut seen_id)
                    .map_err(|m| fail(m, format!("{}/{}", rule_path(&doc), field.name())))?;
                State::Leaf {
                    field,
                    text: String::new(),
                }
            }
            (State::Rule, Event::Empty(e)) => {
                let field = rule_field(&e, format).map_err(|m| fail(m, rule_path(&doc)))?;
                let path = format!("{}/{}", rule_path(&doc), field.name());
                once(field, &mut seen_max_age, &mut seen_id).map_err(|m| fail(m, path.clone()))?;
                assign(&mut rule, &mut doc, field, String::new()).map_err(|m| fail(m, path))?;
                State::Rule
            }
            (State::Rule, Event::End(_)) => {
                doc.config.rules.push(std::mem::take(&mut rule));
                State::Configuration
            }

            (State::Leaf { field, mut text }, Event::Text(t)) => {
                let part = t
                    .xml10_content()
                    .map_err(|e| fail(format!("text is not valid UTF-8: {e}"), rule_path(&doc)))?;
                text.push_str(&part);
                State::Leaf { field, text }
            }
            (State::Leaf { field, mut text }, Event::CData(t)) => {
                let part = t
                    .xml10_content()
                    .map_err(|e| fail(format!("text is not valid UTF-8: {e}"), rule_path(&doc)))?;
                text.push_str(&part);
                State::Leaf { field, text }
            }
            (State::Leaf { field, mut text }, Event::GeneralRef(r)) => {
                text.push_str(&reference(&r).map_err(|m| fail(m, rule_path(&doc)))?);
                State::Leaf { field, text }
            }
            (State::Leaf { field, text }, Event::End(_)) => {
                let path = if field == Field::ResponseVary {
                    "CORSConfiguration/ResponseVary".to_owned()
                } else {
                    format!("{}/{}", rule_path(&doc), field.name())
                };
                assign(&mut rule, &mut doc, field, text).map_err(|m| fail(m, path))?;
                if field == Field::ResponseVary {
                    State::Configuration
                } else {
                    State::Rule
                }
            }
            (State::Leaf { field, .. }, Event::Start(e) | Event::Empty(e)) => {
                return Err(fail(
                    format!(
                        "unexpected element <{}> inside <{}>; expected text",
                        name_of(&e),
                        field.name()
                    ),
                    rule_path(&doc),
                ));
            }

            (State::Done, Event::Eof) => return Ok(doc),
            (State::Done, _) => {
                return Err(fail(
                    "unexpected content after </CORSConfiguration>; expected the end of the document"
                        .into(),
                    String::new(),
                ));
            }
            (State::Prolog, Event::Eof) => {
                return Err(fail(
                    "empty document; expected <CORSConfiguration>".into(),
                    String::new(),
                ));
            }
            (s, Event::Eof) => {
                let open = match s {
                    State::Configuration => "</CORSConfiguration>".to_owned(),
                    State::Rule => "</CORSRule>".to_owned(),
                    State::Leaf { field, .. } => format!("</{}>", field.name()),
                    _ => "more".to_owned(),
                };
                return Err(fail(
                    format!("the document ends early; expected {open}"),
                    String::new(),
                ));
            }
            (State::Prolog, _) => {
                return Err(fail(
                    "expected the root element <CORSConfiguration>".into(),
                    String::new(),
                ));
            }
            (
                State::Configuration | State::Rule,
                Event::Text(_) | Event::CData(_) | Event::GeneralRef(_),
            ) => {
                return Err(fail(
                    "unexpected text between elements; expected only elements here".into(),
                    rule_path(&doc),
                ));
            }
            (_, Event::DocType(_)) => {
                return Err(fail(
                    "unexpected <!DOCTYPE> inside the document".into(),
                    String::new(),
                ));
            }
        };
    }
}

/// Checks the root element: its name and namespace.
fn root(e: &BytesStart<'_>, format: Format, doc: &mut XmlDocument) -> Result<(), String> {
    if e.name().as_ref() != b"CORSConfiguration" {
        return Err(format!(
            "unexpected root element <{}>; expected <CORSConfiguration>",
            name_of(e)
        ));
    }
    for attr in e.attributes() {
        let attr = attr.map_err(|err| format!("malformed attribute: {err}"))?;
        let key = attr.key.as_ref();
        if key == b"xmlns" {
            let value = attr
                .unescape_value()
                .map_err(|err| format!("malformed xmlns: {err}"))?;
            match format {
                Format::S3Xml if value == S3_NAMESPACE => doc.s3_namespace = true,
                Format::S3Xml => {
                    return Err(format!(
                        "unexpected namespace `{value}`; expected xmlns=\"{S3_NAMESPACE}\" or none"
                    ));
                }
                _ if value == S3_NAMESPACE => {
                    return Err(
                        "this document has S3's namespace; OSS XML has none (read it as s3-xml)"
                            .to_owned(),
                    );
                }
                _ => {
                    return Err(format!(
                        "unexpected namespace `{value}`; OSS XML has no namespace"
                    ));
                }
            }
        } else if !key.starts_with(b"xmlns:") {
            return Err(format!(
                "unexpected attribute `{}` on <CORSConfiguration>",
                String::from_utf8_lossy(key)
            ));
        }
    }
    Ok(())
}

fn no_attributes(e: &BytesStart<'_>) -> Result<(), String> {
    match e.attributes().next() {
        None => Ok(()),
        Some(Ok(attr)) => Err(format!(
            "unexpected attribute `{}` on <{}>; expected none",
            String::from_utf8_lossy(attr.key.as_ref()),
            name_of(e)
        )),
        Some(Err(err)) => Err(format!("malformed attribute on <{}>: {err}", name_of(e))),
    }
}

/// The field a start tag inside `<CORSRule>` opens.
fn rule_field(e: &BytesStart<'_>, format: Format) -> Result<Field, String> {
    let field = Field::in_rule(e.name().as_ref(), format).ok_or_else(|| {
        let id = if format == Format::S3Xml { ", ID" } else { "" };
        format!(
            "unexpected element <{}> in <CORSRule>; expected AllowedOrigin, AllowedMethod, \
             AllowedHeader, ExposeHeader, MaxAgeSeconds{id}{}",
            name_of(e),
            hint(e, format)
        )
    })?;
    no_attributes(e)?;
    Ok(field)
}

/// A word of advice for elements that belong to the other provider or to
/// the JSON shape.
fn hint(e: &BytesStart<'_>, format: Format) -> &'static str {
    match (e.name().as_ref(), format) {
        (b"ID", Format::OssXml) => " (OSS XML has no rule ID; read it as s3-xml)",
        (b"ResponseVary", Format::S3Xml) => " (only OSS has ResponseVary; read it as oss-xml)",
        (b"AllowedOrigins" | b"AllowedMethods" | b"AllowedHeaders" | b"ExposeHeaders", _) => {
            " (XML repeats the singular element once per value)"
        }
        _ => "",
    }
}

/// Single-valued fields may appear once per rule.
fn once(field: Field, seen_max_age: &mut bool, seen_id: &mut bool) -> Result<(), String> {
    let seen = match field {
        Field::MaxAgeSeconds => seen_max_age,
        Field::Id => seen_id,
        _ => return Ok(()),
    };
    if std::mem::replace(seen, true) {
        return Err(format!(
            "<{}> appears twice in one rule; expected it at most once",
            field.name()
        ));
    }
    Ok(())
}

/// Stores a field's text in the rule (or the configuration).
fn assign(
    rule: &mut Rule,
    doc: &mut XmlDocument,
    field: Field,
    text: String,
) -> Result<(), String> {
    match field {
        Field::AllowedOrigin => rule.allowed_origins.push(text),
        Field::AllowedMethod => rule.allowed_methods.push(text),
        Field::AllowedHeader => rule.allowed_headers.push(text),
        Field::ExposeHeader => rule.expose_headers.push(text),
        Field::Id => {
            doc.has_rule_id = true;
            rule.id = Some(text);
        }
        Field::MaxAgeSeconds => {
            let value = text.trim();
            let seconds = value.parse::<u64>().map_err(|_| {
                format!("`{value}` is not a number of seconds; expected a non-negative integer")
            })?;
            rule.max_age_seconds = Some(seconds);
        }
        Field::ResponseVary => {
            doc.config.response_vary = match text.trim() {
                "true" => true,
                "false" => false,
                other => {
                    return Err(format!(
                        "`{other}` is not a boolean; expected true or false"
                    ));
                }
            };
        }
    }
    Ok(())
}

/// Resolves `&name;` and `&#N;` references. Only XML's five predefined
/// entities exist: the documents have no DTD to define others.
fn reference(r: &BytesRef<'_>) -> Result<String, String> {
    let name = r
        .decode()
        .map_err(|e| format!("reference is not valid UTF-8: {e}"))?;
    if let Some(c) = r
        .resolve_char_ref()
        .map_err(|e| format!("bad character reference `&{name};`: {e}"))?
    {
        return Ok(c.to_string());
    }
    quick_xml::escape::resolve_predefined_entity(&name)
        .map(str::to_owned)
        .ok_or_else(|| {
            format!("unknown entity `&{name};`; expected &amp; &lt; &gt; &quot; &apos; or &#N;")
        })
}

fn name_of(e: &BytesStart<'_>) -> String {
    String::from_utf8_lossy(e.name().as_ref()).into_owned()
}
