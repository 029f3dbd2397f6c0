//! Log records: a write batch encoded as `docs/format/disk.md` section 4
//! specifies (kind 1 = write batch; tagged put, delete and range-delete
//! operations with u32 little-endian lengths).
//!
//! Invariants:
//! 1. `decode(encode(b)) == b` for every batch.
//! 2. Decoding never panics and never allocates more than the record's own
//!    length: every length is checked against the bytes that remain.

use mizzle_plugin_api::storage::{Mutation, StorageError, WriteBatch};

/// Record kind of a write batch.
pub const KIND_WRITE_BATCH: u8 = 1;
const TAG_PUT: u8 = 1;
const TAG_DELETE: u8 = 2;
const TAG_DELETE_RANGE: u8 = 3;

/// Bytes `encode` appends for `batch`.
pub fn encoded_len(batch: &WriteBatch) -> usize {
    5 + batch
        .ops()
        .iter()
        .map(|m| match m {
            Mutation::Put { key, value } => 9 + key.len() + value.len(),
            Mutation::Delete { key } => 5 + key.len(),
            Mutation::DeleteRange { start, end } => 9 + start.len() + end.len(),
        })
        .sum::<usize>()
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) -> Result<(), StorageError> {
    let n = u32::try_from(b.len()).map_err(|_| StorageError::Unsupported("a key or value of 4 GiB or more".into()))?;
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(b);
    Ok(())
}

/// Appends the record of `batch` to `out`.
pub fn encode(batch: &WriteBatch, out: &mut Vec<u8>) -> Result<(), StorageError> {
    out.reserve(encoded_len(batch));
    out.push(KIND_WRITE_BATCH);
    let n =
        u32::try_from(batch.ops().len()).map_err(|_| StorageError::Unsupported("a batch of 2^32 operations".into()))?;
    out.extend_from_slice(&n.to_le_bytes());
    for m in batch.ops() {
        match m {
            Mutation::Put { key, value } => {
                out.push(TAG_PUT);
                put_bytes(out, key)?;
                put_bytes(out, value)?;
            }
            Mutation::Delete { key } => {
                out.push(TAG_DELETE);
                put_bytes(out, key)?;
            }
            Mutation::DeleteRange { start, end } => {
                out.push(TAG_DELETE_RANGE);
                put_bytes(out, start)?;
                put_bytes(out, end)?;
            }
        }
    }
    Ok(())
}

/// Writes the record of `batch` into `buf`, which is exactly
/// [`encoded_len`] bytes. The caller has checked that every length fits a
/// u32 ([`check_lengths`]); a length that does not is written saturated and
/// the record then fails to decode (never silently misread).
pub fn encode_into(batch: &WriteBatch, buf: &mut [u8]) {
    let mut w = SliceWriter { buf, pos: 0 };
    w.put(&[KIND_WRITE_BATCH]);
    w.len(batch.ops().len());
    for m in batch.ops() {
        match m {
            Mutation::Put { key, value } => {
                w.put(&[TAG_PUT]);
                w.len(key.len());
                w.put(key);
                w.len(value.len());
                w.put(value);
            }
            Mutation::Delete { key } => {
                w.put(&[TAG_DELETE]);
                w.len(key.len());
                w.put(key);
            }
            Mutation::DeleteRange { start, end } => {
                w.put(&[TAG_DELETE_RANGE]);
                w.len(start.len());
                w.put(start);
                w.len(end.len());
                w.put(end);
            }
        }
    }
}

/// Fails if a key, value or the operation count does not fit the record's
/// u32 length fields.
pub fn check_lengths(batch: &WriteBatch) -> Result<(), StorageError> {
    let too_big = |n: usize| u32::try_from(n).is_err();
    if too_big(batch.ops().len()) {
        return Err(StorageError::Unsupported("a batch of 2^32 operations".into()));
    }
    for m in batch.ops() {
        let big = match m {
            Mutation::Put { key, value } => too_big(key.len()) || too_big(value.len()),
            Mutation::Delete { key } => too_big(key.len()),
            Mutation::DeleteRange { start, end } => too_big(start.len()) || too_big(end.len()),
        };
        if big {
            return Err(StorageError::Unsupported("a key or value of 4 GiB or more".into()));
        }
    }
    Ok(())
}

struct SliceWriter<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl SliceWriter<'_> {
    fn put(&mut self, b: &[u8]) {
        if let Some(dst) = self.buf.get_mut(self.pos..self.pos + b.len()) {
            dst.copy_from_slice(b);
        }
        self.pos += b.len();
    }

    fn len(&mut self, n: usize) {
        self.put(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
    }
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], StorageError> {
        if n > self.rest.len() {
            return Err(StorageError::Corrupt("log record ends inside an operation".into()));
        }
        let (a, b) = self.rest.split_at(n);
        self.rest = b;
        Ok(a)
    }

    fn u8(&mut self) -> Result<u8, StorageError> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, StorageError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn bytes(&mut self) -> Result<&'a [u8], StorageError> {
        let n = self.u32()? as usize;
        self.take(n)
    }
}

/// Decodes a record into a write batch.
pub fn decode(record: &[u8]) -> Result<WriteBatch, StorageError> {
    let mut r = Reader { rest: record };
    let kind = r.u8()?;
    if kind != KIND_WRITE_BATCH {
        return Err(StorageError::Corrupt(format!("log record of unknown kind {kind}")));
    }
    let n = r.u32()?;
    let mut b = WriteBatch::new();
    for _ in 0..n {
        match r.u8()? {
            TAG_PUT => {
                let k = r.bytes()?.to_vec();
                let v = r.bytes()?.to_vec();
                b.put(k, v);
            }
            TAG_DELETE => b.delete(r.bytes()?.to_vec()),
            TAG_DELETE_RANGE => {
                let s = r.bytes()?.to_vec();
                let e = r.bytes()?.to_vec();
                b.delete_range(s, e);
            }
            t => return Err(StorageError::Corrupt(format!("log record operation of unknown tag {t}"))),
        }
    }
    if !r.rest.is_empty() {
        return Err(StorageError::Corrupt("log record has bytes after its last operation".into()));
    }
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_round_trip() {
        let mut b = WriteBatch::new();
        b.put(b"k".to_vec(), b"v".to_vec());
        b.delete(vec![]);
        b.delete_range(vec![1], vec![2, 3]);
        b.put(vec![0; 300], vec![]);
        let mut out = Vec::new();
        encode(&b, &mut out).expect("encode");
        assert_eq!(out.len(), encoded_len(&b));
        let d = decode(&out).expect("decode");
        assert_eq!(d.ops(), b.ops());
        let mut direct = vec![0u8; encoded_len(&b)];
        encode_into(&b, &mut direct);
        assert_eq!(direct, out, "encode_into writes the same bytes");
    }

    #[test]
    fn every_truncation_and_garbage_is_an_error() {
        let mut b = WriteBatch::new();
        b.put(b"key".to_vec(), b"value".to_vec());
        b.delete(b"gone".to_vec());
        let mut out = Vec::new();
        encode(&b, &mut out).expect("encode");
        for n in 0..out.len() {
            assert!(decode(&out[..n]).is_err(), "prefix of {n} bytes");
        }
        let mut extra = out.clone();
        extra.push(0);
        assert!(decode(&extra).is_err());
        let mut huge = out.clone();
        huge[6..10].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode(&huge).is_err(), "a length past the end is refused without allocating it");
    }
}
