//! Parsing SQL text with `sqlparser`'s MySQL dialect, and the few MySQL
//! forms it lacks ([`parse_mysql`]).
//!
//! Invariants:
//! 1. Nesting is bounded by [`MAX_DEPTH`] everywhere (parser, binder,
//!    evaluator), so no input can overflow the stack; deeper input is a
//!    `NestedTooDeeply` error.
//! 2. Text handed in is UTF-8 (the edge validated it).
//! 3. MySQL's `NTH_VALUE(x, n) FROM FIRST`, which sqlparser does not know,
//!    is parsed as `NTH_VALUE(x, n)` (FROM FIRST is the only order MySQL
//!    has); `FROM LAST` is MySQL's error 1235. The two words are blanked
//!    in place, so every other token keeps its line and column.
//! 4. Stored-program statements (`CREATE|ALTER|DROP TRIGGER|PROCEDURE|
//!    FUNCTION|EVENT`, `CALL`) are refused with error 1235 before
//!    sqlparser sees them (their bodies are not SQL it parses), whichever
//!    statement of the text they are ([`refuse_stored_programs`]).
//! 5. MySQL 8's `TABLE t [ORDER BY ...] [LIMIT ...]` as a statement, which
//!    sqlparser parses only inside a query, is rewritten to `SELECT * FROM
//!    t ...` ([`table_statements`]); elsewhere sqlparser parses it and the
//!    binder binds it as that SELECT. `CREATE TABLE t (LIKE s)` loses its
//!    parentheses (blanked in place), as sqlparser's MySQL dialect reads
//!    only `CREATE TABLE t LIKE s`.
//! 6. The table lists of multi-table UPDATE and DELETE that sqlparser
//!    lacks are rewritten ([`multi_table_lists`]): `UPDATE t1, t2 JOIN t3
//!    ON ... SET` as `UPDATE t1 CROSS JOIN (t2 JOIN t3 ON ...) SET` (the
//!    comma binds more loosely than JOIN), and the `.*` of `DELETE t1.*
//!    FROM` blanked.
//! 7. MySQL's `ALTER DATABASE [d] [DEFAULT] CHARACTER SET cs [DEFAULT]
//!    COLLATE c`, which sqlparser lacks, is rewritten to sqlparser's `ALTER
//!    SCHEMA d SET OPTIONS (...)` with mizzle's option names
//!    ([`alter_database_statements`]); the binder reads those back.
//!    `SHOW CREATE DATABASE [IF NOT EXISTS] d`, which it lacks too, becomes
//!    `SHOW mizzle_show_create_database[_if_not_exists] d`, which it
//!    parses as a list of words. `SHOW TABLE STATUS [FROM d] [LIKE p |
//!    WHERE e]` becomes a SELECT over information_schema.TABLES under
//!    MySQL's column names ([`table_status_select`]). `SHOW COUNT(*)
//!    {WARNINGS | ERRORS}` becomes `SHOW mizzle_count_{warnings | errors}`,
//!    and `SHOW {WARNINGS | ERRORS} LIMIT [o,] n` (or `LIMIT n OFFSET o`)
//!    becomes `SHOW mizzle_{warnings | errors}_limit_<o>_<n>`.

use sqlparser::ast::Statement;
use sqlparser::dialect::MySqlDialect;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Location, Token, Tokenizer};

use mizzle_dictionary::Relation;
use mizzle_txn::WaitPolicy;
use mizzle_types::Value;

use crate::account::{AccountStmt, LevelSpec};
use crate::bind::{Binder, Catalog};
use crate::error::BindError;
use crate::plan::{BoundStatement, TxnStmt, VarScope};

/// The deepest nesting of expressions and subqueries the binder accepts
/// (the SQLite corpus needs about 100).
pub const MAX_DEPTH: usize = 500;

/// The parser's own recursion budget (it counts calls, several per level).
const PARSER_RECURSION_LIMIT: usize = 2000;

/// Texts shorter than this cannot nest deeply enough to matter when dropped.
const DEEP_TEXT: usize = 4096;

/// Parsed statements. Operator chains such as `1+1+...+1` parse into trees
/// as deep as the text is long without reaching the parser's recursion
/// limit, and dropping such a tree recurses once per level; so a long
/// text's trees are dropped on a stack grown for them (invariant 1).
pub struct Parsed {
    stmts: Vec<Item>,
    text_len: usize,
    /// `WITH CONSISTENT SNAPSHOT` was given ([`parse_mysql`]).
    consistent_snapshot: bool,
    /// The scope word of `SET SESSION|GLOBAL TRANSACTION` ([`parse_mysql`]).
    txn_scope: Option<VarScope>,
    /// The text parsed (the spans of the statements index into it).
    text: String,
}

/// One statement of a text: what sqlparser made, or an account statement
/// ([`crate::account`]), which sqlparser does not parse in MySQL's form.
#[allow(clippy::large_enum_variant)] // Boxing every statement would cost the common case.
pub(crate) enum Item {
    Sql(Statement),
    Account(AccountStmt<LevelSpec>),
    Load(Box<crate::load::LoadStmt>),
}

/// What stands for an account statement's syntax tree where a caller
/// looks at trees (the locking clause, transaction control): `FLUSH
/// STATUS`, which locks nothing and is no transaction control. The
/// binder binds the account statement itself.
fn not_sql() -> &'static Statement {
    static NOT_SQL: std::sync::OnceLock<Statement> = std::sync::OnceLock::new();
    NOT_SQL.get_or_init(|| Statement::Flush {
        object_type: sqlparser::ast::FlushType::Status,
        location: None,
        channel: None,
        read_lock: false,
        export: false,
        tables: Vec::new(),
    })
}

/// One parsed statement, opaque outside this crate: what sqlparser made
/// is read only here (the binder, the locking clause, transaction
/// control), so no sqlparser type crosses this crate's API.
#[derive(Clone, Copy)]
pub struct StatementRef<'a>(&'a Item);

impl<'a> StatementRef<'a> {
    /// The syntax tree, for this crate (a harmless stand-in for an account
    /// statement; see [`StatementRef::account`]).
    pub(crate) fn ast(self) -> &'a Statement {
        match self.0 {
            Item::Sql(s) => s,
            Item::Account(_) | Item::Load(_) => not_sql(),
        }
    }

    /// The LOAD DATA statement this is, if it is one.
    pub(crate) fn load(self) -> Option<&'a crate::load::LoadStmt> {
        match self.0 {
            Item::Load(l) => Some(l),
            _ => None,
        }
    }

    /// The account statement this is, if it is one.
    pub(crate) fn account(self) -> Option<&'a AccountStmt<LevelSpec>> {
        match self.0 {
            Item::Account(a) => Some(a),
            _ => None,
        }
    }

    /// A transaction-control statement: BEGIN / START TRANSACTION, COMMIT,
    /// ROLLBACK [TO SAVEPOINT], SAVEPOINT, RELEASE SAVEPOINT.
    #[inline]
    pub fn is_txn_control(self) -> bool {
        matches!(
            self.ast(),
            Statement::StartTransaction { .. }
                | Statement::Commit { .. }
                | Statement::Rollback { .. }
                | Statement::Savepoint { .. }
                | Statement::ReleaseSavepoint { .. }
        )
    }

    /// The transaction-control statement this is, bound (it needs no
    /// catalog); `None` for any other statement.
    #[inline]
    pub fn txn_control(self) -> Option<Result<TxnStmt, BindError>> {
        if !self.is_txn_control() {
            return None;
        }
        Some(self.bind_txn_control())
    }

    fn bind_txn_control(self) -> Result<TxnStmt, BindError> {
        let mut b = Binder::new(&NoCatalog);
        match b.bind_statement(self.ast()) {
            Ok(BoundStatement::Txn(t)) => Ok(t),
            Ok(_) => Err(BindError::Internal("transaction control bound to another statement".into())),
            Err(e) => Err(e),
        }
    }

    /// A diagnostic statement (`SHOW WARNINGS`, `SHOW ERRORS`, `SHOW
    /// COUNT(*) WARNINGS|ERRORS`): it reports the previous statement's
    /// messages and, as in MySQL, leaves them in place for the next one.
    pub fn is_diagnostic(self) -> bool {
        match self.ast() {
            Statement::ShowVariable { variable } if variable.len() == 1 => {
                let w = variable[0].value.as_str();
                let starts = |p: &str| w.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p));
                ["warnings", "errors", SHOW_COUNT_WARNINGS, SHOW_COUNT_ERRORS].iter().any(|x| w.eq_ignore_ascii_case(x))
                    || starts(SHOW_WARNINGS_LIMIT)
                    || starts(SHOW_ERRORS_LIMIT)
            }
            _ => false,
        }
    }

    /// How the statement's locking reads treat rows other transactions
    /// hold (its `NOWAIT` / `SKIP LOCKED`).
    pub fn wait_policy(self) -> WaitPolicy {
        crate::locking::wait_policy(self.ast())
    }
}

/// The catalog of statements that need none (transaction control).
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

impl Parsed {
    /// The text the statements were parsed from: select-list column names
    /// are taken from it ([`crate::bind::source_slice`]).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The statements, in order.
    pub fn iter(&self) -> impl Iterator<Item = StatementRef<'_>> {
        self.stmts.iter().map(StatementRef)
    }

    /// Statement `i`, if there is one.
    pub fn get(&self, i: usize) -> Option<StatementRef<'_>> {
        self.stmts.get(i).map(StatementRef)
    }

    /// `START TRANSACTION WITH CONSISTENT SNAPSHOT` was given.
    pub fn consistent_snapshot(&self) -> bool {
        self.consistent_snapshot
    }

    /// The scope word of `SET SESSION|GLOBAL TRANSACTION ...`, which the
    /// parsed statement no longer carries.
    pub fn txn_scope(&self) -> Option<VarScope> {
        self.txn_scope
    }

    /// The sqlparser statements, in order (account statements left out).
    pub(crate) fn statements(&self) -> Vec<&Statement> {
        self.stmts
            .iter()
            .filter_map(|i| match i {
                Item::Sql(s) => Some(s),
                Item::Account(_) | Item::Load(_) => None,
            })
            .collect()
    }

    /// Number of statements.
    pub fn len(&self) -> usize {
        self.stmts.len()
    }

    /// True when the text held no statement.
    pub fn is_empty(&self) -> bool {
        self.stmts.is_empty()
    }
}

impl Drop for Parsed {
    fn drop(&mut self) {
        if self.text_len < DEEP_TEXT {
            return;
        }
        let stmts = std::mem::take(&mut self.stmts);
        // Depth is at most the number of tokens; a few hundred bytes of stack
        // per level is ample. The stack is mapped lazily.
        let size = self.text_len.saturating_mul(512).max(8 << 20);
        stacker::grow(size, move || drop(stmts));
    }
}

/// Blanks `FROM FIRST` after `NTH_VALUE(...)` (invariant 3); `None` when
/// there is nothing to change.
fn strip_from_first(sql: &str) -> Result<Option<String>, BindError> {
    if !sql.to_ascii_lowercase().contains("nth_value") {
        return Ok(None);
    }
    let dialect = MySqlDialect {};
    let Ok(tokens) = Tokenizer::new(&dialect, sql).tokenize_with_location() else { return Ok(None) };
    let toks: Vec<_> = tokens.iter().filter(|t| !matches!(t.token, Token::Whitespace(_))).collect();
    let word = |i: usize, w: &str| matches!(toks.get(i).map(|t| &t.token), Some(Token::Word(x)) if x.value.eq_ignore_ascii_case(w) && x.quote_style.is_none());
    let mut cuts: Vec<(Location, Location)> = Vec::new();
    for i in 0..toks.len() {
        if !(word(i, "nth_value") && matches!(toks.get(i + 1).map(|t| &t.token), Some(Token::LParen))) {
            continue;
        }
        let mut depth = 0usize;
        let mut j = i + 1;
        while let Some(t) = toks.get(j) {
            match t.token {
                Token::LParen => depth += 1,
                Token::RParen => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
            j += 1;
        }
        if word(j + 1, "from") && word(j + 2, "last") {
            return Err(BindError::NotSupported("FROM LAST".into()));
        }
        if word(j + 1, "from") && word(j + 2, "first") {
            if let (Some(a), Some(b)) = (toks.get(j + 1), toks.get(j + 2)) {
                cuts.push((a.span.start, b.span.end));
            }
        }
    }
    if cuts.is_empty() {
        return Ok(None);
    }
    let mut chars: Vec<char> = sql.chars().collect();
    let line_starts = line_starts(&chars);
    for (a, b) in cuts {
        if let (Some(a), Some(b)) = (char_index(&line_starts, a), char_index(&line_starts, b)) {
            let n = chars.len();
            for c in chars.iter_mut().take(b.min(n)).skip(a) {
                if *c != '\n' {
                    *c = ' ';
                }
            }
        }
    }
    Ok(Some(chars.into_iter().collect()))
}

/// Refuses stored-program statements (invariant 4): looks at the words
/// that start each `;`-separated statement.
fn refuse_stored_programs(sql: &str) -> Result<(), BindError> {
    const PROGRAMS: [&str; 4] = ["TRIGGER", "PROCEDURE", "FUNCTION", "EVENT"];
    // Words after CREATE/ALTER that name a kind of object other than a program.
    const OTHERS: [&str; 14] = [
        "TABLE",
        "VIEW",
        "INDEX",
        "DATABASE",
        "SCHEMA",
        "TEMPORARY",
        "UNIQUE",
        "FULLTEXT",
        "SPATIAL",
        "USER",
        "ROLE",
        "ALGORITHM",
        "SQL",
        "ONLINE",
    ];
    let lower = sql.to_ascii_lowercase();
    if !["trigger", "procedure", "function", "event", "call"].iter().any(|w| lower.contains(w)) {
        return Ok(());
    }
    let dialect = MySqlDialect {};
    // Text the tokenizer refuses is the parser's to report.
    let Ok(tokens) = Tokenizer::new(&dialect, sql).tokenize() else { return Ok(()) };
    let toks: Vec<&Token> = tokens.iter().filter(|t| !matches!(t, Token::Whitespace(_))).collect();
    let word = |t: &Token| match t {
        Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
        _ => None,
    };
    let mut start = true;
    for (i, t) in toks.iter().enumerate() {
        if matches!(t, Token::SemiColon) {
            start = true;
            continue;
        }
        if !std::mem::take(&mut start) {
            continue;
        }
        let Some(first) = word(t) else { continue };
        let refused = match first.as_str() {
            "CALL" => Some("CALL".to_string()),
            "DROP" => toks
                .get(i + 1)
                .and_then(|t| word(t))
                .filter(|w| PROGRAMS.contains(&w.as_str()))
                .map(|w| format!("DROP {w}")),
            "CREATE" | "ALTER" => toks
                .iter()
                .skip(i + 1)
                .take(16)
                .take_while(|t| !matches!(t, Token::SemiColon))
                .filter_map(|t| word(t))
                .find(|w| PROGRAMS.contains(&w.as_str()) || OTHERS.contains(&w.as_str()))
                .filter(|w| PROGRAMS.contains(&w.as_str()))
                .map(|w| format!("{first} {w}")),
            _ => None,
        };
        if let Some(what) = refused {
            return Err(BindError::NoStoredPrograms(what));
        }
    }
    Ok(())
}

/// Rewrites each statement `TABLE name [ORDER BY ...] [LIMIT ...] [UNION
/// ...]` to `SELECT * FROM name ...` (invariant 5); `None` when there is
/// none. Anything else after the name is left for the parser to refuse.
fn table_statements(sql: &str) -> Option<String> {
    if !sql.to_ascii_lowercase().contains("table") {
        return None;
    }
    let dialect = MySqlDialect {};
    let tokens = Tokenizer::new(&dialect, sql).tokenize_with_location().ok()?;
    let toks: Vec<_> = tokens.iter().filter(|t| !matches!(t.token, Token::Whitespace(_))).collect();
    let word = |i: usize| match toks.get(i).map(|t| &t.token) {
        Some(Token::Word(w)) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
        _ => None,
    };
    let is_name = |i: usize| matches!(toks.get(i).map(|t| &t.token), Some(Token::Word(_)));
    let mut starts: Vec<Location> = Vec::new();
    let mut blanks: Vec<Location> = Vec::new();
    let qualified = |i: usize| -> Option<usize> {
        if !is_name(i) {
            return None;
        }
        if matches!(toks.get(i + 1).map(|t| &t.token), Some(Token::Period)) && is_name(i + 2) {
            return Some(i + 3);
        }
        Some(i + 1)
    };
    for i in 0..toks.len() {
        let at_start = i == 0 || matches!(toks[i - 1].token, Token::SemiColon);
        if at_start && word(i).as_deref() == Some("CREATE") && word(i + 1).as_deref() == Some("TABLE") {
            let mut j = i + 2;
            if word(j).as_deref() == Some("IF") && word(j + 1).as_deref() == Some("NOT") {
                j += 3;
            }
            if let Some(j) = qualified(j) {
                if matches!(toks.get(j).map(|t| &t.token), Some(Token::LParen))
                    && word(j + 1).as_deref() == Some("LIKE")
                {
                    if let Some(k) = qualified(j + 2) {
                        if matches!(toks.get(k).map(|t| &t.token), Some(Token::RParen)) {
                            blanks.push(toks[j].span.start);
                            blanks.push(toks[k].span.start);
                        }
                    }
                }
            }
        }
        if !at_start || word(i).as_deref() != Some("TABLE") || !is_name(i + 1) {
            continue;
        }
        let mut j = i + 2;
        if matches!(toks.get(j).map(|t| &t.token), Some(Token::Period)) && is_name(j + 1) {
            j += 2;
        }
        let follows = match toks.get(j).map(|t| &t.token) {
            None | Some(Token::SemiColon) | Some(Token::EOF) => true,
            Some(_) => {
                matches!(word(j).as_deref(), Some("ORDER" | "LIMIT" | "UNION" | "EXCEPT" | "INTERSECT" | "INTO"))
            }
        };
        if follows {
            starts.push(toks[i].span.start);
        }
    }
    if starts.is_empty() && blanks.is_empty() {
        return None;
    }
    let mut chars: Vec<char> = sql.chars().collect();
    let line_starts = line_starts(&chars);
    for l in blanks {
        let i = char_index(&line_starts, l)?;
        *chars.get_mut(i)? = ' ';
    }
    for l in starts.into_iter().rev() {
        let i = char_index(&line_starts, l)?;
        if i + 5 > chars.len() {
            return None;
        }
        chars.splice(i..i + 5, "SELECT * FROM".chars());
    }
    Some(chars.into_iter().collect())
}

/// Rewrites the table lists of multi-table UPDATE and DELETE into what
/// sqlparser parses (invariant 6): in `UPDATE t1, t2 JOIN t3 ON ... SET`,
/// each comma between the tables becomes `CROSS JOIN` and each item holding
/// a join is parenthesized (`t1 CROSS JOIN (t2 JOIN t3 ON ...)`: a comma
/// binds more loosely than JOIN, as in MySQL); in `DELETE t1.*, t2.* FROM`
/// and `DELETE FROM t1.*, t2.* USING`, each `.*` is blanked. `None` when
/// there is nothing to change.
fn multi_table_lists(sql: &str) -> Option<String> {
    let lower = sql.to_ascii_lowercase();
    let update_list = lower.contains("update") && lower.contains(',');
    let delete_stars = lower.contains("delete") && lower.contains(".*");
    if !update_list && !delete_stars {
        return None;
    }
    let dialect = MySqlDialect {};
    let tokens = Tokenizer::new(&dialect, sql).tokenize_with_location().ok()?;
    let toks: Vec<_> = tokens.iter().filter(|t| !matches!(t.token, Token::Whitespace(_))).collect();
    let word = |i: usize| match toks.get(i).map(|t| &t.token) {
        Some(Token::Word(w)) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
        _ => None,
    };
    // (where, characters replaced, text put there)
    let mut edits: Vec<(Location, usize, &str)> = Vec::new();
    for i in 0..toks.len() {
        let at_start = i == 0 || matches!(toks[i - 1].token, Token::SemiColon);
        if !at_start {
            continue;
        }
        let verb = word(i);
        if verb.as_deref() != Some("UPDATE") && verb.as_deref() != Some("DELETE") {
            continue;
        }
        let update = verb.as_deref() == Some("UPDATE");
        // UPDATE's table list: (first token, token after, holds a join).
        let mut segments: Vec<(usize, usize, bool)> = Vec::new();
        let mut seg_start = i + 1;
        let mut seg_join = false;
        let mut closed = false;
        let mut depth = 0usize;
        let mut j = i + 1;
        while let Some(t) = toks.get(j) {
            match &t.token {
                Token::LParen => depth += 1,
                Token::RParen => depth = depth.saturating_sub(1),
                Token::SemiColon | Token::EOF => break,
                Token::Comma if depth == 0 && update => {
                    segments.push((seg_start, j, seg_join));
                    seg_start = j + 1;
                    seg_join = false;
                }
                Token::Period if depth == 0 && !update => {
                    if let Some(star) = toks.get(j + 1).filter(|s| matches!(s.token, Token::Mul)) {
                        edits.push((t.span.start, 1, " "));
                        edits.push((star.span.start, 1, " "));
                    }
                }
                _ => {}
            }
            let w = if depth == 0 { word(j) } else { None };
            if matches!(w.as_deref(), Some("JOIN" | "STRAIGHT_JOIN")) {
                seg_join = true;
            }
            if update && w.as_deref() == Some("SET") {
                segments.push((seg_start, j, seg_join));
                closed = true;
                break;
            }
            if w.as_deref() == Some("WHERE") {
                break;
            }
            j += 1;
        }
        if !closed || segments.len() < 2 {
            continue;
        }
        for (k, &(first, after, join)) in segments.iter().enumerate() {
            if k > 0 {
                // The comma before this item.
                edits.push((toks.get(first.checked_sub(1)?)?.span.start, 1, " CROSS JOIN "));
            }
            if join {
                edits.push((toks.get(first)?.span.start, 0, "("));
                edits.push((toks.get(after)?.span.start, 0, ")"));
            }
        }
    }
    if edits.is_empty() {
        return None;
    }
    let mut chars: Vec<char> = sql.chars().collect();
    let line_starts = line_starts(&chars);
    let mut at: Vec<(usize, usize, &str)> = Vec::with_capacity(edits.len());
    for (l, n, text) in edits {
        at.push((char_index(&line_starts, l)?, n, text));
    }
    // From the end, a replacement before an insertion at the same place
    // (so `)` lands before the `CROSS JOIN` that replaced a comma).
    at.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
    for (i, n, text) in at {
        if i + n > chars.len() {
            return None;
        }
        chars.splice(i..i + n, text.chars());
    }
    Some(chars.into_iter().collect())
}

/// Option names of the `ALTER SCHEMA d SET OPTIONS (...)` that MySQL's
/// `ALTER DATABASE` is rewritten to (invariant 7).
pub(crate) const ALTER_DB_CHARSET: &str = "mizzle_charset";
/// See [`ALTER_DB_CHARSET`].
pub(crate) const ALTER_DB_COLLATE: &str = "mizzle_collate";
/// See [`ALTER_DB_CHARSET`]: the statement names no database.
pub(crate) const ALTER_DB_CURRENT: &str = "mizzle_current";
/// `SHOW COUNT(*) WARNINGS` is rewritten to `SHOW <this>` (invariant 7).
pub(crate) const SHOW_COUNT_WARNINGS: &str = "mizzle_count_warnings";
/// `SHOW COUNT(*) ERRORS`, likewise.
pub(crate) const SHOW_COUNT_ERRORS: &str = "mizzle_count_errors";
/// `SHOW WARNINGS LIMIT [o,] n` is rewritten to `SHOW <this>o_n` (the
/// parser keeps only the words after SHOW, so the numbers go into one).
pub(crate) const SHOW_WARNINGS_LIMIT: &str = "mizzle_warnings_limit_";
/// `SHOW ERRORS LIMIT [o,] n`, likewise.
pub(crate) const SHOW_ERRORS_LIMIT: &str = "mizzle_errors_limit_";
/// `SHOW CREATE DATABASE d` is rewritten to `SHOW <this> d` (invariant 7).
pub(crate) const SHOW_CREATE_DB: &str = "mizzle_show_create_database";
/// `SHOW CREATE DATABASE IF NOT EXISTS d`, likewise.
pub(crate) const SHOW_CREATE_DB_IF_NOT_EXISTS: &str = "mizzle_show_create_database_if_not_exists";

/// Rewrites each MySQL `ALTER {DATABASE | SCHEMA} [d] {[DEFAULT]
/// {CHARACTER SET | CHARSET} [=] cs | [DEFAULT] COLLATE [=] c | [DEFAULT]
/// ENCRYPTION [=] 'N' | READ ONLY [=] {DEFAULT | 0 | 1}} ...`, which
/// sqlparser does not parse, to `ALTER SCHEMA d SET OPTIONS (...)`
/// (invariant 7). `None` when there is none; a statement that does not
/// read as that form is left for the parser to refuse.
fn alter_database_statements(sql: &str) -> Option<String> {
    let lower = sql.to_ascii_lowercase();
    // `SHOW COUNT(*) WARNINGS` and `SHOW WARNINGS LIMIT`: only texts that
    // name warnings or errors pay the second tokenization, not every query
    // with COUNT or LIMIT.
    let status = lower.contains("status")
        || (lower.contains("show") && (lower.contains("warnings") || lower.contains("errors")));
    if !status
        && (!(lower.contains("alter") || lower.contains("show"))
            || !(lower.contains("database") || lower.contains("schema")))
    {
        return None;
    }
    let dialect = MySqlDialect {};
    let tokens = Tokenizer::new(&dialect, sql).tokenize_with_location().ok()?;
    let toks: Vec<_> = tokens.iter().filter(|t| !matches!(t.token, Token::Whitespace(_))).collect();
    let word = |i: usize| match toks.get(i).map(|t| &t.token) {
        Some(Token::Word(w)) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
        _ => None,
    };
    let value = |i: usize| -> Option<String> {
        match toks.get(i).map(|t| &t.token) {
            Some(Token::Word(w)) => Some(w.value.clone()),
            Some(Token::SingleQuotedString(s)) | Some(Token::DoubleQuotedString(s)) => Some(s.clone()),
            Some(Token::Number(n, _)) => Some(n.clone()),
            _ => None,
        }
    };
    // (start, end) character ranges and their replacements.
    // (start, end, replacement); `None` is the end of the text.
    let mut edits: Vec<(Option<Location>, Option<Location>, String)> = Vec::new();
    let end_of = |k: usize| toks.get(k).filter(|t| !matches!(t.token, Token::EOF)).map(|t| t.span.start);
    for i in 0..toks.len() {
        let at_start = i == 0 || matches!(toks[i - 1].token, Token::SemiColon);
        if at_start
            && word(i).as_deref() == Some("SHOW")
            && word(i + 1).as_deref() == Some("CREATE")
            && matches!(word(i + 2).as_deref(), Some("DATABASE" | "SCHEMA"))
        {
            let mut j = i + 3;
            let mut marker = SHOW_CREATE_DB;
            if word(j).as_deref() == Some("IF")
                && word(j + 1).as_deref() == Some("NOT")
                && word(j + 2).as_deref() == Some("EXISTS")
            {
                j += 3;
                marker = SHOW_CREATE_DB_IF_NOT_EXISTS;
            }
            if let Some(Token::Word(w)) = toks.get(j).map(|t| &t.token) {
                let name = format!("`{}`", w.value.replace('`', "``"));
                edits.push((Some(toks[i].span.start), end_of(j + 1), format!("SHOW {marker} {name}")));
            }
            continue;
        }
        if at_start
            && word(i).as_deref() == Some("SHOW")
            && word(i + 1).as_deref() == Some("COUNT")
            && matches!(toks.get(i + 2).map(|t| &t.token), Some(Token::LParen))
            && matches!(toks.get(i + 3).map(|t| &t.token), Some(Token::Mul))
            && matches!(toks.get(i + 4).map(|t| &t.token), Some(Token::RParen))
        {
            let marker = match word(i + 5).as_deref() {
                Some("WARNINGS") => SHOW_COUNT_WARNINGS,
                Some("ERRORS") => SHOW_COUNT_ERRORS,
                _ => continue,
            };
            edits.push((Some(toks[i].span.start), end_of(i + 6), format!("SHOW {marker}")));
            continue;
        }
        if at_start
            && word(i).as_deref() == Some("SHOW")
            && matches!(word(i + 1).as_deref(), Some("WARNINGS" | "ERRORS"))
            && word(i + 2).as_deref() == Some("LIMIT")
        {
            let number = |k: usize| match toks.get(k).map(|t| &t.token) {
                Some(Token::Number(n, _)) => n.parse::<u64>().ok(),
                _ => None,
            };
            // `LIMIT n`, `LIMIT o, n` and `LIMIT n OFFSET o`, as SELECT's.
            let (offset, count, last) = match (number(i + 3), toks.get(i + 4).map(|t| &t.token), number(i + 5)) {
                (Some(o), Some(Token::Comma), Some(n)) => (o, n, i + 5),
                (Some(n), _, Some(o)) if word(i + 4).as_deref() == Some("OFFSET") => (o, n, i + 5),
                (Some(n), _, _) => (0, n, i + 3),
                _ => continue,
            };
            let marker =
                if word(i + 1).as_deref() == Some("WARNINGS") { SHOW_WARNINGS_LIMIT } else { SHOW_ERRORS_LIMIT };
            edits.push((Some(toks[i].span.start), end_of(last + 1), format!("SHOW {marker}{offset}_{count}")));
            continue;
        }
        if at_start
            && word(i).as_deref() == Some("SHOW")
            && word(i + 1).as_deref() == Some("TABLE")
            && word(i + 2).as_deref() == Some("STATUS")
        {
            let mut j = i + 3;
            let mut db = "DATABASE()".to_string();
            if matches!(word(j).as_deref(), Some("FROM" | "IN")) {
                let Some(Token::Word(w)) = toks.get(j + 1).map(|t| &t.token) else { continue };
                db = format!("'{}'", w.value.replace('\\', "\\\\").replace('\'', "''"));
                j += 2;
            }
            // LIKE p filters on Name; WHERE e is kept as written.
            let filter = if word(j).as_deref() == Some("LIKE") { "WHERE `Name` " } else { "" };
            // The statement's end.
            let mut k = j;
            while toks.get(k).is_some_and(|t| !matches!(t.token, Token::SemiColon | Token::EOF)) {
                k += 1;
            }
            edits.push((Some(toks[i].span.start), end_of(j), format!("{}{filter}", table_status_select(&db))));
            edits.push((end_of(k), end_of(k), " ORDER BY `Name`".to_string()));
            continue;
        }
        if !at_start
            || word(i).as_deref() != Some("ALTER")
            || !matches!(word(i + 1).as_deref(), Some("DATABASE" | "SCHEMA"))
        {
            continue;
        }
        let mut j = i + 2;
        let first_option = |k: usize| {
            matches!(word(k).as_deref(), Some("DEFAULT" | "CHARACTER" | "CHARSET" | "COLLATE" | "ENCRYPTION" | "READ"))
        };
        let name = match toks.get(j).map(|t| &t.token) {
            Some(Token::Word(w)) if !(w.quote_style.is_none() && first_option(j)) => {
                j += 1;
                Some(w.value.clone())
            }
            _ => None,
        };
        let mut opts: Vec<String> = Vec::new();
        let ok = loop {
            match toks.get(j).map(|t| &t.token) {
                None | Some(Token::SemiColon) | Some(Token::EOF) => break !opts.is_empty(),
                _ => {}
            }
            if word(j).as_deref() == Some("DEFAULT") {
                j += 1;
            }
            let key = match word(j).as_deref() {
                Some("CHARACTER") if word(j + 1).as_deref() == Some("SET") => {
                    j += 2;
                    ALTER_DB_CHARSET
                }
                Some("CHARSET") => {
                    j += 1;
                    ALTER_DB_CHARSET
                }
                Some("COLLATE") => {
                    j += 1;
                    ALTER_DB_COLLATE
                }
                Some("ENCRYPTION") => {
                    j += 1;
                    "mizzle_encryption"
                }
                Some("READ") if word(j + 1).as_deref() == Some("ONLY") => {
                    j += 2;
                    "mizzle_read_only"
                }
                _ => break false,
            };
            if matches!(toks.get(j).map(|t| &t.token), Some(Token::Eq)) {
                j += 1;
            }
            let Some(v) = value(j) else { break false };
            j += 1;
            opts.push(format!("{key} = '{}'", v.replace('\'', "''")));
        };
        if !ok {
            continue;
        }
        let name = match name {
            Some(n) => format!("`{}`", n.replace('`', "``")),
            None => {
                opts.push(format!("{ALTER_DB_CURRENT} = '1'"));
                "`mizzle_current`".to_string()
            }
        };
        edits.push((
            Some(toks[i].span.start),
            end_of(j),
            format!("ALTER SCHEMA {name} SET OPTIONS ({})", opts.join(", ")),
        ));
    }
    if edits.is_empty() {
        return None;
    }
    let mut chars: Vec<char> = sql.chars().collect();
    let line_starts = line_starts(&chars);
    for (a, b, text) in edits.into_iter().rev() {
        let a = match a {
            Some(a) => char_index(&line_starts, a)?,
            None => chars.len(),
        };
        let b = match b {
            Some(b) => char_index(&line_starts, b)?,
            None => chars.len(),
        };
        if a > b || b > chars.len() {
            return None;
        }
        chars.splice(a..b, text.chars());
    }
    Some(chars.into_iter().collect())
}

/// The query `SHOW TABLE STATUS` of database `db` (an SQL expression)
/// becomes: information_schema.TABLES under MySQL's column names
/// (invariant 7), with its LIKE or WHERE applied after it.
fn table_status_select(db: &str) -> String {
    const COLS: [(&str, &str); 18] = [
        ("TABLE_NAME", "Name"),
        ("ENGINE", "Engine"),
        ("VERSION", "Version"),
        ("ROW_FORMAT", "Row_format"),
        ("TABLE_ROWS", "Rows"),
        ("AVG_ROW_LENGTH", "Avg_row_length"),
        ("DATA_LENGTH", "Data_length"),
        ("MAX_DATA_LENGTH", "Max_data_length"),
        ("INDEX_LENGTH", "Index_length"),
        ("DATA_FREE", "Data_free"),
        ("AUTO_INCREMENT", "Auto_increment"),
        ("CREATE_TIME", "Create_time"),
        ("UPDATE_TIME", "Update_time"),
        ("CHECK_TIME", "Check_time"),
        ("TABLE_COLLATION", "Collation"),
        ("CHECKSUM", "Checksum"),
        ("CREATE_OPTIONS", "Create_options"),
        ("TABLE_COMMENT", "Comment"),
    ];
    let list: Vec<String> = COLS.iter().map(|(c, a)| format!("{c} AS `{a}`")).collect();
    format!(
        "SELECT * FROM (SELECT {} FROM information_schema.TABLES WHERE TABLE_SCHEMA = {db}) AS mizzle_table_status ",
        list.join(", ")
    )
}

/// The index of the first character of each line of `chars`.
fn line_starts(chars: &[char]) -> Vec<usize> {
    let mut out = vec![0usize];
    for (i, c) in chars.iter().enumerate() {
        if *c == '\n' {
            out.push(i + 1);
        }
    }
    out
}

/// The character index of a tokenizer location (1-based line and column).
fn char_index(line_starts: &[usize], l: Location) -> Option<usize> {
    let start = line_starts.get(usize::try_from(l.line).ok()?.checked_sub(1)?)?;
    start.checked_add(usize::try_from(l.column).ok()?.checked_sub(1)?)
}

/// Parses one or more `;`-separated statements.
pub fn parse(sql: &str) -> Result<Parsed, BindError> {
    if let Some(p) = parse_with_accounts(sql)? {
        return Ok(p);
    }
    parse_sql(sql)
}

/// [`parse`] for texts holding account statements ([`crate::account`]):
/// those are parsed here and blanked (newlines kept, so positions stay)
/// in the text sqlparser parses; the statements are then put back in
/// text order. `None` when the text holds none.
fn parse_with_accounts(sql: &str) -> Result<Option<Parsed>, BindError> {
    let lower = sql.to_ascii_lowercase();
    if !["user", "grant", "revoke", "password", "load"].iter().any(|w| lower.contains(w)) {
        return Ok(None);
    }
    let pieces = crate::account::split(sql);
    // For each non-empty piece: Some(account or LOAD DATA statement) or
    // None (SQL).
    let mut order: Vec<Option<Item>> = Vec::new();
    let mut blanked: Option<String> = None;
    for (a, b) in pieces {
        let text = sql.get(a..b).unwrap_or("");
        if crate::load::is_load_start(text.trim_start()) {
            order.push(Some(Item::Load(Box::new(crate::load::parse_load(text)?))));
        } else if !crate::account::is_account_start(text) {
            if !text.trim().is_empty() && !crate::account::is_blank(text) {
                order.push(None);
            }
            continue;
        } else {
            order.push(Some(Item::Account(crate::account::parse_account(text)?)));
        }
        let out = blanked.get_or_insert_with(|| sql.to_string());
        let blank: String = text.chars().map(|c| if c == '\n' { c } else { ' ' }).collect();
        out.replace_range(a..b, &blank);
    }
    let Some(rest) = blanked else { return Ok(None) };
    let mut p = if order.iter().any(|o| o.is_none()) {
        parse_sql(&rest)?
    } else {
        Parsed {
            stmts: Vec::new(),
            text_len: sql.len(),
            text: sql.to_string(),
            consistent_snapshot: false,
            txn_scope: None,
        }
    };
    let mut sqls = std::mem::take(&mut p.stmts).into_iter();
    let mut stmts = Vec::with_capacity(order.len());
    for o in order {
        match o {
            Some(a) => stmts.push(a),
            None => match sqls.next() {
                Some(s) => stmts.push(s),
                None => break,
            },
        }
    }
    stmts.extend(sqls);
    p.stmts = stmts;
    Ok(Some(p))
}

fn parse_sql(sql: &str) -> Result<Parsed, BindError> {
    refuse_stored_programs(sql)?;
    let tabled = table_statements(sql);
    let sql = tabled.as_deref().unwrap_or(sql);
    let listed = multi_table_lists(sql);
    let sql = listed.as_deref().unwrap_or(sql);
    let altered = alter_database_statements(sql);
    let sql = altered.as_deref().unwrap_or(sql);
    match strip_from_first(sql)? {
        Some(s) => parse_text(&s),
        None => parse_text(sql),
    }
}

fn parse_text(sql: &str) -> Result<Parsed, BindError> {
    let dialect = crate::dialect::Mizzle::default();
    let parser = Parser::new(&dialect).with_recursion_limit(PARSER_RECURSION_LIMIT);
    let mut parser = parser.try_with_sql(sql).map_err(map_err)?;
    let text_len = sql.len();
    // A failed parse may also hold a deep partial tree: parse on a grown
    // stack as well for long texts (sqlparser grows its own stack while
    // parsing, but not while dropping).
    let r = if text_len < DEEP_TEXT {
        parser.parse_statements()
    } else {
        stacker::grow(text_len.saturating_mul(512).max(8 << 20), move || parser.parse_statements())
    };
    r.map(|stmts| Parsed {
        stmts: stmts.into_iter().map(Item::Sql).collect(),
        text_len,
        text: sql.to_string(),
        consistent_snapshot: false,
        txn_scope: None,
    })
    .map_err(map_err)
}

/// [`parse`] for a client's text: recognises first the MySQL forms
/// sqlparser does not parse or parses without a detail the session needs
/// (`START TRANSACTION WITH CONSISTENT SNAPSHOT`, `SET SESSION|GLOBAL
/// TRANSACTION ...`, `... LOCK IN SHARE MODE`), see [`Parsed::consistent_snapshot`]
/// and [`Parsed::txn_scope`].
pub fn parse_mysql(sql: &str) -> Result<Parsed, BindError> {
    let pre = pre_parse(sql);
    let mut p = parse(&pre.text)?;
    p.consistent_snapshot = pre.consistent_snapshot;
    p.txn_scope = pre.txn_scope;
    Ok(p)
}

/// What [`pre_parse`] learned from the text.
struct PreParsed {
    text: String,
    consistent_snapshot: bool,
    txn_scope: Option<VarScope>,
}

/// Rewrites the MySQL forms of [`parse_mysql`] into what sqlparser parses.
fn pre_parse(sql: &str) -> PreParsed {
    let trimmed = sql.trim().trim_end_matches(';').trim();
    let upper = trimmed.to_ascii_uppercase();
    let words: Vec<&str> = upper.split_whitespace().collect();
    let plain = |text: String| PreParsed { text, consistent_snapshot: false, txn_scope: None };
    if words.len() >= 5
        && words[0] == "START"
        && words[1] == "TRANSACTION"
        && upper.contains("WITH CONSISTENT SNAPSHOT")
    {
        let text =
            upper.replace("WITH CONSISTENT SNAPSHOT", "").replace(", ,", ",").trim().trim_end_matches(',').to_string();
        return PreParsed { text, consistent_snapshot: true, txn_scope: None };
    }
    if words.len() >= 3 && words[0] == "SET" && words[2] == "TRANSACTION" && !trimmed.contains(';') {
        let scope = match words[1] {
            "SESSION" | "LOCAL" => Some(VarScope::Session),
            "GLOBAL" => Some(VarScope::Global),
            _ => None,
        };
        if let Some(scope) = scope {
            // Drop the scope word: sqlparser parses the rest as SET TRANSACTION.
            let rest = trimmed.split_whitespace().skip(2).collect::<Vec<_>>().join(" ");
            return PreParsed { text: format!("SET {rest}"), consistent_snapshot: false, txn_scope: Some(scope) };
        }
    }
    if let Some(text) = alter_check(trimmed, &words) {
        return plain(text);
    }
    if upper.ends_with("LOCK IN SHARE MODE") {
        let cut = trimmed.len() - "LOCK IN SHARE MODE".len();
        return plain(format!("{} FOR SHARE", &trimmed[..cut]));
    }
    plain(sql.to_string())
}

/// The marker of `ALTER TABLE t ALTER CHECK c [NOT] ENFORCED` in the form
/// sqlparser parses (`ALTER COLUMN c SET DEFAULT '<marker> [NOT] ENFORCED'`);
/// the binder turns it into `AlterOp::AlterCheck`.
pub(crate) const ALTER_CHECK_MARKER: &str = "\u{1}mizzle:ALTER CHECK";

/// Rewrites a lone `ALTER TABLE t ALTER {CHECK | CONSTRAINT} c [NOT]
/// ENFORCED` (which sqlparser lacks); `None` for anything else.
fn alter_check(trimmed: &str, upper_words: &[&str]) -> Option<String> {
    let n = upper_words.len();
    if !(7..=8).contains(&n)
        || upper_words[0] != "ALTER"
        || upper_words[1] != "TABLE"
        || upper_words[3] != "ALTER"
        || !matches!(upper_words[4], "CHECK" | "CONSTRAINT")
        || upper_words[n - 1] != "ENFORCED"
        || (n == 8 && upper_words[6] != "NOT")
        || trimmed.contains([';', '\'', '"'])
    {
        return None;
    }
    let words: Vec<&str> = trimmed.split_whitespace().collect();
    let not = if n == 8 { "NOT " } else { "" };
    Some(format!(
        "ALTER TABLE {} ALTER COLUMN {} SET DEFAULT '{ALTER_CHECK_MARKER} {not}ENFORCED'",
        words.get(2)?,
        words.get(5)?
    ))
}

fn map_err(e: ParserError) -> BindError {
    match e {
        ParserError::RecursionLimitExceeded => BindError::NestedTooDeeply(MAX_DEPTH),
        ParserError::TokenizerError(m) | ParserError::ParserError(m) => BindError::Syntax(m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("SELECT {}1{}", "(".repeat(200_000), ")".repeat(200_000));
        let r = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || parse(&deep).map(|_| ()))
            .expect("spawn")
            .join()
            .expect("no panic");
        assert!(matches!(r, Err(BindError::NestedTooDeeply(_))));
    }

    #[test]
    fn show_count_warnings_and_errors_are_diagnostic_statements() {
        for (sql, diagnostic) in [
            ("SHOW COUNT(*) WARNINGS", true),
            ("show count( * ) errors", true),
            ("SHOW WARNINGS", true),
            ("SHOW ERRORS", true),
            ("SHOW VARIABLES", false),
            ("SELECT COUNT(*) FROM warnings", false),
            ("SHOW COUNT(*) TABLES", false),
            ("SHOW WARNINGS LIMIT 1", true),
            ("show errors limit 2, 3", true),
            ("SHOW WARNINGS LIMIT 1 OFFSET 1", true),
        ] {
            let parsed = parse(sql).unwrap_or_else(|e| panic!("{sql}: {e:?}"));
            assert_eq!(parsed.iter().next().map(|s| s.is_diagnostic()), Some(diagnostic), "{sql}");
        }
    }

    #[test]
    fn nth_value_from_first_is_accepted_and_from_last_refused() {
        assert!(parse("SELECT NTH_VALUE(x, 2) FROM FIRST OVER w FROM t WINDOW w AS ()").is_ok());
        assert!(parse("SELECT NTH_VALUE(x, 2)\n  from  first RESPECT NULLS OVER () FROM t").is_ok());
        assert!(matches!(parse("SELECT NTH_VALUE(x, 2) FROM LAST OVER () FROM t"), Err(BindError::NotSupported(_))));
        // Nothing else changes: a table called first.
        assert!(parse("SELECT nth_value FROM first").is_ok());
    }

    #[test]
    fn stored_programs_are_refused() {
        for sql in [
            "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1",
            "create definer = 'root'@'localhost' trigger tr after delete on t for each row begin delete from u; end",
            "CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END",
            "CREATE OR REPLACE FUNCTION f(x INT) RETURNS INT DETERMINISTIC RETURN x + 1",
            "CREATE AGGREGATE FUNCTION f RETURNS STRING SONAME 'udf.so'",
            "CREATE EVENT e ON SCHEDULE EVERY 1 HOUR DO DELETE FROM t",
            "ALTER EVENT e DISABLE",
            "ALTER PROCEDURE p COMMENT 'x'",
            "DROP TRIGGER IF EXISTS tr",
            "drop function f",
            "SELECT 1; CALL p(1, @x)",
        ] {
            assert!(matches!(parse(sql), Err(BindError::NoStoredPrograms(_))), "{sql}");
        }
        for sql in [
            "CREATE TABLE event (procedure INT, `trigger` INT)",
            "CREATE VIEW v AS SELECT function FROM t",
            "SELECT call FROM event",
            "CREATE DEFINER = CURRENT_USER VIEW vv AS SELECT 1",
        ] {
            assert!(!matches!(parse(sql), Err(BindError::NoStoredPrograms(_))), "{sql}");
        }
    }

    #[test]
    fn table_statements_become_selects() {
        assert_eq!(table_statements("TABLE t").as_deref(), Some("SELECT * FROM t"));
        assert_eq!(
            table_statements("/* c */ table s.t ORDER BY a LIMIT 2; SELECT 1;\nTABLE `u` UNION TABLE v").as_deref(),
            Some("/* c */ SELECT * FROM s.t ORDER BY a LIMIT 2; SELECT 1;\nSELECT * FROM `u` UNION TABLE v")
        );
        assert_eq!(table_statements("TABLE t WHERE a = 1"), None);
        assert_eq!(table_statements("CREATE TABLE t (a INT)"), None);
        assert_eq!(table_statements("CREATE TABLE s.t (LIKE s.u)").as_deref(), Some("CREATE TABLE s.t  LIKE s.u "));
        assert!(parse("TABLE t ORDER BY a").is_ok());
        assert!(matches!(parse("TABLE t WHERE a = 1"), Err(BindError::Syntax(_))));
    }

    #[test]
    fn multi_table_lists_become_joins() {
        assert_eq!(
            multi_table_lists("UPDATE t1, t2 AS b SET t1.a = f(1, 2), b.c = 3").as_deref(),
            Some("UPDATE t1 CROSS JOIN  t2 AS b SET t1.a = f(1, 2), b.c = 3")
        );
        assert_eq!(multi_table_lists("UPDATE t SET a = 1, b = 2"), None);
        assert_eq!(
            multi_table_lists("UPDATE t1, t2 JOIN t3 ON t2.a = t3.a, t4 SET a = 1").as_deref(),
            Some("UPDATE t1 CROSS JOIN  (t2 JOIN t3 ON t2.a = t3.a) CROSS JOIN  t4 SET a = 1")
        );
        assert!(parse("UPDATE t1, t2 JOIN t3 ON t2.a = t3.a SET t1.a = 1").is_ok());
        assert_eq!(
            multi_table_lists("DELETE t1.*, s.t2.* FROM t1, s.t2 WHERE x IN (SELECT u.* FROM u)").as_deref(),
            Some("DELETE t1  , s.t2   FROM t1, s.t2 WHERE x IN (SELECT u.* FROM u)")
        );
        assert!(parse("UPDATE t1, t2 SET t1.a = 1; DELETE FROM t1.*, t2 USING t1, t2").is_ok());
    }

    #[test]
    fn syntax_errors_are_reported() {
        assert!(matches!(parse("SELEC 1"), Err(BindError::Syntax(_))));
    }
}
