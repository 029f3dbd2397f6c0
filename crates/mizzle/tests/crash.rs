//! Crash test with real processes: a child process runs concurrent writing
//! transactions on an on-disk database and prints each commit once
//! `COMMIT` has returned; the parent keeps those acknowledgements (the child
//! cannot touch them), kills the child with SIGKILL at a random moment,
//! reopens the database and checks that every acknowledged commit is there
//! and every invariant holds:
//!
//! 1. every acknowledged ledger row `(worker, seq)` is present with the
//!    AUTO_INCREMENT id the child was given;
//! 2. money is conserved: the balances of `acct_a` and `acct_b` sum to
//!    their initial total (each transfer debits one table and credits the
//!    other in one transaction), and each balance is what the transfers
//!    the ledger rows record make it (the ledger row is written in the
//!    transfer's transaction);
//! 3. each worker's ledger sequence numbers are exactly `1..=max` (a worker
//!    starts `seq + 1` only after `seq` committed, so a hole means a lost
//!    commit or a half-applied one);
//! 4. every acknowledged `CREATE TABLE` (made in the same transaction as
//!    its ledger row) exists, holding its row; every table that exists has
//!    its ledger row (DDL is atomic with the data across a crash);
//! 5. a new AUTO_INCREMENT value is above every value handed out before.
//!
//! Every second cycle the parent does not open the database itself, so the
//! next child recovers straight from the crash (and may be killed during
//! recovery).
//!
//! `MIZZLE_CRASH_CYCLES` sets the number of kill/recover cycles (default
//! 50), `MIZZLE_CRASH_SEED` the seed; with `MIZZLE_CRASH_KEEP` set, the
//! database as each checked crash left it is copied beside it
//! (`*.before-recovery`), and a failing run leaves both behind. The long run:
//! `MIZZLE_CRASH_CYCLES=1000 cargo test --release -p mizzle --test crash -- --nocapture`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mizzle::{params, Database, Value};

const CHILD_ENV: &str = "MIZZLE_CRASH_CHILD_DIR";

/// The tests here run one at a time: a child forked by one test shares the
/// parent's open files until it execs, so a database another test closes
/// just then keeps its lock a moment longer (flock follows the open file
/// description), and that test's reopen would see error 1015.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
const WORKERS: i64 = 4;
const ACCOUNTS: i64 = 20;
const INITIAL: i64 = 1000;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E3779B97F4A7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
        z ^ (z >> 31)
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        Value::UInt(u) => *u as i64,
        other => panic!("expected an integer, got {other:?}"),
    }
}

/// The child's side: runs until killed.
#[test]
fn crash_child_entry() {
    let Ok(dir) = std::env::var(CHILD_ENV) else { return };
    match std::env::var("MIZZLE_CRASH_CHILD_MODE").as_deref() {
        Ok("open-ddl") => return child_open_ddl(&dir),
        Ok("hold") => return child_hold(&dir),
        _ => {}
    }
    let seed: u64 = std::env::var("MIZZLE_CRASH_CHILD_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(1);
    let db = Database::open(&dir).expect("child opens the database");
    let out = Arc::new(Mutex::new(std::io::stdout()));
    let mut handles = Vec::new();
    for w in 0..WORKERS {
        let db = db.clone();
        let out = out.clone();
        handles.push(std::thread::spawn(move || child_worker(&db, w, seed.wrapping_add(w as u64 * 7919), &out)));
    }
    for h in handles {
        let _ = h.join();
    }
}

/// Creates a table and a row inside a transaction, says so, and waits to
/// be killed before committing.
fn child_open_ddl(dir: &str) {
    use std::io::Write;
    let db = Database::open(dir).expect("child opens the database");
    let s = db.session();
    s.execute("BEGIN", []).expect("begin");
    s.execute("CREATE TABLE never_committed (x INT PRIMARY KEY)", []).expect("create");
    s.execute("INSERT INTO never_committed VALUES (1)", []).expect("insert");
    s.execute("INSERT INTO kept VALUES (2)", []).expect("insert into an existing table");
    println!("ready");
    let _ = std::io::stdout().flush();
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// Opens the database, says so, and holds it until killed.
fn child_hold(dir: &str) {
    use std::io::Write;
    let _db = Database::open(dir).expect("child opens the database");
    println!("ready");
    let _ = std::io::stdout().flush();
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// Starts a child in `mode` and waits for its "ready" line.
fn start_child(dir: &Path, mode: &str) -> std::process::Child {
    let exe = std::env::current_exe().expect("test binary");
    let mut child = Command::new(exe)
        .args(["crash_child_entry", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, dir)
        .env("MIZZLE_CRASH_CHILD_MODE", mode)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().expect("stdout");
    // libtest prints "test crash_child_entry ... " before the test runs,
    // on the same line as the child's first output.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let ready = BufReader::new(stdout).lines().map_while(Result::ok).any(|l| l.trim_end().ends_with("ready"));
        let _ = tx.send(ready);
    });
    if rx.recv_timeout(Duration::from_secs(120)) != Ok(true) {
        let _ = child.kill();
        panic!("the child never got ready");
    }
    child
}

#[test]
fn a_kill_between_create_table_and_commit_leaves_no_table() {
    let _serial = serial();
    let dir = std::env::temp_dir().join(format!("mizzle-crash-ddl-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    {
        let db = Database::open(&dir).expect("create");
        db.session().execute("CREATE TABLE kept (x INT PRIMARY KEY)", []).expect("kept");
        db.session().execute("INSERT INTO kept VALUES (1)", []).expect("row");
    }
    let mut child = start_child(&dir, "open-ddl");
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    let db = Database::open(&dir).expect("reopen");
    let e = db.session().query("SELECT * FROM never_committed", []).expect_err("the table must not exist");
    assert_eq!(e.number(), 1146);
    let rows = db.session().query("SELECT x FROM kept", []).expect("kept");
    assert_eq!(rows.len(), 1, "the uncommitted row in an existing table is gone too");
    // The name is free again.
    db.session().execute("CREATE TABLE never_committed (y INT)", []).expect("create again");
    drop(db);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_second_process_cannot_open_an_open_database() {
    let _serial = serial();
    let dir = std::env::temp_dir().join(format!("mizzle-crash-lock-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    drop(Database::open(&dir).expect("create"));
    let mut child = start_child(&dir, "hold");
    let e = Database::open(&dir).err().expect("the database is in use");
    assert_eq!(e.number(), 1015, "{e}");
    assert!(e.message.contains("mizzle.lock"), "{e}");
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    // The lock dies with the process.
    Database::open(&dir).expect("open after the holder died");
    let _ = std::fs::remove_dir_all(&dir);
}

fn child_worker(db: &Database, w: i64, seed: u64, out: &Mutex<std::io::Stdout>) {
    use std::io::Write;
    let s = db.session();
    let mut rng = Rng(seed);
    let rows = s.query("SELECT COALESCE(MAX(seq), 0) FROM ledger WHERE worker = ?", params![w]).expect("max seq");
    let mut seq = int(&rows.get(0).expect("one row").values()[0]);
    loop {
        seq += 1;
        let ddl = rng.range(0, 30) == 0;
        let big = !ddl && rng.range(0, 60) == 0;
        loop {
            let from = rng.range(1, ACCOUNTS as u64) as i64;
            let to = rng.range(1, ACCOUNTS as u64) as i64;
            let amount = rng.range(1, 50) as i64;
            let r = (|| -> Result<i64, mizzle::Error> {
                s.execute("BEGIN", [])?;
                let debit = s.execute("UPDATE acct_a SET bal = bal - ? WHERE id = ?", params![amount, from])?;
                let credit = s.execute("UPDATE acct_b SET bal = bal + ? WHERE id = ?", params![amount, to])?;
                if debit.rows_affected != 1 || credit.rows_affected != 1 {
                    // Every account exists: an UPDATE that finds no row
                    // read wrong. Stop the whole child before it commits
                    // (the parent reports an early exit with this line).
                    eprintln!(
                        "worker {w} seq {seq}: UPDATE acct_a id {from} changed {} rows, acct_b id {to} {} rows",
                        debit.rows_affected, credit.rows_affected
                    );
                    std::process::exit(3);
                }
                if ddl {
                    s.execute(&format!("CREATE TABLE ddl_{w}_{seq} (x INT PRIMARY KEY)"), [])?;
                    s.execute(&format!("INSERT INTO ddl_{w}_{seq} VALUES (?)"), params![seq])?;
                }
                if big {
                    // A transaction bigger than one log block, and its undo.
                    for i in 0..3000i64 {
                        s.execute("INSERT INTO bulk (w, i, pad) VALUES (?, ?, REPEAT('x', 200))", params![w, i])?;
                    }
                    s.execute("DELETE FROM bulk WHERE w = ?", params![w])?;
                }
                let e = s.execute(
                    "INSERT INTO ledger (worker, seq, src, dst, amount) VALUES (?, ?, ?, ?, ?)",
                    params![w, seq, from, to, amount],
                )?;
                s.execute("COMMIT", [])?;
                Ok(e.last_insert_id as i64)
            })();
            match r {
                Ok(id) => {
                    let mut o = out.lock().expect("stdout lock");
                    let _ = writeln!(o, "ack {w} {seq} {id} {}", if ddl { 1 } else { 0 });
                    let _ = o.flush();
                    break;
                }
                Err(e) if e.number() == 1213 => {
                    let _ = s.execute("ROLLBACK", []);
                }
                Err(e) => panic!("worker {w} seq {seq}: {e}"),
            }
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Ack {
    worker: i64,
    seq: i64,
    id: i64,
    ddl: bool,
}

fn setup(dir: &Path) {
    let db = Database::open(dir).expect("create");
    let s = db.session();
    s.execute("CREATE TABLE acct_a (id INT PRIMARY KEY, bal BIGINT NOT NULL)", []).expect("a");
    s.execute("CREATE TABLE acct_b (id INT PRIMARY KEY, bal BIGINT NOT NULL)", []).expect("b");
    s.execute(
        "CREATE TABLE ledger (id BIGINT AUTO_INCREMENT PRIMARY KEY, worker INT NOT NULL, seq BIGINT NOT NULL, \
         src INT, dst INT, amount INT, UNIQUE KEY ws (worker, seq))",
        [],
    )
    .expect("ledger");
    s.execute("CREATE TABLE bulk (id BIGINT AUTO_INCREMENT PRIMARY KEY, w INT, i INT, pad VARCHAR(300))", [])
        .expect("bulk");
    for i in 1..=ACCOUNTS {
        s.execute("INSERT INTO acct_a VALUES (?, ?)", params![i, INITIAL]).expect("row");
        s.execute("INSERT INTO acct_b VALUES (?, ?)", params![i, INITIAL]).expect("row");
    }
}

fn verify(dir: &Path, acks: &[Ack], cycle: usize) {
    let db = Database::open(dir).unwrap_or_else(|e| panic!("cycle {cycle}: reopen failed: {e}"));
    let s = db.session();
    // 2. conservation.
    let total = s
        .query("SELECT CAST((SELECT SUM(bal) FROM acct_a) + (SELECT SUM(bal) FROM acct_b) AS SIGNED)", [])
        .expect("sum");
    let total = int(&total.get(0).expect("row").values()[0]);
    // 2b. each balance is what the ledger's transfers make it: names the
    // account and the amount when money is lost (a half-applied or lost
    // transfer) before the sum check below says only that it is.
    let mut expected_a = vec![INITIAL; ACCOUNTS as usize + 1];
    let mut expected_b = vec![INITIAL; ACCOUNTS as usize + 1];
    let moves = s.query("SELECT src, dst, amount FROM ledger WHERE worker >= 0", []).expect("transfers");
    for r in moves.iter() {
        let v = r.values();
        expected_a[int(&v[0]) as usize] -= int(&v[2]);
        expected_b[int(&v[1]) as usize] += int(&v[2]);
    }
    let mut wrong = Vec::new();
    for (table, expected) in [("acct_a", &expected_a), ("acct_b", &expected_b)] {
        let rows = s.query(&format!("SELECT id, bal FROM {table} ORDER BY id"), []).expect("balances");
        for r in rows.iter() {
            let v = r.values();
            let (id, bal) = (int(&v[0]), int(&v[1]));
            if bal != expected[id as usize] {
                wrong.push(format!("{table}.{id}: {bal}, ledger says {}", expected[id as usize]));
            }
        }
    }
    assert!(wrong.is_empty(), "cycle {cycle}: balances differ from the ledger (total {total}): {wrong:?}");
    assert_eq!(total, 2 * ACCOUNTS * INITIAL, "cycle {cycle}: money");
    // 1. and 3.
    let rows = s.query("SELECT worker, seq, id FROM ledger ORDER BY worker, seq", []).expect("ledger");
    let mut ledger: BTreeMap<(i64, i64), i64> = BTreeMap::new();
    let mut max_id = 0;
    for r in rows.iter() {
        let v = r.values();
        ledger.insert((int(&v[0]), int(&v[1])), int(&v[2]));
        max_id = max_id.max(int(&v[2]));
    }
    for a in acks {
        assert_eq!(
            ledger.get(&(a.worker, a.seq)),
            Some(&a.id),
            "cycle {cycle}: acknowledged commit worker {} seq {} (id {}) is missing",
            a.worker,
            a.seq,
            a.id
        );
    }
    for w in 0..WORKERS {
        let seqs: Vec<i64> = ledger.keys().filter(|(x, _)| *x == w).map(|(_, s)| *s).collect();
        let expected: Vec<i64> = (1..=seqs.len() as i64).collect();
        assert_eq!(seqs, expected, "cycle {cycle}: worker {w} has a hole in its sequence");
    }
    // 4. DDL atomic with its ledger row.
    let tables = s.query("SHOW TABLES", []).expect("tables");
    let mut ddl_tables = BTreeSet::new();
    for r in tables.iter() {
        if let Value::Text(name) = &r.values()[0] {
            if let Some(rest) = name.strip_prefix("ddl_") {
                let mut it = rest.split('_').map(|x| x.parse::<i64>().expect("number"));
                let (w, q) = (it.next().expect("worker"), it.next().expect("seq"));
                ddl_tables.insert((w, q));
                assert!(ledger.contains_key(&(w, q)), "cycle {cycle}: table {name} exists without its ledger row");
                let n = s.query(&format!("SELECT x FROM {name}"), []).expect("ddl rows");
                assert_eq!(n.len(), 1, "cycle {cycle}: table {name} lost its row");
            }
        }
    }
    for a in acks.iter().filter(|a| a.ddl) {
        assert!(
            ddl_tables.contains(&(a.worker, a.seq)),
            "cycle {cycle}: acknowledged table ddl_{}_{} missing",
            a.worker,
            a.seq
        );
    }
    // 5. AUTO_INCREMENT never goes back.
    let highest_acked = acks.iter().map(|a| a.id).max().unwrap_or(0).max(max_id);
    let e = s.execute("INSERT INTO ledger (worker, seq) VALUES (?, ?)", params![-1, cycle as i64]).expect("probe");
    assert!(
        e.last_insert_id as i64 > highest_acked,
        "cycle {cycle}: AUTO_INCREMENT handed out {} again",
        e.last_insert_id
    );
    s.execute("DELETE FROM ledger WHERE worker = -1", []).expect("remove probe");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("copy dir");
    for e in std::fs::read_dir(from).expect("read dir") {
        let e = e.expect("entry");
        let target = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).expect("copy file");
        }
    }
}

#[test]
fn killed_writers_lose_no_acknowledged_commit() {
    let _serial = serial();
    let cycles: usize = std::env::var("MIZZLE_CRASH_CYCLES").ok().and_then(|s| s.parse().ok()).unwrap_or(50);
    let seed: u64 = std::env::var("MIZZLE_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(20261202);
    let dir: PathBuf = std::env::temp_dir().join(format!("mizzle-crash-{}-{seed}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    setup(&dir);
    let exe = std::env::current_exe().expect("test binary");
    let mut rng = Rng(seed);
    let mut acks: Vec<Ack> = Vec::new();
    let started = Instant::now();
    for cycle in 0..cycles {
        let mut child = Command::new(&exe)
            .args(["crash_child_entry", "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, &dir)
            .env("MIZZLE_CRASH_CHILD_SEED", rng.next().to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn child");
        let stdout = child.stdout.take().expect("stdout");
        let got: Arc<Mutex<Vec<Ack>>> = Arc::new(Mutex::new(Vec::new()));
        let got2 = got.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // The first line also carries libtest's "test ... " prefix.
                let all: Vec<&str> = line.split_whitespace().collect();
                let f = match all.iter().position(|w| *w == "ack") {
                    Some(i) => &all[i..],
                    None => continue,
                };
                if f.len() == 5 {
                    let p = |i: usize| f[i].parse::<i64>().expect("number");
                    got2.lock().expect("acks").push(Ack { worker: p(1), seq: p(2), id: p(3), ddl: p(4) == 1 });
                }
            }
        });
        let wait = Duration::from_millis(rng.range(30, 600));
        let deadline = Instant::now() + wait;
        let mut exited = None;
        while Instant::now() < deadline {
            if let Some(st) = child.try_wait().expect("try_wait") {
                exited = Some(st);
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        if let Some(st) = exited {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                use std::io::Read;
                let _ = e.read_to_string(&mut err);
            }
            panic!("cycle {cycle}: the child exited on its own ({st}):\n{err}");
        }
        child.kill().expect("SIGKILL");
        let _ = child.wait();
        let _ = reader.join();
        acks.extend(got.lock().expect("acks").iter().copied());
        if cycle % 2 == 1 || cycle + 1 == cycles {
            if std::env::var_os("MIZZLE_CRASH_KEEP").is_some() {
                // Keeps the database as the crash left it, before recovery
                // runs, for a failing cycle to be replayed and studied.
                let copy = dir.with_extension("before-recovery");
                let _ = std::fs::remove_dir_all(&copy);
                copy_dir(&dir, &copy);
            }
            verify(&dir, &acks, cycle);
        }
    }
    eprintln!(
        "crash test: {cycles} kill/recover cycles, {} acknowledged commits checked, {:.1}s, seed {seed}",
        acks.len(),
        started.elapsed().as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
