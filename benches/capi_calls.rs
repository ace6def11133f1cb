//! What the C API adds to a call: `wasmtime_func_call` against the Rust `Func::call` it wraps
//! (two i32 arguments, one result; and a nop), and `wasmtime_func_call_unchecked` against
//! `Func::call_unchecked`. The C functions are called through the `wasmjit-capi` rlib, exactly
//! the code `libwasmjit.so` exports.
//!
//! Besides criterion's rows, an interleaved measurement (rounds alternating Rust and C, so that
//! load on this machine hits both alike) prints `C layer adds N ns per call` rows: the median
//! over rounds of (C time − Rust time) per call. The goal is ≤ 10 ns.
//!
//! Async host functions (issue #20): a wasm loop making 1 000 calls of an async host function
//! whose operation is ready at once or pending once, called through `wasmtime_func_call_async`
//! with the function defined by `wasmtime_linker_define_async_func`, against the same loop on
//! the Rust API (`Linker::func_new_async`, which the C layer wraps, and the typed
//! `func_wrap_async`). Rows are per host call; `suspend/resume` is pending once − ready. Goal:
//! a pending-once host call through C ≤ 80 ns.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use std::cell::Cell;
use std::ffi::c_void;
use std::future::Future;
use std::pin::{pin, Pin};
use std::ptr;
use std::task::{Context, Poll, Waker};
use std::time::Instant;
use wasmjit::{
    Config, Engine, Func, FuncType, Instance, Linker, Module, Store, Val, ValRaw, ValType,
};
use wasmjit_capi as c;
use wasmjit_capi::async_ as ca;

const WAT: &str = r#"(module
  (func (export "nop"))
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))"#;

/// The module, instantiated through the Rust API.
struct RustSide {
    store: Store<()>,
    nop: Func,
    add: Func,
}

impl RustSide {
    fn new() -> Self {
        let engine = Engine::default();
        let module = Module::new(&engine, WAT).expect("valid module");
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).expect("instantiates");
        let nop = instance.get_func(&mut store, "nop").expect("nop export");
        let add = instance.get_func(&mut store, "add").expect("add export");
        Self { store, nop, add }
    }

    fn call_add(&mut self, results: &mut [Val; 1]) {
        let params = [Val::I32(1), Val::I32(2)];
        self.add
            .call(&mut self.store, black_box(&params), results)
            .expect("add does not trap");
    }

    fn call_nop(&mut self) {
        self.nop
            .call(&mut self.store, &[], &mut [])
            .expect("nop does not trap");
    }

    fn call_add_unchecked(&mut self, raw: &mut [ValRaw; 2]) {
        raw[0] = ValRaw::i32(1);
        raw[1] = ValRaw::i32(2);
        // SAFETY: `add` takes two i32 and returns one, and `raw` has room for both.
        unsafe {
            self.add
                .call_unchecked(&mut self.store, std::ptr::from_mut(&mut raw[..2]))
        }
        .expect("add does not trap");
    }
}

/// The same module, instantiated through the C API.
struct CSide {
    engine: Option<Box<c::wasm_engine_t>>,
    store: Option<Box<c::wasmtime_store_t>>,
    nop: c::wasmtime_func_t,
    add: c::wasmtime_func_t,
}

impl CSide {
    fn new() -> Self {
        let wasm = wat::parse_str(WAT).expect("valid text");
        let engine = c::wasm_engine_new().expect("engine");
        let mut store = c::wasmtime_store_new(&engine, ptr::null_mut(), None);
        let mut module = ptr::null_mut();
        // SAFETY: `wasm` is a live byte slice of the given length.
        let err =
            unsafe { c::wasmtime_module_new(&engine, wasm.as_ptr(), wasm.len(), &mut module) };
        assert!(err.is_none(), "module compiles");
        // SAFETY: `wasmtime_module_new` succeeded, so `module` is an owned, valid module.
        let module = unsafe { Box::from_raw(module) };
        let context = c::wasmtime_store_context(&mut store);
        let mut instance = c::wasmtime_instance_t {
            store_id: 0,
            index: 0,
        };
        let mut trap = ptr::null_mut();
        // SAFETY: no imports (null, 0); `instance` and `trap` are writable.
        let err = unsafe {
            c::wasmtime_instance_new(context, &module, ptr::null(), 0, &mut instance, &mut trap)
        };
        assert!(err.is_none() && trap.is_null(), "instantiates");
        c::wasmtime_module_delete(Some(module));
        let mut get = |name: &str| {
            let mut item = c::wasmtime_extern_t {
                kind: u8::MAX,
                of: c::wasmtime_extern_union_t {
                    sharedmemory: ptr::null_mut(),
                },
            };
            // SAFETY: `name` is a live UTF-8 slice; `item` is writable.
            let found = unsafe {
                c::wasmtime_instance_export_get(
                    context,
                    &instance,
                    name.as_ptr(),
                    name.len(),
                    &mut item,
                )
            };
            assert!(
                found && item.kind == c::WASMTIME_EXTERN_FUNC,
                "{name} export"
            );
            // SAFETY: the kind says the union holds a function.
            unsafe { item.of.func }
        };
        let nop = get("nop");
        let add = get("add");
        Self {
            engine: Some(engine),
            store: Some(store),
            nop,
            add,
        }
    }

    fn context(&mut self) -> &mut c::wasmtime_context_t {
        c::wasmtime_store_context(self.store.as_mut().expect("store lives until drop"))
    }

    fn call_add(&mut self, results: &mut [c::wasmtime_val_t; 1]) {
        let args = [i32_val(1), i32_val(2)];
        let add = self.add;
        let mut trap = ptr::null_mut();
        // SAFETY: two arguments and one result slot, as `add` takes and returns.
        let err = unsafe {
            c::wasmtime_func_call(
                self.context(),
                &add,
                black_box(args.as_ptr()),
                2,
                results.as_mut_ptr(),
                1,
                &mut trap,
            )
        };
        assert!(err.is_none() && trap.is_null(), "add does not trap");
    }

    fn call_nop(&mut self) {
        let nop = self.nop;
        let mut trap = ptr::null_mut();
        // SAFETY: no arguments and no results.
        let err = unsafe {
            c::wasmtime_func_call(
                self.context(),
                &nop,
                ptr::null(),
                0,
                ptr::null_mut(),
                0,
                &mut trap,
            )
        };
        assert!(err.is_none() && trap.is_null(), "nop does not trap");
    }

    fn call_add_unchecked(&mut self, raw: &mut [c::wasmtime_val_raw_t; 2]) {
        raw[0] = c::wasmtime_val_raw_t { i32: 1 };
        raw[1] = c::wasmtime_val_raw_t { i32: 2 };
        let add = self.add;
        let mut trap = ptr::null_mut();
        // SAFETY: `raw` holds the two arguments and has room for the result.
        let err = unsafe {
            c::wasmtime_func_call_unchecked(self.context(), &add, raw.as_mut_ptr(), 2, &mut trap)
        };
        assert!(err.is_none() && trap.is_null(), "add does not trap");
    }
}

impl Drop for CSide {
    fn drop(&mut self) {
        c::wasmtime_store_delete(self.store.take());
        c::wasm_engine_delete(self.engine.take());
    }
}

fn i32_val(v: i32) -> c::wasmtime_val_t {
    c::wasmtime_val_t {
        kind: c::WASMTIME_I32,
        of: c::wasmtime_valunion_t { i32: v },
    }
}

fn zero_raw() -> c::wasmtime_val_raw_t {
    c::wasmtime_val_raw_t { i64: 0 }
}

fn calls(c: &mut Criterion) {
    let mut rust = RustSide::new();
    let mut capi = CSide::new();

    let mut results = [Val::I32(0)];
    c.bench_function("func_call_two_i32/rust", |b| {
        b.iter(|| rust.call_add(&mut results))
    });
    let mut c_results = [i32_val(0)];
    c.bench_function("func_call_two_i32/capi", |b| {
        b.iter(|| capi.call_add(&mut c_results))
    });
    c.bench_function("func_call_nop/rust", |b| b.iter(|| rust.call_nop()));
    c.bench_function("func_call_nop/capi", |b| b.iter(|| capi.call_nop()));
    let mut raw = [ValRaw::i32(0); 2];
    c.bench_function("func_call_unchecked_two_i32/rust", |b| {
        b.iter(|| rust.call_add_unchecked(&mut raw))
    });
    let mut c_raw = [zero_raw(); 2];
    c.bench_function("func_call_unchecked_two_i32/capi", |b| {
        b.iter(|| capi.call_add_unchecked(&mut c_raw))
    });

    // The results really are the sum, on both sides.
    assert_eq!(results[0].i32(), Some(3));
    // SAFETY: `add` wrote an i32 result.
    assert_eq!(unsafe { c_results[0].of.i32 }, 3);

    println!();
    overhead_row(
        "wasmtime_func_call (2×i32 → i32)",
        || rust.call_add(&mut results),
        || capi.call_add(&mut c_results),
    );
    overhead_row(
        "wasmtime_func_call (nop)",
        || rust.call_nop(),
        || capi.call_nop(),
    );
    overhead_row(
        "wasmtime_func_call_unchecked (2×i32 → i32)",
        || rust.call_add_unchecked(&mut raw),
        || capi.call_add_unchecked(&mut c_raw),
    );
}

/// Prints the median, over alternating rounds, of the C call's extra time per call.
fn overhead_row(name: &str, mut rust: impl FnMut(), mut capi: impl FnMut()) {
    const ROUNDS: usize = 41;
    const CALLS: u32 = 20_000;
    let time = |f: &mut dyn FnMut()| {
        let start = Instant::now();
        for _ in 0..CALLS {
            f();
        }
        start.elapsed().as_nanos() as f64 / f64::from(CALLS)
    };
    let (mut diffs, mut rust_ns, mut c_ns) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let r = time(&mut rust);
        let c = time(&mut capi);
        diffs.push(c - r);
        rust_ns.push(r);
        c_ns.push(c);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (r, c, d) = (median(&mut rust_ns), median(&mut c_ns), median(&mut diffs));
    let verdict = if d <= 10.0 { "goal met" } else { "goal MISSED" };
    println!(
        "{name}: Rust {r:.1} ns, C {c:.1} ns; C layer adds {d:.1} ns per call (goal ≤ 10 ns: {verdict})"
    );
}

const ASYNC_WAT: &str = r#"(module
  (import "host" "wait" (func $wait (param i32)))
  ;; Calls the host `n` times with argument `p`.
  (func (export "call_host_loop") (param $n i32) (param $p i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (call $wait (local.get $p))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))))"#;

/// Host calls per wasm call in the async cases.
const HOST_LOOP_CALLS: i32 = 1_000;

/// A future that is pending `n` times before completing.
struct PendingN(u32);

impl Future for PendingN {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        if self.0 == 0 {
            Poll::Ready(())
        } else {
            self.0 -= 1;
            Poll::Pending
        }
    }
}

/// Polls `fut` to completion with a no-op waker; returns the output and the pending count.
fn drive<F: Future + ?Sized>(mut fut: Pin<&mut F>) -> (F::Output, u64) {
    let mut cx = Context::from_waker(Waker::noop());
    let mut pending = 0;
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return (v, pending);
        }
        pending += 1;
    }
}

/// The async module on the Rust API, with `host.wait(p)` pending `p` times, defined through
/// `func_new_async` (`typed` false: `Val`s, as the C layer uses it) or `func_wrap_async`.
struct RustAsync {
    store: Store<()>,
    call_loop: Func,
}

impl RustAsync {
    fn new(typed: bool) -> Self {
        let mut config = Config::new();
        config.async_support(true);
        let engine = Engine::new(&config).expect("valid config");
        let module = Module::new(&engine, ASYNC_WAT).expect("valid module");
        let mut linker = Linker::<()>::new(&engine);
        if typed {
            linker
                .func_wrap_async("host", "wait", |_, (p,): (i32,)| {
                    Box::new(PendingN(p as u32))
                })
                .expect("defines wait");
        } else {
            let ty = FuncType::new(&engine, [ValType::I32], []);
            linker
                .func_new_async("host", "wait", ty, |_, params, _| {
                    let p = params[0].unwrap_i32() as u32;
                    Box::new(async move {
                        PendingN(p).await;
                        Ok(())
                    })
                })
                .expect("defines wait");
        }
        let mut store = Store::new(&engine, ());
        let (instance, _) = drive(pin!(linker.instantiate_async(&mut store, &module)));
        let instance = instance.expect("instantiates");
        let call_loop = instance
            .get_func(&mut store, "call_host_loop")
            .expect("loop export");
        Self { store, call_loop }
    }

    fn run(&mut self, p: i32) {
        let params = [Val::I32(HOST_LOOP_CALLS), Val::I32(p)];
        let (r, pending) = drive(pin!(self.call_loop.call_async(
            &mut self.store,
            &params,
            &mut []
        )));
        r.expect("loop runs");
        assert_eq!(pending, (HOST_LOOP_CALLS * p) as u64);
    }
}

thread_local! {
    /// Polls left before the pending host operation of the C side completes.
    static POLLS_LEFT: Cell<i32> = const { Cell::new(0) };
}

/// The continuation of `host.wait`: done once it has been polled `p` more times.
unsafe extern "C" fn wait_continuation(_env: *mut c_void) -> bool {
    POLLS_LEFT.with(|left| {
        let done = left.get() == 0;
        if !done {
            left.set(left.get() - 1);
        }
        done
    })
}

/// `host.wait(p)` for C: complete at once when `p` is 0, otherwise a continuation that is
/// pending `p` times.
unsafe extern "C" fn wait_callback(
    _env: *mut c_void,
    _caller: *mut c::wasmtime_caller_t,
    args: *const c::wasmtime_val_t,
    nargs: usize,
    _results: *mut c::wasmtime_val_t,
    _nresults: usize,
    _trap: *mut *mut c::wasm_trap_t,
    continuation: *mut ca::wasmtime_async_continuation_t,
) {
    debug_assert_eq!(nargs, 1);
    // SAFETY: `wait` takes one i32, so `args` holds one i32 value.
    let p = unsafe { (*args).of.i32 };
    if p > 0 {
        // The first poll of the continuation comes right after this returns.
        POLLS_LEFT.with(|left| left.set(p));
        // SAFETY: the runtime passes a writable continuation.
        unsafe { (*continuation).callback = Some(wait_continuation) };
    }
}

/// The async module through the C API.
struct CAsync {
    engine: Option<Box<c::wasm_engine_t>>,
    store: Option<Box<c::wasmtime_store_t>>,
    call_loop: c::wasmtime_func_t,
}

/// Polls a C call future to the end and deletes it; returns how often it was pending.
fn drive_c(future: Box<ca::wasmtime_call_future_t>) -> u64 {
    let future = Box::into_raw(future);
    let mut pending = 0;
    // SAFETY: a live future, deleted once done.
    unsafe {
        while !ca::wasmtime_call_future_poll(future) {
            pending += 1;
        }
        ca::wasmtime_call_future_delete(future);
    }
    pending
}

impl CAsync {
    fn new() -> Self {
        let mut config = c::wasm_config_new();
        ca::wasmtime_config_async_support_set(&mut config, true);
        let engine = c::wasm_engine_new_with_config(config).expect("engine");
        let mut store = c::wasmtime_store_new(&engine, ptr::null_mut(), None);
        let mut linker = c::wasmtime_linker_new(&engine);
        let mut params = std::mem::MaybeUninit::uninit();
        let mut results = std::mem::MaybeUninit::uninit();
        let i32_type = [c::wasm_valtype_new(c::WASM_I32)];
        // SAFETY: one element taken over from `i32_type` (not used again); the outputs are
        // written before they are read.
        let ty = unsafe {
            c::wasm_valtype_vec_new(params.as_mut_ptr(), 1, i32_type.as_ptr());
            std::mem::forget(i32_type);
            c::wasm_valtype_vec_new_empty(results.as_mut_ptr());
            c::wasm_functype_new(params.assume_init_mut(), results.assume_init_mut())
        };
        // SAFETY: the names with their lengths; the callback never uses its null data.
        let err = unsafe {
            ca::wasmtime_linker_define_async_func(
                &mut linker,
                b"host".as_ptr(),
                4,
                b"wait".as_ptr(),
                4,
                &ty,
                wait_callback,
                ptr::null_mut(),
                None,
            )
        };
        assert!(err.is_none(), "defines wait");
        c::wasm_functype_delete(Some(ty));
        let wasm = wat::parse_str(ASYNC_WAT).expect("valid text");
        let mut module = ptr::null_mut();
        // SAFETY: `wasm` is a live byte slice of the given length.
        let err =
            unsafe { c::wasmtime_module_new(&engine, wasm.as_ptr(), wasm.len(), &mut module) };
        assert!(err.is_none(), "module compiles");
        // SAFETY: `wasmtime_module_new` succeeded, so `module` is an owned, valid module.
        let module = unsafe { Box::from_raw(module) };
        let context = c::wasmtime_store_context(&mut store);
        let mut instance = c::wasmtime_instance_t {
            store_id: 0,
            index: 0,
        };
        let (mut trap, mut error) = (ptr::null_mut(), ptr::null_mut());
        // SAFETY: every output pointer is writable and outlives the future.
        let future = unsafe {
            ca::wasmtime_linker_instantiate_async(
                &linker,
                context,
                &module,
                &mut instance,
                &mut trap,
                &mut error,
            )
        };
        drive_c(future);
        assert!(trap.is_null() && error.is_null(), "instantiates");
        c::wasmtime_module_delete(Some(module));
        c::wasmtime_linker_delete(Some(linker));
        let mut item = c::wasmtime_extern_t {
            kind: u8::MAX,
            of: c::wasmtime_extern_union_t {
                sharedmemory: ptr::null_mut(),
            },
        };
        let name = "call_host_loop";
        // SAFETY: `name` is a live UTF-8 slice; `item` is writable.
        let found = unsafe {
            c::wasmtime_instance_export_get(
                context,
                &instance,
                name.as_ptr(),
                name.len(),
                &mut item,
            )
        };
        assert!(found && item.kind == c::WASMTIME_EXTERN_FUNC, "loop export");
        // SAFETY: the kind says the union holds a function.
        let call_loop = unsafe { item.of.func };
        Self {
            engine: Some(engine),
            store: Some(store),
            call_loop,
        }
    }

    fn run(&mut self, p: i32) {
        let args = [i32_val(HOST_LOOP_CALLS), i32_val(p)];
        let call_loop = self.call_loop;
        let context = c::wasmtime_store_context(self.store.as_mut().expect("store lives"));
        let (mut trap, mut error) = (ptr::null_mut(), ptr::null_mut());
        // SAFETY: two arguments, no results; the output pointers outlive the future.
        let future = unsafe {
            ca::wasmtime_func_call_async(
                context,
                &call_loop,
                args.as_ptr(),
                2,
                ptr::null_mut(),
                0,
                &mut trap,
                &mut error,
            )
        };
        let pending = drive_c(future);
        assert!(trap.is_null() && error.is_null(), "loop runs");
        assert_eq!(pending, (HOST_LOOP_CALLS * p) as u64);
    }
}

impl Drop for CAsync {
    fn drop(&mut self) {
        c::wasmtime_store_delete(self.store.take());
        c::wasm_engine_delete(self.engine.take());
    }
}

fn async_host_calls(c: &mut Criterion) {
    let mut typed = RustAsync::new(true);
    let mut untyped = RustAsync::new(false);
    let mut capi = CAsync::new();
    for (name, p) in [("ready", 0), ("pending_once", 1)] {
        c.bench_function(&format!("async_host_loop_1000_{name}/rust_typed"), |b| {
            b.iter(|| typed.run(p))
        });
        c.bench_function(&format!("async_host_loop_1000_{name}/rust_vals"), |b| {
            b.iter(|| untyped.run(p))
        });
        c.bench_function(&format!("async_host_loop_1000_{name}/capi"), |b| {
            b.iter(|| capi.run(p))
        });
    }

    // Interleaved rounds (every side, ready then pending, in turn), per host call.
    println!();
    const ROUNDS: usize = 21;
    let names = [
        "Rust func_wrap_async",
        "Rust func_new_async",
        "C wasmtime_linker_define_async_func",
    ];
    // times[side][p]: per-call times of the rounds.
    let mut times = vec![[Vec::new(), Vec::new()]; names.len()];
    for _ in 0..ROUNDS {
        for (side, t) in times.iter_mut().enumerate() {
            for (p, t) in t.iter_mut().enumerate() {
                let start = Instant::now();
                for _ in 0..10 {
                    match side {
                        0 => typed.run(p as i32),
                        1 => untyped.run(p as i32),
                        _ => capi.run(p as i32),
                    }
                }
                t.push(start.elapsed().as_nanos() as f64 / f64::from(10 * HOST_LOOP_CALLS));
            }
        }
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    for (name, [ready, pending]) in names.iter().zip(times) {
        let diffs = pending.iter().zip(&ready).map(|(p, r)| p - r).collect();
        let (r, p, d) = (median(ready), median(pending), median(diffs));
        println!(
            "async host call, {name}: ready {r:.1} ns, pending once {p:.1} ns, \
             suspend/resume {d:.1} ns per call"
        );
    }
    println!("goal: a pending-once host call through C ≤ 80 ns");
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = async_host_calls, calls
}
criterion_main!(benches);
