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
//!   are compared one by one, suffix first.
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

use crate::ascii::bytes_eq;
use crate::compile::{CompiledRule, method_bit};
use crate::pattern::{Affixes, Pattern};

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
    exact: ExactOrigins,
    wildcards: Vec<WildcardOrigin>,
}

/// One distinct wildcard origin and the rules that list it.
#[derive(Debug, Clone)]
struct WildcardOrigin {
    affixes: Affixes,
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
        let mut wildcards: Vec<WildcardOrigin> = Vec::new();
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
                        let affixes = Affixes::new(prefix, suffix);
                        match wildcards.iter_mut().find(|w| w.affixes == affixes) {
                            Some(w) => w.rules |= bit,
                            None => wildcards.push(WildcardOrigin {
                                affixes,
                                rules: bit,
                            }),
                        }
                    }
                }
            }
        }
        Some(RuleIndex {
            methods,
            any_origin,
            exact: ExactOrigins::new(exact),
            wildcards,
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
        let mut by_origin = self.any_origin | self.exact.get(origin);
        for w in &self.wildcards {
            // Only rules that could still change the answer are worth a
            // comparison.
            if w.rules & by_method & !by_origin != 0 && w.affixes.matches(origin) {
                by_origin |= w.rules;
            }
        }
        by_method & by_origin
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

/// Exact origins in an open-addressing hash table: a power-of-two number of
/// slots, at most half full, linear probing. Built once; lookups compare at
/// most a few stored origins, and only those whose hash matches in full.
#[derive(Debug, Clone)]
struct ExactOrigins {
    /// Index into `entries` plus one; 0 is an empty slot.
    slots: Box<[u32]>,
    /// A hash's slot is its top bits: `hash >> shift`.
    shift: u32,
    entries: Box<[ExactEntry]>,
}

#[derive(Debug, Clone)]
struct ExactEntry {
    hash: u64,
    origin: Box<[u8]>,
    rules: RuleBits,
}

impl ExactOrigins {
    fn new(origins: Vec<(Box<[u8]>, RuleBits)>) -> ExactOrigins {
        let size = (origins.len() * 2).next_power_of_two().max(2);
        let mut slots = vec![0u32; size].into_boxed_slice();
        let entries: Box<[ExactEntry]> = origins
            .into_iter()
            .map(|(origin, rules)| ExactEntry {
                hash: hash(&origin),
                origin,
                rules,
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
            slots[at] = u32::try_from(i + 1).expect("origin count fits u32");
        }
        ExactOrigins {
            slots,
            shift,
            entries,
        }
    }

    /// The rules listing `origin` exactly; 0 when none does.
    #[inline]
    fn get(&self, origin: &[u8]) -> RuleBits {
        if self.entries.is_empty() {
            return 0;
        }
        let h = hash(origin);
        let mask = self.slots.len() - 1;
        let mut at = (h >> self.shift) as usize;
        // The table is at most half full, so an empty slot ends every probe.
        loop {
            match self.slots[at] {
                0 => return 0,
                n => {
                    let entry = &self.entries[n as usize - 1];
                    if entry.hash == h && bytes_eq(&entry.origin, origin) {
                        return entry.rules;
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
        let mut tail = [0u8; 8];
        tail[..rest.len()].copy_from_slice(rest);
        h = h.wrapping_add((u64::from_le_bytes(tail) ^ lane).wrapping_mul(K));
    }
    // A multiply carries every bit only upwards, so fold the high half
    // down, multiply once more, and let the table use the top bits.
    (h ^ (h >> 32)).wrapping_mul(K)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_origins_find_every_key_and_nothing_else() {
        let keys: Vec<String> = (0..300)
            .map(|i| format!("https://app{i}.example.com"))
            .collect();
        let table = ExactOrigins::new(
            keys.iter()
                .enumerate()
                .map(|(i, k)| (k.as_bytes().into(), 1u128 << (i % 128)))
                .collect(),
        );
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(table.get(k.as_bytes()), 1u128 << (i % 128), "{k}");
        }
        for miss in ["", "https://app300.example.com", "https://app1.example.co"] {
            assert_eq!(table.get(miss.as_bytes()), 0, "{miss}");
        }
        assert_eq!(ExactOrigins::new(Vec::new()).get(b"x"), 0);
    }
}
