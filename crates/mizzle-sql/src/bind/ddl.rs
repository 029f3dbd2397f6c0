//! Binding DDL, SHOW, SET, USE and transaction control.
//!
//! Invariants:
//! 1. DDL binding only validates shape (types, names, duplicate columns and
//!    keys); existence checks against the dictionary happen when the
//!    statement executes, inside its transaction.
//! 2. Character sets other than UTF-8 flavours are accepted only where data
//!    converts losslessly (declarations of `latin1`/`ascii` tables store
//!    UTF-8); unknown ones are rejected.

use mizzle_dictionary::Relation;
use mizzle_txn::IsolationLevel;
use mizzle_types::{Collation, SqlType, Value};
use sqlparser::ast::{
    self, AlterColumnOperation, AlterTableOperation, ColumnOption, ContextModifier, MySQLColumnPosition, ObjectType,
    RenameTableNameKind, ShowStatementFilter, ShowStatementFilterPosition, Statement, TableConstraint,
    TransactionAccessMode, TransactionIsolationLevel, TransactionMode,
};

use super::expr::ExprCtx;
use super::{norm, Binder};
use crate::error::BindError;
use crate::expr::Expr;
use crate::plan::{
    AlterOp, BoundStatement, ColumnPosition, ColumnSpec, Ddl, ForeignKeySpec, IndexSpec, KeyPart, OutCol, Plan,
    SessionStmt, SystemTable, TableSpec, TxnStmt, VarScope,
};
use crate::typing::sql_type;

/// MySQL's limits on ENUM and SET definitions that do not depend on the
/// collation (duplicates do: `mizzle_exec::ddl` checks them once the
/// column's collation is known).
fn check_members(column: &str, ty: SqlType) -> Result<(), BindError> {
    use mizzle_types::members::{MAX_ENUM_MEMBERS, MAX_SET_MEMBERS};
    match ty {
        SqlType::Set(m) => {
            if m.len() > MAX_SET_MEMBERS {
                return Err(BindError::Definition {
                    code: mizzle_types::ErrorCode::TooBigSet,
                    message: format!("Too many strings for column {column} and SET"),
                });
            }
            if let Some(bad) = m.names().iter().find(|n| n.contains(',')) {
                return Err(BindError::Definition {
                    code: mizzle_types::ErrorCode::IllegalValueForType,
                    message: format!("Illegal set '{bad}' value found during parsing"),
                });
            }
        }
        SqlType::Enum(m) if m.len() > MAX_ENUM_MEMBERS => {
            return Err(BindError::Definition {
                code: mizzle_types::ErrorCode::TooBigEnum,
                message: format!("Too many enumeration values for column {column}."),
            })
        }
        _ => {}
    }
    Ok(())
}

/// A CHECK constraint: optional name, SQL text and ENFORCED.
type NamedCheck = (Option<String>, String, bool);

const KNOWN_CHARSETS: &[&str] = &["utf8", "utf8mb3", "utf8mb4", "ascii", "latin1", "binary"];

fn check_charset(name: &str) -> Result<(), BindError> {
    let n = norm(name.trim_matches(|c| c == '\'' || c == '"' || c == '`'));
    if KNOWN_CHARSETS.contains(&n.as_str()) || n == "default" {
        Ok(())
    } else {
        Err(BindError::NotSupported(format!("character set '{name}' (mizzle stores text as UTF-8)")))
    }
}

/// The `collation_connection` of `SET NAMES cs [COLLATE c]`: the named
/// collation (1273 unknown, 1253 of another character set), else the
/// character set's default as MySQL 8 has it, mapped to the utf8mb4
/// collation with the same rules (`utf8mb3`, `latin1`, `ascii`: their
/// `_general_ci`; `binary`: `utf8mb4_0900_bin`).
fn names_collation(charset: &str, collate: Option<&str>) -> Result<Collation, BindError> {
    if let Some(c) = resolve_collation(Some(charset), collate, &mut Vec::new())? {
        return Ok(c);
    }
    Ok(match norm(unquote(charset)).as_str() {
        "utf8mb4" | "default" => Collation::SERVER_DEFAULT,
        "binary" => Collation::Utf8mb4_0900Bin,
        _ => Collation::Utf8mb4GeneralCi,
    })
}

fn unquote(name: &str) -> &str {
    name.trim_matches(|c| c == '\'' || c == '"' || c == '`')
}

/// Resolves a `CHARACTER SET` / `COLLATE` pair (either may be absent) to
/// the utf8mb4 collation it stands for: 1115 for an unknown character
/// set, 1273 for an unknown collation, 1253 when the collation belongs to
/// another character set. A character set other than utf8mb4 adds a
/// warning (text is stored as utf8mb4). `None` when neither names a
/// collation (a character set alone keeps the inherited collation), and
/// for `CHARACTER SET binary` / `DEFAULT`.
pub(crate) fn resolve_collation(
    charset: Option<&str>,
    collate: Option<&str>,
    warnings: &mut Vec<String>,
) -> Result<Option<Collation>, BindError> {
    use mizzle_types::collation::{resolve_charset, Resolved};
    let cs = charset.map(unquote).filter(|c| !c.eq_ignore_ascii_case("default"));
    let cs_norm = cs.map(|c| match norm(c).as_str() {
        "utf8" => "utf8mb3".to_string(),
        n => n.to_string(),
    });
    if let Some(c) = cs {
        if !c.eq_ignore_ascii_case("binary") {
            match resolve_charset(c) {
                None => return Err(BindError::UnknownCharset(c.to_string())),
                Some(Resolved::Converted(_)) => warnings
                    .push(format!("Character set '{c}' is stored as 'utf8mb4' (mizzle stores text as UTF-8 only)")),
                Some(Resolved::Native(_)) => {}
            }
        }
    }
    let Some(name) = collate.map(unquote).filter(|c| !c.eq_ignore_ascii_case("default")) else {
        // MySQL: a character set named alone means its default collation.
        return Ok((cs_norm.as_deref() == Some("utf8mb4")).then_some(Collation::SERVER_DEFAULT));
    };
    let resolved = Collation::resolve(name).ok_or_else(|| BindError::UnknownCollation(name.to_string()))?;
    if let Some(cs) = &cs_norm {
        let own = match norm(name).split_once('_').map(|(p, _)| p.to_string()) {
            Some(p) if p == "utf8" => "utf8mb3".to_string(),
            Some(p) => p,
            None => String::new(),
        };
        if cs != "binary" && own != *cs {
            return Err(BindError::CollationCharsetMismatch { collation: name.to_string(), charset: cs.clone() });
        }
    }
    if let Resolved::Converted(c) = resolved {
        if cs_norm.is_none() {
            warnings.push(format!("Collation '{name}' is stored as '{}' (mizzle stores text as UTF-8 only)", c.name()));
        }
    }
    Ok(Some(resolved.value()))
}

fn isolation(l: &TransactionIsolationLevel) -> Result<IsolationLevel, BindError> {
    Ok(match l {
        TransactionIsolationLevel::ReadUncommitted | TransactionIsolationLevel::ReadCommitted => {
            IsolationLevel::ReadCommitted
        }
        TransactionIsolationLevel::RepeatableRead => IsolationLevel::RepeatableRead,
        TransactionIsolationLevel::Serializable => IsolationLevel::Serializable,
        other => return Err(BindError::NotSupported(format!("isolation level {other}"))),
    })
}

fn modes(ms: &[TransactionMode]) -> Result<(Option<IsolationLevel>, Option<bool>), BindError> {
    let mut iso = None;
    let mut ro = None;
    for m in ms {
        match m {
            TransactionMode::IsolationLevel(l) => iso = Some(isolation(l)?),
            TransactionMode::AccessMode(TransactionAccessMode::ReadOnly) => ro = Some(true),
            TransactionMode::AccessMode(TransactionAccessMode::ReadWrite) => ro = Some(false),
        }
    }
    Ok((iso, ro))
}

pub(crate) fn col(name: &str, ty: SqlType) -> OutCol {
    OutCol { name: name.to_string(), table: None, origin: None, ty, nullable: true, hidden: false, collation: None }
}

fn text(name: &str) -> OutCol {
    col(name, SqlType::Varchar(256))
}

/// A variable's name: compared without regard to case, as MySQL's
/// `utf8mb3_general_ci` names are (`SHOW VARIABLES LIKE 'AUTOCOMMIT'`).
fn name_text(name: &str) -> OutCol {
    OutCol { collation: Some(mizzle_types::Collation::Utf8mb4GeneralCi), ..text(name) }
}

/// The output columns of each built-in table.
pub fn system_columns(t: &SystemTable) -> Vec<OutCol> {
    match t {
        SystemTable::Schemata => vec![text("Database")],
        SystemTable::Tables { schema, full } => {
            let mut v = vec![text(&format!("Tables_in_{}", schema.clone().unwrap_or_default()))];
            if *full {
                v.push(text("Table_type"));
            }
            v
        }
        // MySQL 8's layouts: FULL adds Collation after Type, and
        // Privileges and Comment at the end.
        SystemTable::Columns { full: false, .. } => {
            vec![text("Field"), text("Type"), text("Null"), text("Key"), text("Default"), text("Extra")]
        }
        SystemTable::Columns { full: true, .. } => vec![
            text("Field"),
            text("Type"),
            text("Collation"),
            text("Null"),
            text("Key"),
            text("Default"),
            text("Extra"),
            text("Privileges"),
            text("Comment"),
        ],
        SystemTable::Indexes { .. } => vec![
            text("Table"),
            col("Non_unique", SqlType::BIGINT),
            text("Key_name"),
            col("Seq_in_index", SqlType::BIGINT),
            text("Column_name"),
            text("Collation"),
            col("Cardinality", SqlType::BIGINT),
            col("Sub_part", SqlType::BIGINT),
            text("Packed"),
            text("Null"),
            text("Index_type"),
            text("Comment"),
            text("Index_comment"),
            text("Visible"),
            col("Expression", SqlType::LONGTEXT),
        ],
        SystemTable::CreateTable { .. } => vec![text("Table"), col("Create Table", SqlType::LONGTEXT)],
        SystemTable::CreateDatabase { .. } => vec![text("Database"), col("Create Database", SqlType::LONGTEXT)],
        SystemTable::CreateView { .. } => {
            vec![
                text("View"),
                col("Create View", SqlType::LONGTEXT),
                text("character_set_client"),
                text("collation_connection"),
            ]
        }
        SystemTable::Variables | SystemTable::Status => vec![name_text("Variable_name"), text("Value")],
        SystemTable::Warnings { .. } => vec![text("Level"), col("Code", SqlType::BIGINT), text("Message")],
        SystemTable::WarningCount { errors_only: false } => vec![col("@@session.warning_count", SqlType::BIGINT)],
        SystemTable::WarningCount { errors_only: true } => vec![col("@@session.error_count", SqlType::BIGINT)],
        SystemTable::Engines => {
            vec![text("Engine"), text("Support"), text("Comment"), text("Transactions"), text("XA"), text("Savepoints")]
        }
        SystemTable::Plugins => vec![text("Name"), text("Status"), text("Type"), text("Library"), text("License")],
        SystemTable::ProcessList => vec![
            col("Id", SqlType::UBIGINT),
            text("User"),
            text("Host"),
            text("db"),
            text("Command"),
            col("Time", SqlType::BIGINT),
            text("State"),
            text("Info"),
        ],
        SystemTable::Collations => vec![
            text("Collation"),
            text("Charset"),
            col("Id", SqlType::BIGINT),
            text("Default"),
            text("Compiled"),
            col("Sortlen", SqlType::BIGINT),
            text("Pad_attribute"),
        ],
        SystemTable::Charsets => {
            vec![text("Charset"), text("Description"), text("Default collation"), col("Maxlen", SqlType::BIGINT)]
        }
        SystemTable::Constraints(v) => constraint_columns(*v),
        SystemTable::Info(v) => info_columns(*v),
    }
}

/// Columns of the `information_schema` tables of [`crate::plan::InfoView`]
/// (MySQL 8's names, order and types).
fn info_columns(v: crate::plan::InfoView) -> Vec<OutCol> {
    use crate::plan::InfoView as V;
    let u = |n: &str| col(n, SqlType::UBIGINT);
    let t = |n: &str| text(n);
    match v {
        V::Schemata => [
            "CATALOG_NAME",
            "SCHEMA_NAME",
            "DEFAULT_CHARACTER_SET_NAME",
            "DEFAULT_COLLATION_NAME",
            "SQL_PATH",
            "DEFAULT_ENCRYPTION",
        ]
        .iter()
        .map(|n| t(n))
        .collect(),
        V::Tables => vec![
            t("TABLE_CATALOG"),
            t("TABLE_SCHEMA"),
            t("TABLE_NAME"),
            t("TABLE_TYPE"),
            t("ENGINE"),
            col("VERSION", SqlType::INT),
            t("ROW_FORMAT"),
            u("TABLE_ROWS"),
            u("AVG_ROW_LENGTH"),
            u("DATA_LENGTH"),
            u("MAX_DATA_LENGTH"),
            u("INDEX_LENGTH"),
            u("DATA_FREE"),
            u("AUTO_INCREMENT"),
            col("CREATE_TIME", SqlType::DateTime(0)),
            col("UPDATE_TIME", SqlType::DateTime(0)),
            col("CHECK_TIME", SqlType::DateTime(0)),
            t("TABLE_COLLATION"),
            col("CHECKSUM", SqlType::BIGINT),
            t("CREATE_OPTIONS"),
            t("TABLE_COMMENT"),
        ],
        V::Columns => vec![
            t("TABLE_CATALOG"),
            t("TABLE_SCHEMA"),
            t("TABLE_NAME"),
            t("COLUMN_NAME"),
            u("ORDINAL_POSITION"),
            col("COLUMN_DEFAULT", SqlType::LONGTEXT),
            t("IS_NULLABLE"),
            col("DATA_TYPE", SqlType::LONGTEXT),
            col("CHARACTER_MAXIMUM_LENGTH", SqlType::BIGINT),
            col("CHARACTER_OCTET_LENGTH", SqlType::BIGINT),
            u("NUMERIC_PRECISION"),
            u("NUMERIC_SCALE"),
            u("DATETIME_PRECISION"),
            t("CHARACTER_SET_NAME"),
            t("COLLATION_NAME"),
            col("COLUMN_TYPE", SqlType::LONGTEXT),
            t("COLUMN_KEY"),
            t("EXTRA"),
            t("PRIVILEGES"),
            col("COLUMN_COMMENT", SqlType::LONGTEXT),
            col("GENERATION_EXPRESSION", SqlType::LONGTEXT),
            u("SRS_ID"),
        ],
        V::Statistics => vec![
            t("TABLE_CATALOG"),
            t("TABLE_SCHEMA"),
            t("TABLE_NAME"),
            col("NON_UNIQUE", SqlType::INT),
            t("INDEX_SCHEMA"),
            t("INDEX_NAME"),
            u("SEQ_IN_INDEX"),
            t("COLUMN_NAME"),
            t("COLLATION"),
            col("CARDINALITY", SqlType::BIGINT),
            col("SUB_PART", SqlType::BIGINT),
            t("PACKED"),
            t("NULLABLE"),
            t("INDEX_TYPE"),
            t("COMMENT"),
            t("INDEX_COMMENT"),
            t("IS_VISIBLE"),
            col("EXPRESSION", SqlType::LONGTEXT),
        ],
        V::Views => vec![
            t("TABLE_CATALOG"),
            t("TABLE_SCHEMA"),
            t("TABLE_NAME"),
            col("VIEW_DEFINITION", SqlType::LONGTEXT),
            t("CHECK_OPTION"),
            t("IS_UPDATABLE"),
            t("DEFINER"),
            t("SECURITY_TYPE"),
            t("CHARACTER_SET_CLIENT"),
            t("COLLATION_CONNECTION"),
        ],
    }
}

/// Columns of the `information_schema` constraint views (MySQL 8's names
/// and order).
fn constraint_columns(v: crate::plan::ConstraintView) -> Vec<OutCol> {
    use crate::plan::ConstraintView as V;
    let names: &[&str] = match v {
        V::TableConstraints => &[
            "CONSTRAINT_CATALOG",
            "CONSTRAINT_SCHEMA",
            "CONSTRAINT_NAME",
            "TABLE_SCHEMA",
            "TABLE_NAME",
            "CONSTRAINT_TYPE",
            "ENFORCED",
        ],
        V::KeyColumnUsage => &[
            "CONSTRAINT_CATALOG",
            "CONSTRAINT_SCHEMA",
            "CONSTRAINT_NAME",
            "TABLE_CATALOG",
            "TABLE_SCHEMA",
            "TABLE_NAME",
            "COLUMN_NAME",
            "ORDINAL_POSITION",
            "POSITION_IN_UNIQUE_CONSTRAINT",
            "REFERENCED_TABLE_SCHEMA",
            "REFERENCED_TABLE_NAME",
            "REFERENCED_COLUMN_NAME",
        ],
        V::CheckConstraints => &["CONSTRAINT_CATALOG", "CONSTRAINT_SCHEMA", "CONSTRAINT_NAME", "CHECK_CLAUSE"],
        V::ReferentialConstraints => &[
            "CONSTRAINT_CATALOG",
            "CONSTRAINT_SCHEMA",
            "CONSTRAINT_NAME",
            "UNIQUE_CONSTRAINT_CATALOG",
            "UNIQUE_CONSTRAINT_SCHEMA",
            "UNIQUE_CONSTRAINT_NAME",
            "MATCH_OPTION",
            "UPDATE_RULE",
            "DELETE_RULE",
            "TABLE_NAME",
            "REFERENCED_TABLE_NAME",
        ],
    };
    names.iter().map(|n| if n.contains("POSITION") { col(n, SqlType::UBIGINT) } else { text(n) }).collect()
}

fn constraint_view(v: crate::plan::ConstraintView) -> (SystemTable, Vec<OutCol>) {
    (SystemTable::Constraints(v), constraint_columns(v))
}

fn info_view(v: crate::plan::InfoView) -> (SystemTable, Vec<OutCol>) {
    (SystemTable::Info(v), info_columns(v))
}

fn system(t: SystemTable) -> Plan {
    let cols = system_columns(&t);
    Plan::System { table: t, cols }
}

/// A definition for SHOW COLUMNS / DESCRIBE of a built-in table of
/// `schema`: its columns, no keys, no space of its own.
fn system_table_def(schema: &str, name: &str, cols: &[OutCol]) -> mizzle_dictionary::TableDef {
    let columns = cols
        .iter()
        .map(|c| mizzle_dictionary::ColumnDef {
            name: c.name.clone(),
            ty: c.ty,
            nullable: c.nullable,
            default: None,
            auto_increment: false,
            comment: String::new(),
            collation: c.collation.unwrap_or(Collation::LEGACY),
            generated: None,
            on_update: None,
            hidden: false,
        })
        .collect();
    mizzle_dictionary::TableDef {
        schema: schema.to_string(),
        name: name.to_string(),
        space: mizzle_txn::SpaceId(0),
        columns,
        primary_key: Vec::new(),
        indexes: Vec::new(),
        checks: Vec::new(),
        auto_increment: None,
        auto_increment_start: 1,
        engine: if schema == "performance_schema" { "PERFORMANCE_SCHEMA" } else { "MEMORY" }.to_string(),
        comment: String::new(),
        version: 0,
        foreign_keys: Vec::new(),
        referenced_by: Vec::new(),
        collation: Collation::SERVER_DEFAULT,
    }
}

impl<'a> Binder<'a> {
    /// `performance_schema.<name>` as a plan: the status and session
    /// variable tables, MySQL 8's replacements for `SHOW STATUS` and `SHOW
    /// VARIABLES` (the same rows, under the columns `VARIABLE_NAME` and
    /// `VARIABLE_VALUE`). Status has no per-session counters, so
    /// `global_status` and `session_status` hold the same rows.
    pub(crate) fn performance_schema(&mut self, name: &str, alias: &str) -> Result<(Plan, Vec<OutCol>), BindError> {
        let table = match norm(name).as_str() {
            "global_status" | "session_status" => SystemTable::Status,
            "session_variables" => SystemTable::Variables,
            other => {
                return Err(BindError::NoSuchTable { schema: "performance_schema".into(), name: other.to_string() })
            }
        };
        let inner = system_columns(&table);
        let exprs = inner.iter().enumerate().map(|(index, c)| Expr::Column { index, ty: c.ty }).collect();
        let cols: Vec<OutCol> = [name_text("VARIABLE_NAME"), text("VARIABLE_VALUE")]
            .into_iter()
            .map(|c| OutCol { table: Some(alias.to_string()), ..c })
            .collect();
        let sys = Plan::System { table, cols: inner };
        Ok((Plan::Project { input: Box::new(sys), exprs, cols: cols.clone() }, cols))
    }

    /// `information_schema.<name>` as a plan.
    pub(crate) fn information_schema(&mut self, name: &str, alias: &str) -> Result<(Plan, Vec<OutCol>), BindError> {
        let (table, cols): (SystemTable, Vec<OutCol>) = match norm(name).as_str() {
            "schemata" => info_view(crate::plan::InfoView::Schemata),
            "tables" => info_view(crate::plan::InfoView::Tables),
            "columns" => info_view(crate::plan::InfoView::Columns),
            "statistics" => info_view(crate::plan::InfoView::Statistics),
            "table_constraints" => constraint_view(crate::plan::ConstraintView::TableConstraints),
            "key_column_usage" => constraint_view(crate::plan::ConstraintView::KeyColumnUsage),
            "referential_constraints" => constraint_view(crate::plan::ConstraintView::ReferentialConstraints),
            "check_constraints" => constraint_view(crate::plan::ConstraintView::CheckConstraints),
            "views" => info_view(crate::plan::InfoView::Views),
            // The rows of SHOW COLLATION, under MySQL's column names.
            "collations" => (
                SystemTable::Collations,
                vec![
                    text("COLLATION_NAME"),
                    text("CHARACTER_SET_NAME"),
                    col("ID", SqlType::BIGINT),
                    text("IS_DEFAULT"),
                    text("IS_COMPILED"),
                    col("SORTLEN", SqlType::BIGINT),
                    text("PAD_ATTRIBUTE"),
                ],
            ),
            "character_sets" => {
                // SHOW CHARACTER SET's rows, reordered as MySQL's view.
                let inner = vec![text("c"), text("d"), text("k"), col("m", SqlType::BIGINT)];
                let cols = vec![
                    text("CHARACTER_SET_NAME"),
                    text("DEFAULT_COLLATE_NAME"),
                    text("DESCRIPTION"),
                    col("MAXLEN", SqlType::BIGINT),
                ];
                let exprs = [0usize, 2, 1, 3].iter().map(|&i| Expr::Column { index: i, ty: inner[i].ty }).collect();
                let cols: Vec<OutCol> =
                    cols.into_iter().map(|c| OutCol { table: Some(alias.to_string()), ..c }).collect();
                let sys = Plan::System { table: SystemTable::Charsets, cols: inner };
                return Ok((Plan::Project { input: Box::new(sys), exprs, cols: cols.clone() }, cols));
            }
            other => {
                return Err(BindError::NoSuchTable { schema: "information_schema".into(), name: other.to_string() })
            }
        };
        let cols: Vec<OutCol> = cols.into_iter().map(|c| OutCol { table: Some(alias.to_string()), ..c }).collect();
        Ok((Plan::System { table, cols: cols.clone() }, cols))
    }

    fn like_filter(&mut self, plan: Plan, filter: Option<&ShowStatementFilter>) -> Result<Plan, BindError> {
        match filter {
            None => Ok(plan),
            Some(ShowStatementFilter::Like(p)) | Some(ShowStatementFilter::ILike(p)) => {
                let c = plan.columns();
                let ty = c.first().map(|c| c.ty).unwrap_or(SqlType::LONGTEXT);
                // Under the column's collation (a variable's name matches
                // without regard to case).
                let arg = super::expr::collated(Expr::Column { index: 0, ty }, c.first().and_then(|c| c.collation));
                Ok(Plan::Filter {
                    input: Box::new(plan),
                    pred: Expr::Like {
                        arg: Box::new(arg),
                        pattern: Box::new(Expr::lit(Value::text(p))),
                        escape: '\\',
                        negated: false,
                    },
                })
            }
            Some(ShowStatementFilter::Where(w)) => {
                let cols = plan.columns();
                let pred = self.bind_scalar(w, &cols, ExprCtx::plain("where clause"))?;
                Ok(Plan::Filter { input: Box::new(plan), pred })
            }
            Some(other) => Err(BindError::NotSupported(format!("SHOW filter {other}"))),
        }
    }

    fn show_filter(opts: &ast::ShowStatementOptions) -> Option<&ShowStatementFilter> {
        match &opts.filter_position {
            Some(ShowStatementFilterPosition::Suffix(f)) | Some(ShowStatementFilterPosition::Infix(f)) => Some(f),
            None => None,
        }
    }

    fn show_table(&mut self, name: &ast::ObjectName) -> Result<std::sync::Arc<mizzle_dictionary::TableDef>, BindError> {
        let (schema, t) = self.object_name(name)?;
        if let Some(sys) = crate::plan::system_schema(&schema) {
            // A built-in table (DESCRIBE information_schema.TABLES): its
            // columns as the view binds them, in a definition of its own.
            let (_, cols) = if sys == "information_schema" {
                self.information_schema(&t, &t)?
            } else {
                self.performance_schema(&t, &t)?
            };
            return Ok(std::sync::Arc::new(system_table_def(sys, &t, &cols)));
        }
        match self.require_relation(&schema, &t)? {
            Relation::Table(t) => Ok(t),
            Relation::View(_) => Err(BindError::WrongObject { schema, name: t, kind: "BASE TABLE" }),
        }
    }

    /// Every statement other than queries and DML.
    pub(crate) fn bind_other(&mut self, stmt: &Statement) -> Result<BoundStatement, BindError> {
        Ok(match stmt {
            Statement::CreateTable(ct) => self.bind_create_table(ct)?,
            Statement::CreateIndex(ci) => {
                let (schema, table) = self.object_name(&ci.table_name)?;
                let name = ci.name.as_ref().map(|n| n.to_string().trim_matches('`').to_string());
                let parts = index_parts(&ci.columns, false)?;
                BoundStatement::Ddl(Box::new(Ddl::CreateIndex {
                    schema,
                    table,
                    spec: IndexSpec { name, parts, unique: ci.unique, primary: false },
                    if_not_exists: ci.if_not_exists,
                }))
            }
            Statement::CreateView(cv) => {
                if cv.materialized {
                    return Err(BindError::NotSupported("materialized views".into()));
                }
                let (schema, name) = self.object_name(&cv.name)?;
                // Validate now: the definition must bind.
                let (_, cols) = self.bind_query(&cv.query)?;
                let columns: Vec<String> = cv.columns.iter().map(|c| c.name.value.clone()).collect();
                if !columns.is_empty() && columns.len() != cols.len() {
                    return Err(BindError::WrongArguments(
                        "CREATE VIEW (column list and query differ in width)".into(),
                    ));
                }
                let names: Vec<String> = if columns.is_empty() {
                    cols.iter().map(|c| norm(&c.name)).collect()
                } else {
                    columns.iter().map(|c| norm(c)).collect()
                };
                for (i, n) in names.iter().enumerate() {
                    if names[..i].contains(n) {
                        return Err(BindError::DuplicateColumn(n.clone()));
                    }
                }
                BoundStatement::Ddl(Box::new(Ddl::CreateView {
                    schema,
                    name,
                    sql: cv.query.to_string(),
                    columns,
                    or_replace: cv.or_replace || cv.or_alter,
                    if_not_exists: cv.if_not_exists,
                }))
            }
            Statement::Drop { object_type, if_exists, names, table, temporary, .. } => match object_type {
                ObjectType::Table if *temporary => BoundStatement::Ddl(Box::new(Ddl::DropTemporaryTables {
                    names: names.iter().map(|n| self.object_name(n)).collect::<Result<_, _>>()?,
                    if_exists: *if_exists,
                })),
                ObjectType::Table => BoundStatement::Ddl(Box::new(Ddl::DropTables {
                    names: names.iter().map(|n| self.object_name(n)).collect::<Result<_, _>>()?,
                    if_exists: *if_exists,
                })),
                ObjectType::View => BoundStatement::Ddl(Box::new(Ddl::DropViews {
                    names: names.iter().map(|n| self.object_name(n)).collect::<Result<_, _>>()?,
                    if_exists: *if_exists,
                })),
                ObjectType::Index => {
                    let t = table.as_ref().ok_or_else(|| BindError::Syntax("DROP INDEX needs ON <table>".into()))?;
                    let (schema, tname) = self.object_name(t)?;
                    let [n] = names.as_slice() else {
                        return Err(BindError::Syntax("DROP INDEX drops one index".into()));
                    };
                    BoundStatement::Ddl(Box::new(Ddl::DropIndex {
                        schema,
                        table: tname,
                        name: n.to_string().trim_matches('`').to_string(),
                        if_exists: *if_exists,
                    }))
                }
                ObjectType::Schema | ObjectType::Database => {
                    let [n] = names.as_slice() else {
                        return Err(BindError::Syntax("DROP DATABASE drops one database".into()));
                    };
                    BoundStatement::Ddl(Box::new(Ddl::DropSchema {
                        name: n.to_string().trim_matches('`').to_string(),
                        if_exists: *if_exists,
                    }))
                }
                other => return Err(BindError::NotSupported(format!("DROP {other}"))),
            },
            Statement::CreateDatabase { db_name, if_not_exists, default_charset, default_collation, .. } => {
                let collation = self.schema_collation(default_charset.as_deref(), default_collation.as_deref())?;
                BoundStatement::Ddl(Box::new(Ddl::CreateSchema {
                    name: db_name.to_string().trim_matches('`').to_string(),
                    if_not_exists: *if_not_exists,
                    collation: collation.unwrap_or_else(|| self.server_collation()),
                }))
            }
            Statement::CreateSchema { schema_name, if_not_exists, .. } => {
                BoundStatement::Ddl(Box::new(Ddl::CreateSchema {
                    name: schema_name.to_string().trim_matches('`').to_string(),
                    if_not_exists: *if_not_exists,
                    collation: self.server_collation(),
                }))
            }
            Statement::AlterSchema(a) => self.bind_alter_schema(a)?,
            Statement::AlterTable(at) => self.bind_alter(at)?,
            Statement::RenameTable(pairs) => {
                let mut out = Vec::new();
                for p in pairs {
                    out.push((self.object_name(&p.old_name)?, self.object_name(&p.new_name)?));
                }
                BoundStatement::Ddl(Box::new(Ddl::RenameTables { pairs: out }))
            }
            Statement::Truncate(t) => {
                let [target] = t.table_names.as_slice() else {
                    return Err(BindError::NotSupported("TRUNCATE of several tables".into()));
                };
                let (schema, name) = self.object_name(&target.name)?;
                BoundStatement::Ddl(Box::new(Ddl::Truncate { schema, name }))
            }
            Statement::Use(u) => {
                let n = match u {
                    ast::Use::Object(n) | ast::Use::Database(n) | ast::Use::Schema(n) => n,
                    _ => return Err(BindError::NotSupported("this form of USE".into())),
                };
                let name = n.to_string().trim_matches('`').to_string();
                if let Some(sys) = crate::plan::system_schema(&name) {
                    return Ok(BoundStatement::Session(SessionStmt::Use(sys.to_string())));
                }
                if !self.cat.schema_exists(&name)? {
                    return Err(BindError::UnknownDatabase(name));
                }
                BoundStatement::Session(SessionStmt::Use(name))
            }
            Statement::StartTransaction { modes: ms, .. } => {
                let (iso, ro) = modes(ms)?;
                BoundStatement::Txn(TxnStmt::Begin { isolation: iso, read_only: ro, consistent_snapshot: false })
            }
            Statement::Commit { .. } => BoundStatement::Txn(TxnStmt::Commit),
            Statement::Rollback { savepoint: Some(s), .. } => BoundStatement::Txn(TxnStmt::RollbackTo(s.value.clone())),
            Statement::Rollback { savepoint: None, .. } => BoundStatement::Txn(TxnStmt::Rollback),
            Statement::Savepoint { name } => BoundStatement::Txn(TxnStmt::Savepoint(name.value.clone())),
            Statement::ReleaseSavepoint { name } => BoundStatement::Txn(TxnStmt::Release(name.value.clone())),
            Statement::Set(s) => self.bind_set(s)?,
            Statement::ShowDatabases { show_options, .. } => {
                let f = Self::show_filter(show_options).cloned();
                BoundStatement::Query(Box::new(self.like_filter(system(SystemTable::Schemata), f.as_ref())?))
            }
            Statement::ShowTables { full, show_options, .. } => {
                let schema = match &show_options.show_in {
                    Some(si) => match &si.parent_name {
                        Some(n) => n.to_string().trim_matches('`').to_string(),
                        None => self.default_schema()?,
                    },
                    None => self.default_schema()?,
                };
                let schema = match crate::plan::system_schema(&schema) {
                    Some(sys) => sys.to_string(),
                    None if !self.cat.schema_exists(&schema)? => return Err(BindError::UnknownDatabase(schema)),
                    None => schema,
                };
                let f = Self::show_filter(show_options).cloned();
                let p = system(SystemTable::Tables { schema: Some(schema), full: *full });
                BoundStatement::Query(Box::new(self.like_filter(p, f.as_ref())?))
            }
            Statement::ShowColumns { full, show_options, .. } => {
                let name = show_options
                    .show_in
                    .as_ref()
                    .and_then(|si| si.parent_name.clone())
                    .ok_or_else(|| BindError::Syntax("SHOW COLUMNS needs FROM <table>".into()))?;
                let t = self.show_table(&name)?;
                let f = Self::show_filter(show_options).cloned();
                BoundStatement::Query(Box::new(
                    self.like_filter(system(SystemTable::Columns { table: t, full: *full }), f.as_ref())?,
                ))
            }
            Statement::ExplainTable { table_name, .. } => {
                let t = self.show_table(table_name)?;
                BoundStatement::Query(Box::new(system(SystemTable::Columns { table: t, full: false })))
            }
            Statement::ShowCreate { obj_type, obj_name } => {
                let (schema, name) = self.object_name(obj_name)?;
                let rel = self.require_relation(&schema, &name)?;
                match (obj_type, rel) {
                    (ast::ShowCreateObject::Table, Relation::Table(t)) => {
                        BoundStatement::Query(Box::new(system(SystemTable::CreateTable { table: t })))
                    }
                    (ast::ShowCreateObject::Table | ast::ShowCreateObject::View, Relation::View(v)) => {
                        BoundStatement::Query(Box::new(system(SystemTable::CreateView { view: v })))
                    }
                    (ast::ShowCreateObject::View, Relation::Table(_)) => {
                        return Err(BindError::WrongObject { schema, name, kind: "VIEW" })
                    }
                    (other, _) => return Err(BindError::NotSupported(format!("SHOW CREATE {other}"))),
                }
            }
            Statement::ShowVariables { filter, .. } => {
                BoundStatement::Query(Box::new(self.like_filter(system(SystemTable::Variables), filter.as_ref())?))
            }
            Statement::ShowStatus { filter, .. } => {
                BoundStatement::Query(Box::new(self.like_filter(system(SystemTable::Status), filter.as_ref())?))
            }
            Statement::ShowCollation { filter } => {
                BoundStatement::Query(Box::new(self.like_filter(system(SystemTable::Collations), filter.as_ref())?))
            }
            Statement::ShowCharset(_) => BoundStatement::Query(Box::new(system(SystemTable::Charsets))),
            Statement::ShowVariable { variable } => self.bind_show_words(variable)?,
            Statement::LockTables { .. } | Statement::UnlockTables => BoundStatement::NoOp,
            Statement::Flush { .. } | Statement::Analyze(_) => BoundStatement::NoOp,
            Statement::Execute { name, using, parameters, .. } => {
                let name = name
                    .as_ref()
                    .map(|n| n.to_string())
                    .ok_or_else(|| BindError::Syntax("EXECUTE needs a name".into()))?;
                if !parameters.is_empty() {
                    return Err(BindError::Syntax("EXECUTE takes parameters with USING @var".into()));
                }
                let mut vars = Vec::new();
                for u in using {
                    match &u.expr {
                        ast::Expr::Identifier(i) if i.value.starts_with('@') && !i.value.starts_with("@@") => {
                            vars.push(i.value.trim_start_matches('@').to_string())
                        }
                        other => {
                            return Err(BindError::Syntax(format!(
                                "EXECUTE ... USING takes user variables, not {other}"
                            )))
                        }
                    }
                }
                BoundStatement::Session(SessionStmt::Execute { name, using: vars })
            }
            Statement::Deallocate { name, .. } => BoundStatement::Session(SessionStmt::Deallocate(name.value.clone())),
            other => {
                let s = other.to_string();
                let head: String = s.split_whitespace().take(3).collect::<Vec<_>>().join(" ");
                return Err(BindError::NotSupported(head));
            }
        })
    }

    fn bind_show_words(&mut self, words: &[ast::Ident]) -> Result<BoundStatement, BindError> {
        let w: Vec<String> = words.iter().map(|i| norm(&i.value)).collect();
        let ws: Vec<&str> = w.iter().map(|s| s.as_str()).collect();
        let q = |t: SystemTable| Ok(BoundStatement::Query(Box::new(system(t))));
        match ws.as_slice() {
            ["warnings"] => q(SystemTable::Warnings { errors_only: false, limit: None }),
            ["errors"] => q(SystemTable::Warnings { errors_only: true, limit: None }),
            [w] if w.starts_with(crate::parse::SHOW_WARNINGS_LIMIT)
                || w.starts_with(crate::parse::SHOW_ERRORS_LIMIT) =>
            {
                let (errors_only, rest) = match w.strip_prefix(crate::parse::SHOW_ERRORS_LIMIT) {
                    Some(rest) => (true, rest),
                    None => (false, w.strip_prefix(crate::parse::SHOW_WARNINGS_LIMIT).unwrap_or_default()),
                };
                let limit = rest
                    .split_once('_')
                    .and_then(|(o, n)| Some((o.parse::<u64>().ok()?, n.parse::<u64>().ok()?)))
                    .ok_or_else(|| BindError::Internal("malformed SHOW WARNINGS LIMIT rewrite".into()))?;
                q(SystemTable::Warnings { errors_only, limit: Some(limit) })
            }
            [w] if *w == crate::parse::SHOW_COUNT_WARNINGS => q(SystemTable::WarningCount { errors_only: false }),
            [w] if *w == crate::parse::SHOW_COUNT_ERRORS => q(SystemTable::WarningCount { errors_only: true }),
            ["engines"] | ["storage", "engines"] => q(SystemTable::Engines),
            ["plugins"] => q(SystemTable::Plugins),
            ["processlist"] | ["full", "processlist"] => q(SystemTable::ProcessList),
            [marker, _]
                if *marker == crate::parse::SHOW_CREATE_DB || *marker == crate::parse::SHOW_CREATE_DB_IF_NOT_EXISTS =>
            {
                let name = words.get(1).map(|i| i.value.clone()).unwrap_or_default();
                let Some(collation) = self.cat.schema_collation(&name)? else {
                    return Err(BindError::UnknownDatabase(name));
                };
                let if_not_exists = *marker == crate::parse::SHOW_CREATE_DB_IF_NOT_EXISTS;
                q(SystemTable::CreateDatabase { name, collation, if_not_exists })
            }
            [kw, from, rest @ ..] if matches!(*kw, "index" | "indexes" | "keys") && matches!(*from, "from" | "in") => {
                let tname = words.get(2).map(|i| i.value.clone()).unwrap_or_default();
                let schema = match rest {
                    [_, f2, _] if matches!(*f2, "from" | "in") => {
                        words.get(4).map(|i| i.value.clone()).unwrap_or_default()
                    }
                    [_] => self.default_schema()?,
                    _ => return Err(BindError::Syntax("SHOW INDEX FROM <table> [FROM <db>]".into())),
                };
                let name = ast::ObjectName::from(vec![ast::Ident::new(schema), ast::Ident::new(tname)]);
                let t = self.show_table(&name)?;
                q(SystemTable::Indexes { table: t })
            }
            _ => Err(BindError::NotSupported(format!("SHOW {}", ws.join(" ")))),
        }
    }

    fn bind_set(&mut self, s: &ast::Set) -> Result<BoundStatement, BindError> {
        let mut sys = Vec::new();
        let mut user = Vec::new();
        let mut one = |b: &mut Binder<'_>,
                       scope: Option<&ContextModifier>,
                       name: &ast::ObjectName,
                       value: &ast::Expr|
         -> Result<(), BindError> {
            let parts: Vec<String> = name.0.iter().map(|p| p.to_string()).collect();
            let mut sc = match scope {
                Some(ContextModifier::Global) => VarScope::Global,
                _ => VarScope::Session,
            };
            let mut vname = parts.last().cloned().unwrap_or_default();
            if parts.len() == 2 {
                match norm(&parts[0]).as_str() {
                    "@@global" | "global" => sc = VarScope::Global,
                    "@@session" | "@@local" | "session" | "local" => {}
                    other => return Err(BindError::UnknownSystemVariable(format!("{other}.{vname}"))),
                }
            }
            let e = match value {
                // SET x = ON / OFF / a bare word: MySQL treats it as a string.
                ast::Expr::Identifier(i) if i.quote_style.is_none() && !i.value.starts_with('@') => {
                    Expr::lit(Value::text(&i.value))
                }
                v => b.bind_scalar(v, &[], ExprCtx::plain("SET"))?,
            };
            if parts.len() == 1 && vname.starts_with('@') && !vname.starts_with("@@") {
                user.push((vname.trim_start_matches('@').to_string(), e));
                return Ok(());
            }
            if let Some(stripped) = vname.strip_prefix("@@") {
                vname = stripped.to_string();
            }
            sys.push((sc, norm(&vname), e));
            Ok(())
        };
        match s {
            ast::Set::SingleAssignment { scope, variable, values, .. } => {
                let [v] = values.as_slice() else {
                    return Err(BindError::Syntax("SET takes one value per variable".into()));
                };
                one(self, scope.as_ref(), variable, v)?;
            }
            ast::Set::MultipleAssignments { assignments } => {
                for a in assignments {
                    one(self, a.scope.as_ref(), &a.name, &a.value)?;
                }
            }
            ast::Set::SetTransaction { modes: ms, session, .. } => {
                let (iso, ro) = modes(ms)?;
                let scope = if *session { VarScope::Session } else { VarScope::NextTransaction };
                return Ok(BoundStatement::Session(SessionStmt::SetTransaction {
                    scope,
                    isolation: iso,
                    read_only: ro,
                }));
            }
            ast::Set::SetNames { charset_name, collation_name } => {
                check_charset(&charset_name.value)?;
                return Ok(BoundStatement::Session(SessionStmt::SetNames(names_collation(
                    &charset_name.value,
                    collation_name.as_deref(),
                )?)));
            }
            ast::Set::SetNamesDefault {} => {
                return Ok(BoundStatement::Session(SessionStmt::SetNames(Collation::SERVER_DEFAULT)))
            }
            ast::Set::SetTimeZone { value, .. } => {
                let e = self.bind_scalar(value, &[], ExprCtx::plain("SET"))?;
                sys.push((VarScope::Session, "time_zone".into(), e));
            }
            other => return Err(BindError::NotSupported(format!("{other}"))),
        }
        if !user.is_empty() && sys.is_empty() {
            return Ok(BoundStatement::Session(SessionStmt::SetUser(user)));
        }
        if !user.is_empty() {
            return Err(BindError::NotSupported("mixing user and system variables in one SET".into()));
        }
        Ok(BoundStatement::Session(SessionStmt::Set(sys)))
    }

    fn column_spec(&mut self, c: &ast::ColumnDef) -> Result<(ColumnSpec, Vec<NamedCheck>), BindError> {
        let ty = sql_type(&c.data_type).map_err(|e| match e {
            BindError::TooBigDisplayWidth { max, got, .. } => {
                BindError::TooBigDisplayWidth { column: c.name.value.clone(), max, got }
            }
            e => e,
        })?;
        check_members(&c.name.value, ty)?;
        let mut spec = ColumnSpec {
            name: c.name.value.clone(),
            ty,
            nullable: true,
            default: None,
            auto_increment: false,
            primary_key: false,
            unique: false,
            comment: String::new(),
            collation: None,
            warnings: Vec::new(),
            generated: None,
            on_update: None,
        };
        let mut checks = Vec::new();
        let mut explicit_null = false;
        let mut charset = None;
        let mut collate = None;
        for o in &c.options {
            match &o.option {
                ColumnOption::CharacterSet(cs) => charset = Some(cs.to_string()),
                ColumnOption::Collation(cl) => collate = Some(cl.to_string()),
                _ => {}
            }
        }
        let coll = resolve_collation(charset.as_deref(), collate.as_deref(), &mut spec.warnings)?;
        if ty.kind() == mizzle_types::ValueKind::Text {
            spec.collation = coll;
        }
        for o in &c.options {
            self.apply_column_option(
                &mut spec,
                &o.option,
                o.name.as_ref().map(|n| n.value.clone()),
                &mut checks,
                &mut explicit_null,
            )?;
        }
        if spec.primary_key {
            spec.nullable = false;
        }
        // TIMESTAMP columns have no implicit default in MySQL 8 (explicit_defaults_for_timestamp).
        self.check_default(&spec)?;
        Ok((spec, checks))
    }

    fn apply_column_option(
        &mut self,
        spec: &mut ColumnSpec,
        o: &ColumnOption,
        cname: Option<String>,
        checks: &mut Vec<NamedCheck>,
        explicit_null: &mut bool,
    ) -> Result<(), BindError> {
        match o {
            ColumnOption::Null => {
                spec.nullable = true;
                *explicit_null = true;
            }
            ColumnOption::NotNull => spec.nullable = false,
            ColumnOption::Default(e) => spec.default = Some(e.to_string()),
            ColumnOption::PrimaryKey(_) => spec.primary_key = true,
            ColumnOption::Unique(_) => spec.unique = true,
            ColumnOption::Check(c) => checks.push((
                cname.or(c.name.as_ref().map(|n| n.value.clone())),
                c.expr.to_string(),
                c.enforced.unwrap_or(true),
            )),
            ColumnOption::Comment(s) => spec.comment = s.clone(),
            // Resolved in `column_spec`.
            ColumnOption::CharacterSet(_) | ColumnOption::Collation(_) => {}
            ColumnOption::DialectSpecific(toks) => {
                let t: Vec<String> = toks.iter().map(|t| norm(&t.to_string())).collect();
                if t.iter().any(|x| x == "auto_increment" || x == "autoincrement") {
                    spec.auto_increment = true;
                } else {
                    return Err(BindError::NotSupported(format!("column option {}", t.join(" "))));
                }
            }
            ColumnOption::OnUpdate(e) => spec.on_update = Some(on_update_fsp(spec, e)?),
            ColumnOption::ForeignKey(_) => {}
            ColumnOption::Generated { generation_expr: Some(e), generation_expr_mode, generated_as, .. }
                if !matches!(generated_as, ast::GeneratedAs::ByDefault) =>
            {
                let stored = matches!(generation_expr_mode, Some(ast::GeneratedExpressionMode::Stored));
                spec.generated = Some((e.to_string(), stored));
            }
            ColumnOption::Invisible => return Err(BindError::NotSupported("INVISIBLE columns".into())),
            other => return Err(BindError::NotSupported(format!("column option {other}"))),
        }
        Ok(())
    }

    fn check_default(&mut self, spec: &ColumnSpec) -> Result<(), BindError> {
        if spec.on_update.is_some() && spec.generated.is_some() {
            return Err(BindError::InvalidOnUpdate(spec.name.clone()));
        }
        let Some(d) = &spec.default else { return Ok(()) };
        if spec.ty == SqlType::Json && !d.trim().starts_with('(') && !d.eq_ignore_ascii_case("null") {
            return Err(BindError::BlobCantHaveDefault(spec.name.clone()));
        }
        if matches!(spec.ty, SqlType::Text(_) | SqlType::Blob(_)) && !d.trim().starts_with('(') {
            // MySQL 8 only allows expression defaults (in parentheses) on TEXT/BLOB.
            if !d.eq_ignore_ascii_case("null") {
                return Err(BindError::InvalidDefault(spec.name.clone()));
            }
        }
        let e = super::dml::parse_expr(d)?;
        let b = self
            .bind_scalar(&e, &[], ExprCtx::plain("default"))
            .map_err(|_| BindError::InvalidDefault(spec.name.clone()))?;
        if let Expr::Literal(v, _) = &b {
            if v.is_null() && !spec.nullable {
                return Err(BindError::InvalidDefault(spec.name.clone()));
            }
            if !v.is_null() {
                mizzle_types::cast::assign(v, spec.ty, &mizzle_types::cast::Target { column: &spec.name, row: 1 })
                    .map_err(|_| BindError::InvalidDefault(spec.name.clone()))?;
            }
        }
        Ok(())
    }

    /// CREATE TEMPORARY TABLE: bound as CREATE TABLE; a temporary table
    /// has no foreign keys (InnoDB's have none either).
    fn bind_create_temporary_table(&mut self, ct: &ast::CreateTable) -> Result<BoundStatement, BindError> {
        let mut plain = ct.clone();
        plain.temporary = false;
        match self.bind_create_table(&plain)? {
            BoundStatement::Ddl(d) => match *d {
                Ddl::CreateTable { spec, if_not_exists, as_select } => {
                    if !spec.foreign_keys.is_empty() {
                        return Err(BindError::NotSupported("FOREIGN KEY on a TEMPORARY table".into()));
                    }
                    Ok(BoundStatement::Ddl(Box::new(Ddl::CreateTemporaryTable { spec, if_not_exists, as_select })))
                }
                _ => Err(BindError::Internal("CREATE TABLE bound to another statement".into())),
            },
            _ => Err(BindError::Internal("CREATE TABLE bound to another statement".into())),
        }
    }

    fn bind_create_table(&mut self, ct: &ast::CreateTable) -> Result<BoundStatement, BindError> {
        if ct.temporary {
            return self.bind_create_temporary_table(ct);
        }
        if ct.clone.is_some() {
            return Err(BindError::NotSupported("CREATE TABLE ... CLONE".into()));
        }
        if let Some(like) = &ct.like {
            let (ast::CreateTableLikeKind::Plain(l) | ast::CreateTableLikeKind::Parenthesized(l)) = like;
            return self.bind_create_table_like(ct, &l.name);
        }
        let (schema, name) = self.object_name(&ct.name)?;
        let mut spec = TableSpec {
            schema,
            name,
            columns: Vec::new(),
            indexes: Vec::new(),
            checks: Vec::new(),
            foreign_keys: Vec::new(),
            auto_increment_start: None,
            engine: None,
            comment: String::new(),
            collation: None,
            warnings: Vec::new(),
        };
        // Column CHECK constraints: (column position, position in checks).
        let mut column_checks: Vec<(usize, usize)> = Vec::new();
        for c in &ct.columns {
            let (cs, checks) = self.column_spec(c)?;
            if spec.columns.iter().any(|x: &ColumnSpec| norm(&x.name) == norm(&cs.name)) {
                return Err(BindError::DuplicateColumn(cs.name));
            }
            for ck in checks {
                column_checks.push((spec.columns.len(), spec.checks.len()));
                spec.checks.push(ck);
            }
            spec.columns.push(cs);
        }
        let scope = spec_scope(&spec.name, &spec.columns);
        for &(col, k) in &column_checks {
            let (name, text, _) = &spec.checks[k];
            let name = name.clone().unwrap_or_else(|| format!("{}_chk_{}", spec.name, k + 1));
            self.check_column_check(&name, text, &scope, col)?;
        }
        for k in &ct.constraints {
            match k {
                TableConstraint::PrimaryKey(pk) => spec.indexes.push(IndexSpec {
                    name: Some("PRIMARY".into()),
                    parts: index_parts(&pk.columns, true)?,
                    unique: true,
                    primary: true,
                }),
                TableConstraint::Unique(u) => spec.indexes.push(IndexSpec {
                    name: u.index_name.as_ref().or(u.name.as_ref()).map(|n| n.value.clone()),
                    parts: index_parts(&u.columns, false)?,
                    unique: true,
                    primary: false,
                }),
                TableConstraint::Index(ix) => spec.indexes.push(IndexSpec {
                    name: ix.name.as_ref().map(|n| n.value.clone()),
                    parts: index_parts(&ix.columns, false)?,
                    unique: false,
                    primary: false,
                }),
                TableConstraint::Check(c) => spec.checks.push((
                    c.name.as_ref().map(|n| n.value.clone()),
                    c.expr.to_string(),
                    c.enforced.unwrap_or(true),
                )),
                TableConstraint::ForeignKey(fk) => {
                    let f = self.foreign_key(fk, &spec.schema)?;
                    spec.foreign_keys.push(f);
                }
                other => return Err(BindError::NotSupported(format!("constraint {other}"))),
            }
        }
        self.table_options(&ct.table_options, &mut spec)?;
        if spec.collation.is_none() {
            spec.collation = self.default_collation(&spec.schema)?;
        }
        if let Some(c) = &ct.comment {
            spec.comment = match c {
                ast::CommentDef::WithEq(s) | ast::CommentDef::WithoutEq(s) => s.clone(),
            };
        }
        let as_select = match &ct.query {
            Some(q) => {
                let (plan, cols) = self.bind_query(q)?;
                if spec.columns.is_empty() {
                    for c in &cols {
                        if spec.columns.iter().any(|x| norm(&x.name) == norm(&c.name)) {
                            return Err(BindError::DuplicateColumn(c.name.clone()));
                        }
                        let ty = match c.ty {
                            SqlType::Null => SqlType::Binary(0),
                            t => t,
                        };
                        spec.columns.push(ColumnSpec {
                            name: c.name.clone(),
                            ty,
                            nullable: true,
                            default: None,
                            auto_increment: false,
                            primary_key: false,
                            unique: false,
                            comment: String::new(),
                            // MySQL: a text column takes the collation the
                            // query derives for it, not the table default.
                            collation: (ty.kind() == mizzle_types::ValueKind::Text)
                                .then(|| c.collation.unwrap_or(Collation::LEGACY)),
                            warnings: Vec::new(),
                            generated: None,
                            on_update: None,
                        });
                    }
                } else if spec.columns.len() != cols.len() {
                    return Err(BindError::NotSupported(
                        "CREATE TABLE with both columns and SELECT of another width".into(),
                    ));
                }
                Some(Box::new(plan))
            }
            None => None,
        };
        if spec.columns.is_empty() {
            return Err(BindError::Syntax("A table must have at least 1 column".into()));
        }
        validate_keys(&spec)?;
        Ok(BoundStatement::Ddl(Box::new(Ddl::CreateTable { spec, if_not_exists: ct.if_not_exists, as_select })))
    }

    /// `CREATE TABLE t LIKE src`: src's columns (types, NULL, defaults,
    /// AUTO_INCREMENT, comments), keys, CHECK constraints (renamed as
    /// unnamed ones are), ENGINE and COMMENT; not its foreign keys nor its
    /// AUTO_INCREMENT counter, as in MySQL.
    fn bind_create_table_like(
        &mut self,
        ct: &ast::CreateTable,
        src: &ast::ObjectName,
    ) -> Result<BoundStatement, BindError> {
        let (schema, name) = self.object_name(&ct.name)?;
        let def = self.show_table(src)?;
        // A hidden column is a functional key part again (MySQL keeps
        // functional indexes through LIKE).
        let part = |i: usize| match def.columns.get(i) {
            Some(c) if c.hidden => KeyPart::Expr(c.generated.as_ref().map(|g| g.expr.clone()).unwrap_or_default()),
            Some(c) => KeyPart::Column(c.name.clone()),
            None => KeyPart::Column(String::new()),
        };
        let mut indexes = Vec::new();
        if !def.primary_key.is_empty() {
            indexes.push(IndexSpec {
                name: Some("PRIMARY".into()),
                parts: def.primary_key.iter().map(|&i| part(i)).collect(),
                unique: true,
                primary: true,
            });
        }
        for ix in &def.indexes {
            indexes.push(IndexSpec {
                name: Some(ix.name.clone()),
                parts: ix.columns.iter().map(|&i| part(i)).collect(),
                unique: ix.unique,
                primary: false,
            });
        }
        let spec = TableSpec {
            schema,
            name,
            columns: def
                .columns
                .iter()
                .filter(|c| !c.hidden)
                .map(|c| ColumnSpec {
                    name: c.name.clone(),
                    ty: c.ty,
                    nullable: c.nullable,
                    default: c.default.clone(),
                    auto_increment: c.auto_increment,
                    primary_key: false,
                    unique: false,
                    comment: c.comment.clone(),
                    collation: Some(c.collation),
                    warnings: Vec::new(),
                    generated: c.generated.as_ref().map(|g| (g.expr.clone(), g.stored)),
                    on_update: c.on_update,
                })
                .collect(),
            indexes,
            checks: def.checks.iter().map(|c| (None, c.expr.clone(), c.enforced)).collect(),
            foreign_keys: Vec::new(),
            auto_increment_start: None,
            engine: Some(def.engine.clone()).filter(|e| !e.is_empty()),
            comment: def.comment.clone(),
            collation: Some(def.collation),
            warnings: Vec::new(),
        };
        validate_keys(&spec)?;
        Ok(BoundStatement::Ddl(Box::new(Ddl::CreateTable { spec, if_not_exists: ct.if_not_exists, as_select: None })))
    }

    /// The collation of a new table in `schema` that names none: the
    /// database's stored default (as MySQL 8 and MariaDB do; setting
    /// `@@collation_database` does not change it).
    fn default_collation(&self, schema: &str) -> Result<Option<Collation>, BindError> {
        self.cat.schema_collation(schema)
    }

    /// `@@collation_server`: the default of a new database.
    pub(crate) fn server_collation(&self) -> Collation {
        self.cat
            .system_variable("collation_server", false)
            .and_then(|v| Collation::from_name(&v.to_text_lossy()))
            .unwrap_or(Collation::SERVER_DEFAULT)
    }

    /// A database's `[DEFAULT] CHARACTER SET cs [DEFAULT] COLLATE c`: the
    /// collation, the character set's default when only that is named
    /// (MySQL 8's utf8mb4 default, `utf8mb4_0900_ai_ci`), `None` for
    /// neither.
    fn schema_collation(&self, charset: Option<&str>, collate: Option<&str>) -> Result<Option<Collation>, BindError> {
        let mut warnings = Vec::new();
        let c = resolve_collation(charset, collate, &mut warnings)?;
        // Another character set named alone (stored as utf8mb4): utf8mb4's.
        let named_charset = charset.map(unquote).is_some_and(|c| !c.eq_ignore_ascii_case("default"));
        Ok(c.or(named_charset.then_some(Collation::SERVER_DEFAULT)))
    }

    /// `ALTER {DATABASE | SCHEMA} [d] opts`, which `parse` hands over as
    /// sqlparser's `ALTER SCHEMA d SET OPTIONS (...)`.
    fn bind_alter_schema(&mut self, a: &ast::AlterSchema) -> Result<BoundStatement, BindError> {
        let [ast::AlterSchemaOperation::SetOptionsParens { options }] = a.operations.as_slice() else {
            return Err(BindError::NotSupported(format!("{a}")));
        };
        let mut charset = None;
        let mut collate = None;
        let mut current = false;
        for o in options {
            let ast::SqlOption::KeyValue { key, value } = o else {
                return Err(BindError::NotSupported(format!("{a}")));
            };
            let v = value.to_string();
            match norm(&key.to_string()).as_str() {
                crate::parse::ALTER_DB_CHARSET => charset = Some(v),
                crate::parse::ALTER_DB_COLLATE => collate = Some(v),
                crate::parse::ALTER_DB_CURRENT => current = true,
                _ => {}
            }
        }
        let name = if current {
            self.cat.current_schema().ok_or(BindError::NoDatabaseSelected)?
        } else {
            a.name.to_string().trim_matches('`').to_string()
        };
        if !self.cat.schema_exists(&name)? {
            return Err(BindError::UnknownDatabase(name));
        }
        let collation = self.schema_collation(charset.as_deref(), collate.as_deref())?;
        match collation {
            Some(collation) => Ok(BoundStatement::Ddl(Box::new(Ddl::AlterSchema { name, collation }))),
            // ENCRYPTION / READ ONLY alone: accepted, nothing to change.
            None => Ok(BoundStatement::Ddl(Box::new(Ddl::AlterSchema {
                collation: self.cat.schema_collation(&name)?.unwrap_or(Collation::LEGACY),
                name,
            }))),
        }
    }

    fn table_options(&mut self, opts: &ast::CreateTableOptions, spec: &mut TableSpec) -> Result<(), BindError> {
        let list = match opts {
            ast::CreateTableOptions::None => return Ok(()),
            ast::CreateTableOptions::With(l)
            | ast::CreateTableOptions::Options(l)
            | ast::CreateTableOptions::Plain(l) => l,
            _ => return Ok(()),
        };
        let mut charset = None;
        let mut collate = None;
        for o in list {
            match o {
                ast::SqlOption::KeyValue { key, value } => {
                    let k = norm(&key.to_string());
                    let v = value.to_string();
                    match k.as_str() {
                        "engine" => spec.engine = Some(v.trim_matches('\'').to_string()),
                        "default charset" | "charset" | "character set" | "default character set" => charset = Some(v),
                        "collate" | "default collate" => collate = Some(v),
                        "auto_increment" => {
                            spec.auto_increment_start =
                                Some(v.parse::<u64>().map_err(|_| BindError::Syntax(format!("AUTO_INCREMENT={v}")))?)
                        }
                        "comment" => spec.comment = v.trim_matches('\'').to_string(),
                        "row_format" | "key_block_size" | "stats_persistent" | "pack_keys" | "checksum"
                        | "delay_key_write" | "min_rows" | "max_rows" | "avg_row_length" => {}
                        other => return Err(BindError::NotSupported(format!("table option {other}"))),
                    }
                }
                ast::SqlOption::NamedParenthesizedList(l) => {
                    let k = norm(&l.key.value);
                    if k == "engine" {
                        spec.engine = l.name.as_ref().map(|n| n.value.clone());
                    } else {
                        return Err(BindError::NotSupported(format!("table option {k}")));
                    }
                }
                ast::SqlOption::Comment(c) => {
                    spec.comment = match c {
                        ast::CommentDef::WithEq(s) | ast::CommentDef::WithoutEq(s) => s.clone(),
                    }
                }
                other => return Err(BindError::NotSupported(format!("table option {other}"))),
            }
        }
        spec.collation = resolve_collation(charset.as_deref(), collate.as_deref(), &mut spec.warnings)?;
        Ok(())
    }

    fn bind_alter(&mut self, at: &ast::AlterTable) -> Result<BoundStatement, BindError> {
        let (schema, name) = self.object_name(&at.name)?;
        let mut ops = Vec::new();
        let pos = |p: &Option<MySQLColumnPosition>| match p {
            None => ColumnPosition::Default,
            Some(MySQLColumnPosition::First) => ColumnPosition::First,
            Some(MySQLColumnPosition::After(c)) => ColumnPosition::After(c.value.clone()),
        };
        for op in &at.operations {
            match op {
                AlterTableOperation::AddColumn { column_def, column_position, .. } => {
                    let (column, checks) = self.column_spec(column_def)?;
                    if !checks.is_empty() {
                        // A column CHECK reads its column only (3813); named
                        // as the executor will name it.
                        let t = self.require_table(&at.name, "BASE TABLE")?;
                        let mut scope = super::dml::table_scope(&t, &name);
                        scope.extend(spec_scope(&name, std::slice::from_ref(&column)));
                        let added = ops.iter().filter(|o| matches!(o, AlterOp::AddCheck { .. })).count();
                        for (j, (n, e, _)) in checks.iter().enumerate() {
                            let cname =
                                n.clone().unwrap_or_else(|| format!("{name}_chk_{}", t.checks.len() + added + j + 1));
                            self.check_column_check(&cname, e, &scope, scope.len() - 1)?;
                        }
                    }
                    ops.push(AlterOp::AddColumn { column, position: pos(column_position) });
                    for (n, e, enforced) in checks {
                        ops.push(AlterOp::AddCheck { name: n, expr: e, enforced });
                    }
                }
                AlterTableOperation::DropColumn { column_names, if_exists, .. } => {
                    for c in column_names {
                        ops.push(AlterOp::DropColumn { name: c.value.clone(), if_exists: *if_exists });
                    }
                }
                AlterTableOperation::ModifyColumn { col_name, data_type, options, column_position } => {
                    let def = ast::ColumnDef {
                        name: col_name.clone(),
                        data_type: data_type.clone(),
                        options: options
                            .iter()
                            .map(|o| ast::ColumnOptionDef { name: None, option: o.clone() })
                            .collect(),
                    };
                    let (column, _) = self.column_spec(&def)?;
                    ops.push(AlterOp::ModifyColumn {
                        old_name: col_name.value.clone(),
                        column,
                        position: pos(column_position),
                    });
                }
                AlterTableOperation::ChangeColumn { old_name, new_name, data_type, options, column_position } => {
                    let def = ast::ColumnDef {
                        name: new_name.clone(),
                        data_type: data_type.clone(),
                        options: options
                            .iter()
                            .map(|o| ast::ColumnOptionDef { name: None, option: o.clone() })
                            .collect(),
                    };
                    let (column, _) = self.column_spec(&def)?;
                    ops.push(AlterOp::ModifyColumn {
                        old_name: old_name.value.clone(),
                        column,
                        position: pos(column_position),
                    });
                }
                AlterTableOperation::RenameColumn { old_column_name, new_column_name } => {
                    ops.push(AlterOp::RenameColumn {
                        old: old_column_name.value.clone(),
                        new: new_column_name.value.clone(),
                    })
                }
                AlterTableOperation::AlterColumn { column_name, op } => match op {
                    AlterColumnOperation::SetDefault {
                        value: ast::Expr::Value(ast::ValueWithSpan { value: ast::Value::SingleQuotedString(s), .. }),
                    } if s.starts_with(crate::parse::ALTER_CHECK_MARKER) => ops.push(AlterOp::AlterCheck {
                        name: column_name.value.clone(),
                        enforced: !s.ends_with("NOT ENFORCED"),
                    }),
                    AlterColumnOperation::SetDefault { value } => ops.push(AlterOp::SetDefault {
                        name: column_name.value.clone(),
                        default: Some(value.to_string()),
                    }),
                    AlterColumnOperation::DropDefault => {
                        ops.push(AlterOp::SetDefault { name: column_name.value.clone(), default: None })
                    }
                    other => return Err(BindError::NotSupported(format!("ALTER COLUMN {other}"))),
                },
                AlterTableOperation::AddConstraint { constraint, .. } => match constraint {
                    TableConstraint::PrimaryKey(pk) => ops.push(AlterOp::AddIndex(IndexSpec {
                        name: Some("PRIMARY".into()),
                        parts: index_parts(&pk.columns, true)?,
                        unique: true,
                        primary: true,
                    })),
                    TableConstraint::Unique(u) => ops.push(AlterOp::AddIndex(IndexSpec {
                        name: u.index_name.as_ref().or(u.name.as_ref()).map(|n| n.value.clone()),
                        parts: index_parts(&u.columns, false)?,
                        unique: true,
                        primary: false,
                    })),
                    TableConstraint::Index(ix) => ops.push(AlterOp::AddIndex(IndexSpec {
                        name: ix.name.as_ref().map(|n| n.value.clone()),
                        parts: index_parts(&ix.columns, false)?,
                        unique: false,
                        primary: false,
                    })),
                    TableConstraint::Check(c) => ops.push(AlterOp::AddCheck {
                        name: c.name.as_ref().map(|n| n.value.clone()),
                        expr: c.expr.to_string(),
                        enforced: c.enforced.unwrap_or(true),
                    }),
                    TableConstraint::ForeignKey(fk) => ops.push(AlterOp::AddForeignKey(self.foreign_key(fk, &schema)?)),
                    other => return Err(BindError::NotSupported(format!("ADD {other}"))),
                },
                AlterTableOperation::DropIndex { name } => ops.push(AlterOp::DropIndex { name: name.value.clone() }),
                AlterTableOperation::DropPrimaryKey { .. } => ops.push(AlterOp::DropPrimaryKey),
                AlterTableOperation::DropConstraint { name, .. } => {
                    ops.push(AlterOp::DropCheck { name: name.value.clone() })
                }
                AlterTableOperation::DropForeignKey { name, .. } => {
                    ops.push(AlterOp::DropForeignKey { name: name.value.clone() })
                }
                AlterTableOperation::RenameTable { table_name } => {
                    let n = match table_name {
                        RenameTableNameKind::As(n) | RenameTableNameKind::To(n) => n,
                    };
                    let (s, t) = self.object_name(n)?;
                    ops.push(AlterOp::RenameTable { schema: s, name: t });
                }
                AlterTableOperation::Algorithm { .. } | AlterTableOperation::Lock { .. } => ops.push(AlterOp::NoOp),
                AlterTableOperation::AutoIncrement { .. } => ops.push(AlterOp::NoOp),
                other => return Err(BindError::NotSupported(format!("ALTER TABLE {other}"))),
            }
        }
        Ok(BoundStatement::Ddl(Box::new(Ddl::AlterTable { schema, name, ops })))
    }

    /// A FOREIGN KEY clause; the referenced table defaults to the child's
    /// schema. MATCH and deferral clauses are refused (MySQL's InnoDB
    /// ignores MATCH; deferral does not exist in MySQL).
    fn foreign_key(&mut self, fk: &ast::ForeignKeyConstraint, schema: &str) -> Result<ForeignKeySpec, BindError> {
        use mizzle_dictionary::FkAction;
        if fk.characteristics.is_some() {
            return Err(BindError::Syntax("deferrable foreign keys".into()));
        }
        let action = |a: &Option<ast::ReferentialAction>| match a {
            None | Some(ast::ReferentialAction::NoAction) => FkAction::NoAction,
            Some(ast::ReferentialAction::Restrict) => FkAction::Restrict,
            Some(ast::ReferentialAction::Cascade) => FkAction::Cascade,
            Some(ast::ReferentialAction::SetNull) => FkAction::SetNull,
            Some(ast::ReferentialAction::SetDefault) => FkAction::SetDefault,
        };
        let (ref_schema, ref_table) = match fk.foreign_table.0.as_slice() {
            [ast::ObjectNamePart::Identifier(t)] => (schema.to_string(), t.value.clone()),
            _ => self.object_name(&fk.foreign_table)?,
        };
        Ok(ForeignKeySpec {
            name: fk.name.as_ref().map(|n| n.value.clone()),
            index_name: fk.index_name.as_ref().map(|n| n.value.clone()),
            columns: fk.columns.iter().map(|c| c.value.clone()).collect(),
            ref_schema,
            ref_table,
            ref_columns: fk.referred_columns.iter().map(|c| c.value.clone()).collect(),
            on_delete: action(&fk.on_delete),
            on_update: action(&fk.on_update),
        })
    }

    /// `SELECT @@var` and `@var` references.
    pub(crate) fn variable_expr(&mut self, name: &str) -> Option<Expr> {
        if name.starts_with('@') {
            self.read_variables = true;
        }
        if let Some(rest) = name.strip_prefix("@@") {
            let (global, v) = match rest.split_once('.') {
                Some((s, v)) => (norm(s) == "global", v),
                None => (false, rest),
            };
            let val = self.cat.system_variable(&norm(v), global)?;
            return Some(Expr::lit(val));
        }
        let user = name.strip_prefix('@')?;
        let user = user.trim_matches('`');
        if let Some((_, index)) = self.load_vars.iter().find(|(v, _)| v.eq_ignore_ascii_case(user)) {
            return Some(Expr::Column { index: *index, ty: SqlType::Text(u32::MAX) });
        }
        Some(Expr::lit(self.cat.user_variable(user)))
    }
}

/// The scope of a table being defined: its columns, by name.
fn spec_scope(table: &str, columns: &[ColumnSpec]) -> Vec<OutCol> {
    columns
        .iter()
        .map(|c| OutCol {
            name: c.name.clone(),
            table: Some(table.to_string()),
            origin: None,
            ty: c.ty,
            nullable: c.nullable,
            hidden: false,
            collation: c.collation.filter(|&x| x != Collation::LEGACY),
        })
        .collect()
}

/// The key parts of an index: columns (a `col(10)` prefix indexes the
/// whole value) and MySQL 8's functional key parts `(expr)`. A functional
/// part of a primary key is 3756, a bare column in parentheses 3762, an
/// expression without its parentheses a syntax error, as in MySQL.
fn index_parts(cols: &[ast::IndexColumn], primary: bool) -> Result<Vec<KeyPart>, BindError> {
    let rule = |code: mizzle_types::ErrorCode, message: &str| BindError::Definition { code, message: message.into() };
    cols.iter()
        .map(|c| match &c.column.expr {
            ast::Expr::Identifier(i) => Ok(KeyPart::Column(i.value.clone())),
            // col(10) prefix lengths: the whole value is indexed.
            ast::Expr::Function(f) => Ok(KeyPart::Column(f.name.to_string().trim_matches('`').to_string())),
            ast::Expr::Nested(_) | ast::Expr::Tuple(_) if primary => Err(rule(
                mizzle_types::ErrorCode::FunctionalIndexPrimaryKey,
                "The primary key cannot be a functional index",
            )),
            ast::Expr::Nested(inner) => {
                let mut e = inner.as_ref();
                while let ast::Expr::Nested(x) = e {
                    e = x;
                }
                if matches!(e, ast::Expr::Identifier(_) | ast::Expr::CompoundIdentifier(_)) {
                    return Err(rule(
                        mizzle_types::ErrorCode::FunctionalIndexOnField,
                        "Functional index on a column is not supported. Consider using a regular index instead.",
                    ));
                }
                Ok(KeyPart::Expr(inner.to_string()))
            }
            // `((a, b))`: refused with the index's name when it is built.
            tuple @ ast::Expr::Tuple(_) => Ok(KeyPart::Expr(tuple.to_string())),
            other => Err(BindError::Syntax(format!(
                "an expression key part must be in parentheses: ({other}) (You have an error in your SQL syntax)"
            ))),
        })
        .collect()
}

/// Checks key column names, duplicate key names, one primary key and the
/// AUTO_INCREMENT rule.
pub(crate) fn validate_keys(spec: &TableSpec) -> Result<(), BindError> {
    let has = |n: &str| spec.columns.iter().any(|c| norm(&c.name) == norm(n));
    let mut primaries = spec.columns.iter().filter(|c| c.primary_key).count();
    let mut names: Vec<String> = Vec::new();
    for ix in &spec.indexes {
        if ix.primary {
            primaries += 1;
        }
        for c in ix.column_names() {
            if !has(c) {
                return Err(BindError::KeyColumnMissing(c.to_string()));
            }
        }
        if let Some(n) = &ix.name {
            let l = norm(n);
            if names.contains(&l) && !ix.primary {
                return Err(BindError::DuplicateKeyName(n.clone()));
            }
            names.push(l);
        }
    }
    if primaries > 1 {
        return Err(BindError::MultiplePrimaryKey);
    }
    let autos: Vec<&ColumnSpec> = spec.columns.iter().filter(|c| c.auto_increment).collect();
    if autos.len() > 1 {
        return Err(BindError::WrongAutoKey);
    }
    if let Some(a) = autos.first() {
        if !a.ty.is_integer() && !matches!(a.ty, SqlType::Float | SqlType::Double) {
            return Err(BindError::WrongAutoKey);
        }
        let keyed = a.primary_key
            || a.unique
            || spec
                .indexes
                .iter()
                .any(|ix| matches!(ix.parts.first(), Some(KeyPart::Column(c)) if norm(c) == norm(&a.name)));
        if !keyed {
            return Err(BindError::WrongAutoKey);
        }
    }
    Ok(())
}

/// The fractional digits of `ON UPDATE CURRENT_TIMESTAMP[(fsp)]` (also
/// NOW, LOCALTIME, LOCALTIMESTAMP); MySQL 8 allows it only on TIMESTAMP and
/// DATETIME columns and only with the column's own digits (1294 otherwise).
fn on_update_fsp(spec: &ColumnSpec, e: &ast::Expr) -> Result<u8, BindError> {
    let bad = || BindError::InvalidOnUpdate(spec.name.clone());
    let (SqlType::Timestamp(col_fsp) | SqlType::DateTime(col_fsp)) = spec.ty else { return Err(bad()) };
    let (name, args): (String, Vec<&ast::Expr>) = match e {
        ast::Expr::Identifier(i) => (i.value.to_ascii_lowercase(), Vec::new()),
        ast::Expr::Function(f) => {
            let args = match &f.args {
                ast::FunctionArguments::None => Vec::new(),
                ast::FunctionArguments::List(l) => l
                    .args
                    .iter()
                    .map(|a| match a {
                        ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(x)) => Ok(x),
                        _ => Err(bad()),
                    })
                    .collect::<Result<_, _>>()?,
                ast::FunctionArguments::Subquery(_) => return Err(bad()),
            };
            (f.name.to_string().to_ascii_lowercase(), args)
        }
        _ => return Err(bad()),
    };
    if !matches!(name.as_str(), "current_timestamp" | "now" | "localtime" | "localtimestamp") {
        return Err(bad());
    }
    let fsp = match args.as_slice() {
        [] => 0,
        [ast::Expr::Value(v)] => match &v.value {
            ast::Value::Number(n, _) => n.parse::<u8>().map_err(|_| bad())?,
            _ => return Err(bad()),
        },
        _ => return Err(bad()),
    };
    if fsp != col_fsp {
        return Err(bad());
    }
    Ok(fsp)
}
