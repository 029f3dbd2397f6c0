//! The ternary-logic partition check shared by the TLP test binaries (each
//! includes this file with `mod partition;`): for a predicate `p`, the rows of
//! `SELECT id FROM t` split into those where `p` is true, false and NULL,
//! and each part is the same on a twin table that differs only in how the
//! rows are found (no secondary indexes, or the same data in another
//! representation). Also the connectives the predicate generators share.

use mizzle::{Session, Value};

use crate::rng::Rng;

/// `atom(r)` or, one time in three while `depth` lasts, a connective over
/// smaller predicates: AND, OR, NOT and, with `xor`, XOR.
pub fn connective(r: &mut Rng, depth: u32, xor: bool, atom: &mut dyn FnMut(&mut Rng) -> String) -> String {
    if depth > 0 && r.below(3) == 0 {
        let x = connective(r, depth - 1, xor, atom);
        let y = connective(r, depth - 1, xor, atom);
        return match r.below(if xor { 4 } else { 3 }) {
            0 => format!("({x} AND {y})"),
            1 => format!("({x} OR {y})"),
            2 => format!("NOT ({x})"),
            _ => format!("({x} XOR {y})"),
        };
    }
    atom(r)
}

/// The ids a query returns, sorted, or the error number.
pub fn ids(s: &Session, sql: &str) -> Result<Vec<i64>, u16> {
    let rows = s.query(sql, []).map_err(|e| e.number())?;
    let mut v: Vec<i64> = rows
        .iter()
        .map(|row| match &row.values()[0] {
            Value::Int(i) => *i,
            Value::UInt(u) => i64::try_from(*u).unwrap_or_else(|_| panic!("id {u} out of range")),
            other => panic!("id is not an integer: {other:?}"),
        })
        .collect();
    v.sort_unstable();
    Ok(v)
}

/// Checks the partition of `p` over table `t` against `all` (every id of
/// `t`), each part also against the twin table `twin` (the same query with
/// `FROM t ` replaced): the same ids or the same error number. When a part
/// fails, only the twin comparison applies (an error, say an out-of-range
/// sum, must not depend on the plan). `what` names the twin in messages.
/// Returns the three queries (for callers that also look at their plans).
pub fn check_partitions(s: &Session, seed: u64, p: &str, all: &[i64], twin: &str, what: &str) -> [String; 3] {
    let parts = [
        format!("SELECT id FROM t WHERE {p}"),
        format!("SELECT id FROM t WHERE NOT ({p})"),
        format!("SELECT id FROM t WHERE ({p}) IS NULL"),
    ];
    let mut union = Vec::new();
    let mut failed = false;
    for q in &parts {
        let got = ids(s, q);
        match &got {
            Ok(v) => union.extend(v.iter().copied()),
            Err(_) => failed = true,
        }
        let other = q.replacen("FROM t ", &format!("FROM {twin} "), 1);
        assert_eq!(got, ids(s, &other), "seed {seed}: t and {what} differ for\n  {q}");
    }
    if !failed {
        union.sort_unstable();
        assert_eq!(union, all, "seed {seed}: partitions of p do not add up, p = {p}");
    }
    parts
}
