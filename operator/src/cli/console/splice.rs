//! Saving a manifest without losing what the user wrote around the rules:
//! the new `spec.rules` (and `spec.responseVary`) replace only their own
//! lines in the file's text, so comments, key order, quoting and the other
//! documents stay byte for byte as they were.
//!
//! YAML has no editing API that keeps comments, so this works on lines,
//! and is only trusted after the fact: the caller parses the spliced text
//! and compares it with the document it meant to write. Anything this
//! cannot place (flow-style specs, anchors, a missing `rules:`) returns
//! `None`, and the caller falls back to rewriting the file from its parsed
//! value, saying so.

/// The text with document `document` (0-based, `---` separated)'s
/// `spec.rules` replaced by `rules_yaml` (a block sequence, unindented) and
/// `spec.responseVary` set to `response_vary` (removed when false).
pub fn splice(
    text: &str,
    document: usize,
    rules_yaml: &str,
    response_vary: bool,
) -> Option<String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let (start, end) = document_lines(&lines, document)?;
    let spec =
        (start..end).find(|&i| is_key(lines[i], 0, "spec") && value_of(lines[i]).is_empty())?;
    let spec_end = block_end(&lines, spec + 1, end, 0);
    let indent = (spec + 1..spec_end)
        .find(|&i| is_content(lines[i]))
        .map(|i| indentation(lines[i]))
        .filter(|&n| n > 0)?;
    let rules = (spec + 1..spec_end).find(|&i| is_key(lines[i], indent, "rules"))?;
    let rules_end = block_end(&lines, rules + 1, spec_end, indent);
    let vary = (spec + 1..spec_end).find(|&i| is_key(lines[i], indent, "responseVary"));
    if vary.is_some_and(|v| v > rules && v < rules_end) {
        return None;
    }
    let pad = " ".repeat(indent);
    let mut block = format!("{pad}rules:\n");
    for line in rules_yaml.lines() {
        block.push_str(&format!("{pad}{line}\n"));
    }
    let vary_line = response_vary.then(|| format!("{pad}responseVary: true\n"));
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        if i == rules {
            out.push_str(&block);
            if vary.is_none()
                && let Some(v) = &vary_line
            {
                out.push_str(v);
            }
        } else if i > rules && i < rules_end {
            // The old rules, replaced above.
        } else if Some(i) == vary {
            if let Some(v) = &vary_line {
                out.push_str(v);
            }
        } else {
            out.push_str(line);
        }
    }
    if !out.ends_with('\n') && text.ends_with('\n') {
        out.push('\n');
    }
    Some(out)
}

/// Lines `[start, end)` of document `n`: documents are separated by lines
/// that start with `---`; a `---` on the first content line opens the
/// first document rather than closing an empty one (as YAML parsers count).
fn document_lines(lines: &[&str], n: usize) -> Option<(usize, usize)> {
    let mut bounds = vec![0];
    let mut seen_content = false;
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with("---") {
            if seen_content {
                bounds.push(i);
            } else {
                bounds[0] = i + 1;
            }
            seen_content = true;
        } else if is_content(line) {
            seen_content = true;
        }
    }
    if lines
        .iter()
        .any(|l| l.starts_with("...") || l.starts_with('%'))
    {
        return None;
    }
    bounds.push(lines.len());
    let start = *bounds.get(n)?;
    let end = *bounds.get(n + 1)?;
    // A separator line itself is not part of the next document's body.
    let start = if n > 0 { start + 1 } else { start };
    Some((start, end))
}

/// The first line at or after `from` (before `until`) that ends the block
/// of a key at `indent`: content at a smaller indentation, or at the same
/// one unless it is a sequence item (`- `, which YAML allows at its key's
/// indentation). Trailing blank and comment lines stay outside the block.
fn block_end(lines: &[&str], from: usize, until: usize, indent: usize) -> usize {
    let mut end = from;
    for (i, line) in lines.iter().enumerate().take(until).skip(from) {
        if !is_content(line) {
            continue;
        }
        let n = indentation(line);
        let item = line[n..].starts_with("- ") || line[n..].trim_end() == "-";
        if n < indent || (n == indent && (indent == 0 || !item)) {
            break;
        }
        end = i + 1;
    }
    end
}

fn is_content(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && !t.starts_with('#')
}

fn indentation(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn is_key(line: &str, indent: usize, key: &str) -> bool {
    indentation(line) == indent
        && line[indent..]
            .strip_prefix(key)
            .is_some_and(|rest| rest.starts_with(':'))
}

/// What follows `key:` on its line, comments dropped.
fn value_of(line: &str) -> &str {
    let after = line.split_once(':').map_or("", |(_, v)| v);
    after.split(" #").next().unwrap_or("").trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "# The team's bucket.\n---\napiVersion: v1\nkind: BucketCors\nspec:\n  backend:\n    bucket: b  # the bucket\n  # Who may read.\n  rules:\n    - allowedOrigins: [\"https://a.example\"]\n      # a comment inside the old rules\n      allowedMethods: [GET]\n  # After the rules.\n  deletionPolicy: Retain\n---\nkind: Other\nspec:\n  rules: []\n";

    #[test]
    fn only_the_rules_lines_change() {
        let out = splice(
            FILE,
            0,
            "- allowedOrigins:\n  - https://b.example\n  allowedMethods:\n  - PUT\n",
            false,
        )
        .expect("spliced");
        assert!(out.starts_with("# The team's bucket.\n---\napiVersion: v1\nkind: BucketCors\nspec:\n  backend:\n    bucket: b  # the bucket\n  # Who may read.\n  rules:\n  - allowedOrigins:\n    - https://b.example\n"), "{out}");
        assert!(out.contains("  - PUT\n  # After the rules.\n  deletionPolicy: Retain\n---\nkind: Other\nspec:\n  rules: []\n"), "{out}");
        assert!(!out.contains("inside the old rules"));
    }

    #[test]
    fn response_vary_is_set_beside_the_rules_and_removed_when_false() {
        let out = splice(FILE, 0, "- allowedOrigins: []\n", true).expect("spliced");
        assert!(
            out.contains("  - allowedOrigins: []\n  responseVary: true\n  # After the rules."),
            "{out}"
        );
        let back = splice(&out, 0, "- allowedOrigins: []\n", false).expect("spliced");
        assert!(!back.contains("responseVary"), "{back}");
    }

    #[test]
    fn the_second_document_is_found_by_its_separator() {
        let out = splice(FILE, 1, "- allowedOrigins: []\n", false).expect("spliced");
        assert!(
            out.ends_with("kind: Other\nspec:\n  rules:\n  - allowedOrigins: []\n"),
            "{out}"
        );
        assert!(out.contains("# a comment inside the old rules"));
    }

    #[test]
    fn what_it_cannot_place_is_left_to_the_caller() {
        assert_eq!(splice("spec: {rules: []}\n", 0, "- a\n", false), None);
        assert_eq!(splice("spec:\n  backend: {}\n", 0, "- a\n", false), None);
    }
}
