//! The listener, the table of live connections (for `SHOW PROCESSLIST`,
//! `KILL` and shutdown), and [`Host`], what the scheduler plugin (`pool`
//! or `thread`, `mizzle_plugin_api::scheduler`) runs connections for.
//!
//! Shutdown (SIGTERM / SIGINT): the listener stops accepting; every
//! connection's socket is shut for reading, so a connection finishes the
//! command it is running (an in-flight commit becomes durable and is
//! acknowledged) and then sees the end of its input; the server waits for
//! the scheduler to close every connection, checkpoints and closes the
//! database.
//!
//! Invariants:
//! 1. At most `max_connections` clients are served; one more gets ERR 1040
//!    in place of the greeting and is closed.
//! 2. A connection is in the table from admission until its scheduler reports it closed;
//!    its entry's `killed` flag, once set, ends it at its next read.
//! 3. Nothing is written to the database after the final checkpoint.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use mizzle_plugin_api::scheduler::{Connection, Scheduler, SchedulerHost, SchedulerStats};
use mizzle_protocol::{AuthPlugin, HandshakeConfig};
use parking_lot::Mutex;

use crate::accounts::{Accounts, Bootstrap};
use crate::config::{AuthKind, Config, SchedulerKind};
use crate::conn::{Conn, ServerError};
use crate::exec::{CancelHandle, Engine, SqlSession};
use mizzle_types::ErrorCode;

/// The largest packet a client may send before it logged in: a handshake
/// response is a few hundred bytes, and garbage announcing megabytes is
/// refused at once.
pub const HANDSHAKE_MAX_PACKET: usize = 64 * 1024;

/// How long a client may take to log in (MySQL's `connect_timeout`); a
/// silent or slow client is disconnected then.
pub const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// What `SHOW PROCESSLIST` shows of a connection.
#[derive(Debug, Clone)]
pub struct EntryInfo {
    /// The authenticated user (empty during the handshake).
    pub user: String,
    /// Current database.
    pub db: Option<String>,
    /// `Sleep`, `Query`, `Execute`...
    pub command: &'static str,
    /// The statement running, if any.
    pub info: Option<String>,
    /// When `command` started.
    pub since: Instant,
}

/// A live connection.
pub struct ConnEntry {
    /// Connection id (the session id).
    pub id: u64,
    /// Client address.
    pub ip: IpAddr,
    /// Client port.
    pub port: u16,
    /// Set by KILL CONNECTION and shutdown.
    pub killed: AtomicBool,
    /// Set once the client logged in.
    pub authenticated: AtomicBool,
    /// Stops the session's running statement (`KILL QUERY`); replaced
    /// when COM_RESET_CONNECTION or COM_CHANGE_USER makes a new session.
    pub cancel: Mutex<CancelHandle>,
    /// Wakes the connection's parked command early (set by the pool
    /// scheduler when it parks one; `KILL` calls it so a statement waiting
    /// for a row lock notices at once).
    kick: Mutex<Option<Kick>>,
    stream: Option<TcpStream>,
    info: Mutex<EntryInfo>,
}

/// A parked command's early wake-up.
pub type Kick = Box<dyn FnOnce() + Send>;

impl ConnEntry {
    /// Records the user and database.
    pub fn set_user(&self, user: &str, db: Option<&str>) {
        let mut i = self.info.lock();
        i.user = user.to_owned();
        i.db = db.map(str::to_owned);
    }

    /// Records what the connection does now.
    pub fn set_command(&self, command: &'static str, info: Option<&str>) {
        let mut i = self.info.lock();
        if i.command != command {
            i.since = Instant::now();
        }
        i.command = command;
        i.info = info.map(|s| s.chars().take(100).collect());
    }

    /// Sets what wakes the connection's parked command early.
    pub fn set_kick(&self, kick: Kick) {
        *self.kick.lock() = Some(kick);
    }

    /// Wakes the parked command, if any (it resumes and looks at its kill
    /// flag; a wake of a command that already resumed does nothing).
    pub fn kick(&self) {
        let k = self.kick.lock().take();
        if let Some(k) = k {
            k();
        }
    }

    /// Stops reading: the connection ends after its current command.
    pub fn stop_reading(&self) {
        self.killed.store(true, Ordering::Relaxed);
        if let Some(s) = &self.stream {
            let _ = s.shutdown(std::net::Shutdown::Read);
        }
    }
}

/// Server-wide counters.
#[derive(Default)]
pub struct Stats {
    /// Commands received.
    pub questions: AtomicU64,
    /// Connections accepted.
    pub connections: AtomicU64,
}

/// What every connection shares.
pub struct Shared {
    /// The database.
    pub engine: Engine,
    /// Accounts.
    pub accounts: Accounts,
    /// The handshake every listener offers (its packet limit is
    /// [`HANDSHAKE_MAX_PACKET`]).
    pub handshake: HandshakeConfig,
    /// The packet limit of the command phase (`max_allowed_packet`).
    pub max_allowed_packet: usize,
    /// Counters.
    pub stats: Stats,
    /// Scheduler counters.
    pub sched: SchedulerStats,
    /// The running scheduler's name (`pool` or `thread`).
    pub scheduler: Mutex<String>,
    /// TLS, when the server offers it (CLIENT_SSL in the greeting).
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Clients without TLS are refused after authentication (3159).
    pub require_secure_transport: bool,
    conns: Mutex<HashMap<u64, Arc<ConnEntry>>>,
    shutdown: AtomicBool,
    started: Instant,
    max_connections: usize,
}

impl Shared {
    /// True once shutdown began.
    pub fn shutting_down(&self) -> bool {
        self.shutdown.load(Ordering::Relaxed)
    }

    /// `KILL [CONNECTION] id` (`connection`) or `KILL QUERY id`. The
    /// running statement, if any, stops at its next batch with 1317 (a
    /// KILL QUERY of an idle connection does nothing, as in MySQL), also
    /// when it is parked on a row lock (it is woken); a killed connection
    /// then ends.
    pub fn kill(&self, id: u64, connection: bool) -> Result<(), ServerError> {
        let e = {
            let conns = self.conns.lock();
            let Some(e) = conns.get(&id) else {
                return Err(ServerError { code: ErrorCode::NoSuchThread, message: format!("Unknown thread id: {id}") });
            };
            e.clone()
        };
        e.cancel.lock().cancel();
        if connection {
            e.stop_reading();
        }
        // Outside the connection table's lock: the wake queues the task.
        e.kick();
        Ok(())
    }

    /// The server's rows of `SHOW STATUS`.
    pub fn status_rows(&self) -> Vec<(String, String)> {
        let conns = self.conns.lock();
        let running = conns.values().filter(|e| e.info.lock().command != "Sleep").count();
        let s = &self.sched;
        let scheduler = self.scheduler.lock().clone();
        let pool = scheduler == "pool";
        let dispatched = s.dispatched.load(Ordering::Relaxed);
        let wait = s.wait_us.load(Ordering::Relaxed);
        let avg = wait.checked_div(dispatched).unwrap_or(0);
        let active = if pool { s.active.load(Ordering::Relaxed) } else { running };
        vec![
            ("Connections".into(), self.stats.connections.load(Ordering::Relaxed).to_string()),
            ("Mizzle_scheduler".into(), scheduler),
            (
                "Mizzle_sha2_full_authentications".into(),
                self.accounts.sha2_full_auths.load(Ordering::Relaxed).to_string(),
            ),
            ("Mizzle_scheduler_active_workers".into(), active.to_string()),
            ("Mizzle_scheduler_dispatched".into(), dispatched.to_string()),
            ("Mizzle_scheduler_idle_rounds".into(), s.idle_rounds.load(Ordering::Relaxed).to_string()),
            ("Mizzle_scheduler_queue_length".into(), s.queued.load(Ordering::Relaxed).to_string()),
            ("Mizzle_scheduler_wait_time_avg_us".into(), avg.to_string()),
            ("Mizzle_scheduler_wait_time_us".into(), wait.to_string()),
            ("Mizzle_scheduler_workers".into(), s.workers.load(Ordering::Relaxed).to_string()),
            ("Questions".into(), self.stats.questions.load(Ordering::Relaxed).to_string()),
            ("Threads_connected".into(), conns.len().to_string()),
            ("Threads_running".into(), running.to_string()),
            ("Uptime".into(), self.started.elapsed().as_secs().to_string()),
        ]
    }

    /// The COM_STATISTICS line.
    pub fn statistics(&self) -> String {
        let up = self.started.elapsed().as_secs();
        let q = self.stats.questions.load(Ordering::Relaxed);
        let threads = self.conns.lock().len();
        let qps = if up == 0 { q as f64 } else { q as f64 / up as f64 };
        format!(
            "Uptime: {up}  Threads: {threads}  Questions: {q}  Slow queries: 0  Opens: 0  Flush tables: 0  \
             Open tables: 0  Queries per second avg: {qps:.3}"
        )
    }

    /// Snapshot of live connections (SHOW PROCESSLIST).
    pub fn processes(&self) -> Vec<(u64, SocketAddr, EntryInfo)> {
        let mut v: Vec<_> =
            self.conns.lock().values().map(|e| (e.id, SocketAddr::new(e.ip, e.port), e.info.lock().clone())).collect();
        v.sort_by_key(|(id, _, _)| *id);
        v
    }

    /// Number of live connections.
    pub fn connection_count(&self) -> usize {
        self.conns.lock().len()
    }

    /// Removes a closed connection from the table.
    pub fn forget(&self, id: u64) {
        let gone = self.conns.lock().remove(&id);
        // The entry's duplicate of the socket must not keep it open.
        if let Some(s) = gone.as_ref().and_then(|e| e.stream.as_ref()) {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }

    /// Server state around `engine` and `accounts` (also for tests and
    /// fuzzing, which drive [`crate::conn::Conn`] without sockets).
    pub fn new(engine: Engine, accounts: Accounts, max_allowed_packet: usize, max_connections: usize) -> Arc<Shared> {
        Shared::with_tls(engine, accounts, max_allowed_packet, max_connections, None, false)
    }

    /// [`Shared::new`] offering TLS with `tls`; `require_secure_transport`
    /// refuses clients that log in without it.
    pub fn with_tls(
        engine: Engine,
        accounts: Accounts,
        max_allowed_packet: usize,
        max_connections: usize,
        tls: Option<Arc<rustls::ServerConfig>>,
        require_secure_transport: bool,
    ) -> Arc<Shared> {
        let mut handshake = HandshakeConfig {
            default_auth_plugin: AuthPlugin::NativePassword,
            max_allowed_packet: HANDSHAKE_MAX_PACKET,
            tls_available: tls.is_some(),
            ..HandshakeConfig::default()
        };
        handshake.server_version = mizzle_session::vars::VERSION.to_owned();
        let shared = Arc::new(Shared {
            engine,
            accounts,
            handshake,
            max_allowed_packet,
            stats: Stats::default(),
            sched: SchedulerStats::default(),
            scheduler: Mutex::new(String::new()),
            tls,
            require_secure_transport,
            conns: Mutex::new(HashMap::new()),
            shutdown: AtomicBool::new(false),
            started: Instant::now(),
            max_connections,
        });
        // Every session's SHOW STATUS shows the server's rows (weakly held:
        // the catalog outlives nothing it points back to).
        let weak = Arc::downgrade(&shared);
        shared.engine.register_status(Arc::new(move || weak.upgrade().map(|s| s.status_rows()).unwrap_or_default()));
        shared
    }

    /// Admits a client without a socket (tests, fuzzing): its entry and session.
    pub fn admit_detached(&self, peer: SocketAddr) -> (Arc<ConnEntry>, SqlSession) {
        let session = self.engine.session();
        let entry = Arc::new(ConnEntry {
            id: session.id(),
            ip: peer.ip(),
            port: peer.port(),
            killed: AtomicBool::new(false),
            authenticated: AtomicBool::new(false),
            cancel: Mutex::new(session.cancel_handle()),
            kick: Mutex::new(None),
            stream: None,
            info: Mutex::new(EntryInfo {
                user: String::new(),
                db: None,
                command: "Connect",
                info: None,
                since: Instant::now(),
            }),
        });
        self.conns.lock().insert(entry.id, entry.clone());
        (entry, session)
    }

    /// Admits a new client: `None` (after sending ERR 1040) when the
    /// connection limit is reached (invariant 1); else its table entry and
    /// session.
    pub fn admit(&self, stream: &TcpStream, peer: SocketAddr) -> Option<(Arc<ConnEntry>, SqlSession)> {
        if self.conns.lock().len() >= self.max_connections {
            let mut out = Vec::new();
            let e = ServerError { code: ErrorCode::TooManyConnections, message: "Too many connections".into() };
            let mut w = mizzle_protocol::PacketWriter::new(&mut out, mizzle_protocol::SequenceId::ZERO);
            w.packet(|o| {
                mizzle_protocol::ErrPacket::from_error(&e).encode(mizzle_protocol::Capabilities::PROTOCOL_41, o)
            });
            let mut s: &TcpStream = stream;
            let _ = std::io::Write::write_all(&mut s, &out);
            return None;
        }
        let session = self.engine.session();
        let entry = Arc::new(ConnEntry {
            id: session.id(),
            ip: peer.ip(),
            port: peer.port(),
            killed: AtomicBool::new(false),
            authenticated: AtomicBool::new(false),
            cancel: Mutex::new(session.cancel_handle()),
            kick: Mutex::new(None),
            stream: stream.try_clone().ok(),
            info: Mutex::new(EntryInfo {
                user: String::new(),
                db: None,
                command: "Connect",
                info: None,
                since: Instant::now(),
            }),
        });
        self.conns.lock().insert(entry.id, entry.clone());
        self.stats.connections.fetch_add(1, Ordering::Relaxed);
        Some((entry, session))
    }

    fn stop_all(&self) {
        for e in self.conns.lock().values() {
            e.stop_reading();
        }
    }
}

/// Opens the database, bootstraps accounts and serves until SIGTERM or
/// SIGINT.
pub fn run(config: Config) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.datadir)
        .map_err(|e| anyhow::anyhow!("cannot create data directory {}: {e}", config.datadir.display()))?;
    let opts = mizzle::OpenOptions {
        collation_server: config.collation_server.clone(),
        default_time_zone: config.default_time_zone.clone(),
        transaction_isolation: config.transaction_isolation.clone(),
        ..Default::default()
    };
    let engine = Engine::open_with(&config.datadir, opts)
        .map_err(|e| anyhow::anyhow!("cannot open database in {}: {e}", config.datadir.display()))?;
    let accounts = match config.auth {
        AuthKind::Native => Accounts::native(engine.clone()),
        AuthKind::File => Accounts::from_file(config.accounts_file.as_deref().unwrap_or(std::path::Path::new("")))?,
    };
    engine.register_plugin(&accounts.descriptor());
    engine.set_file_options(config.secure_file_priv.as_deref(), config.local_infile)?;
    let listener = TcpListener::bind((config.bind, config.port))
        .map_err(|e| anyhow::anyhow!("cannot listen on {}:{}: {e}", config.bind, config.port))?;
    let local = listener.local_addr()?;
    match accounts.bootstrap(config.initial_password.as_deref())? {
        Bootstrap::Existing => {}
        Bootstrap::Created { host, with_password } => {
            tracing::info!(host = %host, with_password, "first start: created the administrator account root");
            let how = if with_password {
                format!("mariadb -h {} -P {} -u root -p", connect_host(local), local.port())
            } else {
                format!("mariadb -h 127.0.0.1 -P {} -u root   (no password; loopback only)", local.port())
            };
            println!("mizzled: first start: created account root@{host}; log in with: {how}");
        }
    }
    let (tls, source) =
        crate::tls::server_config(&config.datadir, config.ssl_cert.as_deref(), config.ssl_key.as_deref())?;
    match &source {
        crate::tls::CertSource::Generated(p) => {
            tracing::info!(certificate = %p.display(), "first start: generated a self-signed TLS certificate")
        }
        crate::tls::CertSource::Existing(p) | crate::tls::CertSource::Given(p) => {
            tracing::info!(certificate = %p.display(), "TLS certificate")
        }
    }
    let shared = Shared::with_tls(
        engine,
        accounts,
        config.max_allowed_packet,
        config.max_connections,
        Some(tls),
        config.require_secure_transport,
    );
    watch_signals(shared.clone(), local)?;
    let scheduler = scheduler_plugin(config.scheduler);
    let name = scheduler.descriptor().name;
    *shared.scheduler.lock() = name.clone();
    tracing::info!(address = %local, datadir = %config.datadir.display(), scheduler = %name, "ready for connections");
    println!("mizzled: ready for connections on {local}");
    scheduler.run(listener, Arc::new(Host(shared.clone())), config.workers)?;
    tracing::info!("all connections closed; checkpointing");
    shared.engine.checkpoint().map_err(|e| anyhow::anyhow!("final checkpoint failed: {e}"))?;
    tracing::info!("shut down cleanly");
    Ok(())
}

fn connect_host(local: SocketAddr) -> String {
    if local.ip().is_unspecified() {
        "127.0.0.1".to_owned()
    } else {
        local.ip().to_string()
    }
}

/// On SIGTERM or SIGINT: mark shutdown, stop every connection's reads, and
/// wake the accept loop with a connection to itself.
fn watch_signals(shared: Arc<Shared>, local: SocketAddr) -> anyhow::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT])?;
    std::thread::Builder::new().name("signals".into()).spawn(move || {
        if let Some(sig) = signals.forever().next() {
            tracing::info!(signal = sig, "shutting down: finishing in-flight commands");
            shared.shutdown.store(true, Ordering::SeqCst);
            shared.stop_all();
            let wake = SocketAddr::new(
                if local.ip().is_unspecified() { IpAddr::from([127, 0, 0, 1]) } else { local.ip() },
                local.port(),
            );
            let _ = TcpStream::connect(wake);
        }
    })?;
    Ok(())
}

/// The compiled-in scheduler plugins, `pool` first (the default).
pub fn scheduler_plugins() -> Vec<Box<dyn Scheduler>> {
    vec![Box::new(crate::pool::PoolScheduler), Box::new(crate::per_thread::ThreadScheduler)]
}

fn scheduler_plugin(kind: SchedulerKind) -> Box<dyn Scheduler> {
    match kind {
        SchedulerKind::Pool => Box::new(crate::pool::PoolScheduler),
        SchedulerKind::Thread => Box::new(crate::per_thread::ThreadScheduler),
    }
}

/// What the scheduler plugins run connections for.
struct Host(Arc<Shared>);

impl SchedulerHost for Host {
    fn admit(&self, stream: &TcpStream, peer: SocketAddr) -> Option<Box<dyn Connection>> {
        let (entry, session) = self.0.admit(stream, peer)?;
        Some(Box::new(Conn::new(self.0.clone(), entry, session)))
    }

    fn closed(&self, id: u64) {
        self.0.forget(id);
    }

    fn shutting_down(&self) -> bool {
        self.0.shutting_down()
    }

    fn connection_count(&self) -> usize {
        self.0.connection_count()
    }

    fn stats(&self) -> &SchedulerStats {
        &self.0.sched
    }
}
