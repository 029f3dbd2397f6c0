//! Profiling helper: point reads (`get`) of a checkpointed tree of 200,000
//! keys whose pages are all cached, with the page-cache counters.
//! Usage: `cargo run --release -p storage-disk --example getlat`.

use std::time::Instant;

use mizzle_plugin_api::storage::{Durability, StorageEngine, SyncMode, WriteBatch};
use storage_disk::engine::{DiskEngine, DiskOptions};

fn main() {
    let dir = std::env::temp_dir().join("getlat");
    let _ = std::fs::remove_dir_all(&dir);
    let keys = 200_000u64;
    let opts = DiskOptions { sync: SyncMode::Off, cache_bytes: 128 << 20, ..DiskOptions::default() };
    let e = DiskEngine::open(&dir, opts).expect("open");
    let mut b = WriteBatch::new();
    for i in 0..keys {
        b.put(i.to_be_bytes().to_vec(), vec![(i % 251) as u8; 200]);
        if b.size_bytes() > 1 << 20 {
            e.admit(b.size_bytes()).expect("admit");
            e.write(std::mem::take(&mut b), Durability::Relaxed).expect("write");
        }
    }
    e.write(b, Durability::Relaxed).expect("write");
    e.checkpoint().expect("checkpoint");
    for i in 0..keys {
        std::hint::black_box(e.get(&i.to_be_bytes()).expect("get"));
    }
    let before: Vec<(String, u64)> = e.stats();
    let n = 1_000_000u64;
    let mut x: u64 = 7;
    let t = Instant::now();
    for _ in 0..n {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        std::hint::black_box(e.get(&((x >> 33) % keys).to_be_bytes()).expect("get"));
    }
    let ns = t.elapsed().as_nanos() as f64 / n as f64;
    let after = e.stats();
    println!("get: {ns:.0} ns");
    for ((k, a), (_, b)) in after.iter().zip(before.iter()) {
        if k.starts_with("page") {
            println!("  {k}: +{}", a - b);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
