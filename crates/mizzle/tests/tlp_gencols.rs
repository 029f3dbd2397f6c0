//! Randomized differential test by ternary logic partitioning (as
//! `tlp.rs`) over ENUM, SET and generated columns: for a generated
//! predicate `p`, the rows of `t` are exactly those of `t WHERE p`,
//! `t WHERE NOT (p)` and `t WHERE (p) IS NULL` together; and each query
//! gives the same rows on a table with secondary indexes (on the ENUM
//! column and on the VIRTUAL and STORED generated columns, which the
//! optimizer turns into index ranges) as on a copy without them. Seeded
//! (xorshift); a mismatch names its seed and query; `TLP_SEEDS` raises the
//! number of seeds.
//!
//! Not yet: DECIMAL columns (65-digit values and keys are covered by
//! `sql-tests/suite/types/decimal65.slt` and the property tests of
//! `mizzle_types::key`).

use mizzle::{Database, Session};

mod partition;
mod rng;
use partition::{check_partitions, connective, ids};
use rng::Rng;

const INTS: &[&str] = &["NULL", "0", "1", "-1", "2", "3", "7", "-5"];
/// Values stored into the ENUM column (members or indexes).
const ENUMS: &[&str] = &["NULL", "'x'", "'b'", "'a'", "1", "2", "3", "'a '"];
/// Values stored into the SET column (subsets or masks).
const SETS: &[&str] = &["NULL", "''", "'p'", "'r,p'", "'q'", "'p,q,r'", "5", "0", "'q,q'"];
/// Literals compared with the columns: members, non-members, numbers.
const TEXTS: &[&str] = &["NULL", "''", "'a'", "'b'", "'x'", "'p'", "'p,r'", "'q'", "'z'", "'1'"];

const COLS: &str = "id INT PRIMARY KEY, a INT, e ENUM('x','b','a'), s SET('p','q','r'), \
     v INT AS (a * 2 + 1) VIRTUAL, w VARCHAR(12) AS (CONCAT(e, '-', a)) STORED, n INT AS (e + 0) STORED";

fn literal_for(col: &str, r: &mut Rng) -> String {
    match col {
        "a" | "id" | "v" | "n" => r.pick(INTS).to_string(),
        _ => r.pick(TEXTS).to_string(),
    }
}

fn predicate(r: &mut Rng, depth: u32) -> String {
    connective(r, depth, true, &mut atom)
}

/// One comparison, the leaf of [`predicate`].
fn atom(r: &mut Rng) -> String {
    let cols = ["id", "a", "e", "s", "v", "w", "n"];
    let col = r.pick(&cols);
    let lit = |r: &mut Rng| {
        if r.below(4) == 0 {
            let pool = if r.below(2) == 0 { INTS } else { TEXTS };
            r.pick(pool).to_string()
        } else {
            literal_for(col, r)
        }
    };
    match r.below(9) {
        0..=3 => {
            let op = r.pick(&["=", "<>", "<", "<=", ">", ">=", "<=>"]);
            format!("{col} {op} {}", lit(r))
        }
        4 => format!("{col} BETWEEN {} AND {}", lit(r), lit(r)),
        5 => {
            let n = 1 + r.below(3);
            let items: Vec<String> = (0..n).map(|_| lit(r)).collect();
            let not = if r.below(3) == 0 { "NOT " } else { "" };
            format!("{col} {not}IN ({})", items.join(", "))
        }
        6 => format!("{col} IS {}NULL", if r.below(2) == 0 { "NOT " } else { "" }),
        7 => {
            format!("FIND_IN_SET({}, s) {} {}", r.pick(&["'p'", "'q'", "'r'", "'z'"]), r.pick(&["=", ">"]), r.below(4))
        }
        _ => format!("{} {} {}", r.pick(&["e + 0", "s + 0", "v - a", "n"]), r.pick(&["=", "<", ">="]), r.pick(INTS)),
    }
}

fn setup(seed: u64) -> (Session, Rng) {
    let db = Database::open_in_memory().expect("db");
    let s = db.session();
    s.execute(&format!("CREATE TABLE t ({COLS}, KEY ke (e), KEY kv (v), KEY kw (w), KEY kn (n), KEY kev (e, v))"), [])
        .expect("t");
    s.execute(&format!("CREATE TABLE u ({COLS})"), []).expect("u");
    let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let n = r.below(40);
    for id in 0..n {
        let row = format!("({id}, {}, {}, {})", r.pick(INTS), r.pick(ENUMS), r.pick(SETS));
        s.execute(&format!("INSERT INTO t (id, a, e, s) VALUES {row}"), []).expect("row into t");
        s.execute(&format!("INSERT INTO u (id, a, e, s) VALUES {row}"), []).expect("row into u");
    }
    // Some updates, so generated columns and index entries are rewritten.
    for _ in 0..r.below(8) {
        let id = r.below(40);
        let a = r.pick(INTS);
        for t in ["t", "u"] {
            s.execute(&format!("UPDATE {t} SET a = {a} WHERE id = {id}"), []).expect("update");
        }
    }
    (s, r)
}

fn check_seed(seed: u64, queries: usize) {
    let (s, mut r) = setup(seed);
    let all = ids(&s, "SELECT id FROM t").expect("all rows");
    assert_eq!(Ok(all.clone()), ids(&s, "SELECT id FROM u"), "seed {seed}: tables differ");
    for _ in 0..queries {
        let p = predicate(&mut r, 2);
        // `u` is the same table without secondary indexes.
        check_partitions(&s, seed, &p, &all, "u", "the full scan of u");
    }
}

#[test]
fn enum_set_and_generated_columns_partition_and_index_plans_agree() {
    let seeds: u64 = std::env::var("TLP_SEEDS").ok().and_then(|v| v.parse().ok()).unwrap_or(30);
    for seed in 0..seeds {
        check_seed(seed, 60);
    }
}
