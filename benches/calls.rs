//! Call overhead benchmarks: host→wasm through `TypedFunc::call` (a nop) and through the
//! untyped `Func::call` (two i32 arguments, one result), and wasm→host calls of a
//! `Func::wrap` closure, measured as a wasm loop making N imported calls and reported per call.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use std::time::{Duration, Instant};
use wasmjit::{Engine, Func, Instance, Module, Store, Val};

const WAT: &str = r#"(module
  (import "host" "sink" (func $sink (param i32)))
  (func (export "nop"))
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  ;; Calls the host `n` times.
  (func (export "call_host") (param $n i32)
    (local $i i32)
    block $done
      loop $next
        local.get $i local.get $n i32.ge_u br_if $done
        local.get $i call $sink
        local.get $i i32.const 1 i32.add local.set $i
        br $next
      end
    end)
  ;; The same loop without the call, to show the loop's own share.
  (func (export "empty_loop") (param $n i32)
    (local $i i32)
    block $done
      loop $next
        local.get $i local.get $n i32.ge_u br_if $done
        local.get $i i32.const 1 i32.add local.set $i
        br $next
      end
    end))"#;

fn setup() -> (Store<()>, Instance) {
    let engine = Engine::default();
    let module = Module::new(&engine, WAT).expect("valid module");
    let mut store = Store::new(&engine, ());
    let sink = Func::wrap(&mut store, |x: i32| {
        black_box(x);
    });
    let instance = Instance::new(&mut store, &module, &[sink.into()]).expect("instantiates");
    (store, instance)
}

fn host_to_wasm(c: &mut Criterion) {
    let (mut store, instance) = setup();
    let nop = instance
        .get_typed_func::<(), ()>(&mut store, "nop")
        .expect("nop export");
    c.bench_function("host_to_wasm/typed_call_nop", |b| {
        b.iter(|| nop.call(&mut store, ()).expect("nop does not trap"))
    });

    let add = instance.get_func(&mut store, "add").expect("add export");
    let params = [Val::I32(1), Val::I32(2)];
    let mut results = [Val::I32(0)];
    c.bench_function("host_to_wasm/func_call_two_i32", |b| {
        b.iter(|| {
            add.call(&mut store, black_box(&params), &mut results)
                .expect("add does not trap");
            black_box(&results);
        })
    });

    let typed_add = add
        .typed::<(i32, i32), i32>(&store)
        .expect("add is (i32, i32) -> i32");
    c.bench_function("host_to_wasm/typed_call_two_i32", |b| {
        b.iter(|| {
            typed_add
                .call(&mut store, black_box((1, 2)))
                .expect("add does not trap")
        })
    });
}

/// Runs `f` for `iters` iterations of the loop in chunks an i32 can count.
fn run_loop(store: &mut Store<()>, f: &wasmjit::TypedFunc<i32, ()>, iters: u64) -> Duration {
    const CHUNK: u64 = 1 << 30;
    let start = Instant::now();
    let mut left = iters;
    while left > 0 {
        let n = left.min(CHUNK);
        f.call(&mut *store, n as i32).expect("loop does not trap");
        left -= n;
    }
    start.elapsed()
}

fn wasm_to_host(c: &mut Criterion) {
    let (mut store, instance) = setup();
    let call_host = instance
        .get_typed_func::<i32, ()>(&mut store, "call_host")
        .expect("call_host export");
    let empty_loop = instance
        .get_typed_func::<i32, ()>(&mut store, "empty_loop")
        .expect("empty_loop export");
    // Each criterion iteration is one wasm→host call; the host→wasm entry is amortised over
    // the whole batch.
    c.bench_function("wasm_to_host/wrap_call_per_call", |b| {
        b.iter_custom(|iters| run_loop(&mut store, &call_host, iters))
    });
    c.bench_function("wasm_to_host/empty_loop_per_iteration", |b| {
        b.iter_custom(|iters| run_loop(&mut store, &empty_loop, iters))
    });
}

criterion_group!(benches, host_to_wasm, wasm_to_host);
criterion_main!(benches);
