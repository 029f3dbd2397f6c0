//! How versions are laid out in the storage engine.
//!
//! Engine key of a version: `0x10 | space (u32 BE) | user key | !seq (u64 BE)`.
//! Engine value: `kind (u8: 0 put, 1 tombstone) | writer TxnId (u64 LE) | payload`.
//!
//! Invariants:
//! 1. User keys within one space are prefix-free (the layer above encodes
//!    them with `mizzle_types::key`), so every engine key that starts with
//!    `0x10 | space | user key` is a version of that user key.
//! 2. Versions of one user key are ordered newest sequence number first.
//! 3. Tags below `0x10` are reserved for non-MVCC records (commit log,
//!    sequences) that never look like versions.

use crate::error::TxnError;
use crate::ids::{SpaceId, Ts, TxnId};

/// First byte of every MVCC record.
pub const DATA_TAG: u8 = 0x10;
/// Length of the version suffix.
pub const SUFFIX_LEN: usize = 8;
/// Length of the value header.
pub const HEADER_LEN: usize = 9;

/// Appends `0x10 | space` to `out`.
pub fn space_prefix(space: SpaceId, out: &mut Vec<u8>) {
    out.push(DATA_TAG);
    out.extend_from_slice(&space.0.to_be_bytes());
}

/// The engine key of a version.
pub fn version_key(space: SpaceId, user_key: &[u8], seq: Ts, out: &mut Vec<u8>) {
    out.clear();
    space_prefix(space, out);
    out.extend_from_slice(user_key);
    out.extend_from_slice(&(!seq.0).to_be_bytes());
}

/// The engine-key prefix shared by every version of a user key.
pub fn user_prefix(space: SpaceId, user_key: &[u8], out: &mut Vec<u8>) {
    out.clear();
    space_prefix(space, out);
    out.extend_from_slice(user_key);
}

/// A decoded version key.
pub struct VersionKey<'a> {
    /// The space.
    pub space: SpaceId,
    /// The user key.
    pub user_key: &'a [u8],
    /// The write sequence number.
    pub seq: Ts,
}

/// Splits an engine key into its parts.
pub fn parse_key(k: &[u8]) -> Result<VersionKey<'_>, TxnError> {
    if k.len() < 5 + SUFFIX_LEN || k[0] != DATA_TAG {
        return Err(TxnError::Corrupt("version key too short or wrong tag"));
    }
    let space = SpaceId(u32::from_be_bytes([k[1], k[2], k[3], k[4]]));
    let split = k.len() - SUFFIX_LEN;
    let mut s = [0u8; 8];
    s.copy_from_slice(&k[split..]);
    Ok(VersionKey { space, user_key: &k[5..split], seq: Ts(!u64::from_be_bytes(s)) })
}

/// What a version says about its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The key has this payload.
    Put,
    /// The key was deleted.
    Tombstone,
}

/// A decoded version value.
pub struct VersionValue<'a> {
    /// Put or tombstone.
    pub kind: Kind,
    /// Who wrote it.
    pub writer: TxnId,
    /// The row bytes (empty for tombstones).
    pub payload: &'a [u8],
}

/// Encodes a version value.
pub fn encode_value(kind: Kind, writer: TxnId, payload: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.push(match kind {
        Kind::Put => 0,
        Kind::Tombstone => 1,
    });
    out.extend_from_slice(&writer.0.to_le_bytes());
    out.extend_from_slice(payload);
}

/// Decodes a version value.
pub fn parse_value(v: &[u8]) -> Result<VersionValue<'_>, TxnError> {
    if v.len() < HEADER_LEN {
        return Err(TxnError::Corrupt("version value too short"));
    }
    let kind = match v[0] {
        0 => Kind::Put,
        1 => Kind::Tombstone,
        _ => return Err(TxnError::Corrupt("unknown version kind")),
    };
    let mut w = [0u8; 8];
    w.copy_from_slice(&v[1..9]);
    Ok(VersionValue { kind, writer: TxnId(u64::from_le_bytes(w)), payload: &v[HEADER_LEN..] })
}
