//! Definitions of schemas, tables, indexes and views, and their stored form.
//!
//! Invariants:
//! 1. A table's rows live in space `TableDef::space`, keyed by the
//!    memcomparable encoding of its primary-key columns, or of a hidden
//!    row id when it has no primary key; each secondary index has its own
//!    space (see `IndexDef`).
//! 2. Column positions in `primary_key`, `IndexDef::columns` and
//!    `auto_increment` are valid indexes into `columns`.
//! 3. Every record starts with a format version byte; unknown versions are
//!    `Corrupt`, never guessed at.

use mizzle_txn::SpaceId;
use mizzle_types::SqlType;

use crate::codec::{Dec, Enc};
use crate::error::DictError;

const FORMAT: u8 = 1;

/// One column.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnDef {
    /// Name as declared.
    pub name: String,
    /// Type.
    pub ty: SqlType,
    /// NULL allowed.
    pub nullable: bool,
    /// DEFAULT expression as SQL text (bound when used).
    pub default: Option<String>,
    /// AUTO_INCREMENT column.
    pub auto_increment: bool,
    /// COMMENT.
    pub comment: String,
}

/// A secondary index.
///
/// Entry key in `space`: encoded index columns, then (for non-unique
/// indexes, or when an indexed value is NULL) the row key; entry value: the
/// row key. So a unique index has one live entry per non-NULL value and two
/// transactions inserting the same value write the same key and conflict.
#[derive(Clone, Debug, PartialEq)]
pub struct IndexDef {
    /// Index name.
    pub name: String,
    /// Storage space of its entries.
    pub space: SpaceId,
    /// Indexed columns, in order.
    pub columns: Vec<usize>,
    /// UNIQUE.
    pub unique: bool,
}

/// A CHECK constraint.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckDef {
    /// Constraint name.
    pub name: String,
    /// The condition as SQL text.
    pub expr: String,
}

/// A base table.
#[derive(Clone, Debug, PartialEq)]
pub struct TableDef {
    /// Schema (database) name.
    pub schema: String,
    /// Table name as declared.
    pub name: String,
    /// Space holding the rows.
    pub space: SpaceId,
    /// Columns in order.
    pub columns: Vec<ColumnDef>,
    /// Primary-key columns; empty means a hidden row id.
    pub primary_key: Vec<usize>,
    /// Secondary indexes.
    pub indexes: Vec<IndexDef>,
    /// CHECK constraints.
    pub checks: Vec<CheckDef>,
    /// The AUTO_INCREMENT column, if any.
    pub auto_increment: Option<usize>,
    /// First AUTO_INCREMENT value (table option), 1 by default.
    pub auto_increment_start: u64,
    /// ENGINE= as declared (informational; the catalog's engine stores it).
    pub engine: String,
    /// Table COMMENT.
    pub comment: String,
    /// Changes whenever the definition changes; plans remember it.
    pub version: u64,
}

impl TableDef {
    /// Position of a column by name (case-insensitive).
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// True when rows are keyed by a hidden row id.
    pub fn has_hidden_rowid(&self) -> bool {
        self.primary_key.is_empty()
    }
}

/// A view.
#[derive(Clone, Debug, PartialEq)]
pub struct ViewDef {
    /// Schema name.
    pub schema: String,
    /// View name.
    pub name: String,
    /// The SELECT text.
    pub sql: String,
    /// Column names given in `CREATE VIEW v (a, b)`, if any.
    pub columns: Vec<String>,
    /// Definition version.
    pub version: u64,
}

/// What a name in a schema refers to.
#[derive(Clone, Debug, PartialEq)]
pub enum Relation {
    /// A base table.
    Table(std::sync::Arc<TableDef>),
    /// A view.
    View(std::sync::Arc<ViewDef>),
}

impl Relation {
    /// The name as declared.
    pub fn name(&self) -> &str {
        match self {
            Relation::Table(t) => &t.name,
            Relation::View(v) => &v.name,
        }
    }
}

pub(crate) fn encode_relation(r: &Relation) -> Vec<u8> {
    let mut e = Enc::default();
    e.u8(FORMAT);
    match r {
        Relation::Table(t) => {
            e.u8(b'T');
            e.str(&t.schema);
            e.str(&t.name);
            e.u32(t.space.0);
            e.u32(t.columns.len() as u32);
            for c in &t.columns {
                e.str(&c.name);
                e.ty(c.ty);
                e.bool(c.nullable);
                e.opt_str(c.default.as_deref());
                e.bool(c.auto_increment);
                e.str(&c.comment);
            }
            e.u32(t.primary_key.len() as u32);
            for p in &t.primary_key {
                e.u32(*p as u32);
            }
            e.u32(t.indexes.len() as u32);
            for ix in &t.indexes {
                e.str(&ix.name);
                e.u32(ix.space.0);
                e.u32(ix.columns.len() as u32);
                for c in &ix.columns {
                    e.u32(*c as u32);
                }
                e.bool(ix.unique);
            }
            e.u32(t.checks.len() as u32);
            for c in &t.checks {
                e.str(&c.name);
                e.str(&c.expr);
            }
            match t.auto_increment {
                Some(i) => {
                    e.u8(1);
                    e.u32(i as u32);
                }
                None => e.u8(0),
            }
            e.u64(t.auto_increment_start);
            e.str(&t.engine);
            e.str(&t.comment);
            e.u64(t.version);
        }
        Relation::View(v) => {
            e.u8(b'V');
            e.str(&v.schema);
            e.str(&v.name);
            e.str(&v.sql);
            e.u32(v.columns.len() as u32);
            for c in &v.columns {
                e.str(c);
            }
            e.u64(v.version);
        }
    }
    e.out
}

fn count(d: &mut Dec<'_>) -> Result<usize, DictError> {
    let n = d.u32()? as usize;
    if n > 1 << 20 {
        return Err(DictError::Corrupt("implausible element count"));
    }
    Ok(n)
}

pub(crate) fn decode_relation(b: &[u8]) -> Result<Relation, DictError> {
    let mut d = Dec::new(b);
    if d.u8()? != FORMAT {
        return Err(DictError::Corrupt("unknown dictionary record format"));
    }
    let r = match d.u8()? {
        b'T' => {
            let schema = d.str()?;
            let name = d.str()?;
            let space = SpaceId(d.u32()?);
            let n = count(&mut d)?;
            let mut columns = Vec::with_capacity(n);
            for _ in 0..n {
                columns.push(ColumnDef {
                    name: d.str()?,
                    ty: d.ty()?,
                    nullable: d.bool()?,
                    default: d.opt_str()?,
                    auto_increment: d.bool()?,
                    comment: d.str()?,
                });
            }
            let ncols = columns.len();
            let col = |d: &mut Dec<'_>| -> Result<usize, DictError> {
                let i = d.u32()? as usize;
                if i >= ncols {
                    return Err(DictError::Corrupt("column position out of range"));
                }
                Ok(i)
            };
            let n = count(&mut d)?;
            let mut primary_key = Vec::with_capacity(n);
            for _ in 0..n {
                primary_key.push(col(&mut d)?);
            }
            let n = count(&mut d)?;
            let mut indexes = Vec::with_capacity(n);
            for _ in 0..n {
                let name = d.str()?;
                let space = SpaceId(d.u32()?);
                let m = count(&mut d)?;
                let mut cols = Vec::with_capacity(m);
                for _ in 0..m {
                    cols.push(col(&mut d)?);
                }
                indexes.push(IndexDef { name, space, columns: cols, unique: d.bool()? });
            }
            let n = count(&mut d)?;
            let mut checks = Vec::with_capacity(n);
            for _ in 0..n {
                checks.push(CheckDef { name: d.str()?, expr: d.str()? });
            }
            let auto_increment = if d.u8()? == 1 { Some(col(&mut d)?) } else { None };
            Relation::Table(std::sync::Arc::new(TableDef {
                schema,
                name,
                space,
                columns,
                primary_key,
                indexes,
                checks,
                auto_increment,
                auto_increment_start: d.u64()?,
                engine: d.str()?,
                comment: d.str()?,
                version: d.u64()?,
            }))
        }
        b'V' => {
            let schema = d.str()?;
            let name = d.str()?;
            let sql = d.str()?;
            let n = count(&mut d)?;
            let mut columns = Vec::with_capacity(n);
            for _ in 0..n {
                columns.push(d.str()?);
            }
            Relation::View(std::sync::Arc::new(ViewDef { schema, name, sql, columns, version: d.u64()? }))
        }
        _ => return Err(DictError::Corrupt("unknown relation kind")),
    };
    if !d.is_empty() {
        return Err(DictError::Corrupt("trailing bytes in dictionary record"));
    }
    Ok(r)
}

/// A schema (database).
#[derive(Clone, Debug, PartialEq)]
pub struct SchemaDef {
    /// Name as declared.
    pub name: String,
}

pub(crate) fn encode_schema(s: &SchemaDef) -> Vec<u8> {
    let mut e = Enc::default();
    e.u8(FORMAT);
    e.u8(b'D');
    e.str(&s.name);
    e.out
}

pub(crate) fn decode_schema(b: &[u8]) -> Result<SchemaDef, DictError> {
    let mut d = Dec::new(b);
    if d.u8()? != FORMAT || d.u8()? != b'D' {
        return Err(DictError::Corrupt("not a schema record"));
    }
    Ok(SchemaDef { name: d.str()? })
}
