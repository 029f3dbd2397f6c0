//! Prepared statements on the wire: COM_STMT_PREPARE_OK, the per-statement
//! parameter state a server keeps between executes, and the parameters of
//! COM_STMT_EXECUTE.
//!
//! Parameter types travel only when the client (re)binds them
//! (`new_params_bound_flag = 1`, always on the first execute); later
//! executes send values alone. [`StatementParams`] keeps the types, and the
//! marks of parameters whose values came through COM_STMT_SEND_LONG_DATA
//! (those have no value in the execute packet).
//!
//! Invariants:
//! 1. An execute is decoded only against the statement's kept state:
//!    parameter count from PREPARE, types from this or an earlier execute.
//! 2. Decoding an execute consumes the long-data marks (MySQL discards
//!    long data after each execute), and replaces the kept types only when
//!    new ones are bound.
//! 3. Query attributes (CLIENT_QUERY_ATTRIBUTES with the
//!    PARAMETER_COUNT_AVAILABLE flag) are returned apart from parameters.
//!
//! This module does not hold statement ids, SQL or plans: the server maps
//! [`StatementId`]s to its statements and a [`StatementParams`] each.

use mizzle_types::Value;

use crate::binary::{null_bit, null_bitmap_len, BinaryValue};
use crate::column::{ColumnDefinition, ColumnType};
use crate::error::ProtocolError;
use crate::flags::{Capabilities, StatusFlags};
use crate::frame::PacketWriter;
use crate::response::ResultSetWriter;
use crate::wire::{self, put_u16, put_u32, Reader};

/// A prepared statement id (0xFFFFFFFF means "the last one prepared" in
/// MariaDB's pipelining; the server resolves it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatementId(pub u32);

impl StatementId {
    /// MariaDB's "the statement prepared last on this connection".
    pub const LAST_PREPARED: StatementId = StatementId(u32::MAX);
}

/// The flags byte of COM_STMT_EXECUTE (`enum_cursor_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CursorFlags(pub u8);

impl CursorFlags {
    /// CURSOR_TYPE_NO_CURSOR.
    pub const NO_CURSOR: CursorFlags = CursorFlags(0);
    /// CURSOR_TYPE_READ_ONLY: rows are fetched with COM_STMT_FETCH.
    pub const READ_ONLY: CursorFlags = CursorFlags(1);
    /// CURSOR_TYPE_FOR_UPDATE.
    pub const FOR_UPDATE: CursorFlags = CursorFlags(2);
    /// CURSOR_TYPE_SCROLLABLE.
    pub const SCROLLABLE: CursorFlags = CursorFlags(4);
    /// PARAMETER_COUNT_AVAILABLE: a parameter count precedes the bitmap
    /// (with CLIENT_QUERY_ATTRIBUTES).
    pub const PARAMETER_COUNT_AVAILABLE: CursorFlags = CursorFlags(8);

    /// True if all bits of `o` are set.
    pub fn contains(self, o: CursorFlags) -> bool {
        self.0 & o.0 == o.0
    }

    /// True if the client asked for a cursor of any kind.
    pub fn wants_cursor(self) -> bool {
        self.0 & (CursorFlags::READ_ONLY.0 | CursorFlags::FOR_UPDATE.0 | CursorFlags::SCROLLABLE.0) != 0
    }
}

/// The declared type of one parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamType {
    /// The column type the value is sent as.
    pub column_type: ColumnType,
    /// The unsigned flag (0x80 in the second type byte).
    pub unsigned: bool,
}

impl ParamType {
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<ParamType, ProtocolError> {
        let column_type = ColumnType::from_u8(r.u8("parameter type")?)?;
        let flags = r.u8("parameter type flags")?;
        Ok(ParamType { column_type, unsigned: flags & 0x80 != 0 })
    }

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        out.push(self.column_type as u8);
        out.push(if self.unsigned { 0x80 } else { 0 });
    }
}

/// What the server keeps per prepared statement for decoding executes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementParams {
    count: u16,
    types: Option<Vec<ParamType>>,
    long_data: Vec<bool>,
}

impl StatementParams {
    /// State for a statement with `count` placeholders.
    pub fn new(count: u16) -> StatementParams {
        StatementParams { count, types: None, long_data: vec![false; usize::from(count)] }
    }

    /// The number of placeholders.
    pub fn count(&self) -> u16 {
        self.count
    }

    /// The types bound by the last execute that sent them.
    pub fn types(&self) -> Option<&[ParamType]> {
        self.types.as_deref()
    }

    /// Records that parameter `index` received COM_STMT_SEND_LONG_DATA (the
    /// server keeps the data itself).
    pub fn mark_long_data(&mut self, index: u16) -> Result<(), ProtocolError> {
        match self.long_data.get_mut(usize::from(index)) {
            Some(m) => {
                *m = true;
                Ok(())
            }
            None => Err(ProtocolError::BadParamIndex { index, count: self.count }),
        }
    }

    /// COM_STMT_RESET: forgets long data marks.
    pub fn reset(&mut self) {
        self.long_data.iter_mut().for_each(|m| *m = false);
    }
}

/// One decoded execute parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Param<'a> {
    /// A value sent in the execute packet (possibly NULL).
    Value(BinaryValue<'a>),
    /// The value was sent earlier with COM_STMT_SEND_LONG_DATA.
    LongData,
}

impl Param<'_> {
    /// The parameter as a mizzle value (see `BinaryValue::to_value` for
    /// lossy cases); `None` for long data, which the server supplies.
    pub fn to_value(&self) -> Option<Value> {
        match self {
            Param::Value(v) => Some(v.to_value()),
            Param::LongData => None,
        }
    }
}

/// The parameters of one execute.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExecuteParams<'a> {
    /// One per placeholder, in order.
    pub params: Vec<Param<'a>>,
    /// Query attributes (named values beyond the placeholders).
    pub attributes: Vec<(&'a str, BinaryValue<'a>)>,
}

/// COM_STMT_EXECUTE, with its parameters not yet decoded (they need the
/// statement's [`StatementParams`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StmtExecute<'a> {
    /// The statement.
    pub statement_id: StatementId,
    /// Cursor type and PARAMETER_COUNT_AVAILABLE.
    pub flags: CursorFlags,
    /// Always 1 in practice.
    pub iteration_count: u32,
    /// The bytes after the iteration count.
    pub(crate) body: &'a [u8],
}

impl<'a> StmtExecute<'a> {
    /// Decodes the fixed part (after the command byte).
    pub(crate) fn decode(r: &mut Reader<'a>) -> Result<StmtExecute<'a>, ProtocolError> {
        let statement_id = StatementId(r.u32("statement id")?);
        let flags = CursorFlags(r.u8("cursor flags")?);
        let iteration_count = r.u32("iteration count")?;
        Ok(StmtExecute { statement_id, flags, iteration_count, body: r.rest() })
    }

    /// Decodes the parameters against the statement's kept state, updating
    /// it (invariants 1 and 2).
    pub fn decode_params(
        &self,
        stmt: &mut StatementParams,
        caps: Capabilities,
    ) -> Result<ExecuteParams<'a>, ProtocolError> {
        let mut r = Reader::new(self.body);
        let with_attrs = caps.contains(Capabilities::QUERY_ATTRIBUTES)
            && self.flags.contains(CursorFlags::PARAMETER_COUNT_AVAILABLE);
        let total = if with_attrs {
            let n = r.lenenc_int("parameter count")?;
            let n = usize::try_from(n).ok().filter(|n| *n <= r.remaining().saturating_mul(8)).ok_or(
                ProtocolError::Truncated { field: "parameter count", needed: n, available: r.remaining() as u64 },
            )?;
            if n < usize::from(stmt.count) {
                return Err(ProtocolError::InvalidField { field: "parameter count", value: n as u64 });
            }
            n
        } else {
            usize::from(stmt.count)
        };
        let long_data = std::mem::replace(&mut stmt.long_data, vec![false; usize::from(stmt.count)]);
        if total == 0 {
            r.finish("statement execute header")?;
            return Ok(ExecuteParams::default());
        }
        let bitmap = r.bytes(null_bitmap_len(total, 0), "NULL bitmap")?;
        let bound = r.u8("new params bound flag")?;
        let mut names = Vec::new();
        if bound == 1 {
            let mut types = Vec::with_capacity(total);
            for _ in 0..total {
                types.push(ParamType::read(&mut r)?);
                if with_attrs {
                    names.push(wire::utf8(r.lenenc_bytes("parameter name")?, "parameter name")?);
                }
            }
            stmt.types = Some(types);
        } else if bound != 0 {
            return Err(ProtocolError::InvalidField { field: "new params bound flag", value: u64::from(bound) });
        }
        let types = match stmt.types.as_deref() {
            Some(t) if t.len() == total => t,
            _ => return Err(ProtocolError::MissingParamTypes),
        };
        let mut out = ExecuteParams { params: Vec::with_capacity(usize::from(stmt.count)), attributes: Vec::new() };
        for (i, ty) in types.iter().enumerate() {
            let is_long = long_data.get(i).copied().unwrap_or(false);
            let v = if null_bit(bitmap, i, 0) {
                Param::Value(BinaryValue::Null)
            } else if is_long {
                Param::LongData
            } else {
                Param::Value(BinaryValue::decode(&mut r, ty.column_type, ty.unsigned)?)
            };
            if i < usize::from(stmt.count) {
                out.params.push(v);
            } else if let Param::Value(v) = v {
                out.attributes.push((names.get(i).copied().unwrap_or(""), v));
            }
        }
        r.finish("last parameter value")?;
        Ok(out)
    }
}

/// COM_STMT_PREPARE_OK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrepareOk {
    /// The new statement's id.
    pub statement_id: StatementId,
    /// Columns of its result set (0 if none).
    pub columns: u16,
    /// Placeholders.
    pub params: u16,
    /// Warnings of the prepare.
    pub warnings: u16,
}

impl PrepareOk {
    /// Appends the payload.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(0x00);
        put_u32(out, self.statement_id.0);
        put_u16(out, self.columns);
        put_u16(out, self.params);
        out.push(0x00);
        put_u16(out, self.warnings);
    }

    /// Decodes the payload (the client side).
    pub fn decode(payload: &[u8]) -> Result<PrepareOk, ProtocolError> {
        let mut r = Reader::new(payload);
        let status = r.u8("prepare ok status")?;
        if status != 0 {
            return Err(ProtocolError::InvalidField { field: "prepare ok status", value: u64::from(status) });
        }
        let statement_id = StatementId(r.u32("statement id")?);
        let columns = r.u16("column count")?;
        let params = r.u16("parameter count")?;
        r.u8("reserved")?;
        let warnings = if r.is_empty() { 0 } else { r.u16("warning count")? };
        Ok(PrepareOk { statement_id, columns, params, warnings })
    }

    /// Writes the whole response to COM_STMT_PREPARE: this packet, the
    /// parameter definitions and the column definitions, each block ended
    /// by EOF unless DEPRECATE_EOF. The counts are taken from the slices.
    pub fn write_response(
        statement_id: StatementId,
        params: &[ColumnDefinition],
        columns: &[ColumnDefinition],
        warnings: u16,
        caps: Capabilities,
        status: StatusFlags,
        w: &mut PacketWriter<'_>,
    ) -> Result<(), ProtocolError> {
        let count =
            |n: usize, field| u16::try_from(n).map_err(|_| ProtocolError::InvalidField { field, value: n as u64 });
        let ok = PrepareOk {
            statement_id,
            columns: count(columns.len(), "column count")?,
            params: count(params.len(), "parameter count")?,
            warnings,
        };
        w.packet(|o| ok.encode(o));
        let rs = ResultSetWriter::new(caps);
        rs.definitions(w, params, status);
        rs.definitions(w, columns, status);
        Ok(())
    }
}

/// Encodes an execute packet (the client side; tests and tools): command
/// byte, header, NULL bitmap, types when `bind` and the values.
pub fn encode_execute(
    out: &mut Vec<u8>,
    statement_id: StatementId,
    flags: CursorFlags,
    types: &[ParamType],
    values: &[BinaryValue<'_>],
    bind: bool,
) -> Result<(), ProtocolError> {
    out.push(crate::command::COM_STMT_EXECUTE);
    put_u32(out, statement_id.0);
    out.push(flags.0);
    put_u32(out, 1);
    if values.is_empty() {
        return Ok(());
    }
    let at = out.len();
    out.resize(at + null_bitmap_len(values.len(), 0), 0);
    for (i, v) in values.iter().enumerate() {
        if *v == BinaryValue::Null {
            if let Some(b) = out.get_mut(at + i / 8) {
                *b |= 1 << (i % 8);
            }
        }
    }
    out.push(u8::from(bind));
    if bind {
        for t in types {
            t.write(out);
        }
    }
    for (v, t) in values.iter().zip(types) {
        v.encode(out, t.column_type)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::Command;
    use crate::wire::testing::{assert_every_truncation_fails, hex};
    use std::borrow::Cow;

    fn execute_of(payload: &[u8]) -> StmtExecute<'_> {
        match Command::parse(payload, Capabilities::PROTOCOL_41) {
            Ok(Command::StmtExecute(e)) => e,
            other => panic!("not an execute: {other:?}"),
        }
    }

    // Protocol docs: COM_STMT_EXECUTE of statement 1 with one VAR_STRING... the
    // example binds type 0x0f (VARCHAR) with the value "foo".
    #[test]
    fn doc_example_execute_decodes() {
        let bytes = hex("12 00 00 00 17 01 00 00 00 00 01 00 00 00 00 01 0f 00 03 66 6f 6f");
        let e = execute_of(&bytes[4..]);
        assert_eq!(e.statement_id, StatementId(1));
        assert_eq!(e.flags, CursorFlags::NO_CURSOR);
        assert_eq!(e.iteration_count, 1);
        let mut st = StatementParams::new(1);
        let p = e.decode_params(&mut st, Capabilities::PROTOCOL_41).expect("doc example");
        assert_eq!(p.params, vec![Param::Value(BinaryValue::String(Cow::Borrowed(b"foo")))]);
        assert_eq!(p.params[0].to_value(), Some(Value::text("foo")));
        assert_eq!(st.types(), Some(&[ParamType { column_type: ColumnType::Varchar, unsigned: false }][..]));
        assert_every_truncation_fails(&bytes[4..], |b| match Command::parse(b, Capabilities::PROTOCOL_41)? {
            Command::StmtExecute(e) => e.decode_params(&mut StatementParams::new(1), Capabilities::PROTOCOL_41),
            _ => Err(ProtocolError::EmptyCommand),
        });
    }

    #[test]
    fn later_executes_use_the_kept_types() {
        let types = [
            ParamType { column_type: ColumnType::LongLong, unsigned: false },
            ParamType { column_type: ColumnType::Tiny, unsigned: true },
            ParamType { column_type: ColumnType::Double, unsigned: false },
        ];
        let mut st = StatementParams::new(3);
        let mut first = Vec::new();
        let vals = [BinaryValue::Int(-5), BinaryValue::UInt(200), BinaryValue::Null];
        encode_execute(&mut first, StatementId(9), CursorFlags::NO_CURSOR, &types, &vals, true).expect("fits");
        let p = execute_of(&first).decode_params(&mut st, Capabilities::PROTOCOL_41).expect("valid");
        assert_eq!(
            p.params.iter().map(|p| p.to_value()).collect::<Vec<_>>(),
            vec![Some(Value::Int(-5)), Some(Value::UInt(200)), Some(Value::Null)]
        );
        let mut second = Vec::new();
        let vals = [BinaryValue::Int(7), BinaryValue::Null, BinaryValue::Double(0.5)];
        encode_execute(&mut second, StatementId(9), CursorFlags::NO_CURSOR, &types, &vals, false).expect("fits");
        assert_eq!(second.len(), 1 + 9 + 1 + 1 + 8 + 8);
        let p = execute_of(&second).decode_params(&mut st, Capabilities::PROTOCOL_41).expect("kept types");
        assert_eq!(p.params, vals.iter().cloned().map(Param::Value).collect::<Vec<_>>());
        // Without kept types, a values-only execute cannot be decoded.
        assert_eq!(
            execute_of(&second).decode_params(&mut StatementParams::new(3), Capabilities::PROTOCOL_41),
            Err(ProtocolError::MissingParamTypes)
        );
    }

    #[test]
    fn long_data_parameters_have_no_value_and_marks_are_consumed() {
        let types = [
            ParamType { column_type: ColumnType::Blob, unsigned: false },
            ParamType { column_type: ColumnType::Long, unsigned: false },
        ];
        let mut st = StatementParams::new(2);
        st.mark_long_data(0).expect("in range");
        assert_eq!(st.mark_long_data(2), Err(ProtocolError::BadParamIndex { index: 2, count: 2 }));
        let mut p = Vec::new();
        // The blob's value is absent from the packet.
        encode_execute(&mut p, StatementId(1), CursorFlags::NO_CURSOR, &types[1..], &[BinaryValue::Int(3)], true)
            .expect("fits");
        // Rebuild by hand: bitmap (2 params) 0x00, bound 1, two types, one value.
        let mut bytes = vec![0x17, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0x00, 1, 252, 0, 3, 0];
        bytes.extend_from_slice(&3i32.to_le_bytes());
        let e = execute_of(&bytes);
        let got = e.decode_params(&mut st, Capabilities::PROTOCOL_41).expect("valid");
        assert_eq!(got.params, vec![Param::LongData, Param::Value(BinaryValue::Int(3))]);
        // The mark is gone: the same packet now lacks the blob's value.
        assert!(e.decode_params(&mut st, Capabilities::PROTOCOL_41).is_err());
    }

    #[test]
    fn query_attributes_follow_the_parameters() {
        let caps = Capabilities::PROTOCOL_41 | Capabilities::QUERY_ATTRIBUTES;
        let mut bytes = vec![0x17, 2, 0, 0, 0, CursorFlags::PARAMETER_COUNT_AVAILABLE.0, 1, 0, 0, 0];
        bytes.extend_from_slice(&[2, 0b00, 1]); // 2 values, no NULLs, bound
        bytes.extend_from_slice(&[3, 0, 0]); // LONG, empty name
        bytes.extend_from_slice(&[253, 0, 2, b't', b'z']); // VAR_STRING named "tz"
        bytes.extend_from_slice(&7i32.to_le_bytes());
        bytes.extend_from_slice(b"\x03UTC");
        let e = match Command::parse(&bytes, caps) {
            Ok(Command::StmtExecute(e)) => e,
            other => panic!("{other:?}"),
        };
        let got = e.decode_params(&mut StatementParams::new(1), caps).expect("valid");
        assert_eq!(got.params, vec![Param::Value(BinaryValue::Int(7))]);
        assert_eq!(got.attributes, vec![("tz", BinaryValue::String(Cow::Borrowed(b"UTC")))]);
    }

    #[test]
    fn execute_of_statement_without_parameters_has_no_body() {
        let bytes = [0x17, 4, 0, 0, 0, 1, 1, 0, 0, 0];
        let e = execute_of(&bytes);
        assert!(e.flags.wants_cursor());
        assert_eq!(
            e.decode_params(&mut StatementParams::new(0), Capabilities::PROTOCOL_41),
            Ok(ExecuteParams::default())
        );
        let mut extra = bytes.to_vec();
        extra.push(0);
        assert!(execute_of(&extra).decode_params(&mut StatementParams::new(0), Capabilities::PROTOCOL_41).is_err());
    }

    // Protocol docs: COM_STMT_PREPARE_OK `0c 00 00 01 00 01 00 00 00 01 00 02 00 00 00 00`.
    #[test]
    fn doc_example_prepare_ok() {
        let bytes = hex("0c 00 00 01 00 01 00 00 00 01 00 02 00 00 00 00");
        let ok = PrepareOk::decode(&bytes[4..]).expect("doc example");
        assert_eq!(ok, PrepareOk { statement_id: StatementId(1), columns: 1, params: 2, warnings: 0 });
        let mut out = Vec::new();
        crate::frame::PacketWriter::new(&mut out, crate::frame::SequenceId(1)).packet(|o| ok.encode(o));
        assert_eq!(out, bytes);
        assert_every_truncation_fails(&bytes[4..13], PrepareOk::decode);
    }

    #[test]
    fn prepare_response_writes_definition_blocks() {
        use crate::charset::Collation;
        use crate::frame::{FrameDecoder, SequenceId};
        let def = ColumnDefinition::for_sql_type("?", mizzle_types::SqlType::BIGINT, true, Collation::BINARY);
        for (caps, expect) in [
            (Capabilities::PROTOCOL_41, 1 + 2 + 1 + 1 + 1),
            (Capabilities::PROTOCOL_41 | Capabilities::DEPRECATE_EOF, 4),
        ] {
            let mut out = Vec::new();
            let mut w = PacketWriter::new(&mut out, SequenceId(1));
            PrepareOk::write_response(
                StatementId(3),
                &[def.clone(), def.clone()],
                std::slice::from_ref(&def),
                0,
                caps,
                StatusFlags::AUTOCOMMIT,
                &mut w,
            )
            .expect("small");
            let mut dec = FrameDecoder::new(1 << 20);
            dec.expect_sequence(SequenceId(1));
            dec.feed(&out);
            let mut n = 0;
            let mut p = Vec::new();
            while dec.decode(&mut p).expect("valid").is_some() {
                n += 1;
            }
            assert_eq!(n, expect);
        }
    }
}
