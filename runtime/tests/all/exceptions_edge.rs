//! Adversarial exception-handling tests: deep unwinding, every payload type, rethrow,
//! nested handlers, indirect and tail calls, cross-instance and host frames, the start
//! function, traps/fuel/stack overflow inside `try_table`, fibers with yields, exnref in
//! tables and globals, and engines with the feature off.

use std::future::Future;
use wasmjit::*;

fn engine_with(f: impl FnOnce(&mut Config)) -> Engine {
    let mut config = Config::new();
    config.wasm_exceptions(true);
    f(&mut config);
    Engine::new(&config).unwrap()
}

fn engine() -> Engine {
    engine_with(|_| {})
}

fn instance(engine: &Engine, wat: &str) -> Result<(Store<()>, Instance)> {
    let module = Module::new(engine, wat)?;
    let mut store = Store::new(engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    Ok((store, instance))
}

fn is_uncaught(err: &anyhow::Error) -> bool {
    err.downcast_ref::<ThrownException>().is_some()
}

#[test]
fn throw_from_deep_recursion_is_caught_many_frames_up() -> Result<()> {
    let (mut store, inst) = instance(
        &engine(),
        r#"(module
          (tag $e (param i32 i64))
          (func $rec (param $n i32) (result i32)
            (if (i32.eqz (local.get $n))
              (then (throw $e (i32.const 42) (i64.const -7))))
            (i32.add (call $rec (i32.sub (local.get $n) (i32.const 1))) (i32.const 1)))
          (func (export "run") (param i32) (result i64)
            (local $b i64)
            (block $h (result i32 i64)
              (try_table (result i32) (catch $e $h) (call $rec (local.get 0)))
              drop
              (return (i64.const 0)))
            local.set $b
            (i64.add (i64.extend_i32_u) (local.get $b)))
          (func (export "nothrow") (param i32) (result i32)
            (block $h (result i32 i64)
              (try_table (result i32) (catch $e $h) (call $rec (local.get 0)))
              return)
            drop))"#,
    )?;
    let run = inst.get_typed_func::<i32, i64>(&mut store, "run")?;
    for depth in [0, 1, 2, 100, 5000] {
        assert_eq!(run.call(&mut store, depth)?, -7 + 42, "depth {depth}");
    }
    Ok(())
}

#[test]
fn every_payload_type_round_trips() -> Result<()> {
    let (mut store, inst) = instance(
        &engine(),
        r#"(module
          (type $ft (func (result i32)))
          (tag $e (param i32 i64 f32 f64 v128 funcref (ref null $ft) externref))
          (table 1 funcref)
          (func $seven (type $ft) (i32.const 7))
          (func $eight (type $ft) (i32.const 8))
          (elem declare func $seven $eight)
          (func $thrower (param externref)
            (throw $e (i32.const -1) (i64.const 0x123456789abcdef0) (f32.const 1.5)
              (f64.const -2.25) (v128.const i64x2 0x1111222233334444 0x5555666677778888)
              (ref.func $seven) (ref.func $eight) (local.get 0)))
          ;; The payload comes back as results, through a frame without a handler whose
          ;; results include a v128 and references (the zeros it returns are never read).
          (func $middle (param externref)
            (result i32 i64 f32 f64 v128 funcref (ref null $ft) externref)
            (call $thrower (local.get 0))
            unreachable)
          (func (export "run") (param externref)
            (result i32 i64 f32 f64 i64 i64 i32 i32 externref)
            (local $v v128) (local $f funcref) (local $g (ref null $ft)) (local $x externref)
            (block $h (result i32 i64 f32 f64 v128 funcref (ref null $ft) externref)
              (try_table (result i32 i64 f32 f64 v128 funcref (ref null $ft) externref)
                (catch $e $h)
                (call $middle (local.get 0)))
              unreachable)
            local.set $x local.set $g local.set $f local.set $v
            (i64x2.extract_lane 0 (local.get $v))
            (i64x2.extract_lane 1 (local.get $v))
            (table.set (i32.const 0) (local.get $f))
            (call_indirect (type $ft) (i32.const 0))
            (call_ref $ft (local.get $g))
            (local.get $x)))"#,
    )?;
    let run = inst.get_func(&mut store, "run").unwrap();
    let host = ExternRef::new(&mut store, 99u32)?;
    let mut results = vec![Val::I32(0); 9];
    run.call(&mut store, &[Val::ExternRef(Some(host))], &mut results)?;
    assert_eq!(results[0].i32(), Some(-1));
    assert_eq!(results[1].i64(), Some(0x123456789abcdef0));
    assert_eq!(results[2].f32(), Some(1.5));
    assert_eq!(results[3].f64(), Some(-2.25));
    assert_eq!(results[4].i64(), Some(0x1111222233334444));
    assert_eq!(results[5].i64(), Some(0x5555666677778888));
    assert_eq!(results[6].i32(), Some(7));
    assert_eq!(results[7].i32(), Some(8));
    let Val::ExternRef(Some(x)) = &results[8] else {
        panic!("externref lost: {:?}", results[8]);
    };
    assert_eq!(
        x.data(&store)?.and_then(|d| d.downcast_ref::<u32>()),
        Some(&99)
    );
    Ok(())
}

const RETHROW_WAT: &str = r#"(module
  (tag $a (param i32))
  (tag $b (param i64))
  (tag $c (param exnref))
  (func $throw_a (param i32) (throw $a (local.get 0)))
  (func $throw_b (param i64) (throw $b (local.get 0)))
  ;; catch_ref then throw_ref: the outer try_table of the same function catches it again.
  (func (export "rethrow_same") (param i32) (result i32)
    (local $x exnref)
    (block $outer (result i32)
      (try_table (catch $a $outer)
        (block $inner (result i32 exnref)
          (try_table (catch_ref $a $inner) (call $throw_a (local.get 0)))
          unreachable)
        ;; Drop the payload seen by the inner clause, rethrow the exception.
        (local.set $x)
        drop
        (throw_ref (local.get $x)))
      unreachable)
    (i32.add (i32.const 1)))
  ;; The inner function rethrows; the caller catches.
  (func $catch_and_rethrow (param i32)
    (block $h (result exnref)
      (try_table (catch_all_ref $h) (call $throw_a (local.get 0)))
      unreachable)
    throw_ref)
  (func (export "rethrow_across") (param i32) (result i32)
    (block $h (result i32)
      (try_table (catch $a $h) (call $catch_and_rethrow (local.get 0)))
      unreachable))
  ;; Nested try_tables with different tags: the inner catches only $a, the outer only $b.
  (func (export "nested") (param $which i32) (result i64)
    (block $hb (result i64)
      (try_table (catch $b $hb)
        (block $ha (result i32)
          (try_table (catch $a $ha)
            (if (local.get $which)
              (then (call $throw_b (i64.const 20)))
              (else (call $throw_a (i32.const 10)))))
          unreachable)
        (return (i64.extend_i32_u)))
      unreachable)
    (i64.add (i64.const 1000)))
  ;; An exnref carried as the payload of another exception, rethrown after that one is caught.
  (func (export "exn_payload") (param i32) (result i32)
    (block $ha (result i32)
      (try_table (catch $a $ha)
        (block $hc (result exnref)
          (try_table (catch $c $hc)
            (block $inner (result exnref)
              (try_table (catch_all_ref $inner) (call $throw_a (local.get 0)))
              unreachable)
            (throw $c))
          unreachable)
        throw_ref)
      unreachable))
  ;; A handler whose label is the function itself: returns the payload.
  (func (export "label_is_function") (param i32) (result i32)
    (try_table (catch $a 0) (call $throw_a (local.get 0)))
    (i32.const -1))
  ;; A try_table with parameters inside a loop whose label takes the payload: the loop
  ;; runs until the payload reaches 0.
  (func (export "loop_label") (param i32) (result i32)
    (local $iters i32)
    (local.get 0)
    (loop $l (param i32)
      (local.set $iters (i32.add (local.get $iters) (i32.const 1)))
      (if (i32.eqz (local.tee 0)) (then (return (local.get $iters))))
      (local.get 0)
      (try_table (param i32) (catch $a $l)
        (i32.sub (i32.const 1))
        (call $throw_a)))
    unreachable)
  ;; throw from inside the handler code of a catch (after the inner try_table), caught by an
  ;; enclosing try_table of the same function.
  (func (export "throw_after_catch") (result i64)
    (block $hb (result i64)
      (try_table (catch $b $hb)
        (block $ha (result i32)
          (try_table (catch $a $ha) (call $throw_a (i32.const 5)))
          unreachable)
        (i64.extend_i32_u)
        (throw $b))
      unreachable))
)"#;

#[test]
fn rethrow_nested_and_label_cases() -> Result<()> {
    let (mut store, inst) = instance(&engine(), RETHROW_WAT)?;
    let f = inst.get_typed_func::<i32, i32>(&mut store, "rethrow_same")?;
    assert_eq!(f.call(&mut store, 41)?, 42, "the payload is the thrown one");
    let f = inst.get_typed_func::<i32, i32>(&mut store, "rethrow_across")?;
    assert_eq!(f.call(&mut store, 9)?, 9);
    let f = inst.get_typed_func::<i32, i64>(&mut store, "nested")?;
    assert_eq!(f.call(&mut store, 0)?, 10);
    assert_eq!(f.call(&mut store, 1)?, 1020);
    let f = inst.get_typed_func::<i32, i32>(&mut store, "exn_payload")?;
    assert_eq!(f.call(&mut store, 77)?, 77);
    let f = inst.get_typed_func::<i32, i32>(&mut store, "label_is_function")?;
    assert_eq!(f.call(&mut store, 3)?, 3);
    let f = inst.get_typed_func::<i32, i32>(&mut store, "loop_label")?;
    assert_eq!(f.call(&mut store, 5)?, 6);
    let f = inst.get_typed_func::<(), i64>(&mut store, "throw_after_catch")?;
    assert_eq!(f.call(&mut store, ())?, 5);
    Ok(())
}

#[test]
fn exceptions_through_indirect_and_tail_calls() -> Result<()> {
    let (mut store, inst) = instance(
        &engine(),
        r#"(module
          (type $t (func (param i32) (result i32)))
          (tag $e (param i32))
          (table funcref (elem $thrower $tail_thrower $tail_ref))
          (func $thrower (type $t) (throw $e (i32.add (local.get 0) (i32.const 100))))
          ;; Tail calls: the callee throws after this frame is gone (and this frame's
          ;; try_table must not catch it).
          (func $tail_thrower (type $t)
            (block $h (result i32)
              (try_table (catch $e $h)
                (return_call_indirect (type $t) (local.get 0) (i32.const 0)))
              unreachable)
            (i32.const -1000) i32.add)
          (func $tail_ref (type $t)
            (return_call_ref $t (local.get 0) (ref.func $thrower)))
          (func $tail_direct (param i32) (result i32)
            (return_call $thrower (local.get 0)))
          (elem declare func $thrower)
          (func (export "indirect") (param i32 i32) (result i32)
            (block $h (result i32)
              (try_table (result i32) (catch $e $h)
                (call_indirect (type $t) (local.get 0) (local.get 1)))
              unreachable))
          (func (export "via_ref") (param i32) (result i32)
            (block $h (result i32)
              (try_table (result i32) (catch $e $h)
                (call_ref $t (local.get 0) (ref.func $thrower)))
              unreachable))
          (func (export "tail_direct") (param i32) (result i32)
            (block $h (result i32)
              (try_table (result i32) (catch $e $h) (call $tail_direct (local.get 0)))
              unreachable))
          (func (export "tail_uncaught") (param i32) (result i32)
            (return_call $tail_thrower (local.get 0))))"#,
    )?;
    let indirect = inst.get_typed_func::<(i32, i32), i32>(&mut store, "indirect")?;
    assert_eq!(indirect.call(&mut store, (1, 0))?, 101);
    assert_eq!(
        indirect.call(&mut store, (2, 1))?,
        102,
        "return_call_indirect"
    );
    assert_eq!(indirect.call(&mut store, (3, 2))?, 103, "return_call_ref");
    let via_ref = inst.get_typed_func::<i32, i32>(&mut store, "via_ref")?;
    assert_eq!(via_ref.call(&mut store, 4)?, 104);
    let tail_direct = inst.get_typed_func::<i32, i32>(&mut store, "tail_direct")?;
    assert_eq!(tail_direct.call(&mut store, 5)?, 105);
    let tail_uncaught = inst.get_typed_func::<i32, i32>(&mut store, "tail_uncaught")?;
    let err = tail_uncaught.call(&mut store, 6).unwrap_err();
    assert!(is_uncaught(&err), "{err:#}");
    assert_eq!(via_ref.call(&mut store, 7)?, 107);
    Ok(())
}

#[test]
fn exception_from_an_imported_function_of_another_instance() -> Result<()> {
    let engine = engine();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    let a = Module::new(
        &engine,
        r#"(module
          (tag $e (export "e") (param i32))
          (func (export "throw") (param i32) (result i32) (throw $e (local.get 0))))"#,
    )?;
    let a = linker.instantiate(&mut store, &a)?;
    linker.instance(&mut store, "a", a)?;
    let b = Module::new(
        &engine,
        r#"(module
          (import "a" "e" (tag $e (param i32)))
          (import "a" "throw" (func $throw (param i32) (result i32)))
          (func $tail (param i32) (result i32) (return_call $throw (local.get 0)))
          (func (export "run") (param i32) (result i32)
            (block $h (result i32)
              (try_table (result i32) (catch $e $h) (call $tail (local.get 0)))
              unreachable)))"#,
    )?;
    let b = linker.instantiate(&mut store, &b)?;
    let run = b.get_typed_func::<i32, i32>(&mut store, "run")?;
    assert_eq!(run.call(&mut store, 12)?, 12);
    Ok(())
}

#[test]
fn host_frame_inside_try_table_whose_callee_catches_its_own_exception() -> Result<()> {
    // wasm (try_table) -> host -> wasm that throws and catches internally: nothing leaks to
    // the outer frames, which continue normally.
    let engine = engine();
    let mut store = Store::new(&engine, ());
    let inner = Instance::new(
        &mut store,
        &Module::new(
            &engine,
            r#"(module
              (tag $e (param i32))
              (func (export "f") (param i32) (result i32)
                (block $h (result i32)
                  (try_table (catch $e $h) (throw $e (local.get 0)))
                  unreachable)
                (i32.mul (i32.const 2))))"#,
        )?,
        &[],
    )?;
    let f = inner.get_typed_func::<i32, i32>(&mut store, "f")?;
    let host = Func::wrap(&mut store, move |mut caller: Caller<'_, ()>, x: i32| {
        f.call(&mut caller, x)
    });
    let outer = Instance::new(
        &mut store,
        &Module::new(
            &engine,
            r#"(module
              (import "" "host" (func $host (param i32) (result i32)))
              (func $id (param i32) (result i32) (local.get 0))
              (func (export "run") (param i32) (result i32)
                (block $h
                  (try_table (result i32) (catch_all $h)
                    (call $id (call $host (local.get 0))))
                  (return (call $id)))
                (i32.const -1)))"#,
        )?,
        &[host.into()],
    )?;
    let run = outer.get_typed_func::<i32, i32>(&mut store, "run")?;
    assert_eq!(run.call(&mut store, 21)?, 42);
    Ok(())
}

#[test]
fn start_function_that_throws_fails_instantiation_and_leaves_the_store_clean() -> Result<()> {
    let engine = engine();
    let mut store = Store::new(&engine, ());
    let bad = Module::new(
        &engine,
        r#"(module (tag $e) (func $start (throw $e)) (start $start))"#,
    )?;
    let err = Instance::new(&mut store, &bad, &[]).unwrap_err();
    assert!(is_uncaught(&err), "{err:#}");
    let good = Module::new(
        &engine,
        r#"(module
          (func $f (result i32) (i32.const 1))
          (func (export "g") (result i32) (i32.add (call $f) (call $f))))"#,
    )?;
    let inst = Instance::new(&mut store, &good, &[])?;
    let g = inst.get_typed_func::<(), i32>(&mut store, "g")?;
    assert_eq!(g.call(&mut store, ())?, 2);
    Ok(())
}

#[test]
fn after_an_uncaught_exception_calls_see_no_stale_pending_state() -> Result<()> {
    let (mut store, inst) = instance(
        &engine(),
        r#"(module
          (tag $e (param i32))
          (global $count (mut i32) (i32.const 0))
          (func $bump (global.set $count (i32.add (global.get $count) (i32.const 1))))
          (func (export "throw") (call $bump) (throw $e (i32.const 1)))
          ;; Makes calls inside and outside a try_table; a stale pending exception would
          ;; send it to the handler (-1) or out as an error.
          (func (export "calls") (result i32)
            (call $bump) (call $bump)
            (block $h
              (try_table (catch_all $h) (call $bump))
              (return (global.get $count)))
            (i32.const -1)))"#,
    )?;
    let throw = inst.get_typed_func::<(), ()>(&mut store, "throw")?;
    let calls = inst.get_typed_func::<(), i32>(&mut store, "calls")?;
    let err = throw.call(&mut store, ()).unwrap_err();
    assert!(is_uncaught(&err), "{err:#}");
    assert_eq!(calls.call(&mut store, ())?, 4);
    let err = throw.call(&mut store, ()).unwrap_err();
    assert!(is_uncaught(&err), "{err:#}");
    assert_eq!(calls.call(&mut store, ())?, 8);
    Ok(())
}

const TRAPS_WAT: &str = r#"(module
  (type $t (func))
  (tag $e)
  (memory 1)
  (table 1 funcref)
  (func $rec (call $rec))
  (func $div (param i32) (result i32) (i32.div_s (i32.const 1) (local.get 0)))
  ;; Each body traps inside a try_table with catch_all (and catch_all_ref): traps are not
  ;; exceptions, so the handler (-1) never runs.
  (func (export "unreachable") (result i32)
    (block $h (try_table (catch_all $h) unreachable) (return (i32.const 0)))
    (i32.const -1))
  (func (export "div") (result i32)
    (block $h (result exnref)
      (try_table (catch_all_ref $h) (drop (call $div (i32.const 0))))
      (return (i32.const 0)))
    drop (i32.const -1))
  (func (export "oob") (result i32)
    (block $h (try_table (catch $e $h) (drop (i32.load (i32.const 70000))))
      (return (i32.const 0)))
    (i32.const -1))
  (func (export "null_indirect") (result i32)
    (block $h (try_table (catch_all $h) (call_indirect (type $t) (i32.const 0)))
      (return (i32.const 0)))
    (i32.const -1))
  (func (export "overflow") (result i32)
    (block $h (try_table (catch_all $h) (call $rec)) (return (i32.const 0)))
    (i32.const -1))
  (func (export "spin") (result i32)
    (block $h (try_table (catch_all $h) (loop $l (br $l))) (return (i32.const 0)))
    (i32.const -1))
  (func (export "ok") (result i32)
    (block $h (try_table (catch_all $h) (throw $e)) (return (i32.const 0)))
    (i32.const 1)))"#;

fn expect_trap(err: anyhow::Error, trap: Trap) {
    assert_eq!(err.downcast_ref::<Trap>(), Some(&trap), "{err:#}");
}

#[test]
fn traps_inside_try_table_are_not_caught() -> Result<()> {
    let (mut store, inst) = instance(&engine(), TRAPS_WAT)?;
    let cases = [
        ("unreachable", Trap::UnreachableCodeReached),
        ("div", Trap::IntegerDivisionByZero),
        ("oob", Trap::MemoryOutOfBounds),
        ("null_indirect", Trap::IndirectCallToNull),
        ("overflow", Trap::StackOverflow),
    ];
    let ok = inst.get_typed_func::<(), i32>(&mut store, "ok")?;
    for (name, trap) in cases {
        let f = inst.get_typed_func::<(), i32>(&mut store, name)?;
        expect_trap(f.call(&mut store, ()).unwrap_err(), trap);
        assert_eq!(ok.call(&mut store, ())?, 1, "after {name}");
    }
    Ok(())
}

#[test]
fn fuel_exhaustion_inside_try_table_is_a_trap() -> Result<()> {
    let engine = engine_with(|c| {
        c.consume_fuel(true);
    });
    let (mut store, inst) = instance(&engine, TRAPS_WAT)?;
    store.set_fuel(100_000)?;
    let spin = inst.get_typed_func::<(), i32>(&mut store, "spin")?;
    expect_trap(spin.call(&mut store, ()).unwrap_err(), Trap::OutOfFuel);
    store.set_fuel(100_000)?;
    let ok = inst.get_typed_func::<(), i32>(&mut store, "ok")?;
    assert_eq!(ok.call(&mut store, ())?, 1);
    Ok(())
}

#[tokio::test]
async fn stack_overflow_inside_try_table_on_a_fiber_is_a_trap() -> Result<()> {
    let engine = engine_with(|c| {
        c.async_support(true);
    });
    let module = Module::new(&engine, TRAPS_WAT)?;
    let mut store = Store::new(&engine, ());
    let inst = Instance::new_async(&mut store, &module, &[]).await?;
    let overflow = inst.get_typed_func::<(), i32>(&mut store, "overflow")?;
    let ok = inst.get_typed_func::<(), i32>(&mut store, "ok")?;
    for _ in 0..2 {
        expect_trap(
            overflow.call_async(&mut store, ()).await.unwrap_err(),
            Trap::StackOverflow,
        );
        assert_eq!(ok.call_async(&mut store, ()).await?, 1);
    }
    Ok(())
}

#[tokio::test]
async fn fuel_yields_between_throw_and_catch_on_a_fiber() -> Result<()> {
    let engine = engine_with(|c| {
        c.async_support(true);
        c.consume_fuel(true);
    });
    let module = Module::new(
        &engine,
        r#"(module
          (tag $e (param i64))
          ;; Burns fuel in a loop at each level, then throws from the bottom; every level
          ;; burns again after its callee returned (never: the exception passes).
          (func $burn (param $n i32)
            (loop $l (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
          (func $rec (param $d i32) (param $sum i64)
            (call $burn (i32.const 200))
            (if (i32.eqz (local.get $d)) (then (throw $e (local.get $sum))))
            (call $rec (i32.sub (local.get $d) (i32.const 1))
              (i64.add (local.get $sum) (i64.extend_i32_u (local.get $d))))
            (call $burn (i32.const 100000000)))
          (func (export "run") (param i32) (result i64)
            (block $h (result i64)
              (try_table (catch $e $h) (call $rec (local.get 0) (i64.const 0)))
              (i64.const -1))
            (call $burn (i32.const 200))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    store.set_fuel(u64::MAX / 2)?;
    store.fuel_async_yield_interval(Some(50))?;
    let inst = Instance::new_async(&mut store, &module, &[]).await?;
    let run = inst.get_typed_func::<i32, i64>(&mut store, "run")?;
    // Poll by hand to count the yields.
    let mut polls = 0u32;
    let mut fut = std::pin::pin!(run.call_async(&mut store, 100));
    let result = std::future::poll_fn(|cx| {
        polls += 1;
        fut.as_mut().poll(cx)
    })
    .await?;
    assert_eq!(result, 5050);
    assert!(polls > 100, "the fiber yielded only {polls} times");
    Ok(())
}

#[test]
fn exnref_in_tables_and_globals_is_thrown_later() -> Result<()> {
    let (mut store, inst) = instance(
        &engine(),
        r#"(module
          (tag $e (export "e") (param i32))
          (table $t (export "t") 1 exnref)
          (global $g (export "g") (mut exnref) (ref.null exn))
          (func $catch_ref (param i32) (result exnref)
            (block $h (result exnref)
              (try_table (catch_all_ref $h) (throw $e (local.get 0)))
              unreachable))
          (func (export "save") (param i32 i32)
            (global.set $g (call $catch_ref (local.get 0)))
            (drop (table.grow $t (call $catch_ref (local.get 1)) (i32.const 2))))
          (func $rethrow (param exnref) (result i32)
            (block $h (result i32)
              (try_table (catch $e $h) (throw_ref (local.get 0)))
              unreachable))
          ;; Throws and catches a fresh exception (its slot is freed and reused) in between.
          (func $churn (result i32)
            (block $h (result i32)
              (try_table (catch $e $h) (throw $e (i32.const 555)))
              unreachable))
          (func (export "global") (result i32)
            (drop (call $churn))
            (call $rethrow (global.get $g)))
          (func (export "table") (param i32) (result i32)
            (drop (call $churn))
            (call $rethrow (table.get $t (local.get 0))))
          (func (export "size") (result i32) (table.size $t))
          (func (export "is_null") (param i32) (result i32)
            (ref.is_null (table.get $t (local.get 0)))))"#,
    )?;
    let save = inst.get_typed_func::<(i32, i32), ()>(&mut store, "save")?;
    let global = inst.get_typed_func::<(), i32>(&mut store, "global")?;
    let table = inst.get_typed_func::<i32, i32>(&mut store, "table")?;
    let is_null = inst.get_typed_func::<i32, i32>(&mut store, "is_null")?;
    save.call(&mut store, (11, 22))?;
    for _ in 0..3 {
        assert_eq!(global.call(&mut store, ())?, 11);
        assert_eq!(table.call(&mut store, 1)?, 22);
        assert_eq!(table.call(&mut store, 2)?, 22);
    }
    assert_eq!(is_null.call(&mut store, 0)?, 1);
    // throw_ref of the null in slot 0.
    expect_trap(table.call(&mut store, 0).unwrap_err(), Trap::NullReference);

    // The host cannot put anything but null into an exnref place.
    let f = Func::wrap(&mut store, || {});
    let g = inst.get_global(&mut store, "g").unwrap();
    assert!(g.set(&mut store, Val::FuncRef(Some(f))).is_err());
    let t = inst.get_table(&mut store, "t").unwrap();
    assert!(t.set(&mut store, 1, Ref::Func(Some(f))).is_err());
    assert!(t.grow(&mut store, 1, Ref::Func(Some(f))).is_err());
    assert_eq!(table.call(&mut store, 1)?, 22, "slot 1 kept its exnref");
    // Nor a null funcref (a null of another hierarchy), as in Wasmtime.
    assert!(g.set(&mut store, Val::FuncRef(None)).is_err());
    g.set(&mut store, Val::ExnRef(None))?;
    t.set(&mut store, 1, Ref::Exn(None))?;
    expect_trap(
        global.call(&mut store, ()).unwrap_err(),
        Trap::NullReference,
    );
    assert_eq!(is_null.call(&mut store, 1)?, 1);
    Ok(())
}

#[test]
fn host_values_cannot_pose_as_exnrefs() -> Result<()> {
    let (mut store, inst) = instance(
        &engine(),
        r#"(module
          (tag $e)
          (func (export "throw_it") (param exnref)
            (block $h (try_table (catch_all $h) (throw_ref (local.get 0)))))
          (func (export "nullable") (param exnref) (result i32)
            (ref.is_null (local.get 0))))"#,
    )?;
    let throw_it = inst.get_func(&mut store, "throw_it").unwrap();
    let f = Func::wrap(&mut store, || {});
    assert!(throw_it
        .call(&mut store, &[Val::FuncRef(Some(f))], &mut [])
        .is_err());
    let x = ExternRef::new(&mut store, 1u8)?;
    assert!(throw_it
        .call(&mut store, &[Val::ExternRef(Some(x))], &mut [])
        .is_err());
    assert!(throw_it
        .call(&mut store, &[Val::ExternRef(None)], &mut [])
        .is_err());
    assert!(throw_it
        .call(&mut store, &[Val::FuncRef(None)], &mut [])
        .is_err());
    expect_trap(
        throw_it
            .call(&mut store, &[Val::ExnRef(None)], &mut [])
            .unwrap_err(),
        Trap::NullReference,
    );
    assert!(throw_it.typed::<Option<Func>, ()>(&store).is_err());
    let nullable = inst.get_func(&mut store, "nullable").unwrap();
    let mut r = [Val::I32(0)];
    nullable.call(&mut store, &[Val::ExnRef(None)], &mut r)?;
    assert_eq!(r[0].i32(), Some(1));
    Ok(())
}

#[test]
fn exceptions_disabled_rejects_tags_and_exnref_types() {
    let engine = Engine::new(&Config::new()).unwrap();
    for wat in [
        "(module (tag $e))",
        "(module (tag $e (param i32)) (export \"e\" (tag $e)))",
        "(module (import \"m\" \"e\" (tag)))",
        "(module (global (mut exnref) (ref.null exn)))",
        "(module (func (param exnref)))",
        "(module (table 1 exnref))",
    ] {
        let err = Module::new(&engine, wat).unwrap_err();
        let text = format!("{err:#}");
        assert!(text.contains("wasm_exceptions"), "{wat}: {text}");
        Module::new(&engine_with(|_| {}), wat).unwrap();
    }
}

#[test]
fn more_shapes_many_values_empty_try_tables_and_outer_values() -> Result<()> {
    let many = "i64 ".repeat(20);
    let sums = "i64.add ".repeat(19);
    let throw_args: String = (1..=20).map(|i| format!("(i64.const {i}) ")).collect();
    let wat = format!(
        r#"(module
          (tag $big (param {many}))
          (tag $empty)
          (tag $one (param i32))
          (func $thrower (throw $big {throw_args}))
          ;; Many results: the propagating return fills them with zeros nobody reads.
          (func $middle (param i32) (result {many})
            (call $thrower)
            unreachable)
          (func (export "big") (result i64)
            (block $h (result {many})
              (try_table (result {many}) (catch $big $h) (call $middle (i32.const 0)))
              unreachable)
            {sums})
          ;; An empty try_table (no clauses) between the throw and the handler; a value
          ;; below the try_table on the operand stack, and a local set before the throw.
          (func (export "outer_values") (result i32)
            (local $l i32)
            (i32.const 5)
            (block $h (result exnref)
              (try_table (catch_ref $empty $h)
                (try_table
                  (local.set $l (i32.const 100))
                  (call $throw_empty)))
              (return (i32.const -1)))
            drop
            (i32.add (local.get $l))
            (i32.add (i32.const 1000)))
          (func $throw_empty (throw $empty))
          ;; The label of a catch is an outer try_table (with results).
          (func (export "outer_try_table") (result i32)
            (block $h (result exnref)
              (try_table (result i32) (catch_all_ref $h)
                (try_table (result i32) (catch $one 0)
                  (i32.const 7)
                  (throw $one (i32.const 42))))
              (return))
            drop
            (i32.const -1)))"#
    );
    let (mut store, inst) = instance(&engine(), &wat)?;
    let big = inst.get_typed_func::<(), i64>(&mut store, "big")?;
    assert_eq!(big.call(&mut store, ())?, 210);
    let outer = inst.get_typed_func::<(), i32>(&mut store, "outer_values")?;
    assert_eq!(outer.call(&mut store, ())?, 1105);
    let f = inst.get_typed_func::<(), i32>(&mut store, "outer_try_table")?;
    assert_eq!(f.call(&mut store, ())?, 42);
    Ok(())
}

#[test]
fn host_that_swallows_the_inner_exception_returns_normally() -> Result<()> {
    let engine = engine();
    let mut store = Store::new(&engine, ());
    let inner = Instance::new(
        &mut store,
        &Module::new(
            &engine,
            r#"(module (tag $e) (func (export "throw") (throw $e)))"#,
        )?,
        &[],
    )?;
    let throw = inner.get_typed_func::<(), ()>(&mut store, "throw")?;
    let host = Func::wrap(&mut store, move |mut caller: Caller<'_, ()>| -> i32 {
        match throw.call(&mut caller, ()) {
            Err(e) if e.downcast_ref::<ThrownException>().is_some() => 1,
            _ => 0,
        }
    });
    let outer = Instance::new(
        &mut store,
        &Module::new(
            &engine,
            r#"(module
              (import "" "host" (func $host (result i32)))
              (func $id (param i32) (result i32) (local.get 0))
              (func (export "run") (result i32)
                (block $h
                  (try_table (catch_all $h)
                    (return (i32.add (call $id (call $host)) (call $id (call $host))))))
                (i32.const -1)))"#,
        )?,
        &[host.into()],
    )?;
    let run = outer.get_typed_func::<(), i32>(&mut store, "run")?;
    assert_eq!(run.call(&mut store, ())?, 2);
    Ok(())
}

#[test]
fn host_function_results_cannot_forge_exnrefs() -> Result<()> {
    let engine = engine();
    let mut store = Store::new(&engine, ());
    let exnref = ValType::Ref(RefType::new(true, HeapType::Exn));
    let ty = FuncType::new(&engine, [], [exnref]);
    let decoy = Func::wrap(&mut store, || {});
    let forge = Func::new(&mut store, ty, move |_, _, results| {
        results[0] = Val::FuncRef(Some(decoy));
        Ok(())
    });
    let module = Module::new(
        &engine,
        r#"(module
          (import "" "forge" (func $forge (result exnref)))
          (func (export "run") (result i32)
            (block $h (try_table (catch_all $h) (throw_ref (call $forge))))
            (i32.const 1)))"#,
    )?;
    let inst = Instance::new(&mut store, &module, &[forge.into()])?;
    let run = inst.get_typed_func::<(), i32>(&mut store, "run")?;
    let err = run.call(&mut store, ()).unwrap_err();
    assert!(err.downcast_ref::<ThrownException>().is_none(), "{err:#}");
    Ok(())
}

#[test]
fn legacy_exception_operators_are_refused_cleanly() {
    for config in [Config::new(), {
        let mut c = Config::new();
        c.wasm_exceptions(true);
        c
    }] {
        let engine = Engine::new(&config).unwrap();
        let err = Module::new(
            &engine,
            r#"(module (tag $e) (func (try (do (throw $e)) (catch $e))))"#,
        )
        .unwrap_err();
        assert!(!format!("{err:#}").is_empty());
    }
}

#[test]
fn a_tag_of_another_store_is_refused_at_instantiation() -> Result<()> {
    let engine = engine();
    let mut other = Store::new(&engine, ());
    let ty = TagType::new(FuncType::new(&engine, [ValType::I32], []));
    let foreign = Tag::new(&mut other, &ty)?;
    let mut linker = Linker::new(&engine);
    linker.define_tag("host", "e", foreign)?;
    let module = Module::new(&engine, r#"(module (tag (import "host" "e") (param i32)))"#)?;
    let mut store = Store::new(&engine, ());
    assert!(linker.instantiate(&mut store, &module).is_err());
    // In its own store it links.
    linker.instantiate(&mut other, &module)?;
    Ok(())
}

#[test]
fn hundreds_of_nested_try_tables_with_other_tags() -> Result<()> {
    // The throw at the bottom passes 300 handlers whose tags do not match, in one function and
    // then across 300 frames.
    let depth = 300;
    let mut body = String::new();
    for i in 0..depth {
        body.push_str(&format!(
            "(block $h{i} (result i32) (try_table (catch $other{} $h{i})\n",
            i % 3
        ));
    }
    body.push_str("(call $throw (local.get 0))");
    for _ in 0..depth {
        body.push_str(") (return (i32.const -2))) drop\n");
    }
    let wat = format!(
        r#"(module
          (tag $e (param i32))
          (tag $other0 (param i32)) (tag $other1 (param i32)) (tag $other2 (param i32))
          (func $throw (param i32) (throw $e (local.get 0)))
          (func $deep (param i32) (result i32)
            {body}
            (i32.const -1))
          (func (export "run") (param i32) (result i32)
            (block $h (result i32)
              (try_table (result i32) (catch $e $h) (call $deep (local.get 0)))
              unreachable)))"#
    );
    let (mut store, inst) = instance(&engine(), &wat)?;
    let run = inst.get_typed_func::<i32, i32>(&mut store, "run")?;
    assert_eq!(run.call(&mut store, 31)?, 31);
    Ok(())
}

const THROW_LOOP_WAT: &str = r#"(module
  (tag $e (param i32))
  ;; A call-free loop whose only back edge is a catch clause.
  (func (export "spin") (param $n i32) (result i32)
    (local.get $n)
    (loop $l (param i32)
      (local.set $n)
      (if (i32.eqz (local.get $n)) (then (return (i32.const 7))))
      (try_table (catch $e $l)
        (throw $e (i32.sub (local.get $n) (i32.const 1)))))
    unreachable))"#;

#[test]
fn a_loop_closed_by_a_catch_is_interruptible() -> Result<()> {
    let engine = engine_with(|c| {
        c.epoch_interruption(true).consume_fuel(true);
    });
    let (mut store, inst) = instance(&engine, THROW_LOOP_WAT)?;
    store.set_fuel(u64::MAX / 2)?;
    store.set_epoch_deadline(1);
    let spin = inst.get_typed_func::<i32, i32>(&mut store, "spin")?;
    assert_eq!(spin.call(&mut store, 1000)?, 7);
    engine.increment_epoch();
    expect_trap(spin.call(&mut store, -1).unwrap_err(), Trap::Interrupt);
    store.set_epoch_deadline(1_000_000);
    store.set_fuel(10_000)?;
    expect_trap(spin.call(&mut store, -1).unwrap_err(), Trap::OutOfFuel);
    Ok(())
}

#[tokio::test]
async fn epoch_yields_in_a_loop_closed_by_a_catch() -> Result<()> {
    let engine = engine_with(|c| {
        c.epoch_interruption(true).async_support(true);
    });
    let module = Module::new(&engine, THROW_LOOP_WAT)?;
    let mut store = Store::new(&engine, ());
    store.epoch_deadline_async_yield_and_update(1);
    let inst = Instance::new_async(&mut store, &module, &[]).await?;
    let spin = inst.get_typed_func::<i32, i32>(&mut store, "spin")?;
    let mut polls = 0u32;
    let mut fut = std::pin::pin!(spin.call_async(&mut store, 200_000));
    let result = std::future::poll_fn(|cx| {
        polls += 1;
        if polls < 20 {
            engine.increment_epoch();
        }
        fut.as_mut().poll(cx)
    })
    .await?;
    assert_eq!(result, 7);
    assert!(polls > 1, "never yielded");
    Ok(())
}

#[test]
fn tag_imports_compare_typed_reference_payloads_structurally() -> Result<()> {
    let engine = engine();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    let a = Module::new(
        &engine,
        r#"(module
          (type $a (func (param i32) (result i32)))
          (tag (export "e") (param (ref null $a)))
          (func $double (type $a) (i32.mul (local.get 0) (i32.const 2)))
          (elem declare func $double)
          (func (export "throw") (throw 0 (ref.func $double))))"#,
    )?;
    let a = linker.instantiate(&mut store, &a)?;
    linker.instance(&mut store, "a", a)?;
    // Same type at another index: links, and the funcref is callable.
    let same = Module::new(
        &engine,
        r#"(module
          (type $other (func (param f32)))
          (type $a (func (param i32) (result i32)))
          (import "a" "e" (tag $e (param (ref null $a))))
          (import "a" "throw" (func $throw))
          (func (export "run") (param i32) (result i32)
            (local.get 0)
            (block $h (result (ref null $a))
              (try_table (catch $e $h) (call $throw))
              unreachable)
            (call_ref $a)))"#,
    )?;
    let same = linker.instantiate(&mut store, &same)?;
    let run = same.get_typed_func::<i32, i32>(&mut store, "run")?;
    assert_eq!(run.call(&mut store, 21)?, 42);
    // Another type at the same index: must not link (the payload would be called as a
    // function of the wrong type).
    let other = Module::new(
        &engine,
        r#"(module
          (type $b (func (param i64) (result i64)))
          (import "a" "e" (tag $e (param (ref null $b))))
          (import "a" "throw" (func $throw))
          (func (export "run") (param i64) (result i64)
            (local.get 0)
            (block $h (result (ref null $b))
              (try_table (catch $e $h) (call $throw))
              unreachable)
            (call_ref $b)))"#,
    )?;
    let err = linker.instantiate(&mut store, &other).unwrap_err();
    assert!(format!("{err:#}").contains("incompatible"), "{err:#}");
    Ok(())
}

#[tokio::test]
async fn async_instantiation_with_tag_imports_and_a_throwing_start() -> Result<()> {
    let engine = engine_with(|c| {
        c.async_support(true);
    });
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    let ty = TagType::new(FuncType::new(&engine, [ValType::I32], []));
    linker.define_tag("host", "e", Tag::new(&mut store, &ty)?)?;
    let throws = Module::new(
        &engine,
        r#"(module
          (tag $e (import "host" "e") (param i32))
          (func $start (throw $e (i32.const 1)))
          (start $start))"#,
    )?;
    let err = linker
        .instantiate_async(&mut store, &throws)
        .await
        .unwrap_err();
    assert!(is_uncaught(&err), "{err:#}");
    let catches = Module::new(
        &engine,
        r#"(module
          (tag $e (import "host" "e") (param i32))
          (global $g (export "g") (mut i32) (i32.const 0))
          (func $start
            (block $h (result i32)
              (try_table (catch $e $h) (throw $e (i32.const 9)))
              unreachable)
            global.set $g)
          (start $start))"#,
    )?;
    let inst = linker.instantiate_async(&mut store, &catches).await?;
    let g = inst.get_global(&mut store, "g").unwrap();
    assert_eq!(g.get(&mut store).i32(), Some(9));
    Ok(())
}

#[tokio::test]
async fn a_call_dropped_while_suspended_inside_try_table_leaves_the_store_clean() -> Result<()> {
    let engine = engine_with(|c| {
        c.async_support(true);
        c.consume_fuel(true);
    });
    let module = Module::new(
        &engine,
        r#"(module
          (tag $e (param i32))
          (func $burn (param $n i32)
            (loop $l (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
          (func (export "run") (param i32) (result i32)
            (block $h (result i32)
              (try_table (catch $e $h)
                (call $burn (local.get 0))
                (throw $e (i32.const 3)))
              unreachable)))"#,
    )?;
    let mut store = Store::new(&engine, ());
    store.set_fuel(u64::MAX / 2)?;
    store.fuel_async_yield_interval(Some(100))?;
    let inst = Instance::new_async(&mut store, &module, &[]).await?;
    let run = inst.get_typed_func::<i32, i32>(&mut store, "run")?;
    {
        let mut fut = std::pin::pin!(run.call_async(&mut store, 1_000_000));
        let mut polls = 0;
        std::future::poll_fn(|cx| {
            polls += 1;
            match fut.as_mut().poll(cx) {
                std::task::Poll::Pending if polls < 5 => std::task::Poll::Pending,
                std::task::Poll::Pending => std::task::Poll::Ready(()),
                std::task::Poll::Ready(r) => panic!("finished early: {r:?}"),
            }
        })
        .await;
    }
    assert_eq!(run.call_async(&mut store, 1000).await?, 3);
    Ok(())
}

#[test]
fn uncaught_exception_from_a_function_with_non_null_results() -> Result<()> {
    // The propagating return fills the results with zeros (null): the host must not read them.
    let (mut store, inst) = instance(
        &engine(),
        r#"(module
          (type $ft (func))
          (tag $e)
          (func $f (type $ft))
          (elem declare func $f)
          (func (export "ext") (param externref) (result (ref extern))
            (if (ref.is_null (local.get 0)) (then (throw $e)))
            (ref.as_non_null (local.get 0)))
          (func (export "func") (param i32) (result (ref $ft) (ref func))
            (if (local.get 0) (then (throw $e)))
            (ref.func $f) (ref.func $f)))"#,
    )?;
    let ext = inst.get_typed_func::<Option<ExternRef>, ExternRef>(&mut store, "ext")?;
    let err = ext.call(&mut store, None).unwrap_err();
    assert!(is_uncaught(&err), "{err:#}");
    let x = ExternRef::new(&mut store, 5u64)?;
    ext.call(&mut store, Some(x))?;
    let func = inst.get_func(&mut store, "func").unwrap();
    let mut results = [Val::I32(0), Val::I32(0)];
    let err = func
        .call(&mut store, &[Val::I32(1)], &mut results)
        .unwrap_err();
    assert!(is_uncaught(&err), "{err:#}");
    func.call(&mut store, &[Val::I32(0)], &mut results)?;
    assert!(matches!(results[0], Val::FuncRef(Some(_))));
    let typed = inst.get_typed_func::<i32, (Func, Func)>(&mut store, "func");
    if let Ok(typed) = typed {
        assert!(is_uncaught(&typed.call(&mut store, 1).unwrap_err()));
    }
    Ok(())
}

#[test]
fn rethrow_cases_without_optimization() -> Result<()> {
    let engine = engine_with(|c| {
        c.cranelift_opt_level(OptLevel::None);
    });
    let (mut store, inst) = instance(&engine, RETHROW_WAT)?;
    let f = inst.get_typed_func::<i32, i32>(&mut store, "rethrow_same")?;
    assert_eq!(f.call(&mut store, 41)?, 42);
    let f = inst.get_typed_func::<i32, i64>(&mut store, "nested")?;
    assert_eq!(f.call(&mut store, 1)?, 1020);
    let f = inst.get_typed_func::<i32, i32>(&mut store, "exn_payload")?;
    assert_eq!(f.call(&mut store, 77)?, 77);
    let f = inst.get_typed_func::<i32, i32>(&mut store, "loop_label")?;
    assert_eq!(f.call(&mut store, 5)?, 6);
    Ok(())
}

#[test]
fn exnref_places_do_not_link_as_funcref_places() -> Result<()> {
    let engine = engine();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    let a = Module::new(
        &engine,
        r#"(module
          (tag $e)
          (global (export "g") (mut exnref) (ref.null exn))
          (global (export "c") exnref (ref.null exn))
          (table (export "t") 1 exnref)
          (func (export "f") (param exnref) (result exnref) (local.get 0))
          (func (export "h") (param funcref) (result funcref) (local.get 0)))"#,
    )?;
    let a = linker.instantiate(&mut store, &a)?;
    linker.instance(&mut store, "a", a)?;
    let host_takes_func = Func::wrap(&mut store, |_: Option<Func>| {});
    linker.define(&mut store, "host", "takes_func", host_takes_func)?;
    let host_gives_func = Func::wrap(&mut store, || -> Option<Func> { None });
    linker.define(&mut store, "host", "gives_func", host_gives_func)?;
    for import in [
        r#"(import "a" "g" (global (mut funcref)))"#,
        r#"(import "a" "c" (global funcref))"#,
        r#"(import "a" "c" (global externref))"#,
        r#"(import "a" "t" (table 1 funcref))"#,
        r#"(import "a" "f" (func (param funcref) (result exnref)))"#,
        r#"(import "a" "f" (func (param exnref) (result funcref)))"#,
        r#"(import "a" "h" (func (param exnref) (result funcref)))"#,
        r#"(import "a" "h" (func (param funcref) (result exnref)))"#,
        r#"(import "host" "takes_func" (func (param exnref)))"#,
        r#"(import "host" "gives_func" (func (result exnref)))"#,
    ] {
        let module = Module::new(&engine, format!("(module {import})"))?;
        assert!(
            linker.instantiate(&mut store, &module).is_err(),
            "{import} linked"
        );
    }
    // The matching imports link.
    for import in [
        r#"(import "a" "g" (global (mut exnref)))"#,
        r#"(import "a" "c" (global exnref))"#,
        r#"(import "a" "t" (table 1 exnref))"#,
        r#"(import "a" "f" (func (param exnref) (result exnref)))"#,
    ] {
        let module = Module::new(&engine, format!("(module {import})"))?;
        linker.instantiate(&mut store, &module)?;
    }
    Ok(())
}

const HELD_ACROSS_HOST_WAT: &str = r#"(module
  (import "" "host" (func $host))
  (tag $e (param i32))
  (func $catch_ref (param i32) (result exnref)
    (block $h (result exnref)
      (try_table (catch_all_ref $h) (throw $e (local.get 0)))
      unreachable))
  ;; Makes `n` exceptions that wasm held (garbage once this returns).
  (func (export "garbage") (param $n i32)
    (loop $l
      (drop (call $catch_ref (local.get $n)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
  ;; Holds an exnref in a local only, while the host makes calls that leave garbage.
  (func (export "held") (param i32) (result i32)
    (local $x exnref)
    (local.set $x (call $catch_ref (local.get 0)))
    (call $host)
    (block $h (result i32)
      (try_table (catch $e $h) (throw_ref (local.get $x)))
      unreachable)))"#;

#[test]
fn an_exnref_held_by_a_frame_survives_nested_calls_that_make_garbage() -> Result<()> {
    let engine = engine();
    let mut store = Store::new(&engine, ());
    let module = Module::new(&engine, HELD_ACROSS_HOST_WAT)?;
    let garbage_slot: std::sync::Arc<std::sync::Mutex<Option<TypedFunc<i32, ()>>>> =
        Default::default();
    let slot = garbage_slot.clone();
    let host = Func::wrap(
        &mut store,
        move |mut caller: Caller<'_, ()>| -> Result<()> {
            let garbage = slot.lock().unwrap().expect("set before the call");
            for _ in 0..10 {
                garbage.call(&mut caller, 1000)?;
            }
            Ok(())
        },
    );
    let inst = Instance::new(&mut store, &module, &[host.into()])?;
    let garbage = inst.get_typed_func::<i32, ()>(&mut store, "garbage")?;
    *garbage_slot.lock().unwrap() = Some(garbage);
    let held = inst.get_typed_func::<i32, i32>(&mut store, "held")?;
    for i in 0..5 {
        assert_eq!(held.call(&mut store, 40 + i)?, 40 + i);
        garbage.call(&mut store, 5000)?;
    }
    Ok(())
}

#[tokio::test]
async fn an_exnref_held_by_a_frame_survives_on_a_fiber() -> Result<()> {
    let engine = engine_with(|c| {
        c.async_support(true).consume_fuel(true);
    });
    let mut store = Store::new(&engine, ());
    store.set_fuel(u64::MAX / 2)?;
    store.fuel_async_yield_interval(Some(1000))?;
    let module = Module::new(&engine, HELD_ACROSS_HOST_WAT)?;
    let garbage_slot: std::sync::Arc<std::sync::Mutex<Option<TypedFunc<i32, ()>>>> =
        Default::default();
    let slot = garbage_slot.clone();
    let host = Func::wrap_async(&mut store, move |mut caller: Caller<'_, ()>, ()| {
        let garbage = slot.lock().unwrap().expect("set before the call");
        Box::new(async move {
            for _ in 0..10 {
                garbage.call_async(&mut caller, 1000).await?;
            }
            Ok(())
        })
    });
    let inst = Instance::new_async(&mut store, &module, &[host.into()]).await?;
    let garbage = inst.get_typed_func::<i32, ()>(&mut store, "garbage")?;
    *garbage_slot.lock().unwrap() = Some(garbage);
    let held = inst.get_typed_func::<i32, i32>(&mut store, "held")?;
    for i in 0..5 {
        assert_eq!(held.call_async(&mut store, 40 + i).await?, 40 + i);
        garbage.call_async(&mut store, 5000).await?;
    }
    Ok(())
}
