//! The one table that maps every user-visible error to a MySQL error number,
//! SQLSTATE and class, plus the value-level error type of this crate.
//!
//! Invariants:
//! 1. Error numbers and SQLSTATEs appear nowhere else in the workspace; other
//!    crates name an [`ErrorCode`] variant and let the edge render it.
//! 2. Every [`ErrorCode`] has exactly one [`ErrorClass`].
//!
//! This module does not format messages for whole errors: each crate's error
//! enum owns its `Display`, and the edge prefixes `ERROR n (state): `.

use std::fmt;

/// How an error should be treated by whoever receives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The statement or its input was wrong; retrying the same thing fails again.
    User,
    /// A concurrency conflict; the transaction may succeed if retried.
    Retryable,
    /// A limit or resource ran out (memory, disk, time).
    Resource,
    /// Stored data failed a check; writes to the catalog stop.
    Corruption,
    /// A bug in mizzle: an invariant did not hold.
    Internal,
}

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $name:ident = ($num:expr, $state:expr, $class:ident), )*) => {
        /// A MySQL-compatible error identity: number, SQLSTATE and class.
        #[non_exhaustive]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $( $(#[$doc])* $name, )*
        }

        impl ErrorCode {
            /// The MySQL error number (`ER_*`).
            pub fn number(self) -> u16 {
                match self { $( ErrorCode::$name => $num, )* }
            }
            /// The five-character SQLSTATE.
            pub fn sqlstate(self) -> &'static str {
                match self { $( ErrorCode::$name => $state, )* }
            }
            /// How callers should treat this error.
            pub fn class(self) -> ErrorClass {
                match self { $( ErrorCode::$name => ErrorClass::$class, )* }
            }
            /// Every code, for table-driven tests.
            pub const ALL: &'static [ErrorCode] = &[ $( ErrorCode::$name, )* ];
        }
    };
}

error_codes! {
    /// ER_DB_CREATE_EXISTS
    DatabaseExists = (1007, "HY000", User),
    /// ER_DB_DROP_EXISTS
    DatabaseMissingOnDrop = (1008, "HY000", User),
    /// ER_ACCESS_DENIED_ERROR
    AccessDenied = (1045, "28000", User),
    /// ER_DBACCESS_DENIED_ERROR: no privilege on a database.
    DbAccessDenied = (1044, "42000", User),
    /// ER_KILL_DENIED_ERROR: KILL of another account's connection.
    KillDenied = (1095, "HY000", User),
    /// ER_NO_SYSTEM_SCHEMA_ACCESS: dropping the `mysql` schema, which
    /// holds the accounts and grants.
    NoSystemSchemaAccess = (3552, "HY000", User),
    /// ER_NONEXISTING_GRANT: SHOW GRANTS / REVOKE for a grant that is not there.
    NonexistingGrant = (1141, "42000", User),
    /// ER_TABLEACCESS_DENIED_ERROR: a command on a table without its privilege.
    TableAccessDenied = (1142, "42000", User),
    /// ER_ILLEGAL_GRANT_FOR_TABLE: a privilege that a table grant cannot hold.
    IllegalGrantForTable = (1144, "42000", User),
    /// ER_NONEXISTING_TABLE_GRANT
    NonexistingTableGrant = (1147, "42000", User),
    /// ER_SPECIFIC_ACCESS_DENIED_ERROR: an administrative privilege is needed.
    SpecificAccessDenied = (1227, "42000", User),
    /// EE_FILENOTFOUND (LOAD DATA: the file cannot be opened)
    FileNotFound = (29, "HY000", User),
    /// ER_WRONG_FIELD_TERMINATORS
    WrongFieldTerminators = (1083, "42000", User),
    /// ER_NOT_ALLOWED_COMMAND (LOAD DATA LOCAL from a client that cannot send files)
    NotAllowedCommand = (1148, "42000", User),
    /// ER_WARN_TOO_FEW_RECORDS
    WarnTooFewRecords = (1261, "01000", User),
    /// ER_WARN_TOO_MANY_RECORDS
    WarnTooManyRecords = (1262, "01000", User),
    /// ER_OPTION_PREVENTS_STATEMENT
    OptionPreventsStatement = (1290, "HY000", User),
    /// ER_CLIENT_LOCAL_FILES_DISABLED
    LocalFilesDisabled = (3948, "42000", User),
    /// ER_CANNOT_USER: CREATE / DROP / ALTER / RENAME USER failed for an account.
    CannotUser = (1396, "HY000", User),
    /// ER_CANT_CREATE_USER_WITH_GRANT: GRANT to an account that does not exist.
    CantCreateUserWithGrant = (1410, "42000", User),
    /// ER_USER_DOES_NOT_EXIST (a note of DROP / ALTER USER IF EXISTS).
    UserDoesNotExist = (3162, "HY000", User),
    /// ER_USER_ALREADY_EXISTS (a note of CREATE USER IF NOT EXISTS).
    UserAlreadyExists = (3163, "HY000", User),
    /// ER_PLUGIN_IS_NOT_LOADED: an unknown authentication plugin.
    PluginNotLoaded = (1524, "HY000", User),
    /// ER_CON_COUNT_ERROR: the server's connection limit is reached.
    TooManyConnections = (1040, "08004", Resource),
    /// ER_NO_SUCH_THREAD: KILL of an unknown connection id.
    NoSuchThread = (1094, "HY000", User),
    /// ER_NO_DB_ERROR
    NoDatabaseSelected = (1046, "3D000", User),
    /// ER_NO_DEFAULT_FOR_FIELD
    NoDefaultForField = (1364, "HY000", User),
    /// ER_FIELD_SPECIFIED_TWICE
    FieldSpecifiedTwice = (1110, "42000", User),
    /// ER_NON_UPDATABLE_TABLE / ER_NON_INSERTABLE_TABLE
    NonUpdatableTable = (1288, "HY000", User),
    /// ER_BAD_NULL_ERROR
    ColumnCannotBeNull = (1048, "23000", User),
    /// ER_BAD_DB_ERROR
    UnknownDatabase = (1049, "42000", User),
    /// ER_TABLE_EXISTS_ERROR
    TableExists = (1050, "42S01", User),
    /// ER_BAD_TABLE_ERROR
    UnknownTable = (1051, "42S02", User),
    /// ER_NON_UNIQ_ERROR
    AmbiguousColumn = (1052, "23000", User),
    /// ER_BAD_FIELD_ERROR
    UnknownColumn = (1054, "42S22", User),
    /// ER_WRONG_FIELD_WITH_GROUP
    WrongFieldWithGroup = (1055, "42000", User),
    /// ER_DUP_FIELDNAME
    DuplicateColumn = (1060, "42S21", User),
    /// ER_DUP_KEYNAME
    DuplicateKeyName = (1061, "42000", User),
    /// ER_DUP_ENTRY
    DuplicateEntry = (1062, "23000", User),
    /// ER_PARSE_ERROR
    Syntax = (1064, "42000", User),
    /// ER_NONUNIQ_TABLE
    NonUniqueTable = (1066, "42000", User),
    /// ER_INVALID_DEFAULT
    InvalidDefault = (1067, "42000", User),
    /// ER_MULTIPLE_PRI_KEY
    MultiplePrimaryKey = (1068, "42000", User),
    /// ER_KEY_COLUMN_DOES_NOT_EXITS
    KeyColumnMissing = (1072, "42000", User),
    /// ER_WRONG_AUTO_KEY
    WrongAutoKey = (1075, "42000", User),
    /// ER_CANT_DROP_FIELD_OR_KEY
    CantDropFieldOrKey = (1091, "42000", User),
    /// ER_UNKNOWN_ERROR: used for internal errors, whose message says it is a bug.
    Internal = (1105, "HY000", Internal),
    /// ER_UNKNOWN_TABLE: a table named where the statement has none of
    /// that name (`DELETE t3 FROM t1 JOIN t2`: "in MULTI DELETE").
    UnknownTableIn = (1109, "42S02", User),
    /// ER_INVALID_GROUP_FUNC_USE
    InvalidGroupFuncUse = (1111, "HY000", User),
    /// ER_WRONG_VALUE_COUNT_ON_ROW
    WrongValueCountOnRow = (1136, "21S01", User),
    /// ER_NET_PACKET_TOO_LARGE
    PacketTooLarge = (1153, "08S01", User),
    /// ER_CANT_DO_THIS_DURING_AN_TRANSACTION
    NotDuringTransaction = (1179, "25000", User),
    /// ER_CANT_CHANGE_TX_CHARACTERISTICS
    TxnCharacteristicsInProgress = (1568, "25001", User),
    /// ER_INCORRECT_GLOBAL_LOCAL_VAR: a read-only variable.
    ReadOnlyVariable = (1238, "HY000", User),
    /// ER_UNKNOWN_SYSTEM_VARIABLE
    UnknownSystemVariable = (1193, "HY000", User),
    /// ER_LOCK_WAIT_TIMEOUT
    LockWaitTimeout = (1205, "HY000", Retryable),
    /// ER_WRONG_ARGUMENTS
    WrongArguments = (1210, "HY000", User),
    /// ER_LOCK_DEADLOCK: deadlock, write conflict or serialization failure.
    WriteConflict = (1213, "40001", Retryable),
    /// ER_LOCK_NOWAIT: a locking read with NOWAIT met a held row.
    LockNowait = (3572, "HY000", Retryable),
    /// ER_TRANSACTION_ROLLBACK_DURING_COMMIT: the transaction was rolled
    /// back by an earlier error; statements (COMMIT included) are refused
    /// until ROLLBACK or a new BEGIN.
    TransactionRolledBack = (3101, "40000", User),
    /// ER_WRONG_NUMBER_OF_COLUMNS_IN_SELECT
    WrongColumnsInSetOp = (1222, "21000", User),
    /// ER_WRONG_VALUE_FOR_VAR
    WrongValueForVar = (1231, "42000", User),
    /// ER_WRONG_TYPE_FOR_VAR
    WrongTypeForVar = (1232, "42000", User),
    /// ER_UNKNOWN_TIME_ZONE: `SET time_zone` to a zone that is neither
    /// SYSTEM, an offset in range nor a known name.
    UnknownTimeZone = (1298, "HY000", User),
    /// ER_WARN_INVALID_TIMESTAMP: a local time in a daylight-saving gap
    /// stored into a TIMESTAMP column where a warning is allowed.
    InvalidTimestamp = (1299, "HY000", User),
    /// ER_NOT_SUPPORTED_YET
    NotSupported = (1235, "42000", User),
    /// ER_OPERAND_COLUMNS
    OperandColumns = (1241, "21000", User),
    /// ER_SUBQUERY_NO_1_ROW
    SubqueryMoreThanOneRow = (1242, "21000", User),
    /// ER_UNKNOWN_STMT_HANDLER
    UnknownPreparedStatement = (1243, "HY000", User),
    /// ER_DERIVED_MUST_HAVE_ALIAS
    DerivedMustHaveAlias = (1248, "42000", User),
    /// ER_WARN_DATA_OUT_OF_RANGE
    OutOfRangeForColumn = (1264, "22003", User),
    /// ER_TRUNCATED_WRONG_VALUE
    TruncatedWrongValue = (1292, "22007", User),
    /// ER_INVALID_CHARACTER_STRING
    InvalidCharacterString = (1300, "HY000", User),
    /// ER_SP_DOES_NOT_EXIST (also used for unknown functions and savepoints)
    DoesNotExist = (1305, "42000", User),
    /// ER_QUERY_INTERRUPTED
    QueryInterrupted = (1317, "70100", Resource),
    /// ER_SECURE_TRANSPORT_REQUIRED: `require_secure_transport` refused a
    /// client without TLS.
    SecureTransportRequired = (3159, "HY000", User),
    /// ER_QUERY_TIMEOUT: `max_execution_time` ran out.
    QueryTimeout = (3024, "HY000", Resource),
    /// ER_WRONG_OBJECT
    WrongObject = (1347, "HY000", User),
    /// ER_VIEW_INVALID
    ViewInvalid = (1356, "HY000", User),
    /// ER_DIVISION_BY_ZERO
    DivisionByZero = (1365, "22012", User),
    /// WARN_DATA_TRUNCATED
    DataTruncated = (1265, "01000", User),
    /// ER_TRUNCATED_WRONG_VALUE_FOR_FIELD (also invalid UTF-8 for a column)
    IncorrectValueForColumn = (1366, "HY000", User),
    /// ER_DATA_TOO_LONG
    DataTooLong = (1406, "22001", User),
    /// ER_STACK_OVERRUN_NEED_MORE: statement nested too deeply.
    NestedTooDeeply = (1436, "HY000", Resource),
    /// ER_WRONG_PARAMCOUNT_TO_NATIVE_FCT
    WrongParamCount = (1582, "42000", User),
    /// ER_FUNC_INEXISTENT_NAME_COLLISION: unknown function.
    UnknownFunction = (1630, "42000", User),
    /// ER_DATA_OUT_OF_RANGE
    ValueOutOfRange = (1690, "22003", User),
    /// ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION
    ReadOnlyTransaction = (1792, "25006", User),
    /// ER_ROW_IS_REFERENCED_2: deleting or updating a parent row that a
    /// child row references.
    RowIsReferenced = (1451, "23000", User),
    /// ER_NO_REFERENCED_ROW_2: a child row whose parent row is missing.
    NoReferencedRow = (1452, "23000", User),
    /// ER_FK_CANNOT_DROP_PARENT
    FkCannotDropParent = (3730, "HY000", User),
    /// ER_FK_NO_INDEX_PARENT
    FkNoIndexParent = (1822, "HY000", User),
    /// ER_FK_CANNOT_OPEN_PARENT
    FkCannotOpenParent = (1824, "HY000", User),
    /// ER_FK_NO_COLUMN_PARENT
    FkNoColumnParent = (3734, "HY000", User),
    /// ER_FK_INCOMPATIBLE_COLUMNS
    FkIncompatibleColumns = (3780, "HY000", User),
    /// ER_WRONG_FK_DEF
    WrongFkDef = (1239, "42000", User),
    /// ER_FK_COLUMN_NOT_NULL
    FkColumnNotNull = (1830, "HY000", User),
    /// ER_FK_DUP_NAME
    FkDuplicateName = (1826, "HY000", User),
    /// ER_DROP_INDEX_FK
    DropIndexFk = (1553, "HY000", User),
    /// ER_FK_COLUMN_CANNOT_DROP
    FkColumnCannotDrop = (1828, "HY000", User),
    /// ER_FK_COLUMN_CANNOT_DROP_CHILD
    FkColumnCannotDropChild = (1829, "HY000", User),
    /// ER_TRUNCATE_ILLEGAL_FK
    TruncateIllegalFk = (1701, "42000", User),
    /// ER_FK_DEPTH_EXCEEDED
    FkDepthExceeded = (3008, "HY000", User),
    /// ER_INVALID_YEAR_COLUMN_LENGTH
    InvalidYearColumnLength = (1818, "HY000", User),
    /// ER_CHECK_CONSTRAINT_VIOLATED
    CheckConstraintViolated = (3819, "HY000", User),
    /// ER_OUT_OF_RESOURCES style: memory or storage limit reached.
    OutOfResources = (1041, "HY000", Resource),
    /// ER_NOT_SUPPORTED_AUTH_MODE-like: feature not available in this build or mode.
    FeatureUnavailable = (1289, "HY000", User),
    /// ER_NO_SUCH_TABLE
    NoSuchTable = (1146, "42S02", User),
    /// ER_TOO_BIG_PRECISION: DECIMAL(M) with M > 65, or a fractional
    /// seconds precision above 6.
    TooBigPrecision = (1426, "42000", User),
    /// ER_TOO_BIG_SCALE: DECIMAL(M,D) with D > 30.
    TooBigScale = (1425, "42000", User),
    /// ER_M_BIGGER_THAN_D: DECIMAL(M,D) with D > M.
    ScaleBiggerThanPrecision = (1427, "42000", User),
    /// ER_WRONG_COLUMN_NAME / wrong identifiers.
    WrongName = (1166, "42000", User),
    /// ER_FILE_CORRUPT style: stored data failed a check.
    Corrupted = (1712, "HY000", Corruption),
    /// ER_ERROR_ON_WRITE style: an I/O failure.
    Io = (1026, "HY000", Resource),
    /// ER_ERROR_ON_READ: a file could not be read.
    ReadFailed = (1024, "HY000", Resource),
    /// ER_DISK_FULL: no space left on the device (or a configured limit).
    DiskFull = (1021, "HY000", Resource),
    /// ER_CANT_CREATE_FILE: a file or directory could not be created
    /// (read-only directory, permissions).
    CantCreateFile = (1004, "HY000", Resource),
    /// ER_CANT_LOCK: the database is in use by another process.
    CantLock = (1015, "HY000", Resource),
    /// ER_TOO_LONG_KEY: a key longer than the storage engine stores.
    KeyTooLong = (1071, "42000", User),
    /// ER_NOT_FORM_FILE: a file is not a mizzle file, or is of a format
    /// version this build cannot read.
    NotOurFile = (1033, "HY000", User),
    /// ER_TOO_MANY_ROWS style: a statement tried to write while another iterated.
    WrongUsage = (1221, "HY000", User),
    /// ER_CTE_RECURSIVE_REQUIRES_UNION
    CteRecursiveRequiresUnion = (3573, "HY000", User),
    /// ER_CTE_RECURSIVE_REQUIRES_NONRECURSIVE_FIRST
    CteRecursiveRequiresNonRecursiveFirst = (3574, "HY000", User),
    /// ER_CTE_RECURSIVE_FORBIDS_AGGREGATION
    CteRecursiveForbidsAggregation = (3575, "HY000", User),
    /// ER_CTE_RECURSIVE_FORBIDDEN_JOIN_ORDER
    CteRecursiveForbiddenJoinOrder = (3576, "HY000", User),
    /// ER_CTE_RECURSIVE_REQUIRES_SINGLE_REFERENCE
    CteRecursiveRequiresSingleReference = (3577, "HY000", User),
    /// ER_CTE_MAX_RECURSION_DEPTH
    CteMaxRecursionDepth = (3636, "HY000", User),
    /// ER_WINDOW_NO_SUCH_WINDOW
    WindowNoSuchWindow = (3579, "HY000", User),
    /// ER_WINDOW_CIRCULARITY_IN_WINDOW_GRAPH
    WindowCircularity = (3580, "HY000", User),
    /// ER_WINDOW_NO_CHILD_PARTITIONING
    WindowNoChildPartitioning = (3581, "HY000", User),
    /// ER_WINDOW_NO_INHERIT_FRAME
    WindowNoInheritFrame = (3582, "HY000", User),
    /// ER_WINDOW_NO_REDEFINE_ORDER_BY
    WindowNoRedefineOrderBy = (3583, "HY000", User),
    /// ER_WINDOW_FRAME_START_ILLEGAL
    WindowFrameStartIllegal = (3584, "HY000", User),
    /// ER_WINDOW_FRAME_END_ILLEGAL
    WindowFrameEndIllegal = (3585, "HY000", User),
    /// ER_WINDOW_FRAME_ILLEGAL
    WindowFrameIllegal = (3586, "HY000", User),
    /// ER_WINDOW_RANGE_FRAME_ORDER_TYPE
    WindowRangeFrameOrderType = (3587, "HY000", User),
    /// ER_WINDOW_RANGE_FRAME_TEMPORAL_TYPE
    WindowRangeFrameTemporalType = (3588, "HY000", User),
    /// ER_WINDOW_RANGE_FRAME_NUMERIC_TYPE
    WindowRangeFrameNumericType = (3589, "HY000", User),
    /// ER_WINDOW_RANGE_BOUND_NOT_CONSTANT
    WindowRangeBoundNotConstant = (3590, "HY000", User),
    /// ER_WINDOW_DUPLICATE_NAME
    WindowDuplicateName = (3591, "HY000", User),
    /// ER_WINDOW_ILLEGAL_ORDER_BY
    WindowIllegalOrderBy = (3592, "HY000", User),
    /// ER_WINDOW_INVALID_WINDOW_FUNC_USE
    WindowInvalidUse = (3593, "HY000", User),
    /// ER_WINDOW_INVALID_WINDOW_FUNC_ALIAS_USE
    WindowInvalidAliasUse = (3594, "HY000", User),
    /// ER_WINDOW_NESTED_WINDOW_FUNC_USE_IN_WINDOW_SPEC
    WindowNestedInSpec = (3595, "HY000", User),
    /// ER_WINDOW_ROWS_INTERVAL_USE
    WindowRowsIntervalUse = (3596, "HY000", User),
    /// ER_UNKNOWN_COLLATION
    UnknownCollation = (1273, "HY000", User),
    /// ER_UNKNOWN_CHARACTER_SET
    UnknownCharacterSet = (1115, "42000", User),
    /// ER_COLLATION_CHARSET_MISMATCH
    CollationCharsetMismatch = (1253, "42000", User),
    /// ER_CANT_AGGREGATE_2COLLATIONS
    IllegalMixOfCollations = (1267, "HY000", User),
    /// ER_CANT_AGGREGATE_3COLLATIONS
    IllegalMixOfCollations3 = (1270, "HY000", User),
    /// ER_WARN_DEPRECATED_SYNTAX (warning: a character set stored as utf8mb4)
    WarnDeprecatedSyntax = (1287, "HY000", User),
    /// ER_CANT_AGGREGATE_NCOLLATIONS
    IllegalMixOfCollationsN = (1271, "HY000", User),
    /// Invalid JSON text for a JSON column.
    InvalidJsonText = (3140, "22032", User),
    /// Invalid JSON text in a function argument.
    InvalidJsonTextInParam = (3141, "22032", User),
    /// A JSON path that does not parse.
    InvalidJsonPath = (3143, "42000", User),
    /// A non-JSON, non-string argument where JSON is required.
    InvalidJsonType = (3146, "22032", User),
    /// A wildcard or range in a path where only one value may be named.
    InvalidJsonPathWildcard = (3149, "42000", User),
    /// An index on a JSON column.
    JsonUsedAsKey = (3152, "42000", User),
    /// A path of `$` alone where it is not allowed.
    JsonVacuousPath = (3153, "42000", User),
    /// A one-or-all argument other than 'one' or 'all'.
    JsonBadOneOrAllArg = (3154, "42000", User),
    /// A JSON document nested deeper than 100 levels.
    JsonDocumentTooDeep = (3157, "22032", User),
    /// A NULL object key.
    JsonDocumentNullKey = (3158, "22032", User),
    /// A path to something other than an array cell (JSON_ARRAY_INSERT).
    InvalidJsonPathArrayCell = (3165, "42000", User),
    /// A literal default on a BLOB, TEXT or JSON column.
    BlobCantHaveDefault = (1101, "42000", User),
    /// ER_MISSING_JSON_TABLE_VALUE: a JSON_TABLE path found nothing and
    /// the column says ERROR ON EMPTY.
    MissingJsonTableValue = (3665, "22035", User),
    /// ER_WRONG_JSON_TABLE_VALUE: an array or object for a scalar
    /// JSON_TABLE column that says ERROR ON ERROR.
    WrongJsonTableValue = (3666, "22035", User),
    /// ER_TF_MUST_HAVE_ALIAS: a table function without an alias.
    TableFunctionMustHaveAlias = (3667, "42000", User),
    /// ER_JT_VALUE_OUT_OF_RANGE: a JSON_TABLE value that does not convert
    /// to its column's type (or several values) under ERROR ON ERROR.
    JsonTableValueOutOfRange = (3669, "22003", User),
    /// ER_DUPLICATED_VALUE_IN_TYPE: an ENUM or SET member given twice.
    DuplicatedValueInType = (1291, "HY000", User),
    /// ER_TOO_BIG_SET: a SET with more than 64 members.
    TooBigSet = (1097, "HY000", User),
    /// ER_ILLEGAL_VALUE_FOR_TYPE: a SET member containing a comma.
    IllegalValueForType = (1367, "22007", User),
    /// ER_TOO_BIG_ENUM: an ENUM with more than 65535 members.
    TooBigEnum = (3504, "HY000", User),
    /// ER_GENERATED_COLUMN_FUNCTION_IS_NOT_ALLOWED (a subquery, say).
    GeneratedColumnFunctionNotAllowed = (3102, "HY000", User),
    /// ER_NON_DEFAULT_VALUE_FOR_GENERATED_COLUMN
    NonDefaultValueForGeneratedColumn = (3105, "HY000", User),
    /// ER_UNSUPPORTED_ACTION_ON_GENERATED_COLUMN
    UnsupportedActionOnGeneratedColumn = (3106, "HY000", User),
    /// ER_GENERATED_COLUMN_NON_PRIOR
    GeneratedColumnNonPrior = (3107, "HY000", User),
    /// ER_DEPENDENT_BY_GENERATED_COLUMN
    DependentByGeneratedColumn = (3108, "HY000", User),
    /// ER_GENERATED_COLUMN_REF_AUTO_INC
    GeneratedColumnRefAutoInc = (3109, "HY000", User),
    /// ER_GENERATED_COLUMN_NAMED_FUNCTION_IS_NOT_ALLOWED
    GeneratedColumnNamedFunctionNotAllowed = (3763, "HY000", User),
    /// ER_GENERATED_COLUMN_VARIABLES
    GeneratedColumnVariables = (3765, "HY000", User),
    /// ER_WARN_DATA_OUT_OF_RANGE_FUNCTIONAL_INDEX: a functional key part's
    /// value does not fit the type of its expression (strict mode: an error).
    OutOfRangeForFunctionalIndex = (3752, "22003", User),
    /// ER_FUNCTIONAL_INDEX_ON_JSON_OR_GEOMETRY_FUNCTION
    FunctionalIndexOnJson = (3753, "42000", User),
    /// ER_FUNCTIONAL_INDEX_REF_AUTO_INCREMENT
    FunctionalIndexRefAutoIncrement = (3754, "HY000", User),
    /// ER_FUNCTIONAL_INDEX_PRIMARY_KEY
    FunctionalIndexPrimaryKey = (3756, "HY000", User),
    /// ER_FUNCTIONAL_INDEX_ON_LOB: a key part expression of a TEXT or BLOB type.
    FunctionalIndexOnLob = (3757, "HY000", User),
    /// ER_FUNCTIONAL_INDEX_FUNCTION_IS_NOT_ALLOWED (also subqueries).
    FunctionalIndexFunctionNotAllowed = (3758, "HY000", User),
    /// ER_WRONG_KEY_COLUMN_FUNCTIONAL_INDEX: an expression of no indexable
    /// type (`NULL`).
    WrongKeyColumnFunctionalIndex = (3761, "HY000", User),
    /// ER_FUNCTIONAL_INDEX_ON_FIELD: `INDEX ((col))`.
    FunctionalIndexOnField = (3762, "HY000", User),
    /// ER_FUNCTIONAL_INDEX_ROW_VALUE_IS_NOT_ALLOWED: `INDEX (((a, b)))`.
    FunctionalIndexRowValue = (3800, "HY000", User),
    /// ER_DEPENDENT_BY_FUNCTIONAL_INDEX: dropping or renaming a column a
    /// functional index reads.
    DependentByFunctionalIndex = (3837, "HY000", User),
    /// ER_FUNCTIONAL_INDEX_DATA_IS_TOO_LONG
    FunctionalIndexDataTooLong = (3907, "22001", User),
    /// ER_TABLE_MUST_HAVE_COLUMNS: dropping the last visible column of a
    /// table that has hidden ones.
    TableMustHaveColumns = (1113, "42000", User),
    /// ER_NON_BOOLEAN_EXPR_FOR_CHECK_CONSTRAINT
    NonBooleanExprForCheckConstraint = (3812, "HY000", User),
    /// ER_COLUMN_CHECK_CONSTRAINT_REFERENCES_OTHER_COLUMN
    ColumnCheckConstraintReferencesOtherColumn = (3813, "HY000", User),
    /// ER_CHECK_CONSTRAINT_NAMED_FUNCTION_IS_NOT_ALLOWED
    CheckConstraintNamedFunctionNotAllowed = (3814, "HY000", User),
    /// ER_CHECK_CONSTRAINT_FUNCTION_IS_NOT_ALLOWED (a subquery, say).
    CheckConstraintFunctionNotAllowed = (3815, "HY000", User),
    /// ER_CHECK_CONSTRAINT_VARIABLES
    CheckConstraintVariables = (3816, "HY000", User),
    /// ER_CHECK_CONSTRAINT_REFERS_AUTO_INCREMENT_COLUMN
    CheckConstraintRefersAutoIncrementColumn = (3818, "HY000", User),
    /// ER_CHECK_CONSTRAINT_NOT_FOUND
    CheckConstraintNotFound = (3821, "HY000", User),
    /// ER_CHECK_CONSTRAINT_REFERS_UNKNOWN_COLUMN
    CheckConstraintRefersUnknownColumn = (3820, "HY000", User),
    /// ER_TOO_BIG_DISPLAYWIDTH: BIT(n) with n above 64.
    TooBigDisplayWidth = (1439, "42000", User),
    /// ER_INVALID_ON_UPDATE: ON UPDATE on a column that is not a TIMESTAMP
    /// or DATETIME, or with another expression than CURRENT_TIMESTAMP(fsp).
    InvalidOnUpdate = (1294, "HY000", User),
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ERROR {} ({})", self.number(), self.sqlstate())
    }
}

/// Implemented by every crate's error enum, so the edge can render any of
/// them as `ERROR n (state): message`.
pub trait SqlError: std::error::Error {
    /// The MySQL identity of this error.
    fn code(&self) -> ErrorCode;
}

/// Errors from value operations: arithmetic, conversion, encoding.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TypeError {
    /// An arithmetic result does not fit its type.
    #[error("{ty} value is out of range in '{expr}'")]
    OutOfRange { ty: &'static str, expr: String },
    /// A value does not fit the column it is stored into.
    #[error("Out of range value for column '{column}' at row {row}")]
    OutOfRangeForColumn { column: String, row: u64 },
    /// Division by zero in a strict data-changing statement.
    #[error("Division by 0")]
    DivisionByZero,
    /// A value could not be converted for a column in strict mode.
    #[error("Incorrect {ty} value: '{value}' for column '{column}' at row {row}")]
    IncorrectValue { ty: &'static str, value: String, column: String, row: u64 },
    /// A date or time that is not valid for a column in strict mode.
    #[error("Incorrect {ty} value: '{value}' for column '{column}' at row {row}")]
    IncorrectTemporal { ty: &'static str, value: String, column: String, row: u64 },
    /// A string does not parse as the wanted type.
    #[error("Incorrect {ty} value: '{value}'")]
    BadLiteral { ty: &'static str, value: String },
    /// Text that is not valid UTF-8.
    #[error("Invalid utf8mb4 character string: '{hex}'")]
    InvalidUtf8 { hex: String },
    /// A string longer than its column allows.
    #[error("Data too long for column '{column}' at row {row}")]
    DataTooLong { column: String, row: u64 },
    /// NULL into a NOT NULL column.
    #[error("Column '{column}' cannot be null")]
    NullNotAllowed { column: String },
    /// A DECIMAL precision (or fractional seconds precision) beyond the
    /// maximum.
    #[error("Too-big precision {precision} specified. Maximum is {max}.")]
    TooBigPrecision { precision: u32, max: u32 },
    /// A DECIMAL scale beyond 30.
    #[error("Too big scale {scale} specified. Maximum is {max}.")]
    TooBigScale { scale: u32, max: u32 },
    /// DECIMAL(M,D) with D > M.
    #[error("For float(M,D), double(M,D) or decimal(M,D), M must be >= D")]
    ScaleBiggerThanPrecision,
    /// Stored bytes that do not decode: corruption, never user input.
    #[error("corrupted row or key bytes: {what}")]
    Corrupt { what: &'static str },
    /// A JSON error, with the SQL context it arose in.
    #[error("{0}")]
    Json(JsonErrorAt),
    /// A value that is not a member of an ENUM or SET column (strict mode).
    #[error("Data truncated for column '{column}' at row {row}")]
    DataTruncated { column: String, row: u64 },
}

impl SqlError for TypeError {
    fn code(&self) -> ErrorCode {
        match self {
            TypeError::OutOfRange { .. } => ErrorCode::ValueOutOfRange,
            TypeError::OutOfRangeForColumn { .. } => ErrorCode::OutOfRangeForColumn,
            TypeError::DivisionByZero => ErrorCode::DivisionByZero,
            TypeError::IncorrectValue { .. } => ErrorCode::IncorrectValueForColumn,
            TypeError::BadLiteral { .. } | TypeError::IncorrectTemporal { .. } => ErrorCode::TruncatedWrongValue,
            TypeError::InvalidUtf8 { .. } => ErrorCode::IncorrectValueForColumn,
            TypeError::DataTooLong { .. } => ErrorCode::DataTooLong,
            TypeError::NullNotAllowed { .. } => ErrorCode::ColumnCannotBeNull,
            TypeError::TooBigPrecision { .. } => ErrorCode::TooBigPrecision,
            TypeError::TooBigScale { .. } => ErrorCode::TooBigScale,
            TypeError::ScaleBiggerThanPrecision => ErrorCode::ScaleBiggerThanPrecision,
            TypeError::Corrupt { .. } => ErrorCode::Corrupted,
            TypeError::Json(e) => e.code(),
            TypeError::DataTruncated { .. } => ErrorCode::DataTruncated,
        }
    }
}

/// Renders up to 32 bytes as upper-case hex, the way MySQL quotes bad bytes.
/// A JSON error with where it happened: MySQL's messages name the column
/// or the function argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonErrorAt {
    /// What went wrong.
    pub error: crate::json::JsonError,
    /// Where.
    pub at: JsonErrorSite,
}

/// Where a JSON error arose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonErrorSite {
    /// A value stored into (or converted for) a JSON column.
    Column(String),
    /// Argument `arg` (1-based) of function `func` (lower case, as MySQL
    /// prints it).
    Arg { arg: usize, func: &'static str },
    /// A wildcard path where one value must be named.
    Wildcard,
    /// `$` alone where it names nothing to change.
    Vacuous,
    /// A path to something other than an array cell.
    NotArrayCell,
    /// A non-JSON argument where JSON is required.
    NotJson { arg: usize, func: &'static str },
    /// A one-or-all argument that is neither.
    OneOrAll { func: &'static str },
    /// A NULL object key.
    NullKey,
}

impl JsonErrorAt {
    /// An error that is all context (no JSON error of its own).
    pub fn site(at: JsonErrorSite) -> JsonErrorAt {
        JsonErrorAt { error: crate::json::JsonError::Corrupt, at }
    }

    fn code(&self) -> ErrorCode {
        use crate::json::JsonError as E;
        match (&self.at, &self.error) {
            (JsonErrorSite::Wildcard, _) => ErrorCode::InvalidJsonPathWildcard,
            (JsonErrorSite::Vacuous, _) => ErrorCode::JsonVacuousPath,
            (JsonErrorSite::NotArrayCell, _) => ErrorCode::InvalidJsonPathArrayCell,
            (JsonErrorSite::NotJson { .. }, _) => ErrorCode::InvalidJsonType,
            (JsonErrorSite::OneOrAll { .. }, _) => ErrorCode::JsonBadOneOrAllArg,
            (JsonErrorSite::NullKey, _) => ErrorCode::JsonDocumentNullKey,
            (_, E::TooDeep) => ErrorCode::JsonDocumentTooDeep,
            (_, E::Path { .. }) => ErrorCode::InvalidJsonPath,
            (_, E::Corrupt) => ErrorCode::Corrupted,
            (JsonErrorSite::Column(_), E::Syntax { .. }) => ErrorCode::InvalidJsonText,
            (JsonErrorSite::Arg { .. }, E::Syntax { .. }) => ErrorCode::InvalidJsonTextInParam,
        }
    }
}

impl fmt::Display for JsonErrorAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::json::JsonError as E;
        match (&self.at, &self.error) {
            (JsonErrorSite::Wildcard, _) => {
                f.write_str("In this situation, path expressions may not contain the * and ** tokens or an array range.")
            }
            (JsonErrorSite::Vacuous, _) => f.write_str("The path expression '$' is not allowed in this context."),
            (JsonErrorSite::NotArrayCell, _) => f.write_str("A path expression is not a path to a cell in an array."),
            (JsonErrorSite::NotJson { arg, func }, _) => write!(
                f,
                "Invalid data type for JSON data in argument {arg} to function {func}; a JSON string or JSON type is required."
            ),
            (JsonErrorSite::OneOrAll { func }, _) => {
                write!(f, "The oneOrAll argument to {func} may take these values: 'one' or 'all'.")
            }
            (JsonErrorSite::NullKey, _) => f.write_str("JSON documents may not contain NULL member names."),
            (_, E::TooDeep) => f.write_str("The JSON document exceeds the maximum depth."),
            (_, E::Path { pos }) => write!(f, "Invalid JSON path expression. The error is around character position {pos}."),
            (_, E::Corrupt) => f.write_str("corrupted row or key bytes: JSON document"),
            (JsonErrorSite::Column(c), E::Syntax { reason, pos }) => {
                write!(f, "Invalid JSON text: \"{reason}\" at position {pos} in value for column '{c}'.")
            }
            (JsonErrorSite::Arg { arg, func }, E::Syntax { reason, pos }) => {
                write!(f, "Invalid JSON text in argument {arg} to function {func}: \"{reason}\" at position {pos}.")
            }
        }
    }
}

pub fn hex_prefix(bytes: &[u8]) -> String {
    use fmt::Write;
    let mut s = String::new();
    for b in bytes.iter().take(32) {
        let _ = write!(s, "{b:02X}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_mysql() {
        assert_eq!(ErrorCode::WriteConflict.number(), 1213);
        assert_eq!(ErrorCode::WriteConflict.sqlstate(), "40001");
        assert_eq!(ErrorCode::DuplicateEntry.number(), 1062);
        assert_eq!(ErrorCode::NoSuchTable.sqlstate(), "42S02");
        assert_eq!(ErrorCode::Syntax.number(), 1064);
        assert_eq!(ErrorCode::WriteConflict.class(), ErrorClass::Retryable);
        assert_eq!(ErrorCode::CteMaxRecursionDepth.number(), 3636);
        assert_eq!(ErrorCode::NoSystemSchemaAccess.number(), 3552);
        assert_eq!(ErrorCode::CteRecursiveRequiresSingleReference.number(), 3577);
        assert_eq!(ErrorCode::WindowNoSuchWindow.number(), 3579);
        assert_eq!(ErrorCode::WindowInvalidUse.number(), 3593);
        assert_eq!(ErrorCode::WindowRowsIntervalUse.number(), 3596);
    }

    #[test]
    fn every_sqlstate_has_five_characters() {
        for c in ErrorCode::ALL {
            assert_eq!(c.sqlstate().len(), 5, "{c:?}");
        }
    }
}

/// A message attached to a statement's result (`SHOW WARNINGS`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// Identity of the condition.
    pub code: ErrorCode,
    /// Message text.
    pub message: String,
    /// `SHOW WARNINGS`'s `Level`.
    pub level: Level,
}

/// The level of a statement's message, as `SHOW WARNINGS` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Nothing wrong: what an `IF [NOT] EXISTS` skipped.
    Note,
    /// The statement ran, with something to say.
    Warning,
    /// The statement failed with this error.
    Error,
}

impl Level {
    /// `Note`, `Warning` or `Error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Note => "Note",
            Level::Warning => "Warning",
            Level::Error => "Error",
        }
    }
}

impl Warning {
    /// A message of a statement that ran: a note for the conditions MySQL
    /// (and MariaDB, for `CREATE INDEX IF NOT EXISTS`) reports as notes
    /// (what `IF EXISTS` / `IF NOT EXISTS` skipped: a table, database,
    /// index, routine or account that is or is not there), a warning
    /// otherwise.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Warning {
        let level = match code {
            ErrorCode::TableExists
            | ErrorCode::UnknownTable
            | ErrorCode::DatabaseExists
            | ErrorCode::DatabaseMissingOnDrop
            | ErrorCode::DuplicateKeyName
            | ErrorCode::DoesNotExist
            | ErrorCode::UserAlreadyExists
            | ErrorCode::UserDoesNotExist => Level::Note,
            _ => Level::Warning,
        };
        Warning { code, message: message.into(), level }
    }

    /// The error a statement failed with.
    pub fn error(code: ErrorCode, message: impl Into<String>) -> Warning {
        Warning { code, message: message.into(), level: Level::Error }
    }
}
