//! SQLite (the C library, through rusqlite's bundled build) on an in-memory database: a
//! speedtest-like series of inserts, indexed lookups, updates, joins and aggregates.
use rusqlite::{params, Connection};
use wasmjit_bench_programs::{Checksum, Rng, WORDS};

fn main() {
    let db = Connection::open_in_memory().expect("opens");
    let mut rng = Rng::new(7);
    let mut sum = Checksum::default();
    db.execute_batch(
        "CREATE TABLE t1(a INTEGER PRIMARY KEY, b INTEGER, c TEXT);
         CREATE TABLE t2(a INTEGER, b INTEGER, c TEXT);
         CREATE INDEX t2b ON t2(b);",
    )
    .unwrap();
    db.execute_batch("BEGIN").unwrap();
    {
        let mut i1 = db.prepare("INSERT INTO t1 VALUES(?1, ?2, ?3)").unwrap();
        let mut i2 = db.prepare("INSERT INTO t2 VALUES(?1, ?2, ?3)").unwrap();
        for i in 0..20_000i64 {
            let b = rng.below(100_000) as i64;
            let c = format!("{} {} {}", rng.pick(WORDS), b, rng.pick(WORDS));
            i1.execute(params![i, b, c]).unwrap();
            i2.execute(params![i % 1000, b, c]).unwrap();
        }
    }
    db.execute_batch("COMMIT").unwrap();
    {
        let mut by_range = db
            .prepare("SELECT count(*), avg(b) FROM t2 WHERE b >= ?1 AND b < ?1 + 1000")
            .unwrap();
        for i in 0..500i64 {
            let (n, avg): (i64, Option<f64>) = by_range
                .query_row(params![i * 200], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap();
            sum.u64(n as u64);
            sum.u64(avg.unwrap_or(0.0).to_bits());
        }
        let mut like = db.prepare("SELECT count(*) FROM t1 WHERE c LIKE ?1").unwrap();
        for word in &WORDS[..10] {
            let n: i64 = like.query_row(params![format!("%{word}%")], |r| r.get(0)).unwrap();
            sum.u64(n as u64);
        }
    }
    db.execute_batch(
        "BEGIN;
         UPDATE t1 SET b = b * 2 WHERE a % 3 = 0;
         DELETE FROM t2 WHERE b % 7 = 0;
         CREATE INDEX t1c ON t1(c);
         COMMIT;",
    )
    .unwrap();
    let mut stmt = db
        .prepare(
            "SELECT t2.a, count(*), sum(t1.b), max(t1.c) FROM t1 JOIN t2 ON t1.b = t2.b
             GROUP BY t2.a ORDER BY 2 DESC, 1 LIMIT 50",
        )
        .unwrap();
    let rows = stmt
        .query_map([], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?, r.get::<_, String>(3)?))
        })
        .unwrap();
    for row in rows {
        let (a, n, b, c) = row.unwrap();
        sum.u64(a as u64);
        sum.u64(n as u64);
        sum.u64(b as u64);
        sum.bytes(c.as_bytes());
    }
    let mut ordered = db.prepare("SELECT c FROM t1 ORDER BY c LIMIT 2000 OFFSET 5000").unwrap();
    let mut rows = ordered.query([]).unwrap();
    while let Some(row) = rows.next().unwrap() {
        sum.bytes(row.get::<_, String>(0).unwrap().as_bytes());
    }
    sum.print("sqlite");
}
