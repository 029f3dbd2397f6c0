//! EXPLAIN: renders a plan as an indented tree, one line per operator.
//!
//! Invariants:
//! 1. Lines name the operator, the table and access path for scans, the
//!    join algorithm, and the expressions' shapes; no line holds row data.

use mizzle_sql::optimize::lookup_join;
use mizzle_sql::plan::{Access, JoinKind, Plan, SetOpKind};

fn ranges(r: &[mizzle_sql::plan::KeyRange]) -> String {
    if r.iter().any(|x| x.list) {
        format!("{} range(s), one per subquery value", r.len())
    } else {
        format!("{} range(s)", r.len())
    }
}

fn access(a: &Access, t: &mizzle_dictionary::TableDef) -> String {
    match a {
        Access::Full => "full scan".into(),
        Access::Primary(r) => format!("primary key lookup ({})", ranges(r)),
        Access::Index { index, ranges: r } => {
            let name = t.indexes.get(*index).map(|i| i.name.as_str()).unwrap_or("?");
            format!("index {name} ({})", ranges(r))
        }
    }
}

fn walk(p: &Plan, depth: usize, out: &mut Vec<String>) {
    let pad = "    ".repeat(depth);
    let line = match p {
        Plan::Values { rows, .. } => format!("-> Rows: {} literal row(s)", rows.len()),
        Plan::Scan { table, alias, access: a, filter, desc, .. } => format!(
            "-> Table scan on {alias} ({}): {}{}{}",
            table.name,
            access(a, table),
            if *desc { ", descending" } else { "" },
            if filter.is_some() { ", with filter" } else { "" }
        ),
        Plan::Filter { .. } => "-> Filter".into(),
        Plan::Project { exprs, .. } => format!("-> Project {} column(s)", exprs.len()),
        Plan::Join { left, right, kind, equi, cond } => format!(
            "-> {} {}{}",
            if equi.is_empty() {
                "Nested loop"
            } else if lookup_join(left, right, *kind, equi).is_some() {
                "Index lookup"
            } else {
                "Hash"
            },
            match kind {
                JoinKind::Inner => "inner join",
                JoinKind::Left => "left join",
            },
            if cond.is_some() { " with condition" } else { "" }
        ),
        Plan::Aggregate { input, groups, aggs, .. } => format!(
            "-> Aggregate: {} group key(s), {} aggregate(s){}",
            groups.len(),
            aggs.len(),
            if mizzle_sql::optimize::groups_in_key_order(input, groups) { ", streaming in key order" } else { "" }
        ),
        Plan::Sort { keys, .. } => format!("-> Sort: {} key(s)", keys.len()),
        Plan::Limit { .. } => "-> Limit".into(),
        Plan::Distinct { .. } => "-> Distinct".into(),
        Plan::SetOp { kind, all, .. } => format!(
            "-> {}{}",
            match kind {
                SetOpKind::Union => "Union",
                SetOpKind::Intersect => "Intersect",
                SetOpKind::Except => "Except",
            },
            if *all { " all" } else { "" }
        ),
        Plan::System { .. } => "-> System table".into(),
        Plan::Empty { .. } => "-> Empty (impossible condition)".into(),
        Plan::Window { windows, .. } => format!(
            "-> Window: {} window(s), {} function(s)",
            windows.len(),
            windows.iter().map(|w| w.calls.len()).sum::<usize>()
        ),
        Plan::RecursiveCte { name, recursive, distinct, .. } => format!(
            "-> Recursive CTE {name}: {} recursive block(s){}",
            recursive.len(),
            if *distinct { ", distinct" } else { "" }
        ),
        Plan::WorkTable { .. } => "-> Scan rows of the previous round".into(),
        Plan::JsonTable { outer, cond, .. } => format!(
            "-> JSON_TABLE{}{}",
            if *outer { " (left join)" } else { "" },
            if cond.is_some() { " with condition" } else { "" }
        ),
    };
    out.push(format!("{pad}{line}"));
    match p {
        Plan::Filter { input, .. }
        | Plan::Project { input, .. }
        | Plan::Aggregate { input, .. }
        | Plan::Sort { input, .. }
        | Plan::Limit { input, .. }
        | Plan::Window { input, .. }
        | Plan::JsonTable { input, .. }
        | Plan::Distinct { input } => walk(input, depth + 1, out),
        Plan::RecursiveCte { anchor, recursive, .. } => {
            walk(anchor, depth + 1, out);
            for r in recursive {
                walk(r, depth + 1, out);
            }
        }
        Plan::Join { left, right, kind, equi, .. } => {
            walk(left, depth + 1, out);
            // A lookup join reads the right table by key once per left row.
            match lookup_join(left, right, *kind, equi) {
                Some(r) => walk(&r, depth + 1, out),
                None => walk(right, depth + 1, out),
            }
        }
        Plan::SetOp { left, right, .. } => {
            walk(left, depth + 1, out);
            walk(right, depth + 1, out);
        }
        _ => {}
    }
}

/// The plan as lines of text.
pub fn explain_lines(p: &Plan) -> Vec<String> {
    let mut out = Vec::new();
    walk(p, 0, &mut out);
    out
}
