//! Collation derivation: which collation an expression's text carries, how
//! strongly (MySQL's coercibility), and which collation a comparison of two
//! texts uses.
//!
//! Invariants:
//! 1. A column whose collation is not `Collation::LEGACY` is bound wrapped
//!    in an implicit `Expr::Collate`, and `x COLLATE c` in an explicit one,
//!    so the derivation is read from the bound tree alone.
//! 2. A comparison whose derived collation is not LEGACY compares the
//!    weight strings of both operands (`Expr::Weight`); with LEGACY the
//!    operands are left as they are, so binary comparisons cost nothing new.
//! 3. Operands of a non-text kind (numbers, dates) never get weights: they
//!    compare by MySQL's other rules.
//!
//! MySQL's rules (manual, "Collation Coercibility in Expressions"): the
//! lower coercibility wins; at equal coercibility and different
//! collations, a `_bin` collation wins over a non-binary one, and otherwise
//! (or when both are explicit) the mix is illegal (error 1267). Since every
//! text is utf8mb4, the character-set rules never apply.

use std::cell::Cell;

use mizzle_types::{Collation, SqlType, Value, ValueKind};

use crate::error::BindError;
use crate::expr::{Expr, SortKey};

/// MySQL's coercibility, lower is stronger (`COERCIBILITY()` values).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Coercibility {
    /// `COLLATE` clause.
    Explicit = 0,
    /// A mix of different collations at equal strength (e.g. CONCAT).
    NoCollation = 1,
    /// A column.
    Implicit = 2,
    /// A system constant (`USER()`, `VERSION()`).
    SysConst = 3,
    /// A literal or parameter.
    Coercible = 4,
}

impl Coercibility {
    fn name(self) -> &'static str {
        match self {
            Coercibility::Explicit => "EXPLICIT",
            Coercibility::NoCollation => "NONE",
            Coercibility::Implicit => "IMPLICIT",
            Coercibility::SysConst => "SYSCONST",
            Coercibility::Coercible => "COERCIBLE",
        }
    }
}

/// A derivation: a collation and its coercibility.
pub(crate) type Derivation = (Collation, Coercibility);

thread_local! {
    /// The collation of the statement being bound on this thread (see
    /// [`connection`]).
    static CONNECTION: Cell<Collation> = const { Cell::new(Collation::LEGACY) };
}

/// The collation literals, parameters and text made from non-text values
/// carry: the session's `@@collation_connection` while
/// [`Binder::bind_parsed`](super::Binder::bind_parsed) binds a statement
/// ([`ConnectionScope`]); `Collation::LEGACY` (binary) when binding without
/// a session, as stored CHECK and generated-column expressions are re-bound.
pub(crate) fn connection() -> Collation {
    CONNECTION.with(Cell::get)
}

/// Sets [`connection`] for this thread until dropped, then restores the
/// previous value (binds nest: a view's query is bound inside its user's).
pub(crate) struct ConnectionScope(Collation);

impl ConnectionScope {
    pub(crate) fn enter(c: Collation) -> ConnectionScope {
        ConnectionScope(CONNECTION.with(|cell| cell.replace(c)))
    }
}

impl Drop for ConnectionScope {
    fn drop(&mut self) {
        CONNECTION.with(|cell| cell.set(self.0));
    }
}

fn is_text(t: SqlType) -> bool {
    t.kind() == ValueKind::Text
}

/// The derivation of a text-valued expression; `None` for other kinds and
/// for NULL (MySQL's IGNORABLE / NUMERIC, which never decide).
pub(crate) fn expr_collation(e: &Expr) -> Option<Derivation> {
    match e {
        Expr::Collate { collation, explicit, .. } => {
            Some((*collation, if *explicit { Coercibility::Explicit } else { Coercibility::Implicit }))
        }
        Expr::Weight { .. } => None,
        _ if !is_text(e.ty()) => None,
        Expr::Literal(Value::Null, _) => None,
        Expr::Literal(..) | Expr::Param { .. } => Some((connection(), Coercibility::Coercible)),
        // A subquery's text column keeps its collation and strength
        // (`Subquery::collation`: implicit for a table column, coercible
        // for a literal); `true` stands for implicit or stronger.
        Expr::Subquery(s) => match s.collation {
            Some((c, true)) => Some((c, Coercibility::Implicit)),
            Some((c, false)) => Some((c, Coercibility::Coercible)),
            None => Some((Collation::LEGACY, Coercibility::Implicit)),
        },
        Expr::Column { .. } | Expr::Outer { .. } => Some((Collation::LEGACY, Coercibility::Implicit)),
        Expr::Session { .. } => Some((connection(), Coercibility::SysConst)),
        // MySQL 8 gives the JSON functions' text (JSON_UNQUOTE and `->>`,
        // JSON_TYPE, JSON_QUOTE, JSON_PRETTY) utf8mb4_bin, coercible like
        // a literal: a column's collation beats it, a literal's loses to
        // its `_bin`.
        Expr::Func { func, .. } if func.is_json() => Some((Collation::Utf8mb4Bin, Coercibility::Coercible)),
        // A conversion to text takes the connection's collation.
        Expr::Cast { arg, .. } if !is_text(arg.ty()) => Some((connection(), Coercibility::Coercible)),
        _ => {
            let mut acc: Option<Derivation> = None;
            let mut conflict = false;
            e.for_each_child(&mut |c| {
                if let Some(d) = expr_collation(c) {
                    acc = Some(match acc {
                        None => d,
                        Some(a) => match combine(a, d) {
                            Some(x) => x,
                            None => {
                                conflict = true;
                                a
                            }
                        },
                    });
                }
            });
            match acc {
                Some((c, _)) if conflict => Some((c, Coercibility::NoCollation)),
                Some(d) => Some(d),
                // Text made from non-text arguments (e.g. FORMAT(1, 2)).
                None => Some((connection(), Coercibility::Coercible)),
            }
        }
    }
}

/// MySQL's aggregation of two derivations; `None` when they cannot be
/// reconciled (an illegal mix).
pub(crate) fn combine(a: Derivation, b: Derivation) -> Option<Derivation> {
    if a.0 == b.0 {
        return Some(if a.1 <= b.1 { a } else { b });
    }
    if a.1 != b.1 {
        let w = if a.1 < b.1 { a } else { b };
        return (w.1 != Coercibility::NoCollation).then_some(w);
    }
    if a.1 == Coercibility::Explicit || a.1 == Coercibility::NoCollation {
        return None;
    }
    // Two binary collations (utf8mb4_bin and utf8mb4_0900_bin) keep the
    // first, as MySQL's DTCollation::aggregate does.
    match (a.0.is_binary(), b.0.is_binary()) {
        (true, _) => Some(a),
        (false, true) => Some(b),
        _ => None,
    }
}

/// The collation a comparison of `l` and `r` uses when both are text
/// (1267 when they cannot be reconciled); `None` when the comparison is
/// not between texts.
pub(crate) fn comparison_collation(l: &Expr, r: &Expr, op: &str) -> Result<Option<Collation>, BindError> {
    let (lt, rt) = (l.ty(), r.ty());
    let texty = |t: SqlType| is_text(t) || t == SqlType::Null;
    if !(texty(lt) && texty(rt)) || !(is_text(lt) || is_text(rt)) {
        return Ok(None);
    }
    match (expr_collation(l), expr_collation(r)) {
        (Some(a), Some(b)) => match combine(a, b) {
            Some(d) => Ok(Some(d.0)),
            None => Err(BindError::IllegalMixOfCollations {
                left: a.0.name().into(),
                left_how: a.1.name(),
                right: b.0.name().into(),
                right_how: b.1.name(),
                op: op.into(),
            }),
        },
        (Some(a), None) | (None, Some(a)) => Ok(Some(a.0)),
        (None, None) => Ok(None),
    }
}

/// The collation of a list of operands compared with each other (IN,
/// BETWEEN, CASE): folded pairwise, 1267 (named for `op`) on a conflict.
pub(crate) fn list_collation(items: &[&Expr], op: &str) -> Result<Option<Collation>, BindError> {
    // Mixed text and non-text (a TIME column BETWEEN two strings): the
    // comparison is not between texts, so no collation applies.
    if items.iter().any(|e| !is_text(e.ty()) && e.ty() != SqlType::Null) {
        return Ok(None);
    }
    let mut acc: Option<&Expr> = None;
    let mut coll: Option<Collation> = None;
    for &e in items {
        if let Some(a) = acc {
            match comparison_collation(a, e, op)? {
                Some(c) => coll = Some(c),
                None => {
                    // Mixed text and non-text: no collation applies.
                    if !(is_text(a.ty()) && is_text(e.ty())) && e.ty() != SqlType::Null {
                        return Ok(None);
                    }
                }
            }
        }
        if expr_collation(e).is_some() {
            // Keep the strongest operand as the left side of the next pair.
            acc = match acc {
                Some(a) => match (expr_collation(a), expr_collation(e)) {
                    (Some(x), Some(y)) if y.1 < x.1 => Some(e),
                    (None, _) => Some(e),
                    _ => Some(a),
                },
                None => Some(e),
            };
        }
    }
    Ok(coll)
}

/// Wraps a comparison operand in its weight string when the comparison's
/// collation needs one (invariant 2).
pub(crate) fn weigh(e: Expr, coll: Option<Collation>) -> Expr {
    match coll {
        Some(c) if c != Collation::LEGACY && (is_text(e.ty()) || e.ty() == SqlType::Null) => {
            Expr::Weight { arg: Box::new(e), collation: c }
        }
        _ => e,
    }
}

/// A sort key ordered by its collation: weights instead of text.
pub(crate) fn weigh_key(k: SortKey) -> SortKey {
    let coll = expr_collation(&k.expr).map(|d| d.0);
    SortKey { expr: weigh(k.expr, coll), desc: k.desc }
}

/// An ORDER BY key: ENUM and SET values sort by index or mask (as MySQL
/// sorts them), text by its collation's weights.
pub(crate) fn order_key(k: SortKey) -> SortKey {
    match k.expr.ty() {
        SqlType::Enum(_) | SqlType::Set(_) => SortKey { expr: super::expr::enum_number(k.expr), desc: k.desc },
        _ => weigh_key(k),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Coercibility as K;

    const CI: Collation = Collation::Utf8mb4_0900AiCi;
    const GEN: Collation = Collation::Utf8mb4GeneralCi;
    const BIN: Collation = Collation::Utf8mb4Bin;

    #[test]
    fn stronger_coercibility_wins() {
        assert_eq!(combine((CI, K::Implicit), (GEN, K::Coercible)), Some((CI, K::Implicit)));
        assert_eq!(combine((CI, K::Implicit), (GEN, K::Explicit)), Some((GEN, K::Explicit)));
    }

    #[test]
    fn equal_coercibility_mixes_are_illegal_unless_one_is_binary() {
        assert_eq!(combine((CI, K::Implicit), (GEN, K::Implicit)), None);
        assert_eq!(combine((CI, K::Implicit), (BIN, K::Implicit)), Some((BIN, K::Implicit)));
        assert_eq!(combine((CI, K::Explicit), (BIN, K::Explicit)), None);
        assert_eq!(combine((CI, K::Explicit), (CI, K::Explicit)), Some((CI, K::Explicit)));
    }

    #[test]
    fn column_mix_reports_1267() {
        let col = |c| Expr::Collate {
            arg: Box::new(Expr::Column { index: 0, ty: SqlType::Varchar(10) }),
            collation: c,
            explicit: false,
        };
        let e = comparison_collation(&col(CI), &col(GEN), "=").expect_err("illegal mix");
        assert_eq!(
            e.to_string(),
            "Illegal mix of collations (utf8mb4_0900_ai_ci,IMPLICIT) and (utf8mb4_general_ci,IMPLICIT) for operation '='"
        );
        let lit = Expr::lit(Value::text("x"));
        assert_eq!(comparison_collation(&col(CI), &lit, "=").expect("legal"), Some(CI));
        let num = Expr::lit(Value::Int(1));
        assert_eq!(comparison_collation(&col(CI), &num, "=").expect("legal"), None);
    }
}
