//! The one error type of this crate, [`ProtocolError`], and its mapping to
//! MySQL error identities.
//!
//! Invariants:
//! 1. Every variant names what went wrong with structured fields (which
//!    field was truncated, which byte was bad); messages are built only by
//!    `Display`.
//! 2. Every variant maps to an existing [`ErrorCode`]; no error number is
//!    written here (STYLE.md §5). Where MySQL has a dedicated code that the
//!    table lacks (`ER_UNKNOWN_COM_ERROR`, `ER_MALFORMED_PACKET`,
//!    `ER_NET_PACKETS_OUT_OF_ORDER`, `ER_HANDSHAKE_ERROR`), the closest
//!    existing code is used and the doc comment of the variant says so.
//!
//! This module does not decide whether a connection survives an error; the
//! server does (framing errors desynchronise the stream and should close it,
//! command-body errors need only an ERR packet).

use mizzle_types::{ErrorCode, SqlError};

/// Everything that can go wrong while decoding or driving the protocol.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// A packet ended before a field was complete. Class: user (a client
    /// bug or a hostile peer). Maps to `WrongArguments` for want of
    /// `ER_MALFORMED_PACKET`.
    #[error("Malformed packet: {field} needs {needed} more bytes, {available} left")]
    Truncated {
        /// The field being read.
        field: &'static str,
        /// Bytes the field needs.
        needed: u64,
        /// Bytes the packet still had.
        available: u64,
    },
    /// A packet had bytes left after its last field where none may follow.
    #[error("Malformed packet: {extra} unexpected bytes after {after}")]
    TrailingBytes {
        /// The last field read.
        after: &'static str,
        /// How many bytes were left.
        extra: u64,
    },
    /// A length-encoded integer started with a byte that is not one
    /// (`0xFF`, or `0xFB` where NULL is not allowed).
    #[error("Malformed packet: bad length-encoded integer (first byte 0x{first_byte:02X}) in {field}")]
    BadLengthEncodedInt {
        /// The field being read.
        field: &'static str,
        /// The offending first byte.
        first_byte: u8,
    },
    /// A field had a value the protocol does not allow.
    #[error("Malformed packet: invalid {field} value {value}")]
    InvalidField {
        /// The field.
        field: &'static str,
        /// The value read.
        value: u64,
    },
    /// Text that must be UTF-8 (a query, a user or schema name) is not.
    #[error("Invalid utf8mb4 character string in {field}: '{hex}'")]
    InvalidUtf8 {
        /// The field.
        field: &'static str,
        /// Up to 32 bytes of the offending text in hex.
        hex: String,
    },
    /// A packet (after reassembly) is larger than `max_allowed_packet`.
    /// Detected from the headers, before the payload arrives.
    #[error("Got a packet bigger than 'max_allowed_packet' bytes ({size} > {max})")]
    PacketTooLarge {
        /// The announced size so far.
        size: u64,
        /// The limit.
        max: u64,
    },
    /// A packet carried the wrong sequence id. Maps to `WrongArguments` for
    /// want of `ER_NET_PACKETS_OUT_OF_ORDER`.
    #[error("Got packets out of order (sequence id {got}, expected {expected})")]
    BadSequence {
        /// The id received.
        got: u8,
        /// The id expected.
        expected: u8,
    },
    /// A command byte this server does not know. Maps to `NotSupported`
    /// for want of `ER_UNKNOWN_COM_ERROR`.
    #[error("Unknown command 0x{code:02X}")]
    UnknownCommand {
        /// The command byte.
        code: u8,
    },
    /// An empty command packet (no command byte).
    #[error("Malformed packet: empty command")]
    EmptyCommand,
    /// A column or parameter type byte that is not a MySQL type.
    #[error("Malformed packet: unknown column type 0x{code:02X}")]
    UnknownColumnType {
        /// The type byte.
        code: u8,
    },
    /// A binary value does not fit its declared column type when encoding a
    /// row (an internal error: the server described the column wrongly).
    #[error("internal error (a bug): value of kind {kind} cannot be sent as column type {column_type}")]
    ValueDoesNotFitColumn {
        /// The value's kind.
        kind: &'static str,
        /// The column type name.
        column_type: &'static str,
    },
    /// COM_STMT_EXECUTE without parameter types, and none kept from an
    /// earlier execute of the statement.
    #[error("Incorrect arguments to mysqld_stmt_execute: parameter types were never sent")]
    MissingParamTypes,
    /// A parameter index beyond the statement's parameter count.
    #[error("Incorrect arguments to mysqld_stmt_send_long_data: parameter {index} of {count}")]
    BadParamIndex {
        /// The index sent.
        index: u16,
        /// The statement's parameter count.
        count: u16,
    },
    /// The client does not speak the 4.1 protocol (CLIENT_PROTOCOL_41).
    /// Maps to `FeatureUnavailable` for want of `ER_NOT_SUPPORTED_AUTH_MODE`.
    #[error("Client does not support the 4.1 protocol; upgrade the MySQL client")]
    ClientTooOld,
    /// The client asked for TLS but this server has none, or sent bytes
    /// before the TLS handshake, or asked twice. Maps to `WrongArguments`
    /// for want of `ER_HANDSHAKE_ERROR`.
    #[error("Bad handshake: {reason}")]
    BadHandshake {
        /// What was wrong.
        reason: &'static str,
    },
    /// A packet arrived in a state that does not accept one (after the
    /// handshake finished or failed).
    #[error("internal error (a bug): packet received in handshake state {state}")]
    UnexpectedPacket {
        /// The state name.
        state: &'static str,
    },
    /// Authentication failed.
    #[error("Access denied for user '{user}'@'{host}' (using password: {})", if *.using_password { "YES" } else { "NO" })]
    AccessDenied {
        /// The user name the client sent.
        user: String,
        /// The client host the server reported.
        host: String,
        /// Whether the client sent a non-empty auth response.
        using_password: bool,
    },
    /// Full `caching_sha2_password` authentication needs a secure transport
    /// (TLS or a local socket); RSA key exchange is not supported (see the
    /// crate docs).
    #[error("Authentication requires secure connection (user '{user}'); RSA key exchange is not supported")]
    SecureTransportRequired {
        /// The user name.
        user: String,
    },
}

impl ProtocolError {
    /// A truncation of `field`, which needed `needed` bytes with `available` left.
    pub(crate) fn truncated(field: &'static str, needed: usize, available: usize) -> ProtocolError {
        ProtocolError::Truncated { field, needed: needed as u64, available: available as u64 }
    }

    /// Invalid UTF-8 in `field`.
    pub(crate) fn utf8(field: &'static str, bytes: &[u8]) -> ProtocolError {
        ProtocolError::InvalidUtf8 { field, hex: mizzle_types::error::hex_prefix(bytes) }
    }

    /// Whether the byte stream is still in sync after this error, so the
    /// server may send ERR and read the next command. Framing errors
    /// (oversized packets, bad sequence ids) leave it out of sync: the server
    /// sends ERR and closes.
    pub fn connection_survives(&self) -> bool {
        !matches!(
            self,
            ProtocolError::PacketTooLarge { .. }
                | ProtocolError::BadSequence { .. }
                | ProtocolError::BadHandshake { .. }
                | ProtocolError::ClientTooOld
                | ProtocolError::AccessDenied { .. }
                | ProtocolError::SecureTransportRequired { .. }
                | ProtocolError::UnexpectedPacket { .. }
        )
    }
}

impl SqlError for ProtocolError {
    fn code(&self) -> ErrorCode {
        match self {
            ProtocolError::Truncated { .. }
            | ProtocolError::TrailingBytes { .. }
            | ProtocolError::BadLengthEncodedInt { .. }
            | ProtocolError::InvalidField { .. }
            | ProtocolError::EmptyCommand
            | ProtocolError::UnknownColumnType { .. }
            | ProtocolError::MissingParamTypes
            | ProtocolError::BadParamIndex { .. }
            | ProtocolError::BadSequence { .. }
            | ProtocolError::BadHandshake { .. } => ErrorCode::WrongArguments,
            ProtocolError::InvalidUtf8 { .. } => ErrorCode::IncorrectValueForColumn,
            ProtocolError::PacketTooLarge { .. } => ErrorCode::PacketTooLarge,
            ProtocolError::UnknownCommand { .. } => ErrorCode::NotSupported,
            ProtocolError::ValueDoesNotFitColumn { .. } | ProtocolError::UnexpectedPacket { .. } => ErrorCode::Internal,
            ProtocolError::ClientTooOld => ErrorCode::FeatureUnavailable,
            ProtocolError::AccessDenied { .. } | ProtocolError::SecureTransportRequired { .. } => {
                ErrorCode::AccessDenied
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_denied_renders_like_mysql() {
        let e = ProtocolError::AccessDenied { user: "bob".into(), host: "localhost".into(), using_password: true };
        assert_eq!(e.to_string(), "Access denied for user 'bob'@'localhost' (using password: YES)");
        assert_eq!(e.code().number(), 1045);
        assert!(!e.connection_survives());
    }

    #[test]
    fn oversized_packet_is_the_packet_too_large_code() {
        let e = ProtocolError::PacketTooLarge { size: 10, max: 5 };
        assert_eq!(e.code(), ErrorCode::PacketTooLarge);
        assert_eq!(e.code().number(), 1153);
    }

    #[test]
    fn body_errors_keep_the_connection() {
        assert!(ProtocolError::truncated("x", 4, 1).connection_survives());
        assert!(ProtocolError::UnknownCommand { code: 0x99 }.connection_survives());
        assert_eq!(ProtocolError::UnknownCommand { code: 0x99 }.code(), ErrorCode::NotSupported);
    }
}
