//! Host functions reading and writing the caller's memory, the way Wasmtime embedders (and
//! WASI-like shims) write them.

use wasmjit as wasmtime;

use wasmtime::{
    AsContextMut, Caller, Engine, Extern, Linker, Memory, Module, Store, StoreContextMut,
};

#[derive(Default)]
struct Buffers {
    out: Vec<u8>,
    input: Vec<u8>,
}

fn memory_of(caller: &mut Caller<'_, Buffers>) -> wasmtime::Result<Memory> {
    match caller.get_export("memory") {
        Some(Extern::Memory(m)) => Ok(m),
        _ => anyhow::bail!("failed to find host memory"),
    }
}

// A helper that works on any context, as embedders write for shared code.
fn write_bytes(mut cx: StoreContextMut<'_, Buffers>, mem: Memory, at: usize) -> usize {
    let (bytes, state) = mem.data_and_store_mut(&mut cx);
    let n = state.input.len();
    bytes[at..at + n].copy_from_slice(&state.input);
    state.input.clear();
    n
}

#[test]
fn host_functions_use_the_callers_memory() -> wasmtime::Result<()> {
    let engine = Engine::default();
    let mut linker: Linker<Buffers> = Linker::new(&engine);
    linker.func_wrap(
        "env",
        "write",
        |mut caller: Caller<'_, Buffers>, ptr: u32, len: u32| -> wasmtime::Result<u32> {
            let mem = memory_of(&mut caller)?;
            let (data, state) = mem.data_and_store_mut(&mut caller);
            let slice = data
                .get(ptr as usize..(ptr + len) as usize)
                .ok_or_else(|| anyhow::anyhow!("pointer/length out of bounds"))?;
            state.out.extend_from_slice(slice);
            Ok(len)
        },
    )?;
    linker.func_wrap(
        "env",
        "read",
        |mut caller: Caller<'_, Buffers>, ptr: u32| -> wasmtime::Result<u32> {
            let mem = memory_of(&mut caller)?;
            let n = write_bytes(caller.as_context_mut(), mem, ptr as usize);
            // data_mut through the caller, too.
            mem.data_mut(&mut caller)[ptr as usize + n] = b'!';
            Ok(n as u32 + 1)
        },
    )?;
    let module = Module::new(
        &engine,
        r#"(module
            (import "env" "write" (func $write (param i32 i32) (result i32)))
            (import "env" "read" (func $read (param i32) (result i32)))
            (memory (export "memory") 1)
            (data (i32.const 100) "output text")
            (func (export "echo") (result i32)
              (call $write (i32.const 100) (i32.const 11))
              drop
              (call $write (i32.const 200) (call $read (i32.const 200))))
            (func (export "bad") (result i32)
              (call $write (i32.const 65530) (i32.const 100))))"#,
    )?;
    let mut store = Store::new(&engine, Buffers::default());
    store.data_mut().input = b"input".to_vec();
    let instance = linker.instantiate(&mut store, &module)?;
    let echo = instance.get_typed_func::<(), i32>(&mut store, "echo")?;
    assert_eq!(echo.call(&mut store, ())?, 6);
    assert_eq!(store.data().out, b"output textinput!");
    let bad = instance.get_typed_func::<(), i32>(&mut store, "bad")?;
    let err = bad.call(&mut store, ()).unwrap_err();
    assert!(format!("{err:?}").contains("out of bounds"), "{err:?}");
    // The memory is the same object from the outside.
    let mem = instance.get_memory(&mut store, "memory").unwrap();
    assert_eq!(&mem.data(&store)[200..206], b"input!");
    Ok(())
}
