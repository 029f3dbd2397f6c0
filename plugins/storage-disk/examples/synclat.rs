use mizzle_plugin_api::storage::{Durability, StorageEngine, WriteBatch};
use std::sync::Arc;
use storage_disk::engine::{DiskEngine, DiskOptions};
fn main() {
    let dir = std::env::temp_dir().join("synclat");
    let _ = std::fs::remove_dir_all(&dir);
    let e: Arc<dyn StorageEngine> = Arc::new(DiskEngine::open(&dir, DiskOptions::default()).unwrap());
    let t = std::time::Instant::now();
    let n = 3000;
    for i in 0..n {
        let mut b = WriteBatch::new();
        b.put(format!("k{i}").into_bytes(), vec![1; 100]);
        e.write(b, Durability::Sync).unwrap().wait().unwrap();
    }
    let dt = t.elapsed().as_secs_f64();
    println!("{:.0} sync writes/s ({:.0} us each)", n as f64 / dt, dt * 1e6 / n as f64);
    for (k, v) in e.stats() {
        if k.contains("sync") || k.contains("blocks") {
            println!("{k}={v}");
        }
    }
}
