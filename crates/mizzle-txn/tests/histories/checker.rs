//! Checks recorded transaction histories.
//!
//! Every written value is unique, so a read identifies the version it saw,
//! and each write records the version it replaced (what the writer read as
//! the row's newest value just before writing it), which gives every key's
//! version order without assuming it.
//! Checks:
//! - all levels: no read sees an aborted write (G1a) or a value its writer
//!   later overwrote (G1b), and a transaction reads its own latest write;
//! - all levels (READ COMMITTED and up): each key's versions form one chain
//!   (no two committed writers replaced the same version: no lost update,
//!   no dirty write), the chain follows commit order and ends in the final
//!   state read after the run; the write-dependency graph has no cycle
//!   (G0) and neither has the graph of write and read dependencies (G1c);
//! - REPEATABLE READ (snapshot isolation): every read returns the newest
//!   version committed at or before the transaction's snapshot, and no two
//!   committed transactions that wrote the same key were concurrent;
//! - SERIALIZABLE: the dependency graph of committed transactions (ww, wr
//!   and rw edges, version order = commit order per key) has no cycle.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

/// One operation as recorded.
#[derive(Clone, Debug)]
pub enum Op {
    /// A point read and the value seen (None: absent).
    Read { key: u8, value: Option<String> },
    /// A range read `[lo, hi]` and every (key, value) seen.
    Range { lo: u8, hi: u8, seen: Vec<(u8, String)> },
    /// A write, and the version it replaced.
    Write { key: u8, value: String, prev: Prev },
}

/// The version a write replaced, as its writer saw it.
#[derive(Clone, Debug)]
pub enum Prev {
    /// Not recorded (planted histories that do not need it).
    Unknown,
    /// The newest value before the write (`None`: absent).
    Seen(Option<String>),
}

/// One transaction as recorded.
#[derive(Clone, Debug)]
pub struct TxnRec {
    pub id: usize,
    pub ops: Vec<Op>,
    pub committed: bool,
    pub snapshot: Option<u64>,
    pub commit_ts: Option<u64>,
}

/// A whole history.
#[derive(Clone, Debug, Default)]
pub struct History {
    /// Initial values (keys not listed start absent).
    pub initial: BTreeMap<u8, String>,
    pub txns: Vec<TxnRec>,
    /// The values read after the run, if recorded.
    pub final_state: Option<BTreeMap<u8, String>>,
}

impl fmt::Display for History {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "initial: {:?}", self.initial)?;
        for t in &self.txns {
            writeln!(
                f,
                "T{} {} snapshot={:?} commit={:?}",
                t.id,
                if t.committed { "committed" } else { "aborted" },
                t.snapshot,
                t.commit_ts
            )?;
            for op in &t.ops {
                writeln!(f, "    {op:?}")?;
            }
        }
        Ok(())
    }
}

/// What a read observed: a version of a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Ver {
    /// The initial state (value or absence).
    Initial,
    /// The final write of a committed transaction.
    Txn(usize),
}

struct Index<'h> {
    h: &'h History,
    /// value -> committed writer whose final write it is.
    final_of: HashMap<&'h str, (usize, u8)>,
    intermediate: HashSet<&'h str>,
    aborted: HashSet<&'h str>,
    /// key -> committed writers in commit order.
    order: BTreeMap<u8, Vec<usize>>,
    commit: HashMap<usize, u64>,
}

fn index(h: &History) -> Index<'_> {
    let mut final_of = HashMap::new();
    let mut intermediate = HashSet::new();
    let mut aborted = HashSet::new();
    let mut order: BTreeMap<u8, Vec<usize>> = BTreeMap::new();
    let mut commit = HashMap::new();
    for t in &h.txns {
        let mut last: BTreeMap<u8, &str> = BTreeMap::new();
        for op in &t.ops {
            if let Op::Write { key, value, .. } = op {
                if t.committed {
                    if let Some(prev) = last.insert(*key, value.as_str()) {
                        intermediate.insert(prev);
                    }
                } else {
                    aborted.insert(value.as_str());
                }
            }
        }
        if t.committed {
            commit.insert(t.id, t.commit_ts.unwrap_or(0));
            for (k, v) in last {
                final_of.insert(v, (t.id, k));
                order.entry(k).or_default().push(t.id);
            }
        }
    }
    for writers in order.values_mut() {
        writers.sort_by_key(|id| commit.get(id).copied().unwrap_or(0));
    }
    Index { h, final_of, intermediate, aborted, order, commit }
}

impl Index<'_> {
    /// The version a value names, or a description of what is wrong with it.
    fn version(&self, t: &TxnRec, key: u8, value: Option<&str>) -> Result<Ver, String> {
        match value {
            None => {
                if self.h.initial.contains_key(&key) {
                    Err(format!("T{} read key {key} as absent, but it exists from the start", t.id))
                } else {
                    Ok(Ver::Initial)
                }
            }
            Some(v) if self.h.initial.get(&key).map(|s| s.as_str()) == Some(v) => Ok(Ver::Initial),
            Some(v) => {
                if self.aborted.contains(v) {
                    return Err(format!("G1a: T{} read {v} on key {key}, written by an aborted transaction", t.id));
                }
                if self.intermediate.contains(v) {
                    return Err(format!("G1b: T{} read {v} on key {key}, an intermediate value", t.id));
                }
                match self.final_of.get(v) {
                    Some((w, k)) if *k == key => Ok(Ver::Txn(*w)),
                    _ => Err(format!("T{} read {v} on key {key}, which no committed transaction wrote there", t.id)),
                }
            }
        }
    }

    fn next_writer(&self, key: u8, v: Ver) -> Option<usize> {
        let writers = self.order.get(&key)?;
        match v {
            Ver::Initial => writers.first().copied(),
            Ver::Txn(w) => {
                let i = writers.iter().position(|x| *x == w)?;
                writers.get(i + 1).copied()
            }
        }
    }

    fn commit_of(&self, v: Ver) -> u64 {
        match v {
            Ver::Initial => 0,
            Ver::Txn(w) => self.commit.get(&w).copied().unwrap_or(0),
        }
    }

    /// Every (key, version) a transaction observed from others, skipping
    /// keys it had written itself (those must show its own latest write).
    fn observations(&self, t: &TxnRec) -> Result<Vec<(u8, Ver)>, String> {
        let mut own: HashMap<u8, &str> = HashMap::new();
        let mut out = Vec::new();
        let see =
            |key: u8, value: Option<&str>, own: &HashMap<u8, &str>, out: &mut Vec<(u8, Ver)>| -> Result<(), String> {
                if let Some(mine) = own.get(&key) {
                    if value != Some(*mine) {
                        return Err(format!("T{} read {value:?} on key {key} after writing {mine}", t.id));
                    }
                    return Ok(());
                }
                out.push((key, self.version(t, key, value)?));
                Ok(())
            };
        for op in &t.ops {
            match op {
                Op::Read { key, value } => see(*key, value.as_deref(), &own, &mut out)?,
                Op::Range { lo, hi, seen } => {
                    for k in *lo..=*hi {
                        let v = seen.iter().find(|(sk, _)| *sk == k).map(|(_, v)| v.as_str());
                        see(k, v, &own, &mut out)?;
                    }
                }
                Op::Write { key, value, .. } => {
                    own.insert(*key, value.as_str());
                }
            }
        }
        Ok(out)
    }
}

/// Checks reads against writes: G1a, G1b, own writes (every level).
pub fn check_reads(h: &History) -> Result<(), String> {
    let ix = index(h);
    for t in &h.txns {
        ix.observations(t)?;
    }
    Ok(())
}

/// Snapshot isolation: consistent snapshots and no concurrent writers.
pub fn check_snapshot_isolation(h: &History) -> Result<(), String> {
    let ix = index(h);
    for t in &h.txns {
        let obs = ix.observations(t)?;
        let Some(s) = t.snapshot else {
            if obs.is_empty() {
                continue;
            }
            return Err(format!("T{} read without a snapshot", t.id));
        };
        for (key, v) in obs {
            if ix.commit_of(v) > s {
                return Err(format!("T{} (snapshot {s}) read key {key} from {v:?} committed after its snapshot", t.id));
            }
            if let Some(n) = ix.next_writer(key, v) {
                if ix.commit.get(&n).copied().unwrap_or(0) <= s {
                    return Err(format!(
                        "T{} (snapshot {s}) read key {key} from {v:?}, but T{n} committed a newer version before the snapshot",
                        t.id
                    ));
                }
            }
        }
    }
    let snap: HashMap<usize, u64> = h.txns.iter().filter_map(|t| Some((t.id, t.snapshot?))).collect();
    for (key, writers) in &ix.order {
        for (i, a) in writers.iter().enumerate() {
            for b in &writers[i + 1..] {
                let (ca, cb) = (ix.commit[a], ix.commit[b]);
                let (sa, sb) = (snap.get(a).copied().unwrap_or(0), snap.get(b).copied().unwrap_or(0));
                if !(ca <= sb || cb <= sa) {
                    return Err(format!("lost update: T{a} and T{b} both wrote key {key} and were concurrent"));
                }
            }
        }
    }
    Ok(())
}

/// Serializability: no cycle among committed transactions.
pub fn check_serializable(h: &History) -> Result<(), String> {
    let ix = index(h);
    let mut edges: HashMap<usize, HashSet<usize>> = HashMap::new();
    let mut add = |a: usize, b: usize| {
        if a != b {
            edges.entry(a).or_default().insert(b);
        }
    };
    for writers in ix.order.values() {
        for w in writers.windows(2) {
            add(w[0], w[1]);
        }
    }
    for t in h.txns.iter().filter(|t| t.committed) {
        for (key, v) in ix.observations(t)? {
            if let Ver::Txn(w) = v {
                add(w, t.id);
            }
            if let Some(n) = ix.next_writer(key, v) {
                add(t.id, n);
            }
        }
    }
    find_cycle(&edges).map_or(Ok(()), |c| Err(format!("dependency cycle through {c}")))
}

/// A cycle of `edges`, as `T1 -> T2 -> ... -> T1`, if there is one.
fn find_cycle(edges: &HashMap<usize, HashSet<usize>>) -> Option<String> {
    let mut state: HashMap<usize, u8> = HashMap::new();
    let mut starts: Vec<usize> = edges.keys().copied().collect();
    starts.sort_unstable();
    for start in starts {
        if state.get(&start).copied().unwrap_or(0) != 0 {
            continue;
        }
        let mut stack: Vec<(usize, Vec<usize>)> = vec![(start, edges[&start].iter().copied().collect())];
        state.insert(start, 1);
        while let Some((node, next)) = stack.last_mut() {
            match next.pop() {
                Some(m) => match state.get(&m).copied().unwrap_or(0) {
                    0 => {
                        state.insert(m, 1);
                        let succ = edges.get(&m).map(|s| s.iter().copied().collect()).unwrap_or_default();
                        stack.push((m, succ));
                    }
                    1 => {
                        let at = stack.iter().position(|(n, _)| *n == m).unwrap_or(0);
                        let path: Vec<String> = stack[at..].iter().map(|(n, _)| format!("T{n}")).collect();
                        return Some(format!("{} -> T{m}", path.join(" -> ")));
                    }
                    _ => {}
                },
                None => {
                    state.insert(*node, 2);
                    stack.pop();
                }
            }
        }
    }
    None
}

/// What each key's version chain says: write-dependency edges (`ww`,
/// replaced writer -> replacing writer, among committed transactions), or
/// what is wrong with the chains.
fn version_chains(h: &History) -> Result<HashMap<usize, HashSet<usize>>, String> {
    let ix = index(h);
    let mut ww: HashMap<usize, HashSet<usize>> = HashMap::new();
    // (key, replaced version) -> the committed transaction that replaced it.
    let mut replaced: HashMap<(u8, Ver), usize> = HashMap::new();
    for t in h.txns.iter().filter(|t| t.committed) {
        let mut seen_keys: HashSet<u8> = HashSet::new();
        for op in &t.ops {
            let Op::Write { key, prev: Prev::Seen(prev), .. } = op else { continue };
            if !seen_keys.insert(*key) {
                continue; // its own earlier write: an intermediate version
            }
            let v = match prev.as_deref() {
                None if !h.initial.contains_key(key) => Ver::Initial,
                Some(p) if h.initial.get(key).map(|s| s.as_str()) == Some(p) => Ver::Initial,
                None => {
                    // Absent after a committed delete is not modelled: only puts.
                    return Err(format!("T{} replaced key {key} as absent, but it exists from the start", t.id));
                }
                Some(p) => {
                    if ix.intermediate.contains(p) {
                        return Err(format!(
                            "P0 dirty write: T{} replaced {p} on key {key}, an intermediate value",
                            t.id
                        ));
                    }
                    if ix.aborted.contains(p) {
                        return Err(format!("P0 dirty write: T{} replaced {p} on key {key}, an aborted write", t.id));
                    }
                    match ix.final_of.get(p) {
                        Some((w, k)) if *k == *key => Ver::Txn(*w),
                        _ => return Err(format!("T{} replaced {p} on key {key}, which nobody committed there", t.id)),
                    }
                }
            };
            if let Some(other) = replaced.insert((*key, v), t.id) {
                return Err(format!(
                    "lost update: T{other} and T{} both replaced {v:?} on key {key} and both committed",
                    t.id
                ));
            }
            if let Ver::Txn(w) = v {
                ww.entry(w).or_default().insert(t.id);
            }
        }
    }
    Ok(ww)
}

/// The write-dependency chains agree with commit order and the final state.
fn check_chain_order(h: &History) -> Result<(), String> {
    let ix = index(h);
    for (key, writers) in &ix.order {
        // Commit order must be the replacement order: each writer replaced
        // the final write of the previous one (or the initial version).
        for t in h.txns.iter().filter(|t| t.committed) {
            let mut first = true;
            for op in &t.ops {
                let Op::Write { key: k, prev: Prev::Seen(prev), .. } = op else { continue };
                if k != key || !first {
                    continue;
                }
                first = false;
                let pos = writers.iter().position(|w| *w == t.id).unwrap_or(0);
                let expected: Option<&str> = match pos.checked_sub(1).and_then(|i| writers.get(i)) {
                    None => ix.h.initial.get(key).map(|s| s.as_str()),
                    Some(w) => ix.final_of.iter().find(|(_, (fw, fk))| fw == w && fk == key).map(|(v, _)| *v),
                };
                if prev.as_deref() != expected {
                    return Err(format!(
                        "version order differs from commit order on key {key}: T{} replaced {prev:?}, \
                         but the commit before it left {expected:?}",
                        t.id
                    ));
                }
            }
        }
    }
    if let Some(fin) = &h.final_state {
        for (key, writers) in &ix.order {
            let last = writers.last().and_then(|w| ix.final_of.iter().find(|(_, (fw, fk))| fw == w && fk == key));
            let expected = last.map(|(v, _)| v.to_string());
            if fin.get(key) != expected.as_ref() {
                return Err(format!(
                    "final state of key {key} is {:?}, not the last commit's {expected:?}",
                    fin.get(key)
                ));
            }
        }
    }
    Ok(())
}

/// READ COMMITTED's guarantees (and every level's): G1a, G1b, version
/// chains (no lost update or dirty write), no G0 and no G1c cycle, chains
/// in commit order ending in the final state.
pub fn check_read_committed(h: &History) -> Result<(), String> {
    check_reads(h)?;
    let ww = version_chains(h)?;
    if let Some(c) = find_cycle(&ww) {
        return Err(format!("G0 write cycle: {c}"));
    }
    let ix = index(h);
    let mut deps = ww;
    for t in h.txns.iter().filter(|t| t.committed) {
        for (_, v) in ix.observations(t)? {
            if let Ver::Txn(w) = v {
                if w != t.id {
                    deps.entry(w).or_default().insert(t.id);
                }
            }
        }
    }
    if let Some(c) = find_cycle(&deps) {
        return Err(format!("G1c circular information flow: {c}"));
    }
    check_chain_order(h)
}
