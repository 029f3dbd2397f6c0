//! Digests: MD5, SHA-1 and CRC-32, written out here because the crate has
//! no hashing dependency. Each works on the argument's bytes (text as UTF-8,
//! numbers and dates in their text form).
//!
//! Invariants:
//! 1. The algorithms follow RFC 1321 (MD5), FIPS 180-4 (SHA-1) and the
//!    IEEE 802.3 polynomial (CRC-32, as zlib and MySQL compute it).
//! 2. Digests are returned as lower-case hex text, as MySQL does.
//!
//! These are not meant for security: MD5 and SHA-1 are broken as such, and
//! nothing here is constant-time.

use std::fmt::Write;

use mizzle_types::Value;

use super::convert;

// Eight constants a row, as RFC 1321 tabulates them.
#[rustfmt::skip]
const MD5_K: [u32; 64] = [
    0xd76a_a478, 0xe8c7_b756, 0x2420_70db, 0xc1bd_ceee, 0xf57c_0faf, 0x4787_c62a, 0xa830_4613, 0xfd46_9501,
    0x6980_98d8, 0x8b44_f7af, 0xffff_5bb1, 0x895c_d7be, 0x6b90_1122, 0xfd98_7193, 0xa679_438e, 0x49b4_0821,
    0xf61e_2562, 0xc040_b340, 0x265e_5a51, 0xe9b6_c7aa, 0xd62f_105d, 0x0244_1453, 0xd8a1_e681, 0xe7d3_fbc8,
    0x21e1_cde6, 0xc337_07d6, 0xf4d5_0d87, 0x455a_14ed, 0xa9e3_e905, 0xfcef_a3f8, 0x676f_02d9, 0x8d2a_4c8a,
    0xfffa_3942, 0x8771_f681, 0x6d9d_6122, 0xfde5_380c, 0xa4be_ea44, 0x4bde_cfa9, 0xf6bb_4b60, 0xbebf_bc70,
    0x289b_7ec6, 0xeaa1_27fa, 0xd4ef_3085, 0x0488_1d05, 0xd9d4_d039, 0xe6db_99e5, 0x1fa2_7cf8, 0xc4ac_5665,
    0xf429_2244, 0x432a_ff97, 0xab94_23a7, 0xfc93_a039, 0x655b_59c3, 0x8f0c_cc92, 0xffef_f47d, 0x8584_5dd1,
    0x6fa8_7e4f, 0xfe2c_e6e0, 0xa301_4314, 0x4e08_11a1, 0xf753_7e82, 0xbd3a_f235, 0x2ad7_d2bb, 0xeb86_d391,
];

const MD5_S: [u32; 16] = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];

/// The message padded to whole 64-byte blocks with its bit length appended.
fn padded(data: &[u8], little_endian: bool) -> Vec<u8> {
    let bits = (data.len() as u64).wrapping_mul(8);
    let mut m = data.to_vec();
    m.push(0x80);
    while m.len() % 64 != 56 {
        m.push(0);
    }
    m.extend_from_slice(&if little_endian { bits.to_le_bytes() } else { bits.to_be_bytes() });
    m
}

fn words<const N: usize>(block: &[u8], little_endian: bool) -> [u32; N] {
    let mut w = [0u32; N];
    for (slot, chunk) in w.iter_mut().zip(block.chunks_exact(4)) {
        let b = <[u8; 4]>::try_from(chunk).unwrap_or([0; 4]);
        *slot = if little_endian { u32::from_le_bytes(b) } else { u32::from_be_bytes(b) };
    }
    w
}

/// The MD5 digest of `data`.
pub(super) fn md5(data: &[u8]) -> [u8; 16] {
    let mut h: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];
    for block in padded(data, true).chunks_exact(64) {
        let m: [u32; 16] = words(block, true);
        let [mut a, mut b, mut c, mut d] = h;
        for (i, k) in MD5_K.iter().enumerate() {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let s = MD5_S[(i / 16) * 4 + i % 4];
            let f = f.wrapping_add(a).wrapping_add(*k).wrapping_add(m[g]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(f.rotate_left(s));
        }
        h = [h[0].wrapping_add(a), h[1].wrapping_add(b), h[2].wrapping_add(c), h[3].wrapping_add(d)];
    }
    let mut out = [0u8; 16];
    for (dst, word) in out.chunks_exact_mut(4).zip(h) {
        dst.copy_from_slice(&word.to_le_bytes());
    }
    out
}

/// The SHA-1 digest of `data`.
pub(super) fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0];
    for block in padded(data, false).chunks_exact(64) {
        let mut w = [0u32; 80];
        let first: [u32; 16] = words(block, false);
        w[..16].copy_from_slice(&first);
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i / 20 {
                0 => ((b & c) | (!b & d), 0x5A82_7999),
                1 => (b ^ c ^ d, 0x6ED9_EBA1),
                2 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let t = a.rotate_left(5).wrapping_add(f).wrapping_add(e).wrapping_add(k).wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        h = [
            h[0].wrapping_add(a),
            h[1].wrapping_add(b),
            h[2].wrapping_add(c),
            h[3].wrapping_add(d),
            h[4].wrapping_add(e),
        ];
    }
    let mut out = [0u8; 20];
    for (dst, word) in out.chunks_exact_mut(4).zip(h) {
        dst.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// CRC-32 (IEEE, reflected), as zlib's `crc32`.
pub(super) fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for b in data {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

fn lower_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// MD5(s) as 32 hex digits.
pub(super) fn md5_value(v: &Value) -> Value {
    if v.is_null() {
        return Value::Null;
    }
    Value::text(&lower_hex(&md5(&convert::bytes(v))))
}

/// SHA1(s) as 40 hex digits.
pub(super) fn sha1_value(v: &Value) -> Value {
    if v.is_null() {
        return Value::Null;
    }
    Value::text(&lower_hex(&sha1(&convert::bytes(v))))
}

/// CRC32(s) as an unsigned integer.
pub(super) fn crc32_value(v: &Value) -> Value {
    if v.is_null() {
        return Value::Null;
    }
    Value::UInt(u64::from(crc32(&convert::bytes(v))))
}
