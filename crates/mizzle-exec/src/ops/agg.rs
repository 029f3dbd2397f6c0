//! Hash aggregation: GROUP BY with COUNT, SUM, AVG, MIN, MAX,
//! GROUP_CONCAT, BIT_*, variance family and ANY_VALUE.
//!
//! Invariants:
//! 1. Without GROUP BY the operator returns exactly one row, even over no
//!    input (COUNT = 0, the others NULL).
//! 2. NULL arguments are ignored by every aggregate but COUNT(*) and
//!    ANY_VALUE.
//! 3. Sums of integers are exact (i128, then DECIMAL); results take the
//!    aggregate's bound type (DECIMAL for SUM/AVG of exact values).

use mizzle_sql::expr::{AggCall, AggFunc, Expr};
use mizzle_types::{Decimal, ErrorCode, GroupKey, TypeError, Value, ValueKind, Warning};

use crate::build::{Operator, Row, BATCH};
use crate::compile::Compiled;
use crate::ctx::Ctx;
use crate::error::ExecError;
use crate::eval::eval;
use crate::ops::hashkey::{KeyIndex, KeySet};

const GROUP_CONCAT_MAX_LEN: usize = 1024;

#[derive(Clone)]
enum Sum {
    Int(i128),
    Dec(Decimal),
    Dbl(f64),
}

impl Sum {
    fn add(&mut self, v: &Value) -> Result<(), ExecError> {
        match (&mut *self, v) {
            (Sum::Int(s), Value::Int(i)) => match s.checked_add(*i as i128) {
                Some(x) => *s = x,
                None => *self = Sum::Dec(to_dec(*s)?.checked_add(Decimal::from_i64(*i)).ok_or_else(range)?),
            },
            (Sum::Int(s), Value::UInt(u)) => match s.checked_add(*u as i128) {
                Some(x) => *s = x,
                None => *self = Sum::Dec(to_dec(*s)?.checked_add(Decimal::from_u64(*u)).ok_or_else(range)?),
            },
            (Sum::Int(s), Value::Decimal(d)) => *self = Sum::Dec(to_dec(*s)?.checked_add(**d).ok_or_else(range)?),
            (Sum::Dec(s), Value::Int(_) | Value::UInt(_) | Value::Decimal(_)) => {
                let d = v.to_decimal().flatten().ok_or_else(range)?;
                *s = s.checked_add(d).ok_or_else(range)?;
            }
            (Sum::Dbl(s), v) => *s += v.to_f64().unwrap_or(0.0),
            (other, v) => {
                let cur = other.as_f64();
                *other = Sum::Dbl(cur + v.to_f64().unwrap_or(0.0));
            }
        }
        Ok(())
    }

    fn as_f64(&self) -> f64 {
        match self {
            Sum::Int(i) => *i as f64,
            Sum::Dec(d) => d.to_f64(),
            Sum::Dbl(f) => *f,
        }
    }

    fn as_dec(&self) -> Result<Decimal, ExecError> {
        match self {
            Sum::Int(i) => to_dec(*i),
            Sum::Dec(d) => Ok(*d),
            Sum::Dbl(f) => Decimal::from_f64(*f).ok_or_else(range),
        }
    }
}

fn range() -> ExecError {
    ExecError::Type(TypeError::OutOfRange { ty: "DECIMAL", expr: "SUM".into() })
}

fn to_dec(i: i128) -> Result<Decimal, ExecError> {
    Decimal::new(i, 0).ok_or_else(range)
}

enum Acc {
    Count(i64),
    Sum(Option<Sum>),
    Avg(Option<Sum>, i64),
    MinMax(Option<Value>),
    /// GROUP_CONCAT items (sort keys, bytes) and whether any input was a
    /// binary string (then the result is one too: bytes are never read as
    /// text).
    Concat(Vec<(Vec<Value>, Vec<u8>)>, bool),
    Bit(u64),
    Var {
        n: f64,
        mean: f64,
        m2: f64,
    },
    Any(Option<Value>),
    /// JSON_ARRAYAGG / JSON_OBJECTAGG: the values (or key-value pairs) so far.
    Json(Option<mizzle_types::json::Json>),
}

struct AggState {
    acc: Acc,
    seen: Option<KeySet>,
}

fn init(call: &AggCall) -> AggState {
    let acc = match call.func {
        AggFunc::CountStar | AggFunc::Count => Acc::Count(0),
        AggFunc::Sum => Acc::Sum(None),
        AggFunc::Avg => Acc::Avg(None, 0),
        AggFunc::Min | AggFunc::Max => Acc::MinMax(None),
        AggFunc::GroupConcat => Acc::Concat(Vec::new(), false),
        AggFunc::BitAnd => Acc::Bit(u64::MAX),
        AggFunc::BitOr | AggFunc::BitXor => Acc::Bit(0),
        AggFunc::StddevPop | AggFunc::StddevSamp | AggFunc::VarPop | AggFunc::VarSamp => {
            Acc::Var { n: 0.0, mean: 0.0, m2: 0.0 }
        }
        AggFunc::AnyValue => Acc::Any(None),
        AggFunc::JsonArrayAgg | AggFunc::JsonObjectAgg => Acc::Json(None),
    };
    AggState { acc, seen: call.distinct.then(KeySet::default) }
}

fn start_sum(v: &Value) -> Sum {
    match v {
        Value::Int(_) | Value::UInt(_) => Sum::Int(0),
        Value::Decimal(_) => Sum::Dec(Decimal::ZERO),
        _ => Sum::Dbl(0.0),
    }
}

/// Folds one row into an aggregate's state; `args` is a reused buffer.
/// `compiled` holds the call's arguments compiled.
fn update(
    call: &AggCall,
    compiled: &[Compiled],
    st: &mut AggState,
    row: &Row,
    args: &mut Vec<Value>,
    ctx: &mut Ctx<'_>,
) -> Result<(), ExecError> {
    if call.func == AggFunc::CountStar {
        if let Acc::Count(n) = &mut st.acc {
            *n += 1;
        }
        return Ok(());
    }
    args.clear();
    for a in compiled {
        args.push(a.eval(row, ctx)?);
    }
    if call.func == AggFunc::AnyValue {
        if let Acc::Any(slot @ None) = &mut st.acc {
            *slot = Some(args.first_mut().map(std::mem::take).unwrap_or(Value::Null));
        }
        return Ok(());
    }
    if let Acc::Json(acc) = &mut st.acc {
        // NULL values are JSON nulls here; a NULL key is an error.
        use mizzle_types::json::{object_insert, Json};
        let value = |v: &Value| v.to_json().unwrap_or(Json::Null);
        match call.func {
            AggFunc::JsonObjectAgg => {
                let (Some(k), Some(v)) = (args.first(), args.get(1)) else { return Ok(()) };
                if k.is_null() {
                    return Err(TypeError::Json(mizzle_types::error::JsonErrorAt::site(
                        mizzle_types::error::JsonErrorSite::NullKey,
                    ))
                    .into());
                }
                let Json::Object(m) = acc.get_or_insert_with(|| Json::Object(Vec::new())) else { return Ok(()) };
                object_insert(m, k.to_text_lossy(), value(v));
            }
            _ => {
                let v = args.first().map(value).unwrap_or(Json::Null);
                if let Json::Array(a) = acc.get_or_insert_with(|| Json::Array(Vec::new())) {
                    a.push(v);
                }
            }
        }
        return Ok(());
    }
    if args.iter().any(|v| v.is_null()) {
        return Ok(());
    }
    if let Some(seen) = &mut st.seen {
        if !seen.insert(GroupKey(args.clone())) {
            return Ok(());
        }
    }
    let v = args.first_mut().map(std::mem::take).unwrap_or(Value::Null);
    match &mut st.acc {
        Acc::Count(n) => *n += 1,
        Acc::Sum(s) => s.get_or_insert_with(|| start_sum(&v)).add(&v)?,
        Acc::Avg(s, n) => {
            s.get_or_insert_with(|| start_sum(&v)).add(&v)?;
            *n += 1;
        }
        Acc::MinMax(cur) => {
            let better = match cur {
                None => true,
                Some(c) => {
                    // A collated argument (marked by the binder) compares
                    // under its collation.
                    let o = match (&v, &*c, call.args.first()) {
                        (Value::Text(a), Value::Text(b), Some(Expr::Collate { collation, .. })) => {
                            collation.compare(a, b)
                        }
                        _ => v.sort_cmp(c),
                    };
                    if call.func == AggFunc::Min {
                        o == std::cmp::Ordering::Less
                    } else {
                        o == std::cmp::Ordering::Greater
                    }
                }
            };
            if better {
                *cur = Some(v);
            }
        }
        Acc::Concat(items, binary) => {
            let mut text = Vec::new();
            for a in std::iter::once(&v).chain(args.iter().skip(1)) {
                match a {
                    Value::Bytes(b) => {
                        *binary = true;
                        text.extend_from_slice(b);
                    }
                    other => text.extend_from_slice(other.to_text_lossy().as_bytes()),
                }
            }
            let mut keys = Vec::with_capacity(call.order_by.len());
            for k in &call.order_by {
                keys.push(eval(&k.expr, row, ctx)?);
            }
            items.push((keys, text));
        }
        Acc::Bit(b) => {
            let u = match &v {
                Value::Int(i) => *i as u64,
                Value::UInt(u) => *u,
                other => other.to_i64_lossy().unwrap_or(0) as u64,
            };
            *b = match call.func {
                AggFunc::BitAnd => *b & u,
                AggFunc::BitOr => *b | u,
                _ => *b ^ u,
            };
        }
        Acc::Var { n, mean, m2 } => {
            let x = v.to_f64().unwrap_or(0.0);
            *n += 1.0;
            let d = x - *mean;
            *mean += d / *n;
            *m2 += d * (x - *mean);
        }
        Acc::Any(_) | Acc::Json(_) => {}
    }
    Ok(())
}

fn finish(call: &AggCall, st: AggState, ctx: &mut Ctx<'_>) -> Result<Value, ExecError> {
    let kind = call.ty.kind();
    Ok(match st.acc {
        Acc::Count(n) => Value::Int(n),
        Acc::Sum(None) | Acc::Avg(None, _) => Value::Null,
        Acc::Sum(Some(s)) => match kind {
            ValueKind::Decimal => Value::decimal(s.as_dec()?),
            _ => Value::Double(s.as_f64()),
        },
        Acc::Avg(Some(s), n) => match kind {
            ValueKind::Decimal => {
                let scale = match call.ty {
                    mizzle_types::SqlType::Decimal { scale, .. } => scale,
                    _ => 4,
                };
                let d = s.as_dec()?;
                Value::decimal(d.checked_div(Decimal::from_i64(n), scale).ok_or_else(range)?)
            }
            _ => Value::Double(s.as_f64() / n as f64),
        },
        Acc::MinMax(v) | Acc::Any(v) => v.unwrap_or(Value::Null),
        Acc::Json(j) => j.map(|j| Value::json(&j)).unwrap_or(Value::Null),
        Acc::Concat(mut items, binary) => {
            if items.is_empty() {
                return Ok(Value::Null);
            }
            if !call.order_by.is_empty() {
                items.sort_by(|a, b| {
                    for (i, k) in call.order_by.iter().enumerate() {
                        let o = a.0[i].sort_cmp(&b.0[i]);
                        let o = if k.desc { o.reverse() } else { o };
                        if o != std::cmp::Ordering::Equal {
                            return o;
                        }
                    }
                    std::cmp::Ordering::Equal
                });
            }
            let mut s: Vec<u8> = Vec::new();
            for (i, (_, t)) in items.iter().enumerate() {
                if i > 0 {
                    s.extend_from_slice(call.separator.as_bytes());
                }
                s.extend_from_slice(t);
            }
            if s.len() > GROUP_CONCAT_MAX_LEN {
                let mut cut = GROUP_CONCAT_MAX_LEN;
                // Text is cut at a character boundary (a continuation byte
                // is 0b10xxxxxx).
                while !binary && cut > 0 && s.get(cut).is_some_and(|b| b & 0xC0 == 0x80) {
                    cut -= 1;
                }
                s.truncate(cut);
                ctx.warn(Warning::new(ErrorCode::DataTruncated, "Row was cut by GROUP_CONCAT()"));
            }
            if binary {
                Value::Bytes(std::sync::Arc::from(s))
            } else {
                match String::from_utf8(s) {
                    Ok(t) => Value::text(&t),
                    Err(_) => return Err(ExecError::Internal("GROUP_CONCAT of text made invalid UTF-8".into())),
                }
            }
        }
        Acc::Bit(b) => Value::UInt(b),
        Acc::Var { n, m2, .. } => {
            let samp = matches!(call.func, AggFunc::StddevSamp | AggFunc::VarSamp);
            if n == 0.0 || (samp && n < 2.0) {
                return Ok(Value::Null);
            }
            let var = m2 / if samp { n - 1.0 } else { n };
            match call.func {
                AggFunc::StddevPop | AggFunc::StddevSamp => Value::Double(var.sqrt()),
                _ => Value::Double(var),
            }
        }
    })
}

/// The aggregation operator. Hashes rows into groups, or, when its input
/// comes grouped (`streaming`: optimizer rule 7, the scan's key order),
/// folds each run of equal keys as it arrives and hands a group on when
/// the next one begins, holding one group at a time. Both give the groups
/// in order of first appearance.
pub struct AggOp {
    input: Option<Box<dyn Operator>>,
    groups: Vec<Expr>,
    aggs: Vec<AggCall>,
    out: Option<std::vec::IntoIter<Row>>,
    ordered: bool,
    stream: Option<Stream>,
}

/// The state of a streaming aggregation between batches.
struct Stream {
    group_exprs: Vec<Compiled>,
    arg_exprs: Vec<Vec<Compiled>>,
    /// The group being folded: its key and states.
    cur: Option<(GroupKey, Vec<AggState>)>,
    key: GroupKey,
    args: Vec<Value>,
    done: bool,
}

impl AggOp {
    /// Aggregates `input` by `groups`.
    pub fn new(input: Box<dyn Operator>, groups: Vec<Expr>, aggs: Vec<AggCall>) -> AggOp {
        AggOp { input: Some(input), groups, aggs, out: None, ordered: false, stream: None }
    }

    /// Aggregates by streaming when `ordered`: the input's rows come
    /// grouped by the group keys (rows with equal keys adjacent).
    pub fn streaming(mut self, ordered: bool) -> AggOp {
        self.ordered = ordered && !self.groups.is_empty();
        self
    }

    fn compiled(&self) -> (Vec<Compiled>, Vec<Vec<Compiled>>) {
        let group_exprs: Vec<Compiled> = self.groups.iter().cloned().map(Compiled::new).collect();
        let arg_exprs: Vec<Vec<Compiled>> =
            self.aggs.iter().map(|a| a.args.iter().cloned().map(Compiled::new).collect()).collect();
        (group_exprs, arg_exprs)
    }

    /// The group's output row: its key, then each aggregate's value.
    fn finish_group(&self, key: Vec<Value>, states: Vec<AggState>, ctx: &mut Ctx<'_>) -> Result<Row, ExecError> {
        let mut row = key;
        for (call, st) in self.aggs.iter().zip(states) {
            row.push(finish(call, st, ctx)?);
        }
        Ok(row)
    }

    fn run(&mut self, ctx: &mut Ctx<'_>) -> Result<Vec<Row>, ExecError> {
        let (group_exprs, arg_exprs) = self.compiled();
        // The input stays, so the operator can run again (`reset`).
        let Some(input) = self.input.as_mut() else { return Ok(Vec::new()) };
        let mut index: KeyIndex<usize> = KeyIndex::new();
        let mut key = GroupKey(Vec::with_capacity(self.groups.len()));
        let mut args = Vec::new();
        let mut groups: Vec<(Vec<mizzle_types::Value>, Vec<AggState>)> = Vec::new();
        if self.groups.is_empty() {
            groups.push((Vec::new(), self.aggs.iter().map(init).collect()));
        }
        while let Some(batch) = input.next(ctx)? {
            for row in &batch {
                let slot = if self.groups.is_empty() {
                    0
                } else {
                    key.0.clear();
                    for g in &group_exprs {
                        key.0.push(g.eval(row, ctx)?);
                    }
                    *index.get_or_insert(&key, || {
                        groups.push((key.0.clone(), self.aggs.iter().map(init).collect()));
                        groups.len() - 1
                    })
                };
                let (_, states) = &mut groups[slot];
                for ((call, st), compiled) in self.aggs.iter().zip(states.iter_mut()).zip(&arg_exprs) {
                    update(call, compiled, st, row, &mut args, ctx)?;
                }
            }
            input.recycle(batch);
        }
        let mut out = Vec::with_capacity(groups.len());
        for (key, states) in groups {
            out.push(self.finish_group(key, states, ctx)?);
        }
        Ok(out)
    }

    /// The next batch of finished groups of a streaming aggregation.
    fn next_streaming(&mut self, ctx: &mut Ctx<'_>) -> Result<Option<Vec<Row>>, ExecError> {
        let mut st = match self.stream.take() {
            Some(st) => st,
            None => {
                let (group_exprs, arg_exprs) = self.compiled();
                Stream {
                    group_exprs,
                    arg_exprs,
                    cur: None,
                    key: GroupKey(Vec::with_capacity(self.groups.len())),
                    args: Vec::new(),
                    done: false,
                }
            }
        };
        let mut out: Vec<Row> = Vec::new();
        while out.len() < BATCH && !st.done {
            let batch = match self.input.as_mut() {
                Some(input) => input.next(ctx)?,
                None => None,
            };
            let Some(batch) = batch else {
                st.done = true;
                if let Some((key, states)) = st.cur.take() {
                    out.push(self.finish_group(key.0, states, ctx)?);
                }
                break;
            };
            for row in &batch {
                st.key.0.clear();
                for g in &st.group_exprs {
                    st.key.0.push(g.eval(row, ctx)?);
                }
                if st.cur.as_ref().is_none_or(|(k, _)| *k != st.key) {
                    let fresh = (st.key.clone(), self.aggs.iter().map(init).collect());
                    if let Some((key, states)) = st.cur.replace(fresh) {
                        out.push(self.finish_group(key.0, states, ctx)?);
                    }
                }
                if let Some((_, states)) = st.cur.as_mut() {
                    for ((call, s), compiled) in self.aggs.iter().zip(states.iter_mut()).zip(&st.arg_exprs) {
                        update(call, compiled, s, row, &mut st.args, ctx)?;
                    }
                }
            }
            if let Some(input) = self.input.as_mut() {
                input.recycle(batch);
            }
        }
        let finished = st.done;
        self.stream = Some(st);
        Ok(if out.is_empty() && finished { None } else { Some(out) })
    }
}

impl Operator for AggOp {
    fn reset(&mut self) -> bool {
        self.out = None;
        self.stream = None;
        self.input.as_mut().is_some_and(|i| i.reset())
    }

    fn next(&mut self, ctx: &mut Ctx<'_>) -> Result<Option<Vec<Row>>, ExecError> {
        if self.ordered {
            return self.next_streaming(ctx);
        }
        if self.out.is_none() {
            let rows = self.run(ctx)?;
            self.out = Some(rows.into_iter());
        }
        let Some(it) = self.out.as_mut() else { return Ok(None) };
        let batch: Vec<Row> = it.take(BATCH).collect();
        Ok(if batch.is_empty() { None } else { Some(batch) })
    }
}
