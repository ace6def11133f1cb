//! SIMD against scalar code: the dot product of two 4096-element `f32` vectors in linear
//! memory, computed four lanes at a time with `f32x4.mul`/`f32x4.add` and one element at a
//! time with `f32.mul`/`f32.add`. Both loops make the same memory accesses per element;
//! the ratio shows what the vector lowering buys.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use wasmjit::{Engine, Instance, Module, Store};

/// Elements per vector; `a` starts at 0, `b` at `4 * N`.
const N: i32 = 4096;

const WAT: &str = r#"(module
  (memory (export "mem") 1)
  (func (export "dot_simd") (param $n i32) (result f32)
    (local $i i32) (local $end i32) (local $acc v128)
    local.get $n i32.const 4 i32.mul local.set $end
    block $done
      loop $next
        local.get $i local.get $end i32.ge_u br_if $done
        local.get $acc
        local.get $i v128.load
        local.get $i local.get $end i32.add v128.load
        f32x4.mul f32x4.add local.set $acc
        local.get $i i32.const 16 i32.add local.set $i
        br $next
      end
    end
    local.get $acc f32x4.extract_lane 0 local.get $acc f32x4.extract_lane 1 f32.add
    local.get $acc f32x4.extract_lane 2 local.get $acc f32x4.extract_lane 3 f32.add
    f32.add)
  (func (export "dot_scalar") (param $n i32) (result f32)
    (local $i i32) (local $end i32) (local $acc f32)
    local.get $n i32.const 4 i32.mul local.set $end
    block $done
      loop $next
        local.get $i local.get $end i32.ge_u br_if $done
        local.get $acc
        local.get $i f32.load
        local.get $i local.get $end i32.add f32.load
        f32.mul f32.add local.set $acc
        local.get $i i32.const 4 i32.add local.set $i
        br $next
      end
    end
    local.get $acc))"#;

fn dot(c: &mut Criterion) {
    let engine = Engine::default();
    let module = Module::new(&engine, WAT).expect("valid module");
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).expect("instantiates");
    let memory = instance
        .get_memory(&mut store, "mem")
        .expect("memory export");
    // Small integers: both orders of summation give the exact result.
    for (i, chunk) in memory.data_mut(&mut store)[..8 * N as usize]
        .chunks_exact_mut(4)
        .enumerate()
    {
        chunk.copy_from_slice(&((i % 7) as f32).to_le_bytes());
    }
    let simd = instance
        .get_typed_func::<i32, f32>(&mut store, "dot_simd")
        .expect("dot_simd export");
    let scalar = instance
        .get_typed_func::<i32, f32>(&mut store, "dot_scalar")
        .expect("dot_scalar export");
    assert_eq!(
        simd.call(&mut store, N).unwrap(),
        scalar.call(&mut store, N).unwrap()
    );

    let mut group = c.benchmark_group("dot_f32_4096");
    group.throughput(Throughput::Elements(N as u64));
    group.bench_function("f32x4", |b| {
        b.iter(|| simd.call(&mut store, black_box(N)).unwrap())
    });
    group.bench_function("scalar", |b| {
        b.iter(|| scalar.call(&mut store, black_box(N)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, dot);
criterion_main!(benches);
