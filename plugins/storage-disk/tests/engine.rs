//! The disk engine as a whole: the shared conformance suite (reopen and
//! crash checks included), every fault class of the file layer, and a
//! randomized test against a model.
//!
//! Faults come from `FaultyFs` (see `src/vfs/faulty.rs` for the medium
//! model). The outcome a fault may have is one of two: the engine recovers
//! to a state that holds every acknowledged batch and is exactly the state
//! after some prefix of the batches written, or it refuses with a clear
//! error naming the damaged file — never a panic, never other data.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mizzle_plugin_api::conformance::{self, PersistentHarness};
use mizzle_plugin_api::storage::{Durability, KeyRange, KvBatch, StorageEngine, StorageError, SyncMode, WriteBatch};
use storage_disk::engine::{DiskEngine, DiskOptions, DATA_FILE};
use storage_disk::vfs::faulty::{CrashMode, FaultKind, FaultyFs};
use storage_disk::vfs::Vfs;

fn opts(fs: &FaultyFs) -> DiskOptions {
    DiskOptions {
        sync: SyncMode::Full,
        cache_bytes: 256 << 10,
        create: true,
        memtable_bytes: 64 << 10,
        segment_bytes: 256 << 10,
        vfs: Arc::new(fs.clone()),
    }
}

fn dir() -> PathBuf {
    PathBuf::from("/db")
}

fn open(fs: &FaultyFs) -> Result<Arc<dyn StorageEngine>, StorageError> {
    Ok(Arc::new(DiskEngine::open(&dir(), opts(fs))?))
}

fn try_contents(e: &dyn StorageEngine) -> Result<BTreeMap<Vec<u8>, Vec<u8>>, StorageError> {
    let mut c = e.scan(KeyRange::all())?;
    let mut b = KvBatch::new();
    let mut out = BTreeMap::new();
    while c.next_batch(&mut b, 97)? {
        for (k, v) in b.iter() {
            out.insert(k.to_vec(), v.to_vec());
        }
    }
    Ok(out)
}

fn contents(e: &dyn StorageEngine) -> BTreeMap<Vec<u8>, Vec<u8>> {
    try_contents(e).expect("scan")
}

#[test]
fn disk_engine_conforms() {
    let r = conformance::run_all(|| {
        let fs = FaultyFs::new();
        open(&fs).expect("open")
    });
    assert_eq!(r, Ok(()));
}

struct Harness {
    fs: FaultyFs,
    mode: CrashMode,
}

impl PersistentHarness for Harness {
    fn open(&mut self) -> Result<Arc<dyn StorageEngine>, String> {
        open(&self.fs).map_err(|e| e.to_string())
    }
    fn crash(&mut self, engine: Arc<dyn StorageEngine>) {
        self.fs.crash(self.mode);
        drop(engine);
    }
    fn wipe(&mut self) {
        self.fs = FaultyFs::new();
    }
}

#[test]
fn disk_engine_conforms_across_reopen_and_power_loss() {
    for mode in [CrashMode::DropUnsynced, CrashMode::KeepAll, CrashMode::Random(7), CrashMode::Random(99)] {
        let mut h = Harness { fs: FaultyFs::new(), mode };
        assert_eq!(conformance::run_persistent(&mut h), Ok(()), "{mode:?}");
    }
}

#[test]
fn disk_engine_conforms_on_a_real_directory() {
    let root = std::env::temp_dir().join(format!("mizzle-disk-conf-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let n = std::sync::atomic::AtomicU64::new(0);
    let r = conformance::run_all(|| {
        let d = root.join(n.fetch_add(1, std::sync::atomic::Ordering::Relaxed).to_string());
        Arc::new(DiskEngine::open(&d, DiskOptions::default()).expect("open"))
    });
    assert_eq!(r, Ok(()));
    let _ = std::fs::remove_dir_all(&root);
}

/// splitmix64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E3779B97F4A7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const COUNTER: &[u8] = b"\xffcounter";

/// A random batch numbered `n`: puts, overwrites, deletes of small keys,
/// sometimes a big value, and the counter key set to `n`.
fn random_batch(rng: &mut Rng, n: u32) -> WriteBatch {
    let mut b = WriteBatch::new();
    for _ in 0..1 + rng.below(12) {
        let k = format!("k{:05}", rng.below(3000)).into_bytes();
        match rng.below(10) {
            0..=1 => b.delete(k),
            2 => b.put(k, vec![rng.below(256) as u8; 5000 + rng.below(20_000) as usize]),
            _ => b.put(k, format!("v{n}-{}", rng.next()).into_bytes()),
        }
    }
    b.put(COUNTER.to_vec(), n.to_be_bytes().to_vec());
    b
}

fn apply_model(m: &mut BTreeMap<Vec<u8>, Vec<u8>>, b: &WriteBatch) {
    use mizzle_plugin_api::storage::Mutation;
    for op in b.ops() {
        match op {
            Mutation::Put { key, value } => {
                m.insert(key.clone(), value.clone());
            }
            Mutation::Delete { key } => {
                m.remove(key);
            }
            Mutation::DeleteRange { start, end } => {
                let doomed: Vec<Vec<u8>> = m.range(start.clone()..end.clone()).map(|(k, _)| k.clone()).collect();
                for k in doomed {
                    m.remove(&k);
                }
            }
        }
    }
}

fn counter_of(state: &BTreeMap<Vec<u8>, Vec<u8>>) -> u32 {
    state.get(COUNTER).and_then(|v| v.as_slice().try_into().ok()).map(u32::from_be_bytes).unwrap_or(0)
}

/// The model state after the first `j` batches.
fn prefix_state(batches: &[WriteBatch], j: u32) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let mut m = BTreeMap::new();
    for b in batches.iter().take(j as usize) {
        apply_model(&mut m, b);
    }
    m
}

/// Randomized: batches (some synced), checkpoints, reopens, and one fault
/// per round (power loss in a random mode, a failed write or sync, a full
/// disk); after each, the reopened engine must hold exactly a prefix of the
/// batches that includes every acknowledged one.
#[test]
fn random_operations_and_faults_match_the_model() {
    let seeds: u64 = std::env::var("MIZZLE_DISK_MODEL_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(12);
    for seed in 0..seeds {
        let mut rng = Rng(seed.wrapping_mul(0x5851F42D4C957F2D) ^ 0xD15C);
        let fs = FaultyFs::new();
        let mut batches: Vec<WriteBatch> = Vec::new();
        let mut acked = 0u32;
        for round in 0..6 {
            let e = open(&fs).unwrap_or_else(|err| panic!("seed {seed} round {round}: reopen failed: {err}"));
            let got = contents(e.as_ref());
            let j = counter_of(&got);
            assert!(j >= acked, "seed {seed} round {round}: batch {acked} was acknowledged, only {j} survived");
            assert!(got == prefix_state(&batches, j), "seed {seed} round {round}: not the state after {j} batches");
            batches.truncate(j as usize);
            acked = j;
            // A fault at a random point of this round.
            let fault = rng.below(5);
            let fault_at = 5 + rng.below(60) as u32;
            for i in 0..80u32 {
                if i == fault_at {
                    match fault {
                        1 => fs.fail_write(rng.below(4), FaultKind::Io, true),
                        2 => fs.fail_sync(rng.below(3), FaultKind::Io, false),
                        3 => fs.set_capacity(Some(fs.used_bytes() + rng.below(200_000))),
                        _ => {}
                    }
                }
                if rng.below(25) == 0 {
                    let _ = e.checkpoint();
                }
                let n = batches.len() as u32 + 1;
                let b = random_batch(&mut rng, n);
                let sync = rng.below(4) == 0;
                let d = if sync { Durability::Sync } else { Durability::Relaxed };
                match e.write(b.clone(), d) {
                    Ok(t) => {
                        batches.push(b);
                        if sync && t.wait().is_ok() {
                            acked = n;
                        }
                    }
                    Err(_) => break,
                }
            }
            fs.crash(CrashMode::Random(rng.next()));
            drop(e);
            fs.clear_faults();
            fs.set_capacity(None);
        }
    }
}

#[test]
fn a_failed_sync_stops_writes_until_reopened() {
    let fs = FaultyFs::new();
    let e = open(&fs).expect("open");
    let mut b = WriteBatch::new();
    b.put(b"a".to_vec(), b"1".to_vec());
    e.write(b, Durability::Sync).expect("write").wait().expect("durable");
    // Sticky: the log's background threads (the spare segment, the
    // interval sync) may reach a sync first; every sync fails from here.
    fs.fail_sync(0, FaultKind::Io, true);
    let mut b = WriteBatch::new();
    b.put(b"b".to_vec(), b"2".to_vec());
    let t = e.write(b, Durability::Sync).expect("accepted");
    let err = t.wait().expect_err("the sync failed");
    assert!(err.to_string().contains("sync"), "{err}");
    let mut b = WriteBatch::new();
    b.put(b"c".to_vec(), b"3".to_vec());
    let refused = e.write(b, Durability::Sync).err().expect("writes refused after a failed sync");
    assert!(refused.to_string().contains("reopen"), "{refused}");
    drop(e);
    fs.clear_faults();
    let e = open(&fs).expect("reopen");
    let got = contents(e.as_ref());
    assert_eq!(got.get(b"a".as_slice()), Some(&b"1".to_vec()), "acknowledged write kept");
    assert!(!got.contains_key(b"c".as_slice()));
}

#[test]
fn a_full_disk_is_error_1021_and_a_reopen_recovers() {
    let fs = FaultyFs::new();
    let e = open(&fs).expect("open");
    fs.set_capacity(Some(fs.used_bytes() + (2 << 20)));
    let mut last_ok = 0u32;
    let mut err = None;
    for i in 0..100_000u32 {
        let mut b = WriteBatch::new();
        b.put(i.to_be_bytes().to_vec(), vec![7; 500]);
        match e.write(b, Durability::Sync).and_then(|t| t.wait()) {
            Ok(()) => last_ok = i,
            Err(x) => {
                err = Some(x);
                break;
            }
        }
    }
    let err = err.expect("the disk fills up");
    assert!(matches!(err, StorageError::DiskFull(_)), "{err:?}");
    assert_eq!(mizzle_plugin_api::mizzle_types::SqlError::code(&err).number(), 1021);
    drop(e);
    fs.set_capacity(None);
    let e = open(&fs).expect("reopen with space");
    let got = contents(e.as_ref());
    assert!((0..=last_ok).all(|i| got.contains_key(i.to_be_bytes().as_slice())), "every acknowledged write survives");
}

#[test]
fn opening_twice_is_error_1015() {
    let fs = FaultyFs::new();
    let _e = open(&fs).expect("open");
    let err = open(&fs).err().expect("second open refused");
    assert!(matches!(err, StorageError::Locked(_)), "{err:?}");
    assert_eq!(mizzle_plugin_api::mizzle_types::SqlError::code(&err).number(), 1015);
}

#[test]
fn a_read_only_directory_is_error_1004() {
    let fs = FaultyFs::new();
    fs.set_read_only(true);
    let err = open(&fs).err().expect("cannot create");
    assert!(matches!(err, StorageError::CantCreate(_)), "{err:?}");
}

fn damaged_open(damage: impl Fn(&FaultyFs, &Path)) -> StorageError {
    let fs = FaultyFs::new();
    {
        let e = open(&fs).expect("open");
        let mut b = WriteBatch::new();
        for i in 0u32..2000 {
            b.put(i.to_be_bytes().to_vec(), vec![1; 50]);
        }
        e.write(b, Durability::Sync).expect("write").wait().expect("durable");
        e.checkpoint().expect("checkpoint");
    }
    damage(&fs, &dir().join(DATA_FILE));
    match open(&fs) {
        Ok(_) => panic!("a damaged data file opened"),
        Err(e) => e,
    }
}

#[test]
fn empty_foreign_and_truncated_data_files_are_clear_errors() {
    let empty = damaged_open(|fs, p| fs.truncate(p, 0).expect("truncate"));
    assert!(empty.to_string().contains(DATA_FILE), "{empty}");
    let foreign = damaged_open(|fs, p| {
        fs.truncate(p, 0).expect("truncate");
        let mut other = b"SQLite format 3\0".to_vec();
        other.resize(64 << 10, 7);
        fs.poke(p, 0, &other).expect("poke");
    });
    assert_eq!(mizzle_plugin_api::mizzle_types::SqlError::code(&foreign).number(), 1033, "{foreign}");
    // One damaged meta slot is what the second slot is for: it opens.
    let fs = FaultyFs::new();
    {
        let e = open(&fs).expect("create");
        for i in 0u8..3 {
            let mut b = WriteBatch::new();
            b.put(vec![i], vec![i]);
            e.write(b, Durability::Sync).expect("write").wait().expect("durable");
            e.checkpoint().expect("checkpoint");
        }
    }
    fs.poke(&dir().join(DATA_FILE), 0, b"garbage").expect("poke");
    let e = open(&fs).expect("the other meta slot serves");
    assert_eq!(contents(e.as_ref()).len(), 3, "the log replays what the older meta lacks");
    assert!(foreign.to_string().contains(DATA_FILE), "{foreign}");
    let truncated = damaged_open(|fs, p| fs.truncate(p, 3 * 16384 + 100).expect("truncate"));
    assert!(truncated.to_string().contains(DATA_FILE), "{truncated}");
}

#[test]
fn bit_flips_are_detected_or_harmless() {
    // Flip one bit somewhere in every file, many times: either the engine
    // refuses with an error naming a file, or it opens with a prefix of
    // the batches (never other data, never a panic).
    for seed in 0..40u64 {
        let mut rng = Rng(seed ^ 0xF11B);
        let fs = FaultyFs::new();
        let mut batches = Vec::new();
        {
            let e = open(&fs).expect("open");
            for n in 1..=60u32 {
                let b = random_batch(&mut rng, n);
                e.write(b.clone(), Durability::Sync).expect("write").wait().expect("durable");
                batches.push(b);
                if n == 30 {
                    e.checkpoint().expect("checkpoint");
                }
            }
        }
        let files = fs.list_dir(&dir()).expect("list");
        let files: Vec<&String> = files.iter().filter(|f| f.ends_with(".mzd") || f.ends_with(".log")).collect();
        let f = files[rng.below(files.len() as u64) as usize];
        let path = dir().join(f);
        let len = fs.read_file(&path).expect("read").len() as u64;
        fs.flip_bit(&path, rng.below(len), rng.below(8) as u8).expect("flip");
        match open(&fs) {
            Err(e) => {
                let msg = e.to_string();
                assert!(msg.contains(".mzd") || msg.contains(".log"), "seed {seed}: error names no file: {msg}");
            }
            Ok(e) => match try_contents(e.as_ref()) {
                // Damage found when the page is read.
                Err(err) => {
                    let msg = err.to_string();
                    assert!(msg.contains(".mzd") || msg.contains(".log"), "seed {seed}: error names no file: {msg}");
                }
                Ok(got) => {
                    let j = counter_of(&got);
                    assert!(got == prefix_state(&batches, j), "seed {seed}: flipped {f} gave other data");
                }
            },
        }
    }
}

#[test]
fn a_database_many_times_the_cache_works() {
    let root = std::env::temp_dir().join(format!("mizzle-disk-big-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let o = DiskOptions { cache_bytes: 128 << 10, memtable_bytes: 512 << 10, ..DiskOptions::default() };
    let e = DiskEngine::open(&root, o.clone()).expect("open");
    let mut rng = Rng(3);
    let mut model = BTreeMap::new();
    for round in 0..40u32 {
        let mut b = WriteBatch::new();
        for _ in 0..500 {
            let k = format!("key{:08}", rng.below(200_000)).into_bytes();
            let v = vec![(round % 251) as u8; 100 + rng.below(300) as usize];
            model.insert(k.clone(), v.clone());
            b.put(k, v);
        }
        e.write(b, Durability::Relaxed).expect("write");
    }
    e.checkpoint().expect("checkpoint");
    drop(e);
    let e = DiskEngine::open(&root, o).expect("reopen");
    assert!(model.len() > 15_000);
    for (k, v) in model.iter().step_by(37) {
        assert_eq!(e.get(k).expect("get").as_ref(), Some(v));
    }
    assert_eq!(contents(&e), model);
    let _ = std::fs::remove_dir_all(&root);
}

/// Concurrent readers of a database many times the cache: almost every
/// read misses, evicts a page another thread may still hold, and reads
/// into a recycled buffer (`pager.rs`, `SPARE_PAGE`); every value read is
/// checked against the model.
#[test]
fn concurrent_reads_through_a_cache_that_evicts_on_every_miss() {
    let root = std::env::temp_dir().join(format!("mizzle-disk-evict-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let o = DiskOptions { cache_bytes: 128 << 10, memtable_bytes: 512 << 10, ..DiskOptions::default() };
    let mut model = BTreeMap::new();
    {
        let e = DiskEngine::open(&root, o.clone()).expect("open");
        let mut rng = Rng(11);
        for round in 0..30u32 {
            let mut b = WriteBatch::new();
            for _ in 0..500 {
                let k = format!("key{:08}", rng.below(100_000)).into_bytes();
                let v = format!("{round}:{}", "x".repeat(rng.below(400) as usize)).into_bytes();
                model.insert(k.clone(), v.clone());
                b.put(k, v);
            }
            e.write(b, Durability::Relaxed).expect("write");
        }
        e.checkpoint().expect("checkpoint");
    }
    let e: Arc<dyn StorageEngine> = Arc::new(DiskEngine::open(&root, o).expect("reopen"));
    let keys: Vec<&Vec<u8>> = model.keys().collect();
    std::thread::scope(|s| {
        for t in 0..4u64 {
            let (e, keys, model) = (e.clone(), &keys, &model);
            s.spawn(move || {
                let mut rng = Rng(500 + t);
                let mut out = KvBatch::new();
                for i in 0..3_000 {
                    let k = keys[rng.below(keys.len() as u64) as usize];
                    assert_eq!(e.get(k).expect("get").as_ref(), model.get(k), "thread {t} read {i}");
                    if i % 16 == 0 {
                        // A short scan from the key: the model's next pairs.
                        let from = KeyRange { start: Bound::Included(k.to_vec()), end: Bound::Unbounded };
                        e.scan_first(from, &mut out, 8).expect("scan_first");
                        let got: Vec<(Vec<u8>, Vec<u8>)> = out.iter().map(|(k, v)| (k.to_vec(), v.to_vec())).collect();
                        let want: Vec<(Vec<u8>, Vec<u8>)> =
                            model.range(k.clone()..).take(8).map(|(k, v)| (k.clone(), v.clone())).collect();
                        assert_eq!(got, want, "thread {t} scan {i}");
                    }
                }
            });
        }
    });
    let stat = |name: &str| e.stats().into_iter().find(|(n, _)| n == name).map_or(0, |(_, v)| v);
    let (misses, evictions) = (stat("page_cache_misses"), stat("page_cache_evictions"));
    eprintln!("{} keys; {misses} cache misses, {evictions} evictions", model.len());
    drop(e);
    let _ = std::fs::remove_dir_all(&root);
    assert!(misses > 1_000 && evictions > 1_000, "the reads missed the cache: {misses} misses, {evictions} evictions");
}

#[test]
fn the_data_file_stops_growing_under_steady_updates() {
    let fs = FaultyFs::new();
    let e = open(&fs).expect("open");
    let mut sizes = Vec::new();
    for round in 0..30u32 {
        let mut b = WriteBatch::new();
        for i in 0u32..2000 {
            b.put(i.to_be_bytes().to_vec(), vec![(round % 200) as u8; 120]);
        }
        e.write(b, Durability::Sync).expect("write").wait().expect("durable");
        e.checkpoint().expect("checkpoint");
        sizes.push(fs.read_file(&dir().join(DATA_FILE)).expect("size").len());
    }
    let at10 = sizes[9];
    let at30 = sizes[29];
    assert!(at30 <= at10 + at10 / 10, "data file grew from {at10} to {at30} bytes under steady updates: {sizes:?}");
}

#[test]
fn the_log_stays_bounded_under_steady_writes() {
    // 8 MB of writes through a 64 KiB memtable and 256 KiB segments: the
    // checkpoints retire segments as they go, so the log never holds more
    // than a few of them.
    let fs = FaultyFs::new();
    let e = open(&fs).expect("open");
    let mut most = 0;
    for round in 0..400u32 {
        let mut b = WriteBatch::new();
        for i in 0..20u32 {
            b.put([round.to_be_bytes(), i.to_be_bytes()].concat(), vec![7; 1000]);
        }
        // As the transaction layer does: admit (backpressure), then write.
        e.admit(b.size_bytes()).expect("admit");
        e.write(b, Durability::Sync).expect("write").wait().expect("durable");
        let stats: BTreeMap<String, u64> = e.stats().into_iter().collect();
        most = most.max(stats["log_segments"]);
    }
    assert!(most <= 4, "the log grew to {most} segments of 256 KiB under steady writes");
    assert_eq!(contents(e.as_ref()).len(), 8000);
}

/// Short reads (`scan_first` with a few pairs, the MVCC point read) take a
/// one-leaf path over the checkpointed tree; compared with a model over
/// many random ranges, including ranges that cross leaves and prefixes of
/// keys that span a leaf boundary.
#[test]
fn short_reads_agree_with_the_model_across_leaf_boundaries() {
    let fs = FaultyFs::new();
    let e = open(&fs).expect("open");
    let mut model = BTreeMap::new();
    let mut rng = Rng(77);
    let mut b = WriteBatch::new();
    // 3,000 user keys with 1–5 versions each: prefix `u:NNNN` + 8 bytes.
    for u in 0..3000u32 {
        for v in 0..1 + rng.below(5) {
            let mut k = format!("u:{u:05}").into_bytes();
            k.extend_from_slice(&(!v).to_be_bytes());
            let val = vec![(u % 250) as u8; 40 + rng.below(200) as usize];
            model.insert(k.clone(), val.clone());
            b.put(k, val);
        }
    }
    e.write(b, Durability::Sync).expect("write").wait().expect("durable");
    e.checkpoint().expect("checkpoint");
    let mut out = KvBatch::new();
    for _ in 0..3000 {
        let u = rng.below(3100);
        let (lo, hi): (Vec<u8>, Vec<u8>) = if rng.below(2) == 0 {
            // A key's versions: the prefix range.
            let p = format!("u:{u:05}").into_bytes();
            let mut end = p.clone();
            *end.last_mut().expect("non-empty") += 1;
            (p, end)
        } else {
            let span = rng.below(40);
            (format!("u:{u:05}").into_bytes(), format!("u:{:05}", u + span).into_bytes())
        };
        let max = 1 + rng.below(16) as usize;
        let range = KeyRange::half_open(lo.clone(), hi.clone());
        let more = e.scan_first(range, &mut out, max).expect("scan_first");
        let want: Vec<(Vec<u8>, Vec<u8>)> =
            model.range(lo.clone()..hi.clone()).map(|(k, v)| (k.clone(), v.clone())).collect();
        let got: Vec<(Vec<u8>, Vec<u8>)> = out.iter().map(|(k, v)| (k.to_vec(), v.to_vec())).collect();
        assert!(!got.is_empty() || want.is_empty(), "at least one pair when the range has any");
        assert_eq!(got.as_slice(), &want[..got.len()], "a prefix of the range, in order ({lo:?}..{hi:?}, max {max})");
        assert!(got.len() <= max);
        if !more {
            assert_eq!(got.len(), want.len(), "complete when it says so ({lo:?}..{hi:?}, max {max})");
        }
    }
}

/// Writers in several threads, each owning its keys, write new versions of
/// them (`user key | !seq`, as the MVCC layer lays them out), delete old
/// versions now and then (as its GC does), and read back at once through
/// every read path while a tiny memtable makes checkpoints freeze and
/// install views all the time: a read issued after a write returned must
/// see it (the newest version first in its key's range, `get` of it, the
/// whole range through a cursor), and a deleted version must be gone.
#[test]
fn reads_after_writes_see_them_while_checkpoints_run() {
    const THREADS: u64 = 4;
    const KEYS: u64 = 64;
    let rounds: u64 = std::env::var("MIZZLE_DISK_STRESS_ROUNDS").ok().and_then(|s| s.parse().ok()).unwrap_or(2000);
    let fs = FaultyFs::new();
    let e = open(&fs).expect("open");
    let user_key = |t: u64, k: u64| format!("t{t}:k{k:03}|").into_bytes();
    let version_key = |t: u64, k: u64, seq: u64| {
        let mut key = user_key(t, k);
        key.extend_from_slice(&(!seq).to_be_bytes());
        key
    };
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let e = e.clone();
            s.spawn(move || {
                let mut rng = Rng(1000 + t);
                // Per key: the sequence numbers of its live versions, oldest first.
                let mut live: Vec<Vec<u64>> = vec![Vec::new(); KEYS as usize];
                let mut out = KvBatch::new();
                for seq in 1..=rounds {
                    let k = rng.below(KEYS);
                    let value = format!("{t}/{k}/{seq}/{}", "v".repeat(rng.below(300) as usize)).into_bytes();
                    let mut b = WriteBatch::new();
                    b.put(version_key(t, k, seq), value.clone());
                    let versions = &mut live[k as usize];
                    versions.push(seq);
                    if versions.len() > 3 && rng.below(2) == 0 {
                        let old = versions.remove(0);
                        b.delete(version_key(t, k, old));
                    }
                    e.write(b, Durability::Relaxed).expect("write");
                    // The newest version comes first in the key's range.
                    let range = KeyRange::prefix(&user_key(t, k));
                    e.scan_first(range, &mut out, 1 + rng.below(16) as usize).expect("scan_first");
                    let first = out.iter().next().map(|(k, v)| (k.to_vec(), v.to_vec()));
                    assert_eq!(
                        first,
                        Some((version_key(t, k, seq), value.clone())),
                        "thread {t} key {k}: the version just written is not the newest read"
                    );
                    assert_eq!(
                        e.get(&version_key(t, k, seq)).expect("get"),
                        Some(value),
                        "thread {t} key {k} seq {seq}"
                    );
                    if rng.below(8) == 0 {
                        let mut c = e.scan(KeyRange::prefix(&user_key(t, k))).expect("scan");
                        let mut seen = Vec::new();
                        while c.next_batch(&mut out, 2).expect("next") {
                            for (key, _) in out.iter() {
                                let tail: [u8; 8] = key[key.len() - 8..].try_into().expect("8 bytes");
                                seen.push(!u64::from_be_bytes(tail));
                            }
                        }
                        let mut want = live[k as usize].clone();
                        want.reverse();
                        assert_eq!(seen, want, "thread {t} key {k}: the cursor's versions");
                        // And backwards: oldest first.
                        let mut c =
                            e.scan_rev(KeyRange::prefix(&user_key(t, k))).expect("scan_rev").expect("descending");
                        seen.clear();
                        while c.next_batch(&mut out, 3).expect("next") {
                            for (key, _) in out.iter() {
                                let tail: [u8; 8] = key[key.len() - 8..].try_into().expect("8 bytes");
                                seen.push(!u64::from_be_bytes(tail));
                            }
                        }
                        want.reverse();
                        assert_eq!(seen, want, "thread {t} key {k}: the descending cursor's versions");
                    }
                }
            });
        }
    });
    let checkpoints = e.stats().into_iter().find(|(n, _)| n == "checkpoints").map_or(0, |(_, v)| v);
    assert!(checkpoints >= 5, "the memtable is small enough for checkpoints to run ({checkpoints})");
}

/// Keys with many long versions each (as a row updated often, before GC
/// catches up) make a three-level tree whose leaf boundaries fall inside
/// one key's versions. Reading a key's versions a few pairs at a time, each
/// read resuming after the last pair, must return all of them: a short read
/// may stop at a leaf's end only when the leaf's own right fence (not one
/// from a higher level) lies beyond the range.
#[test]
fn short_reads_of_versions_spanning_leaves_in_a_deep_tree_are_complete() {
    let fs = FaultyFs::new();
    let e = open(&fs).expect("open");
    let mut model = BTreeMap::new();
    let mut rng = Rng(91);
    let pad = "p".repeat(200);
    let user = |u: u64| format!("u:{u:05}|{pad}").into_bytes();
    for u in 0..60u64 {
        let mut b = WriteBatch::new();
        for v in 0..1 + rng.below(200) {
            let mut k = user(u);
            k.extend_from_slice(&(!v).to_be_bytes());
            let val = vec![(u % 250) as u8; 100 + rng.below(400) as usize];
            model.insert(k.clone(), val.clone());
            b.put(k, val);
        }
        e.write(b, Durability::Relaxed).expect("write");
    }
    e.checkpoint().expect("checkpoint");
    let mut out = KvBatch::new();
    for u in 0..61u64 {
        for max in [1usize, 2, 5, 16] {
            let (lo, hi) = (user(u), user(u + 1));
            let mut range = KeyRange::half_open(lo.clone(), hi.clone());
            let mut got: Vec<Vec<u8>> = Vec::new();
            loop {
                let more = e.scan_first(range.clone(), &mut out, max).expect("scan_first");
                got.extend(out.iter().map(|(k, _)| k.to_vec()));
                match got.last() {
                    Some(last) if more => range.start = std::ops::Bound::Excluded(last.clone()),
                    _ => break,
                }
            }
            let want: Vec<Vec<u8>> = model.range(lo..hi).map(|(k, _)| k.clone()).collect();
            assert_eq!(got.len(), want.len(), "user key {u}, {max} pairs a read");
            assert_eq!(got, want, "user key {u}, {max} pairs a read");
        }
    }
}

/// Cursors both ways against a model: random puts and deletes, random
/// checkpoints (so pairs live in the active memtable, a frozen one while a
/// background checkpoint runs, and a tree of several levels), and random
/// ranges read from the top down, then from the bottom up, in random
/// batch sizes.
#[test]
fn descending_and_ascending_scans_match_the_model() {
    let fs = FaultyFs::new();
    let e = open(&fs).expect("open");
    let mut model: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    let mut rng = Rng(4242);
    // Runs of 100 keys share 200-byte heads, so separators are long and
    // the tree grows three levels.
    let key = |n: u64| format!("{:03}|{}|{:06}", n / 100, "x".repeat(200), n).into_bytes();
    let mut out = KvBatch::new();
    for step in 0..60 {
        let mut b = WriteBatch::new();
        for _ in 0..400 {
            let n = rng.below(20_000);
            if rng.below(4) == 0 {
                model.remove(&key(n));
                b.delete(key(n));
            } else {
                let v = vec![(n % 251) as u8; 50 + rng.below(300) as usize];
                model.insert(key(n), v.clone());
                b.put(key(n), v);
            }
        }
        e.write(b, Durability::Relaxed).expect("write");
        if rng.below(5) == 0 {
            e.checkpoint().expect("checkpoint");
        }
        for _ in 0..10 {
            let (a, z) = (rng.below(21_000), rng.below(21_000));
            let (a, z) = (a.min(z), a.max(z));
            let lo = if rng.below(5) == 0 {
                Bound::Unbounded
            } else if rng.below(2) == 0 {
                Bound::Included(key(a))
            } else {
                Bound::Excluded(key(a))
            };
            let hi = if rng.below(5) == 0 {
                Bound::Unbounded
            } else if rng.below(2) == 0 {
                Bound::Included(key(z))
            } else {
                Bound::Excluded(key(z))
            };
            let inside = |k: &Vec<u8>| {
                let above = match &lo {
                    Bound::Included(b) => k >= b,
                    Bound::Excluded(b) => k > b,
                    Bound::Unbounded => true,
                };
                let below = match &hi {
                    Bound::Included(b) => k <= b,
                    Bound::Excluded(b) => k < b,
                    Bound::Unbounded => true,
                };
                above && below
            };
            // Descending, then the same range ascending (the merge of
            // memtables and tree, its run of tree pairs before the next
            // memtable key included), each in its own batch size.
            for desc in [true, false] {
                let range = KeyRange { start: lo.clone(), end: hi.clone() };
                let mut c = if desc {
                    e.scan_rev(range).expect("scan_rev").expect("the disk engine reads backwards")
                } else {
                    e.scan(range).expect("scan")
                };
                let mut got: Vec<Vec<u8>> = Vec::new();
                let n = 1 + rng.below(300) as usize;
                while c.next_batch(&mut out, n).expect("next") {
                    assert!(!out.is_empty() && out.len() <= n, "a batch holds 1..={n} pairs");
                    for (k, v) in out.iter() {
                        assert_eq!(model.get(k).map(|m| m.as_slice()), Some(v), "step {step}: value of {k:?}");
                        got.push(k.to_vec());
                    }
                }
                let mut want: Vec<Vec<u8>> = model.keys().filter(|k| inside(k)).cloned().collect();
                if desc {
                    want.reverse();
                }
                assert_eq!(got.len(), want.len(), "step {step}: pairs read (descending: {desc}, {n} a batch)");
                assert_eq!(got, want, "step {step}: order (descending: {desc}, {n} a batch)");
            }
        }
    }
}
