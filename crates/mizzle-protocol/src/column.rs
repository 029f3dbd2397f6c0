//! Column types (`enum_field_types`) and column definitions
//! (Protocol::ColumnDefinition41), and how mizzle's SQL types describe
//! themselves in result set metadata.
//!
//! Invariants:
//! 1. [`ColumnType`] names every type byte MySQL defines; any other byte is
//!    [`ProtocolError::UnknownColumnType`].
//! 2. A column definition always has catalog `def` and the 0x0C length of
//!    its fixed fields; names are sent as given (the server chooses aliases).
//! 3. [`ColumnDefinition::for_sql_type`] maps each `SqlType` to the type,
//!    flags, collation and display length MySQL 8 reports for it, so clients
//!    decode values with the right width and signedness.
//!
//! This module does not encode values; see `binary` and `response`.

use mizzle_types::{IntWidth, SqlType};

use crate::charset::Collation;
use crate::error::ProtocolError;
use crate::flags::ColumnFlags;
use crate::wire::{self, put_lenenc_bytes, put_lenenc_int, put_u16, put_u32, Reader};

macro_rules! column_types {
    ($( $(#[$doc:meta])* $name:ident = $value:expr, )*) => {
        /// A MySQL column type byte (`enum_field_types`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum ColumnType {
            $( $(#[$doc])* $name = $value, )*
        }

        impl ColumnType {
            /// The type for a type byte.
            pub fn from_u8(code: u8) -> Result<ColumnType, ProtocolError> {
                match code {
                    $( $value => Ok(ColumnType::$name), )*
                    _ => Err(ProtocolError::UnknownColumnType { code }),
                }
            }

            /// The type's name in `MYSQL_TYPE_*` form.
            pub fn name(self) -> &'static str {
                match self {
                    $( ColumnType::$name => stringify!($name), )*
                }
            }
        }
    };
}

column_types! {
    /// MYSQL_TYPE_DECIMAL (old decimal; sent as text).
    Decimal = 0,
    /// MYSQL_TYPE_TINY: 1-byte integer.
    Tiny = 1,
    /// MYSQL_TYPE_SHORT: 2-byte integer.
    Short = 2,
    /// MYSQL_TYPE_LONG: 4-byte integer.
    Long = 3,
    /// MYSQL_TYPE_FLOAT.
    Float = 4,
    /// MYSQL_TYPE_DOUBLE.
    Double = 5,
    /// MYSQL_TYPE_NULL.
    Null = 6,
    /// MYSQL_TYPE_TIMESTAMP.
    Timestamp = 7,
    /// MYSQL_TYPE_LONGLONG: 8-byte integer.
    LongLong = 8,
    /// MYSQL_TYPE_INT24: MEDIUMINT, sent in 4 bytes.
    Int24 = 9,
    /// MYSQL_TYPE_DATE.
    Date = 10,
    /// MYSQL_TYPE_TIME.
    Time = 11,
    /// MYSQL_TYPE_DATETIME.
    DateTime = 12,
    /// MYSQL_TYPE_YEAR: sent in 2 bytes.
    Year = 13,
    /// MYSQL_TYPE_NEWDATE (internal).
    NewDate = 14,
    /// MYSQL_TYPE_VARCHAR.
    Varchar = 15,
    /// MYSQL_TYPE_BIT.
    Bit = 16,
    /// MYSQL_TYPE_TIMESTAMP2 (internal).
    Timestamp2 = 17,
    /// MYSQL_TYPE_DATETIME2 (internal).
    DateTime2 = 18,
    /// MYSQL_TYPE_TIME2 (internal).
    Time2 = 19,
    /// MYSQL_TYPE_TYPED_ARRAY (replication only).
    TypedArray = 20,
    /// MYSQL_TYPE_VECTOR (MySQL 9).
    Vector = 242,
    /// MYSQL_TYPE_INVALID.
    Invalid = 243,
    /// MYSQL_TYPE_BOOL (placeholder in MySQL).
    Bool = 244,
    /// MYSQL_TYPE_JSON.
    Json = 245,
    /// MYSQL_TYPE_NEWDECIMAL: DECIMAL, sent as text.
    NewDecimal = 246,
    /// MYSQL_TYPE_ENUM.
    Enum = 247,
    /// MYSQL_TYPE_SET.
    Set = 248,
    /// MYSQL_TYPE_TINY_BLOB.
    TinyBlob = 249,
    /// MYSQL_TYPE_MEDIUM_BLOB.
    MediumBlob = 250,
    /// MYSQL_TYPE_LONG_BLOB.
    LongBlob = 251,
    /// MYSQL_TYPE_BLOB (also TEXT).
    Blob = 252,
    /// MYSQL_TYPE_VAR_STRING: VARCHAR and VARBINARY.
    VarString = 253,
    /// MYSQL_TYPE_STRING: CHAR and BINARY.
    String = 254,
    /// MYSQL_TYPE_GEOMETRY.
    Geometry = 255,
}

/// Protocol::ColumnDefinition41.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnDefinition {
    /// The schema of the table, or empty.
    pub schema: String,
    /// The table alias, or empty.
    pub table: String,
    /// The table's real name, or empty.
    pub org_table: String,
    /// The column alias (what clients show as the header).
    pub name: String,
    /// The column's real name, or empty.
    pub org_name: String,
    /// The collation of the values (`binary` for numbers and bytes).
    pub collation: Collation,
    /// The display length (for text: characters × 4).
    pub column_length: u32,
    /// The type.
    pub column_type: ColumnType,
    /// Flags (NOT NULL, UNSIGNED, BINARY, BLOB, keys...).
    pub flags: ColumnFlags,
    /// Fractional digits: the scale of DECIMAL, the fsp of DATETIME, 0x1F
    /// for strings and floating point without a declared scale.
    pub decimals: u8,
}

/// `decimals` for a column without a fixed scale.
pub const NOT_FIXED_DECIMALS: u8 = 0x1F;

impl ColumnDefinition {
    /// A definition of `name` with type `ty`, as MySQL 8 describes it
    /// (invariant 3). `text_collation` is the collation of character
    /// columns (the connection's, typically `utf8mb4_0900_ai_ci`).
    pub fn for_sql_type(name: &str, ty: SqlType, nullable: bool, text_collation: Collation) -> ColumnDefinition {
        let mut flags = ColumnFlags::empty();
        if !nullable {
            flags.insert(ColumnFlags::NOT_NULL);
        }
        let (column_type, collation, decimals) = match ty {
            SqlType::Null => (ColumnType::Null, Collation::BINARY, 0),
            SqlType::Bool => (ColumnType::Tiny, Collation::BINARY, 0),
            SqlType::Int { width, unsigned } => {
                if unsigned {
                    flags.insert(ColumnFlags::UNSIGNED);
                }
                let t = match width {
                    IntWidth::Tiny => ColumnType::Tiny,
                    IntWidth::Small => ColumnType::Short,
                    IntWidth::Medium => ColumnType::Int24,
                    IntWidth::Int => ColumnType::Long,
                    IntWidth::Big => ColumnType::LongLong,
                };
                (t, Collation::BINARY, 0)
            }
            SqlType::Float => (ColumnType::Float, Collation::BINARY, NOT_FIXED_DECIMALS),
            SqlType::Double => (ColumnType::Double, Collation::BINARY, NOT_FIXED_DECIMALS),
            SqlType::Decimal { scale, .. } => (ColumnType::NewDecimal, Collation::BINARY, scale),
            SqlType::Char(_) => (ColumnType::String, text_collation, 0),
            SqlType::Varchar(_) => (ColumnType::VarString, text_collation, 0),
            SqlType::Text(_) => {
                flags.insert(ColumnFlags::BLOB);
                (ColumnType::Blob, text_collation, 0)
            }
            SqlType::Binary(_) => {
                flags.insert(ColumnFlags::BINARY);
                (ColumnType::String, Collation::BINARY, 0)
            }
            SqlType::Varbinary(_) => {
                flags.insert(ColumnFlags::BINARY);
                (ColumnType::VarString, Collation::BINARY, 0)
            }
            SqlType::Blob(_) => {
                flags.insert(ColumnFlags::BINARY | ColumnFlags::BLOB);
                (ColumnType::Blob, Collation::BINARY, 0)
            }
            SqlType::Year => {
                flags.insert(ColumnFlags::UNSIGNED | ColumnFlags::ZEROFILL);
                (ColumnType::Year, Collation::BINARY, 0)
            }
            SqlType::Date => (ColumnType::Date, Collation::BINARY, 0),
            SqlType::DateTime(fsp) => (ColumnType::DateTime, Collation::BINARY, fsp),
            SqlType::Timestamp(fsp) => (ColumnType::Timestamp, Collation::BINARY, fsp),
            // MySQL sends JSON as text with the binary character set.
            SqlType::Json => {
                flags.insert(ColumnFlags::BINARY | ColumnFlags::BLOB);
                (ColumnType::Json, Collation::BINARY, 0)
            }
            // MySQL sends ENUM and SET columns as MYSQL_TYPE_STRING with
            // ENUM_FLAG / SET_FLAG; values are text.
            SqlType::Enum(_) => {
                flags.insert(ColumnFlags::ENUM);
                (ColumnType::String, text_collation, 0)
            }
            SqlType::Set(_) => {
                flags.insert(ColumnFlags::SET);
                (ColumnType::String, text_collation, 0)
            }
            SqlType::Time(fsp) => (ColumnType::Time, Collation::BINARY, fsp),
            SqlType::Bit(_) => {
                flags.insert(ColumnFlags::UNSIGNED);
                (ColumnType::Bit, Collation::BINARY, 0)
            }
        };
        if ty.is_numeric() {
            flags.insert(ColumnFlags::NUM);
        }
        if ty.is_temporal() {
            flags.insert(ColumnFlags::BINARY);
        }
        ColumnDefinition {
            schema: String::new(),
            table: String::new(),
            org_table: String::new(),
            name: name.to_owned(),
            org_name: String::new(),
            collation,
            column_length: ty.display_len(),
            column_type,
            flags,
            decimals,
        }
    }

    /// Appends the payload.
    pub fn encode(&self, out: &mut Vec<u8>) {
        put_lenenc_bytes(out, b"def");
        put_lenenc_bytes(out, self.schema.as_bytes());
        put_lenenc_bytes(out, self.table.as_bytes());
        put_lenenc_bytes(out, self.org_table.as_bytes());
        put_lenenc_bytes(out, self.name.as_bytes());
        put_lenenc_bytes(out, self.org_name.as_bytes());
        put_lenenc_int(out, 0x0C);
        put_u16(out, self.collation.0);
        put_u32(out, self.column_length);
        out.push(self.column_type as u8);
        put_u16(out, self.flags.bits());
        out.push(self.decimals);
        put_u16(out, 0);
    }

    /// Decodes a column definition (the client side; tests and tools).
    pub fn decode(payload: &[u8]) -> Result<ColumnDefinition, ProtocolError> {
        let mut r = Reader::new(payload);
        let text = |r: &mut Reader<'_>, f: &'static str| -> Result<String, ProtocolError> {
            Ok(wire::utf8(r.lenenc_bytes(f)?, f)?.to_owned())
        };
        let catalog = r.lenenc_bytes("catalog")?;
        if catalog != b"def" {
            return Err(ProtocolError::InvalidField { field: "catalog", value: catalog.len() as u64 });
        }
        let schema = text(&mut r, "schema")?;
        let table = text(&mut r, "table")?;
        let org_table = text(&mut r, "org_table")?;
        let name = text(&mut r, "name")?;
        let org_name = text(&mut r, "org_name")?;
        let fixed = r.lenenc_int("length of fixed fields")?;
        if fixed != 0x0C {
            return Err(ProtocolError::InvalidField { field: "length of fixed fields", value: fixed });
        }
        let collation = Collation(r.u16("character set")?);
        let column_length = r.u32("column length")?;
        let column_type = ColumnType::from_u8(r.u8("column type")?)?;
        let flags = ColumnFlags(r.u16("flags")?);
        let decimals = r.u8("decimals")?;
        r.u16("filler")?;
        Ok(ColumnDefinition {
            schema,
            table,
            org_table,
            name,
            org_name,
            collation,
            column_length,
            column_type,
            flags,
            decimals,
        })
    }

    /// Whether integer values of this column are unsigned.
    pub fn is_unsigned(&self) -> bool {
        self.flags.contains(ColumnFlags::UNSIGNED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testing::{assert_every_truncation_fails, hex};

    // The ColumnDefinition41 example of the protocol docs:
    // `SELECT @@version_comment` (a VAR_STRING column, charset 8, length 28).
    #[test]
    fn doc_example_column_definition_decodes_and_reencodes() {
        let bytes = hex(
            "03 64 65 66 00 00 00 11 40 40 76 65 72 73 69 6f 6e 5f 63 6f 6d 6d 65 6e 74 00 0c 08 00 1c 00 00 00 fd 00 00 1f 00 00",
        );
        let c = ColumnDefinition::decode(&bytes).expect("doc example");
        assert_eq!(c.name, "@@version_comment");
        assert_eq!(c.collation, Collation::LATIN1_SWEDISH_CI);
        assert_eq!(c.column_length, 28);
        assert_eq!(c.column_type, ColumnType::VarString);
        assert_eq!(c.decimals, NOT_FIXED_DECIMALS);
        let mut out = Vec::new();
        c.encode(&mut out);
        assert_eq!(out, bytes);
        assert_every_truncation_fails(&bytes, ColumnDefinition::decode);
    }

    #[test]
    fn every_type_byte_round_trips_and_others_are_errors() {
        let mut known = 0;
        for b in 0..=255u8 {
            match ColumnType::from_u8(b) {
                Ok(t) => {
                    assert_eq!(t as u8, b);
                    known += 1;
                }
                Err(e) => assert_eq!(e, ProtocolError::UnknownColumnType { code: b }),
            }
        }
        assert_eq!(known, 35);
    }

    #[test]
    fn sql_types_map_to_mysql_metadata() {
        let c = ColumnDefinition::for_sql_type("id", SqlType::UBIGINT, false, Collation::UTF8MB4_0900_AI_CI);
        assert_eq!(c.column_type, ColumnType::LongLong);
        assert_eq!(c.flags, ColumnFlags::NOT_NULL | ColumnFlags::UNSIGNED | ColumnFlags::NUM);
        assert_eq!(c.collation, Collation::BINARY);
        assert_eq!(c.column_length, 20);
        let c = ColumnDefinition::for_sql_type("s", SqlType::Varchar(10), true, Collation::UTF8MB4_0900_AI_CI);
        assert_eq!((c.column_type, c.collation, c.column_length), (ColumnType::VarString, Collation(255), 40));
        let c = ColumnDefinition::for_sql_type("b", SqlType::Blob(65535), true, Collation::UTF8MB4_0900_AI_CI);
        assert_eq!(c.column_type, ColumnType::Blob);
        assert_eq!(c.flags, ColumnFlags::BLOB | ColumnFlags::BINARY);
        let c = ColumnDefinition::for_sql_type(
            "d",
            SqlType::Decimal { precision: 10, scale: 2 },
            true,
            Collation::UTF8MB4_0900_AI_CI,
        );
        assert_eq!((c.column_type, c.decimals, c.column_length), (ColumnType::NewDecimal, 2, 12));
        // The widest DECIMAL: 65 digits, a point and a sign.
        let c = ColumnDefinition::for_sql_type(
            "w",
            SqlType::Decimal { precision: 65, scale: 30 },
            true,
            Collation::UTF8MB4_0900_AI_CI,
        );
        assert_eq!((c.column_type, c.decimals, c.column_length), (ColumnType::NewDecimal, 30, 67));
        let c = ColumnDefinition::for_sql_type("t", SqlType::DateTime(3), true, Collation::UTF8MB4_0900_AI_CI);
        assert_eq!((c.column_type, c.decimals, c.flags), (ColumnType::DateTime, 3, ColumnFlags::BINARY));
    }
}
