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

/// The deepest nesting of expressions and subqueries accepted.
pub const MAX_DEPTH: usize = 1000;

/// Parses one or more `;`-separated statements.
pub fn parse(sql: &str) -> Result<Vec<Statement>, BindError> {
    let dialect = MySqlDialect {};
    let parser = Parser::new(&dialect).with_recursion_limit(MAX_DEPTH);
    let mut parser = parser.try_with_sql(sql).map_err(map_err)?;
    parser.parse_statements().map_err(map_err)
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
