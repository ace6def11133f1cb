//! Call overhead on every engine of the build:
//! - host→wasm through `TypedFunc::call` (a nop; `add` of two i32), through the untyped
//!   `Func::call` (`add`, `Val`s) and through `Func::call_unchecked` (`add`, raw slots);
//! - wasm→host calls of a `Func::wrap` closure, measured as a wasm loop making N imported calls
//!   and reported per call, beside the same loop without the call.
//!
//! Prints ratio rows `wasmjit/wasmtime`; goal for the typed host→wasm calls ≤ 0.80.

#[macro_use]
mod common;

use common::{median_ns, Goal, Ratios};
use criterion::{black_box, Criterion};
use std::time::{Duration, Instant};

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

/// Every case: (group, goal on wasmjit/wasmtime).
const CASES: [(&str, Option<f64>); 6] = [
    ("calls/host_to_wasm_typed_nop", Some(0.80)),
    ("calls/host_to_wasm_typed_add_i32", Some(0.80)),
    ("calls/host_to_wasm_untyped_add_i32", None),
    ("calls/host_to_wasm_unchecked_add_i32", None),
    ("calls/wasm_to_host_per_call", None),
    ("calls/wasm_empty_loop_per_iteration", None),
];

per_engine! {
    fn setup() -> (rt::Store<()>, rt::Instance) {
        let engine = rt::Engine::default();
        let module = rt::Module::new(&engine, WAT).expect("valid module");
        let mut store = rt::Store::new(&engine, ());
        let sink = rt::Func::wrap(&mut store, |x: i32| {
            black_box(x);
        });
        let instance =
            rt::Instance::new(&mut store, &module, &[sink.into()]).expect("instantiates");
        (store, instance)
    }

    /// Runs `f` for `iters` iterations of its loop in chunks an i32 can count.
    fn run_loop(store: &mut rt::Store<()>, f: &rt::TypedFunc<i32, ()>, iters: u64) -> Duration {
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

    pub fn bench(c: &mut Criterion) {
        let (mut store, instance) = setup();
        let nop = instance
            .get_typed_func::<(), ()>(&mut store, "nop")
            .expect("nop export");
        c.benchmark_group(CASES[0].0).bench_function(ENGINE, |b| {
            b.iter(|| nop.call(&mut store, ()).expect("nop does not trap"))
        });

        let add = instance.get_func(&mut store, "add").expect("add export");
        let typed_add = add
            .typed::<(i32, i32), i32>(&store)
            .expect("add is (i32, i32) -> i32");
        c.benchmark_group(CASES[1].0).bench_function(ENGINE, |b| {
            b.iter(|| {
                typed_add
                    .call(&mut store, black_box((1, 2)))
                    .expect("add does not trap")
            })
        });

        let params = [rt::Val::I32(1), rt::Val::I32(2)];
        let mut results = [rt::Val::I32(0)];
        c.benchmark_group(CASES[2].0).bench_function(ENGINE, |b| {
            b.iter(|| {
                add.call(&mut store, black_box(&params), &mut results)
                    .expect("add does not trap");
                black_box(&results);
            })
        });

        let mut slots = [rt::ValRaw::i32(0), rt::ValRaw::i32(0)];
        c.benchmark_group(CASES[3].0).bench_function(ENGINE, |b| {
            b.iter(|| {
                slots[0] = rt::ValRaw::i32(1);
                slots[1] = rt::ValRaw::i32(black_box(2));
                // SAFETY: `add` takes two i32 and returns one i32: `slots` holds both
                // arguments and has room for the result.
                unsafe { shim::call_unchecked(&add, &mut store, &mut slots) }
                    .expect("add does not trap");
                black_box(slots[0].get_i32())
            })
        });
        assert_eq!(slots[0].get_i32(), 3, "unchecked add on {ENGINE}");

        // Each criterion iteration is one wasm→host call (or loop iteration); the host→wasm
        // entry is amortised over the whole batch.
        for (i, export) in [(4, "call_host"), (5, "empty_loop")] {
            let f = instance
                .get_typed_func::<i32, ()>(&mut store, export)
                .expect("loop export");
            c.benchmark_group(CASES[i].0).bench_function(ENGINE, |b| {
                b.iter_custom(|iters| run_loop(&mut store, &f, iters))
            });
        }
    }
}

fn main() {
    common::mark_start();
    let mut c = Criterion::default().configure_from_args();
    each_engine!(bench(&mut c));
    c.final_summary();

    let mut table = Ratios::new("calls");
    for (case, goal) in CASES {
        table.row(
            case,
            "wasmjit/wasmtime",
            median_ns(case, "wasmjit"),
            median_ns(case, "wasmtime"),
            goal.map(Goal),
        );
    }
    table.print();
}
