//! Errors of the SQL front end, worded as MySQL words them.
//!
//! Invariants:
//! 1. Every variant maps to one [`ErrorCode`]; messages name the object and
//!    the clause that was wrong.

use mizzle_dictionary::DictError;
use mizzle_txn::TxnError;
use mizzle_types::{ErrorCode, SqlError, TypeError};

use crate::func::FuncError;

/// Binding and planning failures.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BindError {
    /// The text does not parse.
    #[error("You have an error in your SQL syntax; {0}")]
    Syntax(String),
    /// Nesting deeper than the parser, binder or executor allow.
    #[error("Statement nested too deeply (more than {0} levels)")]
    NestedTooDeeply(usize),
    /// No current database.
    #[error("No database selected")]
    NoDatabaseSelected,
    /// Unknown database.
    #[error("Unknown database '{0}'")]
    UnknownDatabase(String),
    /// Unknown table or view.
    #[error("Table '{schema}.{name}' doesn't exist")]
    NoSuchTable { schema: String, name: String },
    /// Unknown table in a qualified wildcard or DROP.
    #[error("Unknown table '{0}'")]
    UnknownTable(String),
    /// Unknown column.
    #[error("Unknown column '{name}' in '{clause}'")]
    UnknownColumn { name: String, clause: &'static str },
    /// A column name that matches more than one table.
    #[error("Column '{name}' in {clause} is ambiguous")]
    AmbiguousColumn { name: String, clause: &'static str },
    /// Two FROM items with one alias.
    #[error("Not unique table/alias: '{0}'")]
    NonUniqueTable(String),
    /// Unknown function.
    #[error("FUNCTION {0} does not exist")]
    UnknownFunction(String),
    /// Wrong number of arguments.
    #[error("Incorrect parameter count in the call to native function '{0}'")]
    WrongParamCount(String),
    /// A row where a scalar was needed, or rows of different widths.
    #[error("Operand should contain {0} column(s)")]
    OperandColumns(usize),
    /// UNION of different widths.
    #[error("The used SELECT statements have a different number of columns")]
    SetOpWidth,
    /// INSERT row width mismatch.
    #[error("Column count doesn't match value count at row {0}")]
    WrongValueCount(usize),
    /// Aggregate in the wrong place.
    #[error("Invalid use of group function")]
    InvalidGroupFuncUse,
    /// Derived table without alias.
    #[error("Every derived table must have its own alias")]
    DerivedMustHaveAlias,
    /// A feature mizzle does not have.
    #[error("This version of mizzle doesn't yet support '{0}'")]
    NotSupported(String),
    /// Bad DEFAULT.
    #[error("Invalid default value for '{0}'")]
    InvalidDefault(String),
    /// Duplicate column in a definition.
    #[error("Duplicate column name '{0}'")]
    DuplicateColumn(String),
    /// Duplicate index name.
    #[error("Duplicate key name '{0}'")]
    DuplicateKeyName(String),
    /// Two primary keys.
    #[error("Multiple primary key defined")]
    MultiplePrimaryKey,
    /// Key over a missing column.
    #[error("Key column '{0}' doesn't exist in table")]
    KeyColumnMissing(String),
    /// Bad AUTO_INCREMENT column.
    #[error("Incorrect table definition; there can be only one auto column and it must be defined as a key")]
    WrongAutoKey,
    /// DROP of a missing column or key.
    #[error("Can't DROP '{0}'; check that column/key exists")]
    CantDrop(String),
    /// Unknown system variable.
    #[error("Unknown system variable '{0}'")]
    UnknownSystemVariable(String),
    /// Bad value for a variable.
    #[error("Variable '{name}' can't be set to the value of '{value}'")]
    WrongValueForVar { name: String, value: String },
    /// A table where a view was expected, or the reverse.
    #[error("'{schema}.{name}' is not {kind}")]
    WrongObject { schema: String, name: String, kind: &'static str },
    /// A view whose definition no longer binds.
    #[error("View '{schema}.{name}' references invalid table(s) or column(s) or function(s): {why}")]
    ViewInvalid { schema: String, name: String, why: String },
    /// Misuse of a clause.
    #[error("Incorrect usage of {0}")]
    WrongUsage(String),
    /// Bad arguments.
    #[error("Incorrect arguments to {0}")]
    WrongArguments(String),
    /// Value-level failure while binding constants.
    #[error(transparent)]
    Type(#[from] TypeError),
    /// Function evaluation failure while binding constants.
    #[error(transparent)]
    Func(#[from] FuncError),
    /// Dictionary failure.
    #[error(transparent)]
    Dict(#[from] DictError),
    /// Transaction failure.
    #[error(transparent)]
    Txn(#[from] TxnError),
    /// A bug: an invariant of the binder did not hold.
    #[error("internal error (a bug in mizzle): {0}")]
    Internal(String),
}

impl SqlError for BindError {
    fn code(&self) -> ErrorCode {
        use BindError::*;
        match self {
            Syntax(_) => ErrorCode::Syntax,
            NestedTooDeeply(_) => ErrorCode::NestedTooDeeply,
            NoDatabaseSelected => ErrorCode::NoDatabaseSelected,
            UnknownDatabase(_) => ErrorCode::UnknownDatabase,
            NoSuchTable { .. } => ErrorCode::NoSuchTable,
            UnknownTable(_) => ErrorCode::UnknownTable,
            UnknownColumn { .. } => ErrorCode::UnknownColumn,
            AmbiguousColumn { .. } => ErrorCode::AmbiguousColumn,
            NonUniqueTable(_) => ErrorCode::NonUniqueTable,
            UnknownFunction(_) => ErrorCode::DoesNotExist,
            WrongParamCount(_) => ErrorCode::WrongParamCount,
            OperandColumns(_) => ErrorCode::OperandColumns,
            SetOpWidth => ErrorCode::WrongColumnsInSetOp,
            WrongValueCount(_) => ErrorCode::WrongValueCountOnRow,
            InvalidGroupFuncUse => ErrorCode::InvalidGroupFuncUse,
            DerivedMustHaveAlias => ErrorCode::DerivedMustHaveAlias,
            NotSupported(_) => ErrorCode::NotSupported,
            InvalidDefault(_) => ErrorCode::InvalidDefault,
            DuplicateColumn(_) => ErrorCode::DuplicateColumn,
            DuplicateKeyName(_) => ErrorCode::DuplicateKeyName,
            MultiplePrimaryKey => ErrorCode::MultiplePrimaryKey,
            KeyColumnMissing(_) => ErrorCode::KeyColumnMissing,
            WrongAutoKey => ErrorCode::WrongAutoKey,
            CantDrop(_) => ErrorCode::CantDropFieldOrKey,
            UnknownSystemVariable(_) => ErrorCode::UnknownSystemVariable,
            WrongValueForVar { .. } => ErrorCode::WrongValueForVar,
            WrongObject { .. } => ErrorCode::WrongObject,
            ViewInvalid { .. } => ErrorCode::ViewInvalid,
            WrongUsage(_) => ErrorCode::WrongUsage,
            WrongArguments(_) => ErrorCode::WrongArguments,
            Type(e) => e.code(),
            Func(e) => e.code(),
            Dict(e) => e.code(),
            Txn(e) => e.code(),
            Internal(_) => ErrorCode::Internal,
        }
    }
}
