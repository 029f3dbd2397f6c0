//! Profiling helper: the disk engine's synced single-key writes per second
//! (each waits for its own fdatasync), beside the raw rate of 200-byte
//! `pwrite` + `fdatasync` on a preallocated (zero-filled) file, the way the
//! log writes a commit. The difference is the engine's own cost per commit
//! (the hand-off to the log writer thread and back).
//! Usage: `cargo run --release -p storage-disk --example synclat`.

use std::os::unix::fs::FileExt;
use std::sync::Arc;
use std::time::Instant;

use mizzle_plugin_api::storage::{Durability, StorageEngine, WriteBatch};
use storage_disk::engine::{DiskEngine, DiskOptions};

fn main() {
    let dir = std::env::temp_dir().join("synclat");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let n = 3000;
    for round in 0..2 {
        // Raw: overwrite a zero-filled, synced file in 200-byte steps.
        let raw = dir.join("raw");
        let f = std::fs::OpenOptions::new().create(true).truncate(true).read(true).write(true).open(&raw).expect("raw");
        f.write_all_at(&vec![0u8; 4 << 20], 0).expect("zeros");
        f.sync_all().expect("sync");
        let t = Instant::now();
        for i in 0..n {
            f.write_all_at(&[7u8; 200], i * 200).expect("write");
            f.sync_data().expect("sync");
        }
        let raw_us = t.elapsed().as_secs_f64() * 1e6 / n as f64;
        let db = dir.join(format!("db{round}"));
        let e: Arc<dyn StorageEngine> = Arc::new(DiskEngine::open(&db, DiskOptions::default()).expect("open"));
        let t = Instant::now();
        for i in 0..n {
            let mut b = WriteBatch::new();
            b.put(format!("k{i}").into_bytes(), vec![1; 100]);
            e.write(b, Durability::Sync).expect("write").wait().expect("durable");
        }
        let eng_us = t.elapsed().as_secs_f64() * 1e6 / n as f64;
        println!(
            "raw pwrite+fdatasync {raw_us:.0} us, engine synced write {eng_us:.0} us (+{:.0} us)",
            eng_us - raw_us
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
