//! Generated SQL, well-formed and mangled, against a small schema: every
//! statement gives rows or a typed error with a MySQL number, never a panic
//! and never an internal error (1105); afterwards the table still answers
//! consistently (its primary key and index agree). The seed is printed by
//! proptest on failure; `PROPTEST_CASES` raises the number of cases.

use mizzle::{Database, Session, Value};
use proptest::prelude::*;
use proptest::test_runner::Config;

const SCHEMA: &[&str] = &[
    "CREATE TABLE t (id INT PRIMARY KEY, n BIGINT, u INT UNSIGNED, d DECIMAL(8,3), f DOUBLE, \
     s VARCHAR(12), b VARBINARY(8), dt DATE, ts DATETIME, KEY kn (n), UNIQUE KEY ks (s))",
    "INSERT INTO t VALUES (1, 5, 7, 1.5, 0.25, 'abc', 'x', '2024-01-31', '2024-01-31 10:00:00'), \
     (2, NULL, 0, -2.125, -1e10, 'b', NULL, NULL, '1999-12-31 23:59:59'), \
     (3, -9223372036854775808, 4294967295, 99999.999, 3, '', 'yy', '2000-02-29', NULL), \
     (4, 9223372036854775807, NULL, NULL, NULL, NULL, '', '1970-01-01', '2038-01-19 03:14:07')",
    "CREATE TABLE o (k INT, v VARCHAR(5))",
    "INSERT INTO o VALUES (1, 'a'), (1, 'b'), (3, NULL), (NULL, 'z')",
];

fn open() -> Session {
    let db = Database::open_in_memory().expect("database");
    let s = db.session();
    for q in SCHEMA {
        s.run(q).expect("schema");
    }
    s
}

fn literal() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("NULL".to_string()),
        any::<i64>().prop_map(|i| i.to_string()),
        (0u64..=u64::MAX).prop_map(|u| u.to_string()),
        (-1000i32..1000, 0u32..1000).prop_map(|(a, b)| format!("{a}.{b:03}")),
        prop::sample::select(vec!["1e308", "-1e308", "0.0", "1e-5", "18446744073709551616", "-0"])
            .prop_map(str::to_string),
        "[a-z0-9 %_'\\\\-]{0,8}".prop_map(|s| format!("'{}'", s.replace('\'', "''").replace('\\', "\\\\"))),
        prop::sample::select(vec!["'2024-02-30'", "'2024-01-01 25:00:00'", "'0000-00-00'", "DATE '2020-02-29'"])
            .prop_map(str::to_string),
        prop::sample::select(vec!["TRUE", "FALSE", "X'00ff'", "b'101'"]).prop_map(str::to_string),
    ]
}

fn column() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["id", "n", "u", "d", "f", "s", "b", "dt", "ts", "t.id", "t.s"]).prop_map(str::to_string)
}

fn expr() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![3 => literal(), 3 => column()];
    leaf.prop_recursive(4, 48, 3, |inner| {
        let binop = prop::sample::select(vec![
            "+", "-", "*", "/", "DIV", "%", "=", "<>", "<", ">=", "<=>", "AND", "OR", "XOR", "&", "|", "<<", ">>",
            "LIKE",
        ]);
        // (name, arity): a wrong arity is rare, so most calls execute.
        let func = prop::sample::select(vec![
            ("ABS", 1),
            ("COALESCE", 3),
            ("IFNULL", 2),
            ("NULLIF", 2),
            ("CONCAT", 3),
            ("LENGTH", 1),
            ("UPPER", 1),
            ("SUBSTRING", 3),
            ("ROUND", 2),
            ("FLOOR", 1),
            ("CEIL", 1),
            ("MOD", 2),
            ("GREATEST", 3),
            ("LEAST", 2),
            ("LEFT", 2),
            ("REPLACE", 3),
            ("DATE_FORMAT", 2),
            ("YEAR", 1),
            ("DATEDIFF", 2),
            ("HEX", 1),
            ("TRIM", 1),
            ("SIGN", 1),
            ("POWER", 2),
            ("SQRT", 1),
            ("LOG", 1),
            ("IF", 3),
            ("CHAR_LENGTH", 1),
            ("LPAD", 3),
            ("REPEAT", 2),
            ("DATE_ADD_DAYS", 2),
            ("ABS", 2),
        ]);
        let ty = prop::sample::select(vec![
            "SIGNED",
            "UNSIGNED",
            "DECIMAL(5,2)",
            "DECIMAL(38,10)",
            "CHAR",
            "CHAR(2)",
            "DATE",
            "DATETIME",
            "DOUBLE",
            "BINARY",
        ]);
        prop_oneof![
            (inner.clone(), binop, inner.clone()).prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            (func, prop::collection::vec(inner.clone(), 3)).prop_map(|((f, n), a)| match f {
                "DATE_ADD_DAYS" => format!("DATE_ADD({}, INTERVAL {} DAY)", a[0], a[1]),
                f => format!("{f}({})", a[..n].join(", ")),
            }),
            (inner.clone(), ty).prop_map(|(a, t)| format!("CAST({a} AS {t})")),
            inner.clone().prop_map(|a| format!("(NOT {a})")),
            inner.clone().prop_map(|a| format!("(- {a})")),
            inner.clone().prop_map(|a| format!("({a} IS NULL)")),
            (inner.clone(), inner.clone(), inner.clone()).prop_map(|(a, b, c)| format!("({a} BETWEEN {b} AND {c})")),
            (inner.clone(), prop::collection::vec(inner.clone(), 1..4))
                .prop_map(|(a, l)| format!("({a} IN ({}))", l.join(", "))),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(a, b, c)| format!("CASE WHEN {a} THEN {b} ELSE {c} END")),
            inner.clone().prop_map(|a| format!("(SELECT MAX(k) FROM o WHERE o.k = {a})")),
            inner.clone().prop_map(|a| format!("EXISTS (SELECT 1 FROM o WHERE o.v = {a})")),
        ]
    })
}

fn statement() -> impl Strategy<Value = String> {
    let agg = prop::sample::select(vec!["COUNT", "SUM", "AVG", "MIN", "MAX", "GROUP_CONCAT"]);
    prop_oneof![
        (expr(), expr()).prop_map(|(a, w)| format!("SELECT {a} FROM t WHERE {w}")),
        (expr(), expr(), 0u8..5).prop_map(|(a, o, l)| format!("SELECT {a}, id FROM t ORDER BY {o} LIMIT {l}")),
        (agg, expr(), expr()).prop_map(|(f, a, g)| format!("SELECT {f}({a}) FROM t GROUP BY {g} HAVING COUNT(*) > 0")),
        (expr(), expr()).prop_map(|(a, c)| format!("SELECT {a} FROM t LEFT JOIN o ON {c}")),
        (expr(), expr()).prop_map(|(a, b)| format!("SELECT {a} FROM t UNION SELECT {b} FROM t")),
        (column(), expr(), expr()).prop_map(|(c, v, w)| {
            let c = c.trim_start_matches("t.").to_string();
            format!("UPDATE t SET {c} = {v} WHERE {w}")
        }),
        expr().prop_map(|w| format!("DELETE FROM t WHERE {w}")),
        (0i32..20, literal(), literal(), literal()).prop_map(|(id, n, s, d)| {
            format!("INSERT INTO t (id, n, s, d) VALUES ({id}, {n}, {s}, {d}) ON DUPLICATE KEY UPDATE n = {n}")
        }),
        (expr(), expr()).prop_map(|(a, b)| format!("INSERT INTO o SELECT {a}, {b} FROM t")),
        expr().prop_map(|a| format!("SELECT {a} FROM t LIMIT 1")),
        (expr(), expr()).prop_map(|(a, b)| format!("SELECT DISTINCT {a} FROM t, o WHERE {b}")),
    ]
}

/// Schema changes and transaction control, mixed into the statements.
fn ddl_or_control() -> impl Strategy<Value = String> {
    let ty = prop::sample::select(vec![
        "INT",
        "BIGINT UNSIGNED",
        "DECIMAL(4,1)",
        "VARCHAR(3)",
        "TEXT",
        "DOUBLE",
        "DATE",
        "DATETIME",
        "TINYINT",
    ]);
    let col = prop::sample::select(vec!["n", "u", "d", "f", "s", "b", "dt", "ts", "x"]);
    prop_oneof![
        (ty.clone(), literal()).prop_map(|(t, l)| format!("ALTER TABLE t ADD COLUMN x {t} DEFAULT {l}")),
        col.clone().prop_map(|c| format!("ALTER TABLE t DROP COLUMN {c}")),
        (col.clone(), ty).prop_map(|(c, t)| format!("ALTER TABLE t MODIFY COLUMN {c} {t}")),
        col.clone().prop_map(|c| format!("CREATE INDEX ix_{c} ON t ({c})")),
        col.clone().prop_map(|c| format!("CREATE UNIQUE INDEX ux_{c} ON t ({c}, id)")),
        prop::sample::select(vec![
            "DROP INDEX kn ON t",
            "DROP INDEX ks ON t",
            "BEGIN",
            "COMMIT",
            "ROLLBACK",
            "SAVEPOINT a",
            "ROLLBACK TO SAVEPOINT a",
            "TRUNCATE TABLE o",
            "ALTER TABLE t RENAME COLUMN s TO s2",
            "ALTER TABLE t RENAME COLUMN s2 TO s",
            "CREATE TABLE IF NOT EXISTS z AS SELECT id, n FROM t",
            "DROP TABLE IF EXISTS z",
            "SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE",
            "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
        ])
        .prop_map(str::to_string),
    ]
}

/// A well-formed statement, then damaged: a cut, a repeated slice or a
/// dropped slice (at character boundaries).
fn mangled() -> impl Strategy<Value = String> {
    (statement(), any::<prop::sample::Index>(), any::<prop::sample::Index>(), 0u8..3).prop_map(|(s, a, b, how)| {
        let cs: Vec<char> = s.chars().collect();
        let (i, j) = (a.index(cs.len() + 1), b.index(cs.len() + 1));
        let (lo, hi) = (i.min(j), i.max(j));
        let out: Vec<char> = match how {
            0 => cs[..lo].to_vec(),
            1 => cs[..hi].iter().chain(&cs[lo..]).copied().collect(),
            _ => cs[..lo].iter().chain(&cs[hi..]).copied().collect(),
        };
        out.into_iter().collect()
    })
}

/// Runs `sql`; panics (failing the case) on an internal error.
fn run_checked(s: &Session, sql: &str) {
    if let Err(e) = s.run(sql) {
        assert!(e.number() != 1105 && e.number() != 0, "internal error {} for {sql}: {e}", e.number());
    }
}

/// The table stays self-consistent: a full scan and a primary-key range
/// count the same rows, and for every value of every column, `c = ?` (which
/// an index on `c` serves) and `c <=> ?` (always a table scan) count the
/// same rows. Columns dropped by a generated ALTER are skipped.
fn consistent(s: &Session) {
    let count = |q: &str, p: &[Value]| -> Option<i64> {
        let r = s.query(q, p).ok()?;
        Some(r.get(0).expect("one row").get::<i64>(0).expect("count"))
    };
    let _ = s.run("ROLLBACK");
    let all = count("SELECT COUNT(*) FROM t", &[]).expect("table t answers");
    assert_eq!(count("SELECT COUNT(*) FROM t WHERE id >= -2147483648", &[]), Some(all), "primary-key range");
    for c in ["id", "n", "u", "d", "f", "s", "b", "dt", "ts", "x", "s2"] {
        let Ok(rows) = s.query(&format!("SELECT {c} FROM t"), []) else { continue };
        for r in rows.iter() {
            let v = r.values()[0].clone();
            if matches!(v, Value::Null) {
                continue;
            }
            let p = [v];
            let by_key = count(&format!("SELECT COUNT(*) FROM t WHERE {c} = ?"), &p);
            let by_scan = count(&format!("SELECT COUNT(*) FROM t WHERE {c} <=> ?"), &p);
            assert_eq!(by_key, by_scan, "column {c}, value {:?}: key lookup and scan agree", p[0]);
        }
    }
}

/// 1,000 cases per test unless `PROPTEST_CASES` says otherwise.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1000)
}

proptest! {
    #![proptest_config(Config { cases: cases(), failure_persistence: None, ..Config::default() })]

    #[test]
    fn generated_statements_never_panic_or_fail_internally(stmts in prop::collection::vec(statement(), 1..6)) {
        let s = open();
        for q in &stmts {
            run_checked(&s, q);
        }
        consistent(&s);
    }

    #[test]
    fn schema_changes_and_transactions_keep_tables_consistent(
        stmts in prop::collection::vec(prop_oneof![2 => statement(), 1 => ddl_or_control()], 1..12)
    ) {
        let s = open();
        for q in &stmts {
            run_checked(&s, q);
        }
        consistent(&s);
    }

    #[test]
    fn mangled_statements_get_typed_errors(stmts in prop::collection::vec(mangled(), 1..6)) {
        let s = open();
        for q in &stmts {
            run_checked(&s, q);
        }
        consistent(&s);
    }
}
