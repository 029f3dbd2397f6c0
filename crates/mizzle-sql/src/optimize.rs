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
