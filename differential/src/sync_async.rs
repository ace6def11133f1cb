//! The `async` comparison: one module on wasmjit twice, once through the synchronous entry
//! points and once through `Instance::new_async` / `Func::call_async` in a store that yields
//! every few units of fuel. Suspending and resuming a fiber must change nothing: every result,
//! trap, the fuel left after each call, and the exported globals, memories and tables must be
//! identical, however many times the async side was suspended.
//!
//! Unlike the comparison with wasmi, running out of fuel is compared too (both sides count
//! fuel the same way, so they must run out at the same instruction, in the same state). Only
//! stack overflow ends the comparison of a case: where the limit falls depends on the stack a
//! call starts on.

use super::{
    fmt_args, generate, hex, plan_calls, snapshot_diff, trap_name, Divergence, Outcome, Stats,
    Variant, WasmjitSide,
};
use arbitrary::Unstructured;
use std::future::Future;
use std::task::{Context, Poll, Waker};

thread_local! {
    static ASYNC_ENGINE: wasmjit::Engine = {
        let mut c = wasmjit::Config::new();
        c.consume_fuel(true)
            .async_support(true)
            .parallel_compilation(false);
        wasmjit::Engine::new(&c).expect("async wasmjit engine")
    };
}

/// The engine of async stores (one per thread).
pub fn engine() -> wasmjit::Engine {
    ASYNC_ENGINE.with(|e| e.clone())
}

/// Polls `future` to completion with a waker that does nothing (every suspension of a fuel
/// yield is ready to resume at once). Returns the output and how many polls were `Pending`.
pub fn block_on<F: Future>(future: F) -> (F::Output, u64) {
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    let mut pending = 0;
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(out) => return (out, pending),
            Poll::Pending => pending += 1,
        }
    }
}

/// Whether an outcome ends the comparison: a stack overflow (see the module comment).
fn out_of_stack(o: &Outcome) -> bool {
    matches!(o, Outcome::Inconclusive(why) if why.contains("stack"))
}

/// Runs `wasm` synchronously and asynchronously with calls drawn from `u` (the first byte
/// picks the yield interval, 1 to 64 units of fuel); `Err` describes the first difference.
pub fn run_case(wasm: &[u8], u: &mut Unstructured<'_>) -> Result<Stats, Divergence> {
    let interval = u.int_in_range(1..=64u64).unwrap_or(1);
    let mut stats = Stats {
        cases: 1,
        ..Stats::default()
    };
    let mut log = format!("fuel yield interval {interval}\n");
    let diverge = |log: &str, what: String| Divergence {
        message: format!("sync vs async\n{log}DIVERGENCE: {what}"),
    };
    let (mut sync, mut asy) = match (
        WasmjitSide::compile(Variant::Default, wasm),
        WasmjitSide::compile_async(wasm, interval),
    ) {
        (Ok(s), Ok(a)) => (s, a),
        (Err(_), Err(_)) => {
            stats.reference_rejected += 1;
            return Ok(stats);
        }
        (s, a) => {
            return Err(diverge(
                &log,
                format!(
                    "compiled on one side only: sync {:?}, async {:?}",
                    s.err().map(|e| format!("{e:#}")),
                    a.err().map(|e| format!("{e:#}"))
                ),
            ))
        }
    };
    let exports = sync.exports();
    let calls = plan_calls(u, &exports);

    // Compares the two sides after step `what` of the case.
    let compare = |sync: &mut WasmjitSide,
                   asy: &mut WasmjitSide,
                   what: &str,
                   a: &Outcome,
                   b: &Outcome,
                   log: &str|
     -> Result<(), Divergence> {
        if a != b {
            return Err(diverge(log, format!("{what}: outcomes differ")));
        }
        // After a trap the fuel left is the count last written back to the store (compiled
        // code keeps it in a register, as Wasmtime's does), and the async side also writes it
        // back at every yield: only calls that return or run dry must agree on it.
        if !matches!(a, Outcome::Trapped(_)) && sync.fuel() != asy.fuel() {
            return Err(diverge(
                log,
                format!(
                    "{what}: fuel left differs: sync {}, async {}",
                    sync.fuel(),
                    asy.fuel()
                ),
            ));
        }
        if let Some(d) = snapshot_diff(&sync.snapshot(&exports), &asy.snapshot(&exports)) {
            return Err(diverge(log, format!("{what}: state differs:\n{d}")));
        }
        Ok(())
    };

    let a = sync.instantiate();
    let b = asy.instantiate();
    log += &format!("instantiate: sync {a}, async {b}\n");
    if out_of_stack(&a) || out_of_stack(&b) {
        stats.instantiation_inconclusive += 1;
        return Ok(stats);
    }
    if a != b {
        return Err(diverge(&log, "instantiation differs".into()));
    }
    if !matches!(a, Outcome::Returned(_)) {
        stats.instantiation_failed_alike += 1;
        return Ok(stats);
    }
    stats.instantiated += 1;
    compare(&mut sync, &mut asy, "instantiation", &a, &b, &log)?;

    for (i, (name, args)) in calls.iter().enumerate() {
        let a = sync.call(name, args, &exports);
        let b = asy.call(name, args, &exports);
        log += &format!(
            "call {name:?} ({}): sync {a}, async {b} (fuel left {} / {})\n",
            fmt_args(args),
            sync.fuel(),
            asy.fuel()
        );
        if out_of_stack(&a) || out_of_stack(&b) {
            stats.calls_skipped += (calls.len() - i) as u64;
            *stats.inconclusive.entry("stack overflow").or_default() += 1;
            break;
        }
        compare(
            &mut sync,
            &mut asy,
            &format!("call {i} ({name:?})"),
            &a,
            &b,
            &log,
        )?;
        stats.calls_compared += 1;
        match &a {
            Outcome::Trapped(k) => {
                stats.calls_trapped += 1;
                *stats.traps.entry(trap_name(k)).or_default() += 1;
            }
            Outcome::Inconclusive(_) => *stats.traps.entry("out of fuel").or_default() += 1,
            Outcome::Returned(_) => {}
        }
    }
    stats.suspensions = asy.suspensions;
    if std::env::var_os("DIFF_LOG").is_some() {
        eprintln!("{log}");
    }
    Ok(stats)
}

/// One seeded case (the same module bytes as the wasmi comparison's seed).
pub fn run_seed(seed: u64) -> (Vec<u8>, Result<Stats, Divergence>) {
    let (module_bytes, call_bytes, _) = super::seed_inputs(seed);
    let Ok(wasm) = generate(&mut Unstructured::new(&module_bytes)) else {
        return (Vec::new(), Ok(Stats::default()));
    };
    let r = run_case(&wasm, &mut Unstructured::new(&call_bytes));
    (wasm, r)
}

/// One fuzz input: wasm-smith bytes, then the yield interval and the calls.
pub fn run_fuzz_input(data: &[u8]) -> Result<Stats, Divergence> {
    let mut u = Unstructured::new(data);
    let Ok(wasm) = generate(&mut u) else {
        return Ok(Stats::default());
    };
    run_case(&wasm, &mut u).map_err(|mut d| {
        d.message = format!("module (hex): {}\n{}", hex(&wasm), d.message);
        d
    })
}
