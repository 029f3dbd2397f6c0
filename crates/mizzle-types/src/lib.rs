//! Values, SQL types, UTF-8 text, memcomparable key encoding, the stored row
//! format and the MySQL error-code table: the vocabulary every other mizzle
//! crate speaks.
//!
//! Invariants:
//! 1. This crate has no workspace dependencies.
//! 2. Nothing here does I/O or keeps mutable global state, except the
//!    append-only interner of ENUM/SET member lists (`members`).

pub mod cast;
pub mod collation;
pub mod datetime;
pub mod decimal;
pub mod error;
pub mod json;
pub mod key;
pub mod members;
pub mod ops;
pub mod row;
pub mod sqltype;
pub mod timezone;
pub mod value;

pub use collation::Collation;
pub use datetime::{Date, DateTime, Time};
pub use decimal::Decimal;
pub use error::{ErrorClass, ErrorCode, Level, SqlError, TypeError, Warning};
pub use members::Members;
pub use sqltype::{IntWidth, SqlType, ValueKind};
pub use timezone::TimeZone;
pub use value::{GroupKey, Value};
