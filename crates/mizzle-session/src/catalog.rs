//! The shared state of one catalog that sessions work against: its
//! transaction manager, dictionary, global variables and plugin list.
//!
//! Invariants:
//! 1. Nothing here is process-global: two catalogs share nothing.
//! 2. The default schema `main` exists once [`CatalogState::bootstrap`]
//!    has run.

use hashbrown::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use mizzle_dictionary::Dictionary;
use mizzle_plugin_api::storage::StorageEngine;
use mizzle_txn::{SpaceWatch, TxnManager, TxnOptions};
use mizzle_types::Value;
use parking_lot::RwLock;

use crate::error::SessionError;
use crate::vars::VARS;

/// The default schema of a new database.
pub const DEFAULT_SCHEMA: &str = "main";

/// A plugin as `SHOW PLUGINS` lists it.
#[derive(Clone, Debug)]
pub struct PluginRow {
    /// Name.
    pub name: String,
    /// Kind, e.g. `STORAGE ENGINE`.
    pub kind: String,
    /// Shared library path, empty when compiled in.
    pub library: String,
    /// One-line description.
    pub description: String,
}

/// The source of wall-clock time (injected so tests can fix it).
pub trait Clock: Send + Sync {
    /// Microseconds since 1970-01-01 UTC.
    fn now_micros(&self) -> i64;
}

/// The system clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_micros(&self) -> i64 {
        match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => d.as_micros().min(i64::MAX as u128) as i64,
            Err(_) => 0,
        }
    }
}

/// Status rows a front end adds (`CatalogState::register_front_end_status`):
/// called on the thread running `SHOW STATUS`, so it must be quick and
/// take no lock a statement may hold.
pub type StatusSource = Arc<dyn Fn() -> Vec<(String, String)> + Send + Sync>;

/// Shared state of one catalog.
pub struct CatalogState {
    /// Wall-clock time for NOW() and friends.
    pub clock: Arc<dyn Clock>,
    /// MVCC transactions.
    pub txns: TxnManager,
    /// The dictionary.
    pub dict: Dictionary,
    /// Global values of system variables.
    pub globals: RwLock<HashMap<String, String>>,
    /// Registered plugins.
    pub plugins: Vec<PluginRow>,
    /// Plugins a front end registered after opening (a server's
    /// authentication plugin), listed after `plugins`.
    pub front_end_plugins: RwLock<Vec<PluginRow>>,
    /// A front end's own status rows (a server's connections and
    /// scheduler), shown by `SHOW STATUS` and
    /// `performance_schema.global_status` merged with the catalog's in
    /// name order, replacing rows of the same name.
    front_end_status: RwLock<Option<StatusSource>>,
    /// Name of the storage engine holding this catalog's data.
    pub engine_name: String,
    next_connection: AtomicU64,
    /// Newest commit that changed the dictionary (cached-plan checks).
    pub dict_watch: SpaceWatch,
}

impl CatalogState {
    /// Sets the global value of a server option, read-only ones included
    /// (`secure_file_priv`, `local_infile`): for front ends at start-up.
    /// `None` if the name is unknown or the value unacceptable.
    pub fn set_server_option(&self, name: &str, value: &Value) -> Option<()> {
        let d = crate::vars::find(name)?;
        let text = crate::vars::normalise(d, value)?;
        self.globals.write().insert(name.to_string(), text);
        Some(())
    }

    /// A catalog over `engine`, resuming what a persistent engine holds:
    /// the transaction clock, writers to roll back, and the dictionary's
    /// counters (`TxnManager::open`, `Dictionary::open`).
    pub fn open(
        engine: Arc<dyn StorageEngine>,
        engine_name: &str,
        plugins: Vec<PluginRow>,
    ) -> Result<Arc<CatalogState>, SessionError> {
        let globals = VARS.iter().map(|v| (v.name.to_string(), v.default.to_string())).collect();
        let (txns, _report) = TxnManager::open(engine)?;
        let dict = Dictionary::open(&txns)?;
        let dict_watch = txns.watch_space(mizzle_dictionary::DICT_SPACE);
        Ok(Arc::new(CatalogState {
            clock: Arc::new(SystemClock),
            txns,
            dict_watch,
            dict,
            globals: RwLock::new(globals),
            plugins,
            front_end_plugins: RwLock::new(Vec::new()),
            front_end_status: RwLock::new(None),
            engine_name: engine_name.to_string(),
            next_connection: AtomicU64::new(1),
        }))
    }

    /// Creates the default schema if it does not exist.
    pub fn bootstrap(&self) -> Result<(), SessionError> {
        let t = self.txns.begin(TxnOptions::default());
        t.begin_statement()?;
        let server = self.globals.read().get("collation_server").and_then(|c| mizzle_types::Collation::from_name(c));
        self.dict.create_schema(&t, DEFAULT_SCHEMA, server.unwrap_or(mizzle_types::Collation::SERVER_DEFAULT), true)?;
        t.commit_blocking()?;
        Ok(())
    }

    /// Lists a front end's plugin in `SHOW PLUGINS` (once per name and kind).
    pub fn register_front_end_plugin(&self, row: PluginRow) {
        let mut v = self.front_end_plugins.write();
        if !v.iter().any(|p| p.kind == row.kind && p.name.eq_ignore_ascii_case(&row.name)) {
            v.push(row);
        }
    }

    /// Adds a front end's status rows to every session's `SHOW STATUS`
    /// (replacing an earlier source).
    pub fn register_front_end_status(&self, source: StatusSource) {
        *self.front_end_status.write() = Some(source);
    }

    /// The front end's status rows (none without a front end).
    pub(crate) fn front_end_status(&self) -> Vec<(String, String)> {
        let source = self.front_end_status.read().clone();
        source.map(|f| f()).unwrap_or_default()
    }

    /// A fresh connection id.
    pub fn next_connection_id(&self) -> u64 {
        self.next_connection.fetch_add(1, Ordering::Relaxed)
    }
}

impl Drop for CatalogState {
    fn drop(&mut self) {
        // A clean close: exact counters, so a reopen leaves no gaps. The
        // engine syncs its log when its last handle drops, after this.
        self.dict.close();
    }
}
