//! wasi-threads: the Rust programs of `tests/wasi-threads/` (built for
//! `wasm32-wasip1-threads` with `std::thread`) run by `wasmjit run -S threads`, and the
//! `wasmjit-wasi-threads` crate driven directly.

use std::cell::UnsafeCell;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;
use wasmjit::{Config, Engine, Linker, Module, Store};
use wasmjit_wasi_threads::{add_to_linker, WasiThreadsCtx};

fn program(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/wasi-threads")
        .join(format!("{name}.wasm"));
    path.to_str().unwrap().to_string()
}

fn run_threads(name: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wasmjit"))
        .args(["run", "-S", "threads", &program(name)])
        .output()
        .expect("the wasmjit binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn threads_sum_into_one_atomic() {
    let out = run_threads("sum");
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let mut expected = String::new();
    for t in 0..8u64 {
        let share: u64 = (t * 1000 + 1..=(t + 1) * 1000).sum();
        expected.push_str(&format!("thread {t}: {share}\n"));
    }
    expected.push_str("total: 32004000\n");
    assert_eq!(stdout, expected);
}

#[test]
fn mutex_and_condvar_hand_values_over() {
    let out = run_threads("handoff");
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let mut expected: String = (1..=10).map(|i| format!("got {}\n", i * 10)).collect();
    expected.push_str("sum: 5050\n");
    assert_eq!(stdout, expected);
}

#[test]
fn exit_in_a_thread_ends_the_program_with_its_status() {
    let out = run_threads("exit");
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(3), "{stdout}{stderr}");
    assert_eq!(stdout, "exiting with 3\n");
}

#[test]
fn a_panicking_thread_ends_the_program() {
    let out = run_threads("panic");
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    // As Wasmtime: a trap outside the main thread is status 1, after the error.
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert_eq!(stdout, "spawning\n");
    assert!(
        stderr.contains("thread gave up after 1 arguments"),
        "{stderr}"
    );
    assert!(stderr.contains("wasm trap: wasm `unreachable`"), "{stderr}");
}

#[test]
fn without_dash_s_threads_the_command_says_what_is_missing() {
    let out = Command::new(env!("CARGO_BIN_EXE_wasmjit"))
        .args(["run", &program("sum")])
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("run it with `-S threads`"), "{stderr}");
}

/// A module whose `spawn(n)` starts `n` threads, each storing its id at `4 * index` (the
/// start argument is the index) and notifying it; returns the sum of the ids returned.
const SPAWNER: &str = r#"(module
  (import "env" "memory" (memory 1 1 shared))
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (func (export "spawn") (param $n i32) (result i32)
    (local $i i32) (local $sum i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $sum (i32.add (local.get $sum) (call $spawn (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $sum))
  (func (export "wasi_thread_start") (param $tid i32) (param $index i32)
    (i32.atomic.store (i32.mul (local.get $index) (i32.const 4)) (local.get $tid))
    (drop (memory.atomic.notify (i32.mul (local.get $index) (i32.const 4)) (i32.const 1)))))"#;

#[derive(Clone)]
struct Host {
    threads: Option<Arc<WasiThreadsCtx<Host>>>,
}

#[test]
fn spawned_threads_get_ids_from_one_and_share_the_memory() {
    let mut config = Config::new();
    config.shared_memory(true);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, SPAWNER).unwrap();
    let mut store = Store::new(&engine, Host { threads: None });
    let mut linker = Linker::new(&engine);
    let memory =
        add_to_linker(&mut linker, &store, &module, |h: &Host| h.threads.as_ref()).unwrap();
    let cx = WasiThreadsCtx::new(module.clone(), Arc::new(linker.clone())).unwrap();
    store.data_mut().threads = Some(Arc::new(cx));
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let spawn = instance
        .get_typed_func::<i32, i32>(&mut store, "spawn")
        .unwrap();
    assert_eq!(spawn.call(&mut store, 4).unwrap(), 1 + 2 + 3 + 4);
    let mut ids = Vec::new();
    for index in 0..4u64 {
        // Each thread stores its id then notifies: wait while the word is still 0.
        while memory
            .atomic_wait32(index * 4, 0, Some(Duration::from_millis(50)))
            .is_ok_and(|r| r != wasmjit::WaitResult::Mismatch)
        {}
        let cell = &memory.data()[index as usize * 4];
        // SAFETY: the word is in bounds and 4-aligned (a wasm page is), and the guest wrote
        // it atomically too.
        let id =
            unsafe { AtomicU32::from_ptr(UnsafeCell::raw_get(cell).cast()) }.load(Ordering::SeqCst);
        ids.push(id);
    }
    ids.sort();
    assert_eq!(ids, [1, 2, 3, 4]);
}

#[test]
fn a_spawn_before_the_context_is_set_fails_with_minus_one() {
    let mut config = Config::new();
    config.shared_memory(true);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, SPAWNER).unwrap();
    let mut store = Store::new(&engine, Host { threads: None });
    let mut linker = Linker::new(&engine);
    add_to_linker(&mut linker, &store, &module, |h: &Host| h.threads.as_ref()).unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let spawn = instance
        .get_typed_func::<i32, i32>(&mut store, "spawn")
        .unwrap();
    assert_eq!(spawn.call(&mut store, 2).unwrap(), -2);
}

#[test]
fn a_module_without_the_entry_point_is_refused() {
    let mut config = Config::new();
    config.shared_memory(true);
    let engine = Engine::new(&config).unwrap();
    let wat = r#"(module
      (import "env" "memory" (memory 1 1 shared))
      (import "wasi" "thread-spawn" (func (param i32) (result i32)))
      (func (export "wasi_thread_start") (param i32)))"#;
    let module = Module::new(&engine, wat).unwrap();
    let store = Store::new(&engine, Host { threads: None });
    let mut linker = Linker::new(&engine);
    add_to_linker(&mut linker, &store, &module, |h: &Host| h.threads.as_ref()).unwrap();
    let err = WasiThreadsCtx::new(module, Arc::new(linker))
        .err()
        .expect("wrong signature");
    assert!(err.to_string().contains("wasi_thread_start"), "{err}");
}
