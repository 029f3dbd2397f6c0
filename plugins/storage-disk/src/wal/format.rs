//! The bytes of log segments and blocks (`docs/format/disk.md`, section 4):
//! encoding what the writer puts down and judging what recovery reads.
//!
//! Invariants:
//! 1. Decoding never panics and never allocates according to a length read
//!    from disk: every length is checked against the bytes actually present.
//! 2. A block is [`BlockAt::Valid`] only if its magic and CRC check; its
//!    records are handed out only after the whole payload has been parsed.
//! 3. The CRC of a block covers the segment number, so a block copied to
//!    another segment (or a stale block) never checks.
//!
//! This module does no I/O and knows nothing of LSN continuity (that is
//! recovery's business).

/// `MIZZLWAL`: the first bytes of every segment.
pub(crate) const SEGMENT_MAGIC: [u8; 8] = *b"MIZZLWAL";
/// The format version this build writes and reads.
pub(crate) const FORMAT_VERSION: u32 = 1;
/// Bytes of the segment header; the first block starts right after it.
pub(crate) const SEGMENT_HEADER_LEN: usize = 48;
/// `MZLB`: the first bytes of every block.
pub(crate) const BLOCK_MAGIC: [u8; 4] = *b"MZLB";
/// Bytes of a block header (the payload follows).
pub(crate) const BLOCK_HEADER_LEN: usize = 32;
/// Blocks start at offsets that are multiples of this.
pub(crate) const BLOCK_ALIGN: usize = 8;
/// Bytes of the length prefix of each record in a payload.
pub(crate) const RECORD_PREFIX_LEN: usize = 4;
/// The largest record the log frames: its prefix and bytes must fit the
/// payload length field (u32).
pub(crate) const MAX_RECORD_BYTES: usize = u32::MAX as usize - RECORD_PREFIX_LEN;
/// The name of the zero-filled segment prepared ahead of need.
pub(crate) const SPARE_NAME: &str = "wal-spare.tmp";

/// The file name of segment `n`: `wal-<16 lowercase hex digits>.log`.
pub(crate) fn segment_name(n: u64) -> String {
    format!("wal-{n:016x}.log")
}

/// The segment number a file name stands for, if it is a segment's name
/// exactly as [`segment_name`] spells it.
pub(crate) fn parse_segment_name(name: &str) -> Option<u64> {
    let hex = name.strip_prefix("wal-")?.strip_suffix(".log")?;
    if hex.len() != 16 || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return None;
    }
    u64::from_str_radix(hex, 16).ok()
}

/// Rounds `n` up to the block alignment.
pub(crate) fn align_up(n: usize) -> usize {
    n.div_ceil(BLOCK_ALIGN) * BLOCK_ALIGN
}

/// A segment header's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SegmentHeader {
    /// The segment's sequence number (also in its file name).
    pub number: u64,
    /// LSN of the first record the segment holds (or will hold).
    pub first_lsn: u64,
}

impl SegmentHeader {
    /// The 48 header bytes.
    pub(crate) fn encode(&self) -> [u8; SEGMENT_HEADER_LEN] {
        let mut b = [0u8; SEGMENT_HEADER_LEN];
        b[0..8].copy_from_slice(&SEGMENT_MAGIC);
        b[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        b[16..24].copy_from_slice(&self.number.to_le_bytes());
        b[24..32].copy_from_slice(&self.first_lsn.to_le_bytes());
        let crc = crc32fast::hash(&b[0..44]);
        b[44..48].copy_from_slice(&crc.to_le_bytes());
        b
    }
}

/// What the first bytes of a segment file say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeaderCheck {
    /// Magic, CRC, version and number check.
    Valid(SegmentHeader),
    /// Too short, wrong magic, non-zero reserved bytes, a first LSN of 0 or
    /// a failed CRC: a header that was never (completely) written, or a
    /// damaged one.
    Invalid,
    /// The CRC checks but the version is one this build does not read.
    WrongVersion(u32),
    /// The CRC checks but the header names another segment number than the
    /// file name does (a renamed or copied file).
    WrongNumber(u64),
}

/// Judges the first bytes of segment file number `number`.
pub(crate) fn decode_segment_header(bytes: &[u8], number: u64) -> HeaderCheck {
    let Some(b) = bytes.get(..SEGMENT_HEADER_LEN) else {
        return HeaderCheck::Invalid;
    };
    if b[0..8] != SEGMENT_MAGIC || le_u32(b, 44) != Some(crc32fast::hash(&b[0..44])) {
        return HeaderCheck::Invalid;
    }
    // LSNs start at 1 (invariant of `ids`); a zero field was never written.
    if b[12..16].iter().chain(&b[32..44]).any(|&x| x != 0) || le_u64(b, 24) == Some(0) {
        return HeaderCheck::Invalid;
    }
    let (Some(version), Some(n), Some(first_lsn)) = (le_u32(b, 8), le_u64(b, 16), le_u64(b, 24)) else {
        return HeaderCheck::Invalid;
    };
    if version != FORMAT_VERSION {
        return HeaderCheck::WrongVersion(version);
    }
    if n != number {
        return HeaderCheck::WrongNumber(n);
    }
    HeaderCheck::Valid(SegmentHeader { number: n, first_lsn })
}

/// Fills the header of a block in place. `block` is the header space (32
/// bytes) followed by the payload, without padding; `count` records with
/// LSNs from `first_lsn` make up the payload.
///
/// Needs the payload to fit the u32 length field (the writer caps blocks).
pub(crate) fn seal_block(block: &mut [u8], segment: u64, first_lsn: u64, count: u32, synced_through: u64) {
    let payload_len = u32::try_from(block.len() - BLOCK_HEADER_LEN)
        .expect("invariant: the writer caps a block's payload at u32::MAX bytes");
    block[0..4].copy_from_slice(&BLOCK_MAGIC);
    block[4..8].copy_from_slice(&payload_len.to_le_bytes());
    block[8..16].copy_from_slice(&first_lsn.to_le_bytes());
    block[16..20].copy_from_slice(&count.to_le_bytes());
    block[20..28].copy_from_slice(&synced_through.to_le_bytes());
    let crc = block_crc(segment, &block[0..28], &block[BLOCK_HEADER_LEN..]);
    block[28..32].copy_from_slice(&crc.to_le_bytes());
}

/// CRC32 of the segment number, the first 28 header bytes and the payload.
fn block_crc(segment: u64, header28: &[u8], payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&segment.to_le_bytes());
    h.update(header28);
    h.update(payload);
    h.finalize()
}

/// A block whose magic and CRC check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Block<'a> {
    /// LSN of the block's first record.
    pub first_lsn: u64,
    /// Number of records.
    pub count: u32,
    /// Every record up to this LSN was durable before the block was written.
    pub synced_through: u64,
    /// The records, each a u32 length and that many bytes.
    pub payload: &'a [u8],
    /// Bytes from the block's start to the next block's (padding included).
    pub span: usize,
}

/// What recovery finds at a block position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BlockAt<'a> {
    /// The 32 header bytes (or what is left of the file, if less) are zero.
    Zeros,
    /// Neither zeros nor a block that checks.
    Damaged,
    /// A block whose magic and CRC check.
    Valid(Block<'a>),
}

/// Judges the bytes at a block position: `data` runs from there to the end
/// of the segment file.
pub(crate) fn decode_block(segment: u64, data: &[u8]) -> BlockAt<'_> {
    let head = data.get(..BLOCK_HEADER_LEN).unwrap_or(data);
    if head.iter().all(|&b| b == 0) {
        return BlockAt::Zeros;
    }
    if head.len() < BLOCK_HEADER_LEN || head[0..4] != BLOCK_MAGIC {
        return BlockAt::Damaged;
    }
    let (Some(p), Some(first_lsn), Some(count), Some(synced_through), Some(crc)) =
        (le_u32(head, 4), le_u64(head, 8), le_u32(head, 16), le_u64(head, 20), le_u32(head, 28))
    else {
        return BlockAt::Damaged;
    };
    // Needs invariant 1: the length is bounded by the bytes present.
    let Ok(p) = usize::try_from(p) else {
        return BlockAt::Damaged;
    };
    let Some(payload) = BLOCK_HEADER_LEN.checked_add(p).and_then(|end| data.get(BLOCK_HEADER_LEN..end)) else {
        return BlockAt::Damaged;
    };
    if block_crc(segment, &head[0..28], payload) != crc {
        return BlockAt::Damaged;
    }
    BlockAt::Valid(Block { first_lsn, count, synced_through, payload, span: align_up(BLOCK_HEADER_LEN + p) })
}

/// Splits a checked payload into its `count` records. `None` when the
/// lengths do not add up to exactly the payload (only a bug or a forged
/// CRC can produce that).
pub(crate) fn split_records(payload: &[u8], count: u32) -> Option<Vec<&[u8]>> {
    let mut out = Vec::with_capacity(usize::try_from(count).ok()?.min(payload.len() / RECORD_PREFIX_LEN));
    let mut rest = payload;
    for _ in 0..count {
        let len = usize::try_from(le_u32(rest, 0)?).ok()?;
        let body = rest.get(RECORD_PREFIX_LEN..)?;
        out.push(body.get(..len)?);
        rest = body.get(len..)?;
    }
    (rest.is_empty() && count > 0).then_some(out)
}

fn le_u32(b: &[u8], at: usize) -> Option<u32> {
    let bytes: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(bytes))
}

fn le_u64(b: &[u8], at: usize) -> Option<u64> {
    let bytes: [u8; 8] = b.get(at..at.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(segment: u64, first: u64, records: &[&[u8]], synced: u64) -> Vec<u8> {
        let mut b = vec![0u8; BLOCK_HEADER_LEN];
        for r in records {
            b.extend_from_slice(&u32::try_from(r.len()).expect("small").to_le_bytes());
            b.extend_from_slice(r);
        }
        let count = u32::try_from(records.len()).expect("small");
        seal_block(&mut b, segment, first, count, synced);
        b.resize(align_up(b.len()), 0);
        b
    }

    /// The bytes of the fenced block tagged `wal-example` in disk.md.
    fn spec_example() -> Vec<u8> {
        let spec = include_str!("../../../../docs/format/disk.md");
        let start = spec.find("```text wal-example\n").expect("example in disk.md section 4.2");
        let body = &spec[start..].lines().skip(1).take_while(|l| !l.starts_with("```")).collect::<Vec<_>>();
        body.iter()
            .flat_map(|l| l.split_once(':').expect("offset: bytes").1.split_whitespace())
            .map(|h| u8::from_str_radix(h, 16).expect("hex byte"))
            .collect()
    }

    #[test]
    fn spec_example_decodes() {
        let bytes = spec_example();
        assert_eq!(bytes.len(), 96);
        let h = SegmentHeader { number: 1, first_lsn: 1 };
        assert_eq!(decode_segment_header(&bytes, 1), HeaderCheck::Valid(h));
        assert_eq!(h.encode()[..], bytes[..SEGMENT_HEADER_LEN]);
        let BlockAt::Valid(b) = decode_block(1, &bytes[SEGMENT_HEADER_LEN..]) else { panic!("valid block") };
        assert_eq!((b.first_lsn, b.count, b.synced_through, b.span), (1, 2, 0, 48));
        assert_eq!(split_records(b.payload, b.count), Some(vec![&b"abc"[..], b""]));
        assert_eq!(block(1, 1, &[b"abc", b""], 0)[..], bytes[SEGMENT_HEADER_LEN..]);
    }

    #[test]
    fn segment_names_round_trip_and_reject_lookalikes() {
        assert_eq!(segment_name(26), "wal-000000000000001a.log");
        assert_eq!(parse_segment_name("wal-000000000000001a.log"), Some(26));
        for bad in ["wal-000000000000001A.log", "wal-1a.log", "wal-spare.tmp", "wal-000000000000001a.logx", "x"] {
            assert_eq!(parse_segment_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn segment_header_round_trips_and_detects_damage() {
        let h = SegmentHeader { number: 3, first_lsn: 77 };
        let b = h.encode();
        assert_eq!(decode_segment_header(&b, 3), HeaderCheck::Valid(h));
        assert_eq!(decode_segment_header(&b, 4), HeaderCheck::WrongNumber(3));
        assert_eq!(decode_segment_header(&b[..47], 3), HeaderCheck::Invalid);
        for i in 0..SEGMENT_HEADER_LEN {
            let mut d = b;
            d[i] ^= 0x10;
            assert_eq!(decode_segment_header(&d, 3), HeaderCheck::Invalid, "byte {i}");
        }
        assert_eq!(decode_segment_header(&[0u8; 48], 3), HeaderCheck::Invalid);
        let zero_lsn = SegmentHeader { number: 3, first_lsn: 0 }.encode();
        assert_eq!(decode_segment_header(&zero_lsn, 3), HeaderCheck::Invalid);
    }

    #[test]
    fn block_round_trips_and_every_flipped_bit_is_caught() {
        let b = block(5, 10, &[b"abc", b"", b"defgh"], 9);
        assert_eq!(b.len(), 56);
        let BlockAt::Valid(v) = decode_block(5, &b) else { panic!("valid block expected") };
        assert_eq!((v.first_lsn, v.count, v.synced_through, v.span), (10, 3, 9, 56));
        assert_eq!(split_records(v.payload, v.count), Some(vec![&b"abc"[..], b"", b"defgh"]));
        assert_eq!(decode_block(6, &b), BlockAt::Damaged, "the CRC covers the segment number");
        for i in 0..(BLOCK_HEADER_LEN + 20) {
            for bit in 0..8 {
                let mut d = b.clone();
                d[i] ^= 1 << bit;
                assert!(!matches!(decode_block(5, &d), BlockAt::Valid(_)), "byte {i} bit {bit}");
            }
        }
    }

    #[test]
    fn damaged_length_never_reads_past_the_data() {
        let mut b = block(1, 1, &[b"x"], 0);
        b[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(decode_block(1, &b), BlockAt::Damaged);
        assert_eq!(decode_block(1, &b[..10]), BlockAt::Damaged);
        assert_eq!(decode_block(1, &[0u8; 7]), BlockAt::Zeros);
        assert_eq!(decode_block(1, &[]), BlockAt::Zeros);
    }

    #[test]
    fn record_lengths_must_fill_the_payload_exactly() {
        assert_eq!(split_records(&[1, 0, 0, 0, 9], 1), Some(vec![&[9u8][..]]));
        assert_eq!(split_records(&[1, 0, 0, 0, 9, 0], 1), None, "trailing byte");
        assert_eq!(split_records(&[5, 0, 0, 0, 9], 1), None, "length past the end");
        assert_eq!(split_records(&[1, 0, 0, 0, 9], 2), None, "count too high");
        assert_eq!(split_records(&[], 0), None, "an empty block is never written");
        assert_eq!(split_records(&[0xff; 8], u32::MAX), None);
    }
}
