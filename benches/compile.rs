//! Compile throughput: a generated module of thousands of small, varied functions (integer
//! and float arithmetic, loops, branches, memory traffic, calls, globals) compiled with
//! `Module::from_binary`, reported in bytes of wasm per second, with parallel compilation on
//! and off.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use std::fmt::Write;
use wasmjit::{Config, Engine, Module};

const FUNCTIONS: usize = 3000;

/// One function body of kind `i % 8`, parameterised by `i` so bodies differ in constants and
/// callees.
fn function(out: &mut String, i: usize) {
    let k = i as i64 * 7919 % 1000 + 1;
    match i % 8 {
        0 => write!(
            out,
            "(func $f{i} (param i32 i32) (result i32)
               local.get 0 local.get 1 i32.add i32.const {k} i32.mul
               local.get 0 i32.const {s} i32.shr_u i32.xor)",
            s = i % 31
        ),
        1 => write!(
            out,
            "(func $f{i} (param i32 i32) (result i32) (local $acc i32)
               block $done
                 loop $next
                   local.get 0 i32.eqz br_if $done
                   local.get $acc local.get 1 i32.add i32.const {k} i32.xor local.set $acc
                   local.get 0 i32.const 1 i32.sub local.set 0
                   br $next
                 end
               end
               local.get $acc)"
        ),
        2 => write!(
            out,
            "(func $f{i} (param i32 i32) (result i32)
               local.get 0 local.get 1 i32.lt_s
               if (result i32)
                 local.get 0 i32.const {k} i32.add
               else
                 local.get 1 local.get 0 i32.sub i32.const 3 i32.rotl
               end)"
        ),
        3 => write!(
            out,
            "(func $f{i} (param i32 i32) (result i32)
               local.get 0 i32.const 1023 i32.and i32.const 4 i32.mul
               local.get 1 i32.store offset={o}
               local.get 0 i32.const 1023 i32.and i32.const 4 i32.mul
               i32.load offset={o} i32.const {k} i32.add)",
            o = (i % 64) * 4
        ),
        4 => write!(
            out,
            "(func $f{i} (param i32 i32) (result i32)
               local.get 0 f64.convert_i32_s f64.const {k}.25 f64.mul
               local.get 1 f64.convert_i32_u f64.sqrt f64.add
               f64.const 1e6 f64.min i32.trunc_sat_f64_s)"
        ),
        5 => write!(
            out,
            "(func $f{i} (param i32 i32) (result i32)
               local.get 0 local.get 1 call $f{a}
               local.get 1 local.get 0 call $f{b} i32.add)",
            a = i - 5,
            b = i - 3
        ),
        6 => write!(
            out,
            "(func $f{i} (param i32 i32) (result i32)
               global.get $g local.get 0 i32.add global.set $g
               local.get 0 i64.extend_i32_s i64.const {k} i64.mul
               local.get 1 i64.extend_i32_u i64.rem_u i32.wrap_i64
               global.get $g i32.add)"
        ),
        _ => write!(
            out,
            "(func $f{i} (param i32 i32) (result i32)
               block $b2 block $b1 block $b0
                 local.get 0 i32.const 3 i32.and
                 br_table $b0 $b1 $b2 $b0
               end local.get 1 i32.const {k} i32.add return
               end local.get 1 i32.const {k} i32.sub return
               end local.get 0 local.get 1 i32.mul)"
        ),
    }
    .expect("writing to a String cannot fail");
    out.push('\n');
}

fn generate_wasm() -> Vec<u8> {
    let mut wat = String::from("(module (memory 1) (global $g (mut i32) (i32.const 0))\n");
    for i in 0..FUNCTIONS {
        function(&mut wat, i);
    }
    // Export a few so nothing is trivially dead.
    for i in (0..FUNCTIONS).step_by(500) {
        writeln!(wat, "(export \"f{i}\" (func $f{i}))").expect("writing to a String");
    }
    wat.push(')');
    wat::parse_str(&wat).expect("generated WAT is valid")
}

fn compile(c: &mut Criterion) {
    let wasm = generate_wasm();
    let mut group = c.benchmark_group("compile");
    group.throughput(Throughput::Bytes(wasm.len() as u64));
    group.sample_size(10);
    for parallel in [true, false] {
        let mut config = Config::new();
        config.parallel_compilation(parallel);
        let engine = Engine::new(&config).expect("valid config");
        let name = if parallel {
            format!("{FUNCTIONS}_funcs_parallel")
        } else {
            format!("{FUNCTIONS}_funcs_serial")
        };
        group.bench_function(name, |b| {
            b.iter(|| Module::from_binary(&engine, black_box(&wasm)).expect("compiles"))
        });
    }
    group.finish();
}

criterion_group!(benches, compile);
criterion_main!(benches);
