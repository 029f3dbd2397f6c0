//! The worked example of docs/format/mvcc-records.md decodes as specified.

use mizzle_txn::version::{encode_value, parse_key, parse_value, version_key, Kind};
use mizzle_txn::{SpaceId, Ts, TxnId};
use mizzle_types::key::{decode_tuple, encode_tuple};
use mizzle_types::row::{encode_row, RowRef};
use mizzle_types::Value;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex in the spec")).collect()
}

#[test]
fn spec_example_bytes_decode() {
    let key = hex("10 00000014 10 8000000000000007 fffffffffffffff6");
    let value = hex("00 0500000000000000 10 0300 0200 0500 0600 01 07 06 68 69 00");
    let k = parse_key(&key).expect("key");
    assert_eq!(k.space, SpaceId(20));
    assert_eq!(k.seq, Ts(9));
    let mut uk = k.user_key;
    let tuple = decode_tuple(&mut uk, 1).expect("user key");
    assert_eq!(tuple, vec![Value::Int(7)]);
    let v = parse_value(&value).expect("value");
    assert_eq!(v.kind, Kind::Put);
    assert_eq!(v.writer, TxnId(5));
    let row = RowRef::new(v.payload).expect("row").to_values().expect("columns");
    assert_eq!(row, vec![Value::Int(7), Value::text("hi"), Value::Null]);
}

#[test]
fn spec_example_bytes_are_what_mizzle_writes() {
    let mut uk = Vec::new();
    encode_tuple(&[Value::Int(7)], &mut uk);
    let mut key = Vec::new();
    version_key(SpaceId(20), &uk, Ts(9), &mut key);
    assert_eq!(key, hex("10 00000014 10 8000000000000007 fffffffffffffff6"));
    let mut row = Vec::new();
    encode_row(&[Value::Int(7), Value::text("hi"), Value::Null], &mut row);
    let mut value = Vec::new();
    encode_value(Kind::Put, TxnId(5), &row, &mut value);
    assert_eq!(value, hex("00 0500000000000000 10 0300 0200 0500 0600 01 07 06 68 69 00"));
}

/// Section 6's example: the spec's bytes decode to writer 5 in space 20,
/// and the encoders give exactly the bytes the spec prints.
#[test]
fn spec_section_6_example_bytes_decode() {
    use mizzle_txn::records::{marker_key, marker_value, parse_marker, CLOCK_KEY};
    let spec = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/format/mvcc-records.md"))
        .expect("docs/format/mvcc-records.md");
    let example = &spec[spec.find("Worked example: writer 5").expect("section 6 example")..];
    let find = |prefix: &str| -> Vec<u8> {
        let at = example.find(prefix).unwrap_or_else(|| panic!("`{prefix}` in the spec"));
        let rest = &example[at + prefix.len()..];
        hex(&rest[..rest.find('`').expect("closing backtick")])
    };
    let key = find("space 20:\n`");
    let value = find("` → `");
    assert_eq!(key, marker_key(TxnId(5)));
    assert_eq!(value, marker_value(&[SpaceId(20)]));
    let (w, spaces) = parse_marker(&key, &value).expect("decodes");
    assert_eq!((w, spaces), (TxnId(5), vec![SpaceId(20)]));
    let clock = find("is `03` → `");
    assert_eq!(CLOCK_KEY, &[0x03]);
    assert_eq!(u64::from_le_bytes(clock.as_slice().try_into().expect("8 bytes")), 1_048_577);
}
