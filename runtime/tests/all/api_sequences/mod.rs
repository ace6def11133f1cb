//! Random sequences of embedder API calls on a few stores, for misuse robustness (issue 16):
//! synchronous calls, async calls polled a few times and then finished, dropped or leaked
//! (`mem::forget`, safe code), traps, host functions that fail or panic, and a resource
//! limiter that panics. The process must survive every sequence, every finished call must
//! return what the guest computes, and every store must stay usable.
//!
//! Shared by `runtime/tests/all/async_api_sequences.rs` (fixed seeds, in CI) and the fuzz target
//! `api_sequences` (`fuzz/`), which feeds it arbitrary bytes.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use wasmjit::*;

const WAT: &str = r#"(module
  (import "host" "f" (func $host (param i32) (result i32)))
  (memory 1)
  ;; A loop of n iterations whose result depends on every one of them.
  (func $spin (export "spin") (param $n i32) (result i32) (local $acc i32)
    (block (loop
      (br_if 1 (i32.eqz (local.get $n)))
      (local.set $acc (i32.rotl (i32.xor (local.get $acc) (local.get $n)) (i32.const 1)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br 0)))
    (local.get $acc))
  ;; Traps (unreachable) for odd x, returns x otherwise.
  (func (export "odd_traps") (param $x i32) (result i32)
    (if (i32.and (local.get $x) (i32.const 1)) (then unreachable))
    (local.get $x))
  ;; Loads at an address: out of bounds past the first page.
  (func (export "load") (param $a i32) (result i32) (i32.load (local.get $a)))
  ;; Calls the host between two loops.
  (func (export "via_host") (param $x i32) (result i32)
    (drop (call $spin (i32.const 50)))
    (i32.add (call $host (local.get $x)) (call $spin (i32.const 3))))
  ;; memory.grow by x pages (the limiter may refuse or panic).
  (func (export "grow") (param $x i32) (result i32) (memory.grow (local.get $x))))"#;

/// What the guest's `spin` computes.
pub fn spin(mut n: i32) -> i32 {
    let mut acc: i32 = 0;
    while n != 0 {
        acc = (acc ^ n).rotate_left(1);
        n = n.wrapping_sub(1);
    }
    acc
}

/// The host function: panics for x ≡ 3 (mod 7), fails for x ≡ 4, doubles otherwise.
fn host(x: i32) -> Result<i32> {
    match x.rem_euclid(7) {
        3 => panic!("host panic {x}"),
        4 => Err(format_err!("host error {x}")),
        _ => Ok(x.wrapping_mul(2)),
    }
}

/// A limiter that panics when asked for more than 8 pages in all, refuses more than 4.
struct Limiter;
impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> Result<bool> {
        if desired > 8 << 16 {
            panic!("limiter panic at {desired}");
        }
        Ok(desired <= 4 << 16)
    }
    fn table_growing(
        &mut self,
        _current: usize,
        _desired: usize,
        _max: Option<usize>,
    ) -> Result<bool> {
        Ok(true)
    }
}

struct Data {
    limiter: Limiter,
}

/// What a finished call may give.
#[derive(Debug, PartialEq)]
enum Outcome {
    Value(i32),
    Trap(Trap),
    HostError,
    Panic,
    /// Any other error (refused call, out of fuel...): checked only for not crashing.
    OtherError(String),
}

fn outcome(result: std::thread::Result<Result<i32>>) -> Outcome {
    match result {
        Err(_) => Outcome::Panic,
        Ok(Ok(v)) => Outcome::Value(v),
        Ok(Err(e)) => {
            if let Some(trap) = e.downcast_ref::<Trap>() {
                if *trap != Trap::OutOfFuel {
                    return Outcome::Trap(*trap);
                }
            }
            let text = format!("{e:#}");
            if text.contains("host error") {
                Outcome::HostError
            } else {
                Outcome::OtherError(text)
            }
        }
    }
}

/// What `func(arg)` must give when it runs to the end (`None`: not determined here).
fn expected(func: usize, arg: i32, grown_pages: u32) -> Option<Outcome> {
    Some(match func {
        0 => Outcome::Value(spin(arg)),
        1 if arg & 1 == 1 => Outcome::Trap(Trap::UnreachableCodeReached),
        1 => Outcome::Value(arg),
        2 if (arg as u32 as u64) + 4 > (1 + u64::from(grown_pages)) << 16 => {
            Outcome::Trap(Trap::MemoryOutOfBounds)
        }
        2 => return None,
        3 => match arg.rem_euclid(7) {
            3 => Outcome::Panic,
            4 => Outcome::HostError,
            _ => Outcome::Value(arg.wrapping_mul(2).wrapping_add(spin(3))),
        },
        _ => return None,
    })
}

const FUNCS: [&str; 5] = ["spin", "odd_traps", "load", "via_host", "grow"];

/// Reads the input as a stream of small numbers (zeros once it runs out).
pub struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    fn below(&mut self, n: u8) -> u8 {
        self.byte() % n
    }
    fn done(&self) -> bool {
        self.0.is_empty()
    }
}

struct Noop;
impl Wake for Noop {
    fn wake(self: Arc<Self>) {}
}

struct Setup {
    store: Store<Data>,
    instance: Instance,
    grown_pages: u32,
}

fn new_store(engine: &Engine, module: &Module, is_async: bool) -> Result<Setup> {
    let mut store = Store::new(engine, Data { limiter: Limiter });
    store.limiter(|d| &mut d.limiter);
    store.set_fuel(u64::MAX / 4)?;
    if is_async {
        store.fuel_async_yield_interval(Some(500))?;
    }
    let f = Func::wrap(&mut store, host);
    let instance = if is_async {
        poll_to_end(Instance::new_async(&mut store, module, &[f.into()]))?
    } else {
        Instance::new(&mut store, module, &[f.into()])?
    };
    Ok(Setup {
        store,
        instance,
        grown_pages: 0,
    })
}

/// Polls a future until it is ready (the fuel yields here are woken at once).
fn poll_to_end<F: Future>(future: F) -> F::Output {
    let waker = Waker::from(Arc::new(Noop));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(v) = future.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

/// Runs the sequence `data` describes. `Err` describes a wrong result; a crash is the
/// other failure.
pub fn run(data: &[u8]) -> std::result::Result<(), String> {
    let mut input = Input(data);
    let is_async = input.below(2) == 1;
    let mut config = Config::new();
    config.consume_fuel(true).async_support(is_async);
    let engine = Engine::new(&config).map_err(|e| e.to_string())?;
    let module = Module::new(&engine, WAT).map_err(|e| e.to_string())?;
    let mut stores = Vec::new();
    for _ in 0..2 {
        stores.push(new_store(&engine, &module, is_async).map_err(|e| format!("setup: {e:#}"))?);
    }
    let mut steps = 0;
    while !input.done() && steps < 64 {
        steps += 1;
        let which = input.below(stores.len() as u8) as usize;
        let func_index = input.below(FUNCS.len() as u8) as usize;
        let arg = match func_index {
            0 => i32::from(input.byte()) * 40,
            2 => i32::from(input.byte()) << 10,
            4 => i32::from(input.below(6)),
            _ => i32::from(input.byte()),
        };
        let action = input.below(4);
        let setup = &mut stores[which];
        let func = setup
            .instance
            .get_typed_func::<i32, i32>(&mut setup.store, FUNCS[func_index])
            .map_err(|e| e.to_string())?;
        let got = if !is_async {
            outcome(catch_unwind(AssertUnwindSafe(|| {
                func.call(&mut setup.store, arg)
            })))
        } else {
            let polls = input.below(4) as usize;
            let waker = Waker::from(Arc::new(Noop));
            let mut cx = Context::from_waker(&waker);
            let mut future = Box::pin(func.call_async(&mut setup.store, arg));
            let mut ready = None;
            for _ in 0..=polls {
                match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(&mut cx))) {
                    Ok(Poll::Ready(v)) => {
                        ready = Some(Ok(v));
                        break;
                    }
                    Ok(Poll::Pending) => {}
                    Err(p) => {
                        ready = Some(Err(p));
                        break;
                    }
                }
            }
            match (ready, action) {
                (Some(r), _) => outcome(r),
                // Leaked mid-call: safe code, and the store must carry on.
                (None, 0) => {
                    std::mem::forget(future);
                    continue_after_abandon(setup, is_async)?;
                    continue;
                }
                // Dropped mid-call: cancelled.
                (None, 1) => {
                    drop(future);
                    continue_after_abandon(setup, is_async)?;
                    continue;
                }
                // Polled to the end.
                (None, _) => outcome(catch_unwind(AssertUnwindSafe(|| poll_to_end(future)))),
            }
        };
        if func_index == 4 {
            if let Outcome::Value(old) = got {
                if old >= 0 {
                    setup.grown_pages += arg as u32;
                }
            }
        }
        if let Some(want) = expected(func_index, arg, setup.grown_pages) {
            if got != want {
                return Err(format!(
                    "step {steps}: {}({arg}) on store {which} ({}) gave {got:?}, expected {want:?}",
                    FUNCS[func_index],
                    if is_async { "async" } else { "sync" }
                ));
            }
        }
        check_usable(setup, is_async).map_err(|e| format!("step {steps}: {e}"))?;
    }
    Ok(())
}

/// After a call was dropped or leaked mid-way, a sync call is refused (async store) and a
/// new async call works.
fn continue_after_abandon(setup: &mut Setup, is_async: bool) -> std::result::Result<(), String> {
    if is_async {
        let spin = setup
            .instance
            .get_typed_func::<i32, i32>(&mut setup.store, "spin")
            .map_err(|e| e.to_string())?;
        if spin.call(&mut setup.store, 5).is_ok() {
            return Err("a sync call on an async store succeeded".into());
        }
    }
    check_usable(setup, is_async)
}

/// The store still computes `spin(7)` correctly.
fn check_usable(setup: &mut Setup, is_async: bool) -> std::result::Result<(), String> {
    let spin_fn = setup
        .instance
        .get_typed_func::<i32, i32>(&mut setup.store, "spin")
        .map_err(|e| e.to_string())?;
    let got = if is_async {
        poll_to_end(spin_fn.call_async(&mut setup.store, 7))
    } else {
        spin_fn.call(&mut setup.store, 7)
    };
    match got {
        Ok(v) if v == spin(7) => Ok(()),
        other => Err(format!("store no longer usable: spin(7) gave {other:?}")),
    }
}
