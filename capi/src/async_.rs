//! `wasmtime/async.h`: async host functions, call futures and custom fiber stacks.
//!
//! A [`wasmtime_call_future_t`] owns a boxed runtime future (a call or an instantiation
//! running on a fiber) and drives it with a no-op waker each time C polls it. The runtime
//! futures borrow the store, the linker or instance-pre, the module and the argument and
//! result arrays; C keeps all of these alive and untouched until it deletes the future (the
//! header's contract), so the futures are built from raw pointers and hold no Rust lifetime.
//! When the future completes it writes the results, or a trap to `*trap_ret`, or an error to
//! `*error_ret`; a panic while polling becomes an error. Deleting a future that is still
//! running cancels the call: the fiber unwinds the call as a trap and its stack is released,
//! leaving the store usable.
//!
//! Async host functions become runtime host functions on raw slots that call the C callback
//! once, then, if it returned a pending continuation, poll it in place until it reports
//! completion, suspending the call's fiber in between ([`wasmjit::AsyncHostCall`]): no boxed
//! future, and no allocation for up to `INLINE_VALUES` arguments and results.
//!
//! A `wasmtime_stack_creator_t` becomes a [`StackCreator`] whose stacks are the memory the C
//! callbacks describe.

use crate::func::{buffer, trap_or_error, wasmtime_caller_t, INLINE_VALUES};
use crate::store::StoreData;
use crate::{
    wasm_config_t, wasm_functype_t, wasm_trap_t, wasmtime_context_t, wasmtime_error_t,
    wasmtime_func_t, wasmtime_instance_pre_t, wasmtime_instance_t, wasmtime_linker_t,
    wasmtime_module_t, wasmtime_val_t, CError, Finalizer, ForeignData,
};
use anyhow::{anyhow, bail, Result};
use std::cell::{Cell, UnsafeCell};
use std::ffi::c_void;
use std::future::Future;
use std::mem::MaybeUninit;
use std::ops::Range;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::ptr;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use wasmjit::{Caller, Instance, Val, ValRaw, ValType};
use wasmjit_fiber::{StackCreator, StackMemory};

// ---------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------

/// Enables the async entry points; the sync ones then return errors on this engine's stores.
#[no_mangle]
pub extern "C" fn wasmtime_config_async_support_set(c: &mut wasm_config_t, enable: bool) {
    c.config.async_support(enable);
}

/// The size of the stack each async call runs on (at least `max_wasm_stack`, checked when the
/// engine is made).
#[no_mangle]
pub extern "C" fn wasmtime_config_async_stack_size_set(c: &mut wasm_config_t, size: u64) {
    c.config
        .async_stack_size(usize::try_from(size).unwrap_or(usize::MAX));
}

// ---------------------------------------------------------------------------------------
// Custom stacks
// ---------------------------------------------------------------------------------------

/// `wasmtime_stack_memory_get_callback_t`: the top of a stack and its length.
pub type wasmtime_stack_memory_get_callback_t =
    unsafe extern "C" fn(*mut c_void, *mut usize) -> *mut u8;

/// `wasmtime_stack_memory_t`: a stack made by the embedder.
#[repr(C)]
pub struct wasmtime_stack_memory_t {
    pub env: *mut c_void,
    pub get_stack_memory: Option<wasmtime_stack_memory_get_callback_t>,
    pub finalizer: Finalizer,
}

/// `wasmtime_new_stack_memory_callback_t`: makes a stack of at least `size` bytes.
pub type wasmtime_new_stack_memory_callback_t =
    unsafe extern "C" fn(
        *mut c_void,
        usize,
        *mut wasmtime_stack_memory_t,
    ) -> Option<Box<wasmtime_error_t>>;

/// `wasmtime_stack_creator_t`: the embedder's stack factory.
#[repr(C)]
pub struct wasmtime_stack_creator_t {
    pub env: *mut c_void,
    pub new_stack: Option<wasmtime_new_stack_memory_callback_t>,
    pub finalizer: Finalizer,
}

/// A [`StackCreator`] calling the embedder's `new_stack`. Its finalizer runs when the last
/// engine (or configuration) using it is gone.
struct CStackCreator {
    env: ForeignData,
    new_stack: wasmtime_new_stack_memory_callback_t,
}

/// A stack made by the embedder: `[top - len, top)`, as its `get_stack_memory` said when it
/// was made. Its finalizer runs when the fiber is done with it.
struct CStackMemory {
    /// Keeps the embedder's `env` and runs its finalizer on drop.
    _env: ForeignData,
    top: *mut u8,
    len: usize,
}

// SAFETY: the header requires the creator's callbacks to be thread-safe; the `env` pointer is
// only passed back to them.
unsafe impl StackCreator for CStackCreator {
    fn new_stack(&self, size: usize, zeroed: bool) -> Result<Box<dyn StackMemory>> {
        let mut out = wasmtime_stack_memory_t {
            env: ptr::null_mut(),
            get_stack_memory: None,
            finalizer: None,
        };
        // SAFETY: the callback gets its environment, the size and an output struct to fill.
        if let Some(err) = unsafe { (self.new_stack)(self.env.ptr(), size, &mut out) } {
            return Err(err.error);
        }
        // From here on the stack is ours: dropping `env` runs its finalizer, on every path.
        let env = ForeignData::new(out.env, out.finalizer);
        let get = out
            .get_stack_memory
            .ok_or_else(|| anyhow!("the stack creator returned no get_stack_memory callback"))?;
        let mut len = 0usize;
        // SAFETY: the callback gets the stack's environment and an output length.
        let top = unsafe { get(env.ptr(), &mut len) };
        if top.is_null() || (top as usize) < len {
            bail!("the stack creator returned an invalid stack (top {top:?}, length {len})");
        }
        if len < size {
            bail!("the stack creator returned a stack of {len} bytes; {size} were asked for");
        }
        let mut memory = CStackMemory {
            _env: env,
            top,
            len,
        };
        if zeroed {
            memory.zero()?;
        }
        Ok(Box::new(memory))
    }
}

// SAFETY: the embedder hands the memory over to us until the finalizer runs (the header's
// contract for `new_stack`), and `get_stack_memory` describes its usable part, guard pages
// excluded; the values are read once and never change. The guard region is the embedder's
// business: none is reported.
unsafe impl StackMemory for CStackMemory {
    fn top(&self) -> *mut u8 {
        self.top
    }

    fn range(&self) -> Range<usize> {
        let top = self.top as usize;
        top - self.len..top
    }

    fn guard_range(&self) -> Range<*mut u8> {
        let bottom = self.top.wrapping_sub(self.len);
        bottom..bottom
    }
}

// SAFETY: the memory is owned by this object alone and the pointer is only an address; the
// embedder's callbacks are required to be thread-safe.
unsafe impl Send for CStackMemory {}
// SAFETY: `&CStackMemory` only reads the two addresses.
unsafe impl Sync for CStackMemory {}

/// Makes async calls of engines made from `c` run on stacks from `creator`. The struct's
/// values are copied; its finalizer runs once, when no configuration or engine uses it.
#[no_mangle]
pub extern "C" fn wasmtime_config_host_stack_creator_set(
    c: &mut wasm_config_t,
    creator: &wasmtime_stack_creator_t,
) {
    let env = ForeignData::new(creator.env, creator.finalizer);
    let Some(new_stack) = creator.new_stack else {
        crate::fatal(
            "wasmtime_config_host_stack_creator_set",
            "the stack creator has no new_stack callback",
        )
    };
    crate::abort_on_panic("wasmtime_config_host_stack_creator_set", move || {
        c.config
            .with_host_stack(Arc::new(CStackCreator { env, new_stack }));
    })
}

// ---------------------------------------------------------------------------------------
// Store settings
// ---------------------------------------------------------------------------------------

/// With fuel on, async calls yield every `interval` units of fuel (0: never yield).
#[no_mangle]
pub extern "C" fn wasmtime_context_fuel_async_yield_interval(
    context: &mut wasmtime_context_t,
    interval: u64,
) -> CError {
    crate::error::guard(|| {
        context
            .store
            .fuel_async_yield_interval((interval != 0).then_some(interval))
    })
}

/// When the epoch deadline is reached, async calls yield, then continue with the deadline
/// `delta` epochs after the epoch they resume at.
#[no_mangle]
pub extern "C" fn wasmtime_context_epoch_deadline_async_yield_and_update(
    context: &mut wasmtime_context_t,
    delta: u64,
) -> CError {
    crate::error::guard(|| {
        context.store.epoch_deadline_async_yield_and_update(delta);
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------
// Call futures
// ---------------------------------------------------------------------------------------

/// Where a future reports a failure.
#[derive(Clone, Copy)]
struct Outputs {
    trap_ret: *mut *mut wasm_trap_t,
    error_ret: *mut *mut wasmtime_error_t,
}

impl Outputs {
    /// Reports a failure: a trap goes to `trap_ret`, anything else to `error_ret`.
    ///
    /// # Safety
    /// Both pointers must be valid for writes (the header requires them to be, until the
    /// future is deleted).
    unsafe fn fail(self, e: anyhow::Error) {
        let mut trap = ptr::null_mut();
        match trap_or_error(e, &mut trap) {
            // SAFETY: forwarded from the caller.
            Some(err) => unsafe { *self.error_ret = Box::into_raw(err) },
            // SAFETY: forwarded from the caller.
            None => unsafe { *self.trap_ret = trap },
        }
    }

    /// Reports an error (never a trap).
    ///
    /// # Safety
    /// As for [`fail`](Self::fail).
    unsafe fn error(self, e: anyhow::Error) {
        // SAFETY: forwarded from the caller.
        unsafe { *self.error_ret = Box::into_raw(Box::new(wasmtime_error_t::from(e))) };
    }
}

/// A call or instantiation in progress (`wasmtime_call_future_t`).
///
/// C may reach the future again while it is being polled (a host function of the call
/// polling or deleting its own future): the entry points take it by raw pointer and only
/// read `polling` before touching the rest, and such a call aborts with a message instead of
/// resuming a running fiber or freeing the memory it runs in.
pub struct wasmtime_call_future_t {
    /// The work; it writes its own outcome when it completes. `None` once done.
    future: UnsafeCell<Option<Pin<Box<dyn Future<Output = ()> + 'static>>>>,
    out: Outputs,
    /// Set while `wasmtime_call_future_poll` runs the work.
    polling: Cell<bool>,
}

impl wasmtime_call_future_t {
    fn new(out: Outputs, future: impl Future<Output = ()> + 'static) -> Box<Self> {
        Box::new(Self {
            future: UnsafeCell::new(Some(Box::pin(future))),
            out,
            polling: Cell::new(false),
        })
    }

    /// Drops the work after it completed or panicked; a second panic is discarded.
    ///
    /// # Safety
    /// Nothing else may be using the work (`polling` is false).
    unsafe fn release(&self) {
        // SAFETY: the caller's guarantee.
        if let Some(future) = unsafe { (*self.future.get()).take() } {
            if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(future))) {
                // Dropping the payload could panic too; leak it rather than unwind into C.
                std::mem::forget(payload);
            }
        }
    }
}

/// Aborts when `future` is null or is being polled further up this thread's stack.
///
/// # Safety
/// A non-null `future` must come from one of this file's constructors and not be deleted.
unsafe fn check_not_polling<'a>(
    name: &str,
    future: *mut wasmtime_call_future_t,
) -> &'a wasmtime_call_future_t {
    // SAFETY: the caller's guarantee; only shared references to the future are ever made,
    // and its mutable parts are cells.
    let Some(future) = (unsafe { future.as_ref() }) else {
        crate::fatal(name, "the future is null")
    };
    if future.polling.get() {
        crate::fatal(
            name,
            "the future is being polled: a host function of its own call cannot poll or delete it",
        );
    }
    future
}

/// Runs the work until it completes (true: its outcome has been written) or suspends (false).
/// Polling a completed future again does nothing and returns true.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_call_future_poll(future: *mut wasmtime_call_future_t) -> bool {
    // SAFETY: C passes a future it has not deleted.
    let future = unsafe { check_not_polling("wasmtime_call_future_poll", future) };
    future.polling.set(true);
    // SAFETY: `polling` keeps every other access to the work out until this poll ends.
    let Some(work) = (unsafe { &mut *future.future.get() }).as_mut() else {
        future.polling.set(false);
        return true;
    };
    let mut cx = Context::from_waker(Waker::noop());
    let polled = catch_unwind(AssertUnwindSafe(|| work.as_mut().poll(&mut cx)));
    future.polling.set(false);
    match polled {
        Ok(Poll::Pending) => false,
        Ok(Poll::Ready(())) => {
            // SAFETY: the poll is over.
            unsafe { future.release() };
            true
        }
        Err(payload) => {
            // SAFETY: the poll is over.
            unsafe { future.release() };
            // SAFETY: `error_ret` stays valid until the future is deleted (header contract).
            unsafe { future.out.error(crate::panic_error(payload)) };
            true
        }
    }
}

/// Frees a future. Work still in progress is cancelled: the fiber finishes (the call ends as
/// a trap nobody sees), its stack is released and the store can be used again.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_call_future_delete(future: *mut wasmtime_call_future_t) {
    if future.is_null() {
        return;
    }
    // SAFETY: C passes a future it has not deleted.
    unsafe { check_not_polling("wasmtime_call_future_delete", future) };
    // SAFETY: made by `Box::into_raw` (returned as a `Box` to C), not polled now, and C
    // gives up its pointer.
    let future = unsafe { Box::from_raw(future) };
    crate::abort_on_panic("wasmtime_call_future_delete", || drop(future));
}

/// Calls `func` asynchronously. When the returned future completes, the `nresults` results
/// are in `results`, or a trap is in `*trap_ret`, or an error in `*error_ret`.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_func_call_async(
    context: &mut wasmtime_context_t,
    func: &wasmtime_func_t,
    args: *const wasmtime_val_t,
    nargs: usize,
    results: *mut wasmtime_val_t,
    nresults: usize,
    trap_ret: *mut *mut wasm_trap_t,
    error_ret: *mut *mut wasmtime_error_t,
) -> Box<wasmtime_call_future_t> {
    let out = Outputs {
        trap_ret,
        error_ret,
    };
    // Read the function and the arguments now; a failure is reported by the first poll.
    let prepared = crate::catch_panic(|| {
        let data = context.data();
        let f = data.func_from_c(func)?;
        // SAFETY: C passes `nargs` arguments.
        let args = unsafe { crate::slice_from_raw(args, nargs) };
        let params = args
            .iter()
            .map(|a| data.val_from_c(a))
            .collect::<Result<Vec<_>>>()?;
        Ok((f, params))
    });
    let context: *mut wasmtime_context_t = context;
    let work = async move {
        let (f, params) = match prepared {
            Ok(p) => p,
            // SAFETY: the output pointers outlive the future (header contract).
            Err(e) => return unsafe { out.error(e) },
        };
        // SAFETY: C keeps the context alive, and uses its store for nothing else, until it
        // deletes this future (header contract: one future per store, arguments unmodified),
        // so this exclusive borrow, unbounded by any Rust lifetime, is valid while the future
        // exists.
        let ctx = unsafe { &mut *context };
        let mut outs = vec![Val::I32(0); nresults];
        match f.call_async(&mut ctx.store, &params, &mut outs).await {
            Ok(()) => {
                let data = ctx.data_mut();
                for (i, v) in outs.into_iter().enumerate() {
                    // SAFETY: `results` has room for `nresults` values (possibly
                    // uninitialized) and outlives the future (header contract).
                    unsafe { ptr::write(results.add(i), data.val_to_c(v)) };
                }
            }
            // SAFETY: the output pointers outlive the future (header contract).
            Err(e) => unsafe { out.fail(e) },
        }
    };
    wasmtime_call_future_t::new(out, work)
}

/// Records a finished instantiation: on success counts it against the store's limit and
/// writes the handle, otherwise reports the trap or error.
///
/// # Safety
/// `instance` and the output pointers must be valid for writes.
unsafe fn finish_instantiation(
    ctx: &mut wasmtime_context_t,
    made: Result<Instance>,
    instance: *mut wasmtime_instance_t,
    out: Outputs,
) {
    match made {
        Ok(i) => {
            let data = ctx.data_mut();
            data.instance_count += 1;
            let c = data.instance_to_c(i);
            // SAFETY: forwarded from the caller.
            unsafe { ptr::write(instance, c) };
        }
        // SAFETY: forwarded from the caller.
        Err(e) => unsafe { out.fail(e) },
    }
}

/// Instantiates `module` asynchronously, resolving its imports with `linker`; its start
/// function runs on the fiber and may yield.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_linker_instantiate_async(
    linker: &wasmtime_linker_t,
    context: &mut wasmtime_context_t,
    module: &wasmtime_module_t,
    instance: *mut wasmtime_instance_t,
    trap_ret: *mut *mut wasm_trap_t,
    error_ret: *mut *mut wasmtime_error_t,
) -> Box<wasmtime_call_future_t> {
    let out = Outputs {
        trap_ret,
        error_ret,
    };
    let linker: *const wasmtime_linker_t = linker;
    let module: *const wasmtime_module_t = module;
    let context: *mut wasmtime_context_t = context;
    let work = async move {
        // SAFETY: C keeps the linker, the module and the context alive and unmodified, and
        // uses the store for nothing else, until it deletes this future (header contract), so
        // these borrows, unbounded by any Rust lifetime, are valid while the future exists.
        let (linker, module, ctx) = unsafe { (&*linker, &*module, &mut *context) };
        if let Err(e) = ctx.data().check_instance_limit() {
            // SAFETY: the output pointers outlive the future (header contract).
            return unsafe { out.error(e) };
        }
        let made = linker
            .linker
            .instantiate_async(&mut ctx.store, &module.module)
            .await;
        // SAFETY: `instance` and the output pointers outlive the future (header contract).
        unsafe { finish_instantiation(ctx, made, instance, out) }
    };
    wasmtime_call_future_t::new(out, work)
}

/// Instantiates an instance-pre asynchronously; its start function runs on the fiber and may
/// yield.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_instance_pre_instantiate_async(
    instance_pre: &wasmtime_instance_pre_t,
    context: &mut wasmtime_context_t,
    instance: *mut wasmtime_instance_t,
    trap_ret: *mut *mut wasm_trap_t,
    error_ret: *mut *mut wasmtime_error_t,
) -> Box<wasmtime_call_future_t> {
    let out = Outputs {
        trap_ret,
        error_ret,
    };
    let pre: *const wasmtime_instance_pre_t = instance_pre;
    let context: *mut wasmtime_context_t = context;
    let work = async move {
        // SAFETY: C keeps the instance-pre and the context alive and unmodified, and uses the
        // store for nothing else, until it deletes this future (header contract), so these
        // borrows, unbounded by any Rust lifetime, are valid while the future exists.
        let (pre, ctx) = unsafe { (&*pre, &mut *context) };
        if let Err(e) = ctx.data().check_instance_limit() {
            // SAFETY: the output pointers outlive the future (header contract).
            return unsafe { out.error(e) };
        }
        let made = pre.pre.instantiate_async(&mut ctx.store).await;
        // SAFETY: `instance` and the output pointers outlive the future (header contract).
        unsafe { finish_instantiation(ctx, made, instance, out) }
    };
    wasmtime_call_future_t::new(out, work)
}

// ---------------------------------------------------------------------------------------
// Async host functions
// ---------------------------------------------------------------------------------------

/// `wasmtime_func_async_continuation_callback_t`: true once the host operation is done.
pub type wasmtime_func_async_continuation_callback_t = unsafe extern "C" fn(*mut c_void) -> bool;

/// `wasmtime_async_continuation_t`: a pending host operation.
#[repr(C)]
pub struct wasmtime_async_continuation_t {
    pub callback: Option<wasmtime_func_async_continuation_callback_t>,
    pub env: *mut c_void,
    pub finalizer: Finalizer,
}

/// `wasmtime_func_async_callback_t`: the body of an async host function.
pub type wasmtime_func_async_callback_t = unsafe extern "C" fn(
    *mut c_void,
    *mut wasmtime_caller_t,
    *const wasmtime_val_t,
    usize,
    *mut wasmtime_val_t,
    usize,
    *mut *mut wasm_trap_t,
    *mut wasmtime_async_continuation_t,
);

/// What one async host call got back from C: its continuation and its trap slot. Dropping it
/// runs the continuation's finalizer and frees a trap nobody took, whether the call finished
/// or was cancelled.
struct HostCallState {
    continuation: wasmtime_async_continuation_t,
    trap: *mut wasm_trap_t,
}

impl HostCallState {
    /// Polls the continuation until it reports completion (no callback: already complete).
    /// The waker is woken before each `Pending`, since nothing else will wake it.
    fn continuation_done(&mut self) -> impl Future<Output = ()> + '_ {
        std::future::poll_fn(move |cx| match self.continuation.callback {
            // SAFETY: the callback gets its environment, until it has returned true once.
            Some(callback) if !unsafe { callback(self.continuation.env) } => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            _ => {
                self.continuation.callback = None;
                Poll::Ready(())
            }
        })
    }

    /// The trap the callback or its continuation set, if any (ownership moves to the caller).
    fn take_trap(&mut self) -> Option<Box<wasm_trap_t>> {
        let trap = std::mem::replace(&mut self.trap, ptr::null_mut());
        // SAFETY: a non-null trap was set by C, which passes ownership of it to us.
        (!trap.is_null()).then(|| unsafe { Box::from_raw(trap) })
    }
}

impl Drop for HostCallState {
    fn drop(&mut self) {
        drop(self.take_trap());
        if let Some(finalizer) = self.continuation.finalizer.take() {
            // SAFETY: the continuation's finalizer, called once with its environment.
            unsafe { finalizer(self.continuation.env) };
        }
    }
}

/// The parameter and result types of an async host function, read once at its definition.
struct AsyncHostType {
    params: Vec<ValType>,
    results: Vec<ValType>,
}

/// One call of an async host function, on the runtime's raw slots: calls `cb`, waits in place
/// (suspending the call's fiber) until its continuation reports completion, then returns its
/// trap or writes its results. Up to `INLINE_VALUES` arguments and results live on this
/// frame: a call allocates nothing.
fn async_host_call(
    cb: wasmtime_func_async_callback_t,
    env: *mut c_void,
    ty: &AsyncHostType,
    mut caller: Caller<'_, StoreData>,
    raw: &mut [MaybeUninit<ValRaw>],
) -> Result<()> {
    // Fails (before C sees the call) when the call is not an async one.
    let call = caller.async_host_call()?;
    let none = wasmtime_val_t::default();
    let (mut inline_args, mut heap_args) = ([none; INLINE_VALUES], Vec::new());
    let args = buffer(&mut inline_args, &mut heap_args, ty.params.len(), none);
    for ((arg, slot), t) in args.iter_mut().zip(raw.iter()).zip(&ty.params) {
        // SAFETY: the runtime passes the arguments in the first slots, of the function's
        // parameter types, as values of this store.
        let v = unsafe { Val::from_raw(&mut caller, slot.assume_init(), t.clone()) };
        *arg = caller.data_mut().val_to_c(v);
    }
    let (mut inline_outs, mut heap_outs) = ([none; INLINE_VALUES], Vec::new());
    let outs = buffer(&mut inline_outs, &mut heap_outs, ty.results.len(), none);
    let mut c = wasmtime_caller_t { caller };
    let mut state = HostCallState {
        continuation: wasmtime_async_continuation_t {
            callback: None,
            env: ptr::null_mut(),
            finalizer: None,
        },
        trap: ptr::null_mut(),
    };
    // SAFETY: the callback gets its environment, the caller, the argument and result arrays
    // with their lengths, and the trap and continuation slots. The arrays and slots live on
    // this frame, which stays where it is until the continuation has completed or the call
    // is cancelled, as the header promises.
    unsafe {
        cb(
            env,
            &mut c,
            args.as_ptr(),
            args.len(),
            outs.as_mut_ptr(),
            outs.len(),
            &mut state.trap,
            &mut state.continuation,
        )
    };
    if state.continuation.callback.is_some() {
        // A cancelled call fails here; `state` then finalizes the continuation.
        call.block_on(pin!(state.continuation_done()))?;
    }
    let trap = state.take_trap();
    drop(state);
    if let Some(trap) = trap {
        return Err(trap.error);
    }
    let caller = &mut c.caller;
    for (i, ((slot, out), t)) in raw.iter_mut().zip(outs.iter()).zip(&ty.results).enumerate() {
        let v = caller.data().val_from_c(out)?;
        if !v.matches_ty(&*caller, t)? {
            bail!(
                "function attempted to return an incompatible value: result {i} is {}, expected {t}",
                v.ty(&*caller)?
            );
        }
        *slot = MaybeUninit::new(v.to_raw(&mut *caller)?);
    }
    Ok(())
}

/// Defines `module::name` as an async host function of type `ty` calling `cb` with `data`;
/// `finalizer` runs with `data` when the linker and the functions made from it are gone (also
/// right away when the definition fails).
#[no_mangle]
pub unsafe extern "C" fn wasmtime_linker_define_async_func(
    linker: &mut wasmtime_linker_t,
    module: *const u8,
    module_len: usize,
    name: *const u8,
    name_len: usize,
    ty: &wasm_functype_t,
    cb: wasmtime_func_async_callback_t,
    data: *mut c_void,
    finalizer: Finalizer,
) -> CError {
    let env = ForeignData::new(data, finalizer);
    crate::error::guard(move || {
        // SAFETY: C passes the names with their lengths.
        let module = unsafe { crate::str_from_raw(module, module_len) }?;
        // SAFETY: as above.
        let name = unsafe { crate::str_from_raw(name, name_len) }?;
        let ty = ty.func().ty();
        let types = AsyncHostType {
            params: ty.params().collect(),
            results: ty.results().collect(),
        };
        // SAFETY: `async_host_call` writes each result slot with a value of this store that
        // matches the result's type, or fails.
        unsafe {
            linker
                .linker
                .func_new_unchecked(module, name, ty, move |caller, raw| {
                    async_host_call(cb, env.ptr(), &types, caller, raw)
                })
        }?;
        Ok(())
    })
}

/// The runtime tests' child-process runner (the same protocol: `--exact NAME --ignored`).
#[cfg(test)]
#[path = "../../runtime/tests/all/support/child.rs"]
#[allow(dead_code)]
mod test_child;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{wasm_config_new, wasm_engine_new_with_config, wasmtime_store_new};
    use test_child as child;
    use wasmjit::{Func, FuncType, ValType};

    /// Instantiates `module` in the context's store through the async entry point, polled to
    /// the end on the spot.
    fn instantiate_now(ctx: &mut wasmtime_context_t, module: &wasmjit::Module) -> Instance {
        let mut instantiate = Box::pin(Instance::new_async(&mut ctx.store, module, &[]));
        loop {
            if let Poll::Ready(i) = instantiate
                .as_mut()
                .poll(&mut Context::from_waker(Waker::noop()))
            {
                break i.unwrap();
            }
        }
    }

    fn message(err: *mut wasmtime_error_t) -> String {
        assert!(!err.is_null());
        // SAFETY: a non-null error written by a future, owned by us now.
        let err = unsafe { Box::from_raw(err) };
        crate::error::error_message(&err.error)
    }

    #[test]
    fn a_panic_while_polling_becomes_an_error() {
        let mut trap = ptr::null_mut();
        let mut err = ptr::null_mut();
        let out = Outputs {
            trap_ret: &mut trap,
            error_ret: &mut err,
        };
        let mut polls = 0;
        let future = wasmtime_call_future_t::new(out, async move {
            std::future::poll_fn(|cx| {
                polls += 1;
                if polls < 3 {
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                panic!("boom");
            })
            .await
        });
        let future = Box::into_raw(future);
        // SAFETY: a live future, deleted last.
        unsafe {
            assert!(!wasmtime_call_future_poll(future));
            assert!(!wasmtime_call_future_poll(future));
            assert!(wasmtime_call_future_poll(future));
            assert!(wasmtime_call_future_poll(future));
            wasmtime_call_future_delete(future);
        }
        assert!(trap.is_null());
        assert!(message(err).contains("boom"));
    }

    #[test]
    fn a_panicking_host_function_fails_the_call_and_keeps_the_store() {
        let mut config = wasm_config_new();
        wasmtime_config_async_support_set(&mut config, true);
        let engine = wasm_engine_new_with_config(config).unwrap();
        let mut store = wasmtime_store_new(&engine, ptr::null_mut(), None);
        let ctx = &mut store.context;
        let ty = FuncType::from_types([ValType::I32], [ValType::I32]);
        let f = Func::new(&mut ctx.store, ty, |_, params, results| {
            if params[0].unwrap_i32() == 0 {
                panic!("host bug");
            }
            results[0] = params[0];
            Ok(())
        });
        let f = ctx.data_mut().func_to_c(f);
        for (arg, expect) in [(0, Err("host bug")), (7, Ok(7))] {
            let args = [ctx.data_mut().val_to_c(Val::I32(arg))];
            let mut results = [wasmtime_val_t::default()];
            let mut trap = ptr::null_mut();
            let mut err = ptr::null_mut();
            // SAFETY: everything passed outlives the future, deleted below.
            let future = unsafe {
                wasmtime_func_call_async(
                    ctx,
                    &f,
                    args.as_ptr(),
                    1,
                    results.as_mut_ptr(),
                    1,
                    &mut trap,
                    &mut err,
                )
            };
            let future = Box::into_raw(future);
            // SAFETY: a live future, deleted right after.
            unsafe {
                assert!(wasmtime_call_future_poll(future));
                wasmtime_call_future_delete(future);
            }
            assert!(trap.is_null());
            match expect {
                Err(msg) => assert!(message(err).contains(msg)),
                Ok(v) => {
                    assert!(err.is_null());
                    // SAFETY: the call wrote an i32 result.
                    assert_eq!(unsafe { results[0].of.i32 }, v);
                }
            }
        }
    }

    /// The future a host function reaches back to, in the child process.
    static OWN_FUTURE: std::sync::atomic::AtomicPtr<wasmtime_call_future_t> =
        std::sync::atomic::AtomicPtr::new(ptr::null_mut());

    /// Runs the ignored test `name` in a child process (re-running this test binary) and
    /// returns its exit status and standard error.
    fn run_in_child(name: &str) -> (std::process::ExitStatus, String) {
        let out = child::child_output(module_path!(), name);
        (
            out.status,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// A host function of a call polls (`delete` false) or deletes its own future.
    fn reenter_own_future(delete: bool) {
        if !child::in_child() {
            return;
        }
        let mut config = wasm_config_new();
        wasmtime_config_async_support_set(&mut config, true);
        let engine = wasm_engine_new_with_config(config).unwrap();
        let mut store = wasmtime_store_new(&engine, ptr::null_mut(), None);
        let ctx = &mut store.context;
        let f = Func::new(
            &mut ctx.store,
            FuncType::from_types([], []),
            move |_, _, _| {
                let future = OWN_FUTURE.load(std::sync::atomic::Ordering::SeqCst);
                // SAFETY: not safe at all: the point of the test (the call must abort).
                unsafe {
                    if delete {
                        wasmtime_call_future_delete(future);
                    } else {
                        wasmtime_call_future_poll(future);
                    }
                }
                Ok(())
            },
        );
        let f = ctx.data_mut().func_to_c(f);
        let mut trap = ptr::null_mut();
        let mut err = ptr::null_mut();
        // SAFETY: everything passed outlives the future, which the process never survives.
        let future = Box::into_raw(unsafe {
            wasmtime_func_call_async(
                ctx,
                &f,
                ptr::null(),
                0,
                ptr::null_mut(),
                0,
                &mut trap,
                &mut err,
            )
        });
        OWN_FUTURE.store(future, std::sync::atomic::Ordering::SeqCst);
        // SAFETY: a live future.
        unsafe { wasmtime_call_future_poll(future) };
        unreachable!("the nested call aborts");
    }

    #[test]
    #[ignore = "run in a child process by a_future_reentered_by_its_own_call_aborts"]
    fn child_poll_own_future() {
        reenter_own_future(false);
    }

    #[test]
    #[ignore = "run in a child process by a_future_reentered_by_its_own_call_aborts"]
    fn child_delete_own_future() {
        reenter_own_future(true);
    }

    #[test]
    fn a_future_reentered_by_its_own_call_aborts() {
        for (name, entry) in [
            ("child_poll_own_future", "wasmtime_call_future_poll"),
            ("child_delete_own_future", "wasmtime_call_future_delete"),
        ] {
            let (status, stderr) = run_in_child(name);
            assert!(!status.success(), "{name}: {status}\n{stderr}");
            assert!(
                stderr.contains(&format!("{entry}: the future is being polled")),
                "{name}: {stderr}"
            );
        }
    }

    /// While a call future is pending (suspended on a fuel yield), the store refuses a sync
    /// call, runs another async call to completion, and still cancels the first on delete.
    #[test]
    fn a_store_with_a_pending_future_refuses_sync_calls_and_runs_other_async_ones() {
        let mut config = wasm_config_new();
        wasmtime_config_async_support_set(&mut config, true);
        config.config.consume_fuel(true);
        let engine = wasm_engine_new_with_config(config).unwrap();
        let mut store = wasmtime_store_new(&engine, ptr::null_mut(), None);
        let ctx = &mut store.context;
        ctx.store.set_fuel(1 << 40).unwrap();
        ctx.store.fuel_async_yield_interval(Some(1000)).unwrap();
        let module = wasmjit::Module::new(
            &engine.engine,
            r#"(module (func (export "spin") (param $n i32) (result i32) (local $i i32)
                 (loop $l
                   (local.set $i (i32.add (local.get $i) (i32.const 1)))
                   (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
                 (local.get $i)))"#,
        )
        .unwrap();
        let instance = instantiate_now(ctx, &module);
        let spin = instance.get_func(&mut ctx.store, "spin").unwrap();
        let spin = ctx.data_mut().func_to_c(spin);
        let call = |ctx: &mut wasmtime_context_t, n: i32, result: *mut wasmtime_val_t| {
            let args = [ctx.data_mut().val_to_c(Val::I32(n))];
            // Where the future would report a trap or an error: leaked, so they outlive it.
            let trap_ret = Box::leak(Box::new(ptr::null_mut()));
            let error_ret = Box::leak(Box::new(ptr::null_mut()));
            // SAFETY: the argument is read at once; `result` outlives the future (each
            // caller deletes it first).
            let future = unsafe {
                wasmtime_func_call_async(
                    ctx,
                    &spin,
                    args.as_ptr(),
                    1,
                    result,
                    1,
                    trap_ret,
                    error_ret,
                )
            };
            Box::into_raw(future)
        };
        let mut first_result = wasmtime_val_t::default();
        let first = call(ctx, 1_000_000_000, &mut first_result);
        // SAFETY: a live future.
        assert!(!unsafe { wasmtime_call_future_poll(first) });

        let args = [ctx.data_mut().val_to_c(Val::I32(3))];
        let mut results = [wasmtime_val_t::default()];
        let mut trap = ptr::null_mut();
        // SAFETY: one argument, room for one result.
        let err = unsafe {
            crate::func::wasmtime_func_call(
                ctx,
                &spin,
                args.as_ptr(),
                1,
                results.as_mut_ptr(),
                1,
                &mut trap,
            )
        };
        assert!(trap.is_null());
        let err = err.map(Box::into_raw).unwrap_or(ptr::null_mut());
        assert!(message(err).contains("async entry points"));

        let mut second_result = wasmtime_val_t::default();
        let second = call(ctx, 5000, &mut second_result);
        // SAFETY: a live future, deleted once done.
        unsafe {
            let mut polls = 0;
            while !wasmtime_call_future_poll(second) {
                polls += 1;
                assert!(polls < 100);
            }
            wasmtime_call_future_delete(second);
            assert_eq!(second_result.of.i32, 5000);
            // Cancels the first call.
            wasmtime_call_future_delete(first);
        }
        let mut third_result = wasmtime_val_t::default();
        let third = call(ctx, 7, &mut third_result);
        // SAFETY: a live future, deleted once done.
        unsafe {
            while !wasmtime_call_future_poll(third) {}
            wasmtime_call_future_delete(third);
            assert_eq!(third_result.of.i32, 7);
        }
    }

    /// Starts `func(n)` as a C call future writing its result to `result`; a trap or an
    /// error goes to leaked slots (read through `failed`).
    fn start_call(
        ctx: &mut wasmtime_context_t,
        func: &wasmtime_func_t,
        n: i32,
        result: *mut wasmtime_val_t,
    ) -> (
        *mut wasmtime_call_future_t,
        &'static mut *mut wasmtime_error_t,
    ) {
        let args = [ctx.data_mut().val_to_c(Val::I32(n))];
        let trap_ret: &'static mut *mut wasm_trap_t = Box::leak(Box::new(ptr::null_mut()));
        let error_ret: &'static mut *mut wasmtime_error_t = Box::leak(Box::new(ptr::null_mut()));
        let error_slot: *mut *mut wasmtime_error_t = error_ret;
        // SAFETY: the argument is read at once; `result` and the leaked slots outlive the
        // future (callers delete it while `result` lives).
        let future = unsafe {
            wasmtime_func_call_async(ctx, func, args.as_ptr(), 1, result, 1, trap_ret, error_slot)
        };
        // SAFETY: the slot is leaked; the future writes it only while being polled.
        (Box::into_raw(future), unsafe { &mut *error_slot })
    }

    /// Exceptions are collected when a call returns, but not while another call is parked:
    /// its wasm frames may hold exnrefs that no global or table does.
    #[test]
    fn a_parked_call_keeps_its_exceptions_through_other_calls() {
        let mut config = wasm_config_new();
        wasmtime_config_async_support_set(&mut config, true);
        config.config.consume_fuel(true).wasm_exceptions(true);
        let engine = wasm_engine_new_with_config(config).unwrap();
        let mut store = wasmtime_store_new(&engine, ptr::null_mut(), None);
        let ctx = &mut store.context;
        ctx.store.set_fuel(1 << 40).unwrap();
        ctx.store.fuel_async_yield_interval(Some(1000)).unwrap();
        let module = wasmjit::Module::new(
            &engine.engine,
            r#"(module
              (tag $t (param i32))
              (func $spin (param $n i32) (local $i i32)
                (loop $l
                  (local.set $i (i32.add (local.get $i) (i32.const 1)))
                  (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))
              ;; Holds an exnref in a local across fuel yields, then rethrows and catches it.
              (func (export "hold") (param $n i32) (result i32) (local $e exnref)
                (block $h (result exnref)
                  (try_table (catch_all_ref $h) (throw $t (local.get $n)))
                  unreachable)
                (local.set $e)
                (call $spin (i32.const 20000))
                (block $c (result i32)
                  (try_table (catch $t $c) (throw_ref (local.get $e)))
                  unreachable))
              ;; Makes `n` exceptions that wasm received as exnrefs and dropped.
              (func (export "churn") (param $n i32) (result i32) (local $i i32)
                (loop $l
                  (block $h (result exnref)
                    (try_table (catch_all_ref $h) (throw $t (local.get $i)))
                    unreachable)
                  drop
                  (local.set $i (i32.add (local.get $i) (i32.const 1)))
                  (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
                (local.get $i)))"#,
        )
        .unwrap();
        let instance = instantiate_now(ctx, &module);
        let hold = instance.get_func(&mut ctx.store, "hold").unwrap();
        let hold = ctx.data_mut().func_to_c(hold);
        let churn = instance.get_func(&mut ctx.store, "churn").unwrap();
        let churn = ctx.data_mut().func_to_c(churn);

        let mut held = wasmtime_val_t::default();
        let (parked, parked_err) = start_call(ctx, &hold, 42, &mut held);
        // SAFETY: live futures, each deleted once done; the results outlive them.
        unsafe {
            assert!(!wasmtime_call_future_poll(parked));
            for _ in 0..3 {
                let mut made = wasmtime_val_t::default();
                let (other, err) = start_call(ctx, &churn, 3000, &mut made);
                while !wasmtime_call_future_poll(other) {}
                wasmtime_call_future_delete(other);
                assert!(err.is_null());
                assert_eq!(made.of.i32, 3000);
            }
            while !wasmtime_call_future_poll(parked) {}
            wasmtime_call_future_delete(parked);
        }
        assert!(parked_err.is_null(), "{}", message(*parked_err));
        // SAFETY: the call wrote an i32 result.
        assert_eq!(unsafe { held.of.i32 }, 42);
    }

    /// Counts the heap allocations of the thread that makes them (this test binary's
    /// allocator), so that a test can see what a call allocates.
    struct CountingAllocator;

    thread_local! {
        static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    }

    // SAFETY: every request goes to the system allocator unchanged; the count is a
    // thread-local without a destructor, which allocation may touch at any time.
    unsafe impl std::alloc::GlobalAlloc for CountingAllocator {
        unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
            // SAFETY: forwarded from the caller.
            unsafe { std::alloc::System.alloc(layout) }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
            // SAFETY: forwarded from the caller.
            unsafe { std::alloc::System.dealloc(ptr, layout) }
        }
    }

    #[global_allocator]
    static ALLOCATOR: CountingAllocator = CountingAllocator;

    thread_local! {
        /// Polls left before the continuation of `host.next` completes.
        static POLLS_LEFT: Cell<u32> = const { Cell::new(0) };
    }

    unsafe extern "C" fn pending_once(_env: *mut c_void) -> bool {
        POLLS_LEFT.with(|left| {
            let done = left.get() == 0;
            left.set(left.get().saturating_sub(1));
            done
        })
    }

    /// `host.next(x) = x + 1`, its operation pending once.
    unsafe extern "C" fn next_async(
        _env: *mut c_void,
        _caller: *mut wasmtime_caller_t,
        args: *const wasmtime_val_t,
        _nargs: usize,
        results: *mut wasmtime_val_t,
        _nresults: usize,
        _trap: *mut *mut wasm_trap_t,
        continuation: *mut wasmtime_async_continuation_t,
    ) {
        // SAFETY: one i32 argument and one result slot, as the function's type says; the
        // continuation slot is writable.
        unsafe {
            let x = (*args).of.i32;
            *results = wasmtime_val_t {
                kind: crate::WASMTIME_I32,
                of: crate::wasmtime_valunion_t { i32: x + 1 },
            };
            (*continuation).callback = Some(pending_once);
        }
        POLLS_LEFT.with(|left| left.set(1));
    }

    /// A host call through `wasmtime_linker_define_async_func` allocates nothing: a call
    /// making 110 of them allocates as much as one making 10 (each suspending once).
    #[test]
    fn async_host_calls_allocate_nothing_per_call() {
        let mut config = wasm_config_new();
        wasmtime_config_async_support_set(&mut config, true);
        let engine = wasm_engine_new_with_config(config).unwrap();
        let mut store = wasmtime_store_new(&engine, ptr::null_mut(), None);
        let mut linker = crate::wasmtime_linker_new(&engine);
        let ty = crate::functype_box(&FuncType::from_types([ValType::I32], [ValType::I32]));
        // SAFETY: the names with their lengths; the callback ignores its null data.
        let err = unsafe {
            wasmtime_linker_define_async_func(
                &mut linker,
                b"host".as_ptr(),
                4,
                b"next".as_ptr(),
                4,
                &ty,
                next_async,
                ptr::null_mut(),
                None,
            )
        };
        assert!(err.is_none());
        let module = wasmjit::Module::new(
            &engine.engine,
            r#"(module (import "host" "next" (func $next (param i32) (result i32)))
                 (func (export "count") (param $n i32) (result i32) (local $x i32)
                   (block $done (loop $l
                     (br_if $done (i32.ge_u (local.get $x) (local.get $n)))
                     (local.set $x (call $next (local.get $x)))
                     (br $l)))
                   (local.get $x)))"#,
        )
        .unwrap();
        let ctx = &mut store.context;
        let mut instantiate = Box::pin(linker.linker.instantiate_async(&mut ctx.store, &module));
        let instance = loop {
            if let Poll::Ready(i) = instantiate
                .as_mut()
                .poll(&mut Context::from_waker(Waker::noop()))
            {
                break i.unwrap();
            }
        };
        drop(instantiate);
        let count = instance.get_func(&mut ctx.store, "count").unwrap();
        let count = ctx.data_mut().func_to_c(count);
        // Allocations while the call runs (not while it is made), and its result.
        let mut run = |n: i32| {
            let mut result = wasmtime_val_t::default();
            let (future, err) = start_call(ctx, &count, n, &mut result);
            let before = ALLOCATIONS.with(Cell::get);
            let mut polls = 0;
            // SAFETY: a live future, deleted once done.
            unsafe {
                while !wasmtime_call_future_poll(future) {
                    polls += 1;
                }
            }
            let allocations = ALLOCATIONS.with(Cell::get) - before;
            // SAFETY: done; `result` outlives it.
            unsafe { wasmtime_call_future_delete(future) };
            assert!(err.is_null(), "{}", message(*err));
            assert_eq!(polls, n, "each host call suspends once");
            // SAFETY: the call wrote an i32 result.
            assert_eq!(unsafe { result.of.i32 }, n);
            allocations
        };
        run(1); // warms up what a store allocates once (its fiber stack)
        let (few, many) = (run(10), run(110));
        assert_eq!(many, few, "allocations of 10 and 110 host calls");
    }
}
