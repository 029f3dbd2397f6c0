//! Garbage collection of versions no snapshot can see.
//!
//! The pass first reads the visible time `V`, then the open snapshots
//! (the same order `Shared::horizon` uses, so a snapshot opened meanwhile is
//! at or after `V`). For each user key, walking its versions newest first:
//! versions of active or committing writers are kept; versions of aborted
//! writers are deleted; versions committed after `V` are kept (snapshots
//! opened during the pass may need them). Each older committed version is
//! kept only if it is the newest version some snapshot in `{V} ∪ open`
//! can see; the rest are deleted. Finally a kept tombstone with nothing kept
//! below it is deleted too: absence reads the same.
//!
//! Example: versions committed at 5, 9, 12, 20 with `V = 21` and one open
//! snapshot at 10: 20 (seen by V) and 9 (seen by 10) stay; 12 and 5 go.
//!
//! Invariants:
//! 1. A version visible to some open snapshot, or newer than the horizon,
//!    is never deleted.
//! 2. A pass touches only MVCC records and deletes in bounded batches.

use mizzle_plugin_api::storage::{KeyRange, KvBatch};

use crate::error::TxnError;
use crate::ids::Ts;
use crate::manager::TxnManager;
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

impl TxnManager {
    /// Runs one full collection pass.
    pub fn gc(&self) -> Result<GcStats, TxnError> {
        let sh = &self.shared;
        let visible: Ts = sh.visible_ts();
        let mut snaps = sh.snapshots.all_desc();
        if snaps.first().is_none_or(|s| *s < visible) {
            snaps.insert(0, visible);
        }
        let snaps: Vec<Ts> = snaps.into_iter().filter(|s| *s <= visible).collect();
        let uncleaned = sh.status.uncleaned_aborts();
        let mut stats = GcStats::default();
        let mut cur = sh.engine.scan(KeyRange::prefix(&[DATA_TAG]))?;
        let mut batch = KvBatch::new();
        let mut doomed: Vec<Vec<u8>> = Vec::new();
        let mut current: Vec<u8> = Vec::new();
        // Per key: index of the next unclaimed snapshot, and the last kept
        // committed version if it is a tombstone (deleted when nothing older is kept).
        let mut next_snap = 0usize;
        let mut pending_tombstone: Option<Vec<u8>> = None;
        while cur.next_batch(&mut batch, 1024)? {
            for (k, v) in batch.iter() {
                stats.examined += 1;
                let vk = version::parse_key(k)?;
                let full_user = &k[..k.len() - version::SUFFIX_LEN];
                if full_user != current.as_slice() {
                    if let Some(t) = pending_tombstone.take() {
                        doomed.push(t);
                    }
                    current.clear();
                    current.extend_from_slice(full_user);
                    next_snap = 0;
                }
                let vv = version::parse_value(v)?;
                let c = match sh.status.get(vv.writer) {
                    Some(Status::Active) | Some(Status::Committing(_)) => continue,
                    Some(Status::Aborted { .. }) => {
                        doomed.push(k.to_vec());
                        continue;
                    }
                    Some(Status::Committed(c)) => c,
                    None => Ts(0),
                };
                if c > visible {
                    continue;
                }
                let mut claimed = false;
                while next_snap < snaps.len() && snaps[next_snap] >= c {
                    claimed = true;
                    next_snap += 1;
                }
                if claimed {
                    pending_tombstone = match vv.kind {
                        Kind::Tombstone => Some(k.to_vec()),
                        Kind::Put => None,
                    };
                } else {
                    doomed.push(k.to_vec());
                }
                let _ = vk;
            }
            if doomed.len() >= 4096 {
                stats.deleted += doomed.len() as u64;
                sh.delete_keys(doomed.iter().map(|k| k.as_slice()))?;
                doomed.clear();
            }
        }
        if let Some(t) = pending_tombstone.take() {
            doomed.push(t);
        }
        stats.deleted += doomed.len() as u64;
        sh.delete_keys(doomed.iter().map(|k| k.as_slice()))?;
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
}
