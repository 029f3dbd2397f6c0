//! The base of the engine: the data file's tree as the engine uses it
//! (open or create, read one version, checkpoint a sorted change stream).
//! A thin layer over `pager` and `btree`, so the engine names one thing.
//!
//! Invariants:
//! 1. Checkpoints are serialised by the caller (the engine's checkpoint
//!    lock); `checkpoint` merges into the pager's current version, which
//!    is the version the caller passes.
//!
//! It holds no state of its own besides the pager.

use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;

use mizzle_plugin_api::storage::StorageError;

use crate::btree::{self, IterBuffers, TreeIter};
use crate::ids::Lsn;
use crate::pager::{Pager, TreeVersion};
use crate::vfs::Vfs;

pub use crate::page::MAX_KEY_LEN;

/// One committed version of the tree.
pub type Tree = TreeVersion;

/// The data file and its tree.
pub struct Base {
    pager: Pager,
}

impl Base {
    /// Creates a new data file at `path`.
    pub fn create(vfs: Arc<dyn Vfs>, path: &Path, cache_bytes: u64) -> Result<Base, StorageError> {
        Ok(Base { pager: Pager::create(vfs, path, cache_bytes)? })
    }

    /// Opens the data file at `path` (its newest valid meta).
    pub fn open(vfs: Arc<dyn Vfs>, path: &Path, cache_bytes: u64) -> Result<Base, StorageError> {
        Ok(Base { pager: Pager::open(vfs, path, cache_bytes)? })
    }

    /// The newest committed version.
    pub fn current(&self) -> Arc<Tree> {
        self.pager.current()
    }

    /// The value of `key` in `tree`.
    pub fn get(&self, tree: &Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        tree.get(key)
    }

    /// An iterator over `tree` between the bounds, ascending or (`desc`)
    /// from `hi` down to `lo`, reusing the allocations in `bufs`.
    pub fn iter(
        &self,
        tree: &Arc<Tree>,
        lo: Bound<&[u8]>,
        hi: Bound<&[u8]>,
        bufs: IterBuffers,
        desc: bool,
    ) -> Result<TreeIter, StorageError> {
        tree.range_with(lo, hi, bufs, desc)
    }

    /// Every key of `tree` between the bounds.
    pub fn keys_between(
        &self,
        tree: &Arc<Tree>,
        lo: Bound<&[u8]>,
        hi: Bound<&[u8]>,
    ) -> Result<Vec<Vec<u8>>, StorageError> {
        let mut it = tree.range(lo, hi)?;
        let mut out = Vec::new();
        while let Some((k, _)) = it.next_pair()? {
            out.push(k.to_vec());
        }
        Ok(out)
    }

    /// Merges `changes` (ascending, unique keys; `None` deletes) into
    /// `tree`, writes and commits the next version covering the log
    /// through `lsn`, and returns it (D1–D3).
    pub fn checkpoint<'a>(
        &self,
        tree: &Arc<Tree>,
        changes: &mut dyn Iterator<Item = (&'a [u8], Option<&'a [u8]>)>,
        lsn: Lsn,
    ) -> Result<Arc<Tree>, StorageError> {
        let mut ck = self.pager.begin_checkpoint()?;
        if !Arc::ptr_eq(ck.base(), tree) {
            return Err(StorageError::Corrupt(format!(
                "internal: checkpoint of data file '{}' is not based on the engine's tree (this is a bug)",
                self.pager.file_name()
            )));
        }
        let new = btree::merge(&mut ck, changes)?;
        ck.commit(new, lsn)
    }

    /// Counters for `SHOW STATUS`.
    pub fn stats(&self) -> Vec<(String, u64)> {
        let s = self.pager.stats();
        vec![
            ("page_cache_hits".into(), s.cache.hits),
            ("page_cache_misses".into(), s.cache.misses),
            ("page_cache_evictions".into(), s.cache.evictions),
            ("page_loads".into(), s.page_loads),
            ("data_pages".into(), s.page_count),
            ("free_pages".into(), s.allocatable_pages),
            ("pending_free_pages".into(), s.pending_pages),
            ("pages_written".into(), s.pages_written),
            ("data_syncs".into(), s.syncs),
        ]
    }
}
