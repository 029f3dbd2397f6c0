//! Calendar values: `DATE`, `DATETIME`, `TIMESTAMP` and `TIME`.
//!
//! Invariants:
//! 1. A [`Date`] packs year, month and day so that integer order is
//!    calendar order; a [`DateTime`] packs a date and microseconds of the day
//!    the same way. Both compare as plain integers.
//! 2. Parsed values are always valid calendar dates (no `0000-00-00`: the
//!    default strict `sql_mode` of MySQL 8 rejects zero dates).
//! 3. A [`Time`] is a signed count of microseconds within
//!    `-838:59:59.000000 ..= 838:59:59.000000` (MySQL's TIME range); its
//!    integer order is its SQL order.
//!
//! `TIMESTAMP` values use [`DateTime`] too: stored and in rows as their UTC
//! instant, in expressions in the session's time zone (`timezone`).

use std::fmt;

/// Microseconds in one day.
pub const MICROS_PER_DAY: i64 = 86_400_000_000;

/// A calendar date between 0001-01-01 and 9999-12-31.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(u32);

/// A date and a time of day with microsecond precision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime(i64);

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Days in a month of a year.
pub fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
pub fn days_from_civil(y: i32, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y as i64 - 1 } else { y as i64 };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// The civil date of a day number since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i32, u32, u32) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    ((if m <= 2 { y + 1 } else { y }) as i32, m, d)
}

impl Date {
    /// A date from its parts, or `None` if it is not a valid calendar date.
    pub fn from_ymd(y: i32, m: u32, d: u32) -> Option<Date> {
        if !(1..=9999).contains(&y) || !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
            return None;
        }
        Some(Date(((y as u32) << 9) | (m << 5) | d))
    }

    /// Year, month and day.
    pub fn ymd(self) -> (i32, u32, u32) {
        ((self.0 >> 9) as i32, (self.0 >> 5) & 15, self.0 & 31)
    }

    /// The packed representation (order-preserving).
    pub fn to_bits(self) -> u32 {
        self.0
    }

    /// Rebuilds a date from [`Date::to_bits`]; `None` if the bits are not a date.
    pub fn from_bits(b: u32) -> Option<Date> {
        let d = Date(b);
        let (y, m, dd) = d.ymd();
        Date::from_ymd(y, m, dd)
    }

    /// Days since 1970-01-01.
    pub fn day_number(self) -> i64 {
        let (y, m, d) = self.ymd();
        days_from_civil(y, m, d)
    }

    /// The date of a day number since 1970-01-01, if in range.
    pub fn from_day_number(n: i64) -> Option<Date> {
        let (y, m, d) = civil_from_days(n);
        Date::from_ymd(y, m, d)
    }

    /// Parses `YYYY-MM-DD` (any punctuation as delimiter) or `YYYYMMDD`,
    /// ignoring a time part if one follows.
    pub fn parse(s: &str) -> Option<Date> {
        parse_datetime_parts(s).and_then(|p| Date::from_ymd(p.0, p.1, p.2))
    }

    /// Midnight of this date.
    pub fn at_midnight(self) -> DateTime {
        DateTime::from_parts(self, 0)
    }
}

impl DateTime {
    /// A date-time from a date and microseconds since midnight.
    pub fn from_parts(date: Date, micros: i64) -> DateTime {
        DateTime(((date.0 as i64) << 37) | micros.clamp(0, MICROS_PER_DAY - 1))
    }

    /// The date part.
    pub fn date(self) -> Date {
        Date((self.0 >> 37) as u32)
    }

    /// Microseconds since midnight.
    pub fn micros_of_day(self) -> i64 {
        self.0 & ((1i64 << 37) - 1)
    }

    /// The packed representation (order-preserving).
    pub fn to_bits(self) -> i64 {
        self.0
    }

    /// Rebuilds from [`DateTime::to_bits`]; `None` if the bits are not valid.
    pub fn from_bits(b: i64) -> Option<DateTime> {
        let dt = DateTime(b);
        Date::from_bits(dt.date().0)?;
        if dt.micros_of_day() >= MICROS_PER_DAY {
            return None;
        }
        Some(dt)
    }

    /// Microseconds since 1970-01-01 00:00:00.
    pub fn unix_micros(self) -> i64 {
        self.date().day_number() * MICROS_PER_DAY + self.micros_of_day()
    }

    /// The date-time at microseconds since the epoch, if in range.
    pub fn from_unix_micros(us: i64) -> Option<DateTime> {
        let day = us.div_euclid(MICROS_PER_DAY);
        let rem = us.rem_euclid(MICROS_PER_DAY);
        Some(DateTime::from_parts(Date::from_day_number(day)?, rem))
    }

    /// Hour, minute, second and microsecond.
    pub fn hms(self) -> (u32, u32, u32, u32) {
        let us = self.micros_of_day();
        let secs = us / 1_000_000;
        ((secs / 3600) as u32, ((secs / 60) % 60) as u32, (secs % 60) as u32, (us % 1_000_000) as u32)
    }

    /// Parses `YYYY-MM-DD[ T]HH:MM:SS[.ffffff]` and the forms MySQL accepts
    /// (a date alone means midnight).
    pub fn parse(s: &str) -> Option<DateTime> {
        let (y, m, d, h, mi, se, us) = parse_datetime_parts(s)?;
        if h > 23 || mi > 59 || se > 59 {
            return None;
        }
        let date = Date::from_ymd(y, m, d)?;
        let micros = ((h as i64 * 60 + mi as i64) * 60 + se as i64) * 1_000_000 + us as i64;
        Some(DateTime::from_parts(date, micros))
    }

    /// Formats with `fsp` fractional digits (0..=6).
    pub fn format(self, fsp: u8) -> String {
        let (h, mi, s, us) = self.hms();
        let mut out = format!("{} {:02}:{:02}:{:02}", self.date(), h, mi, s);
        if fsp > 0 {
            let digits = format!("{us:06}");
            out.push('.');
            out.push_str(&digits[..(fsp.min(6) as usize)]);
        }
        out
    }
}

/// The largest TIME magnitude in microseconds: 838:59:59.
pub const MAX_TIME_MICROS: i64 = (838 * 3600 + 59 * 60 + 59) * 1_000_000;

/// A MySQL `TIME`: a signed duration (or time of day) in microseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(i64);

/// Why text or a number is not a TIME.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeError {
    /// Not a time at all, or minutes/seconds above 59 (MySQL error 1292).
    Invalid,
    /// A time beyond ±838:59:59; the value is the nearest end of the range
    /// (what MySQL stores outside strict mode and what `CAST` gives).
    OutOfRange(Time),
}

impl Time {
    /// The largest TIME, 838:59:59.
    pub const MAX: Time = Time(MAX_TIME_MICROS);
    /// The smallest TIME, -838:59:59.
    pub const MIN: Time = Time(-MAX_TIME_MICROS);

    /// A time of `us` microseconds, if within the TIME range.
    pub fn from_micros(us: i64) -> Option<Time> {
        if (-MAX_TIME_MICROS..=MAX_TIME_MICROS).contains(&us) {
            Some(Time(us))
        } else {
            None
        }
    }

    /// A time of `us` microseconds, or the range error with the clamped value.
    pub fn checked(us: i128) -> Result<Time, TimeError> {
        let m = i128::from(MAX_TIME_MICROS);
        if us > m {
            Err(TimeError::OutOfRange(Time::MAX))
        } else if us < -m {
            Err(TimeError::OutOfRange(Time::MIN))
        } else {
            // In range, so it fits an i64.
            Ok(Time(us as i64))
        }
    }

    /// The signed number of microseconds.
    pub fn micros(self) -> i64 {
        self.0
    }

    /// The time of day of a date-time.
    pub fn of_datetime(dt: DateTime) -> Time {
        Time(dt.micros_of_day())
    }

    /// True for a negative time.
    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// Hours (may exceed 23), minutes, seconds and microseconds of the magnitude.
    pub fn hms(self) -> (u32, u32, u32, u32) {
        let us = self.0.unsigned_abs();
        let secs = us / 1_000_000;
        ((secs / 3600) as u32, ((secs / 60) % 60) as u32, (secs % 60) as u32, (us % 1_000_000) as u32)
    }

    /// Rounds to `fsp` fractional digits (half away from zero), clamping to
    /// the range as MySQL does when rounding carries past 838:59:59.
    pub fn round(self, fsp: u8) -> Time {
        let unit = 10i64.pow(6 - u32::from(fsp.min(6)));
        let mag = self.0.abs();
        let r = (mag + unit / 2) / unit * unit;
        let r = r.min(MAX_TIME_MICROS);
        Time(if self.0 < 0 { -r } else { r })
    }

    /// The time as MySQL's number `[-]HHMMSS` and the microseconds (same sign).
    pub fn to_hhmmss(self) -> (i64, i64) {
        let (h, m, s, us) = self.hms();
        let n = i64::from(h) * 10000 + i64::from(m) * 100 + i64::from(s);
        if self.0 < 0 {
            (-n, -i64::from(us))
        } else {
            (n, i64::from(us))
        }
    }

    /// Builds a time from hours, minutes, seconds and microseconds of a
    /// magnitude, checking minutes and seconds (< 60) and the range.
    fn from_fields(neg: bool, h: u64, m: u64, s: u64, us: u64) -> Result<Time, TimeError> {
        if m > 59 || s > 59 || us > 999_999 {
            return Err(TimeError::Invalid);
        }
        let total = (i128::from(h) * 3600 + i128::from(m) * 60 + i128::from(s)) * 1_000_000 + i128::from(us);
        Time::checked(if neg { -total } else { total })
    }

    /// Reads the number `[-]HHMMSS[.ffffff]` given as an integer part and
    /// microseconds, the way MySQL converts numbers to TIME. Integers of
    /// more than 8 digits are date-times (`YYYYMMDDhhmmss`): their time part.
    pub fn from_number(neg: bool, int: u64, us: u64) -> Result<Time, TimeError> {
        if int >= 10_000_000_000 {
            let dt = DateTime::parse(&int.to_string()).ok_or(TimeError::Invalid)?;
            return Ok(Time(dt.micros_of_day() + us.min(999_999) as i64));
        }
        Time::from_fields(neg, int / 10000, (int / 100) % 100, int % 100, us)
    }

    /// Parses MySQL's TIME text forms: `[-][D ]HH:MM:SS[.ffffff]`, `HH:MM`,
    /// `D HH[:MM]`, `[-]HHMMSS[.ffffff]`, `MMSS`, `SS`, and full date-times
    /// (their time of day). A 7th fractional digit rounds.
    pub fn parse(s: &str) -> Result<Time, TimeError> {
        let t = s.trim();
        let (neg, body) = match t.strip_prefix('-') {
            Some(r) => (true, r.trim_start()),
            None => (false, t),
        };
        if body.is_empty() {
            return Err(TimeError::Invalid);
        }
        let b = body.as_bytes();
        // A date-time ('2024-01-02 10:20:30', '20240102102030'): its time.
        let digits_lead = b.iter().take_while(|c| c.is_ascii_digit()).count();
        let date_like = !neg
            && ((digits_lead >= 12 && digits_lead == b.len())
                || (digits_lead == 14 && b.get(14) == Some(&b'.'))
                || b.get(digits_lead).is_some_and(|c| *c == b'-' || *c == b'/'));
        if date_like {
            return DateTime::parse(body).map(Time::of_datetime).ok_or(TimeError::Invalid);
        }
        let (main, frac) = match body.split_once('.') {
            Some((m, f)) => (m, Some(f)),
            None => (body, None),
        };
        let us = match frac {
            None => 0,
            Some(f) => {
                let fb = f.as_bytes();
                let n = fb.iter().take_while(|c| c.is_ascii_digit()).count();
                if !fb[n..].iter().all(|c| c.is_ascii_whitespace()) {
                    return Err(TimeError::Invalid);
                }
                let mut v: u64 = 0;
                for (i, c) in fb[..n].iter().enumerate() {
                    if i < 6 {
                        v = v * 10 + u64::from(c - b'0');
                    }
                }
                for _ in n..6 {
                    v *= 10;
                }
                // The 7th digit rounds (MySQL 8 without TIME_TRUNCATE_FRACTIONAL).
                if n > 6 && fb[6] >= b'5' {
                    v += 1;
                }
                v
            }
        };
        let num = |p: &str| -> Result<u64, TimeError> {
            if p.is_empty() || p.len() > 12 || !p.bytes().all(|c| c.is_ascii_digit()) {
                return Err(TimeError::Invalid);
            }
            p.parse::<u64>().map_err(|_| TimeError::Invalid)
        };
        // 'D rest' with a day count.
        let (days, rest) = match main.split_once(' ') {
            Some((d, r)) => (Some(num(d)?), r.trim_start()),
            None => (None, main),
        };
        if let Some(d) = days {
            if d > 34 {
                return Err(TimeError::OutOfRange(if neg { Time::MIN } else { Time::MAX }));
            }
        }
        let parts: Vec<&str> = rest.split(':').collect();
        let carry = |us: u64| -> (u64, u64) {
            if us >= 1_000_000 {
                (1, us - 1_000_000)
            } else {
                (0, us)
            }
        };
        let (extra_s, us) = carry(us);
        let r = match (days, parts.as_slice()) {
            (None, [n]) => {
                let n = num(n)?;
                if n > 99_999_999 {
                    return Err(TimeError::Invalid);
                }
                Time::from_fields(neg, n / 10000, (n / 100) % 100, n % 100, us)
            }
            (Some(d), [h]) => Time::from_fields(neg, d * 24 + num(h)?, 0, 0, us),
            (d, [h, m]) => Time::from_fields(neg, d.unwrap_or(0) * 24 + num(h)?, num(m)?, 0, us),
            (d, [h, m, s]) => Time::from_fields(neg, d.unwrap_or(0) * 24 + num(h)?, num(m)?, num(s)?, us),
            _ => Err(TimeError::Invalid),
        }?;
        if extra_s == 0 {
            return Ok(r);
        }
        let sign = if neg { -1 } else { 1 };
        Time::checked(i128::from(r.0) + sign * 1_000_000)
    }

    /// Formats as `[-]HH:MM:SS` with `fsp` fractional digits (0..=6).
    pub fn format(self, fsp: u8) -> String {
        let (h, m, s, us) = self.hms();
        let sign = if self.0 < 0 { "-" } else { "" };
        let mut out = format!("{sign}{h:02}:{m:02}:{s:02}");
        if fsp > 0 {
            let digits = format!("{us:06}");
            out.push('.');
            out.push_str(&digits[..(fsp.min(6) as usize)]);
        }
        out
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fsp = if self.0 % 1_000_000 == 0 { 0 } else { 6 };
        f.write_str(&self.format(fsp))
    }
}

/// Splits date-time text into numeric parts. Accepts delimited forms with any
/// ASCII punctuation between parts, and the compact `YYYYMMDD[HHMMSS]` form.
fn parse_datetime_parts(s: &str) -> Option<(i32, u32, u32, u32, u32, u32, u32)> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.is_empty() {
        return None;
    }
    if b.iter().all(|c| c.is_ascii_digit()) {
        return match b.len() {
            8 | 14 => {
                let n = |r: std::ops::Range<usize>| s.get(r).and_then(|x| x.parse::<u32>().ok());
                let y = n(0..4)? as i32;
                let (m, d) = (n(4..6)?, n(6..8)?);
                let (h, mi, se) = if b.len() == 14 { (n(8..10)?, n(10..12)?, n(12..14)?) } else { (0, 0, 0) };
                Some((y, m, d, h, mi, se, 0))
            }
            6 => {
                let n = |r: std::ops::Range<usize>| s.get(r).and_then(|x| x.parse::<u32>().ok());
                let yy = n(0..2)? as i32;
                Some((if yy < 70 { 2000 + yy } else { 1900 + yy }, n(2..4)?, n(4..6)?, 0, 0, 0, 0))
            }
            _ => None,
        };
    }
    let mut parts: Vec<u32> = Vec::with_capacity(7);
    let mut frac: u32 = 0;
    let mut i = 0;
    let mut year_digits = 0;
    while i < b.len() {
        if parts.len() == 6 {
            // Fraction after the seconds: up to 6 digits, rest ignored.
            if b[i] == b'.' {
                i += 1;
                let mut n = 0;
                let mut v: u32 = 0;
                while i < b.len() && b[i].is_ascii_digit() {
                    if n < 6 {
                        v = v * 10 + (b[i] - b'0') as u32;
                        n += 1;
                    }
                    i += 1;
                }
                while n < 6 {
                    v *= 10;
                    n += 1;
                }
                frac = v;
            }
            break;
        }
        let start = i;
        let mut v: u32 = 0;
        while i < b.len() && b[i].is_ascii_digit() {
            v = v.checked_mul(10)?.checked_add((b[i] - b'0') as u32)?;
            i += 1;
        }
        if i == start {
            return None;
        }
        if parts.is_empty() {
            year_digits = i - start;
        }
        parts.push(v);
        if i >= b.len() {
            break;
        }
        // Delimiter: one punctuation char, or 'T'/spaces between date and time.
        let c = b[i];
        if parts.len() == 3 {
            if c == b'T' || c == b' ' {
                while i < b.len() && (b[i] == b' ' || b[i] == b'T') {
                    i += 1;
                }
                continue;
            }
            if c.is_ascii_punctuation() {
                i += 1;
                continue;
            }
            return None;
        }
        if parts.len() == 6 {
            continue;
        }
        if c.is_ascii_punctuation() {
            i += 1;
        } else {
            return None;
        }
    }
    if i < b.len() && !b[i..].iter().all(|c| c.is_ascii_whitespace()) {
        return None;
    }
    if parts.len() < 3 || parts.len() == 4 {
        return None;
    }
    let mut y = *parts.first()? as i32;
    if year_digits <= 2 {
        y += if y < 70 { 2000 } else { 1900 };
    }
    let g = |k: usize| parts.get(k).copied().unwrap_or(0);
    Some((y, g(1), g(2), g(3), g(4), g(5), frac))
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fsp = if self.micros_of_day() % 1_000_000 == 0 { 0 } else { 6 };
        f.write_str(&self.format(fsp))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        for n in [-719162i64, -1, 0, 1, 11016, 2_932_896] {
            let (y, m, d) = civil_from_days(n);
            assert_eq!(days_from_civil(y, m, d), n);
        }
        assert_eq!(days_from_civil(2000, 3, 1), 11017);
    }

    #[test]
    fn parses_mysql_forms() {
        assert_eq!(Date::parse("2024-02-29").map(|d| d.to_string()), Some("2024-02-29".into()));
        assert_eq!(Date::parse("2023-02-29"), None);
        assert_eq!(Date::parse("20240105").map(|d| d.to_string()), Some("2024-01-05".into()));
        assert_eq!(
            DateTime::parse("2024-01-05 10:20:30.5").map(|d| d.to_string()),
            Some("2024-01-05 10:20:30.500000".into())
        );
        assert_eq!(DateTime::parse("2024-01-05").map(|d| d.to_string()), Some("2024-01-05 00:00:00".into()));
        assert_eq!(DateTime::parse("2024-01-05 25:00:00"), None);
        assert_eq!(Date::parse("hello"), None);
    }

    #[test]
    fn parses_mysql_time_forms() {
        let p = |s: &str| Time::parse(s).map(|t| t.to_string());
        assert_eq!(p("12:34:56"), Ok("12:34:56".into()));
        assert_eq!(p("-838:59:59"), Ok("-838:59:59".into()));
        assert_eq!(p("1 02:03:04.5"), Ok("26:03:04.500000".into()));
        assert_eq!(p("12:34"), Ok("12:34:00".into()));
        assert_eq!(p("56"), Ok("00:00:56".into()));
        assert_eq!(p("123456.5"), Ok("12:34:56.500000".into()));
        assert_eq!(p("2 3"), Ok("51:00:00".into()));
        assert_eq!(p("2024-01-02 10:20:30"), Ok("10:20:30".into()));
        assert_eq!(p("10:20:30.1234567"), Ok("10:20:30.123457".into()));
        assert_eq!(p("12:60:00"), Err(TimeError::Invalid));
        assert_eq!(p("abc"), Err(TimeError::Invalid));
        assert_eq!(p("839:00:00"), Err(TimeError::OutOfRange(Time::MAX)));
        assert_eq!(p("-839:00:00"), Err(TimeError::OutOfRange(Time::MIN)));
    }

    #[test]
    fn times_round_and_order() {
        let t = Time::parse("10:20:30.55").expect("valid");
        assert_eq!(t.round(1).to_string(), "10:20:30.600000");
        assert_eq!(t.round(0).to_string(), "10:20:31");
        assert_eq!(Time::parse("838:59:59.9").map(|t| t.round(0)), Err(TimeError::OutOfRange(Time::MAX)));
        assert!(Time::parse("-01:00:00").expect("valid") < Time::parse("00:00:00").expect("valid"));
        assert_eq!(Time::from_number(false, 123456, 500_000).map(|t| t.format(1)), Ok("12:34:56.5".into()));
    }

    #[test]
    fn order_is_calendar_order() {
        let a = DateTime::parse("2023-12-31 23:59:59").expect("valid");
        let b = DateTime::parse("2024-01-01 00:00:00").expect("valid");
        assert!(a < b);
        assert!(a.to_bits() < b.to_bits());
    }
}
