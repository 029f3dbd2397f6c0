//! MySQL 8's rules for the expressions of generated columns and CHECK
//! constraints, checked when a table is defined or altered.
//!
//! Invariants:
//! 1. An accepted expression is deterministic and reads only its row: no
//!    non-deterministic or session function, no subquery, no variable
//!    (generated columns: 3763 / 3102 / 3765; CHECK: 3814 / 3815 / 3816).
//! 2. A generated column refers to no AUTO_INCREMENT column (3109; CHECK:
//!    3818) and to generated columns defined before it only (3107).
//!
//! This module does not evaluate anything: the executor computes generated
//! columns (`mizzle_exec::dml`) and checks constraints on each written row.

use mizzle_types::ErrorCode;

use super::dml::parse_expr;
use super::expr::ExprCtx;
use super::Binder;
use crate::error::BindError;
use crate::expr::Expr;
use crate::plan::OutCol;

/// What an expression defines, for MySQL's error numbers and messages.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExprOwner<'a> {
    /// The generated column of that name.
    Generated(&'a str),
    /// The CHECK constraint of that name.
    Check(&'a str),
}

fn rule(code: ErrorCode, message: String) -> BindError {
    BindError::Definition { code, message }
}

impl ExprOwner<'_> {
    fn named_function(self, f: &str) -> BindError {
        match self {
            ExprOwner::Generated(c) => rule(
                ErrorCode::GeneratedColumnNamedFunctionNotAllowed,
                format!("Expression of generated column '{c}' contains a disallowed function: {f}."),
            ),
            ExprOwner::Check(c) => rule(
                ErrorCode::CheckConstraintNamedFunctionNotAllowed,
                format!("An expression of a check constraint '{c}' contains disallowed function: {f}."),
            ),
        }
    }

    fn function(self) -> BindError {
        match self {
            ExprOwner::Generated(c) => rule(
                ErrorCode::GeneratedColumnFunctionNotAllowed,
                format!("Expression of generated column '{c}' contains a disallowed function."),
            ),
            ExprOwner::Check(c) => rule(
                ErrorCode::CheckConstraintFunctionNotAllowed,
                format!("An expression of a check constraint '{c}' contains disallowed function."),
            ),
        }
    }

    fn variables(self) -> BindError {
        match self {
            ExprOwner::Generated(c) => rule(
                ErrorCode::GeneratedColumnVariables,
                format!("An expression of generated column '{c}' cannot refer to a user or system variable."),
            ),
            ExprOwner::Check(c) => rule(
                ErrorCode::CheckConstraintVariables,
                format!("An expression of a check constraint '{c}' cannot refer to a user or system variable."),
            ),
        }
    }

    fn auto_increment(self) -> BindError {
        match self {
            ExprOwner::Generated(c) => rule(
                ErrorCode::GeneratedColumnRefAutoInc,
                format!("Generated column '{c}' cannot refer to auto-increment column."),
            ),
            ExprOwner::Check(c) => rule(
                ErrorCode::CheckConstraintRefersAutoIncrementColumn,
                format!("Check constraint '{c}' cannot refer to an auto-increment column."),
            ),
        }
    }
}

/// True if the SQL text names a variable (`@x`, `@@x`) outside quotes:
/// variables are replaced by their values when bound, so the rule is
/// checked on the text.
fn names_variable(text: &str) -> bool {
    let mut quote: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == '\\' && q != '`' => {
                chars.next();
            }
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if matches!(c, '\'' | '"' | '`') => quote = Some(c),
            None if c == '@' => return true,
            None => {}
        }
    }
    false
}

/// One column of the table an expression is checked against.
pub(crate) struct RuleColumn<'a> {
    /// Name.
    pub name: &'a str,
    /// AUTO_INCREMENT.
    pub auto_increment: bool,
    /// Generated.
    pub generated: bool,
}

impl Binder<'_> {
    /// Binds `text` over `scope` and checks MySQL's rules for `owner`
    /// (invariants 1 and 2). `position` is the generated column's own
    /// position (it may read generated columns before it only). Returns
    /// the bound expression.
    pub(crate) fn check_definition_expr(
        &mut self,
        owner: ExprOwner<'_>,
        text: &str,
        scope: &[OutCol],
        columns: &[RuleColumn<'_>],
        position: Option<usize>,
    ) -> Result<Expr, BindError> {
        if names_variable(text) {
            return Err(owner.variables());
        }
        let ast = parse_expr(text)?;
        let clause = match owner {
            ExprOwner::Generated(_) => "generated column function",
            ExprOwner::Check(_) => "check constraint",
        };
        let bound = self.bind_scalar(&ast, scope, ExprCtx::plain(clause)).map_err(|e| match e {
            BindError::InvalidGroupFuncUse => owner.function(),
            e => e,
        })?;
        let mut err = None;
        bound.walk(&mut |e| {
            if err.is_some() {
                return;
            }
            match e {
                Expr::Subquery(_) | Expr::Agg(_) | Expr::Window(_) | Expr::Param { .. } => err = Some(owner.function()),
                Expr::Session { func, .. } => err = Some(owner.named_function(&format!("{func:?}").to_lowercase())),
                Expr::Func { func, .. } if !func.is_deterministic() => {
                    err = Some(owner.named_function(&func.name().to_lowercase()))
                }
                Expr::Column { index, .. } => {
                    let Some(c) = columns.get(*index) else { return };
                    if c.auto_increment {
                        err = Some(owner.auto_increment());
                    } else if let (Some(p), true) = (position, c.generated) {
                        if *index >= p {
                            err = Some(rule(
                                ErrorCode::GeneratedColumnNonPrior,
                                "Generated column can refer only to generated columns defined prior to it.".into(),
                            ));
                        }
                    }
                }
                _ => {}
            }
        });
        match err {
            Some(e) => Err(e),
            None => Ok(bound),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_found_outside_quotes_only() {
        assert!(names_variable("a + @x"));
        assert!(names_variable("@@sql_mode"));
        assert!(!names_variable("concat(a, '@x')"));
        assert!(!names_variable("`we@ird` + 1"));
        assert!(names_variable("'it''s' = @y"));
    }
}
