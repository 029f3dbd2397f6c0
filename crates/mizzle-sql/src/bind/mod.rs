//! The binder: turns `sqlparser` statements into bound statements by
//! resolving names against the dictionary (through [`Catalog`]) and types
//! against MySQL's rules.
//!
//! Invariants:
//! 1. Name resolution follows MySQL: columns and aliases are
//!    case-insensitive; an unqualified column must match exactly one FROM
//!    item (else 1052) or an enclosing query's (correlation), else 1054.
//! 2. Binding depth is bounded by `parse::MAX_DEPTH` (error, never a stack
//!    overflow); recursive functions are marked `#[recursive]`, which grows
//!    the stack on the heap when it runs low.
//! 3. The binder reads definitions only; it never reads or writes rows.

mod coercion;
mod ddl;
mod dml;
mod dml_multi;
mod expr;
mod generated;
mod json_table;
mod load;
mod query;
mod recursive;
mod window;

pub use query::map_plan_exprs;

use std::collections::HashMap;

use mizzle_dictionary::Relation;
use mizzle_types::{Collation, Value};
use sqlparser::ast::{Ident, ObjectName, ObjectNamePart, Statement};

use crate::error::BindError;
use crate::parse::MAX_DEPTH;
use crate::plan::{BoundStatement, OutCol, Plan};

/// What the binder may ask about the world.
pub trait Catalog {
    /// The session's current database.
    fn current_schema(&self) -> Option<String>;
    /// A table or view in the statement's transaction snapshot.
    fn relation(&self, schema: &str, name: &str) -> Result<Option<Relation>, BindError>;
    /// True if the database exists.
    fn schema_exists(&self, schema: &str) -> Result<bool, BindError>;
    /// The database's default collation (`None` if it does not exist).
    fn schema_collation(&self, _schema: &str) -> Result<Option<Collation>, BindError> {
        Ok(None)
    }
    /// The value of `@@name` (session scope unless `global`).
    fn system_variable(&self, name: &str, global: bool) -> Option<Value>;
    /// The value of `@name` (NULL if unset).
    fn user_variable(&self, name: &str) -> Value;
    /// The text the statement being bound was parsed from
    /// ([`crate::parse::Parsed::text`]), for column names taken from the
    /// source as MySQL does; `None` names columns from the parsed tree.
    fn source_text(&self) -> Option<&str> {
        None
    }
}

/// The source text of each item of the select list whose SELECT keyword is
/// at `select` (1-based line and column), as written: split at top-level
/// commas up to the clause that ends the list. `None` when the text cannot
/// be read that way (the caller then names items from the parsed tree).
pub fn select_item_texts(text: &str, select: sqlparser::tokenizer::Location) -> Option<Vec<String>> {
    use sqlparser::dialect::MySqlDialect;
    use sqlparser::tokenizer::{Token, Tokenizer};
    // Byte offset of the SELECT keyword.
    let mut line = 1u64;
    let mut col = 1u64;
    let mut at = None;
    for (i, ch) in text.char_indices() {
        if (line, col) == (select.line, select.column) {
            at = Some(i);
            break;
        }
        if ch == '\n' {
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
    }
    let rest = text.get(at?..)?;
    let dialect = MySqlDialect {};
    let tokens = Tokenizer::new(&dialect, rest).tokenize_with_location().ok()?;
    // Byte offsets of token starts within `rest`, in token order.
    let mut offsets = Vec::with_capacity(tokens.len());
    let mut line_starts = vec![0usize];
    for (i, ch) in rest.char_indices() {
        if ch == '\n' {
            line_starts.push(i + 1);
        }
    }
    // Tokens come in text order, so one cursor (line, column, byte offset)
    // walks the text once: linear in its length however many tokens a line
    // holds.
    let (mut cur_line, mut cur_col, mut cur_off) = (0usize, 0usize, 0usize);
    for t in &tokens {
        let l = usize::try_from(t.span.start.line).ok()?.checked_sub(1)?;
        let c = usize::try_from(t.span.start.column).ok()?.checked_sub(1)?;
        if l != cur_line || c < cur_col {
            (cur_line, cur_col, cur_off) = (l, 0, *line_starts.get(l)?);
        }
        let mut chars = rest.get(cur_off..)?.char_indices();
        while cur_col < c {
            match chars.next() {
                Some((_, ch)) => {
                    cur_off += ch.len_utf8();
                    cur_col += 1;
                }
                None => {
                    cur_off = rest.len();
                    break;
                }
            }
        }
        offsets.push(cur_off.min(rest.len()));
    }
    offsets.push(rest.len());
    let word = |t: &Token, w: &[&str]| matches!(t, Token::Word(x) if x.quote_style.is_none() && w.iter().any(|k| x.value.eq_ignore_ascii_case(k)));
    const MODIFIERS: &[&str] = &[
        "ALL",
        "DISTINCT",
        "DISTINCTROW",
        "HIGH_PRIORITY",
        "STRAIGHT_JOIN",
        "SQL_SMALL_RESULT",
        "SQL_BIG_RESULT",
        "SQL_BUFFER_RESULT",
        "SQL_NO_CACHE",
        "SQL_CACHE",
        "SQL_CALC_FOUND_ROWS",
    ];
    const ENDS: &[&str] = &[
        "FROM",
        "INTO",
        "WHERE",
        "GROUP",
        "HAVING",
        "ORDER",
        "LIMIT",
        "WINDOW",
        "UNION",
        "EXCEPT",
        "INTERSECT",
        "FOR",
        "LOCK",
        "QUALIFY",
    ];
    let mut i = 1; // past SELECT
    let significant = |t: &Token| !matches!(t, Token::Whitespace(_));
    while let Some(t) = tokens.get(i) {
        if !significant(&t.token) || word(&t.token, MODIFIERS) {
            i += 1;
        } else {
            break;
        }
    }
    let mut items = Vec::new();
    let mut depth = 0i64;
    let mut first: Option<usize> = None;
    let mut last = 0usize;
    loop {
        let tok = tokens.get(i).map(|t| &t.token);
        let end = match tok {
            None | Some(Token::EOF) | Some(Token::SemiColon) => true,
            Some(Token::RParen) if depth == 0 => true,
            Some(t) if depth == 0 && word(t, ENDS) => true,
            _ => false,
        };
        if end || (depth == 0 && matches!(tok, Some(Token::Comma))) {
            let (a, b) = (first?, last);
            items.push(rest.get(*offsets.get(a)?..*offsets.get(b + 1)?)?.trim().to_string());
            first = None;
            if end {
                break;
            }
            i += 1;
            continue;
        }
        if let Some(t) = tok {
            match t {
                Token::LParen | Token::LBracket | Token::LBrace => depth += 1,
                Token::RParen | Token::RBracket | Token::RBrace => depth -= 1,
                _ => {}
            }
            if significant(t) {
                first.get_or_insert(i);
                last = i;
            }
        }
        i += 1;
    }
    Some(items)
}

/// A common table expression in scope.
#[derive(Clone)]
pub(crate) struct CteDef {
    pub(crate) plan: Plan,
    pub(crate) cols: Vec<OutCol>,
    /// Set while the CTE's own definition is being bound under WITH
    /// RECURSIVE: a reference to it is a recursive reference (index into
    /// `Binder::rec`), and `plan`/`cols` are not meaningful.
    pub(crate) recursive: Option<usize>,
}

/// Per-query-block state for correlation tracking.
pub(crate) struct Block {
    /// The FROM scope of the block (what inner blocks may correlate to).
    pub(crate) scope: Vec<OutCol>,
    /// Outer references this block made: (depth relative to this block, index).
    pub(crate) outer_used: Vec<(usize, usize)>,
}

/// A scan that emits row keys: its alias and table (multi-table DML).
pub(crate) type KeyedScan = (String, std::sync::Arc<mizzle_dictionary::TableDef>);

/// Binds statements; one per statement.
pub struct Binder<'a> {
    cat: &'a dyn Catalog,
    /// Number of `?` parameters seen so far.
    pub(crate) params: usize,
    next_subquery: usize,
    depth: usize,
    pub(crate) blocks: Vec<Block>,
    /// Outer references of the subqueries being bound, innermost last.
    pub(crate) sub_refs: Vec<Vec<usize>>,
    pub(crate) ctes: Vec<HashMap<String, CteDef>>,
    pub(crate) views: Vec<(String, String)>,
    /// `VALUES(col)` reads the proposed row (ON DUPLICATE KEY UPDATE).
    pub(crate) values_fn: bool,
    /// Text position (line, column) of each `?` in binding order; binding
    /// order is not text order (UPDATE binds WHERE before SET), so indexes
    /// are renumbered by position when the statement is bound.
    pub(crate) param_pos: Vec<(u64, u64)>,
    /// A `@@var` or `@var` was read (its value is in the plan, so a prepared
    /// statement must not keep the plan for a later execution).
    pub(crate) read_variables: bool,
    /// Window functions may appear here (a SELECT list or ORDER BY, not
    /// inside another window function or an aggregate).
    pub(crate) window_ok: bool,
    /// Binding the PARTITION BY / ORDER BY of this window (for 3595).
    pub(crate) in_window_spec: Option<String>,
    /// The current SELECT block's named windows, resolved.
    pub(crate) windows: Vec<(String, window::BoundWindow)>,
    /// The columns of the FROM items left of the one being bound, which
    /// a JSON_TABLE there may name (`json_table` invariant 1).
    pub(crate) lateral_left: Vec<OutCol>,
    /// Recursive CTEs whose recursive blocks are being bound.
    pub(crate) rec: Vec<recursive::RecCtx>,
    /// Ids for recursive CTEs (work tables).
    next_cte_id: usize,
    /// Binding the FROM clause of a multi-table UPDATE or DELETE: the
    /// block depth at which base-table scans emit row keys, and the
    /// tables given one so far (alias, definition).
    pub(crate) rowkey_scans: Option<(usize, Vec<KeyedScan>)>,
    /// Binding LOAD DATA's SET expressions: user variables of the field
    /// list (lower-cased name, scope column) read the line's field.
    pub(crate) load_vars: Vec<(String, usize)>,
}

/// Binds one parsed statement.
pub fn bind(cat: &dyn Catalog, stmt: crate::parse::StatementRef<'_>) -> Result<(BoundStatement, usize), BindError> {
    let mut b = Binder::new(cat);
    let s = b.bind_parsed(stmt)?;
    Ok((s, b.params))
}

impl<'a> Binder<'a> {
    /// A binder over `cat`.
    pub fn new(cat: &'a dyn Catalog) -> Binder<'a> {
        Binder {
            cat,
            params: 0,
            next_subquery: 0,
            depth: 0,
            blocks: Vec::new(),
            sub_refs: Vec::new(),
            ctes: Vec::new(),
            views: Vec::new(),
            values_fn: false,
            param_pos: Vec::new(),
            read_variables: false,
            window_ok: false,
            in_window_spec: None,
            windows: Vec::new(),
            lateral_left: Vec::new(),
            rec: Vec::new(),
            next_cte_id: 0,
            rowkey_scans: None,
            load_vars: Vec::new(),
        }
    }

    /// Number of `?` parameters bound so far.
    pub fn param_count(&self) -> usize {
        self.params
    }

    /// Whether the statement read a system or user variable: the plan holds
    /// its value as of binding, so it may not be reused after the variable
    /// changes (a prepared statement binds again for every execution).
    pub fn read_variables(&self) -> bool {
        self.read_variables
    }

    pub(crate) fn enter(&mut self) -> Result<(), BindError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(BindError::NestedTooDeeply(MAX_DEPTH));
        }
        Ok(())
    }

    pub(crate) fn leave(&mut self) {
        self.depth -= 1;
    }

    /// Binds a statement; `?` parameters are numbered in text order.
    /// Binds one parsed statement.
    pub fn bind_parsed(&mut self, stmt: crate::parse::StatementRef<'_>) -> Result<BoundStatement, BindError> {
        let connection = self
            .cat
            .system_variable("collation_connection", false)
            .and_then(|v| Collation::from_name(&v.to_text_lossy()))
            .unwrap_or(Collation::LEGACY);
        let _scope = coercion::ConnectionScope::enter(connection);
        if let Some(a) = stmt.account() {
            return Ok(BoundStatement::Account(Box::new(crate::account::bind_account(self.cat, a)?)));
        }
        if let Some(l) = stmt.load() {
            return self.bind_load(l);
        }
        self.bind_statement(stmt.ast())
    }

    pub(crate) fn bind_statement(&mut self, stmt: &Statement) -> Result<BoundStatement, BindError> {
        let mut b = self.bind_statement_inner(stmt)?;
        if self.param_pos.len() == self.params && self.params > 1 {
            let mut order: Vec<usize> = (0..self.params).collect();
            order.sort_by_key(|&i| self.param_pos[i]);
            let mut rank = vec![0; self.params];
            for (r, &i) in order.iter().enumerate() {
                rank[i] = r;
            }
            if rank.iter().enumerate().any(|(i, r)| i != *r) {
                b.map_params(&|i| rank.get(i).copied().unwrap_or(i));
            }
        }
        Ok(b)
    }

    fn bind_statement_inner(&mut self, stmt: &Statement) -> Result<BoundStatement, BindError> {
        match stmt {
            Statement::Query(q) => Ok(BoundStatement::Query(Box::new(self.bind_query(q)?.0))),
            Statement::Insert(i) => self.bind_insert(i),
            Statement::Update(u) => self.bind_update(u),
            Statement::Delete(d) => self.bind_delete(d),
            Statement::Explain { analyze, statement, format, .. } => {
                let tree = match format {
                    None => false,
                    Some(
                        sqlparser::ast::AnalyzeFormatKind::Keyword(f)
                        | sqlparser::ast::AnalyzeFormatKind::Assignment(f),
                    ) => match f {
                        sqlparser::ast::AnalyzeFormat::TREE => true,
                        sqlparser::ast::AnalyzeFormat::TRADITIONAL | sqlparser::ast::AnalyzeFormat::TEXT => false,
                        other => return Err(BindError::NotSupported(format!("EXPLAIN FORMAT={other}"))),
                    },
                };
                let inner = self.bind_statement(statement)?;
                Ok(BoundStatement::Explain { analyze: *analyze, tree, stmt: Box::new(inner) })
            }
            other => self.bind_other(other),
        }
    }

    /// The schema to use for an unqualified name.
    pub(crate) fn default_schema(&self) -> Result<String, BindError> {
        self.cat.current_schema().ok_or(BindError::NoDatabaseSelected)
    }

    /// Splits `[schema.]name`.
    pub(crate) fn object_name(&self, n: &ObjectName) -> Result<(String, String), BindError> {
        let parts: Vec<&Ident> =
            n.0.iter()
                .map(|p| match p {
                    ObjectNamePart::Identifier(i) => Ok(i),
                    ObjectNamePart::Function(_) => Err(BindError::NotSupported(format!("name {n}"))),
                })
                .collect::<Result<_, _>>()?;
        match parts.as_slice() {
            [t] => Ok((self.default_schema()?, t.value.clone())),
            [s, t] => Ok((s.value.clone(), t.value.clone())),
            _ => Err(BindError::NotSupported(format!("name {n}"))),
        }
    }

    /// Looks up a relation, failing with 1146 when it is missing.
    pub(crate) fn require_relation(&self, schema: &str, name: &str) -> Result<Relation, BindError> {
        match self.cat.relation(schema, name)? {
            Some(r) => Ok(r),
            None => {
                if !self.cat.schema_exists(schema)? {
                    return Err(BindError::UnknownDatabase(schema.to_string()));
                }
                Err(BindError::NoSuchTable { schema: schema.to_string(), name: name.to_string() })
            }
        }
    }

    pub(crate) fn next_subquery_id(&mut self) -> usize {
        self.next_subquery += 1;
        self.next_subquery
    }

    pub(crate) fn next_cte_id(&mut self) -> usize {
        self.next_cte_id += 1;
        self.next_cte_id
    }
}

/// Lower-cases an identifier for comparisons.
pub(crate) fn norm(s: &str) -> String {
    s.to_lowercase()
}

/// A catalog with no tables: for expressions that may not read any
/// (DEFAULT and CHECK texts).
struct NoCatalog;

impl Catalog for NoCatalog {
    fn current_schema(&self) -> Option<String> {
        None
    }
    fn relation(&self, _schema: &str, _name: &str) -> Result<Option<Relation>, BindError> {
        Ok(None)
    }
    fn schema_exists(&self, _schema: &str) -> Result<bool, BindError> {
        Ok(false)
    }
    fn system_variable(&self, _name: &str, _global: bool) -> Option<Value> {
        None
    }
    fn user_variable(&self, _name: &str) -> Value {
        Value::Null
    }
}

/// Binds a column's DEFAULT text to an expression (no columns in scope).
pub fn default_value_expr(text: &str) -> Result<crate::expr::Expr, BindError> {
    let e = dml::parse_expr(text)?;
    Binder::new(&NoCatalog).bind_scalar(&e, &[], expr::ExprCtx::plain("default"))
}

/// Binds every CHECK constraint of a table over its row (NOT ENFORCED
/// ones included), in definition order.
pub fn bind_checks_for(t: &mizzle_dictionary::TableDef) -> Result<Vec<(String, crate::expr::Expr)>, BindError> {
    Binder::new(&NoCatalog).bind_checks_where(t, false)
}

/// Binds a table's generated columns over its row: (position, expression),
/// in column order (a generated column reads only earlier ones).
pub fn bind_generated_for(t: &mizzle_dictionary::TableDef) -> Result<Vec<(usize, crate::expr::Expr)>, BindError> {
    let mut b = Binder::new(&NoCatalog);
    let scope = dml::table_scope(t, &t.name);
    let mut out = Vec::new();
    for (i, c) in t.columns.iter().enumerate() {
        if let Some(g) = &c.generated {
            let e = dml::parse_expr(&g.expr)?;
            out.push((i, b.bind_scalar(&e, &scope, expr::ExprCtx::plain("generated column function"))?));
        }
    }
    Ok(out)
}

/// Checks MySQL 8's rules for the generated columns and CHECK constraints
/// of a table definition (`generated`, invariants 1 and 2).
pub fn check_definitions(t: &mizzle_dictionary::TableDef) -> Result<(), BindError> {
    use generated::{ExprOwner, RuleColumn};
    let mut b = Binder::new(&NoCatalog);
    let scope = dml::table_scope(t, &t.name);
    let cols: Vec<RuleColumn<'_>> = t
        .columns
        .iter()
        .map(|c| RuleColumn { name: &c.name, auto_increment: c.auto_increment, generated: c.generated.is_some() })
        .collect();
    for (i, c) in t.columns.iter().enumerate() {
        if let Some(g) = &c.generated {
            if c.auto_increment {
                return Err(BindError::Definition {
                    code: mizzle_types::ErrorCode::UnsupportedActionOnGeneratedColumn,
                    message: "'AUTO_INCREMENT' is not supported for generated columns.".into(),
                });
            }
            let owner = match t.functional_index_of(i) {
                Some(ix) if c.hidden => ExprOwner::FunctionalIndex(&ix.name),
                _ => ExprOwner::Generated(cols[i].name),
            };
            b.check_definition_expr(owner, &g.expr, &scope, &cols, Some(i))?;
        }
    }
    for ck in &t.checks {
        if !generated::is_boolean(&dml::parse_expr(&ck.expr)?) {
            return Err(BindError::Definition {
                code: mizzle_types::ErrorCode::NonBooleanExprForCheckConstraint,
                message: format!("An expression of non-boolean type specified to a check constraint '{}'.", ck.name),
            });
        }
        b.check_definition_expr(ExprOwner::Check(&ck.name), &ck.expr, &scope, &cols, None)?;
    }
    Ok(())
}

pub use ddl::system_columns;
pub use generated::functional_key_part;
pub(crate) use generated::key_part_type;

#[cfg(test)]
mod source_tests {
    use sqlparser::ast::{SetExpr, Statement};

    use super::select_item_texts;

    fn items(sql: &str) -> Option<Vec<String>> {
        let p = crate::parse::parse(sql).expect("parses");
        let Some(Statement::Query(q)) = p.statements().first() else { panic!("a query") };
        let SetExpr::Select(s) = q.body.as_ref() else { panic!("a select") };
        select_item_texts(p.text(), s.select_token.0.span.start)
    }

    #[test]
    fn select_items_are_cut_from_the_source() {
        let got = items(
            "SELECT DISTINCT 1/0, 1 + 1 ,count(*), ABS( -2 ), 'a,b', `x y`, f(g(1, 2)),\n  a\n  *\n  b, -a, CAST(a AS CHAR) AS c FROM t",
        );
        let want = [
            "1/0",
            "1 + 1",
            "count(*)",
            "ABS( -2 )",
            "'a,b'",
            "`x y`",
            "f(g(1, 2))",
            "a\n  *\n  b",
            "-a",
            "CAST(a AS CHAR) AS c",
        ];
        assert_eq!(got, Some(want.iter().map(|w| w.to_string()).collect()));
        assert_eq!(items("SELECT 1"), Some(vec!["1".to_string()]));
        assert_eq!(items("SELECT a FROM (SELECT 1 AS a) d WHERE a > 0"), Some(vec!["a".to_string()]));
    }

    #[test]
    fn a_subquery_list_ends_at_its_parenthesis() {
        let p = crate::parse::parse("SELECT (SELECT x+1 FROM t), 2").expect("parses");
        let got = select_item_texts(p.text(), sqlparser::tokenizer::Location::new(1, 9));
        assert_eq!(got, Some(vec!["x+1".to_string()]));
    }
}
