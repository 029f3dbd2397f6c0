//! The pager: opening good and bad files, the cache, tree versions that
//! readers pin across checkpoints (D2), and refusing checkpoints after a
//! failed write.

#[path = "tree_model.rs"]
mod model;

use std::ops::Bound;
use std::path::PathBuf;
use std::sync::Arc;

use mizzle_plugin_api::storage::{KvBatch, StorageError};
use model::{apply, assert_matches, checkpoint, faulty, fs_path, reopen, scan, Changes, Model, Rng};
use storage_disk::btree;
use storage_disk::ids::Lsn;
use storage_disk::page::{self, PAGE_SIZE};
use storage_disk::pager::Pager;
use storage_disk::vfs::faulty::{FaultKind, FaultyFs};
use storage_disk::vfs::{OpenMode, StdFs, Vfs};

fn load(pager: &Pager, n: u64, seed: u64) -> Model {
    let mut rng = Rng::new(seed);
    let c: Changes = (0..n).map(|i| (format!("k{i:07}").into_bytes(), Some(rng.bytes_len(10, 80)))).collect();
    checkpoint(pager, &c, 1).expect("load");
    let mut m = Model::new();
    apply(&mut m, &c);
    m
}

fn open_err(fs: &FaultyFs) -> StorageError {
    Pager::open(Arc::new(fs.clone()), &fs_path(), 1 << 20).expect_err("open must fail")
}

#[test]
fn create_then_open_an_empty_database() {
    let (_fs, vfs) = faulty();
    let p = Pager::create(vfs.clone(), &fs_path(), 1 << 20).expect("create");
    assert_eq!(p.current().generation().0, 0);
    drop(p);
    assert!(Pager::create(vfs.clone(), &fs_path(), 1 << 20).is_err(), "create fails if the file exists");
    let p = reopen(&vfs, &fs_path(), 1 << 20);
    let v = p.current();
    assert_eq!(v.meta().page_count, 2);
    assert_eq!(v.get(b"x").expect("get"), None);
    assert_eq!(scan(&v), vec![]);
    assert!(Pager::open(vfs, &PathBuf::from("/db/missing.mzd"), 1 << 20).is_err());
}

#[test]
fn an_empty_file_is_reported_as_such() {
    let (fs, vfs) = faulty();
    vfs.open(&fs_path(), OpenMode::CreateNew).expect("create");
    match open_err(&fs) {
        StorageError::Corrupt(m) => assert!(m.contains("data.mzd") && m.contains("empty"), "{m}"),
        e => panic!("{e:?}"),
    }
}

#[test]
fn a_foreign_file_is_refused() {
    let (fs, vfs) = faulty();
    let f = vfs.open(&fs_path(), OpenMode::CreateNew).expect("create");
    f.write_all_at(&Rng::new(1).bytes(3 * PAGE_SIZE), 0).expect("write");
    match open_err(&fs) {
        StorageError::Foreign(m) => assert!(m.contains("not a mizzle data file"), "{m}"),
        e => panic!("{e:?}"),
    }
    // Short foreign files too.
    fs.truncate(&fs_path(), 100).expect("truncate");
    assert!(matches!(open_err(&fs), StorageError::Foreign(_)));
}

#[test]
fn a_newer_format_version_is_refused() {
    let (fs, vfs) = faulty();
    drop(Pager::create(vfs, &fs_path(), 1 << 20).expect("create"));
    let mut meta = fs.read_file(&fs_path()).expect("read")[..PAGE_SIZE].to_vec();
    meta[8..12].copy_from_slice(&3u32.to_le_bytes());
    page::seal(&mut meta).expect("seal");
    fs.poke(&fs_path(), 0, &meta).expect("poke");
    match open_err(&fs) {
        StorageError::Foreign(m) => assert!(m.contains("format version 3 is newer than this build reads (1)"), "{m}"),
        e => panic!("{e:?}"),
    }
}

#[test]
fn truncated_files_are_reported() {
    let (fs, vfs) = faulty();
    let p = Pager::create(vfs, &fs_path(), 1 << 20).expect("create");
    load(&p, 5000, 1);
    drop(p);
    let len = fs.read_file(&fs_path()).expect("read").len() as u64;
    // Cut inside the tree: the meta counts more pages than the file has.
    fs.truncate(&fs_path(), len - PAGE_SIZE as u64).expect("truncate");
    match open_err(&fs) {
        StorageError::Corrupt(m) => assert!(m.contains("truncated") && m.contains("data.mzd"), "{m}"),
        e => panic!("{e:?}"),
    }
    // Cut inside the meta pages.
    fs.truncate(&fs_path(), PAGE_SIZE as u64 + 700).expect("truncate");
    match open_err(&fs) {
        StorageError::Corrupt(m) => assert!(m.contains("truncated"), "{m}"),
        e => panic!("{e:?}"),
    }
}

#[test]
fn one_damaged_meta_falls_back_and_two_are_corruption() {
    let (fs, vfs) = faulty();
    let p = Pager::create(vfs.clone(), &fs_path(), 1 << 20).expect("create");
    let m1 = load(&p, 3000, 2);
    let mut c = Changes::new();
    c.insert(b"k0000001".to_vec(), None);
    c.insert(b"new".to_vec(), Some(b"value".to_vec()));
    checkpoint(&p, &c, 2).expect("second");
    drop(p);
    // Generation 2 lives in page 0; damage it: generation 1 opens.
    fs.flip_bit(&fs_path(), 77, 3).expect("flip");
    let p = reopen(&vfs, &fs_path(), 1 << 20);
    assert_eq!(p.current().generation().0, 1);
    assert_matches(&p.current(), &m1, &mut Rng::new(3));
    drop(p);
    fs.flip_bit(&fs_path(), PAGE_SIZE as u64 + 5000, 0).expect("flip");
    match open_err(&fs) {
        StorageError::Corrupt(m) => {
            assert!(m.contains("no valid meta page") && m.contains("checksum mismatch"), "{m}")
        }
        e => panic!("{e:?}"),
    }
}

#[test]
fn a_damaged_tree_page_is_reported_with_its_number() {
    let (fs, vfs) = faulty();
    let p = Pager::create(vfs.clone(), &fs_path(), 1 << 20).expect("create");
    load(&p, 3000, 4);
    let root = p.current().meta().root;
    drop(p);
    fs.flip_bit(&fs_path(), root.0 * PAGE_SIZE as u64 + 900, 1).expect("flip");
    let p = reopen(&vfs, &fs_path(), 1 << 20);
    let want = format!("data file '/db/data.mzd' page {}: checksum mismatch", root.0);
    assert_eq!(p.current().get(b"k0000005"), Err(StorageError::Corrupt(want.clone())));
    assert_eq!(btree::verify(&p.current()).map(|_| ()), Err(StorageError::Corrupt(want)));
    // A checkpoint that must read the page fails too, and commits nothing.
    let mut c = Changes::new();
    c.insert(b"k0000005".to_vec(), Some(b"x".to_vec()));
    assert!(matches!(checkpoint(&p, &c, 2), Err(StorageError::Corrupt(_))));
    assert_eq!(p.current().generation().0, 1);
}

#[test]
fn the_cache_serves_repeated_reads() {
    let (_fs, vfs) = faulty();
    let p = Pager::create(vfs.clone(), &fs_path(), 1 << 22).expect("create");
    load(&p, 20_000, 5);
    drop(p);
    let p = reopen(&vfs, &fs_path(), 1 << 22);
    let v = p.current();
    for _ in 0..3 {
        for i in (0..20_000).step_by(97) {
            assert!(v.get(format!("k{i:07}").as_bytes()).expect("get").is_some());
        }
    }
    let st = p.stats();
    assert!(st.cache.hits > 2 * st.cache.misses, "{st:?}");
    assert_eq!(st.cache.misses, st.page_loads);
    assert_eq!(st.cache.evictions, 0);
}

#[test]
fn a_reader_keeps_its_version_while_newer_checkpoints_commit() {
    let (_fs, vfs) = faulty();
    let p = Pager::create(vfs, &fs_path(), 1 << 20).expect("create");
    let mut rng = Rng::new(6);
    let mut model = load(&p, 4000, 6);
    let old = p.current();
    let old_model = model.clone();
    let mut it = old.range(Bound::Included(b"k0001000"), Bound::Unbounded).expect("range");
    // Rewrite every key several times, half the keys per checkpoint, so
    // pages of the old tree are retired by different generations.
    for round in 0..8u64 {
        let c: Changes = model
            .keys()
            .filter(|k| k.last().copied().unwrap_or(0) % 2 == (round % 2) as u8)
            .map(|k| (k.clone(), Some(vec![round as u8; 50])))
            .collect();
        checkpoint(&p, &c, round + 2).expect("checkpoint");
        apply(&mut model, &c);
        // The old version still reads its own data, from pages that were
        // not reused.
        assert_eq!(old.get(b"k0000004").expect("get").as_ref(), old_model.get(b"k0000004".as_slice()));
        let (k, v) = it.next_pair().expect("next").expect("pair");
        assert_eq!(old_model.get(k).map(Vec::as_slice), Some(v));
        assert!(p.stats().pending_pages > 0);
    }
    assert_matches(&old, &old_model, &mut rng);
    assert_matches(&p.current(), &model, &mut rng);
    drop(it);
    drop(old);
    let st = p.stats();
    assert_eq!(st.pending_pages, 0, "dropping the last old reader releases its pages");
    assert!(st.allocatable_pages > 0);
    // The released pages are reused: the next checkpoints do not grow the file.
    let before = st.page_count;
    for round in 0..3u64 {
        let c: Changes = model.keys().map(|k| (k.clone(), Some(vec![round as u8; 50]))).collect();
        checkpoint(&p, &c, 20 + round).expect("checkpoint");
        apply(&mut model, &c);
    }
    assert!(p.stats().page_count <= before, "{} > {before}", p.stats().page_count);
    assert_matches(&p.current(), &model, &mut rng);
}

#[test]
fn readers_in_other_threads_see_whole_versions_during_checkpoints() {
    let (_fs, vfs) = faulty();
    let p = Arc::new(Pager::create(vfs, &fs_path(), 64 * PAGE_SIZE as u64).expect("create"));
    load(&p, 3000, 7);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut readers = Vec::new();
    for t in 0..2u64 {
        let p = p.clone();
        let stop = stop.clone();
        readers.push(std::thread::spawn(move || {
            let mut checks = 0u64;
            let mut batch = KvBatch::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) || checks == 0 {
                // Every value of generation g is [g; 40] (or the initial
                // load's, of generation 1): a version is read whole or not.
                let v = p.current();
                let g = v.generation().0;
                let mut it = v.range(Bound::Unbounded, Bound::Unbounded).expect("range");
                let mut n = 0u64;
                while it.fill(&mut batch, 100 + t as usize).expect("fill") {
                    for (k, val) in batch.iter() {
                        assert!(k.starts_with(b"k"));
                        if g > 1 {
                            assert_eq!(val, &[g as u8; 40][..], "generation {g}");
                        }
                        n += 1;
                    }
                }
                assert_eq!(n, v.entries());
                checks += 1;
            }
            checks
        }));
    }
    for g in 2..40u64 {
        let c: Changes = (0..3000u64).map(|i| (format!("k{i:07}").into_bytes(), Some(vec![g as u8; 40]))).collect();
        checkpoint(&p, &c, g).expect("checkpoint");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for r in readers {
        assert!(r.join().expect("reader") > 0);
    }
    btree::verify(&p.current()).expect("verify");
}

#[test]
fn a_failed_write_stops_checkpoints_until_reopen() {
    let (fs, vfs) = faulty();
    let p = Pager::create(vfs.clone(), &fs_path(), 1 << 20).expect("create");
    let model = load(&p, 2000, 8);
    fs.fail_write(3, FaultKind::NoSpace, false);
    let mut c = Changes::new();
    for i in 0..2000u64 {
        c.insert(format!("k{i:07}").into_bytes(), Some(vec![1; 100]));
    }
    match checkpoint(&p, &c, 2) {
        Err(StorageError::DiskFull(m)) => {
            assert!(
                m.contains("data.mzd") && m.contains("no further checkpoints until the database is reopened"),
                "{m}"
            )
        }
        other => panic!("{other:?}"),
    }
    // Reads go on, from the previous version.
    assert_matches(&p.current(), &model, &mut Rng::new(1));
    match checkpoint(&p, &Changes::new(), 3) {
        Err(StorageError::Io(m)) => assert!(m.contains("earlier checkpoint failed") && m.contains("reopened"), "{m}"),
        other => panic!("{other:?}"),
    }
    drop(p);
    let p = reopen(&vfs, &fs_path(), 1 << 20);
    assert_matches(&p.current(), &model, &mut Rng::new(1));
    let v = checkpoint(&p, &c, 2).expect("checkpoint after reopen");
    let mut m2 = model;
    apply(&mut m2, &c);
    assert_matches(&v, &m2, &mut Rng::new(1));
}

#[test]
fn keys_over_the_limit_abort_the_merge_without_leaking_pages() {
    let (_fs, vfs) = faulty();
    let p = Pager::create(vfs, &fs_path(), 1 << 20).expect("create");
    let model = load(&p, 2000, 9);
    let mut c = Changes::new();
    c.insert(b"a".to_vec(), Some(vec![0; 10]));
    c.insert(vec![b'z'; 4001], Some(vec![0; 10]));
    assert!(matches!(checkpoint(&p, &c, 2), Err(StorageError::KeyTooLong(_))));
    // The pager still works and nothing leaked (verify accounts for pages).
    let mut c = Changes::new();
    c.insert(b"a".to_vec(), Some(vec![0; 10]));
    let v = checkpoint(&p, &c, 2).expect("checkpoint");
    let mut m = model;
    apply(&mut m, &c);
    assert_matches(&v, &m, &mut Rng::new(2));
}

#[test]
fn out_of_order_changes_are_an_internal_error() {
    let (_fs, vfs) = faulty();
    let p = Pager::create(vfs, &fs_path(), 1 << 20).expect("create");
    load(&p, 100, 10);
    let mut ck = p.begin_checkpoint().expect("begin");
    let changes: Vec<(&[u8], Option<&[u8]>)> = vec![(b"b", Some(b"1")), (b"a", Some(b"2"))];
    match btree::merge(&mut ck, changes) {
        Err(StorageError::Io(m)) => assert!(m.contains("a bug") && m.contains("ascending"), "{m}"),
        other => panic!("{other:?}"),
    }
    drop(ck);
    assert!(p.begin_checkpoint().is_ok(), "an abandoned checkpoint does not block the next");
}

#[test]
fn works_on_the_real_file_system() {
    let dir = std::env::temp_dir().join(format!("mizzle-tree-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("data.mzd");
    let vfs: Arc<dyn Vfs> = Arc::new(StdFs);
    let p = Pager::create(vfs.clone(), &path, 1 << 20).expect("create");
    let mut rng = Rng::new(11);
    let mut model = Model::new();
    for round in 0..5u64 {
        let c: Changes = (0..3000).map(|_| (rng.bytes(8), Some(rng.bytes_len(0, 300)))).collect();
        let v = checkpoint(&p, &c, round + 1).expect("checkpoint");
        apply(&mut model, &c);
        assert_matches(&v, &model, &mut rng);
    }
    drop(p);
    let p = Pager::open(vfs, &path, 1 << 20).expect("open");
    assert_eq!(p.current().checkpoint_lsn(), Lsn(5));
    assert_matches(&p.current(), &model, &mut rng);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn public_types_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Pager>();
    send_sync::<storage_disk::pager::TreeVersion>();
    send::<storage_disk::btree::TreeIter>();
    send::<storage_disk::pager::Checkpoint<'static>>();
}

#[test]
fn iterators_seek_both_ways_and_fill_batches() {
    let (_fs, vfs) = faulty();
    let p = Pager::create(vfs, &fs_path(), 1 << 20).expect("create");
    let model = load(&p, 10_000, 12);
    let v = p.current();
    let mut it = storage_disk::btree::TreeIter::new(v.clone());
    it.seek(Bound::Excluded(b"k0005000")).expect("seek");
    assert_eq!(it.next_pair().expect("next").map(|(k, _)| k.to_vec()), Some(b"k0005001".to_vec()));
    it.seek(Bound::Included(b"k0000010")).expect("seek back");
    assert_eq!(it.next_pair().expect("next").map(|(k, _)| k.to_vec()), Some(b"k0000010".to_vec()));
    // A key between two stored keys, past the end of its leaf.
    it.seek(Bound::Included(b"k0000010~")).expect("seek");
    assert_eq!(it.next_pair().expect("next").map(|(k, _)| k.to_vec()), Some(b"k0000011".to_vec()));
    it.set_end(Bound::Excluded(b"k0000100"));
    let mut batch = KvBatch::new();
    let mut n = 0;
    while it.fill(&mut batch, 7).expect("fill") {
        assert!(batch.len() <= 7);
        for (k, val) in batch.iter() {
            assert_eq!(model.get(k).map(Vec::as_slice), Some(val));
            n += 1;
        }
    }
    assert_eq!(n, 100 - 12);
    assert!(!it.fill(&mut batch, 7).expect("fill") && batch.is_empty());
    // Before the first key and after the last.
    it.set_end(Bound::Unbounded);
    it.seek(Bound::Excluded(b"")).expect("seek");
    assert_eq!(it.next_pair().expect("next").map(|(k, _)| k.to_vec()), Some(b"k0000000".to_vec()));
    it.seek(Bound::Included(b"z")).expect("seek");
    assert!(it.next_pair().expect("next").is_none());
}
