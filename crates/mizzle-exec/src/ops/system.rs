//! Rows of the built-in tables: SHOW statements and information_schema.
//!
//! Invariants:
//! 1. Every row has exactly the columns `bind::ddl::system_columns` names
//!    for its table (information_schema variants have their own layouts).
//! 2. Definitions come from the statement's snapshot, like any read.
//! 3. Rows listing schemas or tables show only what the session may see
//!    (`SystemInfo::visible`).

use mizzle_dictionary::{ColumnDef, Relation, TableDef};
use mizzle_sql::plan::SystemTable;
use mizzle_types::{Collation, SqlType, Value};

use crate::build::Row;
use crate::ctx::Ctx;
use crate::error::ExecError;

fn t(s: &str) -> Value {
    Value::text(s)
}

fn opt(s: Option<&str>) -> Value {
    match s {
        Some(x) => Value::text(x),
        None => Value::Null,
    }
}

/// `SHOW CREATE TABLE` text.
pub fn create_table_sql(tb: &TableDef) -> String {
    let mut lines: Vec<String> = Vec::new();
    for (_, c) in tb.visible_columns() {
        let mut l = format!("  `{}` {}", c.name, c.ty);
        // As MySQL: a text column's collation when it is not the table's.
        if c.ty.kind() == mizzle_types::ValueKind::Text && c.collation != tb.collation {
            l.push_str(&format!(" COLLATE {}", c.collation.name()));
        }
        if let Some(g) = &c.generated {
            l.push_str(&format!(" GENERATED ALWAYS AS ({}) {}", g.expr, if g.stored { "STORED" } else { "VIRTUAL" }));
        }
        if !c.nullable {
            l.push_str(" NOT NULL");
        }
        if c.generated.is_some() {
            // No DEFAULT clause for a generated column.
        } else if let Some(d) = &c.default {
            l.push_str(&format!(" DEFAULT {d}"));
        } else if c.nullable && !matches!(c.ty, SqlType::Text(_) | SqlType::Blob(_)) {
            l.push_str(" DEFAULT NULL");
        }
        match c.on_update {
            Some(0) => l.push_str(" ON UPDATE CURRENT_TIMESTAMP"),
            Some(f) => l.push_str(&format!(" ON UPDATE CURRENT_TIMESTAMP({f})")),
            None => {}
        }
        if c.auto_increment {
            l.push_str(" AUTO_INCREMENT");
        }
        if !c.comment.is_empty() {
            l.push_str(&format!(" COMMENT '{}'", c.comment.replace('\'', "''")));
        }
        lines.push(l);
    }
    let cols = |v: &[usize]| v.iter().map(|&i| key_part_sql(&tb.columns[i])).collect::<Vec<_>>().join(",");
    if !tb.primary_key.is_empty() {
        lines.push(format!("  PRIMARY KEY ({})", cols(&tb.primary_key)));
    }
    for ix in &tb.indexes {
        let kind = if ix.unique { "UNIQUE KEY" } else { "KEY" };
        lines.push(format!("  {kind} `{}` ({})", ix.name, cols(&ix.columns)));
    }
    for f in &tb.foreign_keys {
        lines.push(format!("  {}", crate::fk::constraint_sql(&tb.schema, f)));
    }
    for ck in &tb.checks {
        let lax = if ck.enforced { "" } else { " /*!80016 NOT ENFORCED */" };
        lines.push(format!("  CONSTRAINT `{}` CHECK ({}){lax}", ck.name, ck.expr));
    }
    let mut s =
        format!("CREATE TABLE `{}` (\n{}\n) ENGINE={} DEFAULT CHARSET=utf8mb4", tb.name, lines.join(",\n"), tb.engine);
    // Always, as MySQL 8 does: a text without it would take the
    // character set's default collation when run again.
    s.push_str(&format!(" COLLATE={}", tb.collation.name()));
    if !tb.comment.is_empty() {
        s.push_str(&format!(" COMMENT='{}'", tb.comment.replace('\'', "''")));
    }
    s
}

/// A key part as SHOW CREATE TABLE prints it: `` `col` ``, or `(expr)` for
/// a functional key part (its hidden column's expression).
fn key_part_sql(c: &ColumnDef) -> String {
    match &c.generated {
        Some(g) if c.hidden => format!("({})", g.expr),
        _ => format!("`{}`", c.name),
    }
}

/// What SHOW INDEX and STATISTICS show for a key part: COLUMN_NAME, or
/// NULL and the EXPRESSION of a functional key part.
fn key_part_shown(c: &ColumnDef) -> (Value, Value) {
    match &c.generated {
        Some(g) if c.hidden => (Value::Null, t(&g.expr)),
        _ => (t(&c.name), Value::Null),
    }
}

/// A column's DEFAULT as SHOW COLUMNS and information_schema.COLUMNS show
/// it: a string literal without its quotes, other literals and
/// expressions as written, NULL for none (or DEFAULT NULL).
fn default_shown(c: &ColumnDef) -> Option<String> {
    let d = c.default.as_deref()?.trim();
    if d.eq_ignore_ascii_case("null") {
        return None;
    }
    if let Some(inner) = d.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')) {
        return Some(inner.replace("''", "'"));
    }
    // MySQL shows an expression default without its outer parentheses.
    if let Some(inner) = d.strip_prefix('(').and_then(|x| x.strip_suffix(')')) {
        return Some(inner.to_string());
    }
    Some(d.to_string())
}

/// The default is an expression rather than a literal (MySQL 8 marks the
/// column `DEFAULT_GENERATED`).
fn default_is_expression(c: &ColumnDef) -> bool {
    let Some(d) = c.default.as_deref().map(str::trim) else { return false };
    let literal = d.eq_ignore_ascii_case("null")
        || d.eq_ignore_ascii_case("true")
        || d.eq_ignore_ascii_case("false")
        || d.starts_with('\'')
        || d.starts_with('"')
        || d.parse::<f64>().is_ok()
        || (d.len() > 2 && (d.starts_with("0x") || d.starts_with("X'") || d.starts_with("x'")));
    !literal
}

/// A column's EXTRA (SHOW COLUMNS, information_schema.COLUMNS). New column
/// properties add their words here.
fn extra_of(c: &ColumnDef) -> String {
    let mut words: Vec<&str> = Vec::new();
    if c.auto_increment {
        words.push("auto_increment");
    }
    if default_is_expression(c) {
        words.push("DEFAULT_GENERATED");
    }
    match &c.generated {
        Some(g) if g.stored => words.push("STORED GENERATED"),
        Some(_) => words.push("VIRTUAL GENERATED"),
        None => {}
    }
    let on_update = c.on_update.map(|f| match f {
        0 => "on update CURRENT_TIMESTAMP".to_string(),
        f => format!("on update CURRENT_TIMESTAMP({f})"),
    });
    words.extend(on_update.as_deref());
    words.join(" ")
}

/// The collation SHOW FULL COLUMNS and information_schema show for a
/// column: its own for text, NULL for other types.
fn collation_of(c: &ColumnDef) -> Option<&'static str> {
    (c.ty.kind() == mizzle_types::ValueKind::Text).then(|| c.collation.name())
}

/// The privileges column of SHOW FULL COLUMNS and information_schema.COLUMNS.
const COLUMN_PRIVILEGES: &str = "select,insert,update,references";

/// The keys of a table as SHOW INDEX and STATISTICS list them: name,
/// unique, column positions; the primary key first.
fn keys_of(tb: &TableDef) -> Vec<(&str, bool, &[usize])> {
    let mut keys: Vec<(&str, bool, &[usize])> = Vec::new();
    if !tb.primary_key.is_empty() {
        keys.push(("PRIMARY", true, &tb.primary_key));
    }
    for ix in &tb.indexes {
        keys.push((&ix.name, ix.unique, &ix.columns));
    }
    keys
}

fn key_of(tb: &TableDef, col: usize) -> &'static str {
    if tb.primary_key.first() == Some(&col) {
        return "PRI";
    }
    for ix in &tb.indexes {
        if ix.columns.first() == Some(&col) {
            return if ix.unique && ix.columns.len() == 1 { "UNI" } else { "MUL" };
        }
    }
    ""
}

/// Computes the rows of a built-in table.
pub fn system_rows(table: &SystemTable, ctx: &mut Ctx<'_>) -> Result<Vec<Row>, ExecError> {
    let dict = ctx.dict;
    let txn = ctx.txn;
    Ok(match table {
        SystemTable::Schemata => {
            // `information_schema` first, then by name, `performance_schema`
            // among the catalog's schemas (MySQL's order).
            let mut names: Vec<String> = dict
                .list_schemas(txn)?
                .into_iter()
                .map(|s| s.name)
                .filter(|n| mizzle_sql::plan::system_schema(n).is_none())
                .collect();
            names.push("performance_schema".to_string());
            names.sort();
            let mut v: Vec<Row> = vec![vec![t("information_schema")]];
            for name in names {
                if ctx.system.visible(&name, None) {
                    v.push(vec![t(&name)]);
                }
            }
            v
        }
        SystemTable::Tables { schema: Some(schema), full } if mizzle_sql::plan::system_schema(schema).is_some() => {
            let (names, kind) = if schema == "information_schema" {
                (mizzle_sql::plan::INFORMATION_SCHEMA_TABLES, "SYSTEM VIEW")
            } else {
                (mizzle_sql::plan::PERFORMANCE_SCHEMA_TABLES, "BASE TABLE")
            };
            let mut out = Vec::new();
            for name in names {
                if !ctx.system.visible(schema, Some(name)) {
                    continue;
                }
                let mut row = vec![t(name)];
                if *full {
                    row.push(t(kind));
                }
                out.push(row);
            }
            out
        }
        SystemTable::Tables { schema: Some(schema), full } => {
            let mut out = Vec::new();
            for r in dict.list_relations(txn, schema)? {
                if !ctx.system.visible(schema, Some(r.name())) {
                    continue;
                }
                let kind = match &r {
                    Relation::Table(_) => "BASE TABLE",
                    Relation::View(_) => "VIEW",
                };
                let mut row = vec![t(r.name())];
                if *full {
                    row.push(t(kind));
                }
                out.push(row);
            }
            out
        }
        SystemTable::Tables { schema: None, .. } => {
            let mut out = Vec::new();
            for s in dict.list_schemas(txn)? {
                for r in dict.list_relations(txn, &s.name)? {
                    if !ctx.system.visible(&s.name, Some(r.name())) {
                        continue;
                    }
                    let kind = match &r {
                        Relation::Table(_) => "BASE TABLE",
                        Relation::View(_) => "VIEW",
                    };
                    out.push(vec![t(&s.name), t(r.name()), t(kind)]);
                }
            }
            out
        }
        SystemTable::Columns { table: tb, full } => {
            let mut out = Vec::new();
            for (i, c) in tb.visible_columns() {
                let mut row = vec![t(&c.name), t(&c.ty.to_string())];
                if *full {
                    row.push(opt(collation_of(c)));
                }
                row.extend([
                    t(if c.nullable { "YES" } else { "NO" }),
                    t(key_of(tb, i)),
                    opt(default_shown(c).as_deref()),
                    t(&extra_of(c)),
                ]);
                if *full {
                    row.push(t(COLUMN_PRIVILEGES));
                    row.push(t(&c.comment));
                }
                out.push(row);
            }
            out
        }
        SystemTable::Indexes { table: tb } => {
            let mut out = Vec::new();
            for (name, unique, cols) in keys_of(tb) {
                for (seq, &c) in cols.iter().enumerate() {
                    let Some(col) = tb.columns.get(c) else { continue };
                    let (column, expression) = key_part_shown(col);
                    out.push(vec![
                        t(&tb.name),
                        Value::Int(i64::from(!unique)),
                        t(name),
                        Value::Int(seq as i64 + 1),
                        column,
                        t("A"),
                        Value::Null,
                        Value::Null,
                        Value::Null,
                        t(if col.nullable { "YES" } else { "" }),
                        t("BTREE"),
                        t(""),
                        t(""),
                        t("YES"),
                        expression,
                    ]);
                }
            }
            out
        }
        SystemTable::CreateTable { table: tb } => {
            let mut text = create_table_sql(tb);
            // MySQL 8 shows the next AUTO_INCREMENT value once it passed 1.
            if tb.auto_increment.is_some() {
                let next = crate::dml::next_auto_increment(tb, ctx)?;
                if next > 1 {
                    let at = text.find(" DEFAULT CHARSET=").unwrap_or(text.len());
                    text.insert_str(at, &format!(" AUTO_INCREMENT={next}"));
                }
            }
            vec![vec![t(&tb.name), t(&text)]]
        }
        SystemTable::CreateView { view } => {
            let cols = if view.columns.is_empty() {
                String::new()
            } else {
                format!(" ({})", view.columns.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(","))
            };
            vec![vec![
                t(&view.name),
                t(&format!("CREATE VIEW `{}`{} AS {}", view.name, cols, view.sql)),
                t("utf8mb4"),
                t(Collation::SERVER_DEFAULT.name()),
            ]]
        }
        SystemTable::Variables => ctx.system.variables().into_iter().map(|(k, v)| vec![t(&k), t(&v)]).collect(),
        SystemTable::Status => ctx.system.status().into_iter().map(|(k, v)| vec![t(&k), t(&v)]).collect(),
        SystemTable::Warnings { errors_only, limit } => {
            let (skip, take) = limit.map_or((0, usize::MAX), |(o, n)| {
                (usize::try_from(o).unwrap_or(usize::MAX), usize::try_from(n).unwrap_or(usize::MAX))
            });
            ctx.system
                .previous_warnings()
                .into_iter()
                .filter(|w| shown(w, *errors_only))
                .skip(skip)
                .take(take)
                .map(|w| vec![t(w.level.as_str()), Value::Int(w.code.number() as i64), t(&w.message)])
                .collect()
        }
        SystemTable::WarningCount { errors_only } => {
            let n = ctx.system.previous_warnings().iter().filter(|w| shown(w, *errors_only)).count();
            vec![vec![Value::Int(i64::try_from(n).unwrap_or(i64::MAX))]]
        }
        SystemTable::Engines => ctx
            .system
            .engines()
            .into_iter()
            .map(|(name, comment, default)| {
                vec![t(&name), t(if default { "DEFAULT" } else { "YES" }), t(&comment), t("YES"), t("NO"), t("YES")]
            })
            .collect(),
        SystemTable::Plugins => ctx
            .system
            .plugins()
            .into_iter()
            .map(|(name, kind, lib)| {
                vec![
                    t(&name),
                    t("ACTIVE"),
                    t(&kind),
                    if lib.is_empty() { Value::Null } else { t(&lib) },
                    t("Apache-2.0"),
                ]
            })
            .collect(),
        SystemTable::ProcessList => vec![vec![
            Value::UInt(ctx.session.connection_id),
            t(ctx.session.user),
            t("localhost"),
            opt(ctx.session.database),
            t("Query"),
            Value::Int(0),
            t("executing"),
            t("SHOW PROCESSLIST"),
        ]],
        // `Default` marks utf8mb4's default collation, MySQL 8's.
        SystemTable::Collations => Collation::ALL
            .iter()
            .map(|&c| {
                let sortlen = match c {
                    Collation::Utf8mb4UnicodeCi => 8,
                    Collation::Utf8mb4_0900AiCi | Collation::Utf8mb4_0900AsCi | Collation::Utf8mb4_0900AsCs => 0,
                    _ => 1,
                };
                vec![
                    t(c.name()),
                    t(c.charset()),
                    Value::Int(i64::from(c.id())),
                    t(if c == Collation::SERVER_DEFAULT { "Yes" } else { "" }),
                    t("Yes"),
                    Value::Int(sortlen),
                    t(if c.pad_space() { "PAD SPACE" } else { "NO PAD" }),
                ]
            })
            .collect(),
        SystemTable::Charsets => {
            vec![vec![t("utf8mb4"), t("UTF-8 Unicode"), t(Collation::SERVER_DEFAULT.name()), Value::Int(4)]]
        }
        SystemTable::Constraints(v) => constraint_rows(*v, ctx)?,
        SystemTable::Info(v) => info_rows(*v, ctx)?,
        SystemTable::CreateDatabase { name, collation, if_not_exists } => {
            // MySQL 8's text, versioned comments included.
            let ine = if *if_not_exists { "/*!32312 IF NOT EXISTS*/ " } else { "" };
            let text = format!(
                "CREATE DATABASE {ine}`{}` /*!40100 DEFAULT CHARACTER SET {} COLLATE {} */ /*!80016 DEFAULT ENCRYPTION='N' */",
                name.replace('`', "``"),
                collation.charset(),
                collation.name()
            );
            vec![vec![t(name), t(&text)]]
        }
    })
}

/// `information_schema.COLUMNS` facts of a type: (DATA_TYPE, character
/// maximum and octet lengths, numeric precision and scale, datetime
/// precision, whether it is text with a character set).
type TypeFacts = (String, Option<u64>, Option<u64>, Option<u64>, Option<u64>, Option<u64>, bool);

fn type_facts(ty: SqlType) -> TypeFacts {
    use mizzle_types::IntWidth as W;
    let full = ty.to_string();
    let base = full.split(['(', ' ']).next().unwrap_or("").to_string();
    let n = |x: u32| Some(u64::from(x));
    match ty {
        SqlType::Bool => (base, None, None, Some(3), Some(0), None, false),
        SqlType::Int { width, unsigned } => {
            let p = match width {
                W::Tiny => 3,
                W::Small => 5,
                W::Medium => 7,
                W::Int => 10,
                W::Big if unsigned => 20,
                W::Big => 19,
            };
            (base, None, None, Some(p), Some(0), None, false)
        }
        SqlType::Float => (base, None, None, Some(12), None, None, false),
        SqlType::Double => (base, None, None, Some(22), None, None, false),
        SqlType::Decimal { precision, scale } => {
            (base, None, None, Some(u64::from(precision)), Some(u64::from(scale)), None, false)
        }
        SqlType::Char(x) | SqlType::Varchar(x) => (base, n(x), Some(u64::from(x) * 4), None, None, None, true),
        SqlType::Text(x) => (base, n(x), n(x), None, None, None, true),
        SqlType::Binary(x) | SqlType::Varbinary(x) | SqlType::Blob(x) => (base, n(x), n(x), None, None, None, false),
        SqlType::DateTime(p) | SqlType::Timestamp(p) | SqlType::Time(p) => {
            (base, None, None, None, None, Some(u64::from(p)), false)
        }
        SqlType::Bit(b) => (base, None, None, Some(u64::from(b)), None, None, false),
        SqlType::Date | SqlType::Year | SqlType::Null => (base, None, None, None, None, None, false),
        SqlType::Json => (base, None, None, None, None, None, false),
        SqlType::Enum(m) => (base, n(m.max_chars()), Some(u64::from(m.max_chars()) * 4), None, None, None, true),
        SqlType::Set(_) => (base, n(ty.set_chars()), Some(u64::from(ty.set_chars()) * 4), None, None, None, true),
    }
}

/// Rows of the `information_schema` tables of [`InfoView`], over every
/// schema the session may see (invariant 3), in schema and table order.
fn info_rows(v: mizzle_sql::plan::InfoView, ctx: &mut Ctx<'_>) -> Result<Vec<Row>, ExecError> {
    use mizzle_sql::plan::InfoView as V;
    let uint = |n: Option<u64>| n.map_or(Value::Null, Value::UInt);
    let mut out = Vec::new();
    // `performance_schema`'s row, placed by name among the catalog's.
    let mut perf_row = (v == V::Schemata && ctx.system.visible("performance_schema", None))
        .then(|| vec![t("def"), t("performance_schema"), t("utf8mb4"), t("utf8mb4_0900_ai_ci"), Value::Null, t("NO")]);
    if v == V::Schemata {
        out.push(vec![t("def"), t("information_schema"), t("utf8mb3"), t("utf8mb3_general_ci"), Value::Null, t("NO")]);
    }
    for s in ctx.dict.list_schemas(ctx.txn)? {
        if !ctx.system.visible(&s.name, None) || mizzle_sql::plan::system_schema(&s.name).is_some() {
            continue;
        }
        if v == V::Schemata {
            if s.name.as_str() > "performance_schema" {
                out.extend(perf_row.take());
            }
            out.push(vec![t("def"), t(&s.name), t(s.collation.charset()), t(s.collation.name()), Value::Null, t("NO")]);
            continue;
        }
        for r in ctx.dict.list_relations(ctx.txn, &s.name)? {
            if !ctx.system.visible(&s.name, Some(r.name())) {
                continue;
            }
            match (v, &r) {
                (V::Tables, Relation::Table(tb)) => out.push(vec![
                    t("def"),
                    t(&s.name),
                    t(&tb.name),
                    t("BASE TABLE"),
                    t(&tb.engine),
                    Value::Int(10),
                    t("Dynamic"),
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    // The next AUTO_INCREMENT value, as MySQL shows it.
                    match tb.auto_increment {
                        Some(_) => Value::UInt(crate::dml::next_auto_increment(tb, ctx)?),
                        None => Value::Null,
                    },
                    Value::Null,
                    Value::Null,
                    Value::Null,
                    t(tb.collation.name()),
                    Value::Null,
                    t(""),
                    t(&tb.comment),
                ]),
                (V::Tables, Relation::View(vw)) => {
                    let mut row = vec![t("def"), t(&s.name), t(&vw.name), t("VIEW")];
                    row.extend(std::iter::repeat_n(Value::Null, 16));
                    row.push(t("VIEW"));
                    out.push(row);
                }
                (V::Columns, Relation::Table(tb)) => {
                    for (n, (i, c)) in tb.visible_columns().enumerate() {
                        let (data_type, chars, octets, prec, scale, dt, text) = type_facts(c.ty);
                        out.push(vec![
                            t("def"),
                            t(&s.name),
                            t(&tb.name),
                            t(&c.name),
                            Value::UInt(n as u64 + 1),
                            opt(default_shown(c).as_deref()),
                            t(if c.nullable { "YES" } else { "NO" }),
                            t(&data_type),
                            chars.map_or(Value::Null, |x| Value::Int(i64::try_from(x).unwrap_or(i64::MAX))),
                            octets.map_or(Value::Null, |x| Value::Int(i64::try_from(x).unwrap_or(i64::MAX))),
                            uint(prec),
                            uint(scale),
                            uint(dt),
                            if text { t("utf8mb4") } else { Value::Null },
                            if text { opt(collation_of(c)) } else { Value::Null },
                            t(&c.ty.to_string()),
                            t(key_of(tb, i)),
                            t(&extra_of(c)),
                            t(COLUMN_PRIVILEGES),
                            t(&c.comment),
                            t(c.generated.as_ref().map_or("", |g| g.expr.as_str())),
                            Value::Null,
                        ]);
                    }
                }
                (V::Statistics, Relation::Table(tb)) => {
                    for (name, unique, cols) in keys_of(tb) {
                        for (seq, &c) in cols.iter().enumerate() {
                            let Some(col) = tb.columns.get(c) else { continue };
                            let (column, expression) = key_part_shown(col);
                            out.push(vec![
                                t("def"),
                                t(&s.name),
                                t(&tb.name),
                                Value::Int(i64::from(!unique)),
                                t(&s.name),
                                t(name),
                                Value::UInt(seq as u64 + 1),
                                column,
                                t("A"),
                                Value::Null,
                                Value::Null,
                                Value::Null,
                                t(if col.nullable { "YES" } else { "" }),
                                t("BTREE"),
                                t(""),
                                t(""),
                                t("YES"),
                                expression,
                            ]);
                        }
                    }
                }
                (V::Views, Relation::View(vw)) => out.push(vec![
                    t("def"),
                    t(&s.name),
                    t(&vw.name),
                    t(&vw.sql),
                    t("NONE"),
                    // mizzle's views are read-only (UPDATE through one is 1347).
                    t("NO"),
                    t(ctx.session.user),
                    // Privileges are checked with the invoker's rights.
                    t("INVOKER"),
                    t("utf8mb4"),
                    t(Collation::SERVER_DEFAULT.name()),
                ]),
                _ => {}
            }
        }
    }
    out.extend(perf_row);
    Ok(out)
}

/// Rows of the `information_schema` constraint views: every table of every
/// schema, in schema and table order; per table the primary key, unique
/// keys, foreign keys, then CHECK constraints (TABLE_CONSTRAINTS only).
fn constraint_rows(v: mizzle_sql::plan::ConstraintView, ctx: &mut Ctx<'_>) -> Result<Vec<Row>, ExecError> {
    use mizzle_sql::plan::ConstraintView as V;
    let mut out = Vec::new();
    let uint = |n: usize| Value::UInt(n as u64);
    for s in ctx.dict.list_schemas(ctx.txn)? {
        for r in ctx.dict.list_relations(ctx.txn, &s.name)? {
            let Relation::Table(tb) = r else { continue };
            if !ctx.system.visible(&tb.schema, Some(&tb.name)) {
                continue;
            }
            let mut keys: Vec<(String, &'static str, Vec<usize>)> = Vec::new();
            if !tb.primary_key.is_empty() {
                keys.push(("PRIMARY".into(), "PRIMARY KEY", tb.primary_key.clone()));
            }
            for ix in tb.indexes.iter().filter(|ix| ix.unique) {
                keys.push((ix.name.clone(), "UNIQUE", ix.columns.clone()));
            }
            match v {
                V::CheckConstraints => {
                    for c in &tb.checks {
                        out.push(vec![t("def"), t(&tb.schema), t(&c.name), t(&format!("({})", c.expr))]);
                    }
                }
                V::TableConstraints => {
                    let row = |name: &str, kind: &str, enforced: bool| {
                        let e = if enforced { "YES" } else { "NO" };
                        vec![t("def"), t(&tb.schema), t(name), t(&tb.schema), t(&tb.name), t(kind), t(e)]
                    };
                    for (name, kind, _) in &keys {
                        out.push(row(name, kind, true));
                    }
                    for f in &tb.foreign_keys {
                        out.push(row(&f.name, "FOREIGN KEY", true));
                    }
                    for c in &tb.checks {
                        out.push(row(&c.name, "CHECK", c.enforced));
                    }
                }
                V::KeyColumnUsage => {
                    for (name, _, cols) in &keys {
                        // A functional key part is no column (MySQL lists none).
                        for (i, &c) in cols.iter().enumerate().filter(|(_, &c)| !tb.columns[c].hidden) {
                            out.push(vec![
                                t("def"),
                                t(&tb.schema),
                                t(name),
                                t("def"),
                                t(&tb.schema),
                                t(&tb.name),
                                t(&tb.columns[c].name),
                                uint(i + 1),
                                Value::Null,
                                Value::Null,
                                Value::Null,
                                Value::Null,
                            ]);
                        }
                    }
                    for f in &tb.foreign_keys {
                        for (i, (c, rc)) in f.columns.iter().zip(&f.ref_columns).enumerate() {
                            out.push(vec![
                                t("def"),
                                t(&tb.schema),
                                t(&f.name),
                                t("def"),
                                t(&tb.schema),
                                t(&tb.name),
                                t(c),
                                uint(i + 1),
                                uint(i + 1),
                                t(&f.ref_schema),
                                t(&f.ref_table),
                                t(rc),
                            ]);
                        }
                    }
                }
                V::ReferentialConstraints => {
                    for f in &tb.foreign_keys {
                        // The parent's key the reference uses, when the parent exists.
                        let unique = match ctx.dict.get_relation(ctx.txn, &f.ref_schema, &f.ref_table)? {
                            Some(Relation::Table(p)) => match crate::fk::positions(&p, &f.ref_columns)
                                .ok()
                                .and_then(|c| crate::fk::path(&p, &c))
                            {
                                Some(crate::fk::Path::Primary) | Some(crate::fk::Path::PrimaryPrefix) => {
                                    Some("PRIMARY".to_string())
                                }
                                Some(crate::fk::Path::Index(i)) => p.indexes.get(i).map(|x| x.name.clone()),
                                None => None,
                            },
                            _ => None,
                        };
                        out.push(vec![
                            t("def"),
                            t(&tb.schema),
                            t(&f.name),
                            t("def"),
                            t(&f.ref_schema),
                            opt(unique.as_deref()),
                            t("NONE"),
                            t(f.on_update.sql()),
                            t(f.on_delete.sql()),
                            t(&tb.name),
                            t(&f.ref_table),
                        ]);
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Whether `SHOW WARNINGS` (or, with `errors_only`, `SHOW ERRORS`) lists `w`.
fn shown(w: &mizzle_types::Warning, errors_only: bool) -> bool {
    !errors_only || w.level == mizzle_types::Level::Error
}
