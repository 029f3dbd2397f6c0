//! Scripted tests of lock waits, restarts and deadlocks, over the memory
//! engine, on one thread: a blocked transaction's ticket is polled, never
//! slept on, so every script is deterministic.
//!
//! A script is one command per line, `tN: command [-> expected]`. A line
//! without `->` must print `ok`. Each data command runs as a statement of
//! its own (`begin_statement`, the operation, `end_statement`) unless the
//! transaction opened one with `stmt` (then it runs inside it until `end`).
//! Commands: `begin rc|rr|ser [deferred|eager]` (the id drawn at the
//! first write or wait, `TxnManager::begin_deferred`, or at begin; without
//! the word, as the run says: [`check`] runs every script both ways), `get K`, `put K V`, `insert K V`,
//! `delete K`, `lock K` (FOR UPDATE), `share K` (FOR SHARE), `policy
//! wait|nowait|skip`, `stmt`, `end`, `savepoint S`, `rollback_to S`,
//! `commit`, `rollback`, `resume` (after a block: resume and run the
//! blocked command again, or print `still waiting`), `giveup` (timeout).

use std::collections::HashMap;
use std::sync::Arc;

use mizzle_txn::{Blocked, IsolationLevel, SpaceId, Txn, TxnError, TxnId, TxnManager, TxnOptions, WaitPolicy};

/// How a script's `begin` without `deferred` or `eager` draws the id.
#[derive(Clone, Copy, Debug)]
enum Ids {
    AtBegin,
    Deferred,
}
use storage_memory::MemoryEngine;

const S: SpaceId = SpaceId(100);

struct Client {
    txn: Txn,
    /// The command to run again after a block.
    blocked: Option<String>,
    /// An explicit statement is open.
    in_stmt: bool,
}

struct Harness {
    m: TxnManager,
    clients: HashMap<String, Client>,
    ids: Ids,
}

impl Harness {
    fn new(ids: Ids) -> Harness {
        Harness { m: TxnManager::new(Arc::new(MemoryEngine::new())), clients: HashMap::new(), ids }
    }

    /// The client whose transaction has `id` (deferred ones have theirs
    /// once they wrote or waited, which any transaction named in a wait or
    /// a deadlock has).
    fn name(&self, id: TxnId) -> Option<String> {
        self.clients.iter().find(|(_, c)| c.txn.id() == id).map(|(n, _)| n.clone())
    }

    fn error(&self, e: &TxnError) -> String {
        match e {
            TxnError::Deadlock { report } => {
                let v = self.name(report.victim).unwrap_or_else(|| format!("{:?}", report.victim));
                format!("deadlock 1213, victim {v}")
            }
            TxnError::WriteConflict { .. } => "conflict 1213".into(),
            TxnError::SerializationFailure { .. } => "serialization 1213".into(),
            TxnError::LockNowait { .. } => "nowait 3572".into(),
            other => format!("error {other}"),
        }
    }

    /// Runs one data operation inside the current statement.
    fn op(&self, t: &Txn, words: &[&str]) -> Result<String, TxnError> {
        let k = |i: usize| words.get(i).copied().unwrap_or("").as_bytes().to_vec();
        Ok(match words.first().copied().unwrap_or("") {
            "get" => match t.get(S, &k(1))? {
                Some(v) => format!("= {}", String::from_utf8_lossy(&v)),
                None => "= absent".into(),
            },
            "put" => {
                t.put(S, &k(1), &k(2))?;
                "ok".into()
            }
            "insert" => {
                if t.insert(S, &k(1), &k(2))? {
                    "ok".into()
                } else {
                    "present".into()
                }
            }
            "delete" => {
                t.delete(S, &k(1))?;
                "ok".into()
            }
            "lock" => {
                if t.lock_row(S, &k(1))? {
                    "ok".into()
                } else {
                    "skipped".into()
                }
            }
            "share" => {
                if t.lock_row_shared(S, &k(1))? {
                    "ok".into()
                } else {
                    "skipped".into()
                }
            }
            other => panic!("unknown operation {other}"),
        })
    }

    /// Runs a data command as (or inside) a statement, noting a block.
    fn data(&mut self, who: &str, cmd: &str) -> String {
        let c = self.clients.get(who).expect("client began");
        let t = c.txn.clone();
        let in_stmt = c.in_stmt;
        if !in_stmt {
            if let Err(e) = t.begin_statement() {
                return self.error(&e);
            }
        }
        let words: Vec<&str> = cmd.split_whitespace().collect();
        let already = t.blocked().is_some();
        let r = self.op(&t, &words);
        if already {
            return r.unwrap_or_else(|e| self.error(&e));
        }
        match r {
            Ok(out) => {
                if !in_stmt {
                    t.end_statement(true).expect("end statement");
                }
                out
            }
            Err(e) => {
                if !in_stmt {
                    let _ = t.end_statement(false);
                }
                match t.blocked() {
                    Some(Blocked::Wait { holder, .. }) => {
                        if let Some(c) = self.clients.get_mut(who) {
                            c.blocked = Some(cmd.to_string());
                        }
                        format!("waits for {}", self.name(holder).unwrap_or_default())
                    }
                    Some(Blocked::Retry { .. }) => {
                        if let Some(c) = self.clients.get_mut(who) {
                            c.blocked = Some(cmd.to_string());
                        }
                        "retry".into()
                    }
                    None => self.error(&e),
                }
            }
        }
    }

    fn run(&mut self, who: &str, cmd: &str) -> String {
        let words: Vec<&str> = cmd.split_whitespace().collect();
        match words[0] {
            "begin" => {
                let isolation = match words.get(1).copied().unwrap_or("rr") {
                    "rc" => IsolationLevel::ReadCommitted,
                    "ser" => IsolationLevel::Serializable,
                    _ => IsolationLevel::RepeatableRead,
                };
                let opts = TxnOptions { isolation, read_only: false };
                let deferred = match words.get(2).copied() {
                    Some("deferred") => true,
                    Some("eager") => false,
                    _ => matches!(self.ids, Ids::Deferred),
                };
                let txn = if deferred { self.m.begin_deferred(opts) } else { self.m.begin(opts) };
                self.clients.insert(who.to_string(), Client { txn, blocked: None, in_stmt: false });
                "ok".into()
            }
            "stmt" => {
                let c = self.clients.get_mut(who).expect("client");
                c.in_stmt = true;
                match c.txn.begin_statement() {
                    Ok(()) => "ok".into(),
                    Err(e) => format!("error {e}"),
                }
            }
            "end" => {
                let c = self.clients.get_mut(who).expect("client");
                c.in_stmt = false;
                c.txn.end_statement(true).map(|_| "ok".to_string()).unwrap_or_else(|e| format!("error {e}"))
            }
            "policy" => {
                let p = match words.get(1).copied() {
                    Some("nowait") => WaitPolicy::NoWait,
                    Some("skip") => WaitPolicy::SkipLocked,
                    _ => WaitPolicy::Wait,
                };
                let c = self.clients.get_mut(who).expect("client");
                c.in_stmt = true;
                c.txn.begin_statement().expect("statement");
                c.txn.set_wait_policy(p);
                "ok".into()
            }
            "savepoint" => {
                let c = &self.clients[who];
                c.txn.savepoint(words[1]).map(|_| "ok".into()).unwrap_or_else(|e| self.error(&e))
            }
            "rollback_to" => {
                let c = &self.clients[who];
                c.txn.rollback_to_savepoint(words[1]).map(|_| "ok".into()).unwrap_or_else(|e| self.error(&e))
            }
            "commit" => {
                let t = self.clients[who].txn.clone();
                t.commit_blocking().map(|_| "ok".into()).unwrap_or_else(|e| self.error(&e))
            }
            "rollback" => {
                self.clients[who].txn.rollback();
                "ok".into()
            }
            "giveup" => {
                if self.clients[who].txn.give_up_wait() {
                    self.clients.get_mut(who).expect("client").blocked = None;
                    "timed out".into()
                } else {
                    "not waiting".into()
                }
            }
            "resume" => {
                let t = self.clients[who].txn.clone();
                if let Some(Blocked::Wait { ticket, .. }) = t.blocked() {
                    if ticket.poll().is_none() {
                        return "still waiting".into();
                    }
                }
                let Some(again) = self.clients.get_mut(who).and_then(|c| {
                    c.in_stmt = false;
                    c.blocked.take()
                }) else {
                    return "nothing to resume".into();
                };
                match t.resume() {
                    Ok(()) => self.data(who, &again),
                    Err(e) => self.error(&e),
                }
            }
            _ => self.data(who, cmd),
        }
    }
}

/// Runs a script, with ids drawn at begin and then deferred, and panics
/// with the whole transcript at the first line whose result differs from
/// what it expects.
fn check(script: &str) {
    check_with(script, Ids::AtBegin);
    check_with(script, Ids::Deferred);
}

fn check_with(script: &str, ids: Ids) {
    let mut h = Harness::new(ids);
    let mut transcript = format!("(ids {ids:?})\n");
    for line in script.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let (cmd, expected) = match line.split_once("->") {
            Some((c, e)) => (c.trim(), e.trim()),
            None => (line, "ok"),
        };
        let (who, what) = cmd.split_once(':').expect("line is 'tN: command'");
        let got = h.run(who.trim(), what.trim());
        transcript.push_str(&format!("{cmd} -> {got}\n"));
        assert_eq!(got, expected, "at `{cmd}`; transcript so far:\n{transcript}");
    }
}

#[test]
fn second_writer_waits_and_writes_after_the_first_commits() {
    check(
        "
        t0: begin rr
        t0: put r 0
        t0: commit
        t1: begin rc
        t2: begin rc
        t1: put r 1
        t2: put r 2 -> waits for t1
        t2: resume -> still waiting
        t1: commit
        t2: resume -> ok
        t2: commit
        t3: begin rr
        t3: get r -> = 2
        ",
    );
}

#[test]
fn readers_never_wait() {
    check(
        "
        t0: begin rr
        t0: put r 0
        t0: commit
        t1: begin rr
        t1: put r 1
        t2: begin rr
        t2: get r -> = 0
        t3: begin rc
        t3: get r -> = 0
        ",
    );
}

#[test]
fn first_statement_under_snapshot_isolation_restarts_on_a_newer_snapshot() {
    for level in ["rr", "ser"] {
        check(&format!(
            "
            t0: begin rr
            t0: put r 0
            t0: commit
            t1: begin {level}
            t2: begin {level}
            t1: put r 1
            t2: put r 2 -> waits for t1
            t1: commit
            t2: resume -> ok
            t2: get r -> = 2
            t2: commit
            "
        ));
    }
}

#[test]
fn after_a_read_the_first_committer_wins() {
    for level in ["rr", "ser"] {
        check(&format!(
            "
            t0: begin rr
            t0: put r 0
            t0: commit
            t1: begin {level}
            t2: begin {level}
            t2: get r -> = 0
            t1: put r 1
            t2: put r 2 -> waits for t1
            t1: commit
            t2: resume -> conflict 1213
            t2: get r -> error transaction is no longer active
            "
        ));
    }
}

#[test]
fn after_a_read_a_holder_that_rolls_back_lets_the_waiter_write() {
    check(
        "
        t0: begin rr
        t0: put r 0
        t0: commit
        t1: begin rr
        t2: begin rr
        t2: get r -> = 0
        t1: put r 1
        t2: put r 2 -> waits for t1
        t1: rollback
        t2: resume -> ok
        t2: commit
        t3: begin rr
        t3: get r -> = 2
        ",
    );
}

#[test]
fn a_commit_after_the_snapshot_restarts_a_read_committed_statement() {
    check(
        "
        t0: begin rr
        t0: put r 0
        t0: commit
        t2: begin rc
        t2: stmt
        t2: get x -> = absent
        t1: begin rr
        t1: put r 1
        t1: commit
        t2: put r 2 -> retry
        t2: resume -> ok
        t2: commit
        ",
    );
}

#[test]
fn a_commit_after_a_later_statements_snapshot_is_a_conflict() {
    check(
        "
        t0: begin rr
        t0: put r 0
        t0: commit
        t2: begin rr
        t2: get x -> = absent
        t1: begin rr
        t1: put r 1
        t1: commit
        t2: put r 2 -> conflict 1213
        ",
    );
}

#[test]
fn deadlock_of_two_rolls_back_the_younger_at_once() {
    check(
        "
        t1: begin rr
        t2: begin rr
        t1: put a 1
        t2: put b 2
        t1: put b 1 -> waits for t2
        t2: put a 2 -> deadlock 1213, victim t2
        t1: resume -> ok
        t1: commit
        ",
    );
}

#[test]
fn deadlock_victim_is_the_one_with_least_work_even_if_parked() {
    check(
        "
        t1: begin rr
        t2: begin rr
        t1: put a 1
        t2: put b 2
        t2: put c 2
        t1: put b 1 -> waits for t2
        t2: put a 2 -> waits for t1
        t1: resume -> deadlock 1213, victim t1
        t2: resume -> ok
        t2: commit
        t3: begin rr
        t3: get a -> = 2
        ",
    );
}

#[test]
fn deadlock_of_three_is_found_when_it_closes() {
    // READ COMMITTED: the survivors' later statements see t2's commit (under
    // REPEATABLE READ t1 would then fail: it wrote `a` before t2 committed).
    check(
        "
        t1: begin rc
        t2: begin rc
        t3: begin rc
        t1: put a 1
        t2: put b 2
        t3: put c 3
        t1: put b 1 -> waits for t2
        t2: put c 2 -> waits for t3
        t3: put a 3 -> deadlock 1213, victim t3
        t2: resume -> ok
        t2: commit
        t1: resume -> ok
        t1: commit
        ",
    );
}

#[test]
fn nowait_fails_the_statement_and_skip_locked_skips_the_row() {
    check(
        "
        t0: begin rr
        t0: put a 0
        t0: put b 0
        t0: commit
        t1: begin rc
        t1: put a 1
        t2: begin rc
        t2: policy nowait
        t2: lock a -> nowait 3572
        t2: end
        t2: policy skip
        t2: lock a -> skipped
        t2: lock b -> ok
        t2: end
        t2: share a -> waits for t1
        t1: commit
        t2: resume -> ok
        t2: commit
        ",
    );
}

#[test]
fn a_wait_that_times_out_ends_only_the_statement() {
    check(
        "
        t1: begin rr
        t2: begin rr
        t1: put a 1
        t2: put b 2
        t2: put a 2 -> waits for t1
        t2: giveup -> timed out
        t2: resume -> nothing to resume
        t2: put c 2
        t1: commit
        t2: commit
        t3: begin rr
        t3: get b -> = 2
        t3: get a -> = 1
        ",
    );
}

#[test]
fn undoing_a_savepoint_wakes_the_waiters() {
    check(
        "
        t1: begin rr
        t1: put x 1
        t1: savepoint s
        t1: put a 1
        t2: begin rc
        t2: put a 2 -> waits for t1
        t1: rollback_to s
        t2: resume -> ok
        t2: put x 2 -> waits for t1
        t1: commit
        t2: resume -> ok
        t2: commit
        ",
    );
}

#[test]
fn an_insert_waits_for_a_concurrent_insert_of_the_same_key() {
    check(
        "
        t1: begin rr
        t2: begin rr
        t1: insert k 1
        t2: insert k 2 -> waits for t1
        t1: commit
        t2: resume -> present
        t2: commit
        t3: begin rr
        t4: begin rr
        t3: insert j 1
        t4: insert j 2 -> waits for t3
        t3: rollback
        t4: resume -> ok
        ",
    );
}

#[test]
fn a_blocked_statement_refuses_further_reads_until_resumed() {
    check(
        "
        t1: begin rr
        t1: put a 1
        t2: begin rc
        t2: stmt
        t2: put z 1
        t2: put a 2 -> waits for t1
        t2: get z -> error Lock wait timeout exceeded; try restarting transaction (the statement met a lock where it cannot wait)
        t1: commit
        t2: resume -> ok
        t2: get z -> = absent
        ",
    );
}

#[test]
fn lock_stats_count_waits_and_deadlocks() {
    let mut h = Harness::new(Ids::AtBegin);
    for (who, cmd) in [("t1", "begin rr"), ("t2", "begin rr"), ("t1", "put a 1"), ("t2", "put b 2")] {
        h.run(who, cmd);
    }
    assert_eq!(h.run("t1", "put b 1"), "waits for t2");
    assert_eq!(h.m.lock_stats().current_waits, 1);
    assert_eq!(h.run("t2", "put a 2"), "deadlock 1213, victim t2");
    let s = h.m.lock_stats();
    assert_eq!((s.waits, s.deadlocks, s.current_waits), (1, 1, 0));
    let last = s.last_deadlock.expect("last deadlock kept");
    assert_eq!(last.cycle.len(), 2);
    assert_eq!(last.spaces(), vec![S]);
}

#[test]
fn a_deferred_id_is_drawn_at_the_first_write_so_the_younger_writer_is_the_victim() {
    // Both began before either wrote; t2 wrote first. Among equals the
    // victim is the largest id: drawn at begin that is t2 (began last),
    // drawn at the first write it is t1 (wrote last). Either is a correct
    // deadlock resolution; the rule that picks it is ours (locks L4).
    check_with(
        "
        t1: begin rr eager
        t2: begin rr eager
        t2: put b 2
        t1: put a 1
        t1: put b 1 -> waits for t2
        t2: put a 2 -> deadlock 1213, victim t2
        t1: resume -> ok
        t1: commit
        t3: begin rr
        t3: get a -> = 1
        t3: get b -> = 1
        ",
        Ids::AtBegin,
    );
    check_with(
        "
        t1: begin rr deferred
        t2: begin rr deferred
        t2: put b 2
        t1: put a 1
        t1: put b 1 -> waits for t2
        t2: put a 2 -> waits for t1
        t1: resume -> deadlock 1213, victim t1
        t2: resume -> ok
        t2: commit
        t3: begin rr
        t3: get a -> = 2
        t3: get b -> = 2
        ",
        Ids::AtBegin,
    );
}

#[test]
fn a_reader_that_waits_for_a_lock_draws_an_id_and_runs_again() {
    // Run with ids at begin and deferred (`check`): t2 has read nothing
    // before its locking read waits, so it runs again on a newer snapshot.
    check(
        "
        t0: begin rr
        t0: put r 0
        t0: commit
        t1: begin rr
        t1: put r 1
        t2: begin rr
        t2: share r -> waits for t1
        t1: commit
        t2: resume -> ok
        t2: get r -> = 1
        t2: put r 2
        t2: commit
        t3: begin rr
        t3: get r -> = 2
        ",
    );
}
