//! `LOAD DATA [LOCAL] INFILE`, which sqlparser does not parse in MySQL's
//! form: the statement is read here ([`parse_load`]) with sqlparser's
//! tokenizer and token-level parser, and bound by [`crate::bind`] into a
//! [`crate::plan::LoadPlan`].
//!
//! Syntax (MySQL 8; `LOW_PRIORITY`, `CONCURRENT` and `PARTITION (...)` are
//! accepted and ignored, as they change nothing here):
//!
//! ```text
//! LOAD DATA [LOW_PRIORITY | CONCURRENT] [LOCAL] INFILE 'file'
//!     [REPLACE | IGNORE] INTO TABLE t [PARTITION (p, ...)]
//!     [CHARACTER SET cs]
//!     [{FIELDS | COLUMNS} [TERMINATED BY 's'] [[OPTIONALLY] ENCLOSED BY 'c'] [ESCAPED BY 'c']]
//!     [LINES [STARTING BY 's'] [TERMINATED BY 's']]
//!     [IGNORE n {LINES | ROWS}]
//!     [(col_or_@var, ...)]
//!     [SET col = expr, ...]
//! ```
//!
//! Invariants:
//! 1. A statement is LOAD DATA iff its first words are `LOAD DATA` or
//!    `LOAD XML` ([`is_load_start`]); `LOAD XML` is refused with 1235.
//! 2. `ENCLOSED BY` and `ESCAPED BY` are one character or empty, else
//!    error 1083, as in MySQL; terminators may be longer.

use sqlparser::ast::{Assignment, ObjectName};
use sqlparser::dialect::MySqlDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Token;

use crate::error::BindError;

/// How the file's bytes are cut into lines and fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadFormat {
    /// `FIELDS TERMINATED BY` (default tab).
    pub field_term: Vec<u8>,
    /// `FIELDS [OPTIONALLY] ENCLOSED BY` (default none).
    pub enclosed: Option<u8>,
    /// `ESCAPED BY` (default backslash; `''` turns escapes off).
    pub escaped: Option<u8>,
    /// `LINES STARTING BY` (default empty).
    pub line_start: Vec<u8>,
    /// `LINES TERMINATED BY` (default newline).
    pub line_term: Vec<u8>,
}

impl Default for LoadFormat {
    fn default() -> Self {
        LoadFormat {
            field_term: b"\t".to_vec(),
            enclosed: None,
            escaped: Some(b'\\'),
            line_start: Vec::new(),
            line_term: b"\n".to_vec(),
        }
    }
}

/// What to do with a row whose key is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadDuplicates {
    /// Neither REPLACE nor IGNORE: an error (for LOCAL: skip, as MySQL).
    Error,
    /// REPLACE: the new row replaces the old.
    Replace,
    /// IGNORE: the new row is skipped with a warning.
    Ignore,
}

/// One entry of the field list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadTarget {
    /// A column, by name.
    Column(String),
    /// A user variable (`@v`), by name without the `@`.
    Var(String),
}

/// A parsed LOAD DATA statement.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadStmt {
    /// `LOCAL`: the file is read where the client runs.
    pub local: bool,
    /// The file name as written.
    pub file: String,
    /// REPLACE / IGNORE.
    pub duplicates: LoadDuplicates,
    /// The table.
    pub table: ObjectName,
    /// The format options.
    pub format: LoadFormat,
    /// `IGNORE n LINES`.
    pub ignore_lines: u64,
    /// The field list (empty: every column in table order).
    pub targets: Vec<LoadTarget>,
    /// `SET col = expr, ...`.
    pub sets: Vec<Assignment>,
}

/// True if `stmt` begins with `LOAD DATA` or `LOAD XML` (invariant 1).
pub(crate) fn is_load_start(stmt: &str) -> bool {
    let mut words = stmt.split(|c: char| c.is_whitespace() || c == '(').filter(|w| !w.is_empty());
    let first = words.next().unwrap_or("");
    let second = words.next().unwrap_or("");
    first.eq_ignore_ascii_case("load") && (second.eq_ignore_ascii_case("data") || second.eq_ignore_ascii_case("xml"))
}

/// The file a `LOAD DATA LOCAL` text asks the client for, if the text is
/// one such statement (the server asks for it before running the text).
pub fn local_infile_name(sql: &str) -> Option<String> {
    let text = sql.trim().trim_end_matches(';');
    if !is_load_start(text) {
        return None;
    }
    match parse_load(text) {
        Ok(s) if s.local => Some(s.file),
        _ => None,
    }
}

fn syntax(near: &str) -> BindError {
    BindError::Syntax(format!(
        "You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near '{near}'"
    ))
}

struct P<'a> {
    p: Parser<'a>,
}

impl P<'_> {
    /// The next token is the word `w` (any case, unquoted): consume it.
    fn word(&mut self, w: &str) -> bool {
        match self.p.peek_token().token {
            Token::Word(x) if x.quote_style.is_none() && x.value.eq_ignore_ascii_case(w) => {
                self.p.next_token();
                true
            }
            _ => false,
        }
    }

    fn peek_word(&self, w: &str) -> bool {
        matches!(self.p.peek_token().token, Token::Word(x) if x.quote_style.is_none() && x.value.eq_ignore_ascii_case(w))
    }

    fn expect(&mut self, w: &str) -> Result<(), BindError> {
        if self.word(w) {
            Ok(())
        } else {
            Err(self.error())
        }
    }

    fn error(&self) -> BindError {
        let t = self.p.peek_token().token;
        if t == Token::EOF {
            syntax("")
        } else {
            syntax(&t.to_string())
        }
    }

    fn string(&mut self) -> Result<String, BindError> {
        match self.p.next_token().token {
            Token::SingleQuotedString(s) | Token::DoubleQuotedString(s) => Ok(s),
            _ => {
                self.p.prev_token();
                Err(self.error())
            }
        }
    }

    /// A one-character (or empty) option (invariant 2).
    fn one_char(&mut self) -> Result<Option<u8>, BindError> {
        let s = self.string()?;
        match s.as_bytes() {
            [] => Ok(None),
            [c] => Ok(Some(*c)),
            _ => Err(BindError::WrongFieldTerminators),
        }
    }
}

/// Parses one LOAD DATA statement (the text of that statement only).
pub(crate) fn parse_load(text: &str) -> Result<LoadStmt, BindError> {
    let dialect = MySqlDialect {};
    let parser = Parser::new(&dialect)
        .try_with_sql(text)
        .map_err(|e| BindError::Syntax(e.to_string().replace("sql parser error: ", "")))?;
    let mut p = P { p: parser };
    p.expect("LOAD")?;
    if p.word("XML") {
        return Err(BindError::NotSupported("LOAD XML".into()));
    }
    p.expect("DATA")?;
    let _ = p.word("LOW_PRIORITY") || p.word("CONCURRENT");
    let local = p.word("LOCAL");
    p.expect("INFILE")?;
    let file = p.string()?;
    let duplicates = if p.word("REPLACE") {
        LoadDuplicates::Replace
    } else if p.word("IGNORE") {
        LoadDuplicates::Ignore
    } else {
        LoadDuplicates::Error
    };
    p.expect("INTO")?;
    p.expect("TABLE")?;
    let table = p.p.parse_object_name(false).map_err(|_| p.error())?;
    if p.word("PARTITION") {
        p.p.expect_token(&Token::LParen).map_err(|_| p.error())?;
        while !p.p.consume_token(&Token::RParen) {
            if p.p.next_token().token == Token::EOF {
                return Err(syntax(""));
            }
        }
    }
    if p.peek_word("CHARACTER") || p.peek_word("CHARSET") {
        if p.word("CHARACTER") {
            p.expect("SET")?;
        } else {
            p.word("CHARSET");
        }
        let cs = match p.p.next_token().token {
            Token::Word(w) => w.value,
            Token::SingleQuotedString(s) | Token::DoubleQuotedString(s) => s,
            _ => return Err(p.error()),
        };
        let cs = cs.to_ascii_lowercase();
        if !matches!(cs.as_str(), "utf8mb4" | "utf8" | "utf8mb3" | "binary" | "ascii" | "default") {
            return Err(BindError::UnknownCharset(cs));
        }
    }
    let mut format = LoadFormat::default();
    if p.word("FIELDS") || p.word("COLUMNS") {
        let mut any = false;
        loop {
            if p.word("TERMINATED") {
                p.expect("BY")?;
                format.field_term = p.string()?.into_bytes();
            } else if p.peek_word("OPTIONALLY") || p.peek_word("ENCLOSED") {
                p.word("OPTIONALLY");
                p.expect("ENCLOSED")?;
                p.expect("BY")?;
                format.enclosed = p.one_char()?;
            } else if p.word("ESCAPED") {
                p.expect("BY")?;
                format.escaped = p.one_char()?;
            } else {
                break;
            }
            any = true;
        }
        if !any {
            return Err(p.error());
        }
    }
    if p.word("LINES") {
        let mut any = false;
        loop {
            if p.word("STARTING") {
                p.expect("BY")?;
                format.line_start = p.string()?.into_bytes();
            } else if p.word("TERMINATED") {
                p.expect("BY")?;
                format.line_term = p.string()?.into_bytes();
            } else {
                break;
            }
            any = true;
        }
        if !any {
            return Err(p.error());
        }
    }
    let mut ignore_lines = 0;
    if p.word("IGNORE") {
        ignore_lines = p.p.parse_literal_uint().map_err(|_| p.error())?;
        if !(p.word("LINES") || p.word("ROWS")) {
            return Err(p.error());
        }
    }
    let mut targets = Vec::new();
    if p.p.consume_token(&Token::LParen) && !p.p.consume_token(&Token::RParen) {
        loop {
            match p.p.next_token().token {
                Token::Word(w) if w.quote_style.is_none() && w.value.starts_with('@') => {
                    let name = w.value.trim_start_matches('@');
                    if name.is_empty() || w.value.starts_with("@@") {
                        return Err(syntax(&w.value));
                    }
                    targets.push(LoadTarget::Var(name.to_string()));
                }
                Token::Word(w) => {
                    // `t.c` or `c`: the column's name is the last part.
                    let mut name = w.value;
                    while p.p.consume_token(&Token::Period) {
                        match p.p.next_token().token {
                            Token::Word(x) => name = x.value,
                            _ => return Err(p.error()),
                        }
                    }
                    targets.push(LoadTarget::Column(name));
                }
                _ => {
                    p.p.prev_token();
                    return Err(p.error());
                }
            }
            if p.p.consume_token(&Token::Comma) {
                continue;
            }
            p.p.expect_token(&Token::RParen).map_err(|_| p.error())?;
            break;
        }
    }
    let mut sets = Vec::new();
    if p.word("SET") {
        sets = p.p.parse_comma_separated(Parser::parse_assignment).map_err(|_| p.error())?;
    }
    let _ = p.p.consume_token(&Token::SemiColon);
    if p.p.peek_token().token != Token::EOF {
        return Err(p.error());
    }
    if format.field_term.is_empty() && format.enclosed.is_none() {
        return Err(BindError::NotSupported(
            "LOAD DATA with fixed-width rows (FIELDS TERMINATED BY '' and ENCLOSED BY '')".into(),
        ));
    }
    if format.line_term.is_empty() {
        return Err(BindError::NotSupported("LOAD DATA with LINES TERMINATED BY ''".into()));
    }
    Ok(LoadStmt { local, file, duplicates, table, format, ignore_lines, targets, sets })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_syntax_parses() {
        let s = parse_load(
            "LOAD DATA LOCAL INFILE '/tmp/x.csv' REPLACE INTO TABLE db.t CHARACTER SET utf8mb4 \
             FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' ESCAPED BY '\\\\' \
             LINES STARTING BY 'xx' TERMINATED BY '\\r\\n' IGNORE 1 LINES (a, @v, t.c) SET b = @v * 2",
        )
        .unwrap();
        assert!(s.local);
        assert_eq!(s.file, "/tmp/x.csv");
        assert_eq!(s.duplicates, LoadDuplicates::Replace);
        assert_eq!(s.table.to_string(), "db.t");
        assert_eq!(s.format.field_term, b",");
        assert_eq!(s.format.enclosed, Some(b'"'));
        assert_eq!(s.format.escaped, Some(b'\\'));
        assert_eq!(s.format.line_start, b"xx");
        assert_eq!(s.format.line_term, b"\r\n");
        assert_eq!(s.ignore_lines, 1);
        assert_eq!(
            s.targets,
            vec![LoadTarget::Column("a".into()), LoadTarget::Var("v".into()), LoadTarget::Column("c".into())]
        );
        assert_eq!(s.sets.len(), 1);
    }

    #[test]
    fn defaults_and_errors() {
        let s = parse_load("load data infile 'f' into table t").unwrap();
        assert!(!s.local);
        assert_eq!(s.format, LoadFormat::default());
        assert_eq!(s.duplicates, LoadDuplicates::Error);
        assert!(parse_load("LOAD DATA INFILE 'f' INTO TABLE t FIELDS ENCLOSED BY 'ab'").is_err());
        assert!(parse_load("LOAD DATA INFILE 'f' INTO TABLE t garbage").is_err());
        assert!(parse_load("LOAD DATA INFILE INTO TABLE t").is_err());
        assert!(parse_load("LOAD XML INFILE 'f' INTO TABLE t").is_err());
        assert!(is_load_start("  load   DATA local infile 'x' into table t"));
        assert!(!is_load_start("loader data"));
        assert_eq!(local_infile_name("LOAD DATA LOCAL INFILE 'a b.txt' INTO TABLE t;"), Some("a b.txt".into()));
        assert_eq!(local_infile_name("LOAD DATA INFILE 'a' INTO TABLE t"), None);
    }
}
