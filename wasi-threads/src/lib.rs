//! wasi-threads: the `wasi` module's `thread-spawn` import, for programs built for
//! `wasm32-wasip1-threads` (as `wasmtime-wasi-threads` is for Wasmtime).
//!
//! A program imports one shared memory; [`add_to_linker`] creates it and defines
//! `thread-spawn`. Each spawned thread is a host thread with a [`Store`] of its own, holding a
//! clone of the spawning store's data, and a new instance of the same module importing the
//! same memory, whose `wasi_thread_start(tid, start_arg)` export it calls. The host data is
//! cloned, so whatever the threads share (the WASI context:
//! [`wasmjit_wasi::add_to_linker_shared`]) lives behind an `Arc` in it.
//!
//! Thread ids are as the proposal specifies: from 1 up, each used once, below 2^29; when
//! they run out, or a host thread cannot be started, `thread-spawn` returns -1.
//!
//! A spawned thread that calls `proc_exit(n)` ends the whole process with status `n`; one
//! that traps ends it with status 1 after printing the error, as Wasmtime's CLI does. This
//! suits a command-line runner (`wasmjit run -S threads`), not an embedding that must
//! outlive its guest.

use anyhow::{bail, Context as _, Result};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use wasmjit::{Caller, ExternType, InstancePre, Linker, Module, SharedMemory, Store, ValType};
use wasmjit_wasi::I32Exit;

/// The import module and name of the spawn function.
pub const SPAWN_MODULE: &str = "wasi";
/// The import name of the spawn function (wasi-libc's spelling since 2023).
pub const SPAWN_NAME: &str = "thread-spawn";
/// The export each new thread starts in, taking `(tid, start_arg)`.
pub const ENTRY_POINT: &str = "wasi_thread_start";
/// The largest thread id: the proposal keeps ids below 2^29 (wasi-libc packs them into its
/// mutexes' owner words).
pub const MAX_THREAD_ID: i32 = (1 << 29) - 1;

/// Prepares each new thread's store before the instance is made (fuel, epoch deadline).
type StoreSetup<T> = dyn Fn(&mut Store<T>) -> Result<()> + Send + Sync;

/// What `thread-spawn` needs: the module with its imports resolved, and the next id.
pub struct WasiThreadsCtx<T> {
    instance_pre: InstancePre<T>,
    next_id: AtomicI32,
    setup: Option<Box<StoreSetup<T>>>,
}

impl<T: Clone + Send + 'static> WasiThreadsCtx<T> {
    /// A context spawning instances of `module` linked by `linker` (which must hold
    /// `thread-spawn` and the shared memory: see [`add_to_linker`]). Fails when the module
    /// does not export `wasi_thread_start` as `(i32, i32) -> ()`.
    pub fn new(module: Module, linker: Arc<Linker<T>>) -> Result<Self> {
        let entry = module.get_export(ENTRY_POINT);
        let ok = entry.as_ref().and_then(ExternType::func).is_some_and(|f| {
            let params: Vec<ValType> = f.params().collect();
            matches!(params[..], [ValType::I32, ValType::I32]) && f.results().len() == 0
        });
        if !ok {
            bail!(
                "a wasi-threads module must export `{ENTRY_POINT}` as a function (i32, i32) -> ()"
            );
        }
        let instance_pre = linker.instantiate_pre(&module)?;
        Ok(Self {
            instance_pre,
            next_id: AtomicI32::new(1),
            setup: None,
        })
    }

    /// Runs `setup` on every new thread's store before instantiating in it (to give it
    /// fuel or an epoch deadline, as the first thread's store has).
    pub fn with_store_setup(
        mut self,
        setup: impl Fn(&mut Store<T>) -> Result<()> + Send + Sync + 'static,
    ) -> Self {
        self.setup = Some(Box::new(setup));
        self
    }

    /// The next thread id, or `None` once every id has been given out.
    fn next_thread_id(&self) -> Option<i32> {
        self.next_id
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |id| {
                (id <= MAX_THREAD_ID).then_some(id + 1)
            })
            .ok()
    }

    /// Starts a thread running `wasi_thread_start(tid, start_arg)` in a new store holding
    /// `host`; returns its id.
    pub fn spawn(self: &Arc<Self>, host: T, start_arg: i32) -> Result<i32> {
        let Some(tid) = self.next_thread_id() else {
            bail!("no thread ids left (at most {MAX_THREAD_ID})");
        };
        let ctx = self.clone();
        std::thread::Builder::new()
            .name(format!("wasi-thread-{tid}"))
            .spawn(move || {
                if let Err(err) = ctx.run_thread(host, tid, start_arg) {
                    exit_for(tid, err);
                }
            })
            .context("cannot start a host thread")?;
        Ok(tid)
    }

    fn run_thread(&self, host: T, tid: i32, start_arg: i32) -> Result<()> {
        let engine = self.instance_pre.module().engine();
        let mut store = Store::new(engine, host);
        if let Some(setup) = &self.setup {
            setup(&mut store)?;
        }
        let instance = self.instance_pre.instantiate(&mut store)?;
        let entry = instance.get_typed_func::<(i32, i32), ()>(&mut store, ENTRY_POINT)?;
        entry.call(&mut store, (tid, start_arg))
    }
}

/// Ends the process for a thread whose start function failed: with the guest's status for
/// `proc_exit`, else with 1 after printing the error.
fn exit_for(tid: i32, err: anyhow::Error) -> ! {
    if let Some(exit) = err.downcast_ref::<I32Exit>() {
        std::process::exit(exit.0);
    }
    // The chain of messages (trap, wasm backtrace), without a Rust backtrace.
    let mut message = format!("Error: wasi-thread-{tid} failed:");
    for cause in err.chain() {
        message.push('\n');
        message.push_str(cause.to_string().trim_end());
    }
    eprintln!("{message}");
    std::process::exit(1);
}

/// Defines `wasi::thread-spawn` in `linker`, creates the shared memory `module` imports and
/// defines it under its import name; returns the memory. `get_cx` finds the
/// [`WasiThreadsCtx`] in the store's data (`None` until the embedder has put it there, after
/// making it from the finished linker: `thread-spawn` then fails with -1).
pub fn add_to_linker<T: Clone + Send + 'static>(
    linker: &mut Linker<T>,
    store: &Store<T>,
    module: &Module,
    get_cx: impl Fn(&T) -> Option<&Arc<WasiThreadsCtx<T>>> + Send + Sync + 'static,
) -> Result<SharedMemory> {
    linker.func_wrap(
        SPAWN_MODULE,
        SPAWN_NAME,
        move |caller: Caller<'_, T>, start_arg: i32| -> i32 {
            let host = caller.data().clone();
            match get_cx(&host).map(|cx| cx.spawn(host.clone(), start_arg)) {
                Some(Ok(tid)) => tid,
                // The proposal's error: any negative value.
                Some(Err(_)) | None => -1,
            }
        },
    )?;
    let mut shared = module.imports().filter_map(|import| match import.ty() {
        ExternType::Memory(ty) if ty.is_shared() => Some((import, ty)),
        _ => None,
    });
    let Some((import, ty)) = shared.next() else {
        bail!("a wasi-threads module must import a shared memory");
    };
    let memory = SharedMemory::new(module.engine(), ty)?;
    linker.define(store, import.module(), import.name(), memory.clone())?;
    Ok(memory)
}
