//! The embedded API: sessions on many threads, prepared statements that are
//! re-planned after DDL, typed getters, isolation between databases.

use mizzle::{params, Database, IsolationLevel};

#[test]
fn two_databases_share_nothing() {
    let a = Database::open_in_memory().expect("a");
    let b = Database::open_in_memory().expect("b");
    a.session().execute("CREATE TABLE t (x INT)", []).expect("create in a");
    let e = b.session().query("SELECT * FROM t", []).expect_err("t is only in a");
    assert_eq!(e.number(), 1146);
}

#[test]
fn sessions_work_from_many_threads() {
    let db = Database::open_in_memory().expect("db");
    db.session().execute("CREATE TABLE c (id INT AUTO_INCREMENT PRIMARY KEY, t INT)", []).expect("create");
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let db = db.clone();
            std::thread::spawn(move || {
                let s = db.session();
                let mut ins = s.prepare("INSERT INTO c (t) VALUES (?)").expect("prepare");
                for _ in 0..250 {
                    ins.execute(params![t]).expect("insert");
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("thread");
    }
    let r = db.session().query("SELECT COUNT(*), COUNT(DISTINCT id) FROM c", []).expect("count");
    let row = r.get(0).expect("one row");
    assert_eq!(row.get::<i64>(0), Ok(1000));
    assert_eq!(row.get::<i64>(1), Ok(1000));
}

#[test]
fn prepared_statements_are_replanned_after_ddl() {
    let db = Database::open_in_memory().expect("db");
    let s = db.session();
    s.execute("CREATE TABLE p (a INT, b INT)", []).expect("create");
    s.execute("INSERT INTO p VALUES (1, 2)", []).expect("insert");
    let other = db.session();
    let mut q = s.prepare("SELECT * FROM p").expect("prepare");
    assert_eq!(q.query([]).expect("query").columns().len(), 2);
    other.execute("ALTER TABLE p ADD COLUMN c INT DEFAULT 3", []).expect("alter");
    let r = q.query([]).expect("query after alter");
    assert_eq!(r.columns().len(), 3);
    assert_eq!(r.get(0).map(|x| x.get::<i64>(2)), Some(Ok(3)));
}

#[test]
fn rows_convert_to_rust_types_by_index_and_name() {
    let db = Database::open_in_memory().expect("db");
    let s = db.session();
    let r = s.query("SELECT 1 AS i, 'x' AS t, 2.5 AS d, NULL AS n, 1.5e0 AS f", []).expect("query");
    let row = r.get(0).expect("row");
    assert_eq!(row.get::<i64>(0), Ok(1));
    assert_eq!(row.get_by_name::<String>("t"), Ok("x".to_string()));
    assert_eq!(row.get::<mizzle::Decimal>(2).map(|d| d.to_string()), Ok("2.5".to_string()));
    assert_eq!(row.get::<Option<i64>>(3), Ok(None));
    assert!(row.get::<i64>(3).is_err());
    assert_eq!(row.get::<f64>(4), Ok(1.5));
    assert!(row.get::<i64>(9).is_err());
}

#[test]
fn execute_reports_rows_affected_and_last_insert_id() {
    let db = Database::open_in_memory().expect("db");
    let s = db.session();
    s.execute("CREATE TABLE a (id INT AUTO_INCREMENT PRIMARY KEY, v INT)", []).expect("create");
    let e = s.execute("INSERT INTO a (v) VALUES (1), (2), (3)", []).expect("insert");
    assert_eq!(e.rows_affected, 3);
    assert_eq!(e.last_insert_id, 1);
    let e = s.execute("UPDATE a SET v = v + 1 WHERE id > 1", []).expect("update");
    assert_eq!(e.rows_affected, 2);
}

#[test]
fn begin_with_sets_the_isolation_level() {
    let db = Database::open_in_memory().expect("db");
    let s = db.session();
    s.begin_with(IsolationLevel::Serializable).expect("begin");
    let r = s.query("SELECT @@transaction_isolation", []).expect("query");
    assert_eq!(r.get(0).map(|x| x.get::<String>(0)), Some(Ok("REPEATABLE-READ".to_string())));
    s.commit().expect("commit");
}

#[test]
fn parameters_are_numbered_in_text_order() {
    let db = Database::open_in_memory().expect("db");
    let s = db.session();
    s.execute("CREATE TABLE u (id INT PRIMARY KEY, v INT)", []).expect("create");
    s.execute("INSERT INTO u VALUES (1, 0), (2, 0)", []).expect("insert");
    // UPDATE binds WHERE before SET; the first ? is still the SET value.
    let mut upd = s.prepare("UPDATE u SET v = ? WHERE id = ?").expect("prepare");
    upd.execute(params![7, 2]).expect("update");
    s.execute("UPDATE u SET v = ? WHERE id = ?", params![5, 1]).expect("update");
    let r = s.query("SELECT id, v FROM u ORDER BY id", []).expect("query");
    let got: Vec<(i64, i64)> = r.iter().map(|x| (x.get(0).expect("id"), x.get(1).expect("v"))).collect();
    assert_eq!(got, vec![(1, 5), (2, 7)]);
}

#[test]
fn prepared_range_scans_check_parameters_of_any_type() {
    // One plan serves every parameter: integer bounds convert exactly to the
    // key, text and double ones do not and are checked row by row.
    let db = Database::open_in_memory().expect("db");
    let s = db.session();
    s.execute("CREATE TABLE rp (id INT PRIMARY KEY, k INT, KEY ik (k))", []).expect("create");
    s.execute("INSERT INTO rp VALUES (1, NULL), (2, 20), (3, 30), (4, NULL), (5, 50)", []).expect("insert");
    let mut by_id = s.prepare("SELECT id FROM rp WHERE id BETWEEN ? AND ?").expect("prepare");
    let mut by_k = s.prepare("SELECT id FROM rp WHERE k < ?").expect("prepare");
    let ids = |r: mizzle::Rows| r.iter().map(|x| x.get::<i64>(0).expect("id")).collect::<Vec<_>>();
    assert_eq!(ids(by_id.query(params![2, 4]).expect("ints")), vec![2, 3, 4]);
    assert_eq!(ids(by_id.query(params!["2", "3.5"]).expect("text")), vec![2, 3]);
    assert_eq!(ids(by_id.query(params![1.5, 2.5]).expect("doubles")), vec![2]);
    assert_eq!(ids(by_id.query(params!["x", 9]).expect("text not a number")), vec![1, 2, 3, 4, 5]);
    assert_eq!(ids(by_k.query(params![35]).expect("int")), vec![2, 3]);
    assert_eq!(ids(by_k.query(params!["35"]).expect("text")), vec![2, 3]);
    assert_eq!(ids(by_k.query(params![None::<i64>]).expect("null")), Vec::<i64>::new());
}

#[test]
fn prepared_statements_see_their_own_transactions_ddl() {
    // The plan check is skipped for later executions in one transaction
    // (its snapshot is fixed); its own DDL and savepoint rollbacks must
    // still trigger a new plan.
    let db = Database::open_in_memory().expect("db");
    let s = db.session();
    s.execute("CREATE TABLE pd (a INT)", []).expect("create");
    s.execute("INSERT INTO pd VALUES (1)", []).expect("insert");
    let mut q = s.prepare("SELECT * FROM pd").expect("prepare");
    s.begin().expect("begin");
    assert_eq!(q.query([]).expect("query").columns().len(), 1);
    assert_eq!(q.query([]).expect("again").columns().len(), 1);
    s.execute("ALTER TABLE pd ADD COLUMN b INT DEFAULT 7", []).expect("alter");
    let r = q.query([]).expect("after alter");
    assert_eq!(r.columns().len(), 2);
    assert_eq!(r.get(0).map(|x| x.get::<i64>(1)), Some(Ok(7)));
    s.execute("SAVEPOINT before_c", []).expect("savepoint");
    s.execute("ALTER TABLE pd ADD COLUMN c INT", []).expect("alter again");
    assert_eq!(q.query([]).expect("after second alter").columns().len(), 3);
    s.execute("ROLLBACK TO SAVEPOINT before_c", []).expect("rollback to");
    assert_eq!(q.query([]).expect("after rollback to").columns().len(), 2);
    s.commit().expect("commit");
}

#[test]
fn a_reused_plan_still_conflicts_with_concurrent_ddl() {
    // The second execution reuses the checked plan without reading the
    // dictionary; the read is still recorded, so the ALTER that commits
    // meanwhile makes this transaction's commit fail (DML vs DDL).
    let db = Database::open_in_memory().expect("db");
    let a = db.session();
    let b = db.session();
    a.execute("CREATE TABLE cd (id INT PRIMARY KEY, v INT)", []).expect("create");
    let mut ins = a.prepare("INSERT INTO cd VALUES (?, ?)").expect("prepare");
    ins.execute(params![1, 1]).expect("first insert checks the plan");
    a.begin().expect("begin");
    ins.execute(params![2, 2]).expect("insert with the reused plan");
    b.execute("ALTER TABLE cd ADD COLUMN w INT", []).expect("concurrent alter");
    let e = a.commit().expect_err("DML and DDL on one table conflict");
    assert_eq!(e.number(), 1213);
    let r = b.query("SELECT COUNT(*) FROM cd", []).expect("count");
    assert_eq!(r.get(0).map(|x| x.get::<i64>(0)), Some(Ok(1)));
}

#[test]
fn a_plan_checked_against_rolled_back_ddl_is_checked_again() {
    let db = Database::open_in_memory().expect("db");
    let s = db.session();
    s.execute("CREATE TABLE rb (a INT)", []).expect("create");
    let mut q = s.prepare("SELECT * FROM rb").expect("prepare");
    assert_eq!(q.query([]).expect("before").columns().len(), 1);
    s.begin().expect("begin");
    s.execute("ALTER TABLE rb ADD COLUMN b INT", []).expect("alter");
    assert_eq!(q.query([]).expect("inside").columns().len(), 2);
    s.rollback().expect("rollback");
    assert_eq!(q.query([]).expect("after rollback").columns().len(), 1);
    assert_eq!(q.query([]).expect("and again").columns().len(), 1);
}

#[test]
fn concurrent_create_tables_at_serializable_both_commit() {
    // CREATE TABLE looks through every table for foreign keys naming the new
    // one; that look-up must not make two unrelated CREATE TABLEs conflict.
    let db = Database::open_in_memory().expect("db");
    db.session().execute("CREATE TABLE p (id INT PRIMARY KEY)", []).expect("p");
    let a = db.session();
    let b = db.session();
    a.begin_with(IsolationLevel::Serializable).expect("a");
    b.begin_with(IsolationLevel::Serializable).expect("b");
    a.execute("CREATE TABLE ca (pid INT, FOREIGN KEY (pid) REFERENCES p (id))", []).expect("ca");
    b.execute("CREATE TABLE cb (x INT)", []).expect("cb");
    a.commit().expect("a commits");
    b.commit().expect("b commits");
    let e = db.session().execute("INSERT INTO ca VALUES (5)", []).expect_err("the key holds");
    assert_eq!(e.number(), 1452);
}

#[test]
fn parameters_take_the_connection_collation_a_prepared_statement_was_bound_under() {
    let db = Database::open_in_memory().expect("db");
    let s = db.session();
    let cmp = |q: &mut mizzle::Statement<'_>| -> i64 {
        q.query(params!["Q"]).expect("query").get(0).expect("row").get::<i64>(0).expect("int")
    };
    // MySQL 8's default collation_connection, utf8mb4_0900_ai_ci: 'q' = 'Q'.
    let mut ci = s.prepare("SELECT 'q' = ?").expect("prepare");
    assert_eq!(cmp(&mut ci), 1);
    s.execute("SET NAMES utf8mb4 COLLATE utf8mb4_bin", []).expect("set names");
    let mut bin = s.prepare("SELECT 'q' = ?").expect("prepare");
    assert_eq!(cmp(&mut bin), 0);
    // The first statement keeps the collation it was bound under, as
    // MySQL's and MariaDB's prepared statements do.
    assert_eq!(cmp(&mut ci), 1);
}

/// The rows of a prepared query as `(i64, text)` pairs (NULL text as "NULL").
fn pairs(rows: mizzle::Rows) -> Vec<(i64, String)> {
    rows.into_iter()
        .map(|r| (r.get::<i64>(0).expect("int"), r.get::<Option<String>>(1).expect("text").unwrap_or("NULL".into())))
        .collect()
}

#[test]
fn a_prepared_query_run_again_reads_each_executions_parameters() {
    // A prepared query keeps its operator tree between executions
    // (`build::Reusable`): every run must still be the run a new tree would
    // make, whatever the parameters, the clock, the variables or the data.
    let db = Database::open_in_memory().expect("db");
    let s = db.session();
    s.execute("CREATE TABLE k (id INT PRIMARY KEY, c VARCHAR(10), n INT)", []).expect("create");
    for i in 1..=20 {
        s.execute("INSERT INTO k VALUES (?, ?, ?)", params![i, format!("c{i}"), i % 3]).expect("insert");
    }
    let mut point = s.prepare("SELECT id, c FROM k WHERE id = ?").expect("prepare");
    for i in [5, 7, 5, 99, 20] {
        let want: Vec<(i64, String)> = if i <= 20 { vec![(i, format!("c{i}"))] } else { Vec::new() };
        assert_eq!(pairs(point.query(params![i]).expect("point")), want, "id {i}");
    }
    assert!(point.query(params![mizzle::Value::Null]).expect("NULL").is_empty());
    // A range, twice with other bounds, and a filter on another column.
    let mut range = s.prepare("SELECT id, c FROM k WHERE id BETWEEN ? AND ? AND n = 1").expect("prepare");
    let ids = |r: mizzle::Rows| pairs(r).into_iter().map(|(i, _)| i).collect::<Vec<_>>();
    assert_eq!(ids(range.query(params![1, 10]).expect("range")), vec![1, 4, 7, 10]);
    assert_eq!(ids(range.query(params![11, 20]).expect("range")), vec![13, 16, 19]);
    // Parameters in the projection and the filter, read while running.
    let mut projected = s.prepare("SELECT ? + id, c FROM k WHERE n = ? AND id < 8").expect("prepare");
    assert_eq!(pairs(projected.query(params![100, 0]).expect("q")), vec![(103, "c3".into()), (106, "c6".into())]);
    assert_eq!(pairs(projected.query(params![200, 2]).expect("q")), vec![(202, "c2".into()), (205, "c5".into())]);
    // A variable read while running, and one folded while building.
    s.execute("SET @x = 1", []).expect("set");
    let mut var = s.prepare("SELECT id, @x FROM k WHERE id = ?").expect("prepare");
    assert_eq!(pairs(var.query(params![2]).expect("q")), vec![(2, "1".into())]);
    s.execute("SET @x = 'two'", []).expect("set");
    assert_eq!(pairs(var.query(params![2]).expect("q")), vec![(2, "two".into())]);
    // The data changes between runs, also inside a transaction.
    s.execute("UPDATE k SET c = 'new' WHERE id = 5", []).expect("update");
    assert_eq!(pairs(point.query(params![5]).expect("point")), vec![(5, "new".into())]);
    s.begin().expect("begin");
    s.execute("DELETE FROM k WHERE id = 7", []).expect("delete");
    assert!(point.query(params![7]).expect("point").is_empty());
    s.rollback().expect("rollback");
    assert_eq!(pairs(point.query(params![7]).expect("point")), vec![(7, "c7".into())]);
    // A failed run (a bad parameter) leaves nothing behind for the next.
    let mut strict = s.prepare("SELECT id, c FROM k WHERE id = ? AND 1 / n > 0").expect("prepare");
    assert_eq!(pairs(strict.query(params![4]).expect("q")), vec![(4, "c4".into())]);
    assert!(strict.query(params![3]).expect("division by zero is NULL in a query").is_empty());
    assert_eq!(pairs(strict.query(params![4]).expect("q")), vec![(4, "c4".into())]);
    // DDL makes a new plan, whose tree replaces the kept one.
    s.execute("ALTER TABLE k DROP COLUMN n", []).expect("alter");
    assert_eq!(pairs(point.query(params![4]).expect("point")), vec![(4, "c4".into())]);
    let e = range.query(params![1, 10]).expect_err("n is gone");
    assert_eq!(e.number(), 1054);
}

#[test]
fn a_prepared_query_of_the_clock_reads_it_at_each_run() {
    let db = Database::open_in_memory().expect("db");
    let s = db.session();
    s.execute("CREATE TABLE one (id INT PRIMARY KEY)", []).expect("create");
    s.execute("INSERT INTO one VALUES (1)", []).expect("insert");
    let mut q = s.prepare("SELECT id, CAST(NOW(6) AS CHAR) FROM one WHERE id = ?").expect("prepare");
    let first = pairs(q.query(params![1]).expect("q"));
    std::thread::sleep(std::time::Duration::from_millis(5));
    let second = pairs(q.query(params![1]).expect("q"));
    assert_ne!(first, second, "NOW(6) moved between the runs");
}

#[test]
fn query_each_reads_rows_borrowed_and_reuses_them_across_executions() {
    let db = Database::open_in_memory().expect("db");
    let s = db.session();
    s.execute("CREATE TABLE t (id INT PRIMARY KEY, name TEXT, v INT)", []).expect("create");
    let mut ins = s.prepare("INSERT INTO t VALUES (?, ?, ?)").expect("prepare insert");
    for id in 1..=300i64 {
        ins.execute(params![id, format!("n{id}"), id * 10]).expect("insert");
    }
    // Ranges, a point read and a sort, each run many times from one
    // prepared statement: the recycled row vectors never leak a value of
    // an earlier execution into a later one.
    let mut range = s.prepare("SELECT name, v FROM t WHERE id BETWEEN ? AND ?").expect("prepare range");
    let mut sorted = s.prepare("SELECT name FROM t WHERE id BETWEEN ? AND ? ORDER BY name DESC").expect("sort");
    let mut point = s.prepare("SELECT name, v FROM t WHERE id = ?").expect("prepare point");
    for lo in [1i64, 150, 7, 290, 150] {
        let hi = lo + 20;
        let mut seen = Vec::new();
        let n = range
            .query_each(params![lo, hi], |r| {
                seen.push((r.get::<String>(0)?, r.get_by_name::<i64>("v")?));
                Ok(())
            })
            .expect("range");
        let want: Vec<(String, i64)> = (lo..=hi.min(300)).map(|id| (format!("n{id}"), id * 10)).collect();
        assert_eq!(n, want.len() as u64);
        assert_eq!(seen, want, "range {lo}..={hi}");
        // The owned result agrees.
        let owned: Vec<(String, i64)> = range
            .query(params![lo, hi])
            .expect("query")
            .iter()
            .map(|r| (r.get::<String>(0).expect("name"), r.get::<i64>(1).expect("v")))
            .collect();
        assert_eq!(owned, want);

        let mut names = Vec::new();
        sorted
            .query_each(params![lo, hi], |r| {
                names.push(r.get::<String>(0)?);
                Ok(())
            })
            .expect("sorted");
        let mut want_names: Vec<String> = want.iter().map(|(n, _)| n.clone()).collect();
        want_names.sort_by(|a, b| b.cmp(a));
        assert_eq!(names, want_names);

        let mut got = None;
        point
            .query_each(params![lo], |r| {
                got = Some(r.to_row());
                Ok(())
            })
            .expect("point");
        let row = got.expect("one row");
        assert_eq!(row.get::<String>(0), Ok(format!("n{lo}")));
        assert_eq!(row.values().len(), 2);
        assert_eq!(point.query_each(params![1000], |_| Ok(())), Ok(0), "no row for an absent id");
    }
    // An error from the callback stops the loop and comes back; the
    // statement runs again afterwards.
    let mut calls = 0;
    let e = range
        .query_each(params![1, 50], |_| {
            calls += 1;
            if calls == 3 {
                Err(mizzle::Error { code: mizzle::ErrorCode::WrongArguments, message: "stop here".into() })
            } else {
                Ok(())
            }
        })
        .expect_err("the callback's error");
    assert_eq!((calls, e.number()), (3, 1210));
    assert_eq!(range.query_each(params![1, 50], |_| Ok(())), Ok(50));
    // A statement that returns no rows is refused.
    assert!(ins.query_each(params![1000, "x", 1], |_| Ok(())).is_err());
}

#[test]
fn prepared_joins_rewind_their_kept_trees_for_each_execution() {
    let db = Database::open_in_memory().expect("db");
    let s = db.session();
    s.execute("CREATE TABLE o (id INT PRIMARY KEY, c INT)", []).expect("create o");
    s.execute("CREATE TABLE c (id INT PRIMARY KEY, name TEXT, grp INT, KEY g (grp))", []).expect("create c");
    for id in 1..=200i64 {
        // Customer 0 and every id above 150 do not exist; orders 7, 14, ...
        // have no customer at all.
        let c = if id % 7 == 0 { None } else { Some(id % 160) };
        s.execute("INSERT INTO o VALUES (?, ?)", params![id, c]).expect("order");
        if id <= 150 {
            s.execute("INSERT INTO c VALUES (?, ?, ?)", params![id, format!("c{id}"), id % 3]).expect("customer");
        }
    }
    let plan: Vec<String> = s
        .query("EXPLAIN SELECT o.id, c.name FROM o LEFT JOIN c ON c.id = o.c WHERE o.id BETWEEN ? AND ?", params![1, 2])
        .expect("explain")
        .iter()
        .map(|r| r.get::<String>(0).expect("line"))
        .collect();
    assert!(plan.iter().any(|l| l.contains("Index lookup left join")), "{plan:?}");
    let want = |lo: i64, hi: i64| -> Vec<(i64, Option<String>)> {
        (lo..=hi.min(200))
            .map(|id| {
                let c = (id % 7 != 0).then_some(id % 160).filter(|&c| (1..=150).contains(&c));
                (id, c.map(|c| format!("c{c}")))
            })
            .collect()
    };
    let mut left =
        s.prepare("SELECT o.id, c.name FROM o LEFT JOIN c ON c.id = o.c WHERE o.id BETWEEN ? AND ?").expect("left");
    let mut inner =
        s.prepare("SELECT o.id, c.name FROM o JOIN c ON c.id = o.c WHERE o.id BETWEEN ? AND ?").expect("inner");
    // Through the secondary index: every customer of the order's group.
    let mut by_grp = s.prepare("SELECT COUNT(*) FROM o JOIN c ON c.grp = o.c WHERE o.id = ?").expect("by group");
    for (lo, hi) in [(1i64, 30i64), (140, 200), (7, 7), (150, 170), (1, 30), (300, 400)] {
        let mut got = Vec::new();
        left.query_each(params![lo, hi], |r| {
            got.push((r.get::<i64>(0)?, r.get::<Option<String>>(1)?));
            Ok(())
        })
        .expect("left join");
        assert_eq!(got, want(lo, hi), "left join {lo}..={hi}");
        let mut got = Vec::new();
        inner
            .query_each(params![lo, hi], |r| {
                got.push((r.get::<i64>(0)?, r.get::<Option<String>>(1)?));
                Ok(())
            })
            .expect("inner join");
        let matched: Vec<_> = want(lo, hi).into_iter().filter(|(_, n)| n.is_some()).collect();
        assert_eq!(got, matched, "inner join {lo}..={hi}");
    }
    // A hash join (the left side is a full scan) and a nested-loop join
    // (no equality), their kept trees rewound with other parameters.
    let mut hash = s.prepare("SELECT COUNT(*), SUM(c.id) FROM o JOIN c ON c.id = o.c WHERE o.c < ?").expect("hash");
    let mut nested = s.prepare("SELECT COUNT(*) FROM o JOIN c ON c.id < o.c WHERE o.id <= ?").expect("nested");
    let orders = |f: &dyn Fn(i64, i64) -> bool| -> Vec<(i64, i64)> {
        (1..=200i64).filter(|id| id % 7 != 0).map(|id| (id, id % 160)).filter(|&(id, c)| f(id, c)).collect()
    };
    for limit in [50i64, 10, 151, 0, 50] {
        let r = hash.query(params![limit]).expect("hash join");
        let row = r.iter().next().expect("row");
        let matched = orders(&|_, c| c < limit && (1..=150).contains(&c));
        assert_eq!(row.get::<i64>(0).expect("count"), matched.len() as i64, "hash join, c < {limit}");
        let sum: i64 = matched.iter().map(|&(_, c)| c).sum();
        assert_eq!(row.get::<Option<i64>>(1).expect("sum"), (sum > 0).then_some(sum), "hash join, c < {limit}");
        let n: i64 = nested.query(params![limit]).expect("nested").iter().next().expect("row").get(0).expect("n");
        // Each order `id <= limit` matches the customers below its c.
        let want: i64 = orders(&|id, _| id <= limit).iter().map(|&(_, c)| (c - 1).clamp(0, 150)).sum();
        assert_eq!(n, want, "nested loop, id <= {limit}");
    }
    for id in [1i64, 2, 3, 7, 5] {
        let n: i64 = by_grp.query(params![id]).expect("count").iter().next().expect("row").get(0).expect("n");
        // Order `id` has customer `id` (below 150, not a multiple of 7):
        // the customers whose grp equals that number, none above 2.
        let want = match (id % 7 != 0).then_some(id) {
            Some(g) if g <= 2 => (1..=150).filter(|c| c % 3 == g).count() as i64,
            _ => 0,
        };
        assert_eq!(n, want, "order {id}");
    }
}

/// A GROUP BY that streams in key order (optimizer rule 7) keeps its
/// operator tree in a prepared statement: each execution starts with no
/// group carried over from the last (ranges that end inside the table,
/// at its end, past it, and the whole table again).
#[test]
fn prepared_streaming_group_by_starts_afresh_each_execution() {
    let db = Database::open_in_memory().expect("db");
    let s = db.session();
    s.execute("CREATE TABLE g (a INT, b INT, v INT, PRIMARY KEY (a, b))", []).expect("create");
    for a in 0..50i64 {
        for b in 0..(a % 5 + 1) {
            s.execute("INSERT INTO g VALUES (?, ?, ?)", params![a, b, a * 10 + b]).expect("row");
        }
    }
    let q = "SELECT a, COUNT(*), SUM(v) FROM g WHERE a >= ? GROUP BY a";
    let plan: Vec<String> = s
        .query(&format!("EXPLAIN {q}"), params![0])
        .expect("explain")
        .iter()
        .map(|r| r.get::<String>(0).expect("line"))
        .collect();
    assert!(plan.iter().any(|l| l.contains("streaming in key order")), "{plan:?}");
    let want = |lo: i64| -> Vec<(i64, i64, i64)> {
        (lo.max(0)..50)
            .map(|a| {
                let n = a % 5 + 1;
                (a, n, (0..n).map(|b| a * 10 + b).sum())
            })
            .collect()
    };
    let mut st = s.prepare(q).expect("prepare");
    for lo in [0i64, 37, 49, 50, 3, -5, 0] {
        let mut got = Vec::new();
        st.query_each(params![lo], |r| {
            got.push((r.get::<i64>(0)?, r.get::<i64>(1)?, r.get::<i64>(2)?));
            Ok(())
        })
        .expect("group by");
        assert_eq!(got, want(lo), "a >= {lo}");
    }
}
