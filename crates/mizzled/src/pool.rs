//! The `pool` scheduler: one event loop watches every connection, a fixed
//! pool of workers runs sessions, and a session waiting for a commit's
//! durability or a row lock holds no thread at all.
//!
//! ```text
//!            readable/writable (mio, edge-triggered)
//!  sockets ───────────────────────▶ event loop ── complete packet ──▶ Injector
//!     ▲                               │  ▲                              │ steal
//!     │ write what fits, rest on      │  │ Back (channel + Waker)       ▼
//!     └── the next writable edge ◀────┘  └──────────── worker N: Conn::on_input
//!                                                        │ Next::Park(wait)
//!                          ticket / lock / timer ◀───────┘
//!                          callback pushes the task back to the Injector
//! ```
//!
//! A connection is a [`Task`] (socket, sans-IO [`Conn`], unread input). It
//! is in exactly one place at a time (invariant 1): `idle` in the event
//! loop, in a queue, on a worker, or in a park slot.
//!
//! States and transitions (function performing each):
//! - `Idle` -> `Queued`: [`EventLoop::service`] after reading until the
//!   socket would block, when the input holds a complete packet (or an
//!   oversized header, for the decoder to refuse).
//! - `Queued` -> `Running`: a worker takes it ([`Pool::find`]).
//! - `Running` -> `Idle`: [`Next::Read`]: the worker writes the reply and
//!   reads what has arrived itself (`Pool::settle`); a next command already
//!   complete is queued on its own deque, otherwise the connection is filed
//!   idle — no trip through the event loop. A reply that does not fit, the
//!   end of the stream, an error and [`Next::Close`] send the task back to
//!   the loop instead, which writes the output (what does not fit waits for
//!   the next writable edge, holding no worker: a slow reader costs only
//!   memory).
//! - `Running` -> `Parked`: [`Next::Park`]; the wait's callback (or the
//!   timer, at a lock deadline or a failed-login delay) moves it to
//!   `Queued` with `resume` set ([`park`]).
//!
//! Invariants:
//! 1. A task is owned by one place; a parked task sits in a slot that the
//!    first of its wake-ups empties, so it is queued once.
//! 2. Edge-triggered readiness is never lost: a task coming back to the
//!    loop is serviced at once (written, then read until it would block),
//!    so readiness that arrived while it was away is acted on; a worker
//!    that files a task idle has read until it would block, and readiness
//!    the loop saw meanwhile (marked in `Idle::missed` under the same lock)
//!    makes it read again before filing; and bytes it
//!    read go to a worker as soon as, together with what the connection
//!    already holds, they make a whole packet (`Conn::input_ready`: a
//!    packet split across reads has its header in the connection, so the
//!    new bytes alone cannot tell).
//! 3. Idle connections hold no thread; the thread count is the workers,
//!    the event loop, the timer and the signal watcher, whatever the number
//!    of connections.
//! 4. A panic while running a task is caught: that connection closes (its
//!    session drops, rolling back) and the worker goes on.
//!
//! Not done here: a per-task fairness budget (a worker runs a task's
//! buffered commands back to back).

use std::collections::{BinaryHeap, HashMap, HashSet};
use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam::channel::{Receiver, Sender};
use crossbeam::deque::{Injector, Steal, Stealer, Worker as Deque};
use mio::net::{TcpListener as MioListener, TcpStream as MioStream};
use mio::{Events, Interest, Poll, Token, Waker};
use parking_lot::{Condvar, Mutex};

use crate::conn::{Conn, Next, Park};
use crate::server::Shared;

const LISTENER: Token = Token(0);
const WAKER: Token = Token(1);

/// A connection between threads.
pub struct Task {
    token: Token,
    stream: MioStream,
    conn: Conn,
    input: Vec<u8>,
    resume: bool,
    close_after_flush: bool,
    /// A result is streaming: once the output is sent, queue the task to
    /// produce more ([`Next::Stream`]).
    stream_more: bool,
    queued_at: Instant,
}

/// Connections waiting for input. The event loop and the workers both file
/// connections here, under its lock.
#[derive(Default)]
struct Idle {
    tasks: HashMap<Token, Box<Task>>,
    /// Readiness reported while the connection was away (queued, running,
    /// parked): the next to file it reads again first (invariant 2).
    missed: HashSet<Token>,
}

/// What workers share.
struct Pool {
    injector: Injector<Box<Task>>,
    idle: Mutex<Idle>,
    stealers: Vec<Stealer<Box<Task>>>,
    sleep: Mutex<()>,
    wake: Condvar,
    stop: AtomicBool,
    back: Sender<Box<Task>>,
    waker: Waker,
    timer: Arc<Timer>,
    shared: Arc<Shared>,
}

impl Pool {
    fn push(&self, mut task: Box<Task>) {
        task.queued_at = Instant::now();
        self.shared.sched.queued.fetch_add(1, Ordering::Relaxed);
        self.injector.push(task);
        let _g = self.sleep.lock();
        self.wake.notify_one();
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

    /// Queues `task` on the calling worker's own deque (FIFO: behind what
    /// it already holds; other workers may steal it).
    fn push_local(&self, local: &Deque<Box<Task>>, mut task: Box<Task>) {
        task.queued_at = Instant::now();
        self.shared.sched.queued.fetch_add(1, Ordering::Relaxed);
        local.push(task);
    }

    /// A worker's end of a command after which the connection wants input
    /// ([`Next::Read`]): writes the reply itself, reads what has arrived,
    /// and either queues the next command on its own deque or files the
    /// connection as idle. The event loop sees the connection again only
    /// when the socket needs it: a reply that does not fit, the end of the
    /// stream, an error, a connection closing (invariant 2: reads go on
    /// until the socket would block, and readiness reported meanwhile is
    /// caught through `Idle::missed`).
    fn settle(&self, local: &Deque<Box<Task>>, mut task: Box<Task>, buf: &mut [u8]) {
        let out = task.conn.output();
        while !out.is_empty() {
            match task.stream.write(out) {
                Ok(n) if n > 0 => {
                    out.drain(..n);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                // Would block (the loop waits for the writable edge), closed
                // or failed: the loop's `service` handles each.
                _ => return self.send_back(task),
            }
        }
        if task.close_after_flush || task.stream_more || task.conn.killed() {
            return self.send_back(task);
        }
        let out = task.conn.output();
        if out.capacity() > 64 * 1024 {
            *out = Vec::new();
        }
        loop {
            loop {
                match task.stream.read(buf) {
                    Ok(n) if n > 0 => task.input.extend_from_slice(buf.get(..n).unwrap_or_default()),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    // The end of the stream or an error: the loop closes it.
                    _ => return self.send_back(task),
                }
            }
            if task.conn.input_ready(&task.input) {
                return self.push_local(local, task);
            }
            let mut idle = self.idle.lock();
            if !idle.missed.remove(&task.token) {
                idle.tasks.insert(task.token, task);
                return;
            }
            // Readiness was reported while this worker held it: read again.
        }
    }

    fn send_back(&self, task: Box<Task>) {
        if self.back.send(task).is_ok() {
            let _ = self.waker.wake();
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
                t.conn.entry().set_kick(Box::new(kick));
            }
            if let Some(deadline) = w.on_ready(wake) {
                pool.timer.at(deadline, Box::new(again));
            }
        }
        Park::Delay(d) => pool.timer.at(Instant::now() + d, Box::new(wake)),
    }
}

fn worker(pool: Arc<Pool>, local: Deque<Box<Task>>) {
    let sched = &pool.shared.sched;
    let mut buf = vec![0u8; 64 * 1024];
    while !pool.stop.load(Ordering::Relaxed) {
        let Some(mut task) = pool.find(&local) else {
            let mut g = pool.sleep.lock();
            if pool.injector.is_empty() && !pool.stop.load(Ordering::Relaxed) {
                let _ = pool.wake.wait_for(&mut g, Duration::from_millis(200));
            }
            continue;
        };
        sched.queued.fetch_sub(1, Ordering::Relaxed);
        let waited = u64::try_from(task.queued_at.elapsed().as_micros()).unwrap_or(u64::MAX);
        sched.wait_us.fetch_add(waited, Ordering::Relaxed);
        sched.dispatched.fetch_add(1, Ordering::Relaxed);
        sched.active.fetch_add(1, Ordering::Relaxed);
        let id = task.conn.entry().id;
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
        match ran {
            Ok((task, Next::Read)) => pool.settle(&local, task, &mut buf),
            Ok((mut task, Next::Close)) => {
                task.close_after_flush = true;
                pool.send_back(task);
            }
            Ok((task, Next::Park(p))) => park(&pool, task, p),
            Ok((mut task, Next::Stream)) => {
                task.stream_more = true;
                pool.send_back(task);
            }
            Err(_) => {
                tracing::error!(id, "a connection panicked (a bug); closed, its transaction rolled back");
                pool.shared.forget(id);
            }
        }
    }
}

struct EventLoop {
    poll: Poll,
    listener: MioListener,
    next_token: usize,
    pool: Arc<Pool>,
    back: Receiver<Box<Task>>,
    buf: Vec<u8>,
}

impl EventLoop {
    /// Writes, reads until the socket would block, and queues the task if a
    /// packet is complete (invariant 2).
    fn service(&mut self, mut task: Box<Task>) {
        let out = task.conn.output();
        while !out.is_empty() {
            match task.stream.write(out) {
                Ok(0) => return self.close(task),
                Ok(n) => {
                    out.drain(..n);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    // Readiness is not lost: the writable edge comes to this
                    // loop, which services the task again.
                    self.pool.idle.lock().tasks.insert(task.token, task);
                    return;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return self.close(task),
            }
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
            self.pool.push(task);
            return;
        }
        let out = task.conn.output();
        if out.capacity() > 64 * 1024 {
            *out = Vec::new();
        }
        loop {
            match task.stream.read(&mut self.buf) {
                Ok(0) => return self.close(task),
                Ok(n) => task.input.extend_from_slice(self.buf.get(..n).unwrap_or_default()),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return self.close(task),
            }
        }
        // The connection may hold the start of a packet from an earlier
        // read: it decides whether the new bytes complete one.
        if task.conn.input_ready(&task.input) {
            self.pool.push(task);
        } else {
            // Read until it would block just now: a mark of readiness
            // missed while it was away is settled.
            let mut idle = self.pool.idle.lock();
            idle.missed.remove(&task.token);
            idle.tasks.insert(task.token, task);
        }
    }

    fn close(&mut self, mut task: Box<Task>) {
        let _ = self.poll.registry().deregister(&mut task.stream);
        self.pool.idle.lock().missed.remove(&task.token);
        let id = task.conn.entry().id;
        drop(task);
        self.pool.shared.forget(id);
    }

    fn accept(&mut self) {
        loop {
            let (stream, peer): (MioStream, SocketAddr) = match self.listener.accept() {
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
            let Some((entry, session)) = self.pool.shared.admit(&std_stream, peer) else { continue };
            let _ = std_stream.set_nonblocking(true);
            let mut stream = MioStream::from_std(std_stream);
            let token = Token(self.next_token);
            self.next_token = self.next_token.wrapping_add(1).max(2);
            if self.poll.registry().register(&mut stream, token, Interest::READABLE | Interest::WRITABLE).is_err() {
                self.pool.shared.forget(entry.id);
                continue;
            }
            // A client that does not log in within CONNECT_TIMEOUT is dropped.
            let watched = Arc::downgrade(&entry);
            self.pool.timer.at(
                Instant::now() + crate::server::CONNECT_TIMEOUT,
                Box::new(move || {
                    if let Some(e) = watched.upgrade().filter(|e| !e.authenticated.load(Ordering::Relaxed)) {
                        e.stop_reading();
                    }
                }),
            );
            let conn = Conn::new(self.pool.shared.clone(), entry, session);
            let task = Box::new(Task {
                token,
                stream,
                conn,
                input: Vec::new(),
                resume: false,
                close_after_flush: false,
                stream_more: false,
                queued_at: Instant::now(),
            });
            self.service(task);
        }
    }

    fn run(&mut self) {
        let mut events = Events::with_capacity(1024);
        let mut listening = true;
        loop {
            if self.pool.shared.shutting_down() {
                if listening {
                    let _ = self.poll.registry().deregister(&mut self.listener);
                    listening = false;
                }
                // Idle connections end now; busy ones once a worker files
                // them idle or sends them back (so the sweep repeats).
                let tasks: Vec<Box<Task>> = self.pool.idle.lock().tasks.drain().map(|(_, t)| t).collect();
                for task in tasks {
                    self.service(task);
                }
                if self.pool.shared.connection_count() == 0 {
                    return;
                }
            }
            if let Err(e) = self.poll.poll(&mut events, Some(Duration::from_millis(100))) {
                if e.kind() != ErrorKind::Interrupted {
                    tracing::error!(error = %e, "event loop poll failed");
                    return;
                }
            }
            for ev in events.iter() {
                match ev.token() {
                    LISTENER => {
                        if listening {
                            self.accept();
                        }
                    }
                    WAKER => {}
                    t => {
                        let found = {
                            let mut idle = self.pool.idle.lock();
                            let found = idle.tasks.remove(&t);
                            if found.is_none() {
                                // Away on a worker, queued or parked.
                                idle.missed.insert(t);
                            }
                            found
                        };
                        if let Some(task) = found {
                            self.service(task);
                        }
                    }
                }
            }
            while let Ok(task) = self.back.try_recv() {
                self.service(task);
            }
        }
    }
}

/// Serves connections from `listener` with `workers` threads until
/// shutdown; returns when every connection is closed and the workers have
/// stopped.
pub fn run(listener: std::net::TcpListener, shared: Arc<Shared>, workers: usize) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let mut listener = MioListener::from_std(listener);
    let poll = Poll::new()?;
    poll.registry().register(&mut listener, LISTENER, Interest::READABLE)?;
    let waker = Waker::new(poll.registry(), WAKER)?;
    let (back_tx, back_rx) = crossbeam::channel::unbounded();
    let deques: Vec<Deque<Box<Task>>> = (0..workers).map(|_| Deque::new_fifo()).collect();
    let timer = Timer::new();
    let pool = Arc::new(Pool {
        injector: Injector::new(),
        idle: Mutex::new(Idle::default()),
        stealers: deques.iter().map(Deque::stealer).collect(),
        sleep: Mutex::new(()),
        wake: Condvar::new(),
        stop: AtomicBool::new(false),
        back: back_tx,
        waker,
        timer: timer.clone(),
        shared: shared.clone(),
    });
    shared.sched.workers.store(workers, Ordering::Relaxed);
    let mut threads = Vec::new();
    for (i, local) in deques.into_iter().enumerate() {
        let p = pool.clone();
        threads.push(std::thread::Builder::new().name(format!("worker-{i}")).spawn(move || worker(p, local))?);
    }
    let t = timer.clone();
    let timer_thread = std::thread::Builder::new().name("timer".into()).spawn(move || t.run())?;
    let mut el =
        EventLoop { poll, listener, next_token: 2, pool: pool.clone(), back: back_rx, buf: vec![0u8; 64 * 1024] };
    el.run();
    pool.stop.store(true, Ordering::Relaxed);
    {
        let _g = pool.sleep.lock();
        pool.wake.notify_all();
    }
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
