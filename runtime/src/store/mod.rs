//! Stores: own every instance, function, memory, table, global and externref created in them.

pub(crate) mod entry;
pub(crate) mod instantiate;
mod vm_store;

use crate::engine::Engine;
use crate::func::FuncData;
use crate::module::Module;
use crate::vm::instance::InstanceData;
use crate::vm::memory::VmMemory;
use crate::vm::table::VmTable;
use crate::vm::vmcontext::{VMGlobalDefinition, VMRuntimeLimits};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

pub(crate) use crate::vm::store::PendingError;
pub(crate) use vm_store::BUILTINS;

/// A global's storage and type.
pub(crate) struct GlobalData {
    pub(crate) def: Box<VMGlobalDefinition>,
    pub(crate) ty: wasmjit_compiler::GlobalType,
}

/// The part of a store that does not depend on its data type `T`; compiled code reaches it
/// through `VMContext::STORE`.
pub struct StoreOpaque {
    pub(crate) id: u64,
    pub(crate) engine: Engine,
    pub(crate) limits: Box<VMRuntimeLimits>,
    #[allow(clippy::vec_box, reason = "compiled code holds the boxed addresses")]
    pub(crate) instances: Vec<Box<InstanceData>>,
    /// The module of each instance, by the instance's index.
    pub(crate) instance_modules: Vec<Module>,
    pub(crate) funcs: Vec<FuncData>,
    #[allow(clippy::vec_box, reason = "compiled code holds the boxed addresses")]
    pub(crate) memories: Vec<Box<VmMemory>>,
    #[allow(clippy::vec_box, reason = "compiled code holds the boxed addresses")]
    pub(crate) tables: Vec<Box<VmTable>>,
    pub(crate) globals: Vec<GlobalData>,
    pub(crate) externrefs: crate::externref::ExternRefTable,
    /// Tags; an index is a tag's identity (see `tag.rs`).
    pub(crate) tags: Vec<crate::tag::TagData>,
    pub(crate) exceptions: crate::tag::ExceptionHeap,
    /// The exception a host→wasm call returned as a `ThrownException` or the host threw
    /// (`Store::throw`), until it is taken: an exnref, 0 for none (see `exnref.rs`).
    pub(crate) thrown_exception: u64,
    /// The outermost running host→wasm call of this store: the identity of its `catch_traps`
    /// call (`traphandlers::innermost_call`; 0 when no wasm of the store runs), whose entry
    /// bounds the stack the exception collector scans.
    pub(crate) wasm_entry_call: usize,
    /// `VMFuncRef` address to index in `funcs`, filled as funcrefs cross into the API.
    pub(crate) funcref_map: HashMap<usize, usize>,
    pub(crate) pending_error: Option<PendingError>,
    pub(crate) pending_trap: Option<crate::Trap>,
    pub(crate) fuel: crate::fuel::FuelTank,
    pub(crate) epoch_behavior: crate::epoch::EpochDeadlineBehavior,
    /// Set while a fiber runs a call of this store (see `async_`); part of the per-call state
    /// a fiber takes with it when it suspends (`async_::CallState`).
    pub(crate) async_cx: Option<*const crate::async_::AsyncCx>,
    /// The stack `limits.stack_limit` was set for (see `store::entry::enter_stack`); per-call
    /// state too.
    pub(crate) stack_owner: usize,
    /// Calls suspended on a fiber: pending futures, and leaked ones, which stay parked.
    pub(crate) parked_calls: usize,
    /// Host→wasm entries whose wasm has not returned, on any stack (suspended ones included).
    pub(crate) wasm_entries: usize,
    /// The fiber of this store's last async call, idle, for the next one (see `async_`).
    pub(crate) async_runner: Option<Box<crate::async_::Runner>>,
    pub(crate) limiter: crate::limits::LimiterSlot,
    /// `Store::call_hook`'s callback.
    pub(crate) call_hook: Option<crate::call_hook::CallHookFn>,
}

// SAFETY: every raw pointer a store holds points into memory the store itself owns (its
// instances' contexts, memories, tables, globals) or into engine-owned code; nothing is tied to
// the thread that made it, so moving the store moves all of it.
unsafe impl Send for StoreOpaque {}
// SAFETY: `&StoreOpaque` gives only read access to the same owned data.
unsafe impl Sync for StoreOpaque {}

static NEXT_STORE_ID: AtomicU64 = AtomicU64::new(1);

#[repr(C)]
pub(crate) struct StoreInner<T> {
    /// First field, so that a `*mut StoreOpaque` from compiled code casts to the whole.
    pub(crate) opaque: StoreOpaque,
    pub(crate) data: T,
}

/// A collection of wasm objects and the host data `T` that host functions see.
/// `Send` when `T` is.
pub struct Store<T> {
    pub(crate) inner: Box<StoreInner<T>>,
}

impl<T> Store<T> {
    /// [`Store::new`] as a `Result`, as in Wasmtime (where allocation may fail); always `Ok`.
    pub fn try_new(engine: &Engine, data: T) -> anyhow::Result<Self> {
        Ok(Store::new(engine, data))
    }

    /// A new store in `engine` holding `data`.
    pub fn new(engine: &Engine, data: T) -> Self {
        let opaque = StoreOpaque {
            id: NEXT_STORE_ID.fetch_add(1, Ordering::Relaxed),
            engine: engine.clone(),
            limits: Box::default(),
            instances: Vec::new(),
            instance_modules: Vec::new(),
            funcs: Vec::new(),
            memories: Vec::new(),
            tables: Vec::new(),
            globals: Vec::new(),
            externrefs: Default::default(),
            tags: Vec::new(),
            exceptions: Default::default(),
            thrown_exception: 0,
            wasm_entry_call: 0,
            funcref_map: HashMap::new(),
            pending_error: None,
            pending_trap: None,
            fuel: Default::default(),
            epoch_behavior: crate::epoch::EpochDeadlineBehavior::Trap,
            async_cx: None,
            stack_owner: usize::MAX,
            parked_calls: 0,
            wasm_entries: 0,
            async_runner: None,
            limiter: Default::default(),
            call_hook: None,
        };
        Store {
            inner: Box::new(StoreInner { opaque, data }),
        }
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.inner.opaque.engine
    }

    /// The host data.
    pub fn data(&self) -> &T {
        &self.inner.data
    }

    /// The host data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.inner.data
    }

    /// Consumes the store, returning its host data.
    pub fn into_data(self) -> T {
        let inner = *self.inner;
        let StoreInner { opaque, data } = inner;
        drop(opaque);
        data
    }
}

impl<T: Default> Default for Store<T> {
    /// A store in a default engine holding `T::default()`.
    fn default() -> Self {
        Store::new(&Engine::default(), T::default())
    }
}

impl<T> std::fmt::Debug for Store<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("id", &self.inner.opaque.id)
            .finish_non_exhaustive()
    }
}

/// Reborrows the typed store behind an erased store pointer.
///
/// # Safety
/// `store` must be the `StoreOpaque` of a live `StoreInner<T>` not otherwise borrowed for the
/// returned lifetime.
pub(crate) unsafe fn typed_store<'a, T>(store: *mut StoreOpaque) -> &'a mut StoreInner<T> {
    // SAFETY: `StoreOpaque` is the first field of the `repr(C)` `StoreInner<T>`, and erased
    // store pointers of a store are only handed to code bound to its `T`.
    unsafe { &mut *(store as *mut StoreInner<T>) }
}

/// A shared borrow of a store.
pub struct StoreContext<'a, T>(pub(crate) &'a StoreInner<T>);

/// An exclusive borrow of a store.
pub struct StoreContextMut<'a, T>(pub(crate) &'a mut StoreInner<T>);

impl<T> StoreContext<'_, T> {
    /// The host data.
    pub fn data(&self) -> &T {
        &self.0.data
    }
    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.0.opaque.engine
    }
}

impl<T> StoreContextMut<'_, T> {
    /// The host data.
    pub fn data(&self) -> &T {
        &self.0.data
    }
    /// The host data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.0.data
    }
    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.0.opaque.engine
    }
}

/// Anything that gives shared access to a store.
pub trait AsContext {
    /// The store's host data type.
    type Data;
    /// The borrow.
    fn as_context(&self) -> StoreContext<'_, Self::Data>;
}

/// Anything that gives exclusive access to a store.
pub trait AsContextMut: AsContext {
    /// The borrow.
    fn as_context_mut(&mut self) -> StoreContextMut<'_, Self::Data>;
}

impl<T> AsContext for Store<T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(&self.inner)
    }
}
impl<T> AsContextMut for Store<T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut(&mut self.inner)
    }
}
impl<T> AsContext for StoreContext<'_, T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(self.0)
    }
}
impl<T> AsContext for StoreContextMut<'_, T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(self.0)
    }
}
impl<T> AsContextMut for StoreContextMut<'_, T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut(self.0)
    }
}
impl<S: AsContext + ?Sized> AsContext for &S {
    type Data = S::Data;
    fn as_context(&self) -> StoreContext<'_, S::Data> {
        S::as_context(self)
    }
}
impl<S: AsContext + ?Sized> AsContext for &mut S {
    type Data = S::Data;
    fn as_context(&self) -> StoreContext<'_, S::Data> {
        S::as_context(self)
    }
}
impl<S: AsContextMut + ?Sized> AsContextMut for &mut S {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, S::Data> {
        S::as_context_mut(self)
    }
}

/// A typed handle to an object owned by a store: the store's id and the object's index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Stored {
    pub(crate) store_id: u64,
    pub(crate) index: usize,
}

impl Stored {
    pub(crate) fn new(store: &StoreOpaque, index: usize) -> Self {
        Self {
            store_id: store.id,
            index,
        }
    }

    /// Panics when used with another store: a programming error, as in Wasmtime.
    pub(crate) fn check(&self, store: &StoreOpaque) -> usize {
        assert_eq!(self.store_id, store.id, "object used with the wrong store");
        self.index
    }

    pub(crate) fn belongs_to(&self, store: &StoreOpaque) -> bool {
        self.store_id == store.id
    }
}

impl<'a, T> From<&'a Store<T>> for StoreContext<'a, T> {
    fn from(s: &'a Store<T>) -> Self {
        StoreContext(&s.inner)
    }
}
impl<'a, T> From<&'a mut Store<T>> for StoreContext<'a, T> {
    fn from(s: &'a mut Store<T>) -> Self {
        StoreContext(&s.inner)
    }
}
impl<'a, T> From<StoreContextMut<'a, T>> for StoreContext<'a, T> {
    fn from(s: StoreContextMut<'a, T>) -> Self {
        StoreContext(s.0)
    }
}
impl<'a, 'b: 'a, T> From<&'a StoreContextMut<'b, T>> for StoreContext<'a, T> {
    fn from(s: &'a StoreContextMut<'b, T>) -> Self {
        StoreContext(s.0)
    }
}
impl<'a, T> From<&'a mut Store<T>> for StoreContextMut<'a, T> {
    fn from(s: &'a mut Store<T>) -> Self {
        StoreContextMut(&mut s.inner)
    }
}
impl<'a, 'b: 'a, T> From<&'a mut StoreContextMut<'b, T>> for StoreContextMut<'a, T> {
    fn from(s: &'a mut StoreContextMut<'b, T>) -> Self {
        StoreContextMut(&mut *s.0)
    }
}

impl StoreOpaque {
    /// Calls `visit` with the reference word of every global, and every element of every
    /// table, whose type `kind` accepts: where the externref and exception collectors find
    /// the references the store itself holds.
    pub(crate) fn visit_held_references(
        &self,
        kind: impl Fn(wasmjit_compiler::WasmType) -> bool,
        visit: &mut dyn FnMut(u64),
    ) {
        for global in &self.globals {
            if kind(global.ty.content) {
                visit(u64::from_le_bytes(
                    global.def.bytes[..8].try_into().expect("8 bytes"),
                ));
            }
        }
        for table in &self.tables {
            if kind(table.ty.element) {
                table.elements().iter().for_each(|&word| visit(word));
            }
        }
    }
}
