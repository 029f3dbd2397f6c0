//! Garbage collection of versions no snapshot can see.
//!
//! A pass first reads the visible time `V`, then the open snapshots (the
//! same order `Shared::horizon` uses, so a snapshot opened meanwhile is at
//! or after `V`). For each user key, walking its versions newest first:
//! versions of active or committing writers are kept; versions of aborted
//! writers are deleted; versions committed after `V` are kept (snapshots
//! opened during the pass may need them). Each older committed version is
//! kept only if it is the newest version some snapshot in `{V} ∪ open` can
//! see; the rest are deleted. Finally a kept tombstone with nothing kept
//! below it is deleted too: absence reads the same.
//!
//! Example: versions committed at 5, 9, 12, 20 with `V = 21` and one open
//! snapshot at 10: 20 (seen by V) and 9 (seen by 10) stay; 12 and 5 go.
//!
//! Two drivers share the [`Collector`]: a full pass over every MVCC record
//! ([`TxnManager::gc`]), and an incremental pass over the keys recent
//! commits wrote ([`collect_keys`], run automatically every few thousand
//! written keys), which keeps memory bounded under updates of hot rows.
//!
//! Invariants:
//! 1. A version visible to some open snapshot, or newer than `V`, is never
//!    deleted.
//! 2. A pass touches only MVCC records and deletes in bounded batches.

use mizzle_plugin_api::storage::{KeyRange, KvBatch};

use crate::error::TxnError;
use crate::ids::Ts;
use crate::manager::{Shared, TxnManager};
use crate::status::Status;
use crate::version::{self, Kind, DATA_TAG};

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct GcStats {
    /// Versions examined.
    pub examined: u64,
    /// Versions deleted.
    pub deleted: u64,
}

/// Decides, version by version in key order, which versions go.
struct Collector<'a> {
    sh: &'a Shared,
    visible: Ts,
    snaps: Vec<Ts>,
    current: Vec<u8>,
    next_snap: usize,
    pending_tombstone: Option<Vec<u8>>,
    doomed: Vec<Vec<u8>>,
    stats: GcStats,
}

impl<'a> Collector<'a> {
    fn new(sh: &'a Shared) -> Collector<'a> {
        let visible = sh.visible_ts();
        let snaps = claimants(visible, sh.snapshots.all_desc());
        Collector {
            sh,
            visible,
            snaps,
            current: Vec::new(),
            next_snap: 0,
            pending_tombstone: None,
            doomed: Vec::new(),
            stats: GcStats::default(),
        }
    }

    fn end_key(&mut self) {
        if let Some(t) = self.pending_tombstone.take() {
            self.doomed.push(t);
        }
    }

    fn feed(&mut self, k: &[u8], v: &[u8]) -> Result<(), TxnError> {
        self.stats.examined += 1;
        version::parse_key(k)?;
        let full_user = &k[..k.len() - version::SUFFIX_LEN];
        if full_user != self.current.as_slice() {
            self.end_key();
            self.current.clear();
            self.current.extend_from_slice(full_user);
            self.next_snap = 0;
        }
        let vv = version::parse_value(v)?;
        let c = match self.sh.status.get(vv.writer) {
            Some(Status::Active) | Some(Status::Committing(_)) => return Ok(()),
            Some(Status::Aborted { .. }) => {
                self.doomed.push(k.to_vec());
                return Ok(());
            }
            Some(Status::Committed(c)) => c,
            None => Ts(0),
        };
        if c > self.visible {
            return Ok(());
        }
        let mut claimed = false;
        while self.next_snap < self.snaps.len() && self.snaps[self.next_snap] >= c {
            claimed = true;
            self.next_snap += 1;
        }
        if claimed {
            self.pending_tombstone = match vv.kind {
                Kind::Tombstone => Some(k.to_vec()),
                Kind::Put => None,
            };
        } else {
            self.doomed.push(k.to_vec());
        }
        Ok(())
    }

    fn flush(&mut self, force: bool) -> Result<(), TxnError> {
        if force || self.doomed.len() >= 4096 {
            self.stats.deleted += self.doomed.len() as u64;
            self.sh.delete_keys(self.doomed.iter().map(|k| k.as_slice()))?;
            self.doomed.clear();
        }
        Ok(())
    }

    fn finish(mut self) -> Result<GcStats, TxnError> {
        self.end_key();
        self.flush(true)?;
        Ok(self.stats)
    }
}

/// The snapshots that claim versions, newest first: `visible` itself and
/// every open snapshot at or before it. A snapshot opened after `visible`
/// was read (it may be newer than `visible`: the visible time moved between
/// the two reads) claims nothing here, since every version it could need
/// that `visible` cannot see is newer than `visible` and kept anyway; but
/// `visible` must stay first, or the newest committed version of a key is
/// left unclaimed and deleted (a lost update, found by the isolation
/// benchmark's `lost_updates` check).
fn claimants(visible: Ts, open_desc: Vec<Ts>) -> Vec<Ts> {
    let mut snaps: Vec<Ts> = open_desc.into_iter().filter(|s| *s <= visible).collect();
    if snaps.first().is_none_or(|s| *s < visible) {
        snaps.insert(0, visible);
    }
    snaps
}

/// Collects the versions of the given user keys (`space | key`, as in
/// write summaries).
pub(crate) fn collect_keys(sh: &Shared, mut keys: Vec<Vec<u8>>) -> Result<GcStats, TxnError> {
    keys.sort_unstable();
    keys.dedup();
    let mut col = Collector::new(sh);
    let mut batch = KvBatch::new();
    for uk in keys {
        let mut cur = sh.engine.scan(KeyRange::prefix(&uk))?;
        while cur.next_batch(&mut batch, 256)? {
            for (k, v) in batch.iter() {
                // Only versions of exactly this key (not of longer keys).
                if k.len() == uk.len() + version::SUFFIX_LEN {
                    col.feed(k, v)?;
                }
            }
        }
        col.end_key();
        col.flush(false)?;
    }
    col.finish()
}

impl TxnManager {
    /// Runs one full collection pass.
    pub fn gc(&self) -> Result<GcStats, TxnError> {
        let sh = &self.shared;
        let _running = sh.gc_running.lock();
        sh.gc_queue.lock().clear();
        let uncleaned = sh.status.uncleaned_aborts();
        let mut col = Collector::new(sh);
        let mut cur = sh.engine.scan(KeyRange::prefix(&[DATA_TAG]))?;
        let mut batch = KvBatch::new();
        while cur.next_batch(&mut batch, 1024)? {
            for (k, v) in batch.iter() {
                col.feed(k, v)?;
            }
            col.flush(false)?;
        }
        let stats = col.finish()?;
        // Aborted transactions whose versions this pass removed are clean now.
        let now = sh.tick();
        for id in uncleaned {
            sh.status.set(id, Status::Aborted { cleaned: Some(now) });
        }
        sh.maintenance();
        Ok(stats)
    }

    /// Number of stored versions of one user key (tests).
    pub fn version_count(&self, space: crate::ids::SpaceId, key: &[u8]) -> Result<usize, TxnError> {
        let mut p = Vec::new();
        version::user_prefix(space, key, &mut p);
        let mut cur = self.shared.engine.scan(KeyRange::prefix(&p))?;
        let mut batch = KvBatch::new();
        let mut n = 0;
        while cur.next_batch(&mut batch, 1024)? {
            for (k, _) in batch.iter() {
                if version::parse_key(k)?.user_key == key {
                    n += 1;
                }
            }
        }
        Ok(n)
    }

    /// Approximate bytes stored by the engine (tests, limits).
    pub fn stored_bytes(&self) -> u64 {
        self.shared.engine.approximate_size()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_visible_time_claims_first_even_when_a_newer_snapshot_opened_meanwhile() {
        // The visible time was 100 when the pass began; a snapshot at 101
        // opened before the registry was read.
        assert_eq!(claimants(Ts(100), vec![Ts(101), Ts(50)]), vec![Ts(100), Ts(50)]);
        assert_eq!(claimants(Ts(100), vec![Ts(100), Ts(50)]), vec![Ts(100), Ts(50)]);
        assert_eq!(claimants(Ts(100), vec![]), vec![Ts(100)]);
        assert_eq!(claimants(Ts(100), vec![Ts(120), Ts(110)]), vec![Ts(100)]);
    }
}
