//! Logical plans and bound statements: what the binder produces, the
//! optimizer rewrites and the executor runs.
//!
//! Invariants:
//! 1. Every plan node knows its output columns ([`Plan::columns`]); the
//!    expressions attached to a node are bound over its input's columns
//!    (for `Join`, over left ++ right).
//! 2. Table definitions inside plans are the versions the statement was
//!    bound against; [`BoundStatement::table_versions`] lists them so a
//!    cached plan can be checked for staleness.
//! 3. A `Window` node's input arrives ordered so that every window of the
//!    node sees its partitions as runs of adjacent rows, in its ORDER BY
//!    order: the binder puts a `Sort` below it by the longest window's
//!    partition keys then order keys, and only groups windows whose keys
//!    are a prefix of that sort (partition keys in any order).
//! 4. A `WorkTable` appears only in a recursive query block of the
//!    `RecursiveCte` with its id, directly in that block's FROM clause
//!    (never in a subquery, never on the inner side of an outer join), and
//!    at most once per block.

use std::sync::Arc;

use mizzle_dictionary::{TableDef, ViewDef};
use mizzle_txn::IsolationLevel;
use mizzle_types::{Collation, SqlType, Value};

use crate::expr::{AggCall, Expr, SortKey, WindowFrame, WindowFunc};

/// One output column of a plan.
#[derive(Clone, Debug, PartialEq)]
pub struct OutCol {
    /// Column name (alias or expression text).
    pub name: String,
    /// Table alias it came from, for name resolution and metadata.
    pub table: Option<String>,
    /// Base table and column it came from, if directly.
    pub origin: Option<(String, String, String)>,
    /// Type.
    pub ty: SqlType,
    /// May be NULL.
    pub nullable: bool,
    /// Hidden from `SELECT *` (the right side of a `USING` join).
    pub hidden: bool,
    /// Collation of a text column that is not `Collation::LEGACY`
    /// (`None` for LEGACY and for other types).
    pub collation: Option<Collation>,
}

/// How a scan reaches its rows.
#[derive(Clone, Debug, PartialEq)]
pub enum Access {
    /// Every row of the table.
    Full,
    /// Rows whose primary key (or a prefix of it) lies in the ranges.
    Primary(Vec<KeyRange>),
    /// Rows found through secondary index `index` (position in `TableDef::indexes`).
    Index { index: usize, ranges: Vec<KeyRange> },
}

/// A range over the leading columns of a key. Values are constant
/// expressions (literals or parameters) of the key columns' types.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyRange {
    /// Equal values of the first `eq.len()` key columns.
    pub eq: Vec<Expr>,
    /// Bound on the next key column after the equalities: (value, inclusive).
    pub lower: Option<(Expr, bool)>,
    /// Upper bound on the same column.
    pub upper: Option<(Expr, bool)>,
    /// The last of `eq` is an uncorrelated `x IN (SELECT ...)` subquery
    /// (no bounds then): the range stands for one range per value the
    /// subquery returns. The IN conjunct stays in the scan's filter, so
    /// these ranges only need to hold every row it accepts.
    pub list: bool,
}

/// Row locks requested by `SELECT ... FOR UPDATE / FOR SHARE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LockMode {
    /// A plain read.
    #[default]
    None,
    /// `FOR SHARE` / `LOCK IN SHARE MODE`: rows read are validated at commit
    /// (a concurrent commit that changed one aborts this transaction).
    Share,
    /// `FOR UPDATE`: rows read are treated as written (write conflicts).
    Update,
}

/// Kinds of joins the executor implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinKind {
    /// Inner join (also cross join, with no condition).
    Inner,
    /// Left outer join.
    Left,
}

/// Set operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetOpKind {
    /// UNION
    Union,
    /// INTERSECT
    Intersect,
    /// EXCEPT
    Except,
}

/// The tables of `information_schema` this engine has, as `SHOW TABLES
/// FROM information_schema` lists them (MySQL 8 names them in capitals).
pub const INFORMATION_SCHEMA_TABLES: &[&str] = &[
    "CHARACTER_SETS",
    "CHECK_CONSTRAINTS",
    "COLLATIONS",
    "COLUMNS",
    "KEY_COLUMN_USAGE",
    "REFERENTIAL_CONSTRAINTS",
    "SCHEMATA",
    "STATISTICS",
    "TABLES",
    "TABLE_CONSTRAINTS",
    "VIEWS",
];

/// The tables of `performance_schema` this engine has.
pub const PERFORMANCE_SCHEMA_TABLES: &[&str] = &["global_status", "session_status", "session_variables"];

/// The schema name `information_schema` or `performance_schema` (either
/// case) in its lower-case spelling: schemas that hold only the engine's
/// built-in tables, cannot be created, dropped or written to, and exist in
/// every catalog.
pub fn system_schema(name: &str) -> Option<&'static str> {
    ["information_schema", "performance_schema"].into_iter().find(|s| s.eq_ignore_ascii_case(name))
}

/// Built-in tables (SHOW and information_schema).
#[derive(Clone, Debug, PartialEq)]
pub enum SystemTable {
    /// `SHOW DATABASES` / `information_schema.SCHEMATA`.
    Schemata,
    /// `information_schema.TABLES` rows of one schema (None: all schemas).
    Tables { schema: Option<String>, full: bool },
    /// `information_schema.COLUMNS` / `SHOW COLUMNS` of one table.
    Columns { table: Arc<TableDef>, full: bool },
    /// `SHOW INDEX` of one table.
    Indexes { table: Arc<TableDef> },
    /// `SHOW CREATE TABLE`.
    CreateTable { table: Arc<TableDef> },
    /// `SHOW CREATE VIEW`.
    CreateView { view: Arc<ViewDef> },
    /// `SHOW [SESSION|GLOBAL] VARIABLES`.
    Variables,
    /// `SHOW WARNINGS` / `SHOW ERRORS` (the messages of level `Error` only),
    /// with `LIMIT [offset,] count` as (offset, count).
    Warnings { errors_only: bool, limit: Option<(u64, u64)> },
    /// `SHOW COUNT(*) WARNINGS` / `SHOW COUNT(*) ERRORS`: one row, the
    /// number of messages (of level `Error` only), as `@@warning_count` /
    /// `@@error_count` give it.
    WarningCount { errors_only: bool },
    /// `SHOW ENGINES`.
    Engines,
    /// `SHOW PLUGINS`.
    Plugins,
    /// `SHOW [FULL] PROCESSLIST` (this session only in embedded use).
    ProcessList,
    /// `SHOW STATUS`.
    Status,
    /// `SHOW COLLATION` / `SHOW CHARACTER SET`.
    Collations,
    /// `SHOW CHARACTER SET`.
    Charsets,
    /// `information_schema` views of constraints, over every schema.
    Constraints(ConstraintView),
    /// `information_schema` tables ORMs read, with MySQL 8's columns, over
    /// every schema.
    Info(InfoView),
    /// `SHOW CREATE DATABASE [IF NOT EXISTS]` (the name as given).
    CreateDatabase { name: String, collation: Collation, if_not_exists: bool },
}

/// Which `information_schema` table of [`SystemTable::Info`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InfoView {
    /// `SCHEMATA`.
    Schemata,
    /// `TABLES`.
    Tables,
    /// `COLUMNS`.
    Columns,
    /// `STATISTICS`: one row per column of each index (PRIMARY first).
    Statistics,
    /// `VIEWS`.
    Views,
}

/// Which `information_schema` constraint view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConstraintView {
    /// `TABLE_CONSTRAINTS`: PRIMARY KEY, UNIQUE, FOREIGN KEY and CHECK.
    TableConstraints,
    /// `KEY_COLUMN_USAGE`: columns of primary, unique and foreign keys.
    KeyColumnUsage,
    /// `REFERENTIAL_CONSTRAINTS`: one row per foreign key.
    ReferentialConstraints,
    /// `CHECK_CONSTRAINTS`: one row per CHECK constraint.
    CheckConstraints,
}

/// One window function call of a [`WindowDef`].
#[derive(Clone, Debug, PartialEq)]
pub struct WindowFnCall {
    /// Which function.
    pub func: WindowFunc,
    /// Arguments, bound over the window node's input row.
    pub args: Vec<Expr>,
    /// Result type.
    pub ty: SqlType,
}

/// One window of a `Plan::Window` node and the calls evaluated over it.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowDef {
    /// `PARTITION BY` expressions over the node's input.
    pub partition_by: Vec<Expr>,
    /// `ORDER BY` keys over the node's input.
    pub order_by: Vec<SortKey>,
    /// The frame (defaulted as MySQL does).
    pub frame: WindowFrame,
    /// The calls; each adds one output column.
    pub calls: Vec<WindowFnCall>,
}

/// A bound `JSON_TABLE` (see `bind::json_table`).
#[derive(Clone, Debug, PartialEq)]
pub struct JsonTableDef {
    /// The row path: each value it selects is one row context.
    pub path: mizzle_types::json::JsonPath,
    /// The columns, as written.
    pub columns: Vec<JtColumn>,
    /// The number of output columns (slots).
    pub width: usize,
}

/// One column clause of a JSON_TABLE; `slot` is its output position among
/// the table's columns (depth-first in the order written).
#[derive(Clone, Debug, PartialEq)]
pub enum JtColumn {
    /// `name FOR ORDINALITY`: 1, 2, ... within its nesting level.
    Ordinality { slot: usize },
    /// `name type PATH path [on_empty ON EMPTY] [on_error ON ERROR]`.
    Value {
        slot: usize,
        name: String,
        ty: SqlType,
        path: mizzle_types::json::JsonPath,
        on_empty: JtOnMiss,
        on_error: JtOnMiss,
    },
    /// `name type EXISTS PATH path`: 1 when the path finds something.
    Exists { slot: usize, name: String, ty: SqlType, path: mizzle_types::json::JsonPath },
    /// `NESTED [PATH] path COLUMNS (...)`.
    Nested { path: mizzle_types::json::JsonPath, columns: Vec<JtColumn> },
}

/// A JSON_TABLE column's answer when its path finds nothing (ON EMPTY) or
/// its value does not fit (ON ERROR).
#[derive(Clone, Debug, PartialEq)]
pub enum JtOnMiss {
    /// NULL (the default).
    Null,
    /// The statement fails (3665 / 3666 / 3669).
    Error,
    /// DEFAULT: this JSON value, converted like a found one.
    Default(mizzle_types::json::Json),
}

/// A logical plan node.
#[derive(Clone, Debug, PartialEq)]
pub enum Plan {
    /// Literal rows (also `SELECT` without `FROM`: one empty row).
    Values { rows: Vec<Vec<Expr>>, cols: Vec<OutCol> },
    /// A table scan producing all columns of the table.
    Scan {
        table: Arc<TableDef>,
        alias: String,
        access: Access,
        filter: Option<Expr>,
        cols: Vec<OutCol>,
        lock: LockMode,
        /// Rows in descending key order (optimizer rule 6: an ORDER BY ...
        /// DESC the key gives read backwards).
        desc: bool,
    },
    /// Rows of `input` for which `pred` is true.
    Filter { input: Box<Plan>, pred: Expr },
    /// Computed columns.
    Project { input: Box<Plan>, exprs: Vec<Expr>, cols: Vec<OutCol> },
    /// A join; `cond` is bound over left ++ right; `equi` pairs (left
    /// expression, right expression) are equalities usable for hashing
    /// (the left ones over the left input, the right ones over the right).
    Join { left: Box<Plan>, right: Box<Plan>, kind: JoinKind, equi: Vec<(Expr, Expr)>, cond: Option<Expr> },
    /// Grouping: output is the group expressions then the aggregates.
    Aggregate { input: Box<Plan>, groups: Vec<Expr>, aggs: Vec<AggCall>, cols: Vec<OutCol> },
    /// Ordering.
    Sort { input: Box<Plan>, keys: Vec<SortKey> },
    /// `LIMIT`/`OFFSET` with constant (or parameter) counts.
    Limit { input: Box<Plan>, limit: Option<Expr>, offset: Option<Expr> },
    /// Duplicate elimination over whole rows.
    Distinct { input: Box<Plan> },
    /// UNION / INTERSECT / EXCEPT.
    SetOp { kind: SetOpKind, all: bool, left: Box<Plan>, right: Box<Plan>, cols: Vec<OutCol> },
    /// A built-in table.
    System { table: SystemTable, cols: Vec<OutCol> },
    /// No rows at all (a contradiction found while planning).
    Empty { cols: Vec<OutCol> },
    /// Window functions: the input's columns, then one column per call of
    /// each window in order (invariant 3 says how the input is ordered).
    Window { input: Box<Plan>, windows: Vec<WindowDef>, cols: Vec<OutCol> },
    /// `WITH RECURSIVE`: the anchor's rows, then the rows each round of the
    /// recursive blocks makes from the previous round's (read through
    /// `WorkTable { id }`), until a round makes none. `distinct` drops rows
    /// seen before (UNION DISTINCT); `limit`/`offset` stop the recursion once
    /// that many rows exist; more than `max_depth` rounds is error 3636.
    RecursiveCte {
        id: usize,
        name: String,
        anchor: Box<Plan>,
        recursive: Vec<Plan>,
        distinct: bool,
        limit: Option<Expr>,
        offset: Option<Expr>,
        max_depth: u64,
        cols: Vec<OutCol>,
    },
    /// The rows the previous round of `RecursiveCte { id }` made (invariant 4).
    WorkTable { id: usize, cols: Vec<OutCol> },
    /// JSON_TABLE joined laterally to `input`: each input row followed by
    /// each row the table makes of `doc` (bound over the input row) that
    /// passes `cond`; `outer` keeps an input row without any once, the
    /// table's columns NULL (LEFT JOIN). `cols` is input's then the table's.
    JsonTable { input: Box<Plan>, doc: Expr, def: JsonTableDef, outer: bool, cond: Option<Expr>, cols: Vec<OutCol> },
}

impl Plan {
    /// The output columns.
    pub fn columns(&self) -> Vec<OutCol> {
        match self {
            Plan::Values { cols, .. }
            | Plan::Scan { cols, .. }
            | Plan::Project { cols, .. }
            | Plan::Aggregate { cols, .. }
            | Plan::SetOp { cols, .. }
            | Plan::System { cols, .. }
            | Plan::Window { cols, .. }
            | Plan::RecursiveCte { cols, .. }
            | Plan::WorkTable { cols, .. }
            | Plan::JsonTable { cols, .. }
            | Plan::Empty { cols } => cols.clone(),
            Plan::Filter { input, .. }
            | Plan::Sort { input, .. }
            | Plan::Limit { input, .. }
            | Plan::Distinct { input } => input.columns(),
            Plan::Join { left, right, kind, .. } => {
                let mut c = left.columns();
                let mut r = right.columns();
                if *kind == JoinKind::Left {
                    for col in &mut r {
                        col.nullable = true;
                    }
                }
                c.extend(r);
                c
            }
        }
    }

    /// Number of output columns.
    pub fn width(&self) -> usize {
        match self {
            Plan::Values { cols, .. }
            | Plan::Scan { cols, .. }
            | Plan::Project { cols, .. }
            | Plan::Aggregate { cols, .. }
            | Plan::SetOp { cols, .. }
            | Plan::System { cols, .. }
            | Plan::Window { cols, .. }
            | Plan::RecursiveCte { cols, .. }
            | Plan::WorkTable { cols, .. }
            | Plan::JsonTable { cols, .. }
            | Plan::Empty { cols } => cols.len(),
            Plan::Filter { input, .. }
            | Plan::Sort { input, .. }
            | Plan::Limit { input, .. }
            | Plan::Distinct { input } => input.width(),
            Plan::Join { left, right, .. } => left.width() + right.width(),
        }
    }

    /// Visits every table definition the plan reads (including subqueries).
    pub fn visit_tables(&self, f: &mut dyn FnMut(&Arc<TableDef>)) {
        self.visit_reads(&mut |t, _| f(t));
    }

    /// True if some scan (in subqueries too) locks the rows it reads
    /// (`FOR UPDATE` / `FOR SHARE`), which makes the query write or record.
    pub fn locks_rows(&self) -> bool {
        let mut locks = false;
        self.visit_reads(&mut |_, l| locks |= l != LockMode::None);
        locks
    }

    /// Visits every table the plan reads with the scan's lock mode.
    fn visit_reads(&self, f: &mut dyn FnMut(&Arc<TableDef>, LockMode)) {
        let on_expr = |e: &Expr, f: &mut dyn FnMut(&Arc<TableDef>, LockMode)| {
            e.walk(&mut |x| {
                if let Expr::Subquery(s) = x {
                    s.plan.visit_reads(f);
                }
            })
        };
        match self {
            Plan::Values { rows, .. } => {
                for r in rows {
                    for e in r {
                        on_expr(e, f);
                    }
                }
            }
            Plan::Scan { table, filter, lock, .. } => {
                f(table, *lock);
                if let Some(e) = filter {
                    on_expr(e, f);
                }
            }
            Plan::Filter { input, pred } => {
                input.visit_reads(f);
                on_expr(pred, f);
            }
            Plan::Project { input, exprs, .. } => {
                input.visit_reads(f);
                for e in exprs {
                    on_expr(e, f);
                }
            }
            Plan::Join { left, right, cond, equi, .. } => {
                left.visit_reads(f);
                right.visit_reads(f);
                if let Some(e) = cond {
                    on_expr(e, f);
                }
                for (a, b) in equi {
                    on_expr(a, f);
                    on_expr(b, f);
                }
            }
            Plan::Aggregate { input, groups, aggs, .. } => {
                input.visit_reads(f);
                for e in groups {
                    on_expr(e, f);
                }
                for a in aggs {
                    for e in &a.args {
                        on_expr(e, f);
                    }
                }
            }
            Plan::Sort { input, keys } => {
                input.visit_reads(f);
                for k in keys {
                    on_expr(&k.expr, f);
                }
            }
            Plan::Limit { input, .. } | Plan::Distinct { input } => input.visit_reads(f),
            Plan::SetOp { left, right, .. } => {
                left.visit_reads(f);
                right.visit_reads(f);
            }
            Plan::System { table, .. } => match table {
                SystemTable::Columns { table, .. }
                | SystemTable::Indexes { table }
                | SystemTable::CreateTable { table } => f(table, LockMode::None),
                _ => {}
            },
            Plan::Window { input, windows, .. } => {
                input.visit_reads(f);
                for w in windows {
                    for e in &w.partition_by {
                        on_expr(e, f);
                    }
                    for k in &w.order_by {
                        on_expr(&k.expr, f);
                    }
                    for c in &w.calls {
                        for e in &c.args {
                            on_expr(e, f);
                        }
                    }
                }
            }
            Plan::RecursiveCte { anchor, recursive, .. } => {
                anchor.visit_reads(f);
                for r in recursive {
                    r.visit_reads(f);
                }
            }
            Plan::Empty { .. } | Plan::WorkTable { .. } => {}
            Plan::JsonTable { input, doc, cond, .. } => {
                input.visit_reads(f);
                on_expr(doc, f);
                if let Some(c) = cond {
                    on_expr(c, f);
                }
            }
        }
    }
}

/// Where INSERT rows come from.
#[derive(Clone, Debug, PartialEq)]
pub enum InsertSource {
    /// `VALUES (...), (...)`: expressions per target column (DEFAULT already
    /// replaced by the column default).
    Values(Vec<Vec<Expr>>),
    /// `INSERT ... SELECT`.
    Query(Box<Plan>),
}

/// A bound INSERT / REPLACE.
#[derive(Clone, Debug, PartialEq)]
pub struct InsertPlan {
    /// Target table.
    pub table: Arc<TableDef>,
    /// Target column positions, in the order of the source's columns.
    pub columns: Vec<usize>,
    /// The rows.
    pub source: InsertSource,
    /// Defaults for columns not listed: one expression per table column
    /// (`None` for listed columns or columns without a default).
    pub defaults: Vec<Option<Expr>>,
    /// `ON DUPLICATE KEY UPDATE col = expr`: expressions bound over the
    /// existing row's columns followed by the proposed row's (`VALUES(col)`).
    pub on_duplicate: Vec<(usize, Expr)>,
    /// REPLACE: delete conflicting rows first.
    pub replace: bool,
    /// INSERT IGNORE: skip rows that conflict.
    pub ignore: bool,
    /// CHECK constraints bound over the table row, with names.
    pub checks: Vec<(String, Expr)>,
}

/// A bound UPDATE.
#[derive(Clone, Debug, PartialEq)]
pub struct UpdatePlan {
    /// Target table (of a multi-table UPDATE: the first target).
    pub table: Arc<TableDef>,
    /// Produces the rows to change (all table columns), already filtered;
    /// of a multi-table UPDATE: the joined rows (see [`MultiUpdate`]).
    pub input: Box<Plan>,
    /// Assignments bound over the row (empty for a multi-table UPDATE).
    pub sets: Vec<(usize, Expr)>,
    /// CHECK constraints.
    pub checks: Vec<(String, Expr)>,
    /// A multi-table UPDATE (`UPDATE t1 JOIN t2 ... SET ...`, `UPDATE t1,
    /// t2 SET ...`); `None` for one table.
    pub multi: Option<MultiUpdate>,
}

/// The targets and assignments of a multi-table UPDATE.
#[derive(Clone, Debug, PartialEq)]
pub struct MultiUpdate {
    /// Tables whose columns are assigned, in FROM order.
    pub targets: Vec<DmlTarget>,
    /// Assignments in statement order: (target, column of its table,
    /// expression over the joined row as read before the statement).
    pub sets: Vec<(usize, usize, Expr)>,
}

/// One table a multi-table UPDATE or DELETE changes: a base-table scan of
/// the statement's FROM clause that emits row keys (see [`ROWKEY_COLUMN`]).
#[derive(Clone, Debug, PartialEq)]
pub struct DmlTarget {
    /// The table.
    pub table: Arc<TableDef>,
    /// Its alias in the FROM clause.
    pub alias: String,
    /// Position of its row key in the joined row (its columns precede it);
    /// NULL where an outer join found no row of the table.
    pub key: usize,
    /// CHECK constraints bound over the table's own row (UPDATE).
    pub checks: Vec<(String, Expr)>,
}

/// A bound DELETE.
#[derive(Clone, Debug, PartialEq)]
pub struct DeletePlan {
    /// Target table (of a multi-table DELETE: the first target).
    pub table: Arc<TableDef>,
    /// Produces the rows to delete (all table columns); of a multi-table
    /// DELETE: the joined rows.
    pub input: Box<Plan>,
    /// The tables of a multi-table DELETE (`DELETE t1, t2 FROM ...`,
    /// `DELETE FROM t1, t2 USING ...`); empty for one table.
    pub multi: Vec<DmlTarget>,
}

/// Name of the extra last column of a scan that emits each row's encoded
/// row key (a `Bytes` value) after the table's columns: the scans of a
/// multi-table UPDATE or DELETE's FROM clause have it. The name cannot be
/// written in SQL, so no expression of the user's names it.
pub const ROWKEY_COLUMN: &str = "\u{1}rowkey";

/// The row key column of the scan of `alias` (hidden from `SELECT *` and
/// from NATURAL / USING joins).
pub fn rowkey_column(alias: &str) -> OutCol {
    OutCol {
        name: ROWKEY_COLUMN.to_string(),
        table: Some(alias.to_string()),
        origin: None,
        ty: SqlType::LONGBLOB,
        nullable: true,
        hidden: true,
        collation: None,
    }
}

/// True if a scan's output columns end with the row key column.
pub fn scan_emits_rowkey(table: &TableDef, cols: &[OutCol]) -> bool {
    cols.len() == table.columns.len() + 1 && cols.last().is_some_and(|c| c.name == ROWKEY_COLUMN)
}

/// A column in CREATE TABLE / ALTER TABLE.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnSpec {
    /// Name.
    pub name: String,
    /// Type.
    pub ty: SqlType,
    /// NULL allowed.
    pub nullable: bool,
    /// DEFAULT as SQL text, already checked to bind and fit the type.
    pub default: Option<String>,
    /// AUTO_INCREMENT.
    pub auto_increment: bool,
    /// Declared PRIMARY KEY inline.
    pub primary_key: bool,
    /// Declared UNIQUE inline.
    pub unique: bool,
    /// COMMENT.
    pub comment: String,
    /// COLLATE / CHARACTER SET of a text column; `None`: the table's.
    pub collation: Option<Collation>,
    /// Warnings to raise when the column is created (a character set
    /// stored as utf8mb4).
    pub warnings: Vec<String>,
    /// `GENERATED ALWAYS AS (expr) [VIRTUAL | STORED]`: the expression's
    /// SQL text and STORED; checked by the binder (`bind::generated`).
    pub generated: Option<(String, bool)>,
    /// `ON UPDATE CURRENT_TIMESTAMP[(fsp)]`: the fractional digits.
    pub on_update: Option<u8>,
}

/// One key part of an index.
#[derive(Clone, Debug, PartialEq)]
pub enum KeyPart {
    /// A column, by name.
    Column(String),
    /// A functional key part `(expr)`: the expression's SQL text. It
    /// becomes a hidden VIRTUAL generated column (`ColumnDef::hidden`).
    Expr(String),
}

/// An index in CREATE TABLE / CREATE INDEX.
#[derive(Clone, Debug, PartialEq)]
pub struct IndexSpec {
    /// Name (generated if not given).
    pub name: Option<String>,
    /// Key parts, in order.
    pub parts: Vec<KeyPart>,
    /// UNIQUE.
    pub unique: bool,
    /// PRIMARY KEY.
    pub primary: bool,
}

impl IndexSpec {
    /// An index over columns only.
    pub fn of_columns(name: Option<String>, columns: Vec<String>, unique: bool, primary: bool) -> IndexSpec {
        IndexSpec { name, parts: columns.into_iter().map(KeyPart::Column).collect(), unique, primary }
    }

    /// The names of its column key parts, in order.
    pub fn column_names(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            KeyPart::Column(c) => Some(c.as_str()),
            KeyPart::Expr(_) => None,
        })
    }

    /// True if some key part is an expression.
    pub fn is_functional(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, KeyPart::Expr(_)))
    }
}

/// A FOREIGN KEY clause in CREATE TABLE / ALTER TABLE ADD.
#[derive(Clone, Debug, PartialEq)]
pub struct ForeignKeySpec {
    /// CONSTRAINT name, if given.
    pub name: Option<String>,
    /// The index name after FOREIGN KEY, if given.
    pub index_name: Option<String>,
    /// Referencing columns.
    pub columns: Vec<String>,
    /// Referenced table's schema.
    pub ref_schema: String,
    /// Referenced table.
    pub ref_table: String,
    /// Referenced columns.
    pub ref_columns: Vec<String>,
    /// ON DELETE (NO ACTION when absent).
    pub on_delete: mizzle_dictionary::FkAction,
    /// ON UPDATE (NO ACTION when absent).
    pub on_update: mizzle_dictionary::FkAction,
}

/// A table definition request.
#[derive(Clone, Debug, PartialEq)]
pub struct TableSpec {
    /// Schema.
    pub schema: String,
    /// Name.
    pub name: String,
    /// Columns.
    pub columns: Vec<ColumnSpec>,
    /// Table-level keys.
    pub indexes: Vec<IndexSpec>,
    /// CHECK constraints (name, SQL text, ENFORCED).
    pub checks: Vec<(Option<String>, String, bool)>,
    /// FOREIGN KEY constraints.
    pub foreign_keys: Vec<ForeignKeySpec>,
    /// AUTO_INCREMENT= option.
    pub auto_increment_start: Option<u64>,
    /// ENGINE=.
    pub engine: Option<String>,
    /// COMMENT=.
    pub comment: String,
    /// DEFAULT CHARSET= / COLLATE=; `None`: the server's default.
    pub collation: Option<Collation>,
    /// Warnings to raise when the table is created.
    pub warnings: Vec<String>,
}

/// One ALTER TABLE operation.
#[derive(Clone, Debug, PartialEq)]
pub enum AlterOp {
    /// ADD COLUMN [FIRST | AFTER c].
    AddColumn { column: ColumnSpec, position: ColumnPosition },
    /// DROP COLUMN.
    DropColumn { name: String, if_exists: bool },
    /// MODIFY / CHANGE COLUMN (CHANGE may rename).
    ModifyColumn { old_name: String, column: ColumnSpec, position: ColumnPosition },
    /// RENAME COLUMN a TO b.
    RenameColumn { old: String, new: String },
    /// ALTER COLUMN c SET DEFAULT / DROP DEFAULT.
    SetDefault { name: String, default: Option<String> },
    /// ADD INDEX / UNIQUE / PRIMARY KEY.
    AddIndex(IndexSpec),
    /// DROP INDEX / KEY.
    DropIndex { name: String },
    /// DROP PRIMARY KEY.
    DropPrimaryKey,
    /// RENAME TO.
    RenameTable { schema: String, name: String },
    /// ADD CONSTRAINT CHECK.
    AddCheck { name: Option<String>, expr: String, enforced: bool },
    /// ALTER CHECK c [NOT] ENFORCED (also ALTER CONSTRAINT c of a CHECK).
    AlterCheck { name: String, enforced: bool },
    /// DROP CHECK / CONSTRAINT (a CHECK or a FOREIGN KEY of that name).
    DropCheck { name: String },
    /// ADD [CONSTRAINT c] FOREIGN KEY.
    AddForeignKey(ForeignKeySpec),
    /// DROP FOREIGN KEY c.
    DropForeignKey { name: String },
    /// Table options that change nothing stored (ENGINE=, CHARSET=, ...).
    NoOp,
}

/// Where ALTER puts a column.
#[derive(Clone, Debug, PartialEq)]
pub enum ColumnPosition {
    /// At the end (or in place for MODIFY).
    Default,
    /// FIRST.
    First,
    /// AFTER c.
    After(String),
}

/// A bound DDL statement.
#[derive(Clone, Debug, PartialEq)]
pub enum Ddl {
    /// CREATE DATABASE.
    CreateSchema { name: String, if_not_exists: bool, collation: Collation },
    /// DROP DATABASE.
    DropSchema { name: String, if_exists: bool },
    /// CREATE TABLE.
    CreateTable { spec: TableSpec, if_not_exists: bool, as_select: Option<Box<Plan>> },
    /// DROP TABLE.
    DropTables { names: Vec<(String, String)>, if_exists: bool },
    /// CREATE TEMPORARY TABLE: the session runs it and keeps the
    /// definition (see `mizzle_exec::ddl::temporary_table`).
    CreateTemporaryTable { spec: TableSpec, if_not_exists: bool, as_select: Option<Box<Plan>> },
    /// DROP TEMPORARY TABLE: only the session's temporary tables.
    DropTemporaryTables { names: Vec<(String, String)>, if_exists: bool },
    /// CREATE INDEX.
    CreateIndex { schema: String, table: String, spec: IndexSpec, if_not_exists: bool },
    /// DROP INDEX.
    DropIndex { schema: String, table: String, name: String, if_exists: bool },
    /// CREATE [OR REPLACE] VIEW.
    CreateView {
        schema: String,
        name: String,
        sql: String,
        columns: Vec<String>,
        or_replace: bool,
        if_not_exists: bool,
    },
    /// DROP VIEW.
    DropViews { names: Vec<(String, String)>, if_exists: bool },
    /// ALTER TABLE.
    AlterTable { schema: String, name: String, ops: Vec<AlterOp> },
    /// RENAME TABLE a TO b, ...
    RenameTables { pairs: Vec<((String, String), (String, String))> },
    /// TRUNCATE TABLE.
    Truncate { schema: String, name: String },
    /// ALTER DATABASE: a new default collation (the database's tables keep
    /// theirs).
    AlterSchema { name: String, collation: Collation },
}

/// Transaction control.
#[derive(Clone, Debug, PartialEq)]
pub enum TxnStmt {
    /// BEGIN / START TRANSACTION.
    Begin { isolation: Option<IsolationLevel>, read_only: Option<bool>, consistent_snapshot: bool },
    /// COMMIT.
    Commit,
    /// ROLLBACK.
    Rollback,
    /// SAVEPOINT s.
    Savepoint(String),
    /// ROLLBACK TO [SAVEPOINT] s.
    RollbackTo(String),
    /// RELEASE SAVEPOINT s.
    Release(String),
}

/// Scope of a SET.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VarScope {
    /// SESSION (or no keyword).
    Session,
    /// GLOBAL.
    Global,
    /// The next transaction only (`SET TRANSACTION ...` without a scope).
    NextTransaction,
}

/// Session statements.
#[derive(Clone, Debug, PartialEq)]
pub enum SessionStmt {
    /// USE db.
    Use(String),
    /// SET var = value, ... (values already evaluated to constants where possible).
    Set(Vec<(VarScope, String, Expr)>),
    /// SET @user_var = value.
    SetUser(Vec<(String, Expr)>),
    /// SET [scope] TRANSACTION ISOLATION LEVEL / READ ONLY|WRITE.
    SetTransaction { scope: VarScope, isolation: Option<IsolationLevel>, read_only: Option<bool> },
    /// SET NAMES cs [COLLATE c]: the new `collation_connection` (text is
    /// utf8mb4 whatever the character set named).
    SetNames(mizzle_types::Collation),
    /// PREPARE name FROM 'sql'.
    Prepare { name: String, sql: Expr },
    /// EXECUTE name USING @a, @b.
    Execute { name: String, using: Vec<String> },
    /// DEALLOCATE PREPARE name.
    Deallocate(String),
}

/// A bound statement.
#[derive(Clone, Debug, PartialEq)]
pub enum BoundStatement {
    /// A query returning rows.
    Query(Box<Plan>),
    /// INSERT / REPLACE.
    Insert(Box<InsertPlan>),
    /// UPDATE.
    Update(Box<UpdatePlan>),
    /// DELETE.
    Delete(Box<DeletePlan>),
    /// DDL.
    Ddl(Box<Ddl>),
    /// Transaction control.
    Txn(TxnStmt),
    /// Session statements.
    Session(SessionStmt),
    /// EXPLAIN [ANALYZE] [FORMAT=TREE] of a statement; `tree`: the plan's
    /// lines as one row holding the whole tree, as MySQL 8's FORMAT=TREE
    /// gives it (otherwise one row per line).
    Explain { analyze: bool, tree: bool, stmt: Box<BoundStatement> },
    /// A statement accepted and ignored (LOCK TABLES, FLUSH, ANALYZE TABLE ...).
    NoOp,
    /// CREATE / DROP / ALTER / RENAME USER, GRANT, REVOKE, SHOW GRANTS.
    Account(Box<crate::account::AccountStmt<crate::account::PrivLevel>>),
    /// LOAD DATA [LOCAL] INFILE.
    Load(Box<LoadPlan>),
}

/// A bound LOAD DATA: each line of the file becomes a row inserted through
/// `insert` (REPLACE / IGNORE, defaults, CHECKs, keys as for INSERT).
#[derive(Clone, Debug, PartialEq)]
pub struct LoadPlan {
    /// The insert the rows go through: its `columns` are the field list's
    /// columns in field order, then the SET targets; `defaults` holds a
    /// default for every column (a line with too few fields leaves its
    /// last columns to their defaults); `source` is empty.
    pub insert: InsertPlan,
    /// The file name as written.
    pub file: String,
    /// `LOCAL`: read where the client runs (MySQL: duplicates and bad values
    /// are then skipped or adjusted with warnings, as with IGNORE).
    pub local: bool,
    /// How lines and fields are cut.
    pub format: crate::load::LoadFormat,
    /// `IGNORE n LINES`.
    pub ignore_lines: u64,
    /// Per input field: the position in `insert.columns` it fills, or
    /// `None` for a user variable.
    pub fields: Vec<Option<usize>>,
    /// SET expressions, bound over one column per input field (NULL for a
    /// field the line lacks), filling `insert.columns` after the fields'.
    pub sets: Vec<Expr>,
    /// `@@secure_file_priv` when bound: `None` (NULL) refuses server-side
    /// files (1290), `Some("")` allows any, `Some(dir)` files under `dir`.
    pub secure_file_priv: Option<String>,
}

impl BoundStatement {
    /// Every (table space, definition version) the statement depends on.
    pub fn table_versions(&self) -> Vec<(u32, u64)> {
        let mut out = Vec::new();
        let mut add = |t: &Arc<TableDef>| out.push((t.space.0, t.version));
        match self {
            BoundStatement::Query(p) => p.visit_tables(&mut add),
            BoundStatement::Insert(i) => {
                add(&i.table);
                if let InsertSource::Query(p) = &i.source {
                    p.visit_tables(&mut add);
                }
            }
            BoundStatement::Update(u) => {
                add(&u.table);
                u.input.visit_tables(&mut add);
            }
            BoundStatement::Delete(d) => {
                add(&d.table);
                d.input.visit_tables(&mut add);
            }
            BoundStatement::Explain { stmt, .. } => return stmt.table_versions(),
            BoundStatement::Load(l) => add(&l.insert.table),
            _ => {}
        }
        out
    }

    /// True for statements that only read.
    pub fn is_read_only(&self) -> bool {
        matches!(self, BoundStatement::Query(_))
    }
}

/// A literal for an unsigned count (LIMIT values are checked at run time).
pub fn count_literal(n: u64) -> Expr {
    Expr::Literal(Value::UInt(n), SqlType::UBIGINT)
}

fn map_params_expr(e: Expr, f: &dyn Fn(usize) -> usize) -> Expr {
    e.map(&mut |x| match x {
        Expr::Param { index, ty } => Expr::Param { index: f(index), ty },
        Expr::Subquery(mut s) => {
            let mut p = (*s.plan).clone();
            map_params_plan(&mut p, f);
            s.plan = Arc::new(p);
            Expr::Subquery(s)
        }
        other => other,
    })
}

fn map_params_plan(p: &mut Plan, f: &dyn Fn(usize) -> usize) {
    crate::bind::map_plan_exprs(p, &mut |e| map_params_expr(e, f));
}

impl BoundStatement {
    /// Renumbers every `?` parameter through `f`.
    pub fn map_params(&mut self, f: &dyn Fn(usize) -> usize) {
        let mut m = |e: &mut Expr| {
            let t = std::mem::replace(e, Expr::Literal(Value::Null, SqlType::Null));
            *e = map_params_expr(t, f);
        };
        match self {
            BoundStatement::Query(p) => map_params_plan(p, f),
            BoundStatement::Insert(i) => {
                match &mut i.source {
                    InsertSource::Values(rows) => rows.iter_mut().flatten().for_each(&mut m),
                    InsertSource::Query(p) => map_params_plan(p, f),
                }
                i.defaults.iter_mut().flatten().for_each(&mut m);
                i.on_duplicate.iter_mut().for_each(|(_, e)| m(e));
            }
            BoundStatement::Update(u) => {
                map_params_plan(&mut u.input, f);
                u.sets.iter_mut().for_each(|(_, e)| m(e));
                if let Some(mu) = &mut u.multi {
                    mu.sets.iter_mut().for_each(|(_, _, e)| m(e));
                }
            }
            BoundStatement::Delete(d) => map_params_plan(&mut d.input, f),
            BoundStatement::Explain { stmt, .. } => stmt.map_params(f),
            BoundStatement::Session(SessionStmt::Set(items)) => items.iter_mut().for_each(|(_, _, e)| m(e)),
            BoundStatement::Session(SessionStmt::SetUser(items)) => items.iter_mut().for_each(|(_, e)| m(e)),
            _ => {}
        }
    }
}
