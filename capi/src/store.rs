//! Stores: `wasm_store_t` (for `wasm.h` objects), `wasmtime_store_t` and its context.
//!
//! Both wrap a runtime `Store<StoreData>`. `StoreData` carries the embedder's `void *data`
//! and finalizer, and the tables that give each runtime object its C handle: the C structs
//! `wasmtime_func_t`, `wasmtime_memory_t`, ... are `{store_id, index}` pairs whose index
//! points into these tables.

use crate::{
    wasm_engine_t, wasmtime_error_t, wasmtime_externref_t, wasmtime_func_t, wasmtime_global_t,
    wasmtime_instance_t, wasmtime_memory_t, wasmtime_table_t, CError, Finalizer, ForeignData,
};
use anyhow::{anyhow, bail, Result};
use std::cell::UnsafeCell;
use std::collections::HashMap;
use std::ffi::c_void;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use wasmjit::{ExternRef, Func, Global, Instance, Memory, Store, Table, UpdateDeadline};

/// Objects of one kind that have been given a C handle, each once.
pub(crate) struct Interner<T> {
    items: Vec<T>,
    index: HashMap<T, usize>,
}

impl<T> Default for Interner<T> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            index: HashMap::new(),
        }
    }
}

impl<T: Copy + Eq + Hash> Interner<T> {
    /// The handle index of `item`, assigning one the first time.
    pub(crate) fn intern(&mut self, item: T) -> usize {
        if let Some(&i) = self.index.get(&item) {
            return i;
        }
        self.items.push(item);
        self.index.insert(item, self.items.len() - 1);
        self.items.len() - 1
    }

    pub(crate) fn get(&self, index: usize) -> Option<T> {
        self.items.get(index).copied()
    }
}

/// Limits set with `wasmtime_store_limiter` (`None`: unlimited).
#[derive(Default, Clone, Copy)]
pub(crate) struct StoreLimits {
    pub(crate) memory_size: Option<u64>,
    pub(crate) table_elements: Option<u64>,
    pub(crate) instances: Option<usize>,
    pub(crate) tables: Option<usize>,
    pub(crate) memories: Option<usize>,
}

/// The host data of every store made through the C API.
pub struct StoreData {
    pub(crate) foreign: ForeignData,
    /// Nonzero; the `store_id` of this store's C handles.
    pub(crate) id: u64,
    /// The context this data lives in (stable: stores are boxed).
    pub(crate) ctx: *mut wasmtime_context_t,
    /// For `wasm.h` stores: the shared cell, so host functions can make `wasm.h` objects.
    pub(crate) cell: Option<Weak<StoreCell>>,
    pub(crate) funcs: Interner<Func>,
    pub(crate) globals: Interner<Global>,
    pub(crate) tables: Interner<Table>,
    pub(crate) memories: Interner<Memory>,
    pub(crate) instances: Interner<Instance>,
    pub(crate) externrefs: crate::externref_roots::ExternRefRoots,
    pub(crate) limits: StoreLimits,
    /// The same limits as the runtime's limiter (installed by `wasmtime_store_limiter`), so
    /// that they also bound what wasm code does (`memory.grow`, `table.grow`, instances and
    /// memories of modules).
    pub(crate) runtime_limits: wasmjit::StoreLimits,
    pub(crate) instance_count: usize,
    pub(crate) host_tables: usize,
    pub(crate) host_memories: usize,
    /// The WASI context of `wasmtime_context_set_wasi`.
    pub(crate) wasi: Option<wasmjit_wasi::WasiCtx>,
}

// SAFETY: the only field that is not `Send` is `ctx`, the address of the context this data
// lives in, which moves between threads together with it; the C API uses a store from one
// thread at a time, and host data must be usable from whichever thread that is (Wasmtime's
// documented contract, as for `ForeignData`). Needed for the async entry points, whose
// futures may be polled from any thread.
unsafe impl Send for StoreData {}

static NEXT_STORE_ID: AtomicU64 = AtomicU64::new(1);

macro_rules! handle_conversions {
    ($($to:ident, $from:ident, $table:ident, $rt:ty, $c:ident, $what:literal;)*) => {
        impl StoreData {
            $(
                /// The C handle of a runtime object of this store.
                pub(crate) fn $to(&mut self, item: $rt) -> $c {
                    $c { store_id: self.id, index: self.$table.intern(item) }
                }

                /// The runtime object of a C handle; errors for another store's handle.
                pub(crate) fn $from(&self, handle: &$c) -> Result<$rt> {
                    if handle.store_id != self.id {
                        bail!(concat!($what, " used with the wrong store"));
                    }
                    self.$table
                        .get(handle.index)
                        .ok_or_else(|| anyhow!(concat!("invalid ", $what, " handle")))
                }
            )*
        }
    };
}

handle_conversions! {
    func_to_c, func_from_c, funcs, Func, wasmtime_func_t, "function";
    global_to_c, global_from_c, globals, Global, wasmtime_global_t, "global";
    table_to_c, table_from_c, tables, Table, wasmtime_table_t, "table";
    memory_to_c, memory_from_c, memories, Memory, wasmtime_memory_t, "memory";
    instance_to_c, instance_from_c, instances, Instance, wasmtime_instance_t, "instance";
}

impl StoreData {
    /// A new C handle of an externref (never null): a root until C unroots it.
    pub(crate) fn externref_to_c(&mut self, r: ExternRef) -> wasmtime_externref_t {
        let index = self.externrefs.root(r);
        wasmtime_externref_t {
            store_id: self.id,
            private1: u32::try_from(index + 1).expect("too many externrefs"),
            private2: 0,
        }
    }

    /// The externref of a C handle (`None` for null).
    pub(crate) fn externref_from_c(&self, r: &wasmtime_externref_t) -> Result<Option<ExternRef>> {
        if r.store_id == 0 {
            return Ok(None);
        }
        if r.store_id != self.id {
            bail!("externref used with the wrong store");
        }
        self.externref_from_index(r.private1).map(Some)
    }

    /// The externref with C handle index `raw` (1-based).
    pub(crate) fn externref_from_index(&self, raw: u32) -> Result<ExternRef> {
        (raw as usize)
            .checked_sub(1)
            .and_then(|i| self.externrefs.get(i))
            .ok_or_else(|| anyhow!("invalid externref handle"))
    }

    /// Fails when another instance would exceed the store's limit.
    pub(crate) fn check_instance_limit(&self) -> Result<()> {
        if let Some(max) = self.limits.instances {
            if self.instance_count >= max {
                bail!(
                    "resource limit exceeded: instance count too high at {}",
                    self.instance_count + 1
                );
            }
        }
        Ok(())
    }

    /// The `wasmtime_context_t` for host callbacks of this store.
    pub(crate) fn context(&self) -> *mut wasmtime_context_t {
        self.ctx
    }
}

/// A store's context: what most `wasmtime_*` functions operate on. A pointer to it is valid
/// as long as its store.
#[repr(transparent)]
pub struct wasmtime_context_t {
    pub(crate) store: Store<StoreData>,
}

impl wasmtime_context_t {
    pub(crate) fn data(&self) -> &StoreData {
        self.store.data()
    }
    pub(crate) fn data_mut(&mut self) -> &mut StoreData {
        self.store.data_mut()
    }

    /// A fresh context in `engine`, not yet at its final address.
    fn new(engine: &wasm_engine_t, foreign: ForeignData) -> Self {
        let data = StoreData {
            foreign,
            id: NEXT_STORE_ID.fetch_add(1, Ordering::Relaxed),
            ctx: std::ptr::null_mut(),
            cell: None,
            funcs: Interner::default(),
            globals: Interner::default(),
            tables: Interner::default(),
            memories: Interner::default(),
            instances: Interner::default(),
            externrefs: Default::default(),
            limits: StoreLimits::default(),
            runtime_limits: wasmjit::StoreLimits::default(),
            instance_count: 0,
            host_tables: 0,
            host_memories: 0,
            wasi: None,
        };
        Self {
            store: Store::new(&engine.engine, data),
        }
    }
}

/// A store of the `wasmtime.h` API.
pub struct wasmtime_store_t {
    pub(crate) context: wasmtime_context_t,
}

/// A new store in `engine` holding `data`; `finalizer` (if any) is called with `data` when the
/// store is deleted.
#[no_mangle]
pub extern "C" fn wasmtime_store_new(
    engine: &wasm_engine_t,
    data: *mut c_void,
    finalizer: Finalizer,
) -> Box<wasmtime_store_t> {
    crate::abort_on_panic("wasmtime_store_new", || {
        let mut store = Box::new(wasmtime_store_t {
            context: wasmtime_context_t::new(engine, ForeignData::new(data, finalizer)),
        });
        let ctx: *mut wasmtime_context_t = &mut store.context;
        store.context.data_mut().ctx = ctx;
        store
    })
}

/// The store's context.
#[no_mangle]
pub extern "C" fn wasmtime_store_context(store: &mut wasmtime_store_t) -> &mut wasmtime_context_t {
    &mut store.context
}

/// Deletes a store and everything in it; runs the data's finalizer.
#[no_mangle]
pub extern "C" fn wasmtime_store_delete(store: Option<Box<wasmtime_store_t>>) {
    crate::abort_on_panic("wasmtime_store_delete", || drop(store));
}

fn limit<T: TryFrom<i64>>(v: i64) -> Option<T> {
    if v < 0 {
        None
    } else {
        T::try_from(v).ok()
    }
}

/// Limits what the store may hold; a negative value means the default (no limit on sizes,
/// 10000 instances, memories and tables). The limits bound what wasm code does too:
/// `memory.grow` and `table.grow` beyond them give -1, and instantiating a module whose
/// memories or tables exceed them fails.
#[no_mangle]
pub extern "C" fn wasmtime_store_limiter(
    store: &mut wasmtime_store_t,
    memory_size: i64,
    table_elements: i64,
    instances: i64,
    tables: i64,
    memories: i64,
) {
    let limits = StoreLimits {
        memory_size: limit(memory_size),
        table_elements: limit(table_elements),
        instances: limit(instances),
        tables: limit(tables),
        memories: limit(memories),
    };
    let mut builder = wasmjit::StoreLimitsBuilder::new();
    let size = |v: Option<u64>| v.map(|v| usize::try_from(v).unwrap_or(usize::MAX));
    if let Some(v) = size(limits.memory_size) {
        builder = builder.memory_size(v);
    }
    if let Some(v) = size(limits.table_elements) {
        builder = builder.table_elements(v);
    }
    if let Some(v) = limits.instances {
        builder = builder.instances(v);
    }
    if let Some(v) = limits.tables {
        builder = builder.tables(v);
    }
    if let Some(v) = limits.memories {
        builder = builder.memories(v);
    }
    let data = store.context.data_mut();
    data.limits = limits;
    data.runtime_limits = builder.build();
    store
        .context
        .store
        .limiter(|data| &mut data.runtime_limits as &mut dyn wasmjit::ResourceLimiter);
}

/// The embedder's data pointer.
#[no_mangle]
pub extern "C" fn wasmtime_context_get_data(context: &wasmtime_context_t) -> *mut c_void {
    context.data().foreign.data
}

/// Replaces the embedder's data pointer (the finalizer stays).
#[no_mangle]
pub extern "C" fn wasmtime_context_set_data(context: &mut wasmtime_context_t, data: *mut c_void) {
    context.data_mut().foreign.data = data;
}

/// Frees the externrefs no handle of C and no wasm object holds (nothing while a call of
/// the store is running or suspended).
#[no_mangle]
pub extern "C" fn wasmtime_context_gc(context: &mut wasmtime_context_t) {
    crate::abort_on_panic("wasmtime_context_gc", || {
        crate::externref_roots::collect(context);
    })
}

/// Sets the fuel left; errors unless fuel consumption is configured.
#[no_mangle]
pub extern "C" fn wasmtime_context_set_fuel(context: &mut wasmtime_context_t, fuel: u64) -> CError {
    crate::error::guard(|| context.store.set_fuel(fuel))
}

/// The fuel left; errors unless fuel consumption is configured.
#[no_mangle]
pub extern "C" fn wasmtime_context_get_fuel(
    context: &wasmtime_context_t,
    fuel: &mut u64,
) -> CError {
    crate::error::guard(|| {
        *fuel = context.store.get_fuel()?;
        Ok(())
    })
}

/// Sets the epoch deadline `ticks_beyond_current` epochs after the engine's current one.
#[no_mangle]
pub extern "C" fn wasmtime_context_set_epoch_deadline(
    context: &mut wasmtime_context_t,
    ticks_beyond_current: u64,
) {
    crate::abort_on_panic("wasmtime_context_set_epoch_deadline", || {
        context.store.set_epoch_deadline(ticks_beyond_current)
    });
}

/// `wasmtime_update_deadline_kind_t`: continue running.
pub const WASMTIME_UPDATE_DEADLINE_CONTINUE: u8 = 0;
/// `wasmtime_update_deadline_kind_t`: yield to the async caller.
pub const WASMTIME_UPDATE_DEADLINE_YIELD: u8 = 1;

/// The C signature of an epoch deadline callback.
pub type wasmtime_epoch_deadline_callback_t = unsafe extern "C" fn(
    *mut wasmtime_context_t,
    *mut c_void,
    *mut u64,
    *mut u8,
)
    -> Option<Box<wasmtime_error_t>>;

/// Calls `func` whenever the epoch deadline is reached. It returns NULL and sets the new
/// deadline delta and whether to continue or yield, or returns an error that ends the call.
#[no_mangle]
pub extern "C" fn wasmtime_store_epoch_deadline_callback(
    store: &mut wasmtime_store_t,
    func: wasmtime_epoch_deadline_callback_t,
    data: *mut c_void,
    finalizer: Finalizer,
) {
    let foreign = ForeignData::new(data, finalizer);
    store.context.store.epoch_deadline_callback(move |ctx| {
        let mut delta = 0u64;
        let mut kind = WASMTIME_UPDATE_DEADLINE_CONTINUE;
        let context = ctx.data().context();
        // SAFETY: the callback gets this store's context, as the C API promises, and valid
        // output pointers.
        let err = unsafe { func(context, foreign.ptr(), &mut delta, &mut kind) };
        if let Some(err) = err {
            return Err(err.error);
        }
        match kind {
            WASMTIME_UPDATE_DEADLINE_CONTINUE => Ok(UpdateDeadline::Continue(delta)),
            WASMTIME_UPDATE_DEADLINE_YIELD => Ok(UpdateDeadline::Yield(delta)),
            other => Err(anyhow!(
                "unknown wasmtime_update_deadline_kind_t value {other}"
            )),
        }
    });
}

/// The shared store behind `wasm_store_t` and the `wasm.h` objects made in it, which keep it
/// alive.
pub struct StoreCell(UnsafeCell<wasmtime_context_t>);

// SAFETY: `wasm.h` objects may move between threads but are never used from two threads at
// once (the C API's rule); the cell only hands out access under that rule.
unsafe impl Send for StoreCell {}
// SAFETY: as above.
unsafe impl Sync for StoreCell {}

/// A counted reference to a `wasm.h` store.
#[derive(Clone)]
pub struct StoreRef(pub(crate) Arc<StoreCell>);

impl StoreRef {
    /// Runs `f` with the store's context.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut wasmtime_context_t) -> R) -> R {
        // SAFETY: objects of one store are used by one thread at a time (the C API's rule).
        // The borrow lasts for `f` only; a host function called during `f` that uses the
        // store again nests inside it, as the runtime's own host calls do.
        f(unsafe { &mut *self.0 .0.get() })
    }

    pub(crate) fn same(&self, other: &StoreRef) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// A store of the `wasm.h` API.
pub struct wasm_store_t {
    pub(crate) store: StoreRef,
}

/// A new store in `engine`.
#[no_mangle]
pub extern "C" fn wasm_store_new(engine: &wasm_engine_t) -> Box<wasm_store_t> {
    crate::abort_on_panic("wasm_store_new", || {
        let context = wasmtime_context_t::new(engine, ForeignData::new(std::ptr::null_mut(), None));
        let cell = Arc::new(StoreCell(UnsafeCell::new(context)));
        let weak = Arc::downgrade(&cell);
        let store = StoreRef(cell);
        store.with(|ctx| {
            let p: *mut wasmtime_context_t = ctx;
            ctx.data_mut().ctx = p;
            ctx.data_mut().cell = Some(weak);
        });
        Box::new(wasm_store_t { store })
    })
}

/// Frees this handle; the store goes when no object of it is left.
#[no_mangle]
pub extern "C" fn wasm_store_delete(store: Option<Box<wasm_store_t>>) {
    crate::abort_on_panic("wasm_store_delete", || drop(store));
}

/// The `wasm.h` store a context belongs to, for host functions that make `wasm.h` objects.
pub(crate) fn store_ref_of(data: &StoreData) -> Option<StoreRef> {
    data.cell.as_ref()?.upgrade().map(StoreRef)
}
