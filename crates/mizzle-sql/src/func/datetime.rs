//! Date and time functions: the statement clock (NOW, CURDATE, ...), field
//! extraction (YEAR .. WEEK), date arithmetic (ADDDATE and the
//! [`add_interval`] helper the evaluator uses for `INTERVAL`), DATE_FORMAT,
//! STR_TO_DATE and the day-number conversions.
//!
//! Invariants:
//! 1. The clock is `FuncCtx::now` (UTC); nothing reads the system time.
//!    NOW, CURDATE, CURTIME show it in the session's time zone
//!    (`FuncCtx::tz`), the UTC_* functions as it is; UNIX_TIMESTAMP(x)
//!    reads a date-time argument as session-local time and FROM_UNIXTIME
//!    gives session-local time.
//! 2. Arguments are read with `convert::datetime`: an unparsable value is
//!    NULL with warning 1292 `Incorrect datetime value: '...'`.
//! 3. Date arithmetic that leaves 0001-01-01 ..= 9999-12-31 gives NULL with
//!    a warning, never a wrapped or clamped date; month arithmetic clamps
//!    the day to the month's length (2024-01-31 + 1 MONTH = 2024-02-29).
//! 4. The result kind of date arithmetic follows the first argument's kind:
//!    DATE stays DATE for day-or-longer units, DATE/DATETIME otherwise give
//!    DATETIME, and anything else (strings, numbers) gives a string, as in
//!    MySQL; [`interval_return_type`] states the same on types.
//!
//! TIME values: TIME(), CURTIME(), TIMEDIFF, ADDTIME/SUBTIME, TIME_TO_SEC,
//! SEC_TO_TIME, MAKETIME, TIME_FORMAT, and HOUR .. MICROSECOND (hours of a
//! TIME may exceed 23). A TIME given where a date-time is needed stands on
//! the statement's date, as in MySQL (`convert::datetime`).
//!
//! Not yet: STR_TO_DATE with a time-only format gives NULL, not a TIME.

use mizzle_types::datetime::{days_from_civil, days_in_month, MICROS_PER_DAY};
use mizzle_types::datetime::{Time, TimeError};
use mizzle_types::{Date, DateTime, Decimal, ErrorCode, SqlType, TypeError, Value, Warning};

use super::convert;
use super::{FuncCtx, FuncError, ScalarFunc};

/// `TO_DAYS('1970-01-01')`: MySQL day numbers count from year 0.
const EPOCH_DAYNR: i64 = 719_528;
/// The largest second `FROM_UNIXTIME` and `UNIX_TIMESTAMP` accept (MySQL 8.0.28+).
const MAX_UNIX_SECONDS: i64 = 32_536_771_199;

const DAY_NAMES: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The unit of an `INTERVAL n unit` expression (the simple units).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IntervalUnit {
    /// MICROSECOND
    Microsecond,
    /// SECOND (a fractional amount adds microseconds)
    Second,
    /// MINUTE
    Minute,
    /// HOUR
    Hour,
    /// DAY
    Day,
    /// WEEK
    Week,
    /// MONTH
    Month,
    /// QUARTER
    Quarter,
    /// YEAR
    Year,
}

impl IntervalUnit {
    /// Every unit, in the order of [`IntervalUnit::code`].
    pub const ALL: [IntervalUnit; 9] = [
        IntervalUnit::Microsecond,
        IntervalUnit::Second,
        IntervalUnit::Minute,
        IntervalUnit::Hour,
        IntervalUnit::Day,
        IntervalUnit::Week,
        IntervalUnit::Month,
        IntervalUnit::Quarter,
        IntervalUnit::Year,
    ];

    /// The unit as a small integer (an argument of TIMESTAMPDIFF).
    pub fn code(self) -> i64 {
        IntervalUnit::ALL.iter().position(|&u| u == self).map_or(0, |i| i as i64)
    }

    /// The unit named `name` as TIMESTAMPDIFF / TIMESTAMPADD take it
    /// (`MINUTE` or `SQL_TSI_MINUTE`, any case).
    pub fn from_name(name: &str) -> Option<IntervalUnit> {
        let n = name.to_ascii_uppercase();
        let n = n.strip_prefix("SQL_TSI_").unwrap_or(&n);
        Some(match n {
            "MICROSECOND" | "FRAC_SECOND" => IntervalUnit::Microsecond,
            "SECOND" => IntervalUnit::Second,
            "MINUTE" => IntervalUnit::Minute,
            "HOUR" => IntervalUnit::Hour,
            "DAY" => IntervalUnit::Day,
            "WEEK" => IntervalUnit::Week,
            "MONTH" => IntervalUnit::Month,
            "QUARTER" => IntervalUnit::Quarter,
            "YEAR" => IntervalUnit::Year,
            _ => return None,
        })
    }

    /// True for units of a day or longer, which keep a DATE a DATE.
    pub fn is_date_unit(self) -> bool {
        matches!(
            self,
            IntervalUnit::Day | IntervalUnit::Week | IntervalUnit::Month | IntervalUnit::Quarter | IntervalUnit::Year
        )
    }
}

/// The type of `dt + INTERVAL n unit` for a `dt` of type `arg` (invariant 4).
pub fn interval_return_type(arg: SqlType, unit: IntervalUnit) -> SqlType {
    let frac = matches!(unit, IntervalUnit::Microsecond | IntervalUnit::Second);
    match arg {
        SqlType::Date if unit.is_date_unit() => SqlType::Date,
        SqlType::Date | SqlType::Null => SqlType::DateTime(if frac { 6 } else { 0 }),
        SqlType::DateTime(f) | SqlType::Timestamp(f) => SqlType::DateTime(if frac { 6 } else { f }),
        SqlType::Time(f) => SqlType::Time(if frac { 6 } else { f }),
        _ => SqlType::Varchar(26),
    }
}

/// `dt + INTERVAL amount unit` (or minus, with `negate`), MySQL style:
/// NULL in gives NULL; a bad date or a result out of range gives NULL.
/// Warnings are dropped; [`add_interval_with_warnings`] keeps them.
pub fn add_interval(dt: &Value, amount: &Value, unit: IntervalUnit, negate: bool) -> Result<Value, FuncError> {
    let mut warnings = Vec::new();
    add_interval_with_warnings(dt, amount, unit, negate, &mut warnings)
}

/// [`add_interval`], pushing MySQL's warnings (bad date 1292, overflow) to `warnings`.
pub fn add_interval_with_warnings(
    dt: &Value,
    amount: &Value,
    unit: IntervalUnit,
    negate: bool,
    warnings: &mut Vec<Warning>,
) -> Result<Value, FuncError> {
    let mut rand_state = 0;
    let tz = mizzle_types::TimeZone::utc();
    let mut ctx = FuncCtx {
        now: DateTime::from_unix_micros(0).expect("invariant: the epoch is a valid date-time"),
        tz: &tz,
        warnings,
        rand_state: &mut rand_state,
    };
    add_interval_ctx(dt, amount, unit, negate, &mut ctx)
}

/// NULL with the warning MySQL gives for date arithmetic out of range.
/// MySQL uses ER_DATETIME_FUNCTION_OVERFLOW (1441), which the error table
/// lacks; the closest entry is ER_DATA_OUT_OF_RANGE.
fn overflow(ctx: &mut FuncCtx<'_>) -> Value {
    ctx.warn(ErrorCode::ValueOutOfRange, "Datetime function: datetime field overflow".into());
    Value::Null
}

/// The shift of an interval in microseconds or months.
enum Shift {
    Micros(i128),
    Months(i128),
}

/// The mantissa of `d`, or for one past an `i128` (more than 38 digits, far
/// beyond any date or time) a value of its sign that is out of every range
/// and still safe to add to or subtract from.
fn saturated_mantissa(d: Decimal) -> i128 {
    d.mantissa_i128().unwrap_or(if d.signum() < 0 { i128::MIN / 2 } else { i128::MAX / 2 })
}

fn interval_shift(amount: &Value, unit: IntervalUnit, ctx: &mut FuncCtx<'_>) -> Option<Shift> {
    if unit == IntervalUnit::Second {
        let d = convert::decimal(amount, ctx)?;
        // 6 places always fit: an out-of-range amount overflows anyway.
        let micros = d.rescale(6).map_or(i128::MAX, saturated_mantissa);
        return Some(Shift::Micros(micros));
    }
    let n = i128::from(convert::int(amount, ctx)?);
    Some(match unit {
        IntervalUnit::Microsecond => Shift::Micros(n),
        IntervalUnit::Second => Shift::Micros(n * 1_000_000),
        IntervalUnit::Minute => Shift::Micros(n * 60_000_000),
        IntervalUnit::Hour => Shift::Micros(n * 3_600_000_000),
        IntervalUnit::Day => Shift::Micros(n * i128::from(MICROS_PER_DAY)),
        IntervalUnit::Week => Shift::Micros(n * 7 * i128::from(MICROS_PER_DAY)),
        IntervalUnit::Month => Shift::Months(n),
        IntervalUnit::Quarter => Shift::Months(n * 3),
        IntervalUnit::Year => Shift::Months(n * 12),
    })
}

fn apply_shift(base: DateTime, shift: Shift, negate: bool) -> Option<DateTime> {
    match shift {
        Shift::Micros(us) => {
            let us = if negate { -us } else { us };
            let t = i128::from(base.unix_micros()).checked_add(us)?;
            DateTime::from_unix_micros(i64::try_from(t).ok()?)
        }
        Shift::Months(m) => {
            let m = if negate { -m } else { m };
            let (y, mo, d) = base.date().ymd();
            let total = (i128::from(y) * 12 + i128::from(mo) - 1).checked_add(m)?;
            let ny = i32::try_from(total.div_euclid(12)).ok()?;
            let nm = u32::try_from(total.rem_euclid(12) + 1).ok()?;
            if !(1..=9999).contains(&ny) {
                return None;
            }
            let date = Date::from_ymd(ny, nm, d.min(days_in_month(ny, nm)))?;
            Some(DateTime::from_parts(date, base.micros_of_day()))
        }
    }
}

/// True when date-time text has a time part (so a string result keeps it).
fn text_has_time(s: &str) -> bool {
    let s = s.trim();
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return s.len() > 8;
    }
    let mut groups = 0;
    let mut in_digits = false;
    for b in s.bytes() {
        let d = b.is_ascii_digit();
        if d && !in_digits {
            groups += 1;
        }
        in_digits = d;
    }
    groups > 3
}

/// [`add_interval`] with a function context, which receives the warnings.
pub fn add_interval_ctx(
    dt: &Value,
    amount: &Value,
    unit: IntervalUnit,
    negate: bool,
    ctx: &mut FuncCtx<'_>,
) -> Result<Value, FuncError> {
    if dt.is_null() || amount.is_null() {
        return Ok(Value::Null);
    }
    if let Value::Time(t) = dt {
        let Some(shift) = interval_shift(amount, unit, ctx) else {
            return Ok(Value::Null);
        };
        let Shift::Micros(us) = shift else {
            return Ok(overflow(ctx));
        };
        let us = if negate { -us } else { us };
        return Ok(match i128::from(t.micros()).checked_add(us).map(Time::checked) {
            Some(Ok(r)) => Value::Time(r),
            _ => overflow(ctx),
        });
    }
    let Some(base) = convert::datetime(dt, ctx) else {
        return Ok(Value::Null);
    };
    let Some(shift) = interval_shift(amount, unit, ctx) else {
        return Ok(Value::Null);
    };
    let Some(r) = apply_shift(base, shift, negate) else {
        return Ok(overflow(ctx));
    };
    Ok(match dt {
        Value::Date(_) if unit.is_date_unit() => Value::Date(r.date()),
        Value::Date(_) | Value::DateTime(_) => Value::DateTime(r),
        other => {
            let with_time = !unit.is_date_unit() || r.micros_of_day() != 0 || text_has_time(&convert::text(other));
            if with_time {
                Value::text(&r.to_string())
            } else {
                Value::text(&r.date().to_string())
            }
        }
    })
}

/// ADDDATE(d, days) / SUBDATE(d, days) (`negate`).
pub(super) fn add_days(d: &Value, days: &Value, negate: bool, ctx: &mut FuncCtx<'_>) -> Result<Value, FuncError> {
    add_interval_ctx(d, days, IntervalUnit::Day, negate, ctx)
}

/// Result types of the date and time functions.
pub(super) fn return_type(f: ScalarFunc, args: &[SqlType]) -> SqlType {
    let first = args.first().copied().unwrap_or(SqlType::Null);
    match f {
        ScalarFunc::Now | ScalarFunc::SysDate | ScalarFunc::UtcTimestamp => {
            SqlType::DateTime(if args.is_empty() { 0 } else { 6 })
        }
        ScalarFunc::StrToDate => SqlType::DateTime(6),
        ScalarFunc::FromUnixtime if args.len() > 1 => SqlType::LONGTEXT,
        ScalarFunc::FromUnixtime => SqlType::DateTime(if first.is_integer() { 0 } else { 6 }),
        ScalarFunc::ConvertTz => match first {
            SqlType::DateTime(f) | SqlType::Timestamp(f) => SqlType::DateTime(f),
            SqlType::Date | SqlType::Null => SqlType::DateTime(0),
            _ if first.is_integer() => SqlType::DateTime(0),
            _ => SqlType::DateTime(6),
        },
        ScalarFunc::UnixTimestamp | ScalarFunc::UnixTimestampUtc => match first {
            _ if args.is_empty() => SqlType::BIGINT,
            SqlType::Date | SqlType::Null => SqlType::BIGINT,
            SqlType::DateTime(f) | SqlType::Timestamp(f) => SqlType::Decimal { precision: 12 + f, scale: f },
            _ => SqlType::Decimal { precision: 18, scale: 6 },
        },
        ScalarFunc::DayName | ScalarFunc::MonthName => SqlType::Varchar(9),
        ScalarFunc::DateFormat => SqlType::LONGTEXT,
        ScalarFunc::AddDate | ScalarFunc::SubDate => interval_return_type(first, IntervalUnit::Day),
        ScalarFunc::ToDays | ScalarFunc::DateDiff | ScalarFunc::TimestampDiff => SqlType::BIGINT,
        ScalarFunc::CurDate
        | ScalarFunc::UtcDate
        | ScalarFunc::Date
        | ScalarFunc::LastDay
        | ScalarFunc::MakeDate
        | ScalarFunc::FromDays
        | ScalarFunc::StrToDateAsDate => SqlType::Date,
        // YEAR, MONTH, ..., WEEK, YEARWEEK: integers.
        _ => SqlType::INT,
    }
}

/// NOW([fsp]) and its synonyms: the statement time `at` (local or UTC)
/// cut to `fsp` digits.
pub(super) fn now(fsp: Option<&Value>, at: DateTime, ctx: &mut FuncCtx<'_>) -> Result<Value, FuncError> {
    let fsp = match fsp {
        Some(v) => convert::int(v, ctx).unwrap_or(0),
        None => 0,
    };
    let digits = match u32::try_from(fsp) {
        Ok(d) if d <= 6 => d,
        _ => {
            let precision = u32::try_from(fsp.clamp(0, i64::from(u32::MAX))).unwrap_or(u32::MAX);
            return Err(FuncError::Type(TypeError::TooBigPrecision { precision, max: 6 }));
        }
    };
    let unit = 10i64.pow(6 - digits);
    let us = at.micros_of_day();
    Ok(Value::DateTime(DateTime::from_parts(at.date(), us - us % unit)))
}

/// UNIX_TIMESTAMP([x]): seconds since the epoch; 0 outside the supported
/// range. A date-time argument is session-local time (a time in a
/// daylight-saving gap counts from the gap's end, one in a fold from its
/// first occurrence), unless `utc` says it is a TIMESTAMP column's stored
/// UTC value.
pub(super) fn unix_timestamp(arg: Option<&Value>, utc: bool, ctx: &mut FuncCtx<'_>) -> Value {
    let Some(v) = arg else {
        return Value::Int(ctx.now.unix_micros().div_euclid(1_000_000));
    };
    if v.is_null() {
        return Value::Null;
    }
    let Some(local) = convert::datetime(v, ctx) else {
        return Value::Null;
    };
    let us = if utc {
        local.unix_micros()
    } else {
        match ctx.tz.to_utc(local) {
            Some((dt, _)) => dt.unix_micros(),
            None => -1,
        }
    };
    let secs = us.div_euclid(1_000_000);
    let in_range = (0..=MAX_UNIX_SECONDS).contains(&secs);
    if let Value::Date(_) = v {
        return Value::Int(if in_range { secs } else { 0 });
    }
    if !in_range {
        return Value::decimal(Decimal::ZERO);
    }
    let frac = us.rem_euclid(1_000_000);
    let exact = if frac == 0 { Decimal::new(i128::from(secs), 0) } else { Decimal::new(i128::from(us), 6) };
    Value::decimal(exact.unwrap_or(Decimal::ZERO))
}

/// FROM_UNIXTIME(n[, format]).
pub(super) fn from_unixtime(n: &Value, fmt: Option<&Value>, ctx: &mut FuncCtx<'_>) -> Value {
    if n.is_null() || fmt.is_some_and(Value::is_null) {
        return Value::Null;
    }
    let Some(d) = convert::decimal(n, ctx) else {
        return Value::Null;
    };
    let Some(us) = d.rescale(6).and_then(Decimal::mantissa_i128) else {
        return Value::Null;
    };
    if us < 0 || us > i128::from(MAX_UNIX_SECONDS) * 1_000_000 + 999_999 {
        return Value::Null;
    }
    let Some(dt) = i64::try_from(us).ok().and_then(DateTime::from_unix_micros).and_then(|u| ctx.tz.from_utc(u)) else {
        return Value::Null;
    };
    match fmt {
        Some(f) => Value::text(&format_datetime(dt, &convert::text(f))),
        None => Value::DateTime(dt),
    }
}

/// CONVERT_TZ(dt, from_tz, to_tz): `dt` read in `from_tz`, shown in
/// `to_tz` (offsets, `SYSTEM` and IANA names). NULL for a NULL or bad
/// argument or an unknown zone; `dt` unchanged when its instant is outside
/// 1970-01-01 00:00:01 .. 3001-01-18 23:59:59.999999 UTC, as in MySQL 8.
pub(super) fn convert_tz(dt: &Value, from: &Value, to: &Value, ctx: &mut FuncCtx<'_>) -> Value {
    if dt.is_null() || from.is_null() || to.is_null() {
        return Value::Null;
    }
    let Some(local) = convert::datetime(dt, ctx) else {
        return Value::Null;
    };
    let zone = |v: &Value| mizzle_types::TimeZone::parse(&convert::text(v));
    let (Some(from), Some(to)) = (zone(from), zone(to)) else {
        return Value::Null;
    };
    let Some((utc, _)) = from.to_utc(local) else {
        return Value::DateTime(local);
    };
    let secs = utc.unix_micros().div_euclid(1_000_000);
    if !(1..=MAX_UNIX_SECONDS).contains(&secs) {
        return Value::DateTime(local);
    }
    Value::DateTime(to.from_utc(utc).unwrap_or(local))
}

/// DATE(x).
pub(super) fn date(v: &Value, ctx: &mut FuncCtx<'_>) -> Value {
    match convert::datetime(v, ctx) {
        Some(dt) => Value::Date(dt.date()),
        None => Value::Null,
    }
}

/// A time of day (or duration) string `[-]H:MM[:SS[.ffffff]]`: hours,
/// minutes, seconds, microseconds. Hours may exceed 23, as TIME's do.
fn parse_time(s: &str) -> Option<(u32, u32, u32, u32)> {
    let s = s.trim();
    let s = s.strip_prefix('-').unwrap_or(s);
    let (main, frac) = match s.split_once('.') {
        Some((m, f)) => (m, Some(f)),
        None => (s, None),
    };
    let mut parts = main.split(':');
    let num = |p: Option<&str>| -> Option<u32> {
        let p = p?;
        if p.is_empty() || p.len() > 7 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        p.parse().ok()
    };
    let h = num(parts.next())?;
    let m = num(parts.next())?;
    let sec = match parts.next() {
        Some(p) => num(Some(p))?,
        None => 0,
    };
    if parts.next().is_some() || m > 59 || sec > 59 || h > 838 {
        return None;
    }
    let us = match frac {
        Some(f) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => {
            let six: String = f.chars().chain(std::iter::repeat('0')).take(6).collect();
            six.parse().ok()?
        }
        Some(_) => return None,
        None => 0,
    };
    Some((h, m, sec, us))
}

/// Days since 1970-01-01 and the weekday (0 = Monday) of a date.
fn weekday(d: Date) -> i64 {
    (d.day_number() + 3).rem_euclid(7)
}

fn day_of_year(d: Date) -> i64 {
    let (y, _, _) = d.ymd();
    d.day_number() - days_from_civil(y, 1, 1) + 1
}

/// YEAR, MONTH, DAY, HOUR, ... : one field of a date-time as an integer.
pub(super) fn extract(f: ScalarFunc, v: &Value, ctx: &mut FuncCtx<'_>) -> Value {
    if v.is_null() {
        return Value::Null;
    }
    let time_field = matches!(f, ScalarFunc::Hour | ScalarFunc::Minute | ScalarFunc::Second | ScalarFunc::Microsecond);
    // Time strings ('10:20:30') are TIME values for the time fields; read as
    // date-times they would mean 2010-20-30, so they are tried first.
    if let (true, Value::Time(t)) = (time_field, v) {
        let (h, m, s, us) = t.hms();
        return Value::Int(i64::from(match f {
            ScalarFunc::Hour => h,
            ScalarFunc::Minute => m,
            ScalarFunc::Second => s,
            _ => us,
        }));
    }
    if time_field && matches!(v, Value::Text(_) | Value::Bytes(_)) {
        if let Some((h, m, s, us)) = parse_time(&convert::text(v)) {
            return Value::Int(i64::from(match f {
                ScalarFunc::Hour => h,
                ScalarFunc::Minute => m,
                ScalarFunc::Second => s,
                _ => us,
            }));
        }
    }
    let Some(dt) = convert::datetime(v, ctx) else {
        return Value::Null;
    };
    let d = dt.date();
    let (y, m, day) = d.ymd();
    let (h, mi, s, us) = dt.hms();
    Value::Int(match f {
        ScalarFunc::Year => i64::from(y),
        ScalarFunc::Month => i64::from(m),
        ScalarFunc::Day => i64::from(day),
        ScalarFunc::Hour => i64::from(h),
        ScalarFunc::Minute => i64::from(mi),
        ScalarFunc::Second => i64::from(s),
        ScalarFunc::Microsecond => i64::from(us),
        ScalarFunc::DayOfWeek => (weekday(d) + 1) % 7 + 1,
        ScalarFunc::Weekday => weekday(d),
        ScalarFunc::DayOfYear => day_of_year(d),
        ScalarFunc::Quarter => i64::from(m.div_ceil(3)),
        ScalarFunc::WeekOfYear => calc_week(d, week_mode(3)).0,
        ScalarFunc::ToDays => d.day_number() + EPOCH_DAYNR,
        // Only the functions above are routed here by `ScalarFunc::eval`.
        _ => return Value::Null,
    })
}

/// DAYNAME and MONTHNAME.
pub(super) fn name_of(f: ScalarFunc, v: &Value, ctx: &mut FuncCtx<'_>) -> Value {
    let Some(dt) = convert::datetime(v, ctx) else {
        return Value::Null;
    };
    let d = dt.date();
    let name = if f == ScalarFunc::DayName { day_name(d) } else { month_name(d) };
    Value::text(name)
}

fn day_name(d: Date) -> &'static str {
    DAY_NAMES.get(usize::try_from(weekday(d)).unwrap_or(0)).copied().unwrap_or("")
}

fn month_name(d: Date) -> &'static str {
    let (_, m, _) = d.ymd();
    MONTH_NAMES.get(usize::try_from(m).unwrap_or(1).saturating_sub(1)).copied().unwrap_or("")
}

const WEEK_MONDAY_FIRST: u32 = 1;
const WEEK_YEAR: u32 = 2;
const WEEK_FIRST_WEEKDAY: u32 = 4;

/// MySQL's `week_mode`: WEEK()'s mode argument as `calc_week` flags.
fn week_mode(mode: i64) -> u32 {
    let mut f = u32::try_from(mode & 7).unwrap_or(0);
    if f & WEEK_MONDAY_FIRST == 0 {
        f ^= WEEK_FIRST_WEEKDAY;
    }
    f
}

fn days_in_year(y: i64) -> i64 {
    if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 {
        366
    } else {
        365
    }
}

/// MySQL's `calc_week`: the week number and the year it belongs to.
fn calc_week(d: Date, behaviour: u32) -> (i64, i64) {
    let (y, m, day) = d.ymd();
    let daynr = d.day_number() + EPOCH_DAYNR;
    let mut first_daynr = days_from_civil(y, 1, 1) + EPOCH_DAYNR;
    let monday_first = behaviour & WEEK_MONDAY_FIRST != 0;
    let mut week_year = behaviour & WEEK_YEAR != 0;
    let first_weekday = behaviour & WEEK_FIRST_WEEKDAY != 0;
    // calc_weekday(first_daynr, !monday_first)
    let mut wd = (first_daynr + 5 + i64::from(!monday_first)).rem_euclid(7);
    let mut year = i64::from(y);

    if m == 1 && i64::from(day) <= 7 - wd {
        if !week_year && ((first_weekday && wd != 0) || (!first_weekday && wd >= 4)) {
            return (0, year);
        }
        week_year = true;
        year -= 1;
        let days = days_in_year(year);
        first_daynr -= days;
        wd = (wd + 53 * 7 - days).rem_euclid(7);
    }
    let days = if (first_weekday && wd != 0) || (!first_weekday && wd >= 4) {
        daynr - (first_daynr + (7 - wd))
    } else {
        daynr - (first_daynr - wd)
    };
    if week_year && days >= 52 * 7 {
        let wd2 = (wd + days_in_year(year)).rem_euclid(7);
        if (!first_weekday && wd2 < 4) || (first_weekday && wd2 == 0) {
            return (1, year + 1);
        }
    }
    (days / 7 + 1, year)
}

/// WEEK(d[, mode]) and YEARWEEK(d[, mode]) (`yearweek`).
pub(super) fn week(v: &Value, mode: Option<&Value>, yearweek: bool, ctx: &mut FuncCtx<'_>) -> Value {
    let mode = match mode {
        Some(m) if m.is_null() => return Value::Null,
        Some(m) => convert::int(m, ctx).unwrap_or(0),
        None => 0,
    };
    let Some(dt) = convert::datetime(v, ctx) else {
        return Value::Null;
    };
    if yearweek {
        let (w, y) = calc_week(dt.date(), week_mode(mode) | WEEK_YEAR);
        Value::Int(y * 100 + w)
    } else {
        Value::Int(calc_week(dt.date(), week_mode(mode)).0)
    }
}

/// LAST_DAY(d).
pub(super) fn last_day(v: &Value, ctx: &mut FuncCtx<'_>) -> Value {
    let Some(dt) = convert::datetime(v, ctx) else {
        return Value::Null;
    };
    let (y, m, _) = dt.date().ymd();
    Date::from_ymd(y, m, days_in_month(y, m)).map_or(Value::Null, Value::Date)
}

/// DATEDIFF(a, b): days from b to a, times ignored.
pub(super) fn date_diff(a: &Value, b: &Value, ctx: &mut FuncCtx<'_>) -> Value {
    if a.is_null() || b.is_null() {
        return Value::Null;
    }
    match (convert::datetime(a, ctx), convert::datetime(b, ctx)) {
        (Some(x), Some(y)) => Value::Int(x.date().day_number() - y.date().day_number()),
        _ => Value::Null,
    }
}

/// TIMESTAMPDIFF(unit, a, b): `b - a` in whole units, truncated toward
/// zero, as MySQL computes it: fixed-length units from the microsecond
/// difference; MONTH, QUARTER and YEAR from the calendar months between
/// them, less one when the later value's day and time of day come before
/// the earlier one's. DATE arguments are at midnight.
pub(super) fn timestamp_diff(unit: &Value, a: &Value, b: &Value, ctx: &mut FuncCtx<'_>) -> Value {
    if a.is_null() || b.is_null() {
        return Value::Null;
    }
    let Some(unit) =
        convert::int(unit, ctx).and_then(|c| usize::try_from(c).ok()).and_then(|c| IntervalUnit::ALL.get(c).copied())
    else {
        return Value::Null;
    };
    let (Some(x), Some(y)) = (convert::datetime(a, ctx), convert::datetime(b, ctx)) else {
        return Value::Null;
    };
    const DAY_US: i64 = 86_400_000_000;
    let micros = |d: DateTime| d.date().day_number() * DAY_US + d.micros_of_day();
    let per = match unit {
        IntervalUnit::Microsecond => 1,
        IntervalUnit::Second => 1_000_000,
        IntervalUnit::Minute => 60_000_000,
        IntervalUnit::Hour => 3_600_000_000,
        IntervalUnit::Day => DAY_US,
        IntervalUnit::Week => 7 * DAY_US,
        IntervalUnit::Month | IntervalUnit::Quarter | IntervalUnit::Year => {
            let (lo, hi, sign) = if micros(y) >= micros(x) { (x, y, 1) } else { (y, x, -1) };
            let (ly, lm, ld) = lo.date().ymd();
            let (hy, hm, hd) = hi.date().ymd();
            let mut months = (i64::from(hy) * 12 + i64::from(hm)) - (i64::from(ly) * 12 + i64::from(lm));
            if (hd, hi.micros_of_day()) < (ld, lo.micros_of_day()) {
                months -= 1;
            }
            let n = match unit {
                IntervalUnit::Quarter => months / 3,
                IntervalUnit::Year => months / 12,
                _ => months,
            };
            return Value::Int(sign * n);
        }
    };
    Value::Int((micros(y) - micros(x)) / per)
}

/// MAKEDATE(year, dayofyear).
pub(super) fn make_date(year: &Value, doy: &Value, ctx: &mut FuncCtx<'_>) -> Value {
    if year.is_null() || doy.is_null() {
        return Value::Null;
    }
    let (Some(y), Some(n)) = (convert::int(year, ctx), convert::int(doy, ctx)) else {
        return Value::Null;
    };
    if n <= 0 || !(0..=9999).contains(&y) {
        return Value::Null;
    }
    let y = match y {
        0..=69 => y + 2000,
        70..=99 => y + 1900,
        _ => y,
    };
    let Ok(y) = i32::try_from(y) else {
        return Value::Null;
    };
    days_from_civil(y, 1, 1).checked_add(n - 1).and_then(Date::from_day_number).map_or(Value::Null, Value::Date)
}

/// FROM_DAYS(n): NULL where MySQL would give the zero date.
pub(super) fn from_days(n: &Value, ctx: &mut FuncCtx<'_>) -> Value {
    let Some(n) = convert::int(n, ctx) else {
        return Value::Null;
    };
    n.checked_sub(EPOCH_DAYNR).and_then(Date::from_day_number).map_or(Value::Null, Value::Date)
}

fn suffix(day: u32) -> &'static str {
    match (day % 10, day % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    }
}

/// Formats a date-time with MySQL's `%` specifiers.
pub(super) fn format_datetime(dt: DateTime, fmt: &str) -> String {
    use std::fmt::Write;
    let d = dt.date();
    let (y, m, day) = d.ymd();
    let (h, mi, s, us) = dt.hms();
    let h12 = if h % 12 == 0 { 12 } else { h % 12 };
    let ampm = if h < 12 { "AM" } else { "PM" };
    let mut out = String::with_capacity(fmt.len() + 16);
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(spec) = chars.next() else {
            out.push('%');
            break;
        };
        // Writing to a String cannot fail.
        let _ = match spec {
            'a' => write!(out, "{}", day_name(d).get(..3).unwrap_or("")),
            'b' => write!(out, "{}", month_name(d).get(..3).unwrap_or("")),
            'c' => write!(out, "{m}"),
            'D' => write!(out, "{day}{}", suffix(day)),
            'd' => write!(out, "{day:02}"),
            'e' => write!(out, "{day}"),
            'f' => write!(out, "{us:06}"),
            'H' => write!(out, "{h:02}"),
            'h' | 'I' => write!(out, "{h12:02}"),
            'i' => write!(out, "{mi:02}"),
            'j' => write!(out, "{:03}", day_of_year(d)),
            'k' => write!(out, "{h}"),
            'l' => write!(out, "{h12}"),
            'M' => write!(out, "{}", month_name(d)),
            'm' => write!(out, "{m:02}"),
            'p' => write!(out, "{ampm}"),
            'r' => write!(out, "{h12:02}:{mi:02}:{s:02} {ampm}"),
            'S' | 's' => write!(out, "{s:02}"),
            'T' => write!(out, "{h:02}:{mi:02}:{s:02}"),
            'U' => write!(out, "{:02}", calc_week(d, WEEK_FIRST_WEEKDAY).0),
            'u' => write!(out, "{:02}", calc_week(d, WEEK_MONDAY_FIRST).0),
            'V' => write!(out, "{:02}", calc_week(d, WEEK_YEAR | WEEK_FIRST_WEEKDAY).0),
            'v' => write!(out, "{:02}", calc_week(d, WEEK_YEAR | WEEK_MONDAY_FIRST).0),
            'W' => write!(out, "{}", day_name(d)),
            'w' => write!(out, "{}", (weekday(d) + 1) % 7),
            'X' => write!(out, "{:04}", calc_week(d, WEEK_YEAR | WEEK_FIRST_WEEKDAY).1),
            'x' => write!(out, "{:04}", calc_week(d, WEEK_YEAR | WEEK_MONDAY_FIRST).1),
            'Y' => write!(out, "{y:04}"),
            'y' => write!(out, "{:02}", y % 100),
            other => write!(out, "{other}"),
        };
    }
    out
}

/// DATE_FORMAT(d, format).
pub(super) fn date_format(v: &Value, fmt: &Value, ctx: &mut FuncCtx<'_>) -> Value {
    if v.is_null() || fmt.is_null() {
        return Value::Null;
    }
    match convert::datetime(v, ctx) {
        Some(dt) => Value::text(&format_datetime(dt, &convert::text(fmt))),
        None => Value::Null,
    }
}

/// True when a STR_TO_DATE format has date fields and no time fields, so
/// that MySQL gives a DATE.
pub(super) fn format_is_date_only(fmt: &str) -> bool {
    let (mut date, mut time) = (false, false);
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            continue;
        }
        match chars.next() {
            Some(
                'a' | 'b' | 'c' | 'D' | 'd' | 'e' | 'j' | 'M' | 'm' | 'U' | 'u' | 'V' | 'v' | 'W' | 'w' | 'X' | 'x'
                | 'Y' | 'y',
            ) => date = true,
            Some('f' | 'H' | 'h' | 'I' | 'i' | 'k' | 'l' | 'p' | 'r' | 'S' | 's' | 'T') => time = true,
            _ => {}
        }
    }
    date && !time
}

/// Fields collected by STR_TO_DATE.
#[derive(Default)]
struct Parsed {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    micros: i64,
    yearday: i64,
    /// 12-hour clock in use (%h, %I, %l, %r).
    usa_time: bool,
    /// 0 for AM, 12 for PM.
    daypart: i64,
}

/// Reads up to `max` digits at `*pos` (no digits: 0, nothing consumed).
fn read_num(val: &[u8], pos: &mut usize, max: usize) -> (i64, usize) {
    let start = *pos;
    let mut n: i64 = 0;
    while *pos < val.len() && *pos - start < max {
        match val.get(*pos) {
            Some(b) if b.is_ascii_digit() => {
                n = n * 10 + i64::from(b - b'0');
                *pos += 1;
            }
            _ => break,
        }
    }
    (n, *pos - start)
}

/// Reads an alphabetic word and finds it in `names` (case-insensitive,
/// a prefix of at least three letters matching one name is enough).
fn read_name(val: &[u8], pos: &mut usize, names: &[&str]) -> Option<i64> {
    let start = *pos;
    while val.get(*pos).is_some_and(u8::is_ascii_alphabetic) {
        *pos += 1;
    }
    let word = std::str::from_utf8(val.get(start..*pos)?).ok()?;
    if word.is_empty() {
        return None;
    }
    let exact = names.iter().position(|n| n.eq_ignore_ascii_case(word));
    let found = exact.or_else(|| {
        let hits: Vec<usize> = names
            .iter()
            .enumerate()
            .filter(|(_, n)| word.len() >= 3 && n.get(..word.len()).is_some_and(|p| p.eq_ignore_ascii_case(word)))
            .map(|(i, _)| i)
            .collect();
        match hits.as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    })?;
    i64::try_from(found).ok()
}

/// MySQL's `extract_date_time`: fills `p` from `val` per `fmt`; `false` on
/// a mismatch. `*pos` is left after the last consumed byte.
fn extract_fields(val: &[u8], pos: &mut usize, fmt: &[u8], p: &mut Parsed, depth: u8) -> bool {
    let abbrev_months: Vec<&str> = MONTH_NAMES.iter().map(|n| n.get(..3).unwrap_or(n)).collect();
    let abbrev_days: Vec<&str> = DAY_NAMES.iter().map(|n| n.get(..3).unwrap_or(n)).collect();
    let mut fi = 0;
    while fi < fmt.len() {
        while val.get(*pos).is_some_and(u8::is_ascii_whitespace) {
            *pos += 1;
        }
        if *pos >= val.len() {
            break;
        }
        let Some(&fc) = fmt.get(fi) else {
            break;
        };
        if fc == b'%' && fi + 1 < fmt.len() {
            fi += 1;
            let Some(&spec) = fmt.get(fi) else {
                break;
            };
            match spec {
                b'Y' => {
                    let (y, n) = read_num(val, pos, 4);
                    p.year = if n <= 2 { y + if y < 70 { 2000 } else { 1900 } } else { y };
                }
                b'y' => {
                    let (y, _) = read_num(val, pos, 2);
                    p.year = y + if y < 70 { 2000 } else { 1900 };
                }
                b'm' | b'c' => p.month = read_num(val, pos, 2).0,
                b'M' => match read_name(val, pos, &MONTH_NAMES) {
                    Some(i) => p.month = i + 1,
                    None => return false,
                },
                b'b' => match read_name(val, pos, &abbrev_months) {
                    Some(i) => p.month = i + 1,
                    None => return false,
                },
                b'd' | b'e' => p.day = read_num(val, pos, 2).0,
                b'D' => {
                    p.day = read_num(val, pos, 2).0;
                    *pos = (*pos + 2).min(val.len());
                }
                b'h' | b'I' | b'l' => {
                    p.usa_time = true;
                    p.hour = read_num(val, pos, 2).0;
                }
                b'H' | b'k' => p.hour = read_num(val, pos, 2).0,
                b'i' => p.minute = read_num(val, pos, 2).0,
                b's' | b'S' => p.second = read_num(val, pos, 2).0,
                b'f' => {
                    let (f, n) = read_num(val, pos, 6);
                    let scale = 10i64.pow(u32::try_from(6 - n.min(6)).unwrap_or(0));
                    p.micros = f * scale;
                }
                b'p' => {
                    let word = val.get(*pos..*pos + 2).map(|w| w.to_ascii_uppercase());
                    match word.as_deref() {
                        Some(b"AM") if p.usa_time => p.daypart = 0,
                        Some(b"PM") if p.usa_time => p.daypart = 12,
                        _ => return false,
                    }
                    *pos += 2;
                }
                b'W' => {
                    if read_name(val, pos, &DAY_NAMES).is_none() {
                        return false;
                    }
                }
                b'a' => {
                    if read_name(val, pos, &abbrev_days).is_none() {
                        return false;
                    }
                }
                b'w' => {
                    read_num(val, pos, 1);
                }
                b'j' => p.yearday = read_num(val, pos, 3).0,
                b'T' if depth == 0 => {
                    if !extract_fields(val, pos, b"%H:%i:%S", p, depth + 1) {
                        return false;
                    }
                }
                b'r' if depth == 0 => {
                    if !extract_fields(val, pos, b"%I:%i:%S %p", p, depth + 1) {
                        return false;
                    }
                }
                b'.' => {
                    while val.get(*pos).is_some_and(u8::is_ascii_punctuation) {
                        *pos += 1;
                    }
                }
                b'@' => {
                    while val.get(*pos).is_some_and(u8::is_ascii_alphabetic) {
                        *pos += 1;
                    }
                }
                b'#' => {
                    while val.get(*pos).is_some_and(u8::is_ascii_digit) {
                        *pos += 1;
                    }
                }
                b'%' => {
                    if val.get(*pos) != Some(&b'%') {
                        return false;
                    }
                    *pos += 1;
                }
                // Week-based fields (%U %u %V %v %X %x) are not supported.
                _ => return false,
            }
        } else if !fc.is_ascii_whitespace() {
            if val.get(*pos) != Some(&fc) {
                return false;
            }
            *pos += 1;
        }
        fi += 1;
    }
    true
}

/// STR_TO_DATE(s, format): a DATETIME, or a DATE (`as_date`).
pub(super) fn str_to_date(s: &Value, fmt: &Value, as_date: bool, ctx: &mut FuncCtx<'_>) -> Value {
    if s.is_null() || fmt.is_null() {
        return Value::Null;
    }
    let text = convert::text(s);
    let val = text.as_bytes();
    let mut p = Parsed::default();
    let mut pos = 0;
    let ok = extract_fields(val, &mut pos, convert::text(fmt).as_bytes(), &mut p, 0);
    let result = if ok { build_datetime(&p) } else { None };
    let Some(dt) = result else {
        // MySQL raises ER_WRONG_VALUE_FOR_TYPE (1411), missing from the error
        // table; ER_TRUNCATED_WRONG_VALUE is the closest.
        let ty = if as_date { "date" } else { "datetime" };
        ctx.warn(ErrorCode::TruncatedWrongValue, format!("Incorrect {ty} value: '{text}' for function str_to_date"));
        return Value::Null;
    };
    if val.get(pos..).is_some_and(|rest| rest.iter().any(|b| !b.is_ascii_whitespace())) {
        let ty = if as_date { "date" } else { "datetime" };
        convert::warn_truncated(ctx, ty, &text);
    }
    if as_date {
        Value::Date(dt.date())
    } else {
        Value::DateTime(dt)
    }
}

fn build_datetime(p: &Parsed) -> Option<DateTime> {
    let (mut year, mut month, mut day) = (p.year, p.month, p.day);
    if p.yearday > 0 {
        let y = i32::try_from(year).ok()?;
        let d = Date::from_day_number(days_from_civil(y, 1, 1) + p.yearday - 1)?;
        let (y2, m2, d2) = d.ymd();
        if i64::from(y2) != year {
            return None;
        }
        (year, month, day) = (i64::from(y2), i64::from(m2), i64::from(d2));
    }
    let mut hour = p.hour;
    if p.usa_time {
        if !(1..=12).contains(&hour) {
            return None;
        }
        hour = hour % 12 + p.daypart;
    }
    if hour > 23 || p.minute > 59 || p.second > 59 {
        return None;
    }
    let date = Date::from_ymd(i32::try_from(year).ok()?, u32::try_from(month).ok()?, u32::try_from(day).ok()?)?;
    let micros = ((hour * 60 + p.minute) * 60 + p.second) * 1_000_000 + p.micros;
    Some(DateTime::from_parts(date, micros))
}

/// The fractional digits a TIME built from a value of type `t` keeps:
/// temporal types their own, decimals their scale, integers none, doubles
/// six. Strings give 0: a TIME(0) result shows the digits a value has.
fn fsp_of(t: SqlType) -> u8 {
    match t {
        SqlType::Time(f) | SqlType::DateTime(f) | SqlType::Timestamp(f) => f,
        SqlType::Decimal { scale, .. } => scale.min(6),
        SqlType::Double | SqlType::Float => 6,
        _ => 0,
    }
}

/// The number of fractional digits written in temporal text (at most 6):
/// the precision MySQL gives a constant string argument.
pub(super) fn written_fraction_digits(s: &str) -> u8 {
    match s.trim().rsplit_once('.') {
        Some((_, f)) => f.bytes().take_while(u8::is_ascii_digit).count().min(6) as u8,
        None => 0,
    }
}

/// Result types of the TIME functions.
pub(super) fn time_return_type(f: ScalarFunc, args: &[SqlType]) -> SqlType {
    let first = args.first().copied().unwrap_or(SqlType::Null);
    let second = args.get(1).copied().unwrap_or(SqlType::Null);
    match f {
        ScalarFunc::Time => SqlType::Time(fsp_of(first)),
        ScalarFunc::CurTime | ScalarFunc::UtcTime => SqlType::Time(if args.is_empty() { 0 } else { 6 }),
        ScalarFunc::TimeDiff => SqlType::Time(fsp_of(first).max(fsp_of(second))),
        ScalarFunc::AddTime | ScalarFunc::SubTime => {
            let fsp = fsp_of(first).max(fsp_of(second));
            match first {
                SqlType::DateTime(_) | SqlType::Timestamp(_) | SqlType::Date => SqlType::DateTime(fsp),
                SqlType::Time(_) => SqlType::Time(fsp),
                _ => SqlType::Varchar(29),
            }
        }
        ScalarFunc::TimeToSec => SqlType::BIGINT,
        ScalarFunc::SecToTime => SqlType::Time(fsp_of(first)),
        ScalarFunc::MakeTime => SqlType::Time(fsp_of(args.get(2).copied().unwrap_or(SqlType::Null))),
        // TIME_FORMAT.
        _ => SqlType::LONGTEXT,
    }
}

/// A TIME result out of range: the nearest end of the range, with MySQL's
/// warning 1292.
fn clamp_time(us: i128, ctx: &mut FuncCtx<'_>) -> Value {
    match Time::checked(us) {
        Ok(t) => Value::Time(t),
        Err(e) => {
            let t = match e {
                TimeError::OutOfRange(t) => t,
                TimeError::Invalid => Time::MAX,
            };
            let sign = if us < 0 { "-" } else { "" };
            let mag = us.unsigned_abs();
            let secs = mag / 1_000_000;
            let text = format!("{sign}{}:{:02}:{:02}", secs / 3600, (secs / 60) % 60, secs % 60);
            convert::warn_truncated(ctx, "time", &text);
            Value::Time(t)
        }
    }
}

/// TIME(x).
pub(super) fn time_of(v: &Value, ctx: &mut FuncCtx<'_>) -> Value {
    convert::time(v, ctx).map_or(Value::Null, Value::Time)
}

/// CURTIME([fsp]) and UTC_TIME([fsp]): the time of day of the statement
/// time `at` (local or UTC).
pub(super) fn cur_time(fsp: Option<&Value>, at: DateTime, ctx: &mut FuncCtx<'_>) -> Result<Value, FuncError> {
    match now(fsp, at, ctx)? {
        Value::DateTime(dt) => Ok(Value::Time(Time::of_datetime(dt))),
        other => Ok(other),
    }
}

/// How TIMEDIFF/ADDTIME read an argument: as a TIME or as a DATETIME.
enum Temporal {
    Time(Time),
    DateTime(DateTime),
}

/// True when text reads as a date-time rather than a time.
fn text_is_datetime(s: &str) -> bool {
    let b = s.trim().as_bytes();
    let lead = b.iter().take_while(|c| c.is_ascii_digit()).count();
    (lead >= 12 && b[lead..].iter().all(|c| *c == b'.' || c.is_ascii_digit()))
        || b.get(lead).is_some_and(|c| *c == b'-' || *c == b'/')
}

fn temporal(v: &Value, ctx: &mut FuncCtx<'_>) -> Option<Temporal> {
    match v {
        Value::Null => None,
        Value::Time(t) => Some(Temporal::Time(*t)),
        Value::DateTime(d) => Some(Temporal::DateTime(*d)),
        Value::Date(d) => Some(Temporal::DateTime(d.at_midnight())),
        Value::Text(_) | Value::Bytes(_) if text_is_datetime(&convert::text(v)) => {
            convert::datetime(v, ctx).map(Temporal::DateTime)
        }
        _ => convert::time(v, ctx).map(Temporal::Time),
    }
}

/// TIMEDIFF(a, b): both TIMEs or both DATETIMEs, else NULL.
pub(super) fn time_diff(a: &Value, b: &Value, ctx: &mut FuncCtx<'_>) -> Value {
    let (Some(x), Some(y)) = (temporal(a, ctx), temporal(b, ctx)) else {
        return Value::Null;
    };
    let us = match (x, y) {
        (Temporal::Time(x), Temporal::Time(y)) => i128::from(x.micros()) - i128::from(y.micros()),
        (Temporal::DateTime(x), Temporal::DateTime(y)) => i128::from(x.unix_micros()) - i128::from(y.unix_micros()),
        _ => return Value::Null,
    };
    clamp_time(us, ctx)
}

/// ADDTIME(a, t) and SUBTIME(a, t) (`negate`): a DATETIME or TIME plus a TIME.
pub(super) fn add_time(a: &Value, b: &Value, negate: bool, ctx: &mut FuncCtx<'_>) -> Value {
    if a.is_null() || b.is_null() {
        return Value::Null;
    }
    // The second argument is always a TIME; a date-time there gives NULL.
    if matches!(b, Value::DateTime(_) | Value::Date(_)) {
        return Value::Null;
    }
    let Some(t) = convert::time(b, ctx) else {
        return Value::Null;
    };
    let delta = if negate { -i128::from(t.micros()) } else { i128::from(t.micros()) };
    // Only a TIME or DATETIME first argument gives a temporal value; any
    // other (text, numbers) gives text, as the return type promises.
    let as_text = !matches!(a, Value::Time(_) | Value::DateTime(_) | Value::Date(_));
    match temporal(a, ctx) {
        None => Value::Null,
        Some(Temporal::Time(x)) => {
            let r = clamp_time(i128::from(x.micros()) + delta, ctx);
            if as_text {
                Value::text(&r.to_text_lossy())
            } else {
                r
            }
        }
        Some(Temporal::DateTime(x)) => {
            let r = i64::try_from(i128::from(x.unix_micros()) + delta).ok().and_then(DateTime::from_unix_micros);
            match r {
                None => overflow(ctx),
                Some(r) if as_text => Value::text(&r.to_string()),
                Some(r) => Value::DateTime(r),
            }
        }
    }
}

/// TIME_TO_SEC(t): whole seconds (the fraction is dropped), signed.
pub(super) fn time_to_sec(v: &Value, ctx: &mut FuncCtx<'_>) -> Value {
    match convert::time(v, ctx) {
        Some(t) => Value::Int(t.micros() / 1_000_000),
        None => Value::Null,
    }
}

/// SEC_TO_TIME(n): seconds (with a fraction) as a TIME, clamped to the range.
pub(super) fn sec_to_time(v: &Value, ctx: &mut FuncCtx<'_>) -> Value {
    let Some(d) = convert::decimal(v, ctx) else {
        return Value::Null;
    };
    let us =
        d.rescale(6).map_or_else(|| if d.signum() < 0 { i128::MIN / 2 } else { i128::MAX / 2 }, saturated_mantissa);
    clamp_time(us, ctx)
}

/// MAKETIME(h, m, s): NULL unless 0 <= m < 60 and 0 <= s < 60.
pub(super) fn make_time(h: &Value, m: &Value, s: &Value, ctx: &mut FuncCtx<'_>) -> Value {
    if h.is_null() || m.is_null() || s.is_null() {
        return Value::Null;
    }
    let (Some(h), Some(m), Some(s)) = (convert::int(h, ctx), convert::int(m, ctx), convert::decimal(s, ctx)) else {
        return Value::Null;
    };
    let Some(s_us) = s.rescale(6).and_then(Decimal::mantissa_i128) else {
        return Value::Null;
    };
    if !(0..60).contains(&m) || !(0..60_000_000).contains(&s_us) {
        return Value::Null;
    }
    let mag = (i128::from(h).abs() * 3600 + i128::from(m) * 60) * 1_000_000 + s_us;
    clamp_time(if h < 0 { -mag } else { mag }, ctx)
}

/// TIME_FORMAT(t, format): only the hour, minute, second and microsecond
/// specifiers; `%H` and `%k` show hours above 23; a date specifier gives NULL.
pub(super) fn time_format(v: &Value, fmt: &Value, ctx: &mut FuncCtx<'_>) -> Value {
    use std::fmt::Write;
    if v.is_null() || fmt.is_null() {
        return Value::Null;
    }
    let Some(t) = convert::time(v, ctx) else {
        return Value::Null;
    };
    let (h, mi, s, us) = t.hms();
    let h12 = if h % 12 == 0 { 12 } else { h % 12 };
    let ampm = if h % 24 < 12 { "AM" } else { "PM" };
    let fmt = convert::text(fmt);
    let mut out = String::with_capacity(fmt.len() + 8);
    if t.is_negative() {
        out.push('-');
    }
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(spec) = chars.next() else {
            out.push('%');
            break;
        };
        // Writing to a String cannot fail.
        let _ = match spec {
            'f' => write!(out, "{us:06}"),
            'H' => write!(out, "{h:02}"),
            'k' => write!(out, "{h}"),
            'h' | 'I' => write!(out, "{h12:02}"),
            'l' => write!(out, "{h12}"),
            'i' => write!(out, "{mi:02}"),
            'p' => write!(out, "{ampm}"),
            'r' => write!(out, "{h12:02}:{mi:02}:{s:02} {ampm}"),
            'S' | 's' => write!(out, "{s:02}"),
            'T' => write!(out, "{h:02}:{mi:02}:{s:02}"),
            'a' | 'b' | 'c' | 'D' | 'd' | 'e' | 'j' | 'M' | 'm' | 'U' | 'u' | 'V' | 'v' | 'W' | 'w' | 'X' | 'x'
            | 'Y' | 'y' => return Value::Null,
            other => write!(out, "{other}"),
        };
    }
    Value::text(&out)
}
