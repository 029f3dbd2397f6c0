//! The copy-on-write merge against a `BTreeMap` model: random rounds of
//! puts, overwrites and deletes (large values, keys near the limit, the
//! empty key, binary keys), packing, page reuse, and a tree larger than
//! the cache.

#[path = "tree_model.rs"]
mod model;

use std::sync::Arc;

use model::{apply, assert_matches, assert_no_small_pages, checkpoint, faulty, fs_path, reopen, Changes, Model, Rng};
use storage_disk::btree;
use storage_disk::page::{MAX_KEY_LEN, PAGE_SIZE};
use storage_disk::pager::Pager;

/// A key from one of several shapes, so pages see long shared prefixes,
/// short binary keys and keys near the limit.
fn random_key(rng: &mut Rng, long_keys: bool) -> Vec<u8> {
    match rng.below(10) {
        1 if !long_keys => format!("user/{:08}/name", rng.below(5000)).into_bytes(),
        0 => rng.bytes_len(0, 4),
        1 => {
            let mut k = vec![b'L'; MAX_KEY_LEN - 8];
            k.extend_from_slice(&rng.below(400).to_be_bytes());
            k
        }
        2..=5 => format!("user/{:08}/name", rng.below(5000)).into_bytes(),
        _ => {
            let mut k = b"t\x00\x01".to_vec();
            k.extend_from_slice(&rng.below(1 << 20).to_be_bytes()[5..]);
            k
        }
    }
}

fn random_value(rng: &mut Rng) -> Vec<u8> {
    match rng.below(20) {
        0 => rng.bytes_len(5_000, 40_000),
        1 => Vec::new(),
        2 => rng.bytes_len(3_000, 1_500),
        _ => rng.bytes_len(0, 120),
    }
}

fn random_round(rng: &mut Rng, model: &Model, n: usize, long_keys: bool, delete_percent: u64) -> Changes {
    let keys: Vec<Vec<u8>> = model.keys().cloned().collect();
    let mut c = Changes::new();
    for _ in 0..n {
        let existing = !keys.is_empty() && rng.chance(50);
        let key =
            if existing { keys[rng.below(keys.len() as u64) as usize].clone() } else { random_key(rng, long_keys) };
        let v = if rng.chance(delete_percent) { None } else { Some(random_value(rng)) };
        c.insert(key, v);
    }
    c
}

#[test]
fn merge_matches_a_model_over_random_rounds() {
    for seed in 0..4u64 {
        let (_fs, vfs) = faulty();
        let mut pager = Pager::create(vfs.clone(), &fs_path(), 64 * PAGE_SIZE as u64).expect("create");
        let mut model = Model::new();
        let mut rng = Rng::new(seed);
        for round in 0..40u64 {
            let n = match rng.below(4) {
                0 => 1 + rng.below(5) as usize,
                1 => 2000,
                _ => 200,
            };
            let changes = random_round(&mut rng, &model, n, true, 35);
            let v =
                checkpoint(&pager, &changes, round + 1).unwrap_or_else(|e| panic!("seed {seed} round {round}: {e}"));
            apply(&mut model, &changes);
            assert_matches(&v, &model, &mut rng);
            if round % 7 == 6 {
                drop(v);
                drop(pager);
                pager = reopen(&vfs, &fs_path(), 64 * PAGE_SIZE as u64);
                assert_eq!(pager.current().checkpoint_lsn().0, round + 1);
                assert_matches(&pager.current(), &model, &mut rng);
            }
        }
    }
}

#[test]
fn with_ordinary_keys_no_page_is_left_under_a_quarter_full() {
    for seed in 10..13u64 {
        let (_fs, vfs) = faulty();
        let pager = Pager::create(vfs, &fs_path(), 64 * PAGE_SIZE as u64).expect("create");
        let mut model = Model::new();
        let mut rng = Rng::new(seed);
        for round in 0..40u64 {
            // Grow, then shrink: deletes dominate the later rounds.
            let deletes = if round < 15 { 20 } else { 70 };
            let n = if rng.chance(50) { 1 + rng.below(20) as usize } else { 1500 };
            let changes = random_round(&mut rng, &model, n, false, deletes);
            let v =
                checkpoint(&pager, &changes, round + 1).unwrap_or_else(|e| panic!("seed {seed} round {round}: {e}"));
            apply(&mut model, &changes);
            assert_no_small_pages(&assert_matches(&v, &model, &mut rng));
        }
    }
}

#[test]
fn deleting_everything_empties_the_tree_and_frees_its_pages() {
    let (_fs, vfs) = faulty();
    let pager = Pager::create(vfs, &fs_path(), 1 << 20).expect("create");
    let mut rng = Rng::new(7);
    let mut model = Model::new();
    let mut c = Changes::new();
    for i in 0..5000u32 {
        c.insert(i.to_be_bytes().to_vec(), Some(rng.bytes(if i % 100 == 0 { 20_000 } else { 50 })));
    }
    checkpoint(&pager, &c, 1).expect("load");
    apply(&mut model, &c);
    let dels: Changes = model.keys().map(|k| (k.clone(), None)).collect();
    let v = checkpoint(&pager, &dels, 2).expect("delete all");
    apply(&mut model, &dels);
    assert_eq!(v.meta().root.0, 0);
    assert_eq!(v.meta().height, 0);
    let r = assert_matches(&v, &model, &mut rng);
    assert_eq!(r.free_pages + r.free_list_pages, r.page_count - 2, "every page but the metas is free");
}

#[test]
fn bulk_ascending_load_fills_leaves() {
    let (_fs, vfs) = faulty();
    let pager = Pager::create(vfs, &fs_path(), 1 << 20).expect("create");
    let mut rng = Rng::new(1);
    let c: Changes = (0..100_000u64).map(|i| (format!("key{i:012}").into_bytes(), Some(rng.bytes(40)))).collect();
    let v = checkpoint(&pager, &c, 1).expect("load");
    let mut model = Model::new();
    apply(&mut model, &c);
    let r = assert_matches(&v, &model, &mut rng);
    assert!(r.leaf_fill() > 0.9, "leaf fill {:.3}", r.leaf_fill());
    assert!(r.height >= 2);
    // Appending more ascending keys in a second checkpoint keeps pages full.
    let c2: Changes =
        (100_000..150_000u64).map(|i| (format!("key{i:012}").into_bytes(), Some(rng.bytes(40)))).collect();
    let v = checkpoint(&pager, &c2, 2).expect("append");
    apply(&mut model, &c2);
    let r = assert_matches(&v, &model, &mut rng);
    assert!(r.leaf_fill() > 0.9, "leaf fill after append {:.3}", r.leaf_fill());
}

#[test]
fn random_inserts_keep_leaves_reasonably_full() {
    let (_fs, vfs) = faulty();
    let pager = Pager::create(vfs, &fs_path(), 1 << 22).expect("create");
    let mut rng = Rng::new(2);
    let mut model = Model::new();
    for round in 0..30u64 {
        let c: Changes = (0..2000).map(|_| (rng.bytes(16), Some(rng.bytes(30)))).collect();
        let v = checkpoint(&pager, &c, round + 1).expect("round");
        apply(&mut model, &c);
        let r = assert_matches(&v, &model, &mut rng);
        assert_no_small_pages(&r);
        if round == 29 {
            assert!(r.leaf_fill() > 0.6, "leaf fill {:.3}", r.leaf_fill());
        }
    }
}

#[test]
fn sparse_deletes_do_not_leave_tiny_leaves() {
    let (_fs, vfs) = faulty();
    let pager = Pager::create(vfs, &fs_path(), 1 << 22).expect("create");
    let mut rng = Rng::new(3);
    let mut model = Model::new();
    let c: Changes = (0..50_000u64).map(|i| (i.to_be_bytes().to_vec(), Some(rng.bytes(30)))).collect();
    checkpoint(&pager, &c, 1).expect("load");
    apply(&mut model, &c);
    // Delete 95% of the keys over many checkpoints, in random order.
    let mut lsn = 1;
    for _ in 0..20 {
        let keys: Vec<Vec<u8>> = model.keys().cloned().collect();
        let dels: Changes = keys.iter().filter(|_| rng.chance(14)).map(|k| (k.clone(), None)).collect();
        lsn += 1;
        let v = checkpoint(&pager, &dels, lsn).expect("deletes");
        apply(&mut model, &dels);
        assert_no_small_pages(&assert_matches(&v, &model, &mut rng));
    }
    let r = btree::verify(&pager.current()).expect("verify");
    assert!(model.len() < 5000);
    assert!(r.leaf_fill() > 0.4, "leaf fill {:.3} over {} leaves", r.leaf_fill(), r.leaf_pages);
}

#[test]
fn file_stops_growing_when_the_same_keys_are_rewritten() {
    let (fs, vfs) = faulty();
    let pager = Pager::create(vfs, &fs_path(), 1 << 20).expect("create");
    let mut rng = Rng::new(4);
    let keys: Vec<Vec<u8>> = (0..3000u32).map(|i| format!("k{i:06}").into_bytes()).collect();
    let mut sizes = Vec::new();
    let mut model = Model::new();
    for round in 0..40u64 {
        let mut c = Changes::new();
        for k in &keys {
            if rng.chance(30) {
                // A fixed size per key, so the live data has one size.
                let len = if k.ends_with(b"7") && k[k.len() - 2] == b'7' { 30_000 } else { 60 };
                c.insert(k.clone(), Some(rng.bytes(len)));
            }
        }
        let v = checkpoint(&pager, &c, round + 1).expect("round");
        apply(&mut model, &c);
        drop(v);
        sizes.push(fs.read_file(&fs_path()).expect("file").len());
    }
    assert_matches(&pager.current(), &model, &mut rng);
    // Freed pages are reused: after a warm-up the file no longer grows
    // (a little slack for the free list and value-size noise).
    let early = sizes[..15].iter().copied().max().unwrap_or(0);
    let late = sizes[15..].iter().copied().max().unwrap_or(0);
    assert!(late <= early + 4 * PAGE_SIZE, "file keeps growing: {sizes:?}");
}

#[test]
fn a_tree_much_larger_than_the_cache_works() {
    let (_fs, vfs) = faulty();
    // 16 pages of cache; the tree has hundreds.
    let pager = Pager::create(vfs.clone(), &fs_path(), 16 * PAGE_SIZE as u64).expect("create");
    let mut rng = Rng::new(5);
    let mut model = Model::new();
    for round in 0..6u64 {
        let c: Changes = (0..5000).map(|_| (rng.bytes(12), Some(rng.bytes(200)))).collect();
        let v = checkpoint(&pager, &c, round + 1).expect("round");
        apply(&mut model, &c);
        assert_matches(&v, &model, &mut rng);
    }
    let st = pager.stats();
    assert!(st.cache.evictions > 0);
    assert!(st.cache.resident <= st.cache.capacity);
    assert!(st.page_count > 10 * st.cache.capacity, "{st:?}");
    let pager = Arc::new(reopen(&vfs, &fs_path(), 16 * PAGE_SIZE as u64));
    assert_matches(&pager.current(), &model, &mut rng);
}

#[test]
fn a_small_change_rewrites_only_its_path_and_shares_overflow_chains() {
    let (_fs, vfs) = faulty();
    let pager = Pager::create(vfs, &fs_path(), 1 << 22).expect("create");
    let mut rng = Rng::new(8);
    let mut model = Model::new();
    let mut c: Changes = (0..100_000u64).map(|i| (format!("k{i:07}").into_bytes(), Some(rng.bytes(40)))).collect();
    c.insert(b"k0050000".to_vec(), Some(rng.bytes(100_000)));
    checkpoint(&pager, &c, 1).expect("load");
    apply(&mut model, &c);
    let height = u64::from(pager.current().meta().height);
    assert!(height >= 2, "height {height}");
    let written = |p: &Pager| p.stats().pages_written;
    // Overwrite a neighbour of the large value: one leaf (maybe two after
    // a split), its branch path, the free list and the meta.
    for (round, key) in [b"k0050001", b"k0000000", b"k0099999"].iter().enumerate() {
        let before = written(&pager);
        let mut c = Changes::new();
        c.insert(key.to_vec(), Some(b"new value".to_vec()));
        let v = checkpoint(&pager, &c, 2 + round as u64).expect("update");
        apply(&mut model, &c);
        let n = written(&pager) - before;
        assert!(n <= height + 4, "{} pages written for one small update (height {height})", n);
        assert_eq!(v.get(b"k0050000").expect("get").as_ref(), model.get(b"k0050000".as_slice()));
    }
    // Deleting the large value frees its chain (7 pages).
    let free_before = btree::verify(&pager.current()).expect("verify").free_pages;
    let mut c = Changes::new();
    c.insert(b"k0050000".to_vec(), None);
    let v = checkpoint(&pager, &c, 10).expect("delete");
    apply(&mut model, &c);
    let r = assert_matches(&v, &model, &mut rng);
    assert!(r.free_pages >= free_before + 7, "{} -> {}", free_before, r.free_pages);
    assert_eq!(r.overflow_pages, 0);
}

#[test]
fn deletes_of_absent_keys_rewrite_nothing_below_the_root_path() {
    let (_fs, vfs) = faulty();
    let pager = Pager::create(vfs, &fs_path(), 1 << 22).expect("create");
    let mut rng = Rng::new(9);
    let c: Changes = (0..50_000u64).map(|i| (format!("k{i:07}").into_bytes(), Some(rng.bytes(40)))).collect();
    checkpoint(&pager, &c, 1).expect("load");
    let mut model = Model::new();
    apply(&mut model, &c);
    let leaves_before = btree::verify(&pager.current()).expect("verify").leaf_pages;
    let before = pager.stats().pages_written;
    let dels: Changes = (0..2000u64).map(|i| (format!("k{:07}x", i * 25).into_bytes(), None)).collect();
    let v = checkpoint(&pager, &dels, 2).expect("deletes");
    let written = pager.stats().pages_written - before;
    // No leaf is rewritten; branches on the way may be.
    let r = assert_matches(&v, &model, &mut rng);
    assert_eq!(r.leaf_pages, leaves_before);
    assert!(written < leaves_before / 4, "{written} pages written for no-op deletes");
}
