//! Fuzzes the stored row and key decoders: corrupt bytes are errors.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mizzle_types::key::decode_tuple;
use mizzle_types::row::RowRef;

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = RowRef::new(data) {
        for i in 0..r.len().min(64) {
            let _ = r.get(i);
        }
    }
    let mut s = data;
    let _ = decode_tuple(&mut s, 4);
});
