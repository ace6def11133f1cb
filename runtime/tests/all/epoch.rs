//! Epoch interruption: deadlines checked at function entries and loop headers, trapping with
//! `Interrupt` or asking a deadline callback.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmjit::*;

fn epoch_engine(fuel: bool) -> Engine {
    let mut config = Config::new();
    config.epoch_interruption(true).consume_fuel(fuel);
    Engine::new(&config).unwrap()
}

fn trap_of(err: &Error) -> Trap {
    *err.downcast_ref::<Trap>()
        .unwrap_or_else(|| panic!("not a trap: {err:?}"))
}

/// Increments the engine's epoch every millisecond until dropped.
struct Ticker {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Ticker {
    fn start(engine: &Engine, first_after: Duration) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let engine = engine.clone();
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            std::thread::sleep(first_after);
            while !flag.load(Ordering::Relaxed) {
                engine.increment_epoch();
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        Self {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

const MODULE: &str = r#"(module
  (func (export "forever")
    loop $l br $l end)
  ;; No loop: only the entry checks can stop it (fib(45) runs for seconds).
  (func $fib (export "fib") (param i32) (result i32)
    local.get 0 i32.const 2 i32.lt_s
    if (result i32)
      local.get 0
    else
      local.get 0 i32.const 1 i32.sub call $fib
      local.get 0 i32.const 2 i32.sub call $fib
      i32.add
    end)
  (func (export "one") (result i32) i32.const 1))"#;

fn instance<T>(engine: &Engine, data: T) -> (Store<T>, Instance) {
    let module = Module::new(engine, MODULE).unwrap();
    let mut store = Store::new(engine, data);
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    (store, instance)
}

#[test]
fn the_default_deadline_traps_at_once() {
    let engine = epoch_engine(false);
    let (mut store, instance) = instance(&engine, ());
    let one = instance
        .get_typed_func::<(), i32>(&mut store, "one")
        .unwrap();
    let err = one.call(&mut store, ()).unwrap_err();
    assert_eq!(trap_of(&err), Trap::Interrupt);
    // A deadline in the future lets it run.
    store.set_epoch_deadline(1);
    assert_eq!(one.call(&mut store, ()).unwrap(), 1);
}

#[test]
fn an_infinite_loop_is_interrupted_from_another_thread() {
    let engine = epoch_engine(false);
    let (mut store, instance) = instance(&engine, ());
    let forever = instance
        .get_typed_func::<(), ()>(&mut store, "forever")
        .unwrap();
    store.set_epoch_deadline(1);
    let start = Instant::now();
    let ticker = Ticker::start(&engine, Duration::from_millis(20));
    let err = forever.call(&mut store, ()).unwrap_err();
    drop(ticker);
    assert_eq!(trap_of(&err), Trap::Interrupt);
    assert!(start.elapsed() < Duration::from_secs(10));

    // The store stays usable.
    store.set_epoch_deadline(1_000_000);
    let one = instance
        .get_typed_func::<(), i32>(&mut store, "one")
        .unwrap();
    assert_eq!(one.call(&mut store, ()).unwrap(), 1);
}

#[test]
fn recursion_without_loops_is_interrupted_at_function_entries() {
    let engine = epoch_engine(false);
    let (mut store, instance) = instance(&engine, ());
    let fib = instance
        .get_typed_func::<i32, i32>(&mut store, "fib")
        .unwrap();
    store.set_epoch_deadline(1_000_000);
    assert_eq!(fib.call(&mut store, 20).unwrap(), 6765);

    store.set_epoch_deadline(1);
    let start = Instant::now();
    let ticker = Ticker::start(&engine, Duration::from_millis(20));
    let err = fib.call(&mut store, 45).unwrap_err();
    drop(ticker);
    assert_eq!(trap_of(&err), Trap::Interrupt);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn a_far_deadline_is_never_reached() {
    let engine = epoch_engine(false);
    let (mut store, instance) = instance(&engine, ());
    let fib = instance
        .get_typed_func::<i32, i32>(&mut store, "fib")
        .unwrap();
    store.set_epoch_deadline(u64::MAX / 2);
    let ticker = Ticker::start(&engine, Duration::ZERO);
    assert_eq!(fib.call(&mut store, 25).unwrap(), 75025);
    drop(ticker);
}

/// A loop that advances the epoch itself through a host function, once per iteration: the
/// deadline callback then runs at a known point of every iteration.
const TICKING: &str = r#"(module
  (import "host" "tick" (func $tick))
  (global $iters (export "iters") (mut i32) (i32.const 0))
  (func (export "run")
    loop $l
      call $tick            ;; 1
      global.get $iters     ;; 1
      i32.const 1           ;; 1
      i32.add               ;; 1
      global.set $iters     ;; 1
      br $l                 ;; 1  -> 6 per iteration
    end))"#;

struct Ticks {
    callbacks: u32,
    fuel_seen: Vec<u64>,
}

fn ticking(engine: &Engine) -> (Store<Ticks>, Instance) {
    let module = Module::new(engine, TICKING).unwrap();
    let mut store = Store::new(
        engine,
        Ticks {
            callbacks: 0,
            fuel_seen: Vec::new(),
        },
    );
    let mut linker = Linker::new(engine);
    linker
        .func_wrap("host", "tick", |caller: Caller<'_, Ticks>| {
            caller.engine().increment_epoch();
        })
        .unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    (store, instance)
}

#[test]
fn a_deadline_callback_extends_the_deadline_then_fails() {
    const EXTENSIONS: u32 = 25;
    let engine = epoch_engine(false);
    let (mut store, instance) = ticking(&engine);
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(|mut cx| {
        let data = cx.data_mut();
        data.callbacks += 1;
        if data.callbacks <= EXTENSIONS {
            Ok(UpdateDeadline::Continue(1))
        } else {
            Err(anyhow::anyhow!("deadline callback gave up"))
        }
    });
    let run = instance
        .get_typed_func::<(), ()>(&mut store, "run")
        .unwrap();
    let err = run.call(&mut store, ()).unwrap_err();
    assert!(
        format!("{err:?}").contains("deadline callback gave up"),
        "{err:?}"
    );
    assert!(err.downcast_ref::<Trap>().is_none());
    // Each iteration moves the epoch to the deadline; the loop header then runs the callback.
    assert_eq!(store.data().callbacks, EXTENSIONS + 1);
    let iters = instance
        .get_global(&mut store, "iters")
        .unwrap()
        .get(&mut store)
        .unwrap_i32();
    assert_eq!(iters as u32, EXTENSIONS + 1);

    // Back to trapping.
    store.epoch_deadline_trap();
    store.set_epoch_deadline(1);
    let err = run.call(&mut store, ()).unwrap_err();
    assert_eq!(trap_of(&err), Trap::Interrupt);
}

#[test]
fn the_deadline_callback_sees_the_fuel_last_stored() {
    let engine = epoch_engine(true);
    let (mut store, instance) = ticking(&engine);
    store.set_fuel(1000).unwrap();
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(|mut cx| {
        let fuel = cx.get_fuel()?;
        let data = cx.data_mut();
        data.fuel_seen.push(fuel);
        data.callbacks += 1;
        if data.callbacks < 10 {
            Ok(UpdateDeadline::Continue(1))
        } else {
            Err(anyhow::anyhow!("done"))
        }
    });
    let run = instance
        .get_typed_func::<(), ()>(&mut store, "run")
        .unwrap();
    run.call(&mut store, ()).unwrap_err();
    // The callback of iteration k runs at the next loop header. As in Wasmtime 48, the epoch
    // check does not store the fuel counter first: the callback sees the count stored before
    // that iteration's call of `tick` (the entry, 6 * (k - 1), and the call's 1), and the
    // callback's error leaves that count too.
    let expected: Vec<u64> = (1..=10).map(|k| 1000 - (6 * k - 4)).collect();
    assert_eq!(store.data().fuel_seen, expected);
    assert_eq!(store.get_fuel().unwrap(), 1000 - 56);
}

/// Loops are checked at their headers; an infinite loop whose only back edge is a `br_if` or a
/// `br_table` entry is interrupted too.
#[test]
fn loops_back_through_br_if_and_br_table_are_interrupted() {
    let engine = epoch_engine(false);
    let module = Module::new(
        &engine,
        r#"(module
          (func (export "br_if") loop $l i32.const 1 br_if $l end)
          (func (export "br_table")
            block $out loop $l i32.const 0 br_table $l $out end end))"#,
    )
    .unwrap();
    for name in ["br_if", "br_table"] {
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let forever = instance.get_typed_func::<(), ()>(&mut store, name).unwrap();
        store.set_epoch_deadline(1);
        let ticker = Ticker::start(&engine, Duration::from_millis(20));
        let err = forever.call(&mut store, ()).unwrap_err();
        drop(ticker);
        assert_eq!(trap_of(&err), Trap::Interrupt, "{name}");
    }
}

/// Compiled code reads each instance's copy of the store's deadline, so a deadline set by a
/// host function must reach every instance of the store: here the host function is called
/// through another instance than the one looping. Both kinds of loop are covered: one that
/// calls (its checks read the deadline every time) and a call-free one entered after the call
/// (it reads the deadline once, where it is entered).
#[test]
fn a_deadline_set_through_another_instance_stops_the_loop() {
    let engine = epoch_engine(false);
    let relay = Module::new(
        &engine,
        r#"(module
          (import "host" "expire" (func $expire))
          (func (export "expire") call $expire))"#,
    )
    .unwrap();
    let looping = Module::new(
        &engine,
        r#"(module
          (import "relay" "expire" (func $expire))
          (func (export "calls") loop $l call $expire br $l end)
          ;; Bounded (about 10^9 iterations), so that a missed deadline fails instead of hanging.
          (func (export "call_then_spin") (local $n i32)
            call $expire
            i32.const 1000000000 local.set $n
            loop $l local.get $n i32.const 1 i32.sub local.tee $n br_if $l end))"#,
    )
    .unwrap();
    for name in ["calls", "call_then_spin"] {
        // Counts the host calls: a second one means the loop went on past the deadline.
        let mut store = Store::new(&engine, 0u32);
        store.set_epoch_deadline(1_000_000);
        let expire = Func::wrap(&mut store, |mut caller: Caller<'_, u32>| -> Result<()> {
            *caller.data_mut() += 1;
            if *caller.data() > 1 {
                anyhow::bail!("the loop ran on after its deadline");
            }
            // Delta 0: the deadline is the current epoch, so it is reached.
            caller.as_context_mut().set_epoch_deadline(0);
            Ok(())
        });
        let relay = Instance::new(&mut store, &relay, &[expire.into()]).unwrap();
        let relayed = relay.get_func(&mut store, "expire").unwrap();
        let instance = Instance::new(&mut store, &looping, &[relayed.into()]).unwrap();
        let run = instance.get_typed_func::<(), ()>(&mut store, name).unwrap();
        let err = run.call(&mut store, ()).unwrap_err();
        assert_eq!(trap_of(&err), Trap::Interrupt, "{name}: {err:?}");
        assert_eq!(*store.data(), 1, "{name}");
    }
}

/// Every loop shape is interrupted: a call-free loop nested in a loop that calls, loops nested
/// three deep whose inner loops end and start again, an infinite inner loop, a loop closed by
/// a `br_table` whose body is large, and one that runs a builtin (`memory.grow`) each time.
#[test]
fn every_loop_shape_is_interrupted() {
    let engine = epoch_engine(false);
    let module = Module::new(
        &engine,
        r#"(module
          (memory 1)
          (func $leaf (param i32) (result i32) local.get 0 i32.const 1 i32.add)
          (func (export "calls_around_spin") (local $i i32)
            loop $outer
              i32.const 7 call $leaf drop
              i32.const 100 local.set $i
              loop $inner local.get $i i32.const 1 i32.sub local.tee $i br_if $inner end
              br $outer
            end)
          (func (export "nested") (local $i i32) (local $j i32)
            loop $a
              i32.const 3 local.set $i
              loop $b
                i32.const 5 local.set $j
                loop $c local.get $j i32.const 1 i32.sub local.tee $j br_if $c end
                local.get $i i32.const 1 i32.sub local.tee $i br_if $b
              end
              br $a
            end)
          (func (export "inner_forever")
            loop $a
              loop $b br $b end
              br $a
            end)
          (func (export "br_table_big") (local $x i32)
            block $out
              loop $l
                ;; A body of many operators: its countdown runs out in few iterations.
                local.get $x i32.const 3 i32.mul i32.const 1 i32.add local.set $x
                local.get $x i32.const 5 i32.mul i32.const 7 i32.xor local.set $x
                i32.const 0 local.get $x i32.store
                local.get $x i32.const 3 i32.and
                br_table $l $l $l $l $out
              end
            end)
          (func (export "grows")
            loop $l i32.const 0 memory.grow drop br $l end))"#,
    )
    .unwrap();
    for name in [
        "calls_around_spin",
        "nested",
        "inner_forever",
        "br_table_big",
        "grows",
    ] {
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let forever = instance.get_typed_func::<(), ()>(&mut store, name).unwrap();
        store.set_epoch_deadline(1);
        let ticker = Ticker::start(&engine, Duration::from_millis(20));
        let err = forever.call(&mut store, ()).unwrap_err();
        drop(ticker);
        assert_eq!(trap_of(&err), Trap::Interrupt, "{name}");
    }
}

/// A deadline callback that extends the deadline by 0 ticks runs again at the next pass
/// through a loop header, as in Wasmtime, also in loops that make no call (whose checks keep
/// the deadline in a register: the slow path must reload it). The deadline is reached on
/// entry, so the first callback runs at the function's entry and the others at each pass
/// through a loop header.
#[test]
fn a_zero_extension_calls_back_at_every_header_of_a_call_free_loop() {
    const CALLBACKS: u32 = 40;
    let engine = epoch_engine(false);
    let module = Module::new(
        &engine,
        r#"(module
          (global $iters (export "iters") (mut i32) (i32.const 0))
          (func (export "run") (local $i i32)
            loop $l
              global.get $iters i32.const 1 i32.add global.set $iters
              i32.const 2 local.set $i
              loop $inner local.get $i i32.const 1 i32.sub local.tee $i br_if $inner end
              br $l
            end))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, 0u32);
    store.set_epoch_deadline(0);
    store.epoch_deadline_callback(|mut cx| {
        *cx.data_mut() += 1;
        if *cx.data() < CALLBACKS {
            Ok(UpdateDeadline::Continue(0))
        } else {
            Err(anyhow::anyhow!("enough"))
        }
    });
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let run = instance
        .get_typed_func::<(), ()>(&mut store, "run")
        .unwrap();
    run.call(&mut store, ()).unwrap_err();
    assert_eq!(*store.data(), CALLBACKS);
    // Callbacks: one at entry, then one at each of the outer header's passes and at each of
    // the inner header's 2 passes per iteration, 3 per iteration.
    let iters = instance
        .get_global(&mut store, "iters")
        .unwrap()
        .get(&mut store)
        .unwrap_i32();
    assert_eq!(iters as u32, (CALLBACKS - 1) / 3);
}
