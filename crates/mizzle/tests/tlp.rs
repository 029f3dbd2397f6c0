//! Randomized differential test by ternary logic partitioning (SQLancer's
//! TLP): for a generated predicate `p`, the rows of `Q` are exactly the
//! rows of `Q WHERE p`, `Q WHERE NOT (p)` and `Q WHERE (p) IS NULL` taken
//! together; and the same query gives the same rows on a table with
//! secondary indexes (where the optimizer turns `p` into index ranges) and
//! on a copy without them (full scans). Generation is seeded (xorshift); a
//! mismatch names its seed and query, and `TLP_SEEDS` raises the number of
//! seeds.
//!
//! Covers integers, strings, doubles, decimals, dates and YEAR. Not yet:
//! collations and the other new types of issue 10 (they do not exist yet).

use mizzle::{Database, Session};

mod partition;
mod rng;
use partition::{check_partitions, connective, ids};
use rng::Rng;

const INTS: &[&str] = &["NULL", "0", "1", "-1", "2", "3", "7", "100", "-50"];
const STRS: &[&str] = &["NULL", "''", "'a'", "'A'", "'ab'", "'b'", "'b '", "'10'", "'2'", "'z'", "'é'"];
const DBLS: &[&str] = &["NULL", "0.5", "-1.25", "2", "1e3", "3.0"];
const DECS: &[&str] = &["NULL", "1.50", "-2.25", "0.00", "3.00", "10.10"];
const DATES: &[&str] = &["NULL", "'2024-01-31'", "'2000-02-29'", "'1999-12-31'", "'2024-02-01'"];
const YEARS: &[&str] = &["NULL", "1999", "2024", "'00'", "70", "2155", "1901"];

const SCHEMA_INDEXED: &str = "CREATE TABLE t (id INT PRIMARY KEY, a INT, b VARCHAR(8), c DOUBLE, d DECIMAL(6,2), \
     e DATE, y YEAR, KEY ka (a), KEY kb (b), KEY kbc (b, c), KEY kd (d), KEY ke (e), KEY kae (a, e), KEY ky (y))";
const SCHEMA_PLAIN: &str =
    "CREATE TABLE u (id INT PRIMARY KEY, a INT, b VARCHAR(8), c DOUBLE, d DECIMAL(6,2), e DATE, y YEAR)";

fn literal_for(col: &str, r: &mut Rng) -> String {
    match col {
        "a" | "id" => r.pick(INTS).to_string(),
        "b" => r.pick(STRS).to_string(),
        "c" => r.pick(DBLS).to_string(),
        "d" => r.pick(DECS).to_string(),
        "y" => r.pick(YEARS).to_string(),
        _ => r.pick(DATES).to_string(),
    }
}

/// Any literal, of any column's kind (mixed-type comparisons included).
fn any_literal(r: &mut Rng) -> String {
    let col = r.pick(&["a", "b", "c", "d", "e", "y"]);
    literal_for(col, r)
}

fn predicate(r: &mut Rng, depth: u32) -> String {
    connective(r, depth, true, &mut atom)
}

/// One comparison, the leaf of [`predicate`].
fn atom(r: &mut Rng) -> String {
    let cols = ["id", "a", "b", "c", "d", "e", "y"];
    let col = r.pick(&cols);
    // Mostly a literal of the column's own kind, sometimes of another.
    let lit = |r: &mut Rng| if r.below(4) == 0 { any_literal(r) } else { literal_for(col, r) };
    match r.below(9) {
        0..=3 => {
            let op = r.pick(&["=", "<>", "<", "<=", ">", ">=", "<=>"]);
            format!("{col} {op} {}", lit(r))
        }
        4 => format!("{col} BETWEEN {} AND {}", lit(r), lit(r)),
        5 => {
            let n = 1 + r.below(4);
            let items: Vec<String> = (0..n).map(|_| lit(r)).collect();
            let not = if r.below(3) == 0 { "NOT " } else { "" };
            format!("{col} {not}IN ({})", items.join(", "))
        }
        6 => format!("{col} IS {}NULL", if r.below(2) == 0 { "NOT " } else { "" }),
        7 => format!("b LIKE {}", r.pick(&["'a%'", "'%b'", "'_'", "'%'", "NULL", "'A%'"])),
        _ => {
            let other = r.pick(&["a", "c", "d", "id"]);
            format!("{col} {} {other} + {}", r.pick(&["=", "<", ">="]), r.pick(&["0", "1", "-1", "0.5"]))
        }
    }
}

fn setup(seed: u64) -> (Session, Rng) {
    let db = Database::open_in_memory().expect("db");
    let s = db.session();
    s.execute(SCHEMA_INDEXED, []).expect("t");
    s.execute(SCHEMA_PLAIN, []).expect("u");
    let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let n = r.below(40);
    for id in 0..n {
        let row = format!(
            "({id}, {}, {}, {}, {}, {}, {})",
            r.pick(INTS),
            r.pick(STRS),
            r.pick(DBLS),
            r.pick(DECS),
            r.pick(DATES),
            r.pick(YEARS)
        );
        s.execute(&format!("INSERT INTO t VALUES {row}"), []).expect("row into t");
        s.execute(&format!("INSERT INTO u VALUES {row}"), []).expect("row into u");
    }
    (s, r)
}

fn check_seed(seed: u64, queries: usize) {
    let (s, mut r) = setup(seed);
    let all = ids(&s, "SELECT id FROM t").expect("all rows");
    for _ in 0..queries {
        let p = predicate(&mut r, 2);
        // `u` is the same table without secondary indexes.
        check_partitions(&s, seed, &p, &all, "u", "the full scan of u");
    }
}

#[test]
fn ternary_logic_partitions_and_index_plans_agree() {
    let seeds: u64 = std::env::var("TLP_SEEDS").ok().and_then(|v| v.parse().ok()).unwrap_or(40);
    for seed in 0..seeds {
        check_seed(seed, 60);
    }
}
