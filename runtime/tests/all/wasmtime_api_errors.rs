//! Error handling the way Wasmtime 48 programs write it: `wasmtime::Error`, `wasmtime::bail!`,
//! `wasmtime::format_err!`, `wasmtime::error::Context`, and downcasts to `Trap`.

use wasmjit as wasmtime;

use wasmtime::error::Context as _;
use wasmtime::{Engine, Instance, Linker, Module, Store, Trap};

fn checked_div(a: i32, b: i32) -> wasmtime::Result<i32> {
    wasmtime::ensure!(b != 0, "division of {a} by zero");
    if a == i32::MIN && b == -1 {
        wasmtime::bail!("overflow dividing {a} by {b}");
    }
    Ok(a / b)
}

#[test]
fn wasmtime_error_macros_and_context() -> wasmtime::Result<()> {
    assert_eq!(checked_div(9, 3)?, 3);
    let e = checked_div(1, 0).unwrap_err();
    assert!(e.to_string().contains("by zero"));
    let e = checked_div(i32::MIN, -1).unwrap_err();
    assert!(e.to_string().contains("overflow"));
    let e: wasmtime::Error = wasmtime::format_err!("code {}", 7);
    assert_eq!(e.to_string(), "code 7");
    let e = wasmtime::error::format_err!("inner");
    assert_eq!(format!("{e}"), "inner");

    let engine = Engine::default();
    let err = Module::new(&engine, "(module (func (result i32)))")
        .context("compiling the guest")
        .unwrap_err();
    assert_eq!(err.to_string(), "compiling the guest");
    assert!(format!("{err:?}").contains("type mismatch"), "{err:?}");

    // Host errors of our own type come back out of wasm by downcast.
    #[derive(Debug)]
    struct Exit(i32);
    impl std::fmt::Display for Exit {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "exit with {}", self.0)
        }
    }
    impl std::error::Error for Exit {}
    let mut linker: Linker<()> = Linker::new(&engine);
    linker.func_wrap("env", "exit", |code: i32| -> wasmtime::Result<()> {
        Err(wasmtime::Error::new(Exit(code)))
    })?;
    let module = Module::new(
        &engine,
        r#"(module (import "env" "exit" (func $exit (param i32)))
            (func (export "_start") (call $exit (i32.const 3)) unreachable))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &module)?;
    let start = instance.get_typed_func::<(), ()>(&mut store, "_start")?;
    let err = start.call(&mut store, ()).unwrap_err();
    assert!(err.downcast_ref::<Trap>().is_none());
    assert_eq!(err.downcast_ref::<Exit>().map(|e| e.0), Some(3));
    let exit = err.downcast::<Exit>()?;
    assert_eq!(exit.0, 3);
    // Traps from instantiation (a trapping start function) downcast too.
    let trapping = Module::new(&engine, r#"(module (func $s unreachable) (start $s))"#)?;
    let err = Instance::new(&mut store, &trapping, &[]).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::UnreachableCodeReached)
    );
    Ok(())
}
