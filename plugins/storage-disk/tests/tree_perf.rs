//! Speed figures of the tree (ignored by default; run with
//! `cargo test --release -p storage-disk --test tree_perf -- --ignored --nocapture`).
//! They print measurements and assert only correctness.

#[path = "tree_model.rs"]
mod model;

use std::ops::Bound;
use std::sync::Arc;
use std::time::Instant;

use mizzle_plugin_api::storage::KvBatch;
use model::{faulty, fs_path, Rng};
use storage_disk::btree;
use storage_disk::ids::Lsn;
use storage_disk::page::PAGE_SIZE;
use storage_disk::pager::Pager;
use storage_disk::vfs::{StdFs, Vfs};

fn key(i: u64) -> Vec<u8> {
    format!("t\x00\x01row/{i:010}").into_bytes()
}

#[test]
#[ignore]
fn speed_figures() {
    let n = 1_000_000u64;
    let dir = std::env::temp_dir().join(format!("mizzle-tree-perf-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("data.mzd");
    let vfs: Arc<dyn Vfs> = Arc::new(StdFs);
    let pager = Pager::create(vfs.clone(), &path, 256 << 20).expect("create");
    let mut rng = Rng::new(1);
    let values: Vec<Vec<u8>> = (0..1000).map(|_| rng.bytes(60)).collect();

    // Bulk load.
    let t = Instant::now();
    let mut ck = pager.begin_checkpoint().expect("begin");
    let tree =
        btree::merge(&mut ck, (0..n).map(|i| (key(i), Some(values[(i % 1000) as usize].as_slice())))).expect("merge");
    ck.commit(tree, Lsn(1)).expect("commit");
    let dt = t.elapsed();
    let mb = (n * (key(0).len() as u64 + 60)) as f64 / 1e6;
    println!(
        "bulk load {n} pairs ({mb:.0} MB): {:.2} s, {:.0} pairs/s, {:.0} MB/s",
        dt.as_secs_f64(),
        n as f64 / dt.as_secs_f64(),
        mb / dt.as_secs_f64()
    );
    let r = btree::verify(&pager.current()).expect("verify");
    println!("  height {}, {} leaves, fill {:.3}, file {} pages", r.height, r.leaf_pages, r.leaf_fill(), r.page_count);

    // Point lookups on a cached tree, one thread.
    let v = pager.current();
    for i in (0..n).step_by(50) {
        v.get(&key(i)).expect("warm");
    }
    let lookups = 2_000_000u64;
    let keys: Vec<Vec<u8>> = (0..4096).map(|_| key(rng.below(n))).collect();
    let t = Instant::now();
    let mut found = 0u64;
    for i in 0..lookups {
        let k = &keys[(i % 4096) as usize];
        if v.get_with(k, |val| val.len()).expect("get").is_some() {
            found += 1;
        }
    }
    let dt = t.elapsed();
    assert_eq!(found, lookups);
    println!("cached point lookups (get_with, 1 thread): {:.0}/s", lookups as f64 / dt.as_secs_f64());

    // Two threads.
    let t = Instant::now();
    let handles: Vec<_> = (0..2)
        .map(|th| {
            let v = v.clone();
            let keys = keys.clone();
            std::thread::spawn(move || {
                for i in 0..lookups / 2 {
                    let k = &keys[((i * 7 + th) % 4096) as usize];
                    assert!(v.get_with(k, |val| val.len()).expect("get").is_some());
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("thread");
    }
    println!("cached point lookups (get_with, 2 threads): {:.0}/s", lookups as f64 / t.elapsed().as_secs_f64());

    // Full scan.
    let t = Instant::now();
    let mut it = v.range(Bound::Unbounded, Bound::Unbounded).expect("range");
    let mut batch = KvBatch::new();
    let mut count = 0u64;
    while it.fill(&mut batch, 256).expect("fill") {
        count += batch.len() as u64;
    }
    assert_eq!(count, n);
    println!("full scan into KvBatch: {:.0} pairs/s", n as f64 / t.elapsed().as_secs_f64());
    drop(it);
    drop(v);

    // Random updates, 1% of the keys per checkpoint.
    let t = Instant::now();
    let rounds = 10;
    let mut pages = 0;
    for r in 0..rounds {
        let mut c: Vec<(Vec<u8>, Option<Vec<u8>>)> =
            (0..n / 100).map(|_| (key(rng.below(n)), Some(rng.bytes(60)))).collect();
        c.sort();
        c.dedup_by(|a, b| a.0 == b.0);
        let before = pager.stats().pages_written;
        let mut ck = pager.begin_checkpoint().expect("begin");
        let tree = btree::merge(&mut ck, c.iter().map(|(k, v)| (k.as_slice(), v.as_deref()))).expect("merge");
        ck.commit(tree, Lsn(2 + r)).expect("commit");
        pages += pager.stats().pages_written - before;
    }
    let dt = t.elapsed();
    println!(
        "checkpoints of {} random updates: {:.1} ms each, {} pages written each",
        n / 100,
        dt.as_secs_f64() * 1000.0 / rounds as f64,
        pages / rounds
    );
    let r = btree::verify(&pager.current()).expect("verify");
    println!("  after updates: fill {:.3}, file {} pages ({} free)", r.leaf_fill(), r.page_count, r.free_pages);
    println!("stats: {:?}", pager.stats());
    drop(pager);
    let _ = std::fs::remove_dir_all(&dir);

    // A tree small enough for the CPU caches (about 2 MB of pages).
    let (_fs, vfs) = faulty();
    let pager = Pager::create(vfs, &fs_path(), 64 << 20).expect("create");
    let mut ck = pager.begin_checkpoint().expect("begin");
    let small = 30_000u64;
    let tree = btree::merge(&mut ck, (0..small).map(|i| (key(i), Some(values[(i % 1000) as usize].as_slice()))))
        .expect("merge");
    ck.commit(tree, Lsn(1)).expect("commit");
    let v = pager.current();
    let keys: Vec<Vec<u8>> = (0..4096).map(|_| key(rng.below(small))).collect();
    let t = Instant::now();
    for i in 0..lookups {
        assert!(v.get_with(&keys[(i % 4096) as usize], |val| val.len()).expect("get").is_some());
    }
    println!(
        "cached point lookups, {small}-key tree of height {} (get_with, 1 thread): {:.0}/s",
        v.meta().height,
        lookups as f64 / t.elapsed().as_secs_f64()
    );
    drop(v);
    drop(pager);

    // Cold reads on FaultyFs with a tiny cache.
    let (_fs, vfs) = faulty();
    let pager = Pager::create(vfs, &fs_path(), 64 * PAGE_SIZE as u64).expect("create");
    let mut ck = pager.begin_checkpoint().expect("begin");
    let tree = btree::merge(&mut ck, (0..200_000u64).map(|i| (key(i), Some(values[(i % 1000) as usize].as_slice()))))
        .expect("merge");
    ck.commit(tree, Lsn(1)).expect("commit");
    let v = pager.current();
    let t = Instant::now();
    for i in 0..200_000u64 {
        assert!(v.get(&key(rng.below(200_000))).expect("get").is_some(), "lookup {i}");
    }
    println!(
        "lookups with a 64-page cache over {} pages: {:.0}/s",
        pager.stats().page_count,
        200_000.0 / t.elapsed().as_secs_f64()
    );
}
