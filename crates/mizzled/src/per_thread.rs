//! The `thread` scheduler: one thread per connection, blocking on its
//! socket and on every wait (for comparison with `pool`, and for a few
//! long-lived connections). It sees connections only through
//! `mizzle_plugin_api::scheduler`.
//!
//! Invariants:
//! 1. A connection's thread owns it from admission to close, and reports
//!    it closed once it is dropped (a panic inside a step is caught: the
//!    connection closes, its transaction rolls back, the server goes on).
//! 2. Until the client logs in, the socket's reads time out at the
//!    connection's login deadline.
//! 3. The accept loop stops at shutdown (the server wakes it with a
//!    connection to itself); `run` returns once every thread ended.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;

use mizzle_plugin_api::registry::PluginDescriptor;
use mizzle_plugin_api::scheduler::{compiled_in, Connection, Next, Park, Scheduler, SchedulerHost};

/// The `thread` scheduler plugin.
pub struct ThreadScheduler;

impl Scheduler for ThreadScheduler {
    fn descriptor(&self) -> PluginDescriptor {
        compiled_in("thread", "one thread per connection, blocking on its socket and on waits (for comparison)")
    }

    fn run(&self, listener: TcpListener, host: Arc<dyn SchedulerHost>, _workers: usize) -> std::io::Result<()> {
        let mut threads: Vec<std::thread::JoinHandle<()>> = Vec::new();
        for stream in listener.incoming() {
            if host.shutting_down() {
                break;
            }
            threads.retain(|t| !t.is_finished());
            let Ok(stream) = stream else { continue };
            let Ok(peer) = stream.peer_addr() else { continue };
            let _ = stream.set_nodelay(true);
            if let Some(t) = start(stream, peer, &host) {
                threads.push(t);
            }
        }
        for t in threads {
            let _ = t.join();
        }
        Ok(())
    }
}

fn start(stream: TcpStream, peer: SocketAddr, host: &Arc<dyn SchedulerHost>) -> Option<std::thread::JoinHandle<()>> {
    let conn = host.admit(&stream, peer)?;
    let id = conn.id();
    let (timeout, _) = conn.login_deadline();
    let _ = stream.set_read_timeout(Some(timeout));
    let host2 = host.clone();
    let spawned = std::thread::Builder::new().name(format!("conn-{id}")).spawn(move || {
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let timeouts = stream.try_clone();
            serve(stream, conn, move || {
                if let Ok(s) = timeouts {
                    let _ = s.set_read_timeout(None);
                }
            });
        }));
        if caught.is_err() {
            tracing::error!(id, "connection thread panicked (a bug); connection closed, its transaction rolled back");
        }
        host2.closed(id);
    });
    match spawned {
        Ok(t) => Some(t),
        Err(e) => {
            tracing::error!(error = %e, "cannot start a connection thread");
            host.closed(id);
            None
        }
    }
}

/// Serves one connection to its end over a blocking stream: waits block
/// the thread. `logged_in` runs once, when the client has logged in (to
/// lift the login deadline).
fn serve<S: Read + Write>(mut stream: S, mut conn: Box<dyn Connection>, logged_in: impl FnOnce()) {
    let mut logged_in = Some(logged_in);
    let mut buf = vec![0u8; 16 * 1024];
    let mut next = Next::Read;
    loop {
        if write_all(&mut stream, conn.output()).is_err() {
            return;
        }
        next = match next {
            Next::Close => return,
            Next::Read => {
                if conn.killed() {
                    return;
                }
                if conn.logged_in() {
                    if let Some(f) = logged_in.take() {
                        f();
                    }
                }
                let n = match stream.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                if conn.killed() {
                    return;
                }
                conn.on_input(buf.get(..n).unwrap_or_default())
            }
            Next::Park(Park::Wait(w)) => {
                w.block();
                conn.resume()
            }
            Next::Park(Park::Delay(d)) => {
                std::thread::sleep(d);
                conn.resume()
            }
            // The output was written above.
            Next::Stream => conn.resume(),
        };
    }
}

/// Writes and clears `out`.
fn write_all<S: Write>(stream: &mut S, out: &mut Vec<u8>) -> std::io::Result<()> {
    if out.is_empty() {
        return Ok(());
    }
    let r = stream.write_all(out).and_then(|_| stream.flush());
    out.clear();
    r
}
