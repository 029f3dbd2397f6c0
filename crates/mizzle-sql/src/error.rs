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
    /// A privilege that a table grant cannot hold.
    #[error("Illegal GRANT/REVOKE command; please consult the manual to see which privileges can be used")]
    IllegalGrantForTable,
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
    /// JSON_TABLE without alias.
    #[error("Every table function must have an alias")]
    TableFunctionMustHaveAlias,
    /// A feature mizzle does not have.
    #[error("This version of mizzle doesn't yet support '{0}'")]
    NotSupported(String),
    /// A stored-program statement (trigger, procedure, function, event,
    /// CALL): mizzle, like Drizzle, has none.
    #[error("This version of mizzle doesn't support '{0}': mizzle, like Drizzle, has no stored programs (triggers, procedures, stored functions, events)")]
    NoStoredPrograms(String),
    /// Bad DEFAULT.
    #[error("Invalid default value for '{0}'")]
    InvalidDefault(String),
    /// A literal DEFAULT on a JSON column.
    #[error("BLOB, TEXT, GEOMETRY or JSON column '{0}' can't have a default value")]
    BlobCantHaveDefault(String),
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
    /// A multi-table UPDATE or DELETE target that is not a base table of
    /// its FROM clause (a derived table or a view).
    #[error("The target table {name} of the {verb} is not updatable")]
    NotUpdatableTarget { name: String, verb: &'static str },
    /// A multi-table DELETE target that names no table of its FROM clause.
    #[error("Unknown table '{name}' in {clause}")]
    UnknownTableIn { name: String, clause: &'static str },
    /// Misuse of a clause.
    #[error("Incorrect usage of {0}")]
    WrongUsage(String),
    /// Bad arguments.
    #[error("Incorrect arguments to {0}")]
    WrongArguments(String),
    /// YEAR(n) other than YEAR(4).
    #[error("Supports only YEAR or YEAR(4) column.")]
    InvalidYearLength,
    /// `OVER w` or `WINDOW a AS (w ...)` names no window of the block.
    #[error("Window name '{0}' is not defined.")]
    WindowNoSuchWindow(String),
    /// Named windows that refer to each other in a cycle.
    #[error("There is a circularity in the window dependency graph.")]
    WindowCircularity,
    /// A window that refers to another defines PARTITION BY.
    #[error("A window which depends on another cannot define partitioning.")]
    WindowNoChildPartitioning,
    /// A window with a frame is referred to by another window.
    #[error("Window '{0}' has a frame definition, so cannot be referenced by another window.")]
    WindowNoInheritFrame(String),
    /// Both a window and the window it refers to have ORDER BY.
    #[error("Window '{window}' cannot inherit '{base}' since both contain an ORDER BY clause.")]
    WindowNoRedefineOrderBy { window: String, base: String },
    /// Frame start UNBOUNDED FOLLOWING.
    #[error("Window '{0}': frame start cannot be UNBOUNDED FOLLOWING.")]
    WindowFrameStartIllegal(String),
    /// Frame end UNBOUNDED PRECEDING.
    #[error("Window '{0}': frame end cannot be UNBOUNDED PRECEDING.")]
    WindowFrameEndIllegal(String),
    /// A frame whose start lies after its end, or a bad offset.
    #[error("Window '{0}': frame start or end is negative, NULL or of non-integral type")]
    WindowFrameIllegal(String),
    /// RANGE with a value offset needs one numeric or temporal ORDER BY key.
    #[error(
        "Window '{0}' with RANGE N PRECEDING/FOLLOWING frame requires exactly one ORDER BY expression, of numeric or temporal type"
    )]
    WindowRangeFrameOrderType(String),
    /// RANGE over a temporal key with a non-INTERVAL offset.
    #[error(
        "Window '{0}' with RANGE frame has ORDER BY expression of datetime type. Only INTERVAL bound value allowed."
    )]
    WindowRangeFrameTemporalType(String),
    /// RANGE over a numeric key with an INTERVAL offset.
    #[error(
        "Window '{0}' with RANGE frame has ORDER BY expression of numeric type, INTERVAL bound value not allowed."
    )]
    WindowRangeFrameNumericType(String),
    /// A frame offset that is not a constant.
    #[error("Window '{0}' has a non-constant frame bound.")]
    WindowRangeBoundNotConstant(String),
    /// Two windows of one WINDOW clause with one name.
    #[error("Window '{0}' is defined twice.")]
    WindowDuplicateName(String),
    /// `ORDER BY 1` / `PARTITION BY 1` in a window.
    #[error(
        "Window '{0}': ORDER BY or PARTITION BY uses legacy position indication which is not supported, use expression."
    )]
    WindowIllegalOrderBy(String),
    /// A window function where none may be (WHERE, GROUP BY, HAVING, inside
    /// another window function or an aggregate).
    #[error("You cannot use the window function '{0}' in this context.'")]
    WindowInvalidUse(String),
    /// The alias of a window function's expression where it may not be used.
    #[error("You cannot use the alias '{0}' of an expression containing a window function in this context.'")]
    WindowInvalidAliasUse(String),
    /// A window function inside PARTITION BY / ORDER BY of a window.
    #[error("You cannot nest a window function in the specification of window '{0}'.")]
    WindowNestedInSpec(String),
    /// INTERVAL offsets in a ROWS frame.
    #[error("Window '{0}': INTERVAL can only be used with RANGE frames.")]
    WindowRowsIntervalUse(String),
    /// A recursive CTE that is not a UNION.
    #[error("Recursive Common Table Expression '{0}' should contain a UNION")]
    CteRecursiveRequiresUnion(String),
    /// A recursive CTE whose first query block refers to itself, or a
    /// non-recursive block after a recursive one.
    #[error(
        "Recursive Common Table Expression '{0}' should have one or more non-recursive query blocks followed by one or more recursive ones"
    )]
    CteRecursiveRequiresNonRecursiveFirst(String),
    /// Aggregation or window functions in a recursive query block.
    #[error(
        "Recursive Common Table Expression '{0}' can contain neither aggregation nor window functions in recursive query block"
    )]
    CteRecursiveForbidsAggregation(String),
    /// The recursive reference on the inner side of an outer join.
    #[error(
        "In recursive query block of Recursive Common Table Expression '{0}', the recursive table must neither be in the right argument of a LEFT JOIN, nor be forced to be non-first with join order hints"
    )]
    CteRecursiveForbiddenJoinOrder(String),
    /// More than one recursive reference, or one inside a subquery.
    #[error(
        "In recursive query block of Recursive Common Table Expression '{0}', the recursive table must be referenced only once, and not in any subquery"
    )]
    CteRecursiveRequiresSingleReference(String),
    /// A collation name that names no collation.
    #[error("Unknown collation: '{0}'")]
    UnknownCollation(String),
    /// A character set name that names no character set.
    #[error("Unknown character set: '{0}'")]
    UnknownCharset(String),
    /// A collation of another character set than the one declared.
    #[error("COLLATION '{collation}' is not valid for CHARACTER SET '{charset}'")]
    CollationCharsetMismatch { collation: String, charset: String },
    /// Two operands whose collations cannot be reconciled.
    #[error("Illegal mix of collations ({left},{left_how}) and ({right},{right_how}) for operation '{op}'")]
    IllegalMixOfCollations { left: String, left_how: &'static str, right: String, right_how: &'static str, op: String },
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
    /// A definition rule of ENUM / SET types, generated columns, functional
    /// index parts or CHECK constraints, with MySQL's error and message.
    #[error("{message}")]
    Definition { code: ErrorCode, message: String },
    /// BIT(n) with n above 64 (the column name is filled in by the DDL binder).
    #[error("Display width out of range for column '{column}' (max = {max})")]
    TooBigDisplayWidth { column: String, max: u64, got: u64 },
    /// LOAD DATA's ENCLOSED BY or ESCAPED BY longer than one character.
    #[error("Field separator argument is not what is expected; check the manual")]
    WrongFieldTerminators,
    /// ON UPDATE other than CURRENT_TIMESTAMP(fsp) on a TIMESTAMP/DATETIME(fsp).
    #[error("Invalid ON UPDATE clause for '{0}' column")]
    InvalidOnUpdate(String),
}

impl SqlError for BindError {
    fn code(&self) -> ErrorCode {
        use BindError::*;
        match self {
            Syntax(_) => ErrorCode::Syntax,
            IllegalGrantForTable => ErrorCode::IllegalGrantForTable,
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
            TableFunctionMustHaveAlias => ErrorCode::TableFunctionMustHaveAlias,
            NotSupported(_) | NoStoredPrograms(_) => ErrorCode::NotSupported,
            InvalidDefault(_) => ErrorCode::InvalidDefault,
            BlobCantHaveDefault(_) => ErrorCode::BlobCantHaveDefault,
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
            NotUpdatableTarget { .. } => ErrorCode::NonUpdatableTable,
            UnknownTableIn { .. } => ErrorCode::UnknownTableIn,
            WrongUsage(_) => ErrorCode::WrongUsage,
            WrongArguments(_) => ErrorCode::WrongArguments,
            InvalidYearLength => ErrorCode::InvalidYearColumnLength,
            WindowNoSuchWindow(_) => ErrorCode::WindowNoSuchWindow,
            WindowCircularity => ErrorCode::WindowCircularity,
            WindowNoChildPartitioning => ErrorCode::WindowNoChildPartitioning,
            WindowNoInheritFrame(_) => ErrorCode::WindowNoInheritFrame,
            WindowNoRedefineOrderBy { .. } => ErrorCode::WindowNoRedefineOrderBy,
            WindowFrameStartIllegal(_) => ErrorCode::WindowFrameStartIllegal,
            WindowFrameEndIllegal(_) => ErrorCode::WindowFrameEndIllegal,
            WindowFrameIllegal(_) => ErrorCode::WindowFrameIllegal,
            WindowRangeFrameOrderType(_) => ErrorCode::WindowRangeFrameOrderType,
            WindowRangeFrameTemporalType(_) => ErrorCode::WindowRangeFrameTemporalType,
            WindowRangeFrameNumericType(_) => ErrorCode::WindowRangeFrameNumericType,
            WindowRangeBoundNotConstant(_) => ErrorCode::WindowRangeBoundNotConstant,
            WindowDuplicateName(_) => ErrorCode::WindowDuplicateName,
            WindowIllegalOrderBy(_) => ErrorCode::WindowIllegalOrderBy,
            WindowInvalidUse(_) => ErrorCode::WindowInvalidUse,
            WindowInvalidAliasUse(_) => ErrorCode::WindowInvalidAliasUse,
            WindowNestedInSpec(_) => ErrorCode::WindowNestedInSpec,
            WindowRowsIntervalUse(_) => ErrorCode::WindowRowsIntervalUse,
            CteRecursiveRequiresUnion(_) => ErrorCode::CteRecursiveRequiresUnion,
            CteRecursiveRequiresNonRecursiveFirst(_) => ErrorCode::CteRecursiveRequiresNonRecursiveFirst,
            CteRecursiveForbidsAggregation(_) => ErrorCode::CteRecursiveForbidsAggregation,
            CteRecursiveForbiddenJoinOrder(_) => ErrorCode::CteRecursiveForbiddenJoinOrder,
            CteRecursiveRequiresSingleReference(_) => ErrorCode::CteRecursiveRequiresSingleReference,
            UnknownCollation(_) => ErrorCode::UnknownCollation,
            UnknownCharset(_) => ErrorCode::UnknownCharacterSet,
            CollationCharsetMismatch { .. } => ErrorCode::CollationCharsetMismatch,
            IllegalMixOfCollations { .. } => ErrorCode::IllegalMixOfCollations,
            Type(e) => e.code(),
            Func(e) => e.code(),
            Dict(e) => e.code(),
            Txn(e) => e.code(),
            Internal(_) => ErrorCode::Internal,
            Definition { code, .. } => *code,
            TooBigDisplayWidth { .. } => ErrorCode::TooBigDisplayWidth,
            WrongFieldTerminators => ErrorCode::WrongFieldTerminators,
            InvalidOnUpdate(_) => ErrorCode::InvalidOnUpdate,
        }
    }
}
