//! Helpers shared by the `tree_*` tests (each includes this file with
//! `#[path]`): a seeded RNG, a `BTreeMap` model of the tree, checkpoints of
//! a change map, and a full comparison of a tree version with the model.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mizzle_plugin_api::storage::StorageError;
use storage_disk::btree::{self, VerifyReport};
use storage_disk::ids::Lsn;
use storage_disk::page::PAGE_SIZE;
use storage_disk::pager::{Pager, TreeVersion};
use storage_disk::vfs::faulty::FaultyFs;
use storage_disk::vfs::Vfs;

/// splitmix64.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }

    /// Random bytes, between `lo` and `lo + spread - 1` of them.
    pub fn bytes_len(&mut self, lo: usize, spread: u64) -> Vec<u8> {
        let n = lo + self.below(spread) as usize;
        self.bytes(n)
    }
}

pub type Model = BTreeMap<Vec<u8>, Vec<u8>>;
pub type Changes = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

pub fn fs_path() -> PathBuf {
    PathBuf::from("/db/data.mzd")
}

pub fn faulty() -> (FaultyFs, Arc<dyn Vfs>) {
    let fs = FaultyFs::new();
    let vfs: Arc<dyn Vfs> = Arc::new(fs.clone());
    (fs, vfs)
}

/// Merges `changes` into the pager's current tree and commits it.
pub fn checkpoint(pager: &Pager, changes: &Changes, lsn: u64) -> Result<Arc<TreeVersion>, StorageError> {
    let mut ck = pager.begin_checkpoint()?;
    let tree = btree::merge(&mut ck, changes.iter().map(|(k, v)| (k.as_slice(), v.as_deref())))?;
    ck.commit(tree, Lsn(lsn))
}

pub fn apply(model: &mut Model, changes: &Changes) {
    for (k, v) in changes {
        match v {
            Some(v) => {
                model.insert(k.clone(), v.clone());
            }
            None => {
                model.remove(k);
            }
        }
    }
}

/// Every pair of the version, in order.
pub fn scan(v: &Arc<TreeVersion>) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut it = v.range(Bound::Unbounded, Bound::Unbounded).expect("range");
    let mut out = Vec::new();
    while let Some((k, val)) = it.next_pair().expect("next") {
        out.push((k.to_vec(), val.to_vec()));
    }
    out
}

/// Verifies the version and compares it with the model completely (scan,
/// gets of present and absent keys, a few ranges).
pub fn assert_matches(v: &Arc<TreeVersion>, model: &Model, rng: &mut Rng) -> VerifyReport {
    let report = btree::verify(v).unwrap_or_else(|e| panic!("verify failed: {e}"));
    assert_eq!(report.entries, model.len() as u64);
    assert_eq!(v.entries(), model.len() as u64);
    let bytes: usize = model.iter().map(|(k, v)| k.len() + v.len()).sum();
    assert_eq!(v.bytes(), bytes as u64);
    let got = scan(v);
    assert_eq!(got.len(), model.len(), "scan length");
    for ((gk, gv), (mk, mv)) in got.iter().zip(model.iter()) {
        assert_eq!(gk, mk, "scan keys differ");
        assert_eq!(gv, mv, "scan values differ for key {mk:?}");
    }
    let keys: Vec<&Vec<u8>> = model.keys().collect();
    for _ in 0..50 {
        if keys.is_empty() {
            break;
        }
        let k = keys[rng.below(keys.len() as u64) as usize];
        assert_eq!(v.get(k).expect("get").as_ref(), model.get(k), "get {k:?}");
        // A neighbour that is probably absent.
        let mut absent = k.clone();
        absent.push(rng.next_u64() as u8);
        assert_eq!(v.get(&absent).expect("get").as_ref(), model.get(&absent));
    }
    assert_eq!(v.get(b"").expect("get empty key").as_ref(), model.get(b"".as_slice()));
    for _ in 0..10 {
        let a = rng.bytes_len(0, 3);
        let b = rng.bytes_len(0, 3);
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        let (sb, eb) = match rng.below(4) {
            0 => (Bound::Included(lo.as_slice()), Bound::Excluded(hi.as_slice())),
            1 => (Bound::Excluded(lo.as_slice()), Bound::Included(hi.as_slice())),
            2 => (Bound::Included(lo.as_slice()), Bound::Unbounded),
            _ => (Bound::Unbounded, Bound::Excluded(hi.as_slice())),
        };
        if matches!((sb, eb), (Bound::Excluded(x), Bound::Included(y)) | (Bound::Included(x), Bound::Excluded(y)) if x == y)
        {
            continue;
        }
        let want: Vec<(&Vec<u8>, &Vec<u8>)> = model.range::<[u8], _>((sb, eb)).collect();
        let mut it = v.range(sb, eb).expect("range");
        let mut n = 0;
        while let Some((k, val)) = it.next_pair().expect("next") {
            let (wk, wv) = want.get(n).unwrap_or_else(|| panic!("range returned extra key {k:?}"));
            assert_eq!((k, val), (wk.as_slice(), wv.as_slice()));
            n += 1;
        }
        assert_eq!(n, want.len(), "range length");
    }
    report
}

/// The merge's packing with ordinary keys: no page but a lone root holds
/// under a quarter page. (Keys near the length limit that share long
/// prefixes can defeat it: content too large for one page may compress to
/// two small ones.)
pub fn assert_no_small_pages(report: &VerifyReport) {
    if report.leaf_pages > 1 {
        assert!(report.smallest_leaf >= (PAGE_SIZE / 4) as u64, "a leaf of {} bytes: {report:?}", report.smallest_leaf);
    }
    if report.smallest_branch > 0 {
        assert!(
            report.smallest_branch >= (PAGE_SIZE / 4) as u64,
            "a branch of {} bytes: {report:?}",
            report.smallest_branch
        );
    }
}

/// Opens the pager at `path` on `vfs` again.
pub fn reopen(vfs: &Arc<dyn Vfs>, path: &Path, cache_bytes: u64) -> Pager {
    Pager::open(vfs.clone(), path, cache_bytes).unwrap_or_else(|e| panic!("reopen: {e}"))
}
