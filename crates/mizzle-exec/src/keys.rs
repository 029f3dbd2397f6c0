//! Row keys and index keys of tables.
//!
//! Invariants:
//! 1. A row key is the memcomparable tuple of the primary-key values
//!    (converted to the columns' types) or of the hidden row id.
//! 2. A unique index entry's key is the tuple of its column values when
//!    none is NULL; otherwise, and for non-unique indexes, the row key is
//!    appended so entries never collide. Entry values are row keys.
//! 3. Text key columns are encoded from their collation's weight strings
//!    (`key::encode_value_collated`), so keys equal under the collation
//!    collide (UNIQUE) and key order is collation order; columns with
//!    `Collation::LEGACY` encode exactly as before collations existed.

use mizzle_dictionary::{IndexDef, TableDef};
use mizzle_types::key::{encode_value, encode_value_collated};
use mizzle_types::{Collation, Value};

/// The row key of a full row.
pub fn row_key(t: &TableDef, row: &[Value], rowid: Option<u64>, out: &mut Vec<u8>) {
    out.clear();
    if t.primary_key.is_empty() {
        encode_value(&Value::UInt(rowid.unwrap_or(0)), out);
    } else {
        for &c in &t.primary_key {
            let coll = t.columns.get(c).map(|d| d.collation).unwrap_or(Collation::LEGACY);
            encode_value_collated(row.get(c).unwrap_or(&Value::Null), coll, out);
        }
    }
}

/// The key of an index entry for a row.
pub fn index_key(t: &TableDef, ix: &IndexDef, row: &[Value], row_key: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut has_null = false;
    for &c in &ix.columns {
        let v = row.get(c).unwrap_or(&Value::Null);
        has_null |= v.is_null();
        let coll = t.columns.get(c).map(|d| d.collation).unwrap_or(Collation::LEGACY);
        encode_value_collated(v, coll, out);
    }
    if !ix.unique || has_null {
        out.extend_from_slice(row_key);
    }
}

/// True if the entry enforces uniqueness (unique index, no NULL value).
pub fn enforces_unique(ix: &IndexDef, row: &[Value]) -> bool {
    ix.unique && ix.columns.iter().all(|&c| !row.get(c).unwrap_or(&Value::Null).is_null())
}

/// The text MySQL shows for a duplicate key value: the values joined by '-'.
pub fn dup_value(cols: &[usize], row: &[Value]) -> String {
    cols.iter().map(|&c| row.get(c).map(|v| v.to_text_lossy()).unwrap_or_default()).collect::<Vec<_>>().join("-")
}
