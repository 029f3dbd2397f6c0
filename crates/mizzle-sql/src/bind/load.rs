//! Binding LOAD DATA ([`crate::load`]) into a [`LoadPlan`].

use sqlparser::ast::AssignmentTarget;

use mizzle_types::{SqlType, Value};

use super::dml::table_scope;
use super::expr::ExprCtx;
use super::Binder;
use crate::error::BindError;
use crate::load::{LoadDuplicates, LoadStmt, LoadTarget};
use crate::plan::{BoundStatement, InsertPlan, InsertSource, LoadPlan, OutCol};

impl Binder<'_> {
    pub(crate) fn bind_load(&mut self, l: &LoadStmt) -> Result<BoundStatement, BindError> {
        let table = self.require_table(&l.table, "BASE TABLE")?;
        let ncols = table.columns.len();
        let targets: Vec<LoadTarget> = if l.targets.is_empty() {
            table.visible_columns().map(|(_, c)| LoadTarget::Column(c.name.clone())).collect()
        } else {
            l.targets.clone()
        };
        let mut columns: Vec<usize> = Vec::new();
        let mut fields: Vec<Option<usize>> = Vec::with_capacity(targets.len());
        // One scope column per input field: a column's field is named by
        // the column (qualified by the table), a variable's by `@name`.
        let mut scope: Vec<OutCol> = Vec::with_capacity(targets.len());
        let mut vars: Vec<(String, usize)> = Vec::new();
        let own = table_scope(&table, &table.name);
        for (k, t) in targets.iter().enumerate() {
            match t {
                LoadTarget::Column(name) => {
                    let idx = table
                        .column_index(name)
                        .ok_or(BindError::UnknownColumn { name: name.clone(), clause: "field list" })?;
                    if columns.contains(&idx) {
                        return Err(BindError::DuplicateColumn(name.clone()));
                    }
                    fields.push(Some(columns.len()));
                    columns.push(idx);
                    let mut c = own[idx].clone();
                    c.ty = field_type(c.ty);
                    c.nullable = true;
                    scope.push(c);
                }
                LoadTarget::Var(v) => {
                    fields.push(None);
                    vars.push((v.to_ascii_lowercase(), k));
                    scope.push(OutCol {
                        name: format!("@{v}"),
                        table: None,
                        origin: None,
                        ty: SqlType::Text(u32::MAX),
                        nullable: true,
                        hidden: true,
                        collation: None,
                    });
                }
            }
        }
        let saved = std::mem::replace(&mut self.load_vars, vars);
        let r = (|| {
            let mut sets = Vec::with_capacity(l.sets.len());
            for a in &l.sets {
                let cname = match &a.target {
                    AssignmentTarget::ColumnName(n) => n.0.last().map(|p| p.to_string()).unwrap_or_default(),
                    AssignmentTarget::Tuple(_) => return Err(BindError::NotSupported("tuple assignment".into())),
                };
                let cname = cname.trim_matches('`').to_string();
                let idx = table
                    .column_index(&cname)
                    .ok_or(BindError::UnknownColumn { name: cname.clone(), clause: "field list" })?;
                if columns.contains(&idx) {
                    return Err(BindError::DuplicateColumn(cname));
                }
                columns.push(idx);
                if super::dml::is_default_keyword(&a.value) {
                    sets.push(
                        self.default_expr(&table, idx)?
                            .unwrap_or(crate::expr::Expr::Literal(Value::Null, SqlType::Null)),
                    );
                } else {
                    sets.push(self.bind_scalar(&a.value, &scope, ExprCtx::plain("field list"))?);
                }
            }
            Ok(sets)
        })();
        self.load_vars = saved;
        let sets = r?;
        let mut defaults = Vec::with_capacity(ncols);
        for c in 0..ncols {
            defaults.push(self.default_expr(&table, c)?);
        }
        let checks = self.bind_checks(&table)?;
        let secure_file_priv = match self.cat.system_variable("secure_file_priv", true) {
            Some(Value::Null) | None => None,
            Some(v) => Some(v.to_text_lossy()),
        };
        let insert = InsertPlan {
            table,
            columns,
            source: InsertSource::Values(Vec::new()),
            defaults,
            on_duplicate: Vec::new(),
            replace: l.duplicates == LoadDuplicates::Replace,
            ignore: l.duplicates == LoadDuplicates::Ignore || (l.local && l.duplicates == LoadDuplicates::Error),
            checks,
        };
        Ok(BoundStatement::Load(Box::new(LoadPlan {
            insert,
            file: l.file.clone(),
            local: l.local,
            format: l.format.clone(),
            ignore_lines: l.ignore_lines,
            fields,
            sets,
            secure_file_priv,
        })))
    }
}

/// The type a SET expression sees for a column's field: the field's text
/// (bytes for binary columns).
fn field_type(ty: SqlType) -> SqlType {
    match ty {
        SqlType::Binary(_) | SqlType::Varbinary(_) | SqlType::Blob(_) => SqlType::Blob(u32::MAX),
        _ => SqlType::Text(u32::MAX),
    }
}
