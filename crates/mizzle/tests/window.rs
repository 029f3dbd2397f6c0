//! Window functions through the embedded API: parameters in frames, and the
//! operator's incremental frame aggregates against a brute-force model on
//! seeded random data and frames.

use mizzle::{params, Database};

#[test]
fn parameters_in_frames_are_numbered_in_text_order() {
    let db = Database::open_in_memory().expect("db");
    let s = db.session();
    s.execute("CREATE TABLE t (id INT PRIMARY KEY, v INT)", []).expect("create");
    s.execute("INSERT INTO t VALUES (1, 1), (2, 10), (3, 100), (4, 1000)", []).expect("insert");
    // The WINDOW clause is bound before the select list; its ? is still the
    // second parameter.
    let mut q = s
        .prepare("SELECT id, SUM(v) OVER w + ? FROM t WINDOW w AS (ORDER BY id ROWS BETWEEN ? PRECEDING AND CURRENT ROW) ORDER BY id")
        .expect("prepare");
    let got = |r: mizzle::Rows| r.iter().map(|x| x.get::<i64>(1).expect("sum")).collect::<Vec<_>>();
    assert_eq!(got(q.query(params![0, 1]).expect("one preceding")), vec![1, 11, 110, 1100]);
    assert_eq!(got(q.query(params![5, 0]).expect("current row")), vec![6, 15, 105, 1005]);
    assert!(q.query(params![0, -1]).is_err(), "a negative offset is refused");
}

/// A deterministic generator (64-bit LCG).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

#[test]
fn sliding_frame_aggregates_match_recomputation() {
    let db = Database::open_in_memory().expect("db");
    let s = db.session();
    s.execute("CREATE TABLE r (id INT PRIMARY KEY, g INT, v INT)", []).expect("create");
    let mut rng = Lcg(42);
    let mut rows: Vec<(i64, i64, Option<i64>)> = Vec::new();
    for id in 0..200i64 {
        let g = rng.next(4) as i64;
        let v = if rng.next(6) == 0 { None } else { Some(rng.next(50) as i64 - 20) };
        rows.push((id, g, v));
        s.execute("INSERT INTO r VALUES (?, ?, ?)", params![id, g, v]).expect("insert");
    }
    for _ in 0..12 {
        // A random ROWS frame: start <= end in row positions.
        let a = rng.next(7) as i64 - 3;
        let b = a + rng.next(5) as i64;
        let bound = |o: i64| match o {
            0 => "CURRENT ROW".to_string(),
            o if o < 0 => format!("{} PRECEDING", -o),
            o => format!("{o} FOLLOWING"),
        };
        let frame = format!("ROWS BETWEEN {} AND {}", bound(a), bound(b));
        let sql = format!(
            "SELECT id, COUNT(v) OVER w, SUM(v) OVER w, MIN(v) OVER w, MAX(v) OVER w, BIT_OR(v) OVER w \
             FROM r WINDOW w AS (PARTITION BY g ORDER BY id {frame}) ORDER BY id"
        );
        let got = s.query(&sql, []).expect("window query");
        for (i, row) in got.iter().enumerate() {
            let (id, g, _) = rows[i];
            assert_eq!(row.get::<i64>(0).expect("id"), id);
            let part: Vec<&(i64, i64, Option<i64>)> = rows.iter().filter(|r| r.1 == g).collect();
            let pos = part.iter().position(|r| r.0 == id).expect("own row") as i64;
            let lo = (pos + a).max(0);
            let hi = (pos + b).min(part.len() as i64 - 1);
            let vals: Vec<i64> =
                if lo > hi { vec![] } else { part[lo as usize..=hi as usize].iter().filter_map(|r| r.2).collect() };
            let count: i64 = row.get(1).expect("count");
            assert_eq!(count, vals.len() as i64, "{frame} count at id {id}");
            let sum: Option<i64> = row.get(2).expect("sum");
            assert_eq!(sum, (!vals.is_empty()).then(|| vals.iter().sum()), "{frame} sum at id {id}");
            assert_eq!(row.get::<Option<i64>>(3).expect("min"), vals.iter().copied().min(), "{frame} min at {id}");
            assert_eq!(row.get::<Option<i64>>(4).expect("max"), vals.iter().copied().max(), "{frame} max at {id}");
            let or = vals.iter().fold(0u64, |acc, v| acc | *v as u64);
            assert_eq!(row.get::<u64>(5).expect("bit_or"), or, "{frame} bit_or at id {id}");
        }
    }
}
