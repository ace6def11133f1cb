//! `main` of the targets built with `--no-default-features` (no libFuzzer, stable toolchain):
//!
//! - `TARGET FILE...` runs each file as one input (replays a crash or a corpus);
//! - `TARGET [--seconds N] [--runs N] [--seed S] [--max-len N]` runs random inputs from a
//!   seeded splitmix64 stream until the time or run limit, printing executions per second.
//!
//! A failing input (a panic) is written to `artifacts/TARGET/standalone-crash-SEED-RUN` and the
//! process exits with status 1.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

pub fn main(target: &str, run: fn(&[u8])) {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut seconds = None;
    let mut runs = None;
    let mut seed = 0u64;
    let mut max_len = 16384usize;
    let mut files = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut num = |what: &str| -> u64 {
            it.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{what} needs a number"))
        };
        match a.as_str() {
            "--seconds" => seconds = Some(num("--seconds")),
            "--runs" => runs = Some(num("--runs")),
            "--seed" => seed = num("--seed"),
            "--max-len" => max_len = num("--max-len") as usize,
            f => files.push(f.to_string()),
        }
    }

    if !files.is_empty() {
        for f in &files {
            let data = std::fs::read(f).unwrap_or_else(|e| panic!("{f}: {e}"));
            eprintln!("running {f} ({} bytes)", data.len());
            run(&data);
        }
        eprintln!("{} inputs ok", files.len());
        return;
    }

    let limit = seconds.map(Duration::from_secs);
    let start = Instant::now();
    let mut last_report = start;
    let mut rng = Rng(seed);
    let mut n = 0u64;
    loop {
        if runs.is_some_and(|r| n >= r) || limit.is_some_and(|l| start.elapsed() >= l) {
            break;
        }
        let len = (rng.next() % max_len as u64) as usize;
        let mut data = Vec::with_capacity(len + 8);
        while data.len() < len {
            data.extend_from_slice(&rng.next().to_le_bytes());
        }
        data.truncate(len);
        if catch_unwind(AssertUnwindSafe(|| run(&data))).is_err() {
            let dir = format!("artifacts/{target}");
            let _ = std::fs::create_dir_all(&dir);
            let path = format!("{dir}/standalone-crash-{seed}-{n}");
            std::fs::write(&path, &data).unwrap();
            eprintln!("input {n} failed; saved to {path}");
            std::process::exit(1);
        }
        n += 1;
        if last_report.elapsed() >= Duration::from_secs(10) {
            last_report = Instant::now();
            let secs = start.elapsed().as_secs_f64();
            eprintln!("#{n} in {secs:.0}s: {:.1} exec/s", n as f64 / secs);
        }
    }
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "done: {n} inputs in {secs:.1}s ({:.1} exec/s), no failure",
        n as f64 / secs.max(1e-9)
    );
}
