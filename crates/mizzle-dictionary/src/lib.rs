//! The data dictionary: schemas, tables, indexes and views as ordinary MVCC
//! rows, so `CREATE`, `ALTER` and `DROP` commit and roll back with the
//! transaction they run in. There are no side files holding schema.
//!
//! Invariants:
//! 1. Depends on `mizzle-txn` and `mizzle-types` only.
//! 2. Holds no SQL logic: definitions are data; DEFAULT and CHECK
//!    expressions are kept as SQL text for the binder.

pub mod codec;
pub mod def;
pub mod error;
pub mod grants;
pub mod store;

pub use def::{
    with_member_collation, CheckDef, ColumnDef, FkAction, ForeignKeyDef, Generated, IndexDef, Relation, SchemaDef,
    TableDef, ViewDef,
};
pub use error::DictError;
pub use store::{Dictionary, Sequence, DICT_SPACE};
