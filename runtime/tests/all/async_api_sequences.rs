//! Random sequences of API calls (see `api_sequences/mod.rs`) from fixed seeds: calls, async
//! calls polled partially and then finished, dropped or leaked, traps, failing and panicking
//! host functions and limiters, on sync and async engines. Each case runs in a child process,
//! so that a crash is reported as the failure of its seed rather than ending the test binary.
//!
//! `API_SEQ_CASES=N` runs more seeds (default 200; the fuzz target `api_sequences` of `fuzz/`
//! explores further).

use crate::support::child::{child_command, in_child};

/// The seeds a child runs: `first,count`.
const RANGE_ENV: &str = "WASMJIT_API_SEQ_RANGE";

/// The input of case `seed`: a few hundred pseudo-random bytes (splitmix64).
fn case_input(seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5eed;
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let len = 32 + (next() % 256) as usize;
    (0..len).map(|_| next() as u8).collect()
}

fn cases() -> u64 {
    std::env::var("API_SEQ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

/// Runs seeds `[first, first + count)` in this process; the first wrong result is an error.
fn run_seeds(first: u64, count: u64) -> Result<(), String> {
    for seed in first..first + count {
        crate::api_sequences::run(&case_input(seed)).map_err(|e| format!("seed {seed}: {e}"))?;
    }
    Ok(())
}

#[test]
fn random_api_sequences_survive_and_stay_correct() {
    // Batches of seeds per child; a batch that crashes is re-run seed by seed to name it.
    let total = cases();
    let batch = 50;
    let mut first = 0;
    while first < total {
        let count = batch.min(total - first);
        if let Err(e) = run_child(first, count) {
            for seed in first..first + count {
                if let Err(e) = run_child(seed, 1) {
                    panic!("{e}");
                }
            }
            panic!("batch {first}+{count} failed but no single seed did: {e}");
        }
        first += count;
    }
}

/// The child's side: runs the seeds named in its environment.
#[test]
#[ignore = "run by random_api_sequences_survive_and_stay_correct in a child process"]
fn child_api_sequences() {
    if !in_child() {
        return;
    }
    let range = std::env::var(RANGE_ENV).expect("the seeds to run");
    let (first, count) = range.split_once(',').expect("first,count");
    // Host functions and limiters panic on purpose: keep their messages quiet.
    std::panic::set_hook(Box::new(|_| {}));
    let result = run_seeds(first.parse().unwrap(), count.parse().unwrap());
    let _ = std::panic::take_hook();
    if let Err(e) = result {
        panic!("{e}");
    }
}

fn run_child(first: u64, count: u64) -> Result<(), String> {
    let out = child_command(module_path!(), "child_api_sequences")
        .env(RANGE_ENV, format!("{first},{count}"))
        .output()
        .map_err(|e| format!("cannot run the child: {e}"))?;
    if out.status.success() && String::from_utf8_lossy(&out.stdout).contains("1 passed") {
        return Ok(());
    }
    Err(format!(
        "seeds {first}..{}: child ended with {}\n{}{}",
        first + count,
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}
