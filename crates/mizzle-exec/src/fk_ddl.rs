//! Foreign keys in DDL: checking a definition against its parent, naming
//! it, giving the child an index, and keeping parents' `referenced_by`
//! lists and children's references in step through CREATE, ALTER, RENAME
//! and DROP.
//!
//! Invariants:
//! 1. A stored foreign key's child columns begin an index of the child and,
//!    when its parent exists, its referenced columns begin an index of the
//!    parent, with compatible types (the same integer width and sign, the
//!    same DECIMAL, strings with strings, binary with binary, otherwise the
//!    same type); this is what `fk` relies on.
//! 2. Every parent lists each table holding a key that references it in
//!    `referenced_by` (a table created while `foreign_key_checks` was OFF
//!    before its children is linked when it is created).
//! 3. With `foreign_key_checks` ON, a table referenced from another table
//!    cannot be dropped (3730) or truncated (1701); with it OFF it can, and
//!    the children keep their keys (inserts then fail with 1452).
//!
//! It does not run row checks other than ALTER TABLE ADD FOREIGN KEY's
//! check of existing rows (`fk::check_existing_rows`).

use std::sync::Arc;

use mizzle_dictionary::{FkAction, ForeignKeyDef, Relation, TableDef};
use mizzle_sql::plan::ForeignKeySpec;
use mizzle_types::{ErrorCode, SqlType};

use crate::ctx::Ctx;
use crate::error::ExecError;
use crate::fk;

fn lc(s: &str) -> String {
    s.to_lowercase()
}

fn same_table(s1: &str, n1: &str, s2: &str, n2: &str) -> bool {
    s1.eq_ignore_ascii_case(s2) && n1.eq_ignore_ascii_case(n2)
}

/// MySQL's rule for the types of a referencing and a referenced column.
/// Types that may be joined by a foreign key, and for text the same
/// collation (MySQL: "the character set and collation must be the same"),
/// so both sides' keys hold the same weights.
fn compatible_columns(a: &mizzle_dictionary::ColumnDef, b: &mizzle_dictionary::ColumnDef) -> bool {
    compatible(a.ty, b.ty) && (a.ty.kind() != mizzle_types::ValueKind::Text || a.collation == b.collation)
}

fn compatible(a: SqlType, b: SqlType) -> bool {
    use SqlType as T;
    let stringy = |t: T| matches!(t, T::Char(_) | T::Varchar(_) | T::Text(_));
    let binary = |t: T| matches!(t, T::Binary(_) | T::Varbinary(_) | T::Blob(_));
    let int = |t: T| match t {
        T::Bool => Some((mizzle_types::IntWidth::Tiny, false)),
        T::Int { width, unsigned } => Some((width, unsigned)),
        _ => None,
    };
    if let (Some(x), Some(y)) = (int(a), int(b)) {
        return x == y;
    }
    (stringy(a) && stringy(b)) || (binary(a) && binary(b)) || a == b
}

/// The next `<table>_ibfk_<n>` name: one above the largest such number.
fn generated_name(t: &TableDef) -> String {
    let prefix = format!("{}_ibfk_", lc(&t.name));
    let n = t.foreign_keys.iter().filter_map(|f| lc(&f.name).strip_prefix(&prefix)?.parse::<u64>().ok()).max();
    format!("{}_ibfk_{}", t.name, n.unwrap_or(0) + 1)
}

/// Checks `spec` against `child` (the definition being built, whose
/// indexes may grow) and its parent, adds the child index when no index
/// begins with the columns, and returns the key to store. Returns the
/// position of an index it added, if any (ALTER fills it).
pub(crate) fn add_foreign_key(
    child: &mut TableDef,
    spec: &ForeignKeySpec,
    ctx: &mut Ctx<'_>,
) -> Result<(ForeignKeyDef, Option<usize>), ExecError> {
    let name = match &spec.name {
        Some(n) => n.clone(),
        None => generated_name(child),
    };
    let dup = || ExecError::ddl(ErrorCode::FkDuplicateName, format!("Duplicate foreign key constraint name '{name}'"));
    if child.foreign_keys.iter().any(|f| lc(&f.name) == lc(&name)) {
        return Err(dup());
    }
    // Constraint names are unique in their schema.
    for r in ctx.dict.list_relations(ctx.txn, &child.schema)? {
        if let Relation::Table(o) = r {
            if !same_table(&o.schema, &o.name, &child.schema, &child.name)
                && o.foreign_keys.iter().any(|f| lc(&f.name) == lc(&name))
            {
                return Err(dup());
            }
        }
    }
    let mut cols = Vec::with_capacity(spec.columns.len());
    for c in &spec.columns {
        cols.push(child.column_index(c).ok_or_else(|| {
            ExecError::ddl(ErrorCode::KeyColumnMissing, format!("Key column '{c}' doesn't exist in table"))
        })?);
    }
    if spec.columns.len() != spec.ref_columns.len() || spec.columns.is_empty() {
        return Err(ExecError::ddl(
            ErrorCode::WrongFkDef,
            format!("Incorrect foreign key definition for '{name}': Key reference and table reference don't match"),
        ));
    }
    for &c in &cols {
        let set_null = spec.on_delete == FkAction::SetNull || spec.on_update == FkAction::SetNull;
        if set_null && !child.columns[c].nullable {
            return Err(ExecError::ddl(
                ErrorCode::FkColumnNotNull,
                format!(
                    "Column '{}' cannot be NOT NULL: needed in a foreign key constraint '{name}' SET NULL",
                    child.columns[c].name
                ),
            ));
        }
    }
    let self_ref = same_table(&spec.ref_schema, &spec.ref_table, &child.schema, &child.name);
    let parent: Option<Arc<TableDef>> = if self_ref {
        None
    } else {
        match ctx.dict.get_relation(ctx.txn, &spec.ref_schema, &spec.ref_table)? {
            Some(Relation::Table(p)) => Some(p),
            _ if !fk::enabled(ctx) => None,
            _ => {
                return Err(ExecError::ddl(
                    ErrorCode::FkCannotOpenParent,
                    format!("Failed to open the referenced table '{}'", spec.ref_table),
                ))
            }
        }
    };
    let parent_def: Option<&TableDef> = if self_ref { Some(child) } else { parent.as_deref() };
    let mut ref_columns = spec.ref_columns.clone();
    if let Some(p) = parent_def {
        let mut rcols = Vec::with_capacity(spec.ref_columns.len());
        for c in &spec.ref_columns {
            let i = p.column_index(c).ok_or_else(|| {
                ExecError::ddl(
                    ErrorCode::FkNoColumnParent,
                    format!(
                        "Failed to add the foreign key constraint. Missing column '{c}' for constraint '{name}' in the referenced table '{}'",
                        p.name
                    ),
                )
            })?;
            rcols.push(i);
        }
        for (&c, &r) in cols.iter().zip(&rcols) {
            if !compatible_columns(&child.columns[c], &p.columns[r]) {
                return Err(ExecError::ddl(
                    ErrorCode::FkIncompatibleColumns,
                    format!(
                        "Referencing column '{}' and referenced column '{}' in foreign key constraint '{name}' are incompatible.",
                        child.columns[c].name, p.columns[r].name
                    ),
                ));
            }
        }
        if fk::path(p, &rcols).is_none() {
            return Err(ExecError::ddl(
                ErrorCode::FkNoIndexParent,
                format!(
                    "Failed to add the foreign key constraint. Missing index for constraint '{name}' in the referenced table '{}'",
                    p.name
                ),
            ));
        }
        // Stored as declared in the parent.
        ref_columns = rcols.iter().map(|&i| p.columns[i].name.clone()).collect();
    }
    let ref_table = parent_def.map_or_else(|| spec.ref_table.clone(), |p| p.name.clone());
    let mut added = None;
    if fk::path(child, &cols).is_none() {
        let base = spec
            .name
            .clone()
            .or_else(|| spec.index_name.clone())
            .unwrap_or_else(|| child.columns[cols[0]].name.clone());
        let taken = |n: &str| child.indexes.iter().any(|i| lc(&i.name) == lc(n)) || lc(n) == "primary";
        let mut ixname = base.clone();
        let mut k = 2;
        while taken(&ixname) {
            ixname = format!("{base}_{k}");
            k += 1;
        }
        child.indexes.push(mizzle_dictionary::IndexDef {
            name: ixname,
            space: ctx.dict.alloc_space(),
            columns: cols.clone(),
            unique: false,
        });
        added = Some(child.indexes.len() - 1);
    }
    let def = ForeignKeyDef {
        name,
        columns: cols.iter().map(|&i| child.columns[i].name.clone()).collect(),
        ref_schema: spec.ref_schema.clone(),
        ref_table,
        ref_columns,
        on_delete: spec.on_delete,
        on_update: spec.on_update,
    };
    if self_ref {
        child.add_referencing(&child.schema.clone(), &child.name.clone());
    }
    Ok((def, added))
}

/// Adds `child` to the `referenced_by` list of each parent its keys name
/// (other than itself) that exists (invariant 2).
pub(crate) fn link_parents(child: &TableDef, ctx: &mut Ctx<'_>) -> Result<(), ExecError> {
    let mut done: Vec<(String, String)> = Vec::new();
    for f in &child.foreign_keys {
        if f.references(&child.schema, &child.name)
            || done.iter().any(|(s, n)| same_table(s, n, &f.ref_schema, &f.ref_table))
        {
            continue;
        }
        done.push((f.ref_schema.clone(), f.ref_table.clone()));
        if let Some(Relation::Table(p)) = ctx.dict.get_relation(ctx.txn, &f.ref_schema, &f.ref_table)? {
            let mut np = (*p).clone();
            let before = np.referenced_by.len();
            np.add_referencing(&child.schema, &child.name);
            if np.referenced_by.len() != before {
                np.version = ctx.dict.next_version();
                ctx.dict.replace_relation(ctx.txn, &Relation::Table(Arc::new(np)))?;
            }
        }
    }
    Ok(())
}

/// Removes `schema.name` from the `referenced_by` list of each parent
/// named by `keys` (other than the table itself) that exists.
pub(crate) fn unlink_parents(
    schema: &str,
    name: &str,
    keys: &[ForeignKeyDef],
    ctx: &mut Ctx<'_>,
) -> Result<(), ExecError> {
    let mut done: Vec<(String, String)> = Vec::new();
    for f in keys {
        if f.references(schema, name) || done.iter().any(|(s, n)| same_table(s, n, &f.ref_schema, &f.ref_table)) {
            continue;
        }
        done.push((f.ref_schema.clone(), f.ref_table.clone()));
        if let Some(Relation::Table(p)) = ctx.dict.get_relation(ctx.txn, &f.ref_schema, &f.ref_table)? {
            let mut np = (*p).clone();
            np.remove_referencing(schema, name);
            np.version = ctx.dict.next_version();
            ctx.dict.replace_relation(ctx.txn, &Relation::Table(Arc::new(np)))?;
        }
    }
    Ok(())
}

/// Every table in every schema with a key referencing `schema.name`,
/// other than the table itself (a table created after its children while
/// checks were off).
pub(crate) fn find_children(schema: &str, name: &str, ctx: &mut Ctx<'_>) -> Result<Vec<(String, String)>, ExecError> {
    let mut out = Vec::new();
    // Unrecorded: concurrent CREATE TABLEs must not conflict over this scan.
    for r in ctx.dict.all_relations_unrecorded(ctx.txn)? {
        if let Relation::Table(t) = r {
            if !same_table(&t.schema, &t.name, schema, name)
                && t.foreign_keys.iter().any(|f| f.references(schema, name))
            {
                out.push((t.schema.clone(), t.name.clone()));
            }
        }
    }
    Ok(out)
}

/// The first key of another table (not in `except`) referencing `t`.
pub(crate) fn first_reference(
    t: &TableDef,
    except: &[(String, String)],
    ctx: &mut Ctx<'_>,
) -> Result<Option<(Arc<TableDef>, ForeignKeyDef)>, ExecError> {
    for (s, n) in &t.referenced_by {
        if same_table(s, n, &t.schema, &t.name) || except.iter().any(|(a, b)| same_table(a, b, s, n)) {
            continue;
        }
        if let Some(Relation::Table(c)) = ctx.dict.get_relation(ctx.txn, s, n)? {
            if let Some(f) = c.foreign_keys.iter().find(|f| f.references(&t.schema, &t.name)) {
                let f = f.clone();
                return Ok(Some((c, f)));
            }
        }
    }
    Ok(None)
}

/// 3730 for DROP TABLE of a table another table's key references.
pub(crate) fn check_drop(t: &TableDef, dropping: &[(String, String)], ctx: &mut Ctx<'_>) -> Result<(), ExecError> {
    if !fk::enabled(ctx) {
        return Ok(());
    }
    if let Some((c, f)) = first_reference(t, dropping, ctx)? {
        return Err(ExecError::ddl(
            ErrorCode::FkCannotDropParent,
            format!(
                "Cannot drop table '{}' referenced by a foreign key constraint '{}' on table '{}'.",
                t.name, f.name, c.name
            ),
        ));
    }
    Ok(())
}

/// 1701 for TRUNCATE of a table another table's key references.
pub(crate) fn check_truncate(t: &TableDef, ctx: &mut Ctx<'_>) -> Result<(), ExecError> {
    if !fk::enabled(ctx) {
        return Ok(());
    }
    if let Some((c, f)) = first_reference(t, &[], ctx)? {
        return Err(ExecError::ddl(
            ErrorCode::TruncateIllegalFk,
            format!(
                "Cannot truncate a table referenced in a foreign key constraint {}",
                fk::failing_constraint(&c, &f)
            ),
        ));
    }
    Ok(())
}

/// After `old` was renamed to `new` (same definition otherwise): its
/// children's keys name the new table, and its parents list the new name.
pub(crate) fn renamed(old_schema: &str, old_name: &str, new: &TableDef, ctx: &mut Ctx<'_>) -> Result<(), ExecError> {
    for (s, n) in &new.referenced_by {
        if same_table(s, n, old_schema, old_name) || same_table(s, n, &new.schema, &new.name) {
            continue;
        }
        if let Some(Relation::Table(c)) = ctx.dict.get_relation(ctx.txn, s, n)? {
            let mut nc = (*c).clone();
            for f in &mut nc.foreign_keys {
                if f.references(old_schema, old_name) {
                    f.ref_schema = new.schema.clone();
                    f.ref_table = new.name.clone();
                }
            }
            nc.version = ctx.dict.next_version();
            ctx.dict.replace_relation(ctx.txn, &Relation::Table(Arc::new(nc)))?;
        }
    }
    unlink_parents(old_schema, old_name, &new.foreign_keys, ctx)?;
    link_parents(new, ctx)
}

/// Fixes a renamed table's own definition: self-references and its
/// `referenced_by` entry for itself follow the new name.
pub(crate) fn rename_self(t: &mut TableDef, old_schema: &str, old_name: &str) {
    let (s, n) = (t.schema.clone(), t.name.clone());
    for f in &mut t.foreign_keys {
        if f.references(old_schema, old_name) {
            f.ref_schema = s.clone();
            f.ref_table = n.clone();
        }
    }
    for e in &mut t.referenced_by {
        if same_table(&e.0, &e.1, old_schema, old_name) {
            *e = (s.clone(), n.clone());
        }
    }
}

/// After a column of `t` was renamed from `old` to `new`: keys of other
/// tables referencing it name the new column.
pub(crate) fn column_renamed(t: &TableDef, old: &str, new: &str, ctx: &mut Ctx<'_>) -> Result<(), ExecError> {
    for (s, n) in &t.referenced_by {
        if same_table(s, n, &t.schema, &t.name) {
            continue;
        }
        if let Some(Relation::Table(c)) = ctx.dict.get_relation(ctx.txn, s, n)? {
            let mut nc = (*c).clone();
            let mut changed = false;
            for f in &mut nc.foreign_keys {
                if f.references(&t.schema, &t.name) {
                    for rc in &mut f.ref_columns {
                        if rc.eq_ignore_ascii_case(old) {
                            *rc = new.to_string();
                            changed = true;
                        }
                    }
                }
            }
            if changed {
                nc.version = ctx.dict.next_version();
                ctx.dict.replace_relation(ctx.txn, &Relation::Table(Arc::new(nc)))?;
            }
        }
    }
    Ok(())
}

/// 1828/1829 when a dropped column takes part in a key of `t` or in
/// another table's key referencing `t`.
pub(crate) fn check_drop_column(t: &TableDef, col: &str, ctx: &mut Ctx<'_>) -> Result<(), ExecError> {
    if let Some(f) = t.foreign_keys.iter().find(|f| f.columns.iter().any(|c| c.eq_ignore_ascii_case(col))) {
        return Err(ExecError::ddl(
            ErrorCode::FkColumnCannotDrop,
            format!("Cannot drop column '{col}': needed in a foreign key constraint '{}'", f.name),
        ));
    }
    for (s, n) in &t.referenced_by {
        let c: Arc<TableDef> = if same_table(s, n, &t.schema, &t.name) {
            Arc::new(t.clone())
        } else {
            match ctx.dict.get_relation(ctx.txn, s, n)? {
                Some(Relation::Table(c)) => c,
                _ => continue,
            }
        };
        for f in &c.foreign_keys {
            if f.references(&t.schema, &t.name) && f.ref_columns.iter().any(|x| x.eq_ignore_ascii_case(col)) {
                return Err(ExecError::ddl(
                    ErrorCode::FkColumnCannotDropChild,
                    format!(
                        "Cannot drop column '{col}': needed in a foreign key constraint '{}' of table '{}.{}'",
                        f.name, c.schema, c.name
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// 1553 when the indexes of `t` after a change (`indexes`, `pk`) no
/// longer support one of its keys or a key referencing it.
pub(crate) fn check_indexes_still_serve(after: &TableDef, dropped: &str, ctx: &mut Ctx<'_>) -> Result<(), ExecError> {
    let fail = || {
        ExecError::ddl(
            ErrorCode::DropIndexFk,
            format!("Cannot drop index '{dropped}': needed in a foreign key constraint"),
        )
    };
    for f in &after.foreign_keys {
        let cols = fk::positions(after, &f.columns)?;
        if fk::path(after, &cols).is_none() {
            return Err(fail());
        }
    }
    for (s, n) in &after.referenced_by {
        let c: Arc<TableDef> = if same_table(s, n, &after.schema, &after.name) {
            Arc::new(after.clone())
        } else {
            match ctx.dict.get_relation(ctx.txn, s, n)? {
                Some(Relation::Table(c)) => c,
                _ => continue,
            }
        };
        for f in &c.foreign_keys {
            if f.references(&after.schema, &after.name) {
                let Ok(cols) = fk::positions(after, &f.ref_columns) else { continue };
                if fk::path(after, &cols).is_none() {
                    return Err(fail());
                }
            }
        }
    }
    Ok(())
}

/// After ALTER TABLE changed column definitions of `t`: every key of `t`
/// and every key referencing `t` still joins compatible types (3780), and
/// SET NULL keys still have nullable columns (1830).
pub(crate) fn check_columns_after_alter(t: &TableDef, ctx: &mut Ctx<'_>) -> Result<(), ExecError> {
    let incompatible = |f: &ForeignKeyDef, a: &str, b: &str| {
        ExecError::ddl(
            ErrorCode::FkIncompatibleColumns,
            format!(
                "Referencing column '{a}' and referenced column '{b}' in foreign key constraint '{}' are incompatible.",
                f.name
            ),
        )
    };
    for f in &t.foreign_keys {
        let cols = fk::positions(t, &f.columns)?;
        if f.on_delete == FkAction::SetNull || f.on_update == FkAction::SetNull {
            if let Some(&c) = cols.iter().find(|&&c| !t.columns[c].nullable) {
                return Err(ExecError::ddl(
                    ErrorCode::FkColumnNotNull,
                    format!(
                        "Column '{}' cannot be NOT NULL: needed in a foreign key constraint '{}' SET NULL",
                        t.columns[c].name, f.name
                    ),
                ));
            }
        }
        let parent: Option<Arc<TableDef>> = if f.references(&t.schema, &t.name) {
            Some(Arc::new(t.clone()))
        } else {
            match ctx.dict.get_relation(ctx.txn, &f.ref_schema, &f.ref_table)? {
                Some(Relation::Table(p)) => Some(p),
                _ => None,
            }
        };
        if let Some(p) = parent {
            for (c, rc) in cols.iter().zip(&f.ref_columns) {
                if let Some(r) = p.column_index(rc) {
                    if !compatible_columns(&t.columns[*c], &p.columns[r]) {
                        return Err(incompatible(f, &t.columns[*c].name, &p.columns[r].name));
                    }
                }
            }
        }
    }
    for (s, n) in &t.referenced_by {
        if same_table(s, n, &t.schema, &t.name) {
            continue;
        }
        let Some(Relation::Table(c)) = ctx.dict.get_relation(ctx.txn, s, n)? else { continue };
        for f in c.foreign_keys.iter().filter(|f| f.references(&t.schema, &t.name)) {
            for (cc, rc) in f.columns.iter().zip(&f.ref_columns) {
                if let (Some(a), Some(b)) = (c.column_index(cc), t.column_index(rc)) {
                    if !compatible_columns(&c.columns[a], &t.columns[b]) {
                        return Err(incompatible(f, &c.columns[a].name, &t.columns[b].name));
                    }
                }
            }
        }
    }
    Ok(())
}
