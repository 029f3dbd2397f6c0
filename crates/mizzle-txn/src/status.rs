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

pub(crate) const SNAP_SHARDS: usize = 16;

/// One shard of the registry: (snapshot time, count) pairs in no order, on
/// cache lines of its own (a snapshot is opened and closed by every
/// transaction, so neighbouring shards must not share a line).
#[repr(align(128))]
struct SnapShard(Mutex<Vec<(u64, u32)>>);

/// The shard of the calling thread: threads take shards in turn when they
/// first open a snapshot, so a thread's transactions keep to its own shard
/// (and its cache lines) instead of spreading over all of them.
pub(crate) fn this_thread_slot() -> usize {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    thread_local! {
        static SLOT: usize = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % SNAP_SHARDS;
    }
    SLOT.try_with(|s| *s).unwrap_or(0)
}

/// The snapshots currently open, so garbage collection keeps what they need.
/// Each shard holds few entries (the snapshots open on its threads, where
/// concurrent readers mostly share the newest time), so a short vector
/// searched from its newest end beats an ordered map and allocates nothing
/// once warm.
pub struct SnapshotRegistry {
    shards: Vec<SnapShard>,
}

impl SnapshotRegistry {
    pub(crate) fn new() -> SnapshotRegistry {
        SnapshotRegistry { shards: (0..SNAP_SHARDS).map(|_| SnapShard(Mutex::new(Vec::new()))).collect() }
    }

    /// Registers a snapshot chosen by `pick` while holding the shard lock,
    /// so that a concurrent [`SnapshotRegistry::oldest`] either sees it or
    /// started before `pick` ran (see `Shared::horizon`).
    pub(crate) fn register(&self, slot: usize, pick: impl FnOnce() -> Ts) -> Ts {
        let mut m = self.shards[slot % SNAP_SHARDS].0.lock();
        let ts = pick();
        match m.iter_mut().rev().find(|e| e.0 == ts.0) {
            Some(e) => e.1 += 1,
            None => m.push((ts.0, 1)),
        }
        ts
    }

    pub(crate) fn unregister(&self, slot: usize, ts: Ts) {
        let mut m = self.shards[slot % SNAP_SHARDS].0.lock();
        if let Some(i) = m.iter().rposition(|e| e.0 == ts.0) {
            m[i].1 -= 1;
            if m[i].1 == 0 {
                m.swap_remove(i);
            }
        }
    }

    /// The oldest registered snapshot, if any.
    pub(crate) fn oldest(&self) -> Option<Ts> {
        self.shards.iter().filter_map(|s| s.0.lock().iter().map(|e| e.0).min()).min().map(Ts)
    }

    /// Every distinct open snapshot, newest first.
    pub(crate) fn all_desc(&self) -> Vec<Ts> {
        let mut v: Vec<u64> = Vec::new();
        for s in &self.shards {
            v.extend(s.0.lock().iter().map(|e| e.0));
        }
        v.sort_unstable_by(|a, b| b.cmp(a));
        v.dedup();
        v.into_iter().map(Ts).collect()
    }

    /// Number of open snapshots.
    pub fn open_count(&self) -> usize {
        self.shards.iter().map(|s| s.0.lock().iter().map(|e| e.1 as usize).sum::<usize>()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_counts_shared_snapshots_and_finds_the_oldest() {
        let r = SnapshotRegistry::new();
        assert_eq!(r.oldest(), None);
        // Two transactions on one shard share time 10; another shard has 7;
        // a third snapshot at 12 lands on the first shard.
        assert_eq!(r.register(3, || Ts(10)), Ts(10));
        r.register(3, || Ts(10));
        r.register(3 + SNAP_SHARDS, || Ts(12));
        r.register(5, || Ts(7));
        assert_eq!(r.open_count(), 4);
        assert_eq!(r.oldest(), Some(Ts(7)));
        assert_eq!(r.all_desc(), vec![Ts(12), Ts(10), Ts(7)]);
        r.unregister(5, Ts(7));
        assert_eq!(r.oldest(), Some(Ts(10)));
        r.unregister(3, Ts(10));
        assert_eq!(r.oldest(), Some(Ts(10)), "one holder of 10 remains");
        r.unregister(3, Ts(10));
        assert_eq!(r.oldest(), Some(Ts(12)));
        // Unregistering what is not there changes nothing.
        r.unregister(3, Ts(99));
        assert_eq!(r.open_count(), 1);
        r.unregister(3, Ts(12));
        assert_eq!((r.oldest(), r.open_count()), (None, 0));
    }

    #[test]
    fn a_thread_keeps_its_slot() {
        let a = this_thread_slot();
        assert_eq!(a, this_thread_slot());
        assert!(a < SNAP_SHARDS);
    }
}
