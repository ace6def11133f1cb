//! Exception handling (`Config::wasm_exceptions`): an exception no `try_table` catches comes
//! back to the host as a [`ThrownException`] error and leaves the store usable, on the
//! caller's stack and on a fiber; tags keep their identity across instances; `throw_ref` of
//! null traps; fuel and epoch checks keep working around throws; the host reads an exnref as
//! its exception; and with the feature off, modules using it are rejected with an error that
//! names the switch.

use wasmjit::*;

fn engine_with(f: impl FnOnce(&mut Config)) -> Engine {
    let mut config = Config::new();
    config.wasm_exceptions(true);
    f(&mut config);
    Engine::new(&config).unwrap()
}

const THROWER_WAT: &str = r#"
(module
  (tag $e (export "e") (param i32))
  (func $throw (export "throw") (param i32)
    local.get 0
    throw $e)
  ;; Throws through a frame without a handler, catches in the outer one.
  (func $middle (param i32) (result i32)
    local.get 0
    call $throw
    i32.const -1)
  (func (export "catch") (param i32) (result i32)
    (block $h (result i32)
      (try_table (result i32) (catch $e $h)
        local.get 0
        call $middle))
    i32.const 1000
    i32.add)
  (func (export "ok") (result i32) i32.const 7)
)
"#;

#[test]
fn uncaught_exception_is_an_error_and_the_store_stays_usable() -> Result<()> {
    let engine = engine_with(|_| {});
    let module = Module::new(&engine, THROWER_WAT)?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let throw = instance.get_typed_func::<i32, ()>(&mut store, "throw")?;
    let catch = instance.get_typed_func::<i32, i32>(&mut store, "catch")?;
    let ok = instance.get_typed_func::<(), i32>(&mut store, "ok")?;

    for _ in 0..3 {
        let err = throw.call(&mut store, 5).unwrap_err();
        assert!(
            err.downcast_ref::<ThrownException>().is_some(),
            "not an uncaught exception: {err:#}"
        );
        assert!(
            format!("{err:#}").contains("thrown Wasm exception"),
            "{err:#}"
        );
        // Nothing stays pending: the next calls return normally.
        assert_eq!(ok.call(&mut store, ())?, 7);
        assert_eq!(catch.call(&mut store, 5)?, 1005);
    }
    // The untyped path too.
    let f = instance.get_func(&mut store, "throw").unwrap();
    let err = f.call(&mut store, &[Val::I32(1)], &mut []).unwrap_err();
    assert!(err.downcast_ref::<ThrownException>().is_some(), "{err:#}");
    assert_eq!(ok.call(&mut store, ())?, 7);
    Ok(())
}

#[test]
fn exception_with_imported_tag_is_caught_in_another_instance() -> Result<()> {
    let engine = engine_with(|_| {});
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    let thrower = linker.instantiate(&mut store, &Module::new(&engine, THROWER_WAT)?)?;
    linker.instance(&mut store, "a", thrower)?;
    let tag = thrower.get_tag(&mut store, "e").expect("tag export");
    assert_eq!(linker.get_tag("a", "e"), Some(tag));
    assert_eq!(
        tag.ty(&store).ty().params().collect::<Vec<_>>(),
        [ValType::I32]
    );

    // A second module with a tag of the same type: a different tag, which must not match.
    let catcher = Module::new(
        &engine,
        r#"(module
          (tag $e (import "a" "e") (param i32))
          (tag $other (param i32))
          (import "a" "throw" (func $throw (param i32)))
          (func (export "run") (param i32) (result i32)
            (block $h (result i32)
              (try_table (catch $other 1) (catch $e $h)
                local.get 0
                call $throw)
              i32.const -1
              return)
            i32.const 1
            i32.add)
          (func (export "catch_ref") (param i32) (result i32)
            (block $h (result i32 exnref)
              (try_table (catch_ref $e $h)
                local.get 0
                call $throw)
              unreachable)
            ;; The payload is under the exnref; rethrow is not needed to read it.
            drop))"#,
    )?;
    let instance = linker.instantiate(&mut store, &catcher)?;
    let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
    assert_eq!(run.call(&mut store, 41)?, 42);
    let catch_ref = instance.get_typed_func::<i32, i32>(&mut store, "catch_ref")?;
    assert_eq!(catch_ref.call(&mut store, 9)?, 9);

    // A tag of the wrong type does not link.
    let wrong = Module::new(&engine, r#"(module (tag (import "a" "e") (param i64)))"#)?;
    let err = linker.instantiate(&mut store, &wrong).unwrap_err();
    assert!(
        format!("{err:#}").contains("incompatible import type"),
        "{err:#}"
    );
    // Nor does a function where a tag is expected.
    let wrong = Module::new(&engine, r#"(module (tag (import "a" "throw")))"#)?;
    assert!(linker.instantiate(&mut store, &wrong).is_err());
    Ok(())
}

#[test]
fn host_defined_tag_is_shared_by_name() -> Result<()> {
    let engine = engine_with(|_| {});
    let mut store = Store::new(&engine, ());
    let ty = TagType::new(FuncType::new(&engine, [ValType::I64], []));
    let tag = Tag::new(&mut store, &ty)?;
    let mut linker = Linker::new(&engine);
    linker.define_tag("host", "e", tag)?;
    let wat = r#"(module
      (tag $e (import "host" "e") (param i64))
      (func (export "throw") (param i64) local.get 0 throw $e)
      (func (export "catch") (param i64) (result i64)
        (block $h (result i64)
          (try_table (catch $e $h) local.get 0 throw $e)
          unreachable)))"#;
    let module = Module::new(&engine, wat)?;
    let a = linker.instantiate(&mut store, &module)?;
    let catch = a.get_typed_func::<i64, i64>(&mut store, "catch")?;
    assert_eq!(catch.call(&mut store, -3)?, -3);
    assert!(Tag::new(
        &mut store,
        &TagType::new(FuncType::new(&engine, [], [ValType::I32]))
    )
    .is_err());
    Ok(())
}

#[test]
fn throw_ref_of_null_traps_with_null_reference() -> Result<()> {
    let engine = engine_with(|_| {});
    let module = Module::new(
        &engine,
        r#"(module (func (export "f") (ref.null exn) throw_ref))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let f = instance.get_typed_func::<(), ()>(&mut store, "f")?;
    let err = f.call(&mut store, ()).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::NullReference),
        "{err:#}"
    );
    Ok(())
}

#[test]
fn exceptions_disabled_rejects_try_table_with_a_clear_error() {
    let engine = Engine::new(&Config::new()).unwrap();
    let err = Module::new(&engine, r#"(module (func (try_table (catch_all 0) nop)))"#).unwrap_err();
    let text = format!("{err:#}");
    assert!(text.contains("wasm_exceptions"), "{text}");
    // The same module compiles once the feature is on.
    Module::new(
        &engine_with(|_| {}),
        r#"(module (func (try_table (catch_all 0) nop)))"#,
    )
    .unwrap();
}

#[test]
fn host_call_between_throw_and_handler_passes_the_exception_on() -> Result<()> {
    // wasm -> host -> wasm(throw): the inner exception reaches the host function as a
    // `ThrownException` error; returned, it is thrown again in the outer wasm, whose handler
    // catches it (as in Wasmtime 48).
    let engine = engine_with(|_| {});
    let mut store = Store::new(&engine, ());
    let thrower = Instance::new(&mut store, &Module::new(&engine, THROWER_WAT)?, &[])?;
    let throw = thrower.get_typed_func::<i32, ()>(&mut store, "throw")?;
    let host = Func::wrap(&mut store, move |mut caller: Caller<'_, ()>, x: i32| {
        throw.call(&mut caller, x)
    });
    let module = Module::new(
        &engine,
        r#"(module
          (import "" "host" (func $host (param i32)))
          (func (export "run") (result i32)
            (block $h
              (try_table (catch_all $h) i32.const 3 call $host)
              i32.const 0
              return)
            i32.const 1))"#,
    )?;
    let instance = Instance::new(&mut store, &module, &[host.into()])?;
    let run = instance.get_typed_func::<(), i32>(&mut store, "run")?;
    assert_eq!(run.call(&mut store, ())?, 1);
    assert!(!store.has_pending_exception());
    Ok(())
}

#[test]
fn fuel_counts_through_throw_and_catch() -> Result<()> {
    let engine = engine_with(|c| {
        c.consume_fuel(true);
    });
    let module = Module::new(&engine, THROWER_WAT)?;
    let mut store = Store::new(&engine, ());
    store.set_fuel(10_000)?;
    let instance = Instance::new(&mut store, &module, &[])?;
    let catch = instance.get_typed_func::<i32, i32>(&mut store, "catch")?;
    let before = store.get_fuel()?;
    assert_eq!(catch.call(&mut store, 1)?, 1001);
    let used = before - store.get_fuel()?;
    let again = store.get_fuel()?;
    assert_eq!(catch.call(&mut store, 1)?, 1001);
    assert!(used > 0);
    assert_eq!(again - store.get_fuel()?, used, "same work, same fuel");
    // Running out of fuel is still a trap, not an exception.
    store.set_fuel(2)?;
    let err = catch.call(&mut store, 1).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::OutOfFuel),
        "{err:#}"
    );
    Ok(())
}

#[tokio::test]
async fn uncaught_exception_on_a_fiber_is_an_error() -> Result<()> {
    let engine = engine_with(|c| {
        c.async_support(true);
    });
    let module = Module::new(&engine, THROWER_WAT)?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new_async(&mut store, &module, &[]).await?;
    let throw = instance.get_typed_func::<i32, ()>(&mut store, "throw")?;
    let catch = instance.get_typed_func::<i32, i32>(&mut store, "catch")?;
    let err = throw.call_async(&mut store, 1).await.unwrap_err();
    assert!(err.downcast_ref::<ThrownException>().is_some(), "{err:#}");
    assert_eq!(catch.call_async(&mut store, 2).await?, 1002);
    Ok(())
}

#[test]
fn exnref_reaches_the_host_as_its_exception() -> Result<()> {
    let engine = engine_with(|_| {});
    let module = Module::new(
        &engine,
        r#"(module
          (tag $e)
          (global (export "g") (mut exnref) (ref.null exn))
          (func (export "exn") (result exnref)
            (block $h (result exnref)
              (try_table (catch_all_ref $h) (throw $e))
              unreachable)
            global.set 0
            global.get 0))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let f = instance.get_func(&mut store, "exn").unwrap();
    let mut results = [Val::I32(0)];
    f.call(&mut store, &[], &mut results)?;
    let Val::ExnRef(Some(exn)) = results[0] else {
        panic!("{:?}", results[0])
    };
    let g = instance.get_global(&mut store, "g").unwrap();
    assert_eq!(g.get(&mut store).unwrap_exnref(), Some(&exn));
    Ok(())
}

#[test]
fn epoch_deadline_still_interrupts_a_loop_around_try_table() -> Result<()> {
    let engine = engine_with(|c| {
        c.epoch_interruption(true);
    });
    let module = Module::new(
        &engine,
        r#"(module
          (tag $e)
          (func $f (throw $e))
          (func (export "spin")
            (loop $l
              (try_table (catch_all $l) (call $f))
              (br $l))))"#,
    )?;
    let mut store = Store::new(&engine, ());
    store.set_epoch_deadline(1);
    let instance = Instance::new(&mut store, &module, &[])?;
    let spin = instance.get_typed_func::<(), ()>(&mut store, "spin")?;
    engine.increment_epoch();
    let err = spin.call(&mut store, ()).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::Interrupt),
        "{err:#}"
    );
    Ok(())
}
