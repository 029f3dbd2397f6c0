//! The transaction status table and the registry of open snapshots.
//!
//! Status states and transitions (function performing each):
//! `Active` -> `Committing(c)` (`Shared::commit_prepare`) -> `Committed(c)`
//! (`Shared::commit_publish`); `Active`/`Committing` -> `Aborted` (`Shared::abort`).
//! Entries are removed by `Shared::maintenance` once no reader can need
//! them: a missing entry means "committed before every open snapshot".
//!
//! Invariants:
//! 1. An entry exists for every transaction from its begin until it is
//!    pruned; pruning removes `Committed(c)` only when `c` is at or before
//!    the oldest open snapshot, and `Aborted` only when its versions were
//!    deleted before the oldest open snapshot was taken.
//! 2. Both tables are sharded; no lookup takes a global lock.

use hashbrown::HashMap;
use std::collections::BTreeMap;

use parking_lot::{Mutex, RwLock};

use crate::ids::{Ts, TxnId};

/// Where a transaction is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Running.
    Active,
    /// Validated and given a commit time; waiting for durability.
    Committing(Ts),
    /// Committed at this time.
    Committed(Ts),
    /// Rolled back; its versions were deleted at `cleaned` (or will be by GC).
    Aborted { cleaned: Option<Ts> },
}

const SHARDS: usize = 64;

/// Sharded map from transaction to status.
pub struct StatusTable {
    shards: Vec<RwLock<HashMap<u64, Status>>>,
}

impl StatusTable {
    pub(crate) fn new() -> StatusTable {
        StatusTable { shards: (0..SHARDS).map(|_| RwLock::new(HashMap::new())).collect() }
    }

    fn shard(&self, id: TxnId) -> &RwLock<HashMap<u64, Status>> {
        &self.shards[(id.0 as usize) % SHARDS]
    }

    /// The status, or `None` for a pruned (long committed) transaction.
    pub fn get(&self, id: TxnId) -> Option<Status> {
        self.shard(id).read().get(&id.0).copied()
    }

    pub(crate) fn set(&self, id: TxnId, s: Status) {
        self.shard(id).write().insert(id.0, s);
    }

    /// Removes entries that no reader can need; see invariant 1.
    pub(crate) fn prune(&self, oldest_snapshot: Ts) -> usize {
        let mut n = 0;
        for s in &self.shards {
            let mut m = s.write();
            m.retain(|_, st| {
                let keep = match *st {
                    Status::Active | Status::Committing(_) => true,
                    Status::Committed(c) => c > oldest_snapshot,
                    Status::Aborted { cleaned: Some(t) } => t >= oldest_snapshot,
                    Status::Aborted { cleaned: None } => true,
                };
                if !keep {
                    n += 1;
                }
                keep
            });
        }
        n
    }

    /// Number of entries (for tests and statistics).
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.read().len()).sum()
    }

    /// True when no entries exist.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Aborted transactions whose versions still need deleting.
    pub(crate) fn uncleaned_aborts(&self) -> Vec<TxnId> {
        let mut v = Vec::new();
        for s in &self.shards {
            for (id, st) in s.read().iter() {
                if *st == (Status::Aborted { cleaned: None }) {
                    v.push(TxnId(*id));
                }
            }
        }
        v
    }
}

const SNAP_SHARDS: usize = 16;

/// The snapshots currently open, so garbage collection keeps what they need.
pub struct SnapshotRegistry {
    shards: Vec<Mutex<BTreeMap<u64, u32>>>,
}

impl SnapshotRegistry {
    pub(crate) fn new() -> SnapshotRegistry {
        SnapshotRegistry { shards: (0..SNAP_SHARDS).map(|_| Mutex::new(BTreeMap::new())).collect() }
    }

    /// Registers a snapshot chosen by `pick` while holding the shard lock,
    /// so that a concurrent [`SnapshotRegistry::oldest`] either sees it or
    /// started before `pick` ran (see `Shared::horizon`).
    pub(crate) fn register(&self, slot: usize, pick: impl FnOnce() -> Ts) -> Ts {
        let mut m = self.shards[slot % SNAP_SHARDS].lock();
        let ts = pick();
        *m.entry(ts.0).or_insert(0) += 1;
        ts
    }

    pub(crate) fn unregister(&self, slot: usize, ts: Ts) {
        let mut m = self.shards[slot % SNAP_SHARDS].lock();
        if let Some(c) = m.get_mut(&ts.0) {
            *c -= 1;
            if *c == 0 {
                m.remove(&ts.0);
            }
        }
    }

    /// The oldest registered snapshot, if any.
    pub(crate) fn oldest(&self) -> Option<Ts> {
        self.shards.iter().filter_map(|s| s.lock().keys().next().copied()).min().map(Ts)
    }

    /// Every distinct open snapshot, newest first.
    pub(crate) fn all_desc(&self) -> Vec<Ts> {
        let mut v: Vec<u64> = Vec::new();
        for s in &self.shards {
            v.extend(s.lock().keys().copied());
        }
        v.sort_unstable_by(|a, b| b.cmp(a));
        v.dedup();
        v.into_iter().map(Ts).collect()
    }

    /// Number of open snapshots.
    pub fn open_count(&self) -> usize {
        self.shards.iter().map(|s| s.lock().values().map(|c| *c as usize).sum::<usize>()).sum()
    }
}
