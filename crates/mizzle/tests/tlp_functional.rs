//! Randomized differential test (as `tlp.rs`) over functional index key
//! parts: for a generated predicate `p` over the indexed expressions, the
//! rows of `t` are exactly those of `t WHERE p`, `t WHERE NOT (p)` and
//! `t WHERE (p) IS NULL` together; and each query gives the same rows on a
//! table with functional indexes (which the optimizer turns into index
//! ranges over their hidden columns) as on a copy without them. Rows are
//! inserted, updated, deleted and the table is rewritten by ALTER TABLE
//! between queries. Seeded (xorshift); a mismatch names its seed and
//! query; `TLP_SEEDS` raises the number of seeds. The test also checks that
//! the optimizer did use the functional indexes for some queries, so the
//! comparison is not between two full scans.

use mizzle::{Database, Session};

mod partition;
mod rng;
use partition::{check_partitions, connective, ids};
use rng::Rng;

const INTS: &[&str] = &["NULL", "0", "1", "-1", "2", "3", "7", "-5", "10"];
const TEXTS: &[&str] = &["NULL", "''", "'a'", "'A'", "'b'", "'ab'", "'B '", "'z'", "'é'", "'E'"];
const DECIMALS: &[&str] = &["NULL", "0", "1.25", "-2.50", "3.75", "2.5", "-0.01"];
const DATES: &[&str] = &["NULL", "'2020-01-01'", "'2020-12-31'", "'2021-06-15'", "'1999-02-28'"];

const COLS: &str = "id INT PRIMARY KEY, a INT, b INT, s VARCHAR(8), x DECIMAL(6,2), d DATE";

/// The indexed expressions (as the key parts spell them) and a literal
/// pool to compare each with.
const EXPRS: &[(&str, &[&str])] = &[
    ("a + b", INTS),
    ("abs(a)", INTS),
    ("lower(s)", TEXTS),
    ("CONCAT(s, '-', a)", TEXTS),
    ("x * 2", DECIMALS),
    ("YEAR(d)", &["NULL", "2020", "2021", "1999", "0"]),
    ("a - b", INTS),
    ("SUBSTRING(s, 1, 1)", TEXTS),
];

const KEYS: &str = "KEY k1 ((a + b)), KEY k2 ((abs(a))), UNIQUE KEY k3 ((lower(s)), id), \
     KEY k4 ((CONCAT(s, '-', a))), KEY k5 ((x * 2)), KEY k6 ((YEAR(d)), a), KEY k7 (b, (a - b)), \
     KEY k8 ((SUBSTRING(s, 1, 1)) DESC)";

fn predicate(r: &mut Rng, depth: u32) -> String {
    connective(r, depth, true, &mut atom)
}

/// One comparison, the leaf of [`predicate`].
fn atom(r: &mut Rng) -> String {
    if r.below(6) == 0 {
        // A plain column, so composite keys get their other part.
        let col = r.pick(&["a", "b", "id"]);
        return format!("{col} {} {}", r.pick(&["=", "<", ">="]), r.pick(INTS));
    }
    let (expr, pool) = EXPRS[r.below(EXPRS.len())];
    let lit = |r: &mut Rng| r.pick(pool).to_string();
    match r.below(7) {
        0..=3 => {
            let op = r.pick(&["=", "<>", "<", "<=", ">", ">=", "<=>"]);
            format!("{expr} {op} {}", lit(r))
        }
        4 => format!("{expr} BETWEEN {} AND {}", lit(r), lit(r)),
        5 => {
            let n = 1 + r.below(3);
            let items: Vec<String> = (0..n).map(|_| lit(r)).collect();
            let not = if r.below(3) == 0 { "NOT " } else { "" };
            format!("{expr} {not}IN ({})", items.join(", "))
        }
        _ => format!("{expr} IS {}NULL", if r.below(2) == 0 { "NOT " } else { "" }),
    }
}

/// Runs a write on both tables; it must succeed or fail on both alike (a
/// duplicate in `t`'s unique functional index is a duplicate of (lower(s),
/// id), so of the primary key in `u` too).
fn both(s: &Session, seed: u64, sql: &str) {
    let on_t = s.execute(sql, []).map(|_| ()).map_err(|e| e.number());
    let on_u = s.execute(&sql.replacen(" t ", " u ", 1), []).map(|_| ()).map_err(|e| e.number());
    assert_eq!(on_t, on_u, "seed {seed}: the tables disagree on\n  {sql}");
}

fn setup(seed: u64) -> (Session, Rng) {
    let db = Database::open_in_memory().expect("db");
    let s = db.session();
    s.execute(&format!("CREATE TABLE t ({COLS}, {KEYS})"), []).expect("t");
    s.execute(&format!("CREATE TABLE u ({COLS})"), []).expect("u");
    let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    for id in 0..r.below(40) {
        let row = format!(
            "({id}, {}, {}, {}, {}, {})",
            r.pick(INTS),
            r.pick(INTS),
            r.pick(TEXTS),
            r.pick(DECIMALS),
            r.pick(DATES)
        );
        both(&s, seed, &format!("INSERT INTO t VALUES {row}"));
    }
    (s, r)
}

/// Updates, deletes or rewrites both tables.
fn change(s: &Session, seed: u64, r: &mut Rng) {
    let id = r.below(40);
    let sql = match r.below(5) {
        0 => format!("UPDATE t SET a = {}, s = {} WHERE id = {id}", r.pick(INTS), r.pick(TEXTS)),
        1 => format!("UPDATE t SET b = b + 1 WHERE {}", predicate(r, 0)),
        2 => format!("DELETE FROM t WHERE id = {id}"),
        3 => format!(
            "INSERT INTO t (id, a, s, x) VALUES ({}, {}, {}, {})",
            40 + id,
            r.pick(INTS),
            r.pick(TEXTS),
            r.pick(DECIMALS)
        ),
        _ => "ALTER TABLE t MODIFY COLUMN s VARCHAR(8) NULL".to_string(),
    };
    both(s, seed, &sql);
}

/// Checks one seed; returns how many queries on `t` used an index.
fn check_seed(seed: u64, queries: usize) -> usize {
    let (s, mut r) = setup(seed);
    let mut indexed = 0;
    for q in 0..queries {
        if q % 10 == 9 {
            change(&s, seed, &mut r);
        }
        let all = ids(&s, "SELECT id FROM t").expect("all rows");
        assert_eq!(Ok(all.clone()), ids(&s, "SELECT id FROM u"), "seed {seed}: tables differ");
        let p = predicate(&mut r, 2);
        let parts = check_partitions(&s, seed, &p, &all, "u", "the full scan of u");
        if let Ok(plan) = s.query(&format!("EXPLAIN {}", parts[0]), []) {
            let text: Vec<String> = plan.iter().map(|row| format!("{:?}", row.values())).collect();
            if text.iter().any(|l| l.contains(": index k")) {
                indexed += 1;
            }
        }
    }
    indexed
}

#[test]
fn functional_index_plans_agree_with_full_scans() {
    let seeds: u64 = std::env::var("TLP_SEEDS").ok().and_then(|v| v.parse().ok()).unwrap_or(20);
    let mut indexed = 0;
    for seed in 0..seeds {
        indexed += check_seed(seed, 60);
    }
    assert!(indexed > seeds as usize * 10, "too few queries used a functional index: {indexed}");
}
