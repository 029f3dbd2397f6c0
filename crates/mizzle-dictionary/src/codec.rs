//! A small, versioned binary encoding for dictionary records.
//!
//! Invariants:
//! 1. Integers are little-endian and fixed-width; strings are a u32 length
//!    and UTF-8 bytes.
//! 2. The decoder never panics: every read is bounds-checked and a short or
//!    malformed record is a `Corrupt` error.

use mizzle_types::members::{MAX_ENUM_MEMBERS, MAX_SET_MEMBERS};
use mizzle_types::{Collation, IntWidth, Members, SqlType};

use crate::error::DictError;

/// Appends fields to a byte vector.
#[derive(Default)]
pub struct Enc {
    /// The bytes written so far.
    pub out: Vec<u8>,
}

impl Enc {
    pub fn u8(&mut self, v: u8) {
        self.out.push(v);
    }
    pub fn bool(&mut self, v: bool) {
        self.out.push(v as u8);
    }
    pub fn u16(&mut self, v: u16) {
        self.out.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u32(&mut self, v: u32) {
        self.out.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u64(&mut self, v: u64) {
        self.out.extend_from_slice(&v.to_le_bytes());
    }
    pub fn str(&mut self, s: &str) {
        self.u32(s.len() as u32);
        self.out.extend_from_slice(s.as_bytes());
    }
    pub fn opt_str(&mut self, s: Option<&str>) {
        match s {
            Some(s) => {
                self.u8(1);
                self.str(s);
            }
            None => self.u8(0),
        }
    }
    pub fn ty(&mut self, t: SqlType) {
        match t {
            SqlType::Null => self.u8(0),
            SqlType::Bool => self.u8(1),
            SqlType::Int { width, unsigned } => {
                self.u8(2);
                self.u8(match width {
                    IntWidth::Tiny => 1,
                    IntWidth::Small => 2,
                    IntWidth::Medium => 3,
                    IntWidth::Int => 4,
                    IntWidth::Big => 8,
                });
                self.bool(unsigned);
            }
            SqlType::Float => self.u8(3),
            SqlType::Double => self.u8(4),
            SqlType::Decimal { precision, scale } => {
                self.u8(5);
                self.u8(precision);
                self.u8(scale);
            }
            SqlType::Char(n) => {
                self.u8(6);
                self.u32(n);
            }
            SqlType::Varchar(n) => {
                self.u8(7);
                self.u32(n);
            }
            SqlType::Text(n) => {
                self.u8(8);
                self.u32(n);
            }
            SqlType::Binary(n) => {
                self.u8(9);
                self.u32(n);
            }
            SqlType::Varbinary(n) => {
                self.u8(10);
                self.u32(n);
            }
            SqlType::Blob(n) => {
                self.u8(11);
                self.u32(n);
            }
            SqlType::Date => self.u8(12),
            SqlType::DateTime(f) => {
                self.u8(13);
                self.u8(f);
            }
            SqlType::Timestamp(f) => {
                self.u8(14);
                self.u8(f);
            }
            SqlType::Year => self.u8(15),
            SqlType::Json => self.u8(20),
            SqlType::Enum(m) | SqlType::Set(m) => {
                self.u8(if matches!(t, SqlType::Enum(_)) { 17 } else { 18 });
                self.u32(m.len() as u32);
                for n in m.names() {
                    self.str(n);
                }
            }
            SqlType::Time(f) => {
                self.u8(16);
                self.u8(f);
            }
            SqlType::Bit(n) => {
                self.u8(19);
                self.u8(n);
            }
        }
    }
}

/// Reads fields from a byte slice.
pub struct Dec<'a> {
    b: &'a [u8],
}

fn corrupt() -> DictError {
    DictError::Corrupt("dictionary record is truncated or malformed")
}

impl<'a> Dec<'a> {
    pub fn new(b: &'a [u8]) -> Dec<'a> {
        Dec { b }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], DictError> {
        if self.b.len() < n {
            return Err(corrupt());
        }
        let (h, t) = self.b.split_at(n);
        self.b = t;
        Ok(h)
    }
    pub fn u8(&mut self) -> Result<u8, DictError> {
        Ok(self.take(1)?[0])
    }
    pub fn bool(&mut self) -> Result<bool, DictError> {
        Ok(self.u8()? != 0)
    }
    pub fn u16(&mut self) -> Result<u16, DictError> {
        let s = self.take(2)?;
        Ok(u16::from_le_bytes([s[0], s[1]]))
    }
    pub fn u32(&mut self) -> Result<u32, DictError> {
        let s = self.take(4)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    pub fn u64(&mut self) -> Result<u64, DictError> {
        let s = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        Ok(u64::from_le_bytes(a))
    }
    pub fn str(&mut self) -> Result<String, DictError> {
        let n = self.u32()? as usize;
        let s = self.take(n)?;
        String::from_utf8(s.to_vec()).map_err(|_| corrupt())
    }
    pub fn opt_str(&mut self) -> Result<Option<String>, DictError> {
        Ok(if self.u8()? == 1 { Some(self.str()?) } else { None })
    }
    pub fn ty(&mut self) -> Result<SqlType, DictError> {
        Ok(match self.u8()? {
            0 => SqlType::Null,
            1 => SqlType::Bool,
            2 => {
                let width = match self.u8()? {
                    1 => IntWidth::Tiny,
                    2 => IntWidth::Small,
                    3 => IntWidth::Medium,
                    4 => IntWidth::Int,
                    8 => IntWidth::Big,
                    _ => return Err(corrupt()),
                };
                SqlType::Int { width, unsigned: self.bool()? }
            }
            3 => SqlType::Float,
            4 => SqlType::Double,
            5 => SqlType::Decimal { precision: self.u8()?, scale: self.u8()? },
            6 => SqlType::Char(self.u32()?),
            7 => SqlType::Varchar(self.u32()?),
            8 => SqlType::Text(self.u32()?),
            9 => SqlType::Binary(self.u32()?),
            10 => SqlType::Varbinary(self.u32()?),
            11 => SqlType::Blob(self.u32()?),
            12 => SqlType::Date,
            13 => SqlType::DateTime(self.u8()?),
            14 => SqlType::Timestamp(self.u8()?),
            15 => SqlType::Year,
            20 => SqlType::Json,
            // ENUM / SET: the members, matched under the column's collation
            // once the record's collations are read (`def::decode_relation`).
            tag @ (17 | 18) => {
                let n = self.u32()? as usize;
                let max = if tag == 17 { MAX_ENUM_MEMBERS } else { MAX_SET_MEMBERS };
                if n > max {
                    return Err(corrupt());
                }
                let mut names = Vec::with_capacity(n);
                for _ in 0..n {
                    names.push(self.str()?);
                }
                let m = Members::intern(&names[..], Collation::LEGACY);
                if tag == 17 {
                    SqlType::Enum(m)
                } else {
                    SqlType::Set(m)
                }
            }
            16 => match self.u8()? {
                f @ 0..=6 => SqlType::Time(f),
                _ => return Err(corrupt()),
            },
            19 => match self.u8()? {
                n @ 1..=64 => SqlType::Bit(n),
                _ => return Err(corrupt()),
            },
            _ => return Err(corrupt()),
        })
    }
    pub fn is_empty(&self) -> bool {
        self.b.is_empty()
    }
}
