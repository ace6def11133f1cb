//! Differential testing (issue 8): wasmjit must never disagree with a reference interpreter
//! (wasmi). See `differential/src/lib.rs` for what a case is and what is compared.
//!
//! `differential_smoke` runs a fixed range of seeded wasm-smith cases and is part of every CI
//! run; `sync_async_smoke` runs the same modules through `call_async` with a tiny fuel yield
//! interval against synchronous calls. Environment knobs, for longer or targeted runs:
//!
//! - `DIFF_CASES=N`  number of seeds (default [`DEFAULT_CASES`]);
//! - `DIFF_SEED=S`   first seed (default 0);
//! - `DIFF_THREADS=T` worker threads (default: up to 2);
//! - `DIFF_VERBOSE=1` print each seed before running it (to find a seed that crashes).
//!
//! A divergent case is saved as `<CARGO_TARGET_TMPDIR>/differential/seed-S.wasm` (print it with
//! `wasm-tools print`); rerun it alone with `DIFF_SEED=S DIFF_CASES=1`.
//!
//! `regressions` replays the minimized cases in `tests/regressions/` (see its README).

use crate::oracle;

use oracle::{Outcome, Stats, TrapKind, Value, Variant};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Seeds run by default: sized to finish well under two minutes in release on 2 busy cores
/// (5000 take 10-30 s there). Unoptimized builds compile modules far more slowly.
const DEFAULT_CASES: u64 = if cfg!(debug_assertions) { 300 } else { 5000 };

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn failure_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("differential")
}

#[test]
fn differential_smoke() {
    let cases = env_u64("DIFF_CASES").unwrap_or(DEFAULT_CASES);
    smoke("differential", cases, |seed| {
        let (wasm, variant, result) = oracle::run_seed(seed);
        (wasm, format!("{variant:?}"), result)
    });
}

/// Seeds of the sync/async comparison run by default (each runs the module twice on wasmjit).
const DEFAULT_ASYNC_CASES: u64 = if cfg!(debug_assertions) { 100 } else { 1500 };

/// The `async` comparison (see `differential/src/sync_async.rs`): `call_async` with a tiny
/// fuel yield interval must agree with the synchronous calls, fuel included. `DIFF_CASES` and
/// `DIFF_SEED` apply here too.
#[test]
fn sync_async_smoke() {
    let cases = env_u64("DIFF_CASES").unwrap_or(DEFAULT_ASYNC_CASES);
    smoke("sync/async", cases, |seed| {
        let (wasm, result) = oracle::sync_async::run_seed(seed);
        (wasm, "async".to_string(), result)
    });
}

/// Runs `cases` seeds from `DIFF_SEED` through `run` on worker threads, saving the module of
/// every divergent case, and fails if any diverged or panicked.
fn smoke(
    name: &str,
    cases: u64,
    run: impl Fn(u64) -> (Vec<u8>, String, Result<Stats, oracle::Divergence>) + Sync,
) {
    let first = env_u64("DIFF_SEED").unwrap_or(0);
    let threads = env_u64("DIFF_THREADS").unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(2) as u64)
    });
    let verbose = std::env::var_os("DIFF_VERBOSE").is_some();

    let next = AtomicU64::new(first);
    let end = first + cases;
    let total = Mutex::new(Stats::default());
    let failures = Mutex::new(Vec::<(u64, String)>::new());
    let start = Instant::now();

    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            std::thread::Builder::new()
                .stack_size(16 << 20)
                .spawn_scoped(s, || {
                    let mut local = Stats::default();
                    loop {
                        let seed = next.fetch_add(1, Ordering::Relaxed);
                        if seed >= end {
                            break;
                        }
                        if verbose {
                            eprintln!("seed {seed}");
                        }
                        let r = catch_unwind(AssertUnwindSafe(|| run(seed)));
                        let (wasm, label, result) = match r {
                            Ok(x) => x,
                            Err(p) => {
                                let msg = p
                                    .downcast_ref::<String>()
                                    .cloned()
                                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                                    .unwrap_or_default();
                                failures
                                    .lock()
                                    .unwrap()
                                    .push((seed, format!("panic: {msg}")));
                                continue;
                            }
                        };
                        match result {
                            Ok(st) => local.add(&st),
                            Err(d) => {
                                let dir = failure_dir();
                                let _ = std::fs::create_dir_all(&dir);
                                let path = dir.join(format!("seed-{seed}.wasm"));
                                let _ = std::fs::write(&path, &wasm);
                                failures.lock().unwrap().push((
                                    seed,
                                    format!("({label}, saved to {})\n{d}", path.display()),
                                ));
                            }
                        }
                    }
                    total.lock().unwrap().add(&local);
                })
                .unwrap();
        }
    });

    let total = total.into_inner().unwrap();
    let mut failures = failures.into_inner().unwrap();
    failures.sort_by_key(|f| f.0);
    eprintln!(
        "{name}: seeds {first}..{end} in {:.1?}: {total}",
        start.elapsed()
    );
    for (seed, msg) in &failures {
        eprintln!("--- seed {seed} {msg}\n");
    }
    assert!(
        failures.is_empty(),
        "{} of {cases} cases diverged: seeds {:?}",
        failures.len(),
        failures.iter().map(|f| f.0).collect::<Vec<_>>()
    );
    // A harness that compares nothing would pass vacuously.
    if cases >= 100 {
        assert!(
            total.calls_compared > cases,
            "too few calls compared: {total}"
        );
    }
}

/// Replays one saved module with the calls of seed `DIFF_SEED` (default 0) on variant
/// `DIFF_VARIANT` (0-4, index in `Variant::ALL`; default the seed's), printing what both engines did:
///
/// ```sh
/// DIFF_WASM=seed-137.wasm DIFF_SEED=137 cargo test --release --test differential -- \
///     --ignored --exact replay --nocapture
/// ```
///
/// It fails on a divergence, so it also serves as the predicate of `wasm-tools shrink`.
#[test]
#[ignore = "manual: replays the module in DIFF_WASM"]
fn replay() {
    let Some(path) = std::env::var_os("DIFF_WASM") else {
        eprintln!("replay: set DIFF_WASM to a .wasm or .wat file");
        return;
    };
    let seed = env_u64("DIFF_SEED").unwrap_or(0);
    let (_, call_bytes, variant) = oracle::seed_inputs(seed);
    let variant = env_u64("DIFF_VARIANT").map_or(variant, Variant::from_index);
    let wasm = wat::parse_file(&path).expect("DIFF_WASM: a .wasm or .wat file");
    std::env::set_var("DIFF_LOG", "1");
    let mut u = arbitrary::Unstructured::new(&call_bytes);
    match oracle::run_case(&wasm, variant, &mut u) {
        Ok(stats) => eprintln!("replay: no divergence ({variant:?}): {stats}"),
        Err(d) => panic!("replay: {d}"),
    }
}

/// Found by the differential fuzzer, which ran out of memory mappings after ~47,000 cases: an
/// `Engine` keeps the trampolines of every function signature it has ever seen, two memory
/// mappings each, after every module using the signature is gone. A process that loads many
/// modules with distinct signatures into one engine exhausts `vm.max_map_count` (65530 here);
/// then committing a linear memory fails with ENOMEM and Rust allocations abort the process.
/// The registry now holds its entries weakly.
#[test]
#[cfg(target_os = "linux")]
fn engine_releases_unused_signatures() {
    let maps = || {
        std::fs::read_to_string("/proc/self/maps")
            .unwrap()
            .lines()
            .count()
    };
    let engine = wasmjit::Engine::new(&wasmjit::Config::new()).unwrap();
    // 1000 distinct signatures: six parameters, each one of four types.
    let tys = ["i32", "i64", "f32", "f64"];
    let module = |n: usize| {
        let params: Vec<&str> = (0..6).map(|k| tys[(n >> (2 * k)) & 3]).collect();
        let src = format!(
            "(module (func (export \"f\") (param {}) (result i32) i32.const 1))",
            params.join(" ")
        );
        wasmjit::Module::new(&engine, wat::parse_str(&src).unwrap()).unwrap()
    };
    drop(module(0));
    let before = maps();
    for n in 1..1000 {
        drop(module(n));
    }
    let after = maps();
    // Other tests of this binary may map a little meanwhile; 2000 mappings are the leak.
    assert!(
        after < before + 200,
        "1000 modules compiled and dropped left {} more memory mappings",
        after - before
    );
}

// ---------------------------------------------------------------------------------------------
// Regressions: minimized cases from tests/regressions/
// ---------------------------------------------------------------------------------------------

/// Parses one expected-outcome value, `i32:-1`, `f32:0x7fc00000`, `funcref:null`, ...
fn parse_value(s: &str) -> Value {
    let (ty, v) = s
        .split_once(':')
        .unwrap_or_else(|| panic!("bad value {s:?}"));
    let int = |v: &str| -> i128 {
        if let Some(h) = v.strip_prefix("0x") {
            i128::from_str_radix(h, 16).unwrap()
        } else if let Some(h) = v.strip_prefix("-0x") {
            -i128::from_str_radix(h, 16).unwrap()
        } else {
            v.parse().unwrap()
        }
    };
    match ty {
        "i32" => Value::I32(int(v) as i32),
        "i64" => Value::I64(int(v) as i64),
        "f32" => Value::F32(int(v) as u32),
        "f64" => Value::F64(int(v) as u64),
        "funcref" => Value::FuncRef(v != "null"),
        "externref" if v == "null" => Value::ExternRef(None),
        "externref" => Value::ExternRef(Some(int(v) as u32)),
        _ => panic!("bad value {s:?}"),
    }
}

fn parse_trap(s: &str) -> TrapKind {
    match s {
        "unreachable" => TrapKind::Unreachable,
        "memory-out-of-bounds" => TrapKind::MemoryOutOfBounds,
        "table-out-of-bounds" => TrapKind::TableOutOfBounds,
        "indirect-call-to-null" => TrapKind::IndirectCallToNull,
        "bad-signature" => TrapKind::BadSignature,
        "integer-overflow" => TrapKind::IntegerOverflow,
        "integer-division-by-zero" => TrapKind::IntegerDivisionByZero,
        "bad-conversion-to-integer" => TrapKind::BadConversionToInteger,
        "null-reference" => TrapKind::NullReference,
        other => panic!("unknown trap {other:?}"),
    }
}

fn parse_outcome(s: &str) -> Outcome {
    let s = s.trim();
    if let Some(t) = s.strip_prefix("trap ") {
        Outcome::Trapped(parse_trap(t.trim()))
    } else if s.is_empty() {
        Outcome::Returned(vec![])
    } else {
        Outcome::Returned(s.split_whitespace().map(parse_value).collect())
    }
}

fn to_arg(v: &Value) -> oracle::Arg {
    match v {
        Value::I32(x) => oracle::Arg::I32(*x),
        Value::I64(x) => oracle::Arg::I64(*x),
        Value::F32(x) => oracle::Arg::F32(*x),
        Value::F64(x) => oracle::Arg::F64(*x),
        Value::ExternRef(x) => oracle::Arg::ExternRef(*x),
        Value::FuncRef(false) => oracle::Arg::FuncRef(None),
        other => panic!("unsupported argument {other:?}"),
    }
}

/// Runs `tests/regressions/<name>.wat` against `<name>.expected` on every wasmjit variant (and
/// on wasmi, to check the expectation itself). Returns the mismatches.
///
/// `.expected` format, one line per step, `#` comments:
/// ```text
/// instantiate                       # or: instantiate trap <kind> / instantiate fails
/// invoke <export> <args...> => <results...>      # or: => trap <kind>
/// ```
fn check_regression(name: &str) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let wat = std::fs::read_to_string(dir.join(format!("{name}.wat"))).unwrap();
    let wasm = wat::parse_str(&wat).unwrap();
    let expected = std::fs::read_to_string(dir.join(format!("{name}.expected"))).unwrap();
    let steps: Vec<&str> = expected
        .lines()
        .map(|l| l.split('#').next().unwrap().trim())
        .filter(|l| !l.is_empty())
        .collect();

    let mut problems = Vec::new();
    // `None`: wasmi (the reference).
    let engines: Vec<Option<Variant>> = std::iter::once(None)
        .chain(Variant::ALL.iter().copied().map(Some))
        .collect();
    for engine in engines {
        let label = match engine {
            None => "wasmi".to_string(),
            Some(v) => format!("wasmjit {v:?}"),
        };
        let mut jit = None;
        let mut wi = None;
        match engine {
            Some(v) => jit = Some(oracle::WasmjitSide::compile(v, &wasm).unwrap()),
            None => wi = Some(oracle::WasmiSide::compile(&wasm).unwrap()),
        }
        let exports = match &jit {
            Some(j) => j.exports(),
            None => oracle::WasmjitSide::compile(Variant::Default, &wasm)
                .unwrap()
                .exports(),
        };
        for step in &steps {
            let got;
            let want;
            if let Some(rest) = step.strip_prefix("instantiate") {
                let rest = rest.trim();
                want = if rest == "fails" {
                    None
                } else {
                    Some(parse_outcome(rest))
                };
                got = match (&mut jit, &mut wi) {
                    (Some(j), _) => j.instantiate(),
                    (_, Some(w)) => w.instantiate(),
                    _ => unreachable!(),
                };
                if want.is_none() {
                    if !matches!(got, Outcome::Trapped(_)) {
                        problems.push(format!("{label}: {step}: got {got}"));
                    }
                    continue;
                }
            } else if let Some(rest) = step.strip_prefix("invoke ") {
                let (call, result) = rest.split_once("=>").expect("=> in invoke");
                let mut parts = call.split_whitespace();
                let func = parts.next().unwrap().trim_matches('"');
                let args: Vec<oracle::Arg> = parts.map(|a| to_arg(&parse_value(a))).collect();
                want = Some(parse_outcome(result));
                got = match (&mut jit, &mut wi) {
                    (Some(j), _) => j.call(func, &args, &exports),
                    (_, Some(w)) => w.call(func, &args, &exports),
                    _ => unreachable!(),
                };
            } else {
                panic!("bad step {step:?} in {name}.expected");
            }
            if Some(&got) != want.as_ref() {
                problems.push(format!(
                    "{label}: {step}: got {got}, expected {}",
                    want.unwrap()
                ));
            }
        }
    }
    problems
}

fn assert_regression(name: &str) {
    let problems = check_regression(name);
    assert!(problems.is_empty(), "{name}:\n{}", problems.join("\n"));
}

/// A bug of wasmi 2.0 (the reason the reference is wasmi 1.1), not of wasmjit.
#[test]
fn regression_wasmi2_select_local_tee() {
    assert_regression("wasmi2_select_local_tee");
}

/// Every regression case must have a test; this catches a forgotten one.
#[test]
fn regressions_are_all_listed() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let this = include_str!("differential.rs");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "wat") {
            let stem = path.file_stem().unwrap().to_str().unwrap();
            assert!(
                this.contains(&format!("assert_regression(\"{stem}\")")),
                "tests/regressions/{stem}.wat has no test in tests/all/differential.rs"
            );
            assert!(
                path.with_extension("expected").exists(),
                "tests/regressions/{stem}.wat has no .expected"
            );
        }
    }
}
