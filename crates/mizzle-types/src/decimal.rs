//! Exact fixed-point decimal numbers for `DECIMAL(p,s)`.
//!
//! A [`Decimal`] is an `i128` mantissa and a scale: the value is
//! `mantissa / 10^scale`. Invariants:
//! 1. `scale <= MAX_SCALE` (30, as in MySQL).
//! 2. `|mantissa| < 10^MAX_PRECISION` (38 digits): mizzle's DECIMAL holds at
//!    most 38 significant digits, fewer than MySQL's 65; wider types are
//!    rejected when a table is created and wider results are range errors.
//! 3. Equality, ordering and hashing ignore trailing zeros: `1.50 == 1.5`.
//!
//! Rounding is half away from zero, as MySQL rounds DECIMAL. No allocation
//! happens in arithmetic; only `Display` builds a string.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

/// The largest scale a decimal may have.
pub const MAX_SCALE: u8 = 30;
/// The most significant digits a decimal may have.
pub const MAX_PRECISION: u32 = 38;

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
#[derive(Clone, Copy, Debug)]
pub struct Decimal {
    mant: i128,
    scale: u8,
}

impl Decimal {
    /// Zero with scale 0.
    pub const ZERO: Decimal = Decimal { mant: 0, scale: 0 };

    /// Builds a decimal, or `None` if it breaks the invariants.
    pub fn new(mant: i128, scale: u8) -> Option<Decimal> {
        if scale > MAX_SCALE || mant.unsigned_abs() >= POW10[MAX_PRECISION as usize] as u128 {
            return None;
        }
        Some(Decimal { mant, scale })
    }

    /// The mantissa: the value times `10^scale`.
    pub fn mantissa(self) -> i128 {
        self.mant
    }

    /// The number of digits after the point.
    pub fn scale(self) -> u8 {
        self.scale
    }

    /// An integer as a decimal with scale 0.
    pub fn from_i64(v: i64) -> Decimal {
        Decimal { mant: v as i128, scale: 0 }
    }

    /// An unsigned integer as a decimal with scale 0.
    pub fn from_u64(v: u64) -> Decimal {
        Decimal { mant: v as i128, scale: 0 }
    }

    /// True when the value is zero.
    pub fn is_zero(self) -> bool {
        self.mant == 0
    }

    /// -1, 0 or 1.
    pub fn signum(self) -> i32 {
        self.mant.signum() as i32
    }

    /// The value negated.
    pub fn negated(self) -> Decimal {
        Decimal { mant: -self.mant, scale: self.scale }
    }

    /// The absolute value.
    pub fn abs(self) -> Decimal {
        Decimal { mant: self.mant.abs(), scale: self.scale }
    }

    /// Number of significant digits of the mantissa (at least 1).
    pub fn digits(self) -> u32 {
        let a = self.mant.unsigned_abs();
        let mut n = 1;
        while n < 39 && a >= POW10[n as usize] as u128 {
            n += 1;
        }
        n
    }

    /// Digits before the point (at least 1, as MySQL counts precision).
    pub fn int_digits(self) -> u32 {
        self.digits().saturating_sub(self.scale as u32).max(1)
    }

    /// The same value with trailing fractional zeros removed.
    pub fn normalize(self) -> Decimal {
        let mut d = self;
        while d.scale > 0 && d.mant % 10 == 0 {
            d.mant /= 10;
            d.scale -= 1;
        }
        d
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
                let f = pow10((scale - self.scale) as u32)?;
                Decimal::new(self.mant.checked_mul(f)?, scale)
            }
            Ordering::Less => {
                let f = POW10[(self.scale - scale) as usize];
                Decimal::new(div_round(self.mant, f), scale)
            }
        }
    }

    /// The value at a smaller scale, truncating toward zero.
    pub fn truncate_to(self, scale: u8) -> Decimal {
        if scale >= self.scale {
            return self;
        }
        let f = POW10[(self.scale - scale) as usize];
        Decimal { mant: self.mant / f, scale }
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
        let int = self.rescale(0)?;
        let f = pow10(places.unsigned_abs())?;
        Decimal::new(div_round(int.mant, f).checked_mul(f)?, 0)
    }

    /// Truncates to `places` digits (negative: to tens, hundreds, ...).
    pub fn truncate_places(self, places: i32) -> Option<Decimal> {
        if places >= 0 {
            let p = places.min(MAX_SCALE as i32) as u8;
            return Some(self.truncate_to(p));
        }
        let int = self.truncate_to(0);
        let f = pow10(places.unsigned_abs())?;
        Decimal::new((int.mant / f).checked_mul(f)?, 0)
    }

    /// The largest integer not greater than the value, with scale 0.
    pub fn floor(self) -> Decimal {
        let f = POW10[self.scale as usize];
        Decimal { mant: self.mant.div_euclid(f), scale: 0 }
    }

    /// The smallest integer not less than the value, with scale 0.
    pub fn ceil(self) -> Decimal {
        let f = POW10[self.scale as usize];
        let q = self.mant.div_euclid(f);
        let r = self.mant.rem_euclid(f);
        Decimal { mant: if r == 0 { q } else { q + 1 }, scale: 0 }
    }

    /// Sum; `None` on overflow.
    pub fn checked_add(self, o: Decimal) -> Option<Decimal> {
        let s = self.scale.max(o.scale);
        let a = self.rescale(s)?;
        let b = o.rescale(s)?;
        Decimal::new(a.mant.checked_add(b.mant)?, s)
    }

    /// Difference; `None` on overflow.
    pub fn checked_sub(self, o: Decimal) -> Option<Decimal> {
        self.checked_add(o.negated())
    }

    /// Product with scale `s1 + s2` (at most 30, rounded); `None` on overflow.
    pub fn checked_mul(self, o: Decimal) -> Option<Decimal> {
        let s = self.scale as u32 + o.scale as u32;
        let m = self.mant.checked_mul(o.mant)?;
        if s > MAX_SCALE as u32 {
            let f = pow10(s - MAX_SCALE as u32)?;
            return Decimal::new(div_round(m, f), MAX_SCALE);
        }
        Decimal::new(m, s as u8)
    }

    /// Quotient rounded to `scale` digits; `None` when dividing by zero or
    /// when the result does not fit.
    pub fn checked_div(self, o: Decimal, scale: u8) -> Option<Decimal> {
        if o.mant == 0 {
            return None;
        }
        let scale = scale.min(MAX_SCALE);
        // value = (a / 10^sa) / (b / 10^sb); result mantissa = value * 10^scale
        //       = a * 10^(scale + sb - sa) / b
        let exp = scale as i32 + o.scale as i32 - self.scale as i32;
        let (num, den) = if exp >= 0 {
            (self.mant.checked_mul(pow10(exp as u32)?)?, o.mant)
        } else {
            (self.mant, o.mant.checked_mul(pow10((-exp) as u32)?)?)
        };
        Decimal::new(div_round(num, den), scale)
    }

    /// Remainder with the sign of the dividend; `None` when dividing by zero.
    pub fn checked_rem(self, o: Decimal) -> Option<Decimal> {
        if o.mant == 0 {
            return None;
        }
        let s = self.scale.max(o.scale);
        let a = self.rescale(s)?;
        let b = o.rescale(s)?;
        Decimal::new(a.mant % b.mant, s)
    }

    /// Parses `[+-]digits[.digits][e[+-]digits]`, surrounding spaces allowed.
    /// Digits beyond 38 significant ones are rounded away.
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
        let mut mant: i128 = 0;
        let mut scale: i32 = 0;
        let mut any = false;
        let mut dropped_exp: i32 = 0;
        let mut round_digit: Option<u8> = None;
        let mut seen_point = false;
        while i < b.len() {
            let c = b[i];
            if c.is_ascii_digit() {
                any = true;
                let dgt = (c - b'0') as i128;
                if mant < POW10[37] {
                    mant = mant * 10 + dgt;
                    if seen_point {
                        scale += 1;
                    }
                } else {
                    if round_digit.is_none() {
                        round_digit = Some(c - b'0');
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
        if round_digit.is_some_and(|d| d >= 5) {
            mant += 1;
        }
        let mut exp: i32 = dropped_exp;
        if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
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
            while j < b.len() && b[j].is_ascii_digit() {
                e = e.saturating_mul(10).saturating_add((b[j] - b'0') as i32);
                j += 1;
            }
            if j > start {
                exp += if eneg { -e } else { e };
                i = j;
            }
        }
        // Apply the exponent: value = mant * 10^(exp - scale).
        let mut net = exp - scale;
        while net < -(MAX_SCALE as i32) {
            mant = div_round(mant, 10);
            net += 1;
        }
        let d = if net >= 0 {
            let f = pow10(net as u32)?;
            Decimal::new(mant.checked_mul(f)?, 0)?
        } else {
            Decimal::new(mant, (-net) as u8)?
        };
        Some((if neg { d.negated() } else { d }, &s[i..]))
    }

    /// The nearest double.
    pub fn to_f64(self) -> f64 {
        if self.scale == 0 {
            return self.mant as f64;
        }
        // Going through the decimal text gives a correctly rounded double.
        self.to_string().parse::<f64>().unwrap_or(0.0)
    }

    /// A double as a decimal, using its shortest round-trip digits and at most
    /// `MAX_SCALE` fractional digits; `None` for NaN, infinities or values too large.
    pub fn from_f64(v: f64) -> Option<Decimal> {
        if !v.is_finite() {
            return None;
        }
        Decimal::parse(&format!("{v:e}"))
    }

    /// Truncates toward zero to an `i128` integer.
    pub fn trunc_i128(self) -> i128 {
        self.mant / POW10[self.scale as usize]
    }

    /// Rounds half away from zero to an `i128` integer.
    pub fn round_i128(self) -> i128 {
        div_round(self.mant, POW10[self.scale as usize])
    }

    fn split(self) -> (i128, i128) {
        let f = POW10[self.scale as usize];
        let int = self.mant / f;
        let frac = (self.mant % f) * POW10[(MAX_SCALE - self.scale) as usize];
        (int, frac)
    }
}

/// `a / b` rounded half away from zero.
fn div_round(a: i128, b: i128) -> i128 {
    let q = a / b;
    let r = a % b;
    if r.unsigned_abs() * 2 >= b.unsigned_abs() {
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
    fn cmp(&self, other: &Self) -> Ordering {
        if self.scale == other.scale {
            return self.mant.cmp(&other.mant);
        }
        self.split().cmp(&other.split())
    }
}

impl Hash for Decimal {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let n = self.normalize();
        n.mant.hash(state);
        n.scale.hash(state);
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = self.mant.unsigned_abs();
        let p = POW10[self.scale as usize] as u128;
        let int = a / p;
        let frac = a % p;
        if self.mant < 0 {
            f.write_str("-")?;
        }
        write!(f, "{int}")?;
        if self.scale > 0 {
            write!(f, ".{:0width$}", frac, width = self.scale as usize)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).expect("test literal")
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
        assert_eq!(d("7").checked_div(d("2"), 4).map(|x| x.to_string()), Some("3.5000".into()));
        assert_eq!(d("2").checked_div(d("3"), 4).map(|x| x.to_string()), Some("0.6667".into()));
        assert_eq!(d("-2").checked_div(d("3"), 4).map(|x| x.to_string()), Some("-0.6667".into()));
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
        assert_eq!(d("1.5").checked_mul(d("1.5")).map(|x| x.to_string()), Some("2.25".into()));
        assert_eq!(d("2.5").rescale(0).map(|x| x.to_string()), Some("3".into()));
        assert_eq!(d("-2.5").rescale(0).map(|x| x.to_string()), Some("-3".into()));
        assert_eq!(d("1234.5").round_to(-2).map(|x| x.to_string()), Some("1200".into()));
        assert_eq!(d("-1.5").floor().to_string(), "-2");
        assert_eq!(d("-1.5").ceil().to_string(), "-1");
    }

    #[test]
    fn from_double_uses_shortest_digits() {
        assert_eq!(Decimal::from_f64(0.1).map(|x| x.to_string()), Some("0.1".into()));
        assert_eq!(Decimal::from_f64(1e20).map(|x| x.to_string()), Some("100000000000000000000".into()));
    }
}
