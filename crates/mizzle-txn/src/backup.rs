//! Online backup: a copy of the database as one snapshot saw it, made
//! while writes go on.
//!
//! The copy holds, for every user key, the version the snapshot sees (if
//! it is a put), copied byte for byte; the counters of the layers above;
//! and a clock reservation above every value the source has drawn. No
//! in-flight marker is copied, so every copied version reads as committed
//! long ago (V2), and a database opened on the copy sees exactly the rows
//! committed at the snapshot.
//!
//! Invariants:
//! B1. The snapshot is registered for the whole copy, so garbage
//!     collection keeps every version it sees (GC invariant 1).
//! B2. The copy is made durable (a synced write, then a checkpoint) before
//!     `backup_into` returns.
//!
//! It writes only to the target engine and reads the source only through
//! its engine and status table.

use mizzle_plugin_api::storage::{Durability, KeyRange, KvBatch, StorageEngine, WriteBatch};

use crate::error::TxnError;
use crate::ids::{IsolationLevel, Ts, TxnId};
use crate::manager::{ReadView, TxnManager};
use crate::records::{CLOCK_BLOCK, CLOCK_KEY, COUNTER_TAG};
use crate::txn::TxnOptions;
use crate::version::{self, DATA_TAG};

/// What a backup copied.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BackupReport {
    /// The snapshot the copy shows.
    pub snapshot: u64,
    /// Keys copied (rows, index entries, dictionary records).
    pub keys: u64,
    /// Bytes of keys and values copied.
    pub bytes: u64,
}

const BATCH_BYTES: usize = 1 << 20;

impl TxnManager {
    /// Copies the database as of a snapshot taken now into `target`, which
    /// must be empty (a new database); see the module documentation.
    /// `counters` are the current values of the layers above's counters
    /// (named as in [`TxnManager::store_counter`]); each is stored in the
    /// copy unless the source's stored ceiling is higher (a source on a
    /// non-persistent engine has none stored).
    pub fn backup_into(
        &self,
        target: &dyn StorageEngine,
        counters: &[(Vec<u8>, u64)],
    ) -> Result<BackupReport, TxnError> {
        let sh = &self.shared;
        let mut probe = KvBatch::new();
        target.scan_first(KeyRange::all(), &mut probe, 1)?;
        if !probe.is_empty() {
            return Err(TxnError::Storage(mizzle_plugin_api::storage::StorageError::Unsupported(
                "the backup target is not empty".into(),
            )));
        }
        let reader = self.begin(TxnOptions { isolation: IsolationLevel::RepeatableRead, read_only: true });
        reader.take_snapshot(); // B1: registered until `reader` drops.
        let snapshot = reader.snapshot_ts().unwrap_or(Ts(0));
        let view = ReadView { txn: TxnId(0), snapshot, stmt: Ts(0) };
        let mut report = BackupReport { snapshot: snapshot.0, ..BackupReport::default() };
        let mut out = WriteBatch::new();
        let flush = |out: &mut WriteBatch| -> Result<(), TxnError> {
            if !out.is_empty() {
                target.write(std::mem::take(out), Durability::Relaxed)?;
            }
            Ok(())
        };
        // Versions: per user key, newest first; the first visible decides.
        let mut cur = sh.engine.scan(KeyRange::prefix(&[DATA_TAG]))?;
        let mut batch = KvBatch::new();
        let mut current: Vec<u8> = Vec::new();
        let mut decided = false;
        while cur.next_batch(&mut batch, 1024)? {
            for (k, v) in batch.iter() {
                version::parse_key(k)?;
                let user = &k[..k.len() - version::SUFFIX_LEN];
                if user != current.as_slice() {
                    current.clear();
                    current.extend_from_slice(user);
                    decided = false;
                }
                if decided {
                    continue;
                }
                let vv = version::parse_value(v)?;
                let vk = version::parse_key(k)?;
                if !sh.is_visible(&view, vv.writer, vk.seq) {
                    continue;
                }
                decided = true;
                if vv.kind == version::Kind::Put {
                    out.put(k.to_vec(), v.to_vec());
                    report.keys += 1;
                    report.bytes += (k.len() + v.len()) as u64;
                    if out.size_bytes() >= BATCH_BYTES {
                        flush(&mut out)?;
                    }
                }
            }
        }
        // Counters (ceilings only grow, so today's are valid for the copy).
        let mut stored: std::collections::BTreeMap<Vec<u8>, u64> = std::collections::BTreeMap::new();
        let mut cur = sh.engine.scan(KeyRange::prefix(&[COUNTER_TAG]))?;
        while cur.next_batch(&mut batch, 256)? {
            for (k, v) in batch.iter() {
                let n: [u8; 8] = v.try_into().map_err(|_| TxnError::Corrupt("counter record is not 8 bytes"))?;
                stored.insert(k.to_vec(), u64::from_le_bytes(n));
            }
        }
        for (name, v) in counters {
            let mut k = vec![COUNTER_TAG];
            k.extend_from_slice(name);
            let e = stored.entry(k).or_insert(0);
            *e = (*e).max(*v);
        }
        for (k, v) in stored {
            out.put(k, v.to_le_bytes().to_vec());
        }
        // A clock reservation above everything the source has drawn.
        let clock = if sh.persistent { sh.clock_reserved() } else { sh.clock_now().saturating_add(CLOCK_BLOCK) };
        out.put(CLOCK_KEY.to_vec(), clock.to_le_bytes().to_vec());
        target.write(out, Durability::Sync)?.wait()?; // B2
        target.checkpoint()?;
        drop(reader);
        Ok(report)
    }
}
