//! The transaction layer's own records (tags below `0x10`): what a
//! persistent engine must keep besides versions so that a reopened database
//! continues where the last one stopped. `docs/format/mvcc-records.md`
//! (section 6) specifies the bytes.
//!
//! - `0x02 | writer (u64 BE)`: an *in-flight writer*. Written before the
//!   transaction's first version and again when it first writes another
//!   space; value: version `1`, then the spaces written (u32 LE each).
//!   Commit deletes it (that deletion, made durable, *is* the commit);
//!   a completed rollback deletes it too.
//! - `0x03`: the clock reservation, u64 LE: no id, sequence number or
//!   time above it has been drawn. Raised in blocks before the clock
//!   passes it.
//! - `0x04 | name`: a counter of the layer above (dictionary space ids,
//!   definition versions, AUTO_INCREMENT ceilings), u64 LE.
//!
//! Invariants:
//! R1. A version's writer has an in-flight marker that reached the engine
//!     (in its log) before the version did, and the marker is deleted only
//!     by the commit batch or after every version of the writer is gone. So
//!     after a crash, a writer with a marker never committed, and a writer
//!     without one committed (or left nothing).
//! R2. Before the clock hands out a value above the stored reservation, a
//!     higher reservation is written to the engine (ahead, in log order, of
//!     any record that uses the value), so a reopened clock starts above
//!     every value the previous run used.
//! R3. Records are written only for persistent engines; the memory engine
//!     pays nothing.
//!
//! Recovery ([`TxnManager::open`]): start the clock at the reservation;
//! every marked writer is aborted: its versions in the spaces it listed are
//! deleted, then the marker.

use std::collections::HashSet;

use mizzle_plugin_api::storage::{Durability, KeyRange, KvBatch, WriteBatch};

use crate::error::TxnError;
use crate::ids::{SpaceId, TxnId};
use crate::manager::{Shared, TxnManager};
use crate::status::Status;
use crate::version;

/// Tag of in-flight writer markers.
pub const IN_FLIGHT_TAG: u8 = 0x02;
/// Key of the clock reservation.
pub const CLOCK_KEY: &[u8] = &[0x03];
/// Tag of counters kept for the layers above.
pub const COUNTER_TAG: u8 = 0x04;
/// How far ahead each clock reservation reaches.
pub(crate) const CLOCK_BLOCK: u64 = 1 << 20;
/// Version byte of in-flight marker values.
const MARKER_VERSION: u8 = 1;

/// The engine key of `writer`'s in-flight marker.
pub fn marker_key(writer: TxnId) -> Vec<u8> {
    let mut k = Vec::with_capacity(9);
    k.push(IN_FLIGHT_TAG);
    k.extend_from_slice(&writer.0.to_be_bytes());
    k
}

/// The value of an in-flight marker listing `spaces`.
pub fn marker_value(spaces: &[SpaceId]) -> Vec<u8> {
    let mut v = Vec::with_capacity(1 + 4 * spaces.len());
    v.push(MARKER_VERSION);
    for s in spaces {
        v.extend_from_slice(&s.0.to_le_bytes());
    }
    v
}

/// Decodes a marker: the writer and the spaces it wrote.
pub fn parse_marker(k: &[u8], v: &[u8]) -> Result<(TxnId, Vec<SpaceId>), TxnError> {
    let id: [u8; 8] = k
        .get(1..9)
        .and_then(|b| b.try_into().ok())
        .filter(|_| k.len() == 9)
        .ok_or(TxnError::Corrupt("in-flight marker key has the wrong length"))?;
    let (ver, rest) = v.split_first().ok_or(TxnError::Corrupt("empty in-flight marker"))?;
    if *ver != MARKER_VERSION {
        return Err(TxnError::Corrupt("in-flight marker of an unknown version"));
    }
    if rest.len() % 4 != 0 {
        return Err(TxnError::Corrupt("in-flight marker space list is not whole"));
    }
    let spaces = rest.chunks_exact(4).map(|c| SpaceId(u32::from_le_bytes([c[0], c[1], c[2], c[3]]))).collect();
    Ok((TxnId(u64::from_be_bytes(id)), spaces))
}

fn counter_key(name: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + name.len());
    k.push(COUNTER_TAG);
    k.extend_from_slice(name);
    k
}

fn parse_u64(v: &[u8], what: &'static str) -> Result<u64, TxnError> {
    let b: [u8; 8] = v.try_into().map_err(|_| TxnError::Corrupt(what))?;
    Ok(u64::from_le_bytes(b))
}

impl Shared {
    /// Writes a single record with relaxed durability (R2, R3: callers
    /// check persistence).
    pub(crate) fn put_record(&self, key: Vec<u8>, value: Vec<u8>) -> Result<(), TxnError> {
        let mut b = WriteBatch::new();
        b.put(key, value);
        self.engine.write(b, Durability::Relaxed)?;
        Ok(())
    }

    /// Deletes a single record with relaxed durability.
    pub(crate) fn delete_record(&self, key: Vec<u8>) -> Result<(), TxnError> {
        let mut b = WriteBatch::new();
        b.delete(key);
        self.engine.write(b, Durability::Relaxed)?;
        Ok(())
    }
}

/// What [`TxnManager::open`] found and did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Where the clock starts.
    pub clock: u64,
    /// Writers found in flight (never committed) and rolled back.
    pub aborted_writers: Vec<u64>,
    /// Versions of those writers deleted.
    pub versions_removed: u64,
}

impl TxnManager {
    /// A manager over `engine`, resuming the state a previous manager left
    /// in it (for a persistent engine): the clock starts above every value
    /// used before (R2) and writers that never committed are rolled back
    /// (R1). For an empty or non-persistent engine this is [`TxnManager::new`].
    pub fn open(
        engine: std::sync::Arc<dyn mizzle_plugin_api::storage::StorageEngine>,
    ) -> Result<(TxnManager, RecoveryReport), TxnError> {
        let persistent = engine.info().persistent;
        let reserved = if persistent {
            match engine.get(CLOCK_KEY)? {
                Some(v) => parse_u64(&v, "clock reservation is not 8 bytes")?,
                None => 1,
            }
        } else {
            1
        };
        let m = TxnManager::with_clock(engine, reserved);
        let mut report = RecoveryReport { clock: reserved, ..RecoveryReport::default() };
        if persistent {
            // Reserve at once, so even a run that draws nothing moves on.
            m.shared.reserve_clock(reserved)?;
            m.roll_back_in_flight(&mut report)?;
        }
        Ok((m, report))
    }

    /// Rolls back every writer with an in-flight marker (R1).
    fn roll_back_in_flight(&self, report: &mut RecoveryReport) -> Result<(), TxnError> {
        let sh = &self.shared;
        let mut markers = Vec::new();
        let mut cur = sh.engine.scan(KeyRange::prefix(&[IN_FLIGHT_TAG]))?;
        let mut batch = KvBatch::new();
        while cur.next_batch(&mut batch, 256)? {
            for (k, v) in batch.iter() {
                markers.push(parse_marker(k, v)?);
            }
        }
        if markers.is_empty() {
            return Ok(());
        }
        let writers: HashSet<TxnId> = markers.iter().map(|(w, _)| *w).collect();
        for w in &writers {
            sh.status.set(*w, Status::Aborted { cleaned: None });
        }
        let mut spaces: Vec<SpaceId> = markers.iter().flat_map(|(_, s)| s.iter().copied()).collect();
        spaces.sort_unstable();
        spaces.dedup();
        report.versions_removed = sh.delete_versions_of(&writers, &spaces)?;
        let cleaned = sh.tick();
        for (w, _) in &markers {
            sh.delete_record(marker_key(*w))?;
            sh.status.set(*w, Status::Aborted { cleaned: Some(cleaned) });
            report.aborted_writers.push(w.0);
        }
        report.aborted_writers.sort_unstable();
        Ok(())
    }

    /// True if the engine keeps data across restarts (records are written).
    pub fn is_persistent(&self) -> bool {
        self.shared.persistent
    }

    /// The stored value of counter `name` (see the module documentation);
    /// `None` if never stored or the engine is not persistent.
    pub fn counter(&self, name: &[u8]) -> Result<Option<u64>, TxnError> {
        if !self.shared.persistent {
            return Ok(None);
        }
        match self.shared.engine.get(&counter_key(name))? {
            Some(v) => Ok(Some(parse_u64(&v, "counter record is not 8 bytes")?)),
            None => Ok(None),
        }
    }

    /// Stores counter `name`. Not transactional; it reaches the engine's
    /// log before any commit that follows, so a durable commit that used a
    /// value below `v` is never recovered without it. Does nothing for a
    /// non-persistent engine.
    pub fn store_counter(&self, name: &[u8], v: u64) -> Result<(), TxnError> {
        if !self.shared.persistent {
            return Ok(());
        }
        self.shared.put_record(counter_key(name), v.to_le_bytes().to_vec())
    }

    /// Moves every change into the engine's data files now (see
    /// `StorageEngine::checkpoint`).
    pub fn checkpoint(&self) -> Result<(), TxnError> {
        Ok(self.shared.engine.checkpoint()?)
    }
}

impl Shared {
    /// Raises the clock reservation so it covers `t` (R2).
    pub(crate) fn reserve_clock(&self, t: u64) -> Result<(), TxnError> {
        let _g = self.reserve_lock.lock();
        if t < self.clock_reserved() {
            return Ok(());
        }
        let next = t.max(self.clock_now()).saturating_add(CLOCK_BLOCK);
        self.put_record(CLOCK_KEY.to_vec(), next.to_le_bytes().to_vec())?;
        self.set_clock_reserved(next);
        Ok(())
    }

    /// Deletes every version written by one of `writers` in `spaces`;
    /// returns how many.
    pub(crate) fn delete_versions_of(&self, writers: &HashSet<TxnId>, spaces: &[SpaceId]) -> Result<u64, TxnError> {
        let mut doomed: Vec<Vec<u8>> = Vec::new();
        let mut n = 0u64;
        for &space in spaces {
            let mut p = Vec::new();
            version::space_prefix(space, &mut p);
            let mut cur = self.engine.scan(KeyRange::prefix(&p))?;
            let mut batch = KvBatch::new();
            while cur.next_batch(&mut batch, 1024)? {
                for (k, v) in batch.iter() {
                    let vv = version::parse_value(v)?;
                    if writers.contains(&vv.writer) {
                        doomed.push(k.to_vec());
                    }
                }
                if doomed.len() > 10_000 {
                    n += doomed.len() as u64;
                    self.delete_keys(doomed.iter().map(|k| k.as_slice()))?;
                    doomed.clear();
                }
            }
        }
        n += doomed.len() as u64;
        self.delete_keys(doomed.iter().map(|k| k.as_slice()))?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_round_trips() {
        let k = marker_key(TxnId(0x0102));
        assert_eq!(k, vec![0x02, 0, 0, 0, 0, 0, 0, 0x01, 0x02]);
        let v = marker_value(&[SpaceId(1), SpaceId(20)]);
        assert_eq!(v, vec![1, 1, 0, 0, 0, 20, 0, 0, 0]);
        let (w, s) = parse_marker(&k, &v).expect("parses");
        assert_eq!((w, s), (TxnId(0x0102), vec![SpaceId(1), SpaceId(20)]));
    }

    #[test]
    fn damaged_markers_are_corruption_not_panics() {
        assert!(parse_marker(&[0x02, 1], &[1]).is_err());
        assert!(parse_marker(&marker_key(TxnId(1)), &[]).is_err());
        assert!(parse_marker(&marker_key(TxnId(1)), &[9]).is_err());
        assert!(parse_marker(&marker_key(TxnId(1)), &[1, 0, 0]).is_err());
    }
}
