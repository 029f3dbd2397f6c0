//! Lock waits: a writer that meets another transaction's uncommitted
//! version waits, parked on a [`LockWait`] ticket, for that transaction to
//! end; the wait-for graph finds a deadlock when the wait that closes it is
//! about to begin.
//!
//! There is no lock table of rows. The "lock" on a row is the provisional
//! version its writer put there (W1 in `manager`); what is recorded here is
//! only who waits for whom. A transaction waits for at most one other at a
//! time (its statement stops at the first row it cannot write), so the
//! wait-for graph is a set of chains, each edge `waiter -> holder`
//! remembering the waiter's ticket, the space of the row and how much the
//! waiter has written.
//!
//! # Worked example (a deadlock between two sessions)
//!
//! ```text
//! T5: UPDATE t SET v=1 WHERE id=1      writes row 1
//! T6: UPDATE t SET v=2 WHERE id=2      writes row 2
//! T5: UPDATE t SET v=1 WHERE id=2      row 2 is T6's: register T5 -> T6,
//!                                      T5's statement is undone and parks
//! T6: UPDATE t SET v=2 WHERE id=1      row 1 is T5's: register T6 -> T5;
//!                                      the chain from T5 leads back to T6:
//!                                      a cycle {T5, T6}. Both wrote one
//!                                      version; the younger, T6, is the
//!                                      victim: its registration returns
//!                                      `Registration::Deadlock`, T6 rolls
//!                                      back (1213), and its release wakes T5
//! T5: (wakes, runs its statement again and writes row 2)
//! ```
//!
//! Had T5 written more than T6 before the first wait the victim would be
//! the same; had T6 written more, T5 (parked) would be the victim: its
//! ticket completes with [`WaitOutcome::Deadlock`], its thread wakes and
//! rolls T5 back, and T6 waits for that rollback.
//!
//! Ticket states (function performing each): `Pending` -> `Done(Released)`
//! ([`LockTable::release`]: the holder ended, or undid a statement or a
//! savepoint) or `Done(Deadlock)` ([`LockTable::register`] of another
//! transaction chose this waiter as the victim). A pending wait is
//! withdrawn by [`LockTable::cancel`] (timeout, abandoned statement, the
//! waiter ending), which leaves its ticket pending for ever.
//!
//! Invariants:
//! L1. An edge `waiter -> holder` exists iff the waiter's ticket is pending
//!     and not withdrawn: whoever completes a ticket removes its edge in the
//!     same critical section.
//! L2. No lost wake-up: `register` reads the holder's status under the
//!     graph lock after counting itself in `active`; a holder calls
//!     `release` only after its status (or its versions) changed, and
//!     `release` skips the graph lock only when `active` is zero, which
//!     means no registration can still have read the old status.
//! L3. Every deadlock is found when it forms: a cycle needs every member to
//!     wait, and the last wait to begin is registered while the others are
//!     edges; `register` follows the chain from the holder and finds it.
//!     Edges whose holder already ended are not followed (they are being
//!     released), so no cycle is reported that would untie itself.
//! L4. The victim is the member of the cycle that has written the fewest
//!     versions (the least work to undo and to do again); among equals the
//!     youngest, the largest id (ids come from the clock, so it began last;
//!     an autocommit statement's transaction, begun deferred, draws its id
//!     at its first write or wait, so it counts as young from then).
//! L5. Lock order: a transaction's own state lock, then the graph lock,
//!     then status shard locks. The graph lock is never held with a stripe
//!     lock, and no lock is held while anyone waits. A ticket's callbacks
//!     run without the graph lock, on the releasing thread, which may hold
//!     its own transaction's state lock: a callback must only hand the
//!     waiting session back to its scheduler, not run it there.
//!
//! It does not decide what to do after a wait (run the statement again,
//! restart it on a newer snapshot, fail): that is `txn` and the session.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::ids::{SpaceId, TxnId};
use crate::status::{Status, StatusTable};

/// How a wait ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WaitOutcome {
    /// The awaited transaction ended or undid writes: look again.
    Released,
    /// This transaction was chosen as a deadlock victim; it must roll back.
    Deadlock(Arc<DeadlockReport>),
}

/// One wait of a deadlock cycle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CycleWait {
    /// The waiting transaction.
    pub waiter: TxnId,
    /// The transaction it waited for.
    pub holder: TxnId,
    /// The space of the row it waited for.
    pub space: SpaceId,
    /// Versions the waiter had written when its wait began.
    pub writes: usize,
}

/// A deadlock that was found and broken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadlockReport {
    /// The waits of the cycle, the one whose registration closed it first.
    pub cycle: Vec<CycleWait>,
    /// The transaction rolled back to break it (L4).
    pub victim: TxnId,
    /// Deadlocks found in this database before this one.
    pub seq: u64,
}

impl DeadlockReport {
    /// Every space of a row waited for, in cycle order, without repeats.
    pub fn spaces(&self) -> Vec<SpaceId> {
        let mut v: Vec<SpaceId> = Vec::new();
        for w in &self.cycle {
            if !v.contains(&w.space) {
                v.push(w.space);
            }
        }
        v
    }
}

type Callback = Box<dyn FnOnce(&WaitOutcome) + Send>;

struct TicketState {
    done: Option<WaitOutcome>,
    callbacks: Vec<Callback>,
}

struct TicketInner {
    state: Mutex<TicketState>,
    cv: Condvar,
}

/// A handle on one lock wait: pending until the awaited transaction lets go
/// (or a deadlock makes this transaction the victim). Like the durability
/// ticket, it is blocked on ([`LockWait::wait`], the embedded API) or
/// watched ([`LockWait::on_complete`], a scheduler that parks the session).
/// Invariants: it completes at most once; callbacks run exactly once, on
/// the completing thread (see L5: keep them short, re-queue the session)
/// or at once if already complete.
#[derive(Clone)]
pub struct LockWait(Arc<TicketInner>);

impl std::fmt::Debug for LockWait {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LockWait({:?})", self.poll())
    }
}

impl PartialEq for LockWait {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl LockWait {
    fn pending() -> LockWait {
        LockWait(Arc::new(TicketInner {
            state: Mutex::new(TicketState { done: None, callbacks: Vec::new() }),
            cv: Condvar::new(),
        }))
    }

    /// A ticket complete from the start (`Released`): parking on it is a
    /// yield, the scheduler resumes at once.
    pub fn released() -> LockWait {
        let w = LockWait::pending();
        w.complete(WaitOutcome::Released);
        w
    }

    /// Completes the ticket (once) and runs its callbacks.
    fn complete(&self, outcome: WaitOutcome) {
        let callbacks = {
            let mut st = self.0.state.lock();
            if st.done.is_some() {
                return;
            }
            st.done = Some(outcome.clone());
            std::mem::take(&mut st.callbacks)
        };
        self.0.cv.notify_all();
        for cb in callbacks {
            cb(&outcome);
        }
    }

    /// The outcome, if the wait is over.
    pub fn poll(&self) -> Option<WaitOutcome> {
        self.0.state.lock().done.clone()
    }

    /// Blocks the calling thread until the wait is over.
    pub fn wait(&self) -> WaitOutcome {
        let mut st = self.0.state.lock();
        loop {
            if let Some(o) = &st.done {
                return o.clone();
            }
            self.0.cv.wait(&mut st);
        }
    }

    /// Blocks until the wait is over or `deadline` passes (`None`: no
    /// deadline); `None` if it is still pending.
    pub fn wait_until(&self, deadline: Option<Instant>) -> Option<WaitOutcome> {
        let Some(deadline) = deadline else {
            return Some(self.wait());
        };
        let mut st = self.0.state.lock();
        loop {
            if let Some(o) = &st.done {
                return Some(o.clone());
            }
            if self.0.cv.wait_until(&mut st, deadline).timed_out() {
                return st.done.clone();
            }
        }
    }

    /// Blocks until the wait is over, `deadline` passes or `stop` says so
    /// (asked every `every`, so another thread can interrupt the wait
    /// through a flag, as KILL QUERY does); `None` if still pending.
    pub fn wait_until_or(
        &self,
        deadline: Option<Instant>,
        every: Duration,
        stop: &dyn Fn() -> bool,
    ) -> Option<WaitOutcome> {
        loop {
            let slice = Instant::now() + every;
            let until = deadline.map_or(slice, |d| d.min(slice));
            if let Some(o) = self.wait_until(Some(until)) {
                return Some(o);
            }
            if deadline.is_some_and(|d| Instant::now() >= d) || stop() {
                return None;
            }
        }
    }

    /// Blocks for at most `d`; `None` if the wait is still pending.
    pub fn wait_timeout(&self, d: Duration) -> Option<WaitOutcome> {
        self.wait_until(Instant::now().checked_add(d))
    }

    /// Runs `f` once the wait is over (at once if it is).
    pub fn on_complete(&self, f: impl FnOnce(&WaitOutcome) + Send + 'static) {
        let mut st = self.0.state.lock();
        if let Some(o) = st.done.clone() {
            drop(st);
            f(&o);
            return;
        }
        st.callbacks.push(Box::new(f));
    }
}

/// What [`LockTable::register`] decided.
pub(crate) enum Registration {
    /// The wait is registered: park on the ticket.
    Wait(LockWait),
    /// The holder ended before the wait could begin: look again at once.
    HolderGone,
    /// Waiting would close a cycle and the registering transaction is the
    /// victim (L4): it must roll back.
    Deadlock(Arc<DeadlockReport>),
}

struct Edge {
    holder: TxnId,
    space: SpaceId,
    writes: usize,
    ticket: LockWait,
    since: Instant,
}

#[derive(Default)]
struct Graph {
    /// waiter -> its one wait.
    edges: HashMap<TxnId, Edge>,
    /// holder -> the transactions waiting for it.
    waiters: HashMap<TxnId, Vec<TxnId>>,
    last_deadlock: Option<Arc<DeadlockReport>>,
}

impl Graph {
    fn remove_edge(&mut self, waiter: TxnId) -> Option<Edge> {
        let e = self.edges.remove(&waiter)?;
        if let Some(ws) = self.waiters.get_mut(&e.holder) {
            ws.retain(|w| *w != waiter);
            if ws.is_empty() {
                self.waiters.remove(&e.holder);
            }
        }
        Some(e)
    }
}

/// Lock-wait counters of one database (`SHOW STATUS`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LockStats {
    /// Waits that began.
    pub waits: u64,
    /// Waits in progress now.
    pub current_waits: u64,
    /// Total time spent in finished waits, in microseconds.
    pub wait_micros: u64,
    /// The longest finished wait, in microseconds.
    pub max_wait_micros: u64,
    /// Deadlocks found (each broken by rolling back one victim).
    pub deadlocks: u64,
    /// Waits given up at their timeout.
    pub timeouts: u64,
    /// Statements run again after a wait or on a newer snapshot.
    pub restarts: u64,
    /// The most recent deadlock.
    pub last_deadlock: Option<Arc<DeadlockReport>>,
}

/// The wait-for graph of one database; see the module documentation.
pub(crate) struct LockTable {
    graph: Mutex<Graph>,
    /// Registrations in progress plus edges in the graph (L2).
    active: AtomicUsize,
    waits: AtomicU64,
    wait_micros: AtomicU64,
    max_wait_micros: AtomicU64,
    deadlocks: AtomicU64,
    timeouts: AtomicU64,
    restarts: AtomicU64,
}

/// Cycles longer than this are not followed (they cannot exist: every
/// member waits for one other; this only bounds the walk).
const MAX_CHAIN: usize = 10_000;

impl LockTable {
    pub(crate) fn new() -> LockTable {
        LockTable {
            graph: Mutex::new(Graph::default()),
            active: AtomicUsize::new(0),
            waits: AtomicU64::new(0),
            wait_micros: AtomicU64::new(0),
            max_wait_micros: AtomicU64::new(0),
            deadlocks: AtomicU64::new(0),
            timeouts: AtomicU64::new(0),
            restarts: AtomicU64::new(0),
        }
    }

    /// Begins a wait of `waiter` (which has written `writes` versions) for
    /// `holder`, whose uncommitted version of a row in `space` it met; or
    /// finds the holder gone, or a deadlock (L2, L3, L4).
    pub(crate) fn register(
        &self,
        waiter: TxnId,
        writes: usize,
        holder: TxnId,
        space: SpaceId,
        status: &StatusTable,
    ) -> Registration {
        let running = |t: TxnId| matches!(status.get(t), Some(Status::Active) | Some(Status::Committing(_)));
        // Counted before the holder's status is read (L2).
        self.active.fetch_add(1, Ordering::SeqCst);
        let mut victim_ticket = None;
        let outcome = {
            let mut g = self.graph.lock();
            if let Some(old) = g.remove_edge(waiter) {
                // A stale wait of this transaction (it gave up without
                // saying so): withdrawn, as its next write shows.
                self.finish_edge(&old);
            }
            if !running(holder) {
                self.active.fetch_sub(1, Ordering::SeqCst);
                return Registration::HolderGone;
            }
            let mut cycle = vec![CycleWait { waiter, holder, space, writes }];
            let mut cur = holder;
            let mut closed = false;
            while cycle.len() <= MAX_CHAIN {
                if cur == waiter {
                    closed = true;
                    break;
                }
                let Some(e) = g.edges.get(&cur) else { break };
                if !running(e.holder) {
                    break;
                }
                cycle.push(CycleWait { waiter: cur, holder: e.holder, space: e.space, writes: e.writes });
                cur = e.holder;
            }
            if closed {
                let victim = cycle
                    .iter()
                    .min_by(|a, b| a.writes.cmp(&b.writes).then(b.waiter.cmp(&a.waiter)))
                    .map(|w| w.waiter)
                    .unwrap_or(waiter);
                let seq = self.deadlocks.fetch_add(1, Ordering::SeqCst);
                let report = Arc::new(DeadlockReport { cycle, victim, seq });
                g.last_deadlock = Some(report.clone());
                if victim == waiter {
                    self.active.fetch_sub(1, Ordering::SeqCst);
                    return Registration::Deadlock(report);
                }
                if let Some(e) = g.remove_edge(victim) {
                    self.finish_edge(&e);
                    victim_ticket = Some((e.ticket, report));
                }
            }
            let ticket = LockWait::pending();
            g.edges.insert(waiter, Edge { holder, space, writes, ticket: ticket.clone(), since: Instant::now() });
            g.waiters.entry(holder).or_default().push(waiter);
            self.waits.fetch_add(1, Ordering::Relaxed);
            Registration::Wait(ticket)
        };
        // Outside the graph lock (L5).
        if let Some((t, report)) = victim_ticket {
            t.complete(WaitOutcome::Deadlock(report));
        }
        outcome
    }

    /// Wakes every transaction waiting for `holder`: it ended, or undid
    /// writes they may be waiting for. Called after the status or the
    /// versions changed (L2).
    pub(crate) fn release(&self, holder: TxnId) {
        if self.active.load(Ordering::SeqCst) == 0 {
            return;
        }
        let tickets: Vec<LockWait> = {
            let mut g = self.graph.lock();
            let Some(ws) = g.waiters.remove(&holder) else { return };
            let mut out = Vec::with_capacity(ws.len());
            for w in ws {
                if let Some(e) = g.edges.remove(&w) {
                    self.finish_edge(&e);
                    out.push(e.ticket);
                }
            }
            out
        };
        for t in tickets {
            t.complete(WaitOutcome::Released);
        }
    }

    /// Withdraws `waiter`'s wait. True if it was still pending (the caller
    /// gave up on it); false if there was none or it already completed.
    pub(crate) fn cancel(&self, waiter: TxnId, timed_out: bool) -> bool {
        if self.active.load(Ordering::SeqCst) == 0 {
            return false;
        }
        let mut g = self.graph.lock();
        match g.remove_edge(waiter) {
            Some(e) => {
                self.finish_edge(&e);
                if timed_out {
                    self.timeouts.fetch_add(1, Ordering::Relaxed);
                }
                true
            }
            None => false,
        }
    }

    /// Accounts for an edge leaving the graph.
    fn finish_edge(&self, e: &Edge) {
        let us = e.since.elapsed().as_micros().min(u64::MAX as u128) as u64;
        self.wait_micros.fetch_add(us, Ordering::Relaxed);
        self.max_wait_micros.fetch_max(us, Ordering::Relaxed);
        self.active.fetch_sub(1, Ordering::SeqCst);
    }

    /// Counts a statement run again.
    pub(crate) fn note_restart(&self) {
        self.restarts.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn stats(&self) -> LockStats {
        let g = self.graph.lock();
        LockStats {
            waits: self.waits.load(Ordering::Relaxed),
            current_waits: g.edges.len() as u64,
            wait_micros: self.wait_micros.load(Ordering::Relaxed),
            max_wait_micros: self.max_wait_micros.load(Ordering::Relaxed),
            deadlocks: self.deadlocks.load(Ordering::Relaxed),
            timeouts: self.timeouts.load(Ordering::Relaxed),
            restarts: self.restarts.load(Ordering::Relaxed),
            last_deadlock: g.last_deadlock.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn running(ids: &[u64]) -> StatusTable {
        let s = StatusTable::new();
        for &i in ids {
            s.set(TxnId(i), Status::Active);
        }
        s
    }

    fn wait(r: Registration) -> LockWait {
        match r {
            Registration::Wait(t) => t,
            Registration::HolderGone => panic!("holder gone"),
            Registration::Deadlock(_) => panic!("deadlock"),
        }
    }

    #[test]
    fn release_completes_waiters_once_and_runs_callbacks() {
        let st = running(&[1, 2, 3]);
        let l = LockTable::new();
        let a = wait(l.register(TxnId(2), 0, TxnId(1), SpaceId(9), &st));
        let b = wait(l.register(TxnId(3), 0, TxnId(1), SpaceId(9), &st));
        let n = Arc::new(AtomicUsize::new(0));
        let n2 = n.clone();
        a.on_complete(move |o| {
            assert_eq!(*o, WaitOutcome::Released);
            n2.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(l.stats().current_waits, 2);
        l.release(TxnId(1));
        l.release(TxnId(1));
        assert_eq!(n.load(Ordering::SeqCst), 1);
        assert_eq!(b.poll(), Some(WaitOutcome::Released));
        assert_eq!(l.stats().current_waits, 0);
        assert_eq!(l.active.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn ended_holder_is_not_waited_for() {
        let st = running(&[2]);
        st.set(TxnId(1), Status::Committed(crate::ids::Ts(5)));
        let l = LockTable::new();
        assert!(matches!(l.register(TxnId(2), 0, TxnId(1), SpaceId(9), &st), Registration::HolderGone));
        assert_eq!(l.active.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn closing_a_cycle_picks_the_fewest_writes_then_the_youngest() {
        // 1 -> 2 -> 3, then 3 -> 1 closes the cycle. Writes: 1:5, 2:1, 3:1.
        let st = running(&[1, 2, 3]);
        let l = LockTable::new();
        let t1 = wait(l.register(TxnId(1), 5, TxnId(2), SpaceId(7), &st));
        let t2 = wait(l.register(TxnId(2), 1, TxnId(3), SpaceId(8), &st));
        // 2 and 3 tie on writes; 3 is younger and is the registering one.
        match l.register(TxnId(3), 1, TxnId(1), SpaceId(9), &st) {
            Registration::Deadlock(r) => {
                assert_eq!(r.victim, TxnId(3));
                assert_eq!(r.cycle.len(), 3);
                assert_eq!(r.spaces(), vec![SpaceId(9), SpaceId(7), SpaceId(8)]);
            }
            _ => panic!("expected a deadlock"),
        }
        assert!(t1.poll().is_none() && t2.poll().is_none());
        assert_eq!(l.stats().deadlocks, 1);
    }

    #[test]
    fn a_parked_victim_is_woken_with_the_deadlock() {
        // 1 -> 2 (1 wrote nothing), then 2 -> 1 (2 wrote 3): 1 is the victim.
        let st = running(&[1, 2]);
        let l = LockTable::new();
        let t1 = wait(l.register(TxnId(1), 0, TxnId(2), SpaceId(7), &st));
        let t2 = wait(l.register(TxnId(2), 3, TxnId(1), SpaceId(8), &st));
        match t1.poll() {
            Some(WaitOutcome::Deadlock(r)) => assert_eq!(r.victim, TxnId(1)),
            other => panic!("victim not told: {other:?}"),
        }
        assert!(t2.poll().is_none(), "the survivor waits for the victim's rollback");
        l.release(TxnId(1));
        assert_eq!(t2.poll(), Some(WaitOutcome::Released));
    }

    #[test]
    fn edges_to_ended_holders_close_no_cycle() {
        let st = running(&[1, 2]);
        let l = LockTable::new();
        let _t1 = wait(l.register(TxnId(1), 0, TxnId(2), SpaceId(7), &st));
        // 2 ends (its release has not run yet); 3 waits for 1, 1 waits for
        // the ended 2: no cycle, nothing to break.
        st.set(TxnId(3), Status::Active);
        let _t3 = wait(l.register(TxnId(3), 0, TxnId(1), SpaceId(7), &st));
        st.set(TxnId(2), Status::Aborted { cleaned: None });
        let r = l.register(TxnId(2), 0, TxnId(3), SpaceId(7), &st);
        assert!(matches!(r, Registration::Wait(_)), "2 is not running, but registers as a waiter of 3");
        assert_eq!(l.stats().deadlocks, 0);
    }

    #[test]
    fn cancel_withdraws_a_pending_wait_only() {
        let st = running(&[1, 2]);
        let l = LockTable::new();
        let t = wait(l.register(TxnId(2), 0, TxnId(1), SpaceId(9), &st));
        assert!(l.cancel(TxnId(2), true));
        assert!(!l.cancel(TxnId(2), true));
        assert!(t.poll().is_none());
        let s = l.stats();
        assert_eq!((s.timeouts, s.current_waits, s.waits), (1, 0, 1));
        assert!(t.wait_timeout(Duration::from_millis(1)).is_none());
    }
}
