//! The kernel: a registry of plugins and the catalogs opened with them.
//!
//! Invariants:
//! 1. The kernel names no concrete plugin: whoever builds a [`Registry`]
//!    (the embedded crate, the server, a test) registers the plugins.
//! 2. Compiled-in and dynamically loaded plugins go through the same
//!    registry and are listed alike.
//! 3. Each catalog gets its own engine instance, transaction manager and
//!    dictionary; nothing is shared between catalogs.

use std::collections::BTreeMap;
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

/// The registered plugins, keyed by kind (storage, scheduler,
/// authentication), each described by one [`PluginDescriptor`]. Storage
/// engines also keep their factory here; plugins of the other kinds are
/// instantiated by whoever registered them (the server picks its scheduler
/// and authentication plugins by name from this registry).
#[derive(Default, Clone)]
pub struct Registry {
    /// Every plugin, by kind, each kind in registration order.
    plugins: BTreeMap<PluginKind, Vec<PluginDescriptor>>,
    /// Factories of the storage plugins, by name.
    engines: Vec<(String, Arc<dyn StorageEngineFactory>)>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Registers a plugin described by `d`; its name must be new within
    /// its kind (compared without case, as MySQL compares plugin names).
    pub fn register(&mut self, d: PluginDescriptor) -> Result<(), KernelError> {
        let same_kind = self.plugins.entry(d.kind).or_default();
        if same_kind.iter().any(|p| p.name.eq_ignore_ascii_case(&d.name)) {
            return Err(KernelError::DuplicatePlugin(d.name));
        }
        same_kind.push(d);
        Ok(())
    }

    /// Registers a compiled-in storage engine.
    pub fn register_storage(&mut self, f: Arc<dyn StorageEngineFactory>) -> Result<(), KernelError> {
        let name = f.name().to_string();
        self.register(PluginDescriptor {
            name: name.clone(),
            kind: PluginKind::Storage,
            version: env!("CARGO_PKG_VERSION").to_string(),
            description: f.description().to_string(),
            origin: PluginOrigin::CompiledIn,
        })?;
        self.engines.push((name, f));
        Ok(())
    }

    /// True if `engine` is registered and keeps data in a directory.
    pub fn is_persistent(&self, engine: &str) -> Option<bool> {
        self.factory(engine).map(|(_, f)| f.persistent())
    }

    /// The plugins of one kind, in registration order.
    pub fn plugins_of(&self, kind: PluginKind) -> &[PluginDescriptor] {
        self.plugins.get(&kind).map_or(&[], |v| v.as_slice())
    }

    /// The plugin of `kind` named `name` (without case), if registered.
    pub fn get_plugin(&self, kind: PluginKind, name: &str) -> Option<&PluginDescriptor> {
        self.plugins_of(kind).iter().find(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// Every registered plugin, kind by kind ([`PluginKind::ALL`] order).
    pub fn plugins(&self) -> Vec<PluginDescriptor> {
        self.plugins.values().flatten().cloned().collect()
    }

    fn factory(&self, engine: &str) -> Option<&(String, Arc<dyn StorageEngineFactory>)> {
        self.engines.iter().find(|(n, _)| n.eq_ignore_ascii_case(engine))
    }

    fn rows(&self) -> Vec<PluginRow> {
        self.plugins
            .values()
            .flatten()
            .map(|d| PluginRow {
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
        let (_, f) = self.factory(engine).ok_or_else(|| KernelError::UnknownEngine(engine.to_string()))?;
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
        self.open_catalog_with(engine, dir, opts, &[])
    }

    /// [`Registry::open_catalog`] with global variables set before the
    /// catalog's bootstrap (`collation_server`: the default database's
    /// collation when it is created). The caller checked the values.
    pub fn open_catalog_with(
        &self,
        engine: &str,
        dir: Option<&Path>,
        opts: &EngineOptions,
        globals: &[(String, String)],
    ) -> Result<Arc<CatalogState>, KernelError> {
        let (name, f) = self.factory(engine).ok_or_else(|| KernelError::UnknownEngine(engine.to_string()))?;
        let e = f.open(dir, opts)?;
        let cat = CatalogState::open(e, name, self.rows())?;
        {
            // Defaults that follow how the catalog was opened.
            let mut g = cat.globals.write();
            let flush = match opts.sync {
                SyncMode::Full => "1",
                SyncMode::Normal => "2",
                SyncMode::Off => "0",
            };
            g.insert("innodb_flush_log_at_trx_commit".into(), flush.into());
            g.insert("default_storage_engine".into(), name.clone());
            for (k, v) in globals {
                g.insert(k.clone(), v.clone());
            }
        }
        cat.bootstrap()?;
        Ok(cat)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn descriptor(kind: PluginKind, name: &str) -> PluginDescriptor {
        PluginDescriptor {
            name: name.into(),
            kind,
            version: "1".into(),
            description: String::new(),
            origin: PluginOrigin::CompiledIn,
        }
    }

    #[test]
    fn names_are_unique_within_a_kind_only_and_plugins_list_kind_by_kind() {
        let mut r = Registry::new();
        r.register(descriptor(PluginKind::Authentication, "native")).expect("native");
        r.register(descriptor(PluginKind::Scheduler, "pool")).expect("pool");
        r.register(descriptor(PluginKind::Scheduler, "thread")).expect("thread");
        assert_eq!(
            r.register(descriptor(PluginKind::Scheduler, "POOL")),
            Err(KernelError::DuplicatePlugin("POOL".into())),
            "a name is unique within its kind, without case"
        );
        r.register(descriptor(PluginKind::Authentication, "pool")).expect("another kind may reuse a name");
        let names: Vec<(PluginKind, String)> = r.plugins().into_iter().map(|d| (d.kind, d.name)).collect();
        assert_eq!(
            names,
            vec![
                (PluginKind::Scheduler, "pool".to_string()),
                (PluginKind::Scheduler, "thread".to_string()),
                (PluginKind::Authentication, "native".to_string()),
                (PluginKind::Authentication, "pool".to_string()),
            ]
        );
        assert_eq!(r.plugins_of(PluginKind::Storage).len(), 0);
        assert!(r.get_plugin(PluginKind::Scheduler, "Thread").is_some());
        assert!(r.get_plugin(PluginKind::Storage, "thread").is_none());
    }
}
