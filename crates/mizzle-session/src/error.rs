//! The error type every statement returns: any layer's error, rendered at
//! the edge as `ERROR n (state): message`.
//!
//! Invariants:
//! 1. `code()` is the MySQL identity; `Display` is the message alone.

use std::fmt;

use mizzle_exec::ExecError;
use mizzle_sql::BindError;
use mizzle_txn::TxnError;
use mizzle_types::{ErrorCode, SqlError};

/// Session-level failures.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SessionError {
    /// Parsing or binding failed.
    #[error(transparent)]
    Bind(#[from] BindError),
    /// Execution failed.
    #[error(transparent)]
    Exec(#[from] ExecError),
    /// The transaction layer failed.
    #[error(transparent)]
    Txn(#[from] TxnError),
    /// A session rule was broken (message already worded).
    #[error("{message}")]
    Rule { code: ErrorCode, message: String },
}

impl SqlError for SessionError {
    fn code(&self) -> ErrorCode {
        match self {
            SessionError::Bind(e) => e.code(),
            SessionError::Exec(e) => e.code(),
            SessionError::Txn(e) => e.code(),
            SessionError::Rule { code, .. } => *code,
        }
    }
}

impl SessionError {
    /// A rule error.
    pub fn rule(code: ErrorCode, message: impl Into<String>) -> SessionError {
        SessionError::Rule { code, message: message.into() }
    }

    /// The error as the mysql client prints it.
    pub fn mysql_text(&self) -> String {
        let c = self.code();
        format!("ERROR {} ({}): {}", c.number(), c.sqlstate(), self)
    }
}

impl From<mizzle_dictionary::DictError> for SessionError {
    fn from(e: mizzle_dictionary::DictError) -> Self {
        SessionError::Exec(ExecError::Dict(e))
    }
}

/// Helper for `Display` of errors with their code.
pub struct WithCode<'a>(pub &'a SessionError);

impl fmt::Display for WithCode<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.mysql_text())
    }
}
