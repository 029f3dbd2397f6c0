//! Randomized differential test of plans that read by key: the same query
//! gives the same rows on tables with keys (where joins from a key read
//! become index lookup joins and an ORDER BY the key order gives drops
//! its sort) and on copies without secondary indexes or a primary key
//! (hash joins, sorts). Generation is seeded (xorshift); a mismatch names
//! its seed and query, and `PLAN_DIFF_SEEDS` raises the number of seeds.
//!
//! `key IN (SELECT ...)` reads one key range per subquery value on the
//! keyed tables, the whole table on the others; GROUP BY streams in key
//! order on the keyed tables and hashes on the others.
//!
//! Joins compare their rows as multisets; ordered queries compare rows in
//! order, with the primary key last in ORDER BY so that the order is total.

use mizzle::{Database, Session};

mod rng;
use rng::Rng;

const INTS: &[&str] = &["NULL", "0", "1", "-1", "2", "3", "7"];
const STRS: &[&str] = &["NULL", "''", "'a'", "'A'", "'ab'", "'b'", "'b '", "'1'", "'2'", "'é'", "'E'"];

/// Keyed tables: `a` is the left side of the joins, `b` has keys on every
/// column; `bp` holds `b`'s rows without any key, `ap` holds `a`'s.
const SCHEMA: &[&str] = &[
    "CREATE TABLE a (id INT PRIMARY KEY, x INT, s VARCHAR(4))",
    "CREATE TABLE ap (id INT, x INT, s VARCHAR(4))",
    "CREATE TABLE b (id INT PRIMARY KEY, y INT, t VARCHAR(4), z INT, KEY ky (y), KEY kt (t), KEY kyz (y, z), UNIQUE KEY uz (z))",
    "CREATE TABLE bp (id INT, y INT, t VARCHAR(4), z INT)",
];

fn setup(seed: u64) -> (Session, Rng) {
    let db = Database::open_in_memory().expect("db");
    let s = db.session();
    for q in SCHEMA {
        s.execute(q, []).expect("schema");
    }
    let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    for id in 0..r.below(30) {
        let row = format!("({id}, {}, {})", r.pick(INTS), r.pick(STRS));
        s.execute(&format!("INSERT INTO a VALUES {row}"), []).expect("a");
        s.execute(&format!("INSERT INTO ap VALUES {row}"), []).expect("ap");
    }
    let mut z = 0;
    for id in 0..r.below(30) {
        // z is unique or NULL.
        z += 1 + r.below(3) as i64;
        let zv = if r.below(4) == 0 { "NULL".to_string() } else { (z - 10).to_string() };
        let row = format!("({id}, {}, {}, {zv})", r.pick(INTS), r.pick(STRS));
        s.execute(&format!("INSERT INTO b VALUES {row}"), []).expect("b");
        s.execute(&format!("INSERT INTO bp VALUES {row}"), []).expect("bp");
    }
    (s, r)
}

fn rows(s: &Session, q: &str) -> Result<Vec<String>, String> {
    let rs = s.query(q, []).map_err(|e| e.to_string())?;
    Ok(rs.iter().map(|row| format!("{:?}", row.values())).collect())
}

/// A bounded left side: a key read of `a`.
fn left_bound(r: &mut Rng, t: &str) -> String {
    match r.below(4) {
        0 => format!("{t}.id = {}", r.below(30)),
        1 => format!("{t}.id IN ({}, {}, {})", r.below(30), r.below(30), r.below(30)),
        2 => format!("{t}.id BETWEEN {} AND {}", r.below(15), 5 + r.below(30)),
        _ => format!("{t}.id < {}", r.below(30)),
    }
}

/// A join condition: equalities a key of `b` may serve, same-kind and
/// mixed (text against integers), sometimes with a residual condition.
fn join_cond(r: &mut Rng, b: &str) -> String {
    let eq = match r.below(8) {
        0 => format!("{b}.id = a1.x"),
        1 => format!("{b}.y = a1.x"),
        2 => format!("{b}.z = a1.x"),
        3 => format!("{b}.t = a1.s"),
        4 => format!("{b}.y = a1.x AND {b}.z = a1.id - 5"),
        5 => format!("{b}.t = a1.x"),
        6 => format!("{b}.y = a1.s"),
        _ => format!("{b}.id = a1.id"),
    };
    match r.below(4) {
        0 => format!("{eq} AND {b}.id + a1.id > {}", r.below(20)),
        1 => format!("{eq} AND {b}.y IS NOT NULL"),
        _ => eq,
    }
}

fn check_seed(seed: u64, queries: usize) {
    let (s, mut r) = setup(seed);
    for _ in 0..queries {
        let kind = r.pick(&["JOIN", "LEFT JOIN"]);
        let bound = left_bound(&mut r, "a1");
        let cond_b = join_cond(&mut r, "b1");
        let cond_p = cond_b.replace("b1.", "p1.");
        let keyed = format!("SELECT a1.id, a1.x, b1.id, b1.t FROM a AS a1 {kind} b AS b1 ON {cond_b} WHERE {bound}");
        let plain = format!("SELECT a1.id, a1.x, p1.id, p1.t FROM a AS a1 {kind} bp AS p1 ON {cond_p} WHERE {bound}");
        let (mut k, mut p) = (rows(&s, &keyed), rows(&s, &plain));
        if let (Ok(k), Ok(p)) = (&mut k, &mut p) {
            k.sort();
            p.sort();
        }
        assert_eq!(k, p, "seed {seed}: {keyed}\n against {plain}");

        // Ordered reads: ORDER BY a key prefix (then the primary key), all
        // ascending or all descending (read backwards), or mixed (sorted).
        let (order, filter) = match r.below(5) {
            0 => ("id".to_string(), format!("id > {}", r.below(20))),
            1 => ("y, id".to_string(), format!("y = {}", r.pick(INTS))),
            2 => ("y, z, id".to_string(), format!("y BETWEEN {} AND {}", r.pick(INTS), r.pick(INTS))),
            3 => ("t, id".to_string(), format!("t >= {}", r.pick(STRS))),
            _ => ("z, id".to_string(), format!("z < {} OR z IS NULL", r.below(30))),
        };
        let order = match r.below(3) {
            0 => order,
            1 => order.split(", ").map(|c| format!("{c} DESC")).collect::<Vec<_>>().join(", "),
            _ => order.replacen(", ", " DESC, ", 1),
        };
        let limit = if r.below(2) == 0 { format!(" LIMIT {}", r.below(6)) } else { String::new() };
        let keyed = format!("SELECT id, y, t, z FROM b WHERE {filter} ORDER BY {order}{limit}");
        let plain = keyed.replace("FROM b ", "FROM bp ");
        assert_eq!(rows(&s, &keyed), rows(&s, &plain), "seed {seed}: {keyed}");

        // GROUP BY in key order (streaming) against hashing: the groups'
        // aggregates, ordered by their smallest id (a text group may show
        // any of its spellings, so the key itself is left out).
        let (group, filter) = match r.below(4) {
            0 => ("y", format!("y > {}", r.pick(INTS))),
            1 => ("t", format!("t >= {}", r.pick(STRS))),
            2 => (r.pick(&["y, z", "z, y"]), format!("y BETWEEN {} AND {}", r.pick(INTS), r.pick(INTS))),
            _ => ("id", format!("id < {}", r.below(30))),
        };
        let keyed = format!(
            "SELECT COUNT(*), SUM(id), MIN(id), COUNT(z) FROM b WHERE {filter} GROUP BY {group} ORDER BY MIN(id)"
        );
        let plain = keyed.replace("FROM b ", "FROM bp ");
        assert_eq!(rows(&s, &keyed), rows(&s, &plain), "seed {seed}: {keyed}");
        // Ordered by numeric group keys (no sort on the keyed table).
        let (group, filter) = match r.below(3) {
            0 => ("y", format!("y > {}", r.pick(INTS))),
            1 => ("y, z", format!("y >= {}", r.pick(INTS))),
            _ => ("id", format!("id > {}", r.below(30))),
        };
        let order = match r.below(2) {
            0 => group.to_string(),
            _ => group.split(", ").map(|c| format!("{c} DESC")).collect::<Vec<_>>().join(", "),
        };
        let limit = if r.below(2) == 0 { format!(" LIMIT {}", r.below(6)) } else { String::new() };
        let keyed =
            format!("SELECT {group}, COUNT(*), SUM(id) FROM b WHERE {filter} GROUP BY {group} ORDER BY {order}{limit}");
        let plain = keyed.replace("FROM b ", "FROM bp ");
        assert_eq!(rows(&s, &keyed), rows(&s, &plain), "seed {seed}: {keyed}");

        // `key IN (SELECT ...)`: one range per value the subquery returns
        // (values of any type, NULLs, duplicates), maybe with more
        // conjuncts, ordered by the key or not.
        let (col, sub) = match r.below(6) {
            0 => ("id", "SELECT x FROM ap"),
            1 => ("y", "SELECT x FROM ap WHERE id < 10"),
            2 => ("z", "SELECT x - 3 FROM ap"),
            3 => ("id", "SELECT s FROM ap"),
            4 => ("y", "SELECT x / 2 FROM ap"),
            _ => ("z", "SELECT id * 1.5 FROM ap WHERE x IS NOT NULL"),
        };
        let more = r.pick(&["", " AND t IS NOT NULL", " AND id > 3"]);
        let keyed = format!("SELECT id, y, t, z FROM b WHERE {col} IN ({sub}){more} ORDER BY id");
        let plain = keyed.replace("FROM b ", "FROM bp ");
        assert_eq!(rows(&s, &keyed), rows(&s, &plain), "seed {seed}: {keyed}");
        let keyed = format!("DELETE FROM b WHERE {col} IN ({sub}) AND id = {}", r.below(30));
        let plain = keyed.replace("FROM b ", "FROM bp ");
        let (k, p) = (s.execute(&keyed, []).map(|e| e.rows_affected), s.execute(&plain, []).map(|e| e.rows_affected));
        assert_eq!(k.map_err(|e| e.to_string()), p.map_err(|e| e.to_string()), "seed {seed}: {keyed}");
    }
    // UPDATE ... ORDER BY ... LIMIT changes the same rows either way (the
    // new z values are unique: ids are below 100).
    for _ in 0..4 {
        let dir = r.pick(&["", " DESC"]);
        let col = r.pick(&["id", "y", "t"]);
        let n = r.below(5);
        let v = r.below(1000);
        for t in ["b", "bp"] {
            let q = format!(
                "UPDATE {t} SET z = 100000 + {v} * 100 + id WHERE y IS NOT NULL ORDER BY {col}{dir}, id{dir} LIMIT {n}"
            );
            s.execute(&q, []).map(|_| ()).unwrap_or_else(|e| panic!("seed {seed}: {q}: {e}"));
        }
        let q = "SELECT id, y, t, z FROM b ORDER BY id";
        assert_eq!(rows(&s, q), rows(&s, &q.replace("FROM b ", "FROM bp ")), "seed {seed}: ORDER BY {col}{dir}");
    }
}

#[test]
fn keyed_plans_and_plain_plans_agree() {
    let seeds: u64 = std::env::var("PLAN_DIFF_SEEDS").ok().and_then(|v| v.parse().ok()).unwrap_or(40);
    for seed in 0..seeds {
        check_seed(seed, 40);
    }
}

#[test]
fn the_keyed_plans_are_the_ones_tested() {
    let (s, _) = setup(7);
    let plan = |q: &str| rows(&s, &format!("EXPLAIN {q}")).expect("explain").join("\n");
    let join = plan("SELECT a1.id FROM a AS a1 JOIN b AS b1 ON b1.y = a1.x WHERE a1.id < 5");
    assert!(join.contains("Index lookup inner join"), "{join}");
    let plain = plan("SELECT a1.id FROM a AS a1 JOIN bp AS p1 ON p1.y = a1.x WHERE a1.id < 5");
    assert!(plain.contains("Hash inner join"), "{plain}");
    let ordered = plan("SELECT id FROM b WHERE y = 1 ORDER BY y, id");
    assert!(!ordered.contains("Sort"), "{ordered}");
    let sorted = plan("SELECT id FROM bp WHERE y = 1 ORDER BY y, id");
    assert!(sorted.contains("Sort"), "{sorted}");
    let backwards = plan("SELECT id FROM b WHERE y > 1 ORDER BY y DESC, id DESC");
    assert!(backwards.contains("descending") && !backwards.contains("Sort"), "{backwards}");
    let streamed = plan("SELECT COUNT(*) FROM b WHERE y > 0 GROUP BY y");
    assert!(streamed.contains("streaming in key order"), "{streamed}");
    let unsorted = plan("SELECT y, COUNT(*) FROM b WHERE y > 0 GROUP BY y ORDER BY y DESC");
    assert!(unsorted.contains("streaming") && !unsorted.contains("Sort"), "{unsorted}");
    let hashed = plan("SELECT COUNT(*) FROM bp WHERE y > 0 GROUP BY y");
    assert!(!hashed.contains("streaming"), "{hashed}");
    let listed = plan("SELECT id FROM b WHERE y IN (SELECT x FROM ap)");
    assert!(listed.contains("one per subquery value"), "{listed}");
}
