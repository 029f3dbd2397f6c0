//! One client connection as a sans-IO state machine: bytes in
//! ([`Conn::on_input`]), bytes out ([`Conn::output`]) and what the
//! scheduler does next ([`Next`]: read, close, or park on a wait and call
//! [`Conn::resume`]). Both schedulers drive it: [`serve`] with blocking
//! I/O and blocking waits (`thread`), `pool` with workers taking turns at polling and parked
//! waits. The protocol itself is `mizzle_protocol`; this module maps
//! commands to [`SqlSession`] calls.
//!
//! States (`Phase`) and transitions (function performing each):
//! - `Handshake` -> `Commands` ([`Conn::authenticated`], after the account
//!   store accepted and the schema exists) or -> `Denied` (`auth_failed`:
//!   the ERR is held until the failed-login delay is over, then the
//!   connection closes) or closed (other handshake errors).
//! - `Commands` -> `Commands` (`command`, one response per command, none
//!   for COM_QUIT, COM_STMT_CLOSE and COM_STMT_SEND_LONG_DATA); a command
//!   whose statement waits is parked (`after_step` keeps the pending
//!   execution in `parked`) and finished by [`Conn::resume`].
//! - `Commands`, streaming: a query's result set goes out batch by batch
//!   (`after_step` on [`Step::Rows`] writes the header, `pump` encodes
//!   rows until the output holds [`STREAM_FLUSH`] bytes and returns
//!   [`Next::Stream`]; the scheduler sends the output and, once the client
//!   has taken it, calls [`Conn::resume`], which pumps on). After the last
//!   row the rest of the text runs (`SqlSession::resume`).
//! - `Commands` -> `ChangeUser` (COM_CHANGE_USER needing more packets) ->
//!   `Commands` or `Denied`.
//! - Any -> closed on COM_QUIT, end of input, a framing error (ERR, then
//!   close), KILL CONNECTION or shutdown.
//!
//! Invariants:
//! 1. Every command gets exactly the response packets its command type
//!    calls for, numbered from sequence id 1; the decoder then expects 0.
//! 2. Status flags in every OK/EOF come from the session after the
//!    statement: AUTOCOMMIT, IN_TRANS; MORE_RESULTS_EXISTS on every result
//!    but the last of a multi-statement text.
//! 3. While a command is parked or streams no further input is processed
//!    (commands are answered in order).
//! 4. When the connection ends for any reason, its [`Conn`] is dropped with
//!    its session, which rolls back an open transaction.
//!
//! 5. A streamed result holds at most about [`STREAM_FLUSH`] bytes plus one
//!    batch of rows in the output buffer; the session holds its operator
//!    tree, not the result. A failing batch (KILL QUERY, a runtime error)
//!    ends the result set with ERR, as MySQL does.
//!
//! 6. TLS sits under the protocol (`crate::tls::TlsLayer`): once the
//!    client's SSLRequest is answered with `HandshakeStep::StartTls`,
//!    every byte in is ciphertext and [`Conn::output`] returns ciphertext.
//!    The first client packet is fed to the handshake alone (`first`), so
//!    the TLS ClientHello that a client sends right behind its SSLRequest
//!    goes to TLS and never to the protocol (its invariant 3).
//! 7. With `require_secure_transport`, a client that authenticated without
//!    TLS gets ERR 3159 and is closed.
//!
//! Not done here: compression, cursors (COM_STMT_FETCH answers ERR).

use std::collections::HashMap;
use std::io::Write;
use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use mizzle_protocol::column::ColumnDefinition;
use mizzle_protocol::command::Command;
use mizzle_protocol::{
    Capabilities, Collation, ConnectionId, ErrPacket, FrameDecoder, HandshakeStep, OkPacket, PacketWriter, PrepareOk,
    ProtocolError, ResultSetWriter, Scramble, SequenceId, ServerHandshake, StatementId, StatementParams, StatusFlags,
};
use mizzle_session::ColumnInfo;
use mizzle_types::{ErrorCode, SqlError, SqlType, Value};

pub use mizzle_plugin_api::scheduler::{Next, Park};

use crate::admin::{self, AdminStmt};
use crate::exec::{Outcome, Output, Pending, PreparedSql, SqlSession, Step};

/// A streamed result's output is handed to the scheduler once it holds
/// this many bytes (invariant 5).
pub const STREAM_FLUSH: usize = 128 * 1024;

/// Rows asked of the session per batch while streaming.
const STREAM_BATCH: usize = 256;
use crate::server::{ConnEntry, Shared};
use crate::tls::TlsLayer;

/// An error with a MySQL identity made up by the server itself.
#[derive(Debug)]
pub struct ServerError {
    /// The identity.
    pub code: ErrorCode,
    /// The message.
    pub message: String,
}

impl std::fmt::Display for ServerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ServerError {}

impl SqlError for ServerError {
    fn code(&self) -> ErrorCode {
        self.code
    }
}

fn server_error(code: ErrorCode, message: impl Into<String>) -> ServerError {
    ServerError { code, message: message.into() }
}

/// A prepared statement of this connection.
struct Stmt {
    sql: PreparedSql,
    params: StatementParams,
    /// Values sent by COM_STMT_SEND_LONG_DATA, per parameter.
    long_data: HashMap<u16, Vec<u8>>,
}

/// Whether the connection goes on after a command.
enum Flow {
    Continue,
    Close,
    Park(Park),
    /// A result streams: send the output, then resume.
    Stream,
}

/// What a parked command does when it resumes.
enum Cont {
    Query,
    Execute { id: u32, stmt: Box<Stmt> },
}

/// A result set going out batch by batch (invariant 5).
struct Streaming {
    pending: Pending,
    cont: Cont,
    defs: Vec<ColumnDefinition>,
    types: Vec<SqlType>,
    binary: bool,
    /// Statements follow in the text (MORE_RESULTS_EXISTS at the end).
    more: bool,
}

enum Phase {
    Handshake(Box<ServerHandshake>),
    ChangeUser(Box<ServerHandshake>),
    /// A failed login: the ERR is held in `held` until the delay is over.
    Denied,
    Commands,
    /// `LOAD DATA LOCAL`: the client sends its file (packets until an
    /// empty one); the statement runs once it is all here.
    LocalInfile(Box<LocalInfile>),
}

/// A `LOAD DATA LOCAL` whose file is arriving: its bytes go to a spool
/// file (memory stays bounded however large the file).
struct LocalInfile {
    sql: String,
    name: String,
    spool: Spool,
    file: Option<std::fs::File>,
    /// Writing the spool failed: the statement is answered with this.
    failed: Option<ServerError>,
}

/// A spool file, deleted when dropped.
struct Spool(std::path::PathBuf);

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// One connection, sans-IO: bytes in ([`Conn::on_input`]), bytes out
/// ([`Conn::output`]), and what to do next ([`Next`]).
pub struct Conn {
    shared: Arc<Shared>,
    entry: Arc<ConnEntry>,
    session: SqlSession,
    phase: Phase,
    caps: Capabilities,
    collation: Collation,
    decoder: FrameDecoder,
    out: Vec<u8>,
    held: Vec<u8>,
    payload: Vec<u8>,
    scratch: Vec<u8>,
    stmts: HashMap<u32, Box<Stmt>>,
    next_stmt: u32,
    last_prepared: Option<u32>,
    parked: Option<(Pending, Cont)>,
    streaming: Option<Box<Streaming>>,
    /// TLS, once the client asked for it (invariant 6).
    tls: Option<Box<TlsLayer>>,
    /// The TLS handshake runs; the protocol handshake waits for it.
    tls_pending: bool,
    /// Ciphertext to send (TLS only; `out` holds the plaintext).
    wire: Vec<u8>,
    /// The client's first packet while it is incomplete, when TLS is
    /// offered (invariant 6).
    first: Option<Vec<u8>>,
    /// The next sequence id of the running command's response (results of
    /// a multi-statement text and streamed rows continue it).
    resp_seq: SequenceId,
    scramble: Scramble,
    user: String,
    ip: IpAddr,
    /// The spool of the last `LOAD DATA LOCAL` (kept while its statement
    /// may run again after a lock wait; replaced by the next one).
    spool: Option<Spool>,
}

fn random_scramble() -> Scramble {
    let mut b = [0u8; 20];
    if getrandom::fill(&mut b).is_err() {
        tracing::error!("no random source for the handshake nonce");
    }
    Scramble::from_random(b)
}

/// The collation column definitions carry: the client's when it is a
/// utf8mb4 one, else `utf8mb4_general_ci` (every client is answered in
/// utf8mb4).
fn text_collation(client: Collation) -> Collation {
    match client.0 {
        45 | 46 | 224..=247 | 255..=323 => client,
        _ => Collation::UTF8MB4_GENERAL_CI,
    }
}

impl Conn {
    /// A new connection: the greeting is in [`Conn::output`].
    pub fn new(shared: Arc<Shared>, entry: Arc<ConnEntry>, session: SqlSession) -> Conn {
        let ip = entry.ip;
        let scramble = random_scramble();
        let mut out = Vec::new();
        let conn_id = ConnectionId(u32::try_from(entry.id).unwrap_or(u32::MAX));
        let hs = ServerHandshake::new(shared.handshake.clone(), conn_id, scramble, &ip.to_string(), false, &mut out);
        let max = shared.max_allowed_packet;
        let tls_offered = shared.tls.is_some();
        Conn {
            shared,
            entry,
            session,
            phase: Phase::Handshake(Box::new(hs)),
            caps: Capabilities::PROTOCOL_41,
            collation: Collation::UTF8MB4_GENERAL_CI,
            decoder: FrameDecoder::new(max),
            out,
            held: Vec::new(),
            payload: Vec::new(),
            scratch: Vec::new(),
            stmts: HashMap::new(),
            next_stmt: 1,
            last_prepared: None,
            parked: None,
            streaming: None,
            tls: None,
            tls_pending: false,
            wire: Vec::new(),
            first: tls_offered.then(Vec::new),
            resp_seq: SequenceId(1),
            scramble,
            user: String::new(),
            ip,
            spool: None,
        }
    }

    /// Bytes to send to the client (the caller sends and clears them):
    /// ciphertext once TLS runs.
    pub fn output(&mut self) -> &mut Vec<u8> {
        match self.tls.as_mut() {
            Some(t) => {
                t.encrypt(&mut self.out, &mut self.wire);
                &mut self.wire
            }
            None => &mut self.out,
        }
    }

    /// Whether KILL or shutdown ended this connection.
    pub fn killed(&self) -> bool {
        self.entry.killed.load(Ordering::Relaxed) || self.shared.shutting_down()
    }

    /// The connection's entry in the server's table.
    pub fn entry(&self) -> &Arc<ConnEntry> {
        &self.entry
    }

    /// Whether `more`, read from the client since the last
    /// [`Conn::on_input`], lets the connection act: a whole packet together
    /// with the part it already holds, or a header it refuses. A packet
    /// split across reads has its header here, not in `more`, so `more`
    /// alone cannot tell. TLS input is ciphertext: any of it may complete a
    /// record, so it always goes in.
    pub fn input_ready(&self, more: &[u8]) -> bool {
        if self.tls.is_some() {
            return !more.is_empty();
        }
        if let Some(first) = &self.first {
            return mizzle_protocol::frame::packet_ready(first, more, None, crate::server::HANDSHAKE_MAX_PACKET);
        }
        match &self.phase {
            Phase::Handshake(hs) | Phase::ChangeUser(hs) => hs.ready_with(more),
            Phase::Commands | Phase::LocalInfile(_) => self.decoder.ready_with(more),
            Phase::Denied => false,
        }
    }

    /// Bytes from the client: processes every complete packet.
    pub fn on_input(&mut self, bytes: &[u8]) -> Next {
        if self.tls.is_some() {
            return self.tls_input(bytes);
        }
        if let Some(first) = self.first.as_mut() {
            // Invariant 6: the first packet alone, then the rest as TLS
            // input if it was an SSLRequest.
            first.extend_from_slice(bytes);
            let len = match first.as_slice() {
                [a, b, c, _, ..] => 4 + (usize::from(*a) | usize::from(*b) << 8 | usize::from(*c) << 16),
                _ => return Next::Read,
            };
            if first.len() < len && len <= crate::server::HANDSHAKE_MAX_PACKET {
                return Next::Read;
            }
            let mut first = self.first.take().unwrap_or_default();
            let rest = first.split_off(len.min(first.len()));
            if let Phase::Handshake(hs) = &mut self.phase {
                hs.feed(&first);
            }
            let next = self.process();
            if rest.is_empty() || !matches!(next, Next::Read) {
                return next;
            }
            return self.on_input(&rest);
        }
        match &mut self.phase {
            Phase::Handshake(hs) | Phase::ChangeUser(hs) => hs.feed(bytes),
            Phase::Commands | Phase::LocalInfile(_) => self.decoder.feed(bytes),
            Phase::Denied => {}
        }
        self.process()
    }

    /// Ciphertext from a TLS client: decrypts it and processes the
    /// plaintext (invariant 6).
    fn tls_input(&mut self, bytes: &[u8]) -> Next {
        let Some(tls) = self.tls.as_mut() else { return Next::Close };
        let mut plain = std::mem::take(&mut self.scratch);
        plain.clear();
        let closed = match tls.read_ciphertext(bytes, &mut plain) {
            Ok(d) => d.closed,
            Err(e) => {
                tracing::debug!(id = self.entry.id, error = %e, "TLS error; closing");
                return Next::Close;
            }
        };
        if self.tls_pending && !tls.is_handshaking() {
            self.tls_pending = false;
            if let Phase::Handshake(hs) = &mut self.phase {
                if hs.tls_established().is_err() {
                    return Next::Close;
                }
            }
        }
        match &mut self.phase {
            Phase::Handshake(hs) | Phase::ChangeUser(hs) => hs.feed(&plain),
            Phase::Commands | Phase::LocalInfile(_) => self.decoder.feed(&plain),
            Phase::Denied => {}
        }
        plain.clear();
        self.scratch = plain;
        let next = self.process();
        if closed && matches!(next, Next::Read) {
            return Next::Close;
        }
        next
    }

    /// Goes on after a [`Next::Park`].
    pub fn resume(&mut self) -> Next {
        if let Phase::Denied = self.phase {
            self.out.append(&mut self.held);
            return Next::Close;
        }
        if self.streaming.is_some() {
            match self.pump() {
                Flow::Continue => {}
                Flow::Close => return Next::Close,
                Flow::Park(p) => return Next::Park(p),
                Flow::Stream => return Next::Stream,
            }
        }
        if let Some((pending, cont)) = self.parked.take() {
            match self.finish_command(pending, cont) {
                Flow::Continue => {}
                Flow::Close => return Next::Close,
                Flow::Park(p) => return Next::Park(p),
                Flow::Stream => return Next::Stream,
            }
        }
        self.process()
    }

    /// Runs the connection as far as buffered input allows.
    fn process(&mut self) -> Next {
        loop {
            match self.phase {
                Phase::Handshake(_) | Phase::ChangeUser(_) => match self.auth_step() {
                    Flow::Continue => {
                        if matches!(self.phase, Phase::Handshake(_) | Phase::ChangeUser(_)) {
                            return Next::Read;
                        }
                    }
                    Flow::Close => return Next::Close,
                    Flow::Park(p) => return Next::Park(p),
                    Flow::Stream => return Next::Stream,
                },
                Phase::Denied => return Next::Close,
                Phase::LocalInfile(_) => match self.local_infile_step() {
                    Flow::Continue => {
                        if matches!(self.phase, Phase::LocalInfile(_)) {
                            return Next::Read;
                        }
                    }
                    Flow::Close => return Next::Close,
                    Flow::Park(p) => return Next::Park(p),
                    Flow::Stream => return Next::Stream,
                },
                Phase::Commands => {
                    if self.killed() {
                        return Next::Close;
                    }
                    self.decoder.expect_sequence(SequenceId::ZERO);
                    let mut payload = std::mem::take(&mut self.payload);
                    let decoded = self.decoder.decode(&mut payload);
                    let flow = match decoded {
                        Ok(Some(_)) => self.command(&payload),
                        Ok(None) => {
                            self.payload = payload;
                            return Next::Read;
                        }
                        Err(e) => {
                            tracing::debug!(id = self.entry.id, error = %e, "bad packet; closing");
                            self.err(SequenceId(1), &e);
                            Flow::Close
                        }
                    };
                    // Do not keep a large payload's buffer on an idle connection.
                    payload.clear();
                    if payload.capacity() > 64 * 1024 {
                        payload = Vec::new();
                    }
                    self.payload = payload;
                    match flow {
                        Flow::Continue => {}
                        Flow::Close => return Next::Close,
                        Flow::Park(p) => return Next::Park(p),
                        Flow::Stream => return Next::Stream,
                    }
                }
            }
        }
    }

    /// One step of the handshake or of COM_CHANGE_USER's exchange.
    fn auth_step(&mut self) -> Flow {
        if self.tls_pending {
            // The TLS handshake runs; the protocol goes on once it is done.
            return Flow::Continue;
        }
        let shared = self.shared.clone();
        let mut store = shared.accounts.store(self.ip);
        let (hs, change_user) = match &mut self.phase {
            Phase::Handshake(hs) => (hs, false),
            Phase::ChangeUser(hs) => (hs, true),
            _ => return Flow::Continue,
        };
        match hs.step(&mut store, &mut self.out) {
            Ok(HandshakeStep::NeedMore) => Flow::Continue,
            Ok(HandshakeStep::StartTls) if !change_user && self.tls.is_none() => {
                match shared.tls.clone().and_then(TlsLayer::new) {
                    Some(t) => {
                        self.tls = Some(Box::new(t));
                        self.tls_pending = true;
                        Flow::Continue
                    }
                    None => Flow::Close,
                }
            }
            Ok(HandshakeStep::StartTls) => Flow::Close,
            Ok(HandshakeStep::Authenticated(info)) => self.authenticated(&info, change_user),
            Err(e) => self.auth_failed(&e),
        }
    }

    fn auth_failed(&mut self, e: &ProtocolError) -> Flow {
        if let ProtocolError::AccessDenied { user, .. } = e {
            let delay = self.shared.accounts.login_failed(user, self.ip);
            self.held = std::mem::take(&mut self.out);
            self.phase = Phase::Denied;
            return Flow::Park(Park::Delay(delay));
        }
        tracing::debug!(client = %self.ip, error = %e, "handshake failed");
        Flow::Close
    }

    fn authenticated(&mut self, info: &mizzle_protocol::ClientInfo, change_user: bool) -> Flow {
        let phase = std::mem::replace(&mut self.phase, Phase::Commands);
        let hs = match phase {
            Phase::Handshake(hs) | Phase::ChangeUser(hs) => hs,
            other => {
                self.phase = other;
                return Flow::Close;
            }
        };
        if self.shared.require_secure_transport && !info.secure {
            let e = server_error(
                ErrorCode::SecureTransportRequired,
                "Connections using insecure transport are prohibited while --require_secure_transport=ON.",
            );
            hs.reject(&e, &mut self.out);
            return Flow::Close;
        }
        self.shared.accounts.login_succeeded(self.ip);
        self.user = info.user.clone();
        let host = self.ip.to_string();
        if change_user {
            self.reset_session();
        }
        self.session.set_user(&info.user, &host);
        if let Some(h) = self.shared.accounts.privileged_host(&info.user, self.ip) {
            self.session.set_account(&info.user, &h);
        }
        if let Some(db) = info.database.as_deref().filter(|d| !d.is_empty()) {
            if let Err(e) = self.session.set_database(db) {
                hs.reject(&e, &mut self.out);
                return Flow::Close;
            }
        }
        let Ok(est) = hs.accept(&mut self.out) else { return Flow::Close };
        if !change_user {
            self.caps = est.client.capabilities;
            self.decoder = est.decoder;
            self.decoder.set_max_allowed_packet(self.shared.max_allowed_packet);
        }
        self.entry.authenticated.store(true, Ordering::Relaxed);
        self.decoder.expect_sequence(SequenceId::ZERO);
        self.collation = text_collation(est.client.collation);
        self.session.set_client_collation(est.client.collation.0);
        self.entry.set_user(&self.user, self.session.database());
        tracing::debug!(id = self.entry.id, user = %self.user, client = %self.ip, "authenticated");
        Flow::Continue
    }

    fn status(&self) -> StatusFlags {
        let mut s = StatusFlags::empty();
        if self.session.autocommit() {
            s.insert(StatusFlags::AUTOCOMMIT);
        }
        if self.session.in_transaction() {
            s.insert(StatusFlags::IN_TRANS);
        }
        s
    }

    fn err(&mut self, seq: SequenceId, e: &dyn SqlError) {
        let caps = self.caps;
        let mut w = PacketWriter::new(&mut self.out, seq);
        w.packet(|o| ErrPacket::from_error(e).encode(caps, o));
    }

    fn ok(&mut self, seq: SequenceId, affected: u64, last_insert_id: u64, info: &str, more: bool) -> SequenceId {
        let mut status = self.status();
        status.set(StatusFlags::MORE_RESULTS_EXISTS, more);
        let ok = OkPacket {
            affected_rows: affected,
            last_insert_id,
            status,
            warnings: self.session.warning_count(),
            info: info.into(),
            session_state: Vec::new(),
        };
        let caps = self.caps;
        let mut w = PacketWriter::new(&mut self.out, seq);
        w.packet(|o| ok.encode(caps, o));
        w.sequence()
    }

    fn definitions(&self, columns: &[ColumnInfo]) -> Vec<ColumnDefinition> {
        columns
            .iter()
            .map(|c| {
                let mut d = ColumnDefinition::for_sql_type(&c.name, c.ty, c.nullable, self.collation);
                if let Some(t) = &c.table {
                    d.table = t.clone();
                }
                if let Some((schema, table, column)) = &c.origin {
                    d.schema = schema.clone();
                    d.org_table = table.clone();
                    d.org_name = column.clone();
                }
                d
            })
            .collect()
    }

    /// Handles one command packet (invariant 1).
    fn command(&mut self, payload: &[u8]) -> Flow {
        let first = SequenceId(1);
        let cmd = match Command::parse(payload, self.caps) {
            Ok(c) => c,
            Err(e) => {
                self.err(first, &e);
                return if e.connection_survives() { Flow::Continue } else { Flow::Close };
            }
        };
        self.shared.stats.questions.fetch_add(1, Ordering::Relaxed);
        match cmd {
            Command::Quit => {
                self.entry.set_command("Quit", None);
                return Flow::Close;
            }
            Command::Ping => {
                self.ok(first, 0, 0, "", false);
            }
            Command::InitDb(db) => {
                match self.session.set_database(db) {
                    Ok(()) => {
                        self.entry.set_user(&self.user, Some(db));
                        self.ok(first, 0, 0, "", false);
                    }
                    Err(e) => self.err(first, &e),
                };
            }
            Command::Query(q) => {
                self.entry.set_command("Query", Some(q.sql));
                return self.query(q.sql);
            }
            Command::FieldList { table, wildcard } => self.field_list(table, wildcard),
            Command::Statistics => {
                let s = self.shared.statistics();
                let mut w = PacketWriter::new(&mut self.out, first);
                w.packet(|o| o.extend_from_slice(s.as_bytes()));
            }
            Command::ProcessKill(id) => {
                match self.may_kill(u64::from(id)).and_then(|()| self.shared.kill(u64::from(id), true)) {
                    Ok(()) => {
                        self.ok(first, 0, 0, "", false);
                    }
                    Err(e) => self.err(first, &e),
                }
            }
            Command::Debug => {
                self.ok(first, 0, 0, "", false);
            }
            Command::ResetConnection => {
                self.reset_session();
                self.ok(first, 0, 0, "", false);
            }
            Command::ChangeUser(cu) => return self.change_user(&cu),
            Command::SetOption(opt) => {
                use mizzle_protocol::SetOption;
                self.caps.set(Capabilities::MULTI_STATEMENTS, opt == SetOption::MultiStatementsOn);
                let mut s = self.status();
                let caps = self.caps;
                s.remove(StatusFlags::MORE_RESULTS_EXISTS);
                let mut w = PacketWriter::new(&mut self.out, first);
                w.packet(|o| mizzle_protocol::EofPacket { warnings: 0, status: s }.encode(caps, o));
            }
            Command::StmtPrepare(sql) => {
                self.entry.set_command("Prepare", Some(sql));
                self.prepare(sql);
            }
            Command::StmtExecute(ex) => {
                self.entry.set_command("Execute", None);
                return self.execute(&ex);
            }
            Command::StmtSendLongData { statement_id, param, data } => {
                // No response, even on error (as MySQL: the error shows at execute).
                let id = self.resolve(statement_id);
                if let Some(st) = self.stmts.get_mut(&id) {
                    if st.params.mark_long_data(param).is_ok() {
                        st.long_data.entry(param).or_default().extend_from_slice(data);
                    }
                }
            }
            Command::StmtClose(id) => {
                let id = self.resolve(id);
                self.stmts.remove(&id);
            }
            Command::StmtReset(id) => {
                let id = self.resolve(id);
                match self.stmts.get_mut(&id) {
                    Some(st) => {
                        st.params.reset();
                        st.long_data.clear();
                        self.ok(first, 0, 0, "", false);
                    }
                    None => self.err(first, &unknown_stmt(id, "mysqld_stmt_reset")),
                }
            }
            Command::StmtFetch { statement_id, .. } => {
                self.err(first, &unknown_stmt(statement_id.0, "mysqld_stmt_fetch"));
            }
        }
        Flow::Continue
    }

    /// KILL of another user's connection needs SUPER (MySQL 8 also takes
    /// CONNECTION_ADMIN): 1095 otherwise.
    fn may_kill(&mut self, id: u64) -> Result<(), ServerError> {
        let owner = self.shared.processes().into_iter().find(|(i, _, _)| *i == id).map(|(_, _, info)| info.user);
        match owner {
            Some(u) if u != self.user && !self.session.has_global_privilege("SUPER") => {
                Err(server_error(ErrorCode::KillDenied, format!("You are not owner of thread {id}")))
            }
            _ => Ok(()),
        }
    }

    fn resolve(&self, id: StatementId) -> u32 {
        if id == StatementId::LAST_PREPARED {
            self.last_prepared.unwrap_or(id.0)
        } else {
            id.0
        }
    }

    fn reset_session(&mut self) {
        let db = self.session.database().map(str::to_owned);
        let mut s = self.shared.engine.session();
        // CONNECTION_ID() stays the connection's (SHOW PROCESSLIST, KILL).
        s.set_id(self.entry.id);
        s.set_user(&self.user, &self.ip.to_string());
        if let Some(h) = self.shared.accounts.privileged_host(&self.user, self.ip) {
            s.set_account(&self.user, &h);
        }
        if let Some(db) = db {
            let _ = s.set_database(&db);
        }
        // The old session drops here: its transaction rolls back.
        *self.entry.cancel.lock() = s.cancel_handle();
        self.session = s;
        self.stmts.clear();
        self.last_prepared = None;
    }

    fn change_user(&mut self, cu: &mizzle_protocol::ChangeUser<'_>) -> Flow {
        let host = self.ip.to_string();
        let shared = self.shared.clone();
        let mut store = shared.accounts.store(self.ip);
        let started = ServerHandshake::change_user(
            shared.handshake.clone(),
            self.scramble,
            &host,
            // A TLS connection stays secure: a password may be sent.
            self.tls.is_some(),
            self.caps,
            SequenceId::ZERO,
            cu,
            &mut store,
            &mut self.out,
        );
        match started {
            Ok((hs, step)) => {
                self.phase = Phase::ChangeUser(Box::new(hs));
                match step {
                    HandshakeStep::Authenticated(info) => self.authenticated(&info, true),
                    HandshakeStep::NeedMore => Flow::Continue,
                    HandshakeStep::StartTls => Flow::Close,
                }
            }
            Err(e) => self.auth_failed(&e),
        }
    }

    fn query(&mut self, sql: &str) -> Flow {
        let first = SequenceId(1);
        if let Some(a) = admin::recognise(sql) {
            self.admin(a, sql);
            return Flow::Continue;
        }
        if !self.caps.contains(Capabilities::MULTI_STATEMENTS) && SqlSession::statement_count(sql) > 1 {
            let e = server_error(
                ErrorCode::Syntax,
                "You have an error in your SQL syntax: several statements in one query need CLIENT_MULTI_STATEMENTS",
            );
            self.err(first, &e);
            return Flow::Continue;
        }
        if let Some(name) = mizzle_sql::load::local_infile_name(sql) {
            return self.start_local_infile(sql, name);
        }
        self.resp_seq = first;
        let step = self.session.query_step(sql);
        self.after_step(step, Cont::Query)
    }

    /// `LOAD DATA LOCAL INFILE 'name'`: asks the client for the file (a
    /// 0xFB packet naming it) if both sides allow it (1148 / 3948 as in
    /// MySQL 8 otherwise), then reads it in [`Conn::local_infile_step`].
    fn start_local_infile(&mut self, sql: &str, name: String) -> Flow {
        let first = SequenceId(1);
        if !self.caps.contains(Capabilities::LOCAL_FILES) || !self.session.local_infile_enabled() {
            let e = server_error(
                ErrorCode::LocalFilesDisabled,
                "Loading local data is disabled; this must be enabled on both the client and server sides",
            );
            self.err(first, &e);
            return Flow::Continue;
        }
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("mizzled-local-{}-{}-{n}", std::process::id(), self.entry.id));
        let (file, failed) = match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(f) => (Some(f), None),
            Err(e) => (
                None,
                Some(server_error(ErrorCode::CantCreateFile, format!("Can't create file '{}' ({e})", path.display()))),
            ),
        };
        let mut w = PacketWriter::new(&mut self.out, first);
        w.packet(|o| {
            o.push(0xFB);
            o.extend_from_slice(name.as_bytes());
        });
        self.decoder.expect_sequence(first.next());
        self.phase =
            Phase::LocalInfile(Box::new(LocalInfile { sql: sql.to_string(), name, spool: Spool(path), file, failed }));
        Flow::Continue
    }

    /// Takes the client's file packets; at the empty one runs the
    /// statement on the spooled bytes.
    fn local_infile_step(&mut self) -> Flow {
        loop {
            let mut payload = std::mem::take(&mut self.payload);
            let decoded = self.decoder.decode(&mut payload);
            let seq = match decoded {
                Ok(Some(seq)) => seq,
                Ok(None) => {
                    self.payload = payload;
                    return Flow::Continue;
                }
                Err(e) => {
                    tracing::debug!(id = self.entry.id, error = %e, "bad packet in LOAD DATA LOCAL; closing");
                    self.phase = Phase::Commands;
                    self.err(self.decoder.expected_sequence(), &e);
                    return Flow::Close;
                }
            };
            let Phase::LocalInfile(li) = &mut self.phase else { return Flow::Continue };
            if !payload.is_empty() {
                if let Some(f) = li.file.as_mut() {
                    if let Err(e) = f.write_all(&payload) {
                        li.failed = Some(server_error(
                            ErrorCode::DiskFull,
                            format!("Error writing the LOCAL file's spool ({e})"),
                        ));
                        li.file = None;
                    }
                }
                payload.clear();
                self.payload = payload;
                continue;
            }
            self.payload = payload;
            let Phase::LocalInfile(li) = std::mem::replace(&mut self.phase, Phase::Commands) else {
                return Flow::Continue;
            };
            let LocalInfile { sql, name, spool, file, failed } = *li;
            drop(file);
            let resp = seq.next();
            if let Some(e) = failed {
                self.err(resp, &e);
                return Flow::Continue;
            }
            self.session.set_local_files(mizzle_session::LocalFiles::Client(Some((name, spool.0.clone()))));
            self.spool = Some(spool);
            self.resp_seq = resp;
            let step = self.session.query_step(&sql);
            return self.after_step(step, Cont::Query);
        }
    }

    /// Writes a finished statement's result, or parks the command.
    fn after_step(&mut self, step: Step, cont: Cont) -> Flow {
        match step {
            Step::Wait(pending) => {
                let waiter = pending.waiter().killed_by(self.entry.cancel.lock().clone());
                self.parked = Some((pending, cont));
                Flow::Park(Park::Wait(Box::new(waiter)))
            }
            Step::Done(result) => {
                let seq = self.resp_seq;
                let binary = self.end_command(cont);
                match result {
                    Ok(outcome) => self.write_outcome(seq, outcome, binary),
                    Err(e) => self.err(seq, &e),
                }
                Flow::Continue
            }
            Step::Partial(before, e) => {
                let binary = self.end_command(cont);
                if let Some(seq) = self.write_outputs(self.resp_seq, before, 0, binary, true) {
                    self.err(seq, &e);
                }
                Flow::Continue
            }
            Step::Rows(pending, before) => {
                let binary = matches!(cont, Cont::Execute { .. });
                let Some(seq) = self.write_outputs(self.resp_seq, before, 0, binary, true) else {
                    self.end_command(cont);
                    return Flow::Continue;
                };
                let Some(columns) = pending.columns() else {
                    let e = server_error(ErrorCode::Internal, "internal error (a bug): a stream without columns");
                    self.err(seq, &e);
                    self.end_command(cont);
                    return Flow::Continue;
                };
                let defs = self.definitions(&columns);
                let types: Vec<SqlType> = columns.iter().map(|c| c.ty).collect();
                let status = self.status();
                let mut w = PacketWriter::new(&mut self.out, seq);
                ResultSetWriter::new(self.caps).begin(&mut w, &defs, status);
                self.resp_seq = w.sequence();
                let more = pending.statements_after() > 0;
                self.streaming = Some(Box::new(Streaming { pending, cont, defs, types, binary, more }));
                self.pump()
            }
        }
    }

    /// The command's response is complete: a prepared statement goes back
    /// to its table. Returns whether it was a prepared execution.
    fn end_command(&mut self, cont: Cont) -> bool {
        self.entry.set_command("Query", None);
        match cont {
            Cont::Query => false,
            Cont::Execute { id, stmt } => {
                self.stmts.insert(id, stmt);
                true
            }
        }
    }

    /// Sends rows of the streaming result until the output holds
    /// [`STREAM_FLUSH`] bytes ([`Flow::Stream`]) or the rows end; then the
    /// result's end and the rest of the text (invariant 5).
    fn pump(&mut self) -> Flow {
        let Some(mut st) = self.streaming.take() else { return Flow::Continue };
        let rs = ResultSetWriter::new(self.caps);
        loop {
            if self.killed() {
                // Dropping the stream ends the statement (an autocommit
                // query's transaction rolls back; it only read).
                return Flow::Close;
            }
            if self.out.len() >= STREAM_FLUSH {
                self.streaming = Some(st);
                return Flow::Stream;
            }
            match self.session.next_rows(&mut st.pending, STREAM_BATCH) {
                Ok(Some(rows)) => {
                    let mut w = PacketWriter::new(&mut self.out, self.resp_seq);
                    for row in &rows {
                        if st.binary {
                            if let Err(e) = rs.binary_row(&mut w, &st.defs, row) {
                                let seq = w.sequence();
                                let e = server_error(
                                    ErrorCode::Internal,
                                    format!("internal error (a bug): cannot encode a result value: {e}"),
                                );
                                self.err(seq, &e);
                                self.end_command(st.cont);
                                return Flow::Continue;
                            }
                        } else {
                            rs.text_row_typed(&mut w, row, &st.types, &mut self.scratch);
                        }
                    }
                    self.resp_seq = w.sequence();
                    self.session.recycle_rows(&mut st.pending, rows);
                }
                Ok(None) => {
                    let mut status = self.status();
                    status.set(StatusFlags::MORE_RESULTS_EXISTS, st.more);
                    let warnings = self.session.warning_count();
                    let mut w = PacketWriter::new(&mut self.out, self.resp_seq);
                    rs.end(&mut w, status, warnings);
                    self.resp_seq = w.sequence();
                    let Streaming { pending, cont, .. } = *st;
                    return match cont {
                        Cont::Query => {
                            let step = self.session.resume(pending, None);
                            self.after_step(step, Cont::Query)
                        }
                        Cont::Execute { id, mut stmt } => {
                            let step = self.session.resume(pending, Some(&mut stmt.sql));
                            self.after_step(step, Cont::Execute { id, stmt })
                        }
                    };
                }
                Err(e) => {
                    // The result set ends with ERR (MySQL does the same
                    // when a query fails or is killed while sending).
                    let seq = self.resp_seq;
                    self.err(seq, &e);
                    self.end_command(st.cont);
                    return Flow::Continue;
                }
            }
        }
    }

    /// A parked command's wait is over: go on with it.
    fn finish_command(&mut self, pending: Pending, cont: Cont) -> Flow {
        match cont {
            Cont::Query => {
                let step = self.session.resume(pending, None);
                self.after_step(step, Cont::Query)
            }
            Cont::Execute { id, mut stmt } => {
                let step = self.session.resume(pending, Some(&mut stmt.sql));
                self.after_step(step, Cont::Execute { id, stmt })
            }
        }
    }

    /// Writes each output as a result set or OK (invariant 2).
    fn write_outcome(&mut self, seq: SequenceId, outcome: Outcome, binary: bool) {
        self.write_outputs(seq, outcome.outputs, outcome.warnings, binary, false);
    }

    /// Writes `outputs` (`more_after`: another result follows them);
    /// returns the next sequence id, or `None` after an ERR ended the
    /// response.
    fn write_outputs(
        &mut self,
        mut seq: SequenceId,
        outputs: Vec<Output>,
        warnings: u16,
        binary: bool,
        more_after: bool,
    ) -> Option<SequenceId> {
        let n = outputs.len();
        for (i, o) in outputs.into_iter().enumerate() {
            let more = i + 1 < n || more_after;
            match o {
                Output::Done { affected, last_insert_id, info } => {
                    seq = self.ok(seq, affected, last_insert_id, &info, more);
                }
                Output::Rows { columns, rows } => {
                    seq = match self.write_rows(seq, &columns, &rows, binary, more, warnings) {
                        Ok(s) => s,
                        Err(e) => {
                            // A value that does not fit its column is a bug
                            // of the server; the client sees an error.
                            let e = server_error(
                                ErrorCode::Internal,
                                format!("internal error (a bug): cannot encode a result value: {e}"),
                            );
                            self.err(seq, &e);
                            return None;
                        }
                    };
                }
            }
        }
        Some(seq)
    }

    fn write_rows(
        &mut self,
        seq: SequenceId,
        columns: &[ColumnInfo],
        rows: &[Vec<Value>],
        binary: bool,
        more: bool,
        warnings: u16,
    ) -> Result<SequenceId, ProtocolError> {
        let defs = self.definitions(columns);
        let rs = ResultSetWriter::new(self.caps);
        let mut status = self.status();
        let mut seq = {
            let mut w = PacketWriter::new(&mut self.out, seq);
            rs.begin(&mut w, &defs, status);
            w.sequence()
        };
        let types: Vec<SqlType> = columns.iter().map(|c| c.ty).collect();
        for row in rows {
            let mut w = PacketWriter::new(&mut self.out, seq);
            if binary {
                rs.binary_row(&mut w, &defs, row)?;
            } else {
                rs.text_row_typed(&mut w, row, &types, &mut self.scratch);
            }
            seq = w.sequence();
        }
        status.set(StatusFlags::MORE_RESULTS_EXISTS, more);
        let mut w = PacketWriter::new(&mut self.out, seq);
        rs.end(&mut w, status, warnings);
        Ok(w.sequence())
    }

    /// Answers a server statement ([`admin`]).
    fn admin(&mut self, stmt: AdminStmt, sql: &str) {
        let first = SequenceId(1);
        match stmt {
            AdminStmt::ProcessList { full } => {
                let now = std::time::Instant::now();
                // Without PROCESS, an account sees its own connections only.
                let all = self.session.has_global_privilege("PROCESS");
                let rows = self
                    .shared
                    .processes()
                    .into_iter()
                    .filter(|(_, _, info)| all || info.user == self.user)
                    .map(|(id, addr, info)| {
                        let own = id == self.entry.id;
                        let text = if own { Some(sql.to_owned()) } else { info.info.clone() };
                        let text = text.map(|t| if full { t } else { t.chars().take(100).collect() });
                        let opt = |s: Option<String>| s.map_or(Value::Null, |s| Value::text(&s));
                        let secs = now.saturating_duration_since(info.since).as_secs();
                        vec![
                            Value::UInt(id),
                            Value::text(&info.user),
                            Value::text(&addr.to_string()),
                            opt(info.db.clone()),
                            Value::text(if own { "Query" } else { info.command }),
                            Value::Int(i64::try_from(secs).unwrap_or(i64::MAX)),
                            Value::text(if own || info.command != "Sleep" { "executing" } else { "" }),
                            opt(text),
                        ]
                    })
                    .collect();
                let outcome = Outcome {
                    outputs: vec![Output::Rows { columns: admin::processlist_columns(), rows }],
                    warnings: 0,
                };
                self.write_outcome(first, outcome, false);
            }
            AdminStmt::Kill { id, query_only } => {
                match self.may_kill(id).and_then(|()| self.shared.kill(id, !query_only)) {
                    Ok(()) => {
                        self.ok(first, 0, 0, "", false);
                    }
                    Err(e) => self.err(first, &e),
                }
            }
            AdminStmt::Plugins => match self.session.query("SHOW PLUGINS") {
                Ok(mut outcome) => {
                    if let Some(Output::Rows { columns, rows }) = outcome.outputs.pop() {
                        let scheduler = self.shared.scheduler.lock().clone();
                        let server = admin::server_plugins(&scheduler, &self.shared.accounts.store_name());
                        let rows = admin::merge_plugins(rows, server);
                        let outcome = Outcome { outputs: vec![Output::Rows { columns, rows }], warnings: 0 };
                        self.write_outcome(first, outcome, false);
                    } else {
                        self.ok(first, 0, 0, "", false);
                    }
                }
                Err(e) => self.err(first, &e),
            },
        }
    }

    fn field_list(&mut self, table: &str, _wildcard: &str) {
        let first = SequenceId(1);
        match self.session.table_columns(table) {
            Ok(cols) => {
                let defs = self.definitions(&cols);
                let caps = self.caps;
                let status = self.status();
                let mut w = PacketWriter::new(&mut self.out, first);
                for d in &defs {
                    w.packet(|o| d.encode(o));
                }
                // COM_FIELD_LIST ends with EOF, or OK-as-EOF under DEPRECATE_EOF.
                ResultSetWriter::new(caps).end(&mut w, status, 0);
            }
            Err(e) => self.err(first, &e),
        }
    }

    fn prepare(&mut self, sql: &str) {
        let first = SequenceId(1);
        let p = match self.session.prepare(sql) {
            Ok(p) => p,
            Err(e) => {
                self.err(first, &e);
                return;
            }
        };
        let n = p.param_count();
        let Ok(count) = u16::try_from(n) else {
            self.err(first, &server_error(ErrorCode::WrongParamCount, "too many placeholders in one statement"));
            return;
        };
        let columns = p.columns().map(|c| self.definitions(&c)).unwrap_or_default();
        let params: Vec<ColumnDefinition> = (0..n)
            .map(|_| ColumnDefinition::for_sql_type("?", mizzle_types::SqlType::Varchar(0), true, Collation::BINARY))
            .collect();
        let id = self.next_stmt;
        self.next_stmt = self.next_stmt.wrapping_add(1).max(1);
        let caps = self.caps;
        let status = self.status();
        let warnings = self.session.warning_count();
        let mut w = PacketWriter::new(&mut self.out, first);
        if let Err(e) = PrepareOk::write_response(StatementId(id), &params, &columns, warnings, caps, status, &mut w) {
            self.err(first, &e);
            return;
        }
        self.stmts
            .insert(id, Box::new(Stmt { sql: p, params: StatementParams::new(count), long_data: HashMap::new() }));
        self.last_prepared = Some(id);
    }

    fn execute(&mut self, ex: &mizzle_protocol::StmtExecute<'_>) -> Flow {
        let first = SequenceId(1);
        let id = self.resolve(ex.statement_id);
        let Some(mut st) = self.stmts.remove(&id) else {
            self.err(first, &unknown_stmt(id, "mysqld_stmt_execute"));
            return Flow::Continue;
        };
        let decoded = ex.decode_params(&mut st.params, self.caps);
        let long = std::mem::take(&mut st.long_data);
        let values: Result<Vec<Value>, ProtocolError> = decoded.map(|p| {
            p.params
                .iter()
                .enumerate()
                .map(|(i, v)| match v.to_value() {
                    Some(v) => v,
                    None => {
                        let bytes = u16::try_from(i).ok().and_then(|i| long.get(&i)).cloned().unwrap_or_default();
                        match String::from_utf8(bytes) {
                            Ok(s) => Value::text(&s),
                            Err(e) => Value::bytes(e.as_bytes()),
                        }
                    }
                })
                .collect()
        });
        match values {
            Ok(values) => {
                self.resp_seq = first;
                let step = self.session.execute_step(&mut st.sql, &values);
                self.after_step(step, Cont::Execute { id, stmt: st })
            }
            Err(e) => {
                self.stmts.insert(id, st);
                self.err(first, &e);
                Flow::Continue
            }
        }
    }
}

fn unknown_stmt(id: u32, op: &str) -> ServerError {
    server_error(
        ErrorCode::UnknownPreparedStatement,
        format!("Unknown prepared statement handler ({id}) given to {op}"),
    )
}

/// The scheduler's view of a connection (`mizzle_plugin_api::scheduler`).
impl mizzle_plugin_api::scheduler::Connection for Conn {
    fn id(&self) -> u64 {
        self.entry.id
    }

    fn on_input(&mut self, bytes: &[u8]) -> Next {
        let next = Conn::on_input(self, bytes);
        self.mark_idle(&next);
        next
    }

    fn resume(&mut self) -> Next {
        let next = Conn::resume(self);
        self.mark_idle(&next);
        next
    }

    fn output(&mut self) -> &mut Vec<u8> {
        Conn::output(self)
    }

    fn input_ready(&self, more: &[u8]) -> bool {
        Conn::input_ready(self, more)
    }

    fn killed(&self) -> bool {
        Conn::killed(self)
    }

    fn logged_in(&self) -> bool {
        self.entry.authenticated.load(Ordering::Relaxed)
    }

    fn login_deadline(&self) -> (Duration, Box<dyn FnOnce() + Send>) {
        let watched = Arc::downgrade(&self.entry);
        let stop = move || {
            if let Some(e) = watched.upgrade().filter(|e| !e.authenticated.load(Ordering::Relaxed)) {
                e.stop_reading();
            }
        };
        (crate::server::CONNECT_TIMEOUT, Box::new(stop))
    }

    fn set_kick(&self, kick: Box<dyn FnOnce() + Send>) {
        self.entry.set_kick(kick);
    }
}

impl Conn {
    /// A connection waiting for its next command shows as `Sleep` in
    /// `SHOW PROCESSLIST` (and is not counted in `Threads_running`).
    fn mark_idle(&self, next: &Next) {
        if matches!(next, Next::Read) {
            self.entry.set_command("Sleep", None);
        }
    }
}

/// Drives a [`Conn`] without sockets: an in-memory database, `root`
/// without a password, logged in from loopback. For tests and the
/// `connection` fuzz target.
pub mod detached {
    use std::sync::Arc;

    use mizzle_protocol::auth::native_response;
    use mizzle_protocol::handshake::{Greeting, HandshakeResponse};
    use mizzle_protocol::{Capabilities, Collation};

    use super::{Conn, Next, Park};
    use crate::accounts::Accounts;
    use crate::exec::Engine;
    use crate::server::Shared;

    /// A logged-in connection (`None` if setting it up failed).
    pub fn logged_in(caps: Capabilities) -> Option<Conn> {
        let engine = Engine::open_in_memory().ok()?;
        let accounts = Accounts::native(engine.clone());
        accounts.bootstrap(None).ok()?;
        let shared: Arc<Shared> = Shared::new(engine, accounts, 1 << 20, 10);
        let (entry, session) = shared.admit_detached(([127, 0, 0, 1], 5000).into());
        let mut conn = Conn::new(shared, entry, session);
        let greeting = std::mem::take(conn.output());
        let g = Greeting::decode(greeting.get(4..)?).ok()?;
        let auth = native_response(b"", &g.scramble);
        let resp = HandshakeResponse {
            capabilities: caps
                | Capabilities::PROTOCOL_41
                | Capabilities::SECURE_CONNECTION
                | Capabilities::PLUGIN_AUTH,
            max_packet_size: 1 << 24,
            collation: Collation::UTF8MB4_GENERAL_CI,
            user: "root",
            auth_response: &auth,
            database: None,
            auth_plugin: Some("mysql_native_password"),
            attributes: Vec::new(),
        };
        let mut body = Vec::new();
        resp.encode(&mut body);
        let n = body.len();
        let mut packet = vec![(n & 0xff) as u8, (n >> 8 & 0xff) as u8, (n >> 16 & 0xff) as u8, 1];
        packet.extend_from_slice(&body);
        match conn.on_input(&packet) {
            Next::Read => {}
            _ => return None,
        }
        let ok = std::mem::take(conn.output());
        (ok.get(4) == Some(&0)).then_some(conn)
    }

    /// Feeds `bytes` and runs the connection until it wants more input or
    /// closes (waits are blocked on, delays skipped); returns whether it
    /// is still open.
    pub fn feed(conn: &mut Conn, bytes: &[u8]) -> bool {
        let mut next = conn.on_input(bytes);
        loop {
            conn.output().clear();
            next = match next {
                Next::Read => return true,
                Next::Close => return false,
                Next::Park(Park::Wait(w)) => {
                    w.block();
                    conn.resume()
                }
                Next::Park(Park::Delay(_)) => conn.resume(),
                Next::Stream => conn.resume(),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::detached::{feed, logged_in};
    use mizzle_protocol::Capabilities;

    fn packet(seq: u8, body: &[u8]) -> Vec<u8> {
        let n = body.len();
        let mut p = vec![(n & 0xff) as u8, (n >> 8 & 0xff) as u8, (n >> 16 & 0xff) as u8, seq];
        p.extend_from_slice(body);
        p
    }

    #[test]
    fn commands_run_without_sockets() {
        let mut c = logged_in(Capabilities::MULTI_STATEMENTS).expect("login");
        assert!(feed(&mut c, &packet(0, b"\x03CREATE TABLE t (a INT); INSERT INTO t VALUES (1)")));
        let mut q = packet(0, b"\x03SELECT a FROM t");
        q.extend(packet(0, b"\x0e"));
        assert!(feed(&mut c, &q));
        assert!(!feed(&mut c, &packet(0, b"\x01")), "COM_QUIT closes");
    }

    #[test]
    fn malformed_packets_never_panic() {
        let inputs: &[&[u8]] = &[
            b"\x01\x00\x00\x07\x03",
            b"\x00\x00\x00\x00",
            b"\x05\x00\x00\x00\x17\x01\x00\x00\x00",
            b"\x0a\x00\x00\x00\x17\xff\xff\xff\xff\x00\x01\x00\x00\x00",
            b"\x03\x00\x00\x00\x18\x01\x00",
            b"\xff\xff\xff\x00\x03",
            b"\x02\x00\x00\x00\x11\x00",
        ];
        for input in inputs {
            let mut c = logged_in(Capabilities::empty()).expect("login");
            let _ = feed(&mut c, input);
        }
    }
}
