//! Instantiation cost of a small module with one memory (with a data segment), a funcref
//! table (with an element segment) and a few globals, in a fresh store each time; through
//! `Instance::new` and through a pre-resolved `InstancePre`. Store creation and teardown are
//! outside the measured time.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use std::time::{Duration, Instant};
use wasmjit::{Engine, Instance, Linker, Module, Store};

const WAT: &str = r#"(module
  (memory (export "memory") 1)
  (table (export "table") 8 funcref)
  (global $a (export "a") (mut i32) (i32.const 1))
  (global $b (mut i64) (i64.const 2))
  (global $c f64 (f64.const 3.5))
  (global $d (mut funcref) (ref.null func))
  (data (i32.const 64) "instantiate me")
  (elem (i32.const 0) $f0 $f1 $f2)
  (func $f0 (result i32) global.get $a)
  (func $f1 (result i64) global.get $b)
  (func $f2 (result f64) global.get $c)
  (func (export "run") (result i32) i32.const 64 i32.load8_u))"#;

/// Times `instantiate` alone, `iters` times, each in a fresh store.
fn time_instantiations(
    engine: &Engine,
    iters: u64,
    mut instantiate: impl FnMut(&mut Store<()>) -> Instance,
) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let mut store = Store::new(engine, ());
        let start = Instant::now();
        let instance = instantiate(&mut store);
        total += start.elapsed();
        black_box(instance);
        drop(store);
    }
    total
}

fn instantiate(c: &mut Criterion) {
    let engine = Engine::default();
    let module = Module::new(&engine, WAT).expect("valid module");

    c.bench_function("instantiate/instance_new", |b| {
        b.iter_custom(|iters| {
            time_instantiations(&engine, iters, |store| {
                Instance::new(store, &module, &[]).expect("instantiates")
            })
        })
    });

    let pre = Linker::<()>::new(&engine)
        .instantiate_pre(&module)
        .expect("no imports to resolve");
    c.bench_function("instantiate/instance_pre", |b| {
        b.iter_custom(|iters| {
            time_instantiations(&engine, iters, |store| {
                pre.instantiate(store).expect("instantiates")
            })
        })
    });

    c.bench_function("instantiate/store_new_and_drop", |b| {
        b.iter(|| black_box(Store::new(&engine, ())))
    });
}

criterion_group!(benches, instantiate);
criterion_main!(benches);
