//! The session as a state machine: every commit's durability wait is a
//! park the caller sees (`Execution::parked` / `ticket`), never a wait
//! inside the session; dropping a pending commit does not block; a failed
//! sync reaches the session at its next step; a panicking statement fails
//! alone. The engine here is the memory engine behind
//! `conformance::HeldDurability`, which holds every commit's durability
//! ticket until the test completes it.

use std::sync::Arc;
use std::time::Duration;

use mizzle_plugin_api::conformance::{self, HeldDurability};
use mizzle_plugin_api::storage::StorageError;
use mizzle_session::{CatalogState, Execution, Park, Prepared, Session, SessionError, StatementOutput};
use mizzle_types::{SqlError, Value};
use storage_memory::MemoryEngine;

fn setup() -> (Arc<HeldDurability>, Arc<CatalogState>) {
    let g = Arc::new(HeldDurability::new(Arc::new(MemoryEngine::new()), false));
    let cat = CatalogState::open(g.clone(), "gated", Vec::new()).expect("open");
    cat.bootstrap().expect("bootstrap");
    let mut s = Session::new(cat.clone());
    s.execute_blocking("CREATE TABLE t (id INT PRIMARY KEY)", &[]).expect("create");
    g.set_holding(true);
    (g, cat)
}

fn count(s: &mut Session) -> i64 {
    let outs = s.execute_blocking("SELECT COUNT(*) FROM t", &[]).expect("count");
    match outs.last() {
        Some(StatementOutput::Rows { rows, .. }) => match rows.first().and_then(|r| r.first()) {
            Some(Value::Int(n)) => *n,
            other => panic!("unexpected count {other:?}"),
        },
        other => panic!("unexpected output {other:?}"),
    }
}

fn parked_on_commit(ex: &Execution) -> bool {
    matches!(ex.parked(), Some(Park::Durable(_)))
}

#[test]
fn a_multi_statement_text_parks_between_commits() {
    let (g, cat) = setup();
    let mut a = Session::new(cat.clone());
    let mut b = Session::new(cat);
    let ex = a.execute("INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)", &[]).expect("execute");
    assert!(parked_on_commit(&ex), "parks on the first commit");
    assert_eq!(ex.outputs.len(), 1, "the second statement has not run");
    assert_eq!(g.held(), 1);
    assert_eq!(count(&mut b), 0, "the first commit is not published before it is durable");
    let ex = a.resume(ex).expect("early resume");
    assert!(parked_on_commit(&ex), "resuming early keeps it parked");
    assert!(g.complete_next(Ok(())), "no commit is waiting for durability");
    let ex = a.resume(ex).expect("resume");
    assert!(parked_on_commit(&ex), "parked on the last commit, at the end of the text");
    assert_eq!(ex.outputs.len(), 2);
    assert!(ex.ticket().is_some_and(|t| t.poll().is_none()), "the last commit is pending");
    assert_eq!(count(&mut b), 1);
    assert!(g.complete_next(Ok(())), "no commit is waiting for durability");
    let ex = a.resume(ex).expect("resume settles the last commit without blocking");
    assert!(ex.parked().is_none());
    assert_eq!(count(&mut b), 2);
    assert_eq!(ex.finish().expect("finish").len(), 2);

    // `finish` (a blocking wrapper) may also wait for the last commit.
    let ex = a.execute("INSERT INTO t VALUES (3)", &[]).expect("insert");
    assert!(parked_on_commit(&ex));
    let g2 = g.clone();
    let waiter = std::thread::spawn(move || {
        while g2.held() == 0 {
            std::thread::yield_now();
        }
        assert!(g2.complete_next(Ok(())), "no commit is waiting for durability");
    });
    ex.finish().expect("finish blocks until durable");
    let _ = waiter.join();
    assert_eq!(count(&mut b), 3);
}

#[test]
fn a_commit_durable_before_an_earlier_one_yields_until_visible() {
    let (g, cat) = setup();
    let mut x = Session::new(cat.clone());
    let mut y = Session::new(cat.clone());
    let ex_x = x.execute("INSERT INTO t VALUES (1)", &[]).expect("x");
    let ex_y = y.execute("INSERT INTO t VALUES (2)", &[]).expect("y");
    assert_eq!(g.held(), 2);
    // Y's commit (the later one) becomes durable first.
    assert!(g.complete_at(1, Ok(())), "no such held commit");
    let ex_y = y.resume(ex_y).expect("y publishes");
    assert!(
        matches!(ex_y.parked(), Some(Park::Durable(t)) if t.poll().is_some()),
        "published but not visible before X's commit: a yield on a complete ticket, not a wait"
    );
    let ex_y = y.resume(ex_y).expect("still yielding");
    assert!(ex_y.parked().is_some());
    assert!(g.complete_next(Ok(())), "no commit is waiting for durability");
    let ex_y = y.resume(ex_y).expect("X is durable but not published: still yielding");
    assert!(ex_y.parked().is_some(), "Y depends on X's session being resumed, and does not block on it");
    let ex_x = x.resume(ex_x).expect("x publishes");
    assert!(ex_x.parked().is_none());
    let ex_y = y.resume(ex_y).expect("y visible");
    assert!(ex_y.parked().is_none());
    drop((ex_x, ex_y));
    assert_eq!(count(&mut Session::new(cat)), 2);
}

/// The value of `w.v` for `id = 1`.
fn w_value(s: &mut Session) -> Value {
    let outs = s.execute_blocking("SELECT v FROM w WHERE id = 1", &[]).expect("select");
    match outs.last() {
        Some(StatementOutput::Rows { rows, .. }) => rows[0][0].clone(),
        other => panic!("unexpected output {other:?}"),
    }
}

#[test]
fn a_write_meeting_a_commit_not_yet_visible_yields_instead_of_blocking() {
    let (g, cat) = setup();
    g.set_holding(false);
    let mut a = Session::new(cat.clone());
    a.execute_blocking("CREATE TABLE w (id INT PRIMARY KEY, v INT)", &[]).expect("create");
    a.execute_blocking("INSERT INTO w VALUES (1, 1)", &[]).expect("insert");
    let mut b = Session::new(cat.clone());
    b.execute_blocking("SET SESSION transaction_isolation = 'READ-COMMITTED'", &[]).expect("set");
    let mut c = Session::new(cat.clone());
    g.set_holding(true);

    // A's commit is drawn first and stays pending; C's, later, becomes
    // durable and is published, but is not visible while A's is pending.
    let ex_a = a.execute("INSERT INTO t VALUES (1)", &[]).expect("a");
    let ex_c = c.execute("UPDATE w SET v = 2 WHERE id = 1", &[]).expect("c");
    assert_eq!(g.held(), 2);
    assert!(g.complete_at(1, Ok(())), "no such held commit");
    let ex_c = c.resume(ex_c).expect("c publishes");
    assert!(ex_c.parked().is_some(), "C is published, not visible");

    // B's snapshot predates C's commit, so its update meets a newer
    // version and must run again once that commit is visible. Visibility
    // needs A's session to be resumed (on a server: by a worker), so B
    // must not wait for it on its own thread: it yields.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let ex = b.execute("UPDATE w SET v = v + 10 WHERE id = 1", &[]);
        let _ = tx.send((b, ex));
    });
    let (mut b, ex_b) = rx.recv_timeout(Duration::from_secs(10)).expect("B blocked on C's visibility");
    let ex_b = ex_b.expect("b");
    assert!(
        matches!(ex_b.parked(), Some(Park::Lock { wait, .. }) if wait.poll().is_some()),
        "a yield on a complete ticket"
    );
    let ex_b = b.resume(ex_b).expect("still yielding");
    assert!(ex_b.parked().is_some(), "C is still not visible");

    assert!(g.complete_next(Ok(())), "no commit is waiting for durability");
    let ex_a = a.resume(ex_a).expect("a publishes");
    assert!(ex_a.parked().is_none());
    let ex_c = c.resume(ex_c).expect("c visible");
    assert!(ex_c.parked().is_none());
    let ex_b = b.resume(ex_b).expect("b runs again on a snapshot that shows C's commit");
    assert!(ex_b.parked().is_some(), "B's own commit is pending");
    assert!(g.complete_next(Ok(())), "no commit is waiting for durability");
    let ex_b = b.resume(ex_b).expect("b publishes");
    assert!(ex_b.parked().is_none());
    drop((ex_a, ex_b, ex_c));
    g.set_holding(false);
    assert_eq!(w_value(&mut Session::new(cat)), Value::Int(12), "B's update follows C's: nothing lost");
}

#[test]
fn begin_and_set_autocommit_park_on_their_implicit_commit() {
    let (g, cat) = setup();
    let mut a = Session::new(cat);
    let ex = a.execute("BEGIN; INSERT INTO t VALUES (1); BEGIN; SELECT COUNT(*) FROM t", &[]).expect("execute");
    assert!(parked_on_commit(&ex), "BEGIN's commit parks the next statement");
    assert_eq!(ex.outputs.len(), 3);
    assert!(g.complete_next(Ok(())), "no commit is waiting for durability");
    let ex = a.resume(ex).expect("resume");
    let outs = ex.finish().expect("finish");
    assert_eq!(
        outs.last(),
        Some(&StatementOutput::Rows { columns: columns_of(&outs), rows: vec![vec![Value::Int(1)]] })
    );
    a.execute_blocking("ROLLBACK", &[]).expect("rollback");

    let ex = a
        .execute("SET autocommit = 0; INSERT INTO t VALUES (2); SET autocommit = 1; SELECT COUNT(*) FROM t", &[])
        .expect("execute");
    assert!(parked_on_commit(&ex), "SET autocommit = 1's commit parks the next statement");
    assert_eq!(ex.outputs.len(), 3);
    assert!(g.complete_next(Ok(())), "no commit is waiting for durability");
    let outs = a.resume(ex).expect("resume").finish().expect("finish");
    assert_eq!(
        outs.last(),
        Some(&StatementOutput::Rows { columns: columns_of(&outs), rows: vec![vec![Value::Int(2)]] })
    );

    // The step API for BEGIN: the open transaction's commit is pending.
    a.execute_blocking("SET autocommit = 0", &[]).expect("off");
    a.execute_blocking("INSERT INTO t VALUES (3)", &[]).expect("insert");
    let ex = a.start_transaction(None, None).expect("start");
    assert!(ex.ticket().is_some_and(|t| t.poll().is_none()), "the commit is pending, not waited for");
    assert!(g.complete_next(Ok(())), "no commit is waiting for durability");
    ex.finish().expect("finish");
    assert_eq!(count(&mut a), 3);
}

fn columns_of(outs: &[StatementOutput]) -> Arc<Vec<mizzle_session::ColumnInfo>> {
    match outs.last() {
        Some(StatementOutput::Rows { columns, .. }) => columns.clone(),
        _ => Arc::new(Vec::new()),
    }
}

/// Runs `f` on another thread and fails if it does not return promptly.
fn must_not_block(f: impl FnOnce() + Send + 'static) {
    assert!(conformance::finishes_within(Duration::from_secs(10), f), "blocked");
}

#[test]
fn dropping_a_pending_commit_does_not_block() {
    let (g, cat) = setup();
    let mut a = Session::new(cat);
    let ex = a.execute("INSERT INTO t VALUES (1)", &[]).expect("insert");
    assert!(ex.ticket().is_some_and(|t| t.poll().is_none()));
    must_not_block(move || drop(ex));
    // The next step is ordered after the dropped commit: it parks on it.
    let ex = a.execute("SELECT COUNT(*) FROM t", &[]).expect("select");
    assert!(parked_on_commit(&ex));
    assert!(ex.outputs.is_empty(), "nothing ran before the commit was durable");
    assert!(g.complete_next(Ok(())), "no commit is waiting for durability");
    let outs = a.resume(ex).expect("resume").finish().expect("finish");
    assert_eq!(outs[0], StatementOutput::Rows { columns: columns_of(&outs), rows: vec![vec![Value::Int(1)]] });

    // A whole session dropped with a pending commit: nothing blocks, and
    // the commit is published once durable.
    let cat = a.catalog().clone();
    let mut b = Session::new(cat.clone());
    let ex = b.execute("INSERT INTO t VALUES (2)", &[]).expect("insert");
    must_not_block(move || {
        drop(ex);
        drop(b);
    });
    assert!(g.complete_next(Ok(())), "no commit is waiting for durability");
    assert_eq!(count(&mut Session::new(cat)), 2);
}

#[test]
fn resume_after_a_failed_sync_reports_the_error() {
    let (g, cat) = setup();
    let mut a = Session::new(cat);
    let ex = a.execute("INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)", &[]).expect("execute");
    assert!(parked_on_commit(&ex));
    assert!(
        g.complete_next(Err(StorageError::Io("injected sync failure".into()))),
        "no commit is waiting for durability"
    );
    let e = a.resume(ex).err().expect("the failed sync is reported");
    assert_eq!(e.code(), SessionError::from(mizzle_txn::TxnError::Storage(StorageError::Io(String::new()))).code());
    assert!(e.to_string().contains("injected sync failure"), "{e}");
    assert_eq!(g.held(), 0, "the second statement did not run");
    g.set_holding(false);
    assert_eq!(count(&mut a), 0, "the failed commit left nothing");

    // A dropped commit that fails: the next step reports it.
    g.set_holding(true);
    let ex = a.execute("INSERT INTO t VALUES (3)", &[]).expect("insert");
    drop(ex);
    assert!(g.complete_next(Err(StorageError::Io("second failure".into()))), "no commit is waiting for durability");
    let e = a.execute("SELECT 1", &[]).err().expect("reported at the next step");
    assert!(e.to_string().contains("dropped") && e.to_string().contains("second failure"), "{e}");
    g.set_holding(false);
    assert_eq!(count(&mut a), 0, "and the session goes on");
}

#[test]
fn a_panicking_statement_fails_with_1105_and_the_session_goes_on() {
    let (g, cat) = setup();
    g.set_holding(false);
    let mut a = Session::new(cat.clone());
    let mut b = Session::new(cat);
    a.debug_panic_in_next_statement();
    let e = a.execute_blocking("INSERT INTO t VALUES (1)", &[]).expect_err("fails");
    assert_eq!(e.code().number(), 1105);
    assert!(e.to_string().contains("bug"), "{e}");
    assert_eq!(count(&mut a), 0, "the autocommit statement's write rolled back");

    a.execute_blocking("BEGIN", &[]).expect("begin");
    a.execute_blocking("INSERT INTO t VALUES (2)", &[]).expect("insert");
    a.debug_panic_in_next_statement();
    let e = a.execute_blocking("INSERT INTO t VALUES (3)", &[]).expect_err("fails");
    assert_eq!(e.code().number(), 1105);
    assert_eq!(count(&mut b), 0, "another session carries on");
    let e = a.execute_blocking("SELECT 1", &[]).expect_err("refused until ROLLBACK");
    assert_eq!(e.code().number(), 3101);
    a.execute_blocking("ROLLBACK", &[]).expect("rollback");
    assert_eq!(count(&mut a), 0, "the whole transaction rolled back");
    a.execute_blocking("INSERT INTO t VALUES (4)", &[]).expect("usable");
    assert_eq!(count(&mut b), 1);
}

#[test]
fn sessions_executions_cursors_operators_and_prepared_statements_are_send() {
    fn assert_send<T: Send>() {}
    assert_send::<Session>();
    assert_send::<Execution>();
    assert_send::<Prepared>();
    assert_send::<mizzle_session::RowCursor>();
    assert_send::<mizzle_session::Batch>();
    assert_send::<Box<dyn mizzle_exec::build::Operator>>();
}

fn ids(outs: &[Vec<Value>]) -> Vec<i64> {
    outs.iter()
        .map(|r| match r.first() {
            Some(Value::Int(n)) => *n,
            other => panic!("unexpected {other:?}"),
        })
        .collect()
}

#[test]
fn a_query_streams_batch_by_batch_and_the_text_goes_on_after_it() {
    let (g, cat) = setup();
    g.set_holding(false);
    let mut a = Session::new(cat.clone());
    let mut b = Session::new(cat);
    a.execute_blocking("SET cte_max_recursion_depth = 10000", &[]).expect("depth");
    a.execute_blocking(
        "INSERT INTO t WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500) SELECT i FROM n",
        &[],
    )
    .expect("fill");
    let mut ex = a.execute_streaming("SELECT id FROM t ORDER BY id; INSERT INTO t VALUES (9999)", &[]).expect("stream");
    assert!(matches!(ex.parked(), Some(Park::Rows(_))));
    assert_eq!(ex.cursor().map(|c| c.columns()[0].name.clone()), Some("id".to_string()));
    let mut got = Vec::new();
    let mut sizes = Vec::new();
    while let Some(batch) = ex.next_batch(&mut a, 1000).expect("batch") {
        sizes.push(batch.rows.len());
        got.extend(ids(&batch.rows));
    }
    assert_eq!(sizes, vec![1000, 1000, 500]);
    assert_eq!(got, (1..=2500).collect::<Vec<i64>>());
    assert_eq!(count(&mut b), 2500, "the INSERT after the query has not run yet");
    let ex = a.resume(ex).expect("resume");
    assert!(ex.parked().is_none());
    assert_eq!(ex.outputs.len(), 1, "the streamed rows are not in the outputs; the INSERT's result is");
    ex.finish().expect("finish");
    assert_eq!(count(&mut b), 2501);

    // The blocking wrappers materialize a streamed result.
    let ex = a.execute_streaming("SELECT id FROM t WHERE id > 2498 ORDER BY id", &[]).expect("stream");
    let outs = a.block_on(ex, None).expect("block").finish().expect("finish");
    match &outs[0] {
        StatementOutput::Rows { rows, .. } => assert_eq!(ids(rows), vec![2499, 2500, 9999]),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn a_dropped_cursor_ends_its_statement_and_the_session_goes_on() {
    let (g, cat) = setup();
    g.set_holding(false);
    let mut a = Session::new(cat);
    a.execute_blocking("INSERT INTO t VALUES (1), (2), (3)", &[]).expect("fill");
    // Autocommit: the transaction ends with the cursor.
    let mut ex = a.execute_streaming("SELECT id FROM t", &[]).expect("stream");
    assert_eq!(ex.next_batch(&mut a, 1).expect("batch").map(|b| b.rows.len()), Some(1));
    drop(ex);
    assert_eq!(count(&mut a), 3);
    // Explicit: the transaction goes on; its writes are kept.
    a.execute_blocking("BEGIN", &[]).expect("begin");
    a.execute_blocking("INSERT INTO t VALUES (4)", &[]).expect("insert");
    let mut ex = a.execute_streaming("SELECT id FROM t", &[]).expect("stream");
    assert!(ex.next_batch(&mut a, 1).expect("batch").is_some());
    let mut stale = a.execute("SELECT 1", &[]).expect("next statement");
    assert!(ex.next_batch(&mut a, 1).is_err(), "an abandoned cursor yields no more rows");
    drop(ex);
    stale = a.block_on(stale, None).expect("block");
    drop(stale);
    a.execute_blocking("COMMIT", &[]).expect("commit");
    assert_eq!(count(&mut a), 4);
}

#[test]
fn a_panic_while_pulling_a_batch_fails_the_statement_with_1105() {
    let (g, cat) = setup();
    g.set_holding(false);
    let mut a = Session::new(cat);
    a.execute_blocking("INSERT INTO t VALUES (1), (2), (3)", &[]).expect("fill");
    a.execute_blocking("BEGIN", &[]).expect("begin");
    a.execute_blocking("INSERT INTO t VALUES (4)", &[]).expect("insert");
    a.debug_panic_in_next_statement();
    let mut ex = a.execute_streaming("SELECT id FROM t; SELECT 2", &[]).expect("stream");
    let e = ex.next_batch(&mut a, 10).expect_err("the batch fails");
    assert_eq!(e.code().number(), 1105);
    assert!(ex.next_batch(&mut a, 10).expect("closed").is_none());
    assert!(a.resume(ex).is_err(), "the rest of the text does not run");
    let e = a.execute_blocking("SELECT 1", &[]).expect_err("refused until ROLLBACK");
    assert_eq!(e.code().number(), 3101);
    a.execute_blocking("ROLLBACK", &[]).expect("rollback");
    assert_eq!(count(&mut a), 3, "the transaction's insert rolled back");
}

/// Streams prepared statement `p` with `params` to its end in batches of
/// `batch` rows and returns the first column of every row.
fn stream_prepared(s: &mut Session, p: &mut Prepared, params: &[Value], batch: usize) -> Vec<i64> {
    let mut ex = s.execute_prepared_streaming(p, params).expect("execute");
    let mut rows = Vec::new();
    while let Some(b) = ex.next_batch(s, batch).expect("batch") {
        rows.extend(b.rows);
    }
    let ex = s.resume_prepared(p, ex).expect("resume");
    assert!(ex.parked().is_none());
    ids(&rows)
}

#[test]
fn a_prepared_streaming_query_kept_between_executions_reads_each_ones_parameters() {
    let (g, cat) = setup();
    g.set_holding(false);
    let mut s = Session::new(cat);
    for i in 1..=50 {
        s.execute_blocking("INSERT INTO t VALUES (?)", &[Value::Int(i)]).expect("insert");
    }
    let mut p = s.prepare("SELECT id FROM t WHERE id BETWEEN ? AND ?").expect("prepare");
    let range = |a: i64, b: i64| (a..=b).collect::<Vec<_>>();
    assert_eq!(stream_prepared(&mut s, &mut p, &[Value::Int(1), Value::Int(10)], 3), range(1, 10));
    // The operators of the run above are kept and rewound for this one.
    assert!(p.keeps_operators());
    assert_eq!(stream_prepared(&mut s, &mut p, &[Value::Int(41), Value::Int(60)], 4), range(41, 50));
    // A cursor abandoned half-way keeps nothing; the next run starts afresh.
    let mut ex = s.execute_prepared_streaming(&mut p, &[Value::Int(1), Value::Int(50)]).expect("execute");
    assert!(ex.next_batch(&mut s, 5).expect("batch").is_some());
    assert!(!p.keeps_operators(), "the open cursor holds them");
    drop(ex);
    assert_eq!(stream_prepared(&mut s, &mut p, &[Value::Int(20), Value::Int(22)], 1), range(20, 22));
    assert_eq!(stream_prepared(&mut s, &mut p, &[Value::Int(30), Value::Int(29)], 1), Vec::<i64>::new());
    // After DDL the statement is planned again and a new tree replaces the kept one.
    assert!(p.keeps_operators());
    s.execute_blocking("ALTER TABLE t ADD COLUMN v INT DEFAULT 7", &[]).expect("alter");
    assert_eq!(stream_prepared(&mut s, &mut p, &[Value::Int(5), Value::Int(6)], 1), range(5, 6));
    assert!(p.keeps_operators());
    // A parameter in the select list is read while running: kept.
    let mut param = s.prepare("SELECT id + ? FROM t WHERE id < 3").expect("prepare");
    assert_eq!(stream_prepared(&mut s, &mut param, &[Value::Int(10)], 1), vec![11, 12]);
    assert!(param.keeps_operators());
    assert_eq!(stream_prepared(&mut s, &mut param, &[Value::Int(20)], 1), vec![21, 22]);
    // A constant expression is folded into the build (its value could
    // depend on the session, as a time zone): not kept.
    let mut folded = s.prepare("SELECT id + (2 * 5) FROM t WHERE id < 3").expect("prepare");
    assert_eq!(stream_prepared(&mut s, &mut folded, &[], 1), vec![11, 12]);
    assert!(!folded.keeps_operators());
    assert_eq!(stream_prepared(&mut s, &mut folded, &[], 1), vec![11, 12]);
}

/// Runs prepared statement `p` (not streaming) and returns its rows.
fn run_prepared(s: &mut Session, p: &mut Prepared, params: &[Value]) -> Vec<Vec<Value>> {
    let ex = s.execute_prepared(p, params).expect("execute");
    match s.block_on(ex, Some(p)).expect("block_on").finish().expect("finish").pop() {
        Some(StatementOutput::Rows { rows, .. }) => rows,
        other => panic!("unexpected output {other:?}"),
    }
}

#[test]
fn sorts_aggregates_distinct_and_limits_rewind_for_the_next_execution() {
    let (g, cat) = setup();
    g.set_holding(false);
    let mut s = Session::new(cat);
    s.execute_blocking("CREATE TABLE g (id INT PRIMARY KEY, n INT, c VARCHAR(5))", &[]).expect("create");
    for i in 1..=30i64 {
        s.execute_blocking(
            "INSERT INTO g VALUES (?, ?, ?)",
            &[Value::Int(i), Value::Int(i % 4), Value::text(&format!("{}", 100 - i))],
        )
        .expect("insert");
    }
    let int = |v: i64| Value::Int(v);
    let col = |rows: Vec<Vec<Value>>, i: usize| rows.into_iter().map(|r| r[i].clone()).collect::<Vec<_>>();

    let mut agg =
        s.prepare("SELECT n, COUNT(*) FROM g WHERE id BETWEEN ? AND ? GROUP BY n ORDER BY n DESC").expect("prepare");
    assert_eq!(
        run_prepared(&mut s, &mut agg, &[int(1), int(8)]),
        vec![vec![int(3), int(2)], vec![int(2), int(2)], vec![int(1), int(2)], vec![int(0), int(2)]]
    );
    assert!(agg.keeps_operators());
    assert_eq!(
        run_prepared(&mut s, &mut agg, &[int(9), int(11)]),
        vec![vec![int(3), int(1)], vec![int(2), int(1)], vec![int(1), int(1)]]
    );
    assert_eq!(run_prepared(&mut s, &mut agg, &[int(40), int(50)]), Vec::<Vec<Value>>::new());

    let mut distinct = s.prepare("SELECT DISTINCT n FROM g WHERE id < ? ORDER BY n").expect("prepare");
    assert_eq!(col(run_prepared(&mut s, &mut distinct, &[int(3)]), 0), vec![int(1), int(2)]);
    assert!(distinct.keeps_operators());
    assert_eq!(col(run_prepared(&mut s, &mut distinct, &[int(10)]), 0), vec![int(0), int(1), int(2), int(3)]);

    let mut top = s.prepare("SELECT id FROM g WHERE id > ? ORDER BY c LIMIT 3 OFFSET 1").expect("prepare");
    assert_eq!(col(run_prepared(&mut s, &mut top, &[int(0)]), 0), vec![int(29), int(28), int(27)]);
    assert!(top.keeps_operators());
    assert_eq!(
        col(run_prepared(&mut s, &mut top, &[int(0)]), 0),
        vec![int(29), int(28), int(27)],
        "the limit counts again"
    );
    assert_eq!(col(run_prepared(&mut s, &mut top, &[int(28)]), 0), vec![int(29)]);

    // `LIMIT ?` is read when the tree is built: that tree is not kept.
    let mut limited = s.prepare("SELECT id FROM g ORDER BY id LIMIT ?").expect("prepare");
    assert_eq!(col(run_prepared(&mut s, &mut limited, &[int(2)]), 0), vec![int(1), int(2)]);
    assert!(!limited.keeps_operators());
    assert_eq!(col(run_prepared(&mut s, &mut limited, &[int(3)]), 0), vec![int(1), int(2), int(3)]);
}

#[test]
fn joins_rewind_for_the_next_execution() {
    let (g, cat) = setup();
    g.set_holding(false);
    let mut s = Session::new(cat);
    s.execute_blocking("CREATE TABLE jl (id INT PRIMARY KEY, r INT)", &[]).expect("create");
    s.execute_blocking("CREATE TABLE jr (id INT PRIMARY KEY, v INT)", &[]).expect("create");
    for i in 1..=20i64 {
        s.execute_blocking("INSERT INTO jl VALUES (?, ?)", &[Value::Int(i), Value::Int(i % 5)]).expect("insert");
        s.execute_blocking("INSERT INTO jr VALUES (?, ?)", &[Value::Int(i % 8), Value::Int(i)]).ok();
    }
    let int = |v: i64| Value::Int(v);
    // jr holds ids 0..=7 (the first insert of each id won).
    let count = |rows: Vec<Vec<Value>>| rows[0][0].clone();
    for sql in [
        // Hash join: the left side is a full scan.
        "SELECT COUNT(*) FROM jl JOIN jr ON jr.id = jl.r WHERE jl.r < ?",
        // Index lookup join: the left side reads a key range.
        "SELECT COUNT(*) FROM jl JOIN jr ON jr.id = jl.r WHERE jl.id < ? * 4",
        // Nested loop: no equality.
        "SELECT COUNT(*) FROM jl JOIN jr ON jr.id < jl.r WHERE jl.id < ? * 4 + 1 - 1",
    ] {
        let mut p = s.prepare(sql).expect("prepare");
        let first = count(run_prepared(&mut s, &mut p, &[int(3)]));
        assert!(p.keeps_operators(), "{sql}");
        let other = count(run_prepared(&mut s, &mut p, &[int(5)]));
        assert_ne!(first, other, "{sql}: another parameter, another count");
        assert_eq!(count(run_prepared(&mut s, &mut p, &[int(3)])), first, "{sql}: the same again");
        assert_eq!(count(run_prepared(&mut s, &mut p, &[int(0)])), int(0), "{sql}: nothing");
    }
}

#[test]
fn dropping_a_session_with_temporary_tables_does_not_wait_for_other_commits() {
    let (g, cat) = setup();
    let mut tmp = Session::new(cat.clone());
    tmp.execute_blocking("CREATE TEMPORARY TABLE tt (a INT PRIMARY KEY)", &[]).expect("create");
    let ex = tmp.execute("INSERT INTO tt VALUES (1), (2)", &[]).expect("insert");
    while g.held() > 0 {
        assert!(g.complete_next(Ok(())), "no commit is waiting for durability");
    }
    tmp.resume(ex).expect("resume").finish().expect("finish");
    // Another session's commit is prepared, not yet durable: commits
    // after it cannot become visible before it does.
    let mut a = Session::new(cat.clone());
    let ex = a.execute("INSERT INTO t VALUES (1)", &[]).expect("insert");
    assert!(parked_on_commit(&ex));
    // The session's end deletes its temporary rows in a commit of its own,
    // which nobody waits for: on a server's worker, waiting there for the
    // other commit (published only when its session runs again, perhaps
    // on this very worker) would hang every worker that drops a session.
    must_not_block(move || drop(tmp));
    assert!(g.complete_next(Ok(())), "no commit is waiting for durability");
    a.resume(ex).expect("resume").finish().expect("finish");
    assert_eq!(count(&mut Session::new(cat)), 1);
}
