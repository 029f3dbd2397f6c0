//! Tickets for "this write is durable": the point where a committing session
//! may park without holding a thread.
//!
//! A [`DurableTicket`] is handed out by a storage engine when it accepts a
//! commit batch. States: `Pending` -> `Done(Ok)` or `Done(Err)`, set once by
//! the engine with [`DurableTicket::complete`]. Waiters either block
//! ([`DurableTicket::wait`], the embedded API) or register a callback
//! ([`DurableTicket::on_complete`], the server's scheduler re-queues the
//! session from it). Invariants:
//! 1. A ticket completes exactly once; later `complete` calls are ignored.
//! 2. Callbacks run exactly once, on the completing thread or immediately if
//!    already complete; no lock is held while they run.
//! 3. A ticket's helper (if any) runs at most once, on a thread about to
//!    block in `wait` or that calls [`DurableTicket::help`], with no lock
//!    held; completion never depends on it.
//! 4. A ticket's nudge (if any) runs at most once, with no lock held, the
//!    first time a waiter blocks in `wait` or registers a callback while
//!    the ticket is pending: an engine that hands out a helper need not
//!    wake its own flusher when it makes the ticket (the committer may
//!    flush itself), only when someone is left waiting.

use std::sync::Arc;

use parking_lot::{Condvar, Mutex};

use crate::storage::StorageError;

type Callback = Box<dyn FnOnce(&Result<(), StorageError>) + Send>;

type Helper = Box<dyn FnOnce() + Send>;

struct Inner {
    state: Mutex<State>,
    cv: Condvar,
    /// Work a blocking waiter may do itself before it sleeps (an engine's
    /// log flush), taken by the first [`DurableTicket::wait`].
    helper: Mutex<Option<Helper>>,
    /// Tells the engine someone waits (invariant 4).
    nudge: Mutex<Option<Helper>>,
}

impl Inner {
    /// Runs the nudge if it has not run (invariant 4).
    fn nudge(&self) {
        let nudge = self.nudge.lock().take();
        if let Some(n) = nudge {
            n();
        }
    }
}

struct State {
    done: Option<Result<(), StorageError>>,
    callbacks: Vec<Callback>,
}

/// A handle on the durability of one commit. A ticket made complete-and-Ok
/// by [`DurableTicket::ready`] holds nothing (no allocation, no shared
/// state): memory engines hand one out for every write.
#[derive(Clone)]
pub struct DurableTicket(Option<Arc<Inner>>);

impl DurableTicket {
    /// A ticket that is still pending.
    pub fn pending() -> DurableTicket {
        DurableTicket(Some(Arc::new(Inner {
            state: Mutex::new(State { done: None, callbacks: Vec::new() }),
            cv: Condvar::new(),
            helper: Mutex::new(None),
            nudge: Mutex::new(None),
        })))
    }

    /// A pending ticket whose first blocking waiter runs `help` before it
    /// sleeps: an engine hands it the flush that completes the ticket, so a
    /// lone committer does its own I/O instead of waking another thread and
    /// being woken back. Waiters that park ([`DurableTicket::on_complete`])
    /// never run it; the engine must complete the ticket without it once
    /// `nudge` has run (the first blocking or parking waiter runs it,
    /// after the helper if the helper left the ticket pending).
    pub fn pending_with_helper(
        help: impl FnOnce() + Send + 'static,
        nudge: impl FnOnce() + Send + 'static,
    ) -> DurableTicket {
        let inner = Arc::new(Inner {
            state: Mutex::new(State { done: None, callbacks: Vec::new() }),
            cv: Condvar::new(),
            helper: Mutex::new(Some(Box::new(help))),
            nudge: Mutex::new(Some(Box::new(nudge))),
        });
        DurableTicket(Some(inner))
    }

    /// A ticket that is already durable (memory engines, non-durable commits).
    pub fn ready() -> DurableTicket {
        DurableTicket(None)
    }

    /// Marks the ticket complete and runs its callbacks. Called by the engine.
    pub fn complete(&self, result: Result<(), StorageError>) {
        // A ready ticket is complete already (invariant 1).
        let Some(inner) = &self.0 else { return };
        let callbacks = {
            let mut st = inner.state.lock();
            if st.done.is_some() {
                return;
            }
            st.done = Some(result.clone());
            std::mem::take(&mut st.callbacks)
        };
        inner.cv.notify_all();
        for cb in callbacks {
            cb(&result);
        }
    }

    /// The outcome, if complete.
    pub fn poll(&self) -> Option<Result<(), StorageError>> {
        match &self.0 {
            None => Some(Ok(())),
            Some(inner) => inner.state.lock().done.clone(),
        }
    }

    /// Blocks the calling thread until complete (running the ticket's
    /// helper first, if it has one and nobody ran it yet).
    pub fn wait(&self) -> Result<(), StorageError> {
        self.help();
        let Some(inner) = &self.0 else { return Ok(()) };
        if inner.state.lock().done.is_none() {
            inner.nudge();
        }
        let mut st = inner.state.lock();
        loop {
            if let Some(r) = &st.done {
                return r.clone();
            }
            inner.cv.wait(&mut st);
        }
    }

    /// Runs the ticket's helper on the calling thread, if it has one, the
    /// ticket is still pending and nobody ran it yet; never waits for the
    /// ticket (a caller that would rather flush than park: the commit's
    /// flush then runs here instead of on the engine's writer thread). The
    /// ticket may still be pending afterwards (the engine declined: a flush
    /// was already running, say).
    pub fn help(&self) {
        let Some(inner) = &self.0 else { return };
        if inner.state.lock().done.is_none() {
            let help = inner.helper.lock().take();
            if let Some(h) = help {
                h();
            }
        }
    }

    /// Runs `f` once the ticket completes (immediately if it has).
    pub fn on_complete(&self, f: impl FnOnce(&Result<(), StorageError>) + Send + 'static) {
        let Some(inner) = &self.0 else {
            f(&Ok(()));
            return;
        };
        let mut st = inner.state.lock();
        if let Some(r) = st.done.clone() {
            drop(st);
            f(&r);
            return;
        }
        st.callbacks.push(Box::new(f));
        drop(st);
        inner.nudge();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn callbacks_run_once_on_completion() {
        let t = DurableTicket::pending();
        let n = Arc::new(AtomicUsize::new(0));
        let n2 = n.clone();
        t.on_complete(move |r| {
            assert!(r.is_ok());
            n2.fetch_add(1, Ordering::SeqCst);
        });
        assert!(t.poll().is_none());
        t.complete(Ok(()));
        t.complete(Err(StorageError::Closed));
        assert_eq!(n.load(Ordering::SeqCst), 1);
        assert!(t.wait().is_ok());
    }

    #[test]
    fn a_ready_ticket_is_complete_and_ok_and_stays_so() {
        let t = DurableTicket::ready();
        assert!(matches!(t.poll(), Some(Ok(()))));
        t.complete(Err(StorageError::Closed));
        assert!(matches!(t.clone().poll(), Some(Ok(()))), "a later complete is ignored");
        let n = Arc::new(AtomicUsize::new(0));
        let n2 = n.clone();
        t.on_complete(move |r| {
            assert!(r.is_ok());
            n2.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(n.load(Ordering::SeqCst), 1, "the callback ran at once");
        assert!(t.wait().is_ok());
    }

    #[test]
    fn a_blocking_waiter_runs_the_helper_once_and_parked_ones_never() {
        let runs = Arc::new(AtomicUsize::new(0));
        let r = runs.clone();
        let t = DurableTicket::pending_with_helper(
            move || {
                r.fetch_add(1, Ordering::SeqCst);
            },
            || {},
        );
        let t2 = t.clone();
        t2.on_complete(|_| {});
        assert_eq!(runs.load(Ordering::SeqCst), 0, "parking does not run it");
        let done = t.clone();
        // The helper completes the ticket, as an engine's flush does.
        let t3 = DurableTicket::pending_with_helper(move || done.complete(Ok(())), || {});
        let _ = t3;
        t.complete(Ok(()));
        assert!(t.wait().is_ok());
        assert_eq!(runs.load(Ordering::SeqCst), 0, "not run once the ticket is complete");
        let runs2 = Arc::new(AtomicUsize::new(0));
        let r2 = runs2.clone();
        let slot: Arc<Mutex<Option<DurableTicket>>> = Arc::new(Mutex::new(None));
        let s2 = slot.clone();
        let t = DurableTicket::pending_with_helper(
            move || {
                r2.fetch_add(1, Ordering::SeqCst);
                if let Some(t) = s2.lock().take() {
                    t.complete(Ok(()));
                }
            },
            || {},
        );
        *slot.lock() = Some(t.clone());
        assert!(t.wait().is_ok(), "the helper completed it");
        assert!(t.wait().is_ok());
        assert_eq!(runs2.load(Ordering::SeqCst), 1, "run exactly once");
    }

    #[test]
    fn the_nudge_runs_once_when_a_waiter_is_left_waiting() {
        let nudges = Arc::new(AtomicUsize::new(0));
        let helps = Arc::new(AtomicUsize::new(0));
        let make = |completes: bool| {
            let (n, h) = (nudges.clone(), helps.clone());
            let slot: Arc<Mutex<Option<DurableTicket>>> = Arc::new(Mutex::new(None));
            let s2 = slot.clone();
            let t = DurableTicket::pending_with_helper(
                move || {
                    h.fetch_add(1, Ordering::SeqCst);
                    if completes {
                        if let Some(t) = s2.lock().take() {
                            t.complete(Ok(()));
                        }
                    }
                },
                move || {
                    n.fetch_add(1, Ordering::SeqCst);
                },
            );
            *slot.lock() = Some(t.clone());
            t
        };
        // Made, polled, helped to completion: nobody was left waiting.
        let t = make(true);
        assert!(t.poll().is_none());
        t.help();
        assert!(t.poll().is_some());
        t.on_complete(|_| {});
        assert!(t.wait().is_ok());
        assert_eq!((helps.load(Ordering::SeqCst), nudges.load(Ordering::SeqCst)), (1, 0));
        // A helper that declines: the parked waiter nudges, once.
        let t = make(false);
        t.help();
        t.on_complete(|_| {});
        t.on_complete(|_| {});
        assert_eq!((helps.load(Ordering::SeqCst), nudges.load(Ordering::SeqCst)), (2, 1));
        t.complete(Ok(()));
        // A blocking waiter whose helper declines nudges before it sleeps.
        let t = make(false);
        let t2 = t.clone();
        let h = std::thread::spawn(move || t2.wait());
        while nudges.load(Ordering::SeqCst) < 2 {
            std::thread::yield_now();
        }
        t.complete(Ok(()));
        assert!(h.join().map(|r| r.is_ok()).unwrap_or(false));
        assert_eq!((helps.load(Ordering::SeqCst), nudges.load(Ordering::SeqCst)), (3, 2));
    }

    #[test]
    fn waiting_thread_wakes() {
        let t = DurableTicket::pending();
        let t2 = t.clone();
        let h = std::thread::spawn(move || t2.wait());
        t.complete(Ok(()));
        assert!(h.join().map(|r| r.is_ok()).unwrap_or(false));
    }
}
