//! One whole connection through the public API, as `mizzled` will drive it:
//! handshake, a text query with two result sets, a prepared statement
//! executed twice (types sent only the first time) with binary rows, an
//! unknown command answered with ERR, and COM_QUIT. The client side is
//! scripted with the crate's own decoders.

use mizzle_protocol::binary::decode_binary_row;
use mizzle_protocol::response::decode_text_row;
use mizzle_protocol::statement::encode_execute;
use mizzle_protocol::{
    auth, AuthPlugin, BinaryValue, Capabilities, Collation, ColumnDefinition, ColumnType, Command, ConnectionId,
    Credential, CredentialStore, CursorFlags, ErrPacket, FrameDecoder, Greeting, HandshakeConfig, HandshakeResponse,
    HandshakeStep, NativeHash, OkPacket, PacketWriter, ParamType, PrepareOk, ProtocolError, ResultSetWriter, Scramble,
    SequenceId, ServerHandshake, StatementId, StatementParams, StatusFlags,
};
use mizzle_types::{SqlError, SqlType, Value};

struct Accounts;

impl CredentialStore for Accounts {
    fn credential(&mut self, user: &str, _host: &str) -> Option<Credential> {
        (user == "app").then(|| Credential::NativePassword(Some(NativeHash::of_password(b"s3cret"))))
    }
    fn verify_password(&mut self, _user: &str, _host: &str, _password: &[u8]) -> bool {
        false
    }
}

/// The client's end of the pipe.
struct Client {
    dec: FrameDecoder,
    seq: SequenceId,
}

impl Client {
    fn recv(&mut self, wire: &mut Vec<u8>) -> Vec<Vec<u8>> {
        self.dec.expect_sequence(self.seq);
        self.dec.feed(wire);
        wire.clear();
        let mut packets = Vec::new();
        let mut p = Vec::new();
        while let Some(s) = self.dec.decode(&mut p).expect("server framing") {
            self.seq = s.next();
            packets.push(p.clone());
        }
        packets
    }

    fn send(&mut self, payload: &[u8], new_command: bool) -> Vec<u8> {
        if new_command {
            self.seq = SequenceId::ZERO;
        }
        let mut out = Vec::new();
        let mut w = PacketWriter::new(&mut out, self.seq);
        w.write(payload);
        self.seq = w.sequence();
        out
    }
}

#[test]
fn a_whole_connection() {
    // --- Handshake (server greets with caching_sha2; the account is native).
    let mut wire = Vec::new();
    let mut hs = ServerHandshake::new(
        HandshakeConfig::default(),
        ConnectionId(1),
        Scramble::from_random([0x5a; 20]),
        "127.0.0.1",
        false,
        &mut wire,
    );
    let mut client = Client { dec: FrameDecoder::new(1 << 24), seq: SequenceId::ZERO };
    let greeting = Greeting::decode(&client.recv(&mut wire)[0]).expect("greeting");
    assert_eq!(greeting.auth_plugin, AuthPlugin::CachingSha2Password);
    let client_caps = Capabilities::PROTOCOL_41
        | Capabilities::SECURE_CONNECTION
        | Capabilities::PLUGIN_AUTH
        | Capabilities::MULTI_RESULTS
        | Capabilities::TRANSACTIONS;
    let mut payload = Vec::new();
    HandshakeResponse {
        capabilities: client_caps,
        max_packet_size: 1 << 24,
        collation: Collation::UTF8MB4_GENERAL_CI,
        user: "app",
        auth_response: &auth::sha2_response(b"s3cret", &greeting.scramble),
        database: None,
        auth_plugin: Some("caching_sha2_password"),
        attributes: vec![],
    }
    .encode(&mut payload);
    hs.feed(&client.send(&payload, false));
    assert_eq!(hs.step(&mut Accounts, &mut wire), Ok(HandshakeStep::NeedMore));
    let switch = client.recv(&mut wire);
    assert_eq!(switch[0][0], 0xFE);
    hs.feed(&client.send(&auth::native_response(b"s3cret", &greeting.scramble), false));
    let HandshakeStep::Authenticated(info) = hs.step(&mut Accounts, &mut wire).expect("authenticated") else {
        panic!("not authenticated")
    };
    assert_eq!(info.user, "app");
    let caps = info.capabilities;
    assert!(!caps.contains(Capabilities::DEPRECATE_EOF));
    let established = hs.accept(&mut wire).expect("accepted");
    let ok = client.recv(&mut wire);
    assert_eq!(OkPacket::decode(&ok[0], caps).expect("ok").status, StatusFlags::AUTOCOMMIT);
    let mut dec = established.decoder;

    // --- COM_QUERY with two result sets (a multi-statement call).
    let rs = ResultSetWriter::new(caps);
    let mut payload = Vec::new();
    let mut scratch = Vec::new();
    dec.feed(&client.send(b"\x03SELECT 1; SELECT 'x'", true));
    assert!(dec.decode(&mut payload).expect("frame").is_some());
    let Command::Query(q) = Command::parse(&payload, caps).expect("command") else { panic!() };
    assert_eq!(q.sql, "SELECT 1; SELECT 'x'");
    let mut w = PacketWriter::new(&mut wire, SequenceId(1));
    let int_col = ColumnDefinition::for_sql_type("1", SqlType::BIGINT, false, Collation::UTF8MB4_0900_AI_CI);
    let text_col = ColumnDefinition::for_sql_type("x", SqlType::Varchar(1), false, Collation::UTF8MB4_0900_AI_CI);
    rs.begin(&mut w, std::slice::from_ref(&int_col), StatusFlags::AUTOCOMMIT);
    rs.text_row(&mut w, &[Value::Int(1)], &mut scratch);
    rs.end(&mut w, StatusFlags::AUTOCOMMIT | StatusFlags::MORE_RESULTS_EXISTS, 0);
    rs.begin(&mut w, std::slice::from_ref(&text_col), StatusFlags::AUTOCOMMIT);
    rs.text_row(&mut w, &[Value::text("x")], &mut scratch);
    rs.end(&mut w, StatusFlags::AUTOCOMMIT, 0);
    let p = client.recv(&mut wire);
    assert_eq!(p.len(), 10);
    assert_eq!(decode_text_row(&p[3], 1).expect("row"), vec![Some(&b"1"[..])]);
    assert_eq!(decode_text_row(&p[8], 1).expect("row"), vec![Some(&b"x"[..])]);

    // --- COM_STMT_PREPARE and two executes.
    dec.expect_sequence(SequenceId::ZERO);
    dec.feed(&client.send(b"\x16SELECT ?, ?", true));
    dec.decode(&mut payload).expect("frame");
    assert_eq!(Command::parse(&payload, caps), Ok(Command::StmtPrepare("SELECT ?, ?")));
    let param = ColumnDefinition::for_sql_type("?", SqlType::Null, true, Collation::BINARY);
    let cols = [int_col.clone(), text_col.clone()];
    let mut w = PacketWriter::new(&mut wire, SequenceId(1));
    PrepareOk::write_response(StatementId(1), &[param.clone(), param], &cols, 0, caps, StatusFlags::AUTOCOMMIT, &mut w)
        .expect("small");
    let p = client.recv(&mut wire);
    assert_eq!(PrepareOk::decode(&p[0]).expect("prepare ok").params, 2);
    assert_eq!(p.len(), 1 + 3 + 3);
    let mut stmt = StatementParams::new(2);

    let types = [
        ParamType { column_type: ColumnType::LongLong, unsigned: false },
        ParamType { column_type: ColumnType::VarString, unsigned: false },
    ];
    for (i, bind) in [(41i64, true), (42, false)] {
        let mut exec = Vec::new();
        let text = format!("v{i}");
        let vals = [BinaryValue::Int(i), BinaryValue::String(text.as_bytes().into())];
        encode_execute(&mut exec, StatementId(1), CursorFlags::NO_CURSOR, &types, &vals, bind).expect("fits");
        dec.expect_sequence(SequenceId::ZERO);
        dec.feed(&client.send(&exec, true));
        dec.decode(&mut payload).expect("frame");
        let Command::StmtExecute(e) = Command::parse(&payload, caps).expect("command") else { panic!() };
        let params = e.decode_params(&mut stmt, caps).expect("params");
        let values: Vec<Value> = params.params.iter().filter_map(|p| p.to_value()).collect();
        assert_eq!(values, vec![Value::Int(i), Value::text(&text)]);
        let mut w = PacketWriter::new(&mut wire, SequenceId(1));
        rs.begin(&mut w, &cols, StatusFlags::AUTOCOMMIT);
        rs.binary_row(&mut w, &cols, &values).expect("fits");
        rs.end(&mut w, StatusFlags::AUTOCOMMIT, 0);
        let p = client.recv(&mut wire);
        let row = decode_binary_row(&p[4], &cols).expect("binary row");
        assert_eq!(row.iter().map(BinaryValue::to_value).collect::<Vec<_>>(), values);
    }

    // --- An unknown command is an ERR; the connection goes on.
    dec.expect_sequence(SequenceId::ZERO);
    dec.feed(&client.send(&[0x05, b'x'], true));
    dec.decode(&mut payload).expect("frame");
    let e = Command::parse(&payload, caps).expect_err("unknown");
    assert_eq!(e, ProtocolError::UnknownCommand { code: 0x05 });
    assert!(e.connection_survives());
    PacketWriter::new(&mut wire, SequenceId(1)).packet(|o| ErrPacket::from_error(&e).encode(caps, o));
    let p = client.recv(&mut wire);
    let err = ErrPacket::decode(&p[0], caps).expect("err");
    assert_eq!(err.number, e.code().number());

    // --- COM_QUIT.
    dec.expect_sequence(SequenceId::ZERO);
    dec.feed(&client.send(&[0x01], true));
    dec.decode(&mut payload).expect("frame");
    assert_eq!(Command::parse(&payload, caps), Ok(Command::Quit));
}
