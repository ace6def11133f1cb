//! Threads: `Engine`, `Module`, `Linker` and `InstancePre` are `Send + Sync` and one compiled
//! module runs in many stores on four threads at once with correct, independent results;
//! `Store<T>` is `Send`, so a store with live instances can move to another thread.

use std::sync::{Arc, Barrier};
use std::thread;
use wasmjit::*;

fn assert_send<T: Send>() {}
fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn api_types_have_the_documented_auto_traits() {
    assert_send_sync::<Engine>();
    assert_send_sync::<Module>();
    assert_send_sync::<Linker<u32>>();
    assert_send_sync::<InstancePre<u32>>();
    assert_send_sync::<Func>();
    assert_send_sync::<Instance>();
    assert_send_sync::<TypedFunc<(i32, i64), f64>>();
    assert_send::<Store<()>>();
    assert_send::<Store<Vec<String>>>();
}

/// Sums i*i for i in [0, n) in memory-resident state, and a recursive fib, so each store's
/// result depends on its own memory, globals and arguments.
const WORK: &str = r#"(module
  (import "host" "mix" (func $mix (param i64 i32) (result i64)))
  (memory 1)
  (global $calls (mut i32) (i32.const 0))
  (func $fib (param i32) (result i64)
    local.get 0 i32.const 2 i32.lt_u
    if (result i64) local.get 0 i64.extend_i32_u
    else
      local.get 0 i32.const 1 i32.sub call $fib
      local.get 0 i32.const 2 i32.sub call $fib i64.add
    end)
  (func (export "run") (param $n i32) (param $seed i32) (result i64)
    (local $i i32) (local $acc i64)
    global.get $calls i32.const 1 i32.add global.set $calls
    ;; memory[i*4] = i*i + seed, then sum it back
    block $done
      loop $fill
        local.get $i local.get $n i32.ge_u br_if $done
        local.get $i i32.const 4 i32.mul
        local.get $i local.get $i i32.mul local.get $seed i32.add
        i32.store
        local.get $i i32.const 1 i32.add local.set $i
        br $fill
      end
    end
    i32.const 0 local.set $i
    block $done2
      loop $sum
        local.get $i local.get $n i32.ge_u br_if $done2
        local.get $acc local.get $i i32.const 4 i32.mul i64.load32_u i64.add local.set $acc
        local.get $i i32.const 1 i32.add local.set $i
        br $sum
      end
    end
    local.get $acc i32.const 20 call $fib i64.add
    global.get $calls call $mix))"#;

fn expected(n: u32, seed: u32, calls: u32, tag: u64) -> i64 {
    let sum: u64 = (0..n).map(|i| (i * i + seed) as u64).sum();
    mix(sum as i64 + 6765, calls as i32, tag)
}

fn mix(v: i64, calls: i32, tag: u64) -> i64 {
    v * 1000 + calls as i64 + (tag as i64) * 1_000_000_000_000
}

fn linker(engine: &Engine) -> Linker<u64> {
    let mut linker = Linker::new(engine);
    linker
        .func_wrap(
            "host",
            "mix",
            |caller: Caller<'_, u64>, v: i64, calls: i32| mix(v, calls, *caller.data()),
        )
        .unwrap();
    linker
}

#[test]
fn one_module_runs_in_many_stores_on_four_threads() {
    const THREADS: usize = 4;
    const STORES_PER_THREAD: usize = 8;
    let engine = Engine::default();
    let module = Module::new(&engine, WORK).unwrap();
    let linker = Arc::new(linker(&engine));
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let (engine, module, linker, barrier) = (
                engine.clone(),
                module.clone(),
                linker.clone(),
                barrier.clone(),
            );
            thread::spawn(move || {
                barrier.wait();
                let mut checked = 0;
                for s in 0..STORES_PER_THREAD {
                    let tag = (t * 100 + s) as u64;
                    let mut store = Store::new(&engine, tag);
                    let instance = linker.instantiate(&mut store, &module).unwrap();
                    let run = instance
                        .get_typed_func::<(i32, i32), i64>(&mut store, "run")
                        .unwrap();
                    for call in 1..=3u32 {
                        let n = 100 + (t as u32) * 37 + call;
                        let seed = s as u32 * 3 + call;
                        let got = run.call(&mut store, (n as i32, seed as i32)).unwrap();
                        assert_eq!(got, expected(n, seed, call, tag), "thread {t} store {s}");
                        checked += 1;
                    }
                }
                checked
            })
        })
        .collect();
    let total: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(total, THREADS * STORES_PER_THREAD * 3);
}

#[test]
fn instance_pre_and_compilation_are_usable_from_many_threads() {
    let engine = Engine::default();
    // Compile the module on each thread as well as sharing one pre-instantiated copy.
    let shared = Module::new(&engine, WORK).unwrap();
    let pre = Arc::new(linker(&engine).instantiate_pre(&shared).unwrap());
    let handles: Vec<_> = (0..4u64)
        .map(|t| {
            let (engine, pre) = (engine.clone(), pre.clone());
            thread::spawn(move || {
                let own = Module::new(&engine, WORK).unwrap();
                let own_linker = linker(&engine);
                let mut results = Vec::new();
                for round in 0..5u64 {
                    let mut a = Store::new(&engine, t);
                    let ia = pre.instantiate(&mut a).unwrap();
                    let mut b = Store::new(&engine, t + round);
                    let ib = own_linker.instantiate(&mut b, &own).unwrap();
                    let ra = ia.get_typed_func::<(i32, i32), i64>(&mut a, "run").unwrap();
                    let rb = ib.get_typed_func::<(i32, i32), i64>(&mut b, "run").unwrap();
                    results.push((
                        ra.call(&mut a, (50, t as i32)).unwrap(),
                        rb.call(&mut b, (60, round as i32)).unwrap(),
                    ));
                }
                (t, results)
            })
        })
        .collect();
    for h in handles {
        let (t, results) = h.join().unwrap();
        for (round, (a, b)) in results.into_iter().enumerate() {
            let round = round as u64;
            assert_eq!(a, expected(50, t as u32, 1, t));
            assert_eq!(b, expected(60, round as u32, 1, t + round));
        }
    }
}

#[test]
fn a_store_with_instances_moves_to_another_thread() {
    let engine = Engine::default();
    let module = Module::new(&engine, WORK).unwrap();
    let mut store = Store::new(&engine, 7u64);
    let instance = linker(&engine).instantiate(&mut store, &module).unwrap();
    let run = instance
        .get_typed_func::<(i32, i32), i64>(&mut store, "run")
        .unwrap();
    assert_eq!(
        run.call(&mut store, (10, 1)).unwrap(),
        expected(10, 1, 1, 7)
    );
    // Move the store (and the handles into it) to another thread and keep going there,
    // then bring it back.
    let mut store = thread::spawn(move || {
        assert_eq!(
            run.call(&mut store, (20, 2)).unwrap(),
            expected(20, 2, 2, 7)
        );
        let err = run.call(&mut store, (100_000, 0)).unwrap_err();
        assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::MemoryOutOfBounds));
        store
    })
    .join()
    .unwrap();
    // The trap on the other thread counted as a call (the global was bumped first).
    assert_eq!(run.call(&mut store, (5, 5)).unwrap(), expected(5, 5, 4, 7));
}

#[test]
fn traps_on_one_thread_do_not_disturb_others() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (func $r (export "recurse") (param i32) (result i32)
              local.get 0 i32.const 1 i32.add call $r)
            (func (export "div") (param i32 i32) (result i32)
              local.get 0 local.get 1 i32.div_s))"#,
    )
    .unwrap();
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let (engine, module) = (engine.clone(), module.clone());
            thread::spawn(move || {
                let mut store = Store::new(&engine, ());
                let instance = Instance::new(&mut store, &module, &[]).unwrap();
                let recurse = instance
                    .get_typed_func::<i32, i32>(&mut store, "recurse")
                    .unwrap();
                let div = instance
                    .get_typed_func::<(i32, i32), i32>(&mut store, "div")
                    .unwrap();
                for i in 0..20 {
                    if (i + t) % 2 == 0 {
                        let err = recurse.call(&mut store, 0).unwrap_err();
                        assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::StackOverflow));
                    } else {
                        let err = div.call(&mut store, (i32::MIN, -1)).unwrap_err();
                        assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::IntegerOverflow));
                    }
                    assert_eq!(div.call(&mut store, (84, 2)).unwrap(), 42);
                    let err = div.call(&mut store, (1, 0)).unwrap_err();
                    assert_eq!(
                        err.downcast_ref::<Trap>(),
                        Some(&Trap::IntegerDivisionByZero)
                    );
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}
