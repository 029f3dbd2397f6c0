//! SQL types of columns and expressions.
//!
//! Invariants:
//! 1. Every [`SqlType`] maps to exactly one runtime [`ValueKind`]; a value
//!    stored in a column of that type has that kind (or is NULL).
//! 2. Text lengths count characters (UTF-8 code points), binary lengths bytes.

use std::fmt;

use crate::decimal::{MAX_PRECISION, MAX_SCALE};
use crate::members::Members;

/// The width of an integer type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IntWidth {
    /// TINYINT, 1 byte.
    Tiny,
    /// SMALLINT, 2 bytes.
    Small,
    /// MEDIUMINT, 3 bytes.
    Medium,
    /// INT / INTEGER, 4 bytes.
    Int,
    /// BIGINT, 8 bytes.
    Big,
}

impl IntWidth {
    /// The inclusive range of the signed type.
    pub fn signed_range(self) -> (i64, i64) {
        match self {
            IntWidth::Tiny => (-128, 127),
            IntWidth::Small => (-32768, 32767),
            IntWidth::Medium => (-8388608, 8388607),
            IntWidth::Int => (i32::MIN as i64, i32::MAX as i64),
            IntWidth::Big => (i64::MIN, i64::MAX),
        }
    }

    /// The largest value of the unsigned type.
    pub fn unsigned_max(self) -> u64 {
        match self {
            IntWidth::Tiny => 255,
            IntWidth::Small => 65535,
            IntWidth::Medium => 16777215,
            IntWidth::Int => u32::MAX as u64,
            IntWidth::Big => u64::MAX,
        }
    }

    fn name(self) -> &'static str {
        match self {
            IntWidth::Tiny => "tinyint",
            IntWidth::Small => "smallint",
            IntWidth::Medium => "mediumint",
            IntWidth::Int => "int",
            IntWidth::Big => "bigint",
        }
    }
}

/// A column or expression type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SqlType {
    /// The type of a bare NULL literal.
    Null,
    /// BOOLEAN / BOOL: TINYINT(1) holding 0 or 1 (any TINYINT value is accepted, as in MySQL).
    Bool,
    /// Integers.
    Int { width: IntWidth, unsigned: bool },
    /// FLOAT: single precision.
    Float,
    /// DOUBLE / REAL.
    Double,
    /// DECIMAL(precision, scale), exact.
    Decimal { precision: u8, scale: u8 },
    /// CHAR(n): fixed length in characters (stored without padding).
    Char(u32),
    /// VARCHAR(n).
    Varchar(u32),
    /// TEXT types, with the maximum length in bytes.
    Text(u32),
    /// BINARY(n).
    Binary(u32),
    /// VARBINARY(n).
    Varbinary(u32),
    /// BLOB types, with the maximum length in bytes.
    Blob(u32),
    /// DATE.
    Date,
    /// DATETIME(fsp).
    DateTime(u8),
    /// TIMESTAMP(fsp).
    Timestamp(u8),
    /// YEAR (MySQL's 1-byte year, 1901..=2155 or 0), held as `Value::Int`.
    Year,
    /// JSON, held as `Value::Json` (the binary document).
    Json,
    /// ENUM('a', ...): one member (or the empty error value ''), held as
    /// `Value::Text` of the member; stored as its 1-based index.
    Enum(Members),
    /// SET('a', ...): a subset of members, held as `Value::Text` of the
    /// members in definition order joined by commas; stored as a bit mask.
    Set(Members),
    /// TIME(fsp): a signed duration within ±838:59:59, held as `Value::Time`.
    Time(u8),
    /// BIT(n), 1..=64 bits, held as `Value::UInt`; shown as big-endian bytes.
    Bit(u8),
}

/// The runtime representation a type's values have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueKind {
    /// Only NULL.
    Null,
    /// `Value::Int`.
    Int,
    /// `Value::UInt`.
    UInt,
    /// `Value::Float`.
    Float,
    /// `Value::Double`.
    Double,
    /// `Value::Decimal`.
    Decimal,
    /// `Value::Text`.
    Text,
    /// `Value::Bytes`.
    Bytes,
    /// `Value::Date`.
    Date,
    /// `Value::DateTime`.
    DateTime,
    /// `Value::Json`.
    Json,
    /// `Value::Time`.
    Time,
}

impl SqlType {
    /// BIGINT (signed).
    pub const BIGINT: SqlType = SqlType::Int { width: IntWidth::Big, unsigned: false };
    /// BIGINT UNSIGNED.
    pub const UBIGINT: SqlType = SqlType::Int { width: IntWidth::Big, unsigned: true };
    /// INT (signed).
    pub const INT: SqlType = SqlType::Int { width: IntWidth::Int, unsigned: false };
    /// LONGTEXT: the type of computed strings.
    pub const LONGTEXT: SqlType = SqlType::Text(u32::MAX);
    /// LONGBLOB: the type of computed byte strings.
    pub const LONGBLOB: SqlType = SqlType::Blob(u32::MAX);

    /// The runtime kind of this type's values.
    pub fn kind(self) -> ValueKind {
        match self {
            SqlType::Null => ValueKind::Null,
            SqlType::Bool => ValueKind::Int,
            SqlType::Int { unsigned: false, .. } => ValueKind::Int,
            SqlType::Int { unsigned: true, .. } => ValueKind::UInt,
            SqlType::Float => ValueKind::Float,
            SqlType::Double => ValueKind::Double,
            SqlType::Decimal { .. } => ValueKind::Decimal,
            SqlType::Char(_) | SqlType::Varchar(_) | SqlType::Text(_) => ValueKind::Text,
            SqlType::Binary(_) | SqlType::Varbinary(_) | SqlType::Blob(_) => ValueKind::Bytes,
            SqlType::Date => ValueKind::Date,
            SqlType::DateTime(_) | SqlType::Timestamp(_) => ValueKind::DateTime,
            SqlType::Year => ValueKind::Int,
            SqlType::Json => ValueKind::Json,
            SqlType::Enum(_) | SqlType::Set(_) => ValueKind::Text,
            SqlType::Time(_) => ValueKind::Time,
            SqlType::Bit(_) => ValueKind::UInt,
        }
    }

    /// True for integer, decimal and floating types.
    pub fn is_numeric(self) -> bool {
        matches!(self, SqlType::Bool | SqlType::Int { .. } | SqlType::Float | SqlType::Double | SqlType::Decimal { .. })
    }

    /// True for integer types (including BOOLEAN).
    pub fn is_integer(self) -> bool {
        matches!(self, SqlType::Bool | SqlType::Int { .. })
    }

    /// True for character types.
    pub fn is_text(self) -> bool {
        self.kind() == ValueKind::Text
    }

    /// True for DATE, DATETIME, TIMESTAMP and TIME.
    pub fn is_temporal(self) -> bool {
        matches!(self, SqlType::Date | SqlType::DateTime(_) | SqlType::Timestamp(_) | SqlType::Time(_))
    }

    /// The fractional-seconds precision of a temporal type (0 for others).
    pub fn fsp(self) -> u8 {
        match self {
            SqlType::DateTime(f) | SqlType::Timestamp(f) | SqlType::Time(f) => f,
            _ => 0,
        }
    }

    /// The number of bytes a BIT(n) value is shown and sent as.
    pub fn bit_bytes(n: u8) -> usize {
        usize::from(n).div_ceil(8).max(1)
    }

    /// The maximum length in characters (text) or bytes (binary), if bounded.
    pub fn max_len(self) -> Option<u32> {
        match self {
            SqlType::Char(n) | SqlType::Varchar(n) | SqlType::Binary(n) | SqlType::Varbinary(n) => Some(n),
            SqlType::Text(n) | SqlType::Blob(n) if n != u32::MAX => Some(n),
            _ => None,
        }
    }

    /// The member list of an ENUM or SET type.
    pub fn members(self) -> Option<Members> {
        match self {
            SqlType::Enum(m) | SqlType::Set(m) => Some(m),
            _ => None,
        }
    }

    /// The longest value of a SET type in characters (every member and the
    /// commas between them).
    pub fn set_chars(self) -> u32 {
        match self {
            SqlType::Set(m) => {
                let sum: u32 = m.names().iter().map(|n| n.chars().count() as u32).sum();
                sum.saturating_add(m.len().saturating_sub(1) as u32)
            }
            _ => 0,
        }
    }

    /// Validates a DECIMAL(p, s) declaration.
    pub fn decimal(precision: u64, scale: u64) -> Result<SqlType, crate::TypeError> {
        let clip = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
        if precision > MAX_PRECISION as u64 || precision == 0 {
            return Err(crate::TypeError::TooBigPrecision { precision: clip(precision), max: MAX_PRECISION });
        }
        if scale > MAX_SCALE as u64 {
            return Err(crate::TypeError::TooBigScale { scale: clip(scale), max: MAX_SCALE as u32 });
        }
        if scale > precision {
            return Err(crate::TypeError::ScaleBiggerThanPrecision);
        }
        Ok(SqlType::Decimal { precision: precision as u8, scale: scale as u8 })
    }

    /// Display length MySQL reports for the type in result metadata.
    pub fn display_len(self) -> u32 {
        match self {
            SqlType::Null => 0,
            SqlType::Bool => 1,
            SqlType::Int { width, .. } => match width {
                IntWidth::Tiny => 4,
                IntWidth::Small => 6,
                IntWidth::Medium => 9,
                IntWidth::Int => 11,
                IntWidth::Big => 20,
            },
            SqlType::Float => 12,
            SqlType::Double => 22,
            SqlType::Decimal { precision, scale } => precision as u32 + 1 + u32::from(scale > 0),
            SqlType::Char(n) | SqlType::Varchar(n) => n.saturating_mul(4),
            SqlType::Text(n) | SqlType::Blob(n) => n,
            SqlType::Binary(n) | SqlType::Varbinary(n) => n,
            SqlType::Date => 10,
            SqlType::DateTime(f) | SqlType::Timestamp(f) => 19 + if f > 0 { f as u32 + 1 } else { 0 },
            SqlType::Year => 4,
            SqlType::Json => u32::MAX,
            SqlType::Enum(m) => m.max_chars().saturating_mul(4),
            SqlType::Set(_) => self.set_chars().saturating_mul(4),
            SqlType::Time(f) => 10 + if f > 0 { f as u32 + 1 } else { 0 },
            SqlType::Bit(n) => n as u32,
        }
    }
}

impl fmt::Display for SqlType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SqlType::Null => f.write_str("null"),
            SqlType::Bool => f.write_str("tinyint(1)"),
            SqlType::Int { width, unsigned } => {
                f.write_str(width.name())?;
                if unsigned {
                    f.write_str(" unsigned")?;
                }
                Ok(())
            }
            SqlType::Float => f.write_str("float"),
            SqlType::Double => f.write_str("double"),
            SqlType::Decimal { precision, scale } => write!(f, "decimal({precision},{scale})"),
            SqlType::Char(n) => write!(f, "char({n})"),
            SqlType::Varchar(n) => write!(f, "varchar({n})"),
            SqlType::Text(n) => f.write_str(match n {
                0..=255 => "tinytext",
                256..=65535 => "text",
                65536..=16777215 => "mediumtext",
                _ => "longtext",
            }),
            SqlType::Binary(n) => write!(f, "binary({n})"),
            SqlType::Varbinary(n) => write!(f, "varbinary({n})"),
            SqlType::Blob(n) => f.write_str(match n {
                0..=255 => "tinyblob",
                256..=65535 => "blob",
                65536..=16777215 => "mediumblob",
                _ => "longblob",
            }),
            SqlType::Date => f.write_str("date"),
            SqlType::DateTime(0) => f.write_str("datetime"),
            SqlType::DateTime(p) => write!(f, "datetime({p})"),
            SqlType::Timestamp(0) => f.write_str("timestamp"),
            SqlType::Timestamp(p) => write!(f, "timestamp({p})"),
            SqlType::Year => f.write_str("year"),
            SqlType::Json => f.write_str("json"),
            SqlType::Enum(m) => {
                f.write_str("enum(")?;
                m.write_sql(f)?;
                f.write_str(")")
            }
            SqlType::Set(m) => {
                f.write_str("set(")?;
                m.write_sql(f)?;
                f.write_str(")")
            }
            SqlType::Time(0) => f.write_str("time"),
            SqlType::Time(p) => write!(f, "time({p})"),
            SqlType::Bit(n) => write!(f, "bit({n})"),
        }
    }
}
