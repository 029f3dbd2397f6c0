//! Both scheduler plugins driven through `mizzle_plugin_api::scheduler`
//! alone, with a host that is not the server: a line-echo connection that
//! panics on `boom`, parks on `wait` until the test releases it, and
//! closes on `quit`. Checks the API's invariants: a panic in one step
//! closes that connection only; a parked connection is resumed once its
//! wait is over, holding up nobody meanwhile; every admitted connection is
//! reported closed exactly once; `run` returns after shutdown.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mizzle_plugin_api::scheduler::{Connection, Next, Park, Scheduler, SchedulerHost, SchedulerStats, Wait};
use parking_lot::{Condvar, Mutex};

/// Whether the gate is open, and the wake-ups registered meanwhile.
type GateState = (bool, Vec<Box<dyn FnOnce() + Send>>);

/// A wait the test ends by hand.
#[derive(Clone, Default)]
struct Gate(Arc<(Mutex<GateState>, Condvar)>);

impl Gate {
    fn open(&self) {
        let wakes = {
            let mut g = self.0 .0.lock();
            g.0 = true;
            self.0 .1.notify_all();
            std::mem::take(&mut g.1)
        };
        for w in wakes {
            w();
        }
    }
}

impl Wait for Gate {
    fn block(&self) {
        let mut g = self.0 .0.lock();
        while !g.0 {
            self.0 .1.wait(&mut g);
        }
    }

    fn on_ready(&self, wake: Box<dyn FnOnce() + Send>) -> Option<Instant> {
        let mut g = self.0 .0.lock();
        if g.0 {
            drop(g);
            wake();
        } else {
            g.1.push(wake);
        }
        None
    }
}

struct Echo {
    id: u64,
    out: Vec<u8>,
    stopping: Arc<AtomicBool>,
    gate: Gate,
}

impl Connection for Echo {
    fn id(&self) -> u64 {
        self.id
    }

    fn on_input(&mut self, bytes: &[u8]) -> Next {
        match bytes {
            b"boom" => panic!("a bug in a step (expected by the test)"),
            b"quit" => Next::Close,
            b"wait" => Next::Park(Park::Wait(Box::new(self.gate.clone()))),
            _ => {
                self.out.extend(bytes.iter().map(u8::to_ascii_uppercase));
                Next::Read
            }
        }
    }

    fn resume(&mut self) -> Next {
        self.out.extend_from_slice(b"RESUMED");
        Next::Read
    }

    fn output(&mut self) -> &mut Vec<u8> {
        &mut self.out
    }

    fn input_ready(&self, more: &[u8]) -> bool {
        !more.is_empty()
    }

    fn killed(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    fn logged_in(&self) -> bool {
        true
    }

    fn login_deadline(&self) -> (Duration, Box<dyn FnOnce() + Send>) {
        (Duration::from_secs(30), Box::new(|| {}))
    }

    fn set_kick(&self, _kick: Box<dyn FnOnce() + Send>) {}
}

#[derive(Default)]
struct EchoHost {
    next_id: AtomicU64,
    admitted: Mutex<Vec<u64>>,
    closed: Mutex<Vec<u64>>,
    stopping: Arc<AtomicBool>,
    gate: Gate,
    stats: SchedulerStats,
    /// The clients' sockets, to stop reading them at shutdown (as the
    /// server does: a scheduler blocked in a read then sees the end).
    streams: Mutex<std::collections::HashMap<u64, TcpStream>>,
}

impl EchoHost {
    fn shut_down(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        for s in self.streams.lock().values() {
            let _ = s.shutdown(std::net::Shutdown::Read);
        }
    }
}

impl SchedulerHost for EchoHost {
    fn admit(&self, stream: &TcpStream, _peer: SocketAddr) -> Option<Box<dyn Connection>> {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst) + 1;
        if let Ok(s) = stream.try_clone() {
            self.streams.lock().insert(id, s);
        }
        self.admitted.lock().push(id);
        Some(Box::new(Echo { id, out: b"HI".to_vec(), stopping: self.stopping.clone(), gate: self.gate.clone() }))
    }

    fn closed(&self, id: u64) {
        self.streams.lock().remove(&id);
        self.closed.lock().push(id);
    }

    fn shutting_down(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    fn connection_count(&self) -> usize {
        self.admitted.lock().len() - self.closed.lock().len()
    }

    fn stats(&self) -> &SchedulerStats {
        &self.stats
    }
}

/// Sends `what` and reads the answer (`None`: the connection closed).
fn ask(c: &mut TcpStream, what: &[u8]) -> Option<String> {
    c.write_all(what).ok()?;
    let mut buf = [0u8; 64];
    match c.read(&mut buf) {
        Ok(0) | Err(_) => None,
        Ok(n) => Some(String::from_utf8_lossy(&buf[..n]).into_owned()),
    }
}

fn connect(addr: SocketAddr) -> TcpStream {
    let mut c = TcpStream::connect(addr).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
    let mut hi = [0u8; 2];
    c.read_exact(&mut hi).expect("greeting");
    assert_eq!(&hi, b"HI");
    c
}

fn exercise(scheduler: Box<dyn Scheduler>) {
    let name = scheduler.descriptor().name;
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let host = Arc::new(EchoHost::default());
    let h: Arc<dyn SchedulerHost> = host.clone();
    let runner = std::thread::spawn(move || scheduler.run(listener, h, 2));

    let mut a = connect(addr);
    assert_eq!(ask(&mut a, b"hello").as_deref(), Some("HELLO"), "{name}");
    let mut b = connect(addr);
    assert_eq!(ask(&mut b, b"boom"), None, "{name}: the panicking connection is closed");
    assert_eq!(ask(&mut a, b"again").as_deref(), Some("AGAIN"), "{name}: the others go on");

    // A parked connection holds up nobody, and resumes once.
    let mut p = connect(addr);
    p.write_all(b"wait").expect("send wait");
    let mut c = connect(addr);
    assert_eq!(ask(&mut c, b"meanwhile").as_deref(), Some("MEANWHILE"), "{name}");
    host.gate.open();
    let mut buf = [0u8; 7];
    p.read_exact(&mut buf).expect("resumed");
    assert_eq!(&buf, b"RESUMED", "{name}");
    assert_eq!(ask(&mut p, b"after").as_deref(), Some("AFTER"), "{name}");

    assert_eq!(ask(&mut a, b"quit"), None, "{name}: quit closes");
    host.shut_down();
    // Wakes a blocking accept loop.
    let _ = TcpStream::connect(addr);
    runner.join().expect("run returns").expect("run succeeds");

    let mut admitted = host.admitted.lock().clone();
    let mut closed = host.closed.lock().clone();
    admitted.sort_unstable();
    closed.sort_unstable();
    assert!(admitted.len() >= 4, "{name}: {admitted:?}");
    assert_eq!(closed, admitted, "{name}: every connection closed exactly once");
}

#[test]
fn the_pool_scheduler_keeps_the_plugin_contract() {
    exercise(Box::new(mizzled::pool::PoolScheduler));
}

#[test]
fn the_thread_scheduler_keeps_the_plugin_contract() {
    exercise(Box::new(mizzled::per_thread::ThreadScheduler));
}

/// `mizzled` invariant 3: the schedulers see the server only through the
/// plugin API (a scheduler naming the server's types would not be a plugin).
#[test]
fn the_schedulers_name_nothing_of_the_server() {
    for file in ["src/pool.rs", "src/per_thread.rs"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        let text = std::fs::read_to_string(&path).expect("source");
        let bad: Vec<&str> = text.lines().filter(|l| l.contains("crate::") || l.contains("mizzled::")).collect();
        assert!(bad.is_empty(), "{file} uses the server's own items: {bad:?}");
    }
}
