//! The optimizer: rewrites bound plans into cheaper equivalent plans.
//!
//! Invariants:
//! 1. Every rewrite preserves the rows (as a multiset, and their order
//!    where an ORDER BY fixes it) and the column layout of its input plan.

use crate::plan::Plan;

/// Optimizes a plan.
pub fn optimize(plan: Plan) -> Plan {
    plan
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
        B::Explain { analyze, stmt } => B::Explain { analyze, stmt: Box::new(optimize_statement(*stmt)) },
        other => other,
    }
}
