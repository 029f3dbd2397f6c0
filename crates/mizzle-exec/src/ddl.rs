//! DDL execution: definitions change in the dictionary and data changes in
//! the same transaction, so DDL commits and rolls back like DML.
//!
//! Invariants:
//! 1. A DDL statement that reads a table's rows (ALTER, CREATE INDEX, DROP,
//!    TRUNCATE) records a dependency on the table's spaces, so it cannot
//!    commit after a concurrent DML on the table committed, and DML planned
//!    on the old definition cannot commit after it (dictionary reads).
//! 2. ALTER TABLE that changes the row layout copies rows into new spaces
//!    and converts every value with strict rules; any failure (a value that
//!    does not fit, a duplicate for a new unique key, a CHECK) fails the
//!    statement and leaves the old table untouched.
//! 3. Space ids are never reused; old spaces are emptied in the transaction.
//! 4. A functional key part is a hidden VIRTUAL generated column added
//!    after every visible column when its index is created and removed
//!    with it (both rewrite the rows); its type is its expression's,
//!    derived again whenever the rows are rewritten. A column such a part
//!    reads cannot be dropped or renamed (3837).

use std::sync::Arc;

use mizzle_dictionary::{with_member_collation, CheckDef, ColumnDef, Generated, IndexDef, Relation, TableDef, ViewDef};
use mizzle_sql::plan::{AlterOp, ColumnPosition, ColumnSpec, Ddl, IndexSpec, KeyPart, Plan, TableSpec};
use mizzle_types::{Collation, ErrorCode, SqlType, Value, Warning};

use crate::build::collect;
use crate::ctx::Ctx;
use crate::dml::{all_rows, clear_space, decode_columns, insert_rows, rows_with_columns};
use crate::error::ExecError;
use crate::eval::eval;
use crate::fk_ddl;
use crate::keys::{dup_value, enforces_unique, index_key};

/// What a DDL statement did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DdlResult {
    /// Rows written (CREATE TABLE ... SELECT, ALTER copies).
    pub rows: u64,
}

fn lc(s: &str) -> String {
    s.to_lowercase()
}

fn note(ctx: &mut Ctx<'_>, code: ErrorCode, message: String) {
    ctx.warn(Warning::new(code, message));
}

fn require_schema(schema: &str, ctx: &mut Ctx<'_>) -> Result<(), ExecError> {
    if !ctx.dict.schema_exists(ctx.txn, schema)? {
        return Err(ExecError::ddl(ErrorCode::UnknownDatabase, format!("Unknown database '{schema}'")));
    }
    Ok(())
}

fn require_table(schema: &str, name: &str, ctx: &mut Ctx<'_>) -> Result<Arc<TableDef>, ExecError> {
    match ctx.dict.get_relation(ctx.txn, schema, name)? {
        Some(Relation::Table(t)) => Ok(t),
        Some(Relation::View(_)) => {
            Err(ExecError::ddl(ErrorCode::WrongObject, format!("'{schema}.{name}' is not BASE TABLE")))
        }
        None => Err(ExecError::ddl(ErrorCode::NoSuchTable, format!("Table '{schema}.{name}' doesn't exist"))),
    }
}

/// The stored column of a spec; a text column without COLLATE gets
/// `table_default`, and its character-set warnings are raised.
fn column_def(c: &ColumnSpec, table_default: Collation, ctx: &mut Ctx<'_>) -> Result<ColumnDef, ExecError> {
    for w in &c.warnings {
        note(ctx, ErrorCode::WarnDeprecatedSyntax, w.clone());
    }
    let collation = if c.ty.kind() == mizzle_types::ValueKind::Text {
        c.collation.unwrap_or(table_default)
    } else {
        Collation::LEGACY
    };
    let ty = with_member_collation(c.ty, collation);
    // ENUM / SET members equal under the column's collation: 1291.
    if let Some(m) = ty.members() {
        let names = m.names();
        for (i, a) in names.iter().enumerate() {
            if names[..i].iter().any(|b| collation.eq(a, b)) {
                let kind = if matches!(ty, SqlType::Set(_)) { "SET" } else { "ENUM" };
                return Err(ExecError::ddl(
                    ErrorCode::DuplicatedValueInType,
                    format!("Column '{}' has duplicated value '{a}' in {kind}", c.name),
                ));
            }
        }
    }
    Ok(ColumnDef {
        collation,
        name: c.name.clone(),
        ty,
        nullable: c.nullable && !c.primary_key,
        default: c.default.clone(),
        auto_increment: c.auto_increment,
        comment: c.comment.clone(),
        generated: c.generated.as_ref().map(|(expr, stored)| Generated { expr: expr.clone(), stored: *stored }),
        on_update: c.on_update,
        hidden: false,
    })
}

fn col_index(cols: &[ColumnDef], name: &str) -> Result<usize, ExecError> {
    let i = cols.iter().position(|c| !c.hidden && lc(&c.name) == lc(name)).ok_or_else(|| {
        ExecError::ddl(ErrorCode::KeyColumnMissing, format!("Key column '{name}' doesn't exist in table"))
    })?;
    // A JSON column is never a key part (MySQL indexes JSON only through
    // generated columns).
    if cols.get(i).is_some_and(|c| c.ty == mizzle_types::SqlType::Json) {
        return Err(ExecError::ddl(
            ErrorCode::JsonUsedAsKey,
            format!("JSON column '{name}' supports indexing only via generated columns on a specified JSON path."),
        ));
    }
    Ok(i)
}

fn unique_index_name(existing: &[IndexDef], base: &str) -> String {
    let taken = |n: &str| existing.iter().any(|i| lc(&i.name) == lc(n)) || lc(n) == "primary";
    if !taken(base) {
        return base.to_string();
    }
    let mut k = 2;
    loop {
        let n = format!("{base}_{k}");
        if !taken(&n) {
            return n;
        }
        k += 1;
    }
}

/// The name MySQL gives an unnamed index: its first column's, or
/// `functional_index` when its first key part is an expression.
fn default_index_name(parts: &[KeyPart]) -> &str {
    match parts.first() {
        Some(KeyPart::Column(c)) => c,
        _ => "functional_index",
    }
}

/// The hidden column of key part `k` of index `index` (invariant 4): a
/// VIRTUAL generated column of its expression's type, added after every
/// column. Its name is no user's concern (no name lookup finds it); it is
/// unique in the table.
fn add_hidden_column(t: &mut TableDef, index: &str, k: usize, expr: &str) -> Result<usize, ExecError> {
    let (ty, coll) = mizzle_sql::bind::functional_key_part(t, index, expr)?;
    let collation =
        if ty.kind() == mizzle_types::ValueKind::Text { coll.unwrap_or(t.collation) } else { Collation::LEGACY };
    let base = format!("!fidx!{}!{}", lc(index), k + 1);
    let mut name = base.clone();
    let mut n = 1;
    while t.columns.iter().any(|c| lc(&c.name) == lc(&name)) {
        n += 1;
        name = format!("{base}!{n}");
    }
    t.columns.push(ColumnDef {
        name,
        ty: with_member_collation(ty, collation),
        nullable: true,
        default: None,
        auto_increment: false,
        comment: String::new(),
        collation,
        generated: Some(Generated { expr: expr.to_string(), stored: false }),
        on_update: None,
        hidden: true,
    });
    Ok(t.columns.len() - 1)
}

/// Derives every hidden column's type from its expression again (the
/// columns it reads may have changed type); invariant 4.
fn retype_hidden_columns(t: &mut TableDef) -> Result<(), ExecError> {
    for i in 0..t.columns.len() {
        if !t.columns[i].hidden {
            continue;
        }
        let index = t.functional_index_of(i).map(|ix| ix.name.clone()).unwrap_or_default();
        let expr = t.columns[i].generated.as_ref().map(|g| g.expr.clone()).unwrap_or_default();
        let (ty, coll) = mizzle_sql::bind::functional_key_part(t, &index, &expr)?;
        let collation =
            if ty.kind() == mizzle_types::ValueKind::Text { coll.unwrap_or(t.collation) } else { Collation::LEGACY };
        t.columns[i].ty = with_member_collation(ty, collation);
        t.columns[i].collation = collation;
    }
    Ok(())
}

/// True if a functional key part of `t` reads column `col`.
fn used_by_functional_index(t: &TableDef, col: usize) -> Result<bool, ExecError> {
    if !t.columns.iter().any(|c| c.hidden) {
        return Ok(false);
    }
    for (i, e) in mizzle_sql::bind::bind_generated_for(t)? {
        if t.columns[i].hidden {
            let mut used = Vec::new();
            e.columns_used(&mut used);
            if used.contains(&col) {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

fn functional_dependency(c: &str) -> ExecError {
    ExecError::ddl(
        ErrorCode::DependentByFunctionalIndex,
        format!("Column '{c}' has a functional index dependency and cannot be dropped or renamed."),
    )
}

/// Adds an index definition (no data written; a functional key part adds
/// its hidden column, whose values the caller computes).
fn add_index_def(t: &mut TableDef, spec: &IndexSpec, ctx: &mut Ctx<'_>) -> Result<(), ExecError> {
    if spec.primary {
        let cols = spec
            .parts
            .iter()
            .map(|p| match p {
                KeyPart::Column(c) => col_index(&t.columns, c),
                KeyPart::Expr(_) => Err(ExecError::ddl(
                    ErrorCode::FunctionalIndexPrimaryKey,
                    "The primary key cannot be a functional index",
                )),
            })
            .collect::<Result<Vec<_>, _>>()?;
        if !t.primary_key.is_empty() {
            return Err(ExecError::ddl(ErrorCode::MultiplePrimaryKey, "Multiple primary key defined"));
        }
        for &c in &cols {
            t.columns[c].nullable = false;
        }
        t.primary_key = cols;
        return Ok(());
    }
    let name = match &spec.name {
        Some(n) => {
            if t.indexes.iter().any(|i| lc(&i.name) == lc(n)) || lc(n) == "primary" {
                return Err(ExecError::ddl(ErrorCode::DuplicateKeyName, format!("Duplicate key name '{n}'")));
            }
            n.clone()
        }
        None => {
            let base = match spec.parts.first() {
                Some(KeyPart::Column(c)) => t.columns[col_index(&t.columns, c)?].name.clone(),
                _ => default_index_name(&spec.parts).to_string(),
            };
            unique_index_name(&t.indexes, &base)
        }
    };
    let mut cols = Vec::with_capacity(spec.parts.len());
    for (k, p) in spec.parts.iter().enumerate() {
        cols.push(match p {
            KeyPart::Column(c) => col_index(&t.columns, c)?,
            KeyPart::Expr(e) => add_hidden_column(t, &name, k, e)?,
        });
    }
    t.indexes.push(IndexDef { name, space: ctx.dict.alloc_space(), columns: cols, unique: spec.unique });
    Ok(())
}

/// Builds a table definition from a bound spec.
fn table_def(spec: &TableSpec, ctx: &mut Ctx<'_>) -> Result<TableDef, ExecError> {
    for w in &spec.warnings {
        note(ctx, ErrorCode::WarnDeprecatedSyntax, w.clone());
    }
    // Needs the server default once `collation_server` exists; today LEGACY.
    let collation = spec.collation.unwrap_or(Collation::LEGACY);
    let columns = spec.columns.iter().map(|c| column_def(c, collation, ctx)).collect::<Result<Vec<_>, _>>()?;
    let mut t = TableDef {
        collation,
        schema: spec.schema.clone(),
        name: spec.name.clone(),
        space: ctx.dict.alloc_space(),
        columns,
        primary_key: Vec::new(),
        indexes: Vec::new(),
        checks: Vec::new(),
        auto_increment: spec.columns.iter().position(|c| c.auto_increment),
        auto_increment_start: spec.auto_increment_start.unwrap_or(1),
        engine: spec.engine.clone().unwrap_or_else(|| "memory".into()),
        comment: spec.comment.clone(),
        version: ctx.dict.next_version(),
        foreign_keys: Vec::new(),
        referenced_by: Vec::new(),
    };
    let inline_pk: Vec<String> = spec.columns.iter().filter(|c| c.primary_key).map(|c| c.name.clone()).collect();
    if !inline_pk.is_empty() {
        add_index_def(&mut t, &IndexSpec::of_columns(Some("PRIMARY".into()), inline_pk, true, true), ctx)?;
    }
    for ix in &spec.indexes {
        add_index_def(&mut t, ix, ctx)?;
    }
    for c in spec.columns.iter().filter(|c| c.unique && !c.primary_key) {
        add_index_def(&mut t, &IndexSpec::of_columns(None, vec![c.name.clone()], true, false), ctx)?;
    }
    for (i, (name, expr, enforced)) in spec.checks.iter().enumerate() {
        let name = name.clone().unwrap_or_else(|| format!("{}_chk_{}", spec.name, i + 1));
        t.checks.push(CheckDef { name, expr: expr.clone(), enforced: *enforced });
    }
    mizzle_sql::bind::check_definitions(&t)?;
    Ok(t)
}

/// Writes the entries of index `ix` (new, so its space is empty) for every
/// row: entries are sorted, so a duplicate in a unique index is found as
/// two equal neighbours (reported for the earliest row, in row-key order,
/// that repeats an earlier one, as row-by-row insertion would), then loaded
/// in bulk without per-key conflict checks.
fn fill_index(t: &TableDef, ix: usize, ctx: &mut Ctx<'_>) -> Result<(), ExecError> {
    let def = &t.indexes[ix];
    // One pass over the table: each row's key columns are decoded into one
    // reused row; each (index key, row key) entry is appended to one arena
    // (no allocation per entry) and described by a fixed-size `Entry`.
    let mut arena: Vec<u8> = Vec::new();
    let mut entries: Vec<Entry> = Vec::new();
    {
        let mut cur = ctx.txn.scan(t.space, std::ops::Bound::Unbounded, std::ops::Bound::Unbounded)?;
        let mut b = mizzle_txn::KvBatch::new();
        let mut row = vec![Value::Null; t.columns.len()];
        let mut k = Vec::with_capacity(64);
        while cur.next_batch(&mut b, 1024)? {
            entries.reserve(b.len());
            for (rowkey, payload) in b.iter() {
                decode_columns(t, &def.columns, payload, &mut row)?;
                index_key(t, def, &row, rowkey, &mut k);
                entries.push(Entry::new(&k, rowkey, arena.len()));
                arena.extend_from_slice(&k);
                arena.extend_from_slice(rowkey);
            }
        }
    }
    // Ordered by index key, then row key; the 16-byte heads decide most
    // comparisons without reading the arena. Equal keys end up adjacent.
    let key = |e: &Entry| e.key(&arena);
    entries.sort_unstable_by(|a, b| {
        a.head.cmp(&b.head).then_with(|| key(a).cmp(key(b))).then_with(|| a.rowkey(&arena).cmp(b.rowkey(&arena)))
    });
    let repeat = entries.windows(2).filter(|w| key(&w[0]) == key(&w[1])).map(|w| w[1].rowkey(&arena)).min();
    if let Some(rowkey) = repeat {
        let payload = ctx.txn.get(t.space, rowkey)?.unwrap_or_default();
        let mut row = vec![Value::Null; t.columns.len()];
        decode_columns(t, &def.columns, &payload, &mut row)?;
        return Err(ExecError::Duplicate {
            value: dup_value(&def.columns, &row),
            key: format!("{}.{}", t.name, def.name),
        });
    }
    if ctx.txn.load_new_space(def.space, entries.iter().map(|e| (e.key(&arena), e.rowkey(&arena))))? {
        return Ok(());
    }
    drop((entries, arena));
    // Not expected (the space is new), but then write entry by entry with
    // the usual checks.
    let rows = rows_with_columns(t, &def.columns, ctx)?;
    let mut k = Vec::new();
    for (rowkey, row) in &rows {
        index_key(t, def, row, rowkey, &mut k);
        if enforces_unique(def, row) {
            if !ctx.txn.insert(def.space, &k, rowkey)? {
                return Err(ExecError::Duplicate {
                    value: dup_value(&def.columns, row),
                    key: format!("{}.{}", t.name, def.name),
                });
            }
        } else {
            ctx.txn.put(def.space, &k, rowkey)?;
        }
    }
    Ok(())
}

/// One entry of an index being built: its index key and row key lie back
/// to back in the build's arena from `start`.
struct Entry {
    /// The index key's first 16 bytes, big-endian, zero-padded: two
    /// entries whose heads differ are ordered as their keys are (a shorter
    /// key is then a proper prefix of the other, which its zero pad
    /// orders first); equal heads say nothing.
    head: u128,
    start: usize,
    key_len: usize,
    rowkey_len: usize,
}

impl Entry {
    fn new(key: &[u8], rowkey: &[u8], start: usize) -> Entry {
        let mut h = [0u8; 16];
        let n = key.len().min(16);
        h[..n].copy_from_slice(&key[..n]);
        Entry { head: u128::from_be_bytes(h), start, key_len: key.len(), rowkey_len: rowkey.len() }
    }

    fn key<'a>(&self, arena: &'a [u8]) -> &'a [u8] {
        arena.get(self.start..self.start + self.key_len).unwrap_or_default()
    }

    fn rowkey<'a>(&self, arena: &'a [u8]) -> &'a [u8] {
        let from = self.start + self.key_len;
        arena.get(from..from + self.rowkey_len).unwrap_or_default()
    }
}

fn drop_table_data(t: &TableDef, ctx: &mut Ctx<'_>) -> Result<(), ExecError> {
    ctx.txn.record_read_space(t.space);
    clear_space(t.space, ctx)?;
    for ix in &t.indexes {
        ctx.txn.record_read_space(ix.space);
        clear_space(ix.space, ctx)?;
    }
    Ok(())
}

/// Builds a temporary table's definition (fresh spaces, nothing written to
/// the dictionary) and fills it from `as_select`; the session keeps the
/// definition. Returns it with the number of rows inserted.
pub fn temporary_table(
    spec: &TableSpec,
    as_select: Option<&Plan>,
    ctx: &mut Ctx<'_>,
) -> Result<(Arc<TableDef>, u64), ExecError> {
    require_schema(&spec.schema, ctx)?;
    let t = Arc::new(table_def(spec, ctx)?);
    let mut rows = 0;
    if let Some(plan) = as_select {
        rows = insert_converted(&t, plan, ctx)?;
    }
    Ok((t, rows))
}

/// Deletes a table's rows and index entries (TRUNCATE or DROP of a
/// temporary table, whose definition the session keeps).
pub fn clear_table(t: &TableDef, ctx: &mut Ctx<'_>) -> Result<(), ExecError> {
    drop_table_data(t, ctx)
}

/// Inserts the rows of `plan` into the new table `t`, converted to its
/// column types (CREATE TABLE ... SELECT).
fn insert_converted(t: &TableDef, plan: &Plan, ctx: &mut Ctx<'_>) -> Result<u64, ExecError> {
    let rows = collect(plan, ctx)?;
    // A TIMESTAMP column of the query holds stored (UTC) values.
    let stored: Vec<bool> = plan.columns().iter().map(|c| matches!(c.ty, SqlType::Timestamp(_))).collect();
    let mut conv = Vec::with_capacity(rows.len());
    // Hidden columns (functional key parts) follow the selected ones.
    let hidden = t.columns.iter().any(|c| c.hidden);
    let gens = if hidden { crate::dml::generated_exprs(t)? } else { Vec::new() };
    for (n, r) in rows.into_iter().enumerate() {
        let mut out = Vec::with_capacity(t.columns.len());
        for (c, v) in r.into_iter().enumerate() {
            let Some(col) = t.columns.get(c) else { break };
            out.push(if v.is_null() {
                v
            } else {
                let raw = stored.get(c).copied().unwrap_or(false);
                crate::stored_time::assign_value(&v, raw, col, n as u64 + 1, ctx)?
            });
        }
        if hidden {
            out.resize(t.columns.len(), Value::Null);
            crate::dml::fill_generated(t, &gens, &mut out, n as u64 + 1, ctx)?;
        }
        conv.push(out);
    }
    insert_rows(t, conv, ctx)
}

/// Executes a DDL statement.
pub fn execute(ddl: &Ddl, ctx: &mut Ctx<'_>) -> Result<DdlResult, ExecError> {
    let mut res = DdlResult::default();
    match ddl {
        Ddl::CreateSchema { name, if_not_exists, collation } => {
            if !ctx.dict.create_schema(ctx.txn, name, *collation, *if_not_exists)? {
                note(ctx, ErrorCode::DatabaseExists, format!("Can't create database '{name}'; database exists"));
            }
        }
        Ddl::DropSchema { name, if_exists } => {
            if !ctx.dict.schema_exists(ctx.txn, name)? {
                if *if_exists {
                    note(
                        ctx,
                        ErrorCode::DatabaseMissingOnDrop,
                        format!("Can't drop database '{name}'; database doesn't exist"),
                    );
                    return Ok(res);
                }
                return Err(ExecError::ddl(
                    ErrorCode::DatabaseMissingOnDrop,
                    format!("Can't drop database '{name}'; database doesn't exist"),
                ));
            }
            for r in ctx.dict.list_relations(ctx.txn, name)? {
                if let Relation::Table(t) = &r {
                    drop_table_data(t, ctx)?;
                }
                ctx.dict.drop_relation(ctx.txn, name, r.name())?;
            }
            ctx.dict.drop_schema(ctx.txn, name)?;
        }
        Ddl::CreateTable { spec, if_not_exists, as_select } => {
            require_schema(&spec.schema, ctx)?;
            if ctx.dict.get_relation(ctx.txn, &spec.schema, &spec.name)?.is_some() {
                if *if_not_exists {
                    note(ctx, ErrorCode::TableExists, format!("Table '{}' already exists", spec.name));
                    return Ok(res);
                }
                return Err(ExecError::ddl(ErrorCode::TableExists, format!("Table '{}' already exists", spec.name)));
            }
            let mut t = table_def(spec, ctx)?;
            for f in &spec.foreign_keys {
                let (def, _) = fk_ddl::add_foreign_key(&mut t, f, ctx)?;
                t.foreign_keys.push(def);
            }
            for (s, n) in fk_ddl::find_children(&t.schema, &t.name, ctx)? {
                t.add_referencing(&s, &n);
            }
            let t = Arc::new(t);
            ctx.dict.create_relation(ctx.txn, &Relation::Table(t.clone()))?;
            fk_ddl::link_parents(&t, ctx)?;
            if let Some(plan) = as_select {
                res.rows = insert_converted(&t, plan, ctx)?;
            }
        }
        Ddl::CreateTemporaryTable { .. } | Ddl::DropTemporaryTables { .. } => {
            return Err(ExecError::Internal("temporary-table DDL reached the executor; the session runs it".into()))
        }
        Ddl::DropTables { names, if_exists } => {
            for (schema, name) in names {
                match ctx.dict.get_relation(ctx.txn, schema, name)? {
                    Some(Relation::Table(t)) => {
                        fk_ddl::check_drop(&t, names, ctx)?;
                        drop_table_data(&t, ctx)?;
                        ctx.dict.drop_relation(ctx.txn, schema, name)?;
                        fk_ddl::unlink_parents(schema, name, &t.foreign_keys, ctx)?;
                    }
                    _ if *if_exists => note(ctx, ErrorCode::UnknownTable, format!("Unknown table '{schema}.{name}'")),
                    _ => {
                        return Err(ExecError::ddl(ErrorCode::UnknownTable, format!("Unknown table '{schema}.{name}'")))
                    }
                }
            }
        }
        Ddl::DropViews { names, if_exists } => {
            for (schema, name) in names {
                match ctx.dict.get_relation(ctx.txn, schema, name)? {
                    Some(Relation::View(_)) => ctx.dict.drop_relation(ctx.txn, schema, name)?,
                    Some(Relation::Table(_)) => {
                        return Err(ExecError::ddl(ErrorCode::WrongObject, format!("'{schema}.{name}' is not VIEW")))
                    }
                    None if *if_exists => {
                        note(ctx, ErrorCode::UnknownTable, format!("Unknown table '{schema}.{name}'"))
                    }
                    None => {
                        return Err(ExecError::ddl(ErrorCode::UnknownTable, format!("Unknown table '{schema}.{name}'")))
                    }
                }
            }
        }
        Ddl::CreateView { schema, name, sql, columns, or_replace, if_not_exists } => {
            require_schema(schema, ctx)?;
            let existing = ctx.dict.get_relation(ctx.txn, schema, name)?;
            let view = Relation::View(Arc::new(ViewDef {
                schema: schema.clone(),
                name: name.clone(),
                sql: sql.clone(),
                columns: columns.clone(),
                version: ctx.dict.next_version(),
            }));
            match existing {
                None => ctx.dict.create_relation(ctx.txn, &view)?,
                Some(Relation::View(_)) if *or_replace => ctx.dict.replace_relation(ctx.txn, &view)?,
                Some(_) if *if_not_exists => {
                    note(ctx, ErrorCode::TableExists, format!("Table '{name}' already exists"))
                }
                Some(_) => {
                    return Err(ExecError::ddl(ErrorCode::TableExists, format!("Table '{name}' already exists")))
                }
            }
        }
        Ddl::CreateIndex { schema, table, spec, if_not_exists } => {
            let t = require_table(schema, table, ctx)?;
            if let Some(n) = &spec.name {
                if t.indexes.iter().any(|i| lc(&i.name) == lc(n)) {
                    if *if_not_exists {
                        note(ctx, ErrorCode::DuplicateKeyName, format!("Duplicate key name '{n}'"));
                        return Ok(res);
                    }
                    return Err(ExecError::ddl(ErrorCode::DuplicateKeyName, format!("Duplicate key name '{n}'")));
                }
            }
            if spec.is_functional() {
                // Its hidden columns change the rows: an ALTER TABLE.
                return alter(schema, table, &[AlterOp::AddIndex(spec.clone())], ctx);
            }
            ctx.txn.record_read_space(t.space);
            let mut nt = (*t).clone();
            add_index_def(&mut nt, spec, ctx)?;
            nt.version = ctx.dict.next_version();
            let ix = nt.indexes.len() - 1;
            fill_index(&nt, ix, ctx)?;
            ctx.dict.replace_relation(ctx.txn, &Relation::Table(Arc::new(nt)))?;
        }
        Ddl::DropIndex { schema, table, name, if_exists } => {
            let t = require_table(schema, table, ctx)?;
            if lc(name) == "primary" {
                return alter(schema, table, &[AlterOp::DropPrimaryKey], ctx);
            }
            let Some(pos) = t.indexes.iter().position(|i| lc(&i.name) == lc(name)) else {
                if *if_exists {
                    note(
                        ctx,
                        ErrorCode::CantDropFieldOrKey,
                        format!("Can't DROP '{name}'; check that column/key exists"),
                    );
                    return Ok(res);
                }
                return Err(ExecError::ddl(
                    ErrorCode::CantDropFieldOrKey,
                    format!("Can't DROP '{name}'; check that column/key exists"),
                ));
            };
            if t.indexes[pos].columns.iter().any(|&c| t.columns.get(c).is_some_and(|c| c.hidden)) {
                // Its hidden columns go with it: an ALTER TABLE.
                return alter(schema, table, &[AlterOp::DropIndex { name: name.clone() }], ctx);
            }
            let mut nt = (*t).clone();
            let ix = nt.indexes.remove(pos);
            ctx.txn.record_read_space(ix.space);
            clear_space(ix.space, ctx)?;
            nt.version = ctx.dict.next_version();
            ctx.dict.replace_relation(ctx.txn, &Relation::Table(Arc::new(nt)))?;
        }
        Ddl::AlterTable { schema, name, ops } => return alter(schema, name, ops, ctx),
        Ddl::RenameTables { pairs } => {
            for ((s1, n1), (s2, n2)) in pairs {
                let rel = match ctx.dict.get_relation(ctx.txn, s1, n1)? {
                    Some(r) => r,
                    None => {
                        return Err(ExecError::ddl(ErrorCode::NoSuchTable, format!("Table '{s1}.{n1}' doesn't exist")))
                    }
                };
                require_schema(s2, ctx)?;
                if ctx.dict.get_relation(ctx.txn, s2, n2)?.is_some() {
                    return Err(ExecError::ddl(ErrorCode::TableExists, format!("Table '{n2}' already exists")));
                }
                ctx.dict.drop_relation(ctx.txn, s1, n1)?;
                let renamed = match rel {
                    Relation::Table(t) => {
                        let mut nt = (*t).clone();
                        nt.schema = s2.clone();
                        nt.name = n2.clone();
                        fk_ddl::rename_self(&mut nt, s1, n1);
                        nt.version = ctx.dict.next_version();
                        let nt = Arc::new(nt);
                        ctx.dict.create_relation(ctx.txn, &Relation::Table(nt.clone()))?;
                        fk_ddl::renamed(s1, n1, &nt, ctx)?;
                        continue;
                    }
                    Relation::View(v) => {
                        let mut nv = (*v).clone();
                        nv.schema = s2.clone();
                        nv.name = n2.clone();
                        nv.version = ctx.dict.next_version();
                        Relation::View(Arc::new(nv))
                    }
                };
                ctx.dict.create_relation(ctx.txn, &renamed)?;
            }
        }
        Ddl::Truncate { schema, name } => {
            let t = require_table(schema, name, ctx)?;
            fk_ddl::check_truncate(&t, ctx)?;
            drop_table_data(&t, ctx)?;
            let mut nt = (*t).clone();
            nt.space = ctx.dict.alloc_space();
            for ix in &mut nt.indexes {
                ix.space = ctx.dict.alloc_space();
            }
            nt.version = ctx.dict.next_version();
            ctx.dict.replace_relation(ctx.txn, &Relation::Table(Arc::new(nt)))?;
        }
        Ddl::AlterSchema { name, collation } => ctx.dict.alter_schema(ctx.txn, name, *collation)?,
    }
    Ok(res)
}

fn position_of(cols: &[ColumnDef], p: &ColumnPosition, current: usize) -> Result<usize, ExecError> {
    Ok(match p {
        ColumnPosition::Default => current,
        ColumnPosition::First => 0,
        ColumnPosition::After(c) => {
            cols.iter()
                .position(|x| !x.hidden && lc(&x.name) == lc(c))
                .ok_or_else(|| ExecError::ddl(ErrorCode::UnknownColumn, format!("Unknown column '{c}' in 'table'")))?
                + 1
        }
    })
}

/// Index membership by column name while ALTER operations run.
struct NamedIndex {
    def: IndexDef,
    cols: Vec<String>,
}

/// ALTER TABLE: computes the new definition and, if the row layout changed,
/// copies the rows (invariant 2). Keys are tracked by column name while the
/// operations run and resolved to positions at the end.
fn alter(schema: &str, name: &str, ops: &[AlterOp], ctx: &mut Ctx<'_>) -> Result<DdlResult, ExecError> {
    let old = require_table(schema, name, ctx)?;
    let mut t = (*old).clone();
    let colname = |i: usize| old.columns[i].name.clone();
    let mut pk: Vec<String> = old.primary_key.iter().map(|&i| colname(i)).collect();
    let mut idx: Vec<NamedIndex> = old
        .indexes
        .iter()
        .map(|ix| NamedIndex { def: ix.clone(), cols: ix.columns.iter().map(|&i| colname(i)).collect() })
        .collect();
    let mut ai: Option<String> = old.auto_increment.map(colname);
    // For each column of the new layout: the old column it comes from.
    let mut origin: Vec<Option<usize>> = (0..t.columns.len()).map(Some).collect();
    let mut rewrite = false;
    let mut new_checks: Vec<usize> = Vec::new();
    let mut new_indexes: Vec<String> = Vec::new();
    let mut rename_to: Option<(String, String)> = None;
    let mut new_fks: Vec<&mizzle_sql::plan::ForeignKeySpec> = Vec::new();
    let mut dropped_fks: Vec<mizzle_dictionary::ForeignKeyDef> = Vec::new();
    let mut renamed_cols: Vec<(String, String)> = Vec::new();
    let mut dropped_index: Option<String> = None;
    let unknown = |c: &str| ExecError::ddl(ErrorCode::UnknownColumn, format!("Unknown column '{c}' in '{name}'"));
    // Users name visible columns only; keys are resolved over all of them
    // (a functional key part names its hidden column).
    let find = |cols: &[ColumnDef], c: &str| cols.iter().position(|x| !x.hidden && lc(&x.name) == lc(c));
    let find_any = |cols: &[ColumnDef], c: &str| cols.iter().position(|x| lc(&x.name) == lc(c));
    let visible = |cols: &[ColumnDef]| cols.iter().filter(|c| !c.hidden).count();
    for op in ops {
        match op {
            AlterOp::AddColumn { column, position } => {
                if find_any(&t.columns, &column.name).is_some() {
                    return Err(ExecError::ddl(
                        ErrorCode::DuplicateColumn,
                        format!("Duplicate column name '{}'", column.name),
                    ));
                }
                // Before the hidden columns, which stay last (invariant 4).
                let at = position_of(&t.columns, position, visible(&t.columns))?;
                let def = column_def(column, t.collation, ctx)?;
                t.columns.insert(at, def);
                origin.insert(at, None);
                if column.primary_key {
                    if !pk.is_empty() {
                        return Err(ExecError::ddl(ErrorCode::MultiplePrimaryKey, "Multiple primary key defined"));
                    }
                    pk = vec![column.name.clone()];
                }
                if column.unique {
                    let n = unique_index_name(&idx.iter().map(|i| i.def.clone()).collect::<Vec<_>>(), &column.name);
                    idx.push(NamedIndex {
                        def: IndexDef { name: n.clone(), space: ctx.dict.alloc_space(), columns: vec![], unique: true },
                        cols: vec![column.name.clone()],
                    });
                    new_indexes.push(n);
                }
                if column.auto_increment {
                    ai = Some(column.name.clone());
                }
                rewrite = true;
            }
            AlterOp::DropColumn { name: c, if_exists } => {
                let Some(i) = find(&t.columns, c) else {
                    if *if_exists {
                        continue;
                    }
                    return Err(ExecError::ddl(
                        ErrorCode::CantDropFieldOrKey,
                        format!("Can't DROP '{c}'; check that column/key exists"),
                    ));
                };
                if used_by_functional_index(&t, i)? {
                    return Err(functional_dependency(&t.columns[i].name));
                }
                if visible(&t.columns) == 1 {
                    if t.columns.len() > 1 {
                        return Err(ExecError::ddl(
                            ErrorCode::TableMustHaveColumns,
                            "A table must have at least 1 column",
                        ));
                    }
                    return Err(ExecError::ddl(
                        ErrorCode::CantDropFieldOrKey,
                        "You can't delete all columns with ALTER TABLE; use DROP TABLE instead",
                    ));
                }
                fk_ddl::check_drop_column(&t, c, ctx)?;
                let n = t.columns.remove(i).name;
                origin.remove(i);
                pk.retain(|x| lc(x) != lc(&n));
                for ix in &mut idx {
                    ix.cols.retain(|x| lc(x) != lc(&n));
                }
                idx.retain(|ix| !ix.cols.is_empty());
                if ai.as_deref().is_some_and(|a| lc(a) == lc(&n)) {
                    ai = None;
                }
                rewrite = true;
            }
            AlterOp::ModifyColumn { old_name, column, position } => {
                let i = find(&t.columns, old_name).ok_or_else(|| unknown(old_name))?;
                if lc(old_name) != lc(&column.name) && find_any(&t.columns, &column.name).is_some() {
                    return Err(ExecError::ddl(
                        ErrorCode::DuplicateColumn,
                        format!("Duplicate column name '{}'", column.name),
                    ));
                }
                if lc(old_name) != lc(&column.name) && used_by_functional_index(&t, i)? {
                    return Err(functional_dependency(&t.columns[i].name));
                }
                let mut def = column_def(column, t.collation, ctx)?;
                let in_pk = pk.iter().any(|x| lc(x) == lc(old_name));
                if in_pk {
                    def.nullable = false;
                }
                // Renames carry over to key memberships.
                for x in pk.iter_mut().chain(idx.iter_mut().flat_map(|ix| ix.cols.iter_mut())) {
                    if lc(x) == lc(old_name) {
                        *x = column.name.clone();
                    }
                }
                if lc(old_name) != lc(&column.name) || old_name != &column.name {
                    rename_fk_columns(&mut t, old_name, &column.name);
                    renamed_cols.push((old_name.clone(), column.name.clone()));
                }
                let was_ai = ai.as_deref().is_some_and(|a| lc(a) == lc(old_name));
                if column.auto_increment {
                    ai = Some(column.name.clone());
                } else if was_ai {
                    ai = None;
                }
                let from = origin.remove(i);
                t.columns.remove(i);
                let at = position_of(&t.columns, position, i)?;
                t.columns.insert(at, def);
                origin.insert(at, from);
                rewrite = true;
            }
            AlterOp::RenameColumn { old: o, new: n } => {
                let i = find(&t.columns, o).ok_or_else(|| unknown(o))?;
                if lc(o) != lc(n) && find_any(&t.columns, n).is_some() {
                    return Err(ExecError::ddl(ErrorCode::DuplicateColumn, format!("Duplicate column name '{n}'")));
                }
                if lc(o) != lc(n) && used_by_functional_index(&t, i)? {
                    return Err(functional_dependency(&t.columns[i].name));
                }
                t.columns[i].name = n.clone();
                for x in pk.iter_mut().chain(idx.iter_mut().flat_map(|ix| ix.cols.iter_mut())) {
                    if lc(x) == lc(o) {
                        *x = n.clone();
                    }
                }
                rename_fk_columns(&mut t, o, n);
                renamed_cols.push((o.clone(), n.clone()));
                if ai.as_deref().is_some_and(|a| lc(a) == lc(o)) {
                    ai = Some(n.clone());
                }
            }
            AlterOp::SetDefault { name: c, default } => {
                let i = find(&t.columns, c).ok_or_else(|| unknown(c))?;
                t.columns[i].default = default.clone();
            }
            AlterOp::AddIndex(spec) => {
                for c in spec.column_names() {
                    if find(&t.columns, c).is_none() {
                        return Err(ExecError::ddl(
                            ErrorCode::KeyColumnMissing,
                            format!("Key column '{c}' doesn't exist in table"),
                        ));
                    }
                }
                if spec.primary {
                    if spec.is_functional() {
                        return Err(ExecError::ddl(
                            ErrorCode::FunctionalIndexPrimaryKey,
                            "The primary key cannot be a functional index",
                        ));
                    }
                    if !pk.is_empty() {
                        return Err(ExecError::ddl(ErrorCode::MultiplePrimaryKey, "Multiple primary key defined"));
                    }
                    pk = spec.column_names().map(str::to_string).collect();
                    for c in spec.column_names() {
                        if let Some(i) = find(&t.columns, c) {
                            t.columns[i].nullable = false;
                        }
                    }
                    rewrite = true;
                } else {
                    let defs: Vec<IndexDef> = idx.iter().map(|i| i.def.clone()).collect();
                    let n = match &spec.name {
                        Some(n) => {
                            if defs.iter().any(|i| lc(&i.name) == lc(n)) || lc(n) == "primary" {
                                return Err(ExecError::ddl(
                                    ErrorCode::DuplicateKeyName,
                                    format!("Duplicate key name '{n}'"),
                                ));
                            }
                            n.clone()
                        }
                        None => {
                            let base = match spec.parts.first() {
                                Some(KeyPart::Column(c)) => find(&t.columns, c).map(|i| t.columns[i].name.clone()),
                                _ => None,
                            };
                            unique_index_name(&defs, base.as_deref().unwrap_or(default_index_name(&spec.parts)))
                        }
                    };
                    let mut cols = Vec::with_capacity(spec.parts.len());
                    for (k, p) in spec.parts.iter().enumerate() {
                        match p {
                            KeyPart::Column(c) => cols.push(c.clone()),
                            KeyPart::Expr(e) => {
                                let h = add_hidden_column(&mut t, &n, k, e)?;
                                origin.push(None);
                                cols.push(t.columns[h].name.clone());
                                rewrite = true;
                            }
                        }
                    }
                    idx.push(NamedIndex {
                        def: IndexDef {
                            name: n.clone(),
                            space: ctx.dict.alloc_space(),
                            columns: vec![],
                            unique: spec.unique,
                        },
                        cols,
                    });
                    new_indexes.push(n);
                }
            }
            AlterOp::DropIndex { name: n } if lc(n) == "primary" => {
                pk.clear();
                rewrite = true;
                dropped_index = Some("PRIMARY".into());
            }
            AlterOp::DropIndex { name: n } => {
                let Some(pos) = idx.iter().position(|i| lc(&i.def.name) == lc(n)) else {
                    return Err(ExecError::ddl(
                        ErrorCode::CantDropFieldOrKey,
                        format!("Can't DROP '{n}'; check that column/key exists"),
                    ));
                };
                let ix = idx.remove(pos);
                dropped_index = Some(ix.def.name.clone());
                // Its functional key parts' hidden columns go with it.
                for c in &ix.cols {
                    if let Some(h) = find_any(&t.columns, c).filter(|&h| t.columns[h].hidden) {
                        t.columns.remove(h);
                        origin.remove(h);
                        rewrite = true;
                    }
                }
                if old.indexes.iter().any(|o| o.space == ix.def.space) {
                    ctx.txn.record_read_space(ix.def.space);
                    clear_space(ix.def.space, ctx)?;
                }
                new_indexes.retain(|x| lc(x) != lc(n));
            }
            AlterOp::DropPrimaryKey => {
                if pk.is_empty() {
                    return Err(ExecError::ddl(
                        ErrorCode::CantDropFieldOrKey,
                        "Can't DROP 'PRIMARY'; check that column/key exists",
                    ));
                }
                pk.clear();
                rewrite = true;
                dropped_index = Some("PRIMARY".into());
            }
            AlterOp::RenameTable { schema: s, name: n } => rename_to = Some((s.clone(), n.clone())),
            AlterOp::AddCheck { name: n, expr, enforced } => {
                let nm = n.clone().unwrap_or_else(|| format!("{}_chk_{}", t.name, t.checks.len() + 1));
                t.checks.push(CheckDef { name: nm, expr: expr.clone(), enforced: *enforced });
                new_checks.push(t.checks.len() - 1);
            }
            AlterOp::AlterCheck { name: n, enforced } => {
                let Some(i) = t.checks.iter().position(|c| lc(&c.name) == lc(n)) else {
                    return Err(ExecError::ddl(
                        ErrorCode::CheckConstraintNotFound,
                        format!("Check constraint '{n}' is not found in the table."),
                    ));
                };
                // Enforcing it again checks the rows already there.
                if *enforced && !t.checks[i].enforced {
                    new_checks.push(i);
                }
                t.checks[i].enforced = *enforced;
            }
            AlterOp::DropForeignKey { name: n } => {
                let Some(i) = t.foreign_keys.iter().position(|f| lc(&f.name) == lc(n)) else {
                    return Err(ExecError::ddl(
                        ErrorCode::CantDropFieldOrKey,
                        format!("Can't DROP '{n}'; check that column/key exists"),
                    ));
                };
                dropped_fks.push(t.foreign_keys.remove(i));
            }
            AlterOp::AddForeignKey(spec) => new_fks.push(spec),
            AlterOp::DropCheck { name: n } if t.foreign_keys.iter().any(|f| lc(&f.name) == lc(n)) => {
                // DROP CONSTRAINT names a foreign key.
                if let Some(i) = t.foreign_keys.iter().position(|f| lc(&f.name) == lc(n)) {
                    dropped_fks.push(t.foreign_keys.remove(i));
                }
            }
            AlterOp::DropCheck { name: n } => {
                let before = t.checks.len();
                t.checks.retain(|c| lc(&c.name) != lc(n));
                if t.checks.len() == before {
                    return Err(ExecError::ddl(
                        ErrorCode::CantDropFieldOrKey,
                        format!("Can't DROP '{n}'; check that column/key exists"),
                    ));
                }
            }
            AlterOp::NoOp => {}
        }
    }
    // Resolve names to positions.
    let pos = |n: &String| find_any(&t.columns, n).ok_or_else(|| unknown(n));
    t.primary_key = pk.iter().map(pos).collect::<Result<_, _>>()?;
    t.indexes = idx
        .into_iter()
        .map(|ix| {
            let cols = ix.cols.iter().map(pos).collect::<Result<Vec<_>, _>>()?;
            Ok(IndexDef { columns: cols, ..ix.def })
        })
        .collect::<Result<_, ExecError>>()?;
    t.auto_increment = match &ai {
        Some(a) => Some(pos(a)?),
        None => None,
    };
    for (i, c) in t.columns.iter_mut().enumerate() {
        c.auto_increment = t.auto_increment == Some(i);
    }
    for &p in &t.primary_key {
        t.columns[p].nullable = false;
    }
    if t.auto_increment.is_some_and(|a| {
        t.primary_key.first() != Some(&a) && !t.indexes.iter().any(|ix| ix.columns.first() == Some(&a))
    }) {
        return Err(ExecError::ddl(
            ErrorCode::WrongAutoKey,
            "Incorrect table definition; there can be only one auto column and it must be defined as a key",
        ));
    }
    if let Some(d) = &dropped_index {
        fk_ddl::check_indexes_still_serve(&t, d, ctx)?;
    }
    if rewrite {
        retype_hidden_columns(&mut t)?;
    }
    if ops.iter().any(|o| matches!(o, AlterOp::ModifyColumn { .. })) {
        fk_ddl::check_columns_after_alter(&t, ctx)?;
    }
    let mut added_fks = Vec::new();
    for spec in &new_fks {
        let (def, added) = fk_ddl::add_foreign_key(&mut t, spec, ctx)?;
        if let Some(i) = added {
            new_indexes.push(t.indexes[i].name.clone());
        }
        added_fks.push(def.clone());
        t.foreign_keys.push(def);
    }
    if let Err(e) = mizzle_sql::bind::check_definitions(&t) {
        // A generated column reading a dropped column: 3108, as MySQL.
        if let mizzle_sql::error::BindError::UnknownColumn { name: missing, .. } = &e {
            let dropped = ops.iter().any(|o| matches!(o, AlterOp::DropColumn { name: c, .. } if lc(c) == lc(missing)));
            if dropped && t.columns.iter().any(|c| c.generated.is_some()) {
                return Err(ExecError::ddl(
                    ErrorCode::DependentByGeneratedColumn,
                    format!("Column '{missing}' has a generated column dependency."),
                ));
            }
        }
        return Err(e.into());
    }
    t.version = ctx.dict.next_version();
    let mut res = DdlResult::default();
    ctx.txn.record_read_space(old.space);
    if rewrite {
        let gens = crate::dml::generated_exprs(&t)?;
        let rows = all_rows(&old, ctx)?;
        t.space = ctx.dict.alloc_space();
        for ix in &mut t.indexes {
            ix.space = ctx.dict.alloc_space();
        }
        let mut conv = Vec::with_capacity(rows.len());
        let mut next_ai: u64 = 1;
        for (n, (_, r)) in rows.into_iter().enumerate() {
            let mut out = Vec::with_capacity(t.columns.len());
            for (c, col) in t.columns.iter().enumerate() {
                let mut v = match origin[c] {
                    Some(o) => r.get(o).cloned().unwrap_or(Value::Null),
                    None => match &col.default {
                        Some(d) => {
                            let e = mizzle_sql::bind::default_value_expr(d)?;
                            eval(&e, &[], ctx)?
                        }
                        None => Value::Null,
                    },
                };
                if v.is_null() {
                    if t.auto_increment == Some(c) {
                        v = Value::UInt(next_ai);
                    } else if !col.nullable {
                        if origin[c].is_none() {
                            v = implicit_default(col);
                        } else {
                            return Err(mizzle_types::TypeError::NullNotAllowed { column: col.name.clone() }.into());
                        }
                    }
                }
                // An old TIMESTAMP column's value is stored UTC; defaults are
                // computed in session time.
                let raw =
                    origin[c].and_then(|o| old.columns.get(o)).is_some_and(|oc| matches!(oc.ty, SqlType::Timestamp(_)));
                let v =
                    if v.is_null() { v } else { crate::stored_time::assign_value(&v, raw, col, n as u64 + 1, ctx)? };
                if t.auto_increment == Some(c) {
                    match v {
                        Value::Int(i) if i >= 0 => next_ai = next_ai.max(i as u64 + 1),
                        Value::UInt(u) => next_ai = next_ai.max(u + 1),
                        _ => {}
                    }
                }
                out.push(v);
            }
            crate::dml::fill_generated(&t, &gens, &mut out, n as u64 + 1, ctx)?;
            conv.push(out);
        }
        if t.auto_increment.is_some() {
            let s = ctx.dict.sequence(t.space);
            s.observe(next_ai.saturating_sub(1), || Ok::<u64, ExecError>(next_ai))?;
        }
        check_all(&t, &conv, &(0..t.checks.len()).collect::<Vec<_>>(), ctx)?;
        drop_table_data(&old, ctx)?;
        res.rows = insert_rows(&t, conv, ctx)?;
    } else {
        if !new_checks.is_empty() {
            let rows: Vec<Vec<Value>> = all_rows(&t, ctx)?.into_iter().map(|(_, r)| r).collect();
            check_all(&t, &rows, &new_checks, ctx)?;
        }
        for n in &new_indexes {
            if let Some(i) = t.indexes.iter().position(|x| &x.name == n) {
                fill_index(&t, i, ctx)?;
            }
        }
    }
    if crate::fk::enabled(ctx) {
        for f in &added_fks {
            crate::fk::check_existing_rows(&t, f, ctx)?;
        }
    }
    let t = match rename_to {
        Some((s, n)) if lc(&s) != lc(schema) || lc(&n) != lc(name) => {
            require_schema(&s, ctx)?;
            if ctx.dict.get_relation(ctx.txn, &s, &n)?.is_some() {
                return Err(ExecError::ddl(ErrorCode::TableExists, format!("Table '{n}' already exists")));
            }
            ctx.dict.drop_relation(ctx.txn, schema, name)?;
            t.schema = s;
            t.name = n;
            fk_ddl::rename_self(&mut t, schema, name);
            let t = Arc::new(t);
            ctx.dict.create_relation(ctx.txn, &Relation::Table(t.clone()))?;
            fk_ddl::renamed(schema, name, &t, ctx)?;
            t
        }
        _ => {
            let t = Arc::new(t);
            ctx.dict.replace_relation(ctx.txn, &Relation::Table(t.clone()))?;
            t
        }
    };
    for (o, n) in &renamed_cols {
        fk_ddl::column_renamed(&t, o, n, ctx)?;
    }
    if !dropped_fks.is_empty() {
        // Parents no remaining key references lose this table.
        let gone: Vec<_> = dropped_fks
            .into_iter()
            .filter(|d| !t.foreign_keys.iter().any(|f| f.references(&d.ref_schema, &d.ref_table)))
            .collect();
        fk_ddl::unlink_parents(&t.schema, &t.name, &gone, ctx)?;
    }
    fk_ddl::link_parents(&t, ctx)?;
    Ok(res)
}

/// A column rename inside a table's own foreign keys (its columns, and the
/// referenced columns of a self-reference).
fn rename_fk_columns(t: &mut TableDef, old: &str, new: &str) {
    let (schema, name) = (t.schema.clone(), t.name.clone());
    for f in &mut t.foreign_keys {
        let self_ref = f.references(&schema, &name);
        for c in f.columns.iter_mut() {
            if lc(c) == lc(old) {
                *c = new.to_string();
            }
        }
        if self_ref {
            for c in f.ref_columns.iter_mut() {
                if lc(c) == lc(old) {
                    *c = new.to_string();
                }
            }
        }
    }
}

/// The value a new NOT NULL column without default gets in existing rows
/// (MySQL's implicit default: 0, '' or the zero date's nearest legal value).
fn implicit_default(col: &ColumnDef) -> Value {
    use mizzle_types::ValueKind as K;
    match col.ty.kind() {
        K::Int => Value::Int(0),
        K::UInt => Value::UInt(0),
        K::Float => Value::Float(0.0),
        K::Double => Value::Double(0.0),
        K::Decimal => Value::decimal(mizzle_types::Decimal::ZERO),
        K::Text => Value::text(""),
        K::Bytes => Value::bytes(&[]),
        K::Date => mizzle_types::Date::from_ymd(1970, 1, 1).map(Value::Date).unwrap_or(Value::Null),
        K::DateTime => mizzle_types::DateTime::parse("1970-01-01 00:00:00").map(Value::DateTime).unwrap_or(Value::Null),
        K::Json => Value::json(&mizzle_types::json::Json::Null),
        K::Time => Value::Time(mizzle_types::Time::from_micros(0).unwrap_or(mizzle_types::Time::MAX)),
        K::Null => Value::Null,
    }
}

fn check_all(t: &TableDef, rows: &[Vec<Value>], which: &[usize], ctx: &mut Ctx<'_>) -> Result<(), ExecError> {
    if which.is_empty() {
        return Ok(());
    }
    let bound = mizzle_sql::bind::bind_checks_for(t)?;
    let which: Vec<usize> = which.iter().copied().filter(|&i| t.checks.get(i).is_some_and(|c| c.enforced)).collect();
    for r in rows {
        for &i in &which {
            if let Some((name, e)) = bound.get(i) {
                if eval(e, r, ctx)?.truth() == Some(false) {
                    return Err(ExecError::CheckViolated(name.clone()));
                }
            }
        }
    }
    Ok(())
}
