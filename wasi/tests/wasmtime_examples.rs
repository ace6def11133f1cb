//! Wasmtime's WASI examples (wasi/main.rs, tokio/main.rs and wasi-async), written against
//! `wasmtime` and `wasmtime_wasi` with `use wasmjit as wasmtime` and
//! `use wasmjit_wasi as wasmtime_wasi`.

use wasmjit as wasmtime;
use wasmjit_wasi as wasmtime_wasi;

use wasmtime::{Config, Engine, Linker, Module, Result, Store};

/// A WASI command: writes "hello from wasi\n" to stdout with `fd_write`.
const WASI_HELLO: &str = r#"(module
    (import "wasi_snapshot_preview1" "fd_write"
        (func $fd_write (param i32 i32 i32 i32) (result i32)))
    (memory (export "memory") 1)
    (data (i32.const 16) "hello from wasi\n")
    (func (export "_start")
        (i32.store (i32.const 0) (i32.const 16))
        (i32.store (i32.const 4) (i32.const 16))
        (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#;

/// wasi/main.rs: a WASI command run through `Linker::module` and `get_default`, with the names
/// `wasmtime_wasi` gives (`p1`/`preview1`, `WasiP1Ctx`, `pipe`).
#[test]
fn wasi_command_through_the_linker() -> Result<()> {
    use wasmtime_wasi::p1::{self, WasiP1Ctx};
    use wasmtime_wasi::pipe::MemoryOutputPipe;
    use wasmtime_wasi::WasiCtxBuilder;

    let engine = Engine::default();
    let mut linker: Linker<WasiP1Ctx> = Linker::new(&engine);
    p1::add_to_linker_sync(&mut linker, |t| t)?;
    let stdout = MemoryOutputPipe::new(4096);
    let wasi = WasiCtxBuilder::new()
        .stdout(stdout.clone())
        .args(&["hello.wasm"])
        .build_p1();
    let mut store = Store::new(&engine, wasi);
    let module = Module::new(&engine, WASI_HELLO)?;
    linker.module(&mut store, "", &module)?;
    linker
        .get_default(&mut store, "")?
        .typed::<(), ()>(&store)?
        .call(&mut store, ())?;
    assert_eq!(stdout.contents(), b"hello from wasi\n");

    // A pipe holds at most its capacity: a write beyond it fails with ENOSPC (51).
    let small = MemoryOutputPipe::new(4);
    let wasi = WasiCtxBuilder::new().stdout(small.clone()).build_p1();
    let mut store = Store::new(&engine, wasi);
    let writer = Module::new(
        &engine,
        r#"(module
            (import "wasi_snapshot_preview1" "fd_write"
                (func $fd_write (param i32 i32 i32 i32) (result i32)))
            (memory (export "memory") 1)
            (data (i32.const 16) "abcdef")
            (func (export "write") (param i32) (result i32)
                (i32.store (i32.const 0) (i32.const 16))
                (i32.store (i32.const 4) (local.get 0))
                (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))"#,
    )?;
    let instance = linker.instantiate(&mut store, &writer)?;
    let write = instance.get_typed_func::<i32, i32>(&mut store, "write")?;
    assert_eq!(write.call(&mut store, 3)?, 0);
    assert_eq!(write.call(&mut store, 2)?, 51);
    assert_eq!(write.call(&mut store, 1)?, 0);
    drop(store);
    assert_eq!(small.try_into_inner().as_deref(), Some(&b"abca"[..]));
    Ok(())
}

/// tokio/main.rs and wasi-async: the same command in an async store, fuel yielding, on
/// tokio, with `preview1::add_to_linker_async` and `Linker::module_async`.
#[tokio::test]
async fn wasi_command_on_tokio() -> Result<()> {
    use wasmtime_wasi::preview1::{self, WasiP1Ctx};
    use wasmtime_wasi::{MemoryOutputPipe, WasiCtxBuilder};

    let mut config = Config::new();
    config.async_support(true);
    config.consume_fuel(true);
    let engine = Engine::new(&config)?;
    let module = Module::new(&engine, WASI_HELLO)?;
    let mut tasks = Vec::new();
    for _ in 0..3 {
        let (engine, module) = (engine.clone(), module.clone());
        tasks.push(tokio::task::spawn(async move {
            let mut linker: Linker<WasiP1Ctx> = Linker::new(&engine);
            preview1::add_to_linker_async(&mut linker, |t| t)?;
            let stdout = MemoryOutputPipe::new(4096);
            let wasi = WasiCtxBuilder::new().stdout(stdout.clone()).build_p1();
            let mut store = Store::new(&engine, wasi);
            store.set_fuel(u64::MAX)?;
            store.fuel_async_yield_interval(Some(10_000))?;
            let func = linker
                .module_async(&mut store, "", &module)
                .await?
                .get_default(&mut store, "")?
                .typed::<(), ()>(&store)?;
            func.call_async(&mut store, ()).await?;
            Ok::<_, wasmtime::Error>(stdout.contents())
        }));
    }
    for task in tasks {
        assert_eq!(task.await??, b"hello from wasi\n");
    }
    Ok(())
}
