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

use std::sync::Arc;

use parking_lot::{Condvar, Mutex};

use crate::storage::StorageError;

type Callback = Box<dyn FnOnce(&Result<(), StorageError>) + Send>;

struct Inner {
    state: Mutex<State>,
    cv: Condvar,
}

struct State {
    done: Option<Result<(), StorageError>>,
    callbacks: Vec<Callback>,
}

/// A handle on the durability of one commit.
#[derive(Clone)]
pub struct DurableTicket(Arc<Inner>);

impl DurableTicket {
    /// A ticket that is still pending.
    pub fn pending() -> DurableTicket {
        DurableTicket(Arc::new(Inner {
            state: Mutex::new(State { done: None, callbacks: Vec::new() }),
            cv: Condvar::new(),
        }))
    }

    /// A ticket that is already durable (memory engines, non-durable commits).
    pub fn ready() -> DurableTicket {
        let t = DurableTicket::pending();
        t.complete(Ok(()));
        t
    }

    /// Marks the ticket complete and runs its callbacks. Called by the engine.
    pub fn complete(&self, result: Result<(), StorageError>) {
        let callbacks = {
            let mut st = self.0.state.lock();
            if st.done.is_some() {
                return;
            }
            st.done = Some(result.clone());
            std::mem::take(&mut st.callbacks)
        };
        self.0.cv.notify_all();
        for cb in callbacks {
            cb(&result);
        }
    }

    /// The outcome, if complete.
    pub fn poll(&self) -> Option<Result<(), StorageError>> {
        self.0.state.lock().done.clone()
    }

    /// Blocks the calling thread until complete.
    pub fn wait(&self) -> Result<(), StorageError> {
        let mut st = self.0.state.lock();
        loop {
            if let Some(r) = &st.done {
                return r.clone();
            }
            self.0.cv.wait(&mut st);
        }
    }

    /// Runs `f` once the ticket completes (immediately if it has).
    pub fn on_complete(&self, f: impl FnOnce(&Result<(), StorageError>) + Send + 'static) {
        let mut st = self.0.state.lock();
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
    fn waiting_thread_wakes() {
        let t = DurableTicket::pending();
        let t2 = t.clone();
        let h = std::thread::spawn(move || t2.wait());
        t.complete(Ok(()));
        assert!(h.join().map(|r| r.is_ok()).unwrap_or(false));
    }
}
