//! Row data of the workload tables, generated exactly as WORKLOAD.md says.
//!
//! Invariants:
//! 1. An `sbtest1` row draws from the stream in this order: `k = range(1, N)`,
//!    then 10 groups for `c`, then 5 groups for `pad`.
//! 2. A group is one `next()` value written as its 11 lowest decimal digits,
//!    least significant first, followed by `-`: 12 ASCII bytes. So `c` is
//!    120 bytes and `pad` 60.
//! 3. `jb` rows use no randomness; `ja` rows draw `b_code` then `val`.
//!
//! It does not know SQL; the callers bind the values.

use crate::rng::SplitMix64;

/// Groups in `sbtest1.c`.
pub const C_GROUPS: usize = 10;
/// Groups in `sbtest1.pad`.
pub const PAD_GROUPS: usize = 5;
/// Bytes in one group: 11 digits and a dash.
pub const GROUP_BYTES: usize = 12;
/// Length of `sbtest1.c` in bytes.
pub const C_BYTES: usize = C_GROUPS * GROUP_BYTES;
/// Multiplier of the `jb.code` permutation.
pub const JB_CODE_STRIDE: u64 = 7919;

/// Seed of the `sbtest1` load (W1).
pub const SEED_LOAD: u64 = 42;
/// Seed of the point-select keys (W2).
pub const SEED_POINT: u64 = 2;
/// Seed of the range bounds (W3a, W3b).
pub const SEED_RANGE: u64 = 3;
/// Seed of the durable writes (W4).
pub const SEED_DURABLE: u64 = 4;
/// Seed of the join tables (W5b).
pub const SEED_JOIN: u64 = 5;
/// Base seed of the concurrent steps; thread `t` (from 0) uses `base + t`.
pub const SEED_CONCURRENT_BASE: u64 = 600;

/// Appends `groups` groups drawn from `rng` to `out` (invariant 2).
pub fn push_groups(rng: &mut SplitMix64, groups: usize, out: &mut String) {
    for _ in 0..groups {
        let mut x = rng.next_u64();
        for _ in 0..11 {
            out.push(char::from(b'0' + (x % 10) as u8));
            x /= 10;
        }
        out.push('-');
    }
}

/// Generates `sbtest1` rows into reused buffers, so the load loop does not
/// allocate per row.
#[derive(Debug, Default)]
pub struct SbtestGen {
    c: String,
    pad: String,
}

/// One generated `sbtest1` row; the strings borrow the generator's buffers.
#[derive(Debug)]
pub struct SbtestRow<'a> {
    /// `k`, in `1..=N`.
    pub k: i64,
    /// `c`, 120 ASCII bytes.
    pub c: &'a str,
    /// `pad`, 60 ASCII bytes.
    pub pad: &'a str,
}

impl SbtestGen {
    /// A generator with empty buffers.
    pub fn new() -> SbtestGen {
        SbtestGen { c: String::with_capacity(C_BYTES), pad: String::with_capacity(PAD_GROUPS * GROUP_BYTES) }
    }

    /// The next row's data for a table of `rows` rows (invariant 1).
    /// `rows` must be at least 1 and below 2^63.
    pub fn next_row(&mut self, rng: &mut SplitMix64, rows: u64) -> SbtestRow<'_> {
        let k = to_i64(rng.range(1, rows));
        self.c.clear();
        push_groups(rng, C_GROUPS, &mut self.c);
        self.pad.clear();
        push_groups(rng, PAD_GROUPS, &mut self.pad);
        SbtestRow { k, c: &self.c, pad: &self.pad }
    }
}

/// One `jb` row: `(code, grp, name)` for `id` in `1..=n`.
pub fn jb_row(id: u64, n: u64) -> (i64, i64, String) {
    let code = n + (id.wrapping_mul(JB_CODE_STRIDE)) % n;
    (to_i64(code), to_i64(id % 1000), format!("name-{id}"))
}

/// One `ja` row: `(b_code, val)`, drawn in that order from `rng`.
pub fn ja_row(rng: &mut SplitMix64, n: u64) -> (i64, i64) {
    let b_code = n + rng.next_u64() % n;
    let val = rng.next_u64() % 1000;
    (to_i64(b_code), to_i64(val))
}

/// True when `jb.code` is a permutation for `n` rows (the stride is prime, so
/// this fails only for multiples of it).
pub fn jb_codes_are_unique(n: u64) -> bool {
    n > 0 && !n.is_multiple_of(JB_CODE_STRIDE)
}

/// Converts a generated value to `i64`. Callers keep table sizes below
/// 2^62, so the values (at most twice a size) always fit.
pub fn to_i64(v: u64) -> i64 {
    i64::try_from(v).expect("invariant: workload sizes are validated to stay below 2^62")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn sbtest_row_has_the_specified_shape() {
        let mut rng = SplitMix64::new(SEED_LOAD);
        let mut g = SbtestGen::new();
        let r = g.next_row(&mut rng, 1000);
        assert!((1..=1000).contains(&r.k));
        assert_eq!(r.c.len(), 120);
        assert_eq!(r.pad.len(), 60);
        assert!(r.c.bytes().enumerate().all(|(i, b)| if i % 12 == 11 { b == b'-' } else { b.is_ascii_digit() }));
    }

    #[test]
    fn group_digits_are_least_significant_first() {
        let mut a = SplitMix64::new(9);
        let mut b = a.clone();
        let mut s = String::new();
        push_groups(&mut a, 1, &mut s);
        let x = b.next_u64();
        let expected: String = format!("{:011}", x % 100_000_000_000).chars().rev().collect();
        assert_eq!(s, format!("{expected}-"));
    }

    #[test]
    fn jb_codes_form_a_permutation_and_every_ja_row_matches() {
        let n = 20_000;
        let codes: HashSet<i64> = (1..=n).map(|id| jb_row(id, n).0).collect();
        assert_eq!(codes.len(), 20_000);
        let mut rng = SplitMix64::new(SEED_JOIN);
        assert!((0..1000).all(|_| codes.contains(&ja_row(&mut rng, n).0)));
        assert!(jb_codes_are_unique(n));
        assert!(!jb_codes_are_unique(7919 * 3));
    }
}
