//! The one error type of parsing: where in the document, and what was
//! expected there.

use super::Format;

/// A document could not be read as a CORS configuration.
///
/// It says where (line and column when the format has them, the path of the
/// offending field when known) and what was expected, so the user can go
/// straight to the spot and fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct ParseError {
    /// The format the document was read as; `None` when it could not be told.
    pub format: Option<Format>,
    /// 1-based line of the problem, when known.
    pub line: Option<usize>,
    /// 1-based column (in characters) of the problem, when known.
    pub column: Option<usize>,
    /// Path of the offending field in the document's own terms, such as
    /// `CORSRules[0].MaxAgeSeconds` or `CORSConfiguration/CORSRule[2]/ID`.
    pub path: Option<String>,
    /// What is wrong and what was expected instead.
    pub message: String,
}

impl ParseError {
    /// An error with a message only; the location is filled in by the builders.
    pub(crate) fn new(format: Option<Format>, message: impl Into<String>) -> Self {
        ParseError {
            format,
            line: None,
            column: None,
            path: None,
            message: message.into(),
        }
    }

    /// Sets line and column from a byte offset into `text`.
    pub(crate) fn at_offset(mut self, text: &str, offset: usize) -> Self {
        let (line, column) = line_column(text, offset);
        self.line = Some(line);
        self.column = Some(column);
        self
    }

    /// Sets line and column directly (both 1-based).
    pub(crate) fn at_line_column(mut self, line: usize, column: usize) -> Self {
        self.line = Some(line);
        self.column = Some(column);
        self
    }

    /// Sets the field path.
    pub(crate) fn at_path(mut self, path: impl Into<String>) -> Self {
        let path = path.into();
        self.path = (!path.is_empty() && path != ".").then_some(path);
        self
    }

    fn render(&self) -> String {
        let mut out = match self.format {
            Some(format) => format.description().to_owned(),
            None => "document".to_owned(),
        };
        if let Some(line) = self.line {
            out.push_str(&format!(", line {line}"));
            if let Some(column) = self.column {
                out.push_str(&format!(", column {column}"));
            }
        }
        if let Some(path) = &self.path {
            out.push_str(&format!(", at {path}"));
        }
        out.push_str(": ");
        out.push_str(&self.message);
        out
    }
}

/// Builds a [`ParseError`] from a JSON error with its field path.
pub(crate) fn from_json(
    format: Format,
    err: serde_path_to_error::Error<serde_json::Error>,
) -> ParseError {
    let path = err.path().to_string();
    from_json_at(format, path, err.into_inner())
}

/// Builds a [`ParseError`] from a JSON error at `path` (empty: the root).
pub(crate) fn from_json_at(format: Format, path: String, inner: serde_json::Error) -> ParseError {
    let message = without_location(inner.to_string(), inner.line(), inner.column());
    let mut out = ParseError::new(Some(format), message).at_path(path);
    if inner.line() > 0 {
        out = out.at_line_column(inner.line(), inner.column());
    }
    out
}

/// Builds a [`ParseError`] from a YAML error with its field path.
pub(crate) fn from_yaml(
    format: Format,
    path: Option<String>,
    err: &serde_norway::Error,
) -> ParseError {
    let mut message = err.to_string();
    let mut out = ParseError::new(Some(format), String::new());
    if let Some(location) = err.location() {
        message = without_location(message, location.line(), location.column());
        out = out.at_line_column(location.line(), location.column());
    }
    if let Some(path) = path {
        // serde_norway puts (part of) the path in front of the message; the
        // path field says it already.
        if let Some((head, rest)) = message.split_once(": ")
            && path.starts_with(head)
        {
            message = rest.to_owned();
        }
        out = out.at_path(path);
    }
    // An unquoted `*` (`allowedOrigins: [*]`) is YAML alias syntax; the
    // library's words for it do not say so.
    if message.contains("alias") {
        message.push_str(" (a `*` value must be quoted in YAML: \"*\")");
    }
    out.message = message;
    out
}

/// Library messages end in " at line L column C"; the error says that in its
/// own fields.
fn without_location(message: String, line: usize, column: usize) -> String {
    message.replacen(&format!(" at line {line} column {column}"), "", 1)
}

/// 1-based line and column (counted in characters) of a byte offset. An
/// offset past the end or inside a character is clamped, never a panic.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_from_one_and_in_characters() {
        let text = "ab\ncé\nx";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 3), (2, 1));
        // `é` is two bytes; the offset after it is column 3.
        assert_eq!(line_column(text, 6), (2, 3));
        // Inside `é` clamps back to its start; past the end clamps to the end.
        assert_eq!(line_column(text, 5), (2, 2));
        assert_eq!(line_column(text, 100), (3, 2));
    }

    #[test]
    fn message_names_format_place_and_path() {
        let e = ParseError::new(Some(Format::S3Json), "expected an integer")
            .at_line_column(4, 22)
            .at_path("CORSRules[0].MaxAgeSeconds");
        assert_eq!(
            e.to_string(),
            "S3 JSON, line 4, column 22, at CORSRules[0].MaxAgeSeconds: expected an integer"
        );
    }
}
