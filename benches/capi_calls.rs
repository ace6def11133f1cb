//! What the C API adds to a call: `wasmtime_func_call` against the Rust `Func::call` it wraps
//! (two i32 arguments, one result; and a nop), and `wasmtime_func_call_unchecked` against
//! `Func::call_unchecked`. The C functions are called through the `wasmjit-capi` rlib, exactly
//! the code `libwasmjit.so` exports.
//!
//! Besides criterion's rows, an interleaved measurement (rounds alternating Rust and C, so that
//! load on this machine hits both alike) prints `C layer adds N ns per call` rows: the median
//! over rounds of (C time − Rust time) per call. The goal is ≤ 10 ns.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use std::ptr;
use std::time::Instant;
use wasmjit::{Engine, Func, Instance, Module, Store, Val, ValRaw};
use wasmjit_capi as c;

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

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = calls
}
criterion_main!(benches);
