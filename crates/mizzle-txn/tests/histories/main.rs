//! Checked histories: many random transactions on a small key space, run
//! by a seeded step scheduler (deterministic: a failure prints its seed) and
//! by real threads (a failing history is written to a file), then checked
//! against the isolation level's guarantees. The checker's own tests plant
//! anomalies it must find.

mod checker;

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use checker::{check_reads, check_serializable, check_snapshot_isolation, History, Op, TxnRec};
use mizzle_txn::{IsolationLevel, KvBatch, SpaceId, Txn, TxnError, TxnManager, TxnOptions};
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

/// Runs one planned operation; `Err` means the transaction was aborted.
fn step(t: &Txn, rec: &mut TxnRec, p: Plan, n: usize) -> Result<(), TxnError> {
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
            t.put(S, &[k], v.as_bytes())?;
            rec.ops.push(Op::Write { key: k, value: v });
        }
    }
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

/// A transaction in flight: handle, record, plan, next step.
type InFlight = (Txn, TxnRec, Vec<Plan>, usize);

/// The deterministic driver: `clients` transactions in flight, one
/// operation at a time, chosen by a seeded generator.
fn run_stepped(seed: u64, iso: IsolationLevel, total: usize, clients: usize) -> History {
    let (m, initial) = setup();
    let mut rng = Rng(seed);
    let mut slots: Vec<Option<InFlight>> = (0..clients).map(|_| None).collect();
    let mut done: Vec<TxnRec> = Vec::new();
    let mut next_id = 1;
    while done.len() < total {
        let i = rng.below(clients as u64) as usize;
        match slots[i].take() {
            None => {
                let t = m.begin(TxnOptions { isolation: iso, read_only: false });
                let rec = TxnRec { id: next_id, ops: vec![], committed: false, snapshot: None, commit_ts: None };
                next_id += 1;
                slots[i] = Some((t, rec, plan_txn(&mut rng), 0));
            }
            Some((t, mut rec, plan, pos)) => {
                if pos == plan.len() {
                    finish(&t, &mut rec, true);
                    done.push(rec);
                    continue;
                }
                match step(&t, &mut rec, plan[pos], pos) {
                    Ok(()) => slots[i] = Some((t, rec, plan, pos + 1)),
                    Err(_) => {
                        finish(&t, &mut rec, false);
                        done.push(rec);
                    }
                }
            }
        }
    }
    History { initial, txns: done }
}

/// The concurrent driver: real threads, each running transactions.
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
                    for (n, p) in plan.into_iter().enumerate() {
                        if step(&t, &mut rec, p, n).is_err() {
                            ok = false;
                            break;
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
    History { initial, txns }
}

fn check(h: &History, iso: IsolationLevel) -> Result<(), String> {
    check_reads(h)?;
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

#[test]
fn threaded_histories_satisfy_their_isolation_level() {
    for (i, iso) in LEVELS.into_iter().enumerate() {
        let h = run_threaded(42 + i as u64, iso, 600, 4);
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
    Op::Write { key: k, value: v.to_string() }
}

fn initial() -> BTreeMap<u8, String> {
    [(0, "x0".to_string()), (1, "y0".to_string())].into_iter().collect()
}

#[test]
fn checker_finds_a_planted_write_skew_cycle() {
    let h = History {
        initial: initial(),
        txns: vec![
            txn(1, vec![read(0, "x0"), read(1, "y0"), write(0, "x1")], 1, Some(5)),
            txn(2, vec![read(0, "x0"), read(1, "y0"), write(1, "y2")], 1, Some(6)),
        ],
    };
    assert!(check_snapshot_isolation(&h).is_ok(), "write skew is allowed under snapshot isolation");
    let e = check_serializable(&h).expect_err("write skew is not serializable");
    assert!(e.contains("cycle"), "{e}");
}

#[test]
fn checker_finds_a_planted_lost_update() {
    let h = History {
        initial: initial(),
        txns: vec![
            txn(1, vec![read(0, "x0"), write(0, "x1")], 1, Some(5)),
            txn(2, vec![read(0, "x0"), write(0, "x2")], 1, Some(6)),
        ],
    };
    assert!(check_snapshot_isolation(&h).expect_err("lost update").contains("lost update"));
    assert!(check_serializable(&h).is_err());
}

#[test]
fn checker_finds_a_non_repeatable_read() {
    let h = History {
        initial: initial(),
        txns: vec![txn(1, vec![write(0, "x1")], 2, Some(5)), txn(2, vec![read(0, "x0"), read(0, "x1")], 3, Some(3))],
    };
    assert!(check_snapshot_isolation(&h).is_err());
}

#[test]
fn checker_finds_aborted_and_intermediate_reads() {
    let aborted = History {
        initial: initial(),
        txns: vec![txn(1, vec![write(0, "x1")], 1, None), txn(2, vec![read(0, "x1")], 2, Some(2))],
    };
    assert!(check_reads(&aborted).expect_err("G1a").starts_with("G1a"));
    let intermediate = History {
        initial: initial(),
        txns: vec![txn(1, vec![write(0, "x1"), write(0, "x2")], 1, Some(4)), txn(2, vec![read(0, "x1")], 5, Some(5))],
    };
    assert!(check_reads(&intermediate).expect_err("G1b").starts_with("G1b"));
}

#[test]
fn checker_accepts_a_serial_history() {
    let h = History {
        initial: initial(),
        txns: vec![
            txn(1, vec![read(0, "x0"), write(0, "x1")], 1, Some(2)),
            txn(2, vec![read(0, "x1"), write(1, "y2")], 3, Some(4)),
            txn(3, vec![read(0, "x1"), read(1, "y2")], 5, Some(5)),
        ],
    };
    assert!(check_snapshot_isolation(&h).is_ok());
    assert!(check_serializable(&h).is_ok());
}
