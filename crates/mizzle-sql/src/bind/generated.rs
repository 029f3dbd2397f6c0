//! MySQL 8's rules for the expressions of generated columns, functional
//! index key parts and CHECK constraints, checked when a table is defined
//! or altered.
//!
//! Invariants:
//! 1. An accepted expression is deterministic and reads only its row: no
//!    non-deterministic or session function, no subquery, no variable
//!    (generated columns: 3763 / 3102 / 3765; functional key parts: 3758 /
//!    3758 / 3765; CHECK: 3814 / 3815 / 3816).
//! 2. A generated column refers to no AUTO_INCREMENT column (3109;
//!    functional key parts: 3754; CHECK: 3818) and to generated columns
//!    defined before it only (3107).
//! 3. A CHECK constraint's expression is boolean as MySQL's parser sees it
//!    (`is_boolean`, else 3812); a column's own CHECK reads no other
//!    column (`Binder::check_column_check`, else 3813).
//! 4. A functional key part (`functional_key_part`) has the type its
//!    expression has, and that type is indexable: not JSON (3753), TEXT or
//!    BLOB (3757) nor the type of `NULL` (3761); a row value is 3800.
//!
//! This module does not evaluate anything: the executor computes generated
//! columns (`mizzle_exec::dml`) and checks constraints on each written row.

use mizzle_types::{Collation, ErrorCode, SqlType};

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
    /// A key part of the functional index of that name (its hidden column).
    FunctionalIndex(&'a str),
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
            ExprOwner::FunctionalIndex(_) => self.function(),
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
            ExprOwner::FunctionalIndex(i) => rule(
                ErrorCode::FunctionalIndexFunctionNotAllowed,
                format!("Expression of functional index '{i}' contains a disallowed function."),
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
            // MySQL keeps the generated-column error here, naming the index.
            ExprOwner::FunctionalIndex(i) => rule(
                ErrorCode::GeneratedColumnVariables,
                format!("Expression of generated column '{i}' cannot refer user or system variables."),
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
            ExprOwner::FunctionalIndex(i) => rule(
                ErrorCode::FunctionalIndexRefAutoIncrement,
                format!("Functional index '{i}' cannot refer to an auto-increment column."),
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
    /// 3813 if the CHECK constraint `name` of column `col` (its SQL text)
    /// reads another column of `scope` (invariant 3). An expression that
    /// does not bind is left to the later checks, which report it.
    pub(crate) fn check_column_check(
        &mut self,
        name: &str,
        text: &str,
        scope: &[OutCol],
        col: usize,
    ) -> Result<(), BindError> {
        let Ok(ast) = parse_expr(text) else { return Ok(()) };
        let Ok(bound) = self.bind_scalar(&ast, scope, ExprCtx::plain("check constraint")) else { return Ok(()) };
        let mut used = Vec::new();
        bound.columns_used(&mut used);
        if used.iter().any(|&c| c != col) {
            return Err(rule(
                ErrorCode::ColumnCheckConstraintReferencesOtherColumn,
                format!("Column check constraint '{name}' references other column."),
            ));
        }
        Ok(())
    }

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
            ExprOwner::FunctionalIndex(_) => "functional index",
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

/// True if MySQL 8 takes `e` as a boolean expression for a CHECK
/// constraint (its parse tree's `is_bool_func()`, invariant 3):
/// comparisons, AND / OR / XOR / NOT, IS [NOT] NULL / TRUE / FALSE /
/// UNKNOWN, [NOT] IN, [NOT] BETWEEN, LIKE, REGEXP, EXISTS, MEMBER OF,
/// ANY / ALL, TRUE and FALSE, and the functions ISNULL, STRCMP,
/// REGEXP_LIKE, JSON_VALID, JSON_OVERLAPS and JSON_SCHEMA_VALID. A column,
/// a number, a string, NULL, arithmetic, CASE, IF, COALESCE, NULLIF, a
/// subquery and other functions are not.
pub(crate) fn is_boolean(e: &sqlparser::ast::Expr) -> bool {
    use sqlparser::ast::{BinaryOperator as B, Expr as E, UnaryOperator as U};
    match e {
        E::Nested(x) => is_boolean(x),
        E::BinaryOp { op, .. } => matches!(
            op,
            B::Eq
                | B::NotEq
                | B::Lt
                | B::LtEq
                | B::Gt
                | B::GtEq
                | B::Spaceship
                | B::And
                | B::Or
                | B::Xor
                | B::Regexp
                // `||` is OR in MySQL's default SQL mode.
                | B::StringConcat
        ),
        E::UnaryOp { op, .. } => matches!(op, U::Not | U::BangNot),
        E::IsFalse(_)
        | E::IsNotFalse(_)
        | E::IsTrue(_)
        | E::IsNotTrue(_)
        | E::IsNull(_)
        | E::IsNotNull(_)
        | E::IsUnknown(_)
        | E::IsNotUnknown(_)
        | E::IsDistinctFrom(..)
        | E::IsNotDistinctFrom(..)
        | E::In { .. }
        | E::Between { .. }
        | E::Like { .. }
        | E::ILike { .. }
        | E::RLike { .. }
        | E::SimilarTo { .. }
        | E::AnyOp { .. }
        | E::AllOp { .. }
        | E::Exists { .. }
        | E::MemberOf(_) => true,
        E::Value(v) => matches!(v.value, sqlparser::ast::Value::Boolean(_)),
        E::Function(f) => {
            let name = f.name.to_string().trim_matches('`').to_ascii_lowercase();
            matches!(
                name.as_str(),
                "isnull" | "strcmp" | "regexp_like" | "json_valid" | "json_overlaps" | "json_schema_valid"
            )
        }
        _ => false,
    }
}

/// The most characters (bytes for binary strings) `e` gives as text, if
/// bounded: MySQL's `max_length` of the string functions whose length
/// follows from their arguments' (mizzle types their results LONGTEXT).
fn max_chars(e: &Expr) -> Option<u64> {
    use crate::func::ScalarFunc as F;
    let arg = |i: usize, args: &[Expr]| args.get(i).and_then(max_chars);
    let constant = |i: usize, args: &[Expr]| match args.get(i) {
        Some(Expr::Literal(mizzle_types::Value::Int(n), _)) => u64::try_from(*n).ok(),
        Some(Expr::Literal(mizzle_types::Value::UInt(n), _)) => Some(*n),
        _ => None,
    };
    match e {
        Expr::Collate { arg, .. } => max_chars(arg),
        Expr::Literal(mizzle_types::Value::Null, _) => Some(0),
        Expr::Literal(mizzle_types::Value::Text(s), _) => Some(s.chars().count() as u64),
        Expr::Literal(mizzle_types::Value::Bytes(b), _) => Some(b.len() as u64),
        Expr::Func { func, args, .. } => match func {
            F::Lower | F::Upper | F::Trim | F::Ltrim | F::Rtrim | F::Reverse | F::Substring | F::Left | F::Right => {
                arg(0, args)
            }
            F::Concat => args.iter().map(max_chars).sum(),
            F::ConcatWs => {
                let parts: Option<u64> = args.iter().skip(1).map(max_chars).sum();
                Some(parts? + arg(0, args)?.saturating_mul(args.len().saturating_sub(2) as u64))
            }
            F::Lpad | F::Rpad => constant(1, args),
            F::Repeat => arg(0, args)?.checked_mul(constant(1, args)?),
            F::Space => constant(0, args),
            F::Md5 => Some(32),
            F::Sha1 => Some(40),
            _ => type_chars(e.ty()),
        },
        Expr::Case { whens, else_, .. } => {
            let mut m = else_.as_deref().map_or(Some(0), max_chars)?;
            for (_, then) in whens {
                m = m.max(max_chars(then)?);
            }
            Some(m)
        }
        Expr::If { then, else_, .. } => Some(max_chars(then)?.max(max_chars(else_)?)),
        Expr::Coalesce { args, .. } => args.iter().map(max_chars).try_fold(0, |m, x| Some(m.max(x?))),
        Expr::NullIf { left, .. } => max_chars(left),
        _ => type_chars(e.ty()),
    }
}

/// The most characters a value of type `ty` has as text; `None` for TEXT,
/// BLOB and JSON.
fn type_chars(ty: SqlType) -> Option<u64> {
    use mizzle_types::IntWidth as W;
    Some(match ty {
        SqlType::Char(n) | SqlType::Varchar(n) | SqlType::Binary(n) | SqlType::Varbinary(n) => u64::from(n),
        SqlType::Text(_) | SqlType::Blob(_) | SqlType::Json => return None,
        SqlType::Null => 0,
        SqlType::Bool => 1,
        SqlType::Int { width, .. } => match width {
            W::Tiny => 4,
            W::Small => 6,
            W::Medium => 8,
            W::Int => 11,
            W::Big => 20,
        },
        SqlType::Float => 12,
        SqlType::Double => 22,
        SqlType::Decimal { precision, .. } => u64::from(precision) + 2,
        SqlType::Date => 10,
        SqlType::DateTime(f) | SqlType::Timestamp(f) => 19 + if f > 0 { u64::from(f) + 1 } else { 0 },
        SqlType::Time(f) => 10 + if f > 0 { u64::from(f) + 1 } else { 0 },
        SqlType::Year => 4,
        SqlType::Bit(b) => u64::from(b).div_ceil(8),
        SqlType::Enum(m) => u64::from(m.max_chars()),
        SqlType::Set(_) => u64::from(ty.set_chars()),
    })
}

/// The type of a functional key part whose expression is `e`: the
/// expression's type, except that a string the binder types TEXT or BLOB
/// but whose length is bounded (MySQL's VARCHAR results of LOWER, CONCAT,
/// SUBSTRING ...) is a VARCHAR or VARBINARY of that length, as in MySQL, as
/// long as it fits a VARCHAR (16383 characters of utf8mb4).
pub(crate) fn key_part_type(e: &Expr) -> SqlType {
    const MAX_VARCHAR_CHARS: u64 = 16383;
    match e.ty() {
        t @ (SqlType::Text(_) | SqlType::Blob(_)) => match max_chars(e) {
            Some(n) if n <= MAX_VARCHAR_CHARS => {
                let n = u32::try_from(n).unwrap_or(u32::MAX);
                if matches!(t, SqlType::Blob(_)) {
                    SqlType::Varbinary(n)
                } else {
                    SqlType::Varchar(n)
                }
            }
            _ => t,
        },
        t => t,
    }
}

/// The type and collation of a functional key part of index `index` of
/// table `t` (invariant 4), its expression checked as a generated column's
/// (invariants 1 and 2) over `t`'s visible columns.
pub fn functional_key_part(
    t: &mizzle_dictionary::TableDef,
    index: &str,
    text: &str,
) -> Result<(SqlType, Option<Collation>), BindError> {
    let mut inner = parse_expr(text)?;
    while let sqlparser::ast::Expr::Nested(x) = inner {
        inner = *x;
    }
    if matches!(inner, sqlparser::ast::Expr::Tuple(_)) {
        return Err(rule(
            ErrorCode::FunctionalIndexRowValue,
            format!("Expression of functional index '{index}' cannot refer to a row value."),
        ));
    }
    let scope = super::dml::table_scope(t, &t.name);
    let cols: Vec<RuleColumn<'_>> = t
        .columns
        .iter()
        .map(|c| RuleColumn { name: &c.name, auto_increment: c.auto_increment, generated: c.generated.is_some() })
        .collect();
    let mut b = Binder::new(&super::NoCatalog);
    // The hidden column comes after every column: it may read any
    // generated column.
    let bound = b.check_definition_expr(ExprOwner::FunctionalIndex(index), text, &scope, &cols, Some(cols.len()))?;
    match key_part_type(&bound) {
        SqlType::Json => Err(rule(
            ErrorCode::FunctionalIndexOnJson,
            "Cannot create a functional index on a function that returns a JSON or GEOMETRY value.".into(),
        )),
        SqlType::Text(_) | SqlType::Blob(_) => Err(rule(
            ErrorCode::FunctionalIndexOnLob,
            "Cannot create a functional index on an expression that returns a BLOB or TEXT. Please consider using CAST."
                .into(),
        )),
        SqlType::Null => Err(rule(
            ErrorCode::WrongKeyColumnFunctionalIndex,
            format!("The used storage engine cannot index the expression '{text}'."),
        )),
        ty => Ok((ty, super::coercion::expr_collation(&bound).map(|d| d.0))),
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
