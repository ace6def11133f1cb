//! Entering compiled code from the host: the stack limit, trap catching, and turning a caught
//! trap into an error with a wasm backtrace.

use crate::store::{PendingError, StoreOpaque};
use crate::trap::{FrameInfo, WasmBacktrace};
use crate::vm::code_registry;
use crate::vm::traphandlers::{catch_traps, TrapRecord};
use crate::vm::vmcontext::{VMContext, VMFuncRef, VMOpaqueContext, ValRaw};
use crate::Trap;
use anyhow::{anyhow, Result};
use std::cell::Cell;
use std::io::Write;
use wasmjit_environ::trap_codes::{self, TrapCode};

/// The array-call entry of a wasm function: `(callee_vmctx, caller_vmctx, wasm_call, values)`
/// (see the calling conventions in `wasmjit_environ`).
type ArrayToWasm =
    unsafe extern "C" fn(*mut VMOpaqueContext, *mut VMOpaqueContext, *const u8, *mut ValRaw);

/// The array-call entry of a host function: `(host_ctx, caller_vmctx or null, values,
/// len)`, true when the call returned normally.
pub(crate) type HostArrayCall =
    unsafe extern "C" fn(*mut VMOpaqueContext, *mut VMContext, *mut ValRaw, usize) -> bool;

/// An address in the caller's frame, close enough to its stack pointer.
#[inline(always)]
pub(crate) fn approximate_sp() -> usize {
    let marker = 0u8;
    std::hint::black_box(std::ptr::addr_of!(marker)) as usize
}

/// Calls the wasm function behind `funcref` with `values` as its argument/result buffer.
///
/// # Safety
/// `funcref` must be a wasm function of `store`, and `values` must hold at least
/// max(params, results) slots with the parameters in place, of the right types.
pub(crate) unsafe fn invoke_wasm(
    store: &mut StoreOpaque,
    funcref: *const VMFuncRef,
    values: *mut ValRaw,
) -> Result<()> {
    // SAFETY: the caller guarantees `funcref` is live.
    let f = unsafe { *funcref };
    let here = &f as *const VMFuncRef as usize;
    let outer = enter_stack(store, here);
    let exceptions = store
        .engine
        .config()
        .features
        .contains(wasmparser::WasmFeatures::EXCEPTIONS);
    // The store's first entry (none running or parked): the exception collector may scan the
    // stack up to it (see `vm::stack_scan`). Only engines with exceptions need to know.
    let outermost = exceptions && store.wasm_entries == 0;
    store.wasm_entries += 1;
    // SAFETY: `array_call` of a wasm funcref is an array-to-wasm trampoline with this signature.
    let entry: ArrayToWasm = unsafe { std::mem::transmute(f.array_call) };
    let signals = store.engine.config().signals_based_traps;
    let result = {
        let entry_call = &mut store.wasm_entry_call;
        let mut call = || {
            if outermost {
                // The exception collector scans the stack up to this call's entry.
                *entry_call = crate::vm::traphandlers::innermost_call();
            }
            // SAFETY: the trampoline reads params from and writes results to `values`, which
            // the caller sized; traps unwind back to `catch_traps`.
            unsafe { entry(f.vmctx, f.vmctx, f.wasm_call, values) }
        };
        // SAFETY: `call` runs compiled code that only leaves through return or a trap.
        // Nothing in it panics, but setting up the thread for traps may: the store's stack
        // state is restored either way.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe {
            catch_traps(signals, &mut call)
        }))
    };
    store.wasm_entries -= 1;
    if outermost {
        store.wasm_entry_call = 0;
    }
    leave_stack(store, outer);
    let result = result.unwrap_or_else(|payload| std::panic::resume_unwind(payload));
    if exceptions {
        // An exception no `try_table` caught returns through every wasm frame with the
        // exception pending (see the compiler's `translate/exceptions.rs`): it is this call's
        // `ThrownException`, and becomes the store's pending exception, for the host to take;
        // wasm's slot must be clear for the next call.
        let uncaught = store.take_wasm_pending_exception();
        let thrown = uncaught != 0 && result.is_ok();
        if thrown {
            store.exception_escaped(uncaught);
        } else if uncaught != 0 {
            store.drop_exception(uncaught);
        }
        if store.wasm_entries == 0 && !store.has_parked_calls() {
            // No wasm of the store runs any more, here or on a suspended fiber: the
            // exceptions it cannot reach can go.
            store.collect_exceptions();
        }
        if thrown {
            let backtrace = WasmBacktrace { frames: Vec::new() };
            return Err(anyhow::Error::new(crate::ThrownException).context(backtrace));
        }
    }
    result.map_err(|record| trap_to_error(store, record))
}

/// The stack limit in force before a host→wasm entry, restored when it returns.
struct OuterStack {
    limit: usize,
    owner: usize,
}

/// Stack that wasm leaves to host code below its limit (host functions, the trap path, the
/// switch of a fiber back to its poller): the limit is never lower than the bottom of the
/// stack wasm runs on plus this.
pub(crate) const HOST_STACK_HEADROOM: usize = 64 * 1024;

/// The stack the caller runs on: an identity, and the lowest address wasm may use on it
/// (see [`HOST_STACK_HEADROOM`]). On a fiber of the store, the fiber's context and its
/// stack's floor; otherwise the thread (the address of a thread-local, distinct for every
/// live thread) and the floor of its stack as the system reports it (0 when unknown).
#[inline]
fn current_stack(store: &StoreOpaque) -> (usize, usize) {
    thread_local!(static THREAD_FLOOR: Cell<usize> = const { Cell::new(usize::MAX) });
    if let Some(fiber) = store.current_fiber() {
        return (fiber as *const _ as usize, fiber.stack_floor());
    }
    let (thread, floor) =
        THREAD_FLOOR.with(|floor| (floor as *const Cell<usize> as usize, floor.get()));
    if floor == usize::MAX {
        return (thread, THREAD_FLOOR.with(init_thread_floor));
    }
    (thread, floor)
}

/// Asks the system for this thread's stack floor, once per thread. Out of line, so that the
/// entry's thread-local read stays a single load.
#[cold]
#[inline(never)]
fn init_thread_floor(floor: &Cell<usize>) -> usize {
    floor.set(thread_stack_start().map_or(0, |start| start + HOST_STACK_HEADROOM));
    floor.get()
}

/// The lowest usable address of this thread's stack (above its guard), if the system says
/// and what it says holds the caller's frame (an emulator or a foreign thread may report
/// something else).
fn thread_stack_start() -> Option<usize> {
    let here = approximate_sp();
    let mut attr = std::mem::MaybeUninit::<libc::pthread_attr_t>::uninit();
    // SAFETY: `pthread_getattr_np` initializes `attr` for the calling thread when it
    // returns 0; only then is it read and destroyed.
    unsafe {
        if libc::pthread_getattr_np(libc::pthread_self(), attr.as_mut_ptr()) != 0 {
            return None;
        }
        let mut addr = std::ptr::null_mut();
        let mut size = 0;
        let got = libc::pthread_attr_getstack(attr.as_ptr(), &mut addr, &mut size);
        libc::pthread_attr_destroy(attr.as_mut_ptr());
        let start = addr as usize;
        let holds_here = start < here && here - start < size;
        (got == 0 && holds_here).then_some(start)
    }
}

/// Sets the store's stack limit for wasm entered at stack address `here`.
///
/// An entry nested in wasm on the same stack (wasm → host → wasm) keeps the limit already
/// set, so all the wasm on one stack shares one `max_wasm_stack`. Any other entry sets
/// `here - max_wasm_stack`: the first on a stack, and one made on another stack than the
/// limit's (a `Caller` handed to another thread, a fiber started from a host function). The
/// limit never goes below the stack's floor, which leaves room for host code: a thread's or
/// fiber's stack may be smaller than `max_wasm_stack`, and an embedder's fiber stack may
/// have no guard page at all.
#[inline]
fn enter_stack(store: &mut StoreOpaque, here: usize) -> OuterStack {
    let limits = &*store.limits;
    // SAFETY: the limits are only touched by the thread that has the store.
    let limit = unsafe { *limits.stack_limit.get() };
    let outer = OuterStack {
        limit,
        owner: store.stack_owner,
    };
    let (owner, floor) = current_stack(store);
    if limit == usize::MAX || owner != store.stack_owner {
        let new = here
            .saturating_sub(store.engine.config().max_wasm_stack)
            .max(floor);
        // SAFETY: as above.
        unsafe { *limits.stack_limit.get() = new };
        store.stack_owner = owner;
    }
    outer
}

/// Restores the stack limit `enter_stack` replaced.
#[inline]
fn leave_stack(store: &mut StoreOpaque, outer: OuterStack) {
    // SAFETY: the limits are only touched by the thread that has the store.
    unsafe { *store.limits.stack_limit.get() = outer.limit };
    store.stack_owner = outer.owner;
}

/// Calls a host function's array entry directly (no wasm in between).
///
/// # Safety
/// `funcref` must be a host function of `store`; `values` sized as for `invoke_wasm`.
pub(crate) unsafe fn invoke_host(
    store: &mut StoreOpaque,
    funcref: *const VMFuncRef,
    values: *mut ValRaw,
    len: usize,
) -> Result<()> {
    // SAFETY: the caller guarantees `funcref` is live and a host function's.
    let f = unsafe { *funcref };
    // SAFETY: `array_call` of a host funcref has the host array signature.
    let entry: HostArrayCall = unsafe { std::mem::transmute(f.array_call) };
    // SAFETY: a null caller vmctx means "called from the host".
    let ok = unsafe { entry(f.vmctx, std::ptr::null_mut(), values, len) };
    if ok {
        return Ok(());
    }
    match store.pending_error.take() {
        Some(PendingError::Error(e)) => Err(e),
        Some(PendingError::Panic(p)) => std::panic::resume_unwind(p),
        None => Err(anyhow!("host function failed without an error")),
    }
}

/// Turns what the trap handler recorded into the error the caller sees.
///
/// A trap is either raised by compiled code itself, with its code (code compiled without
/// signals-based traps), at a trap site of the compiled code (the instruction carries its trap
/// code: trap instructions, heap accesses, divisions, the stack-limit check of every
/// prologue), or a fault of the stack itself: code that runs on a stack smaller than
/// `max_wasm_stack` (a thread's, or a fiber's when `async_stack_size` leaves no room) may
/// reach its guard page before the limit check fires. Anything else means compiled code or
/// the runtime is broken, and reporting it as a wasm trap would hide that: abort.
fn trap_to_error(store: &mut StoreOpaque, record: TrapRecord) -> anyhow::Error {
    let code = record
        .raised
        .or_else(|| code_registry::lookup(record.pc).and_then(|c| c.trap_code(record.pc)));
    let backtrace = backtrace(store, &record);
    let trap = match code {
        Some(trap_codes::HOST_ERROR) => match store.pending_error.take() {
            Some(PendingError::Error(e)) => return e.context(backtrace),
            Some(PendingError::Panic(p)) => std::panic::resume_unwind(p),
            None => Trap::UnreachableCodeReached,
        },
        Some(trap_codes::BUILTIN_TRAP) => {
            // A builtin's failure: an error (a limiter's, a failed yield), a panic of the
            // embedder code it ran (resumed here, once the wasm frames are gone), or a trap.
            match store.pending_error.take() {
                Some(PendingError::Error(e)) => return e.context(backtrace),
                Some(PendingError::Panic(p)) => std::panic::resume_unwind(p),
                None => {}
            }
            store
                .pending_trap
                .take()
                .unwrap_or(Trap::UnreachableCodeReached)
        }
        Some(TrapCode::HEAP_OUT_OF_BOUNDS) => {
            // A bounds check traps without a fault address; a fault must be in the reservation
            // or guard of one of the store's memories, the only memory such an access reaches.
            if let Some(addr) = record.fault_addr {
                if !store.memories.iter().any(|m| m.contains_addr(addr)) {
                    internal_error(&record, "a heap access faulted outside every linear memory");
                }
            }
            Trap::MemoryOutOfBounds
        }
        Some(code) => trap_codes::to_trap(code).unwrap_or(Trap::UnreachableCodeReached),
        None if record.stack_fault => Trap::StackOverflow,
        None => internal_error(&record, "compiled code faulted where it has no trap site"),
    };
    anyhow::Error::new(trap).context(backtrace)
}

/// Reports a fault that no wasm program can cause, and aborts.
#[cold]
fn internal_error(record: &TrapRecord, what: &str) -> ! {
    let fault_addr = record
        .fault_addr
        .map_or_else(|| "none".to_string(), |a| format!("{a:#x}"));
    // Straight to the stream, not `eprintln!`, which a test harness may capture and lose in
    // the abort.
    let _ = writeln!(
        std::io::stderr(),
        "wasmjit: internal error: {what} (signal {}, pc {:#x}, fault address {fault_addr})",
        record.signal,
        record.pc
    );
    std::process::abort()
}

fn backtrace(store: &StoreOpaque, record: &TrapRecord) -> WasmBacktrace {
    let mut frames = Vec::new();
    for (i, &pc) in record.backtrace.iter().enumerate() {
        // Return addresses point after the call; look up the call itself.
        let lookup_pc = if i == 0 { pc } else { pc - 1 };
        let Some(info) = code_registry::lookup(lookup_pc).and_then(|c| c.pc_info(lookup_pc)) else {
            continue;
        };
        if let Some(func_index) = info.func_index {
            // The frame's module: one of the store's instances has it (wasm of a store only
            // ever calls wasm of the same store).
            let Some(module) = store
                .instance_modules
                .iter()
                .find(|m| std::sync::Arc::as_ptr(&m.inner.code.lookup) as usize == info.code_id)
                .cloned()
            else {
                continue;
            };
            frames.push(FrameInfo {
                module,
                func_index,
                func_name: info.func_name,
                module_name: info.module_name,
                module_offset: info.wasm_offset.map(|o| o as usize),
                func_offset: info
                    .wasm_offset
                    .zip(info.body_start)
                    .and_then(|(at, start)| at.checked_sub(start))
                    .map(|o| o as usize),
            });
        }
    }
    WasmBacktrace { frames }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vm::code_registry::{CodeInfo, PcInfo};
    use crate::vm::traphandlers::tests::{is_child, run_test_in_child};
    use crate::{Engine, Instance, Module, Store};
    use std::os::unix::process::ExitStatusExt;
    use std::sync::Arc;

    /// Code whose every PC is a trap site of one code.
    struct AllTrap(TrapCode);

    impl CodeInfo for AllTrap {
        fn trap_code(&self, _pc: usize) -> Option<TrapCode> {
            Some(self.0)
        }
        fn pc_info(&self, _pc: usize) -> Option<PcInfo> {
            None
        }
    }

    /// A store with one instance and its 1-page memory (4 GiB reservation), and the address
    /// of that memory.
    fn store_with_memory() -> (Store<()>, usize) {
        let engine = Engine::default();
        let module = Module::new(&engine, "(module (memory 1))").unwrap();
        let mut store = Store::new(&engine, ());
        Instance::new(&mut store, &module, &[]).unwrap();
        let base = store.inner.opaque.memories[0].base() as usize;
        (store, base)
    }

    fn record(pc: usize, fault_addr: Option<usize>, stack_fault: bool) -> TrapRecord {
        TrapRecord {
            signal: libc::SIGSEGV,
            pc,
            fault_addr,
            stack_fault,
            raised: None,
            backtrace: vec![pc],
        }
    }

    fn trap_of(error: &anyhow::Error) -> Trap {
        *error.downcast_ref::<Trap>().expect("a trap")
    }

    /// Registers `code` as compiled code whose every byte is a heap-access trap site, for as
    /// long as the returned registration lives; returns its start address too.
    fn heap_trap_code(code: &[u8]) -> (usize, code_registry::CodeRegistration) {
        let start = code.as_ptr() as usize;
        let info = Arc::new(AllTrap(TrapCode::HEAP_OUT_OF_BOUNDS));
        (
            start,
            code_registry::register(start, start + code.len(), info),
        )
    }

    #[test]
    fn faults_that_wasm_can_cause_are_traps() {
        let (mut store, base) = store_with_memory();
        let code = [0u8; 16];
        let (start, _heap) = heap_trap_code(&code);
        // Past the memory's page, inside its reservation.
        let oob = record(start, Some(base + 0x1_0000), false);
        let error = trap_to_error(&mut store.inner.opaque, oob);
        assert_eq!(trap_of(&error), Trap::MemoryOutOfBounds);
        // No trap site, but the fault is on the trapping stack: a guard page.
        let unregistered = 1; // no code there
        let error = trap_to_error(
            &mut store.inner.opaque,
            record(unregistered, Some(0x1000), true),
        );
        assert_eq!(trap_of(&error), Trap::StackOverflow);
    }

    /// Runs `test` in a child and checks that it aborted saying `message`.
    fn expect_internal_error(test: &str, message: &str) {
        let Some(output) = run_test_in_child(module_path!(), test) else {
            return;
        };
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.signal(), Some(libc::SIGABRT), "{stderr}");
        assert!(
            stderr.contains(&format!("wasmjit: internal error: {message}")),
            "{stderr}"
        );
    }

    #[test]
    fn fault_without_trap_site_off_the_stack_aborts() {
        const NAME: &str = "fault_without_trap_site_off_the_stack_aborts";
        if is_child(NAME) {
            let (mut store, _) = store_with_memory();
            let unregistered = 1; // no code there
            let _ = trap_to_error(
                &mut store.inner.opaque,
                record(unregistered, Some(0x1000), false),
            );
            std::process::exit(0);
        }
        expect_internal_error(NAME, "compiled code faulted where it has no trap site");
    }

    #[test]
    fn heap_fault_outside_every_memory_aborts() {
        const NAME: &str = "heap_fault_outside_every_memory_aborts";
        if is_child(NAME) {
            let (mut store, _) = store_with_memory();
            let code = [0u8; 16];
            let (start, _heap) = heap_trap_code(&code);
            let outside = code.as_ptr() as usize; // not in any memory's reservation
            let _ = trap_to_error(&mut store.inner.opaque, record(start, Some(outside), false));
            std::process::exit(0);
        }
        expect_internal_error(NAME, "a heap access faulted outside every linear memory");
    }
}
