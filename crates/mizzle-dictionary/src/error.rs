//! Errors of the dictionary.
//!
//! Invariants:
//! 1. Messages match MySQL's wording for the same situation.

use mizzle_txn::TxnError;
use mizzle_types::{ErrorCode, SqlError};

/// Dictionary failures.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DictError {
    /// CREATE DATABASE of an existing one.
    #[error("Can't create database '{0}'; database exists")]
    SchemaExists(String),
    /// A database that does not exist.
    #[error("Unknown database '{0}'")]
    UnknownSchema(String),
    /// DROP DATABASE of a missing one.
    #[error("Can't drop database '{0}'; database doesn't exist")]
    DropMissingSchema(String),
    /// CREATE TABLE/VIEW of an existing name.
    #[error("Table '{0}' already exists")]
    TableExists(String),
    /// A table that does not exist.
    #[error("Table '{schema}.{name}' doesn't exist")]
    NoSuchTable { schema: String, name: String },
    /// The transaction layer failed.
    #[error(transparent)]
    Txn(#[from] TxnError),
    /// A stored record did not decode.
    #[error("corrupted dictionary: {0}")]
    Corrupt(&'static str),
}

impl SqlError for DictError {
    fn code(&self) -> ErrorCode {
        match self {
            DictError::SchemaExists(_) => ErrorCode::DatabaseExists,
            DictError::UnknownSchema(_) => ErrorCode::UnknownDatabase,
            DictError::DropMissingSchema(_) => ErrorCode::DatabaseMissingOnDrop,
            DictError::TableExists(_) => ErrorCode::TableExists,
            DictError::NoSuchTable { .. } => ErrorCode::NoSuchTable,
            DictError::Txn(e) => e.code(),
            DictError::Corrupt(_) => ErrorCode::Corrupted,
        }
    }
}
