//! Response packets: OK (with session state tracking), ERR, EOF, and the
//! text-protocol result set (column count, column definitions, rows, end).
//!
//! A result set is written as:
//!
//! ```text
//! column count        lenenc int
//! column definition   × count
//! [EOF]               only without CLIENT_DEPRECATE_EOF
//! row                 × n            (text or binary)
//! EOF | OK(0xFE)      EOF without DEPRECATE_EOF, else OK with header 0xFE
//! ```
//!
//! With `SERVER_MORE_RESULTS_EXISTS` in the final packet, another result
//! (a result set, OK or ERR) follows in the same exchange.
//!
//! Invariants:
//! 1. Encoders take the negotiated capabilities and emit exactly the fields
//!    those capabilities call for; decoders (the client side, for tests and
//!    tools) accept every form encoders produce and the forms MySQL emits.
//! 2. The OK packet's info is length-encoded and omitted when empty (with
//!    no state change under `CLIENT_SESSION_TRACK`), as MySQL 8 and MariaDB
//!    send it (`net_send_ok` stores it with `net_store_data`), although the
//!    protocol documentation calls it `string<EOF>` without session
//!    tracking: libmariadb and the Rust `mysql` crate read a length, and a
//!    client reading to the end (PyMySQL) still gets the text.
//! 3. ERR packets carry an error number and SQLSTATE from
//!    `mizzle_types::ErrorCode` only ([`ErrPacket::new`]).
//!
//! This module does not track the server's status flags; the caller passes
//! them.

use std::borrow::Cow;

use mizzle_types::{ErrorCode, SqlError, SqlType, Value};

use crate::column::ColumnDefinition;
use crate::error::ProtocolError;
use crate::flags::{Capabilities, StatusFlags};
use crate::frame::PacketWriter;
use crate::wire::{self, put_lenenc_bytes, put_lenenc_int, put_u16, Reader, LENENC_NULL};

/// Header byte of OK.
pub const OK_HEADER: u8 = 0x00;
/// Header byte of EOF, and of OK in place of EOF under DEPRECATE_EOF.
pub const EOF_HEADER: u8 = 0xFE;
/// Header byte of ERR.
pub const ERR_HEADER: u8 = 0xFF;

/// One entry of session state tracking data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionStateChange<'a> {
    /// SESSION_TRACK_SYSTEM_VARIABLES (0): a tracked variable changed.
    SystemVariable {
        /// The variable.
        name: Cow<'a, str>,
        /// Its new value as text.
        value: Cow<'a, str>,
    },
    /// SESSION_TRACK_SCHEMA (1): the current schema changed.
    Schema(Cow<'a, str>),
    /// SESSION_TRACK_STATE_CHANGE (2): some tracked state changed.
    StateChanged(bool),
    /// SESSION_TRACK_GTIDS (3), kept as raw data.
    Gtids(Cow<'a, [u8]>),
    /// SESSION_TRACK_TRANSACTION_CHARACTERISTICS (4): the statement text.
    TransactionCharacteristics(Cow<'a, str>),
    /// SESSION_TRACK_TRANSACTION_STATE (5): the 8-character state string.
    TransactionState(Cow<'a, str>),
}

impl SessionStateChange<'_> {
    fn type_byte(&self) -> u8 {
        match self {
            SessionStateChange::SystemVariable { .. } => 0,
            SessionStateChange::Schema(_) => 1,
            SessionStateChange::StateChanged(_) => 2,
            SessionStateChange::Gtids(_) => 3,
            SessionStateChange::TransactionCharacteristics(_) => 4,
            SessionStateChange::TransactionState(_) => 5,
        }
    }

    fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.type_byte());
        let mut data = Vec::new();
        match self {
            SessionStateChange::SystemVariable { name, value } => {
                put_lenenc_bytes(&mut data, name.as_bytes());
                put_lenenc_bytes(&mut data, value.as_bytes());
            }
            SessionStateChange::Schema(s)
            | SessionStateChange::TransactionCharacteristics(s)
            | SessionStateChange::TransactionState(s) => put_lenenc_bytes(&mut data, s.as_bytes()),
            SessionStateChange::StateChanged(b) => put_lenenc_bytes(&mut data, if *b { b"1" } else { b"0" }),
            SessionStateChange::Gtids(g) => {
                // Encoding specification 0, then the GTID set.
                data.push(0);
                put_lenenc_bytes(&mut data, g);
            }
        }
        put_lenenc_bytes(out, &data);
    }

    fn decode<'a>(r: &mut Reader<'a>) -> Result<SessionStateChange<'a>, ProtocolError> {
        let ty = r.u8("session state type")?;
        let mut d = Reader::new(r.lenenc_bytes("session state data")?);
        let text = |d: &mut Reader<'a>, f: &'static str| -> Result<Cow<'a, str>, ProtocolError> {
            Ok(Cow::Borrowed(wire::utf8(d.lenenc_bytes(f)?, f)?))
        };
        Ok(match ty {
            0 => SessionStateChange::SystemVariable {
                name: text(&mut d, "system variable name")?,
                value: text(&mut d, "system variable value")?,
            },
            1 => SessionStateChange::Schema(text(&mut d, "schema")?),
            2 => SessionStateChange::StateChanged(text(&mut d, "state change")? == "1"),
            3 => {
                d.u8("gtid encoding")?;
                SessionStateChange::Gtids(Cow::Borrowed(d.lenenc_bytes("gtids")?))
            }
            4 => SessionStateChange::TransactionCharacteristics(text(&mut d, "transaction characteristics")?),
            5 => SessionStateChange::TransactionState(text(&mut d, "transaction state")?),
            other => return Err(ProtocolError::InvalidField { field: "session state type", value: u64::from(other) }),
        })
    }
}

/// An OK packet (or, with `header` [`EOF_HEADER`], the OK that ends a
/// result set under DEPRECATE_EOF).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OkPacket<'a> {
    /// Rows changed (or found, with CLIENT_FOUND_ROWS).
    pub affected_rows: u64,
    /// `LAST_INSERT_ID()` of the statement.
    pub last_insert_id: u64,
    /// Status flags; [`StatusFlags::SESSION_STATE_CHANGED`] is set by the
    /// encoder when `session_state` is non-empty and tracking is on.
    pub status: StatusFlags,
    /// Warnings of the statement.
    pub warnings: u16,
    /// Human-readable information ("Rows matched: 1  Changed: 1 ...").
    pub info: Cow<'a, str>,
    /// Session state changes (sent only with CLIENT_SESSION_TRACK).
    pub session_state: Vec<SessionStateChange<'a>>,
}

impl OkPacket<'_> {
    /// Appends an OK payload with header 0x00.
    pub fn encode(&self, caps: Capabilities, out: &mut Vec<u8>) {
        self.encode_with_header(OK_HEADER, caps, out);
    }

    /// Appends the payload that ends a result set under DEPRECATE_EOF
    /// (header 0xFE).
    pub fn encode_as_eof(&self, caps: Capabilities, out: &mut Vec<u8>) {
        self.encode_with_header(EOF_HEADER, caps, out);
    }

    fn encode_with_header(&self, header: u8, caps: Capabilities, out: &mut Vec<u8>) {
        out.push(header);
        put_lenenc_int(out, self.affected_rows);
        put_lenenc_int(out, self.last_insert_id);
        let track = caps.contains(Capabilities::SESSION_TRACK);
        let mut status = self.status;
        status.set(StatusFlags::SESSION_STATE_CHANGED, track && !self.session_state.is_empty());
        if caps.contains(Capabilities::PROTOCOL_41) {
            put_u16(out, status.bits());
            put_u16(out, self.warnings);
        } else if caps.contains(Capabilities::TRANSACTIONS) {
            put_u16(out, status.bits());
        }
        if track {
            let changed = status.contains(StatusFlags::SESSION_STATE_CHANGED);
            if changed || !self.info.is_empty() {
                put_lenenc_bytes(out, self.info.as_bytes());
            }
            if changed {
                let mut data = Vec::new();
                for s in &self.session_state {
                    s.encode(&mut data);
                }
                put_lenenc_bytes(out, &data);
            }
        } else if !self.info.is_empty() {
            put_lenenc_bytes(out, self.info.as_bytes());
        }
    }

    /// Decodes an OK payload (header 0x00 or 0xFE; the client side).
    pub fn decode(payload: &[u8], caps: Capabilities) -> Result<OkPacket<'_>, ProtocolError> {
        let mut r = Reader::new(payload);
        let header = r.u8("OK header")?;
        if header != OK_HEADER && header != EOF_HEADER {
            return Err(ProtocolError::InvalidField { field: "OK header", value: u64::from(header) });
        }
        let affected_rows = r.lenenc_int("affected rows")?;
        let last_insert_id = r.lenenc_int("last insert id")?;
        let (status, warnings) = if caps.contains(Capabilities::PROTOCOL_41) {
            (StatusFlags(r.u16("status flags")?), r.u16("warnings")?)
        } else if caps.contains(Capabilities::TRANSACTIONS) {
            (StatusFlags(r.u16("status flags")?), 0)
        } else {
            (StatusFlags::empty(), 0)
        };
        let mut session_state = Vec::new();
        let info = if caps.contains(Capabilities::SESSION_TRACK) {
            let info = if r.is_empty() { &[][..] } else { r.lenenc_bytes("info")? };
            if status.contains(StatusFlags::SESSION_STATE_CHANGED) {
                let mut s = Reader::new(r.lenenc_bytes("session state info")?);
                while !s.is_empty() {
                    session_state.push(SessionStateChange::decode(&mut s)?);
                }
            }
            info
        } else {
            // Length-encoded (what servers send, invariant 2), or the
            // documented string<EOF> when the length does not fit.
            let rest = r.rest();
            let mut l = Reader::new(rest);
            match l.lenenc_bytes("info") {
                Ok(text) if l.is_empty() => text,
                _ => rest,
            }
        };
        Ok(OkPacket {
            affected_rows,
            last_insert_id,
            status,
            warnings,
            info: Cow::Borrowed(wire::utf8(info, "info")?),
            session_state,
        })
    }
}

/// An ERR packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrPacket<'a> {
    /// The error number (from [`ErrorCode`] when encoding).
    pub number: u16,
    /// The five-character SQLSTATE.
    pub sqlstate: [u8; 5],
    /// The message.
    pub message: Cow<'a, str>,
}

/// MySQL's limit on error message length (`MYSQL_ERRMSG_SIZE` − 1).
pub const MAX_ERROR_MESSAGE: usize = 511;

impl<'a> ErrPacket<'a> {
    /// An ERR for `code` with `message` (invariant 3).
    pub fn new(code: ErrorCode, message: impl Into<Cow<'a, str>>) -> ErrPacket<'a> {
        let mut sqlstate = [b'H', b'Y', b'0', b'0', b'0'];
        let s = code.sqlstate().as_bytes();
        if s.len() == 5 {
            sqlstate.copy_from_slice(s);
        }
        ErrPacket { number: code.number(), sqlstate, message: message.into() }
    }

    /// An ERR for any mizzle error.
    pub fn from_error(e: &dyn SqlError) -> ErrPacket<'static> {
        ErrPacket::new(e.code(), e.to_string())
    }

    /// Appends the payload; the message is cut (on a character boundary) at
    /// [`MAX_ERROR_MESSAGE`] bytes, as MySQL clients expect.
    pub fn encode(&self, caps: Capabilities, out: &mut Vec<u8>) {
        out.push(ERR_HEADER);
        put_u16(out, self.number);
        if caps.contains(Capabilities::PROTOCOL_41) {
            out.push(b'#');
            out.extend_from_slice(&self.sqlstate);
        }
        let mut end = self.message.len().min(MAX_ERROR_MESSAGE);
        while !self.message.is_char_boundary(end) {
            end -= 1;
        }
        out.extend_from_slice(&self.message.as_bytes()[..end]);
    }

    /// Decodes an ERR payload (the client side).
    pub fn decode(payload: &'a [u8], caps: Capabilities) -> Result<ErrPacket<'a>, ProtocolError> {
        let mut r = Reader::new(payload);
        let header = r.u8("ERR header")?;
        if header != ERR_HEADER {
            return Err(ProtocolError::InvalidField { field: "ERR header", value: u64::from(header) });
        }
        let number = r.u16("error code")?;
        let mut sqlstate = *b"HY000";
        if caps.contains(Capabilities::PROTOCOL_41) && r.peek() == Some(b'#') {
            r.u8("sqlstate marker")?;
            sqlstate = r.array("sqlstate")?;
        }
        let message = Cow::Borrowed(wire::utf8(r.rest(), "error message")?);
        Ok(ErrPacket { number, sqlstate, message })
    }
}

/// A classic EOF packet (without DEPRECATE_EOF).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EofPacket {
    /// Warnings.
    pub warnings: u16,
    /// Status flags.
    pub status: StatusFlags,
}

impl EofPacket {
    /// Appends the payload.
    pub fn encode(&self, caps: Capabilities, out: &mut Vec<u8>) {
        out.push(EOF_HEADER);
        if caps.contains(Capabilities::PROTOCOL_41) {
            put_u16(out, self.warnings);
            put_u16(out, self.status.bits());
        }
    }

    /// Decodes the payload (the client side).
    pub fn decode(payload: &[u8], caps: Capabilities) -> Result<EofPacket, ProtocolError> {
        let mut r = Reader::new(payload);
        let header = r.u8("EOF header")?;
        if header != EOF_HEADER {
            return Err(ProtocolError::InvalidField { field: "EOF header", value: u64::from(header) });
        }
        if !caps.contains(Capabilities::PROTOCOL_41) {
            return Ok(EofPacket { warnings: 0, status: StatusFlags::empty() });
        }
        let warnings = r.u16("warnings")?;
        let status = StatusFlags(r.u16("status flags")?);
        r.finish("status flags")?;
        Ok(EofPacket { warnings, status })
    }
}

/// Appends a text-protocol row: each value length-encoded, `0xFB` for NULL.
pub fn encode_text_row(out: &mut Vec<u8>, values: &[Option<&[u8]>]) {
    for v in values {
        match v {
            Some(b) => put_lenenc_bytes(out, b),
            None => out.push(LENENC_NULL),
        }
    }
}

/// Appends a text-protocol row of [`Value`]s, formatted as MySQL prints
/// them (`Value::write_text`). `scratch` is reused between calls.
pub fn encode_text_row_values(out: &mut Vec<u8>, values: &[Value], scratch: &mut Vec<u8>) {
    encode_text_row_typed(out, values, &[], scratch);
}

/// [`encode_text_row_values`] for values of columns of known types
/// (`types[i]` for `values[i]`; missing ones print untyped): a value is
/// printed as its column's type prints it (`Value::write_text_as`:
/// `DATETIME(3)` with exactly 3 fractional digits, the zero `YEAR` as
/// `0000`).
pub fn encode_text_row_typed(out: &mut Vec<u8>, values: &[Value], types: &[SqlType], scratch: &mut Vec<u8>) {
    for (i, v) in values.iter().enumerate() {
        match v {
            Value::Null => out.push(LENENC_NULL),
            Value::Text(s) => put_lenenc_bytes(out, s.as_bytes()),
            Value::Bytes(b) => put_lenenc_bytes(out, b),
            other => {
                scratch.clear();
                match types.get(i) {
                    Some(ty) => other.write_text_as(*ty, scratch),
                    None => other.write_text(scratch),
                }
                put_lenenc_bytes(out, scratch);
            }
        }
    }
}

/// Decodes a text-protocol row of `columns` values (the client side).
pub fn decode_text_row(payload: &[u8], columns: usize) -> Result<Vec<Option<&[u8]>>, ProtocolError> {
    let mut r = Reader::new(payload);
    let mut row = Vec::with_capacity(columns.min(payload.len()));
    for _ in 0..columns {
        row.push(r.lenenc_bytes_or_null("column value")?);
    }
    r.finish("last column value")?;
    Ok(row)
}

/// Writes result sets as packet sequences under the negotiated capabilities.
#[derive(Debug, Clone, Copy)]
pub struct ResultSetWriter {
    caps: Capabilities,
}

impl ResultSetWriter {
    /// A writer for a connection with capabilities `caps`.
    pub fn new(caps: Capabilities) -> ResultSetWriter {
        ResultSetWriter { caps }
    }

    /// Writes the column count, the definitions and (without DEPRECATE_EOF)
    /// the EOF that ends them.
    pub fn begin(&self, w: &mut PacketWriter<'_>, columns: &[ColumnDefinition], status: StatusFlags) {
        w.packet(|o| put_lenenc_int(o, columns.len() as u64));
        for c in columns {
            w.packet(|o| c.encode(o));
        }
        if !self.caps.contains(Capabilities::DEPRECATE_EOF) {
            w.packet(|o| EofPacket { warnings: 0, status }.encode(self.caps, o));
        }
    }

    /// Writes definitions alone with their EOF (the parameter or column
    /// block after COM_STMT_PREPARE_OK); nothing if `columns` is empty.
    pub fn definitions(&self, w: &mut PacketWriter<'_>, columns: &[ColumnDefinition], status: StatusFlags) {
        if columns.is_empty() {
            return;
        }
        for c in columns {
            w.packet(|o| c.encode(o));
        }
        if !self.caps.contains(Capabilities::DEPRECATE_EOF) {
            w.packet(|o| EofPacket { warnings: 0, status }.encode(self.caps, o));
        }
    }

    /// Writes one text row of values.
    pub fn text_row(&self, w: &mut PacketWriter<'_>, values: &[Value], scratch: &mut Vec<u8>) {
        w.packet(|o| encode_text_row_values(o, values, scratch));
    }

    /// Writes one text row of values of columns of types `types`
    /// ([`encode_text_row_typed`]).
    pub fn text_row_typed(&self, w: &mut PacketWriter<'_>, values: &[Value], types: &[SqlType], scratch: &mut Vec<u8>) {
        w.packet(|o| encode_text_row_typed(o, values, types, scratch));
    }

    /// Writes one binary row (the result of COM_STMT_EXECUTE or
    /// COM_STMT_FETCH), each value in the form of its column.
    pub fn binary_row(
        &self,
        w: &mut PacketWriter<'_>,
        columns: &[ColumnDefinition],
        values: &[Value],
    ) -> Result<(), ProtocolError> {
        w.try_packet(|o| crate::binary::encode_binary_row(o, columns, values))
    }

    /// Writes the packet that ends the rows: EOF, or OK with header 0xFE
    /// under DEPRECATE_EOF. Set [`StatusFlags::MORE_RESULTS_EXISTS`] in
    /// `status` when another result follows.
    pub fn end(&self, w: &mut PacketWriter<'_>, status: StatusFlags, warnings: u16) {
        if self.caps.contains(Capabilities::DEPRECATE_EOF) {
            let ok = OkPacket { status, warnings, ..OkPacket::default() };
            w.packet(|o| ok.encode_as_eof(self.caps, o));
        } else {
            w.packet(|o| EofPacket { warnings, status }.encode(self.caps, o));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charset::Collation;
    use crate::frame::{FrameDecoder, SequenceId};
    use crate::wire::testing::{assert_every_truncation_fails, hex};
    use mizzle_types::SqlType;

    const CAPS: Capabilities = Capabilities(
        Capabilities::PROTOCOL_41.bits() | Capabilities::TRANSACTIONS.bits() | Capabilities::SESSION_TRACK.bits(),
    );

    // Protocol docs: OK with autocommit set, `07 00 00 02 00 00 00 02 00 00 00`.
    #[test]
    fn doc_example_ok_packet() {
        let ok = OkPacket { status: StatusFlags::AUTOCOMMIT, ..OkPacket::default() };
        for caps in [Capabilities::PROTOCOL_41, CAPS] {
            let mut out = Vec::new();
            PacketWriter::new(&mut out, SequenceId(2)).packet(|o| ok.encode(caps, o));
            assert_eq!(out, hex("07 00 00 02 00 00 00 02 00 00 00"));
            assert_eq!(OkPacket::decode(&out[4..], caps), Ok(ok.clone()));
            assert_every_truncation_fails(&out[4..], |b| OkPacket::decode(b, caps));
        }
    }

    #[test]
    fn ok_packet_with_session_state_round_trips() {
        let ok = OkPacket {
            affected_rows: 300,
            last_insert_id: 70000,
            status: StatusFlags::AUTOCOMMIT | StatusFlags::SESSION_STATE_CHANGED,
            warnings: 1,
            info: "Rows matched: 1".into(),
            session_state: vec![
                SessionStateChange::SystemVariable { name: "autocommit".into(), value: "ON".into() },
                SessionStateChange::Schema("test".into()),
                SessionStateChange::StateChanged(true),
                SessionStateChange::Gtids(Cow::Borrowed(b"uuid:1-3")),
                SessionStateChange::TransactionCharacteristics("START TRANSACTION;".into()),
                SessionStateChange::TransactionState("T_______".into()),
            ],
        };
        let mut out = Vec::new();
        ok.encode(CAPS, &mut out);
        assert_eq!(&out[..11], &[0x00, 0xFC, 0x2C, 0x01, 0xFD, 0x70, 0x11, 0x01, 0x02, 0x40, 0x01]);
        assert_eq!(OkPacket::decode(&out, CAPS), Ok(ok));
        assert_every_truncation_fails(&out, |b| OkPacket::decode(b, CAPS));
    }

    #[test]
    fn ok_packet_without_session_track_sends_info_length_encoded() {
        let ok = OkPacket { info: "hi".into(), ..OkPacket::default() };
        let mut out = Vec::new();
        ok.encode(Capabilities::PROTOCOL_41, &mut out);
        assert_eq!(out, b"\x00\x00\x00\x00\x00\x00\x00\x02hi");
        assert_eq!(OkPacket::decode(&out, Capabilities::PROTOCOL_41).expect("decodes").info, "hi");
        // Session state is dropped (and its flag cleared) without tracking.
        let ok = OkPacket { session_state: vec![SessionStateChange::Schema("x".into())], ..OkPacket::default() };
        let mut out = Vec::new();
        ok.encode(Capabilities::PROTOCOL_41, &mut out);
        assert_eq!(out, vec![0; 7]);
    }

    // Protocol docs: ERR 1096 "No tables used".
    #[test]
    fn doc_example_err_packet() {
        let bytes = hex("17 00 00 01 ff 48 04 23 48 59 30 30 30 4e 6f 20 74 61 62 6c 65 73 20 75 73 65 64");
        let e = ErrPacket::decode(&bytes[4..], CAPS).expect("doc example");
        assert_eq!(e.number, 1096);
        assert_eq!(&e.sqlstate, b"HY000");
        assert_eq!(e.message, "No tables used");
        let mut out = Vec::new();
        PacketWriter::new(&mut out, SequenceId(1)).packet(|o| e.encode(CAPS, o));
        assert_eq!(out, bytes);
        assert_every_truncation_fails(&bytes[4..7], |b| ErrPacket::decode(b, CAPS));
    }

    #[test]
    fn err_packet_from_error_code_and_long_messages() {
        let e = ErrPacket::new(ErrorCode::DuplicateEntry, "é".repeat(300));
        let mut out = Vec::new();
        e.encode(CAPS, &mut out);
        assert_eq!(&out[..9], b"\xff\x26\x04#23000");
        assert_eq!(out.len(), 9 + 510);
        assert!(std::str::from_utf8(&out[9..]).is_ok());
        let e = ErrPacket::from_error(&ProtocolError::UnknownCommand { code: 0x55 });
        assert_eq!(e.number, ErrorCode::NotSupported.number());
    }

    // Protocol docs: EOF `05 00 00 05 fe 00 00 02 00`.
    #[test]
    fn doc_example_eof_packet() {
        let bytes = hex("05 00 00 05 fe 00 00 02 00");
        let eof = EofPacket::decode(&bytes[4..], CAPS).expect("doc example");
        assert_eq!(eof, EofPacket { warnings: 0, status: StatusFlags::AUTOCOMMIT });
        let mut out = Vec::new();
        PacketWriter::new(&mut out, SequenceId(5)).packet(|o| eof.encode(CAPS, o));
        assert_eq!(out, bytes);
        assert_every_truncation_fails(&bytes[4..], |b| EofPacket::decode(b, CAPS));
    }

    #[test]
    fn typed_text_rows_print_as_their_columns() {
        let dt = mizzle_types::DateTime::parse("2024-01-02 03:04:05.5").expect("valid");
        let whole = mizzle_types::DateTime::parse("2024-01-02 03:04:05").expect("valid");
        let mut out = Vec::new();
        let mut scratch = Vec::new();
        encode_text_row_typed(
            &mut out,
            &[Value::DateTime(dt), Value::DateTime(whole), Value::Int(0), Value::Int(0)],
            &[SqlType::DateTime(3), SqlType::DateTime(0), SqlType::Year],
            &mut scratch,
        );
        let row = decode_text_row(&out, 4).expect("valid");
        assert_eq!(
            row,
            vec![Some(&b"2024-01-02 03:04:05.500"[..]), Some(&b"2024-01-02 03:04:05"[..]), Some(b"0000"), Some(b"0")]
        );
    }

    #[test]
    fn text_rows_round_trip_with_nulls() {
        let mut out = Vec::new();
        let mut scratch = Vec::new();
        encode_text_row_values(
            &mut out,
            &[Value::Int(-5), Value::Null, Value::text("héllo"), Value::Double(1.5), Value::bytes(&[0xFB])],
            &mut scratch,
        );
        assert_eq!(out, b"\x02-5\xfb\x06h\xc3\xa9llo\x031.5\x01\xfb");
        let row = decode_text_row(&out, 5).expect("valid");
        assert_eq!(row, vec![Some(&b"-5"[..]), None, Some("héllo".as_bytes()), Some(b"1.5"), Some(&[0xFB][..])]);
        assert_every_truncation_fails(&out, |b| decode_text_row(b, 5));
        assert!(decode_text_row(&out, 4).is_err());
    }

    fn packets(bytes: &[u8]) -> Vec<Vec<u8>> {
        let mut dec = FrameDecoder::new(1 << 20);
        dec.expect_sequence(SequenceId(1));
        dec.feed(bytes);
        let mut all = Vec::new();
        let mut p = Vec::new();
        while dec.decode(&mut p).expect("valid").is_some() {
            all.push(p.clone());
        }
        all
    }

    #[test]
    fn result_set_sequence_under_both_eof_settings() {
        let cols = [ColumnDefinition::for_sql_type("a", SqlType::INT, true, Collation::UTF8MB4_0900_AI_CI)];
        for deprecate in [false, true] {
            let mut caps = CAPS;
            caps.set(Capabilities::DEPRECATE_EOF, deprecate);
            let rs = ResultSetWriter::new(caps);
            let mut out = Vec::new();
            let mut w = PacketWriter::new(&mut out, SequenceId(1));
            let mut scratch = Vec::new();
            rs.begin(&mut w, &cols, StatusFlags::AUTOCOMMIT);
            rs.text_row(&mut w, &[Value::Int(1)], &mut scratch);
            rs.text_row(&mut w, &[Value::Null], &mut scratch);
            rs.end(&mut w, StatusFlags::AUTOCOMMIT | StatusFlags::MORE_RESULTS_EXISTS, 0);
            // A second result: a plain OK.
            w.packet(|o| OkPacket { status: StatusFlags::AUTOCOMMIT, ..OkPacket::default() }.encode(caps, o));
            let p = packets(&out);
            let expect_len = if deprecate { 6 } else { 7 };
            assert_eq!(p.len(), expect_len);
            assert_eq!(p[0], vec![1]);
            assert_eq!(ColumnDefinition::decode(&p[1]), Ok(cols[0].clone()));
            let rows_at = if deprecate { 2 } else { 3 };
            if !deprecate {
                assert_eq!(p[2], vec![0xFE, 0, 0, 2, 0]);
            }
            assert_eq!(p[rows_at], b"\x011");
            assert_eq!(p[rows_at + 1], vec![0xFB]);
            let end = &p[rows_at + 2];
            assert_eq!(end[0], EOF_HEADER);
            let status = if deprecate {
                OkPacket::decode(end, caps).expect("ok").status
            } else {
                EofPacket::decode(end, caps).expect("eof").status
            };
            assert!(status.contains(StatusFlags::MORE_RESULTS_EXISTS));
            assert_eq!(p[rows_at + 3], vec![0, 0, 0, 2, 0, 0, 0]);
        }
    }
}
