//! The protocol's basic data types: fixed-width little-endian integers,
//! length-encoded integers and strings, NUL-terminated strings, read from a
//! bounds-checked cursor and appended to a byte vector.
//!
//! Invariants:
//! 1. Every read checks the remaining length first and names its field in
//!    the error; nothing here indexes unchecked or allocates from a length
//!    read off the wire (strings are borrowed slices of the payload).
//! 2. All integers are little-endian, as the protocol defines them.
//! 3. A length-encoded integer is written in its shortest form; reading
//!    accepts any form (MySQL's own clients never send long forms for small
//!    values, but the protocol allows them).
//!
//! This module knows nothing of packets or commands.

use crate::error::ProtocolError;

/// First byte of a length-encoded integer meaning NULL (in text rows).
pub const LENENC_NULL: u8 = 0xFB;

/// A bounds-checked cursor over one payload.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// True when every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The next byte without consuming it.
    pub fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    /// The next `n` bytes.
    pub fn bytes(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], ProtocolError> {
        let available = self.remaining();
        let end = self.pos.checked_add(n).filter(|_| n <= available);
        match end.and_then(|end| self.buf.get(self.pos..end)) {
            Some(s) => {
                self.pos += n;
                Ok(s)
            }
            None => Err(ProtocolError::truncated(field, n, available)),
        }
    }

    /// The next `N` bytes as an array.
    pub fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], ProtocolError> {
        let s = self.bytes(N, field)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        let s = self.buf.get(self.pos..).unwrap_or(&[]);
        self.pos = self.buf.len();
        s
    }

    /// One byte.
    pub fn u8(&mut self, field: &'static str) -> Result<u8, ProtocolError> {
        Ok(self.array::<1>(field)?[0])
    }

    /// A little-endian `u16`.
    pub fn u16(&mut self, field: &'static str) -> Result<u16, ProtocolError> {
        Ok(u16::from_le_bytes(self.array(field)?))
    }

    /// A little-endian 3-byte integer.
    pub fn u24(&mut self, field: &'static str) -> Result<u32, ProtocolError> {
        let [a, b, c] = self.array(field)?;
        Ok(u32::from_le_bytes([a, b, c, 0]))
    }

    /// A little-endian `u32`.
    pub fn u32(&mut self, field: &'static str) -> Result<u32, ProtocolError> {
        Ok(u32::from_le_bytes(self.array(field)?))
    }

    /// A little-endian `u64`.
    pub fn u64(&mut self, field: &'static str) -> Result<u64, ProtocolError> {
        Ok(u64::from_le_bytes(self.array(field)?))
    }

    /// A length-encoded integer, or `None` for the NULL marker `0xFB`.
    pub fn lenenc_int_or_null(&mut self, field: &'static str) -> Result<Option<u64>, ProtocolError> {
        let first = self.u8(field)?;
        Ok(Some(match first {
            0..=0xFA => u64::from(first),
            LENENC_NULL => return Ok(None),
            0xFC => u64::from(self.u16(field)?),
            0xFD => u64::from(self.u24(field)?),
            0xFE => self.u64(field)?,
            0xFF => return Err(ProtocolError::BadLengthEncodedInt { field, first_byte: first }),
        }))
    }

    /// A length-encoded integer; the NULL marker is an error.
    pub fn lenenc_int(&mut self, field: &'static str) -> Result<u64, ProtocolError> {
        self.lenenc_int_or_null(field)?.ok_or(ProtocolError::BadLengthEncodedInt { field, first_byte: LENENC_NULL })
    }

    /// A length-encoded string (bytes); the length is checked against what
    /// is left before anything is sliced.
    pub fn lenenc_bytes(&mut self, field: &'static str) -> Result<&'a [u8], ProtocolError> {
        let len = self.lenenc_int(field)?;
        let available = self.remaining();
        match usize::try_from(len) {
            Ok(n) if n <= available => self.bytes(n, field),
            _ => Err(ProtocolError::Truncated { field, needed: len, available: available as u64 }),
        }
    }

    /// A length-encoded string or NULL (`0xFB`), as in text rows.
    pub fn lenenc_bytes_or_null(&mut self, field: &'static str) -> Result<Option<&'a [u8]>, ProtocolError> {
        if self.peek() == Some(LENENC_NULL) {
            self.pos += 1;
            return Ok(None);
        }
        self.lenenc_bytes(field).map(Some)
    }

    /// A string ended by a NUL byte (the NUL is consumed, not returned).
    pub fn nul_bytes(&mut self, field: &'static str) -> Result<&'a [u8], ProtocolError> {
        let rest = self.buf.get(self.pos..).unwrap_or(&[]);
        match rest.iter().position(|&b| b == 0) {
            Some(n) => {
                let s = self.bytes(n, field)?;
                self.pos += 1;
                Ok(s)
            }
            None => Err(ProtocolError::truncated(field, rest.len() + 1, rest.len())),
        }
    }

    /// A NUL-terminated string, or everything left if no NUL follows (some
    /// clients omit the last terminator of a packet).
    pub fn nul_bytes_or_rest(&mut self) -> &'a [u8] {
        let rest = self.buf.get(self.pos..).unwrap_or(&[]);
        match rest.iter().position(|&b| b == 0) {
            Some(n) => {
                self.pos += n + 1;
                rest.get(..n).unwrap_or(&[])
            }
            None => self.rest(),
        }
    }

    /// Fails if any byte is left after `after`.
    pub fn finish(&self, after: &'static str) -> Result<(), ProtocolError> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(ProtocolError::TrailingBytes { after, extra: n as u64 }),
        }
    }
}

/// `bytes` as UTF-8, or an error naming `field`.
pub fn utf8<'a>(bytes: &'a [u8], field: &'static str) -> Result<&'a str, ProtocolError> {
    std::str::from_utf8(bytes).map_err(|_| ProtocolError::utf8(field, bytes))
}

/// Appends a little-endian `u16`.
pub fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Appends a little-endian 3-byte integer (the low 24 bits of `v`).
pub fn put_u24(out: &mut Vec<u8>, v: u32) {
    let b = v.to_le_bytes();
    out.extend_from_slice(&b[..3]);
}

/// Appends a little-endian `u32`.
pub fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Appends a little-endian `u64`.
pub fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Appends a length-encoded integer in its shortest form.
pub fn put_lenenc_int(out: &mut Vec<u8>, v: u64) {
    if v < 0xFB {
        out.push(v as u8);
    } else if v <= 0xFFFF {
        out.push(0xFC);
        put_u16(out, v as u16);
    } else if v <= 0xFF_FFFF {
        out.push(0xFD);
        put_u24(out, v as u32);
    } else {
        out.push(0xFE);
        put_u64(out, v);
    }
}

/// The number of bytes [`put_lenenc_int`] writes for `v`.
pub fn lenenc_int_len(v: u64) -> usize {
    match v {
        0..0xFB => 1,
        0xFB..=0xFFFF => 3,
        0x1_0000..=0xFF_FFFF => 4,
        _ => 9,
    }
}

/// Appends a length-encoded string.
pub fn put_lenenc_bytes(out: &mut Vec<u8>, s: &[u8]) {
    put_lenenc_int(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// Appends a NUL-terminated string. `s` must not contain NUL; callers pass
/// names and versions they control.
pub fn put_nul_bytes(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(s);
    out.push(0);
}

#[cfg(test)]
pub(crate) mod testing {
    //! Test support: feeding every truncation of an input to a decoder.

    /// Calls `decode` on every strict prefix of `input` and asserts that each
    /// returns an error (and, by running, that none panics).
    pub fn assert_every_truncation_fails<'i, T: std::fmt::Debug, E>(
        input: &'i [u8],
        decode: impl Fn(&'i [u8]) -> Result<T, E>,
    ) {
        for n in 0..input.len() {
            if let Ok(v) = decode(&input[..n]) {
                panic!("prefix of {n} of {} bytes decoded as {v:?}", input.len());
            }
        }
    }

    /// Decodes hex with optional whitespace: `"0a 35 2e"`.
    pub fn hex(s: &str) -> Vec<u8> {
        let digits: Vec<u8> = s.bytes().filter(|b| b.is_ascii_hexdigit()).collect();
        assert!(digits.len().is_multiple_of(2), "odd hex length");
        digits
            .chunks(2)
            .map(|p| u8::from_str_radix(std::str::from_utf8(p).expect("ascii"), 16).expect("hex digit"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenenc_ints_use_the_shortest_form_and_round_trip() {
        for (v, enc) in [
            (0u64, vec![0x00]),
            (250, vec![0xFA]),
            (251, vec![0xFC, 0xFB, 0x00]),
            (0xFFFF, vec![0xFC, 0xFF, 0xFF]),
            (0x1_0000, vec![0xFD, 0x00, 0x00, 0x01]),
            (0xFF_FFFF, vec![0xFD, 0xFF, 0xFF, 0xFF]),
            (0x100_0000, vec![0xFE, 0, 0, 0, 1, 0, 0, 0, 0]),
            (u64::MAX, vec![0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]),
        ] {
            let mut out = Vec::new();
            put_lenenc_int(&mut out, v);
            assert_eq!(out, enc, "{v}");
            assert_eq!(lenenc_int_len(v), enc.len());
            let mut r = Reader::new(&out);
            assert_eq!(r.lenenc_int("v"), Ok(v));
            assert!(r.is_empty());
            testing::assert_every_truncation_fails(&out, |b| Reader::new(b).lenenc_int("v"));
        }
    }

    #[test]
    fn lenenc_0xff_is_an_error_and_0xfb_is_null() {
        assert_eq!(
            Reader::new(&[0xFF]).lenenc_int("x"),
            Err(ProtocolError::BadLengthEncodedInt { field: "x", first_byte: 0xFF })
        );
        assert_eq!(Reader::new(&[0xFB]).lenenc_int_or_null("x"), Ok(None));
        assert!(Reader::new(&[0xFB]).lenenc_int("x").is_err());
    }

    #[test]
    fn lenenc_string_longer_than_the_packet_is_truncated_without_allocating() {
        // Announces 2^64-1 bytes.
        let input = [0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, b'a'];
        assert_eq!(
            Reader::new(&input).lenenc_bytes("s"),
            Err(ProtocolError::Truncated { field: "s", needed: u64::MAX, available: 1 })
        );
    }

    #[test]
    fn nul_strings_need_their_terminator() {
        let mut r = Reader::new(b"abc\0de");
        assert_eq!(r.nul_bytes("a"), Ok(&b"abc"[..]));
        assert!(r.nul_bytes("b").is_err());
        assert_eq!(r.nul_bytes_or_rest(), b"de");
        assert!(r.is_empty());
    }

    #[test]
    fn fixed_integers_are_little_endian() {
        let mut r = Reader::new(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        assert_eq!(r.u16("a"), Ok(0x0201));
        assert_eq!(r.u24("b"), Ok(0x050403));
        assert!(r.u64("c").is_err());
        assert_eq!(r.u32("d"), Ok(0x0908_0706));
        assert_eq!(r.finish("d"), Err(ProtocolError::TrailingBytes { after: "d", extra: 1 }));
    }
}
