//! The optimizer: rewrites bound plans into cheaper equivalent plans.
//!
//! Rules, applied bottom-up:
//! 1. **Join regions.** A tree of inner joins and filters is flattened into
//!    relations and conjuncts. Conjuncts on one relation are pushed into it;
//!    the rest join the relations greedily: start with the most filtered
//!    relation, then repeatedly add a relation connected to the joined set
//!    by an equality (hash join), a relation connected by another predicate
//!    (nested loop with the predicate), or else the next one (cross join).
//!    A projection restores the original column order.
//! 2. **Left joins.** ON conjuncts over the right side alone move into it;
//!    hashable equalities become hash keys. WHERE conjuncts over the left
//!    side alone (without subqueries) move into the left input.
//! 3. **Access paths.** A scan's filter is searched for equalities, IN lists
//!    and ranges on a prefix of the primary key or an index; the best key
//!    gives the scan's ranges. An expression equal (as bound, not as text)
//!    to a functional key part's is read as that part's hidden column
//!    first, so its index serves it (MySQL's substitution of generated
//!    columns).
//! 4. Subquery plans inside expressions are optimized too.
//! 5. **Index lookup joins** ([`lookup_join`], chosen when operators are
//!    built and shown by EXPLAIN; the plan itself is unchanged): an inner
//!    or left join whose left input is bounded (it reads through key
//!    ranges, a LIMIT or literal rows) and whose right input is a full
//!    scan of a table with a key on the join columns reads the right
//!    table by that key once per left row, instead of hashing all of it.
//! 6. **Sorts the key order gives.** An ORDER BY, all ascending or all
//!    descending (the scan then reads backwards), on columns that
//!    the scan below it (through filters and column projections) reads in
//!    key order — a prefix of its primary key or index, leaving out
//!    columns its one range fixes — needs no sort ([`scan_gives_order`]);
//!    a LIMIT above it then stops the scan early. A streaming aggregation
//!    (rule 7) passes the order of its plain-column group keys through.
//! 7. **Grouping the key order gives** ([`groups_in_key_order`]): GROUP BY
//!    keys the scan below reads in order stream (exec's `AggOp` holds one
//!    group at a time).
//!
//! Invariants:
//! 1. Every rewrite preserves the rows (as a multiset, and their order
//!    where an ORDER BY fixes it) and the column layout of its input plan.
//! 2. A conjunct a scan's ranges express exactly leaves its filter (the
//!    scan checks those rows itself: exec's scan invariant 1); the one
//!    exception, an `IN (SELECT ...)` list range, keeps its conjunct, so
//!    that range only needs to be a superset.

use std::sync::Arc;

use mizzle_dictionary::TableDef;
use mizzle_types::{SqlType, ValueKind};
use recursive::recursive;

use crate::bind::map_plan_exprs;
use crate::expr::{CmpOp, Expr, SortKey, SubqueryKind};
use crate::plan::{Access, JoinKind, KeyRange, Plan};

/// Optimizes a plan.
pub fn optimize(plan: Plan) -> Plan {
    opt(plan)
}

fn opt_subqueries(p: &mut Plan) {
    map_plan_exprs(p, &mut |e| {
        e.map(&mut |x| match x {
            Expr::Subquery(mut s) => {
                s.plan = Arc::new(opt((*s.plan).clone()));
                Expr::Subquery(s)
            }
            other => other,
        })
    });
}

#[recursive]
fn opt(p: Plan) -> Plan {
    match p {
        Plan::Filter { .. } | Plan::Join { kind: JoinKind::Inner, .. } => region(p),
        Plan::Join { left, right, kind: JoinKind::Left, equi, cond } => left_join(*left, *right, equi, cond),
        Plan::Scan { table, alias, access, filter, cols, lock, desc } => {
            let mut filter = filter;
            if let Some(f) = &mut filter {
                let mut tmp = Plan::Filter { input: Box::new(Plan::Empty { cols: vec![] }), pred: f.clone() };
                opt_subqueries(&mut tmp);
                if let Plan::Filter { pred, .. } = tmp {
                    *f = pred;
                }
            }
            let (access, filter) = match (access, filter) {
                (Access::Full, Some(f)) => choose_access(&table, &f),
                other => other,
            };
            Plan::Scan { table, alias, access, filter, cols, lock, desc }
        }
        mut other => {
            // Recurse into children, then optimize subqueries in this node.
            match &mut other {
                Plan::Project { input, .. }
                | Plan::Aggregate { input, .. }
                | Plan::Sort { input, .. }
                | Plan::Limit { input, .. }
                | Plan::Window { input, .. }
                | Plan::JsonTable { input, .. }
                | Plan::Distinct { input } => {
                    let taken = std::mem::replace(input.as_mut(), Plan::Empty { cols: vec![] });
                    **input = opt(taken);
                }
                Plan::RecursiveCte { anchor, recursive, .. } => {
                    let a = std::mem::replace(anchor.as_mut(), Plan::Empty { cols: vec![] });
                    **anchor = opt(a);
                    for r in recursive.iter_mut() {
                        let taken = std::mem::replace(r, Plan::Empty { cols: vec![] });
                        *r = opt(taken);
                    }
                }
                Plan::SetOp { left, right, .. } => {
                    let l = std::mem::replace(left.as_mut(), Plan::Empty { cols: vec![] });
                    **left = opt(l);
                    let r = std::mem::replace(right.as_mut(), Plan::Empty { cols: vec![] });
                    **right = opt(r);
                }
                _ => {}
            }
            opt_node_exprs(&mut other);
            // Rule 6: a sort the scan's key order, read forwards or
            // backwards, already gives.
            match other {
                Plan::Sort { mut input, keys } => match scan_gives_order(&input, &keys) {
                    Some(desc) => {
                        set_scan_desc(&mut input, desc);
                        *input
                    }
                    None => Plan::Sort { input, keys },
                },
                other => other,
            }
        }
    }
}

/// Rule 6: `Some(desc)` if `input` returns its rows ordered by `keys` when
/// its scan reads forwards (`desc` false) or backwards (true): the keys are
/// all ascending or all descending, each a column (under the column's own collation, or a
/// binary one) of a scan reached through projections of columns and
/// filters, and, leaving out key columns a single range fixes to one
/// value, they are a prefix of the key the scan reads in (its primary key,
/// or the index's columns followed, for a non-unique index, by the primary
/// key). Scans read their ranges in key order (exec's scan invariant 2),
/// and key order is the sort order of the columns' types and collations
/// (key invariant 1 and exec's keys invariant 3); types whose ORDER BY is
/// not their key order (ENUM, SET, floating point, TIMESTAMP in session
/// time, JSON, BIT) are left to the sort. Ties come out in the scan's key
/// order, forwards or backwards (SQL leaves their order open; MySQL reading
/// an index backwards gives them backwards too).
fn scan_gives_order(input: &Plan, keys: &[SortKey]) -> Option<bool> {
    let desc = keys.first()?.desc;
    scan_gives_order_in(input, keys, desc).then_some(desc)
}

/// Rule 7: true if `input`'s rows come grouped by `groups` — every run of
/// rows equal on them adjacent — because its scan reads in an order that
/// the groups, taken as ascending sort keys in some order (up to four keys
/// are tried in every order: `GROUP BY b, a` groups as `a, b` does), are a
/// prefix of (rule 6's test; which way the scan reads does not matter,
/// and rows equal on the keys are equal on their key columns' encodings,
/// so they are adjacent). The aggregation then folds each group as its
/// rows arrive and hands it on when the next begins (exec's `AggOp`
/// streams), instead of holding every group in a hash table.
pub fn groups_in_key_order(input: &Plan, groups: &[Expr]) -> bool {
    if groups.is_empty() || groups.len() > 4 {
        return false;
    }
    let mut order: Vec<usize> = (0..groups.len()).collect();
    loop {
        let keys: Vec<SortKey> = order.iter().map(|&i| SortKey { expr: groups[i].clone(), desc: false }).collect();
        if scan_gives_order(input, &keys).is_some() {
            return true;
        }
        if !next_permutation(&mut order) {
            return false;
        }
    }
}

/// Steps `v` to its next permutation in lexicographic order; false (and
/// `v` unchanged) after the last.
fn next_permutation(v: &mut [usize]) -> bool {
    let Some(i) = (1..v.len()).rev().find(|&i| v[i - 1] < v[i]) else { return false };
    let Some(j) = (i..v.len()).rev().find(|&j| v[j] > v[i - 1]) else { return false };
    v.swap(i - 1, j);
    v[i..].reverse();
    true
}

/// Reads the scan below a sort (rule 6) backwards or forwards.
fn set_scan_desc(p: &mut Plan, backwards: bool) {
    match p {
        Plan::Filter { input, .. } | Plan::Project { input, .. } | Plan::Aggregate { input, .. } => {
            set_scan_desc(input, backwards)
        }
        Plan::Scan { desc, .. } => *desc = backwards,
        _ => {}
    }
}

/// [`scan_gives_order`] for keys all in direction `desc` (a key of the
/// other direction: false).
fn scan_gives_order_in(input: &Plan, keys: &[SortKey], desc: bool) -> bool {
    // (column, collation the key compares under) per sort key.
    let mut cols: Vec<(usize, Option<mizzle_types::Collation>)> = Vec::with_capacity(keys.len());
    for k in keys {
        if k.desc != desc {
            return false;
        }
        // Text sorts by its collation's weights (`Weight` over the column,
        // under its implicit `Collate` marker or bare).
        let (arg, weighed) = match &k.expr {
            Expr::Weight { arg, collation } => (&**arg, Some(*collation)),
            e => (e, None),
        };
        match arg {
            Expr::Column { index, .. } => cols.push((*index, weighed)),
            Expr::Collate { arg, collation, explicit: false } if weighed.is_none_or(|w| w == *collation) => {
                match &**arg {
                    Expr::Column { index, .. } => cols.push((*index, Some(*collation))),
                    _ => return false,
                }
            }
            _ => return false,
        }
    }
    let mut p = input;
    let (table, access) = loop {
        match p {
            Plan::Filter { input, .. } => p = input,
            Plan::Project { input, exprs, .. } => {
                // A column moved up, bare or under its implicit collation
                // marker (checked against the column's own below).
                for c in &mut cols {
                    match exprs.get(c.0) {
                        Some(Expr::Column { index, .. }) => c.0 = *index,
                        Some(Expr::Collate { arg, explicit: false, .. }) => match &**arg {
                            Expr::Column { index, .. } => c.0 = *index,
                            _ => return false,
                        },
                        _ => return false,
                    }
                }
                p = input;
            }
            // A streaming aggregation (rule 7) gives its groups in the
            // order its input gives their rows: a sort key that is a plain
            // column group key is that column below (collated text keys
            // group by weight and show another column: left to the sort).
            Plan::Aggregate { input, groups, .. } => {
                for c in &mut cols {
                    match groups.get(c.0) {
                        Some(Expr::Column { index, .. }) if c.1.is_none() => c.0 = *index,
                        _ => return false,
                    }
                }
                if !groups_in_key_order(input, groups) {
                    return false;
                }
                p = input;
            }
            Plan::Scan { table, access, .. } => break (table, access),
            _ => return false,
        }
    };
    let usable = |(i, coll): &(usize, Option<mizzle_types::Collation>)| {
        let Some(c) = table.columns.get(*i) else { return false };
        let text = matches!(c.ty, SqlType::Char(_) | SqlType::Varchar(_) | SqlType::Text(_));
        let ordered = text
            || matches!(
                c.ty,
                SqlType::Bool
                    | SqlType::Int { .. }
                    | SqlType::Decimal { .. }
                    | SqlType::Binary(_)
                    | SqlType::Varbinary(_)
                    | SqlType::Date
                    | SqlType::DateTime(_)
                    | SqlType::Time(_)
                    | SqlType::Year
            );
        let same_order = match coll {
            Some(k) => text && *k == c.collation,
            None => !text || c.collation == mizzle_types::Collation::LEGACY,
        };
        ordered && same_order
    };
    if table.primary_key.is_empty() || !cols.iter().all(usable) {
        return false;
    }
    let (key, ranges): (Vec<usize>, &[KeyRange]) = match access {
        Access::Full => (table.primary_key.clone(), &[]),
        Access::Primary(r) => (table.primary_key.clone(), r),
        Access::Index { index, ranges } => {
            let Some(ix) = table.indexes.get(*index) else { return false };
            let mut k = ix.columns.clone();
            if !ix.unique {
                k.extend(&table.primary_key);
            }
            (k, ranges)
        }
    };
    let fixed: &[usize] = match ranges {
        // A list range's last column takes many values.
        [one] => key.get(..one.eq.len().saturating_sub(usize::from(one.list))).unwrap_or(&[]),
        _ => &[],
    };
    // A column repeated in ORDER BY orders nothing the second time.
    let mut wanted: Vec<usize> = Vec::new();
    for (c, _) in &cols {
        if !fixed.contains(c) && !wanted.contains(c) {
            wanted.push(*c);
        }
    }
    let order: Vec<usize> = key.iter().copied().filter(|c| !fixed.contains(c)).collect();
    order.starts_with(&wanted)
}

/// Optimizes subqueries in the expressions of one node only.
fn opt_node_exprs(p: &mut Plan) {
    let f = &mut |e: Expr| -> Expr {
        e.map(&mut |x| match x {
            Expr::Subquery(mut s) => {
                s.plan = Arc::new(opt((*s.plan).clone()));
                Expr::Subquery(s)
            }
            other => other,
        })
    };
    let mut apply = |e: &mut Expr| {
        let t = std::mem::replace(e, Expr::Literal(mizzle_types::Value::Null, SqlType::Null));
        *e = f(t);
    };
    match p {
        Plan::Values { rows, .. } => rows.iter_mut().flatten().for_each(&mut apply),
        Plan::Project { exprs, .. } => exprs.iter_mut().for_each(&mut apply),
        Plan::Aggregate { groups, aggs, .. } => {
            groups.iter_mut().for_each(&mut apply);
            for a in aggs {
                a.args.iter_mut().for_each(&mut apply);
            }
        }
        Plan::Sort { keys, .. } => keys.iter_mut().for_each(|k| apply(&mut k.expr)),
        Plan::JsonTable { doc, cond, .. } => {
            apply(doc);
            if let Some(c) = cond {
                apply(c);
            }
        }
        Plan::Window { windows, .. } => {
            for w in windows {
                w.partition_by.iter_mut().for_each(&mut apply);
                w.order_by.iter_mut().for_each(|k| apply(&mut k.expr));
                for c in &mut w.calls {
                    c.args.iter_mut().for_each(&mut apply);
                }
            }
        }
        _ => {}
    }
}

fn optimize_expr(e: Expr) -> Expr {
    e.map(&mut |x| match x {
        Expr::Subquery(mut s) => {
            s.plan = Arc::new(opt((*s.plan).clone()));
            Expr::Subquery(s)
        }
        other => other,
    })
}

/// Shifts the column references of an expression.
fn shift(e: Expr, f: &dyn Fn(usize) -> usize) -> Expr {
    e.map(&mut |x| match x {
        Expr::Column { index, ty } => Expr::Column { index: f(index), ty },
        Expr::Subquery(mut s) => {
            s.outer_refs = s.outer_refs.iter().map(|i| f(*i)).collect();
            // The subquery's own Outer{depth 1} references index this row.
            s.plan = Arc::new(remap_outer(&s.plan, 1, f));
            Expr::Subquery(s)
        }
        other => other,
    })
}

fn remap_outer(p: &Plan, depth: usize, f: &dyn Fn(usize) -> usize) -> Plan {
    let mut p = p.clone();
    map_plan_exprs(&mut p, &mut |e| {
        e.map(&mut |x| match x {
            Expr::Outer { depth: d, index, ty } if d == depth => Expr::Outer { depth: d, index: f(index), ty },
            Expr::Subquery(mut s) => {
                s.plan = Arc::new(remap_outer(&s.plan, depth + 1, f));
                Expr::Subquery(s)
            }
            other => other,
        })
    });
    p
}

/// Which relations (by index) an expression reads.
fn rels_used(e: &Expr, offsets: &[usize], widths: &[usize]) -> Vec<usize> {
    let mut cols = Vec::new();
    e.columns_used(&mut cols);
    let mut out: Vec<usize> = Vec::new();
    for c in cols {
        if let Some(r) = (0..offsets.len()).find(|&r| c >= offsets[r] && c < offsets[r] + widths[r]) {
            if !out.contains(&r) {
                out.push(r);
            }
        }
    }
    out.sort_unstable();
    out
}

/// True when hashing both sides finds exactly the pairs `=` accepts.
fn hash_compatible(a: SqlType, b: SqlType) -> bool {
    use ValueKind as K;
    let class = |t: SqlType| match t.kind() {
        K::Int | K::UInt => 1,
        K::Decimal => 2,
        K::Double | K::Float => 3,
        K::Text => 4,
        K::Bytes => 5,
        K::Date | K::DateTime => 6,
        K::Json => 8,
        K::Time => 7,
        K::Null => 0,
    };
    let (x, y) = (class(a), class(b));
    if x == 0 || y == 0 {
        return false;
    }
    x == y || (x <= 2 && y <= 2)
}

struct Rel {
    plan: Plan,
    offset: usize,
    width: usize,
    pushed: Vec<Expr>,
}

fn flatten(p: Plan, base: usize, rels: &mut Vec<Rel>, conjuncts: &mut Vec<Expr>) {
    match p {
        Plan::Filter { input, pred } => {
            for c in pred.conjuncts() {
                conjuncts.push(shift(c, &|i| i + base));
            }
            flatten(*input, base, rels, conjuncts);
        }
        Plan::Join { left, right, kind: JoinKind::Inner, equi, cond } => {
            let wl = left.width();
            for (a, b) in equi {
                conjuncts.push(Expr::Cmp {
                    op: CmpOp::Eq,
                    left: Box::new(shift(a, &|i| i + base)),
                    right: Box::new(shift(b, &|i| i + base + wl)),
                });
            }
            if let Some(c) = cond {
                for x in c.conjuncts() {
                    conjuncts.push(shift(x, &|i| i + base));
                }
            }
            flatten(*left, base, rels, conjuncts);
            flatten(*right, base + wl, rels, conjuncts);
        }
        other => {
            let width = other.width();
            rels.push(Rel { plan: opt(other), offset: base, width, pushed: Vec::new() });
        }
    }
}

/// Applies pushed conjuncts to a relation (into the scan filter when it is
/// a scan, choosing its access path).
fn with_filters(plan: Plan, preds: Vec<Expr>) -> Plan {
    let Some(pred) = Expr::and_all(preds) else { return plan };
    match plan {
        Plan::Scan { table, alias, access, filter, cols, lock, desc } => {
            let f = match filter {
                Some(old) => Expr::And(Box::new(old), Box::new(pred)),
                None => pred,
            };
            let (access, filter) = match access {
                Access::Full => choose_access(&table, &f),
                a => (a, Some(f)),
            };
            Plan::Scan { table, alias, access, filter, cols, lock, desc }
        }
        // A condition on the preserved side of a left join alone holds for
        // a joined row exactly when it holds for its left row, padded or
        // not: it filters the left input, which may then read by key.
        Plan::Join { left, right, kind: JoinKind::Left, equi, cond } => {
            let (wl, wr) = (left.width(), right.width());
            let (below, above): (Vec<Expr>, Vec<Expr>) = pred
                .conjuncts()
                .into_iter()
                .partition(|c| !has_subquery(c) && rels_used(c, &[0, wl], &[wl, wr]) == [0]);
            let join =
                Plan::Join { left: Box::new(with_filters(*left, below)), right, kind: JoinKind::Left, equi, cond };
            match Expr::and_all(above) {
                Some(pred) => Plan::Filter { input: Box::new(join), pred },
                None => join,
            }
        }
        other => Plan::Filter { input: Box::new(other), pred },
    }
}

/// Rule 1: join regions.
fn region(p: Plan) -> Plan {
    let mut rels = Vec::new();
    let mut raw = Vec::new();
    flatten(p, 0, &mut rels, &mut raw);
    let conjuncts: Vec<Expr> = raw.into_iter().map(optimize_expr).collect();
    let offsets: Vec<usize> = rels.iter().map(|r| r.offset).collect();
    let widths: Vec<usize> = rels.iter().map(|r| r.width).collect();
    let total: usize = widths.iter().sum();
    let mut multi: Vec<(Expr, Vec<usize>)> = Vec::new();
    let mut constant: Vec<Expr> = Vec::new();
    for c in conjuncts {
        let used = rels_used(&c, &offsets, &widths);
        match used.as_slice() {
            [] => constant.push(c),
            [r] => {
                let off = offsets[*r];
                rels[*r].pushed.push(shift(c, &|i| i - off));
            }
            _ => multi.push((c, used)),
        }
    }
    if rels.len() == 1 {
        let r = rels.remove(0);
        let mut preds = r.pushed;
        preds.extend(constant);
        return with_filters(r.plan, preds);
    }
    // Constant conjuncts (also those reading only outer rows) go to the
    // first relation: if false, the whole region is empty.
    let n = rels.len();
    let mut remaining: Vec<usize> = (0..n).collect();
    let first = *remaining.iter().max_by_key(|&&r| (rels[r].pushed.len(), std::cmp::Reverse(r))).unwrap_or(&0);
    let mut order: Vec<usize> = vec![first];
    remaining.retain(|&r| r != first);
    let mut plans: Vec<Option<Plan>> = Vec::with_capacity(n);
    for r in rels.iter_mut() {
        let plan = std::mem::replace(&mut r.plan, Plan::Empty { cols: vec![] });
        let preds = std::mem::take(&mut r.pushed);
        plans.push(Some(with_filters(plan, preds)));
    }
    // new position of region column c, for the relations joined so far
    let mut pos: Vec<Option<usize>> = vec![None; total];
    let mut width_so_far = 0;
    let place = |r: usize, pos: &mut Vec<Option<usize>>, w: &mut usize| {
        for k in 0..widths[r] {
            pos[offsets[r] + k] = Some(*w + k);
        }
        *w += widths[r];
    };
    place(first, &mut pos, &mut width_so_far);
    let mut current = plans[first].take().unwrap_or(Plan::Empty { cols: vec![] });
    if !constant.is_empty() {
        let map_pos = pos.clone();
        let preds: Vec<Expr> = constant.into_iter().map(|c| shift(c, &|i| map_pos[i].unwrap_or(i))).collect();
        current = with_filters(current, preds);
    }
    let mut used = vec![false; multi.len()];
    while !remaining.is_empty() {
        let joined: Vec<usize> = order.clone();
        let covers = |set: &[usize], r: usize| set.iter().all(|x| *x == r || joined.contains(x));
        // Prefer a relation with a hashable equality to the joined set.
        let mut pick: Option<usize> = None;
        let mut best = (0usize, 0usize);
        for &r in &remaining {
            let mut eq = 0;
            let mut other = 0;
            for (i, (c, set)) in multi.iter().enumerate() {
                if used[i] || !set.contains(&r) || !covers(set, r) {
                    continue;
                }
                if split_equi(c, r, &offsets, &widths).is_some() {
                    eq += 1;
                } else {
                    other += 1;
                }
            }
            let score = (eq, other);
            if score > best {
                best = score;
                pick = Some(r);
            }
        }
        let r = pick.unwrap_or(remaining[0]);
        remaining.retain(|&x| x != r);
        let right = plans[r].take().unwrap_or(Plan::Empty { cols: vec![] });
        let lw = width_so_far;
        let left_pos = pos.clone();
        let mut equi = Vec::new();
        let mut conds = Vec::new();
        for (i, (c, set)) in multi.iter().enumerate() {
            if used[i] || !set.contains(&r) || !covers(set, r) {
                continue;
            }
            used[i] = true;
            match split_equi(c, r, &offsets, &widths) {
                Some((l, rr)) => {
                    let off = offsets[r];
                    equi.push((shift(l, &|x| left_pos[x].unwrap_or(x)), shift(rr, &|x| x - off)));
                }
                None => {
                    let off = offsets[r];
                    conds.push(shift(c.clone(), &|x| {
                        if x >= off && x < off + widths[r] {
                            lw + (x - off)
                        } else {
                            left_pos[x].unwrap_or(x)
                        }
                    }));
                }
            }
        }
        current = Plan::Join {
            left: Box::new(current),
            right: Box::new(right),
            kind: JoinKind::Inner,
            equi,
            cond: Expr::and_all(conds),
        };
        place(r, &mut pos, &mut width_so_far);
        order.push(r);
    }
    // Conjuncts never placed (cannot happen: every set is covered at the end).
    let leftovers: Vec<Expr> =
        multi.into_iter().zip(used).filter(|(_, u)| !u).map(|((c, _), _)| shift(c, &|x| pos[x].unwrap_or(x))).collect();
    if let Some(pred) = Expr::and_all(leftovers) {
        current = Plan::Filter { input: Box::new(current), pred };
    }
    // Restore the original column order.
    let identity = (0..total).all(|c| pos[c] == Some(c));
    if identity {
        return current;
    }
    let cols = current.columns();
    let mut exprs = Vec::with_capacity(total);
    let mut out_cols = Vec::with_capacity(total);
    for (c, slot) in pos.iter().enumerate() {
        let p = slot.unwrap_or(c);
        let col = cols.get(p).cloned();
        let ty = col.as_ref().map(|x| x.ty).unwrap_or(SqlType::Null);
        exprs.push(Expr::Column { index: p, ty });
        if let Some(col) = col {
            out_cols.push(col);
        }
    }
    Plan::Project { input: Box::new(current), exprs, cols: out_cols }
}

/// If `c` is `a = b` with one side over relation `r` only and the other
/// over other relations only, and hashing is exact: (other side, r side).
fn split_equi(c: &Expr, r: usize, offsets: &[usize], widths: &[usize]) -> Option<(Expr, Expr)> {
    let Expr::Cmp { op: CmpOp::Eq, left, right } = c else { return None };
    let lu = rels_used(left, offsets, widths);
    let ru = rels_used(right, offsets, widths);
    if !hash_compatible(left.ty(), right.ty()) {
        return None;
    }
    if has_subquery(left) || has_subquery(right) {
        return None;
    }
    if ru == [r] && !lu.is_empty() && !lu.contains(&r) {
        return Some(((**left).clone(), (**right).clone()));
    }
    if lu == [r] && !ru.is_empty() && !ru.contains(&r) {
        return Some(((**right).clone(), (**left).clone()));
    }
    None
}

fn has_subquery(e: &Expr) -> bool {
    let mut f = false;
    e.walk(&mut |x| {
        if matches!(x, Expr::Subquery(_)) {
            f = true;
        }
    });
    f
}

/// Rule 2: left joins.
fn left_join(left: Plan, right: Plan, equi: Vec<(Expr, Expr)>, cond: Option<Expr>) -> Plan {
    let left = opt(left);
    let right = opt(right);
    let wl = left.width();
    let wr = right.width();
    let offsets = [0, wl];
    let widths = [wl, wr];
    let mut equi = equi;
    let mut conds = Vec::new();
    let mut right_only = Vec::new();
    if let Some(c) = cond {
        for x in c.conjuncts() {
            let x = optimize_expr(x);
            let used = rels_used(&x, &offsets, &widths);
            if used == [1] && !has_subquery(&x) {
                right_only.push(shift(x, &|i| i - wl));
            } else if let Some((l, r)) = split_equi(&x, 1, &offsets, &widths) {
                if rels_used(&l, &offsets, &widths) == [0] {
                    equi.push((l, shift(r, &|i| i - wl)));
                } else {
                    conds.push(x);
                }
            } else {
                conds.push(x);
            }
        }
    }
    let right = with_filters(right, right_only);
    Plan::Join { left: Box::new(left), right: Box::new(right), kind: JoinKind::Left, equi, cond: Expr::and_all(conds) }
}

/// True for expressions that are constant during one execution of the
/// plan: no columns of the scanned row, no subqueries, deterministic.
fn is_run_constant(e: &Expr) -> bool {
    let mut ok = true;
    e.walk(&mut |x| match x {
        Expr::Column { .. } | Expr::Subquery(_) | Expr::Agg(_) | Expr::Window(_) => ok = false,
        Expr::Func { func, .. } if !func.is_deterministic() => ok = false,
        _ => {}
    });
    ok
}

/// `e` evaluated with one more outer row pushed (rule 5): a column of the
/// current row becomes a column of the newest outer row, and outer
/// columns move one level further out.
fn as_outer(e: Expr) -> Expr {
    e.map(&mut |x| match x {
        Expr::Column { index, ty } => Expr::Outer { depth: 1, index, ty },
        Expr::Outer { depth, index, ty } => Expr::Outer { depth: depth + 1, index, ty },
        other => other,
    })
}

/// True if `p` returns few rows without reading a whole table (rule 5):
/// a scan through key ranges, literal rows, a LIMIT, or a lookup join
/// over such an input. No statistics: a key range may still cover much
/// of a table.
pub fn is_bounded(p: &Plan) -> bool {
    match p {
        Plan::Scan { access, .. } => !matches!(access, Access::Full),
        Plan::Values { .. } | Plan::Empty { .. } => true,
        Plan::Limit { limit: Some(_), .. } => true,
        Plan::Filter { input, .. }
        | Plan::Project { input, .. }
        | Plan::Sort { input, .. }
        | Plan::Distinct { input }
        | Plan::Limit { input, .. } => is_bounded(input),
        Plan::Join { left, right, kind, equi, .. } => lookup_join(left, right, *kind, equi).is_some(),
        _ => false,
    }
}

/// Rule 5: the right input of an index lookup join of `left` and `right`
/// on `equi`, if the join should be one: `left` is bounded, `right` a
/// full scan (or a projection without subqueries over one: a view, a
/// derived table) whose filter has no subquery, and the join's equalities
/// (with the left side read from the newest outer row, which the join
/// pushes for each left row) give the right table a key access. The
/// returned scan holds every equality in its ranges or filter, so each
/// right row it returns for a left row satisfies all of them, compared
/// as the bound equalities compare.
pub fn lookup_join(left: &Plan, right: &Plan, kind: JoinKind, equi: &[(Expr, Expr)]) -> Option<Plan> {
    if equi.is_empty() || !matches!(kind, JoinKind::Inner | JoinKind::Left) {
        return None;
    }
    // The right input: a scan, or a projection over one (a view or a
    // derived table), whose expressions then run with the left row pushed.
    let (scan, project) = match right {
        Plan::Scan { .. } => (right, None),
        Plan::Project { input, exprs, cols } if matches!(**input, Plan::Scan { .. }) => {
            if exprs.iter().any(has_subquery) {
                return None;
            }
            (&**input, Some((exprs, cols)))
        }
        _ => return None,
    };
    let Plan::Scan { table, alias, access: Access::Full, filter, cols, lock, desc } = scan else { return None };
    if filter.as_ref().is_some_and(has_subquery) || equi.iter().any(|(l, r)| has_subquery(l) || has_subquery(r)) {
        return None;
    }
    if !is_bounded(left) {
        return None;
    }
    let deeper = |e: Expr| {
        e.map(&mut |x| match x {
            Expr::Outer { depth, index, ty } => Expr::Outer { depth: depth + 1, index, ty },
            other => other,
        })
    };
    // A right key over the projection, over the scan's columns instead: a
    // projected column (bare, or under its implicit collation marker, which
    // the key's own `Weight`/`Collate` already carries) becomes the column.
    let through = |r: &Expr| -> Expr {
        match project {
            None => r.clone(),
            Some((exprs, _)) => r.clone().map(&mut |x| match x {
                Expr::Column { index, ty } => match exprs.get(index) {
                    Some(Expr::Collate { arg, explicit: false, .. }) if matches!(**arg, Expr::Column { .. }) => {
                        (**arg).clone()
                    }
                    Some(e) => e.clone(),
                    None => Expr::Column { index, ty },
                },
                other => other,
            }),
        }
    };
    let mut conjuncts: Vec<Expr> = equi
        .iter()
        .map(|(l, r)| Expr::Cmp { op: CmpOp::Eq, left: Box::new(through(r)), right: Box::new(as_outer(l.clone())) })
        .collect();
    if let Some(f) = filter {
        // The right scan's own filter runs with the left row pushed too.
        conjuncts.push(deeper(f.clone()));
    }
    let whole = Expr::and_all(conjuncts)?;
    let (access, filter) = match choose_access(table, &whole) {
        (Access::Full, _) => return None,
        found => found,
    };
    let scan = Plan::Scan {
        table: table.clone(),
        alias: alias.clone(),
        access,
        filter,
        cols: cols.clone(),
        lock: *lock,
        desc: *desc,
    };
    Some(match project {
        None => scan,
        Some((exprs, pcols)) => Plan::Project {
            input: Box::new(scan),
            exprs: exprs.iter().cloned().map(deeper).collect(),
            cols: pcols.clone(),
        },
    })
}

/// What a conjunct says about column `col`.
enum ColPred {
    Eq(Expr),
    In(Vec<Expr>),
    /// `col IN (uncorrelated subquery)`: the whole `Expr::Subquery`.
    InSubquery(Expr),
    Lower(Expr, bool),
    Upper(Expr, bool),
    Between(Expr, Expr),
}

/// The column an operand reads: a bare column, a TIMESTAMP column in
/// session time, or the weight string of a column under the column's own
/// collation (the implicit `Collate` marker names it), whose key is
/// encoded from the same weights.
fn col_of(e: &Expr) -> Option<usize> {
    match e {
        // A TIMESTAMP column is compared in session time (`LocalTime`); its
        // ranges hold session-local values, which the scan turns into
        // bounds on the stored UTC keys. A bare one is never compared.
        Expr::Column { ty: SqlType::Timestamp(_), .. } => None,
        Expr::LocalTime { arg, .. } => match &**arg {
            Expr::Column { index, ty: SqlType::Timestamp(_) } => Some(*index),
            _ => None,
        },
        Expr::Column { index, .. } => Some(*index),
        Expr::Weight { arg, collation } => match &**arg {
            Expr::Collate { arg, collation: c, explicit: false } if c == collation => match &**arg {
                Expr::Column { index, .. } => Some(*index),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    }
}

/// The bound value compared with column operand `col`: under a collation
/// the value's weight is taken by the scan when it encodes the key, so the
/// range holds the value itself. `None` if the value is weighted
/// differently (never, as the binder weighs both sides alike).
fn value_of(col: &Expr, v: &Expr) -> Option<Expr> {
    match (col, v) {
        (Expr::Weight { collation: a, .. }, Expr::Weight { arg, collation: b }) if a == b => Some((**arg).clone()),
        (Expr::Weight { .. }, _) => None,
        (_, v) => Some(v.clone()),
    }
}

fn analyse(c: &Expr) -> Vec<(usize, ColPred)> {
    match c {
        Expr::Cmp { op, left, right } => {
            let (col, val, op) = match (col_of(left), col_of(right)) {
                (Some(i), _) if is_run_constant(right) => match value_of(left, right) {
                    Some(v) => (i, v, *op),
                    None => return vec![],
                },
                (_, Some(i)) if is_run_constant(left) => match value_of(right, left) {
                    Some(v) => (i, v, op.flip()),
                    None => return vec![],
                },
                _ => return vec![],
            };
            let p = match op {
                CmpOp::Eq => ColPred::Eq(val),
                CmpOp::Gt => ColPred::Lower(val, false),
                CmpOp::Ge => ColPred::Lower(val, true),
                CmpOp::Lt => ColPred::Upper(val, false),
                CmpOp::Le => ColPred::Upper(val, true),
                _ => return vec![],
            };
            vec![(col, p)]
        }
        Expr::Between { arg, low, high, negated: false } => match col_of(arg) {
            Some(i) if is_run_constant(low) && is_run_constant(high) => match (value_of(arg, low), value_of(arg, high))
            {
                (Some(l), Some(h)) => vec![(i, ColPred::Between(l, h))],
                _ => vec![],
            },
            _ => vec![],
        },
        // A plain numeric column: the subquery's values, of any type, are
        // compared with it as numbers both by the IN test and by the
        // scan's key conversion (text and temporal columns compare under
        // collations and conversions the values would have to share).
        Expr::Subquery(s) if !s.correlated => match &s.kind {
            SubqueryKind::In { arg, negated: false } => match &**arg {
                Expr::Column {
                    index,
                    ty: SqlType::Int { .. } | SqlType::Decimal { .. } | SqlType::Float | SqlType::Double,
                } => vec![(*index, ColPred::InSubquery(c.clone()))],
                _ => vec![],
            },
            _ => vec![],
        },
        Expr::InList { arg, list, negated: false } => match col_of(arg) {
            Some(i) if list.iter().all(is_run_constant) && !list.is_empty() => {
                match list.iter().map(|v| value_of(arg, v)).collect::<Option<Vec<_>>>() {
                    Some(vs) => vec![(i, ColPred::In(vs))],
                    None => vec![],
                }
            }
            _ => vec![],
        },
        Expr::Or(..) => {
            // (c = 1 OR c = 2 OR c IN (3, 4)) on one column is an IN list.
            let mut col: Option<usize> = None;
            let mut vals = Vec::new();
            let mut stack = vec![c];
            while let Some(x) = stack.pop() {
                match x {
                    Expr::Or(a, b) => {
                        stack.push(a);
                        stack.push(b);
                    }
                    other => match analyse(other).into_iter().next() {
                        Some((i, ColPred::Eq(v))) if col.is_none_or(|c| c == i) => {
                            col = Some(i);
                            vals.push(v);
                        }
                        Some((i, ColPred::In(vs))) if col.is_none_or(|c| c == i) => {
                            col = Some(i);
                            vals.extend(vs);
                        }
                        _ => return vec![],
                    },
                }
            }
            match col {
                Some(i) => vec![(i, ColPred::In(vals))],
                None => vec![],
            }
        }
        _ => vec![],
    }
}

/// A column predicate found in conjunct `conj` of a scan filter.
struct Pred {
    conj: usize,
    col: usize,
    what: ColPred,
}

/// Ranges over a key's columns from the predicates, with a score and the
/// conjuncts the ranges express.
fn key_ranges(key: &[usize], preds: &[Pred], unique: bool) -> Option<(usize, Vec<KeyRange>, Vec<usize>)> {
    let mut eq: Vec<Expr> = Vec::new();
    let mut used: Vec<usize> = Vec::new();
    let mut k = 0;
    while k < key.len() {
        match preds.iter().find_map(|p| match &p.what {
            ColPred::Eq(v) if p.col == key[k] => Some((p.conj, v.clone())),
            _ => None,
        }) {
            Some((conj, v)) => {
                eq.push(v);
                used.push(conj);
                k += 1;
            }
            None => break,
        }
    }
    if k == key.len() {
        let score = if unique { 1000 } else { 100 } + 10 * k;
        return Some((score, vec![KeyRange { eq, lower: None, upper: None, list: false }], used));
    }
    let col = key[k];
    // An IN list on the next column: one range per value.
    if let Some((conj, vals)) = preds.iter().find_map(|p| match &p.what {
        ColPred::In(v) if p.col == col => Some((p.conj, v.clone())),
        _ => None,
    }) {
        used.push(conj);
        let ranges = vals
            .into_iter()
            .map(|v| {
                let mut e = eq.clone();
                e.push(v);
                KeyRange { eq: e, lower: None, upper: None, list: false }
            })
            .collect();
        let full = k + 1 == key.len();
        return Some((if full && unique { 500 } else { 50 } + 10 * k, ranges, used));
    }
    // An IN subquery on the next column: one range per value it returns,
    // found when the scan opens. Its conjunct stays in the filter (not
    // `used`): the IN test decides, the ranges only narrow the read.
    if let Some(sub) = preds.iter().find_map(|p| match &p.what {
        ColPred::InSubquery(s) if p.col == col => Some(s.clone()),
        _ => None,
    }) {
        let full = k + 1 == key.len();
        let mut e = eq;
        e.push(sub);
        return Some((
            if full && unique { 400 } else { 40 } + 10 * k,
            vec![KeyRange { eq: e, lower: None, upper: None, list: true }],
            used,
        ));
    }
    let mut lower: Option<(Expr, bool)> = None;
    let mut upper: Option<(Expr, bool)> = None;
    for p in preds {
        if p.col != col {
            continue;
        }
        match &p.what {
            ColPred::Lower(v, inc) if lower.is_none() => {
                lower = Some((v.clone(), *inc));
                used.push(p.conj);
            }
            ColPred::Upper(v, inc) if upper.is_none() => {
                upper = Some((v.clone(), *inc));
                used.push(p.conj);
            }
            ColPred::Between(lo, hi) if lower.is_none() && upper.is_none() => {
                lower = Some((lo.clone(), true));
                upper = Some((hi.clone(), true));
                used.push(p.conj);
            }
            _ => {}
        }
    }
    if lower.is_none() && upper.is_none() {
        if k == 0 {
            return None;
        }
        return Some((10 * k, vec![KeyRange { eq, lower: None, upper: None, list: false }], used));
    }
    let bonus = if lower.is_some() && upper.is_some() { 8 } else { 5 };
    Some((10 * k + bonus, vec![KeyRange { eq, lower, upper, list: false }], used))
}

/// Rule 3: the best access path for a scan with `filter`, and the filter
/// left once the conjuncts the path's ranges express are removed (the scan
/// checks those itself, exactly; see the scan operator's invariant 1).
pub fn choose_access(t: &TableDef, filter: &Expr) -> (Access, Option<Expr>) {
    let original = filter;
    let substituted = substitute_key_parts(t, filter);
    let filter = substituted.as_ref().unwrap_or(filter);
    let conjuncts = filter.clone().conjuncts();
    let preds: Vec<Pred> = conjuncts
        .iter()
        .enumerate()
        .flat_map(|(conj, c)| analyse(c).into_iter().map(move |(col, what)| Pred { conj, col, what }))
        .collect();
    if preds.is_empty() {
        return (Access::Full, Some(original.clone()));
    }
    let mut best: Option<(usize, Access, Vec<usize>)> = None;
    if !t.primary_key.is_empty() {
        if let Some((s, r, used)) = key_ranges(&t.primary_key, &preds, true) {
            best = Some((s + 1, Access::Primary(r), used));
        }
    }
    for (i, ix) in t.indexes.iter().enumerate() {
        if let Some((s, r, used)) = key_ranges(&ix.columns, &preds, ix.unique) {
            if best.as_ref().is_none_or(|(b, _, _)| s > *b) {
                best = Some((s, Access::Index { index: i, ranges: r }, used));
            }
        }
    }
    match best {
        None => (Access::Full, Some(original.clone())),
        Some((_, access, used)) => {
            let rest = conjuncts.into_iter().enumerate().filter(|(i, _)| !used.contains(i)).map(|(_, c)| c).collect();
            (access, Expr::and_all(rest))
        }
    }
}

/// `filter` with every expression equal to a functional key part's
/// expression replaced by that part's hidden column (which holds the
/// expression's value converted to the expression's own type, so the
/// same), when the table has such parts and one matched. Parts whose
/// stored type is not the expression's (never, unless a definition was
/// changed by hand) are left alone, as MySQL does when a conversion stands
/// between them.
fn substitute_key_parts(t: &TableDef, filter: &Expr) -> Option<Expr> {
    if !t.columns.iter().any(|c| c.hidden) {
        return None;
    }
    let gens = crate::bind::bind_generated_for(t).ok()?;
    let parts: Vec<(Expr, Expr)> = gens
        .into_iter()
        .filter_map(|(i, e)| {
            let c = t.columns.get(i).filter(|c| c.hidden)?;
            if mizzle_dictionary::with_member_collation(crate::bind::key_part_type(&e), c.collation) != c.ty {
                return None;
            }
            let col = Expr::Column { index: i, ty: c.ty };
            let col = match c.collation {
                coll if coll != mizzle_types::Collation::LEGACY && c.ty.kind() == ValueKind::Text => {
                    Expr::Collate { arg: Box::new(col), collation: coll, explicit: false }
                }
                _ => col,
            };
            Some((e, col))
        })
        .collect();
    let mut changed = false;
    let out = replace_parts(filter.clone(), &parts, &mut changed);
    changed.then_some(out)
}

/// Replaces, outermost first, each sub-expression equal to a part's
/// expression by the part's column.
#[recursive]
fn replace_parts(e: Expr, parts: &[(Expr, Expr)], changed: &mut bool) -> Expr {
    if let Some((_, col)) = parts.iter().find(|(p, _)| *p == e) {
        *changed = true;
        return col.clone();
    }
    e.map_children(&mut |c| replace_parts(c, parts, changed))
}

/// Optimizes every plan inside a bound statement.
pub fn optimize_statement(s: crate::plan::BoundStatement) -> crate::plan::BoundStatement {
    use crate::plan::{BoundStatement as B, InsertSource};
    match s {
        B::Query(p) => B::Query(Box::new(optimize(*p))),
        B::Insert(mut i) => {
            if let InsertSource::Query(p) = i.source {
                i.source = InsertSource::Query(Box::new(optimize(*p)));
            }
            B::Insert(i)
        }
        B::Update(mut u) => {
            u.input = Box::new(optimize(*u.input));
            B::Update(u)
        }
        B::Delete(mut d) => {
            d.input = Box::new(optimize(*d.input));
            B::Delete(d)
        }
        B::Explain { analyze, tree, stmt } => B::Explain { analyze, tree, stmt: Box::new(optimize_statement(*stmt)) },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::next_permutation;

    #[test]
    fn next_permutation_visits_every_order_once() {
        let mut v = vec![0, 1, 2, 3];
        let mut seen = vec![v.clone()];
        while next_permutation(&mut v) {
            seen.push(v.clone());
        }
        assert_eq!(seen.len(), 24);
        let mut sorted = seen.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted, seen, "lexicographic, no repeats");
        assert_eq!(v, vec![3, 2, 1, 0], "left at the last");
        let mut one = vec![0];
        assert!(!next_permutation(&mut one));
    }
}
