//! Bound expressions: names resolved to input positions, functions resolved
//! to library entries, types known.
//!
//! Invariants:
//! 1. A `Column` refers to a position of the row produced by the operator
//!    the expression is attached to; an `Outer` column to a position of the
//!    row of an enclosing query block, `depth` blocks out (1 = innermost
//!    enclosing).
//! 2. `Agg` nodes exist only between binding and aggregate rewriting, and
//!    `Window` nodes only until the SELECT block's window functions are
//!    planned (each becomes a column of a `Plan::Window`); a finished plan
//!    never contains either.
//! 3. Every node's result type is computable by [`Expr::ty`] without context.
//! 4. A value of static type TIMESTAMP is the stored UTC value; every other
//!    date-time is session-local. Only column references (and plain
//!    columns passed through projections, sorts and aggregates' ANY_VALUE)
//!    have type TIMESTAMP; as an operand one is wrapped in
//!    [`Expr::LocalTime`], whose type is DATETIME.

use std::sync::Arc;

use mizzle_types::ops::ArithOp;
use mizzle_types::{Collation, SqlType, Value};

use crate::func::{IntervalUnit, ScalarFunc};
use crate::plan::Plan;

/// Comparison operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `<>` / `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<=>` (NULL-safe equality)
    NullSafeEq,
}

impl CmpOp {
    /// The operator with its operands swapped (`a < b` == `b > a`).
    pub fn flip(self) -> CmpOp {
        match self {
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
            o => o,
        }
    }

    /// SQL spelling.
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "<>",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::NullSafeEq => "<=>",
        }
    }
}

/// Bitwise operators (results are BIGINT UNSIGNED, as in MySQL).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BitOp {
    /// `&`
    And,
    /// `|`
    Or,
    /// `^`
    Xor,
    /// `<<`
    Shl,
    /// `>>`
    Shr,
}

/// Aggregate functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AggFunc {
    /// `COUNT(*)`
    CountStar,
    /// `COUNT(x)`
    Count,
    /// `SUM(x)`
    Sum,
    /// `AVG(x)`
    Avg,
    /// `MIN(x)`
    Min,
    /// `MAX(x)`
    Max,
    /// `GROUP_CONCAT(x ...)`
    GroupConcat,
    /// `BIT_AND(x)`
    BitAnd,
    /// `BIT_OR(x)`
    BitOr,
    /// `BIT_XOR(x)`
    BitXor,
    /// `STD`/`STDDEV_POP`
    StddevPop,
    /// `STDDEV_SAMP`
    StddevSamp,
    /// `VARIANCE`/`VAR_POP`
    VarPop,
    /// `VAR_SAMP`
    VarSamp,
    /// A column outside GROUP BY: any value of the group (MySQL without
    /// ONLY_FULL_GROUP_BY; `ANY_VALUE(x)`).
    AnyValue,
    /// `JSON_ARRAYAGG(x)`: a JSON array of the group's values (NULL as `null`).
    JsonArrayAgg,
    /// `JSON_OBJECTAGG(k, v)`: a JSON object; the last duplicate key wins.
    JsonObjectAgg,
}

/// One aggregate call.
#[derive(Clone, Debug, PartialEq)]
pub struct AggCall {
    /// Which aggregate.
    pub func: AggFunc,
    /// Arguments, bound over the aggregate's input.
    pub args: Vec<Expr>,
    /// `DISTINCT`.
    pub distinct: bool,
    /// `GROUP_CONCAT ... ORDER BY`.
    pub order_by: Vec<SortKey>,
    /// `GROUP_CONCAT ... SEPARATOR`.
    pub separator: String,
    /// Result type.
    pub ty: SqlType,
}

/// Window functions: MySQL 8's own, and every aggregate but GROUP_CONCAT
/// used with `OVER`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WindowFunc {
    /// `ROW_NUMBER()`
    RowNumber,
    /// `RANK()`
    Rank,
    /// `DENSE_RANK()`
    DenseRank,
    /// `PERCENT_RANK()`
    PercentRank,
    /// `CUME_DIST()`
    CumeDist,
    /// `NTILE(n)`: args are `[n]`.
    Ntile,
    /// `LAG(x [, n [, default]])`: args are `[x, n, default]` (n and default filled in).
    Lag,
    /// `LEAD(x [, n [, default]])`: as `Lag`.
    Lead,
    /// `FIRST_VALUE(x)`
    FirstValue,
    /// `LAST_VALUE(x)`
    LastValue,
    /// `NTH_VALUE(x, n)`: args are `[x, n]`.
    NthValue,
    /// An aggregate over the frame.
    Agg(AggFunc),
}

impl WindowFunc {
    /// The function's name as MySQL prints it in messages.
    pub fn name(self) -> &'static str {
        match self {
            WindowFunc::RowNumber => "row_number",
            WindowFunc::Rank => "rank",
            WindowFunc::DenseRank => "dense_rank",
            WindowFunc::PercentRank => "percent_rank",
            WindowFunc::CumeDist => "cume_dist",
            WindowFunc::Ntile => "ntile",
            WindowFunc::Lag => "lag",
            WindowFunc::Lead => "lead",
            WindowFunc::FirstValue => "first_value",
            WindowFunc::LastValue => "last_value",
            WindowFunc::NthValue => "nth_value",
            WindowFunc::Agg(a) => match a {
                AggFunc::CountStar | AggFunc::Count => "count",
                AggFunc::Sum => "sum",
                AggFunc::Avg => "avg",
                AggFunc::Min => "min",
                AggFunc::Max => "max",
                AggFunc::GroupConcat => "group_concat",
                AggFunc::BitAnd => "bit_and",
                AggFunc::BitOr => "bit_or",
                AggFunc::BitXor => "bit_xor",
                AggFunc::StddevPop => "std",
                AggFunc::StddevSamp => "stddev_samp",
                AggFunc::VarPop => "variance",
                AggFunc::VarSamp => "var_samp",
                AggFunc::AnyValue => "any_value",
                AggFunc::JsonArrayAgg => "json_arrayagg",
                AggFunc::JsonObjectAgg => "json_objectagg",
            },
        }
    }

    /// True for the functions whose value depends on the frame (the
    /// aggregates and FIRST_VALUE / LAST_VALUE / NTH_VALUE); the others
    /// read the partition and the peers only.
    pub fn uses_frame(self) -> bool {
        matches!(self, WindowFunc::FirstValue | WindowFunc::LastValue | WindowFunc::NthValue | WindowFunc::Agg(_))
    }
}

/// ROWS or RANGE (MySQL has no GROUPS).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FrameUnits {
    /// Offsets count rows.
    Rows,
    /// Offsets are distances between ORDER BY values; CURRENT ROW means the peers.
    Range,
}

/// One end of a window frame.
#[derive(Clone, Debug, PartialEq)]
pub enum FrameBound {
    /// `UNBOUNDED PRECEDING`
    UnboundedPreceding,
    /// `n PRECEDING`. In a ROWS frame the expression is the row count (a
    /// constant or a parameter); in a RANGE frame it computes the bound's
    /// ORDER BY value from the current row's, read as column 0 of a one-column
    /// row (`c - n`, or `c + n` under DESC; INTERVAL offsets use date
    /// arithmetic).
    Preceding(Expr),
    /// `CURRENT ROW` (the current row's peers in a RANGE frame).
    CurrentRow,
    /// `n FOLLOWING`, read as `Preceding`.
    Following(Expr),
    /// `UNBOUNDED FOLLOWING`
    UnboundedFollowing,
}

/// A window frame, already given MySQL's default when none was written.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowFrame {
    /// ROWS or RANGE.
    pub units: FrameUnits,
    /// Where the frame starts.
    pub start: FrameBound,
    /// Where it ends (inclusive).
    pub end: FrameBound,
}

impl WindowFrame {
    /// The whole partition.
    pub fn whole() -> WindowFrame {
        WindowFrame {
            units: FrameUnits::Range,
            start: FrameBound::UnboundedPreceding,
            end: FrameBound::UnboundedFollowing,
        }
    }
}

/// A resolved window: named windows merged in, the frame defaulted.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowSpec {
    /// `PARTITION BY` expressions.
    pub partition_by: Vec<Expr>,
    /// `ORDER BY` keys.
    pub order_by: Vec<SortKey>,
    /// The frame.
    pub frame: WindowFrame,
}

/// A window function call over a window.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowCall {
    /// Which function.
    pub func: WindowFunc,
    /// Arguments, bound over the window node's input.
    pub args: Vec<Expr>,
    /// The window.
    pub spec: WindowSpec,
    /// Result type.
    pub ty: SqlType,
}

/// A sort key.
#[derive(Clone, Debug, PartialEq)]
pub struct SortKey {
    /// The expression.
    pub expr: Expr,
    /// Descending order.
    pub desc: bool,
}

/// What kind of subquery an expression holds.
#[derive(Clone, Debug, PartialEq)]
pub enum SubqueryKind {
    /// A scalar subquery: one column, at most one row (error 1242 otherwise).
    Scalar,
    /// `EXISTS (...)`.
    Exists,
    /// `x [NOT] IN (...)`: one column (or as many as the tuple).
    In { arg: Box<Expr>, negated: bool },
    /// `x op ANY/SOME/ALL (...)`.
    Quantified { arg: Box<Expr>, op: CmpOp, all: bool },
}

/// A subquery inside an expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Subquery {
    /// The subquery's plan.
    pub plan: Arc<Plan>,
    /// How it is used.
    pub kind: SubqueryKind,
    /// True if it refers to columns of enclosing blocks.
    pub correlated: bool,
    /// Positions in the immediately enclosing block's row that the subquery
    /// reads (its depth-1 outer references), for result caching.
    pub outer_refs: Vec<usize>,
    /// The collation of its (first) column when that is text under a
    /// collation other than `Collation::LEGACY`, and whether its
    /// derivation is at least as strong as a column's (implicit, as a table
    /// column's, or explicit) rather than coercible (a literal's):
    /// comparisons with the subquery reconcile collations with it as with
    /// any operand.
    pub collation: Option<(Collation, bool)>,
    /// Result type (the column's for scalar subqueries, BIGINT otherwise).
    pub ty: SqlType,
    /// Identity within the statement, for caching results.
    pub id: usize,
}

/// A bound expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A constant.
    Literal(Value, SqlType),
    /// A column of the input row.
    Column { index: usize, ty: SqlType },
    /// A column of an enclosing block's row (correlation).
    Outer { depth: usize, index: usize, ty: SqlType },
    /// A `?` parameter of a prepared statement (0-based), with the type
    /// assumed while planning.
    Param { index: usize, ty: SqlType },
    /// `- x`
    Neg(Box<Expr>),
    /// `NOT x`
    Not(Box<Expr>),
    /// `~ x`
    BitNot(Box<Expr>),
    /// Arithmetic.
    Arith { op: ArithOp, left: Box<Expr>, right: Box<Expr>, ty: SqlType },
    /// Comparison.
    Cmp { op: CmpOp, left: Box<Expr>, right: Box<Expr> },
    /// Row comparison `(a, b) op (c, d)`.
    RowCmp { op: CmpOp, left: Vec<Expr>, right: Vec<Expr> },
    /// `AND`
    And(Box<Expr>, Box<Expr>),
    /// `OR`
    Or(Box<Expr>, Box<Expr>),
    /// `XOR`
    Xor(Box<Expr>, Box<Expr>),
    /// Bit operations.
    Bit { op: BitOp, left: Box<Expr>, right: Box<Expr> },
    /// `x IS [NOT] NULL`
    IsNull { arg: Box<Expr>, negated: bool },
    /// `x IS [NOT] TRUE/FALSE/UNKNOWN`: `truth` None = UNKNOWN.
    IsTruth { arg: Box<Expr>, truth: Option<bool>, negated: bool },
    /// `x [NOT] IN (list)`
    InList { arg: Box<Expr>, list: Vec<Expr>, negated: bool },
    /// `(a, b) [NOT] IN ((..), (..))`
    RowInList { args: Vec<Expr>, list: Vec<Vec<Expr>>, negated: bool },
    /// `x [NOT] BETWEEN lo AND hi`
    Between { arg: Box<Expr>, low: Box<Expr>, high: Box<Expr>, negated: bool },
    /// `x [NOT] LIKE pattern [ESCAPE c]`
    Like { arg: Box<Expr>, pattern: Box<Expr>, escape: char, negated: bool },
    /// `CASE [operand] WHEN .. THEN .. ELSE .. END`; branches already cast to `ty`.
    Case { operand: Option<Box<Expr>>, whens: Vec<(Expr, Expr)>, else_: Option<Box<Expr>>, ty: SqlType },
    /// `COALESCE(a, b, ...)` (also `IFNULL`); arguments already cast to `ty`.
    Coalesce { args: Vec<Expr>, ty: SqlType },
    /// `IF(c, a, b)`; branches already cast to `ty`.
    If { cond: Box<Expr>, then: Box<Expr>, else_: Box<Expr>, ty: SqlType },
    /// `NULLIF(a, b)`
    NullIf { left: Box<Expr>, right: Box<Expr>, ty: SqlType },
    /// `CAST(x AS ty)` and implicit conversions.
    Cast { arg: Box<Expr>, ty: SqlType },
    /// A library function call.
    Func { func: ScalarFunc, args: Vec<Expr>, ty: SqlType },
    /// `d + INTERVAL n unit` and friends.
    Interval { arg: Box<Expr>, amount: Box<Expr>, unit: IntervalUnit, negate: bool, ty: SqlType },
    /// A session-dependent function (`DATABASE()`, `LAST_INSERT_ID()`, ...).
    Session { func: SessionFunc, ty: SqlType },
    /// A subquery.
    Subquery(Box<Subquery>),
    /// An aggregate call before rewriting (invariant 2).
    Agg(Box<AggCall>),
    /// A window function call before the window is planned (invariant 2).
    Window(Box<WindowCall>),
    /// The collation of a text operand: `x COLLATE c` (`explicit`), or the
    /// collation of a column that is not `Collation::LEGACY` (implicit).
    /// Evaluates to `arg` unchanged; the binder reads it to derive the
    /// collation of comparisons.
    Collate { arg: Box<Expr>, collation: Collation, explicit: bool },
    /// The weight string of a text value under a collation (a BLOB-kind
    /// value; other kinds pass through). Comparing weights bytewise is
    /// comparing the texts under the collation, so the binder wraps the
    /// operands of collated comparisons, sort keys, group keys and DISTINCT
    /// keys in it.
    Weight { arg: Box<Expr>, collation: Collation },
    /// An ENUM or SET value in a numeric context (arithmetic, comparison
    /// with a number, ORDER BY): the member's 1-based index (0 for the
    /// error value '') or the SET's bit mask, as a BIGINT. `ty` is the
    /// ENUM or SET type of `arg`.
    EnumNumber { arg: Box<Expr>, ty: SqlType },
    /// A TIMESTAMP value in the session's time zone. Rows hold TIMESTAMP
    /// values as stored, in UTC (invariant 4); the binder wraps a
    /// TIMESTAMP column reference in this wherever it is an operand, so
    /// expressions only ever see session-local date-times. `fsp` is the
    /// column's fractional digits.
    LocalTime { arg: Box<Expr>, fsp: u8 },
}

/// Functions answered from session state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SessionFunc {
    /// `DATABASE()` / `SCHEMA()`
    Database,
    /// `LAST_INSERT_ID()`
    LastInsertId,
    /// `ROW_COUNT()`
    RowCount,
    /// `FOUND_ROWS()`
    FoundRows,
    /// `CONNECTION_ID()`
    ConnectionId,
    /// `USER()` / `SESSION_USER()` / `SYSTEM_USER()`: the user name the
    /// client gave and its host.
    User,
    /// `CURRENT_USER()`: the account whose privileges apply.
    CurrentUser,
    /// `VERSION()`
    Version,
}

impl Expr {
    /// A literal with its natural type.
    pub fn lit(v: Value) -> Expr {
        let ty = literal_type(&v);
        Expr::Literal(v, ty)
    }

    /// The result type.
    pub fn ty(&self) -> SqlType {
        match self {
            Expr::Literal(_, t)
            | Expr::Column { ty: t, .. }
            | Expr::Outer { ty: t, .. }
            | Expr::Param { ty: t, .. } => *t,
            Expr::Neg(e) => match e.ty() {
                SqlType::Int { unsigned: true, .. } | SqlType::Bool => SqlType::BIGINT,
                t if t.is_numeric() => t,
                SqlType::Null => SqlType::Null,
                _ => SqlType::Double,
            },
            Expr::Not(_)
            | Expr::Cmp { .. }
            | Expr::RowCmp { .. }
            | Expr::And(..)
            | Expr::Or(..)
            | Expr::Xor(..)
            | Expr::IsNull { .. }
            | Expr::IsTruth { .. }
            | Expr::InList { .. }
            | Expr::RowInList { .. }
            | Expr::Between { .. }
            | Expr::Like { .. } => SqlType::Int { width: mizzle_types::IntWidth::Int, unsigned: false },
            Expr::BitNot(_) | Expr::Bit { .. } => SqlType::UBIGINT,
            Expr::Arith { ty, .. }
            | Expr::Case { ty, .. }
            | Expr::Coalesce { ty, .. }
            | Expr::If { ty, .. }
            | Expr::NullIf { ty, .. }
            | Expr::Cast { ty, .. }
            | Expr::Func { ty, .. }
            | Expr::Interval { ty, .. }
            | Expr::Session { ty, .. } => *ty,
            Expr::Subquery(s) => s.ty,
            Expr::Agg(a) => a.ty,
            Expr::Window(w) => w.ty,
            Expr::Collate { arg, .. } => arg.ty(),
            Expr::Weight { arg, .. } => match arg.ty() {
                t if t.kind() == mizzle_types::ValueKind::Text => SqlType::Blob(u32::MAX),
                t => t,
            },
            Expr::EnumNumber { .. } => SqlType::BIGINT,
            Expr::LocalTime { fsp, .. } => SqlType::DateTime(*fsp),
        }
    }

    /// The input column this expression passes through unchanged: a
    /// column, also under a COLLATE (which changes how it compares, not its
    /// value).
    pub fn as_column(&self) -> Option<usize> {
        match self {
            Expr::Column { index, .. } => Some(*index),
            Expr::Collate { arg, .. } => arg.as_column(),
            _ => None,
        }
    }

    /// True if the expression reads no row, parameter, session state or
    /// subquery: it can be evaluated once while planning.
    pub fn is_constant(&self) -> bool {
        let mut constant = true;
        self.walk(&mut |e| {
            if matches!(
                e,
                Expr::Column { .. }
                    | Expr::Outer { .. }
                    | Expr::Param { .. }
                    | Expr::Subquery(_)
                    | Expr::Agg(_)
                    | Expr::Window(_)
                    | Expr::Session { .. }
            ) || matches!(e, Expr::Func { func, .. } if !func.is_deterministic())
            {
                constant = false;
            }
        });
        constant
    }

    /// Visits this node and every descendant (not entering subquery plans).
    #[recursive::recursive]
    pub fn walk(&self, f: &mut dyn FnMut(&Expr)) {
        f(self);
        self.for_each_child(&mut |c| c.walk(f));
    }

    /// Calls `f` on each direct child expression.
    pub fn for_each_child(&self, f: &mut dyn FnMut(&Expr)) {
        match self {
            Expr::Literal(..)
            | Expr::Column { .. }
            | Expr::Outer { .. }
            | Expr::Param { .. }
            | Expr::Session { .. } => {}
            Expr::Neg(e) | Expr::Not(e) | Expr::BitNot(e) => f(e),
            Expr::Arith { left, right, .. }
            | Expr::Cmp { left, right, .. }
            | Expr::Bit { left, right, .. }
            | Expr::NullIf { left, right, .. } => {
                f(left);
                f(right);
            }
            Expr::And(a, b) | Expr::Or(a, b) | Expr::Xor(a, b) => {
                f(a);
                f(b);
            }
            Expr::RowCmp { left, right, .. } => {
                left.iter().for_each(&mut *f);
                right.iter().for_each(f);
            }
            Expr::IsNull { arg, .. }
            | Expr::IsTruth { arg, .. }
            | Expr::Cast { arg, .. }
            | Expr::Collate { arg, .. }
            | Expr::Weight { arg, .. }
            | Expr::EnumNumber { arg, .. }
            | Expr::LocalTime { arg, .. } => f(arg),
            Expr::InList { arg, list, .. } => {
                f(arg);
                list.iter().for_each(f);
            }
            Expr::RowInList { args, list, .. } => {
                args.iter().for_each(&mut *f);
                for r in list {
                    r.iter().for_each(&mut *f);
                }
            }
            Expr::Between { arg, low, high, .. } => {
                f(arg);
                f(low);
                f(high);
            }
            Expr::Like { arg, pattern, .. } => {
                f(arg);
                f(pattern);
            }
            Expr::Case { operand, whens, else_, .. } => {
                if let Some(o) = operand {
                    f(o);
                }
                for (w, t) in whens {
                    f(w);
                    f(t);
                }
                if let Some(e) = else_ {
                    f(e);
                }
            }
            Expr::Coalesce { args, .. } | Expr::Func { args, .. } => args.iter().for_each(f),
            Expr::If { cond, then, else_, .. } => {
                f(cond);
                f(then);
                f(else_);
            }
            Expr::Interval { arg, amount, .. } => {
                f(arg);
                f(amount);
            }
            Expr::Subquery(s) => match &s.kind {
                SubqueryKind::In { arg, .. } | SubqueryKind::Quantified { arg, .. } => f(arg),
                _ => {}
            },
            Expr::Agg(a) => {
                a.args.iter().for_each(&mut *f);
                for k in &a.order_by {
                    f(&k.expr);
                }
            }
            Expr::Window(w) => {
                w.args.iter().for_each(&mut *f);
                w.spec.partition_by.iter().for_each(&mut *f);
                for k in &w.spec.order_by {
                    f(&k.expr);
                }
            }
        }
    }

    /// Rebuilds the expression bottom-up, replacing each node by `f(node)`
    /// after its children were mapped.
    #[recursive::recursive]
    pub fn map(self, f: &mut dyn FnMut(Expr) -> Expr) -> Expr {
        let e = self.map_children(&mut |c| c.map(f));
        f(e)
    }

    /// Replaces each direct child with `f(child)`.
    pub fn map_children(self, f: &mut dyn FnMut(Expr) -> Expr) -> Expr {
        let mut bx = |b: Box<Expr>| Box::new(f(*b));
        match self {
            e @ (Expr::Literal(..)
            | Expr::Column { .. }
            | Expr::Outer { .. }
            | Expr::Param { .. }
            | Expr::Session { .. }) => e,
            Expr::Neg(e) => Expr::Neg(bx(e)),
            Expr::Not(e) => Expr::Not(bx(e)),
            Expr::BitNot(e) => Expr::BitNot(bx(e)),
            Expr::Arith { op, left, right, ty } => Expr::Arith { op, left: bx(left), right: bx(right), ty },
            Expr::Cmp { op, left, right } => Expr::Cmp { op, left: bx(left), right: bx(right) },
            Expr::Bit { op, left, right } => Expr::Bit { op, left: bx(left), right: bx(right) },
            Expr::NullIf { left, right, ty } => Expr::NullIf { left: bx(left), right: bx(right), ty },
            Expr::And(a, b) => Expr::And(bx(a), bx(b)),
            Expr::Or(a, b) => Expr::Or(bx(a), bx(b)),
            Expr::Xor(a, b) => Expr::Xor(bx(a), bx(b)),
            Expr::RowCmp { op, left, right } => Expr::RowCmp {
                op,
                left: left.into_iter().map(&mut *f).collect(),
                right: right.into_iter().map(&mut *f).collect(),
            },
            Expr::IsNull { arg, negated } => Expr::IsNull { arg: bx(arg), negated },
            Expr::IsTruth { arg, truth, negated } => Expr::IsTruth { arg: bx(arg), truth, negated },
            Expr::Cast { arg, ty } => Expr::Cast { arg: bx(arg), ty },
            Expr::Collate { arg, collation, explicit } => Expr::Collate { arg: bx(arg), collation, explicit },
            Expr::Weight { arg, collation } => Expr::Weight { arg: bx(arg), collation },
            Expr::EnumNumber { arg, ty } => Expr::EnumNumber { arg: bx(arg), ty },
            Expr::LocalTime { arg, fsp } => Expr::LocalTime { arg: bx(arg), fsp },
            Expr::InList { arg, list, negated } => {
                let arg = bx(arg);
                Expr::InList { arg, list: list.into_iter().map(&mut *f).collect(), negated }
            }
            Expr::RowInList { args, list, negated } => Expr::RowInList {
                args: args.into_iter().map(&mut *f).collect(),
                list: list.into_iter().map(|r| r.into_iter().map(&mut *f).collect()).collect(),
                negated,
            },
            Expr::Between { arg, low, high, negated } => {
                Expr::Between { arg: bx(arg), low: bx(low), high: bx(high), negated }
            }
            Expr::Like { arg, pattern, escape, negated } => {
                Expr::Like { arg: bx(arg), pattern: bx(pattern), escape, negated }
            }
            Expr::Case { operand, whens, else_, ty } => {
                let operand = operand.map(&mut bx);
                let whens = whens.into_iter().map(|(w, t)| (f(w), f(t))).collect();
                let else_ = else_.map(|e| Box::new(f(*e)));
                Expr::Case { operand, whens, else_, ty }
            }
            Expr::Coalesce { args, ty } => Expr::Coalesce { args: args.into_iter().map(f).collect(), ty },
            Expr::Func { func, args, ty } => Expr::Func { func, args: args.into_iter().map(f).collect(), ty },
            Expr::If { cond, then, else_, ty } => Expr::If { cond: bx(cond), then: bx(then), else_: bx(else_), ty },
            Expr::Interval { arg, amount, unit, negate, ty } => {
                Expr::Interval { arg: bx(arg), amount: bx(amount), unit, negate, ty }
            }
            Expr::Subquery(mut s) => {
                s.kind = match s.kind {
                    SubqueryKind::In { arg, negated } => SubqueryKind::In { arg: bx(arg), negated },
                    SubqueryKind::Quantified { arg, op, all } => SubqueryKind::Quantified { arg: bx(arg), op, all },
                    k => k,
                };
                Expr::Subquery(s)
            }
            Expr::Agg(mut a) => {
                let args = std::mem::take(&mut a.args);
                a.args = args.into_iter().map(&mut *f).collect();
                let keys = std::mem::take(&mut a.order_by);
                a.order_by = keys.into_iter().map(|k| SortKey { expr: f(k.expr), desc: k.desc }).collect();
                Expr::Agg(a)
            }
            Expr::Window(mut w) => {
                let args = std::mem::take(&mut w.args);
                w.args = args.into_iter().map(&mut *f).collect();
                let parts = std::mem::take(&mut w.spec.partition_by);
                w.spec.partition_by = parts.into_iter().map(&mut *f).collect();
                let keys = std::mem::take(&mut w.spec.order_by);
                w.spec.order_by = keys.into_iter().map(|k| SortKey { expr: f(k.expr), desc: k.desc }).collect();
                Expr::Window(w)
            }
        }
    }

    /// Splits a conjunction into its conjuncts.
    pub fn conjuncts(self) -> Vec<Expr> {
        let mut out = Vec::new();
        let mut stack = vec![self];
        while let Some(e) = stack.pop() {
            match e {
                Expr::And(a, b) => {
                    stack.push(*b);
                    stack.push(*a);
                }
                e => out.push(e),
            }
        }
        out
    }

    /// Joins conjuncts with AND (`None` for none).
    pub fn and_all(parts: Vec<Expr>) -> Option<Expr> {
        parts.into_iter().reduce(|a, b| Expr::And(Box::new(a), Box::new(b)))
    }

    /// The input columns this expression reads (not entering subqueries,
    /// but counting their correlated references as reads of depth 1).
    pub fn columns_used(&self, out: &mut Vec<usize>) {
        self.walk(&mut |e| match e {
            Expr::Column { index, .. } => out.push(*index),
            Expr::Subquery(s) => out.extend(s.outer_refs.iter().copied()),
            _ => {}
        });
    }

    /// True if the expression contains a window function call.
    pub fn has_window(&self) -> bool {
        let mut found = false;
        self.walk(&mut |e| {
            if matches!(e, Expr::Window(_)) {
                found = true;
            }
        });
        found
    }

    /// True if the expression contains an aggregate call.
    pub fn has_agg(&self) -> bool {
        let mut found = false;
        self.walk(&mut |e| {
            if matches!(e, Expr::Agg(_)) {
                found = true;
            }
        });
        found
    }
}

/// The type of a literal value.
pub fn literal_type(v: &Value) -> SqlType {
    match v {
        Value::Null => SqlType::Null,
        Value::Int(_) => SqlType::BIGINT,
        Value::UInt(_) => SqlType::UBIGINT,
        Value::Float(_) => SqlType::Float,
        Value::Double(_) => SqlType::Double,
        Value::Decimal(d) => SqlType::Decimal {
            precision: (d.digits().max(d.scale() as u32 + 1)).min(mizzle_types::decimal::MAX_PRECISION) as u8,
            scale: d.scale(),
        },
        Value::Text(s) => SqlType::Varchar(s.chars().count() as u32),
        Value::Bytes(b) => SqlType::Varbinary(b.len() as u32),
        Value::Date(_) => SqlType::Date,
        Value::DateTime(d) => SqlType::DateTime(if d.micros_of_day() % 1_000_000 == 0 { 0 } else { 6 }),
        Value::Json(_) => SqlType::Json,
        Value::Time(t) => SqlType::Time(if t.micros() % 1_000_000 == 0 { 0 } else { 6 }),
    }
}
