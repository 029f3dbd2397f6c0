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
//!    `Corrupt`, never guessed at. Version 1 is every record before foreign
//!    keys; a table with foreign keys or referenced by one is written as
//!    version 2 (version 1 followed by the two foreign-key lists, see
//!    `docs/format/dictionary.md`), so databases without foreign keys keep
//!    byte-identical records.
//!    Version 3 (collations) is version 2 followed by the table's default
//!    collation and one collation id per column; it is written only when
//!    some collation is not `Collation::LEGACY`, so older records stay
//!    byte-identical and read back with every collation LEGACY.
//! 4. Foreign keys name columns and tables (not positions or spaces), so
//!    column reordering and table rewrites leave them valid; a parent lists
//!    its children in `referenced_by`, kept in step by DDL.
//! 5. A hidden column (`ColumnDef::hidden`: the VIRTUAL generated column
//!    of a functional index key part, MySQL's way) is always generated and
//!    follows every visible column; no name lookup of users
//!    (`TableDef::column_index`) finds it.
//! 6. A schema record is version 1 (its name) unless its default
//!    collation is not `Collation::LEGACY`; then it is version 2, the name
//!    followed by the collation id. A version-1 schema reads back as
//!    LEGACY, the collation its tables took before databases had a default,
//!    whatever the server's default is now.

use mizzle_txn::SpaceId;
use mizzle_types::{Collation, SqlType};

use crate::codec::{Dec, Enc};
use crate::error::DictError;

const FORMAT: u8 = 1;
/// Table records with foreign-key lists (invariant 3).
const FORMAT_FK: u8 = 2;
/// Table records with collations (invariant 3).
const FORMAT_COLL: u8 = 3;
/// Table records with column extensions (generated columns; invariant 3).
const FORMAT_EXT: u8 = 4;
/// Extension tag: a generated column (`Generated`).
const EXT_GENERATED: u8 = 1;
/// Extension tag: a CHECK constraint that is NOT ENFORCED.
const EXT_CHECK_NOT_ENFORCED: u8 = 2;
/// Extension tag: `ON UPDATE CURRENT_TIMESTAMP(fsp)` on a column.
const EXT_ON_UPDATE: u8 = 3;
/// Extension tag: a hidden column (a functional key part, invariant 5).
const EXT_HIDDEN: u8 = 4;
/// Schema records with a default collation (invariant 6).
const FORMAT_SCHEMA_COLL: u8 = 2;

/// A referential action (`ON DELETE` / `ON UPDATE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FkAction {
    /// NO ACTION (also the default): as RESTRICT, checked at once.
    NoAction,
    /// RESTRICT.
    Restrict,
    /// CASCADE.
    Cascade,
    /// SET NULL.
    SetNull,
    /// SET DEFAULT: MySQL 8 accepts and stores it, and InnoDB enforces it
    /// as RESTRICT; so does mizzle.
    SetDefault,
}

impl FkAction {
    fn tag(self) -> u8 {
        match self {
            FkAction::NoAction => 0,
            FkAction::Restrict => 1,
            FkAction::Cascade => 2,
            FkAction::SetNull => 3,
            FkAction::SetDefault => 4,
        }
    }

    fn from_tag(t: u8) -> Result<FkAction, DictError> {
        Ok(match t {
            0 => FkAction::NoAction,
            1 => FkAction::Restrict,
            2 => FkAction::Cascade,
            3 => FkAction::SetNull,
            4 => FkAction::SetDefault,
            _ => return Err(DictError::Corrupt("unknown referential action")),
        })
    }

    /// The SQL words.
    pub fn sql(self) -> &'static str {
        match self {
            FkAction::NoAction => "NO ACTION",
            FkAction::Restrict => "RESTRICT",
            FkAction::Cascade => "CASCADE",
            FkAction::SetNull => "SET NULL",
            FkAction::SetDefault => "SET DEFAULT",
        }
    }
}

/// A foreign key of a (child) table.
#[derive(Clone, Debug, PartialEq)]
pub struct ForeignKeyDef {
    /// Constraint name (unique in its schema).
    pub name: String,
    /// Referencing columns of this table, by name.
    pub columns: Vec<String>,
    /// Referenced (parent) table's schema.
    pub ref_schema: String,
    /// Referenced table's name.
    pub ref_table: String,
    /// Referenced columns, by name, in the order of `columns`.
    pub ref_columns: Vec<String>,
    /// ON DELETE.
    pub on_delete: FkAction,
    /// ON UPDATE.
    pub on_update: FkAction,
}

impl ForeignKeyDef {
    /// True if this key references `schema.table` (names case-insensitive).
    pub fn references(&self, schema: &str, table: &str) -> bool {
        self.ref_schema.eq_ignore_ascii_case(schema) && self.ref_table.eq_ignore_ascii_case(table)
    }
}

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
    /// Collation of a text column (`Collation::LEGACY` for other types and
    /// for columns stored before collations).
    pub collation: Collation,
    /// `GENERATED ALWAYS AS (expr)`: the column's value is computed.
    pub generated: Option<Generated>,
    /// `ON UPDATE CURRENT_TIMESTAMP[(fsp)]` (a TIMESTAMP or DATETIME
    /// column): an UPDATE that changes another column of the row and does
    /// not assign this one sets it to the statement's time.
    pub on_update: Option<u8>,
    /// The hidden VIRTUAL generated column of a functional index key part
    /// (invariant 5): stored and indexed like any column, but never shown
    /// nor named by users.
    pub hidden: bool,
}

/// How a generated column is computed.
#[derive(Clone, Debug, PartialEq)]
pub struct Generated {
    /// The expression as SQL text (bound when used).
    pub expr: String,
    /// STORED (else VIRTUAL). mizzle stores the values of both kinds in
    /// the row; the kind is kept for SHOW CREATE TABLE and
    /// information_schema.
    pub stored: bool,
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
    /// ENFORCED (the default); a NOT ENFORCED constraint is kept and shown
    /// but not checked.
    pub enforced: bool,
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
    /// Foreign keys of this table (as a child).
    pub foreign_keys: Vec<ForeignKeyDef>,
    /// Tables (schema, name) with a foreign key referencing this one,
    /// itself included for a self-reference (invariant 4).
    pub referenced_by: Vec<(String, String)>,
    /// The table's default collation (for columns added later).
    pub collation: Collation,
}

impl TableDef {
    /// Position of a visible column by name (case-insensitive); hidden
    /// columns are never found (invariant 5).
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| !c.hidden && c.name.eq_ignore_ascii_case(name))
    }

    /// The visible columns with their positions, in order.
    pub fn visible_columns(&self) -> impl Iterator<Item = (usize, &ColumnDef)> {
        self.columns.iter().enumerate().filter(|(_, c)| !c.hidden)
    }

    /// The index whose key part hidden column `col` is (its name, for
    /// MySQL's messages about functional indexes).
    pub fn functional_index_of(&self, col: usize) -> Option<&IndexDef> {
        self.indexes.iter().find(|ix| ix.columns.contains(&col))
    }

    /// True when rows are keyed by a hidden row id.
    pub fn has_hidden_rowid(&self) -> bool {
        self.primary_key.is_empty()
    }

    /// Adds `schema.name` to `referenced_by` unless present.
    pub fn add_referencing(&mut self, schema: &str, name: &str) {
        if !self.referenced_by.iter().any(|(s, n)| s.eq_ignore_ascii_case(schema) && n.eq_ignore_ascii_case(name)) {
            self.referenced_by.push((schema.to_string(), name.to_string()));
        }
    }

    /// Removes `schema.name` from `referenced_by`.
    pub fn remove_referencing(&mut self, schema: &str, name: &str) {
        self.referenced_by.retain(|(s, n)| !(s.eq_ignore_ascii_case(schema) && n.eq_ignore_ascii_case(name)));
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
    let with_colls = matches!(r, Relation::Table(t)
        if t.collation != Collation::LEGACY || t.columns.iter().any(|c| c.collation != Collation::LEGACY));
    let with_ext = matches!(r, Relation::Table(t)
        if t.columns.iter().any(|c| c.generated.is_some() || c.on_update.is_some() || c.hidden)
            || t.checks.iter().any(|c| !c.enforced));
    let with_colls = with_colls || with_ext;
    let with_fks =
        with_colls || matches!(r, Relation::Table(t) if !t.foreign_keys.is_empty() || !t.referenced_by.is_empty());
    e.u8(if with_ext {
        FORMAT_EXT
    } else if with_colls {
        FORMAT_COLL
    } else if with_fks {
        FORMAT_FK
    } else {
        FORMAT
    });
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
            if with_fks {
                e.u32(t.foreign_keys.len() as u32);
                for fk in &t.foreign_keys {
                    e.str(&fk.name);
                    e.u32(fk.columns.len() as u32);
                    for c in &fk.columns {
                        e.str(c);
                    }
                    e.str(&fk.ref_schema);
                    e.str(&fk.ref_table);
                    e.u32(fk.ref_columns.len() as u32);
                    for c in &fk.ref_columns {
                        e.str(c);
                    }
                    e.u8(fk.on_delete.tag());
                    e.u8(fk.on_update.tag());
                }
                e.u32(t.referenced_by.len() as u32);
                for (s, n) in &t.referenced_by {
                    e.str(s);
                    e.str(n);
                }
            }
            if with_colls {
                e.u16(t.collation.id());
                for c in &t.columns {
                    e.u16(c.collation.id());
                }
            }
            if with_ext {
                let gens: Vec<(usize, &Generated)> =
                    t.columns.iter().enumerate().filter_map(|(i, c)| c.generated.as_ref().map(|g| (i, g))).collect();
                let lax: Vec<usize> = (0..t.checks.len()).filter(|&i| !t.checks[i].enforced).collect();
                let touched: Vec<(usize, u8)> =
                    t.columns.iter().enumerate().filter_map(|(i, c)| c.on_update.map(|f| (i, f))).collect();
                let hidden: Vec<usize> = (0..t.columns.len()).filter(|&i| t.columns[i].hidden).collect();
                e.u32((gens.len() + lax.len() + touched.len() + hidden.len()) as u32);
                for (i, g) in gens {
                    e.u8(EXT_GENERATED);
                    e.u32(i as u32);
                    e.bool(g.stored);
                    e.str(&g.expr);
                }
                for i in lax {
                    e.u8(EXT_CHECK_NOT_ENFORCED);
                    e.u32(i as u32);
                }
                for (i, fsp) in touched {
                    e.u8(EXT_ON_UPDATE);
                    e.u32(i as u32);
                    e.u8(fsp);
                }
                for i in hidden {
                    e.u8(EXT_HIDDEN);
                    e.u32(i as u32);
                }
            }
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

/// An ENUM or SET type whose members match under `collation` (the
/// column's); other types unchanged.
pub fn with_member_collation(ty: SqlType, collation: Collation) -> SqlType {
    match ty {
        SqlType::Enum(m) => SqlType::Enum(m.with_collation(collation)),
        SqlType::Set(m) => SqlType::Set(m.with_collation(collation)),
        t => t,
    }
}

fn coll(d: &mut Dec<'_>) -> Result<Collation, DictError> {
    Collation::from_id(d.u16()?).ok_or(DictError::Corrupt("unknown collation id"))
}

pub(crate) fn decode_relation(b: &[u8]) -> Result<Relation, DictError> {
    let mut d = Dec::new(b);
    let format = d.u8()?;
    if !matches!(format, FORMAT | FORMAT_FK | FORMAT_COLL | FORMAT_EXT) {
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
                    collation: Collation::LEGACY,
                    generated: None,
                    on_update: None,
                    hidden: false,
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
                checks.push(CheckDef { name: d.str()?, expr: d.str()?, enforced: true });
            }
            let auto_increment = if d.u8()? == 1 { Some(col(&mut d)?) } else { None };
            let auto_increment_start = d.u64()?;
            let engine = d.str()?;
            let comment = d.str()?;
            let version = d.u64()?;
            let mut foreign_keys = Vec::new();
            let mut referenced_by = Vec::new();
            if format >= FORMAT_FK {
                let n = count(&mut d)?;
                for _ in 0..n {
                    let name = d.str()?;
                    let m = count(&mut d)?;
                    let mut cols = Vec::with_capacity(m);
                    for _ in 0..m {
                        cols.push(d.str()?);
                    }
                    let ref_schema = d.str()?;
                    let ref_table = d.str()?;
                    let m = count(&mut d)?;
                    let mut ref_columns = Vec::with_capacity(m);
                    for _ in 0..m {
                        ref_columns.push(d.str()?);
                    }
                    foreign_keys.push(ForeignKeyDef {
                        name,
                        columns: cols,
                        ref_schema,
                        ref_table,
                        ref_columns,
                        on_delete: FkAction::from_tag(d.u8()?)?,
                        on_update: FkAction::from_tag(d.u8()?)?,
                    });
                }
                let n = count(&mut d)?;
                for _ in 0..n {
                    referenced_by.push((d.str()?, d.str()?));
                }
            }
            let mut collation = Collation::LEGACY;
            if format >= FORMAT_COLL {
                collation = coll(&mut d)?;
                for c in &mut columns {
                    c.collation = coll(&mut d)?;
                }
            }
            if format >= FORMAT_EXT {
                let n = count(&mut d)?;
                for _ in 0..n {
                    match d.u8()? {
                        EXT_GENERATED => {
                            let i = col(&mut d)?;
                            let stored = d.bool()?;
                            columns[i].generated = Some(Generated { stored, expr: d.str()? });
                        }
                        EXT_CHECK_NOT_ENFORCED => {
                            let i = d.u32()? as usize;
                            checks.get_mut(i).ok_or(DictError::Corrupt("check position out of range"))?.enforced =
                                false;
                        }
                        EXT_ON_UPDATE => {
                            let i = col(&mut d)?;
                            let fsp = d.u8()?;
                            if fsp > 6 {
                                return Err(DictError::Corrupt("ON UPDATE fractional digits above 6"));
                            }
                            columns[i].on_update = Some(fsp);
                        }
                        EXT_HIDDEN => {
                            let i = col(&mut d)?;
                            columns[i].hidden = true;
                        }
                        _ => return Err(DictError::Corrupt("unknown record extension")),
                    }
                }
            }
            for c in &mut columns {
                c.ty = with_member_collation(c.ty, c.collation);
                if c.hidden && c.generated.is_none() {
                    return Err(DictError::Corrupt("hidden column that is not generated"));
                }
            }
            Relation::Table(std::sync::Arc::new(TableDef {
                schema,
                name,
                space,
                columns,
                primary_key,
                indexes,
                checks,
                auto_increment,
                auto_increment_start,
                engine,
                comment,
                version,
                foreign_keys,
                referenced_by,
                collation,
            }))
        }
        b'V' if format == FORMAT => {
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
    /// The default collation of its new tables (`CREATE DATABASE ...
    /// COLLATE`); `Collation::LEGACY` for schemas stored before databases
    /// had one (invariant 6). The character set is the collation's.
    pub collation: Collation,
}

pub(crate) fn encode_schema(s: &SchemaDef) -> Vec<u8> {
    let mut e = Enc::default();
    // Invariant 6: a LEGACY default keeps the version-1 bytes.
    let coll = s.collation != Collation::LEGACY;
    e.u8(if coll { FORMAT_SCHEMA_COLL } else { FORMAT });
    e.u8(b'D');
    e.str(&s.name);
    if coll {
        e.u16(s.collation.id());
    }
    e.out
}

pub(crate) fn decode_schema(b: &[u8]) -> Result<SchemaDef, DictError> {
    let mut d = Dec::new(b);
    let version = d.u8()?;
    if !(version == FORMAT || version == FORMAT_SCHEMA_COLL) || d.u8()? != b'D' {
        return Err(DictError::Corrupt("not a schema record"));
    }
    let name = d.str()?;
    let collation = if version == FORMAT_SCHEMA_COLL { coll(&mut d)? } else { Collation::LEGACY };
    if !d.is_empty() {
        return Err(DictError::Corrupt("trailing bytes in dictionary record"));
    }
    Ok(SchemaDef { name, collation })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(fks: Vec<ForeignKeyDef>, referenced_by: Vec<(String, String)>) -> Relation {
        Relation::Table(std::sync::Arc::new(TableDef {
            schema: "s".into(),
            name: "child".into(),
            space: SpaceId(20),
            columns: vec![ColumnDef {
                name: "p".into(),
                ty: SqlType::INT,
                nullable: true,
                default: None,
                auto_increment: false,
                comment: String::new(),
                collation: Collation::LEGACY,
                generated: None,
                on_update: None,
                hidden: false,
            }],
            primary_key: vec![],
            indexes: vec![IndexDef { name: "fk".into(), space: SpaceId(21), columns: vec![0], unique: false }],
            checks: vec![],
            auto_increment: None,
            auto_increment_start: 1,
            engine: "memory".into(),
            comment: String::new(),
            version: 3,
            foreign_keys: fks,
            referenced_by,
            collation: Collation::LEGACY,
        }))
    }

    #[test]
    fn schema_collation_is_version_two_and_legacy_keeps_version_one() {
        let old = SchemaDef { name: "d".into(), collation: Collation::LEGACY };
        let b = encode_schema(&old);
        assert_eq!(b, [1, b'D', 1, 0, 0, 0, b'd'], "a LEGACY default keeps the version-1 bytes");
        assert_eq!(decode_schema(&b).unwrap(), old);
        let new = SchemaDef { name: "d".into(), collation: Collation::Utf8mb4_0900AiCi };
        let b = encode_schema(&new);
        assert_eq!(b, [2, b'D', 1, 0, 0, 0, b'd', 255, 0]);
        assert_eq!(decode_schema(&b).unwrap(), new);
        assert!(decode_schema(&[2, b'D', 1, 0, 0, 0, b'd', 7, 0]).is_err(), "unknown collation id");
        assert!(decode_schema(&[2, b'D', 1, 0, 0, 0, b'd']).is_err(), "short record");
        assert!(decode_schema(&[1, b'D', 1, 0, 0, 0, b'd', 0]).is_err(), "trailing bytes");
        assert!(decode_schema(&[3, b'D', 1, 0, 0, 0, b'd', 255, 0]).is_err(), "unknown version");
    }

    #[test]
    fn collations_round_trip_in_format_three() {
        let Relation::Table(t) = table(vec![], vec![]) else { unreachable!() };
        let mut t = (*t).clone();
        t.columns[0].collation = Collation::Utf8mb4_0900AiCi;
        let r = Relation::Table(std::sync::Arc::new(t.clone()));
        let b = encode_relation(&r);
        assert_eq!(b[0], FORMAT_COLL);
        assert_eq!(decode_relation(&b).expect("decodes"), r);
        for n in 0..b.len() {
            assert!(decode_relation(&b[..n]).is_err());
        }
        let mut bad = b.clone();
        let n = bad.len();
        bad[n - 2] = 0xEE;
        assert!(decode_relation(&bad).is_err(), "unknown collation id");
        // Only the table default differing also needs format 3.
        t.columns[0].collation = Collation::LEGACY;
        t.collation = Collation::Utf8mb4Bin;
        let r = Relation::Table(std::sync::Arc::new(t));
        let b = encode_relation(&r);
        assert_eq!(b[0], FORMAT_COLL);
        assert_eq!(decode_relation(&b).expect("decodes"), r);
    }

    #[test]
    fn generated_columns_and_enums_round_trip_in_format_four() {
        let Relation::Table(t) = table(vec![], vec![]) else { unreachable!() };
        let mut t = (*t).clone();
        let members = mizzle_types::Members::intern(&["a", "b"], Collation::LEGACY);
        let mut e = t.columns[0].clone();
        e.name = "e".into();
        e.ty = SqlType::Enum(members);
        e.collation = Collation::Utf8mb4_0900AiCi;
        e.ty = with_member_collation(e.ty, e.collation);
        t.columns.push(e);
        let mut g = t.columns[0].clone();
        g.name = "g".into();
        g.generated = Some(Generated { expr: "`p` + 1".into(), stored: true });
        t.columns.push(g);
        let mut u = t.columns[0].clone();
        u.name = "u".into();
        u.ty = SqlType::Timestamp(3);
        u.on_update = Some(3);
        t.columns.push(u);
        let r = Relation::Table(std::sync::Arc::new(t.clone()));
        let b = encode_relation(&r);
        assert_eq!(b[0], FORMAT_EXT);
        let back = decode_relation(&b).expect("decodes");
        assert_eq!(back, r);
        let Relation::Table(bt) = back else { unreachable!() };
        assert_eq!(bt.columns[1].ty.members().map(|m| m.collation()), Some(Collation::Utf8mb4_0900AiCi));
        for n in 0..b.len() {
            assert!(decode_relation(&b[..n]).is_err());
        }
        let mut bad = b.clone();
        let tag = bad.len() - 4 - "`p` + 1".len() - 1 - 4 - 1;
        bad[tag] = 9;
        assert!(decode_relation(&bad).is_err(), "unknown extension tag");
        // A NOT ENFORCED check is an extension too.
        let mut t2 = t.clone();
        t2.columns[2].generated = None;
        t2.checks.push(CheckDef { name: "c".into(), expr: "p > 0".into(), enforced: false });
        let r2 = Relation::Table(std::sync::Arc::new(t2));
        let b2 = encode_relation(&r2);
        assert_eq!(b2[0], FORMAT_EXT);
        assert_eq!(decode_relation(&b2).expect("decodes"), r2);
        // Without extensions the record keeps its older format.
        t.columns[2].generated = None;
        t.columns[3].on_update = None;
        let b = encode_relation(&Relation::Table(std::sync::Arc::new(t)));
        assert_eq!(b[0], FORMAT_COLL);
    }

    #[test]
    fn hidden_functional_key_parts_round_trip_as_an_extension() {
        let Relation::Table(t) = table(vec![], vec![]) else { unreachable!() };
        let mut t = (*t).clone();
        let mut h = t.columns[0].clone();
        h.name = "!fidx!i!1".into();
        h.generated = Some(Generated { expr: "p * 2".into(), stored: false });
        h.hidden = true;
        t.columns.push(h);
        t.indexes.push(IndexDef { name: "i".into(), space: SpaceId(22), columns: vec![1], unique: true });
        let r = Relation::Table(std::sync::Arc::new(t.clone()));
        let b = encode_relation(&r);
        assert_eq!(b[0], FORMAT_EXT);
        assert_eq!(&b[b.len() - 5..], &[EXT_HIDDEN, 1, 0, 0, 0], "the hidden tag comes last");
        let back = decode_relation(&b).expect("decodes");
        assert_eq!(back, r);
        let Relation::Table(bt) = back else { unreachable!() };
        assert_eq!(bt.column_index("p"), Some(0));
        assert_eq!(bt.column_index("!fidx!i!1"), None, "users never name a hidden column");
        assert_eq!(bt.visible_columns().count(), 1);
        assert_eq!(bt.functional_index_of(1).map(|i| i.name.as_str()), Some("i"));
        for n in 0..b.len() {
            assert!(decode_relation(&b[..n]).is_err());
        }
        // A hidden column out of range, or one that is not generated, is corrupt.
        let mut bad = b.clone();
        let n = bad.len();
        bad[n - 4] = 7;
        assert!(decode_relation(&bad).is_err());
        t.columns[1].generated = None;
        let b = encode_relation(&Relation::Table(std::sync::Arc::new(t)));
        assert!(decode_relation(&b).is_err());
    }

    #[test]
    fn table_without_foreign_keys_keeps_format_one() {
        let r = table(vec![], vec![]);
        let b = encode_relation(&r);
        assert_eq!(b[0], FORMAT);
        assert_eq!(decode_relation(&b).expect("decodes"), r);
    }

    #[test]
    fn foreign_keys_round_trip_in_format_two() {
        let fk = ForeignKeyDef {
            name: "fk".into(),
            columns: vec!["p".into()],
            ref_schema: "s".into(),
            ref_table: "parent".into(),
            ref_columns: vec!["id".into()],
            on_delete: FkAction::Cascade,
            on_update: FkAction::SetNull,
        };
        let r = table(vec![fk], vec![("s".into(), "grandchild".into())]);
        let b = encode_relation(&r);
        assert_eq!(b[0], FORMAT_FK);
        assert_eq!(decode_relation(&b).expect("decodes"), r);
        // Every truncation is an error, never a panic.
        for n in 0..b.len() {
            assert!(decode_relation(&b[..n]).is_err());
        }
        let mut bad = b.clone();
        let last_action = bad.len() - 4 - 1 - 4 - 1 - 4 - 10 - 1;
        bad[last_action] = 9;
        assert!(decode_relation(&bad).is_err(), "unknown action tag");
    }

    /// Decodes the example of `docs/format/dictionary.md`, section 3.
    #[test]
    fn spec_example_decodes() {
        let doc = include_str!("../../../docs/format/dictionary.md");
        let block = doc.split("```").nth(1).expect("the spec has an example block");
        let mut hex = String::new();
        for line in block.lines() {
            // Bytes come first on a line; the rest is the description.
            for word in line.split_whitespace() {
                if word.len() % 2 == 0 && word.chars().all(|c| c.is_ascii_hexdigit()) {
                    hex.push_str(word);
                } else {
                    break;
                }
            }
        }
        let bytes: Vec<u8> =
            (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex")).collect();
        let Relation::Table(t) = decode_relation(&bytes).expect("the example decodes") else {
            panic!("the example is a table");
        };
        assert_eq!((t.schema.as_str(), t.name.as_str(), t.space), ("s", "c", SpaceId(20)));
        assert_eq!(t.columns.len(), 1);
        assert_eq!(t.columns[0].ty, SqlType::INT);
        assert_eq!(t.version, 3);
        assert_eq!(
            t.foreign_keys,
            vec![ForeignKeyDef {
                name: "fk".into(),
                columns: vec!["p".into()],
                ref_schema: "s".into(),
                ref_table: "par".into(),
                ref_columns: vec!["id".into()],
                on_delete: FkAction::Cascade,
                on_update: FkAction::NoAction,
            }]
        );
        assert!(t.referenced_by.is_empty());
        assert_eq!(encode_relation(&Relation::Table(t)), bytes, "and re-encodes to the same bytes");
    }
}
