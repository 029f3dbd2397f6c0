//! Randomized differential test over JSON expressions by ternary logic
//! partitioning (as `tlp.rs`): for a generated predicate `p` over JSON
//! values, the rows of `Q` are exactly the rows of `Q WHERE p`,
//! `Q WHERE NOT (p)` and `Q WHERE (p) IS NULL` together. A second oracle
//! runs every predicate on a copy of the table whose documents are LONGTEXT:
//! JSON functions parse that text, so both must select the same rows, which
//! checks the binary form's seeking paths (`->` on a JSON column reads the
//! stored bytes) against the tree built from text. Generation is seeded
//! (xorshift); a mismatch names its seed and predicate; `TLP_SEEDS` raises
//! the number of seeds.

use mizzle::{Database, Session};

mod partition;
mod rng;
use partition::{check_partitions, connective, ids};
use rng::Rng;

const DOCS: &[&str] = &[
    "NULL",
    "'null'",
    "'1'",
    "'2.5'",
    "'\"a\"'",
    "'true'",
    "'[]'",
    "'[1, 2, 3]'",
    "'[3, \"a\", [1]]'",
    "'{}'",
    "'{\"a\": 1}'",
    "'{\"a\": 2, \"b\": [1, 2]}'",
    "'{\"a\": \"x\", \"b\": {\"c\": null}}'",
    "'{\"b\": [3], \"a\": [1, 2], \"aa\": true}'",
    "'[{\"a\": 1}, {\"a\": 5}]'",
];
const PATHS: &[&str] = &["'$'", "'$.a'", "'$.b'", "'$[0]'", "'$[1]'", "'$.b[0]'", "'$.b.c'", "'$[last]'", "'$.aa'"];
const WILD: &[&str] = &["'$.*'", "'$[*]'", "'$**.a'", "'$[0 to 1]'"];
const SCALARS: &[&str] = &["NULL", "1", "2", "0", "2.5", "'a'", "'x'", "'1'", "-1"];
const CANDIDATES: &[&str] =
    &["'1'", "'[1]'", "'[1, 2]'", "'\"a\"'", "'{\"a\": 1}'", "'{}'", "'[]'", "'null'", "'true'"];

fn predicate(r: &mut Rng, depth: u32) -> String {
    connective(r, depth, false, &mut atom)
}

/// One comparison, the leaf of [`predicate`].
fn atom(r: &mut Rng) -> String {
    let op = r.pick(&["=", "<>", "<", "<=", ">", ">=", "<=>"]);
    match r.below(12) {
        0 => format!("j->{} {op} {}", r.pick(PATHS), r.pick(SCALARS)),
        1 => format!("j->>{} {op} {}", r.pick(PATHS), r.pick(SCALARS)),
        2 => format!("JSON_EXTRACT(j, {}) {op} CAST({} AS JSON)", r.pick(WILD), r.pick(CANDIDATES)),
        3 => format!("JSON_CONTAINS(j, {})", r.pick(CANDIDATES)),
        4 => format!("JSON_CONTAINS(j, {}, {})", r.pick(CANDIDATES), r.pick(PATHS)),
        5 => format!("JSON_LENGTH(j) {op} {}", r.below(4)),
        6 => format!(
            "JSON_TYPE(j->{}) {op} {}",
            r.pick(PATHS),
            r.pick(&["'ARRAY'", "'INTEGER'", "'OBJECT'", "'STRING'"])
        ),
        7 => format!("{} MEMBER OF (j)", r.pick(SCALARS)),
        8 => format!("JSON_OVERLAPS(j, {})", r.pick(CANDIDATES)),
        9 => format!("JSON_CONTAINS_PATH(j, {}, {}, {})", r.pick(&["'one'", "'all'"]), r.pick(PATHS), r.pick(PATHS)),
        10 => format!("JSON_DEPTH(j) {op} {}", r.below(4)),
        _ => format!("JSON_SEARCH(j, 'one', {}) IS {}NULL", r.pick(&["'a'", "'x%'", "'%'"]), r.pick(&["", "NOT "])),
    }
}

fn setup(seed: u64) -> (Session, Rng) {
    let db = Database::open_in_memory().expect("db");
    let s = db.session();
    s.execute("CREATE TABLE t (id INT PRIMARY KEY, j JSON)", []).expect("t");
    s.execute("CREATE TABLE u (id INT PRIMARY KEY, j LONGTEXT)", []).expect("u");
    let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let n = 1 + r.below(30);
    for id in 0..n {
        let d = r.pick(DOCS);
        s.execute(&format!("INSERT INTO t VALUES ({id}, {d})"), []).expect("row into t");
        s.execute(&format!("INSERT INTO u VALUES ({id}, {d})"), []).expect("row into u");
    }
    (s, r)
}

fn check_seed(seed: u64, queries: usize) {
    let (s, mut r) = setup(seed);
    let all = ids(&s, "SELECT id FROM t").expect("all rows");
    for _ in 0..queries {
        let p = predicate(&mut r, 2);
        // Only predicates that treat j as a document agree with text: a
        // bare comparison of `j` itself is not generated.
        check_partitions(&s, seed, &p, &all, "u", "JSON text in u");
    }
}

#[test]
fn json_predicates_partition_and_agree_with_text() {
    let seeds: u64 = std::env::var("TLP_SEEDS").ok().and_then(|v| v.parse().ok()).unwrap_or(30);
    for seed in 0..seeds {
        check_seed(seed, 60);
    }
}
