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
pub(crate) fn short_word(bytes: &[u8]) -> u64 {
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

/// True when one of the eight bytes of `x` is `byte`.
#[inline(always)]
fn has_byte(x: u64, byte: u8) -> bool {
    let x = x ^ LO.wrapping_mul(byte as u64);
    x.wrapping_sub(LO) & !x & HI != 0
}

/// The high bit of every byte of `x` that equals `byte`, and no other bit
/// (unlike the borrow trick of [`has_byte`], which may flag bytes above a
/// match): adding `0x7f` to a byte's low seven bits carries into its high
/// bit unless they are zero, and never into the next byte.
#[inline(always)]
fn byte_mask(x: u64, byte: u8) -> u64 {
    let t = x ^ LO.wrapping_mul(byte as u64);
    !((t & !HI).wrapping_add(!HI) | t) & HI
}

/// The high bit of every ASCII byte of `x` below `bound` (at most 0x80),
/// and no other bit: adding `0x80 - bound` to a byte's low seven bits sets
/// its high bit exactly when they are `bound` or more, without carrying
/// into the next byte.
#[inline(always)]
fn below(x: u64, bound: u8) -> u64 {
    let at_least = (x & !HI).wrapping_add(LO.wrapping_mul(u64::from(0x80 - bound)));
    !(at_least | x) & HI
}

/// Writes the names of a raw `Access-Control-Request-Headers` value into
/// `out` as the `Access-Control-Allow-Headers` value: ASCII lower-cased,
/// each `,` written as `", "`. Returns the length written, or `None` when
/// the value needs the general path: it is empty, holds a space or tab
/// (names need trimming) or an empty name (`,,`, or a `,` at either end),
/// or `out` is shorter than twice `raw` plus eight bytes.
///
/// This is the form browsers send (`content-type,x-amz-date`: Fetch joins
/// the lower-cased names with bare commas), so it goes eight bytes at a
/// time: each word is checked, lower-cased and stored whole; a word holding
/// commas is stored once per comma, each time shifted past the comma, with
/// `", "` written after the name it ends. Stores may run up to eight bytes
/// past the value written so far (hence the slack); later stores or the
/// returned length cover them.
#[inline]
pub(crate) fn join_names(raw: &[u8], out: &mut [u8]) -> Option<usize> {
    let n = raw.len();
    let (first, last) = (*raw.first()?, *raw.last()?);
    if out.len() < 2 * n + 8 || first == b',' || last == b',' {
        return None;
    }
    let (mut len, mut comma_before) = (0, false);
    let mut chunks = raw.chunks_exact(8);
    for chunk in &mut chunks {
        len = join_word(word(chunk), 8, out, len, &mut comma_before)?;
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        len = join_word(short_word(rest), rest.len(), out, len, &mut comma_before)?;
    }
    Some(len)
}

/// One word of [`join_names`]: the first `take` bytes of `x`, written at
/// `out[len..]`; returns the new length. `comma_before` says whether the
/// previous word ended with a comma, and is updated.
#[inline(always)]
fn join_word(
    x: u64,
    take: usize,
    out: &mut [u8],
    mut len: usize,
    comma_before: &mut bool,
) -> Option<usize> {
    let valid = u64::MAX >> (8 * (8 - take));
    // Space, tab and comma all sort below `-`; most words hold none of
    // them (nor any other byte below `-`) and are stored at once.
    if below(x, b'-') & valid == 0 {
        out[len..len + 8].copy_from_slice(&lower_word(x).to_le_bytes());
        *comma_before = false;
        return Some(len + take);
    }
    if has_byte(x, b' ') || has_byte(x, b'\t') {
        return None;
    }
    let mut commas = byte_mask(x, b',');
    // Two commas in a row, within this word or across the boundary with
    // the previous one: an empty name.
    if commas & (commas << 8) != 0 || (*comma_before && commas & 0x80 != 0) {
        return None;
    }
    *comma_before = commas >> 63 != 0;
    let (mut w, mut rest) = (lower_word(x), take);
    while commas != 0 {
        let p = (commas.trailing_zeros() / 8) as usize;
        out[len..len + 8].copy_from_slice(&w.to_le_bytes());
        len += p;
        out[len..len + 2].copy_from_slice(b", ");
        len += 2;
        // Past the name and its comma: `p + 1` bytes, in two shifts
        // because `p + 1` may be eight.
        w = (w >> (8 * p)) >> 8;
        commas = (commas >> (8 * p)) >> 8;
        rest -= p + 1;
    }
    out[len..len + 8].copy_from_slice(&w.to_le_bytes());
    Some(len + rest)
}

/// `bytes` as text, checked for ASCII (every real header value) a word at a
/// time before the full UTF-8 check: `std::str::from_utf8` costs more than
/// the rest of a decision on the short values this crate handles. `None`
/// when `bytes` are not UTF-8.
#[inline]
#[allow(unsafe_code)]
pub(crate) fn text(bytes: &[u8]) -> Option<&str> {
    if bytes.is_ascii() {
        // SAFETY: ASCII bytes are valid UTF-8 (each is a one-byte code
        // point). This is the crate's only `unsafe`; `lib.rs` denies any
        // other.
        Some(unsafe { std::str::from_utf8_unchecked(bytes) })
    } else {
        std::str::from_utf8(bytes).ok()
    }
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
    fn join_names_agrees_with_split_and_join() {
        let samples = [
            "a",
            "content-type,x-amz-content-sha256,x-amz-date",
            "Content-Type,X-Amz-Date",
            "x-a,x-b,x-c,x-d,x-e,x-f,x-g,x-h,x-i",
            "abcdefgh,ABCDEFGH,ijklmnopqrstu",
            "abcdefg,h",
            "abcdefgh,i",
            "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p",
            "é,Ü-x",
        ];
        let mut out = [0u8; 256];
        for raw in samples {
            let want: Vec<String> = raw.split(',').map(|n| n.to_ascii_lowercase()).collect();
            let len = join_names(raw.as_bytes(), &mut out).expect(raw);
            assert_eq!(text(&out[..len]), Some(want.join(", ").as_str()), "{raw:?}");
        }
        // Every position of an empty name or whitespace falls back.
        for refused in [
            "",
            ",",
            ",a",
            "a,",
            "a,,b",
            "abcdefg,,h",
            "abcdefgh,,i",
            "abcdefg,",
            "a, b",
            "abcdefgh\tijk",
            "a ",
        ] {
            assert_eq!(
                join_names(refused.as_bytes(), &mut out),
                None,
                "{refused:?}"
            );
        }
        assert_eq!(join_names(b"abc", &mut [0u8; 13]), None);
        assert_eq!(join_names(b"abc", &mut [0u8; 14]), Some(3));
    }

    #[test]
    fn byte_mask_flags_exactly_the_bytes_equal() {
        for b in 0u8..=255 {
            let bytes = [b, b',', 0, 0xac, b'+', b'-', 0x2c ^ 0x80, 0xff];
            let mask = byte_mask(u64::from_le_bytes(bytes), b',');
            for (i, &x) in bytes.iter().enumerate() {
                assert_eq!(mask >> (8 * i + 7) & 1 == 1, x == b',', "{b:#x} at {i}");
            }
            assert_eq!(mask & !HI, 0);
        }
    }

    #[test]
    fn below_flags_exactly_the_ascii_bytes_below() {
        for b in 0u8..=255 {
            for bound in [0u8, 1, b'-', 0x7f, 0x80] {
                let bytes = [b, 0, b',', b'-', 0x7f, 0x80, 0xff, b.wrapping_add(1)];
                let mask = below(u64::from_le_bytes(bytes), bound);
                for (i, &x) in bytes.iter().enumerate() {
                    assert_eq!(
                        mask >> (8 * i + 7) & 1 == 1,
                        x < bound,
                        "{b:#x} < {bound:#x} at {i}"
                    );
                }
                assert_eq!(mask & !HI, 0);
            }
        }
    }

    #[test]
    fn text_agrees_with_from_utf8() {
        for bytes in [
            &b""[..],
            b"https://app.example.com",
            "é".as_bytes(),
            b"\xff",
            b"\xc3",
            b"abcdefghijklmnopqrstuvwxyz\x80",
        ] {
            assert_eq!(text(bytes), std::str::from_utf8(bytes).ok(), "{bytes:?}");
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
