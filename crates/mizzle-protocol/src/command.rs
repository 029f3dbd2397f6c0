//! The command phase: every command packet a client may send, parsed into
//! [`Command`].
//!
//! Invariants:
//! 1. Parsing never panics and never allocates from lengths on the wire;
//!    an unknown command byte is [`ProtocolError::UnknownCommand`] (the
//!    server answers ERR and keeps the connection).
//! 2. SQL text, schema and user names must be UTF-8; anything else is
//!    [`ProtocolError::InvalidUtf8`].
//! 3. Parsed commands borrow from the payload.
//! 4. COM_QUERY's query attributes are parsed only when the negotiated
//!    capabilities include CLIENT_QUERY_ATTRIBUTES (mizzle does not offer it
//!    by default; see `handshake`).
//!
//! This module does not execute anything; the deprecated commands MySQL 8
//! also refuses (COM_CREATE_DB, COM_REFRESH, COM_PROCESS_INFO, replication
//! commands...) are unknown here.

use crate::binary::{null_bit, null_bitmap_len, BinaryValue};
use crate::charset::Collation;
use crate::error::ProtocolError;
use crate::flags::Capabilities;
use crate::handshake::{read_attributes, ConnectAttributes};
use crate::statement::{ParamType, StatementId, StmtExecute};
use crate::wire::{self, Reader};

/// COM_QUIT.
pub const COM_QUIT: u8 = 0x01;
/// COM_INIT_DB.
pub const COM_INIT_DB: u8 = 0x02;
/// COM_QUERY.
pub const COM_QUERY: u8 = 0x03;
/// COM_FIELD_LIST.
pub const COM_FIELD_LIST: u8 = 0x04;
/// COM_STATISTICS.
pub const COM_STATISTICS: u8 = 0x09;
/// COM_PROCESS_KILL.
pub const COM_PROCESS_KILL: u8 = 0x0C;
/// COM_DEBUG.
pub const COM_DEBUG: u8 = 0x0D;
/// COM_PING.
pub const COM_PING: u8 = 0x0E;
/// COM_CHANGE_USER.
pub const COM_CHANGE_USER: u8 = 0x11;
/// COM_STMT_PREPARE.
pub const COM_STMT_PREPARE: u8 = 0x16;
/// COM_STMT_EXECUTE.
pub const COM_STMT_EXECUTE: u8 = 0x17;
/// COM_STMT_SEND_LONG_DATA.
pub const COM_STMT_SEND_LONG_DATA: u8 = 0x18;
/// COM_STMT_CLOSE.
pub const COM_STMT_CLOSE: u8 = 0x19;
/// COM_STMT_RESET.
pub const COM_STMT_RESET: u8 = 0x1A;
/// COM_SET_OPTION.
pub const COM_SET_OPTION: u8 = 0x1B;
/// COM_STMT_FETCH.
pub const COM_STMT_FETCH: u8 = 0x1C;
/// COM_RESET_CONNECTION.
pub const COM_RESET_CONNECTION: u8 = 0x1F;

/// COM_SET_OPTION's option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOption {
    /// MYSQL_OPTION_MULTI_STATEMENTS_ON.
    MultiStatementsOn,
    /// MYSQL_OPTION_MULTI_STATEMENTS_OFF.
    MultiStatementsOff,
}

/// A COM_QUERY.
#[derive(Debug, Clone, PartialEq)]
pub struct Query<'a> {
    /// The SQL text.
    pub sql: &'a str,
    /// Query attributes (name, value), with CLIENT_QUERY_ATTRIBUTES.
    pub attributes: Vec<(&'a str, BinaryValue<'a>)>,
}

/// A COM_CHANGE_USER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeUser<'a> {
    /// The new user.
    pub user: &'a str,
    /// The auth response, computed with the connection's scramble for
    /// [`ChangeUser::auth_plugin`].
    pub auth_response: &'a [u8],
    /// The schema to use.
    pub database: Option<&'a str>,
    /// The new collation, if sent.
    pub collation: Option<Collation>,
    /// The plugin the auth response was computed for.
    pub auth_plugin: Option<&'a str>,
    /// Connection attributes.
    pub attributes: ConnectAttributes<'a>,
}

/// Every command of the command phase.
#[derive(Debug, Clone, PartialEq)]
pub enum Command<'a> {
    /// COM_QUIT: close the connection (no response).
    Quit,
    /// COM_INIT_DB: `USE schema`.
    InitDb(&'a str),
    /// COM_QUERY.
    Query(Query<'a>),
    /// COM_FIELD_LIST (deprecated): columns of a table.
    FieldList {
        /// The table.
        table: &'a str,
        /// A LIKE pattern for column names (may be empty).
        wildcard: &'a str,
    },
    /// COM_STATISTICS: a human-readable status string.
    Statistics,
    /// COM_PROCESS_KILL: `KILL id`.
    ProcessKill(u32),
    /// COM_DEBUG: dump debug information (answered with OK or ERR).
    Debug,
    /// COM_PING.
    Ping,
    /// COM_CHANGE_USER: re-authenticate and reset the session.
    ChangeUser(ChangeUser<'a>),
    /// COM_RESET_CONNECTION: reset the session, keep the user.
    ResetConnection,
    /// COM_SET_OPTION.
    SetOption(SetOption),
    /// COM_STMT_PREPARE.
    StmtPrepare(&'a str),
    /// COM_STMT_EXECUTE (parameters decoded with `StmtExecute::decode_params`).
    StmtExecute(StmtExecute<'a>),
    /// COM_STMT_SEND_LONG_DATA (no response).
    StmtSendLongData {
        /// The statement.
        statement_id: StatementId,
        /// The parameter.
        param: u16,
        /// A piece of its value, to append to earlier pieces.
        data: &'a [u8],
    },
    /// COM_STMT_CLOSE (no response).
    StmtClose(StatementId),
    /// COM_STMT_RESET.
    StmtReset(StatementId),
    /// COM_STMT_FETCH: rows from an open cursor.
    StmtFetch {
        /// The statement.
        statement_id: StatementId,
        /// How many rows.
        rows: u32,
    },
}

impl<'a> Command<'a> {
    /// Parses a command payload under the negotiated capabilities.
    pub fn parse(payload: &'a [u8], caps: Capabilities) -> Result<Command<'a>, ProtocolError> {
        let mut r = Reader::new(payload);
        let Ok(code) = r.u8("command") else { return Err(ProtocolError::EmptyCommand) };
        let cmd = match code {
            COM_QUIT => Command::Quit,
            COM_INIT_DB => Command::InitDb(wire::utf8(r.rest(), "schema name")?),
            COM_QUERY => Command::Query(parse_query(&mut r, caps)?),
            COM_FIELD_LIST => {
                let table = wire::utf8(r.nul_bytes("table")?, "table")?;
                let wildcard = wire::utf8(r.rest(), "field wildcard")?;
                Command::FieldList { table, wildcard }
            }
            COM_STATISTICS => Command::Statistics,
            COM_PROCESS_KILL => Command::ProcessKill(r.u32("connection id")?),
            COM_DEBUG => Command::Debug,
            COM_PING => Command::Ping,
            COM_CHANGE_USER => Command::ChangeUser(parse_change_user(&mut r, caps)?),
            COM_RESET_CONNECTION => Command::ResetConnection,
            COM_SET_OPTION => Command::SetOption(match r.u16("option")? {
                0 => SetOption::MultiStatementsOn,
                1 => SetOption::MultiStatementsOff,
                other => return Err(ProtocolError::InvalidField { field: "option", value: u64::from(other) }),
            }),
            COM_STMT_PREPARE => Command::StmtPrepare(wire::utf8(r.rest(), "query")?),
            COM_STMT_EXECUTE => Command::StmtExecute(StmtExecute::decode(&mut r)?),
            COM_STMT_SEND_LONG_DATA => Command::StmtSendLongData {
                statement_id: StatementId(r.u32("statement id")?),
                param: r.u16("parameter id")?,
                data: r.rest(),
            },
            COM_STMT_CLOSE => Command::StmtClose(StatementId(r.u32("statement id")?)),
            COM_STMT_RESET => Command::StmtReset(StatementId(r.u32("statement id")?)),
            COM_STMT_FETCH => {
                Command::StmtFetch { statement_id: StatementId(r.u32("statement id")?), rows: r.u32("number of rows")? }
            }
            code => return Err(ProtocolError::UnknownCommand { code }),
        };
        Ok(cmd)
    }
}

fn parse_query<'a>(r: &mut Reader<'a>, caps: Capabilities) -> Result<Query<'a>, ProtocolError> {
    let mut attributes = Vec::new();
    if caps.contains(Capabilities::QUERY_ATTRIBUTES) {
        let count = r.lenenc_int("parameter count")?;
        let sets = r.lenenc_int("parameter set count")?;
        if sets != 1 {
            return Err(ProtocolError::InvalidField { field: "parameter set count", value: sets });
        }
        if count > 0 {
            // Each attribute needs at least 3 bytes (type and an empty
            // name), which bounds the count before anything is allocated.
            let n = usize::try_from(count).ok().filter(|n| n.saturating_mul(3) <= r.remaining()).ok_or(
                ProtocolError::Truncated { field: "query attributes", needed: count, available: r.remaining() as u64 },
            )?;
            let bitmap = r.bytes(null_bitmap_len(n, 0), "NULL bitmap")?;
            let bound = r.u8("new params bound flag")?;
            if bound != 1 {
                return Err(ProtocolError::InvalidField { field: "new params bound flag", value: u64::from(bound) });
            }
            let mut types = Vec::with_capacity(n);
            for _ in 0..n {
                let t = ParamType::read(r)?;
                let name = wire::utf8(r.lenenc_bytes("attribute name")?, "attribute name")?;
                types.push((t, name));
            }
            for (i, (t, name)) in types.into_iter().enumerate() {
                let v = if null_bit(bitmap, i, 0) {
                    BinaryValue::Null
                } else {
                    BinaryValue::decode(r, t.column_type, t.unsigned)?
                };
                attributes.push((name, v));
            }
        }
    }
    Ok(Query { sql: wire::utf8(r.rest(), "query")?, attributes })
}

fn parse_change_user<'a>(r: &mut Reader<'a>, caps: Capabilities) -> Result<ChangeUser<'a>, ProtocolError> {
    let user = wire::utf8(r.nul_bytes("user")?, "user")?;
    let auth_response = if caps.contains(Capabilities::SECURE_CONNECTION) {
        let n = r.u8("auth response length")?;
        r.bytes(usize::from(n), "auth response")?
    } else {
        r.nul_bytes("auth response")?
    };
    let database = Some(wire::utf8(r.nul_bytes_or_rest(), "database")?).filter(|d| !d.is_empty());
    let collation = if r.remaining() >= 2 { Some(Collation(r.u16("character set")?)) } else { None };
    let auth_plugin = if caps.contains(Capabilities::PLUGIN_AUTH) && !r.is_empty() {
        Some(wire::utf8(r.nul_bytes_or_rest(), "auth plugin name")?)
    } else {
        None
    };
    let attributes =
        if caps.contains(Capabilities::CONNECT_ATTRS) && !r.is_empty() { read_attributes(r)? } else { Vec::new() };
    Ok(ChangeUser { user, auth_response, database, collation, auth_plugin, attributes })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testing::{assert_every_truncation_fails, hex};

    const CAPS: Capabilities = Capabilities(
        Capabilities::PROTOCOL_41.bits()
            | Capabilities::SECURE_CONNECTION.bits()
            | Capabilities::PLUGIN_AUTH.bits()
            | Capabilities::CONNECT_ATTRS.bits(),
    );

    fn parse(b: &[u8]) -> Result<Command<'_>, ProtocolError> {
        Command::parse(b, CAPS)
    }

    #[test]
    fn doc_example_com_query() {
        let bytes =
            hex("03 73 65 6c 65 63 74 20 40 40 76 65 72 73 69 6f 6e 5f 63 6f 6d 6d 65 6e 74 20 6c 69 6d 69 74 20 31");
        assert_eq!(
            parse(&bytes),
            Ok(Command::Query(Query { sql: "select @@version_comment limit 1", attributes: vec![] }))
        );
    }

    #[test]
    fn simple_commands_parse() {
        assert_eq!(parse(&[0x01]), Ok(Command::Quit));
        assert_eq!(parse(b"\x02test"), Ok(Command::InitDb("test")));
        assert_eq!(parse(b"\x04t1\0a%"), Ok(Command::FieldList { table: "t1", wildcard: "a%" }));
        assert_eq!(parse(&[0x09]), Ok(Command::Statistics));
        assert_eq!(parse(&[0x0c, 7, 0, 0, 0]), Ok(Command::ProcessKill(7)));
        assert_eq!(parse(&[0x0d]), Ok(Command::Debug));
        assert_eq!(parse(&[0x0e]), Ok(Command::Ping));
        assert_eq!(parse(&[0x1f]), Ok(Command::ResetConnection));
        assert_eq!(parse(&[0x1b, 1, 0]), Ok(Command::SetOption(SetOption::MultiStatementsOff)));
        assert_eq!(parse(&[0x1b, 0, 0]), Ok(Command::SetOption(SetOption::MultiStatementsOn)));
        assert!(parse(&[0x1b, 2, 0]).is_err());
        assert_eq!(parse(b"\x16SELECT ?"), Ok(Command::StmtPrepare("SELECT ?")));
        assert_eq!(
            parse(&[0x18, 1, 0, 0, 0, 2, 0, b'x', b'y']),
            Ok(Command::StmtSendLongData { statement_id: StatementId(1), param: 2, data: b"xy" })
        );
        assert_eq!(parse(&[0x19, 5, 0, 0, 0]), Ok(Command::StmtClose(StatementId(5))));
        assert_eq!(parse(&[0x1a, 5, 0, 0, 0]), Ok(Command::StmtReset(StatementId(5))));
        assert_eq!(
            parse(&[0x1c, 5, 0, 0, 0, 10, 0, 0, 0]),
            Ok(Command::StmtFetch { statement_id: StatementId(5), rows: 10 })
        );
        for fixed in [
            &[0x0c, 7, 0, 0, 0][..],
            &[0x1b, 1, 0],
            &[0x18, 1, 0, 0, 0, 2, 0],
            &[0x19, 5, 0, 0, 0],
            &[0x1a, 5, 0, 0, 0],
            &[0x1c, 5, 0, 0, 0, 10, 0, 0, 0],
            &[0x17, 1, 0, 0, 0, 0, 1, 0, 0, 0],
            b"\x04t1\0",
        ] {
            assert_every_truncation_fails(fixed, parse);
        }
    }

    #[test]
    fn unknown_and_empty_commands_are_typed_errors() {
        assert_eq!(parse(&[]), Err(ProtocolError::EmptyCommand));
        for code in [0x00, 0x05, 0x06, 0x07, 0x08, 0x0a, 0x0b, 0x0f, 0x12, 0x1d, 0x1e, 0x20, 0xff] {
            assert_eq!(parse(&[code]), Err(ProtocolError::UnknownCommand { code }));
        }
    }

    #[test]
    fn query_text_must_be_utf8() {
        assert!(matches!(parse(b"\x03SELECT '\xff'"), Err(ProtocolError::InvalidUtf8 { field: "query", .. })));
        assert!(matches!(parse(b"\x16\xc3"), Err(ProtocolError::InvalidUtf8 { .. })));
    }

    #[test]
    fn query_attributes_are_parsed_when_negotiated() {
        let caps = CAPS | Capabilities::QUERY_ATTRIBUTES;
        // Two attributes: a LONGLONG "n" = 5 and a NULL "x"; then the query.
        let mut b = vec![0x03, 2, 1, 0b10, 1, 8, 0, 1, b'n', 6, 0, 1, b'x'];
        b.extend_from_slice(&5i64.to_le_bytes());
        b.extend_from_slice(b"SELECT 1");
        let q = Command::parse(&b, caps).expect("valid");
        assert_eq!(
            q,
            Command::Query(Query {
                sql: "SELECT 1",
                attributes: vec![("n", BinaryValue::Int(5)), ("x", BinaryValue::Null)]
            })
        );
        // No attributes: two zero counts.
        assert_eq!(
            Command::parse(b"\x03\x00\x01SELECT 2", caps),
            Ok(Command::Query(Query { sql: "SELECT 2", attributes: vec![] }))
        );
        assert_every_truncation_fails(&b[..21], |x| Command::parse(x, caps));
        // A count the packet cannot hold fails before allocating.
        let huge = [0x03, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 1];
        assert!(matches!(Command::parse(&huge, caps), Err(ProtocolError::Truncated { .. })));
    }

    #[test]
    fn change_user_parses_every_field() {
        let mut b = vec![0x11];
        b.extend_from_slice(b"bob\0\x03abcshop\0");
        b.extend_from_slice(&255u16.to_le_bytes());
        b.extend_from_slice(b"caching_sha2_password\0");
        b.extend_from_slice(&[6, 1, b'k', 3, b'v', b'a', b'l']);
        let c = parse(&b).expect("valid");
        assert_eq!(
            c,
            Command::ChangeUser(ChangeUser {
                user: "bob",
                auth_response: b"abc",
                database: Some("shop"),
                collation: Some(Collation::UTF8MB4_0900_AI_CI),
                auth_plugin: Some("caching_sha2_password"),
                attributes: vec![("k".into(), "val".into())],
            })
        );
        assert_every_truncation_fails(&b[..9], parse);
    }

    proptest::proptest! {
        #[test]
        fn random_payloads_never_panic_the_command_parser(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..64), attrs: bool) {
            let caps = if attrs { CAPS | Capabilities::QUERY_ATTRIBUTES } else { CAPS };
            if let Ok(Command::StmtExecute(e)) = Command::parse(&bytes, caps) {
                for n in [0u16, 1, 3, 9] {
                    let _ = e.decode_params(&mut crate::statement::StatementParams::new(n), caps);
                }
            }
        }

        #[test]
        fn commands_with_random_bodies_never_panic(code in 0u8..0x22, body in proptest::collection::vec(proptest::num::u8::ANY, 0..48)) {
            let mut b = vec![code];
            b.extend_from_slice(&body);
            let _ = Command::parse(&b, CAPS | Capabilities::QUERY_ATTRIBUTES);
            let _ = Command::parse(&b, Capabilities::PROTOCOL_41);
        }
    }
}
