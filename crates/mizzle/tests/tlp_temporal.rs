//! Randomized differential test of the temporal and BIT types. For each
//! seed the same rows go into two tables: `t`, with a secondary index on
//! each of its TIME(2), DATETIME(2), TIMESTAMP(2) and BIT(8) columns, and
//! `w`, the same columns without any index. For generated predicates `p`
//! over one column:
//! 1. ternary logic partitioning: the rows of `t` are exactly those of
//!    `WHERE p`, `WHERE NOT (p)` and `WHERE (p) IS NULL` together;
//! 2. `t` (index ranges where the planner takes them) and `w` (full scans)
//!    return the same rows, and `t` with `IGNORE INDEX` does too;
//! 3. `ORDER BY col, id`, `MIN`, `MAX` and `COUNT(DISTINCT col)` agree
//!    between `t` and `w`.
//!
//! Generation is seeded (xorshift); a mismatch names its seed and query;
//! `TLP_SEEDS` raises the number of seeds.

use mizzle::{Database, Session, Value};

mod rng;
use rng::Rng;

/// A column, its type, the index name on `t`, and literals to compare it with.
struct Col {
    name: &'static str,
    ty: &'static str,
    literals: &'static [&'static str],
}

const COLS: &[Col] = &[
    Col {
        name: "tm",
        ty: "TIME(2)",
        literals: &[
            "'-838:59:59'",
            "'-100:00:00'",
            "'-00:00:01'",
            "'-00:00:00.5'",
            "'00:00:00'",
            "'00:00:00.25'",
            "'10:20:30.5'",
            "'23:59:59'",
            "'24:00:00'",
            "'1 01:00:00'",
            "'838:59:59'",
            "102030",
            "-5",
            "NULL",
        ],
    },
    Col {
        name: "dt",
        ty: "DATETIME(2)",
        literals: &[
            "'1000-01-01 00:00:00'",
            "'1999-12-31 23:59:59.99'",
            "'2000-01-01'",
            "'2024-02-29 12:00:00'",
            "'2024-02-29 12:00:00.5'",
            "'2038-01-19 03:14:07'",
            "'9999-12-31 23:59:59'",
            "NULL",
        ],
    },
    Col {
        name: "ts",
        ty: "TIMESTAMP(2) NULL",
        literals: &[
            "'1970-01-01 00:00:01'",
            "'1999-12-31 23:59:59.99'",
            "'2000-01-01'",
            "'2024-02-29 12:00:00'",
            "'2024-02-29 12:00:00.5'",
            "'2038-01-19 03:14:07'",
            "NULL",
        ],
    },
    Col { name: "bt", ty: "BIT(8)", literals: &["0", "1", "b'101'", "7", "b'10000000'", "200", "255", "NULL"] },
];

/// A predicate over column `c`, nesting AND/OR/NOT up to `depth`.
fn predicate(r: &mut Rng, c: &Col, depth: u32) -> String {
    if depth > 0 && r.below(3) == 0 {
        let x = predicate(r, c, depth - 1);
        let y = predicate(r, c, depth - 1);
        return match r.below(3) {
            0 => format!("({x} AND {y})"),
            1 => format!("({x} OR {y})"),
            _ => format!("NOT ({x})"),
        };
    }
    let n = c.name;
    match r.below(6) {
        0..=2 => format!("{n} {} {}", r.pick(&["=", "<>", "<", "<=", ">", ">=", "<=>"]), r.pick(c.literals)),
        3 => format!("{n} BETWEEN {} AND {}", r.pick(c.literals), r.pick(c.literals)),
        4 => {
            let k = 1 + r.below(3);
            let items: Vec<&str> = (0..k).map(|_| r.pick(c.literals)).collect();
            format!("{n} {}IN ({})", if r.below(3) == 0 { "NOT " } else { "" }, items.join(", "))
        }
        _ => format!("{n} IS {}NULL", if r.below(2) == 0 { "NOT " } else { "" }),
    }
}

fn ints(s: &Session, sql: &str, sort: bool) -> Vec<i64> {
    let rows = s.query(sql, []).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let mut v: Vec<i64> = rows
        .iter()
        .map(|row| match &row.values()[0] {
            Value::Int(i) => *i,
            Value::UInt(u) => *u as i64,
            other => panic!("not an integer: {other:?}"),
        })
        .collect();
    if sort {
        v.sort_unstable();
    }
    v
}

fn texts(s: &Session, sql: &str) -> Vec<String> {
    let rows = s.query(sql, []).unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.iter().map(|row| row.values().iter().map(|v| v.to_text_lossy()).collect::<Vec<_>>().join("|")).collect()
}

fn check_seed(seed: u64, queries: usize) {
    let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let db = Database::open_in_memory().expect("db");
    let s = db.session();
    let defs: Vec<String> = COLS.iter().map(|c| format!("{} {}", c.name, c.ty)).collect();
    let keys: Vec<String> = COLS.iter().map(|c| format!("KEY k_{0} ({0})", c.name)).collect();
    s.execute(&format!("CREATE TABLE t (id INT PRIMARY KEY, {}, {})", defs.join(", "), keys.join(", ")), [])
        .expect("t");
    s.execute(&format!("CREATE TABLE w (id INT PRIMARY KEY, {})", defs.join(", ")), []).expect("w");
    let n = r.below(30);
    for id in 0..n {
        let vals: Vec<&str> = COLS.iter().map(|c| r.pick(c.literals)).collect();
        for tb in ["t", "w"] {
            s.execute(&format!("INSERT INTO {tb} VALUES ({id}, {})", vals.join(", ")), [])
                .unwrap_or_else(|e| panic!("seed {seed}: insert {vals:?}: {e}"));
        }
    }
    let all = ints(&s, "SELECT id FROM t", true);
    let ctx = |q: &str| format!("seed {seed}: {q}");
    for _ in 0..queries {
        let c = &COLS[r.below(COLS.len())];
        let p = predicate(&mut r, c, 2);
        let mut union = Vec::new();
        for part in [p.clone(), format!("NOT ({p})"), format!("({p}) IS NULL")] {
            let qt = format!("SELECT id FROM t WHERE {part}");
            let got = ints(&s, &qt, true);
            let want = ints(&s, &format!("SELECT id FROM w WHERE {part}"), true);
            assert_eq!(got, want, "{}", ctx(&qt));
            let ignored = ints(&s, &format!("SELECT id FROM t IGNORE INDEX (k_{}) WHERE {part}", c.name), true);
            assert_eq!(got, ignored, "{}", ctx(&format!("IGNORE INDEX: {qt}")));
            union.extend(got);
        }
        union.sort_unstable();
        assert_eq!(union, all, "{}", ctx(&format!("partitions of {p}")));
    }
    for c in COLS {
        let n = c.name;
        assert_eq!(
            ints(&s, &format!("SELECT id FROM t ORDER BY {n}, id"), false),
            ints(&s, &format!("SELECT id FROM w ORDER BY {n}, id"), false),
            "{}",
            ctx(&format!("ORDER BY {n}"))
        );
        assert_eq!(
            ints(&s, &format!("SELECT id FROM t ORDER BY {n} DESC, id"), false),
            ints(&s, &format!("SELECT id FROM w ORDER BY {n} DESC, id"), false),
            "{}",
            ctx(&format!("ORDER BY {n} DESC"))
        );
        assert_eq!(
            texts(&s, &format!("SELECT MIN({n}), MAX({n}), COUNT(DISTINCT {n}) FROM t")),
            texts(&s, &format!("SELECT MIN({n}), MAX({n}), COUNT(DISTINCT {n}) FROM w")),
            "{}",
            ctx(&format!("MIN/MAX/COUNT(DISTINCT {n})"))
        );
    }
}

#[test]
fn temporal_and_bit_columns_agree_with_and_without_indexes() {
    let seeds: u64 = std::env::var("TLP_SEEDS").ok().and_then(|v| v.parse().ok()).unwrap_or(40);
    for seed in 0..seeds {
        check_seed(seed, 40);
    }
}
