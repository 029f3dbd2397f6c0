//! Exact fixed-point decimal numbers for `DECIMAL(p,s)`.
//!
//! A [`Decimal`] is a signed integer mantissa and a scale: the value is
//! `mantissa / 10^scale`. Invariants:
//! 1. `scale <= MAX_SCALE` (30, as in MySQL).
//! 2. `|mantissa| < 10^MAX_DIGITS` (81 digits). Columns and `CAST` hold at
//!    most [`MAX_PRECISION`] (65) digits; like MySQL, whose decimal buffer
//!    has nine 9-digit words, an intermediate result may carry up to 81
//!    (`99999…9 (65 nines) + 1` has 66). Wider results are `None` (a range
//!    error to the caller).
//! 3. The representation is canonical: one value at one scale has one bit
//!    pattern (two's complement, no negative zero).
//! 4. Equality, ordering and hashing ignore trailing zeros: `1.50 == 1.5`.
//!
//! Representation: a 272-bit two's complement mantissa (four 64-bit limbs
//! and a 16-bit top) and the scale, 40 bytes, `Copy`, 8-byte aligned. Every
//! operation first tries the narrow path: when both mantissas fit an `i128`
//! (every value of up to 38 digits, so all of SUM(int), money and the
//! like) it is `i128` arithmetic as before; only on overflow or for wider
//! operands does it fall back to the 576-bit [`magnitude`] arithmetic.
//!
//! Rounding is half away from zero, as MySQL rounds DECIMAL. No allocation
//! happens in arithmetic; only `Display` builds a string.

mod magnitude;

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use magnitude::Magnitude;

/// The largest scale a decimal may have.
pub const MAX_SCALE: u8 = 30;
/// The most digits a DECIMAL column or `CAST(... AS DECIMAL(p,s))` may have.
pub const MAX_PRECISION: u32 = 65;
/// The most significant digits any decimal value may have (an intermediate
/// result, as in MySQL's nine-word decimal buffer).
pub const MAX_DIGITS: u32 = 81;

/// Bytes of a mantissa in [`Decimal::mantissa_le_bytes`]: 272 bits.
pub const MANTISSA_BYTES: usize = 34;

const POW10: [i128; 39] = {
    let mut t = [1i128; 39];
    let mut i = 1;
    while i < 39 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// `10^n` for `n <= 38`.
pub fn pow10(n: u32) -> Option<i128> {
    POW10.get(n as usize).copied()
}

/// An exact decimal number; see the module documentation.
#[derive(Clone, Copy)]
pub struct Decimal {
    /// Bits 0..256 of the two's complement mantissa, least significant
    /// limb first.
    lo: [u64; 4],
    /// Bits 256..272 (sign-extended: 0 or -1 unless the value is wide).
    hi: i16,
    scale: u8,
}

/// A sign and a magnitude: the wide path's working form.
#[derive(Clone, Copy)]
struct Wide {
    neg: bool,
    mag: Magnitude,
}

impl Wide {
    /// The signed sum.
    fn add(self, o: Wide) -> Option<Wide> {
        if self.neg == o.neg {
            return Some(Wide { neg: self.neg, mag: self.mag.checked_add(&o.mag)? });
        }
        Some(if self.mag >= o.mag {
            Wide { neg: self.neg, mag: self.mag.sub(&o.mag) }
        } else {
            Wide { neg: o.neg, mag: o.mag.sub(&self.mag) }
        })
    }

    /// `self * 10^n`.
    fn scale_up(self, n: u32) -> Option<Wide> {
        Some(Wide { neg: self.neg, mag: self.mag.checked_mul_pow10(n)? })
    }

    fn cmp(&self, o: &Wide) -> Ordering {
        let (za, zb) = (self.mag.is_zero(), o.mag.is_zero());
        let sa = if za {
            0
        } else if self.neg {
            -1
        } else {
            1
        };
        let sb = if zb {
            0
        } else if o.neg {
            -1
        } else {
            1
        };
        match sa.cmp(&sb) {
            Ordering::Equal if sa < 0 => o.mag.cmp(&self.mag),
            Ordering::Equal => self.mag.cmp(&o.mag),
            other => other,
        }
    }
}

/// `n / d` rounded half away from zero; `None` when `d` is zero.
fn div_round_mag(n: &Magnitude, d: &Magnitude) -> Option<Magnitude> {
    let (q, r) = n.divrem(d)?;
    // r >= d - r  <=>  2r >= d, without doubling r.
    if r >= d.sub(&r) {
        q.checked_add(&Magnitude::from_u128(1))
    } else {
        Some(q)
    }
}

impl Decimal {
    /// Zero with scale 0.
    pub const ZERO: Decimal = Decimal { lo: [0; 4], hi: 0, scale: 0 };

    /// Builds a decimal from an `i128` mantissa, or `None` if the scale is
    /// beyond [`MAX_SCALE`]. (Every `i128` has fewer than 81 digits.)
    pub fn new(mant: i128, scale: u8) -> Option<Decimal> {
        if scale > MAX_SCALE {
            return None;
        }
        Some(Decimal::small(mant, scale))
    }

    /// The narrow form; the scale must already be valid.
    #[inline]
    fn small(m: i128, scale: u8) -> Decimal {
        let ext = (m >> 127) as u64;
        Decimal { lo: [m as u64, (m >> 64) as u64, ext, ext], hi: ext as i16, scale }
    }

    /// The mantissa as an `i128`, if it fits: the fast path's test.
    #[inline]
    fn narrow(self) -> Option<i128> {
        let m = ((self.lo[1] as u128) << 64 | self.lo[0] as u128) as i128;
        let ext = (m >> 127) as u64;
        if self.lo[2] == ext && self.lo[3] == ext && self.hi == ext as i16 {
            Some(m)
        } else {
            None
        }
    }

    /// The five sign-extended 64-bit limbs of the mantissa.
    fn limbs(self) -> [u64; 5] {
        [self.lo[0], self.lo[1], self.lo[2], self.lo[3], self.hi as i64 as u64]
    }

    fn wide(self) -> Wide {
        let mut l = self.limbs();
        let neg = self.hi < 0;
        if neg {
            negate_limbs(&mut l);
        }
        let mut mag = Magnitude::ZERO;
        mag.0[..5].copy_from_slice(&l);
        Wide { neg, mag }
    }

    /// A decimal from a wide value, or `None` beyond [`MAX_DIGITS`] digits
    /// or [`MAX_SCALE`].
    fn from_wide(w: Wide, scale: u8) -> Option<Decimal> {
        if scale > MAX_SCALE || w.mag >= Magnitude::pow10(MAX_DIGITS)? {
            return None;
        }
        // 10^81 < 2^270: the magnitude fits the low five limbs with room
        // for the sign.
        let mut l = [0u64; 5];
        l.copy_from_slice(&w.mag.0[..5]);
        if w.neg {
            negate_limbs(&mut l);
        }
        Some(Decimal { lo: [l[0], l[1], l[2], l[3]], hi: l[4] as i16, scale })
    }

    /// The mantissa (the value times `10^scale`) as an `i128`, or `None`
    /// when it needs more than 128 bits.
    pub fn mantissa_i128(self) -> Option<i128> {
        self.narrow()
    }

    /// The mantissa as 34 bytes of little-endian two's complement: the
    /// stored form of a wide decimal (see `row` and `json::binary`).
    pub fn mantissa_le_bytes(self) -> [u8; MANTISSA_BYTES] {
        let mut out = [0u8; MANTISSA_BYTES];
        for (i, l) in self.lo.iter().enumerate() {
            out[i * 8..i * 8 + 8].copy_from_slice(&l.to_le_bytes());
        }
        out[32..].copy_from_slice(&self.hi.to_le_bytes());
        out
    }

    /// The inverse of [`Decimal::mantissa_le_bytes`]; `None` if the value
    /// breaks the invariants (stored bytes that do so are corrupt).
    pub fn from_mantissa_le_bytes(b: [u8; MANTISSA_BYTES], scale: u8) -> Option<Decimal> {
        let mut lo = [0u64; 4];
        for (i, l) in lo.iter_mut().enumerate() {
            let mut a = [0u8; 8];
            a.copy_from_slice(&b[i * 8..i * 8 + 8]);
            *l = u64::from_le_bytes(a);
        }
        let d = Decimal { lo, hi: i16::from_le_bytes([b[32], b[33]]), scale };
        // Re-checks the digit limit and the scale.
        Decimal::from_wide(d.wide(), scale)
    }

    /// The number of digits after the point.
    pub fn scale(self) -> u8 {
        self.scale
    }

    /// An integer as a decimal with scale 0.
    pub fn from_i64(v: i64) -> Decimal {
        Decimal::small(v as i128, 0)
    }

    /// An unsigned integer as a decimal with scale 0.
    pub fn from_u64(v: u64) -> Decimal {
        Decimal::small(v as i128, 0)
    }

    /// True when the value is zero.
    pub fn is_zero(self) -> bool {
        self.hi == 0 && self.lo == [0; 4]
    }

    /// -1, 0 or 1.
    pub fn signum(self) -> i32 {
        if self.hi < 0 {
            -1
        } else if self.is_zero() {
            0
        } else {
            1
        }
    }

    /// The value negated (always representable: the digit limit is
    /// symmetric).
    pub fn negated(self) -> Decimal {
        if let Some(m) = self.narrow() {
            if let Some(n) = m.checked_neg() {
                return Decimal::small(n, self.scale);
            }
        }
        let mut l = self.limbs();
        negate_limbs(&mut l);
        Decimal { lo: [l[0], l[1], l[2], l[3]], hi: l[4] as i16, scale: self.scale }
    }

    /// The absolute value.
    pub fn abs(self) -> Decimal {
        if self.hi < 0 {
            self.negated()
        } else {
            self
        }
    }

    /// Number of significant digits of the mantissa (at least 1).
    pub fn digits(self) -> u32 {
        match self.narrow() {
            Some(m) => {
                let a = m.unsigned_abs();
                let mut n = 1;
                while n < 39 && a >= POW10[n as usize] as u128 {
                    n += 1;
                }
                n
            }
            None => self.wide().mag.digits(),
        }
    }

    /// Digits before the point (at least 1, as MySQL counts precision).
    pub fn int_digits(self) -> u32 {
        self.digits().saturating_sub(self.scale as u32).max(1)
    }

    /// The same value with trailing fractional zeros removed.
    pub fn normalize(self) -> Decimal {
        if self.scale == 0 {
            return self;
        }
        if let Some(mut m) = self.narrow() {
            let mut scale = self.scale;
            while scale > 0 && m % 10 == 0 {
                m /= 10;
                scale -= 1;
            }
            return Decimal::small(m, scale);
        }
        let mut w = self.wide();
        let mut scale = self.scale;
        while scale > 0 {
            match w.mag.divrem_small(10) {
                Some((q, 0)) => {
                    w.mag = q;
                    scale -= 1;
                }
                _ => break,
            }
        }
        // Fewer digits than before: always fits.
        Decimal::from_wide(w, scale).unwrap_or(self)
    }

    /// The value at another scale, rounding half away from zero when the
    /// scale shrinks; `None` if the result has too many digits.
    pub fn rescale(self, scale: u8) -> Option<Decimal> {
        if scale > MAX_SCALE {
            return None;
        }
        match scale.cmp(&self.scale) {
            Ordering::Equal => Some(self),
            Ordering::Greater => {
                let n = (scale - self.scale) as u32;
                if let Some(m) = self.narrow() {
                    if let Some(r) = m.checked_mul(POW10[n as usize]) {
                        return Some(Decimal::small(r, scale));
                    }
                }
                Decimal::from_wide(self.wide().scale_up(n)?, scale)
            }
            Ordering::Less => {
                let n = (self.scale - scale) as u32;
                if let Some(m) = self.narrow() {
                    return Some(Decimal::small(div_round(m, POW10[n as usize]), scale));
                }
                let w = self.wide();
                Decimal::from_wide(Wide { neg: w.neg, mag: w.mag.div_pow10_round(n)? }, scale)
            }
        }
    }

    /// The value at a smaller scale, truncating toward zero.
    pub fn truncate_to(self, scale: u8) -> Decimal {
        if scale >= self.scale {
            return self;
        }
        let n = (self.scale - scale) as u32;
        if let Some(m) = self.narrow() {
            return Decimal::small(m / POW10[n as usize], scale);
        }
        let w = self.wide();
        // Truncation only removes digits, so the result always fits.
        w.mag
            .div_pow10_trunc(n)
            .and_then(|mag| Decimal::from_wide(Wide { neg: w.neg, mag }, scale))
            .unwrap_or(Decimal::ZERO)
    }

    /// Rounds to `places` digits after the point; negative `places` round to
    /// tens, hundreds and so on. The scale becomes `max(places, 0)`.
    pub fn round_to(self, places: i32) -> Option<Decimal> {
        if places >= 0 {
            let p = places.min(MAX_SCALE as i32) as u8;
            if p >= self.scale {
                return Some(self);
            }
            return self.rescale(p);
        }
        // One rounding of the whole value (ROUND(14.5, -1) is 10, not 20).
        let k = places.unsigned_abs();
        if k > MAX_DIGITS {
            return Some(Decimal::ZERO);
        }
        let total = self.scale as u32 + k;
        if let (Some(m), Some(f), Some(fk)) = (self.narrow(), pow10(total), pow10(k)) {
            if let Some(r) = div_round(m, f).checked_mul(fk) {
                return Decimal::new(r, 0);
            }
        }
        let w = self.wide();
        let mag = w.mag.div_pow10_round(total)?.checked_mul_pow10(k)?;
        Decimal::from_wide(Wide { neg: w.neg, mag }, 0)
    }

    /// Truncates to `places` digits (negative: to tens, hundreds, ...).
    pub fn truncate_places(self, places: i32) -> Option<Decimal> {
        if places >= 0 {
            let p = places.min(MAX_SCALE as i32) as u8;
            return Some(self.truncate_to(p));
        }
        let int = self.truncate_to(0);
        let k = places.unsigned_abs();
        if k > MAX_DIGITS {
            return Some(Decimal::ZERO);
        }
        if let (Some(m), Some(f)) = (int.narrow(), pow10(k)) {
            return Decimal::new((m / f) * f, 0);
        }
        let w = int.wide();
        let mag = w.mag.div_pow10_trunc(k)?.checked_mul_pow10(k)?;
        Decimal::from_wide(Wide { neg: w.neg, mag }, 0)
    }

    /// The integer part and whether a non-zero fraction was dropped.
    fn trunc_parts(self) -> (Decimal, bool) {
        let t = self.truncate_to(0);
        let exact = match (self.narrow(), t.narrow()) {
            (Some(m), Some(q)) => q * POW10[self.scale as usize] == m,
            _ => t.rescale(self.scale).is_some_and(|b| b.lo == self.lo && b.hi == self.hi),
        };
        (t, !exact)
    }

    /// The largest integer not greater than the value, with scale 0.
    pub fn floor(self) -> Decimal {
        if let Some(m) = self.narrow() {
            return Decimal::small(m.div_euclid(POW10[self.scale as usize]), 0);
        }
        let (t, dropped) = self.trunc_parts();
        if dropped && self.hi < 0 {
            // One step away from zero never adds a digit beyond the limit:
            // the value had a fraction, so fewer integer digits than 81.
            t.checked_sub(Decimal::from_i64(1)).unwrap_or(t)
        } else {
            t
        }
    }

    /// The smallest integer not less than the value, with scale 0.
    pub fn ceil(self) -> Decimal {
        if let Some(m) = self.narrow() {
            let f = POW10[self.scale as usize];
            let q = m.div_euclid(f);
            let r = m.rem_euclid(f);
            return Decimal::small(if r == 0 { q } else { q + 1 }, 0);
        }
        let (t, dropped) = self.trunc_parts();
        if dropped && self.hi >= 0 {
            t.checked_add(Decimal::from_i64(1)).unwrap_or(t)
        } else {
            t
        }
    }

    /// Sum; `None` on overflow.
    #[inline]
    pub fn checked_add(self, o: Decimal) -> Option<Decimal> {
        if let (Some(a), Some(b)) = (self.narrow(), o.narrow()) {
            if self.scale == o.scale {
                if let Some(s) = a.checked_add(b) {
                    return Some(Decimal::small(s, self.scale));
                }
            } else {
                let s = self.scale.max(o.scale);
                let a = a.checked_mul(POW10[(s - self.scale) as usize]);
                let b = b.checked_mul(POW10[(s - o.scale) as usize]);
                if let Some(r) = a.zip(b).and_then(|(a, b)| a.checked_add(b)) {
                    return Some(Decimal::small(r, s));
                }
            }
        }
        self.add_wide(o)
    }

    /// The wide path of [`Decimal::checked_add`], kept out of line so the
    /// narrow path inlines.
    #[cold]
    #[inline(never)]
    fn add_wide(self, o: Decimal) -> Option<Decimal> {
        let s = self.scale.max(o.scale);
        let a = self.wide().scale_up((s - self.scale) as u32)?;
        let b = o.wide().scale_up((s - o.scale) as u32)?;
        Decimal::from_wide(a.add(b)?, s)
    }

    /// Difference; `None` on overflow.
    pub fn checked_sub(self, o: Decimal) -> Option<Decimal> {
        self.checked_add(o.negated())
    }

    /// Product with scale `s1 + s2` (at most 30, rounded); `None` on overflow.
    #[inline]
    pub fn checked_mul(self, o: Decimal) -> Option<Decimal> {
        let s = self.scale as u32 + o.scale as u32;
        if let (Some(a), Some(b)) = (self.narrow(), o.narrow()) {
            if let Some(m) = a.checked_mul(b) {
                if s > MAX_SCALE as u32 {
                    return Some(Decimal::small(div_round(m, POW10[(s - MAX_SCALE as u32) as usize]), MAX_SCALE));
                }
                return Some(Decimal::small(m, s as u8));
            }
        }
        self.mul_wide(o)
    }

    /// The wide path of [`Decimal::checked_mul`].
    #[cold]
    #[inline(never)]
    fn mul_wide(self, o: Decimal) -> Option<Decimal> {
        let s = self.scale as u32 + o.scale as u32;
        let (a, b) = (self.wide(), o.wide());
        let mut mag = a.mag.checked_mul(&b.mag)?;
        let scale = if s > MAX_SCALE as u32 {
            mag = mag.div_pow10_round(s - MAX_SCALE as u32)?;
            MAX_SCALE
        } else {
            s as u8
        };
        Decimal::from_wide(Wide { neg: a.neg != b.neg, mag }, scale)
    }

    /// Quotient rounded to `scale` digits; `None` when dividing by zero or
    /// when the result does not fit.
    pub fn checked_div(self, o: Decimal, scale: u8) -> Option<Decimal> {
        if o.is_zero() {
            return None;
        }
        let scale = scale.min(MAX_SCALE);
        // value = (a / 10^sa) / (b / 10^sb); result mantissa = value * 10^scale
        //       = a * 10^(scale + sb - sa) / b
        let exp = scale as i32 + o.scale as i32 - self.scale as i32;
        if let (Some(a), Some(b)) = (self.narrow(), o.narrow()) {
            let (num, den) = if exp >= 0 {
                (pow10(exp as u32).and_then(|f| a.checked_mul(f)), Some(b))
            } else {
                (Some(a), pow10((-exp) as u32).and_then(|f| b.checked_mul(f)))
            };
            if let (Some(num), Some(den)) = (num, den) {
                return Some(Decimal::small(div_round(num, den), scale));
            }
        }
        self.div_wide(o, scale, exp)
    }

    /// The wide path of [`Decimal::checked_div`]: `exp` is the power of ten
    /// the dividend (or, negative, the divisor) is scaled by.
    #[cold]
    #[inline(never)]
    fn div_wide(self, o: Decimal, scale: u8, exp: i32) -> Option<Decimal> {
        let (a, b) = (self.wide(), o.wide());
        let (num, den) = if exp >= 0 {
            (a.mag.checked_mul_pow10(exp as u32)?, b.mag)
        } else {
            (a.mag, b.mag.checked_mul_pow10(exp.unsigned_abs())?)
        };
        Decimal::from_wide(Wide { neg: a.neg != b.neg, mag: div_round_mag(&num, &den)? }, scale)
    }

    /// Remainder with the sign of the dividend; `None` when dividing by zero.
    pub fn checked_rem(self, o: Decimal) -> Option<Decimal> {
        if o.is_zero() {
            return None;
        }
        let s = self.scale.max(o.scale);
        if let (Some(a), Some(b)) = (self.rescale(s).and_then(Decimal::narrow), o.rescale(s).and_then(Decimal::narrow))
        {
            return Some(Decimal::small(a % b, s));
        }
        let a = self.wide().scale_up((s - self.scale) as u32)?;
        let b = o.wide().scale_up((s - o.scale) as u32)?;
        let (_, r) = a.mag.divrem(&b.mag)?;
        Decimal::from_wide(Wide { neg: a.neg, mag: r }, s)
    }

    /// The integer quotient truncated toward zero (`DIV`), saturated to the
    /// `i128` range; `None` when dividing by zero.
    pub fn int_quotient(self, o: Decimal) -> Option<i128> {
        if o.is_zero() {
            return None;
        }
        let s = self.scale.max(o.scale);
        if let (Some(a), Some(b)) = (self.rescale(s).and_then(Decimal::narrow), o.rescale(s).and_then(Decimal::narrow))
        {
            // i128::MIN / -1 is the one quotient that overflows.
            return Some(a.checked_div(b).unwrap_or(i128::MAX));
        }
        let a = self.wide().scale_up((s - self.scale) as u32)?;
        let b = o.wide().scale_up((s - o.scale) as u32)?;
        let (q, _) = a.mag.divrem(&b.mag)?;
        let neg = a.neg != b.neg;
        Some(match q.to_u128().and_then(|u| i128::try_from(u).ok()) {
            Some(v) if neg => -v,
            Some(v) => v,
            None if neg => i128::MIN,
            None => i128::MAX,
        })
    }

    /// Parses `[+-]digits[.digits][e[+-]digits]`, surrounding spaces allowed.
    /// Digits beyond 81 significant ones, and fractional digits beyond 30,
    /// are rounded away; `None` if the integer part has more than 81 digits.
    pub fn parse(s: &str) -> Option<Decimal> {
        let (d, rest) = Decimal::parse_prefix(s.trim())?;
        if rest.trim().is_empty() {
            Some(d)
        } else {
            None
        }
    }

    /// Parses the longest decimal prefix of `s` and returns it with the rest.
    pub fn parse_prefix(s: &str) -> Option<(Decimal, &str)> {
        let b = s.as_bytes();
        let mut i = 0;
        let neg = match b.first() {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        // Digits go into a u128 while it has room, then into a magnitude,
        // which stops taking digits at 81 significant ones.
        let mut small: u128 = 0;
        let mut big: Option<Magnitude> = None;
        let limit = Magnitude::pow10(MAX_DIGITS - 1)?;
        let mut scale: i32 = 0;
        let mut any = false;
        let mut dropped_exp: i32 = 0;
        let mut round_digit: Option<u8> = None;
        let mut seen_point = false;
        while let Some(&c) = b.get(i) {
            if c.is_ascii_digit() {
                any = true;
                let dgt = c - b'0';
                let took = match &mut big {
                    None if small < POW10[37] as u128 => {
                        small = small * 10 + dgt as u128;
                        true
                    }
                    None => {
                        let m = Magnitude::from_u128(small).checked_mul_small(10)?;
                        big = Some(m.checked_add(&Magnitude::from_u128(dgt as u128))?);
                        true
                    }
                    Some(m) if *m < limit => {
                        *m = m.checked_mul_small(10)?.checked_add(&Magnitude::from_u128(dgt as u128))?;
                        true
                    }
                    Some(_) => false,
                };
                if took {
                    if seen_point {
                        scale += 1;
                    }
                } else {
                    if round_digit.is_none() {
                        round_digit = Some(dgt);
                    }
                    if !seen_point {
                        dropped_exp += 1;
                    }
                }
            } else if c == b'.' && !seen_point {
                seen_point = true;
            } else {
                break;
            }
            i += 1;
        }
        if !any {
            return None;
        }
        let mut mag = big.unwrap_or_else(|| Magnitude::from_u128(small));
        if round_digit.is_some_and(|d| d >= 5) {
            mag = mag.checked_add(&Magnitude::from_u128(1))?;
        }
        let mut exp: i32 = dropped_exp;
        if matches!(b.get(i), Some(b'e' | b'E')) {
            let mut j = i + 1;
            let eneg = match b.get(j) {
                Some(b'-') => {
                    j += 1;
                    true
                }
                Some(b'+') => {
                    j += 1;
                    false
                }
                _ => false,
            };
            let start = j;
            let mut e: i32 = 0;
            while let Some(&c) = b.get(j).filter(|c| c.is_ascii_digit()) {
                e = e.saturating_mul(10).saturating_add((c - b'0') as i32);
                j += 1;
            }
            if j > start {
                exp = exp.saturating_add(if eneg { -e } else { e });
                i = j;
            }
        }
        // Apply the exponent: value = mag * 10^(exp - scale), keeping at
        // most MAX_SCALE fractional digits (rounded once, half up).
        let net = exp.saturating_sub(scale);
        let (mag, scale) = if net >= 0 {
            if mag.is_zero() {
                (mag, 0)
            } else {
                (mag.checked_mul_pow10(u32::try_from(net).ok()?)?, 0)
            }
        } else if net < -(MAX_SCALE as i32) {
            let drop = net.unsigned_abs() - MAX_SCALE as u32;
            let m = if drop > magnitude::MAX_POW10 { Magnitude::ZERO } else { mag.div_pow10_round(drop)? };
            (m, MAX_SCALE)
        } else {
            (mag, net.unsigned_abs() as u8)
        };
        let d = Decimal::from_wide(Wide { neg, mag }, scale)?;
        Some((d, s.get(i..).unwrap_or("")))
    }

    /// The nearest double.
    pub fn to_f64(self) -> f64 {
        if self.scale == 0 {
            if let Some(m) = self.narrow() {
                return m as f64;
            }
        }
        // Going through the decimal text gives a correctly rounded double.
        self.to_string().parse::<f64>().unwrap_or(0.0)
    }

    /// A double as a decimal, using its shortest round-trip digits and at most
    /// `MAX_SCALE` fractional digits; `None` for NaN, infinities or values
    /// of more than 81 digits.
    pub fn from_f64(v: f64) -> Option<Decimal> {
        if !v.is_finite() {
            return None;
        }
        Decimal::parse(&format!("{v:e}"))
    }

    /// Truncates toward zero to an `i128` integer, saturating at its ends.
    pub fn trunc_i128(self) -> i128 {
        match self.narrow() {
            Some(m) => m / POW10[self.scale as usize],
            None => self.truncate_to(0).narrow().unwrap_or(if self.hi < 0 { i128::MIN } else { i128::MAX }),
        }
    }

    /// Rounds half away from zero to an `i128` integer, saturating at its
    /// ends.
    pub fn round_i128(self) -> i128 {
        match self.narrow() {
            Some(m) => div_round(m, POW10[self.scale as usize]),
            None => {
                self.rescale(0).and_then(Decimal::narrow).unwrap_or(if self.hi < 0 { i128::MIN } else { i128::MAX })
            }
        }
    }
}

/// Two's complement negation of five limbs.
fn negate_limbs(l: &mut [u64; 5]) {
    let mut carry = true;
    for x in l.iter_mut() {
        let (v, c) = (!*x).overflowing_add(u64::from(carry));
        *x = v;
        carry = c;
    }
}

/// `a / b` rounded half away from zero.
fn div_round(a: i128, b: i128) -> i128 {
    let q = a / b;
    let r = a % b;
    if r.unsigned_abs() >= b.unsigned_abs() - r.unsigned_abs() {
        if (a < 0) != (b < 0) {
            q - 1
        } else {
            q + 1
        }
    } else {
        q
    }
}

impl PartialEq for Decimal {
    fn eq(&self, other: &Self) -> bool {
        if self.scale == other.scale {
            return self.lo == other.lo && self.hi == other.hi;
        }
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Decimal {}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Decimal {
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        if let (Some(a), Some(b)) = (self.narrow(), other.narrow()) {
            match self.scale.cmp(&other.scale) {
                Ordering::Equal => return a.cmp(&b),
                Ordering::Less => {
                    if let Some(a) = a.checked_mul(POW10[(other.scale - self.scale) as usize]) {
                        return a.cmp(&b);
                    }
                }
                Ordering::Greater => {
                    if let Some(b) = b.checked_mul(POW10[(self.scale - other.scale) as usize]) {
                        return a.cmp(&b);
                    }
                }
            }
        }
        cmp_wide(self, other)
    }
}

/// The wide path of `Decimal::cmp`.
#[cold]
#[inline(never)]
fn cmp_wide(a: &Decimal, b: &Decimal) -> Ordering {
    // At a common scale both fit the magnitude: 81 + 30 digits.
    let s = a.scale.max(b.scale);
    match (a.wide().scale_up((s - a.scale) as u32), b.wide().scale_up((s - b.scale) as u32)) {
        (Some(x), Some(y)) => x.cmp(&y),
        _ => a.signum().cmp(&b.signum()),
    }
}

impl Hash for Decimal {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // The canonical bit pattern of the normalized value (invariant 3).
        let n = self.normalize();
        n.lo.hash(state);
        n.hi.hash(state);
        n.scale.hash(state);
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(m) = self.narrow() {
            let a = m.unsigned_abs();
            let p = POW10[self.scale as usize] as u128;
            let int = a / p;
            let frac = a % p;
            if m < 0 {
                f.write_str("-")?;
            }
            write!(f, "{int}")?;
            if self.scale > 0 {
                write!(f, ".{:0width$}", frac, width = self.scale as usize)?;
            }
            return Ok(());
        }
        let w = self.wide();
        let mut digits = String::with_capacity(MAX_DIGITS as usize + 2);
        w.mag.write_digits(&mut digits);
        let scale = self.scale as usize;
        if w.neg {
            f.write_str("-")?;
        }
        if scale == 0 {
            return f.write_str(&digits);
        }
        if digits.len() <= scale {
            f.write_str("0.")?;
            for _ in digits.len()..scale {
                f.write_str("0")?;
            }
            return f.write_str(&digits);
        }
        let (int, frac) = digits.split_at(digits.len() - scale);
        write!(f, "{int}.{frac}")
    }
}

impl fmt::Debug for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Decimal({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigInt;
    use proptest::prelude::*;

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).expect("test literal")
    }

    fn t(x: Option<Decimal>) -> Option<String> {
        x.map(|x| x.to_string())
    }

    #[test]
    fn parses_and_prints() {
        assert_eq!(d("12.340").to_string(), "12.340");
        assert_eq!(d("-0.5").to_string(), "-0.5");
        assert_eq!(d("1e3").to_string(), "1000");
        assert_eq!(d("1.5e-2").to_string(), "0.015");
        assert_eq!(d(" 7 ").to_string(), "7");
        assert!(Decimal::parse("abc").is_none());
        assert!(Decimal::parse("1.2.3").is_none());
    }

    #[test]
    fn division_rounds_half_away_from_zero() {
        assert_eq!(t(d("7").checked_div(d("2"), 4)), Some("3.5000".into()));
        assert_eq!(t(d("2").checked_div(d("3"), 4)), Some("0.6667".into()));
        assert_eq!(t(d("-2").checked_div(d("3"), 4)), Some("-0.6667".into()));
        assert!(d("1").checked_div(d("0"), 4).is_none());
    }

    #[test]
    fn equality_ignores_trailing_zeros() {
        assert_eq!(d("1.50"), d("1.5"));
        assert!(d("-1.5") < d("-1.2"));
        assert!(d("-0.5") < d("0.3"));
        assert!(d("10") > d("9.999"));
    }

    #[test]
    fn multiplication_and_rounding() {
        assert_eq!(t(d("1.5").checked_mul(d("1.5"))), Some("2.25".into()));
        assert_eq!(t(d("2.5").rescale(0)), Some("3".into()));
        assert_eq!(t(d("-2.5").rescale(0)), Some("-3".into()));
        assert_eq!(t(d("1234.5").round_to(-2)), Some("1200".into()));
        assert_eq!(t(d("14.5").round_to(-1)), Some("10".into()));
        assert_eq!(t(d("-14.5").round_to(-1)), Some("-10".into()));
        assert_eq!(d("-1.5").floor().to_string(), "-2");
        assert_eq!(d("-1.5").ceil().to_string(), "-1");
    }

    #[test]
    fn from_double_uses_shortest_digits() {
        assert_eq!(t(Decimal::from_f64(0.1)), Some("0.1".into()));
        assert_eq!(t(Decimal::from_f64(1e20)), Some("100000000000000000000".into()));
        assert_eq!(t(Decimal::from_f64(-1.5e70)), Some(format!("-15{}", "0".repeat(69))));
        assert!(Decimal::from_f64(1e300).is_none());
    }

    const NINES65: &str = "99999999999999999999999999999999999999999999999999999999999999999";

    #[test]
    fn sixty_five_digits_and_beyond() {
        let max = d(NINES65);
        assert_eq!(max.digits(), 65);
        assert_eq!(max.to_string(), NINES65);
        assert_eq!(max.negated().to_string(), format!("-{NINES65}"));
        // One more carries to 66 digits, as in MySQL's 81-digit buffer.
        assert_eq!(t(max.checked_add(d("1"))), Some(format!("1{}", "0".repeat(65))));
        assert_eq!(t(max.checked_mul(d("10"))), Some(format!("{NINES65}0")));
        // 130 digits do not fit.
        assert!(max.checked_mul(max).is_none());
        // The 81-digit limit itself.
        let n81 = "9".repeat(81);
        assert_eq!(d(&n81).to_string(), n81);
        assert!(d(&n81).checked_add(d("1")).is_none());
        assert!(Decimal::parse(&"9".repeat(82)).is_none());
        // Thirty fractional digits times thirty: rounded back to 30.
        let f = d("0.123456789012345678901234567890");
        assert_eq!(t(f.checked_mul(f)), Some("0.015241578753238836750495351563".into()));
        let big = d("12345678901234567890123456789012345.123456789012345678901234567890");
        assert_eq!(big.to_string(), "12345678901234567890123456789012345.123456789012345678901234567890");
        assert_eq!(big.digits(), 65);
        assert_eq!(big.int_digits(), 35);
        assert_eq!(t(big.rescale(2)), Some("12345678901234567890123456789012345.12".into()));
        assert_eq!(big.truncate_to(0).to_string(), "12345678901234567890123456789012345");
        assert_eq!(big.floor().to_string(), "12345678901234567890123456789012345");
        assert_eq!(big.ceil().to_string(), "12345678901234567890123456789012346");
        assert_eq!(big.negated().floor().to_string(), "-12345678901234567890123456789012346");
        assert_eq!(big.negated().ceil().to_string(), "-12345678901234567890123456789012345");
        assert_eq!(t(big.round_to(-30)), Some("12346000000000000000000000000000000".into()));
        assert_eq!(t(big.truncate_places(-34)), Some("10000000000000000000000000000000000".into()));
        assert_eq!(t(big.checked_div(d("3"), 4)), Some("4115226300411522630041152263004115.0412".into()));
        assert_eq!(t(big.checked_rem(d("7"))), Some("4.123456789012345678901234567890".into()));
        assert_eq!(big.int_quotient(d("1000000000000000000")), Some(12345678901234567));
        assert_eq!(big.int_quotient(d("0.1")), Some(123456789012345678901234567890123451));
        assert_eq!(big.int_quotient(d("0.00001")), Some(i128::MAX));
        assert_eq!(big.negated().int_quotient(d("0.00001")), Some(i128::MIN));
        assert_eq!(big.round_i128(), 12345678901234567890123456789012345);
        assert_eq!(max.round_i128(), i128::MAX);
        assert_eq!(max.negated().trunc_i128(), i128::MIN);
        assert!(big > d("12345678901234567890123456789012345"));
        assert!(big.negated() < d("-1e34"));
        assert!((big.to_f64() / 1.234_567_890_123_456e34 - 1.0).abs() < 1e-15);
    }

    #[test]
    fn narrow_and_wide_forms_meet_at_the_i128_boundary() {
        let max = Decimal::new(i128::MAX, 0).expect("scale 0");
        let up = max.checked_add(d("1")).expect("fits 81 digits");
        assert_eq!(up.to_string(), "170141183460469231731687303715884105728");
        assert_eq!(up.mantissa_i128(), None);
        let back = up.checked_sub(d("1")).expect("fits");
        assert_eq!(back.mantissa_i128(), Some(i128::MAX));
        assert_eq!(back, max);
        let min = Decimal::new(i128::MIN, 0).expect("scale 0");
        assert_eq!(min.negated().to_string(), "170141183460469231731687303715884105728");
        assert_eq!(min.negated().negated(), min);
        assert_eq!(min.abs(), min.negated());
        // Trailing zeros of a wide value normalize to a narrow one.
        let w = d(&format!("1.{}", "0".repeat(29))).checked_mul(d(&format!("1{}", "0".repeat(40)))).expect("fits");
        assert_eq!(w.normalize().to_string(), format!("1{}", "0".repeat(40)));
        let mut h1 = std::collections::hash_map::DefaultHasher::new();
        let mut h2 = std::collections::hash_map::DefaultHasher::new();
        w.hash(&mut h1);
        d(&format!("1{}", "0".repeat(40))).hash(&mut h2);
        assert_eq!(h1.finish(), h2.finish());
    }

    #[test]
    fn mantissa_bytes_round_trip() {
        for s in
            ["0", "-1", "1.5", NINES65, &format!("-{NINES65}"), &"9".repeat(81), "-0.000000000000000000000000000001"]
        {
            let x = d(s);
            let back = Decimal::from_mantissa_le_bytes(x.mantissa_le_bytes(), x.scale()).expect("valid");
            assert_eq!(back.to_string(), x.to_string());
        }
        // 10^81 is beyond the limit: corrupt bytes, not a value.
        let top =
            Decimal::from_wide(Wide { neg: false, mag: Magnitude::pow10(80).expect("table") }, 0).expect("81 digits");
        assert!(top.checked_mul(d("9")).is_some());
        assert!(top.checked_mul(d("10")).is_none());
        let mut b = [0u8; MANTISSA_BYTES];
        b[33] = 0x7f;
        assert!(Decimal::from_mantissa_le_bytes(b, 0).is_none());
        assert!(Decimal::from_mantissa_le_bytes([0; MANTISSA_BYTES], 31).is_none());
    }

    // A reference model: a BigInt mantissa and a scale, with MySQL's
    // rules written the obvious way.
    fn big_of(x: Decimal) -> (BigInt, u32) {
        let s = x.to_string().replace('.', "");
        (s.parse::<BigInt>().expect("digits"), x.scale() as u32)
    }

    fn p10(n: u32) -> BigInt {
        BigInt::from(10u32).pow(n)
    }

    fn fits(m: &BigInt) -> bool {
        m.magnitude() < p10(MAX_DIGITS).magnitude()
    }

    /// `n / d` rounded half away from zero.
    fn round_div(n: &BigInt, d: &BigInt) -> BigInt {
        let q = n / d;
        let r = n - &q * d;
        let twice: BigInt = r.magnitude().clone().into();
        let twice = twice * 2;
        let dm: BigInt = d.magnitude().clone().into();
        if twice >= dm {
            if (n.sign() == num_bigint::Sign::Minus) != (d.sign() == num_bigint::Sign::Minus) {
                q - 1
            } else {
                q + 1
            }
        } else {
            q
        }
    }

    fn text(m: &BigInt, scale: u32) -> String {
        let neg = m.sign() == num_bigint::Sign::Minus;
        let mut digits = m.magnitude().to_string();
        let s = scale as usize;
        if s > 0 {
            if digits.len() <= s {
                digits = format!("{}{digits}", "0".repeat(s + 1 - digits.len()));
            }
            digits.insert(digits.len() - s, '.');
        }
        if neg {
            format!("-{digits}")
        } else {
            digits
        }
    }

    fn model(m: BigInt, scale: u32) -> Option<String> {
        fits(&m).then(|| text(&m, scale))
    }

    /// Decimals of 1 to 81 digits, scales 0 to 30, both signs; short ones
    /// often, so the narrow path and the boundary get their share.
    fn decimal() -> impl Strategy<Value = Decimal> {
        (prop_oneof![1usize..=20, 30usize..=45, 1usize..=81], 0u8..=30, any::<bool>(), any::<u64>()).prop_map(
            |(n, scale, neg, seed)| {
                let mut x = seed;
                let digits: String = (0..n)
                    .map(|_| {
                        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        char::from(b'0' + ((x >> 33) % 10) as u8)
                    })
                    .collect();
                let m: BigInt = digits.parse().expect("digits");
                let m = if neg { -m } else { m };
                d(&text(&m, scale as u32))
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        #[test]
        fn arithmetic_matches_a_bigint_model(a in decimal(), b in decimal(), places in -40i32..=35) {
            let (ma, sa) = big_of(a);
            let (mb, sb) = big_of(b);
            prop_assert_eq!(a.to_string(), text(&ma, sa));
            prop_assert_eq!(Decimal::parse(&a.to_string()).map(|x| x.to_string()), Some(a.to_string()));

            let s = sa.max(sb);
            let (xa, xb) = (&ma * p10(s - sa), &mb * p10(s - sb));
            prop_assert_eq!(a.cmp(&b), xa.cmp(&xb));
            prop_assert_eq!(t(a.checked_add(b)), model(&xa + &xb, s));
            prop_assert_eq!(t(a.checked_sub(b)), model(&xa - &xb, s));

            let prod = &ma * &mb;
            let want = if sa + sb > 30 { model(round_div(&prod, &p10(sa + sb - 30)), 30) } else { model(prod, sa + sb) };
            prop_assert_eq!(t(a.checked_mul(b)), want);

            let scale = (sa + 4).min(30);
            let exp = scale as i32 + sb as i32 - sa as i32;
            let want = if mb == BigInt::from(0) {
                None
            } else if exp >= 0 {
                model(round_div(&(&ma * p10(exp as u32)), &mb), scale)
            } else {
                model(round_div(&ma, &(&mb * p10((-exp) as u32))), scale)
            };
            prop_assert_eq!(t(a.checked_div(b, scale as u8)), want);
            if mb != BigInt::from(0) {
                prop_assert_eq!(t(a.checked_rem(b)), model(&xa % &xb, s));
            }

            let want = if places >= 0 {
                let p = (places as u32).min(30);
                if p >= sa { Some(a.to_string()) } else { model(round_div(&ma, &p10(sa - p)), p) }
            } else {
                let k = places.unsigned_abs();
                model(round_div(&ma, &p10(sa + k)) * p10(k), 0)
            };
            prop_assert_eq!(t(a.round_to(places)), want);
            let want = if places >= 0 {
                let p = (places as u32).min(30);
                if p >= sa { Some(a.to_string()) } else { model(&ma / p10(sa - p), p) }
            } else {
                let k = places.unsigned_abs();
                model(&ma / p10(sa) / p10(k) * p10(k), 0)
            };
            prop_assert_eq!(t(a.truncate_places(places)), want);

            let q = &ma / p10(sa);
            let r = &ma - &q * p10(sa);
            let floor = if r < BigInt::from(0) { &q - 1 } else { q.clone() };
            let ceil = if r > BigInt::from(0) { &q + 1 } else { q.clone() };
            prop_assert_eq!(a.floor().to_string(), text(&floor, 0));
            prop_assert_eq!(a.ceil().to_string(), text(&ceil, 0));
            prop_assert_eq!(a.normalize(), a);
            prop_assert_eq!(a.digits() as usize, ma.magnitude().to_string().len());
        }

        #[test]
        fn narrow_values_agree_with_i128(x in any::<i64>(), y in any::<i64>(), sx in 0u8..=18, sy in 0u8..=18) {
            let (a, b) = (Decimal::new(x as i128, sx).expect("scale"), Decimal::new(y as i128, sy).expect("scale"));
            let s = sx.max(sy);
            let xa = x as i128 * POW10[(s - sx) as usize];
            let xb = y as i128 * POW10[(s - sy) as usize];
            prop_assert_eq!(a.checked_add(b).and_then(Decimal::mantissa_i128), Some(xa + xb));
            prop_assert_eq!(a.checked_add(b).map(Decimal::scale), Some(s));
            prop_assert_eq!(a.cmp(&b), xa.cmp(&xb));
        }
    }
}
