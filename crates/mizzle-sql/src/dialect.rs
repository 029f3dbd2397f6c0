//! The dialect mizzle parses with: sqlparser's `MySqlDialect`, with one
//! shortcut for literals.
//!
//! sqlparser reads every expression's first token as a possible data type
//! first (for typed strings such as `DATE '2020-01-01'`), and a literal
//! fails that attempt with an error message formatted and thrown away:
//! about a tenth of the parse of a text INSERT. A number or a
//! single-quoted string can never start a data type, so [`Mizzle`] parses
//! those as the value directly, as sqlparser does after the failed
//! attempt.
//!
//! Invariants:
//! 1. [`Mizzle`] parses every text exactly as `MySqlDialect` does: it
//!    reports `MySqlDialect`'s type (so sqlparser's `dialect_of!` checks
//!    see MySQL) and forwards every method `MySqlDialect` overrides (all of
//!    them, as of sqlparser 0.64; the test `parses_like_mysql_dialect`
//!    compares the two on every statement of our test files).
//! 2. Only `parse_prefix` differs, and only for a leading number or
//!    single-quoted string token, where it returns what sqlparser's own
//!    prefix parse returns for them.
//!
//! This module does not bind anything; see `bind`.

use sqlparser::ast::{Expr, Statement};
use sqlparser::dialect::{BindPlaceholderStyle, Dialect, MySqlDialect};
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::Token;

/// `MySqlDialect` with literals parsed without the typed-string attempt.
#[derive(Debug, Default, Clone, Copy)]
pub struct Mizzle {
    mysql: MySqlDialect,
}

impl Dialect for Mizzle {
    fn dialect(&self) -> std::any::TypeId {
        self.mysql.dialect()
    }

    fn parse_prefix(&self, parser: &mut Parser) -> Option<Result<Expr, ParserError>> {
        match parser.peek_token_ref().token {
            Token::Number(..) | Token::SingleQuotedString(_) => Some(parser.parse_value().map(Expr::Value)),
            _ => None,
        }
    }

    fn supports_string_literal_table_alias(&self, explicit: bool) -> bool {
        self.mysql.supports_string_literal_table_alias(explicit)
    }
    fn is_identifier_start(&self, ch: char) -> bool {
        self.mysql.is_identifier_start(ch)
    }
    fn is_identifier_part(&self, ch: char) -> bool {
        self.mysql.is_identifier_part(ch)
    }
    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        self.mysql.is_delimited_identifier_start(ch)
    }
    fn identifier_quote_style(&self, identifier: &str) -> Option<char> {
        self.mysql.identifier_quote_style(identifier)
    }
    fn ordered_bind_placeholder_style(&self) -> Option<BindPlaceholderStyle> {
        self.mysql.ordered_bind_placeholder_style()
    }
    fn supports_string_literal_backslash_escape(&self) -> bool {
        self.mysql.supports_string_literal_backslash_escape()
    }
    fn supports_string_literal_concatenation(&self) -> bool {
        self.mysql.supports_string_literal_concatenation()
    }
    fn ignores_wildcard_escapes(&self) -> bool {
        self.mysql.ignores_wildcard_escapes()
    }
    fn supports_numeric_prefix(&self) -> bool {
        self.mysql.supports_numeric_prefix()
    }
    fn supports_literal_prefix_in_qualified_name(&self) -> bool {
        self.mysql.supports_literal_prefix_in_qualified_name()
    }
    fn supports_bitwise_shift_operators(&self) -> bool {
        self.mysql.supports_bitwise_shift_operators()
    }
    fn supports_singular_value_keyword(&self) -> bool {
        self.mysql.supports_singular_value_keyword()
    }
    fn supports_multiline_comment_hints(&self) -> bool {
        self.mysql.supports_multiline_comment_hints()
    }
    fn parse_infix(&self, parser: &mut Parser, expr: &Expr, precedence: u8) -> Option<Result<Expr, ParserError>> {
        self.mysql.parse_infix(parser, expr, precedence)
    }
    fn parse_statement(&self, parser: &mut Parser) -> Option<Result<Statement, ParserError>> {
        self.mysql.parse_statement(parser)
    }
    fn require_interval_qualifier(&self) -> bool {
        self.mysql.require_interval_qualifier()
    }
    fn supports_limit_comma(&self) -> bool {
        self.mysql.supports_limit_comma()
    }
    fn supports_create_table_select(&self) -> bool {
        self.mysql.supports_create_table_select()
    }
    fn supports_insert_set(&self) -> bool {
        self.mysql.supports_insert_set()
    }
    fn supports_user_host_grantee(&self) -> bool {
        self.mysql.supports_user_host_grantee()
    }
    fn is_table_factor_alias(&self, explicit: bool, kw: &Keyword, parser: &mut Parser) -> bool {
        self.mysql.is_table_factor_alias(explicit, kw, parser)
    }
    fn supports_table_hints(&self) -> bool {
        self.mysql.supports_table_hints()
    }
    fn requires_single_line_comment_whitespace(&self) -> bool {
        self.mysql.requires_single_line_comment_whitespace()
    }
    fn supports_hash_comment(&self) -> bool {
        self.mysql.supports_hash_comment()
    }
    fn supports_match_against(&self) -> bool {
        self.mysql.supports_match_against()
    }
    fn supports_select_modifiers(&self) -> bool {
        self.mysql.supports_select_modifiers()
    }
    fn supports_set_names(&self) -> bool {
        self.mysql.supports_set_names()
    }
    fn supports_comma_separated_set_assignments(&self) -> bool {
        self.mysql.supports_comma_separated_set_assignments()
    }
    fn supports_alter_column_position(&self) -> bool {
        self.mysql.supports_alter_column_position()
    }
    fn supports_update_order_by(&self) -> bool {
        self.mysql.supports_update_order_by()
    }
    fn supports_data_type_signed_suffix(&self) -> bool {
        self.mysql.supports_data_type_signed_suffix()
    }
    fn supports_data_type_zerofill_suffix(&self) -> bool {
        self.mysql.supports_data_type_zerofill_suffix()
    }
    fn supports_cross_join_constraint(&self) -> bool {
        self.mysql.supports_cross_join_constraint()
    }
    fn supports_double_ampersand_operator(&self) -> bool {
        self.mysql.supports_double_ampersand_operator()
    }
    fn get_next_precedence(&self, parser: &Parser) -> Option<Result<u8, ParserError>> {
        self.mysql.get_next_precedence(parser)
    }
    fn supports_binary_kw_as_cast(&self) -> bool {
        self.mysql.supports_binary_kw_as_cast()
    }
    fn supports_table_partitions(&self) -> bool {
        self.mysql.supports_table_partitions()
    }
    fn supports_comment_optimizer_hint(&self) -> bool {
        self.mysql.supports_comment_optimizer_hint()
    }
    fn supports_constraint_keyword_without_name(&self) -> bool {
        self.mysql.supports_constraint_keyword_without_name()
    }
    fn supports_key_column_option(&self) -> bool {
        self.mysql.supports_key_column_option()
    }
    fn supports_group_by_with_modifier(&self) -> bool {
        self.mysql.supports_group_by_with_modifier()
    }
    fn supports_left_associative_joins_without_parens(&self) -> bool {
        self.mysql.supports_left_associative_joins_without_parens()
    }
}

#[cfg(test)]
mod tests {
    use sqlparser::dialect::{Dialect, MySqlDialect};
    use sqlparser::parser::Parser;

    use super::Mizzle;

    /// The SQL of every record of the `.slt` files under `dir`.
    fn statements(dir: &std::path::Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                statements(&p, out);
            } else if p.extension().is_some_and(|x| x == "slt" || x == "test") {
                let text = std::fs::read_to_string(&p).unwrap_or_default();
                let mut lines = text.lines();
                while let Some(line) = lines.next() {
                    if !(line.starts_with("statement ") || line.starts_with("query ")) {
                        continue;
                    }
                    let sql: Vec<&str> = lines.by_ref().take_while(|l| !l.is_empty() && *l != "----").collect();
                    out.push(sql.join("\n"));
                }
            }
        }
    }

    fn parse(d: &dyn Dialect, sql: &str) -> String {
        match Parser::parse_sql(d, sql) {
            Ok(stmts) => format!("{stmts:?}"),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn parses_like_mysql_dialect() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sql-tests");
        let mut sqls = Vec::new();
        statements(&root, &mut sqls);
        assert!(sqls.len() > 3000, "found the suites' statements ({})", sqls.len());
        // `MIZZLE_DIALECT_CORPUS=DIR`: the statements of a sqllogictest
        // corpus too (the SQLite corpus part: ../shared/sqllogictest).
        if let Some(dir) = std::env::var_os("MIZZLE_DIALECT_CORPUS") {
            statements(std::path::Path::new(&dir), &mut sqls);
        }
        sqls.extend(
            [
                "SELECT 1, -2, 3.5e3, 'a' 'b', _utf8mb4'x', X'41', DATE '2020-01-01', TIMESTAMP '2020-01-01 00:00:00'",
                "INSERT INTO t (a, b) VALUES (0, 'x'), (1, \"y\")",
                "SELECT 'a' COLLATE utf8mb4_bin = 'A', 1 + '2', '3' LIKE '3%'",
                "SELECT INTERVAL '1' DAY + '2020-01-01'",
                "SELECT 'abc",
            ]
            .map(String::from),
        );
        let (mine, mysql) = (Mizzle::default(), MySqlDialect {});
        let mut differ = 0;
        for sql in &sqls {
            let (a, b) = (parse(&mine, sql), parse(&mysql, sql));
            if a != b {
                differ += 1;
                eprintln!("differs: {sql}\n  mizzle: {a}\n  mysql:  {b}");
            }
        }
        assert_eq!(differ, 0, "{differ} of {} statements parse differently", sqls.len());
    }
}
