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
