//! The `NOWAIT` / `SKIP LOCKED` option of a statement's locking clause
//! (`SELECT ... FOR UPDATE NOWAIT`), read from the parsed statement so the
//! session can tell the transaction how its locking reads treat rows
//! another transaction holds.
//!
//! Invariants:
//! 1. Only the statement's own query blocks count (the outermost query and
//!    its set operands), as MySQL applies the clause to the rows those
//!    blocks lock; a statement without a locking clause waits.
//! 2. Of several clauses, `NOWAIT` wins over `SKIP LOCKED`, which wins
//!    over waiting (the first refusal ends the statement anyway).
//!
//! It does not bind or check anything: the binder rejects what is invalid.

use mizzle_txn::WaitPolicy;
use sqlparser::ast::{NonBlock, Query, SetExpr, Statement};

/// How the statement's locking reads treat a held row.
pub(crate) fn wait_policy(stmt: &Statement) -> WaitPolicy {
    match stmt {
        Statement::Query(q) => query_policy(q),
        _ => WaitPolicy::Wait,
    }
}

fn query_policy(q: &Query) -> WaitPolicy {
    let mut p = WaitPolicy::Wait;
    for l in &q.locks {
        p = stronger(
            p,
            match l.nonblock {
                Some(NonBlock::Nowait) => WaitPolicy::NoWait,
                Some(NonBlock::SkipLocked) => WaitPolicy::SkipLocked,
                None => WaitPolicy::Wait,
            },
        );
    }
    stronger(p, body_policy(&q.body))
}

fn body_policy(b: &SetExpr) -> WaitPolicy {
    match b {
        SetExpr::Query(q) => query_policy(q),
        SetExpr::SetOperation { left, right, .. } => stronger(body_policy(left), body_policy(right)),
        _ => WaitPolicy::Wait,
    }
}

fn stronger(a: WaitPolicy, b: WaitPolicy) -> WaitPolicy {
    let rank = |p: WaitPolicy| match p {
        WaitPolicy::Wait => 0,
        WaitPolicy::SkipLocked => 1,
        WaitPolicy::NoWait => 2,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(sql: &str) -> WaitPolicy {
        let p = crate::parse::parse(sql).expect("parses");
        wait_policy(p.statements()[0])
    }

    #[test]
    fn options_of_the_locking_clause_are_read() {
        assert_eq!(policy("SELECT * FROM t WHERE id = 1 FOR UPDATE"), WaitPolicy::Wait);
        assert_eq!(policy("SELECT * FROM t FOR UPDATE NOWAIT"), WaitPolicy::NoWait);
        assert_eq!(policy("SELECT * FROM t FOR SHARE SKIP LOCKED"), WaitPolicy::SkipLocked);
        assert_eq!(policy("SELECT * FROM t"), WaitPolicy::Wait);
        assert_eq!(policy("UPDATE t SET a = 1"), WaitPolicy::Wait);
        assert_eq!(policy("(SELECT * FROM t FOR UPDATE SKIP LOCKED) UNION (SELECT * FROM u)"), WaitPolicy::SkipLocked);
    }
}
