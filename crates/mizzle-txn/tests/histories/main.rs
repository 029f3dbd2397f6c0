//! Checked histories: many random transactions on a small key space, run
//! by a seeded step scheduler (deterministic: a failure prints its seed) and
//! by real threads (a failing history is written to a file), then checked
//! against the isolation level's guarantees. Writers that meet a held row
//! wait (the stepped scheduler runs others until the ticket completes, the
//! threads block on it) and run the operation again, as the session does.
//! The checker's own tests plant anomalies it must find.

mod checker;

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use checker::{
    check_read_committed, check_reads, check_serializable, check_snapshot_isolation, History, Op, Prev, TxnRec,
};
use mizzle_txn::{Blocked, IsolationLevel, KvBatch, LockWait, SpaceId, Txn, TxnError, TxnManager, TxnOptions};
use storage_memory::MemoryEngine;

const S: SpaceId = SpaceId(100);
const KEYS: u8 = 12;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[derive(Clone, Copy)]
enum Plan {
    Read(u8),
    Range(u8, u8),
    Write(u8),
}

fn plan_txn(rng: &mut Rng) -> Vec<Plan> {
    let read_only = rng.below(10) < 4;
    let n = 1 + rng.below(5) as usize;
    (0..n)
        .map(|_| {
            let k = rng.below(KEYS as u64) as u8;
            match rng.below(10) {
                0..=3 => Plan::Read(k),
                4..=5 => {
                    let hi = (k + rng.below(4) as u8).min(KEYS - 1);
                    Plan::Range(k, hi)
                }
                _ if read_only => Plan::Read(k),
                _ => Plan::Write(k),
            }
        })
        .collect()
}

fn setup() -> (TxnManager, BTreeMap<u8, String>) {
    let m = TxnManager::new(Arc::new(MemoryEngine::new()));
    let mut initial = BTreeMap::new();
    let t = m.begin(TxnOptions::default());
    t.begin_statement().expect("statement");
    for k in 0..KEYS / 2 {
        let v = format!("init-{k}");
        t.put(S, &[k], v.as_bytes()).expect("initial write");
        initial.insert(k, v);
    }
    t.commit_blocking().expect("initial commit");
    (m, initial)
}

/// What one planned operation came to.
enum Stepped {
    Done,
    /// The statement stopped: wait on the ticket (or on nothing, for a
    /// retry), then `resume` and run the operation again.
    Blocked(Option<LockWait>),
    /// The transaction was rolled back (conflict, deadlock).
    Aborted,
}

/// Runs one planned operation as a statement.
fn step(t: &Txn, rec: &mut TxnRec, p: Plan, n: usize) -> Stepped {
    match try_step(t, rec, p, n) {
        Ok(()) => Stepped::Done,
        Err(e) => {
            let _ = t.end_statement(false);
            match t.blocked() {
                Some(Blocked::Wait { ticket, .. }) => Stepped::Blocked(Some(ticket)),
                Some(Blocked::Retry { .. }) => Stepped::Blocked(None),
                None => {
                    assert!(!t.is_active(), "only conflicts end a step early here: {e}");
                    Stepped::Aborted
                }
            }
        }
    }
}

fn try_step(t: &Txn, rec: &mut TxnRec, p: Plan, n: usize) -> Result<(), TxnError> {
    t.begin_statement()?;
    match p {
        Plan::Read(k) => {
            let v = t.get(S, &[k])?.map(|b| String::from_utf8_lossy(&b).into_owned());
            rec.ops.push(Op::Read { key: k, value: v });
        }
        Plan::Range(lo, hi) => {
            let mut c = t.scan(S, Bound::Included(&[lo][..]), Bound::Included(&[hi][..]))?;
            let mut b = KvBatch::new();
            let mut seen = Vec::new();
            while c.next_batch(&mut b, 4)? {
                for (k, v) in b.iter() {
                    seen.push((k[0], String::from_utf8_lossy(v).into_owned()));
                }
            }
            rec.ops.push(Op::Range { lo, hi, seen });
        }
        Plan::Write(k) => {
            let v = format!("t{}-{}", rec.id, n);
            // The version this write replaces: W1 makes the newest version
            // before a successful write the newest one its statement sees.
            let prev = t.get_latest(S, &[k])?.map(|b| String::from_utf8_lossy(&b).into_owned());
            t.put(S, &[k], v.as_bytes())?;
            rec.ops.push(Op::Write { key: k, value: v, prev: Prev::Seen(prev) });
        }
    }
    t.end_statement(true)?;
    Ok(())
}

fn finish(t: &Txn, rec: &mut TxnRec, ok: bool) {
    rec.snapshot = t.snapshot_ts().map(|s| s.0);
    if ok {
        match t.commit_blocking() {
            Ok(()) => {
                rec.committed = true;
                rec.commit_ts = t.commit_ts().map(|c| c.0).or(rec.snapshot);
            }
            Err(_) => rec.committed = false,
        }
    } else {
        t.rollback();
    }
}

/// Every key's value after the run.
fn final_state(m: &TxnManager) -> BTreeMap<u8, String> {
    let t = m.begin(TxnOptions::default());
    t.begin_statement().expect("statement");
    let mut c = t.scan(S, Bound::Unbounded, Bound::Unbounded).expect("scan");
    let mut b = KvBatch::new();
    let mut out = BTreeMap::new();
    while c.next_batch(&mut b, 16).expect("batch") {
        for (k, v) in b.iter() {
            out.insert(k[0], String::from_utf8_lossy(v).into_owned());
        }
    }
    out
}

/// A transaction in flight: handle, record, plan, next step, and the
/// ticket it waits on (`Some(None)`: run the step again at once).
type InFlight = (Txn, TxnRec, Vec<Plan>, usize, Option<Option<LockWait>>);

/// The deterministic driver: `clients` transactions in flight, one
/// operation at a time, chosen by a seeded generator; a waiting client is
/// not chosen until its ticket completes.
fn run_stepped(seed: u64, iso: IsolationLevel, total: usize, clients: usize) -> History {
    let (m, initial) = setup();
    let mut rng = Rng(seed);
    let mut slots: Vec<Option<InFlight>> = (0..clients).map(|_| None).collect();
    let mut done: Vec<TxnRec> = Vec::new();
    let mut next_id = 1;
    while done.len() < total {
        let ready = |s: &Option<InFlight>| match s {
            Some((.., Some(Some(ticket)))) => ticket.poll().is_some(),
            _ => true,
        };
        assert!(slots.iter().any(ready), "every client waits: a deadlock was missed");
        let i = rng.below(clients as u64) as usize;
        if !ready(&slots[i]) {
            continue;
        }
        match slots[i].take() {
            None => {
                let t = m.begin(TxnOptions { isolation: iso, read_only: false });
                let rec = TxnRec { id: next_id, ops: vec![], committed: false, snapshot: None, commit_ts: None };
                next_id += 1;
                slots[i] = Some((t, rec, plan_txn(&mut rng), 0, None));
            }
            Some((t, mut rec, plan, pos, waiting)) => {
                if waiting.is_some() && t.resume().is_err() {
                    finish(&t, &mut rec, false);
                    done.push(rec);
                    continue;
                }
                if pos == plan.len() {
                    finish(&t, &mut rec, true);
                    done.push(rec);
                    continue;
                }
                match step(&t, &mut rec, plan[pos], pos) {
                    Stepped::Done => slots[i] = Some((t, rec, plan, pos + 1, None)),
                    Stepped::Blocked(ticket) => slots[i] = Some((t, rec, plan, pos, Some(ticket))),
                    Stepped::Aborted => {
                        finish(&t, &mut rec, false);
                        done.push(rec);
                    }
                }
            }
        }
    }
    for (t, mut rec, ..) in slots.into_iter().flatten() {
        finish(&t, &mut rec, false);
    }
    let final_state = Some(final_state(&m));
    History { initial, txns: done, final_state }
}

/// The concurrent driver: real threads, each running transactions and
/// blocking on lock tickets.
fn run_threaded(seed: u64, iso: IsolationLevel, per_thread: usize, threads: usize) -> History {
    let (m, initial) = setup();
    let ids = Arc::new(AtomicUsize::new(1));
    let out = Arc::new(Mutex::new(Vec::new()));
    let hs: Vec<_> = (0..threads)
        .map(|th| {
            let (m, ids, out) = (m.clone(), ids.clone(), out.clone());
            std::thread::spawn(move || {
                let mut rng = Rng(seed ^ (th as u64 + 1).wrapping_mul(0x1234_5678_9ABC));
                for _ in 0..per_thread {
                    let t = m.begin(TxnOptions { isolation: iso, read_only: false });
                    let id = ids.fetch_add(1, Ordering::SeqCst);
                    let mut rec = TxnRec { id, ops: vec![], committed: false, snapshot: None, commit_ts: None };
                    let plan = plan_txn(&mut rng);
                    let mut ok = true;
                    'plan: for (n, p) in plan.into_iter().enumerate() {
                        // Lets other threads in between operations, so
                        // transactions overlap even on few cores.
                        std::thread::yield_now();
                        loop {
                            match step(&t, &mut rec, p, n) {
                                Stepped::Done => break,
                                Stepped::Aborted => {
                                    ok = false;
                                    break 'plan;
                                }
                                Stepped::Blocked(ticket) => {
                                    if let Some(ticket) = ticket {
                                        let waited = ticket.wait_timeout(std::time::Duration::from_secs(60));
                                        assert!(waited.is_some(), "a lock wait lasted a minute: a missed wake-up");
                                    }
                                    if t.resume().is_err() {
                                        ok = false;
                                        break 'plan;
                                    }
                                }
                            }
                        }
                    }
                    finish(&t, &mut rec, ok);
                    if let Ok(mut o) = out.lock() {
                        o.push(rec);
                    }
                }
            })
        })
        .collect();
    for h in hs {
        h.join().expect("driver thread");
    }
    let txns = std::mem::take(&mut *out.lock().expect("history lock"));
    let s = m.lock_stats();
    eprintln!("{iso:?}: {} waits, {} deadlocks, {} restarts", s.waits, s.deadlocks, s.restarts);
    History { initial, txns, final_state: Some(final_state(&m)) }
}

fn check(h: &History, iso: IsolationLevel) -> Result<(), String> {
    check_read_committed(h)?;
    match iso {
        IsolationLevel::ReadCommitted => Ok(()),
        IsolationLevel::RepeatableRead => check_snapshot_isolation(h),
        IsolationLevel::Serializable => {
            check_snapshot_isolation(h)?;
            check_serializable(h)
        }
    }
}

const LEVELS: [IsolationLevel; 3] =
    [IsolationLevel::ReadCommitted, IsolationLevel::RepeatableRead, IsolationLevel::Serializable];

#[test]
fn stepped_histories_satisfy_their_isolation_level() {
    let seeds: Vec<u64> = match std::env::var("MIZZLE_HISTORY_SEED") {
        Ok(s) => vec![s.parse().expect("MIZZLE_HISTORY_SEED is a number")],
        Err(_) => (1..=6).collect(),
    };
    for iso in LEVELS {
        for &seed in &seeds {
            let h = run_stepped(seed, iso, 1500, 5);
            let committed = h.txns.iter().filter(|t| t.committed).count();
            assert!(committed > 300, "too few commits to be meaningful: {committed}");
            if let Err(e) = check(&h, iso) {
                panic!(
                    "{iso:?} history from seed {seed} is invalid: {e}\nreproduce with MIZZLE_HISTORY_SEED={seed}\n{h}"
                );
            }
        }
    }
}

/// Committed transactions a threaded run must reach, per level, out of
/// its 2,400: fewer would make the check say little (and would mean writers
/// fail where they should wait).
const MIN_THREADED_COMMITS: [usize; 3] = [2200, 2000, 1800];

#[test]
fn threaded_histories_satisfy_their_isolation_level() {
    for (i, iso) in LEVELS.into_iter().enumerate() {
        let h = run_threaded(42 + i as u64, iso, 600, 4);
        let committed = h.txns.iter().filter(|t| t.committed).count();
        eprintln!("{iso:?}: {committed} of {} committed", h.txns.len());
        assert!(
            committed >= MIN_THREADED_COMMITS[i],
            "{iso:?}: only {committed} of {} transactions committed",
            h.txns.len()
        );
        if let Err(e) = check(&h, iso) {
            let path = std::env::temp_dir().join(format!("mizzle-failing-history-{iso:?}.txt"));
            let _ = std::fs::write(&path, format!("{e}\n\n{h}"));
            panic!("{iso:?} threaded history is invalid: {e}\nfull history written to {}", path.display());
        }
    }
}

#[test]
fn stepped_scheduler_is_deterministic() {
    let a = run_stepped(7, IsolationLevel::Serializable, 300, 4);
    let b = run_stepped(7, IsolationLevel::Serializable, 300, 4);
    assert_eq!(
        format!("{a}").replace(|c: char| c.is_ascii_digit(), ""),
        format!("{b}").replace(|c: char| c.is_ascii_digit(), "")
    );
    let outcomes = |h: &History| h.txns.iter().map(|t| (t.id, t.committed, t.ops.len())).collect::<Vec<_>>();
    assert_eq!(outcomes(&a), outcomes(&b));
}

// ---- The checker catches planted anomalies.

fn txn(id: usize, ops: Vec<Op>, snapshot: u64, commit: Option<u64>) -> TxnRec {
    TxnRec { id, ops, committed: commit.is_some(), snapshot: Some(snapshot), commit_ts: commit }
}

fn read(k: u8, v: &str) -> Op {
    Op::Read { key: k, value: Some(v.to_string()) }
}

fn write(k: u8, v: &str) -> Op {
    Op::Write { key: k, value: v.to_string(), prev: Prev::Unknown }
}

fn replace(k: u8, v: &str, prev: &str) -> Op {
    Op::Write { key: k, value: v.to_string(), prev: Prev::Seen(Some(prev.to_string())) }
}

fn history(initial: BTreeMap<u8, String>, txns: Vec<TxnRec>) -> History {
    History { initial, txns, final_state: None }
}

fn initial() -> BTreeMap<u8, String> {
    [(0, "x0".to_string()), (1, "y0".to_string())].into_iter().collect()
}

#[test]
fn checker_finds_a_planted_write_skew_cycle() {
    let h = history(
        initial(),
        vec![
            txn(1, vec![read(0, "x0"), read(1, "y0"), write(0, "x1")], 1, Some(5)),
            txn(2, vec![read(0, "x0"), read(1, "y0"), write(1, "y2")], 1, Some(6)),
        ],
    );
    assert!(check_snapshot_isolation(&h).is_ok(), "write skew is allowed under snapshot isolation");
    let e = check_serializable(&h).expect_err("write skew is not serializable");
    assert!(e.contains("cycle"), "{e}");
}

#[test]
fn checker_finds_a_planted_three_transaction_cycle() {
    // T1 reads z and writes x; T2 reads x and writes y; T3 reads y and
    // writes z, all on one snapshot: each read misses the next one's write
    // (T1 -rw-> T2 -rw-> T3 -rw-> T1), no two write the same key.
    let init: BTreeMap<u8, String> =
        [(0, "x0".to_string()), (1, "y0".to_string()), (2, "z0".to_string())].into_iter().collect();
    let h = history(
        init,
        vec![
            txn(1, vec![read(2, "z0"), replace(0, "x1", "x0")], 1, Some(5)),
            txn(2, vec![read(0, "x0"), replace(1, "y2", "y0")], 1, Some(6)),
            txn(3, vec![read(1, "y0"), replace(2, "z3", "z0")], 1, Some(7)),
        ],
    );
    assert!(check_read_committed(&h).is_ok());
    assert!(check_snapshot_isolation(&h).is_ok(), "allowed under snapshot isolation");
    let e = check_serializable(&h).expect_err("not serializable");
    assert!(e.contains("T1") && e.contains("T2") && e.contains("T3"), "{e}");
}

#[test]
fn checker_finds_a_planted_phantom_cycle() {
    // Each scans a range that is empty where the other inserts: T1 scans
    // keys 2..=3 and inserts key 5, T2 scans 4..=6 and inserts key 2.
    let h = history(
        initial(),
        vec![
            txn(
                1,
                vec![
                    Op::Range { lo: 2, hi: 3, seen: vec![] },
                    Op::Write { key: 5, value: "a1".into(), prev: Prev::Seen(None) },
                ],
                1,
                Some(5),
            ),
            txn(
                2,
                vec![
                    Op::Range { lo: 4, hi: 6, seen: vec![] },
                    Op::Write { key: 2, value: "b2".into(), prev: Prev::Seen(None) },
                ],
                1,
                Some(6),
            ),
        ],
    );
    assert!(check_read_committed(&h).is_ok());
    assert!(check_snapshot_isolation(&h).is_ok(), "phantom write skew is allowed under snapshot isolation");
    assert!(check_serializable(&h).expect_err("not serializable").contains("cycle"));
}

#[test]
fn checker_finds_a_planted_lost_update() {
    let h = history(
        initial(),
        vec![
            txn(1, vec![read(0, "x0"), replace(0, "x1", "x0")], 1, Some(5)),
            txn(2, vec![read(0, "x0"), replace(0, "x2", "x0")], 1, Some(6)),
        ],
    );
    assert!(check_snapshot_isolation(&h).expect_err("lost update").contains("lost update"));
    assert!(check_serializable(&h).is_err());
    assert!(check_read_committed(&h).expect_err("two writers replaced x0").contains("lost update"));
}

#[test]
fn checker_finds_a_planted_write_cycle_g0() {
    // T1 replaced x0 and T2's y2; T2 replaced T1's x1 and y0.
    let h = history(
        initial(),
        vec![
            txn(1, vec![replace(0, "x1", "x0"), replace(1, "y1", "y2")], 1, Some(5)),
            txn(2, vec![replace(0, "x2", "x1"), replace(1, "y2", "y0")], 1, Some(6)),
        ],
    );
    assert!(check_read_committed(&h).expect_err("G0").starts_with("G0"));
}

#[test]
fn checker_finds_planted_circular_information_flow_g1c() {
    // Each reads the other's write and both commit.
    let h = history(
        initial(),
        vec![
            txn(1, vec![replace(0, "x1", "x0"), read(1, "y2")], 1, Some(5)),
            txn(2, vec![replace(1, "y2", "y0"), read(0, "x1")], 1, Some(6)),
        ],
    );
    assert!(check_reads(&h).is_ok());
    assert!(check_read_committed(&h).expect_err("G1c").starts_with("G1c"));
}

#[test]
fn checker_finds_a_version_order_against_commit_order_and_a_wrong_final_state() {
    let mut h = history(
        initial(),
        vec![txn(1, vec![replace(0, "x1", "x0")], 1, Some(6)), txn(2, vec![replace(0, "x2", "x1")], 2, Some(5))],
    );
    assert!(check_read_committed(&h).expect_err("order").contains("commit order"));
    h.txns[1].commit_ts = Some(7);
    assert!(check_read_committed(&h).is_ok());
    h.final_state = Some([(0, "x1".to_string()), (1, "y0".to_string())].into_iter().collect());
    assert!(check_read_committed(&h).expect_err("final").contains("final state"));
}

#[test]
fn checker_finds_a_non_repeatable_read() {
    let h = history(
        initial(),
        vec![txn(1, vec![write(0, "x1")], 2, Some(5)), txn(2, vec![read(0, "x0"), read(0, "x1")], 3, Some(3))],
    );
    assert!(check_snapshot_isolation(&h).is_err());
}

#[test]
fn checker_finds_aborted_and_intermediate_reads() {
    let aborted =
        history(initial(), vec![txn(1, vec![write(0, "x1")], 1, None), txn(2, vec![read(0, "x1")], 2, Some(2))]);
    assert!(check_reads(&aborted).expect_err("G1a").starts_with("G1a"));
    let intermediate = history(
        initial(),
        vec![txn(1, vec![write(0, "x1"), write(0, "x2")], 1, Some(4)), txn(2, vec![read(0, "x1")], 5, Some(5))],
    );
    assert!(check_reads(&intermediate).expect_err("G1b").starts_with("G1b"));
}

#[test]
fn checker_accepts_a_serial_history() {
    let h = history(
        initial(),
        vec![
            txn(1, vec![read(0, "x0"), replace(0, "x1", "x0")], 1, Some(2)),
            txn(2, vec![read(0, "x1"), replace(1, "y2", "y0")], 3, Some(4)),
            txn(3, vec![read(0, "x1"), read(1, "y2")], 5, Some(5)),
        ],
    );
    assert!(check_read_committed(&h).is_ok());
    assert!(check_snapshot_isolation(&h).is_ok());
    assert!(check_serializable(&h).is_ok());
}
