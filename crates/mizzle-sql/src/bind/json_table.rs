//! Binding `JSON_TABLE(doc, path COLUMNS (...)) AS alias` in FROM.
//!
//! Invariants:
//! 1. The document expression is bound over the columns of the FROM items
//!    to its left (`Binder::lateral`), so it may name them (MySQL's
//!    implicit LATERAL); the result is a `Plan::JsonTable` whose input is
//!    those items' plan, or one empty row when it names none of them.
//! 2. Paths and DEFAULT texts are parsed here: a bad one is an error of the
//!    statement (3143 / 3141), found before any row is read.
//! 3. Column slots number the table's columns depth-first in the order
//!    written (`plan::JtColumn`), which is their output order.
//!
//! Not here: the row walk itself (`mizzle-exec`'s `ops::json_table`).

use sqlparser::ast::Expr as AstExpr;
use sqlparser::ast::{
    JsonTableColumn, JsonTableColumnErrorHandling, JsonTableNamedColumn, TableAlias, Value as AstValue, ValueWithSpan,
};

use mizzle_types::error::{JsonErrorAt, JsonErrorSite};
use mizzle_types::json::{self, JsonPath};
use mizzle_types::{IntWidth, SqlType, TypeError};

use super::expr::ExprCtx;
use super::{norm, Binder};
use crate::error::BindError;
use crate::expr::Expr;
use crate::plan::{JsonTableDef, JtColumn, JtOnMiss, OutCol, Plan};
use crate::typing::sql_type;

fn json_err(error: json::JsonError) -> BindError {
    BindError::Type(TypeError::Json(JsonErrorAt { error, at: JsonErrorSite::Arg { arg: 2, func: "json_table" } }))
}

fn literal_text(v: &ValueWithSpan) -> Result<String, BindError> {
    match &v.value {
        AstValue::SingleQuotedString(s) | AstValue::DoubleQuotedString(s) => Ok(s.clone()),
        AstValue::Number(n, _) => Ok(n.to_string()),
        other => Err(BindError::NotSupported(format!("JSON_TABLE path or default {other}"))),
    }
}

fn parse_path(v: &ValueWithSpan) -> Result<JsonPath, BindError> {
    JsonPath::parse(&literal_text(v)?).map_err(json_err)
}

fn on_miss(h: &Option<JsonTableColumnErrorHandling>) -> Result<JtOnMiss, BindError> {
    Ok(match h {
        None | Some(JsonTableColumnErrorHandling::Null) => JtOnMiss::Null,
        Some(JsonTableColumnErrorHandling::Error) => JtOnMiss::Error,
        // MySQL parses the DEFAULT text as JSON.
        Some(JsonTableColumnErrorHandling::Default(v)) => {
            let text = literal_text(v)?;
            JtOnMiss::Default(json::text::parse(&text).map_err(|error| {
                BindError::Type(TypeError::Json(JsonErrorAt {
                    error,
                    at: JsonErrorSite::Arg { arg: 1, func: "json_table" },
                }))
            })?)
        }
    })
}

impl Binder<'_> {
    /// Binds a JSON_TABLE over `left` (the plan and columns of the FROM
    /// items before it, if any), giving the plan and its columns (left's,
    /// then the table's) and whether it reads `left` (invariant 1).
    pub(crate) fn bind_json_table(
        &mut self,
        json_expr: &AstExpr,
        json_path: &ValueWithSpan,
        columns: &[JsonTableColumn],
        alias: &Option<TableAlias>,
        left: &[OutCol],
    ) -> Result<(JsonTableDef, Expr, Vec<OutCol>, bool), BindError> {
        let alias = alias.as_ref().ok_or(BindError::TableFunctionMustHaveAlias)?;
        let a = alias.name.value.clone();
        let doc = self.bind_scalar(json_expr, left, ExprCtx::plain("JSON_TABLE"))?;
        let mut lateral = false;
        doc.walk(&mut |e| {
            if matches!(e, Expr::Column { .. }) {
                lateral = true;
            }
        });
        let path = parse_path(json_path)?;
        let mut cols: Vec<OutCol> = Vec::new();
        let columns = bind_columns(columns, &a, &mut cols)?;
        let mut seen: Vec<String> = Vec::new();
        for c in &cols {
            let l = norm(&c.name);
            if seen.contains(&l) {
                return Err(BindError::DuplicateColumn(c.name.clone()));
            }
            seen.push(l);
        }
        let def = JsonTableDef { path, columns, width: cols.len() };
        Ok((def, doc, cols, lateral))
    }
}

fn out_col(name: &str, table: &str, ty: SqlType) -> OutCol {
    OutCol {
        name: name.to_string(),
        table: Some(table.to_string()),
        origin: None,
        ty,
        nullable: true,
        hidden: false,
        collation: None,
    }
}

fn bind_columns(columns: &[JsonTableColumn], table: &str, out: &mut Vec<OutCol>) -> Result<Vec<JtColumn>, BindError> {
    let mut bound = Vec::new();
    for c in columns {
        bound.push(match c {
            JsonTableColumn::ForOrdinality(name) => {
                let slot = out.len();
                out.push(out_col(&name.value, table, SqlType::Int { width: IntWidth::Int, unsigned: true }));
                JtColumn::Ordinality { slot }
            }
            JsonTableColumn::Named(JsonTableNamedColumn { name, r#type, path, exists, on_empty, on_error }) => {
                // Values made from JSON text are session-local: a TIMESTAMP
                // column here holds no stored UTC value, so it is a DATETIME.
                let ty = match sql_type(r#type)? {
                    SqlType::Timestamp(f) => SqlType::DateTime(f),
                    t => t,
                };
                let slot = out.len();
                out.push(out_col(&name.value, table, ty));
                let path = parse_path(path)?;
                if *exists {
                    JtColumn::Exists { slot, name: name.value.clone(), ty, path }
                } else {
                    JtColumn::Value {
                        slot,
                        name: name.value.clone(),
                        ty,
                        path,
                        on_empty: on_miss(on_empty)?,
                        on_error: on_miss(on_error)?,
                    }
                }
            }
            JsonTableColumn::Nested(n) => {
                let path = parse_path(&n.path)?;
                let columns = bind_columns(&n.columns, table, out)?;
                JtColumn::Nested { path, columns }
            }
        });
    }
    Ok(bound)
}

/// The plan of a JSON_TABLE reading one empty row (invariant 1).
pub(crate) fn standalone(def: JsonTableDef, doc: Expr, cols: Vec<OutCol>) -> Plan {
    Plan::JsonTable {
        input: Box::new(Plan::Values { rows: vec![vec![]], cols: vec![] }),
        doc,
        def,
        outer: false,
        cond: None,
        cols,
    }
}
