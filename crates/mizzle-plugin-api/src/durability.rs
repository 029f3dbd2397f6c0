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
//!    block in `wait`, with no lock held; completion never depends on it.

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
        })))
    }

    /// A pending ticket whose first blocking waiter runs `help` before it
    /// sleeps: an engine hands it the flush that completes the ticket, so a
    /// lone committer does its own I/O instead of waking another thread and
    /// being woken back. Waiters that park ([`DurableTicket::on_complete`])
    /// never run it; the engine must complete the ticket without it.
    pub fn pending_with_helper(help: impl FnOnce() + Send + 'static) -> DurableTicket {
        let inner = Arc::new(Inner {
            state: Mutex::new(State { done: None, callbacks: Vec::new() }),
            cv: Condvar::new(),
            helper: Mutex::new(Some(Box::new(help))),
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
        let Some(inner) = &self.0 else { return Ok(()) };
        if inner.state.lock().done.is_none() {
            let help = inner.helper.lock().take();
            if let Some(h) = help {
                h();
            }
        }
        let mut st = inner.state.lock();
        loop {
            if let Some(r) = &st.done {
                return r.clone();
            }
            inner.cv.wait(&mut st);
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
        let t = DurableTicket::pending_with_helper(move || {
            r.fetch_add(1, Ordering::SeqCst);
        });
        let t2 = t.clone();
        t2.on_complete(|_| {});
        assert_eq!(runs.load(Ordering::SeqCst), 0, "parking does not run it");
        let done = t.clone();
        // The helper completes the ticket, as an engine's flush does.
        let t3 = DurableTicket::pending_with_helper(move || done.complete(Ok(())));
        let _ = t3;
        t.complete(Ok(()));
        assert!(t.wait().is_ok());
        assert_eq!(runs.load(Ordering::SeqCst), 0, "not run once the ticket is complete");
        let runs2 = Arc::new(AtomicUsize::new(0));
        let r2 = runs2.clone();
        let slot: Arc<Mutex<Option<DurableTicket>>> = Arc::new(Mutex::new(None));
        let s2 = slot.clone();
        let t = DurableTicket::pending_with_helper(move || {
            r2.fetch_add(1, Ordering::SeqCst);
            if let Some(t) = s2.lock().take() {
                t.complete(Ok(()));
            }
        });
        *slot.lock() = Some(t.clone());
        assert!(t.wait().is_ok(), "the helper completed it");
        assert!(t.wait().is_ok());
        assert_eq!(runs2.load(Ordering::SeqCst), 1, "run exactly once");
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
