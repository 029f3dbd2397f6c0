//! The kernel: a registry of plugins and the catalogs opened with them.
//!
//! Invariants:
//! 1. The kernel names no concrete plugin: whoever builds a [`Registry`]
//!    (the embedded crate, the server, a test) registers the plugins.
//! 2. Compiled-in and dynamically loaded plugins go through the same
//!    registry and are listed alike.
//! 3. Each catalog gets its own engine instance, transaction manager and
//!    dictionary; nothing is shared between catalogs.

use std::path::Path;
use std::sync::Arc;

use mizzle_plugin_api::registry::{PluginDescriptor, PluginKind, PluginOrigin};
use mizzle_plugin_api::storage::{EngineOptions, StorageEngine, StorageEngineFactory, StorageError, SyncMode};
use mizzle_session::{CatalogState, PluginRow, SessionError};
use mizzle_types::{ErrorCode, SqlError};

/// Kernel errors.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KernelError {
    /// No storage engine of that name is registered.
    #[error("Unknown storage engine '{0}'")]
    UnknownEngine(String),
    /// A plugin of that kind and name is already registered.
    #[error("Plugin '{0}' is already registered")]
    DuplicatePlugin(String),
    /// The storage engine failed to open.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Bootstrapping the catalog failed.
    #[error(transparent)]
    Session(#[from] SessionError),
}

impl SqlError for KernelError {
    fn code(&self) -> ErrorCode {
        match self {
            KernelError::UnknownEngine(_) => ErrorCode::FeatureUnavailable,
            KernelError::DuplicatePlugin(_) => ErrorCode::FeatureUnavailable,
            KernelError::Storage(e) => e.code(),
            KernelError::Session(e) => e.code(),
        }
    }
}

/// The registered plugins.
#[derive(Default, Clone)]
pub struct Registry {
    engines: Vec<(PluginDescriptor, Arc<dyn StorageEngineFactory>)>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Registers a compiled-in storage engine.
    pub fn register_storage(&mut self, f: Arc<dyn StorageEngineFactory>) -> Result<(), KernelError> {
        let name = f.name().to_string();
        if self.engines.iter().any(|(d, _)| d.name.eq_ignore_ascii_case(&name)) {
            return Err(KernelError::DuplicatePlugin(name));
        }
        let d = PluginDescriptor {
            name,
            kind: PluginKind::Storage,
            version: env!("CARGO_PKG_VERSION").to_string(),
            description: f.description().to_string(),
            origin: PluginOrigin::CompiledIn,
        };
        self.engines.push((d, f));
        Ok(())
    }

    /// True if `engine` is registered and keeps data in a directory.
    pub fn is_persistent(&self, engine: &str) -> Option<bool> {
        self.engines.iter().find(|(d, _)| d.name.eq_ignore_ascii_case(engine)).map(|(_, f)| f.persistent())
    }

    /// Every registered plugin.
    pub fn plugins(&self) -> Vec<PluginDescriptor> {
        self.engines.iter().map(|(d, _)| d.clone()).collect()
    }

    fn rows(&self) -> Vec<PluginRow> {
        self.engines
            .iter()
            .map(|(d, _)| PluginRow {
                name: d.name.clone(),
                kind: d.kind.to_string(),
                library: match &d.origin {
                    PluginOrigin::CompiledIn => String::new(),
                    PluginOrigin::Dynamic { path } => path.clone(),
                },
                description: d.description.clone(),
            })
            .collect()
    }

    /// Opens a bare engine instance (a backup target, tools).
    pub fn open_engine(
        &self,
        engine: &str,
        dir: Option<&Path>,
        opts: &EngineOptions,
    ) -> Result<Arc<dyn StorageEngine>, KernelError> {
        let (_, f) = self
            .engines
            .iter()
            .find(|(d, _)| d.name.eq_ignore_ascii_case(engine))
            .ok_or_else(|| KernelError::UnknownEngine(engine.to_string()))?;
        Ok(f.open(dir, opts)?)
    }

    /// Opens a catalog stored by engine `engine` (in `dir`, or in memory),
    /// recovering what the engine holds.
    pub fn open_catalog(
        &self,
        engine: &str,
        dir: Option<&Path>,
        opts: &EngineOptions,
    ) -> Result<Arc<CatalogState>, KernelError> {
        let (d, f) = self
            .engines
            .iter()
            .find(|(d, _)| d.name.eq_ignore_ascii_case(engine))
            .ok_or_else(|| KernelError::UnknownEngine(engine.to_string()))?;
        let e = f.open(dir, opts)?;
        let cat = CatalogState::open(e, &d.name, self.rows())?;
        {
            // Defaults that follow how the catalog was opened.
            let mut g = cat.globals.write();
            let flush = match opts.sync {
                SyncMode::Full => "1",
                SyncMode::Normal => "2",
                SyncMode::Off => "0",
            };
            g.insert("innodb_flush_log_at_trx_commit".into(), flush.into());
            g.insert("default_storage_engine".into(), d.name.clone());
        }
        cat.bootstrap()?;
        Ok(cat)
    }
}
