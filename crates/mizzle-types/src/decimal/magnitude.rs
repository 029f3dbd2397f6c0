//! Fixed-width unsigned integers for the wide path of [`super::Decimal`]:
//! 576 bits, enough for the exact product of two 81-digit mantissas (162
//! digits) and for a mantissa scaled up by 10^90 before a division.
//!
//! Invariants:
//! 1. Every operation that can exceed 576 bits is `checked_*` and returns
//!    `None` instead of wrapping; the others cannot overflow.
//! 2. Division by zero is never attempted: callers check the divisor
//!    (`divrem` and `divrem_small` return `None` for zero).
//!
//! Limbs are little-endian `u64`s. This module knows nothing about signs,
//! scales or SQL; it does no allocation except in [`Magnitude::write_digits`].

use std::cmp::Ordering;

/// Number of 64-bit limbs.
pub(crate) const LIMBS: usize = 9;

/// The largest power of ten a [`Magnitude`] holds (`10^173 < 2^576`).
pub(crate) const MAX_POW10: u32 = 173;

/// An unsigned integer below `2^576`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Magnitude(pub(crate) [u64; LIMBS]);

/// `10^n` for `n <= MAX_POW10`, built at compile time.
static POW10: [Magnitude; MAX_POW10 as usize + 1] = {
    let mut t = [Magnitude::ZERO; MAX_POW10 as usize + 1];
    t[0].0[0] = 1;
    let mut n = 1;
    while n <= MAX_POW10 as usize {
        // Multiply the previous power by ten, limb by limb.
        let mut carry: u128 = 0;
        let mut i = 0;
        while i < LIMBS {
            let p = t[n - 1].0[i] as u128 * 10 + carry;
            t[n].0[i] = p as u64;
            carry = p >> 64;
            i += 1;
        }
        n += 1;
    }
    t
};

/// 10^19, the largest power of ten in a `u64`.
const TEN19: u64 = 10_000_000_000_000_000_000;

impl Magnitude {
    /// Zero.
    pub(crate) const ZERO: Magnitude = Magnitude([0; LIMBS]);

    /// `10^n`, or `None` beyond [`MAX_POW10`].
    pub(crate) fn pow10(n: u32) -> Option<Magnitude> {
        POW10.get(n as usize).copied()
    }

    /// The value of a `u128`.
    pub(crate) fn from_u128(v: u128) -> Magnitude {
        let mut m = Magnitude::ZERO;
        m.0[0] = v as u64;
        m.0[1] = (v >> 64) as u64;
        m
    }

    /// The value as a `u128`, if it fits.
    pub(crate) fn to_u128(self) -> Option<u128> {
        if self.0[2..].iter().any(|&l| l != 0) {
            return None;
        }
        Some((self.0[1] as u128) << 64 | self.0[0] as u128)
    }

    /// True for zero.
    pub(crate) fn is_zero(&self) -> bool {
        self.0.iter().all(|&l| l == 0)
    }

    /// Number of limbs up to the highest non-zero one (0 for zero).
    fn used(&self) -> usize {
        self.0.iter().rposition(|&l| l != 0).map_or(0, |i| i + 1)
    }

    /// `self + o`, or `None` past 576 bits.
    pub(crate) fn checked_add(&self, o: &Magnitude) -> Option<Magnitude> {
        let mut r = Magnitude::ZERO;
        let mut carry = false;
        for i in 0..LIMBS {
            let (s1, c1) = self.0[i].overflowing_add(o.0[i]);
            let (s2, c2) = s1.overflowing_add(u64::from(carry));
            r.0[i] = s2;
            carry = c1 || c2;
        }
        (!carry).then_some(r)
    }

    /// `self - o` for `self >= o` (wraps otherwise; callers compare first).
    pub(crate) fn sub(&self, o: &Magnitude) -> Magnitude {
        let mut r = Magnitude::ZERO;
        let mut borrow = false;
        for i in 0..LIMBS {
            let (d1, b1) = self.0[i].overflowing_sub(o.0[i]);
            let (d2, b2) = d1.overflowing_sub(u64::from(borrow));
            r.0[i] = d2;
            borrow = b1 || b2;
        }
        r
    }

    /// `self * m` for a small factor, or `None` past 576 bits.
    pub(crate) fn checked_mul_small(&self, m: u64) -> Option<Magnitude> {
        let mut r = Magnitude::ZERO;
        let mut carry: u128 = 0;
        for i in 0..LIMBS {
            let p = self.0[i] as u128 * m as u128 + carry;
            r.0[i] = p as u64;
            carry = p >> 64;
        }
        (carry == 0).then_some(r)
    }

    /// `self * o`, or `None` past 576 bits.
    pub(crate) fn checked_mul(&self, o: &Magnitude) -> Option<Magnitude> {
        let (na, nb) = (self.used(), o.used());
        if na == 0 || nb == 0 {
            return Some(Magnitude::ZERO);
        }
        if na + nb > LIMBS + 1 {
            return None;
        }
        // The schoolbook product in a buffer one limb longer than needed, so
        // the top limb shows an overflow.
        let mut r = [0u64; LIMBS + 1];
        for i in 0..na {
            let mut carry: u128 = 0;
            for j in 0..nb {
                let k = i + j;
                let slot = r.get_mut(k)?;
                let p = self.0[i] as u128 * o.0[j] as u128 + *slot as u128 + carry;
                *slot = p as u64;
                carry = p >> 64;
            }
            let k = i + nb;
            if carry != 0 {
                let slot = r.get_mut(k)?;
                *slot = carry as u64;
            }
        }
        if r[LIMBS] != 0 {
            return None;
        }
        let mut m = Magnitude::ZERO;
        m.0.copy_from_slice(&r[..LIMBS]);
        Some(m)
    }

    /// `(self / d, self % d)` for a small divisor; `None` when `d` is zero.
    pub(crate) fn divrem_small(&self, d: u64) -> Option<(Magnitude, u64)> {
        if d == 0 {
            return None;
        }
        let mut q = Magnitude::ZERO;
        let mut rem: u128 = 0;
        for i in (0..self.used()).rev() {
            let cur = rem << 64 | self.0[i] as u128;
            q.0[i] = (cur / d as u128) as u64;
            rem = cur % d as u128;
        }
        Some((q, rem as u64))
    }

    /// `(self / d, self % d)`; `None` when `d` is zero. Knuth's algorithm D
    /// (TAOCP 4.3.1) on 64-bit limbs.
    pub(crate) fn divrem(&self, d: &Magnitude) -> Option<(Magnitude, Magnitude)> {
        let n = d.used();
        if n == 0 {
            return None;
        }
        if n == 1 {
            let (q, r) = self.divrem_small(d.0[0])?;
            return Some((q, Magnitude::from_u128(r as u128)));
        }
        let m_len = self.used();
        if *self < *d {
            return Some((Magnitude::ZERO, *self));
        }
        // Normalize so the divisor's top limb has its high bit set; the
        // dividend gets one extra limb for the bits shifted out.
        let s = d.0[n - 1].leading_zeros();
        let dn = shl(&d.0, s);
        let mut un = [0u64; LIMBS + 1];
        un[..LIMBS].copy_from_slice(&shl(&self.0, s));
        un[LIMBS] = if s == 0 { 0 } else { self.0[LIMBS - 1] >> (64 - s) };
        let top = dn[n - 1] as u128;
        let next = dn[n - 2] as u128;
        let mut q = Magnitude::ZERO;
        for j in (0..=m_len - n).rev() {
            // Estimate the quotient digit from the top two limbs, then
            // correct it (at most twice) with the third.
            let num = (un[j + n] as u128) << 64 | un[j + n - 1] as u128;
            let mut qhat = num / top;
            let mut rhat = num % top;
            while qhat > u64::MAX as u128 || qhat * next > (rhat << 64 | un[j + n - 2] as u128) {
                qhat -= 1;
                rhat += top;
                if rhat > u64::MAX as u128 {
                    break;
                }
            }
            // Multiply and subtract qhat * dn from un[j ..= j + n].
            let mut k: i128 = 0;
            for i in 0..n {
                let p = qhat * dn[i] as u128;
                let t = un[i + j] as i128 - k - (p as u64) as i128;
                un[i + j] = t as u64;
                k = (p >> 64) as i128 - (t >> 64);
            }
            let t = un[j + n] as i128 - k;
            un[j + n] = t as u64;
            let mut qd = qhat as u64;
            if t < 0 {
                // qhat was one too large: add the divisor back.
                qd = qd.wrapping_sub(1);
                let mut c: u128 = 0;
                for i in 0..n {
                    let s = un[i + j] as u128 + dn[i] as u128 + c;
                    un[i + j] = s as u64;
                    c = s >> 64;
                }
                un[j + n] = un[j + n].wrapping_add(c as u64);
            }
            q.0[j] = qd;
        }
        // The remainder is in the low n limbs of un, still shifted by s.
        let mut r = Magnitude::ZERO;
        for i in 0..n {
            r.0[i] = if s == 0 { un[i] } else { un[i] >> s | un[i + 1] << (64 - s) };
        }
        Some((q, r))
    }

    /// `self / 10^n` rounded half up (the caller applies the sign, which
    /// makes it half away from zero); `None` beyond [`MAX_POW10`].
    pub(crate) fn div_pow10_round(&self, n: u32) -> Option<Magnitude> {
        if n == 0 {
            return Some(*self);
        }
        // Half up: round up iff the first dropped digit is 5 or more.
        let q = self.div_pow10_trunc(n - 1)?;
        let (q, digit) = q.divrem_small(10)?;
        if digit >= 5 {
            q.checked_add(&Magnitude::from_u128(1))
        } else {
            Some(q)
        }
    }

    /// `self / 10^n` truncated; `None` beyond [`MAX_POW10`].
    pub(crate) fn div_pow10_trunc(&self, n: u32) -> Option<Magnitude> {
        if n > MAX_POW10 {
            return None;
        }
        let mut q = *self;
        let mut left = n;
        while left > 0 {
            let step = left.min(19);
            q = q.divrem_small(10u64.pow(step))?.0;
            left -= step;
        }
        Some(q)
    }

    /// `self * 10^n`, or `None` past 576 bits.
    pub(crate) fn checked_mul_pow10(&self, n: u32) -> Option<Magnitude> {
        self.checked_mul(&Magnitude::pow10(n)?)
    }

    /// Number of decimal digits (1 for zero).
    pub(crate) fn digits(&self) -> u32 {
        let used = self.used();
        if used == 0 {
            return 1;
        }
        // Estimate from the bit length (bits * log10(2) is within one of
        // the answer), then step to the smallest n with self < 10^n.
        let bits = used as u32 * 64 - self.0[used - 1].leading_zeros();
        let mut n = (bits as u64 * 30_102 / 100_000) as u32;
        while n > 1 && Magnitude::pow10(n - 1).is_some_and(|p| *self < p) {
            n -= 1;
        }
        while Magnitude::pow10(n).is_some_and(|p| *self >= p) {
            n += 1;
        }
        n.max(1)
    }

    /// Appends the decimal digits (no sign, no leading zeros; "0" for zero).
    pub(crate) fn write_digits(&self, out: &mut String) {
        // Split into base-10^19 chunks, least significant first.
        let mut chunks = [0u64; LIMBS * 2];
        let mut n = 0;
        let mut v = *self;
        while !v.is_zero() && n < chunks.len() {
            let Some((q, r)) = v.divrem_small(TEN19) else { break };
            chunks[n] = r;
            n += 1;
            v = q;
        }
        if n == 0 {
            out.push('0');
            return;
        }
        use std::fmt::Write;
        let _ = write!(out, "{}", chunks[n - 1]);
        for c in chunks[..n - 1].iter().rev() {
            let _ = write!(out, "{c:019}");
        }
    }
}

/// The limbs shifted left by `s < 64` bits, dropping what leaves the top.
fn shl(a: &[u64; LIMBS], s: u32) -> [u64; LIMBS] {
    if s == 0 {
        return *a;
    }
    let mut r = [0u64; LIMBS];
    for i in (0..LIMBS).rev() {
        r[i] = a[i] << s | if i > 0 { a[i - 1] >> (64 - s) } else { 0 };
    }
    r
}

impl PartialOrd for Magnitude {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Magnitude {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.iter().rev().cmp(other.0.iter().rev())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigUint;
    use proptest::prelude::*;

    fn big(m: &Magnitude) -> BigUint {
        let mut bytes = Vec::with_capacity(LIMBS * 8);
        for l in m.0 {
            bytes.extend_from_slice(&l.to_le_bytes());
        }
        BigUint::from_bytes_le(&bytes)
    }

    fn from_big(b: &BigUint) -> Option<Magnitude> {
        let d = b.to_u64_digits();
        if d.len() > LIMBS {
            return None;
        }
        let mut m = Magnitude::ZERO;
        m.0[..d.len()].copy_from_slice(&d);
        Some(m)
    }

    /// Magnitudes of every length, with runs of zero and all-ones limbs
    /// (the edge cases of carries and of division's correction step).
    fn magnitude() -> impl Strategy<Value = Magnitude> {
        let limb = prop_oneof![Just(0u64), Just(u64::MAX), Just(1u64 << 63), any::<u64>()];
        (proptest::collection::vec(limb, LIMBS), 0..=LIMBS).prop_map(|(v, len)| {
            let mut m = Magnitude::ZERO;
            m.0[..len].copy_from_slice(&v[..len]);
            m
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn arithmetic_matches_bigint(a in magnitude(), b in magnitude(), small in any::<u64>()) {
            let (ba, bb) = (big(&a), big(&b));
            prop_assert_eq!(a.checked_add(&b), from_big(&(&ba + &bb)));
            prop_assert_eq!(a.checked_mul(&b), from_big(&(&ba * &bb)));
            prop_assert_eq!(a.checked_mul_small(small), from_big(&(&ba * small)));
            prop_assert_eq!(a.cmp(&b), ba.cmp(&bb));
            if a >= b {
                prop_assert_eq!(Some(a.sub(&b)), from_big(&(&ba - &bb)));
            }
            if !b.is_zero() {
                let (q, r) = a.divrem(&b).expect("non-zero divisor");
                prop_assert_eq!(Some(q), from_big(&(&ba / &bb)));
                prop_assert_eq!(Some(r), from_big(&(&ba % &bb)));
            } else {
                prop_assert!(a.divrem(&b).is_none());
            }
            if small != 0 {
                let (q, r) = a.divrem_small(small).expect("non-zero divisor");
                prop_assert_eq!(Some(q), from_big(&(&ba / small)));
                prop_assert_eq!(BigUint::from(r), &ba % small);
            }
            prop_assert_eq!(a.digits() as usize, ba.to_string().len());
            let mut s = String::new();
            a.write_digits(&mut s);
            prop_assert_eq!(s, ba.to_string());
        }

        #[test]
        fn powers_of_ten_round_half_up(a in magnitude(), n in 0u32..=60) {
            let ba = big(&a);
            let p = BigUint::from(10u32).pow(n);
            let want = (&ba + &p / 2u32) / &p;
            if n == 0 {
                prop_assert_eq!(a.div_pow10_round(0), Some(a));
            } else {
                prop_assert_eq!(a.div_pow10_round(n), from_big(&want));
            }
            prop_assert_eq!(a.div_pow10_trunc(n), from_big(&(&ba / &p)));
            prop_assert_eq!(a.checked_mul_pow10(n), from_big(&(&ba * &p)));
        }
    }

    #[test]
    fn table_of_powers_is_exact() {
        for n in 0..=MAX_POW10 {
            assert_eq!(big(&Magnitude::pow10(n).expect("in table")), BigUint::from(10u32).pow(n));
        }
        assert!(Magnitude::pow10(MAX_POW10 + 1).is_none());
    }

    #[test]
    fn division_needing_the_add_back_step() {
        // A classic case where qhat overestimates: 2^128 - 1 split so the
        // top limbs match the divisor's.
        let a = Magnitude([0, 0, 0x8000_0000_0000_0000, 0x7fff_ffff_ffff_ffff, 0, 0, 0, 0, 0]);
        let b = Magnitude([1, 0, 0x8000_0000_0000_0000, 0, 0, 0, 0, 0, 0]);
        let (q, r) = a.divrem(&b).expect("non-zero");
        assert_eq!(big(&q), big(&a) / big(&b));
        assert_eq!(big(&r), big(&a) % big(&b));
    }
}
