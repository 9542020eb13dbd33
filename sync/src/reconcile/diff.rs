//! A small line diff for `--dry-run`: configurations are a few dozen lines,
//! so a quadratic longest-common-subsequence table is plenty and avoids a
//! dependency.

/// Every line of `old` and `new`, prefixed `-` (removed), `+` (added) or
/// two spaces (kept), in order.
pub fn lines(old: &str, new: &str) -> String {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    // lcs[i][j]: length of the common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut out = String::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push_str(&format!("  {}\n", a[i]));
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out.push_str(&format!("+ {}\n", b[j]));
            j += 1;
        } else {
            out.push_str(&format!("- {}\n", a[i]));
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn marks_removed_added_and_kept_lines() {
        assert_eq!(
            super::lines("a\nb\nc\n", "a\nc\nd\n"),
            "  a\n- b\n  c\n+ d\n"
        );
        assert_eq!(super::lines("", "x\n"), "+ x\n");
    }
}
