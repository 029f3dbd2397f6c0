//! Scheduler plugins: what runs a server's connections on threads.
//!
//! A server (`mizzled`) owns the listening socket and knows the protocol;
//! a scheduler owns the threads. The server hands the scheduler its
//! listener and a [`SchedulerHost`]; the scheduler accepts connections,
//! admits each through the host (which answers with a [`Connection`]: the
//! protocol's sans-IO state machine, its greeting already in
//! [`Connection::output`]), moves bytes between sockets and connections,
//! and runs a connection's steps on a thread of its choosing. Two
//! schedulers exist, both compiled into `mizzled`: `pool` (a fixed pool of
//! workers; idle and parked connections hold no thread) and `thread` (one
//! thread per connection, blocking).
//!
//! Invariants:
//! 1. A connection is stepped by one thread at a time: after
//!    [`Connection::on_input`] or [`Connection::resume`] returns, the
//!    scheduler writes all of [`Connection::output`] to the socket before
//!    it acts on the returned [`Next`].
//! 2. A parked connection ([`Next::Park`]) is resumed exactly once per
//!    park: when its [`Wait`] is over (or its deadline passed, or the
//!    connection's kick ran), or when its delay elapsed. A scheduler may
//!    block a thread on the wait ([`Wait::block`]) or register a callback
//!    ([`Wait::on_ready`]) and free the thread meanwhile.
//! 3. Every admitted connection is reported closed to the host exactly
//!    once ([`SchedulerHost::closed`]), whatever ends it: the client, the
//!    server, a panic inside a step (the scheduler catches it: that
//!    connection closes, its transaction rolls back, the others go on).
//! 4. [`Scheduler::run`] returns once the host is shutting down and every
//!    connection is closed; commands in flight finish first.
//!
//! Not here: the protocol (`mizzle-protocol`), sessions, accounts.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::registry::{PluginDescriptor, PluginKind};

/// A scheduler plugin (object-safe, `Send + Sync`).
pub trait Scheduler: Send + Sync {
    /// How `SHOW PLUGINS` lists the plugin (kind [`PluginKind::Scheduler`]).
    fn descriptor(&self) -> PluginDescriptor;

    /// Serves connections accepted from `listener` with `workers` threads
    /// (a pool's size; a scheduler with a thread per connection ignores
    /// it) until the host shuts down and the last connection closed
    /// (invariant 4).
    fn run(&self, listener: TcpListener, host: Arc<dyn SchedulerHost>, workers: usize) -> std::io::Result<()>;
}

/// What a scheduler asks of the server that runs it.
pub trait SchedulerHost: Send + Sync {
    /// Admits a client the scheduler accepted: its connection, or `None`
    /// when the server refused it (the host has answered the client, e.g.
    /// too many connections; the scheduler drops the stream).
    fn admit(&self, stream: &TcpStream, peer: SocketAddr) -> Option<Box<dyn Connection>>;

    /// Connection `id` is closed and gone (invariant 3).
    fn closed(&self, id: u64);

    /// True once shutdown began: stop accepting, close idle connections.
    fn shutting_down(&self) -> bool;

    /// Connections admitted and not yet closed.
    fn connection_count(&self) -> usize;

    /// Counters the scheduler keeps for `SHOW STATUS`.
    fn stats(&self) -> &SchedulerStats;
}

/// One client connection as a scheduler drives it: bytes in, bytes out,
/// and what to do next.
pub trait Connection: Send {
    /// The connection id (`CONNECTION_ID()`, `KILL`).
    fn id(&self) -> u64;

    /// Feeds bytes read from the socket.
    fn on_input(&mut self, bytes: &[u8]) -> Next;

    /// Goes on after a park or a streamed chunk.
    fn resume(&mut self) -> Next;

    /// Bytes to write to the socket; the scheduler drains what it writes.
    fn output(&mut self) -> &mut Vec<u8>;

    /// Whether `more` (bytes read but not yet fed) completes a command,
    /// together with what the connection holds already.
    fn input_ready(&self, more: &[u8]) -> bool;

    /// The connection was killed or the server stops reading from it:
    /// close it once its output is written.
    fn killed(&self) -> bool;

    /// The client has logged in (a scheduler lifts the login deadline).
    fn logged_in(&self) -> bool;

    /// How long a client may take to log in, and what to run at that
    /// deadline (it closes the connection unless the client logged in).
    fn login_deadline(&self) -> (Duration, Box<dyn FnOnce() + Send>);

    /// Sets what wakes the connection's parked step early (`KILL`); a
    /// scheduler that frees the thread of a parked connection sets it.
    fn set_kick(&self, kick: Box<dyn FnOnce() + Send>);
}

/// What the scheduler does with a connection once its output is written.
pub enum Next {
    /// Wait for more input, then call [`Connection::on_input`].
    Read,
    /// Close the connection.
    Close,
    /// Do not read; once the wait is over call [`Connection::resume`]
    /// (invariant 2).
    Park(Park),
    /// A result is streaming: once the client has taken all of the output,
    /// call [`Connection::resume`] for more (do not read meanwhile).
    Stream,
}

/// What a parked connection waits for.
pub enum Park {
    /// A statement waits for a commit's durability or a row lock.
    Wait(Box<dyn Wait>),
    /// A failed login waits out its delay.
    Delay(Duration),
}

/// A wait a connection parked on.
pub trait Wait: Send {
    /// Blocks the calling thread until the wait is over (a scheduler with
    /// a thread per connection).
    fn block(&self);

    /// Runs `wake` once the wait may be over (at once if it is), on the
    /// thread that ends it: it must be short. Returns a deadline at which
    /// the scheduler must resume the connection if `wake` has not run.
    fn on_ready(&self, wake: Box<dyn FnOnce() + Send>) -> Option<Instant>;
}

/// Scheduler counters, shown by `SHOW STATUS` as `Mizzle_scheduler_*`.
#[derive(Default, Debug)]
pub struct SchedulerStats {
    /// Worker threads (a pool's size).
    pub workers: AtomicUsize,
    /// Connections queued for a worker now.
    pub queued: AtomicUsize,
    /// Workers running a connection's step now.
    pub active: AtomicUsize,
    /// Total time connections waited in the queue, in microseconds.
    pub wait_us: AtomicU64,
    /// Steps handed to workers.
    pub dispatched: AtomicU64,
    /// Times a worker found nothing queued (then led, slept, or looked
    /// again); under load fewer than the steps dispatched.
    pub idle_rounds: AtomicU64,
}

/// A compiled-in scheduler's descriptor.
pub fn compiled_in(name: &str, description: &str) -> PluginDescriptor {
    PluginDescriptor::compiled_in(PluginKind::Scheduler, name, description)
}
