//! The scalar function library: name lookup, argument counts, result types
//! and evaluation of MySQL's built-in functions.
//!
//! Invariants:
//! 1. `eval` returns a value whose kind matches `return_type` (or NULL).
//!    Where a result kind depends on the arguments, it is decided from their
//!    [`ValueKind`]s only, which types and values share (see
//!    `convert::NumClass`). One known gap: CONCAT_WS and ELT skip NULL
//!    arguments, so when the only binary-typed argument is NULL they return
//!    text where `return_type` said binary (a NULL hides its type from `eval`).
//! 2. No function panics on any input; bad input gives NULL with a warning
//!    (as MySQL does in queries) or a [`FuncError`].
//! 3. Time and randomness come from [`FuncCtx`], never from the system.
//! 4. `eval` checks the argument count against `arity` before reading any
//!    argument, and reads arguments only through `args.get`.
//!
//! Submodules: `convert` (argument conversions and their warnings), `math`,
//! `string`, `datetime`, `encoding` (HEX, CONV, base64), `digest` (MD5,
//! SHA1, CRC32), `misc` (UUID, ISNULL) and `json` (the JSON functions).
//!
//! Not here: control-flow functions that must not evaluate every argument
//! (`IF`, `IFNULL`, `COALESCE`, `NULLIF`, `CASE`), which the binder and the
//! evaluator handle; functions that read session state (`DATABASE`, `USER`,
//! `LAST_INSERT_ID`, `ROW_COUNT`, `FOUND_ROWS`, `CONNECTION_ID`,
//! `VERSION`); and special syntax (`INTERVAL`, `POSITION`, `TIMESTAMPDIFF`,
//! `TRIM(... FROM ...)`, `CHAR(... USING ...)`), for which this module only
//! offers helpers such as [`add_interval`].

mod convert;
mod datetime;
mod digest;
mod encoding;
pub(crate) mod json;
mod math;
mod misc;
mod string;
#[cfg(test)]
mod tests;

use mizzle_types::{DateTime, ErrorCode, SqlError, SqlType, TimeZone, TypeError, Value, Warning};

pub use datetime::{add_interval, add_interval_ctx, add_interval_with_warnings, interval_return_type, IntervalUnit};

/// What a function may use besides its arguments.
pub struct FuncCtx<'a> {
    /// The statement's start time (UTC); `NOW()` is constant in a statement.
    pub now: DateTime,
    /// The session's time zone: `NOW()`, `CURDATE()`, `FROM_UNIXTIME` and
    /// `UNIX_TIMESTAMP(x)` work in it.
    pub tz: &'a TimeZone,
    /// Warnings raised during evaluation.
    pub warnings: &'a mut Vec<Warning>,
    /// State of the session's random generator (splitmix64).
    pub rand_state: &'a mut u64,
}

impl FuncCtx<'_> {
    /// The statement's start time in the session's time zone.
    pub(crate) fn local_now(&self) -> DateTime {
        self.tz.from_utc(self.now).unwrap_or(self.now)
    }

    /// Records a warning for the statement.
    pub(crate) fn warn(&mut self, code: ErrorCode, message: String) {
        self.warnings.push(Warning::new(code, message));
    }

    /// The next number of the session's splitmix64 sequence.
    pub(crate) fn next_random(&mut self) -> u64 {
        *self.rand_state = self.rand_state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        splitmix64_mix(*self.rand_state)
    }
}

/// The output function of splitmix64.
pub(crate) fn splitmix64_mix(state: u64) -> u64 {
    let mut z = state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Errors a function call can raise.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FuncError {
    /// A value-level failure (range, conversion). User error.
    #[error(transparent)]
    Type(#[from] TypeError),
    /// Arguments that make no sense for the function. User error.
    #[error("Incorrect arguments to {0}")]
    WrongArguments(&'static str),
    /// A call with fewer or more arguments than [`ScalarFunc::arity`] allows.
    /// User error (the binder normally rejects these first).
    #[error("Incorrect parameter count in the call to native function '{0}'")]
    WrongParamCount(&'static str),
}

impl SqlError for FuncError {
    fn code(&self) -> ErrorCode {
        match self {
            FuncError::Type(e) => e.code(),
            FuncError::WrongArguments(_) => ErrorCode::WrongArguments,
            FuncError::WrongParamCount(_) => ErrorCode::WrongParamCount,
        }
    }
}

/// Declares [`ScalarFunc`] with its canonical name, the names [`lookup`]
/// accepts (lower case) and its argument counts, all in one table.
macro_rules! scalar_functions {
    ($( $(#[$doc:meta])* $var:ident = $name:literal [$($alias:literal),*] ($min:expr, $max:expr); )*) => {
        /// A built-in scalar function.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ScalarFunc {
            $( $(#[$doc])* $var, )*
        }

        impl ScalarFunc {
            /// Every function, for table-driven tests and listings.
            pub const ALL: &'static [ScalarFunc] = &[$( ScalarFunc::$var, )*];

            /// The canonical upper-case name.
            pub fn name(self) -> &'static str {
                match self {
                    $( ScalarFunc::$var => $name, )*
                }
            }

            /// Minimum and maximum (None = unbounded) argument counts.
            pub fn arity(self) -> (usize, Option<usize>) {
                match self {
                    $( ScalarFunc::$var => ($min, $max), )*
                }
            }
        }

        /// Finds a function by its SQL name (case-insensitive, aliases included).
        pub fn lookup(name: &str) -> Option<ScalarFunc> {
            $(
                let names: &[&str] = &[$($alias),*];
                if names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                    return Some(ScalarFunc::$var);
                }
            )*
            None
        }
    };
}

scalar_functions! {
    // ---- math ----
    /// ABS(x)
    Abs = "ABS" ["abs"] (1, Some(1));
    /// SIGN(x): -1, 0 or 1.
    Sign = "SIGN" ["sign"] (1, Some(1));
    /// CEIL(x), CEILING(x)
    Ceil = "CEILING" ["ceil", "ceiling"] (1, Some(1));
    /// FLOOR(x)
    Floor = "FLOOR" ["floor"] (1, Some(1));
    /// ROUND(x[, d]): half away from zero for exact values, half even for doubles.
    Round = "ROUND" ["round"] (1, Some(2));
    /// TRUNCATE(x, d)
    Truncate = "TRUNCATE" ["truncate"] (2, Some(2));
    /// MOD(a, b)
    Mod = "MOD" ["mod"] (2, Some(2));
    /// POW(x, y), POWER(x, y)
    Pow = "POW" ["pow", "power"] (2, Some(2));
    /// SQRT(x)
    Sqrt = "SQRT" ["sqrt"] (1, Some(1));
    /// EXP(x)
    Exp = "EXP" ["exp"] (1, Some(1));
    /// LN(x)
    Ln = "LN" ["ln"] (1, Some(1));
    /// LOG(x) or LOG(base, x)
    Log = "LOG" ["log"] (1, Some(2));
    /// LOG2(x)
    Log2 = "LOG2" ["log2"] (1, Some(1));
    /// LOG10(x)
    Log10 = "LOG10" ["log10"] (1, Some(1));
    /// PI()
    Pi = "PI" ["pi"] (0, Some(0));
    /// SIN(x)
    Sin = "SIN" ["sin"] (1, Some(1));
    /// COS(x)
    Cos = "COS" ["cos"] (1, Some(1));
    /// TAN(x)
    Tan = "TAN" ["tan"] (1, Some(1));
    /// ASIN(x)
    Asin = "ASIN" ["asin"] (1, Some(1));
    /// ACOS(x)
    Acos = "ACOS" ["acos"] (1, Some(1));
    /// ATAN(x) or ATAN(y, x)
    Atan = "ATAN" ["atan"] (1, Some(2));
    /// ATAN2(y, x)
    Atan2 = "ATAN2" ["atan2"] (2, Some(2));
    /// COT(x)
    Cot = "COT" ["cot"] (1, Some(1));
    /// DEGREES(x)
    Degrees = "DEGREES" ["degrees"] (1, Some(1));
    /// RADIANS(x)
    Radians = "RADIANS" ["radians"] (1, Some(1));
    /// RAND([seed])
    Rand = "RAND" ["rand"] (0, Some(1));
    /// GREATEST(a, b, ...)
    Greatest = "GREATEST" ["greatest"] (2, None);
    /// LEAST(a, b, ...)
    Least = "LEAST" ["least"] (2, None);
    /// FORMAT(x, d[, locale]): '1,234.57'.
    Format = "FORMAT" ["format"] (2, Some(3));
    // ---- encodings and digests ----
    /// CRC32(s)
    Crc32 = "CRC32" ["crc32"] (1, Some(1));
    /// CONV(n, from_base, to_base)
    Conv = "CONV" ["conv"] (3, Some(3));
    /// BIN(n)
    Bin = "BIN" ["bin"] (1, Some(1));
    /// OCT(n)
    Oct = "OCT" ["oct"] (1, Some(1));
    /// HEX(n or s)
    Hex = "HEX" ["hex"] (1, Some(1));
    /// UNHEX(s): a binary string.
    Unhex = "UNHEX" ["unhex"] (1, Some(1));
    /// MD5(s): 32 hex digits.
    Md5 = "MD5" ["md5"] (1, Some(1));
    /// SHA1(s), SHA(s): 40 hex digits.
    Sha1 = "SHA1" ["sha1", "sha"] (1, Some(1));
    /// TO_BASE64(s)
    ToBase64 = "TO_BASE64" ["to_base64"] (1, Some(1));
    /// FROM_BASE64(s): a binary string.
    FromBase64 = "FROM_BASE64" ["from_base64"] (1, Some(1));
    // ---- strings ----
    /// LENGTH(s), OCTET_LENGTH(s): bytes.
    Length = "LENGTH" ["length", "octet_length"] (1, Some(1));
    /// CHAR_LENGTH(s), CHARACTER_LENGTH(s): characters.
    CharLength = "CHAR_LENGTH" ["char_length", "character_length"] (1, Some(1));
    /// BIT_LENGTH(s)
    BitLength = "BIT_LENGTH" ["bit_length"] (1, Some(1));
    /// CONCAT(s, ...): NULL if any argument is.
    Concat = "CONCAT" ["concat"] (1, None);
    /// CONCAT_WS(sep, s, ...): NULL arguments skipped.
    ConcatWs = "CONCAT_WS" ["concat_ws"] (2, None);
    /// UPPER(s), UCASE(s)
    Upper = "UPPER" ["upper", "ucase"] (1, Some(1));
    /// LOWER(s), LCASE(s)
    Lower = "LOWER" ["lower", "lcase"] (1, Some(1));
    /// SUBSTRING(s, pos[, len]), SUBSTR, MID
    Substring = "SUBSTRING" ["substring", "substr", "mid"] (2, Some(3));
    /// LEFT(s, n)
    Left = "LEFT" ["left"] (2, Some(2));
    /// RIGHT(s, n)
    Right = "RIGHT" ["right"] (2, Some(2));
    /// TRIM(s): leading and trailing spaces.
    Trim = "TRIM" ["trim"] (1, Some(1));
    /// LTRIM(s)
    Ltrim = "LTRIM" ["ltrim"] (1, Some(1));
    /// RTRIM(s)
    Rtrim = "RTRIM" ["rtrim"] (1, Some(1));
    /// REPLACE(s, from, to)
    Replace = "REPLACE" ["replace"] (3, Some(3));
    /// REPEAT(s, n)
    Repeat = "REPEAT" ["repeat"] (2, Some(2));
    /// REVERSE(s)
    Reverse = "REVERSE" ["reverse"] (1, Some(1));
    /// LPAD(s, len, pad)
    Lpad = "LPAD" ["lpad"] (3, Some(3));
    /// RPAD(s, len, pad)
    Rpad = "RPAD" ["rpad"] (3, Some(3));
    /// INSTR(s, sub)
    Instr = "INSTR" ["instr"] (2, Some(2));
    /// LOCATE(sub, s[, pos])
    Locate = "LOCATE" ["locate"] (2, Some(3));
    /// ASCII(s): the first byte.
    Ascii = "ASCII" ["ascii"] (1, Some(1));
    /// ORD(s): the first character's bytes as a number.
    Ord = "ORD" ["ord"] (1, Some(1));
    /// CHAR(n, ...): a binary string.
    Char = "CHAR" ["char"] (1, None);
    /// SPACE(n)
    Space = "SPACE" ["space"] (1, Some(1));
    /// STRCMP(a, b)
    Strcmp = "STRCMP" ["strcmp"] (2, Some(2));
    /// FIELD(s, s1, s2, ...)
    Field = "FIELD" ["field"] (2, None);
    /// ELT(n, s1, s2, ...)
    Elt = "ELT" ["elt"] (2, None);
    /// FIND_IN_SET(s, list)
    FindInSet = "FIND_IN_SET" ["find_in_set"] (2, Some(2));
    /// INSERT(s, pos, len, new)
    Insert = "INSERT" ["insert"] (4, Some(4));
    /// QUOTE(s)
    Quote = "QUOTE" ["quote"] (1, Some(1));
    /// SUBSTRING_INDEX(s, delim, count)
    SubstringIndex = "SUBSTRING_INDEX" ["substring_index"] (3, Some(3));
    // ---- dates and times ----
    /// NOW([fsp]), CURRENT_TIMESTAMP, LOCALTIME, LOCALTIMESTAMP
    Now = "NOW" ["now", "current_timestamp", "localtime", "localtimestamp"] (0, Some(1));
    /// SYSDATE([fsp]): the statement time here, like NOW.
    SysDate = "SYSDATE" ["sysdate"] (0, Some(1));
    /// UTC_TIMESTAMP([fsp])
    UtcTimestamp = "UTC_TIMESTAMP" ["utc_timestamp"] (0, Some(1));
    /// CURDATE(), CURRENT_DATE
    CurDate = "CURDATE" ["curdate", "current_date"] (0, Some(0));
    /// UTC_DATE()
    UtcDate = "UTC_DATE" ["utc_date"] (0, Some(0));
    /// UNIX_TIMESTAMP([x])
    UnixTimestamp = "UNIX_TIMESTAMP" ["unix_timestamp"] (0, Some(1));
    /// FROM_UNIXTIME(n[, format])
    FromUnixtime = "FROM_UNIXTIME" ["from_unixtime"] (1, Some(2));
    /// UNIX_TIMESTAMP(ts) of a TIMESTAMP column: the argument is the stored
    /// UTC value, not a session-local time (chosen by the binder).
    UnixTimestampUtc = "UNIX_TIMESTAMP" [] (1, Some(1));
    /// CONVERT_TZ(dt, from_tz, to_tz)
    ConvertTz = "CONVERT_TZ" ["convert_tz"] (3, Some(3));
    /// DATE(x)
    Date = "DATE" ["date"] (1, Some(1));
    /// YEAR(x)
    Year = "YEAR" ["year"] (1, Some(1));
    /// MONTH(x)
    Month = "MONTH" ["month"] (1, Some(1));
    /// DAY(x), DAYOFMONTH(x)
    Day = "DAYOFMONTH" ["day", "dayofmonth"] (1, Some(1));
    /// HOUR(x)
    Hour = "HOUR" ["hour"] (1, Some(1));
    /// MINUTE(x)
    Minute = "MINUTE" ["minute"] (1, Some(1));
    /// SECOND(x)
    Second = "SECOND" ["second"] (1, Some(1));
    /// MICROSECOND(x)
    Microsecond = "MICROSECOND" ["microsecond"] (1, Some(1));
    /// DAYOFWEEK(x): 1 = Sunday.
    DayOfWeek = "DAYOFWEEK" ["dayofweek"] (1, Some(1));
    /// WEEKDAY(x): 0 = Monday.
    Weekday = "WEEKDAY" ["weekday"] (1, Some(1));
    /// DAYOFYEAR(x)
    DayOfYear = "DAYOFYEAR" ["dayofyear"] (1, Some(1));
    /// DAYNAME(x)
    DayName = "DAYNAME" ["dayname"] (1, Some(1));
    /// MONTHNAME(x)
    MonthName = "MONTHNAME" ["monthname"] (1, Some(1));
    /// QUARTER(x)
    Quarter = "QUARTER" ["quarter"] (1, Some(1));
    /// WEEK(x[, mode])
    Week = "WEEK" ["week"] (1, Some(2));
    /// YEARWEEK(x[, mode])
    YearWeek = "YEARWEEK" ["yearweek"] (1, Some(2));
    /// WEEKOFYEAR(x): WEEK(x, 3).
    WeekOfYear = "WEEKOFYEAR" ["weekofyear"] (1, Some(1));
    /// LAST_DAY(x)
    LastDay = "LAST_DAY" ["last_day"] (1, Some(1));
    /// DATEDIFF(a, b): days.
    DateDiff = "DATEDIFF" ["datediff"] (2, Some(2));
    /// TIMESTAMPDIFF(unit, a, b) as the binder makes it: the unit's
    /// [`IntervalUnit::code`] first.
    TimestampDiff = "TIMESTAMPDIFF" ["timestampdiff"] (3, Some(3));
    /// ADDDATE(d, days), DATE_ADD(d, days) (the INTERVAL forms are the evaluator's)
    AddDate = "ADDDATE" ["adddate", "date_add"] (2, Some(2));
    /// SUBDATE(d, days), DATE_SUB(d, days)
    SubDate = "SUBDATE" ["subdate", "date_sub"] (2, Some(2));
    /// DATE_FORMAT(d, format)
    DateFormat = "DATE_FORMAT" ["date_format"] (2, Some(2));
    /// STR_TO_DATE(s, format), returning a DATETIME.
    StrToDate = "STR_TO_DATE" ["str_to_date"] (2, Some(2));
    /// STR_TO_DATE(s, format) with a constant format that has no time
    /// fields, returning a DATE; only [`ScalarFunc::specialize`] picks it.
    StrToDateAsDate = "STR_TO_DATE" [] (2, Some(2));
    /// MAKEDATE(year, dayofyear)
    MakeDate = "MAKEDATE" ["makedate"] (2, Some(2));
    /// TO_DAYS(d)
    ToDays = "TO_DAYS" ["to_days"] (1, Some(1));
    /// FROM_DAYS(n)
    FromDays = "FROM_DAYS" ["from_days"] (1, Some(1));
    // ---- TIME ----
    /// TIME(x): the TIME part of x.
    Time = "TIME" ["time"] (1, Some(1));
    /// CURTIME([fsp]), CURRENT_TIME: the statement time of day.
    CurTime = "CURTIME" ["curtime", "current_time"] (0, Some(1));
    /// UTC_TIME([fsp])
    UtcTime = "UTC_TIME" ["utc_time"] (0, Some(1));
    /// TIMEDIFF(a, b): a - b as a TIME.
    TimeDiff = "TIMEDIFF" ["timediff"] (2, Some(2));
    /// ADDTIME(a, t)
    AddTime = "ADDTIME" ["addtime"] (2, Some(2));
    /// SUBTIME(a, t)
    SubTime = "SUBTIME" ["subtime"] (2, Some(2));
    /// TIME_TO_SEC(t)
    TimeToSec = "TIME_TO_SEC" ["time_to_sec"] (1, Some(1));
    /// SEC_TO_TIME(n)
    SecToTime = "SEC_TO_TIME" ["sec_to_time"] (1, Some(1));
    /// MAKETIME(h, m, s)
    MakeTime = "MAKETIME" ["maketime"] (3, Some(3));
    /// TIME_FORMAT(t, format)
    TimeFormat = "TIME_FORMAT" ["time_format"] (2, Some(2));
    /// BIT_COUNT(n): the number of set bits.
    BitCount = "BIT_COUNT" ["bit_count"] (1, Some(1));
    // ---- miscellaneous ----
    /// UUID(): random, version-4 layout.
    Uuid = "UUID" ["uuid"] (0, Some(0));
    /// ISNULL(x): 1 or 0.
    IsNull = "ISNULL" ["isnull"] (1, Some(1));
    // ---- JSON (func::json) ----
    /// JSON_EXTRACT(doc, path, ...); also `doc->path`.
    JsonExtract = "JSON_EXTRACT" ["json_extract"] (2, None);
    /// JSON_UNQUOTE(s); `doc->>path` is JSON_UNQUOTE(JSON_EXTRACT(...)).
    JsonUnquote = "JSON_UNQUOTE" ["json_unquote"] (1, Some(1));
    /// JSON_QUOTE(s)
    JsonQuote = "JSON_QUOTE" ["json_quote"] (1, Some(1));
    /// JSON_OBJECT(k, v, ...)
    JsonObject = "JSON_OBJECT" ["json_object"] (0, None);
    /// JSON_ARRAY(v, ...)
    JsonArray = "JSON_ARRAY" ["json_array"] (0, None);
    /// JSON_CONTAINS(target, candidate[, path])
    JsonContains = "JSON_CONTAINS" ["json_contains"] (2, Some(3));
    /// JSON_CONTAINS_PATH(doc, 'one'|'all', path, ...)
    JsonContainsPath = "JSON_CONTAINS_PATH" ["json_contains_path"] (3, None);
    /// JSON_SET(doc, path, val, ...)
    JsonSet = "JSON_SET" ["json_set"] (3, None);
    /// JSON_INSERT(doc, path, val, ...)
    JsonInsert = "JSON_INSERT" ["json_insert"] (3, None);
    /// JSON_REPLACE(doc, path, val, ...)
    JsonReplace = "JSON_REPLACE" ["json_replace"] (3, None);
    /// JSON_REMOVE(doc, path, ...)
    JsonRemove = "JSON_REMOVE" ["json_remove"] (2, None);
    /// JSON_ARRAY_APPEND(doc, path, val, ...)
    JsonArrayAppend = "JSON_ARRAY_APPEND" ["json_array_append", "json_append"] (3, None);
    /// JSON_ARRAY_INSERT(doc, path, val, ...)
    JsonArrayInsert = "JSON_ARRAY_INSERT" ["json_array_insert"] (3, None);
    /// JSON_MERGE_PATCH(doc, doc, ...)
    JsonMergePatch = "JSON_MERGE_PATCH" ["json_merge_patch"] (2, None);
    /// JSON_MERGE_PRESERVE(doc, doc, ...), JSON_MERGE
    JsonMergePreserve = "JSON_MERGE_PRESERVE" ["json_merge_preserve", "json_merge"] (2, None);
    /// JSON_KEYS(doc[, path])
    JsonKeys = "JSON_KEYS" ["json_keys"] (1, Some(2));
    /// JSON_LENGTH(doc[, path])
    JsonLength = "JSON_LENGTH" ["json_length"] (1, Some(2));
    /// JSON_DEPTH(doc)
    JsonDepth = "JSON_DEPTH" ["json_depth"] (1, Some(1));
    /// JSON_TYPE(doc)
    JsonType = "JSON_TYPE" ["json_type"] (1, Some(1));
    /// JSON_VALID(v)
    JsonValid = "JSON_VALID" ["json_valid"] (1, Some(1));
    /// JSON_SEARCH(doc, 'one'|'all', pattern[, escape[, path, ...]])
    JsonSearch = "JSON_SEARCH" ["json_search"] (3, None);
    /// JSON_PRETTY(doc)
    JsonPretty = "JSON_PRETTY" ["json_pretty"] (1, Some(1));
    /// JSON_OVERLAPS(a, b)
    JsonOverlaps = "JSON_OVERLAPS" ["json_overlaps"] (2, Some(2));
    /// `v MEMBER OF (array)`; only the binder builds it.
    JsonMemberOf = "MEMBER OF" [] (2, Some(2));
}

/// NULL, for arguments past the end (which `eval`'s arity check rules out).
static NULL: Value = Value::Null;

impl ScalarFunc {
    /// True for the JSON functions, whose text results are utf8mb4_bin as
    /// in MySQL 8 (a JSON document's text is binary whatever collation
    /// its source had).
    pub fn is_json(self) -> bool {
        use ScalarFunc as F;
        matches!(
            self,
            F::JsonExtract
                | F::JsonUnquote
                | F::JsonQuote
                | F::JsonObject
                | F::JsonArray
                | F::JsonContains
                | F::JsonContainsPath
                | F::JsonSet
                | F::JsonInsert
                | F::JsonReplace
                | F::JsonRemove
                | F::JsonArrayAppend
                | F::JsonArrayInsert
                | F::JsonMergePatch
                | F::JsonMergePreserve
                | F::JsonKeys
                | F::JsonLength
                | F::JsonDepth
                | F::JsonType
                | F::JsonValid
                | F::JsonSearch
                | F::JsonPretty
                | F::JsonOverlaps
                | F::JsonMemberOf
        )
    }

    /// True when the result depends only on the arguments.
    pub fn is_deterministic(self) -> bool {
        !matches!(
            self,
            ScalarFunc::Rand
                | ScalarFunc::Now
                | ScalarFunc::SysDate
                | ScalarFunc::UtcTimestamp
                | ScalarFunc::CurTime
                | ScalarFunc::UtcTime
                | ScalarFunc::CurDate
                | ScalarFunc::UtcDate
                | ScalarFunc::UnixTimestamp
                | ScalarFunc::FromUnixtime
                | ScalarFunc::Uuid
        )
    }

    /// A variant with a more precise result type, chosen from the arguments
    /// known at bind time (`constants[i]` is `Some` for a constant argument).
    /// Optional: the unspecialized function is always correct, only less
    /// MySQL-like in its result type. Today only `STR_TO_DATE` with a
    /// date-only format becomes [`ScalarFunc::StrToDateAsDate`].
    pub fn specialize(self, constants: &[Option<&Value>]) -> ScalarFunc {
        match (self, constants.get(1).copied().flatten()) {
            (ScalarFunc::StrToDate, Some(fmt)) if !fmt.is_null() => {
                if datetime::format_is_date_only(&convert::text(fmt)) {
                    ScalarFunc::StrToDateAsDate
                } else {
                    self
                }
            }
            _ => self,
        }
    }

    /// The result type when some arguments are constants: `NOW(3)`,
    /// `CURTIME(2)` ... have exactly the constant's fractional digits, as in
    /// MySQL; otherwise [`ScalarFunc::return_type`].
    pub fn return_type_with_constants(self, args: &[SqlType], constants: &[Option<&Value>]) -> SqlType {
        let ty = self.return_type(args);
        let fsp = match constants.first().copied().flatten() {
            Some(Value::Int(n)) => u8::try_from(*n).ok().filter(|n| *n <= 6),
            Some(Value::UInt(n)) => u8::try_from(*n).ok().filter(|n| *n <= 6),
            _ => None,
        };
        match (self, fsp, ty) {
            (ScalarFunc::Now | ScalarFunc::SysDate | ScalarFunc::UtcTimestamp, Some(f), SqlType::DateTime(_)) => {
                SqlType::DateTime(f)
            }
            (ScalarFunc::CurTime | ScalarFunc::UtcTime, Some(f), SqlType::Time(_)) => SqlType::Time(f),
            // TIME('...') of a constant string keeps the digits it was written with.
            (ScalarFunc::Time, _, SqlType::Time(_)) => match constants.first().copied().flatten() {
                Some(Value::Text(s)) => SqlType::Time(datetime::written_fraction_digits(s)),
                _ => ty,
            },
            // So does CONVERT_TZ('...', ...), as MySQL's precision of a constant.
            (ScalarFunc::ConvertTz, _, SqlType::DateTime(_)) => match constants.first().copied().flatten() {
                Some(Value::Text(s)) => SqlType::DateTime(datetime::written_fraction_digits(s)),
                _ => ty,
            },
            _ => ty,
        }
    }

    /// The result type for the given argument types.
    pub fn return_type(self, args: &[SqlType]) -> SqlType {
        use ScalarFunc as F;
        match self {
            F::Abs | F::Ceil | F::Floor | F::Round | F::Truncate | F::Mod | F::Greatest | F::Least => {
                math::return_type(self, args)
            }
            F::Sign => SqlType::INT,
            F::Pow
            | F::Sqrt
            | F::Exp
            | F::Ln
            | F::Log
            | F::Log2
            | F::Log10
            | F::Pi
            | F::Sin
            | F::Cos
            | F::Tan
            | F::Asin
            | F::Acos
            | F::Atan
            | F::Atan2
            | F::Cot
            | F::Degrees
            | F::Radians
            | F::Rand => SqlType::Double,
            F::Format => SqlType::LONGTEXT,
            F::Crc32 => SqlType::Int { width: mizzle_types::IntWidth::Int, unsigned: true },
            F::Conv | F::Bin | F::Oct | F::Hex | F::ToBase64 => SqlType::LONGTEXT,
            F::Md5 => SqlType::Varchar(32),
            F::Sha1 => SqlType::Varchar(40),
            F::Unhex | F::FromBase64 | F::Char => SqlType::LONGBLOB,
            F::Length
            | F::CharLength
            | F::BitLength
            | F::Instr
            | F::Locate
            | F::Ascii
            | F::Ord
            | F::Strcmp
            | F::Field
            | F::FindInSet => SqlType::BIGINT,
            F::Concat
            | F::ConcatWs
            | F::Upper
            | F::Lower
            | F::Substring
            | F::Left
            | F::Right
            | F::Trim
            | F::Ltrim
            | F::Rtrim
            | F::Replace
            | F::Repeat
            | F::Reverse
            | F::Lpad
            | F::Rpad
            | F::Space
            | F::Elt
            | F::Insert
            | F::Quote
            | F::SubstringIndex => string::return_type(self, args),
            F::Time
            | F::CurTime
            | F::UtcTime
            | F::TimeDiff
            | F::AddTime
            | F::SubTime
            | F::TimeToSec
            | F::SecToTime
            | F::MakeTime
            | F::TimeFormat => datetime::time_return_type(self, args),
            F::BitCount => SqlType::BIGINT,
            F::Now
            | F::SysDate
            | F::UtcTimestamp
            | F::CurDate
            | F::UtcDate
            | F::UnixTimestamp
            | F::UnixTimestampUtc
            | F::FromUnixtime
            | F::ConvertTz
            | F::Date
            | F::Year
            | F::Month
            | F::Day
            | F::Hour
            | F::Minute
            | F::Second
            | F::Microsecond
            | F::DayOfWeek
            | F::Weekday
            | F::DayOfYear
            | F::DayName
            | F::MonthName
            | F::Quarter
            | F::Week
            | F::YearWeek
            | F::WeekOfYear
            | F::LastDay
            | F::DateDiff
            | F::TimestampDiff
            | F::AddDate
            | F::SubDate
            | F::DateFormat
            | F::StrToDate
            | F::StrToDateAsDate
            | F::MakeDate
            | F::ToDays
            | F::FromDays => datetime::return_type(self, args),
            F::Uuid => SqlType::Varchar(36),
            F::IsNull => SqlType::INT,
            F::JsonExtract
            | F::JsonUnquote
            | F::JsonQuote
            | F::JsonObject
            | F::JsonArray
            | F::JsonContains
            | F::JsonContainsPath
            | F::JsonSet
            | F::JsonInsert
            | F::JsonReplace
            | F::JsonRemove
            | F::JsonArrayAppend
            | F::JsonArrayInsert
            | F::JsonMergePatch
            | F::JsonMergePreserve
            | F::JsonKeys
            | F::JsonLength
            | F::JsonDepth
            | F::JsonType
            | F::JsonValid
            | F::JsonSearch
            | F::JsonPretty
            | F::JsonOverlaps
            | F::JsonMemberOf => json::return_type(self),
        }
    }

    /// Evaluates the function.
    pub fn eval(self, args: &[Value], ctx: &mut FuncCtx<'_>) -> Result<Value, FuncError> {
        use ScalarFunc as F;
        let (min, max) = self.arity();
        if args.len() < min || max.is_some_and(|m| args.len() > m) {
            return Err(FuncError::WrongParamCount(self.name()));
        }
        // Needs invariant 4: arguments past the end read as NULL.
        let a = |i: usize| args.get(i).unwrap_or(&NULL);
        match self {
            F::Abs => math::abs(a(0), ctx),
            F::Sign => Ok(math::sign(a(0), ctx)),
            F::Ceil => math::ceil_floor(a(0), true, ctx),
            F::Floor => math::ceil_floor(a(0), false, ctx),
            F::Round => math::round(a(0), args.get(1), false, ctx),
            F::Truncate => math::round(a(0), args.get(1), true, ctx),
            F::Mod => math::modulo(a(0), a(1), ctx),
            F::Pow => math::pow(a(0), a(1), ctx),
            F::Sqrt => Ok(math::unary(a(0), ctx, |x| (x >= 0.0).then(|| x.sqrt()))),
            F::Exp => math::exp(a(0), ctx),
            F::Ln => Ok(math::log(None, a(0), ctx, f64::ln)),
            F::Log => Ok(match args.get(1) {
                Some(x) => math::log(Some(a(0)), x, ctx, f64::ln),
                None => math::log(None, a(0), ctx, f64::ln),
            }),
            F::Log2 => Ok(math::log(None, a(0), ctx, f64::log2)),
            F::Log10 => Ok(math::log(None, a(0), ctx, f64::log10)),
            F::Pi => Ok(Value::Double(std::f64::consts::PI)),
            F::Sin => Ok(math::unary(a(0), ctx, |x| Some(x.sin()))),
            F::Cos => Ok(math::unary(a(0), ctx, |x| Some(x.cos()))),
            F::Tan => Ok(math::unary(a(0), ctx, |x| Some(x.tan()))),
            F::Asin => Ok(math::unary(a(0), ctx, |x| (-1.0..=1.0).contains(&x).then(|| x.asin()))),
            F::Acos => Ok(math::unary(a(0), ctx, |x| (-1.0..=1.0).contains(&x).then(|| x.acos()))),
            F::Atan => Ok(match args.get(1) {
                Some(x) => math::atan2(a(0), x, ctx),
                None => math::unary(a(0), ctx, |x| Some(x.atan())),
            }),
            F::Atan2 => Ok(math::atan2(a(0), a(1), ctx)),
            F::Cot => math::cot(a(0), ctx),
            F::Degrees => Ok(math::unary(a(0), ctx, |x| Some(x.to_degrees()))),
            F::Radians => Ok(math::unary(a(0), ctx, |x| Some(x.to_radians()))),
            F::Rand => Ok(math::rand(args.first(), ctx)),
            F::Greatest => Ok(math::greatest_least(args, true, ctx)),
            F::Least => Ok(math::greatest_least(args, false, ctx)),
            F::Format => Ok(math::format(a(0), a(1), ctx)),
            F::Crc32 => Ok(digest::crc32_value(a(0))),
            F::Conv => Ok(encoding::conv(a(0), a(1), a(2), ctx)),
            F::Bin => Ok(encoding::conv_fixed(a(0), 2)),
            F::Oct => Ok(encoding::conv_fixed(a(0), 8)),
            F::Hex => Ok(encoding::hex(a(0))),
            F::Unhex => Ok(encoding::unhex(a(0))),
            F::Md5 => Ok(digest::md5_value(a(0))),
            F::Sha1 => Ok(digest::sha1_value(a(0))),
            F::ToBase64 => Ok(encoding::to_base64(a(0))),
            F::FromBase64 => Ok(encoding::from_base64(a(0))),
            F::Length => Ok(string::length(a(0), 1)),
            F::BitLength => Ok(string::length(a(0), 8)),
            F::CharLength => Ok(string::char_length(a(0))),
            F::Concat => Ok(string::concat(args)),
            F::ConcatWs => Ok(string::concat_ws(args)),
            F::Upper => Ok(string::change_case(a(0), true)),
            F::Lower => Ok(string::change_case(a(0), false)),
            F::Substring => Ok(string::substring(a(0), a(1), args.get(2), ctx)),
            F::Left => Ok(string::left_right(a(0), a(1), true, ctx)),
            F::Right => Ok(string::left_right(a(0), a(1), false, ctx)),
            F::Trim => Ok(string::trim(a(0), true, true)),
            F::Ltrim => Ok(string::trim(a(0), true, false)),
            F::Rtrim => Ok(string::trim(a(0), false, true)),
            F::Replace => Ok(string::replace(a(0), a(1), a(2))),
            F::Repeat => Ok(string::repeat(a(0), a(1), ctx)),
            F::Reverse => Ok(string::reverse(a(0))),
            F::Lpad => Ok(string::pad(a(0), a(1), a(2), true, ctx)),
            F::Rpad => Ok(string::pad(a(0), a(1), a(2), false, ctx)),
            F::Instr => Ok(string::locate(a(1), a(0), None, ctx)),
            F::Locate => Ok(string::locate(a(0), a(1), args.get(2), ctx)),
            F::Ascii => Ok(string::ascii(a(0))),
            F::Ord => Ok(string::ord(a(0))),
            F::Char => Ok(string::char_fn(args, ctx)),
            F::Space => Ok(string::space(a(0), ctx)),
            F::Strcmp => Ok(string::strcmp(a(0), a(1))),
            F::Field => Ok(string::field(args, ctx)),
            F::Elt => Ok(string::elt(args, ctx)),
            F::FindInSet => Ok(string::find_in_set(a(0), a(1))),
            F::Insert => Ok(string::insert(a(0), a(1), a(2), a(3), ctx)),
            F::Quote => Ok(string::quote(a(0))),
            F::SubstringIndex => Ok(string::substring_index(a(0), a(1), a(2), ctx)),
            F::Now | F::SysDate => datetime::now(args.first(), ctx.local_now(), ctx),
            F::UtcTimestamp => datetime::now(args.first(), ctx.now, ctx),
            F::CurDate => Ok(Value::Date(ctx.local_now().date())),
            F::UtcDate => Ok(Value::Date(ctx.now.date())),
            F::UnixTimestamp => Ok(datetime::unix_timestamp(args.first(), false, ctx)),
            F::UnixTimestampUtc => Ok(datetime::unix_timestamp(args.first(), true, ctx)),
            F::FromUnixtime => Ok(datetime::from_unixtime(a(0), args.get(1), ctx)),
            F::ConvertTz => Ok(datetime::convert_tz(a(0), a(1), a(2), ctx)),
            F::Date => Ok(datetime::date(a(0), ctx)),
            F::Year
            | F::Month
            | F::Day
            | F::Hour
            | F::Minute
            | F::Second
            | F::Microsecond
            | F::DayOfWeek
            | F::Weekday
            | F::DayOfYear
            | F::Quarter
            | F::WeekOfYear
            | F::ToDays => Ok(datetime::extract(self, a(0), ctx)),
            F::DayName | F::MonthName => Ok(datetime::name_of(self, a(0), ctx)),
            F::Week => Ok(datetime::week(a(0), args.get(1), false, ctx)),
            F::YearWeek => Ok(datetime::week(a(0), args.get(1), true, ctx)),
            F::LastDay => Ok(datetime::last_day(a(0), ctx)),
            F::DateDiff => Ok(datetime::date_diff(a(0), a(1), ctx)),
            F::TimestampDiff => Ok(datetime::timestamp_diff(a(0), a(1), a(2), ctx)),
            F::AddDate => datetime::add_days(a(0), a(1), false, ctx),
            F::SubDate => datetime::add_days(a(0), a(1), true, ctx),
            F::DateFormat => Ok(datetime::date_format(a(0), a(1), ctx)),
            F::StrToDate => Ok(datetime::str_to_date(a(0), a(1), false, ctx)),
            F::StrToDateAsDate => Ok(datetime::str_to_date(a(0), a(1), true, ctx)),
            F::MakeDate => Ok(datetime::make_date(a(0), a(1), ctx)),
            F::FromDays => Ok(datetime::from_days(a(0), ctx)),
            F::Time => Ok(datetime::time_of(a(0), ctx)),
            F::CurTime => datetime::cur_time(args.first(), ctx.local_now(), ctx),
            F::UtcTime => datetime::cur_time(args.first(), ctx.now, ctx),
            F::TimeDiff => Ok(datetime::time_diff(a(0), a(1), ctx)),
            F::AddTime => Ok(datetime::add_time(a(0), a(1), false, ctx)),
            F::SubTime => Ok(datetime::add_time(a(0), a(1), true, ctx)),
            F::TimeToSec => Ok(datetime::time_to_sec(a(0), ctx)),
            F::SecToTime => Ok(datetime::sec_to_time(a(0), ctx)),
            F::MakeTime => Ok(datetime::make_time(a(0), a(1), a(2), ctx)),
            F::TimeFormat => Ok(datetime::time_format(a(0), a(1), ctx)),
            F::BitCount => Ok(match convert::num(a(0), ctx) {
                None => Value::Null,
                Some(convert::Num::Int(i)) => Value::Int(i64::from(i.count_ones())),
                Some(convert::Num::UInt(u)) => Value::Int(i64::from(u.count_ones())),
                Some(n) => Value::Int(i64::from(
                    n.to_decimal()
                        .map_or(0, |d| d.round_i128().clamp(i128::from(i64::MIN), i128::from(u64::MAX)) as u64)
                        .count_ones(),
                )),
            }),
            F::Uuid => Ok(misc::uuid(ctx)),
            F::IsNull => Ok(Value::bool(a(0).is_null())),
            F::JsonExtract
            | F::JsonUnquote
            | F::JsonQuote
            | F::JsonObject
            | F::JsonArray
            | F::JsonContains
            | F::JsonContainsPath
            | F::JsonSet
            | F::JsonInsert
            | F::JsonReplace
            | F::JsonRemove
            | F::JsonArrayAppend
            | F::JsonArrayInsert
            | F::JsonMergePatch
            | F::JsonMergePreserve
            | F::JsonKeys
            | F::JsonLength
            | F::JsonDepth
            | F::JsonType
            | F::JsonValid
            | F::JsonSearch
            | F::JsonPretty
            | F::JsonOverlaps
            | F::JsonMemberOf => json::eval(self, args),
        }
    }
}
