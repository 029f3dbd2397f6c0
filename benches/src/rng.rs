//! The workload's PRNG: splitmix64, as fixed by WORKLOAD.md.
//!
//! Invariants:
//! 1. `next_u64` adds `0x9E3779B97F4A7C15` to the state, then applies the
//!    standard splitmix64 mix, so every implementation yields the same stream.
//! 2. `range(lo, hi) = lo + next() % (hi - lo + 1)`, modulo bias included on
//!    purpose (the specification says so).
//!
//! Not a cryptographic generator, and not used anywhere but benchmarks.

/// Splitmix64 generator.
#[derive(Clone, Debug)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator with the given seed (the initial state).
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    /// The next value of the stream.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `lo..=hi`. Callers guarantee `lo <= hi` (the workload
    /// binary validates its arguments); the full `u64` span is not supported.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        debug_assert!(lo <= hi, "invariant: range bounds are ordered");
        let span = hi.wrapping_sub(lo).wrapping_add(1);
        if span == 0 {
            // Only for lo = 0, hi = u64::MAX: every value is in range.
            return self.next_u64();
        }
        lo + self.next_u64() % span
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_splitmix64_stream() {
        // Reference values of splitmix64 seeded with 0 (Vigna's splitmix64.c).
        let mut r = SplitMix64::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        assert_eq!(r.next_u64(), 0x06C4_5D18_8009_454F);
    }

    #[test]
    fn range_stays_within_bounds() {
        let mut r = SplitMix64::new(42);
        for _ in 0..10_000 {
            let v = r.range(1, 100);
            assert!((1..=100).contains(&v));
        }
        assert_eq!(r.range(7, 7), 7);
    }
}
