//! Fuzzes the MySQL protocol decoders: frames fed in pieces, the client's
//! handshake packets, commands (with and without query attributes), execute
//! parameters and client-side response decoders. Bad bytes are errors.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mizzle_protocol::binary::decode_binary_row;
use mizzle_protocol::handshake::{ClientHello, Greeting};
use mizzle_protocol::response::{decode_text_row, OkPacket};
use mizzle_protocol::{Capabilities, Collation, ColumnDefinition, Command, FrameDecoder, StatementParams};
use mizzle_types::SqlType;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, data)) = data.split_first() else { return };
    let caps = if selector & 1 == 0 {
        Capabilities(u32::MAX)
    } else {
        Capabilities::PROTOCOL_41 | Capabilities::SECURE_CONNECTION
    };
    // Frames, fed in pieces of a size taken from the selector.
    let mut dec = FrameDecoder::new(usize::from(selector) * 64);
    let mut payload = Vec::new();
    for piece in data.chunks(usize::from(selector % 7) + 1) {
        dec.feed(piece);
        while let Ok(Some(_)) = dec.decode(&mut payload) {}
    }
    let _ = ClientHello::decode(data);
    let _ = Greeting::decode(data);
    let _ = OkPacket::decode(data, caps);
    let _ = ColumnDefinition::decode(data);
    let _ = decode_text_row(data, usize::from(selector % 5));
    let cols: Vec<ColumnDefinition> = [SqlType::BIGINT, SqlType::Varchar(3), SqlType::DateTime(6), SqlType::Double]
        .iter()
        .map(|t| ColumnDefinition::for_sql_type("c", *t, true, Collation::UTF8MB4_0900_AI_CI))
        .collect();
    let _ = decode_binary_row(data, &cols);
    if let Ok(Command::StmtExecute(e)) = Command::parse(data, caps) {
        let mut stmt = StatementParams::new(u16::from(selector % 9));
        let _ = e.decode_params(&mut stmt, caps);
        let _ = e.decode_params(&mut stmt, caps);
    }
});
