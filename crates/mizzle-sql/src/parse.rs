//! Parsing SQL text with `sqlparser`'s MySQL dialect.
//!
//! Invariants:
//! 1. Nesting is bounded by [`MAX_DEPTH`] everywhere (parser, binder,
//!    evaluator), so no input can overflow the stack; deeper input is a
//!    `NestedTooDeeply` error.
//! 2. Text handed in is UTF-8 (the edge validated it).

use sqlparser::ast::Statement;
use sqlparser::dialect::MySqlDialect;
use sqlparser::parser::{Parser, ParserError};

use crate::error::BindError;

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
    stmts: Vec<Statement>,
    text_len: usize,
}

impl Parsed {
    /// The statements, in order.
    pub fn statements(&self) -> &[Statement] {
        &self.stmts
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

/// Parses one or more `;`-separated statements.
pub fn parse(sql: &str) -> Result<Parsed, BindError> {
    let dialect = MySqlDialect {};
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
    r.map(|stmts| Parsed { stmts, text_len }).map_err(map_err)
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
    fn syntax_errors_are_reported() {
        assert!(matches!(parse("SELEC 1"), Err(BindError::Syntax(_))));
    }
}
