//! The runtime functions compiled code calls through `VMContext::BUILTINS`
//! (see `wasmjit_environ::builtins` for the list, which declares the table and signatures).
//!
//! A builtin that fails records its trap in the store and returns its trap value (0, or
//! `GROW_TRAPPED` for the grow builtins); the compiled code then traps with `BUILTIN_TRAP`.
//! A builtin must never unwind into compiled code: each body runs under `catch_unwind`. Some
//! run embedder code (the resource limiter, the epoch deadline callback, the waker of an
//! async yield), which may panic: the payload is kept in the store as a pending panic, the
//! builtin returns its trap value, and the panic resumes in the caller of the call once the
//! wasm frames are gone (`vm::call`). The builtins that return no status run no embedder
//! code; a panic there is a broken runtime invariant and aborts with a message.

use crate::limits::GrowError;
use crate::store::{PendingError, StoreOpaque};
use crate::tag::ExceptionData;
use crate::vm::instance::{instance_of, store_of};
// The entry compiled code calls; its body is the architecture's (`traphandlers`).
use crate::vm::parking_lot::WaitResult;
use crate::vm::shared_memory::check_atomic_addr;
use crate::vm::traphandlers::raise_trap;
use crate::vm::vmcontext::{VMContext, ValRaw};
use crate::Trap;
use std::time::Duration;
use wasmjit_environ::builtins::{Builtin, ATOMIC_TRAPPED, GROW_TRAPPED};

/// The runtime's type for a parameter or result kind of the builtin list.
macro_rules! builtin_host_type {
    (vmctx) => { *mut VMContext };
    (u32) => { u32 };
    (u64) => { u64 };
    (vals) => { *mut ValRaw };
}

/// Declares the table type and its one instance from the builtin list. Each field is the
/// function of the same name in this module, so a body whose signature disagrees with the list
/// does not compile.
macro_rules! builtin_table {
    ($( $(#[$doc:meta])* $name:ident($($param:ident: $kind:ident),*) $(-> $result:ident)?; )*) => {
        /// The table of builtins, in the list's order.
        #[repr(C)]
        pub(crate) struct BuiltinTable {
            $(
                $(#[$doc])*
                $name: unsafe extern "C" fn($(builtin_host_type!($kind)),*)
                    $(-> builtin_host_type!($result))?,
            )*
        }

        /// The one builtin table every `VMContext` points to.
        pub(crate) static BUILTINS: BuiltinTable = BuiltinTable { $($name,)* };
    };
}

wasmjit_environ::foreach_builtin!(builtin_table);

const _: () = assert!(std::mem::size_of::<BuiltinTable>() == Builtin::COUNT * 8);

/// Runs a builtin body with its instance and store, catching a panic.
///
/// # Safety
/// `vmctx` must be the context of a live instance whose store is not otherwise borrowed.
unsafe fn run_builtin<R>(
    vmctx: *mut VMContext,
    f: impl FnOnce(&mut StoreOpaque, usize) -> R,
) -> std::thread::Result<R> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: the caller passes a live vmctx; compiled code is the only user of the store
        // while it runs, and it is suspended in this call. Only the instance's index is taken
        // from it, so the store is the one borrow of the instance.
        let (store, index) = unsafe { (store_of(vmctx), instance_of(vmctx).index) };
        f(store, index)
    }))
}

/// Runs a builtin body with its instance and store. A panic in it (embedder code the body
/// ran) becomes the store's pending panic and the builtin returns `trapped`, its trap value.
///
/// # Safety
/// As [`run_builtin`].
unsafe fn with_instance<R>(
    vmctx: *mut VMContext,
    trapped: R,
    f: impl FnOnce(&mut StoreOpaque, usize) -> R,
) -> R {
    // SAFETY: forwarded from the caller.
    match unsafe { run_builtin(vmctx, f) } {
        Ok(r) => r,
        Err(payload) => {
            // SAFETY: as above; the body's borrow of the store ended with its unwinding.
            let store = unsafe { store_of(vmctx) };
            store.pending_error = Some(PendingError::Panic(payload));
            trapped
        }
    }
}

/// [`with_instance`] for the builtins that return no status, and so cannot trap: they run
/// no embedder code, so a panic is a runtime bug, and the process aborts with a message
/// rather than unwind into compiled code.
///
/// # Safety
/// As [`run_builtin`].
unsafe fn with_instance_no_trap<R>(
    vmctx: *mut VMContext,
    builtin: &str,
    f: impl FnOnce(&mut StoreOpaque, usize) -> R,
) -> R {
    // SAFETY: forwarded from the caller.
    match unsafe { run_builtin(vmctx, f) } {
        Ok(r) => r,
        Err(_) => {
            eprintln!("wasmjit: internal error: the runtime builtin `{builtin}` panicked");
            std::process::abort();
        }
    }
}

fn fail(pending: &mut Option<Trap>, trap: Trap) -> u32 {
    *pending = Some(trap);
    0
}

/// The result of `memory.grow`/`table.grow`: the old size, -1 when refused, or
/// `GROW_TRAPPED` with the limiter's error pending (the compiled code then traps).
fn grow_result(store: &mut StoreOpaque, grown: Result<u64, GrowError>) -> u64 {
    match grown {
        Ok(old) => old,
        Err(GrowError { trap: false, .. }) => u64::MAX,
        Err(GrowError { error, trap: true }) => {
            store.pending_error = Some(PendingError::Error(error));
            GROW_TRAPPED
        }
    }
}

fn in_bounds(start: u64, len: u64, size: u64) -> bool {
    start.checked_add(len).is_some_and(|end| end <= size)
}

unsafe extern "C" fn memory_grow(vmctx: *mut VMContext, mem: u32, delta: u64) -> u64 {
    // SAFETY: called by compiled code with its own vmctx.
    unsafe {
        with_instance(vmctx, GROW_TRAPPED, |store, i| {
            let mi = store.instances[i].memories[mem as usize];
            let grown = store.grow_memory(mi, delta);
            grow_result(store, grown)
        })
    }
}

unsafe extern "C" fn memory_fill(
    vmctx: *mut VMContext,
    mem: u32,
    dst: u64,
    byte: u32,
    len: u64,
) -> u32 {
    // SAFETY: called by compiled code with its own vmctx.
    unsafe {
        with_instance(vmctx, 0, |store, i| {
            let mi = store.instances[i].memories[mem as usize];
            let (base, size) = store.memories[mi].raw();
            if !in_bounds(dst, len, size as u64) {
                return fail(&mut store.pending_trap, Trap::MemoryOutOfBounds);
            }
            // SAFETY: `dst..dst + len` lies within the memory's accessible bytes (checked).
            // Memories are written through raw pointers, not slices: a shared one may be
            // written by other threads meanwhile, as wasm's own stores may.
            std::ptr::write_bytes(base.add(dst as usize), byte as u8, len as usize);
            1
        })
    }
}

unsafe extern "C" fn memory_copy(
    vmctx: *mut VMContext,
    dst_mem: u32,
    dst: u64,
    src_mem: u32,
    src: u64,
    len: u64,
) -> u32 {
    // SAFETY: called by compiled code with its own vmctx.
    unsafe {
        with_instance(vmctx, 0, |store, i| {
            let inst = &store.instances[i];
            let (di, si) = (
                inst.memories[dst_mem as usize],
                inst.memories[src_mem as usize],
            );
            let (to, dlen) = store.memories[di].raw();
            let (from, slen) = store.memories[si].raw();
            if !in_bounds(dst, len, dlen as u64) || !in_bounds(src, len, slen as u64) {
                return fail(&mut store.pending_trap, Trap::MemoryOutOfBounds);
            }
            // SAFETY: both ranges lie within their memories' accessible bytes (checked);
            // `copy` allows them to overlap (the same memory).
            std::ptr::copy(from.add(src as usize), to.add(dst as usize), len as usize);
            1
        })
    }
}

unsafe extern "C" fn memory_init(
    vmctx: *mut VMContext,
    mem: u32,
    data: u32,
    dst: u64,
    src: u32,
    len: u32,
) -> u32 {
    // SAFETY: called by compiled code with its own vmctx.
    unsafe {
        with_instance(vmctx, 0, |store, i| {
            let inst = &store.instances[i];
            let info = &inst.module.inner.info;
            let range = if inst.data_dropped[data as usize] {
                0..0
            } else {
                info.data[data as usize].data.clone()
            };
            let bytes = &info.wasm[range];
            let (base, size) = store.memories[inst.memories[mem as usize]].raw();
            if !in_bounds(src.into(), len.into(), bytes.len() as u64)
                || !in_bounds(dst, len.into(), size as u64)
            {
                return fail(&mut store.pending_trap, Trap::MemoryOutOfBounds);
            }
            let (dst, src, len) = (dst as usize, src as usize, len as usize);
            // SAFETY: the destination lies within the memory's accessible bytes (checked),
            // and the module's bytes are not in any linear memory.
            std::ptr::copy_nonoverlapping(bytes.as_ptr().add(src), base.add(dst), len);
            1
        })
    }
}

unsafe extern "C" fn data_drop(vmctx: *mut VMContext, data: u32) {
    // SAFETY: called by compiled code with its own vmctx.
    unsafe {
        with_instance_no_trap(vmctx, "data.drop", |store, i| {
            store.instances[i].data_dropped[data as usize] = true
        });
    }
}

unsafe extern "C" fn table_grow(vmctx: *mut VMContext, table: u32, delta: u64, init: u64) -> u64 {
    // SAFETY: called by compiled code with its own vmctx.
    unsafe {
        with_instance(vmctx, GROW_TRAPPED, |store, i| {
            let ti = store.instances[i].tables[table as usize];
            let grown = store.grow_table(ti, delta, init);
            grow_result(store, grown)
        })
    }
}

unsafe extern "C" fn table_fill(
    vmctx: *mut VMContext,
    table: u32,
    dst: u64,
    val: u64,
    len: u64,
) -> u32 {
    // SAFETY: called by compiled code with its own vmctx.
    unsafe {
        with_instance(vmctx, 0, |store, i| {
            let StoreOpaque {
                instances,
                tables,
                pending_trap,
                ..
            } = store;
            let inst = &mut *instances[i];
            let elems = tables[inst.tables[table as usize]].elements_mut();
            if !in_bounds(dst, len, elems.len() as u64) {
                return fail(pending_trap, Trap::TableOutOfBounds);
            }
            elems[dst as usize..(dst + len) as usize].fill(val);
            1
        })
    }
}

unsafe extern "C" fn table_copy(
    vmctx: *mut VMContext,
    dst_table: u32,
    src_table: u32,
    dst: u64,
    src: u64,
    len: u64,
) -> u32 {
    // SAFETY: called by compiled code with its own vmctx.
    unsafe {
        with_instance(vmctx, 0, |store, i| {
            let StoreOpaque {
                instances,
                tables,
                pending_trap,
                ..
            } = store;
            let inst = &mut *instances[i];
            let (di, si) = (
                inst.tables[dst_table as usize],
                inst.tables[src_table as usize],
            );
            let (dlen, slen) = (tables[di].size(), tables[si].size());
            if !in_bounds(dst, len, dlen) || !in_bounds(src, len, slen) {
                return fail(pending_trap, Trap::TableOutOfBounds);
            }
            let (dst, src, len) = (dst as usize, src as usize, len as usize);
            if di == si {
                tables[di].elements_mut().copy_within(src..src + len, dst);
            } else {
                let from = tables[si].elements()[src..src + len].to_vec();
                tables[di].elements_mut()[dst..dst + len].copy_from_slice(&from);
            }
            1
        })
    }
}

unsafe extern "C" fn table_init(
    vmctx: *mut VMContext,
    table: u32,
    elem: u32,
    dst: u64,
    src: u32,
    len: u32,
) -> u32 {
    // SAFETY: called by compiled code with its own vmctx.
    unsafe {
        with_instance(vmctx, 0, |store, i| {
            let StoreOpaque {
                instances,
                tables,
                pending_trap,
                ..
            } = store;
            let inst = &mut *instances[i];
            let items = &inst.elems[elem as usize];
            let elems = tables[inst.tables[table as usize]].elements_mut();
            if !in_bounds(src.into(), len.into(), items.len() as u64)
                || !in_bounds(dst, len.into(), elems.len() as u64)
            {
                return fail(pending_trap, Trap::TableOutOfBounds);
            }
            let (dst, src, len) = (dst as usize, src as usize, len as usize);
            elems[dst..dst + len].copy_from_slice(&items[src..src + len]);
            1
        })
    }
}

unsafe extern "C" fn elem_drop(vmctx: *mut VMContext, elem: u32) {
    // SAFETY: called by compiled code with its own vmctx.
    unsafe {
        with_instance_no_trap(vmctx, "elem.drop", |store, i| {
            store.instances[i].elems[elem as usize] = Vec::new()
        });
    }
}

unsafe extern "C" fn out_of_fuel(vmctx: *mut VMContext) -> u32 {
    // SAFETY: called by compiled code with its own vmctx.
    unsafe { with_instance(vmctx, 0, |store, _| store.out_of_fuel() as u32) }
}

unsafe extern "C" fn new_epoch(vmctx: *mut VMContext) -> u32 {
    // SAFETY: called by compiled code with its own vmctx.
    unsafe { with_instance(vmctx, 0, |store, _| store.new_epoch() as u32) }
}

unsafe extern "C" fn throw(vmctx: *mut VMContext, tag: u32, values: *mut ValRaw) -> u64 {
    // SAFETY: called by compiled code with its own vmctx.
    unsafe {
        with_instance(vmctx, 0, |store, i| {
            // First, while the payload is still only in the caller's frame: a collection
            // scans that frame, and may refuse a new exception.
            if let Err(error) = store.make_room_for_exception() {
                store.pending_error = Some(PendingError::Error(error));
                return 0;
            }
            let inst = &store.instances[i];
            let info = &inst.module.inner.info;
            let len = info.types[info.tags[tag as usize] as usize].params.len();
            // SAFETY: compiled code passes a buffer of one slot per parameter of the tag; the
            // limits written below are only touched by this thread while the store runs wasm.
            let payload = std::slice::from_raw_parts(values, len).into();
            let tag = inst.tags[tag as usize];
            let exn = store.new_exception(ExceptionData {
                tag,
                payload,
                kept: false,
            });
            *store.limits.pending_exception.get() = exn;
            exn
        })
    }
}

unsafe extern "C" fn exception_tag(vmctx: *mut VMContext, exn: u64) -> u64 {
    // SAFETY: called by compiled code with its own vmctx and a non-null exnref.
    unsafe {
        with_instance_no_trap(vmctx, "exception tag", |store, _| {
            store.exception_tag(exn) as u64
        })
    }
}

unsafe extern "C" fn exception_payload(vmctx: *mut VMContext, exn: u64, values: *mut ValRaw) {
    // SAFETY: called by compiled code with its own vmctx, a non-null exnref and a buffer of
    // one slot per parameter of the catching clause's tag, which is the exception's (its
    // identity matched; a freed or unknown exception matches no tag and has no payload).
    unsafe {
        with_instance_no_trap(vmctx, "exception payload", |store, _| {
            let payload = store.exception_payload(exn);
            std::ptr::copy_nonoverlapping(payload.as_ptr(), values, payload.len());
        })
    }
}

unsafe extern "C" fn exception_caught(vmctx: *mut VMContext, exn: u64, keep: u32) {
    // SAFETY: called by compiled code with its own vmctx and a non-null exnref of its store.
    unsafe {
        with_instance_no_trap(vmctx, "exception caught", |store, _| {
            store.exception_caught(exn, keep != 0)
        })
    }
}

/// The result of a wait/notify builtin: its value, or `ATOMIC_TRAPPED` with the trap
/// pending.
fn atomic_result(store: &mut StoreOpaque, result: Result<u32, Trap>) -> u64 {
    match result {
        Ok(value) => value.into(),
        Err(trap) => {
            store.pending_trap = Some(trap);
            ATOMIC_TRAPPED
        }
    }
}

unsafe extern "C" fn memory_atomic_notify(
    vmctx: *mut VMContext,
    mem: u32,
    addr: u64,
    count: u32,
) -> u64 {
    // SAFETY: called by compiled code with its own vmctx.
    unsafe {
        with_instance(vmctx, ATOMIC_TRAPPED, |store, i| {
            let memory = &store.memories[store.instances[i].memories[mem as usize]];
            let notified = match memory.as_shared() {
                Some(shared) => shared.notify(addr, count),
                // Nobody can wait on an unshared memory: the operand is checked, no one woken.
                None => check_atomic_addr(addr, 4, memory.byte_size()).map(|()| 0),
            };
            atomic_result(store, notified)
        })
    }
}

/// `timeout` as wasm gives it: nanoseconds, negative for none.
fn wait_timeout(timeout: u64) -> Option<Duration> {
    (timeout as i64 >= 0).then(|| Duration::from_nanos(timeout))
}

unsafe extern "C" fn memory_atomic_wait32(
    vmctx: *mut VMContext,
    mem: u32,
    addr: u64,
    expected: u32,
    timeout: u64,
) -> u64 {
    // SAFETY: called by compiled code with its own vmctx.
    unsafe {
        with_instance(vmctx, ATOMIC_TRAPPED, |store, i| {
            let memory = &store.memories[store.instances[i].memories[mem as usize]];
            let waited = match memory.as_shared() {
                Some(shared) => shared.wait32(addr, expected, wait_timeout(timeout)),
                None => check_atomic_addr(addr, 4, memory.byte_size())
                    .and(Err(Trap::AtomicWaitNonSharedMemory)),
            };
            atomic_result(store, waited.map(WaitResult::code))
        })
    }
}

unsafe extern "C" fn memory_atomic_wait64(
    vmctx: *mut VMContext,
    mem: u32,
    addr: u64,
    expected: u64,
    timeout: u64,
) -> u64 {
    // SAFETY: called by compiled code with its own vmctx.
    unsafe {
        with_instance(vmctx, ATOMIC_TRAPPED, |store, i| {
            let memory = &store.memories[store.instances[i].memories[mem as usize]];
            let waited = match memory.as_shared() {
                Some(shared) => shared.wait64(addr, expected, wait_timeout(timeout)),
                None => check_atomic_addr(addr, 8, memory.byte_size())
                    .and(Err(Trap::AtomicWaitNonSharedMemory)),
            };
            atomic_result(store, waited.map(WaitResult::code))
        })
    }
}
