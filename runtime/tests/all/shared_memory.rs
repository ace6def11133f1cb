//! The threads proposal: shared memories used from instances in several stores on several
//! host threads at once (atomic read-modify-writes, compare-exchange locks, wait/notify),
//! alignment traps, and the `SharedMemory` API and its import matching.

use std::sync::{Arc, Barrier};
use std::thread;
use wasmjit::*;

fn engine() -> Engine {
    let mut config = Config::new();
    config.shared_memory(true);
    Engine::new(&config).unwrap()
}

/// Instantiates `module` in a new store with `memory` as its `env::memory` import.
fn instantiate(engine: &Engine, module: &Module, memory: &SharedMemory) -> (Store<()>, Instance) {
    let mut store = Store::new(engine, ());
    let instance = Instance::new(&mut store, module, &[memory.clone().into()]).unwrap();
    (store, instance)
}

/// Runs `body(thread_index, store, instance)` on `n` threads at once, each with its own store
/// and instance of `module` over `memory`.
fn on_threads(
    n: usize,
    engine: &Engine,
    module: &Module,
    memory: &SharedMemory,
    body: impl Fn(usize, &mut Store<()>, Instance) + Send + Sync + 'static,
) {
    let body = Arc::new(body);
    let barrier = Arc::new(Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let (engine, module, memory) = (engine.clone(), module.clone(), memory.clone());
            let (body, barrier) = (body.clone(), barrier.clone());
            thread::spawn(move || {
                let (mut store, instance) = instantiate(&engine, &module, &memory);
                barrier.wait();
                body(i, &mut store, instance);
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

fn read_u32(memory: &SharedMemory, addr: usize) -> u32 {
    let cells = &memory.data()[addr..addr + 4];
    // SAFETY: four accessible, aligned bytes; read atomically as other threads may be done
    // with them but the host is not required to know it.
    unsafe { std::sync::atomic::AtomicU32::from_ptr(cells[0].get().cast()) }
        .load(std::sync::atomic::Ordering::SeqCst)
}

const COUNTERS: &str = r#"(module
  (import "env" "memory" (memory 1 1 shared))
  ;; n atomic increments of the i32 at 0, the i64 at 8 and the byte at 16.
  (func (export "add") (param $n i32)
    (loop $l
      (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 1)))
      (drop (i64.atomic.rmw.add (i32.const 8) (i64.const 3)))
      (drop (i32.atomic.rmw8.add_u (i32.const 16) (i32.const 1)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  ;; n increments of a plain counter at 32 under a spin lock at 24 (compare-exchange 0 -> 1,
  ;; released by an atomic store).
  (func (export "locked") (param $n i32)
    (loop $l
      (block $got
        (loop $spin
          (br_if $got (i32.eqz (i32.atomic.rmw.cmpxchg (i32.const 24) (i32.const 0) (i32.const 1))))
          (br $spin)))
      (i32.store (i32.const 32) (i32.add (i32.load (i32.const 32)) (i32.const 1)))
      (i32.atomic.store (i32.const 24) (i32.const 0))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  (func (export "load64") (param i32) (result i64) (i64.atomic.load (local.get 0)))
)"#;

#[test]
fn atomic_increments_from_four_threads_are_all_counted() {
    const THREADS: usize = 4;
    const N: i32 = 20_000;
    let engine = engine();
    let module = Module::new(&engine, COUNTERS).unwrap();
    let memory = SharedMemory::new(&engine, MemoryType::shared(1, 1)).unwrap();
    on_threads(THREADS, &engine, &module, &memory, |_, store, instance| {
        let add = instance
            .get_typed_func::<i32, ()>(&mut *store, "add")
            .unwrap();
        add.call(&mut *store, N).unwrap();
    });
    let total = THREADS as u32 * N as u32;
    assert_eq!(read_u32(&memory, 0), total);
    let (mut store, instance) = instantiate(&engine, &module, &memory);
    let load64 = instance
        .get_typed_func::<i32, i64>(&mut store, "load64")
        .unwrap();
    assert_eq!(load64.call(&mut store, 8).unwrap(), 3 * i64::from(total));
    // The byte wraps at 256 and carries nothing into its neighbours.
    assert_eq!(read_u32(&memory, 16), total % 256);
}

#[test]
fn a_compare_exchange_spin_lock_protects_plain_accesses() {
    const THREADS: usize = 4;
    const N: i32 = 5_000;
    let engine = engine();
    let module = Module::new(&engine, COUNTERS).unwrap();
    let memory = SharedMemory::new(&engine, MemoryType::shared(1, 1)).unwrap();
    on_threads(THREADS, &engine, &module, &memory, |_, store, instance| {
        let locked = instance
            .get_typed_func::<i32, ()>(&mut *store, "locked")
            .unwrap();
        locked.call(&mut *store, N).unwrap();
    });
    assert_eq!(read_u32(&memory, 32), THREADS as u32 * N as u32);
    assert_eq!(read_u32(&memory, 24), 0, "the lock is free");
}

const PING_PONG: &str = r#"(module
  (import "env" "memory" (memory 1 1 shared))
  ;; Player $me (0 or 1) plays `rounds` turns on the turn counter at 0: it waits while the
  ;; counter is not its turn (counter % 2 == me), then increments it and wakes the other.
  (func (export "play") (param $me i32) (param $rounds i32)
    (local $turn i32)
    (loop $round
      (block $mine
        (loop $wait
          (local.set $turn (i32.atomic.load (i32.const 0)))
          (br_if $mine (i32.eq (i32.rem_u (local.get $turn) (i32.const 2)) (local.get $me)))
          (drop (memory.atomic.wait32 (i32.const 0) (local.get $turn) (i64.const -1)))
          (br $wait)))
      (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 1)))
      (drop (memory.atomic.notify (i32.const 0) (i32.const 1)))
      (br_if $round (local.tee $rounds (i32.sub (local.get $rounds) (i32.const 1))))))
  (func (export "wait32") (param i32 i32 i64) (result i32)
    (memory.atomic.wait32 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "wait64") (param i32 i64 i64) (result i32)
    (memory.atomic.wait64 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "notify") (param i32 i32) (result i32)
    (memory.atomic.notify (local.get 0) (local.get 1)))
)"#;

#[test]
fn wait_and_notify_ping_pong_between_two_threads() {
    const ROUNDS: i32 = 2_000;
    let engine = engine();
    let module = Module::new(&engine, PING_PONG).unwrap();
    let memory = SharedMemory::new(&engine, MemoryType::shared(1, 1)).unwrap();
    on_threads(2, &engine, &module, &memory, |me, store, instance| {
        let play = instance
            .get_typed_func::<(i32, i32), ()>(&mut *store, "play")
            .unwrap();
        play.call(&mut *store, (me as i32, ROUNDS)).unwrap();
    });
    assert_eq!(read_u32(&memory, 0), 2 * ROUNDS as u32);
}

#[test]
fn wait_results_timeouts_and_notify_counts() {
    let engine = engine();
    let module = Module::new(&engine, PING_PONG).unwrap();
    let memory = SharedMemory::new(&engine, MemoryType::shared(1, 1)).unwrap();
    let (mut store, instance) = instantiate(&engine, &module, &memory);
    let wait32 = instance
        .get_typed_func::<(i32, i32, i64), i32>(&mut store, "wait32")
        .unwrap();
    let wait64 = instance
        .get_typed_func::<(i32, i64, i64), i32>(&mut store, "wait64")
        .unwrap();
    let notify = instance
        .get_typed_func::<(i32, i32), i32>(&mut store, "notify")
        .unwrap();
    // Not the expected value: 1 at once; expected and timed out: 2.
    assert_eq!(wait32.call(&mut store, (4, 7, -1)).unwrap(), 1);
    assert_eq!(wait32.call(&mut store, (4, 0, 1_000_000)).unwrap(), 2);
    assert_eq!(wait64.call(&mut store, (8, 0, 0)).unwrap(), 2);
    assert_eq!(notify.call(&mut store, (4, 10)).unwrap(), 0, "nobody waits");

    // Three host threads park on address 64; wasm wakes two, then the last one.
    let parked: Vec<_> = (0..3)
        .map(|_| {
            let memory = memory.clone();
            thread::spawn(move || memory.atomic_wait32(64, 0, None).unwrap())
        })
        .collect();
    let mut woken = 0;
    while woken < 2 {
        // The waiters may not have parked yet: count what each notify reports.
        woken += notify.call(&mut store, (64, 2 - woken)).unwrap();
        thread::yield_now();
    }
    assert_eq!(woken, 2);
    let mut last = 0;
    while last == 0 {
        last = notify.call(&mut store, (64, 5)).unwrap();
        thread::yield_now();
    }
    assert_eq!(last, 1);
    for t in parked {
        assert_eq!(t.join().unwrap(), WaitResult::Ok);
    }
    // A waiter with a timeout in wasm, woken by the host before it passes.
    let waiter = {
        let (engine, module, memory) = (engine.clone(), module.clone(), memory.clone());
        thread::spawn(move || {
            let (mut store, instance) = instantiate(&engine, &module, &memory);
            let wait32 = instance
                .get_typed_func::<(i32, i32, i64), i32>(&mut store, "wait32")
                .unwrap();
            wait32.call(&mut store, (128, 0, 60_000_000_000)).unwrap()
        })
    };
    while memory.atomic_notify(128, 1).unwrap() == 0 {
        thread::yield_now();
    }
    assert_eq!(waiter.join().unwrap(), 0, "woken by the notify");
}

#[test]
fn misaligned_atomics_trap_before_bounds_and_waits_need_a_shared_memory() {
    let engine = engine();
    let module = Module::new(
        &engine,
        r#"(module
          (memory 1 1)
          (func (export "rmw") (param i32) (result i32)
            (i32.atomic.rmw.add offset=1 (local.get 0) (i32.const 5)))
          (func (export "load16") (param i32) (result i32)
            (i32.atomic.load16_u (local.get 0)))
          (func (export "wait") (param i32) (result i32)
            (memory.atomic.wait32 (local.get 0) (i32.const 0) (i64.const 0)))
          (func (export "notify") (param i32) (result i32)
            (memory.atomic.notify (local.get 0) (i32.const 1))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let rmw = instance
        .get_typed_func::<i32, i32>(&mut store, "rmw")
        .unwrap();
    let load16 = instance
        .get_typed_func::<i32, i32>(&mut store, "load16")
        .unwrap();
    let wait = instance
        .get_typed_func::<i32, i32>(&mut store, "wait")
        .unwrap();
    let notify = instance
        .get_typed_func::<i32, i32>(&mut store, "notify")
        .unwrap();
    let trap = |e: Error| *e.downcast_ref::<Trap>().expect("a trap");

    // Atomics work on an unshared memory: the effective address is 3 + 1.
    assert_eq!(rmw.call(&mut store, 3).unwrap(), 0);
    assert_eq!(rmw.call(&mut store, 3).unwrap(), 5);
    assert_eq!(
        trap(rmw.call(&mut store, 0).unwrap_err()),
        Trap::HeapMisaligned
    );
    assert_eq!(
        trap(load16.call(&mut store, 1).unwrap_err()),
        Trap::HeapMisaligned
    );
    // Misaligned and out of bounds: misaligned first.
    assert_eq!(
        trap(load16.call(&mut store, 65537).unwrap_err()),
        Trap::HeapMisaligned
    );
    assert_eq!(
        trap(load16.call(&mut store, 65536).unwrap_err()),
        Trap::MemoryOutOfBounds
    );
    let err = rmw.call(&mut store, 0).unwrap_err();
    assert!(
        format!("{err:?}").contains("wasm trap: unaligned atomic"),
        "{err:?}"
    );

    let err = wait.call(&mut store, 0).unwrap_err();
    assert_eq!(trap(err), Trap::AtomicWaitNonSharedMemory);
    assert_eq!(
        trap(wait.call(&mut store, 2).unwrap_err()),
        Trap::HeapMisaligned
    );
    assert_eq!(notify.call(&mut store, 0).unwrap(), 0);
    assert_eq!(
        trap(notify.call(&mut store, 1).unwrap_err()),
        Trap::HeapMisaligned
    );
    assert_eq!(
        trap(notify.call(&mut store, 65536).unwrap_err()),
        Trap::MemoryOutOfBounds
    );
}

#[test]
fn growing_from_another_thread_never_moves_the_memory() {
    let engine = engine();
    let module = Module::new(
        &engine,
        r#"(module
          (import "env" "memory" (memory 1 8 shared))
          (func (export "grow") (result i32) (memory.grow (i32.const 1)))
          (func (export "size") (result i32) (memory.size))
          (func (export "last") (param i32) (result i32)
            (i32.atomic.load (i32.sub (i32.mul (local.get 0) (i32.const 65536)) (i32.const 4)))))"#,
    )
    .unwrap();
    let memory = SharedMemory::new(&engine, MemoryType::shared(1, 8)).unwrap();
    let base = memory.data().as_ptr();
    on_threads(4, &engine, &module, &memory, |_, store, instance| {
        let grow = instance
            .get_typed_func::<(), i32>(&mut *store, "grow")
            .unwrap();
        let size = instance
            .get_typed_func::<(), i32>(&mut *store, "size")
            .unwrap();
        let last = instance
            .get_typed_func::<i32, i32>(&mut *store, "last")
            .unwrap();
        let old = grow.call(&mut *store, ()).unwrap();
        assert!((1..=4).contains(&old), "{old}");
        // The page this growth added is accessible from here at once.
        assert_eq!(last.call(&mut *store, old + 1).unwrap(), 0);
        assert!(size.call(&mut *store, ()).unwrap() > old);
    });
    assert_eq!(memory.size(), 5);
    assert_eq!(memory.data_size(), 5 * 65536);
    assert_eq!(memory.data().as_ptr(), base, "never moved");
    assert_eq!(memory.grow(3).unwrap(), 5);
    assert!(memory.grow(1).is_err(), "beyond the maximum");
}

#[test]
fn shared_and_unshared_memories_match_only_their_own_imports() {
    let engine = engine();
    let memory = SharedMemory::new(&engine, MemoryType::shared(1, 2)).unwrap();
    assert_eq!(memory.ty(), MemoryType::shared(1, 2));
    let mut store = Store::new(&engine, ());
    let wants_unshared = Module::new(&engine, r#"(module (import "" "" (memory 1 2)))"#).unwrap();
    let err = Instance::new(&mut store, &wants_unshared, &[memory.clone().into()]).unwrap_err();
    assert!(
        format!("{err:#}").contains("expected non-shared memory"),
        "{err:#}"
    );
    let wants_shared =
        Module::new(&engine, r#"(module (import "" "" (memory 1 2 shared)))"#).unwrap();
    let plain = Memory::new(&mut store, MemoryType::new(1, Some(2))).unwrap();
    let err = Instance::new(&mut store, &wants_shared, &[plain.into()]).unwrap_err();
    assert!(
        format!("{err:#}").contains("expected shared memory"),
        "{err:#}"
    );
    Instance::new(&mut store, &wants_shared, &[memory.clone().into()]).unwrap();

    // A module's own shared memory is exported as a `SharedMemory`, not a `Memory`; through
    // a `Linker` it reaches another store's instance.
    let exporter = Module::new(
        &engine,
        r#"(module (memory (export "m") 1 3 shared) (data (i32.const 8) "\2a"))"#,
    )
    .unwrap();
    let instance = Instance::new(&mut store, &exporter, &[]).unwrap();
    assert!(instance.get_memory(&mut store, "m").is_none());
    let exported = instance.get_shared_memory(&mut store, "m").unwrap();
    assert_eq!(exported.data_size(), 65536);
    let mut other = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker.define(&other, "env", "m", exported.clone()).unwrap();
    let reader = Module::new(
        &engine,
        r#"(module (import "env" "m" (memory 1 3 shared))
             (func (export "get") (result i32) (i32.atomic.load8_u (i32.const 8))))"#,
    )
    .unwrap();
    let reader = linker.instantiate(&mut other, &reader).unwrap();
    let get = reader.get_typed_func::<(), i32>(&mut other, "get").unwrap();
    assert_eq!(get.call(&mut other, ()).unwrap(), 42);
    drop(store);
    // The memory outlives the store that made it while another instance uses it.
    assert_eq!(get.call(&mut other, ()).unwrap(), 42);
}

#[test]
fn shared_memories_need_the_engine_setting() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<SharedMemory>();
    let plain = Engine::default();
    let err = SharedMemory::new(&plain, MemoryType::shared(1, 1)).unwrap_err();
    assert!(err.to_string().contains("Config::shared_memory"), "{err}");
    let module = Module::new(&plain, "(module (memory 1 1 shared))").unwrap();
    let mut store = Store::new(&plain, ());
    assert!(Instance::new(&mut store, &module, &[]).is_err());
    let err = SharedMemory::new(&engine(), MemoryType::new(1, Some(1))).unwrap_err();
    assert!(err.to_string().contains("`shared` flag"), "{err}");
    // Without the proposal, atomics do not validate.
    let mut config = Config::new();
    config.wasm_threads(false);
    let engine = Engine::new(&config).unwrap();
    let atomic = "(module (memory 1) (func (drop (i32.atomic.load (i32.const 0)))))";
    assert!(Module::new(&engine, atomic).is_err());
}

#[test]
fn atomics_cost_one_unit_of_fuel_each() {
    let mut config = Config::new();
    config.consume_fuel(true).shared_memory(true);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(
        &engine,
        r#"(module (memory 1 1 shared)
          (func (export "f")
            (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 1)))
            (atomic.fence)
            (drop (memory.atomic.notify (i32.const 0) (i32.const 1)))))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    store.set_fuel(100).unwrap();
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let f = instance.get_typed_func::<(), ()>(&mut store, "f").unwrap();
    f.call(&mut store, ()).unwrap();
    // Entry 1; two consts, the add, drop (free), fence, two consts, notify, drop: 7.
    assert_eq!(store.get_fuel().unwrap(), 100 - 8);
}

/// Atomics where every access is bounds-checked: without signals-based traps, and with a
/// small reservation (the shared memory still reserves its maximum and never moves).
#[test]
fn checked_atomics_without_signals_or_with_a_small_reservation() {
    let configs = [
        Config::new().signals_based_traps(false).clone(),
        Config::new().memory_reservation(1 << 16).clone(),
    ];
    for mut config in configs {
        config.shared_memory(true);
        let engine = Engine::new(&config).unwrap();
        let module = Module::new(
            &engine,
            r#"(module (import "env" "memory" (memory 1 2 shared))
              (func (export "rmw") (param i32) (result i64)
                (i64.atomic.rmw.xchg (local.get 0) (i64.const 9)))
              (func (export "grow") (result i32) (memory.grow (i32.const 1))))"#,
        )
        .unwrap();
        let memory = SharedMemory::new(&engine, MemoryType::shared(1, 2)).unwrap();
        let (mut store, instance) = instantiate(&engine, &module, &memory);
        let rmw = instance
            .get_typed_func::<i32, i64>(&mut store, "rmw")
            .unwrap();
        let grow = instance
            .get_typed_func::<(), i32>(&mut store, "grow")
            .unwrap();
        let trap = |e: Error| *e.downcast_ref::<Trap>().expect("a trap");
        assert_eq!(rmw.call(&mut store, 65528).unwrap(), 0);
        assert_eq!(rmw.call(&mut store, 65528).unwrap(), 9);
        assert_eq!(
            trap(rmw.call(&mut store, 65536).unwrap_err()),
            Trap::MemoryOutOfBounds
        );
        assert_eq!(
            trap(rmw.call(&mut store, 65540).unwrap_err()),
            Trap::HeapMisaligned
        );
        assert_eq!(grow.call(&mut store, ()).unwrap(), 1);
        assert_eq!(
            rmw.call(&mut store, 65536).unwrap(),
            0,
            "the new page is usable"
        );
        assert_eq!(grow.call(&mut store, ()).unwrap(), -1);
    }
}
