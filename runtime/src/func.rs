//! Functions: wasm functions of instances and host functions, and calling them.

pub(crate) mod into_func;
pub(crate) mod typed;

use crate::call_hook::CallHook;
use crate::externals::Extern;
use crate::instance::Instance;
use crate::store::entry::{invoke_host, invoke_wasm, HostArrayCall};
use crate::store::{
    AsContext, AsContextMut, PendingError, StoreContext, StoreContextMut, StoreInner, StoreOpaque,
    Stored,
};
use crate::types::FuncType;
use crate::values::Val;
use crate::vm::instance::instance_of;
use crate::vm::type_registry::RegisteredType;
use crate::vm::vmcontext::{VMContext, VMFuncRef, VMOpaqueContext, ValRaw};
use crate::Engine;
use anyhow::{bail, Context, Result};
use std::mem::MaybeUninit;
use std::sync::Arc;
use wasmjit_compiler::{DefinedFuncIndex, EntityRef};
use wasmjit_environ::module_info::WasmType;

pub use into_func::{IntoFunc, WasmRet};
pub use typed::{TypedFunc, WasmParams, WasmResults, WasmTy};

/// A function: a wasm function of an instance or a host function, owned by a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Func(pub(crate) Stored);

/// A host function body, erased: the store, the calling instance (if called from wasm), and
/// the array of arguments in / results out.
pub(crate) type HostFn =
    dyn Fn(*mut StoreOpaque, Option<Instance>, &mut [ValRaw]) -> Result<()> + Send + Sync;

/// A store's record of a function.
pub(crate) struct FuncData {
    /// Stable address of the function's `VMFuncRef`.
    pub(crate) funcref: *const VMFuncRef,
    pub(crate) ty: Arc<RegisteredType>,
    pub(crate) kind: FuncKind,
}

pub(crate) enum FuncKind {
    /// Defined by an instance; its funcref lives in the instance's vmctx.
    Wasm,
    /// Defined by the host; its funcref lives in the context, kept alive here.
    Host { _ctx: Box<HostFuncCtx> },
}

/// The context of a host function: `VMFuncRef::vmctx` of a host function points here.
#[repr(C)]
pub(crate) struct HostFuncCtx {
    /// First field: `vmoffsets::host_ctx::ARRAY_CALL`.
    array_call: HostArrayCall,
    funcref: VMFuncRef,
    store: *mut StoreOpaque,
    func: Arc<HostFn>,
    nvalues: usize,
}

// The compiled wasm-to-host trampoline reads the entry at this offset.
const _: () = assert!(
    std::mem::offset_of!(HostFuncCtx, array_call) as u32
        == wasmjit_environ::vmoffsets::host_ctx::ARRAY_CALL
);

/// The host array-call entry shared by every host function.
///
/// # Safety
/// Called by compiled code (or `invoke_host`) with a live host context, the calling instance's
/// vmctx or null, and a buffer of `len` slots.
unsafe extern "C" fn host_array_call(
    ctx: *mut VMOpaqueContext,
    caller_vmctx: *mut VMContext,
    values: *mut ValRaw,
    len: usize,
) -> bool {
    // SAFETY: `ctx` is the `HostFuncCtx` this entry was installed in.
    let ctx = unsafe { &*(ctx as *const HostFuncCtx) };
    let store = ctx.store;
    let caller = if caller_vmctx.is_null() {
        None
    } else {
        // SAFETY: compiled code passes its own live vmctx as the caller.
        let inst = unsafe { instance_of(caller_vmctx) };
        // SAFETY: the store outlives every call into it.
        Some(Instance(Stored::new(unsafe { &*store }, inst.index)))
    };
    // SAFETY: the buffer has `len` slots (the trampoline or the host caller sized it).
    let values = unsafe { std::slice::from_raw_parts_mut(values, len.max(ctx.nvalues)) };
    let run = std::panic::AssertUnwindSafe(|| {
        // SAFETY: nothing borrows the store between the calls into it here.
        unsafe { (*store).call_hook(CallHook::CallingHost) }?;
        (ctx.func)(store, caller, values)?;
        // SAFETY: as above; the host closure has returned.
        unsafe { (*store).call_hook(CallHook::ReturningFromHost) }
    });
    let pending = match std::panic::catch_unwind(run) {
        Ok(Ok(())) => return true,
        // An exception the host function threw (`Store::throw`) or let through from wasm it
        // called: wasm that checks for exceptions after calls throws it where it called.
        Ok(Err(e))
            if e.is::<crate::ThrownException>()
                && !caller_vmctx.is_null()
                // SAFETY: the host closure has returned, so nothing else borrows the store.
                && unsafe { (*store).exceptions_enabled() && (*store).rethrow_into_wasm() } =>
        {
            return true
        }
        Ok(Err(e)) => PendingError::Error(e),
        Err(panic) => PendingError::Panic(panic),
    };
    // SAFETY: the host closure has returned, so nothing else borrows the store now.
    unsafe { (*store).pending_error = Some(pending) };
    false
}

impl Func {
    /// A host function of type `ty` whose body sees arguments and results as `Val`s.
    pub fn new<T: 'static>(
        mut store: impl AsContextMut<Data = T>,
        ty: FuncType,
        func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Func {
        let host = host_fn_from_vals::<T>(ty.clone(), func);
        let ctx = store.as_context_mut();
        Func::from_host_fn(&mut ctx.0.opaque, &ty, host)
            .expect("registering a function type cannot fail")
    }

    /// A host function from a Rust closure; its wasm type comes from the closure's types.
    /// The closure may take a leading `Caller<'_, T>`, and may return values, a tuple of
    /// values, or a `Result` of those.
    pub fn wrap<T: 'static, Params, Results>(
        mut store: impl AsContextMut<Data = T>,
        func: impl IntoFunc<T, Params, Results>,
    ) -> Func {
        let (ty, host) = func.into_host_fn();
        let ctx = store.as_context_mut();
        Func::from_host_fn(&mut ctx.0.opaque, &ty, host)
            .expect("registering a function type cannot fail")
    }

    /// A host function of type `ty` whose body reads its arguments from, and writes its
    /// results to, raw slots: `max(params, results)` of them, the arguments first, the
    /// results overwriting them from slot 0. References are in their raw forms
    /// ([`Func::from_raw`], [`ExternRef::from_raw`](crate::ExternRef::from_raw)).
    ///
    /// # Safety
    /// `func` must write a value of the matching result type into each result slot (a
    /// reference this store owns), as compiled code trusts them without checks.
    pub unsafe fn new_unchecked<T: 'static>(
        mut store: impl AsContextMut<Data = T>,
        ty: FuncType,
        func: impl Fn(Caller<'_, T>, &mut [MaybeUninit<ValRaw>]) -> Result<()> + Send + Sync + 'static,
    ) -> Func {
        let host = host_fn_from_raw::<T>(&ty, func);
        let ctx = store.as_context_mut();
        Func::from_host_fn(&mut ctx.0.opaque, &ty, host)
            .expect("registering a function type cannot fail")
    }

    /// [`Func::new`] as a `Result`, as in Wasmtime (where allocation may fail).
    pub fn try_new<T: 'static>(
        mut store: impl AsContextMut<Data = T>,
        ty: FuncType,
        func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Result<Func> {
        let host = host_fn_from_vals::<T>(ty.clone(), func);
        let ctx = store.as_context_mut();
        Func::from_host_fn(&mut ctx.0.opaque, &ty, host)
    }

    /// [`Func::wrap`] as a `Result`, as in Wasmtime (where allocation may fail).
    pub fn try_wrap<T: 'static, Params, Results>(
        mut store: impl AsContextMut<Data = T>,
        func: impl IntoFunc<T, Params, Results>,
    ) -> Result<Func> {
        let (ty, host) = func.into_host_fn();
        let ctx = store.as_context_mut();
        Func::from_host_fn(&mut ctx.0.opaque, &ty, host)
    }

    pub(crate) fn from_host_fn(
        store: &mut StoreOpaque,
        ty: &FuncType,
        func: Arc<HostFn>,
    ) -> Result<Func> {
        let registered = store.engine.inner.types.register(&ty.inner)?;
        let nvalues = ty.inner.params.len().max(ty.inner.results.len());
        let mut ctx = Box::new(HostFuncCtx {
            array_call: host_array_call,
            funcref: VMFuncRef::EMPTY,
            store: store as *mut StoreOpaque,
            func,
            nvalues,
        });
        let ctx_ptr = &mut *ctx as *mut HostFuncCtx as *mut VMOpaqueContext;
        ctx.funcref = VMFuncRef {
            wasm_call: registered.wasm_to_array(),
            array_call: host_array_call as *const u8,
            vmctx: ctx_ptr,
            type_id: registered.id,
        };
        let funcref = &ctx.funcref as *const VMFuncRef;
        store.funcs.push(FuncData {
            funcref,
            ty: registered,
            kind: FuncKind::Host { _ctx: ctx },
        });
        let index = store.funcs.len() - 1;
        store.funcref_map.insert(funcref as usize, index);
        Ok(Func(Stored::new(store, index)))
    }

    /// The raw form of this function, as compiled code and [`ValRaw`] slots hold a funcref
    /// (never null).
    pub fn to_raw(&self, mut store: impl AsContextMut) -> *mut std::ffi::c_void {
        let opaque = &store.as_context_mut().0.opaque;
        opaque.funcs[self.0.check(opaque)].funcref as *mut std::ffi::c_void
    }

    /// The function of a raw funcref from [`Func::to_raw`] or a raw slot: `None` for null and
    /// for pointers that are no function of this store.
    ///
    /// # Safety
    /// Safe to call with any value today; `unsafe` as in Wasmtime, whose raw values may not be
    /// validated.
    pub unsafe fn from_raw(
        mut store: impl AsContextMut,
        raw: *mut std::ffi::c_void,
    ) -> Option<Func> {
        Self::try_from_funcref_word(&mut store.as_context_mut().0.opaque, raw as u64)
    }

    /// The `Func` for a funcref word of compiled code (null → `None`).
    pub(crate) fn from_funcref_word(store: &mut StoreOpaque, word: u64) -> Option<Func> {
        let f = Self::try_from_funcref_word(store, word);
        assert!(
            word == 0 || f.is_some(),
            "funcref belongs to an instance of this store"
        );
        f
    }

    /// The `Func` for a funcref word, `None` for null or a word no funcref of this store has.
    pub(crate) fn try_from_funcref_word(store: &mut StoreOpaque, word: u64) -> Option<Func> {
        if word == 0 {
            return None;
        }
        if let Some(&i) = store.funcref_map.get(&(word as usize)) {
            return Some(Func(Stored::new(store, i)));
        }
        // A defined function of an instance seen for the first time.
        let inst = store.instances.iter().find(|i| i.contains(word as usize))?;
        let module = store.instance_modules[inst.index].clone();
        let offsets = &module.inner.offsets;
        let base = inst.defined_funcref(0) as usize;
        let offset = (word as usize).checked_sub(base)?;
        if offset % std::mem::size_of::<VMFuncRef>() != 0 {
            return None;
        }
        let defined = u32::try_from(offset / std::mem::size_of::<VMFuncRef>()).ok()?;
        if defined >= offsets.num_defined_funcs {
            return None;
        }
        let func_index = module
            .inner
            .info
            .func_index(DefinedFuncIndex::from_u32(defined));
        let ty = module.inner.types[module.inner.info.functions[func_index].index()].clone();
        store.funcs.push(FuncData {
            funcref: word as *const VMFuncRef,
            ty,
            kind: FuncKind::Wasm,
        });
        let index = store.funcs.len() - 1;
        store.funcref_map.insert(word as usize, index);
        Some(Func(Stored::new(store, index)))
    }

    /// The function's type.
    pub fn ty(&self, store: impl AsContext) -> FuncType {
        let store = store.as_context();
        let data = &store.0.opaque.funcs[self.0.check(&store.0.opaque)];
        FuncType::from_wasm(data.ty.ty.clone())
    }

    /// Whether this function's type matches `ty`: equal to it or a subtype of it (parameters
    /// contravariant, results covariant), as in Wasmtime.
    pub fn matches_ty(&self, store: impl AsContext, ty: &FuncType) -> bool {
        let own = self.ty(store);
        own == *ty || crate::matching::func_subtype(&own, ty)
    }

    /// The host function behind this handle, if it is one.
    pub(crate) fn host_fn(&self, store: &StoreOpaque) -> Option<Arc<HostFn>> {
        match &store.funcs[self.0.index].kind {
            FuncKind::Host { _ctx: ctx } => Some(ctx.func.clone()),
            FuncKind::Wasm => None,
        }
    }

    /// Calls the function with `params`, writing `results`. Errors (never panics) when the
    /// arguments do not match the type; a trap comes back as an error that downcasts to
    /// [`Trap`](crate::Trap).
    pub fn call(
        &self,
        mut store: impl AsContextMut,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<()> {
        let ctx = store.as_context_mut();
        let opaque = &mut ctx.0.opaque;
        opaque.check_sync_allowed()?;
        self.call_impl(opaque, params, results)
    }

    /// `call` without the sync check: shared by the sync and async entry points.
    pub(crate) fn call_impl(
        &self,
        opaque: &mut StoreOpaque,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<()> {
        if !self.0.belongs_to(opaque) {
            bail!("function used with the wrong store");
        }
        let ty = &opaque.funcs[self.0.index].ty.ty;
        let (pty, rty) = (&ty.params, &ty.results);
        if params.len() != pty.len() {
            bail!("expected {} arguments, got {}", pty.len(), params.len());
        }
        if results.len() != rty.len() {
            bail!("expected {} results, got {}", rty.len(), results.len());
        }
        // Most signatures fit in a buffer on the stack; a call then allocates nothing.
        let slots = pty.len().max(rty.len());
        let mut inline = [ValRaw::default(); INLINE_SLOTS];
        let mut heap = Vec::new();
        let raw: &mut [ValRaw] = if slots <= INLINE_SLOTS {
            &mut inline[..slots]
        } else {
            heap.resize(slots, ValRaw::default());
            &mut heap
        };
        // The result types, copied out of the store, which the call borrows mutably: on the
        // stack when they fit, so that a call touches no reference count.
        let mut inline_results = [WasmType::I32; INLINE_SLOTS];
        let heap_results: Vec<WasmType>;
        let rty: &[WasmType] = if rty.len() <= INLINE_SLOTS {
            inline_results[..rty.len()].copy_from_slice(rty);
            &inline_results[..rty.len()]
        } else {
            heap_results = rty.clone();
            &heap_results
        };
        for (i, (p, t)) in params.iter().zip(pty).enumerate() {
            if !crate::matching::val_matches(opaque, p, *t) {
                let expected = crate::ValType::from_wasm(*t);
                bail!(
                    "argument type mismatch: argument {i} is {}, expected {expected}",
                    p.static_ty()
                );
            }
            raw[i] = p.to_raw_in(opaque).context("invalid argument")?;
        }
        // SAFETY: the function belongs to this store and `raw` holds correctly typed
        // arguments in a buffer large enough for the results.
        unsafe { call_raw(opaque, self.0.index, raw)? };
        for (i, t) in rty.iter().enumerate() {
            results[i] = Val::from_raw_in(opaque, raw[i], crate::ValType::from_wasm(*t));
        }
        Ok(())
    }

    /// Calls the function with arguments read from, and results written to, `params_and_returns`
    /// (the results overwrite the arguments from slot 0). Nothing checks the values' types: this
    /// is the fast path for embedders (and the C API) that already know them.
    ///
    /// Errors when the function belongs to another store or the buffer is shorter than the
    /// parameters or the results.
    ///
    /// # Safety
    /// `params_and_returns` must point to writable slots whose first values are the
    /// function's arguments, each of its parameter's type; a reference must be one this store
    /// produced (a result of an earlier call, for instance). An exnref stays valid only while
    /// some global, table or kept exception holds it: unreachable exceptions are freed when
    /// an outermost call returns (a freed one is still safe to pass: it matches no tag).
    pub unsafe fn call_unchecked(
        &self,
        mut store: impl AsContextMut,
        params_and_returns: *mut [ValRaw],
    ) -> Result<()> {
        let ctx = store.as_context_mut();
        let opaque = &mut ctx.0.opaque;
        opaque.check_sync_allowed()?;
        if !self.0.belongs_to(opaque) {
            bail!("function used with the wrong store");
        }
        let ty = &opaque.funcs[self.0.index].ty.ty;
        let capacity = params_and_returns.len();
        if capacity < ty.params.len().max(ty.results.len()) {
            bail!(
                "the buffer of {capacity} values is smaller than the function's {} parameters or {} results",
                ty.params.len(),
                ty.results.len()
            );
        }
        if capacity == 0 {
            // SAFETY: the function takes and returns nothing; a dangling empty slice is valid.
            return unsafe { call_raw(opaque, self.0.index, &mut []) };
        }
        // SAFETY: the caller guarantees `capacity` valid slots.
        let raw = unsafe { &mut *params_and_returns };
        // SAFETY: the function belongs to this store; the caller guarantees typed arguments,
        // and the buffer was checked to be large enough for the results.
        unsafe { call_raw(opaque, self.0.index, raw) }
    }

    /// A typed view of this function; errors when `Params`/`Results` do not match its type.
    pub fn typed<Params: WasmParams, Results: WasmResults>(
        &self,
        store: impl AsContext,
    ) -> Result<TypedFunc<Params, Results>> {
        let ty = self.ty(&store);
        Params::typecheck(ty.params()).context("type mismatch with parameters")?;
        Results::typecheck_results(ty.results()).context("type mismatch with results")?;
        let store = store.as_context();
        let funcref = store.0.opaque.funcs[self.0.index].funcref;
        Ok(TypedFunc::new(*self, funcref))
    }
}

/// Argument/result slots `Func::call` keeps on the stack before it allocates.
const INLINE_SLOTS: usize = 8;

/// Calls function `index` of `store` with a prepared buffer.
///
/// # Safety
/// `raw` must hold the function's arguments, correctly typed, and be at least
/// max(params, results) long.
pub(crate) unsafe fn call_raw(
    store: &mut StoreOpaque,
    index: usize,
    raw: &mut [ValRaw],
) -> Result<()> {
    let data = &store.funcs[index];
    let funcref = data.funcref;
    let wasm = matches!(data.kind, FuncKind::Wasm);
    store.call_hook(CallHook::CallingWasm)?;
    let result = if wasm {
        // SAFETY: forwarded from the caller.
        unsafe { invoke_wasm(store, funcref, raw.as_mut_ptr()) }
    } else {
        // SAFETY: forwarded from the caller.
        unsafe { invoke_host(store, funcref, raw.as_mut_ptr(), raw.len()) }
    };
    store.call_hook(CallHook::ReturningFromWasm)?;
    result
}

/// Builds the erased body of a `Func::new`-style host function.
pub(crate) fn host_fn_from_vals<T: 'static>(
    ty: FuncType,
    func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
) -> Arc<HostFn> {
    Arc::new(move |store: *mut StoreOpaque, caller, raw: &mut [ValRaw]| {
        // SAFETY: host functions of a `Store<T>` are only created through APIs bounded by
        // `Data = T`, and `StoreOpaque` is the first field of the `repr(C)` `StoreInner<T>`.
        let inner = unsafe { &mut *(store as *mut StoreInner<T>) };
        let params: Vec<Val> = ty
            .params()
            .enumerate()
            .map(|(i, t)| Val::from_raw_in(&mut inner.opaque, raw[i], t))
            .collect();
        let mut results: Vec<Val> = ty
            .results()
            .map(|t| Val::default_for_ty(&t).expect("every type has a default"))
            .collect();
        func(
            Caller {
                store: StoreContextMut(&mut *inner),
                caller,
            },
            &params,
            &mut results,
        )?;
        for (i, (r, t)) in results.iter().zip(&ty.inner.results).enumerate() {
            if !crate::matching::val_matches(&inner.opaque, r, *t) {
                let t = crate::ValType::from_wasm(*t);
                bail!("function attempted to return an incompatible value: result {i} is {}, expected {t}", r.static_ty());
            }
            raw[i] = r.to_raw_in(&inner.opaque)?;
        }
        Ok(())
    })
}

/// Builds the erased body of a `Func::new_unchecked`-style host function.
pub(crate) fn host_fn_from_raw<T: 'static>(
    ty: &FuncType,
    func: impl Fn(Caller<'_, T>, &mut [MaybeUninit<ValRaw>]) -> Result<()> + Send + Sync + 'static,
) -> Arc<HostFn> {
    let slots = ty.inner.params.len().max(ty.inner.results.len());
    Arc::new(move |store: *mut StoreOpaque, caller, raw: &mut [ValRaw]| {
        // SAFETY: as in `host_fn_from_vals`: the store is a `Store<T>`'s.
        let inner = unsafe { &mut *(store as *mut StoreInner<T>) };
        let raw = &mut raw[..slots];
        // SAFETY: `MaybeUninit<ValRaw>` has `ValRaw`'s layout, and every `ValRaw` is a valid
        // `MaybeUninit<ValRaw>`; the slice is only borrowed for the call.
        let raw = unsafe { &mut *(raw as *mut [ValRaw] as *mut [MaybeUninit<ValRaw>]) };
        func(
            Caller {
                store: StoreContextMut(&mut *inner),
                caller,
            },
            raw,
        )
    })
}

/// What a host function sees of its caller: the store (and its data) and the calling instance.
pub struct Caller<'a, T> {
    pub(crate) store: StoreContextMut<'a, T>,
    pub(crate) caller: Option<Instance>,
}

impl<T> Caller<'_, T> {
    /// The store's host data.
    pub fn data(&self) -> &T {
        &self.store.0.data
    }
    /// The store's host data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.store.0.data
    }
    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.store.0.opaque.engine
    }
    /// An export of the calling instance (`None` when called from the host, or no such export).
    pub fn get_export(&mut self, name: &str) -> Option<Extern> {
        let instance = self.caller?;
        instance.get_export(&mut self.store, name)
    }
    /// The export `export` locates in the calling instance (see
    /// [`Instance::get_module_export`]).
    pub fn get_module_export(&mut self, export: &crate::ModuleExport) -> Option<Extern> {
        let instance = self.caller?;
        instance.get_module_export(&mut self.store, export)
    }
}

impl<T> AsContext for Caller<'_, T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(self.store.0)
    }
}

impl<T> AsContextMut for Caller<'_, T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut(self.store.0)
    }
}

impl<'a, T> From<&'a Caller<'_, T>> for StoreContext<'a, T> {
    fn from(c: &'a Caller<'_, T>) -> Self {
        StoreContext(c.store.0)
    }
}
impl<'a, T> From<&'a mut Caller<'_, T>> for StoreContext<'a, T> {
    fn from(c: &'a mut Caller<'_, T>) -> Self {
        StoreContext(c.store.0)
    }
}
impl<'a, T> From<&'a mut Caller<'_, T>> for StoreContextMut<'a, T> {
    fn from(c: &'a mut Caller<'_, T>) -> Self {
        StoreContextMut(&mut *c.store.0)
    }
}
