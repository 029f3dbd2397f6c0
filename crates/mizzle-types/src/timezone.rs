//! Time zones: the session's `time_zone` and the zones of `CONVERT_TZ`.
//! A [`TimeZone`] turns a UTC [`DateTime`] into the local date-time of the
//! zone and back, the way MySQL 8 does for TIMESTAMP columns.
//!
//! Invariants:
//! 1. Named zones come from the IANA database bundled into the binary
//!    (`jiff`'s `tzdb-bundle-always`), never from the host's
//!    `/usr/share/zoneinfo`, so results do not depend on the machine.
//! 2. `SYSTEM` is UTC (mizzle's `system_time_zone` is always `UTC`).
//! 3. Offsets are `[+-]HH:MM` within MySQL 8's range, `-13:59 ..= +14:00`.
//! 4. Local to UTC is MySQL's rule: a local time in a gap (skipped by a
//!    daylight-saving change) becomes the first instant after the gap,
//!    keeping its fraction of a second; a local time in a fold (repeated)
//!    becomes the earlier of its two instants. [`TimeZone::to_utc`] says
//!    which case applied.
//!
//! This module keeps no state and does no I/O; it does not decide where
//! values are converted (the executor does: see ARCHITECTURE.md, "Time
//! zones").

use std::fmt;

use crate::datetime::{Date, DateTime, MICROS_PER_DAY};

const MICROS_PER_SEC: i64 = 1_000_000;

/// The most eastern offset MySQL 8 accepts, `+14:00`, in seconds.
const MAX_OFFSET_SECS: i32 = 14 * 3600;
/// The most western offset MySQL 8 accepts, `-13:59`, in seconds.
const MIN_OFFSET_SECS: i32 = -(13 * 3600 + 59 * 60);

#[derive(Clone, Debug)]
enum Kind {
    /// A constant offset from UTC in seconds (UTC and SYSTEM are 0).
    Fixed(i32),
    /// A zone of the IANA database with rules.
    Named(jiff::tz::TimeZone),
}

/// A time zone: `SYSTEM`, a fixed offset or a named IANA zone.
#[derive(Clone, Debug)]
pub struct TimeZone {
    kind: Kind,
    /// What `@@time_zone` shows: `SYSTEM`, `+05:30` or the IANA name.
    name: String,
}

/// How a local date-time became a UTC instant ([`TimeZone::to_utc`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LocalKind {
    /// The local time names exactly one instant.
    Exact,
    /// The local time was skipped (a gap); the instant is the gap's end.
    Gap,
    /// The local time happened twice (a fold); the instant is the earlier.
    Fold,
}

impl Default for TimeZone {
    fn default() -> Self {
        TimeZone::system()
    }
}

impl PartialEq for TimeZone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl fmt::Display for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// Reads `[+-]H[H]:MM` as seconds east of UTC, if in MySQL 8's range.
fn parse_offset(s: &str) -> Option<i32> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':')?;
    let digits = |p: &str, max_len: usize| -> Option<i32> {
        if p.is_empty() || p.len() > max_len || !p.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        p.parse().ok()
    };
    let (h, m) = (digits(h, 2)?, digits(m, 2)?);
    if m > 59 {
        return None;
    }
    let secs = sign * (h * 3600 + m * 60);
    (MIN_OFFSET_SECS..=MAX_OFFSET_SECS).contains(&secs).then_some(secs)
}

/// `+HH:MM` for an offset in seconds (whole minutes).
fn offset_name(secs: i32) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let m = secs.unsigned_abs() / 60;
    format!("{sign}{:02}:{:02}", m / 60, m % 60)
}

impl TimeZone {
    /// UTC, named `+00:00`.
    pub fn utc() -> TimeZone {
        TimeZone { kind: Kind::Fixed(0), name: "+00:00".into() }
    }

    /// The system time zone, `SYSTEM`: UTC (invariant 2).
    pub fn system() -> TimeZone {
        TimeZone { kind: Kind::Fixed(0), name: "SYSTEM".into() }
    }

    /// A zone from what `SET time_zone` or `CONVERT_TZ` accepts: `SYSTEM`
    /// (any case), an offset `[+-]HH:MM` in `-13:59 ..= +14:00`, or an IANA
    /// name (any case). `None` for anything else (MySQL's error 1298).
    pub fn parse(text: &str) -> Option<TimeZone> {
        if text.eq_ignore_ascii_case("SYSTEM") {
            return Some(TimeZone::system());
        }
        if let Some(secs) = parse_offset(text) {
            return Some(TimeZone { kind: Kind::Fixed(secs), name: offset_name(secs) });
        }
        // Lookups never read the host's database (invariant 1); names are
        // plain ASCII paths, so anything else is not a zone.
        if text.is_empty() || !text.bytes().all(|c| c.is_ascii_alphanumeric() || b"/_-+".contains(&c)) {
            return None;
        }
        let tz = jiff::tz::db().get(text).ok()?;
        let name = tz.iana_name().unwrap_or(text).to_string();
        Some(TimeZone { kind: Kind::Named(tz), name })
    }

    /// The name `@@time_zone` shows.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// True when local time is UTC at every instant (conversions change
    /// nothing): `SYSTEM`, `+00:00`, and named zones such as `UTC`.
    pub fn is_utc(&self) -> bool {
        match &self.kind {
            Kind::Fixed(s) => *s == 0,
            Kind::Named(tz) => tz.to_fixed_offset().is_ok_and(|o| o.seconds() == 0),
        }
    }

    /// True when the offset never changes, so local and UTC times map one
    /// to one and keep their order.
    pub fn is_fixed(&self) -> bool {
        match &self.kind {
            Kind::Fixed(_) => true,
            Kind::Named(tz) => tz.to_fixed_offset().is_ok(),
        }
    }

    /// The offset in seconds at the UTC instant `utc_secs`.
    fn offset_at(&self, utc_secs: i64) -> i32 {
        match &self.kind {
            Kind::Fixed(s) => *s,
            Kind::Named(tz) => match jiff::Timestamp::from_second(utc_secs) {
                Ok(ts) => tz.to_offset(ts).seconds(),
                // Beyond jiff's range (far outside DATETIME's): the nearest
                // end's offset.
                Err(_) => {
                    let edge = if utc_secs < 0 { jiff::Timestamp::MIN } else { jiff::Timestamp::MAX };
                    tz.to_offset(edge).seconds()
                }
            },
        }
    }

    /// The local date-time of a UTC instant; `None` if it leaves DATETIME's
    /// range (years 1..9999).
    pub fn from_utc(&self, utc: DateTime) -> Option<DateTime> {
        let us = utc.unix_micros();
        let off = self.offset_at(us.div_euclid(MICROS_PER_SEC));
        if off == 0 {
            return Some(utc);
        }
        DateTime::from_unix_micros(us + i64::from(off) * MICROS_PER_SEC)
    }

    /// The UTC instant of a local date-time by MySQL's rule (invariant 4),
    /// and which case applied; `None` if it leaves DATETIME's range.
    pub fn to_utc(&self, local: DateTime) -> Option<(DateTime, LocalKind)> {
        let (first, _, kind) = self.candidates(local)?;
        DateTime::from_unix_micros(first).map(|d| (d, kind))
    }

    /// The first and the last UTC instants (microseconds since the epoch)
    /// whose local time is `local`, and the case: the same instant twice
    /// when exact, the two instants of a fold, and the gap's end twice for
    /// a skipped time. `None` if `local` has no date in range.
    fn candidates(&self, local: DateTime) -> Option<(i64, i64, LocalKind)> {
        let us = local.unix_micros();
        let tz = match &self.kind {
            Kind::Fixed(s) => {
                let u = us - i64::from(*s) * MICROS_PER_SEC;
                return Some((u, u, LocalKind::Exact));
            }
            Kind::Named(tz) => tz,
        };
        let (h, mi, s, frac) = local.hms();
        let (y, m, d) = local.date().ymd();
        let civil = jiff::civil::DateTime::new(
            i16::try_from(y).ok()?,
            i8::try_from(m).ok()?,
            i8::try_from(d).ok()?,
            i8::try_from(h).ok()?,
            i8::try_from(mi).ok()?,
            i8::try_from(s).ok()?,
            0,
        )
        .ok()?;
        let whole = us - i64::from(frac);
        let at = |off: jiff::tz::Offset| whole - i64::from(off.seconds()) * MICROS_PER_SEC + i64::from(frac);
        Some(match tz.to_ambiguous_timestamp(civil).offset() {
            jiff::tz::AmbiguousOffset::Unambiguous { offset } => {
                let u = at(offset);
                (u, u, LocalKind::Exact)
            }
            jiff::tz::AmbiguousOffset::Fold { before, after } => (at(before), at(after), LocalKind::Fold),
            jiff::tz::AmbiguousOffset::Gap { before, after } => {
                // The transition T has T + before <= local < T + after (in
                // whole seconds): find it between the two readings.
                let secs = whole.div_euclid(MICROS_PER_SEC);
                let (mut lo, mut hi) = (secs - i64::from(after.seconds()), secs - i64::from(before.seconds()));
                // Invariant of the search: offset_at(lo) is `before`,
                // offset_at(hi) is not.
                while hi - lo > 1 {
                    let mid = lo + (hi - lo) / 2;
                    if self.offset_at(mid) == before.seconds() {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                let u = hi * MICROS_PER_SEC + i64::from(frac);
                (u, u, LocalKind::Gap)
            }
        })
    }

    /// The UTC instants that bound the local date-times from `local` on
    /// (`lower`) or up to `local` (`!lower`): the first instant whose local
    /// time is at least `local`, or the last one whose local time is at
    /// most `local` (the gap's end stands for a skipped time, one
    /// microsecond too wide). Index ranges over TIMESTAMP columns use it;
    /// local time goes back in a fold, so such a range is a superset and
    /// rows are checked again. Clamped to DATETIME's range.
    pub fn utc_bound(&self, local: DateTime, lower: bool) -> DateTime {
        let min = Date::from_ymd(1, 1, 1).map_or(local, Date::at_midnight);
        let max = Date::from_ymd(9999, 12, 31).map_or(local, |d| DateTime::from_parts(d, MICROS_PER_DAY - 1));
        let Some((first, last, _)) = self.candidates(local) else { return if lower { min } else { max } };
        let us = if lower { first } else { last };
        if us < min.unix_micros() {
            min
        } else if us > max.unix_micros() {
            max
        } else {
            DateTime::from_unix_micros(us).unwrap_or(local)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dt(s: &str) -> DateTime {
        DateTime::parse(s).expect("valid date-time")
    }

    fn zone(s: &str) -> TimeZone {
        TimeZone::parse(s).expect("known zone")
    }

    #[test]
    fn parses_what_mysql_8_accepts() {
        assert_eq!(zone("system").name(), "SYSTEM");
        assert_eq!(zone("+5:30").name(), "+05:30");
        assert_eq!(zone("-13:59").name(), "-13:59");
        assert_eq!(zone("+14:00").name(), "+14:00");
        assert_eq!(zone("europe/paris").name(), "Europe/Paris");
        assert_eq!(zone("UTC").name(), "UTC");
        for bad in ["+14:01", "-14:00", "+05:60", "05:00", "+5", "", "Mars/Olympus", "../etc", "+05:00 "] {
            assert!(TimeZone::parse(bad).is_none(), "{bad} should be refused");
        }
    }

    #[test]
    fn offsets_shift_both_ways() {
        let z = zone("+05:30");
        assert_eq!(z.from_utc(dt("2024-01-01 00:00:00")), Some(dt("2024-01-01 05:30:00")));
        assert_eq!(z.to_utc(dt("2024-01-01 05:30:00.25")), Some((dt("2024-01-01 00:00:00.25"), LocalKind::Exact)));
        assert!(z.is_fixed() && !z.is_utc());
        assert!(zone("UTC").is_utc() && TimeZone::system().is_utc());
    }

    #[test]
    fn named_zones_follow_daylight_saving() {
        let z = zone("Europe/Paris");
        // Winter +01:00, summer +02:00.
        assert_eq!(z.from_utc(dt("2024-01-15 12:00:00")), Some(dt("2024-01-15 13:00:00")));
        assert_eq!(z.from_utc(dt("2024-07-15 12:00:00")), Some(dt("2024-07-15 14:00:00")));
        let ny = zone("America/New_York");
        assert_eq!(ny.to_utc(dt("2024-07-04 12:00:00")), Some((dt("2024-07-04 16:00:00"), LocalKind::Exact)));
    }

    #[test]
    fn a_gap_time_becomes_the_gap_end() {
        // 2024-03-31 in Paris: 02:00 local jumps to 03:00 (01:00 UTC).
        let z = zone("Europe/Paris");
        assert_eq!(z.to_utc(dt("2024-03-31 02:30:00")), Some((dt("2024-03-31 01:00:00"), LocalKind::Gap)));
        assert_eq!(z.to_utc(dt("2024-03-31 02:00:00.5")), Some((dt("2024-03-31 01:00:00.5"), LocalKind::Gap)));
        assert_eq!(z.from_utc(dt("2024-03-31 01:00:00")), Some(dt("2024-03-31 03:00:00")));
        assert_eq!(z.utc_bound(dt("2024-03-31 02:30:00"), true), dt("2024-03-31 01:00:00"));
    }

    #[test]
    fn a_fold_time_becomes_the_earlier_instant() {
        // 2024-10-27 in Paris: 03:00 local goes back to 02:00 (01:00 UTC).
        let z = zone("Europe/Paris");
        assert_eq!(z.to_utc(dt("2024-10-27 02:30:00")), Some((dt("2024-10-27 00:30:00"), LocalKind::Fold)));
        assert_eq!(z.utc_bound(dt("2024-10-27 02:30:00"), true), dt("2024-10-27 00:30:00"));
        assert_eq!(z.utc_bound(dt("2024-10-27 02:30:00"), false), dt("2024-10-27 01:30:00"));
        // Both instants show the same local time.
        assert_eq!(z.from_utc(dt("2024-10-27 00:30:00")), z.from_utc(dt("2024-10-27 01:30:00")));
    }

    #[test]
    fn bounds_cover_every_instant_of_a_local_range() {
        // Every UTC second of two days around each change: its local time
        // is within [a, b] exactly when it is within [lower(a), upper(b)]
        // and its local time passes the check; the bounds never lose one.
        let z = zone("Europe/Paris");
        for day in ["2024-03-30 12:00:00", "2024-10-26 12:00:00"] {
            let start = dt(day).unix_micros();
            let locals: Vec<(i64, DateTime)> = (0..(48 * 60))
                .map(|m| {
                    let u = start + m * 60 * MICROS_PER_SEC;
                    (u, z.from_utc(DateTime::from_unix_micros(u).expect("in range")).expect("in range"))
                })
                .collect();
            for a in (0..locals.len()).step_by(37) {
                for b in (a..locals.len()).step_by(41) {
                    let (la, lb) = (locals[a].1, locals[b].1);
                    let (lo, hi) = (z.utc_bound(la, true).unix_micros(), z.utc_bound(lb, false).unix_micros());
                    for (u, l) in &locals {
                        if la <= *l && *l <= lb {
                            assert!(lo <= *u && *u <= hi, "{l} lost from [{la}, {lb}]");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn out_of_range_is_none() {
        let z = zone("+05:00");
        assert_eq!(z.to_utc(dt("0001-01-01 01:00:00")), None);
        assert_eq!(zone("-05:00").from_utc(dt("0001-01-01 01:00:00")), None);
    }
}
