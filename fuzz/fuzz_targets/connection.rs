//! Fuzzes mizzled's connection state machine (`mizzled::conn::Conn`)
//! without sockets: a logged-in connection on an in-memory database gets
//! the input in pieces (sizes from the first byte), as packets or raw
//! bytes. Whatever arrives, the connection answers, waits for more or
//! closes; it never panics or hangs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mizzle_protocol::Capabilities;
use mizzled::conn::detached::{feed, logged_in};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, data)) = data.split_first() else { return };
    let caps = if selector & 1 == 0 {
        Capabilities::MULTI_STATEMENTS | Capabilities::DEPRECATE_EOF
    } else {
        Capabilities::empty()
    };
    let Some(mut conn) = logged_in(caps) else { return };
    let piece = usize::from(selector >> 1).max(1);
    for chunk in data.chunks(piece) {
        if !feed(&mut conn, chunk) {
            return;
        }
    }
});
