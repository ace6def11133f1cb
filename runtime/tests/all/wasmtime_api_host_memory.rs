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

/// Memories allocated by the embedder (`Config::with_host_memory`), written as for Wasmtime.
mod host_allocated {
    use super::wasmtime;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    use wasmtime::{Config, Engine, Instance, LinearMemory, MemoryCreator, Module, Store, Trap};

    /// A reservation of address space, made accessible as the memory grows.
    struct Reserved {
        base: *mut u8,
        mapped: usize,
        size: usize,
        capacity: usize,
    }

    // SAFETY: the mapping is owned by this value and used only through it.
    unsafe impl Send for Reserved {}
    // SAFETY: as above; shared references only read the fields.
    unsafe impl Sync for Reserved {}

    impl Drop for Reserved {
        fn drop(&mut self) {
            // SAFETY: the mapping was made by `new_memory` with this length.
            unsafe { libc::munmap(self.base.cast(), self.mapped) };
        }
    }

    // SAFETY: zeroed anonymous memory, never moving, with the guard left inaccessible.
    unsafe impl LinearMemory for Reserved {
        fn byte_size(&self) -> usize {
            self.size
        }
        fn byte_capacity(&self) -> usize {
            self.capacity
        }
        fn grow_to(&mut self, new_size: usize) -> wasmtime::Result<()> {
            wasmtime::ensure!(new_size <= self.capacity, "out of reservation");
            // SAFETY: the range lies in the mapping.
            let r = unsafe {
                libc::mprotect(
                    self.base.cast(),
                    new_size,
                    libc::PROT_READ | libc::PROT_WRITE,
                )
            };
            wasmtime::ensure!(r == 0, "mprotect failed");
            self.size = new_size;
            Ok(())
        }
        fn as_ptr(&self) -> *mut u8 {
            self.base
        }
    }

    /// A memory in a vector, moved to a larger one when it grows (no reservation).
    struct Moving(Vec<u8>);

    // SAFETY: the vector's bytes are zeroed when added and used only through this value.
    unsafe impl LinearMemory for Moving {
        fn byte_size(&self) -> usize {
            self.0.len()
        }
        fn byte_capacity(&self) -> usize {
            self.0.len()
        }
        fn grow_to(&mut self, new_size: usize) -> wasmtime::Result<()> {
            let mut bigger = vec![0u8; new_size];
            bigger[..self.0.len()].copy_from_slice(&self.0);
            self.0 = bigger;
            Ok(())
        }
        fn as_ptr(&self) -> *mut u8 {
            self.0.as_ptr().cast_mut()
        }
    }

    /// What `new_memory` was asked: minimum, maximum, reservation, guard.
    type Request = (usize, Option<usize>, Option<usize>, usize);

    #[derive(Default)]
    struct Creator {
        made: AtomicUsize,
        asked: Mutex<Vec<Request>>,
    }

    // SAFETY: makes memories that keep `LinearMemory`'s promises (see each).
    unsafe impl MemoryCreator for Creator {
        fn new_memory(
            &self,
            ty: wasmtime::MemoryType,
            minimum: usize,
            maximum: Option<usize>,
            reserved: Option<usize>,
            guard: usize,
        ) -> Result<Box<dyn LinearMemory>, String> {
            assert_eq!(minimum as u64, ty.minimum() * 65536);
            self.made.fetch_add(1, Ordering::SeqCst);
            self.asked
                .lock()
                .unwrap()
                .push((minimum, maximum, reserved, guard));
            let Some(reserved) = reserved else {
                return Ok(Box::new(Moving(vec![0; minimum])));
            };
            let mapped = reserved + guard;
            // SAFETY: a fresh anonymous mapping, inaccessible until committed.
            let base = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    mapped,
                    libc::PROT_NONE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                    -1,
                    0,
                )
            };
            if base == libc::MAP_FAILED {
                return Err("mmap failed".into());
            }
            let mut memory = Reserved {
                base: base.cast(),
                mapped,
                size: 0,
                capacity: reserved,
            };
            memory.grow_to(minimum).map_err(|e| e.to_string())?;
            Ok(Box::new(memory))
        }
    }

    const WAT: &str = r#"(module
        (memory (export "m") 1 4)
        (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
        (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
        (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#;

    fn run(config: &mut Config) -> wasmtime::Result<Arc<Creator>> {
        let creator = Arc::new(Creator::default());
        config.with_host_memory(creator.clone());
        let engine = Engine::new(config)?;
        let module = Module::new(&engine, WAT)?;
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[])?;
        let load = instance.get_typed_func::<i32, i32>(&mut store, "load")?;
        let store_ = instance.get_typed_func::<(i32, i32), ()>(&mut store, "store")?;
        let grow = instance.get_typed_func::<i32, i32>(&mut store, "grow")?;
        let memory = instance.get_memory(&mut store, "m").unwrap();
        store_.call(&mut store, (65532, 0x1234_5678))?;
        assert_eq!(load.call(&mut store, 65532)?, 0x1234_5678);
        assert_eq!(
            memory.data(&store)[65532],
            0x78,
            "wasm used the host's bytes"
        );
        let err = load.call(&mut store, 65534).unwrap_err();
        assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::MemoryOutOfBounds));
        assert_eq!(grow.call(&mut store, 2)?, 1);
        assert_eq!(
            load.call(&mut store, 65532)?,
            0x1234_5678,
            "kept across growth"
        );
        store_.call(&mut store, (3 * 65536 - 4, 9))?;
        assert_eq!(memory.data_size(&store), 3 * 65536);
        assert_eq!(grow.call(&mut store, 2)?, -1, "past the maximum");
        let err = load.call(&mut store, 3 * 65536).unwrap_err();
        assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::MemoryOutOfBounds));
        // Memories made from the host side come from the creator too.
        wasmtime::Memory::new(&mut store, wasmtime::MemoryType::new(2, None))?;
        assert_eq!(creator.made.load(Ordering::SeqCst), 2);
        Ok(creator)
    }

    #[test]
    fn static_memories_get_a_reservation_and_a_guard() -> wasmtime::Result<()> {
        let creator = run(Config::new().memory_guard_size(1 << 16))?;
        let asked = creator.asked.lock().unwrap();
        assert_eq!(asked[0], (65536, Some(4 * 65536), Some(1 << 32), 1 << 16));
        Ok(())
    }

    #[test]
    fn dynamic_memories_may_move() -> wasmtime::Result<()> {
        let creator = run(Config::new().memory_reservation(1 << 20))?;
        let asked = creator.asked.lock().unwrap();
        assert_eq!(asked[0], (65536, Some(4 * 65536), None, 0));
        Ok(())
    }
}
