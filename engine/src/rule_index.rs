//! Which rules can match a request, found without scanning every rule.
//!
//! The spec's matching is "the first rule, in order, whose origins, methods
//! and headers all match". Scanning rules in order costs one origin
//! comparison per rule and allowed origin before the right rule is reached,
//! which at 10 rules already dominates a preflight. This index answers the
//! two request-independent questions up front, as bit sets over rule
//! positions ([`RuleBits`], bit `i` for rule `i`):
//!
//! - which rules allow the method: one precomputed set per method;
//! - which rules allow the origin: the union of the sets of every allowed
//!   origin that matches it. Exact origins are found with one hash lookup
//!   (whatever their number); the lone `*` contributes a precomputed set;
//!   wildcard origins (`https://*.example.com`), deduplicated across rules,
//!   are grouped by the length of their suffix (the part after the `*`):
//!   per group, the request origin's last bytes of that length are looked
//!   up with one hash, and only the wildcards ending that way compare their
//!   prefix. Configurations use a handful of suffix lengths however many
//!   wildcards they list, so this costs a few lookups, not one comparison
//!   per wildcard.
//!
//! The candidates are the intersection; the lowest set bit whose rule also
//! allows every requested header is the first matching rule, exactly as the
//! in-order scan would find it. Rule order is kept because the bits are
//! rule positions and the lowest is tried first.
//!
//! The sets are 128 bits, which covers every valid configuration (S3 allows
//! at most 100 rules, OSS 10). A configuration with more rules can only come
//! from [`crate::Compiled::new_unchecked`]; it gets no index and is scanned
//! in order, with the same answers.
//!
//! Everything here is built once per compiled configuration; looking up
//! only reads, hashes on the stack, and never allocates.

use crate::ascii::{bytes_eq, short_word};
use crate::compile::{CompiledRule, method_bit};
use crate::pattern::Pattern;

/// A set of rule positions: bit `i` is rule `i`.
pub(crate) type RuleBits = u128;

/// The most rules an index covers.
pub(crate) const MAX_INDEXED_RULES: usize = RuleBits::BITS as usize;

/// The index over one configuration's rules; see the module docs.
#[derive(Debug, Clone)]
pub(crate) struct RuleIndex {
    /// Rules allowing each of the five methods, by [`method_slot`].
    methods: [RuleBits; 5],
    /// Rules with `*` among their allowed origins.
    any_origin: RuleBits,
    exact: Table<RuleBits>,
    /// Wildcard origins, one group per suffix length.
    wildcards: Box<[SuffixGroup]>,
}

/// The wildcard origins whose suffixes have one length.
#[derive(Debug, Clone)]
struct SuffixGroup {
    /// The length of every suffix in the group.
    len: usize,
    /// The shortest prefix in the group: shorter origins match none.
    min_prefix: usize,
    /// Suffix to the wildcards that end with it.
    by_suffix: Table<Box<[Prefix]>>,
}

/// One distinct wildcard origin, by its prefix (its suffix is the key it is
/// filed under), and the rules that list it.
#[derive(Debug, Clone)]
struct Prefix {
    prefix: Box<[u8]>,
    rules: RuleBits,
}

impl RuleIndex {
    /// Indexes `rules`, or `None` when there are more than
    /// [`MAX_INDEXED_RULES`].
    pub(crate) fn new(rules: &[CompiledRule]) -> Option<RuleIndex> {
        if rules.len() > MAX_INDEXED_RULES {
            return None;
        }
        let mut methods = [0; 5];
        let mut any_origin = 0;
        let mut exact: Vec<(Box<[u8]>, RuleBits)> = Vec::new();
        // (prefix, suffix, rules), one per distinct wildcard.
        let mut wildcards: Vec<(&str, &str, RuleBits)> = Vec::new();
        for (position, rule) in rules.iter().enumerate() {
            let bit: RuleBits = 1 << position;
            for (slot, set) in methods.iter_mut().enumerate() {
                if rule.methods & (1 << slot) != 0 {
                    *set |= bit;
                }
            }
            for origin in &rule.origins {
                match origin {
                    Pattern::Any => any_origin |= bit,
                    Pattern::Exact(value) => {
                        match exact.iter_mut().find(|(v, _)| **v == *value.as_bytes()) {
                            Some((_, set)) => *set |= bit,
                            None => exact.push((value.as_bytes().into(), bit)),
                        }
                    }
                    Pattern::Wildcard { prefix, suffix } => {
                        match wildcards
                            .iter_mut()
                            .find(|(p, s, _)| p == prefix && s == suffix)
                        {
                            Some((_, _, set)) => *set |= bit,
                            None => wildcards.push((prefix, suffix, bit)),
                        }
                    }
                }
            }
        }
        Some(RuleIndex {
            methods,
            any_origin,
            exact: Table::new(exact),
            wildcards: SuffixGroup::all(&wildcards),
        })
    }

    /// The rules allowing `method` (compared exactly) and `origin`: the
    /// candidates for the first matching rule, before requested headers.
    #[inline]
    pub(crate) fn candidates(&self, method: &str, origin: &str) -> RuleBits {
        let Some(slot) = method_slot(method) else {
            return 0;
        };
        let by_method = self.methods[slot];
        if by_method == 0 {
            return 0;
        }
        let origin = origin.as_bytes();
        let mut by_origin = self.any_origin | self.exact.get(origin).copied().unwrap_or(0);
        for group in &self.wildcards {
            if origin.len() < group.len + group.min_prefix {
                continue;
            }
            let Some(prefixes) = group.by_suffix.get(&origin[origin.len() - group.len..]) else {
                continue;
            };
            for w in prefixes {
                // Only rules that could still change the answer are worth a
                // comparison.
                if w.rules & by_method & !by_origin != 0
                    && origin.len() >= w.prefix.len() + group.len
                    && bytes_eq(&origin[..w.prefix.len()], &w.prefix)
                {
                    by_origin |= w.rules;
                }
            }
        }
        by_method & by_origin
    }
}

impl SuffixGroup {
    /// Groups distinct wildcards `(prefix, suffix, rules)` by suffix length,
    /// then by suffix.
    fn all(wildcards: &[(&str, &str, RuleBits)]) -> Box<[SuffixGroup]> {
        let mut lengths: Vec<usize> = wildcards.iter().map(|(_, s, _)| s.len()).collect();
        lengths.sort_unstable();
        lengths.dedup();
        lengths
            .into_iter()
            .map(|len| {
                let mut by_suffix: Vec<(Box<[u8]>, Vec<Prefix>)> = Vec::new();
                for (prefix, suffix, rules) in wildcards.iter().filter(|(_, s, _)| s.len() == len) {
                    let entry = Prefix {
                        prefix: prefix.as_bytes().into(),
                        rules: *rules,
                    };
                    match by_suffix
                        .iter_mut()
                        .find(|(s, _)| **s == *suffix.as_bytes())
                    {
                        Some((_, list)) => list.push(entry),
                        None => by_suffix.push((suffix.as_bytes().into(), vec![entry])),
                    }
                }
                SuffixGroup {
                    len,
                    min_prefix: by_suffix
                        .iter()
                        .flat_map(|(_, list)| list.iter().map(|w| w.prefix.len()))
                        .min()
                        .unwrap_or(0),
                    by_suffix: Table::new(
                        by_suffix
                            .into_iter()
                            .map(|(suffix, list)| (suffix, list.into_boxed_slice()))
                            .collect(),
                    ),
                }
            })
            .collect()
    }
}

/// The position of `method`'s bit in [`method_bit`], or `None` for a method
/// no rule can allow.
#[inline]
fn method_slot(method: &str) -> Option<usize> {
    match method_bit(method) {
        0 => None,
        bit => Some(bit.trailing_zeros() as usize),
    }
}

/// Byte strings (exact origins, wildcard suffixes) to values, in an
/// open-addressing hash table: a power-of-two number of slots, at most half
/// full, linear probing. Built once; lookups compare at most a few stored
/// keys, and only those whose hash matches in full.
#[derive(Debug, Clone)]
struct Table<V> {
    /// Index into `entries` plus one; 0 is an empty slot.
    slots: Box<[u32]>,
    /// A hash's slot is its top bits: `hash >> shift`.
    shift: u32,
    entries: Box<[Entry<V>]>,
}

#[derive(Debug, Clone)]
struct Entry<V> {
    hash: u64,
    key: Box<[u8]>,
    value: V,
}

impl<V> Table<V> {
    /// A table of distinct keys.
    fn new(keys: Vec<(Box<[u8]>, V)>) -> Table<V> {
        let size = (keys.len() * 2).next_power_of_two().max(2);
        let mut slots = vec![0u32; size].into_boxed_slice();
        let entries: Box<[Entry<V>]> = keys
            .into_iter()
            .map(|(key, value)| Entry {
                hash: hash(&key),
                key,
                value,
            })
            .collect();
        let shift = u64::BITS - size.trailing_zeros();
        for (i, entry) in entries.iter().enumerate() {
            let mut at = (entry.hash >> shift) as usize;
            while slots[at] != 0 {
                at = (at + 1) & (size - 1);
            }
            // At most 128 rules' origins (each rule at most a few hundred),
            // far below u32::MAX.
            slots[at] = u32::try_from(i + 1).expect("key count fits u32");
        }
        Table {
            slots,
            shift,
            entries,
        }
    }

    /// The value stored under `key`.
    #[inline]
    fn get(&self, key: &[u8]) -> Option<&V> {
        if self.entries.is_empty() {
            return None;
        }
        let h = hash(key);
        let mask = self.slots.len() - 1;
        let mut at = (h >> self.shift) as usize;
        // The table is at most half full, so an empty slot ends every probe.
        loop {
            match self.slots[at] {
                0 => return None,
                n => {
                    let entry = &self.entries[n as usize - 1];
                    if entry.hash == h && bytes_eq(&entry.key, key) {
                        return Some(&entry.value);
                    }
                }
            }
            at = (at + 1) & mask;
        }
    }
}

/// A fast, non-cryptographic hash of a byte string, eight bytes at a time.
/// The table only needs keys to spread; a collision costs one comparison,
/// never a wrong answer, and the keys are the configuration's own origins
/// (a request cannot add keys), so flooding is not a concern. Each word is
/// mixed on its own (by position) and the results summed, so the multiplies
/// do not wait on each other the way a chained hash's do.
#[inline]
fn hash(bytes: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    const STEP: u64 = 0x6a09_e667_f3bc_c909;
    let mut h = (bytes.len() as u64).wrapping_mul(K);
    let mut lane = STEP;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        h = h.wrapping_add((word ^ lane).wrapping_mul(K));
        lane = lane.wrapping_add(STEP);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        // The last eight bytes, overlapping the word before (no copy into
        // a padded buffer, which costs a `memcpy` call); a key shorter than
        // eight bytes is read in at most three loads.
        let last = match bytes.len().checked_sub(8) {
            Some(start) => u64::from_le_bytes(bytes[start..].try_into().expect("eight bytes")),
            None => short_word(rest),
        };
        h = h.wrapping_add((last ^ lane).wrapping_mul(K));
    }
    // A multiply carries every bit only upwards: fold the high half down
    // and multiply twice more (a 64-bit finalizer), so that keys differing
    // in one byte (`app1`, `app2`) land in unrelated slots instead of
    // clustering; the table uses the top bits.
    let h = (h ^ (h >> 32)).wrapping_mul(K);
    (h ^ (h >> 29)).wrapping_mul(STEP)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_finds_every_key_and_nothing_else() {
        let keys: Vec<String> = (0..300)
            .map(|i| format!("https://app{i}.example.com"))
            .collect();
        let table = Table::new(
            keys.iter()
                .enumerate()
                .map(|(i, k)| (k.as_bytes().into(), 1u128 << (i % 128)))
                .collect(),
        );
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(table.get(k.as_bytes()), Some(&(1u128 << (i % 128))), "{k}");
        }
        for miss in ["", "https://app300.example.com", "https://app1.example.co"] {
            assert_eq!(table.get(miss.as_bytes()), None, "{miss}");
        }
        assert_eq!(Table::<RuleBits>::new(Vec::new()).get(b"x"), None);
    }
}
