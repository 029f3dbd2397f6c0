//! Fuzzes the JSON binary decoder and path seeking: damaged documents are
//! errors, never panics; and JSON text parsing, whose valid results must
//! survive an encode/decode round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mizzle_types::json::{binary, path, text, JsonPath, JsonRef};

fuzz_target!(|data: &[u8]| {
    let _ = binary::decode(data);
    if let Ok(root) = JsonRef::from_doc(data) {
        for p in ["$.a", "$[0]", "$**.b", "$[*]", "$.*[last]"] {
            if let Ok(p) = JsonPath::parse(p) {
                let _ = path::eval(root, &p);
            }
        }
    }
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(j) = text::parse(s) {
            let doc = binary::encode(&j);
            assert_eq!(binary::decode(&doc).ok(), Some(j));
        }
        let _ = JsonPath::parse(s);
    }
});
