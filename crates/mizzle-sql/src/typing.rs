//! Type rules: SQL type names to [`SqlType`], and MySQL's aggregation of
//! several types into one (CASE branches, UNION columns, IFNULL, ...).
//!
//! Invariants:
//! 1. [`unify`] is commutative and `unify(t, Null) == t`.

use mizzle_types::decimal::MAX_PRECISION;
use mizzle_types::{Collation, IntWidth, Members, SqlType};
use sqlparser::ast::{CharacterLength, DataType, ExactNumberInfo};

use crate::error::BindError;

fn int(width: IntWidth, unsigned: bool) -> SqlType {
    SqlType::Int { width, unsigned }
}

fn char_len(l: &Option<CharacterLength>, default: u32) -> u32 {
    match l {
        Some(CharacterLength::IntegerLength { length, .. }) => (*length).min(u32::MAX as u64) as u32,
        Some(CharacterLength::Max) => 65535,
        None => default,
    }
}

/// Converts a column type from the AST.
pub(crate) fn sql_type(dt: &DataType) -> Result<SqlType, BindError> {
    use DataType as D;
    Ok(match dt {
        D::Bool | D::Boolean => SqlType::Bool,
        D::TinyInt(Some(1)) => SqlType::Bool,
        D::TinyInt(_) => int(IntWidth::Tiny, false),
        D::TinyIntUnsigned(_) | D::UTinyInt => int(IntWidth::Tiny, true),
        D::SmallInt(_) | D::Int2(_) => int(IntWidth::Small, false),
        D::SmallIntUnsigned(_) | D::USmallInt | D::Int2Unsigned(_) => int(IntWidth::Small, true),
        D::MediumInt(_) => int(IntWidth::Medium, false),
        D::MediumIntUnsigned(_) => int(IntWidth::Medium, true),
        D::Int(_) | D::Integer(_) | D::Int4(_) | D::Int32 => int(IntWidth::Int, false),
        D::IntUnsigned(_) | D::IntegerUnsigned(_) | D::Int4Unsigned(_) | D::UInt32 => int(IntWidth::Int, true),
        D::BigInt(_) | D::Int8(_) | D::Int64 => int(IntWidth::Big, false),
        D::BigIntUnsigned(_) | D::UBigInt | D::Int8Unsigned(_) | D::UInt64 => int(IntWidth::Big, true),
        D::Signed | D::SignedInteger => SqlType::BIGINT,
        D::Unsigned | D::UnsignedInteger => SqlType::UBIGINT,
        D::Float(info) | D::FloatUnsigned(info) => match info {
            ExactNumberInfo::Precision(p) | ExactNumberInfo::PrecisionAndScale(p, _) if *p > 24 => SqlType::Double,
            _ => SqlType::Float,
        },
        D::Float4 | D::Float32 => SqlType::Float,
        D::Real
        | D::RealUnsigned
        | D::Float8
        | D::Float64
        | D::Double(_)
        | D::DoubleUnsigned(_)
        | D::DoublePrecision
        | D::DoublePrecisionUnsigned => SqlType::Double,
        D::Decimal(info) | D::DecimalUnsigned(info) | D::Numeric(info) | D::Dec(info) | D::DecUnsigned(info) => {
            let (p, s) = match info {
                ExactNumberInfo::None => (10, 0),
                ExactNumberInfo::Precision(p) => (*p, 0),
                ExactNumberInfo::PrecisionAndScale(p, s) => (*p, (*s).max(0) as u64),
            };
            SqlType::decimal(p, s)?
        }
        D::Char(l) | D::Character(l) => SqlType::Char(char_len(l, 1)),
        D::Varchar(l) | D::CharacterVarying(l) | D::CharVarying(l) | D::Nvarchar(l) => {
            SqlType::Varchar(char_len(l, 255))
        }
        D::String(l) => SqlType::Varchar(l.map(|x| x.min(u32::MAX as u64) as u32).unwrap_or(255)),
        D::TinyText => SqlType::Text(255),
        D::Text => SqlType::Text(65535),
        D::MediumText => SqlType::Text(16_777_215),
        D::LongText | D::Clob(_) | D::CharacterLargeObject(_) | D::CharLargeObject(_) => SqlType::LONGTEXT,
        D::Binary(l) => SqlType::Binary(l.map(|x| x.min(255) as u32).unwrap_or(1)),
        D::Varbinary(l) => SqlType::Varbinary(match l {
            Some(sqlparser::ast::BinaryLength::IntegerLength { length }) => (*length).min(u32::MAX as u64) as u32,
            _ => 65535,
        }),
        D::TinyBlob => SqlType::Blob(255),
        D::Blob(_) | D::Bytea | D::Bytes(_) => SqlType::Blob(65535),
        D::MediumBlob => SqlType::Blob(16_777_215),
        D::LongBlob => SqlType::LONGBLOB,
        D::Date => SqlType::Date,
        D::Datetime(p) => SqlType::DateTime(fsp(*p)?),
        D::Timestamp(p, _) => SqlType::Timestamp(fsp(*p)?),
        D::Time(p, _) => SqlType::Time(fsp(*p)?),
        D::Bit(n) => match n {
            None => SqlType::Bit(1),
            Some(n @ 1..=64) => SqlType::Bit(*n as u8),
            Some(n) => return Err(BindError::TooBigDisplayWidth { column: String::new(), max: 64, got: *n }),
        },
        D::Collate(inner, _) => sql_type(inner)?,
        D::Zerofill(inner) => sql_type(inner)?,
        D::JSON => SqlType::Json,
        // Members are matched under the column's collation, set with it
        // (`mizzle_dictionary::with_member_collation`); the binder checks
        // the definition (`bind::ddl::check_members`).
        D::Enum(members, None) => {
            let mut names = Vec::with_capacity(members.len());
            for m in members {
                match m {
                    sqlparser::ast::EnumMember::Name(n) => names.push(n.as_str()),
                    sqlparser::ast::EnumMember::NamedValue(n, _) => {
                        return Err(BindError::NotSupported(format!("ENUM member {n} with a value")))
                    }
                }
            }
            SqlType::Enum(Members::intern(&names[..], Collation::LEGACY))
        }
        D::Set(members) => SqlType::Set(Members::intern(&members[..], Collation::LEGACY)),
        D::Custom(name, mods) if name.to_string().eq_ignore_ascii_case("year") => match mods.as_slice() {
            [] => SqlType::Year,
            [m] if m.to_string().trim() == "4" => SqlType::Year,
            _ => return Err(BindError::InvalidYearLength),
        },
        other => return Err(BindError::NotSupported(format!("data type {other}"))),
    })
}

fn fsp(p: Option<u64>) -> Result<u8, BindError> {
    match p {
        None => Ok(0),
        Some(p) if p <= 6 => Ok(p as u8),
        Some(p) => Err(BindError::WrongArguments(format!("fractional seconds precision {p}; the maximum is 6"))),
    }
}

/// The type `CAST(x AS dt)` produces.
pub(crate) fn cast_type(dt: &DataType) -> Result<SqlType, BindError> {
    use DataType as D;
    Ok(match dt {
        D::Char(l) | D::Character(l) | D::Varchar(l) | D::Nvarchar(l) => match l {
            Some(CharacterLength::IntegerLength { length, .. }) => {
                SqlType::Varchar((*length).min(u32::MAX as u64) as u32)
            }
            _ => SqlType::LONGTEXT,
        },
        D::Binary(l) => match l {
            Some(n) => SqlType::Varbinary((*n).min(u32::MAX as u64) as u32),
            None => SqlType::LONGBLOB,
        },
        D::Int(_) | D::Integer(_) | D::BigInt(_) | D::SmallInt(_) | D::TinyInt(_) | D::MediumInt(_) => SqlType::BIGINT,
        D::IntUnsigned(_) | D::IntegerUnsigned(_) | D::BigIntUnsigned(_) => SqlType::UBIGINT,
        D::Decimal(ExactNumberInfo::None) | D::Numeric(ExactNumberInfo::None) | D::Dec(ExactNumberInfo::None) => {
            SqlType::Decimal { precision: 10, scale: 0 }
        }
        other => sql_type(other)?,
    })
}

fn int_rank(t: SqlType) -> Option<(IntWidth, bool)> {
    match t {
        SqlType::Bool => Some((IntWidth::Tiny, false)),
        SqlType::Int { width, unsigned } => Some((width, unsigned)),
        _ => None,
    }
}

/// Digits before the point a type can hold.
fn int_digits(t: SqlType) -> u32 {
    match t {
        SqlType::Bool => 1,
        SqlType::Int { width, .. } => match width {
            IntWidth::Tiny => 3,
            IntWidth::Small => 5,
            IntWidth::Medium => 8,
            IntWidth::Int => 10,
            IntWidth::Big => 20,
        },
        SqlType::Decimal { precision, scale } => (precision - scale) as u32,
        _ => 20,
    }
}

fn scale_of(t: SqlType) -> u32 {
    match t {
        SqlType::Decimal { scale, .. } => scale as u32,
        _ => 0,
    }
}

/// A DECIMAL holding `int_digits` before and `scale` after the point.
pub fn decimal_of(int_digits: u32, scale: u32) -> SqlType {
    let scale = scale.min(30);
    let p = (int_digits + scale).clamp(1, MAX_PRECISION);
    SqlType::Decimal { precision: p as u8, scale: scale.min(p) as u8 }
}

/// MySQL's result type for values of types `a` and `b` in one column.
pub fn unify(a: SqlType, b: SqlType) -> SqlType {
    use SqlType as T;
    if a == b {
        return a;
    }
    match (a, b) {
        (T::Null, t) | (t, T::Null) => return t,
        _ => {}
    }
    if let (Some((wa, ua)), Some((wb, ub))) = (int_rank(a), int_rank(b)) {
        if ua == ub {
            return T::Int { width: wa.max(wb), unsigned: ua };
        }
        // Mixed signedness: a wider signed type, or DECIMAL for BIGINT.
        let w = wa.max(wb);
        return if w == IntWidth::Big { decimal_of(20, 0) } else { T::BIGINT };
    }
    let numeric = |t: T| t.is_numeric();
    if numeric(a) && numeric(b) {
        if matches!(a, T::Double | T::Float) || matches!(b, T::Double | T::Float) {
            return if a == T::Float && b == T::Float { T::Float } else { T::Double };
        }
        let s = scale_of(a).max(scale_of(b));
        let i = int_digits(a).max(int_digits(b));
        return decimal_of(i, s);
    }
    if a.is_temporal() && b.is_temporal() {
        return match (a, b) {
            (T::Date, T::Date) => T::Date,
            (T::Time(x), T::Time(y)) => T::Time(x.max(y)),
            (T::DateTime(x) | T::Timestamp(x), T::DateTime(y) | T::Timestamp(y)) => T::DateTime(x.max(y)),
            (T::DateTime(x) | T::Timestamp(x), _) | (_, T::DateTime(x) | T::Timestamp(x)) => T::DateTime(x),
            _ => T::DateTime(0),
        };
    }
    let binary = |t: T| matches!(t, T::Binary(_) | T::Varbinary(_) | T::Blob(_));
    let len = |t: T| -> u32 {
        match t {
            T::Char(n) | T::Varchar(n) | T::Binary(n) | T::Varbinary(n) => n,
            T::Text(n) | T::Blob(n) => n,
            other => other.display_len(),
        }
    };
    let n = len(a).max(len(b));
    if binary(a) || binary(b) {
        return if n > 65535 { T::LONGBLOB } else { T::Varbinary(n) };
    }
    if matches!(a, T::Text(_)) || matches!(b, T::Text(_)) || n > 65535 {
        return T::LONGTEXT;
    }
    T::Varchar(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unify_follows_mysql() {
        assert_eq!(unify(SqlType::INT, SqlType::Null), SqlType::INT);
        assert_eq!(unify(SqlType::INT, SqlType::BIGINT), SqlType::BIGINT);
        assert_eq!(unify(SqlType::INT, SqlType::Double), SqlType::Double);
        assert_eq!(
            unify(SqlType::INT, SqlType::Decimal { precision: 5, scale: 2 }),
            SqlType::Decimal { precision: 12, scale: 2 }
        );
        assert!(unify(SqlType::INT, SqlType::Varchar(3)).is_text());
        assert_eq!(unify(SqlType::Date, SqlType::DateTime(0)), SqlType::DateTime(0));
    }
}
