//! Packet framing: a 3-byte little-endian payload length and a 1-byte
//! sequence id before each payload; payloads of 16 MiB − 1 bytes or more are
//! split into chunks of exactly `0xFF_FFFF` bytes ended by a shorter chunk
//! (possibly empty).
//!
//! ```text
//! +---------+---------+------------------+
//! | len: 3  | seq: 1  | payload: len     |   len < 0xFFFFFF ends a payload
//! +---------+---------+------------------+
//! ```
//!
//! Invariants:
//! 1. [`FrameDecoder`] never allocates for bytes that have not arrived: its
//!    buffer grows only by what [`FrameDecoder::feed`] is given, and a payload
//!    is copied out only once all of its chunks are buffered.
//! 2. A payload whose announced size exceeds `max_allowed_packet` is an error
//!    as soon as the header announcing it is seen.
//! 3. Each chunk's sequence id is checked against the expected one, which
//!    then advances by one (wrapping at 256). The caller resets it to 0 at
//!    the start of each command ([`FrameDecoder::expect_sequence`]).
//! 4. [`PacketWriter`] writes every payload with the next sequence id and
//!    splits large ones exactly as the decoder joins them; a payload that is
//!    a multiple of `0xFF_FFFF` bytes is followed by an empty chunk.
//! 5. [`FrameDecoder::ready_with`] is true exactly when `decode`, after
//!    feeding those bytes, would return a payload or an error: a caller that
//!    holds bytes back until then never strands a packet split across reads.
//!
//! This module does not interpret payloads, and does not do compression or
//! TLS (the server decrypts before feeding).

use crate::error::ProtocolError;

/// The largest payload of one chunk; a chunk of this size means "more follows".
pub const MAX_CHUNK: usize = 0xFF_FFFF;

/// The size of a packet header.
pub const HEADER_LEN: usize = 4;

/// MySQL 8's default `max_allowed_packet` (64 MiB).
pub const DEFAULT_MAX_ALLOWED_PACKET: usize = 64 * 1024 * 1024;

/// A packet sequence id; it counts packets within one command exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SequenceId(pub u8);

impl SequenceId {
    /// The id of the first packet of a command.
    pub const ZERO: SequenceId = SequenceId(0);

    /// The id after this one (wrapping, as the protocol does).
    pub fn next(self) -> SequenceId {
        SequenceId(self.0.wrapping_add(1))
    }
}

/// Decodes framed packets from bytes that arrive in arbitrary pieces.
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    buf: Vec<u8>,
    /// Offset of the first unconsumed byte in `buf`.
    start: usize,
    expected: SequenceId,
    max_allowed_packet: usize,
}

/// The header of one chunk, parsed from a slice known to hold 4 bytes.
fn header_at(buf: &[u8], at: usize) -> Option<(usize, SequenceId)> {
    let h = buf.get(at..at.checked_add(HEADER_LEN)?)?;
    let len = u32::from_le_bytes([h[0], h[1], h[2], 0]);
    Some((usize::try_from(len).ok()?, SequenceId(h[3])))
}

/// Whether `have` followed by `more` holds a whole payload (every chunk of
/// it), or a header that [`FrameDecoder::decode`] refuses: a payload over
/// `max`, or — when `expected` is given — a chunk with another sequence id.
pub fn packet_ready(have: &[u8], more: &[u8], expected: Option<SequenceId>, max: usize) -> bool {
    let byte = |i: usize| match have.get(i) {
        Some(b) => Some(*b),
        None => more.get(i.checked_sub(have.len())?).copied(),
    };
    let avail = have.len().saturating_add(more.len());
    let mut at = 0usize;
    let mut total = 0usize;
    let mut seq = expected;
    loop {
        let (Some(a), Some(b), Some(c), Some(s)) = (byte(at), byte(at + 1), byte(at + 2), byte(at + 3)) else {
            return false;
        };
        let len = usize::from(a) | usize::from(b) << 8 | usize::from(c) << 16;
        if seq.is_some_and(|want| want.0 != s) {
            return true;
        }
        total = total.saturating_add(len);
        if total > max {
            return true;
        }
        let end = at.saturating_add(HEADER_LEN).saturating_add(len);
        if len < MAX_CHUNK {
            return end <= avail;
        }
        at = end;
        seq = seq.map(SequenceId::next);
    }
}

impl FrameDecoder {
    /// A decoder expecting sequence id 0 and payloads of at most
    /// `max_allowed_packet` bytes.
    pub fn new(max_allowed_packet: usize) -> FrameDecoder {
        FrameDecoder { buf: Vec::new(), start: 0, expected: SequenceId::ZERO, max_allowed_packet }
    }

    /// Changes the payload limit (`SET GLOBAL max_allowed_packet`, or after
    /// the handshake).
    pub fn set_max_allowed_packet(&mut self, max: usize) {
        self.max_allowed_packet = max;
    }

    /// The payload limit.
    pub fn max_allowed_packet(&self) -> usize {
        self.max_allowed_packet
    }

    /// Sets the sequence id the next packet must carry (0 before each command).
    pub fn expect_sequence(&mut self, seq: SequenceId) {
        self.expected = seq;
    }

    /// The sequence id the next packet must carry.
    pub fn expected_sequence(&self) -> SequenceId {
        self.expected
    }

    /// Bytes fed but not yet returned in a payload.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// Whether the buffered bytes followed by `more` let
    /// [`FrameDecoder::decode`] make progress: they hold a whole payload, or
    /// a header it refuses (too large, wrong sequence id). An event loop
    /// asks this before handing a connection to a worker; `more` alone says
    /// nothing when the buffer ends inside a packet (invariant 5).
    pub fn ready_with(&self, more: &[u8]) -> bool {
        let have = self.buf.get(self.start..).unwrap_or_default();
        packet_ready(have, more, Some(self.expected), self.max_allowed_packet)
    }

    /// Appends bytes read from the peer.
    pub fn feed(&mut self, bytes: &[u8]) {
        // Drop consumed bytes before growing, so the buffer stays about one
        // packet long.
        if self.start > 0 && (self.start == self.buf.len() || self.start >= self.buf.len() / 2) {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole payload, written into `payload` (cleared first), with
    /// the sequence id of its last chunk; `Ok(None)` if more bytes are needed.
    /// After an error the stream is out of sync: the connection should close.
    pub fn decode(&mut self, payload: &mut Vec<u8>) -> Result<Option<SequenceId>, ProtocolError> {
        // First pass: check headers and find the end without copying.
        let mut at = self.start;
        let mut total: usize = 0;
        let mut seq = self.expected;
        let mut chunks = 0usize;
        loop {
            let Some((len, got)) = header_at(&self.buf, at) else { return Ok(None) };
            if got != seq {
                return Err(ProtocolError::BadSequence { got: got.0, expected: seq.0 });
            }
            total = total.saturating_add(len);
            if total > self.max_allowed_packet {
                return Err(ProtocolError::PacketTooLarge { size: total as u64, max: self.max_allowed_packet as u64 });
            }
            let end = at + HEADER_LEN + len;
            chunks += 1;
            seq = seq.next();
            if len < MAX_CHUNK {
                if end > self.buf.len() {
                    return Ok(None);
                }
                break;
            }
            at = end;
        }
        // Second pass: every chunk is buffered; copy the payloads out.
        payload.clear();
        payload.reserve(total);
        let mut at = self.start;
        let mut last = self.expected;
        for _ in 0..chunks {
            let (len, s) = header_at(&self.buf, at).expect("invariant: checked in the first pass");
            let body = self.buf.get(at + HEADER_LEN..at + HEADER_LEN + len).expect("invariant: chunk is buffered");
            payload.extend_from_slice(body);
            last = s;
            at += HEADER_LEN + len;
        }
        self.start = at;
        self.expected = seq;
        Ok(Some(last))
    }
}

/// Writes packets into a caller-owned buffer, numbering them.
#[derive(Debug)]
pub struct PacketWriter<'a> {
    out: &'a mut Vec<u8>,
    seq: SequenceId,
}

impl<'a> PacketWriter<'a> {
    /// A writer appending to `out`, starting at sequence id `seq`.
    pub fn new(out: &'a mut Vec<u8>, seq: SequenceId) -> PacketWriter<'a> {
        PacketWriter { out, seq }
    }

    /// The sequence id the next packet will carry.
    pub fn sequence(&self) -> SequenceId {
        self.seq
    }

    /// Writes one packet whose payload `f` appends to the buffer it is
    /// given (no intermediate copy unless the payload must be split).
    pub fn packet(&mut self, f: impl FnOnce(&mut Vec<u8>)) {
        let header_at = self.out.len();
        self.out.extend_from_slice(&[0; HEADER_LEN]);
        f(self.out);
        let len = self.out.len() - header_at - HEADER_LEN;
        if len < MAX_CHUNK {
            let l = (len as u32).to_le_bytes();
            self.out[header_at..header_at + HEADER_LEN].copy_from_slice(&[l[0], l[1], l[2], self.seq.0]);
            self.seq = self.seq.next();
            return;
        }
        // Rare: re-frame as several chunks.
        let payload = self.out.split_off(header_at + HEADER_LEN);
        self.out.truncate(header_at);
        self.write(&payload);
    }

    /// Like [`PacketWriter::packet`], for a payload whose encoding may fail:
    /// on error nothing is written and the sequence id does not advance.
    pub fn try_packet<E>(&mut self, f: impl FnOnce(&mut Vec<u8>) -> Result<(), E>) -> Result<(), E> {
        let start = self.out.len();
        let mut result = Ok(());
        let seq = self.seq;
        self.packet(|o| result = f(o));
        if result.is_err() {
            self.out.truncate(start);
            self.seq = seq;
        }
        result
    }

    /// Writes one packet with the given payload.
    pub fn write(&mut self, payload: &[u8]) {
        let mut rest = payload;
        loop {
            let n = rest.len().min(MAX_CHUNK);
            let l = (n as u32).to_le_bytes();
            self.out.extend_from_slice(&[l[0], l[1], l[2], self.seq.0]);
            self.out.extend_from_slice(&rest[..n]);
            self.seq = self.seq.next();
            rest = &rest[n..];
            if n < MAX_CHUNK {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(dec: &mut FrameDecoder) -> Vec<(Vec<u8>, u8)> {
        let mut got = Vec::new();
        let mut p = Vec::new();
        while let Some(seq) = dec.decode(&mut p).expect("valid stream") {
            got.push((p.clone(), seq.0));
        }
        got
    }

    #[test]
    fn ready_with_sees_a_packet_split_across_reads() {
        let mut bytes = Vec::new();
        // The body's own bytes read as a header announcing 8 MiB ("zzz").
        PacketWriter::new(&mut bytes, SequenceId::ZERO).write(b"\x03SELECT 'zzzzzzzzzzzz'");
        for cut in 0..bytes.len() {
            let mut dec = FrameDecoder::new(DEFAULT_MAX_ALLOWED_PACKET);
            dec.feed(&bytes[..cut]);
            let mut p = Vec::new();
            assert_eq!(dec.decode(&mut p).expect("prefix"), None, "cut {cut}");
            assert!(!dec.ready_with(&[]), "cut {cut}");
            assert!(!dec.ready_with(&bytes[cut..bytes.len() - 1]), "cut {cut}");
            assert!(dec.ready_with(&bytes[cut..]), "cut {cut}");
        }
    }

    proptest::proptest! {
        /// Invariant 5 on arbitrary bytes cut in two places: after a worker
        /// took every whole packet of the first piece, `ready_with(second)`
        /// says whether decoding would then give a payload or an error.
        #[test]
        fn ready_with_agrees_with_decode(
            packets in proptest::collection::vec((0u8..12, 0u8..3, proptest::num::u8::ANY), 0..8),
            garbage in proptest::collection::vec(proptest::num::u8::ANY, 0..6),
            cut in 0usize..120,
            max in 1usize..16,
            seq in 0u8..3,
        ) {
            // Mostly well-formed packets (small lengths, sequence ids that
            // may be wrong), then arbitrary bytes.
            let mut bytes = Vec::new();
            for (len, s, fill) in packets {
                bytes.extend_from_slice(&[len, 0, 0, s]);
                bytes.extend(std::iter::repeat_n(fill, usize::from(len)));
            }
            bytes.extend_from_slice(&garbage);
            let cut = cut.min(bytes.len());
            let mut dec = FrameDecoder::new(max);
            dec.expect_sequence(SequenceId(seq));
            dec.feed(&bytes[..cut]);
            let mut p = Vec::new();
            loop {
                match dec.decode(&mut p) {
                    Ok(Some(_)) => dec.expect_sequence(SequenceId(seq)),
                    Ok(None) => break,
                    Err(_) => return Ok(()),
                }
            }
            let ready = dec.ready_with(&bytes[cut..]);
            let mut after = dec.clone();
            after.feed(&bytes[cut..]);
            let progress = !matches!(after.decode(&mut p), Ok(None));
            proptest::prop_assert_eq!(ready, progress);
        }
    }

    #[test]
    fn ready_with_waits_for_every_chunk_and_reports_refusals() {
        let payload = vec![7u8; MAX_CHUNK + 10];
        let mut bytes = Vec::new();
        PacketWriter::new(&mut bytes, SequenceId::ZERO).write(&payload);
        let dec = FrameDecoder::new(DEFAULT_MAX_ALLOWED_PACKET);
        assert!(!dec.ready_with(&bytes[..HEADER_LEN + MAX_CHUNK]));
        assert!(!dec.ready_with(&bytes[..bytes.len() - 1]));
        assert!(dec.ready_with(&bytes));
        // Too large, or a wrong sequence id: decode has an error to give.
        assert!(FrameDecoder::new(100).ready_with(&[200, 0, 0, 0]));
        assert!(dec.ready_with(&[1, 0, 0, 9]));
        assert!(!dec.ready_with(&[1, 0, 0]));
    }

    #[test]
    fn doc_example_com_query_frame() {
        // COM_QUERY "select @@version_comment limit 1" from the protocol docs.
        let bytes = crate::wire::testing::hex(
            "21 00 00 00 03 73 65 6c 65 63 74 20 40 40 76 65 72 73 69 6f 6e 5f 63 6f 6d 6d 65 6e 74 20 6c 69 6d 69 74 20 31",
        );
        let mut dec = FrameDecoder::new(DEFAULT_MAX_ALLOWED_PACKET);
        dec.feed(&bytes);
        let got = decode_all(&mut dec);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0[0], 0x03);
        assert_eq!(&got[0].0[1..], b"select @@version_comment limit 1");
        assert_eq!(dec.expected_sequence(), SequenceId(1));
        let mut out = Vec::new();
        PacketWriter::new(&mut out, SequenceId::ZERO).write(&got[0].0);
        assert_eq!(out, bytes);
    }

    #[test]
    fn bytes_arriving_one_at_a_time_give_the_same_payloads() {
        let mut out = Vec::new();
        let mut w = PacketWriter::new(&mut out, SequenceId::ZERO);
        w.write(b"hello");
        w.write(b"");
        w.packet(|o| o.extend_from_slice(b"world"));
        assert_eq!(w.sequence(), SequenceId(3));
        let mut dec = FrameDecoder::new(100);
        let mut got = Vec::new();
        for b in &out {
            dec.feed(std::slice::from_ref(b));
            got.extend(decode_all(&mut dec));
        }
        assert_eq!(got, vec![(b"hello".to_vec(), 0), (vec![], 1), (b"world".to_vec(), 2)]);
        assert_eq!(dec.buffered(), 0);
    }

    #[test]
    fn large_payloads_split_and_rejoin_at_every_boundary_size() {
        for size in [MAX_CHUNK - 1, MAX_CHUNK, MAX_CHUNK + 1, 2 * MAX_CHUNK] {
            let payload: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
            let mut out = Vec::new();
            let mut w = PacketWriter::new(&mut out, SequenceId(7));
            w.packet(|o| o.extend_from_slice(&payload));
            let chunks = size / MAX_CHUNK + 1;
            assert_eq!(w.sequence(), SequenceId(7 + chunks as u8));
            assert_eq!(out.len(), size + HEADER_LEN * chunks, "size {size}");
            let mut dec = FrameDecoder::new(3 * MAX_CHUNK);
            dec.expect_sequence(SequenceId(7));
            dec.feed(&out);
            let mut p = Vec::new();
            assert_eq!(dec.decode(&mut p), Ok(Some(SequenceId(7 + chunks as u8 - 1))));
            assert!(p == payload, "size {size}");
            assert_eq!(dec.decode(&mut p), Ok(None));
        }
    }

    #[test]
    fn failed_packet_leaves_no_bytes_and_keeps_the_sequence() {
        let mut out = vec![9];
        let mut w = PacketWriter::new(&mut out, SequenceId(4));
        let r: Result<(), ()> = w.try_packet(|o| {
            o.extend_from_slice(b"partial");
            Err(())
        });
        assert!(r.is_err());
        assert_eq!(w.sequence(), SequenceId(4));
        w.try_packet(|o| {
            o.push(1);
            Ok::<(), ()>(())
        })
        .expect("ok");
        assert_eq!(out, vec![9, 1, 0, 0, 4, 1]);
    }

    #[test]
    fn oversized_packet_fails_on_its_header_alone() {
        let mut dec = FrameDecoder::new(1024);
        // Announces 0xFFFFFF bytes; only the header has arrived.
        dec.feed(&[0xFF, 0xFF, 0xFF, 0x00]);
        let mut p = Vec::new();
        assert_eq!(dec.decode(&mut p), Err(ProtocolError::PacketTooLarge { size: MAX_CHUNK as u64, max: 1024 }));
        assert_eq!(p.capacity(), 0);
    }

    #[test]
    fn split_packet_over_the_limit_fails_on_the_later_header() {
        let mut dec = FrameDecoder::new(MAX_CHUNK + 10);
        let mut bytes = vec![0xFF, 0xFF, 0xFF, 0x00];
        bytes.resize(HEADER_LEN + MAX_CHUNK, 0);
        bytes.extend_from_slice(&[11, 0, 0, 1]);
        dec.feed(&bytes);
        let mut p = Vec::new();
        assert_eq!(
            dec.decode(&mut p),
            Err(ProtocolError::PacketTooLarge { size: MAX_CHUNK as u64 + 11, max: MAX_CHUNK as u64 + 10 })
        );
    }

    #[test]
    fn wrong_sequence_id_is_an_error() {
        let mut dec = FrameDecoder::new(100);
        dec.feed(&[1, 0, 0, 3, 0x0e]);
        let mut p = Vec::new();
        assert_eq!(dec.decode(&mut p), Err(ProtocolError::BadSequence { got: 3, expected: 0 }));
        dec.expect_sequence(SequenceId(3));
        assert_eq!(dec.decode(&mut p), Ok(Some(SequenceId(3))));
        assert_eq!(p, vec![0x0e]);
    }

    #[test]
    fn sequence_ids_wrap_at_256() {
        let mut out = Vec::new();
        let mut w = PacketWriter::new(&mut out, SequenceId(255));
        w.write(b"a");
        w.write(b"b");
        let mut dec = FrameDecoder::new(100);
        dec.expect_sequence(SequenceId(255));
        dec.feed(&out);
        assert_eq!(decode_all(&mut dec), vec![(b"a".to_vec(), 255), (b"b".to_vec(), 0)]);
    }

    proptest::proptest! {
        #[test]
        fn random_bytes_never_panic_the_decoder(chunks in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 0..64), 0..16), max in 0usize..200) {
            let mut dec = FrameDecoder::new(max);
            let mut p = Vec::new();
            for c in chunks {
                dec.feed(&c);
                loop {
                    match dec.decode(&mut p) {
                        Ok(Some(_)) => proptest::prop_assert!(p.len() <= max),
                        Ok(None) => break,
                        Err(_) => return Ok(()),
                    }
                }
            }
        }

        #[test]
        fn any_payloads_round_trip_in_any_pieces(payloads in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 0..300), 0..8), piece in 1usize..50) {
            let mut out = Vec::new();
            let mut w = PacketWriter::new(&mut out, SequenceId::ZERO);
            for p in &payloads {
                w.write(p);
            }
            let mut dec = FrameDecoder::new(1000);
            let mut got = Vec::new();
            for c in out.chunks(piece) {
                dec.feed(c);
                got.extend(decode_all(&mut dec).into_iter().map(|(p, _)| p));
            }
            proptest::prop_assert_eq!(got, payloads);
        }
    }
}
