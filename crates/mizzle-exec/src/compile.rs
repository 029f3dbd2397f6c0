//! Compiled expressions: an expression translated once, when its operator
//! is built, into a tree specialised for the shapes that dominate row
//! loops — columns, literals, parameters, integer arithmetic and
//! comparison, AND / OR / NOT, scalar function calls (their arguments
//! compiled, the call shared with `eval`) — with every other node left to
//! the tree walker [`eval`], which stays the reference.
//!
//! Invariants:
//! 1. `Compiled::eval` gives exactly what `eval` gives for the same
//!    expression, row and context: the same value, the same error, the
//!    same warnings (a property test compares them on generated
//!    expressions, NULLs and overflows included). Fast paths apply only
//!    when both operands are `Value::Int`; anything else goes through the
//!    same `ops` functions `eval` calls.
//! 2. Compilation stops at depth [`MAX_DEPTH`]: deeper subtrees stay
//!    [`Node::Tree`] and are walked by `eval`, which grows its stack as it
//!    needs, so neither compiling nor evaluating can overflow the stack.

use mizzle_sql::expr::{CmpOp, Expr};
use mizzle_sql::func::ScalarFunc;
use mizzle_types::ops::{self, ArithOp};
use mizzle_types::Value;

use crate::ctx::Ctx;
use crate::error::ExecError;
use crate::eval::{call_func, compare, eval, holds, soften};

/// Depth beyond which subtrees are left to `eval` (invariant 2).
const MAX_DEPTH: usize = 24;

/// A compiled expression.
#[derive(Clone, Debug)]
pub struct Compiled(Node);

#[derive(Clone, Debug)]
enum Node {
    Column(usize),
    Literal(Value),
    Param(usize),
    Arith {
        op: ArithOp,
        left: Box<Node>,
        right: Box<Node>,
    },
    Cmp {
        op: CmpOp,
        left: Box<Node>,
        right: Box<Node>,
    },
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Not(Box<Node>),
    /// A scalar function over compiled arguments (all evaluated, in order,
    /// then `eval::call_func`, as `eval` does).
    Func {
        func: ScalarFunc,
        args: Vec<Node>,
    },
    /// Anything else, walked by `eval`.
    Tree(Box<Expr>),
}

impl Compiled {
    /// Compiles `e` (the parts left to `eval` move into the compiled
    /// form; nothing is copied).
    pub fn new(e: Expr) -> Compiled {
        Compiled(node(e, 0))
    }

    /// The expression's value over `row` (invariant 1).
    pub fn eval(&self, row: &[Value], ctx: &mut Ctx<'_>) -> Result<Value, ExecError> {
        run(&self.0, row, ctx)
    }

    /// True when the expression is TRUE over `row` (as `eval_pred`).
    pub fn holds(&self, row: &[Value], ctx: &mut Ctx<'_>) -> Result<bool, ExecError> {
        Ok(self.eval(row, ctx)?.truth() == Some(true))
    }
}

/// A comparison operand that `eval`'s in-place weight-string comparison
/// needs to see.
fn weighed(e: &Expr) -> bool {
    matches!(e, Expr::Weight { .. } | Expr::Literal(Value::Bytes(_), _))
}

fn node(e: Expr, depth: usize) -> Node {
    if depth >= MAX_DEPTH {
        return Node::Tree(Box::new(e));
    }
    let sub = |x: Box<Expr>| Box::new(node(*x, depth + 1));
    match e {
        Expr::Column { index, .. } => Node::Column(index),
        Expr::Collate { arg, .. } if matches!(*arg, Expr::Column { .. }) => node(*arg, depth),
        Expr::Literal(v, _) => Node::Literal(v),
        Expr::Param { index, .. } => Node::Param(index),
        Expr::Arith { op, left, right, .. } => Node::Arith { op, left: sub(left), right: sub(right) },
        // A comparison with a weight string keeps `eval`'s in-place path.
        Expr::Cmp { op, left, right } if !weighed(&left) && !weighed(&right) => {
            Node::Cmp { op, left: sub(left), right: sub(right) }
        }
        Expr::And(l, r) => Node::And(sub(l), sub(r)),
        Expr::Or(l, r) => Node::Or(sub(l), sub(r)),
        Expr::Not(x) => Node::Not(sub(x)),
        Expr::Func { func, args, .. } => {
            Node::Func { func, args: args.into_iter().map(|a| node(a, depth + 1)).collect() }
        }
        other => Node::Tree(Box::new(other)),
    }
}

fn bool_val(b: Option<bool>) -> Value {
    match b {
        Some(b) => Value::Int(i64::from(b)),
        None => Value::Null,
    }
}

/// Column `i` of `row`.
fn column(row: &[Value], i: usize) -> Result<&Value, ExecError> {
    row.get(i).ok_or_else(|| ExecError::Internal(format!("column {i} outside a row of {}", row.len())))
}

fn run(n: &Node, row: &[Value], ctx: &mut Ctx<'_>) -> Result<Value, ExecError> {
    Ok(match n {
        Node::Column(i) => column(row, *i)?.clone(),
        Node::Literal(v) => v.clone(),
        Node::Param(i) => match ctx.params.get(*i) {
            Some(v) => v.clone(),
            None => return Err(ExecError::ParamCount { expected: i + 1, got: ctx.params.len() }),
        },
        Node::Arith { op, left, right } => {
            let a = run(left, row, ctx)?;
            let b = run(right, row, ctx)?;
            if let (Value::Int(x), Value::Int(y)) = (&a, &b) {
                let fast = match op {
                    ArithOp::Add => x.checked_add(*y),
                    ArithOp::Sub => x.checked_sub(*y),
                    ArithOp::Mul => x.checked_mul(*y),
                    ArithOp::Mod if *y != 0 => x.checked_rem(*y),
                    _ => None,
                };
                if let Some(r) = fast {
                    return Ok(Value::Int(r));
                }
            }
            match ops::arith(*op, &a, &b) {
                Ok(v) => v,
                Err(e) => soften(e, ctx)?,
            }
        }
        Node::Cmp { op, left, right } => {
            let a = run(left, row, ctx)?;
            let b = run(right, row, ctx)?;
            match (&a, &b) {
                (Value::Int(x), Value::Int(y)) => bool_val(Some(holds(*op, x.cmp(y)))),
                _ => bool_val(compare(*op, &a, &b)),
            }
        }
        Node::And(l, r) => {
            let a = run(l, row, ctx)?.truth();
            if a == Some(false) {
                return Ok(Value::Int(0));
            }
            let b = run(r, row, ctx)?.truth();
            bool_val(match (a, b) {
                (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            })
        }
        Node::Or(l, r) => {
            let a = run(l, row, ctx)?.truth();
            if a == Some(true) {
                return Ok(Value::Int(1));
            }
            let b = run(r, row, ctx)?.truth();
            bool_val(match (a, b) {
                (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            })
        }
        Node::Not(x) => bool_val(run(x, row, ctx)?.truth().map(|b| !b)),
        Node::Func { func, args } => match args.as_slice() {
            // A column argument is read in place, not cloned.
            [Node::Column(i)] => call_func(*func, std::slice::from_ref(column(row, *i)?), ctx)?,
            // One or two arguments (most calls) stay on the stack.
            [a] => {
                let a = run(a, row, ctx)?;
                call_func(*func, std::slice::from_ref(&a), ctx)?
            }
            [a, b] => {
                let a = run(a, row, ctx)?;
                let b = run(b, row, ctx)?;
                call_func(*func, &[a, b], ctx)?
            }
            _ => {
                let mut vals = Vec::with_capacity(args.len());
                for a in args {
                    vals.push(run(a, row, ctx)?);
                }
                call_func(*func, &vals, ctx)?
            }
        },
        Node::Tree(e) => eval(e, row, ctx)?,
    })
}

#[cfg(test)]
mod tests {
    use mizzle_sql::expr::{CmpOp, Expr};
    use mizzle_sql::func::ScalarFunc;
    use mizzle_types::ops::ArithOp;
    use mizzle_types::sqltype::IntWidth;
    use mizzle_types::{Decimal, SqlType, Value};
    use proptest::prelude::*;

    use super::Compiled;
    use crate::eval::eval;
    use crate::testctx::with_ctx;

    const BIGINT: SqlType = SqlType::Int { width: IntWidth::Big, unsigned: false };

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            4 => (-20i64..20).prop_map(Value::Int),
            1 => Just(Value::Int(i64::MAX)),
            1 => Just(Value::Int(i64::MIN)),
            1 => Just(Value::Int(0)),
            2 => Just(Value::Null),
            1 => (0u64..5).prop_map(Value::UInt),
            1 => Just(Value::UInt(u64::MAX)),
            1 => (-50i32..50).prop_map(|d| Value::Double(f64::from(d) / 4.0)),
            1 => (-500i128..500).prop_map(|m| Value::decimal(Decimal::new(m, 2).expect("a small decimal"))),
            1 => Just(Value::text("12")),
        ]
    }

    fn expr() -> impl Strategy<Value = Expr> {
        let leaf = prop_oneof![
            (0usize..4).prop_map(|index| Expr::Column { index, ty: BIGINT }),
            value().prop_map(|v| Expr::Literal(v, BIGINT)),
            (0usize..2).prop_map(|index| Expr::Param { index, ty: BIGINT }),
        ];
        let arith = prop_oneof![
            Just(ArithOp::Add),
            Just(ArithOp::Sub),
            Just(ArithOp::Mul),
            Just(ArithOp::Div),
            Just(ArithOp::IntDiv),
            Just(ArithOp::Mod)
        ];
        let cmp = prop_oneof![
            Just(CmpOp::Eq),
            Just(CmpOp::Ne),
            Just(CmpOp::Lt),
            Just(CmpOp::Le),
            Just(CmpOp::Gt),
            Just(CmpOp::Ge),
            Just(CmpOp::NullSafeEq)
        ];
        leaf.prop_recursive(5, 40, 2, move |inner| {
            prop_oneof![
                (arith.clone(), inner.clone(), inner.clone()).prop_map(|(op, l, r)| Expr::Arith {
                    op,
                    left: Box::new(l),
                    right: Box::new(r),
                    ty: BIGINT
                }),
                (cmp.clone(), inner.clone(), inner.clone()).prop_map(|(op, l, r)| Expr::Cmp {
                    op,
                    left: Box::new(l),
                    right: Box::new(r)
                }),
                (inner.clone(), inner.clone()).prop_map(|(l, r)| Expr::And(Box::new(l), Box::new(r))),
                (inner.clone(), inner.clone()).prop_map(|(l, r)| Expr::Or(Box::new(l), Box::new(r))),
                inner.clone().prop_map(|x| Expr::Not(Box::new(x))),
                // Scalar functions of one, two and three arguments (MOD by
                // zero, POW overflow and ABS of i64::MIN warn or fail).
                (prop_oneof![Just(ScalarFunc::Abs), Just(ScalarFunc::Length), Just(ScalarFunc::Round)], inner.clone())
                    .prop_map(|(func, x)| Expr::Func { func, args: vec![x], ty: BIGINT }),
                (prop_oneof![Just(ScalarFunc::Mod), Just(ScalarFunc::Pow)], inner.clone(), inner.clone())
                    .prop_map(|(func, x, y)| Expr::Func { func, args: vec![x, y], ty: BIGINT }),
                (inner.clone(), inner.clone(), inner.clone()).prop_map(|(x, y, z)| Expr::Func {
                    func: ScalarFunc::Greatest,
                    args: vec![x, y, z],
                    ty: BIGINT
                }),
                // A node compiled as a tree, with compiled nodes below it.
                inner.prop_map(|x| Expr::IsNull { arg: Box::new(x), negated: false }),
            ]
        })
    }

    /// Evaluates `e` over `row` both ways in fresh contexts; the values (or
    /// errors) and the warnings must be the same.
    fn agree(e: &Expr, row: &[Value], params: &[Value], strict: bool) -> Result<(), TestCaseError> {
        let run = |compiled: bool| {
            with_ctx(params, strict, |ctx| {
                let v = if compiled { Compiled::new(e.clone()).eval(row, ctx) } else { eval(e, row, ctx) };
                (v, ctx.warnings.clone())
            })
        };
        let (want, want_warnings) = run(false);
        let (got, got_warnings) = run(true);
        prop_assert_eq!(&got, &want, "{:?} over {:?}", e, row);
        prop_assert_eq!(got_warnings, want_warnings);
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn compiled_and_interpreted_evaluation_agree(
            e in expr(),
            row in proptest::collection::vec(value(), 4),
            params in proptest::collection::vec(value(), 2),
            strict in any::<bool>(),
        ) {
            agree(&e, &row, &params, strict)?;
        }
    }

    #[test]
    fn deep_expressions_compile_and_evaluate_without_overflowing_the_stack() {
        let mut e = Expr::Column { index: 0, ty: BIGINT };
        for i in 0..3_000 {
            e = Expr::Arith {
                op: ArithOp::Add,
                left: Box::new(e),
                right: Box::new(Expr::Literal(Value::Int(i % 3), BIGINT)),
                ty: BIGINT,
            };
        }
        let want = Value::Int(1 + (0..3_000i64).map(|i| i % 3).sum::<i64>());
        let r = std::thread::Builder::new()
            .stack_size(4 << 20)
            .spawn(move || with_ctx(&[], false, |ctx| Compiled::new(e).eval(&[Value::Int(1)], ctx)))
            .and_then(|h| h.join().map_err(|_| std::io::Error::other("panicked")));
        assert_eq!(r.ok().and_then(Result::ok), Some(want));
    }
}
