//! Collation ids as the protocol carries them (handshake, column
//! definitions, COM_CHANGE_USER).
//!
//! Invariants:
//! 1. Only ids are modelled; mizzle's text is always UTF-8, so the ids that
//!    matter are the utf8mb4 collations and `binary` (63), which column
//!    definitions use for numbers, dates and byte strings.
//!
//! This module does not convert between character sets: a client that
//! declares a non-UTF-8 character set still has its text validated as UTF-8.

/// A collation id (the handshake carries only its low 8 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Collation(pub u16);

impl Collation {
    /// `latin1_swedish_ci`.
    pub const LATIN1_SWEDISH_CI: Collation = Collation(8);
    /// `utf8mb3_general_ci` (`utf8` in old clients).
    pub const UTF8MB3_GENERAL_CI: Collation = Collation(33);
    /// `utf8mb4_general_ci`, the default of MariaDB clients.
    pub const UTF8MB4_GENERAL_CI: Collation = Collation(45);
    /// `utf8mb4_bin`.
    pub const UTF8MB4_BIN: Collation = Collation(46);
    /// `binary`: numbers, dates and byte strings.
    pub const BINARY: Collation = Collation(63);
    /// `utf8mb4_0900_ai_ci`, MySQL 8's default.
    pub const UTF8MB4_0900_AI_CI: Collation = Collation(255);

    /// The id sent in one byte (the greeting's character set).
    pub fn low_byte(self) -> u8 {
        self.0.to_le_bytes()[0]
    }
}
