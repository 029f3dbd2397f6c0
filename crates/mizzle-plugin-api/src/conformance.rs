//! The shared conformance suite every storage engine runs in its tests.
//!
//! Each check takes a fresh engine from a closure and returns `Err(what)` on
//! the first broken rule of the `storage` contract, so a plugin's test is
//! one line: `conformance::run_all(|| open_engine()).expect("conforms")`.
//! Persistent engines also run [`run_persistent`]: reopen and crash checks
//! over a [`PersistentHarness`] the engine's test provides.
//! [`HeldDurability`] serves the tests of the layers above an engine: it
//! holds durable writes' tickets until the test completes them.
//! This module is not used at run time.

use std::ops::Bound;
use std::sync::Arc;

use std::sync::atomic::{AtomicBool, Ordering};

use crate::durability::DurableTicket;
use crate::storage::{Cursor, Durability, EngineInfo, KeyRange, KvBatch, StorageEngine, StorageError, WriteBatch};

type Check = fn(&dyn StorageEngine) -> Result<(), String>;
type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

/// Runs every check, each on its own fresh engine.
pub fn run_all(mut open: impl FnMut() -> Arc<dyn StorageEngine>) -> Result<(), String> {
    let checks: &[(&str, Check)] = &[
        ("put_get_delete", put_get_delete),
        ("scan_is_ordered_and_bounded", scan_is_ordered_and_bounded),
        ("batches_split_long_scans", batches_split_long_scans),
        ("seek_moves_forward", seek_moves_forward),
        ("delete_range_removes_half_open_range", delete_range_removes_half_open_range),
        ("later_mutations_in_a_batch_win", later_mutations_in_a_batch_win),
        ("binary_keys_compare_bytewise", binary_keys_compare_bytewise),
        ("scan_first_returns_the_range_head", scan_first_returns_the_range_head),
        ("scan_prefix_first_reads_one_prefix", scan_prefix_first_reads_one_prefix),
        ("a_descending_scan_is_the_ascending_one_reversed", a_descending_scan_is_the_ascending_one_reversed),
    ];
    for (name, check) in checks {
        let e = open();
        check(e.as_ref()).map_err(|m| format!("{name}: {m}"))?;
    }
    Ok(())
}

fn write(e: &dyn StorageEngine, b: &WriteBatch) -> Result<(), String> {
    e.write(b.clone(), Durability::Sync).map_err(|x| x.to_string())?.wait().map_err(|x| x.to_string())
}

fn collect(e: &dyn StorageEngine, r: KeyRange) -> Result<Pairs, String> {
    let mut c = e.scan(r).map_err(|x| x.to_string())?;
    let mut out = Vec::new();
    let mut b = KvBatch::new();
    while c.next_batch(&mut b, 3).map_err(|x| x.to_string())? {
        for (k, v) in b.iter() {
            out.push((k.to_vec(), v.to_vec()));
        }
    }
    Ok(out)
}

fn ensure(cond: bool, what: &str) -> Result<(), String> {
    if cond {
        Ok(())
    } else {
        Err(what.to_string())
    }
}

fn put_get_delete(e: &dyn StorageEngine) -> Result<(), String> {
    let mut b = WriteBatch::new();
    b.put(b"a".to_vec(), b"1".to_vec());
    b.put(b"b".to_vec(), b"2".to_vec());
    write(e, &b)?;
    ensure(e.get(b"a").map_err(|x| x.to_string())? == Some(b"1".to_vec()), "get after put")?;
    ensure(e.get(b"zz").map_err(|x| x.to_string())?.is_none(), "get of missing key")?;
    let mut b = WriteBatch::new();
    b.delete(b"a".to_vec());
    write(e, &b)?;
    ensure(e.get(b"a").map_err(|x| x.to_string())?.is_none(), "get after delete")?;
    ensure(e.get(b"b").map_err(|x| x.to_string())?.is_some(), "unrelated key survives delete")
}

fn scan_is_ordered_and_bounded(e: &dyn StorageEngine) -> Result<(), String> {
    let mut b = WriteBatch::new();
    for k in [b"d".as_ref(), b"a", b"c", b"b", b"e"] {
        b.put(k.to_vec(), k.to_vec());
    }
    write(e, &b)?;
    let all: Vec<Vec<u8>> = collect(e, KeyRange::all())?.into_iter().map(|p| p.0).collect();
    ensure(all == vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec(), b"d".to_vec(), b"e".to_vec()], "full scan order")?;
    let r = KeyRange { start: Bound::Excluded(b"a".to_vec()), end: Bound::Included(b"d".to_vec()) };
    let part: Vec<Vec<u8>> = collect(e, r)?.into_iter().map(|p| p.0).collect();
    ensure(part == vec![b"b".to_vec(), b"c".to_vec(), b"d".to_vec()], "bounded scan")
}

fn batches_split_long_scans(e: &dyn StorageEngine) -> Result<(), String> {
    let mut b = WriteBatch::new();
    for i in 0u32..1000 {
        b.put(i.to_be_bytes().to_vec(), vec![1; 10]);
    }
    write(e, &b)?;
    let got = collect(e, KeyRange::all())?;
    ensure(got.len() == 1000, "every key returned once")?;
    ensure(got.windows(2).all(|w| w[0].0 < w[1].0), "ascending across batches")
}

/// An engine's descending cursor, when it has one, returns exactly the
/// ascending scan's pairs in reverse, across batches and for every kind of
/// bound (an engine without one passes trivially).
fn a_descending_scan_is_the_ascending_one_reversed(e: &dyn StorageEngine) -> Result<(), String> {
    let mut b = WriteBatch::new();
    for i in (0u32..600).step_by(3) {
        b.put(i.to_be_bytes().to_vec(), i.to_le_bytes().to_vec());
    }
    write(e, &b)?;
    let key = |i: u32| i.to_be_bytes().to_vec();
    let bounds = [
        (Bound::Unbounded, Bound::Unbounded),
        (Bound::Included(key(3)), Bound::Included(key(300))),
        (Bound::Excluded(key(3)), Bound::Excluded(key(300))),
        (Bound::Included(key(4)), Bound::Excluded(key(5))),
        (Bound::Excluded(key(9)), Bound::Unbounded),
        (Bound::Unbounded, Bound::Included(key(10))),
        (Bound::Included(key(50)), Bound::Included(key(40))),
    ];
    for (start, end) in bounds {
        let r = KeyRange { start, end };
        let Some(mut c) = e.scan_rev(r.clone()).map_err(|x| x.to_string())? else { return Ok(()) };
        let mut down = Vec::new();
        let mut batch = KvBatch::new();
        while c.next_batch(&mut batch, 7).map_err(|x| x.to_string())? {
            for (k, v) in batch.iter() {
                down.push((k.to_vec(), v.to_vec()));
            }
        }
        let mut up = collect(e, r.clone())?;
        up.reverse();
        ensure(down == up, &format!("descending scan of {r:?}"))?;
    }
    Ok(())
}

fn seek_moves_forward(e: &dyn StorageEngine) -> Result<(), String> {
    let mut b = WriteBatch::new();
    for i in 0u8..10 {
        b.put(vec![i], vec![i]);
    }
    write(e, &b)?;
    let mut c = e.scan(KeyRange::all()).map_err(|x| x.to_string())?;
    c.seek(&[5]);
    let mut kb = KvBatch::new();
    c.next_batch(&mut kb, 2).map_err(|x| x.to_string())?;
    ensure(kb.key(0) == [5], "seek lands on the key")?;
    c.seek(&[1]);
    c.next_batch(&mut kb, 1).map_err(|x| x.to_string())?;
    ensure(kb.key(0) == [7], "seek backward is ignored")
}

fn delete_range_removes_half_open_range(e: &dyn StorageEngine) -> Result<(), String> {
    let mut b = WriteBatch::new();
    for i in 0u8..10 {
        b.put(vec![i], vec![i]);
    }
    write(e, &b)?;
    let mut b = WriteBatch::new();
    b.delete_range(vec![3], vec![7]);
    write(e, &b)?;
    let keys: Vec<u8> = collect(e, KeyRange::all())?.into_iter().map(|p| p.0[0]).collect();
    ensure(keys == vec![0, 1, 2, 7, 8, 9], "range delete")
}

fn later_mutations_in_a_batch_win(e: &dyn StorageEngine) -> Result<(), String> {
    let mut b = WriteBatch::new();
    b.put(b"k".to_vec(), b"1".to_vec());
    b.delete(b"k".to_vec());
    b.put(b"k".to_vec(), b"2".to_vec());
    b.put(b"j".to_vec(), b"1".to_vec());
    b.delete(b"j".to_vec());
    write(e, &b)?;
    ensure(e.get(b"k").map_err(|x| x.to_string())? == Some(b"2".to_vec()), "last put wins")?;
    ensure(e.get(b"j").map_err(|x| x.to_string())?.is_none(), "last delete wins")
}

fn scan_first_returns_the_range_head(e: &dyn StorageEngine) -> Result<(), String> {
    let mut b = WriteBatch::new();
    for i in 0u8..10 {
        b.put(vec![i], vec![i, i]);
    }
    write(e, &b)?;
    let mut out = KvBatch::new();
    let r = KeyRange { start: Bound::Excluded(vec![3]), end: Bound::Included(vec![8]) };
    let more = e.scan_first(r, &mut out, 2).map_err(|x| x.to_string())?;
    ensure(!out.is_empty() && out.key(0) == [4] && out.value(0) == [4, 4], "first pair after an excluded start")?;
    ensure(out.len() <= 2 && more, "at most max_pairs, and more reported")?;
    let keys: Vec<u8> = out.iter().map(|(k, _)| k[0]).collect();
    ensure(
        keys.windows(2).all(|w| w[0] < w[1]) && keys.iter().all(|k| (4..=8).contains(k)),
        "pairs ordered, in range",
    )?;
    let r = KeyRange { start: Bound::Included(vec![8]), end: Bound::Included(vec![8]) };
    let more = e.scan_first(r, &mut out, 5).map_err(|x| x.to_string())?;
    ensure(out.len() == 1 && out.key(0) == [8], "single-key range replaces earlier contents")?;
    ensure(!more, "a range returned whole is reported complete")?;
    let r = KeyRange { start: Bound::Excluded(vec![9]), end: Bound::Unbounded };
    let more = e.scan_first(r, &mut out, 5).map_err(|x| x.to_string())?;
    ensure(out.is_empty() && !more, "empty range clears the batch")
}

fn scan_prefix_first_reads_one_prefix(e: &dyn StorageEngine) -> Result<(), String> {
    let mut b = WriteBatch::new();
    let keys: [&[u8]; 9] = [b"a", b"ab", b"ab\x00", b"ab\xff", b"ab\xff\xff", b"ac", b"\xff", b"\xff\x01", b""];
    for k in keys {
        b.put(k.to_vec(), k.to_vec());
    }
    write(e, &b)?;
    let mut out = KvBatch::new();
    for prefix in [&b"ab"[..], b"ab\xff", b"\xff", b"", b"zz", b"a"] {
        let mut want: Vec<&[u8]> = keys.iter().copied().filter(|k| k.starts_with(prefix)).collect();
        want.sort_unstable();
        let more = e.scan_prefix_first(prefix, &mut out, 3).map_err(|x| x.to_string())?;
        let got: Vec<&[u8]> = out.iter().map(|(k, _)| k).collect();
        ensure(got.len() >= want.len().min(1) && got.len() <= 3, "between one (if any) and max_pairs pairs")?;
        ensure(got[..] == want[..got.len()], "the prefix's first keys, in order")?;
        ensure(more || got.len() == want.len(), "pairs left out are reported")?;
        ensure(out.iter().all(|(k, v)| k == v), "each key with its value")?;
    }
    // A prefix longer than any on-stack buffer an engine may use.
    let long = vec![7u8; 300];
    let mut b = WriteBatch::new();
    b.put([long.clone(), vec![1]].concat(), vec![1]);
    b.put([vec![7u8; 299], vec![8]].concat(), vec![2]);
    write(e, &b)?;
    let more = e.scan_prefix_first(&long, &mut out, 5).map_err(|x| x.to_string())?;
    ensure(out.len() == 1 && out.value(0) == [1] && !more, "a long prefix reads only its own keys")
}

fn binary_keys_compare_bytewise(e: &dyn StorageEngine) -> Result<(), String> {
    let mut b = WriteBatch::new();
    b.put(vec![0xFF], vec![]);
    b.put(vec![0x00], vec![]);
    b.put(vec![0x00, 0x00], vec![]);
    b.put(vec![], vec![]);
    write(e, &b)?;
    let keys: Vec<Vec<u8>> = collect(e, KeyRange::all())?.into_iter().map(|p| p.0).collect();
    ensure(keys == vec![vec![], vec![0x00], vec![0x00, 0x00], vec![0xFF]], "bytewise order with empty key")
}

/// What [`run_persistent`] needs from a persistent engine's test.
pub trait PersistentHarness {
    /// Opens the engine on the test's directory (creating it if empty).
    fn open(&mut self) -> Result<Arc<dyn StorageEngine>, String>;
    /// Simulates a power loss: the engine goes away without a clean close
    /// and writes that were not made durable may be lost (or kept).
    fn crash(&mut self, engine: Arc<dyn StorageEngine>);
    /// Empties the directory for the next check.
    fn wipe(&mut self);
}

type PersistentCheck = fn(&mut dyn PersistentHarness) -> Result<(), String>;

/// Runs every reopen and crash check, each on a wiped directory.
pub fn run_persistent(h: &mut dyn PersistentHarness) -> Result<(), String> {
    let checks: &[(&str, PersistentCheck)] = &[
        ("clean_close_keeps_everything", clean_close_keeps_everything),
        ("reopen_keeps_checkpointed_and_later_writes", reopen_keeps_checkpointed_and_later_writes),
        ("synced_writes_survive_a_crash", synced_writes_survive_a_crash),
        ("a_crash_leaves_a_prefix_of_batches", a_crash_leaves_a_prefix_of_batches),
        ("a_second_open_is_refused_while_open", a_second_open_is_refused_while_open),
    ];
    for (name, check) in checks {
        h.wipe();
        check(h).map_err(|m| format!("{name}: {m}"))?;
    }
    Ok(())
}

fn model_of(e: &dyn StorageEngine) -> Result<Pairs, String> {
    collect(e, KeyRange::all())
}

fn relaxed(e: &dyn StorageEngine, b: WriteBatch) -> Result<(), String> {
    e.write(b, Durability::Relaxed).map(|_| ()).map_err(|x| x.to_string())
}

fn clean_close_keeps_everything(h: &mut dyn PersistentHarness) -> Result<(), String> {
    let e = h.open()?;
    let mut b = WriteBatch::new();
    for i in 0u32..500 {
        b.put(i.to_be_bytes().to_vec(), vec![i as u8; (i % 50) as usize]);
    }
    relaxed(e.as_ref(), b)?;
    let mut b = WriteBatch::new();
    b.delete(7u32.to_be_bytes().to_vec());
    b.delete_range(100u32.to_be_bytes().to_vec(), 200u32.to_be_bytes().to_vec());
    relaxed(e.as_ref(), b)?;
    let before = model_of(e.as_ref())?;
    drop(e);
    let e = h.open()?;
    ensure(model_of(e.as_ref())? == before, "contents after a clean close and reopen")?;
    ensure(before.len() == 500 - 1 - 100, "deletes applied")
}

fn reopen_keeps_checkpointed_and_later_writes(h: &mut dyn PersistentHarness) -> Result<(), String> {
    let e = h.open()?;
    let mut b = WriteBatch::new();
    for i in 0u32..300 {
        b.put(i.to_be_bytes().to_vec(), b"old".to_vec());
    }
    write(e.as_ref(), &b)?;
    e.checkpoint().map_err(|x| x.to_string())?;
    let mut b = WriteBatch::new();
    for i in (0u32..300).step_by(3) {
        b.put(i.to_be_bytes().to_vec(), b"new".to_vec());
    }
    for i in (1u32..300).step_by(3) {
        b.delete(i.to_be_bytes().to_vec());
    }
    write(e.as_ref(), &b)?;
    let before = model_of(e.as_ref())?;
    ensure(before.len() == 200, "overwrites and deletes over checkpointed data")?;
    h.crash(e);
    let e = h.open()?;
    ensure(model_of(e.as_ref())? == before, "synced writes over a checkpoint survive a crash")?;
    e.checkpoint().map_err(|x| x.to_string())?;
    drop(e);
    let e = h.open()?;
    ensure(model_of(e.as_ref())? == before, "and a second checkpoint and reopen")
}

fn synced_writes_survive_a_crash(h: &mut dyn PersistentHarness) -> Result<(), String> {
    let e = h.open()?;
    for i in 0u8..20 {
        let mut b = WriteBatch::new();
        b.put(vec![i], vec![i; 3]);
        write(e.as_ref(), &b)?;
    }
    h.crash(e);
    let e = h.open()?;
    let got = model_of(e.as_ref())?;
    ensure(got.len() == 20 && got.iter().all(|(k, v)| v == &vec![k[0]; 3]), "every synced batch is present")
}

fn a_crash_leaves_a_prefix_of_batches(h: &mut dyn PersistentHarness) -> Result<(), String> {
    // Batch i puts key i and overwrites the counter key: after a crash the
    // counter must name the last batch present, and batches 0..=synced are
    // all there.
    let e = h.open()?;
    let mut synced = 0u32;
    for i in 1u32..=200 {
        let mut b = WriteBatch::new();
        b.put([b"k".as_ref(), &i.to_be_bytes()].concat(), vec![1; 40]);
        b.put(b"z-counter".to_vec(), i.to_be_bytes().to_vec());
        let d = if i % 50 == 0 { Durability::Sync } else { Durability::Relaxed };
        let t = e.write(b, d).map_err(|x| x.to_string())?;
        if d == Durability::Sync {
            t.wait().map_err(|x| x.to_string())?;
            synced = i;
        }
    }
    h.crash(e);
    let e = h.open()?;
    let got = model_of(e.as_ref())?;
    let counter = got
        .iter()
        .find(|(k, _)| k.as_slice() == b"z-counter")
        .and_then(|(_, v)| v.as_slice().try_into().ok())
        .map(u32::from_be_bytes)
        .ok_or("the counter key is missing")?;
    ensure(counter >= synced, "every synced batch survives")?;
    ensure(got.len() as u32 == counter + 1, "exactly the batches up to the counter are present (atomic prefix)")
}

fn a_second_open_is_refused_while_open(h: &mut dyn PersistentHarness) -> Result<(), String> {
    let e = h.open()?;
    ensure(h.open().is_err(), "a second open of the same directory fails")?;
    drop(e);
    h.open().map(|_| ())
}

/// Runs `f` on another thread; true if it returned within `limit` (a test
/// that something never blocks: a blocked `f` is left behind).
pub fn finishes_within(limit: std::time::Duration, f: impl FnOnce() + Send + 'static) -> bool {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    rx.recv_timeout(limit).is_ok()
}

/// An engine that looks persistent and, while holding, answers every
/// durable write with a pending ticket the test completes by hand (in the
/// order they were handed out), so a test of the transaction layer, a
/// session or a scheduler can see commits waiting for durability, finish
/// them in any order, or fail their sync. Everything else goes to `inner`.
pub struct HeldDurability {
    inner: Arc<dyn StorageEngine>,
    holding: AtomicBool,
    held: parking_lot::Mutex<Vec<DurableTicket>>,
}

impl HeldDurability {
    /// Wraps `inner`, holding tickets from the start if `holding`.
    pub fn new(inner: Arc<dyn StorageEngine>, holding: bool) -> HeldDurability {
        HeldDurability { inner, holding: AtomicBool::new(holding), held: parking_lot::Mutex::new(Vec::new()) }
    }

    /// Whether later durable writes get held tickets (earlier ones stay held).
    pub fn set_holding(&self, on: bool) {
        self.holding.store(on, Ordering::SeqCst);
    }

    /// Tickets held and not yet completed.
    pub fn held(&self) -> usize {
        self.held.lock().len()
    }

    /// Completes held ticket `i` with `r`; false if there is none.
    pub fn complete_at(&self, i: usize, r: Result<(), StorageError>) -> bool {
        let t = {
            let mut h = self.held.lock();
            if i >= h.len() {
                return false;
            }
            h.remove(i)
        };
        t.complete(r);
        true
    }

    /// Completes the oldest held ticket with `r`; false if there is none.
    pub fn complete_next(&self, r: Result<(), StorageError>) -> bool {
        self.complete_at(0, r)
    }

    /// Completes every held ticket with `r`; returns how many there were.
    pub fn complete_all(&self, r: &Result<(), StorageError>) -> usize {
        let held: Vec<DurableTicket> = std::mem::take(&mut *self.held.lock());
        for t in &held {
            t.complete(r.clone());
        }
        held.len()
    }
}

impl StorageEngine for HeldDurability {
    fn info(&self) -> EngineInfo {
        EngineInfo { name: "held-durability".into(), persistent: true }
    }

    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.inner.get(key)
    }

    fn scan(&self, range: KeyRange) -> Result<Box<dyn Cursor>, StorageError> {
        self.inner.scan(range)
    }

    fn scan_first(&self, range: KeyRange, out: &mut KvBatch, max_pairs: usize) -> Result<bool, StorageError> {
        self.inner.scan_first(range, out, max_pairs)
    }

    fn write(&self, batch: WriteBatch, durability: Durability) -> Result<DurableTicket, StorageError> {
        let t = self.inner.write(batch, durability)?;
        if matches!(durability, Durability::Relaxed) || !self.holding.load(Ordering::SeqCst) {
            return Ok(t);
        }
        let held = DurableTicket::pending();
        self.held.lock().push(held.clone());
        Ok(held)
    }

    fn approximate_size(&self) -> u64 {
        self.inner.approximate_size()
    }

    fn approximate_keys(&self) -> u64 {
        self.inner.approximate_keys()
    }
}
