//! The `pool` scheduler: a fixed pool of workers runs sessions and takes
//! turns watching every connection (leader/follower), and a session waiting
//! for a commit's durability or a row lock holds no thread at all.
//!
//! ```text
//!            readable/writable (mio, edge-triggered)
//!  sockets ──────────────▶ leader: the one worker holding the Poller
//!     ▲                      │ reads until the socket would block; a
//!     │                      │ complete packet: runs the first itself
//!     │                      │ (after waking a follower to lead), the
//!     │                      ▼ others go to the Injector ──steal──▶ workers
//!     │ reply written by the worker that ran the command; what does
//!     └ not fit waits in `Idle` for the next writable edge
//!                          ticket / lock / timer callbacks push parked
//!                          tasks back to the Injector (waking a sleeper,
//!                          or the leader through the Waker)
//! ```
//!
//! A connection is a [`Task`] (socket, sans-IO [`Connection`], unread input). It
//! is in exactly one place at a time (invariant 1): in `Idle`, in a queue,
//! on a worker, or in a park slot.
//!
//! States and transitions (function performing each):
//! - `Idle` -> `Queued` / `Running`: the leader (`Pool::lead`) takes a
//!   task whose socket reported readiness and services it (`Pool::service`:
//!   writes what is pending, reads until the socket would block); with a
//!   complete packet (or an oversized header, for the decoder to refuse)
//!   the leader runs the first such task itself, once it has handed the
//!   poller over (`Pool::hand_over`), and queues the rest.
//! - `Queued` -> `Running`: a worker takes it (`Pool::find`).
//! - `Running` -> `Idle`: [`Next::Read`], [`Next::Close`], [`Next::Stream`]:
//!   the worker services the task itself: writes the reply (what does not
//!   fit waits in `Idle` for the writable edge, holding no worker: a slow
//!   reader costs only memory), closes it, or reads the next command; a
//!   complete one is queued on the worker's own deque (FIFO, stealable),
//!   otherwise the task is filed idle.
//! - `Running` -> `Parked`: [`Next::Park`]; the wait's callback (or the
//!   timer, at a lock deadline or a failed-login delay) moves it to
//!   `Queued` with `resume` set ([`park`]).
//!
//! Leadership: a worker with nothing queued watches for work for `SPIN`
//! (30 µs, reading the injector and the poller's lock state, taking no
//! lock), then takes the poller if it is free (`try_lock`) and polls;
//! otherwise it sleeps until work is queued or the poller is handed over
//! (`Sleepers::leaderless`, under the sleep lock, so a hand-over is never
//! missed). Work queued while every free worker sleeps
//! wakes one; queued while the leader polls, it wakes the leader (`polling`
//! is set before the leader looks at the injector, and read after the
//! push, both sequentially consistent). So a command needs one thread
//! wake-up (the leader's), not two (an event loop's, then a worker's).
//!
//! Invariants:
//! 1. A task is owned by one place; a parked task sits in a slot that the
//!    first of its wake-ups empties, so it is queued once.
//! 2. Edge-triggered readiness is never lost: a task is filed idle only
//!    after it was read until the socket would block (or with output still
//!    to write: its socket is then registered for writable readiness, and
//!    registering reports a socket already writable), and readiness the leader
//!    saw while the task was away is marked in `Idle::missed`, under the
//!    same lock, so whoever files it reads again first; and bytes it read
//!    go to a worker as soon as, together with what the connection already
//!    holds, they make a whole packet (`Connection::input_ready`: a packet split
//!    across reads has its header in the connection, so the new bytes
//!    alone cannot tell).
//! 3. Idle connections hold no thread; the thread count is the workers,
//!    the timer, the signal watcher and the thread that waits for
//!    shutdown, whatever the number of connections.
//! 4. A panic while running a task is caught: that connection closes (its
//!    session drops, rolling back) and the worker goes on.
//! 5. Shutdown: the leader stops listening, and idle connections are closed
//!    at every turn of leadership (`Pool::sweep`; busy ones close when
//!    their command ends, as `Connection::killed` holds); `run` returns once no
//!    connection is left.
//! 6. Under the sleep lock, `Sleepers::leaderless` is true only while no
//!    worker holds the poller: a worker takes the poller only while it
//!    holds the sleep lock, clearing the flag in the same critical
//!    section, and the one that drops it sets the flag again only if
//!    nobody took it meanwhile (`hand_over`). So a worker with nothing to
//!    do that finds the poller held sleeps. (Until 2026-12-05 the poller
//!    was taken first and the flag cleared after, under a lock the idle
//!    workers kept taking: they spun through `find` for ~1,000 rounds per
//!    hand-over, a third of the workers' CPU under sysbench oltp_insert,
//!    and delayed the new leader.)
//!
//! Not done here: a per-task fairness budget (a worker runs a task's
//! buffered commands back to back).

use std::collections::{BinaryHeap, HashMap, HashSet};
use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam::deque::{Injector, Steal, Stealer, Worker as Deque};
use mio::net::{TcpListener as MioListener, TcpStream as MioStream};
use mio::{Events, Interest, Poll, Token, Waker};
use parking_lot::{Condvar, Mutex};

use mizzle_plugin_api::registry::PluginDescriptor;
use mizzle_plugin_api::scheduler::{compiled_in, Connection, Next, Park, Scheduler, SchedulerHost};

const LISTENER: Token = Token(0);
const WAKER: Token = Token(1);

/// A connection between threads.
pub struct Task {
    token: Token,
    stream: MioStream,
    conn: Box<dyn Connection>,
    input: Vec<u8>,
    resume: bool,
    close_after_flush: bool,
    /// A result is streaming: once the output is sent, queue the task to
    /// produce more ([`Next::Stream`]).
    stream_more: bool,
    /// The socket is registered for writable readiness too (only while
    /// output waits for room).
    watch_writable: bool,
    queued_at: Instant,
}

/// Connections waiting for input or for room to write. Every thread files
/// connections here, under its lock.
#[derive(Default)]
struct Idle {
    tasks: HashMap<Token, Box<Task>>,
    /// Readiness reported while the connection was away (queued, running,
    /// parked): the next to file it reads again first (invariant 2).
    missed: HashSet<Token>,
}

/// What the leader owns while it polls: the readiness queue, the listener
/// and the next connection's token.
struct Poller {
    poll: Poll,
    events: Events,
    /// `None` once the server stops listening.
    listener: Option<MioListener>,
    next_token: usize,
}

/// Who sleeps, and whether anyone leads (under `Pool::sleep`).
struct Sleepers {
    count: usize,
    /// No worker holds the poller: a worker about to sleep leads instead.
    leaderless: bool,
}

/// What workers share.
struct Pool {
    injector: Injector<Box<Task>>,
    idle: Mutex<Idle>,
    stealers: Vec<Stealer<Box<Task>>>,
    poller: Mutex<Poller>,
    /// A clone of the poller's registry, to deregister a closing
    /// connection from any thread.
    registry: mio::Registry,
    /// Wakes the leader out of `poll` (work was queued and nobody sleeps).
    waker: Waker,
    /// The leader is in `poll` or about to be.
    polling: AtomicBool,
    sleep: Mutex<Sleepers>,
    wake: Condvar,
    stop: AtomicBool,
    timer: Arc<Timer>,
    host: Arc<dyn SchedulerHost>,
}

impl Pool {
    fn push(&self, mut task: Box<Task>) {
        task.queued_at = Instant::now();
        self.host.stats().queued.fetch_add(1, Ordering::Relaxed);
        self.injector.push(task);
        // Either a sleeper is woken, or the leader: it set `polling` before
        // it looked at the injector, so one of the two sees the other.
        std::sync::atomic::fence(Ordering::SeqCst);
        let sleeping = {
            let s = self.sleep.lock();
            if s.count > 0 {
                self.wake.notify_one();
            }
            s.count > 0
        };
        if !sleeping && self.polling.load(Ordering::SeqCst) {
            let _ = self.waker.wake();
        }
    }

    /// Queues `task` on the calling worker's own deque (FIFO: behind what
    /// it already holds; other workers may steal it).
    fn push_local(&self, local: &Deque<Box<Task>>, mut task: Box<Task>) {
        task.queued_at = Instant::now();
        self.host.stats().queued.fetch_add(1, Ordering::Relaxed);
        local.push(task);
    }

    /// The next task for a worker: its own deque, then other workers'
    /// deques, then a batch from the injector. Stealing before the
    /// injector matters: a task that yields (parks on a complete ticket)
    /// goes back to the injector at once, so the injector may never look
    /// empty, and a task stranded in the deque of a worker busy with a long
    /// statement — perhaps the very commit the yielder waits to see
    /// published — would wait for that statement to end.
    fn find(&self, local: &Deque<Box<Task>>) -> Option<Box<Task>> {
        if let Some(t) = local.pop() {
            return Some(t);
        }
        loop {
            let mut retry = false;
            for s in &self.stealers {
                match s.steal() {
                    Steal::Success(t) => return Some(t),
                    Steal::Retry => retry = true,
                    Steal::Empty => {}
                }
            }
            match self.injector.steal_batch_and_pop(local) {
                Steal::Success(t) => return Some(t),
                Steal::Retry => retry = true,
                Steal::Empty => {}
            }
            if !retry {
                return None;
            }
        }
    }

    /// Writes a connection's output, then reads until the socket would
    /// block; the task comes back when it has a command to run (or a
    /// streamed result to go on with), otherwise it is filed idle (to wait
    /// for input, or for room to write the rest) or closed.
    fn service(&self, mut task: Box<Task>, buf: &mut [u8]) -> Option<Box<Task>> {
        // Output first; what does not fit waits for the writable edge.
        loop {
            let blocked = {
                let out = task.conn.output();
                let mut blocked = false;
                while !out.is_empty() {
                    match task.stream.write(out) {
                        Ok(0) => return self.close(task),
                        Ok(n) => {
                            out.drain(..n);
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => {
                            blocked = true;
                            break;
                        }
                        Err(e) if e.kind() == ErrorKind::Interrupted => {}
                        Err(_) => return self.close(task),
                    }
                }
                blocked
            };
            if !blocked {
                break;
            }
            // Writable readiness is watched only while output waits: an
            // edge after every reply would wake the leader for nothing.
            if !task.watch_writable {
                if self
                    .registry
                    .reregister(&mut task.stream, task.token, Interest::READABLE | Interest::WRITABLE)
                    .is_err()
                {
                    return self.close(task);
                }
                task.watch_writable = true;
            }
            // The leader services it again on the writable edge (a slow
            // reader holds no worker); an edge it saw meanwhile is not lost
            // (re-registering reports a socket already writable).
            match self.file_idle(task) {
                Some(t) => task = t,
                None => return None,
            }
        }
        if task.watch_writable {
            if self.registry.reregister(&mut task.stream, task.token, Interest::READABLE).is_err() {
                return self.close(task);
            }
            task.watch_writable = false;
        }
        if task.close_after_flush || task.conn.killed() {
            return self.close(task);
        }
        if task.stream_more {
            // The client took the last chunk: the next is made on a worker
            // (the buffer is kept for it). Input read meanwhile waits in
            // `task.input` until the result ends (conn invariant 3).
            task.stream_more = false;
            task.resume = true;
            return Some(task);
        }
        let out = task.conn.output();
        if out.capacity() > 64 * 1024 {
            *out = Vec::new();
        }
        loop {
            loop {
                match task.stream.read(buf) {
                    Ok(0) => return self.close(task),
                    Ok(n) => task.input.extend_from_slice(buf.get(..n).unwrap_or_default()),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(_) => return self.close(task),
                }
            }
            // The connection may hold the start of a packet from an earlier
            // read: it decides whether the new bytes complete one.
            if task.conn.input_ready(&task.input) {
                return Some(task);
            }
            match self.file_idle(task) {
                // Readiness was reported while this thread held it: read again.
                Some(t) => task = t,
                None => return None,
            }
        }
    }

    /// Files `task` idle, unless readiness was reported while it was away
    /// (a mark in `Idle::missed`): then the mark is cleared and the task
    /// handed back, to be written and read again.
    fn file_idle(&self, task: Box<Task>) -> Option<Box<Task>> {
        let mut idle = self.idle.lock();
        if idle.missed.remove(&task.token) {
            return Some(task);
        }
        idle.tasks.insert(task.token, task);
        None
    }

    fn close(&self, mut task: Box<Task>) -> Option<Box<Task>> {
        let _ = self.registry.deregister(&mut task.stream);
        self.idle.lock().missed.remove(&task.token);
        let id = task.conn.id();
        drop(task);
        self.host.closed(id);
        None
    }

    /// One turn as the leader: waits for readiness (or a wake-up), accepts
    /// new connections and services the ready ones; returns those with a
    /// command to run.
    // A task moves between queues as one box: unboxed here it would be
    // copied out of its box and into a new one.
    #[allow(clippy::vec_box)]
    fn lead(&self, p: &mut Poller, buf: &mut [u8], ready: &mut Vec<Box<Task>>) {
        let Poller { poll, events, listener, next_token } = p;
        if let Err(e) = poll.poll(events, Some(Duration::from_millis(100))) {
            if e.kind() != ErrorKind::Interrupted {
                tracing::error!(error = %e, "poll failed");
            }
            return;
        }
        if self.host.shutting_down() {
            if let Some(mut l) = listener.take() {
                let _ = poll.registry().deregister(&mut l);
            }
        }
        for ev in events.iter() {
            match ev.token() {
                LISTENER => {
                    if let Some(l) = listener.as_ref() {
                        self.accept(l, next_token, buf, ready);
                    }
                }
                WAKER => {}
                t => {
                    let found = {
                        let mut idle = self.idle.lock();
                        let found = idle.tasks.remove(&t);
                        if found.is_none() {
                            // Away on a worker, queued or parked.
                            idle.missed.insert(t);
                        }
                        found
                    };
                    if let Some(task) = found.and_then(|t| self.service(t, buf)) {
                        ready.push(task);
                    }
                }
            }
        }
    }

    #[allow(clippy::vec_box)]
    fn accept(&self, listener: &MioListener, next_token: &mut usize, buf: &mut [u8], ready: &mut Vec<Box<Task>>) {
        loop {
            let (stream, peer): (MioStream, SocketAddr) = match listener.accept() {
                Ok(x) => x,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    return;
                }
            };
            let _ = stream.set_nodelay(true);
            let std_stream = std::net::TcpStream::from(stream);
            let Some(conn) = self.host.admit(&std_stream, peer) else { continue };
            let _ = std_stream.set_nonblocking(true);
            let mut stream = MioStream::from_std(std_stream);
            let token = Token(*next_token);
            *next_token = next_token.wrapping_add(1).max(2);
            if self.registry.register(&mut stream, token, Interest::READABLE).is_err() {
                let id = conn.id();
                drop(conn);
                self.host.closed(id);
                continue;
            }
            // A client that does not log in in time is dropped.
            let (timeout, at_deadline) = conn.login_deadline();
            self.timer.at(Instant::now() + timeout, at_deadline);
            let task = Box::new(Task {
                token,
                stream,
                conn,
                input: Vec::new(),
                resume: false,
                close_after_flush: false,
                stream_more: false,
                watch_writable: false,
                queued_at: Instant::now(),
            });
            if let Some(t) = self.service(task, buf) {
                ready.push(t);
            }
        }
    }

    /// Lets the next worker lead: wakes a sleeper, or marks the poller free
    /// for a worker about to sleep.
    fn hand_over(&self) {
        let mut s = self.sleep.lock();
        // Another worker may have taken the poller since it was dropped
        // (and cleared the flag): it leads, and hands over in turn
        // (invariant 6).
        if self.poller.is_locked() {
            return;
        }
        s.leaderless = true;
        if s.count > 0 {
            self.wake.notify_one();
        }
    }

    /// Closes every idle connection (at shutdown; repeated until none is
    /// left, as busy ones come back).
    fn sweep(&self, buf: &mut [u8]) {
        let tasks: Vec<Box<Task>> = self.idle.lock().tasks.drain().map(|(_, t)| t).collect();
        for task in tasks {
            // `killed` holds during shutdown: this closes it.
            if let Some(t) = self.service(task, buf) {
                self.push(t);
            }
        }
    }
}

/// Runs callbacks at deadlines (lock-wait timeouts, failed-login delays).
pub struct Timer {
    state: Mutex<TimerState>,
    cv: Condvar,
    stop: AtomicBool,
}

type Callback = Box<dyn FnOnce() + Send>;

/// Deadlines in order, their callbacks, and the last id given.
type TimerState = (BinaryHeap<std::cmp::Reverse<(Instant, u64)>>, HashMap<u64, Callback>, u64);

impl Timer {
    fn new() -> Arc<Timer> {
        Arc::new(Timer {
            state: Mutex::new((BinaryHeap::new(), HashMap::new(), 0)),
            cv: Condvar::new(),
            stop: AtomicBool::new(false),
        })
    }

    fn at(&self, when: Instant, f: Callback) {
        let mut st = self.state.lock();
        st.2 += 1;
        let id = st.2;
        st.0.push(std::cmp::Reverse((when, id)));
        st.1.insert(id, f);
        self.cv.notify_one();
    }

    fn run(&self) {
        let mut st = self.state.lock();
        while !self.stop.load(Ordering::Relaxed) {
            let now = Instant::now();
            match st.0.peek().map(|r| r.0) {
                Some((when, id)) if when <= now => {
                    st.0.pop();
                    if let Some(f) = st.1.remove(&id) {
                        drop(st);
                        f();
                        st = self.state.lock();
                    }
                }
                Some((when, _)) => {
                    let _ = self.cv.wait_for(&mut st, when - now);
                }
                None => {
                    let _ = self.cv.wait_for(&mut st, Duration::from_millis(500));
                }
            }
        }
    }
}

/// Parks `task` on `park`: the first wake-up queues it again (invariant 1).
fn park(pool: &Arc<Pool>, mut task: Box<Task>, park: Park) {
    task.resume = true;
    let slot = Arc::new(Mutex::new(Some(task)));
    let wake = {
        let slot = slot.clone();
        let pool = pool.clone();
        move || {
            let taken = slot.lock().take();
            if let Some(t) = taken {
                pool.push(t);
            }
        }
    };
    match park {
        Park::Wait(w) => {
            let again = wake.clone();
            let kick = wake.clone();
            // `KILL` wakes it too (the session then stops a lock wait).
            if let Some(t) = slot.lock().as_ref() {
                t.conn.set_kick(Box::new(kick));
            }
            if let Some(deadline) = w.on_ready(Box::new(wake)) {
                pool.timer.at(deadline, Box::new(again));
            }
        }
        Park::Delay(d) => pool.timer.at(Instant::now() + d, Box::new(wake)),
    }
}

/// How long a worker with nothing to do watches for work before it goes
/// to sleep. sysbench (2026-12-05, 5 s cells, alternating): with 30 µs,
/// one client's oltp_point_select 21.1k → 32.9k tps, oltp_read_only 1,287
/// → 1,581, oltp_insert 3,448 → 3,981; 8 and 32 clients unchanged within
/// noise (a busy pool seldom runs out of work). 100 and 250 µs did worse
/// with one client (the spinning worker takes the CPU the client needs).
/// Not watching after a park on a commit (2026-12-05: a trace showed the
/// log writer, woken by the park on the same vCPU, waiting ~35 µs for the
/// watching worker) did worse too: oltp_insert with one client 3,900 /
/// 3,406 / 3,734 → 2,997 / 3,192 / 3,216 tps, alternating.
const SPIN: Duration = Duration::from_micros(30);

fn worker(pool: Arc<Pool>, local: Deque<Box<Task>>) {
    let sched = pool.host.stats();
    let mut buf = vec![0u8; 64 * 1024];
    let mut ready: Vec<Box<Task>> = Vec::new();
    while !pool.stop.load(Ordering::Relaxed) {
        let mut task = match pool.find(&local) {
            Some(t) => t,
            None => {
                sched.idle_rounds.fetch_add(1, Ordering::Relaxed);
                // Nothing queued: lead (poll for readiness), unless another
                // worker does; then sleep until work is queued or the poller
                // is free.
                // Before sleeping, watch for work a little without any
                // lock: a thread that sleeps leaves its vCPU idle, and
                // waking an idle vCPU is slow.
                let spin_until = Instant::now() + SPIN;
                // (Only this worker queues on `local`, which `find` found
                // empty.)
                while pool.injector.is_empty() && pool.poller.is_locked() && Instant::now() < spin_until {
                    std::hint::spin_loop();
                }
                // The poller is taken only under the sleep lock, together
                // with clearing `leaderless` (invariant 6).
                let mut s = pool.sleep.lock();
                let Some(mut p) = pool.poller.try_lock() else {
                    if pool.injector.is_empty() && !s.leaderless && !pool.stop.load(Ordering::Relaxed) {
                        s.count += 1;
                        let _ = pool.wake.wait_for(&mut s, Duration::from_millis(200));
                        s.count -= 1;
                    }
                    continue;
                };
                s.leaderless = false;
                drop(s);
                pool.polling.store(true, Ordering::SeqCst);
                std::sync::atomic::fence(Ordering::SeqCst);
                if pool.injector.is_empty() {
                    pool.lead(&mut p, &mut buf, &mut ready);
                }
                pool.polling.store(false, Ordering::SeqCst);
                if pool.host.shutting_down() {
                    pool.sweep(&mut buf);
                }
                drop(p);
                // Someone else polls while this worker runs what it found.
                pool.hand_over();
                let mut found = ready.drain(..);
                let Some(mut first) = found.next() else { continue };
                for t in found {
                    pool.push(t);
                }
                // Counted as queued and taken at once (the stats below).
                first.queued_at = Instant::now();
                sched.queued.fetch_add(1, Ordering::Relaxed);
                first
            }
        };
        sched.queued.fetch_sub(1, Ordering::Relaxed);
        let waited = u64::try_from(task.queued_at.elapsed().as_micros()).unwrap_or(u64::MAX);
        sched.wait_us.fetch_add(waited, Ordering::Relaxed);
        sched.dispatched.fetch_add(1, Ordering::Relaxed);
        sched.active.fetch_add(1, Ordering::Relaxed);
        let (id, token) = (task.conn.id(), task.token);
        let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            let next = if task.resume {
                task.resume = false;
                task.conn.resume()
            } else {
                let input = std::mem::take(&mut task.input);
                task.conn.on_input(&input)
            };
            (task, next)
        }));
        sched.active.fetch_sub(1, Ordering::Relaxed);
        let task = match ran {
            Ok((task, Next::Read)) => task,
            Ok((mut task, Next::Close)) => {
                task.close_after_flush = true;
                task
            }
            Ok((task, Next::Park(p))) => {
                park(&pool, task, p);
                continue;
            }
            Ok((mut task, Next::Stream)) => {
                task.stream_more = true;
                task
            }
            Err(_) => {
                tracing::error!(id, "a connection panicked (a bug); closed, its transaction rolled back");
                pool.idle.lock().missed.remove(&token);
                pool.host.closed(id);
                continue;
            }
        };
        // The worker writes the reply and reads the next command itself; a
        // complete one runs next on this worker (behind what it holds).
        if let Some(t) = pool.service(task, &mut buf) {
            pool.push_local(&local, t);
        }
    }
}

/// The `pool` scheduler plugin.
pub struct PoolScheduler;

impl Scheduler for PoolScheduler {
    fn descriptor(&self) -> PluginDescriptor {
        compiled_in(
            "pool",
            "a fixed pool of workers taking turns watching every connection; idle and parked connections hold no thread",
        )
    }

    fn run(
        &self,
        listener: std::net::TcpListener,
        host: Arc<dyn SchedulerHost>,
        workers: usize,
    ) -> std::io::Result<()> {
        run(listener, host, workers)
    }
}

/// Serves connections from `listener` with `workers` threads until
/// shutdown; returns when every connection is closed and the workers have
/// stopped.
fn run(listener: std::net::TcpListener, shared: Arc<dyn SchedulerHost>, workers: usize) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let mut listener = MioListener::from_std(listener);
    let poll = Poll::new()?;
    poll.registry().register(&mut listener, LISTENER, Interest::READABLE)?;
    let waker = Waker::new(poll.registry(), WAKER)?;
    let registry = poll.registry().try_clone()?;
    let workers = workers.max(1);
    let deques: Vec<Deque<Box<Task>>> = (0..workers).map(|_| Deque::new_fifo()).collect();
    let timer = Timer::new();
    let pool = Arc::new(Pool {
        injector: Injector::new(),
        idle: Mutex::new(Idle::default()),
        stealers: deques.iter().map(Deque::stealer).collect(),
        poller: Mutex::new(Poller {
            poll,
            events: Events::with_capacity(1024),
            listener: Some(listener),
            next_token: 2,
        }),
        registry,
        waker,
        polling: AtomicBool::new(false),
        sleep: Mutex::new(Sleepers { count: 0, leaderless: true }),
        wake: Condvar::new(),
        stop: AtomicBool::new(false),
        timer: timer.clone(),
        host: shared.clone(),
    });
    shared.stats().workers.store(workers, Ordering::Relaxed);
    let mut threads = Vec::new();
    for (i, local) in deques.into_iter().enumerate() {
        let p = pool.clone();
        threads.push(std::thread::Builder::new().name(format!("worker-{i}")).spawn(move || worker(p, local))?);
    }
    let t = timer.clone();
    let timer_thread = std::thread::Builder::new().name("timer".into()).spawn(move || t.run())?;
    // This thread waits for shutdown, then for the last connection to close
    // (the leader sweeps idle ones; busy ones close as they finish).
    while !(shared.shutting_down() && shared.connection_count() == 0) {
        if shared.shutting_down() {
            let _ = pool.waker.wake();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    pool.stop.store(true, Ordering::Relaxed);
    {
        let _g = pool.sleep.lock();
        pool.wake.notify_all();
    }
    let _ = pool.waker.wake();
    for t in threads {
        let _ = t.join();
    }
    timer.stop.store(true, Ordering::Relaxed);
    timer.cv.notify_all();
    let _ = timer_thread.join();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timer_runs_callbacks_in_deadline_order() {
        let t = Timer::new();
        let order = Arc::new(Mutex::new(Vec::new()));
        let now = Instant::now();
        for (i, ms) in [(1, 30u64), (2, 10), (3, 20)] {
            let o = order.clone();
            t.at(now + Duration::from_millis(ms), Box::new(move || o.lock().push(i)));
        }
        let t2 = t.clone();
        let h = std::thread::spawn(move || t2.run());
        while order.lock().len() < 3 {
            std::thread::yield_now();
        }
        t.stop.store(true, Ordering::Relaxed);
        t.cv.notify_all();
        let _ = h.join();
        assert_eq!(*order.lock(), vec![2, 3, 1]);
    }
}
