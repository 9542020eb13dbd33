//! Byte helpers for the hot path: equality, ASCII case-insensitive equality
//! against an already lower-case pattern, and finding a byte, eight bytes at
//! a time (SWAR on `u64`).
//!
//! Origins and header names are a few dozen bytes, where a call into libc's
//! `memcmp`/`memchr` or a per-byte loop with case folding on both sides
//! costs more than the comparison itself. Every function here is total and
//! linear in its input.

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

#[inline(always)]
fn word(bytes: &[u8]) -> u64 {
    u64::from_le_bytes(bytes.try_into().expect("a chunk of eight bytes"))
}

/// ASCII-lower-cases the eight bytes of `x` (`A`-`Z` only; other bytes,
/// including non-ASCII ones, unchanged).
#[inline(always)]
fn lower_word(x: u64) -> u64 {
    let low7 = x & !HI;
    // High bit of each byte: byte >= 'A', and byte > 'Z', on 7-bit values.
    let ge_a = low7.wrapping_add(0x3f3f_3f3f_3f3f_3f3f);
    let gt_z = low7.wrapping_add(0x2525_2525_2525_2525);
    let upper = ge_a & !gt_z & !x & HI;
    x | (upper >> 2)
}

/// True when `bytes` holds an ASCII upper-case letter.
#[inline]
pub(crate) fn has_upper(bytes: &[u8]) -> bool {
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let x = word(chunk);
        if lower_word(x) != x {
            return true;
        }
    }
    chunks.remainder().iter().any(u8::is_ascii_uppercase)
}

/// Byte equality.
#[inline]
pub(crate) fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (mut a8, mut b8) = (a.chunks_exact(8), b.chunks_exact(8));
    for (x, y) in (&mut a8).zip(&mut b8) {
        if word(x) != word(y) {
            return false;
        }
    }
    a8.remainder() == b8.remainder()
}

/// True when `input`, ASCII-lower-cased, equals `lower` (which must already
/// be lower case).
#[inline]
pub(crate) fn eq_lower(input: &[u8], lower: &[u8]) -> bool {
    if input.len() != lower.len() {
        return false;
    }
    let (mut i8, mut l8) = (input.chunks_exact(8), lower.chunks_exact(8));
    for (x, y) in (&mut i8).zip(&mut l8) {
        if lower_word(word(x)) != word(y) {
            return false;
        }
    }
    i8.remainder()
        .iter()
        .zip(l8.remainder())
        .all(|(x, y)| x.to_ascii_lowercase() == *y)
}

/// Position of the first `needle` in `haystack`.
#[inline]
pub(crate) fn find_byte(haystack: &[u8], needle: u8) -> Option<usize> {
    let pattern = LO.wrapping_mul(needle as u64);
    let mut chunks = haystack.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let x = word(chunk) ^ pattern;
        // A zero byte in `x` is a match; this sets its high bit (and may set
        // spurious ones only above a real match, which trailing_zeros skips).
        let found = x.wrapping_sub(LO) & !x & HI;
        if found != 0 {
            return Some(offset + (found.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == needle)
        .map(|i| offset + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_word_changes_only_upper_case_ascii() {
        for b in 0u8..=255 {
            let x = u64::from_le_bytes([b; 8]);
            let want = u64::from_le_bytes([b.to_ascii_lowercase(); 8]);
            assert_eq!(lower_word(x), want, "byte {b:#x}");
        }
    }

    #[test]
    fn eq_lower_and_bytes_eq_agree_with_std() {
        let samples = [
            "",
            "a",
            "X-Amz-Date",
            "x-amz-date",
            "Content-Type",
            "content-typf",
            "x-amz-content-sha256",
            "X-AMZ-CONTENT-SHA256",
            "é-É-ab",
            "@[`{",
        ];
        for a in samples {
            for b in samples {
                let lower = b.to_ascii_lowercase();
                assert_eq!(
                    eq_lower(a.as_bytes(), lower.as_bytes()),
                    a.eq_ignore_ascii_case(&lower),
                    "{a:?} vs {lower:?}"
                );
                assert_eq!(bytes_eq(a.as_bytes(), b.as_bytes()), a == b);
            }
        }
    }

    #[test]
    fn has_upper_agrees_with_std() {
        for s in [
            "",
            "abc",
            "x-amz-content-sha256",
            "x-amz-content-sha25Z",
            "Abcdefghij",
            "é",
            "@[`{",
        ] {
            assert_eq!(
                has_upper(s.as_bytes()),
                s.bytes().any(|b| b.is_ascii_uppercase()),
                "{s:?}"
            );
        }
    }

    #[test]
    fn find_byte_agrees_with_position() {
        let hay = b"x-amz-date, content-type,,x\x2c\xac,\x00\xff,end";
        for start in 0..hay.len() {
            for needle in [b',', 0, 0xff, b'x', b'q'] {
                let h = &hay[start..];
                assert_eq!(
                    find_byte(h, needle),
                    h.iter().position(|&b| b == needle),
                    "{start} {needle}"
                );
            }
        }
    }
}
