//! Bit sets of the protocol: client/server capabilities, server status
//! flags and column definition flags, each a newtype over its wire integer
//! with every flag named.
//!
//! Invariants:
//! 1. Unknown bits read from the wire are kept (a set round-trips bit for
//!    bit); `Debug` lists named flags and the leftover bits in hex.
//! 2. The values are MySQL's (`include/mysql_com.h`); MariaDB's extended
//!    capabilities (the last 4 reserved bytes of the handshake) are not
//!    modelled: mizzle presents itself as MySQL.
//!
//! This module does not decide which capabilities a server offers; see
//! `handshake::HandshakeConfig`.

macro_rules! flag_set {
    ($(#[$doc:meta])* $name:ident($int:ty) { $( $(#[$fdoc:meta])* $flag:ident = $value:expr, )* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct $name(pub $int);

        impl $name {
            $( $(#[$fdoc])* pub const $flag: $name = $name($value); )*

            /// Every named flag with its name.
            pub const NAMED: &'static [(&'static str, $name)] = &[ $( (stringify!($flag), $name::$flag), )* ];

            /// The empty set.
            pub const fn empty() -> $name {
                $name(0)
            }

            /// The wire integer.
            pub const fn bits(self) -> $int {
                self.0
            }

            /// True if every flag of `other` is set.
            pub const fn contains(self, other: $name) -> bool {
                self.0 & other.0 == other.0
            }

            /// True if any flag of `other` is set.
            pub const fn intersects(self, other: $name) -> bool {
                self.0 & other.0 != 0
            }

            /// Sets the flags of `other`.
            pub fn insert(&mut self, other: $name) {
                self.0 |= other.0;
            }

            /// Clears the flags of `other`.
            pub fn remove(&mut self, other: $name) {
                self.0 &= !other.0;
            }

            /// Sets or clears the flags of `other`.
            pub fn set(&mut self, other: $name, on: bool) {
                if on { self.insert(other) } else { self.remove(other) }
            }
        }

        impl std::ops::BitOr for $name {
            type Output = $name;
            fn bitor(self, o: $name) -> $name {
                $name(self.0 | o.0)
            }
        }

        impl std::ops::BitAnd for $name {
            type Output = $name;
            fn bitand(self, o: $name) -> $name {
                $name(self.0 & o.0)
            }
        }

        impl std::ops::BitOrAssign for $name {
            fn bitor_assign(&mut self, o: $name) {
                self.0 |= o.0;
            }
        }

        impl std::ops::Not for $name {
            type Output = $name;
            fn not(self) -> $name {
                $name(!self.0)
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let mut rest = self.0;
                let mut first = true;
                f.write_str(concat!(stringify!($name), "("))?;
                for (n, v) in $name::NAMED {
                    if v.0 != 0 && self.contains(*v) {
                        if !first { f.write_str(" | ")?; }
                        f.write_str(n)?;
                        first = false;
                        rest &= !v.0;
                    }
                }
                if rest != 0 {
                    if !first { f.write_str(" | ")?; }
                    write!(f, "{rest:#x}")?;
                }
                f.write_str(")")
            }
        }
    };
}

flag_set! {
    /// Capability flags (`CLIENT_*`), exchanged in the handshake; the
    /// connection uses the intersection of the server's and the client's.
    Capabilities(u32) {
        /// CLIENT_LONG_PASSWORD: new-style passwords (also "this is MySQL, not MariaDB").
        LONG_PASSWORD = 1,
        /// CLIENT_FOUND_ROWS: affected rows are found rows, not changed rows.
        FOUND_ROWS = 1 << 1,
        /// CLIENT_LONG_FLAG: all column flags.
        LONG_FLAG = 1 << 2,
        /// CLIENT_CONNECT_WITH_DB: a schema may be named in the handshake response.
        CONNECT_WITH_DB = 1 << 3,
        /// CLIENT_NO_SCHEMA: deprecated.
        NO_SCHEMA = 1 << 4,
        /// CLIENT_COMPRESS: compressed protocol (not supported by mizzle).
        COMPRESS = 1 << 5,
        /// CLIENT_ODBC: no special behaviour.
        ODBC = 1 << 6,
        /// CLIENT_LOCAL_FILES: LOAD DATA LOCAL (the server asks for the file with a 0xFB packet).
        LOCAL_FILES = 1 << 7,
        /// CLIENT_IGNORE_SPACE: parser ignores spaces before '('.
        IGNORE_SPACE = 1 << 8,
        /// CLIENT_PROTOCOL_41: the 4.1 protocol (required by mizzle).
        PROTOCOL_41 = 1 << 9,
        /// CLIENT_INTERACTIVE: use interactive_timeout.
        INTERACTIVE = 1 << 10,
        /// CLIENT_SSL: switch to TLS after the handshake (SSLRequest).
        SSL = 1 << 11,
        /// CLIENT_IGNORE_SIGPIPE: client-side only.
        IGNORE_SIGPIPE = 1 << 12,
        /// CLIENT_TRANSACTIONS: status flags in OK and EOF.
        TRANSACTIONS = 1 << 13,
        /// CLIENT_RESERVED: deprecated.
        RESERVED = 1 << 14,
        /// CLIENT_SECURE_CONNECTION (CLIENT_RESERVED2): 1-byte-length auth response.
        SECURE_CONNECTION = 1 << 15,
        /// CLIENT_MULTI_STATEMENTS: several statements per COM_QUERY.
        MULTI_STATEMENTS = 1 << 16,
        /// CLIENT_MULTI_RESULTS: several result sets per command.
        MULTI_RESULTS = 1 << 17,
        /// CLIENT_PS_MULTI_RESULTS: several result sets per COM_STMT_EXECUTE.
        PS_MULTI_RESULTS = 1 << 18,
        /// CLIENT_PLUGIN_AUTH: authentication plugins and auth switch.
        PLUGIN_AUTH = 1 << 19,
        /// CLIENT_CONNECT_ATTRS: connection attributes in the handshake response.
        CONNECT_ATTRS = 1 << 20,
        /// CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA: length-encoded auth response.
        PLUGIN_AUTH_LENENC_CLIENT_DATA = 1 << 21,
        /// CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS.
        CAN_HANDLE_EXPIRED_PASSWORDS = 1 << 22,
        /// CLIENT_SESSION_TRACK: session state changes in OK packets.
        SESSION_TRACK = 1 << 23,
        /// CLIENT_DEPRECATE_EOF: OK (0xFE header) instead of EOF packets.
        DEPRECATE_EOF = 1 << 24,
        /// CLIENT_OPTIONAL_RESULTSET_METADATA (not offered by mizzle).
        OPTIONAL_RESULTSET_METADATA = 1 << 25,
        /// CLIENT_ZSTD_COMPRESSION_ALGORITHM (not offered by mizzle).
        ZSTD_COMPRESSION_ALGORITHM = 1 << 26,
        /// CLIENT_QUERY_ATTRIBUTES: query attributes in COM_QUERY and COM_STMT_EXECUTE.
        QUERY_ATTRIBUTES = 1 << 27,
        /// MULTI_FACTOR_AUTHENTICATION (not offered by mizzle).
        MULTI_FACTOR_AUTHENTICATION = 1 << 28,
        /// CLIENT_CAPABILITY_EXTENSION: reserved.
        CAPABILITY_EXTENSION = 1 << 29,
        /// CLIENT_SSL_VERIFY_SERVER_CERT: client-side only.
        SSL_VERIFY_SERVER_CERT = 1 << 30,
        /// CLIENT_REMEMBER_OPTIONS: client-side only.
        REMEMBER_OPTIONS = 1 << 31,
    }
}

flag_set! {
    /// Server status flags (`SERVER_*`), sent in OK and EOF packets.
    StatusFlags(u16) {
        /// SERVER_STATUS_IN_TRANS: a transaction is open.
        IN_TRANS = 1,
        /// SERVER_STATUS_AUTOCOMMIT.
        AUTOCOMMIT = 1 << 1,
        /// SERVER_MORE_RESULTS_EXISTS: another result set follows.
        MORE_RESULTS_EXISTS = 1 << 3,
        /// SERVER_QUERY_NO_GOOD_INDEX_USED.
        NO_GOOD_INDEX_USED = 1 << 4,
        /// SERVER_QUERY_NO_INDEX_USED.
        NO_INDEX_USED = 1 << 5,
        /// SERVER_STATUS_CURSOR_EXISTS: COM_STMT_FETCH may read rows.
        CURSOR_EXISTS = 1 << 6,
        /// SERVER_STATUS_LAST_ROW_SENT: a cursor is exhausted.
        LAST_ROW_SENT = 1 << 7,
        /// SERVER_STATUS_DB_DROPPED.
        DB_DROPPED = 1 << 8,
        /// SERVER_STATUS_NO_BACKSLASH_ESCAPES.
        NO_BACKSLASH_ESCAPES = 1 << 9,
        /// SERVER_STATUS_METADATA_CHANGED.
        METADATA_CHANGED = 1 << 10,
        /// SERVER_QUERY_WAS_SLOW.
        QUERY_WAS_SLOW = 1 << 11,
        /// SERVER_PS_OUT_PARAMS.
        PS_OUT_PARAMS = 1 << 12,
        /// SERVER_STATUS_IN_TRANS_READONLY.
        IN_TRANS_READONLY = 1 << 13,
        /// SERVER_SESSION_STATE_CHANGED: the OK packet carries session state.
        SESSION_STATE_CHANGED = 1 << 14,
    }
}

flag_set! {
    /// Column definition flags (`*_FLAG` of `mysql_com.h`).
    ColumnFlags(u16) {
        /// NOT_NULL_FLAG.
        NOT_NULL = 1,
        /// PRI_KEY_FLAG.
        PRIMARY_KEY = 1 << 1,
        /// UNIQUE_KEY_FLAG.
        UNIQUE_KEY = 1 << 2,
        /// MULTIPLE_KEY_FLAG.
        MULTIPLE_KEY = 1 << 3,
        /// BLOB_FLAG.
        BLOB = 1 << 4,
        /// UNSIGNED_FLAG.
        UNSIGNED = 1 << 5,
        /// ZEROFILL_FLAG.
        ZEROFILL = 1 << 6,
        /// BINARY_FLAG.
        BINARY = 1 << 7,
        /// ENUM_FLAG.
        ENUM = 1 << 8,
        /// AUTO_INCREMENT_FLAG.
        AUTO_INCREMENT = 1 << 9,
        /// TIMESTAMP_FLAG.
        TIMESTAMP = 1 << 10,
        /// SET_FLAG.
        SET = 1 << 11,
        /// NO_DEFAULT_VALUE_FLAG.
        NO_DEFAULT_VALUE = 1 << 12,
        /// ON_UPDATE_NOW_FLAG.
        ON_UPDATE_NOW = 1 << 13,
        /// PART_KEY_FLAG.
        PART_KEY = 1 << 14,
        /// NUM_FLAG.
        NUM = 1 << 15,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capability_values_match_mysql_com_h() {
        assert_eq!(Capabilities::PROTOCOL_41.bits(), 0x200);
        assert_eq!(Capabilities::SECURE_CONNECTION.bits(), 0x8000);
        assert_eq!(Capabilities::PLUGIN_AUTH.bits(), 0x8_0000);
        assert_eq!(Capabilities::SESSION_TRACK.bits(), 0x80_0000);
        assert_eq!(Capabilities::DEPRECATE_EOF.bits(), 0x100_0000);
        assert_eq!(Capabilities::QUERY_ATTRIBUTES.bits(), 0x800_0000);
        assert_eq!(StatusFlags::SESSION_STATE_CHANGED.bits(), 0x4000);
        assert_eq!(Capabilities::NAMED.len(), 32);
    }

    #[test]
    fn sets_combine_and_keep_unknown_bits() {
        let mut c = Capabilities::PROTOCOL_41 | Capabilities::SSL;
        assert!(c.contains(Capabilities::SSL));
        c.remove(Capabilities::SSL);
        assert!(!c.intersects(Capabilities::SSL));
        assert_eq!(format!("{c:?}"), "Capabilities(PROTOCOL_41)");
        let s = StatusFlags(0x8000 | 2);
        assert_eq!(format!("{s:?}"), "StatusFlags(AUTOCOMMIT | 0x8000)");
    }
}
