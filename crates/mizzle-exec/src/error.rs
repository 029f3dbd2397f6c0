//! Errors raised while executing statements.
//!
//! Invariants:
//! 1. Every variant maps to one `ErrorCode`; a failed statement leaves no
//!    effects because the session undoes it (statement savepoint).

use mizzle_dictionary::DictError;
use mizzle_sql::func::FuncError;
use mizzle_sql::BindError;
use mizzle_txn::TxnError;
use mizzle_types::{ErrorCode, SqlError, TypeError};

/// Execution failures.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExecError {
    /// A value-level failure.
    #[error(transparent)]
    Type(#[from] TypeError),
    /// A function failed.
    #[error(transparent)]
    Func(#[from] FuncError),
    /// The transaction layer failed (conflicts included).
    #[error(transparent)]
    Txn(#[from] TxnError),
    /// The dictionary failed.
    #[error(transparent)]
    Dict(#[from] DictError),
    /// Binding failed (DDL defaults, views, CHECK texts).
    #[error(transparent)]
    Bind(#[from] BindError),
    /// A unique key already holds the value.
    #[error("Duplicate entry '{value}' for key '{key}'")]
    Duplicate { value: String, key: String },
    /// A NOT NULL column without a default was omitted.
    #[error("Field '{0}' doesn't have a default value")]
    NoDefault(String),
    /// A CHECK constraint failed.
    #[error("Check constraint '{0}' is violated.")]
    CheckViolated(String),
    /// A scalar subquery returned several rows.
    #[error("Subquery returns more than 1 row")]
    SubqueryRows,
    /// Rows of different widths where one was expected.
    #[error("Operand should contain {0} column(s)")]
    OperandColumns(usize),
    /// Statement-level errors of DDL (unknown column in ALTER, ...).
    #[error("{message}")]
    Ddl { code: ErrorCode, message: String },
    /// A prepared statement was given the wrong number of parameters.
    #[error("Incorrect arguments to EXECUTE: expected {expected} parameters, got {got}")]
    ParamCount { expected: usize, got: usize },
    /// A recursive CTE needed more iterations than `cte_max_recursion_depth`.
    #[error("Recursive query aborted after {iterations} iterations. Try increasing @@cte_max_recursion_depth to a larger value.")]
    MaxRecursion { iterations: u64 },
    /// A window function argument that must be a constant of a kind
    /// (NTILE's bucket count, LAG/LEAD's offset, NTH_VALUE's row) is not.
    #[error("Incorrect arguments to {0}")]
    WrongArguments(String),
    /// `KILL QUERY` stopped the statement.
    #[error("Query execution was interrupted")]
    Interrupted,
    /// The statement ran longer than `max_execution_time`.
    #[error("Query execution was interrupted, maximum statement execution time exceeded")]
    TimedOut,
    /// A feature that is missing.
    #[error("This version of mizzle doesn't yet support '{0}'")]
    NotSupported(String),
    /// A bug.
    #[error("internal error (a bug in mizzle): {0}")]
    Internal(String),
    /// LOAD DATA: a line with too few or too many fields (strict), or the
    /// file could not be opened.
    #[error("{message}")]
    Load { code: ErrorCode, message: String },
    /// JSON_TABLE: a path found nothing under ERROR ON EMPTY.
    #[error("Missing value for JSON_TABLE column '{0}'")]
    JsonTableMissing(String),
    /// JSON_TABLE: an array or object for a scalar column under ERROR ON ERROR.
    #[error("Can't store an array or an object in the scalar JSON_TABLE column '{0}'")]
    JsonTableWrongValue(String),
    /// JSON_TABLE: a value that does not convert (or several values) under
    /// ERROR ON ERROR.
    #[error("Value is out of range for JSON_TABLE's column '{0}'")]
    JsonTableOutOfRange(String),
    /// LOAD DATA: reading the file failed.
    #[error("Error reading file (errno: {0})")]
    Io(String),
}

impl SqlError for ExecError {
    fn code(&self) -> ErrorCode {
        match self {
            ExecError::Type(e) => e.code(),
            ExecError::Func(e) => e.code(),
            ExecError::Txn(e) => e.code(),
            ExecError::Dict(e) => e.code(),
            ExecError::Bind(e) => e.code(),
            ExecError::Duplicate { .. } => ErrorCode::DuplicateEntry,
            ExecError::NoDefault(_) => ErrorCode::NoDefaultForField,
            ExecError::CheckViolated(_) => ErrorCode::CheckConstraintViolated,
            ExecError::SubqueryRows => ErrorCode::SubqueryMoreThanOneRow,
            ExecError::OperandColumns(_) => ErrorCode::OperandColumns,
            ExecError::Ddl { code, .. } => *code,
            ExecError::ParamCount { .. } => ErrorCode::WrongArguments,
            ExecError::MaxRecursion { .. } => ErrorCode::CteMaxRecursionDepth,
            ExecError::WrongArguments(_) => ErrorCode::WrongArguments,
            ExecError::Interrupted => ErrorCode::QueryInterrupted,
            ExecError::TimedOut => ErrorCode::QueryTimeout,
            ExecError::NotSupported(_) => ErrorCode::NotSupported,
            ExecError::Internal(_) => ErrorCode::Internal,
            ExecError::Load { code, .. } => *code,
            ExecError::Io(_) => ErrorCode::ReadFailed,
            ExecError::JsonTableMissing(_) => ErrorCode::MissingJsonTableValue,
            ExecError::JsonTableWrongValue(_) => ErrorCode::WrongJsonTableValue,
            ExecError::JsonTableOutOfRange(_) => ErrorCode::JsonTableValueOutOfRange,
        }
    }
}

impl ExecError {
    /// A DDL error with a MySQL code.
    pub fn ddl(code: ErrorCode, message: impl Into<String>) -> ExecError {
        ExecError::Ddl { code, message: message.into() }
    }
}
