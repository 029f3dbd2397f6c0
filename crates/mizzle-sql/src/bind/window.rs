//! Binding window functions: calls with OVER, named windows (the WINDOW
//! clause), frames with MySQL's defaults and checks, and planning a SELECT
//! block's window calls into `Plan::Window` nodes that share sorts.
//!
//! Invariants:
//! 1. Window functions are accepted only in a SELECT list and its ORDER BY
//!    (`Binder::window_ok`); elsewhere, and inside another window
//!    function's arguments or an aggregate's, they are 3593, and inside a
//!    window's PARTITION BY / ORDER BY 3595.
//! 2. Named windows follow MySQL's inheritance rules: a window may name
//!    one other window and add an ORDER BY (if the chain has none) and a
//!    frame; it may not add PARTITION BY (3581), and a window with a frame
//!    may not be inherited (3582). Each named window's expressions are bound
//!    once, so `?` parameters in them are counted once.
//! 3. Every window call's frame is defaulted as MySQL does: with ORDER BY,
//!    `RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW` (peers included);
//!    without, the whole partition (a RANGE CURRENT ROW bound without ORDER
//!    BY is unbounded).
//! 4. Window calls with equal windows share one `WindowDef`; windows whose
//!    keys are a prefix of one sort (partition keys in any order, then the
//!    ORDER BY keys) share one `Plan::Window` node over one `Sort`.

use mizzle_types::{SqlType, Value};
use sqlparser::ast::{self, FunctionArgExpr, NullTreatment, WindowFrameBound, WindowFrameUnits, WindowType};

use super::expr::{agg_func, agg_type, arith_type, coerce, interval_unit, ExprCtx};
use super::{norm, Binder};
use crate::error::BindError;
use crate::expr::{AggFunc, Expr, FrameBound, FrameUnits, SortKey, WindowCall, WindowFrame, WindowFunc, WindowSpec};
use crate::func;
use crate::plan::{OutCol, Plan, WindowDef, WindowFnCall};
use crate::typing::unify;

/// How MySQL names a window without a name in messages.
const UNNAMED: &str = "<unnamed window>";

/// A named window of the current block, resolved against the windows it
/// inherits from and bound.
#[derive(Clone, Debug)]
pub(crate) struct BoundWindow {
    partition_by: Vec<Expr>,
    order_by: Vec<SortKey>,
    /// Its own frame, if it wrote one (never inherited).
    frame: Option<WindowFrame>,
}

/// Names that are window functions only (no meaning without OVER).
pub(crate) fn is_window_only(name: &str) -> bool {
    matches!(
        name,
        "row_number"
            | "rank"
            | "dense_rank"
            | "percent_rank"
            | "cume_dist"
            | "ntile"
            | "lag"
            | "lead"
            | "first_value"
            | "last_value"
            | "nth_value"
    )
}

fn int_literal(e: &ast::Expr) -> bool {
    matches!(e, ast::Expr::Value(v) if matches!(v.value, ast::Value::Number(..)))
}

/// True for an expression fixed for the whole execution: literals and
/// parameters only (no columns, subqueries, aggregates or windows).
fn is_bound_constant(e: &Expr) -> bool {
    let mut ok = true;
    e.walk(&mut |x| {
        if matches!(x, Expr::Column { .. } | Expr::Outer { .. } | Expr::Subquery(_) | Expr::Agg(_) | Expr::Window(_)) {
            ok = false;
        }
        if let Expr::Func { func, .. } = x {
            if !func.is_deterministic() {
                ok = false;
            }
        }
    });
    ok
}

fn is_temporal(t: SqlType) -> bool {
    matches!(t, SqlType::Date | SqlType::DateTime(_) | SqlType::Timestamp(_))
}

/// True when `sort` orders rows so that the window (partition keys, then
/// order keys) sees its partitions as runs in its order.
fn satisfies(sort: &[SortKey], part: &[Expr], order: &[SortKey]) -> bool {
    let p = part.len();
    if sort.len() < p + order.len() {
        return false;
    }
    let mut used = vec![false; p];
    for k in &sort[..p] {
        match (0..p).find(|&j| !used[j] && part[j] == k.expr) {
            Some(j) => used[j] = true,
            None => return false,
        }
    }
    sort[p..p + order.len()] == *order
}

impl Binder<'_> {
    /// Checks and binds a SELECT block's WINDOW clause (MySQL's
    /// `Window::setup_windows` order of checks), leaving the resolved
    /// windows in `self.windows`.
    pub(crate) fn bind_named_windows(
        &mut self,
        defs: &[ast::NamedWindowDefinition],
        scope: &[OutCol],
    ) -> Result<(), BindError> {
        self.windows.clear();
        if defs.is_empty() {
            return Ok(());
        }
        let mut specs: Vec<(String, &ast::WindowSpec)> = Vec::with_capacity(defs.len());
        for d in defs {
            match &d.1 {
                ast::NamedWindowExpr::WindowSpec(s) => specs.push((d.0.value.clone(), s)),
                ast::NamedWindowExpr::NamedWindow(_) => {
                    return Err(BindError::Syntax(format!("WINDOW {} AS needs a parenthesized window", d.0.value)))
                }
            }
        }
        // Positional ORDER BY / PARTITION BY.
        for (name, s) in &specs {
            if s.partition_by.iter().any(int_literal) || s.order_by.iter().any(|o| int_literal(&o.expr)) {
                return Err(BindError::WindowIllegalOrderBy(name.clone()));
            }
        }
        // References.
        let find = |n: &str| specs.iter().position(|(m, _)| norm(m) == norm(n));
        let mut parent: Vec<Option<usize>> = Vec::with_capacity(specs.len());
        for (_, s) in &specs {
            match &s.window_name {
                Some(base) => match find(&base.value) {
                    Some(j) => parent.push(Some(j)),
                    None => return Err(BindError::WindowNoSuchWindow(base.value.clone())),
                },
                None => parent.push(None),
            }
        }
        for i in 0..specs.len() {
            let mut seen = vec![i];
            let mut at = parent[i];
            while let Some(j) = at {
                if seen.contains(&j) {
                    return Err(BindError::WindowCircularity);
                }
                seen.push(j);
                at = parent[j];
            }
        }
        for i in 0..specs.len() {
            if parent[i].is_some() && !specs[i].1.partition_by.is_empty() {
                return Err(BindError::WindowNoChildPartitioning);
            }
            let has_dependants = parent.contains(&Some(i));
            if !has_dependants {
                let mut seen_orderer: Option<usize> = None;
                let mut at = Some(i);
                while let Some(j) = at {
                    if !specs[j].1.order_by.is_empty() {
                        match seen_orderer {
                            Some(o) => {
                                return Err(BindError::WindowNoRedefineOrderBy {
                                    window: specs[o].0.clone(),
                                    base: specs[j].0.clone(),
                                })
                            }
                            None => seen_orderer = Some(j),
                        }
                    }
                    at = parent[j];
                }
            } else if specs[i].1.window_frame.is_some() {
                return Err(BindError::WindowNoInheritFrame(specs[i].0.clone()));
            }
        }
        for (i, (name, _)) in specs.iter().enumerate() {
            if specs.iter().enumerate().any(|(j, (m, _))| j != i && norm(m) == norm(name)) {
                return Err(BindError::WindowDuplicateName(name.clone()));
            }
        }
        // Bind, ancestors first.
        let mut bound: Vec<Option<BoundWindow>> = vec![None; specs.len()];
        for i in 0..specs.len() {
            let mut chain = vec![i];
            while let Some(j) = chain.last().and_then(|&k| parent[k]) {
                chain.push(j);
            }
            for &k in chain.iter().rev() {
                if bound[k].is_some() {
                    continue;
                }
                let (name, s) = &specs[k];
                let base = parent[k].and_then(|j| bound[j].clone());
                let w = self.bind_window_parts(s, base.as_ref(), name, scope)?;
                bound[k] = Some(w);
            }
        }
        self.windows = specs.iter().zip(bound).filter_map(|((n, _), b)| b.map(|b| (n.clone(), b))).collect::<Vec<_>>();
        Ok(())
    }

    /// Binds one window's own PARTITION BY, ORDER BY and frame on top of
    /// what it inherits.
    fn bind_window_parts(
        &mut self,
        s: &ast::WindowSpec,
        base: Option<&BoundWindow>,
        name: &str,
        scope: &[OutCol],
    ) -> Result<BoundWindow, BindError> {
        let saved_spec = self.in_window_spec.replace(name.to_string());
        let saved_ok = std::mem::replace(&mut self.window_ok, false);
        let r = self.bind_window_parts_inner(s, base, name, scope);
        self.in_window_spec = saved_spec;
        self.window_ok = saved_ok;
        r
    }

    fn bind_window_parts_inner(
        &mut self,
        s: &ast::WindowSpec,
        base: Option<&BoundWindow>,
        name: &str,
        scope: &[OutCol],
    ) -> Result<BoundWindow, BindError> {
        if s.partition_by.iter().any(int_literal) || s.order_by.iter().any(|o| int_literal(&o.expr)) {
            return Err(BindError::WindowIllegalOrderBy(name.to_string()));
        }
        let mut partition_by = Vec::with_capacity(s.partition_by.len());
        let pctx = ExprCtx { allow_agg: true, clause: "window partition by", aliases: &[] };
        // Partitions and orders of collated text follow the collation
        // (weight strings, `coercion`).
        for e in &s.partition_by {
            let e = self.bind_scalar(e, scope, pctx)?;
            partition_by.push(super::coercion::weigh_key(SortKey { expr: e, desc: false }).expr);
        }
        let mut order_by = Vec::with_capacity(s.order_by.len());
        let octx = ExprCtx { allow_agg: true, clause: "window order by", aliases: &[] };
        for o in &s.order_by {
            let e = self.bind_scalar(&o.expr, scope, octx)?;
            let desc = matches!(o.options.sort, Some(ast::OrderBySort::Desc));
            order_by.push(super::coercion::order_key(SortKey { expr: e, desc }));
        }
        if let Some(b) = base {
            partition_by = b.partition_by.clone();
            if order_by.is_empty() {
                order_by = b.order_by.clone();
            }
        }
        let frame = match &s.window_frame {
            Some(f) => Some(self.bind_frame(f, &order_by, name, scope)?),
            None => None,
        };
        Ok(BoundWindow { partition_by, order_by, frame })
    }

    /// A frame as written, checked as MySQL checks it
    /// (`setup_range_expressions`, then `check_border_sanity`).
    fn bind_frame(
        &mut self,
        f: &ast::WindowFrame,
        order: &[SortKey],
        name: &str,
        scope: &[OutCol],
    ) -> Result<WindowFrame, BindError> {
        let units = match f.units {
            WindowFrameUnits::Rows => FrameUnits::Rows,
            WindowFrameUnits::Range => FrameUnits::Range,
            WindowFrameUnits::Groups => return Err(BindError::NotSupported("GROUPS".into())),
        };
        let mut start = f.start_bound.clone();
        let mut end = f.end_bound.clone().unwrap_or(WindowFrameBound::CurrentRow);
        let value = |b: &WindowFrameBound| -> Option<ast::Expr> {
            match b {
                WindowFrameBound::Preceding(Some(e)) | WindowFrameBound::Following(Some(e)) => Some((**e).clone()),
                _ => None,
            }
        };
        if units == FrameUnits::Range {
            if order.is_empty() {
                if start == WindowFrameBound::CurrentRow {
                    start = WindowFrameBound::Preceding(None);
                }
                if end == WindowFrameBound::CurrentRow {
                    end = WindowFrameBound::Following(None);
                }
            }
            for b in [&start, &end] {
                let Some(v) = value(b) else { continue };
                let key = match order {
                    [k] => k.expr.ty(),
                    _ => return Err(BindError::WindowRangeFrameOrderType(name.to_string())),
                };
                if !(key.is_numeric() || is_temporal(key)) {
                    return Err(BindError::WindowRangeFrameOrderType(name.to_string()));
                }
                let interval = matches!(v, ast::Expr::Interval(_));
                if is_temporal(key) && !interval {
                    return Err(BindError::WindowRangeFrameTemporalType(name.to_string()));
                }
                if !is_temporal(key) && interval {
                    return Err(BindError::WindowRangeFrameNumericType(name.to_string()));
                }
            }
        }
        if matches!(start, WindowFrameBound::Following(None)) {
            return Err(BindError::WindowFrameStartIllegal(name.to_string()));
        }
        if matches!(end, WindowFrameBound::Preceding(None)) {
            return Err(BindError::WindowFrameEndIllegal(name.to_string()));
        }
        let crossed = matches!(
            (&start, &end),
            (WindowFrameBound::CurrentRow, WindowFrameBound::Preceding(Some(_)))
                | (WindowFrameBound::Following(Some(_)), WindowFrameBound::CurrentRow)
                | (WindowFrameBound::Following(Some(_)), WindowFrameBound::Preceding(Some(_)))
        );
        if crossed {
            return Err(BindError::WindowFrameIllegal(name.to_string()));
        }
        let start = self.bind_bound(&start, units, order, name, scope)?;
        let end = self.bind_bound(&end, units, order, name, scope)?;
        Ok(WindowFrame { units, start, end })
    }

    fn bind_bound(
        &mut self,
        b: &WindowFrameBound,
        units: FrameUnits,
        order: &[SortKey],
        name: &str,
        scope: &[OutCol],
    ) -> Result<FrameBound, BindError> {
        let (v, preceding) = match b {
            WindowFrameBound::CurrentRow => return Ok(FrameBound::CurrentRow),
            WindowFrameBound::Preceding(None) => return Ok(FrameBound::UnboundedPreceding),
            WindowFrameBound::Following(None) => return Ok(FrameBound::UnboundedFollowing),
            WindowFrameBound::Preceding(Some(v)) => (v, true),
            WindowFrameBound::Following(Some(v)) => (v, false),
        };
        let illegal = || BindError::WindowFrameIllegal(name.to_string());
        let ctx = ExprCtx::plain("window frame bound");
        let interval = match v.as_ref() {
            ast::Expr::Interval(iv) => Some(iv),
            _ => None,
        };
        if units == FrameUnits::Rows && interval.is_some() {
            return Err(BindError::WindowRowsIntervalUse(name.to_string()));
        }
        let (amount, unit) = match interval {
            Some(iv) => {
                let unit = match &iv.leading_field {
                    Some(f) => interval_unit(f)?,
                    None => return Err(BindError::Syntax("INTERVAL needs a unit".into())),
                };
                (self.bind_scalar(&iv.value, scope, ctx)?, Some(unit))
            }
            None => (self.bind_scalar(v, scope, ctx)?, None),
        };
        if !is_bound_constant(&amount) {
            return Err(BindError::WindowRangeBoundNotConstant(name.to_string()));
        }
        let negative = match &amount {
            Expr::Literal(Value::Null, _) => true,
            Expr::Literal(Value::Int(i), _) => *i < 0,
            Expr::Literal(Value::Decimal(d), _) => d.signum() < 0,
            Expr::Literal(Value::Double(f), _) => *f < 0.0,
            _ => false,
        };
        if negative {
            return Err(illegal());
        }
        if units == FrameUnits::Rows {
            let integral = matches!(&amount, Expr::Literal(Value::Int(_) | Value::UInt(_), _) | Expr::Param { .. });
            if !integral {
                return Err(illegal());
            }
            return Ok(if preceding { FrameBound::Preceding(amount) } else { FrameBound::Following(amount) });
        }
        // RANGE: the bound's key from the current row's key (column 0).
        let (key_ty, desc) = match order {
            [k] => (k.expr.ty(), k.desc),
            _ => return Err(BindError::WindowRangeFrameOrderType(name.to_string())),
        };
        let cur = Box::new(Expr::Column { index: 0, ty: key_ty });
        // PRECEDING reaches smaller keys ascending, larger ones descending.
        let subtract = preceding != desc;
        let target = match unit {
            Some(unit) => Expr::Interval {
                arg: cur,
                amount: Box::new(amount),
                unit,
                negate: subtract,
                ty: func::interval_return_type(key_ty, unit),
            },
            None => {
                let op = if subtract { mizzle_types::ops::ArithOp::Sub } else { mizzle_types::ops::ArithOp::Add };
                let ty = arith_type(op, key_ty, amount.ty());
                Expr::Arith { op, left: cur, right: Box::new(amount), ty }
            }
        };
        Ok(if preceding { FrameBound::Preceding(target) } else { FrameBound::Following(target) })
    }

    /// The window of an OVER clause, with named windows merged in and the
    /// frame defaulted (invariants 2 and 3).
    fn bind_over(&mut self, over: &WindowType, scope: &[OutCol]) -> Result<WindowSpec, BindError> {
        let w = match over {
            WindowType::NamedWindow(id) => self
                .windows
                .iter()
                .find(|(n, _)| norm(n) == norm(&id.value))
                .map(|(_, w)| w.clone())
                .ok_or_else(|| BindError::WindowNoSuchWindow(id.value.clone()))?,
            WindowType::WindowSpec(s) => {
                let base = match &s.window_name {
                    None => None,
                    Some(b) => {
                        let (bn, bw) = self
                            .windows
                            .iter()
                            .find(|(n, _)| norm(n) == norm(&b.value))
                            .cloned()
                            .ok_or_else(|| BindError::WindowNoSuchWindow(b.value.clone()))?;
                        if !s.partition_by.is_empty() {
                            return Err(BindError::WindowNoChildPartitioning);
                        }
                        if !s.order_by.is_empty() && !bw.order_by.is_empty() {
                            return Err(BindError::WindowNoRedefineOrderBy { window: UNNAMED.into(), base: bn });
                        }
                        if bw.frame.is_some() {
                            return Err(BindError::WindowNoInheritFrame(bn));
                        }
                        Some(bw)
                    }
                };
                self.bind_window_parts(s, base.as_ref(), UNNAMED, scope)?
            }
        };
        let frame = match w.frame {
            Some(f) => f,
            None if w.order_by.is_empty() => WindowFrame::whole(),
            None => WindowFrame {
                units: FrameUnits::Range,
                start: FrameBound::UnboundedPreceding,
                end: FrameBound::CurrentRow,
            },
        };
        Ok(WindowSpec { partition_by: w.partition_by, order_by: w.order_by, frame })
    }

    /// Binds `name(args) [RESPECT NULLS] OVER ...` (invariant 1).
    pub(crate) fn bind_window_call(
        &mut self,
        f: &ast::Function,
        name: &str,
        over: &WindowType,
        scope: &[OutCol],
        ctx: ExprCtx<'_>,
    ) -> Result<Expr, BindError> {
        if let Some(w) = &self.in_window_spec {
            return Err(BindError::WindowNestedInSpec(w.clone()));
        }
        if !self.window_ok {
            return Err(BindError::WindowInvalidUse(name.to_string()));
        }
        let func = match name {
            "row_number" => WindowFunc::RowNumber,
            "rank" => WindowFunc::Rank,
            "dense_rank" => WindowFunc::DenseRank,
            "percent_rank" => WindowFunc::PercentRank,
            "cume_dist" => WindowFunc::CumeDist,
            "ntile" => WindowFunc::Ntile,
            "lag" => WindowFunc::Lag,
            "lead" => WindowFunc::Lead,
            "first_value" => WindowFunc::FirstValue,
            "last_value" => WindowFunc::LastValue,
            "nth_value" => WindowFunc::NthValue,
            other => match agg_func(other) {
                Some(AggFunc::GroupConcat) => {
                    return Err(BindError::NotSupported("group_concat as window function".into()))
                }
                Some(AggFunc::JsonArrayAgg | AggFunc::JsonObjectAgg) => {
                    return Err(BindError::NotSupported(format!("{other} as window function")))
                }
                Some(AggFunc::AnyValue) | None => {
                    return Err(BindError::Syntax(format!("'{other}' is not a window function")))
                }
                Some(a) => WindowFunc::Agg(a),
            },
        };
        match f.null_treatment {
            Some(NullTreatment::IgnoreNulls) => return Err(BindError::NotSupported("IGNORE NULLS".into())),
            Some(NullTreatment::RespectNulls)
                if !matches!(
                    func,
                    WindowFunc::Lag
                        | WindowFunc::Lead
                        | WindowFunc::FirstValue
                        | WindowFunc::LastValue
                        | WindowFunc::NthValue
                ) =>
            {
                return Err(BindError::Syntax(format!("RESPECT NULLS in {name}()")))
            }
            _ => {}
        }
        let (args, list) = self.function_args(f)?;
        if let Some(l) = list {
            if matches!(l.duplicate_treatment, Some(ast::DuplicateTreatment::Distinct)) {
                return Err(BindError::NotSupported("<window function>(DISTINCT ..)".into()));
            }
            if !l.clauses.is_empty() {
                return Err(BindError::Syntax(format!("clauses inside {name}()")));
            }
        }
        // Arguments: no window functions inside (3593).
        let saved = std::mem::replace(&mut self.window_ok, false);
        let bound = self.bind_window_args(func, name, &args, scope, ctx);
        self.window_ok = saved;
        let (func, mut bound) = bound?;
        let spec = self.bind_over(over, scope)?;
        let wrong = || BindError::WrongArguments(name.to_string());
        let count_arg = |e: &Expr, positive: bool| -> Result<(), BindError> {
            match e {
                Expr::Literal(Value::Int(i), _) if *i > 0 || (!positive && *i == 0) => Ok(()),
                Expr::Literal(Value::UInt(u), _) if *u > 0 || !positive => Ok(()),
                Expr::Param { .. } => Ok(()),
                _ => Err(BindError::WrongArguments(name.to_string())),
            }
        };
        let ty = match func {
            WindowFunc::RowNumber | WindowFunc::Rank | WindowFunc::DenseRank => {
                if !bound.is_empty() {
                    return Err(BindError::Syntax(format!("{name}() takes no arguments")));
                }
                SqlType::BIGINT
            }
            WindowFunc::PercentRank | WindowFunc::CumeDist => {
                if !bound.is_empty() {
                    return Err(BindError::Syntax(format!("{name}() takes no arguments")));
                }
                SqlType::Double
            }
            WindowFunc::Ntile => {
                let [n] = bound.as_slice() else { return Err(BindError::WrongParamCount(name.to_string())) };
                count_arg(n, true)?;
                SqlType::UBIGINT
            }
            WindowFunc::Lag | WindowFunc::Lead => {
                if bound.is_empty() || bound.len() > 3 {
                    return Err(BindError::WrongParamCount(name.to_string()));
                }
                if bound.len() == 1 {
                    bound.push(Expr::Literal(Value::Int(1), SqlType::BIGINT));
                }
                count_arg(&bound[1], false)?;
                let ty = match bound.get(2) {
                    Some(d) => unify(bound[0].ty(), d.ty()),
                    None => bound[0].ty(),
                };
                bound[0] = coerce(bound[0].clone(), ty);
                if let Some(d) = bound.get_mut(2) {
                    *d = coerce(d.clone(), ty);
                }
                ty
            }
            WindowFunc::FirstValue | WindowFunc::LastValue => {
                if bound.len() != 1 {
                    return Err(BindError::WrongParamCount(name.to_string()));
                }
                bound[0].ty()
            }
            WindowFunc::NthValue => {
                if bound.len() != 2 {
                    return Err(BindError::WrongParamCount(name.to_string()));
                }
                count_arg(&bound[1], true).map_err(|_| wrong())?;
                bound[0].ty()
            }
            WindowFunc::Agg(a) => {
                let ok = match a {
                    AggFunc::CountStar => bound.is_empty(),
                    AggFunc::Count => !bound.is_empty(),
                    _ => bound.len() == 1,
                };
                if !ok {
                    return Err(BindError::WrongParamCount(name.to_string()));
                }
                agg_type(a, bound.first().map(|b| b.ty()).unwrap_or(SqlType::Null))
            }
        };
        Ok(Expr::Window(Box::new(WindowCall { func, args: bound, spec, ty })))
    }

    fn bind_window_args(
        &mut self,
        func: WindowFunc,
        name: &str,
        args: &[&FunctionArgExpr],
        scope: &[OutCol],
        ctx: ExprCtx<'_>,
    ) -> Result<(WindowFunc, Vec<Expr>), BindError> {
        let mut func = func;
        let mut bound = Vec::with_capacity(args.len());
        for a in args {
            match a {
                FunctionArgExpr::Wildcard if func == WindowFunc::Agg(AggFunc::Count) => {
                    func = WindowFunc::Agg(AggFunc::CountStar)
                }
                FunctionArgExpr::Expr(x) => bound.push(self.bind_scalar(x, scope, ctx)?),
                _ => return Err(BindError::Syntax(format!("'*' is not allowed in {name}()"))),
            }
        }
        Ok((func, bound))
    }

    /// Replaces the window calls in `exprs` by columns of new `Plan::Window`
    /// nodes over `input` (invariant 4) and returns the new input.
    pub(crate) fn plan_windows(&mut self, input: Plan, exprs: &mut [&mut Expr]) -> Result<Plan, BindError> {
        // Distinct calls, in order of appearance.
        let mut calls: Vec<WindowCall> = Vec::new();
        for e in exprs.iter() {
            e.walk(&mut |x| {
                if let Expr::Window(w) = x {
                    if !calls.iter().any(|c| c == w.as_ref()) {
                        calls.push((**w).clone());
                    }
                }
            });
        }
        if calls.is_empty() {
            return Ok(input);
        }
        // Calls with equal windows share a WindowDef.
        let mut defs: Vec<(WindowSpec, Vec<usize>)> = Vec::new();
        for (i, c) in calls.iter().enumerate() {
            match defs.iter_mut().find(|(s, _)| *s == c.spec) {
                Some((_, v)) => v.push(i),
                None => defs.push((c.spec.clone(), vec![i])),
            }
        }
        // Longest sort first; each window joins the first node whose sort
        // serves it.
        let mut order: Vec<usize> = (0..defs.len()).collect();
        order.sort_by_key(|&d| std::cmp::Reverse(defs[d].0.partition_by.len() + defs[d].0.order_by.len()));
        let mut nodes: Vec<(Vec<SortKey>, Vec<usize>)> = Vec::new();
        for d in order {
            let s = &defs[d].0;
            match nodes.iter_mut().find(|(sort, _)| satisfies(sort, &s.partition_by, &s.order_by)) {
                Some((_, members)) => members.push(d),
                None => {
                    let mut sort: Vec<SortKey> =
                        s.partition_by.iter().map(|e| SortKey { expr: e.clone(), desc: false }).collect();
                    sort.extend(s.order_by.iter().cloned());
                    nodes.push((sort, vec![d]));
                }
            }
        }
        // Build the nodes; remember each call's output column.
        let mut column: Vec<Option<(usize, SqlType)>> = vec![None; calls.len()];
        let mut plan = input;
        for (sort, members) in nodes {
            let mut cols = plan.columns();
            let mut windows = Vec::with_capacity(members.len());
            for d in members {
                let (spec, ids) = &defs[d];
                let mut fn_calls = Vec::with_capacity(ids.len());
                for &i in ids {
                    let c = &calls[i];
                    column[i] = Some((cols.len(), c.ty));
                    cols.push(OutCol {
                        name: format!("window_{i}"),
                        table: None,
                        origin: None,
                        ty: c.ty,
                        nullable: true,
                        hidden: false,
                        collation: None,
                    });
                    fn_calls.push(WindowFnCall { func: c.func, args: c.args.clone(), ty: c.ty });
                }
                windows.push(WindowDef {
                    partition_by: spec.partition_by.clone(),
                    order_by: spec.order_by.clone(),
                    frame: spec.frame.clone(),
                    calls: fn_calls,
                });
            }
            if !sort.is_empty() {
                plan = Plan::Sort { input: Box::new(plan), keys: sort };
            }
            plan = Plan::Window { input: Box::new(plan), windows, cols };
        }
        for e in exprs.iter_mut() {
            let taken = std::mem::replace(&mut **e, Expr::Literal(Value::Null, SqlType::Null));
            **e = taken.map(&mut |x| match x {
                Expr::Window(w) => match calls.iter().position(|c| c == w.as_ref()).and_then(|i| column[i]) {
                    Some((index, ty)) => Expr::Column { index, ty },
                    None => Expr::Window(w),
                },
                other => other,
            });
        }
        Ok(plan)
    }
}
