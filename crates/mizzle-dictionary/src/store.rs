//! The dictionary store: reads and writes definitions through a
//! transaction, so they commit and roll back with it.
//!
//! Keys in [`DICT_SPACE`] (memcomparable tuples): `('D', schema)` for
//! schemas and `('R', schema, name)` for tables and views, names lower-cased
//! (names are case-insensitive, stored as declared).
//!
//! Invariants:
//! 1. Every read of a relation records a dependency on its dictionary key
//!    ([`mizzle_txn::Txn::record_read_key`]), so a transaction that used a
//!    definition cannot commit after a concurrent DDL changed it.
//! 2. Space ids and AUTO_INCREMENT values are not transactional: they are
//!    never reused, even after a rollback (as InnoDB's counters).
//! 3. The decode cache maps stored bytes to definitions, so it can never
//!    return a definition the reader's snapshot does not hold.
//! 4. On a persistent engine, space ids, definition versions and
//!    AUTO_INCREMENT values survive a reopen and a crash: before a value at
//!    or above the stored ceiling is handed out, a higher ceiling is stored
//!    (a counter record of the transaction layer, which reaches the log
//!    before any commit that could use the value). A reopened dictionary
//!    starts at the ceilings, so no value is handed out twice; a crash
//!    leaves a gap of at most one block, a clean close
//!    ([`Dictionary::close`]) stores the exact values and leaves none. If
//!    storing a ceiling fails the engine refuses writes, so no commit can
//!    depend on a value handed out meanwhile.

use std::collections::HashMap;
use std::ops::Bound;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

use mizzle_txn::{SpaceId, Txn, TxnManager};
use mizzle_types::key::encode_tuple;
use mizzle_types::{Collation, Value};
use parking_lot::Mutex;

use crate::def::{decode_relation, decode_schema, encode_relation, encode_schema, Relation, SchemaDef};
use crate::error::DictError;

/// The space holding dictionary records.
pub const DICT_SPACE: SpaceId = SpaceId(1);
/// The first space id handed to tables and indexes.
pub const FIRST_USER_SPACE: u32 = 16;

fn schema_key(schema: &str) -> Vec<u8> {
    let mut k = Vec::new();
    encode_tuple(&[Value::text("D"), Value::text(&schema.to_lowercase())], &mut k);
    k
}

fn relation_key(schema: &str, name: &str) -> Vec<u8> {
    let mut k = Vec::new();
    encode_tuple(&[Value::text("R"), Value::text(&schema.to_lowercase()), Value::text(&name.to_lowercase())], &mut k);
    k
}

fn relation_prefix(schema: &str) -> Vec<u8> {
    let mut k = Vec::new();
    encode_tuple(&[Value::text("R"), Value::text(&schema.to_lowercase())], &mut k);
    k
}

/// How far ahead a stored AUTO_INCREMENT ceiling reaches (invariant 4).
const SEQUENCE_BLOCK: u64 = 1000;
/// How far ahead the stored space-id ceiling reaches.
const SPACE_BLOCK: u32 = 64;
/// How far ahead the stored definition-version ceiling reaches.
const VERSION_BLOCK: u64 = 1024;
const SPACE_COUNTER: &[u8] = b"dict.space";
const VERSION_COUNTER: &[u8] = b"dict.version";

fn sequence_counter(space: SpaceId) -> Vec<u8> {
    let mut k = b"dict.seq.".to_vec();
    k.extend_from_slice(&space.0.to_be_bytes());
    k
}

struct SeqState {
    /// The next value, once known (from the stored ceiling or the data).
    next: Option<u64>,
    /// Values at or above this were never handed out (invariant 4).
    ceiling: u64,
}

/// A non-transactional counter for AUTO_INCREMENT or hidden row ids.
pub struct Sequence {
    st: Mutex<SeqState>,
    /// Where the ceiling is stored (persistent engines).
    store: Option<(TxnManager, Vec<u8>)>,
}

impl Sequence {
    /// Takes the next value, initialising from `init` (the next free value
    /// found in the data) on first use.
    pub fn next_value<E>(&self, init: impl FnOnce() -> Result<u64, E>) -> Result<u64, E> {
        let mut g = self.st.lock();
        let v = match g.next {
            Some(v) => v,
            None => init()?,
        };
        self.advance(&mut g, v.saturating_add(1));
        Ok(v)
    }

    /// The value [`Sequence::next_value`] would take next, without taking
    /// it (SHOW CREATE TABLE's AUTO_INCREMENT).
    pub fn peek<E>(&self, init: impl FnOnce() -> Result<u64, E>) -> Result<u64, E> {
        let mut g = self.st.lock();
        match g.next {
            Some(v) => Ok(v),
            None => {
                let v = init()?;
                g.next = Some(v);
                Ok(v)
            }
        }
    }

    /// Notes that `v` was used explicitly, so later values are above it.
    pub fn observe<E>(&self, v: u64, init: impl FnOnce() -> Result<u64, E>) -> Result<(), E> {
        let mut g = self.st.lock();
        let cur = match g.next {
            Some(c) => c,
            None => init()?,
        };
        self.advance(&mut g, cur.max(v.saturating_add(1)));
        Ok(())
    }

    /// Sets the next value, storing a higher ceiling first when it passes
    /// the stored one (invariant 4).
    fn advance(&self, g: &mut SeqState, next: u64) {
        if let Some((txns, name)) = &self.store {
            if next > g.ceiling {
                let ceiling = next.saturating_add(SEQUENCE_BLOCK);
                if txns.store_counter(name, ceiling).is_ok() {
                    g.ceiling = ceiling;
                }
            }
        }
        g.next = Some(next);
    }

    /// Stores the exact next value as the ceiling (a clean close).
    fn store_exact(&self) {
        let mut g = self.st.lock();
        if let (Some((txns, name)), Some(next)) = (&self.store, g.next) {
            if next < g.ceiling && txns.store_counter(name, next).is_ok() {
                g.ceiling = next;
            }
        }
    }
}

/// Stored ceilings of the dictionary's own counters (persistent engines).
struct Ceilings {
    txns: TxnManager,
    space: Mutex<u32>,
    version: Mutex<u64>,
}

/// The dictionary of one database (catalog).
pub struct Dictionary {
    next_space: AtomicU32,
    next_version: AtomicU64,
    sequences: Mutex<HashMap<SpaceId, Arc<Sequence>>>,
    cache: Mutex<HashMap<Vec<u8>, Relation>>,
    ceilings: Option<Ceilings>,
}

impl Default for Dictionary {
    fn default() -> Self {
        Dictionary::new()
    }
}

impl Dictionary {
    /// An empty dictionary whose counters are not stored (a new database
    /// on a non-persistent engine; tests).
    pub fn new() -> Dictionary {
        Dictionary {
            next_space: AtomicU32::new(FIRST_USER_SPACE),
            next_version: AtomicU64::new(1),
            sequences: Mutex::new(HashMap::new()),
            cache: Mutex::new(HashMap::new()),
            ceilings: None,
        }
    }

    /// The dictionary of the database `txns` manages: on a persistent
    /// engine its counters resume from their stored ceilings (invariant 4).
    pub fn open(txns: &TxnManager) -> Result<Dictionary, DictError> {
        if !txns.is_persistent() {
            return Ok(Dictionary::new());
        }
        let space = match txns.counter(SPACE_COUNTER)? {
            Some(v) => u32::try_from(v).map_err(|_| DictError::Corrupt("stored space-id ceiling out of range"))?,
            None => FIRST_USER_SPACE,
        }
        .max(FIRST_USER_SPACE);
        let version = txns.counter(VERSION_COUNTER)?.unwrap_or(1).max(1);
        let mut d = Dictionary::new();
        d.next_space = AtomicU32::new(space);
        d.next_version = AtomicU64::new(version);
        d.ceilings = Some(Ceilings { txns: txns.clone(), space: Mutex::new(space), version: Mutex::new(version) });
        Ok(d)
    }

    /// Stores the exact next values of every counter, so a reopen after a
    /// clean close leaves no gap (invariant 4). Safe to call more than once.
    pub fn close(&self) {
        let Some(c) = &self.ceilings else { return };
        let space = self.next_space.load(Ordering::SeqCst);
        let mut sc = c.space.lock();
        if space < *sc && c.txns.store_counter(SPACE_COUNTER, space as u64).is_ok() {
            *sc = space;
        }
        let version = self.next_version.load(Ordering::SeqCst);
        let mut vc = c.version.lock();
        if version < *vc && c.txns.store_counter(VERSION_COUNTER, version).is_ok() {
            *vc = version;
        }
        for s in self.sequences.lock().values() {
            s.store_exact();
        }
    }

    /// The current value of every counter, named as they are stored (for a
    /// backup of a database whose engine stores none).
    pub fn counter_values(&self) -> Vec<(Vec<u8>, u64)> {
        let mut v = vec![
            (SPACE_COUNTER.to_vec(), self.next_space.load(Ordering::SeqCst) as u64),
            (VERSION_COUNTER.to_vec(), self.next_version.load(Ordering::SeqCst)),
        ];
        for (space, s) in self.sequences.lock().iter() {
            if let Some(next) = s.st.lock().next {
                v.push((sequence_counter(*space), next));
            }
        }
        v
    }

    /// A fresh space id (never reused, even across a reopen).
    pub fn alloc_space(&self) -> SpaceId {
        let s = self.next_space.fetch_add(1, Ordering::SeqCst);
        if let Some(c) = &self.ceilings {
            let mut g = c.space.lock();
            if s >= *g {
                let ceiling = s.saturating_add(SPACE_BLOCK);
                if c.txns.store_counter(SPACE_COUNTER, ceiling as u64).is_ok() {
                    *g = ceiling;
                }
            }
        }
        SpaceId(s)
    }

    /// A fresh definition version.
    pub fn next_version(&self) -> u64 {
        let v = self.next_version.fetch_add(1, Ordering::SeqCst);
        if let Some(c) = &self.ceilings {
            let mut g = c.version.lock();
            if v >= *g {
                let ceiling = v.saturating_add(VERSION_BLOCK);
                if c.txns.store_counter(VERSION_COUNTER, ceiling).is_ok() {
                    *g = ceiling;
                }
            }
        }
        v
    }

    /// The sequence of a table space (AUTO_INCREMENT or hidden row id).
    /// On a persistent engine it starts at its stored ceiling, if any.
    pub fn sequence(&self, space: SpaceId) -> Arc<Sequence> {
        self.sequences
            .lock()
            .entry(space)
            .or_insert_with(|| {
                let (next, store) = match &self.ceilings {
                    Some(c) => {
                        let name = sequence_counter(space);
                        (c.txns.counter(&name).ok().flatten(), Some((c.txns.clone(), name)))
                    }
                    None => (None, None),
                };
                Arc::new(Sequence { st: Mutex::new(SeqState { next, ceiling: next.unwrap_or(0) }), store })
            })
            .clone()
    }

    /// Creates a schema with default collation `collation`; `Ok(false)` if
    /// it exists and `if_not_exists`.
    pub fn create_schema(
        &self,
        txn: &Txn,
        name: &str,
        collation: Collation,
        if_not_exists: bool,
    ) -> Result<bool, DictError> {
        let rec = encode_schema(&SchemaDef { name: name.to_string(), collation });
        if txn.insert(DICT_SPACE, &schema_key(name), &rec)? {
            return Ok(true);
        }
        if if_not_exists {
            Ok(false)
        } else {
            Err(DictError::SchemaExists(name.to_string()))
        }
    }

    /// Replaces a schema's default collation (`ALTER DATABASE`); its
    /// tables keep theirs.
    pub fn alter_schema(&self, txn: &Txn, name: &str, collation: Collation) -> Result<(), DictError> {
        let Some(mut s) = self.get_schema(txn, name)? else {
            return Err(DictError::UnknownSchema(name.to_string()));
        };
        s.collation = collation;
        txn.put(DICT_SPACE, &schema_key(name), &encode_schema(&s))?;
        Ok(())
    }

    /// True if the schema exists in the transaction's view.
    pub fn schema_exists(&self, txn: &Txn, name: &str) -> Result<bool, DictError> {
        let k = schema_key(name);
        txn.record_read_key(DICT_SPACE, &k);
        Ok(txn.get(DICT_SPACE, &k)?.is_some())
    }

    /// The schema's name as declared.
    pub fn get_schema(&self, txn: &Txn, name: &str) -> Result<Option<SchemaDef>, DictError> {
        let k = schema_key(name);
        txn.record_read_key(DICT_SPACE, &k);
        match txn.get(DICT_SPACE, &k)? {
            Some(b) => Ok(Some(decode_schema(&b)?)),
            None => Ok(None),
        }
    }

    /// Deletes a schema record (the caller drops its relations first).
    pub fn drop_schema(&self, txn: &Txn, name: &str) -> Result<(), DictError> {
        let k = schema_key(name);
        if txn.get(DICT_SPACE, &k)?.is_none() {
            return Err(DictError::DropMissingSchema(name.to_string()));
        }
        txn.delete(DICT_SPACE, &k)?;
        Ok(())
    }

    /// Every schema, sorted by name.
    pub fn list_schemas(&self, txn: &Txn) -> Result<Vec<SchemaDef>, DictError> {
        let mut p = Vec::new();
        encode_tuple(&[Value::text("D")], &mut p);
        let mut out = Vec::new();
        let mut cur = txn.scan(
            DICT_SPACE,
            Bound::Included(&p),
            prefix_end(&p).as_deref().map_or(Bound::Unbounded, Bound::Excluded),
        )?;
        let mut b = mizzle_txn::cursor_batch();
        while cur.next_batch(&mut b, 256)? {
            for (_, v) in b.iter() {
                out.push(decode_schema(v)?);
            }
        }
        Ok(out)
    }

    fn decode_cached(&self, bytes: Vec<u8>) -> Result<Relation, DictError> {
        if let Some(r) = self.cache.lock().get(&bytes) {
            return Ok(r.clone());
        }
        let r = decode_relation(&bytes)?;
        let mut c = self.cache.lock();
        if c.len() > 4096 {
            c.clear();
        }
        c.insert(bytes, r.clone());
        Ok(r)
    }

    /// The table or view `schema.name`, if it exists in the transaction's
    /// view (invariant 1).
    pub fn get_relation(&self, txn: &Txn, schema: &str, name: &str) -> Result<Option<Relation>, DictError> {
        let k = relation_key(schema, name);
        txn.record_read_key(DICT_SPACE, &k);
        match txn.get(DICT_SPACE, &k)? {
            Some(b) => Ok(Some(self.decode_cached(b)?)),
            None => Ok(None),
        }
    }

    /// Records a read of a relation's definition without reading it, for a
    /// caller that knows the definition it would see (a cached plan whose
    /// check is still valid): concurrent DDL on it conflicts as if read.
    pub fn note_relation_read(&self, txn: &Txn, schema: &str, name: &str) {
        txn.record_read_key(DICT_SPACE, &relation_key(schema, name));
    }

    /// Stores a new relation; fails if the name is taken.
    pub fn create_relation(&self, txn: &Txn, r: &Relation) -> Result<(), DictError> {
        let (schema, name) = match r {
            Relation::Table(t) => (&t.schema, &t.name),
            Relation::View(v) => (&v.schema, &v.name),
        };
        if !txn.insert(DICT_SPACE, &relation_key(schema, name), &encode_relation(r))? {
            return Err(DictError::TableExists(name.clone()));
        }
        Ok(())
    }

    /// Replaces an existing relation's definition (ALTER).
    pub fn replace_relation(&self, txn: &Txn, r: &Relation) -> Result<(), DictError> {
        let (schema, name) = match r {
            Relation::Table(t) => (&t.schema, &t.name),
            Relation::View(v) => (&v.schema, &v.name),
        };
        txn.put(DICT_SPACE, &relation_key(schema, name), &encode_relation(r))?;
        Ok(())
    }

    /// Removes a relation's definition.
    pub fn drop_relation(&self, txn: &Txn, schema: &str, name: &str) -> Result<(), DictError> {
        txn.delete(DICT_SPACE, &relation_key(schema, name))?;
        Ok(())
    }

    /// Every relation of a schema, sorted by lower-cased name.
    pub fn list_relations(&self, txn: &Txn, schema: &str) -> Result<Vec<Relation>, DictError> {
        let p = relation_prefix(schema);
        let end = prefix_end(&p);
        let mut cur =
            txn.scan(DICT_SPACE, Bound::Included(&p), end.as_deref().map_or(Bound::Unbounded, Bound::Excluded))?;
        let mut b = mizzle_txn::cursor_batch();
        let mut out = Vec::new();
        while cur.next_batch(&mut b, 256)? {
            for (_, v) in b.iter() {
                out.push(self.decode_cached(v.to_vec())?);
            }
        }
        Ok(out)
    }
}

impl Dictionary {
    /// Every relation of every schema as this transaction's writer sees
    /// them, without recording the scan as read: for bookkeeping that must
    /// not make concurrent DDL conflict under SERIALIZABLE (CREATE TABLE
    /// looking for tables whose foreign keys name it).
    pub fn all_relations_unrecorded(&self, txn: &Txn) -> Result<Vec<Relation>, DictError> {
        let mut p = Vec::new();
        encode_tuple(&[Value::text("R")], &mut p);
        let end = prefix_end(&p);
        let mut cur =
            txn.scan_own(DICT_SPACE, Bound::Included(&p), end.as_deref().map_or(Bound::Unbounded, Bound::Excluded))?;
        let mut b = mizzle_txn::cursor_batch();
        let mut out = Vec::new();
        while cur.next_batch(&mut b, 256)? {
            for (_, v) in b.iter() {
                out.push(self.decode_cached(v.to_vec())?);
            }
        }
        Ok(out)
    }
}

/// The end of the range of keys extending a tuple prefix: tuple encodings
/// are prefix-free, so keys extending `p` are exactly those starting with it.
fn prefix_end(p: &[u8]) -> Option<Vec<u8>> {
    mizzle_types::key::prefix_successor(p)
}
