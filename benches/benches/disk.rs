//! Criterion benchmarks of the disk engine's own paths, below SQL:
//!
//! - `cache_hit_get`: a point read of a key whose pages are all in the
//!   page cache (the memtable is empty after a checkpoint): the cost of the
//!   cache-hit path (view load, memtable miss, tree descent).
//! - `cache_miss_get`: the same reads on a tree eight times the page
//!   cache, so most leaves come from the file (`pread` + checksum): the
//!   cost of a database larger than memory.
//! - `log_append`: appending a 200-byte record to the log's buffer (no
//!   I/O; the writer thread writes it, sync mode `off`).
//! - `memtable_write`: a relaxed one-key write batch through the engine
//!   (log append + memtable insert).
//!
//! Invariants:
//! 1. Data is built once per benchmark outside the timed loop, in a
//!    temporary directory removed at the end.
//! 2. Keys are read in a seeded random order.

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mizzle_bench::rng::SplitMix64;
use mizzle_plugin_api::storage::{Durability, StorageEngine, SyncMode, WriteBatch};
use storage_disk::engine::{DiskEngine, DiskOptions};
use storage_disk::ids::Lsn;
use storage_disk::vfs::StdFs;
use storage_disk::wal::{Wal, WalOptions};

const KEYS: u64 = 200_000;
const VALUE: usize = 200;

struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let p = std::env::temp_dir().join(format!("mizzle-bench-disk-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        Scratch(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn key(i: u64) -> [u8; 8] {
    i.to_be_bytes()
}

/// An engine holding `KEYS` keys of `VALUE` bytes, checkpointed.
fn loaded(dir: &std::path::Path, cache_bytes: u64) -> DiskEngine {
    let opts = DiskOptions { sync: SyncMode::Off, cache_bytes, ..DiskOptions::default() };
    let e = DiskEngine::open(dir, opts).expect("open");
    let mut b = WriteBatch::new();
    for i in 0..KEYS {
        b.put(key(i).to_vec(), vec![(i % 251) as u8; VALUE]);
        if b.size_bytes() > 1 << 20 {
            e.write(std::mem::take(&mut b), Durability::Relaxed).expect("write");
        }
    }
    e.write(b, Durability::Relaxed).expect("write");
    e.checkpoint().expect("checkpoint");
    e
}

fn reads(c: &mut Criterion) {
    let data_bytes = KEYS * (VALUE as u64 + 8);
    for (name, cache) in [("cache_hit_get", data_bytes * 2), ("cache_miss_get", data_bytes / 8)] {
        let dir = Scratch::new(name);
        let e = loaded(&dir.0, cache);
        let mut rng = SplitMix64::new(9);
        // Warm the cache (fully, for the hit case).
        for i in 0..KEYS {
            black_box(e.get(&key(i)).expect("get"));
        }
        let mut g = c.benchmark_group("disk");
        g.throughput(Throughput::Elements(1));
        g.measurement_time(Duration::from_secs(3));
        g.bench_function(name, |b| {
            b.iter(|| {
                let k = key(rng.range(0, KEYS - 1));
                black_box(e.get(&k).expect("get"))
            })
        });
        g.finish();
    }
}

fn writes(c: &mut Criterion) {
    let dir = Scratch::new("wal");
    std::fs::create_dir_all(&dir.0).expect("dir");
    let opts = WalOptions { sync: SyncMode::Off, ..WalOptions::default() };
    let wal = Wal::open(Arc::new(StdFs), &dir.0, Lsn(0), opts, &mut |_, _| Ok(())).expect("wal");
    let record = vec![5u8; 200];
    let mut g = c.benchmark_group("disk");
    g.throughput(Throughput::Elements(1));
    g.measurement_time(Duration::from_secs(3));
    g.bench_function("log_append", |b| {
        b.iter(|| {
            wal.wait_for_room().expect("room");
            black_box(wal.append(&record).expect("append"))
        })
    });
    drop(wal);
    let dir2 = Scratch::new("memtable");
    let e = DiskEngine::open(&dir2.0, DiskOptions { sync: SyncMode::Off, ..DiskOptions::default() }).expect("open");
    let mut i = 0u64;
    g.bench_function("memtable_write", |b| {
        b.iter(|| {
            i += 1;
            e.admit(VALUE + 8).expect("admit");
            let mut batch = WriteBatch::new();
            batch.put(key(i).to_vec(), vec![1; VALUE]);
            black_box(e.write(batch, Durability::Relaxed).expect("write"))
        })
    });
    g.finish();
}

criterion_group!(benches, reads, writes);
criterion_main!(benches);
