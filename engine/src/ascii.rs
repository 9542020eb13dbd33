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

/// The bytes of a slice shorter than eight, as one little-endian word padded
/// with zeros: the last two loads overlap, so this is at most three loads
/// whatever the length, instead of a per-byte loop.
#[inline(always)]
fn short_word(bytes: &[u8]) -> u64 {
    let n = bytes.len();
    debug_assert!(n < 8);
    if n >= 4 {
        let lo = u32::from_le_bytes(bytes[..4].try_into().expect("four bytes")) as u64;
        let hi = u32::from_le_bytes(bytes[n - 4..].try_into().expect("four bytes")) as u64;
        lo | (hi << ((n - 4) * 8))
    } else if n > 0 {
        // 1 to 3 bytes: first, middle and last (they may coincide).
        bytes[0] as u64
            | (bytes[n / 2] as u64) << ((n / 2) * 8)
            | (bytes[n - 1] as u64) << ((n - 1) * 8)
    } else {
        0
    }
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

/// The first eight bytes of `bytes` (all of them when shorter, padded with
/// zeros), ASCII lower-cased, as one little-endian word.
#[inline(always)]
pub(crate) fn head_word(bytes: &[u8]) -> u64 {
    lower_word(match bytes.get(..8) {
        Some(head) => word(head),
        None => short_word(bytes),
    })
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
    let x = short_word(chunks.remainder());
    lower_word(x) != x
}

/// Compares two slices of equal length word by word, each word passed
/// through `map` on the `a` side: the last word of a slice of eight bytes or
/// more overlaps the one before instead of falling back to bytes.
#[inline(always)]
fn eq_words(a: &[u8], b: &[u8], map: impl Fn(u64) -> u64) -> bool {
    let n = a.len();
    debug_assert_eq!(n, b.len());
    if n < 8 {
        return map(short_word(a)) == short_word(b);
    }
    let mut i = 0;
    while i + 8 < n {
        if map(word(&a[i..i + 8])) != word(&b[i..i + 8]) {
            return false;
        }
        i += 8;
    }
    map(word(&a[n - 8..])) == word(&b[n - 8..])
}

/// Byte equality.
#[inline]
pub(crate) fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && eq_words(a, b, |x| x)
}

/// True when `input`, ASCII-lower-cased, equals `lower` (which must already
/// be lower case).
#[inline]
pub(crate) fn eq_lower(input: &[u8], lower: &[u8]) -> bool {
    input.len() == lower.len() && eq_words(input, lower, lower_word)
}

/// True when `bytes` holds no ASCII upper-case letter, space or tab, in one
/// pass.
#[inline]
pub(crate) fn is_lower_and_bare(bytes: &[u8]) -> bool {
    let clean = |x: u64| lower_word(x) == x && !has_byte(x, b' ') && !has_byte(x, b'\t');
    let mut chunks = bytes.chunks_exact(8);
    // `&` rather than `&&` inside: no branch per word.
    let mut ok = true;
    for chunk in &mut chunks {
        ok &= clean(word(chunk));
    }
    let rest = chunks.remainder();
    // Padding the short word with `a` keeps the padding clean.
    let pad = LO.wrapping_mul(b'a' as u64) << (rest.len() * 8 % 64);
    let pad = if rest.is_empty() { 0 } else { pad };
    ok && (rest.is_empty() || clean(short_word(rest) | pad))
}

/// True when one of the eight bytes of `x` is `byte`.
#[inline(always)]
fn has_byte(x: u64, byte: u8) -> bool {
    let x = x ^ LO.wrapping_mul(byte as u64);
    x.wrapping_sub(LO) & !x & HI != 0
}

/// Writes the names of a raw `Access-Control-Request-Headers` value into
/// `out` as the `Access-Control-Allow-Headers` value: split on `,`, empty
/// names skipped, ASCII lower-cased, joined by `", "`. Returns the length
/// written, or `None` when the value holds a space or tab (names then need
/// trimming: the caller takes the general path) or `out` could be too small
/// (it needs twice `raw`'s length).
///
/// Eight bytes at a time: a word without a comma is lower-cased and stored
/// whole; only words holding a comma go byte by byte. This is the form
/// browsers send (`content-type,x-amz-date`), so it is the common case.
#[inline]
pub(crate) fn allow_headers_value(raw: &[u8], out: &mut [u8]) -> Option<usize> {
    if out.len() < 2 * raw.len() {
        return None;
    }
    let has = has_byte;
    let (mut len, mut names, mut in_name) = (0, 0usize, false);
    let mut chunks = raw.chunks_exact(8);
    for chunk in &mut chunks {
        let x = word(chunk);
        if has(x, b' ') || has(x, b'\t') {
            return None;
        }
        if !has(x, b',') {
            if !in_name {
                if names > 0 {
                    out[len..len + 2].copy_from_slice(b", ");
                    len += 2;
                }
                names += 1;
                in_name = true;
            }
            out[len..len + 8].copy_from_slice(&lower_word(x).to_le_bytes());
            len += 8;
            continue;
        }
        for &b in chunk {
            push_name_byte(b, out, &mut len, &mut names, &mut in_name);
        }
    }
    for &b in chunks.remainder() {
        if b == b' ' || b == b'\t' {
            return None;
        }
        push_name_byte(b, out, &mut len, &mut names, &mut in_name);
    }
    Some(len)
}

/// One byte of [`allow_headers_value`]'s byte-by-byte path.
#[inline(always)]
fn push_name_byte(b: u8, out: &mut [u8], len: &mut usize, names: &mut usize, in_name: &mut bool) {
    if b == b',' {
        *in_name = false;
        return;
    }
    if !*in_name {
        if *names > 0 {
            out[*len..*len + 2].copy_from_slice(b", ");
            *len += 2;
        }
        *names += 1;
        *in_name = true;
    }
    out[*len] = b.to_ascii_lowercase();
    *len += 1;
}

/// Position of the first `needle` in `haystack`.
#[inline]
pub(crate) fn find_byte(haystack: &[u8], needle: u8) -> Option<usize> {
    let pattern = LO.wrapping_mul(needle as u64);
    // A zero byte in `x` is a match; this sets its high bit (and may set
    // spurious ones only above a real match, which trailing_zeros skips).
    let first_zero = |x: u64| {
        let found = x.wrapping_sub(LO) & !x & HI;
        (found != 0).then(|| (found.trailing_zeros() / 8) as usize)
    };
    let n = haystack.len();
    let mut offset = 0;
    while offset + 8 <= n {
        if let Some(at) = first_zero(word(&haystack[offset..offset + 8]) ^ pattern) {
            return Some(offset + at);
        }
        offset += 8;
    }
    let rest = &haystack[offset..];
    // The padding bytes of the last, short word may look like matches (for
    // a zero needle); only the lowest flagged byte is sure to be real, and
    // it counts only inside `rest`.
    let x = short_word(rest) ^ pattern;
    first_zero(x)
        .filter(|&at| at < rest.len())
        .map(|at| offset + at)
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
    fn every_length_and_position_agrees_with_std() {
        let base: Vec<u8> = (0..40u8).map(|i| b'A' + (i % 26)).collect();
        for n in 0..base.len() {
            let a = &base[..n];
            let lower = a.to_ascii_lowercase();
            assert!(bytes_eq(a, a) && eq_lower(a, &lower), "{n}");
            assert!(!has_upper(&lower), "{n}");
            assert_eq!(has_upper(a), n > 0, "{n}");
            for at in 0..n {
                let mut b = a.to_vec();
                b[at] ^= 0x01;
                assert!(!bytes_eq(a, &b), "{n} {at}");
                let mut l = lower.clone();
                l[at] ^= 0x01;
                assert!(!eq_lower(a, &l), "{n} {at}");
                let mut h = lower.clone();
                h[at] = b',';
                assert_eq!(find_byte(&h, b','), Some(at), "{n} {at}");
                assert_eq!(find_byte(&h, 0), None, "{n} {at}");
                h[at] = 0;
                assert_eq!(find_byte(&h, 0), Some(at), "{n} {at}");
            }
            assert_eq!(find_byte(&lower, b','), None, "{n}");
        }
    }

    #[test]
    fn is_lower_and_bare_agrees_with_std() {
        for s in [
            "",
            "a",
            "A",
            " ",
            "\t",
            "abc",
            "content-type,x-amz-date",
            "content-type,x-amz-Date",
            "content-type, x",
            "abcdefg",
            "abcdefgh",
            "abcdefghi",
            "abcdefghI",
            "\0",
            "é,ü",
        ] {
            let want = !s
                .bytes()
                .any(|b| b.is_ascii_uppercase() || b == b' ' || b == b'\t');
            assert_eq!(is_lower_and_bare(s.as_bytes()), want, "{s:?}");
        }
    }

    #[test]
    fn allow_headers_value_agrees_with_split_and_join() {
        let samples = [
            "",
            ",",
            ",,a,,",
            "content-type,x-amz-content-sha256,x-amz-date",
            "Content-Type,X-Amz-Date",
            "x-a,x-b,x-c,x-d,x-e,x-f,x-g,x-h,x-i",
            "abcdefgh,ABCDEFGH,,ijklmnopqrstu,",
            "é,Ü-x",
        ];
        let mut out = [0u8; 256];
        for raw in samples {
            let want: Vec<String> = raw
                .split(',')
                .filter(|n| !n.is_empty())
                .map(|n| n.to_ascii_lowercase())
                .collect();
            let len = allow_headers_value(raw.as_bytes(), &mut out).expect(raw);
            assert_eq!(
                std::str::from_utf8(&out[..len]).unwrap(),
                want.join(", "),
                "{raw:?}"
            );
        }
        assert_eq!(allow_headers_value(b"a, b", &mut out), None);
        assert_eq!(allow_headers_value(b"abcdefgh\tijk", &mut out), None);
        assert_eq!(allow_headers_value(b"abc", &mut [0u8; 5]), None);
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
