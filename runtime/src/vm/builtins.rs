//! The runtime functions compiled code calls through `VMContext::BUILTINS`
//! (see `wasmjit_environ::builtins` for the list, which declares the table and signatures).
//!
//! A builtin that fails records its trap in the store and returns its trap value (0, or
//! `GROW_TRAPPED` for the grow builtins); the compiled code then traps with `BUILTIN_TRAP`.
//! A builtin must never unwind into compiled code: each body runs under `catch_unwind`. Some
//! run embedder code (the resource limiter, the epoch deadline callback, the waker of an
//! async yield), which may panic: the payload is kept in the store as a pending panic, the
//! builtin returns its trap value, and the panic resumes in the caller of the call once the
//! wasm frames are gone (`store::entry`). The builtins that return no status run no embedder
//! code; a panic there is a broken runtime invariant and aborts with a message.

use crate::vm::instance::{instance_of, store_of};
use crate::vm::store::{GrowError, PendingError, StoreObjects, VMStore};
// The entry compiled code calls; its body is the architecture's (`traphandlers`).
use crate::vm::parking_lot::{Parked, WaitLimits};
use crate::vm::shared_memory::{check_atomic_addr, VmSharedMemory};
use crate::vm::traphandlers::raise_trap;
use crate::vm::vmcontext::{VMContext, ValRaw};
use crate::Trap;
use std::time::{Duration, Instant};
use wasmjit_environ::builtins::{Builtin, ATOMIC_TRAPPED, GROW_TRAPPED};
use wasmjit_environ::indices::{DataIndex, TagIndex};

/// The runtime's type for a parameter or result kind of the builtin list.
macro_rules! builtin_host_type {
    (vmctx) => { *mut VMContext };
    (u32) => { u32 };
    (u64) => { u64 };
    (vals) => { *mut ValRaw };
}

/// The function behind a builtin for stores of type `$store`: `raise_trap` is the
/// architecture's entry, which knows no store; the others are this module's, per store type.
macro_rules! builtin_fn {
    (raise_trap, $store:ty) => {
        raise_trap
    };
    ($name:ident, $store:ty) => {
        $name::<$store>
    };
}

/// Declares the table type, and the function that fills it for a store type, from the
/// builtin list. Each field is the function of the same name in this module, so a body whose
/// signature disagrees with the list does not compile.
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

        impl BuiltinTable {
            /// The table of the builtins for stores of type `S` (the store keeps the one
            /// static every `VMContext` points to).
            pub(crate) const fn for_store<S: VMStore>() -> Self {
                BuiltinTable { $($name: builtin_fn!($name, S),)* }
            }
        }
    };
}

wasmjit_environ::foreach_builtin!(builtin_table);

const _: () = assert!(std::mem::size_of::<BuiltinTable>() == Builtin::COUNT * 8);

/// Runs a builtin body with its instance and store, catching a panic.
///
/// # Safety
/// `vmctx` must be the context of a live instance whose store is not otherwise borrowed.
unsafe fn run_builtin<S: VMStore, R>(
    vmctx: *mut VMContext,
    f: impl FnOnce(&mut S, usize) -> R,
) -> std::thread::Result<R> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: the caller passes a live vmctx; compiled code is the only user of the store
        // while it runs, and it is suspended in this call. Only the instance's index is taken
        // from it, so the store is the one borrow of the instance.
        let (store, index) = unsafe { (store_of::<S>(vmctx), instance_of(vmctx).index) };
        f(store, index)
    }))
}

/// Runs a builtin body with its instance and store. A panic in it (embedder code the body
/// ran) becomes the store's pending panic and the builtin returns `trapped`, its trap value.
///
/// # Safety
/// As [`run_builtin`].
unsafe fn with_instance<S: VMStore, R>(
    vmctx: *mut VMContext,
    trapped: R,
    f: impl FnOnce(&mut S, usize) -> R,
) -> R {
    // SAFETY: forwarded from the caller.
    match unsafe { run_builtin(vmctx, f) } {
        Ok(r) => r,
        Err(payload) => {
            // SAFETY: as above; the body's borrow of the store ended with its unwinding.
            let store = unsafe { store_of::<S>(vmctx) };
            store.set_pending_error(PendingError::Panic(payload));
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
unsafe fn with_instance_no_trap<S: VMStore, R>(
    vmctx: *mut VMContext,
    builtin: &str,
    f: impl FnOnce(&mut S, usize) -> R,
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
fn grow_result(store: &mut impl VMStore, grown: Result<u64, GrowError>) -> u64 {
    match grown {
        Ok(old) => old,
        Err(GrowError { trap: false, .. }) => u64::MAX,
        Err(GrowError { error, trap: true }) => {
            store.set_pending_error(PendingError::Error(error));
            GROW_TRAPPED
        }
    }
}

fn in_bounds(start: u64, len: u64, size: u64) -> bool {
    start.checked_add(len).is_some_and(|end| end <= size)
}

unsafe extern "C" fn memory_grow<S: VMStore>(vmctx: *mut VMContext, mem: u32, delta: u64) -> u64 {
    // SAFETY: called by compiled code with its own vmctx.
    unsafe {
        with_instance::<S, _>(vmctx, GROW_TRAPPED, |store, i| {
            let mi = store.objects().instances[i].memories[mem as usize];
            let grown = store.grow_memory(mi, delta);
            grow_result(store, grown)
        })
    }
}

unsafe extern "C" fn memory_fill<S: VMStore>(
    vmctx: *mut VMContext,
    mem: u32,
    dst: u64,
    byte: u32,
    len: u64,
) -> u32 {
    // SAFETY: called by compiled code with its own vmctx.
    unsafe {
        with_instance::<S, _>(vmctx, 0, |store, i| {
            let StoreObjects {
                instances,
                memories,
                pending_trap,
                ..
            } = store.objects();
            let (base, size) = memories[instances[i].memories[mem as usize]].raw();
            if !in_bounds(dst, len, size as u64) {
                return fail(pending_trap, Trap::MemoryOutOfBounds);
            }
            // SAFETY: `dst..dst + len` lies within the memory's accessible bytes (checked).
            // Memories are written through raw pointers, not slices: a shared one may be
            // written by other threads meanwhile, as wasm's own stores may.
            std::ptr::write_bytes(base.add(dst as usize), byte as u8, len as usize);
            1
        })
    }
}

unsafe extern "C" fn memory_copy<S: VMStore>(
    vmctx: *mut VMContext,
    dst_mem: u32,
    dst: u64,
    src_mem: u32,
    src: u64,
    len: u64,
) -> u32 {
    // SAFETY: called by compiled code with its own vmctx.
    unsafe {
        with_instance::<S, _>(vmctx, 0, |store, i| {
            let StoreObjects {
                instances,
                memories,
                pending_trap,
                ..
            } = store.objects();
            let inst = &instances[i];
            let (di, si) = (
                inst.memories[dst_mem as usize],
                inst.memories[src_mem as usize],
            );
            let (to, dlen) = memories[di].raw();
            let (from, slen) = memories[si].raw();
            if !in_bounds(dst, len, dlen as u64) || !in_bounds(src, len, slen as u64) {
                return fail(pending_trap, Trap::MemoryOutOfBounds);
            }
            // SAFETY: both ranges lie within their memories' accessible bytes (checked);
            // `copy` allows them to overlap (the same memory).
            std::ptr::copy(from.add(src as usize), to.add(dst as usize), len as usize);
            1
        })
    }
}

unsafe extern "C" fn memory_init<S: VMStore>(
    vmctx: *mut VMContext,
    mem: u32,
    data: u32,
    dst: u64,
    src: u32,
    len: u32,
) -> u32 {
    // SAFETY: called by compiled code with its own vmctx.
    unsafe {
        with_instance::<S, _>(vmctx, 0, |store, i| {
            let StoreObjects {
                instances,
                memories,
                pending_trap,
                ..
            } = store.objects();
            let inst = &instances[i];
            let info = &inst.info;
            let range = if inst.data_dropped[data as usize] {
                0..0
            } else {
                info.data[DataIndex::from_u32(data)].data.clone()
            };
            let bytes = &info.wasm[range];
            let (base, size) = memories[inst.memories[mem as usize]].raw();
            if !in_bounds(src.into(), len.into(), bytes.len() as u64)
                || !in_bounds(dst, len.into(), size as u64)
            {
                return fail(pending_trap, Trap::MemoryOutOfBounds);
            }
            let (dst, src, len) = (dst as usize, src as usize, len as usize);
            // SAFETY: the destination lies within the memory's accessible bytes (checked),
            // and the module's bytes are not in any linear memory.
            std::ptr::copy_nonoverlapping(bytes.as_ptr().add(src), base.add(dst), len);
            1
        })
    }
}

unsafe extern "C" fn data_drop<S: VMStore>(vmctx: *mut VMContext, data: u32) {
    // SAFETY: called by compiled code with its own vmctx.
    unsafe {
        with_instance_no_trap::<S, _>(vmctx, "data.drop", |store, i| {
            store.objects().instances[i].data_dropped[data as usize] = true
        });
    }
}

unsafe extern "C" fn table_grow<S: VMStore>(
    vmctx: *mut VMContext,
    table: u32,
    delta: u64,
    init: u64,
) -> u64 {
    // SAFETY: called by compiled code with its own vmctx.
    unsafe {
        with_instance::<S, _>(vmctx, GROW_TRAPPED, |store, i| {
            let ti = store.objects().instances[i].tables[table as usize];
            let grown = store.grow_table(ti, delta, init);
            grow_result(store, grown)
        })
    }
}

unsafe extern "C" fn table_fill<S: VMStore>(
    vmctx: *mut VMContext,
    table: u32,
    dst: u64,
    val: u64,
    len: u64,
) -> u32 {
    // SAFETY: called by compiled code with its own vmctx.
    unsafe {
        with_instance::<S, _>(vmctx, 0, |store, i| {
            let StoreObjects {
                instances,
                tables,
                pending_trap,
                ..
            } = store.objects();
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

unsafe extern "C" fn table_copy<S: VMStore>(
    vmctx: *mut VMContext,
    dst_table: u32,
    src_table: u32,
    dst: u64,
    src: u64,
    len: u64,
) -> u32 {
    // SAFETY: called by compiled code with its own vmctx.
    unsafe {
        with_instance::<S, _>(vmctx, 0, |store, i| {
            let StoreObjects {
                instances,
                tables,
                pending_trap,
                ..
            } = store.objects();
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

unsafe extern "C" fn table_init<S: VMStore>(
    vmctx: *mut VMContext,
    table: u32,
    elem: u32,
    dst: u64,
    src: u32,
    len: u32,
) -> u32 {
    // SAFETY: called by compiled code with its own vmctx.
    unsafe {
        with_instance::<S, _>(vmctx, 0, |store, i| {
            let StoreObjects {
                instances,
                tables,
                pending_trap,
                ..
            } = store.objects();
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

unsafe extern "C" fn func_subtype<S: VMStore>(
    vmctx: *mut VMContext,
    actual: u32,
    expected: u32,
) -> u32 {
    // SAFETY: called by compiled code with its own vmctx.
    unsafe {
        with_instance_no_trap::<S, _>(vmctx, "function subtype check", |store, _| {
            store.func_subtype(actual, expected) as u32
        })
    }
}

unsafe extern "C" fn elem_drop<S: VMStore>(vmctx: *mut VMContext, elem: u32) {
    // SAFETY: called by compiled code with its own vmctx.
    unsafe {
        with_instance_no_trap::<S, _>(vmctx, "elem.drop", |store, i| {
            store.objects().instances[i].elems[elem as usize] = Vec::new()
        });
    }
}

unsafe extern "C" fn out_of_fuel<S: VMStore>(vmctx: *mut VMContext) -> u32 {
    // SAFETY: called by compiled code with its own vmctx.
    unsafe { with_instance::<S, _>(vmctx, 0, |store, _| store.out_of_fuel() as u32) }
}

unsafe extern "C" fn new_epoch<S: VMStore>(vmctx: *mut VMContext) -> u32 {
    // SAFETY: called by compiled code with its own vmctx.
    unsafe { with_instance::<S, _>(vmctx, 0, |store, _| store.new_epoch() as u32) }
}

unsafe extern "C" fn throw<S: VMStore>(
    vmctx: *mut VMContext,
    tag: u32,
    values: *mut ValRaw,
) -> u64 {
    // SAFETY: called by compiled code with its own vmctx.
    unsafe {
        with_instance::<S, _>(vmctx, 0, |store, i| {
            let (len, tag) = {
                let inst = &store.objects().instances[i];
                let info = &inst.info;
                let ty = info.tags[TagIndex::from_u32(tag)];
                (info.types[ty].params.len(), inst.tags[tag as usize])
            };
            // SAFETY: compiled code passes a buffer of one slot per parameter of the tag.
            let payload = std::slice::from_raw_parts(values, len);
            store.throw(tag, payload).unwrap_or_else(|error| {
                store.set_pending_error(PendingError::Error(error));
                0
            })
        })
    }
}

unsafe extern "C" fn exception_tag<S: VMStore>(vmctx: *mut VMContext, exn: u64) -> u64 {
    // SAFETY: called by compiled code with its own vmctx and a non-null exnref.
    unsafe {
        with_instance_no_trap::<S, _>(vmctx, "exception tag", |store, _| {
            store.exception_tag(exn) as u64
        })
    }
}

unsafe extern "C" fn exception_payload<S: VMStore>(
    vmctx: *mut VMContext,
    exn: u64,
    values: *mut ValRaw,
) {
    // SAFETY: called by compiled code with its own vmctx, a non-null exnref and a buffer of
    // one slot per parameter of the catching clause's tag, which is the exception's (its
    // identity matched; a freed or unknown exception matches no tag and has no payload).
    unsafe {
        with_instance_no_trap::<S, _>(vmctx, "exception payload", |store, _| {
            let payload = store.exception_payload(exn);
            std::ptr::copy_nonoverlapping(payload.as_ptr(), values, payload.len());
        })
    }
}

unsafe extern "C" fn exception_caught<S: VMStore>(vmctx: *mut VMContext, exn: u64, keep: u32) {
    // SAFETY: called by compiled code with its own vmctx and a non-null exnref of its store.
    unsafe {
        with_instance_no_trap::<S, _>(vmctx, "exception caught", |store, _| {
            store.exception_caught(exn, keep != 0)
        })
    }
}

/// The result of a wait/notify builtin: its value, or `ATOMIC_TRAPPED` with the trap
/// pending.
fn atomic_result(store: &mut impl VMStore, result: Result<u32, Trap>) -> u64 {
    match result {
        Ok(value) => value.into(),
        Err(trap) => {
            *store.objects().pending_trap = Some(trap);
            ATOMIC_TRAPPED
        }
    }
}

/// Runs an atomic wait/notify builtin on memory `mem` of the calling instance: `shared` on a
/// shared memory, `unshared` (given the memory's size) on another; the result as the builtin
/// returns it.
///
/// # Safety
/// As [`run_builtin`].
unsafe fn with_atomic_memory<S: VMStore>(
    vmctx: *mut VMContext,
    mem: u32,
    shared: impl FnOnce(&VmSharedMemory) -> Result<u32, Trap>,
    unshared: impl FnOnce(usize) -> Result<u32, Trap>,
) -> u64 {
    // SAFETY: forwarded from the caller.
    unsafe {
        with_instance::<S, _>(vmctx, ATOMIC_TRAPPED, |store, i| {
            let objects = store.objects();
            let memory = &objects.memories[objects.instances[i].memories[mem as usize]];
            let result = match memory.as_shared() {
                Some(memory) => shared(memory),
                None => unshared(memory.byte_size()),
            };
            atomic_result(store, result)
        })
    }
}

unsafe extern "C" fn memory_atomic_notify<S: VMStore>(
    vmctx: *mut VMContext,
    mem: u32,
    addr: u64,
    count: u32,
) -> u64 {
    // SAFETY: called by compiled code with its own vmctx.
    unsafe {
        with_atomic_memory::<S>(
            vmctx,
            mem,
            |shared| shared.notify(addr, count),
            // Nobody can wait on an unshared memory: the operand is checked, no one woken.
            |size| check_atomic_addr(addr, 4, size).map(|()| 0),
        )
    }
}

/// `timeout` as wasm gives it: nanoseconds, negative for none.
fn wait_timeout(timeout: u64) -> Option<Duration> {
    (timeout as i64 >= 0).then(|| Duration::from_nanos(timeout))
}

/// A wait on an unshared memory: the operand is checked, then it traps.
fn wait_unshared(addr: u64, width: u64, size: usize) -> Result<u32, Trap> {
    check_atomic_addr(addr, width, size).and(Err(Trap::AtomicWaitNonSharedMemory))
}

unsafe extern "C" fn memory_atomic_wait32<S: VMStore>(
    vmctx: *mut VMContext,
    mem: u32,
    addr: u64,
    expected: u32,
    timeout: u64,
) -> u64 {
    // SAFETY: called by compiled code with its own vmctx.
    unsafe { memory_atomic_wait::<S>(vmctx, mem, addr, expected.into(), 4, timeout) }
}

unsafe extern "C" fn memory_atomic_wait64<S: VMStore>(
    vmctx: *mut VMContext,
    mem: u32,
    addr: u64,
    expected: u64,
    timeout: u64,
) -> u64 {
    // SAFETY: called by compiled code with its own vmctx.
    unsafe { memory_atomic_wait::<S>(vmctx, mem, addr, expected, 8, timeout) }
}

/// `memory.atomic.wait32/64` (`width` 4 or 8). On a shared memory the wait parks the thread,
/// or in an async call only the call (its fiber); it also ends when the store's epoch
/// deadline passes, which then runs the store's deadline behaviour (a trap, or waiting on
/// with a new deadline), and when the async call is dropped (the call fails).
///
/// # Safety
/// As [`run_builtin`].
unsafe fn memory_atomic_wait<S: VMStore>(
    vmctx: *mut VMContext,
    mem: u32,
    addr: u64,
    expected: u64,
    width: u64,
    timeout: u64,
) -> u64 {
    // SAFETY: forwarded from the caller.
    unsafe {
        with_instance::<S, _>(vmctx, ATOMIC_TRAPPED, |store, i| {
            let objects = store.objects();
            let memory = &objects.memories[objects.instances[i].memories[mem as usize]];
            let Some(shared) = memory.as_shared().cloned() else {
                let result = wait_unshared(addr, width, memory.byte_size());
                return atomic_result(store, result);
            };
            let deadline = wait_timeout(timeout).and_then(|t| Instant::now().checked_add(t));
            loop {
                // Taken afresh each time: the deadline behaviour may have moved the deadline.
                let epoch_reached = store.epoch_deadline_check();
                let limits = WaitLimits {
                    deadline,
                    epoch_reached: epoch_reached.as_deref(),
                };
                let parked = if store.in_async_call() {
                    match shared.park_async(addr, expected, width, limits) {
                        Ok(future) => match store.block_on_fiber(std::pin::pin!(future).as_mut()) {
                            Ok(parked) => Ok(parked),
                            Err(cancelled) => {
                                store.set_pending_error(PendingError::Error(cancelled));
                                return ATOMIC_TRAPPED;
                            }
                        },
                        Err(trap) => Err(trap),
                    }
                } else {
                    shared.park(addr, expected, width, limits)
                };
                match parked {
                    Ok(Parked::Done(result)) => return atomic_result(store, Ok(result.code())),
                    Ok(Parked::EpochReached) if store.new_epoch() => continue,
                    // The deadline behaviour left a trap or an error pending.
                    Ok(Parked::EpochReached) => return ATOMIC_TRAPPED,
                    Err(trap) => return atomic_result(store, Err(trap)),
                }
            }
        })
    }
}
