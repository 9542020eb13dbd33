//! A bound on YAML flow nesting, checked before the YAML library runs.
//!
//! The YAML scanner does work proportional to the flow nesting depth for
//! every token, so a document of a few hundred kilobytes of `[` takes
//! minutes. A configuration needs a few levels, so anything deeper than
//! [`MAX_FLOW_DEPTH`] is refused up front.
//!
//! Counting raw brackets would be wrong: values may contain brackets
//! (`http://[::1]:8080`, or anything at all in a configuration that is not
//! valid yet), and every value must still round-trip. So this is a small
//! lexer that counts only brackets that open flow collections: it skips
//! quoted scalars, comments, block scalars (`|`, `>`) and plain scalars.
//! Where it is unsure it does not count: undercounting only weakens the
//! guard, overcounting would refuse a document the parser accepts.

/// Deepest `[`/`{` nesting a YAML document may have.
pub(super) const MAX_FLOW_DEPTH: usize = 64;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Between tokens: the next character starts one.
    Token,
    /// Inside a plain (unquoted) scalar.
    Plain,
    /// Inside `'...'`.
    Single,
    /// Inside `"..."`.
    Double,
    /// Inside a comment, up to the end of the line.
    Comment,
    /// Inside a block scalar's content: lines indented more than `parent`.
    Block { parent: usize },
}

/// The byte offset where flow nesting first exceeds [`MAX_FLOW_DEPTH`],
/// if it does.
pub(super) fn too_deep_at(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let at = |i: usize| bytes.get(i).copied();
    let is_blank = |b: Option<u8>| matches!(b, None | Some(b' ' | b'\t' | b'\r' | b'\n'));
    let mut depth = 0usize;
    let mut mode = Mode::Token;
    let mut line_start = 0usize;
    let mut i = 0usize;
    while i < bytes.len() {
        let b = bytes[i];
        match mode {
            Mode::Comment => {
                if b == b'\n' {
                    mode = Mode::Token;
                }
            }
            Mode::Single => {
                if b == b'\'' {
                    if at(i + 1) == Some(b'\'') {
                        i += 1;
                    } else {
                        mode = Mode::Token;
                    }
                }
            }
            Mode::Double => {
                if b == b'\\' {
                    i += 1;
                } else if b == b'"' {
                    mode = Mode::Token;
                }
            }
            Mode::Block { parent } => {
                // At the start of a line: blank lines and lines indented
                // deeper than the parent belong to the scalar.
                let indent = bytes[i..].iter().take_while(|&&c| c == b' ').count();
                let rest = at(i + indent);
                if matches!(rest, None | Some(b'\n' | b'\r')) || indent > parent {
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                } else {
                    mode = Mode::Token;
                    continue;
                }
            }
            Mode::Plain if depth == 0 => match b {
                b'\n' => mode = Mode::Token,
                b':' if is_blank(at(i + 1)) => mode = Mode::Token,
                b'#' if i > 0 && matches!(bytes[i - 1], b' ' | b'\t') => mode = Mode::Comment,
                _ => {}
            },
            Mode::Plain => match b {
                // In flow context these end a plain scalar; look at them
                // again as tokens.
                b',' | b'[' | b']' | b'{' | b'}' => {
                    mode = Mode::Token;
                    continue;
                }
                b':' if is_blank(at(i + 1)) => mode = Mode::Token,
                b'#' if i > 0 && matches!(bytes[i - 1], b' ' | b'\t') => mode = Mode::Comment,
                _ => {}
            },
            Mode::Token => match b {
                b' ' | b'\t' | b'\r' | b'\n' | b',' => {}
                b'#' => mode = Mode::Comment,
                b'%' if i == line_start => mode = Mode::Comment,
                b'\'' => mode = Mode::Single,
                b'"' => mode = Mode::Double,
                b'[' | b'{' => {
                    depth += 1;
                    if depth > MAX_FLOW_DEPTH {
                        return Some(i);
                    }
                }
                b']' | b'}' => depth = depth.saturating_sub(1),
                b'-' | b'?' | b':' if is_blank(at(i + 1)) => {}
                b'|' | b'>' if depth == 0 => {
                    let parent = bytes[line_start..]
                        .iter()
                        .take_while(|&&c| c == b' ')
                        .count();
                    // Skip the header (chomping, indentation, comment).
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                    mode = Mode::Block { parent };
                    line_start = i + 1;
                    i += 1;
                    continue;
                }
                // Anchors, tags and aliases end at blanks or flow indicators.
                b'&' | b'!' | b'*' => {
                    while i + 1 < bytes.len()
                        && !is_blank(at(i + 1))
                        && !matches!(bytes[i + 1], b',' | b'[' | b']' | b'{' | b'}')
                    {
                        i += 1;
                    }
                }
                _ => mode = Mode::Plain,
            },
        }
        if i < bytes.len() && bytes[i] == b'\n' {
            line_start = i + 1;
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(n: usize) -> String {
        format!("{}{}", "[".repeat(n), "]".repeat(n))
    }

    #[test]
    fn flow_nesting_is_counted() {
        assert_eq!(too_deep_at(&format!("rules: {}", nested(64))), None);
        assert_eq!(too_deep_at(&format!("rules: {}", nested(65))), Some(7 + 64));
        assert!(too_deep_at(&format!("a: [x, {{b: {}}}]", nested(70))).is_some());
        assert!(too_deep_at(&format!("a: &x !t {}", nested(70))).is_some());
        assert!(too_deep_at(&format!("- - {}", nested(70))).is_some());
    }

    #[test]
    fn brackets_inside_values_are_not() {
        let b = "[".repeat(100);
        for text in [
            format!("- httpsine{b}  1!colum{b}n 1.com\n"),
            format!("a: '{b}''{b}'\n"),
            format!("a: \"{b}\\\"{b}\"\n"),
            format!("a: x # {b}\n"),
            format!("a: |-\n  {b}\n\n  {b}\nb: []\n"),
            format!("- >2\n   {b}\n- x\n"),
            format!("k{b}: v\n"),
        ] {
            assert_eq!(too_deep_at(&text), None, "{text}");
        }
    }
}
