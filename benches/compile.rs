//! Compile time with `Module::from_binary`, on every engine of the build, reported in bytes of
//! wasm per second:
//! - `compile/small`: a small module (the sha256 kernel, 1.7 KB, a handful of functions);
//! - `compile/generated_3000_funcs`: a generated module of thousands of small, varied functions
//!   (integer and float arithmetic, loops, branches, memory traffic, calls, globals), with
//!   parallel compilation, and `..._serial` without;
//! - `compile/sqlite3`: a real program, SQLite's amalgamation built for wasm32 (about 1 MB,
//!   1 400 functions; see `benches/kernels/build.sh`), with parallel compilation.
//!
//! Prints ratio rows `wasmjit/wasmtime`; goal ≤ 1.00 with parallel compilation on both.

#[macro_use]
mod common;

use common::{median_ns, Goal, Ratios};
use criterion::measurement::WallTime;
use criterion::{black_box, BenchmarkGroup, Criterion, Throughput};
use std::fmt::Write;

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

per_engine! {
    /// Compiles `wasm` over and over on this engine.
    pub fn bench(group: &mut BenchmarkGroup<'_, WallTime>, wasm: &[u8], parallel: bool) {
        let mut config = rt::Config::new();
        config.parallel_compilation(parallel);
        let engine = rt::Engine::new(&config).expect("valid config");
        group.bench_function(ENGINE, |b| {
            b.iter(|| rt::Module::from_binary(&engine, black_box(wasm)).expect("compiles"))
        });
    }
}

fn main() {
    common::mark_start();
    let mut c = Criterion::default().configure_from_args();
    let small = common::kernels::all()
        .into_iter()
        .find(|k| k.name == "sha256_1MiB")
        .expect("sha256 kernel")
        .wasm;
    let generated = generate_wasm();
    let cases: [(&str, &[u8], bool); 4] = [
        ("compile/small", small, true),
        ("compile/generated_3000_funcs", &generated, true),
        ("compile/generated_3000_funcs_serial", &generated, false),
        ("compile/sqlite3", common::kernels::SQLITE3_WASM, true),
    ];
    for (name, wasm, parallel) in cases {
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Bytes(wasm.len() as u64));
        group.sample_size(10);
        each_engine!(bench(&mut group, wasm, parallel));
        group.finish();
    }
    c.final_summary();

    let mut table = Ratios::new("compile");
    for (name, _, parallel) in cases {
        let goal = parallel.then_some(Goal(1.00));
        table.row(
            name,
            "wasmjit/wasmtime",
            median_ns(name, "wasmjit"),
            median_ns(name, "wasmtime"),
            goal,
        );
    }
    table.print();
}
