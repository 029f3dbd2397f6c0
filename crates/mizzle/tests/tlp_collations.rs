//! Randomized differential test of collations. For each seed a collation
//! `C` is chosen and the same rows go into three tables: `t` with a column
//! `s` declared `COLLATE C` and a secondary index on it, `k` with `(s, id)`
//! as its collated primary key, and `w` whose `s` is binary
//! (`utf8mb4_0900_bin`) and is compared as `s COLLATE C`. For generated
//! predicates `p` over `s`:
//! 1. ternary logic partitioning: the rows of `t` are exactly those of
//!    `WHERE p`, `WHERE NOT (p)` and `WHERE (p) IS NULL` together;
//! 2. `t` (index ranges), `k` (primary-key ranges) and `w` (explicit
//!    COLLATE, full scan, weights computed per row) return the same rows;
//! 3. `ORDER BY s, id`, `COUNT(DISTINCT s)` and the number of `GROUP BY s`
//!    groups agree between `t` and `w`;
//! 4. a table `dc.d` whose `s` names no collation, in a database created
//!    with `COLLATE C` (so it takes the database's default), returns the
//!    same rows as `t`, and `t UNION d` has as many rows as `t` has groups.
//!
//! Generation is seeded (xorshift); a mismatch names its seed, collation
//! and query; `TLP_SEEDS` raises the number of seeds.

use mizzle::{Database, Session, Value};

mod rng;
use rng::Rng;

const COLLATIONS: &[&str] = &[
    "utf8mb4_0900_ai_ci",
    "utf8mb4_0900_as_ci",
    "utf8mb4_0900_as_cs",
    "utf8mb4_general_ci",
    "utf8mb4_unicode_ci",
    "utf8mb4_bin",
    "utf8mb4_0900_bin",
];

const CHARS: &[&str] = &["a", "A", "á", "b", "B", "ß", "s", "S", " ", "é", "e", "-", "z"];

/// A short string literal (or NULL) over characters that the collations
/// tell apart differently.
fn text(r: &mut Rng) -> String {
    if r.below(8) == 0 {
        return "NULL".into();
    }
    let n = r.below(4);
    let s: String = (0..n).map(|_| r.pick(CHARS)).collect();
    format!("'{s}'")
}

fn pattern(r: &mut Rng) -> String {
    let n = 1 + r.below(3);
    let s: String = (0..n).map(|_| r.pick(&["a", "A", "á", "%", "_", "s", "ß", "b", " "])).collect();
    format!("'{s}'")
}

/// A predicate over column expression `s`.
fn predicate(r: &mut Rng, depth: u32) -> String {
    if depth > 0 && r.below(3) == 0 {
        let x = predicate(r, depth - 1);
        let y = predicate(r, depth - 1);
        return match r.below(3) {
            0 => format!("({x} AND {y})"),
            1 => format!("({x} OR {y})"),
            _ => format!("NOT ({x})"),
        };
    }
    match r.below(7) {
        0..=2 => format!("{{s}} {} {}", r.pick(&["=", "<>", "<", "<=", ">", ">=", "<=>"]), text(r)),
        3 => format!("{{s}} BETWEEN {} AND {}", text(r), text(r)),
        4 => {
            let n = 1 + r.below(3);
            let items: Vec<String> = (0..n).map(|_| text(r)).collect();
            format!("{{s}} {}IN ({})", if r.below(3) == 0 { "NOT " } else { "" }, items.join(", "))
        }
        5 => format!("{{s}} LIKE {}", pattern(r)),
        _ => format!("{{s}} IS {}NULL", if r.below(2) == 0 { "NOT " } else { "" }),
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

fn check_seed(seed: u64, queries: usize) {
    let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let coll = COLLATIONS[r.below(COLLATIONS.len())];
    let db = Database::open_in_memory().expect("db");
    let s = db.session();
    s.execute(&format!("CREATE TABLE t (id INT PRIMARY KEY, s VARCHAR(8) COLLATE {coll}, KEY ks (s))"), []).expect("t");
    s.execute(&format!("CREATE TABLE k (id INT, s VARCHAR(8) COLLATE {coll} NOT NULL, PRIMARY KEY (s, id))"), [])
        .expect("k");
    // Binary whatever the server's default is.
    s.execute("CREATE TABLE w (id INT PRIMARY KEY, s VARCHAR(8)) COLLATE utf8mb4_0900_bin", []).expect("w");
    s.execute(&format!("CREATE DATABASE dc COLLATE {coll}"), []).expect("dc");
    s.execute("CREATE TABLE dc.d (id INT PRIMARY KEY, s VARCHAR(8), KEY ks (s))", []).expect("d");
    let n = r.below(30);
    for id in 0..n {
        let v = text(&mut r);
        for tb in ["t", "w", "dc.d"] {
            s.execute(&format!("INSERT INTO {tb} VALUES ({id}, {v})"), []).expect("row");
        }
        if v != "NULL" {
            s.execute(&format!("INSERT INTO k VALUES ({id}, {v})"), []).expect("row into k");
        }
    }
    let all = ints(&s, "SELECT id FROM t", true);
    let explicit = format!("s COLLATE {coll}");
    let ctx = |q: &str| format!("seed {seed}, {coll}: {q}");
    for _ in 0..queries {
        let p = predicate(&mut r, 2);
        let on_t = p.replace("{s}", "s");
        let on_w = p.replace("{s}", &explicit);
        let mut union = Vec::new();
        for (pt, pw) in [
            (on_t.clone(), on_w.clone()),
            (format!("NOT ({on_t})"), format!("NOT ({on_w})")),
            (format!("({on_t}) IS NULL"), format!("({on_w}) IS NULL")),
        ] {
            let qt = format!("SELECT id FROM t WHERE {pt}");
            let got = ints(&s, &qt, true);
            let want = ints(&s, &format!("SELECT id FROM w WHERE {pw}"), true);
            assert_eq!(got, want, "{}", ctx(&qt));
            let in_d = ints(&s, &format!("SELECT id FROM dc.d WHERE {pt}"), true);
            assert_eq!(in_d, got, "{}", ctx(&format!("dc.d (database default): {pt}")));
            // Rows of k are those of t whose s is not NULL.
            let in_k = ints(&s, &format!("SELECT id FROM k WHERE {pt}"), true);
            let want_k = ints(&s, &format!("SELECT id FROM t WHERE s IS NOT NULL AND ({pt})"), true);
            assert_eq!(in_k, want_k, "{}", ctx(&format!("k: {pt}")));
            union.extend(got);
        }
        union.sort_unstable();
        assert_eq!(union, all, "{}", ctx(&format!("partitions of {on_t}")));
    }
    let order_t = ints(&s, "SELECT id FROM t ORDER BY s, id", false);
    let order_w = ints(&s, &format!("SELECT id FROM w ORDER BY {explicit}, id"), false);
    assert_eq!(order_t, order_w, "{}", ctx("ORDER BY"));
    let order_k = ints(&s, "SELECT id FROM k ORDER BY s, id", false);
    let order_tk = ints(&s, "SELECT id FROM t WHERE s IS NOT NULL ORDER BY s, id", false);
    assert_eq!(order_k, order_tk, "{}", ctx("ORDER BY on k"));
    let distinct = |sql: &str| ints(&s, sql, false);
    assert_eq!(
        distinct("SELECT COUNT(DISTINCT s) FROM t"),
        distinct(&format!("SELECT COUNT(DISTINCT {explicit}) FROM w")),
        "{}",
        ctx("COUNT(DISTINCT)")
    );
    assert_eq!(
        distinct("SELECT COUNT(*) FROM (SELECT s FROM t GROUP BY s) g"),
        distinct(&format!("SELECT COUNT(*) FROM (SELECT {explicit} AS x FROM w GROUP BY x) g")),
        "{}",
        ctx("GROUP BY")
    );
    assert_eq!(
        distinct("SELECT COUNT(*) FROM (SELECT s FROM t UNION SELECT s FROM dc.d) u"),
        distinct("SELECT COUNT(*) FROM (SELECT s FROM t GROUP BY s) g"),
        "{}",
        ctx("UNION DISTINCT")
    );
    assert_eq!(
        distinct("SELECT COUNT(*) FROM (SELECT DISTINCT s FROM t) d"),
        distinct("SELECT COUNT(*) FROM (SELECT s FROM t GROUP BY s) g"),
        "{}",
        ctx("DISTINCT")
    );
}

#[test]
fn collated_columns_explicit_collate_and_index_plans_agree() {
    let seeds: u64 = std::env::var("TLP_SEEDS").ok().and_then(|v| v.parse().ok()).unwrap_or(40);
    for seed in 0..seeds {
        check_seed(seed, 40);
    }
}
