//! Functions: `wasm_func_t` of `wasm.h`, and `wasmtime_func_*` with host callbacks
//! (`wasmtime_func_new`, the `_unchecked` variants) and `wasmtime_caller_t`.

use crate::extern_::declare_extern_kind;
use crate::store::{store_ref_of, StoreData};
use crate::val::{val_from_raw, val_to_raw};
use crate::{
    functype_box, wasm_extern_t, wasm_functype_t, wasm_store_t, wasm_trap_t, wasm_val_t,
    wasm_val_vec_t, wasmtime_context_t, wasmtime_error_t, wasmtime_extern_t, wasmtime_func_t,
    wasmtime_val_raw_t, wasmtime_val_t, wasmtime_valunion_t, CError, Finalizer, ForeignData,
    WasmVec, WASMTIME_ANYREF, WASMTIME_EXTERNREF, WASMTIME_F32, WASMTIME_F64, WASMTIME_FUNCREF,
    WASMTIME_I32, WASMTIME_I64, WASMTIME_V128, WASM_EXTERN_FUNC,
};
use anyhow::{anyhow, bail, Error, Result};
use std::ffi::c_void;
use std::ptr;
use wasmjit::{Caller, Extern, Func, FuncType, Trap, Val, ValRaw, ValType};

declare_extern_kind!(
    wasm_func_t,
    WASM_EXTERN_FUNC,
    wasm_func_delete,
    wasm_func_as_extern,
    wasm_func_as_extern_const,
    wasm_extern_as_func,
    wasm_extern_as_func_const,
    wasm_func_copy,
    wasm_func_same,
    wasm_func_get_host_info,
    wasm_func_set_host_info,
    wasm_func_set_host_info_with_finalizer,
    wasm_func_as_ref,
    wasm_func_as_ref_const,
    wasm_ref_as_func,
    wasm_ref_as_func_const
);

impl wasm_extern_t {
    pub(crate) fn func(&self) -> Func {
        match self.which {
            Extern::Func(f) => f,
            _ => crate::fatal("wasm_func_t", "the extern is not a function"),
        }
    }
}

/// A `wasm.h` host callback.
pub type wasm_func_callback_t =
    unsafe extern "C" fn(*const wasm_val_vec_t, *mut wasm_val_vec_t) -> Option<Box<wasm_trap_t>>;

/// A `wasm.h` host callback with an environment.
pub type wasm_func_callback_with_env_t = unsafe extern "C" fn(
    *mut c_void,
    *const wasm_val_vec_t,
    *mut wasm_val_vec_t,
) -> Option<Box<wasm_trap_t>>;

/// Makes a `wasm.h` host function whose body is `call(args, results)`.
fn new_wasm_func(
    store: &wasm_store_t,
    ty: &wasm_functype_t,
    call: impl Fn(*const wasm_val_vec_t, *mut wasm_val_vec_t) -> Option<Box<wasm_trap_t>>
        + Send
        + Sync
        + 'static,
) -> Box<wasm_func_t> {
    let ty = ty.func().ty();
    let func = store.store.with(|ctx| {
        Func::new(
            &mut ctx.store,
            ty,
            move |caller: Caller<'_, StoreData>, params, results| {
                let store =
                    store_ref_of(caller.data()).ok_or_else(|| anyhow!("the store is gone"))?;
                let args = params
                    .iter()
                    .map(|p| wasm_val_t::from_val(&store, *p))
                    .collect::<Result<Vec<_>>>()?;
                let mut args = WasmVec::from_vec(args);
                let mut outs =
                    WasmVec::from_vec((0..results.len()).map(|_| wasm_val_t::default()).collect());
                let trap = call(&args, &mut outs);
                drop(args.take());
                let outs = outs.take();
                if let Some(trap) = trap {
                    return Err(trap.error);
                }
                for (slot, v) in results.iter_mut().zip(&outs) {
                    *slot = v.to_val(&store)?;
                }
                Ok(())
            },
        )
    });
    Box::new(wasm_extern_t::new(store.store.clone(), Extern::Func(func)))
}

/// A host function of type `ty` calling `callback`.
#[no_mangle]
pub extern "C" fn wasm_func_new(
    store: &wasm_store_t,
    ty: &wasm_functype_t,
    callback: wasm_func_callback_t,
) -> Box<wasm_func_t> {
    crate::abort_on_panic("wasm_func_new", || {
        new_wasm_func(store, ty, move |args, results| {
            // SAFETY: the callback gets the argument vector and the result vector to fill.
            unsafe { callback(args, results) }
        })
    })
}

/// A host function of type `ty` calling `callback` with `env`; `finalizer` runs with `env`
/// when the function's store goes.
#[no_mangle]
pub extern "C" fn wasm_func_new_with_env(
    store: &wasm_store_t,
    ty: &wasm_functype_t,
    callback: wasm_func_callback_with_env_t,
    env: *mut c_void,
    finalizer: Finalizer,
) -> Box<wasm_func_t> {
    let env = ForeignData::new(env, finalizer);
    crate::abort_on_panic("wasm_func_new_with_env", || {
        new_wasm_func(store, ty, move |args, results| {
            // SAFETY: the callback gets its environment, the arguments and the results.
            unsafe { callback(env.ptr(), args, results) }
        })
    })
}

/// The function's type.
#[no_mangle]
pub extern "C" fn wasm_func_type(f: &wasm_func_t) -> Box<wasm_functype_t> {
    crate::abort_on_panic("wasm_func_type", || {
        functype_box(&f.store.with(|ctx| f.func().ty(&ctx.store)))
    })
}

/// The number of parameters.
#[no_mangle]
pub extern "C" fn wasm_func_param_arity(f: &wasm_func_t) -> usize {
    crate::abort_on_panic("wasm_func_param_arity", || {
        f.store.with(|ctx| f.func().ty(&ctx.store).params().len())
    })
}

/// The number of results.
#[no_mangle]
pub extern "C" fn wasm_func_result_arity(f: &wasm_func_t) -> usize {
    crate::abort_on_panic("wasm_func_result_arity", || {
        f.store.with(|ctx| f.func().ty(&ctx.store).results().len())
    })
}

/// Calls the function. `results` must have room for every result; returns NULL on success or
/// an owned trap (also for errors and bad arguments).
#[no_mangle]
pub unsafe extern "C" fn wasm_func_call(
    f: &wasm_func_t,
    args: &wasm_val_vec_t,
    results: &mut wasm_val_vec_t,
) -> Option<Box<wasm_trap_t>> {
    let store = f.store.clone();
    let outcome = crate::catch_panic(|| {
        let params = args
            .as_slice()
            .iter()
            .map(|a| a.to_val(&store))
            .collect::<Result<Vec<_>>>()?;
        let mut outs = vec![Val::I32(0); results.size];
        store.with(|ctx| f.func().call(&mut ctx.store, &params, &mut outs))?;
        outs.into_iter()
            .map(|v| wasm_val_t::from_val(&store, v))
            .collect::<Result<Vec<_>>>()
    });
    match outcome {
        Ok(vals) => {
            for (i, v) in vals.into_iter().enumerate() {
                // SAFETY: `results` has `size` slots, possibly uninitialized: written, not
                // dropped.
                unsafe { ptr::write(results.data.add(i), v) };
            }
            None
        }
        Err(e) => Some(wasm_trap_t::boxed(e)),
    }
}

/// What a host function sees of its caller.
pub struct wasmtime_caller_t<'a> {
    pub(crate) caller: Caller<'a, StoreData>,
}

/// A `wasmtime.h` host callback.
pub type wasmtime_func_callback_t = unsafe extern "C" fn(
    *mut c_void,
    *mut wasmtime_caller_t,
    *const wasmtime_val_t,
    usize,
    *mut wasmtime_val_t,
    usize,
) -> Option<Box<wasm_trap_t>>;

/// A `wasmtime.h` host callback on raw values.
pub type wasmtime_func_unchecked_callback_t = unsafe extern "C" fn(
    *mut c_void,
    *mut wasmtime_caller_t,
    *mut wasmtime_val_raw_t,
    usize,
) -> Option<Box<wasm_trap_t>>;

/// The body of a host function that calls a `wasmtime_func_callback_t`.
pub(crate) fn c_callback(
    callback: wasmtime_func_callback_t,
    env: *mut c_void,
    finalizer: Finalizer,
) -> impl Fn(Caller<'_, StoreData>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static {
    let env = ForeignData::new(env, finalizer);
    move |mut caller, params, results| {
        let data = caller.data_mut();
        let args: Vec<wasmtime_val_t> = params.iter().map(|p| data.val_to_c(*p)).collect();
        let mut outs = vec![wasmtime_val_t::default(); results.len()];
        let mut c = wasmtime_caller_t { caller };
        // SAFETY: the callback gets its environment, the caller, and the argument and result
        // arrays with their lengths.
        let trap = unsafe {
            callback(
                env.ptr(),
                &mut c,
                args.as_ptr(),
                args.len(),
                outs.as_mut_ptr(),
                outs.len(),
            )
        };
        if let Some(trap) = trap {
            return Err(trap.error);
        }
        let data = c.caller.data();
        for (slot, v) in results.iter_mut().zip(&outs) {
            *slot = data.val_from_c(v)?;
        }
        Ok(())
    }
}

/// The body of a host function that calls a `wasmtime_func_unchecked_callback_t`.
pub(crate) fn c_unchecked_callback(
    ty: FuncType,
    callback: wasmtime_func_unchecked_callback_t,
    env: *mut c_void,
    finalizer: Finalizer,
) -> impl Fn(Caller<'_, StoreData>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static {
    let env = ForeignData::new(env, finalizer);
    move |mut caller, params, results| {
        let mut raw = vec![wasmtime_val_raw_t::default(); params.len().max(results.len())];
        for (slot, p) in raw.iter_mut().zip(params) {
            *slot = val_to_raw(&mut caller, *p)?;
        }
        let mut c = wasmtime_caller_t { caller };
        // SAFETY: the callback gets its environment, the caller and a buffer large enough for
        // the arguments and the results.
        let trap = unsafe { callback(env.ptr(), &mut c, raw.as_mut_ptr(), raw.len()) };
        if let Some(trap) = trap {
            return Err(trap.error);
        }
        for ((slot, r), t) in results.iter_mut().zip(&raw).zip(ty.results()) {
            *slot = val_from_raw(&mut c.caller, r, &t)?;
        }
        Ok(())
    }
}

/// A host function of type `ty` in the store, calling `callback` with `env`; `finalizer`
/// runs with `env` when the store is deleted.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_func_new(
    context: &mut wasmtime_context_t,
    ty: &wasm_functype_t,
    callback: wasmtime_func_callback_t,
    env: *mut c_void,
    finalizer: Finalizer,
    ret: *mut wasmtime_func_t,
) {
    let f = crate::abort_on_panic("wasmtime_func_new", || {
        let f = Func::new(
            &mut context.store,
            ty.func().ty(),
            c_callback(callback, env, finalizer),
        );
        context.data_mut().func_to_c(f)
    });
    // SAFETY: `ret` is an output pointer of the caller.
    unsafe { ptr::write(ret, f) }
}

/// Like `wasmtime_func_new`, with arguments and results in one raw buffer.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_func_new_unchecked(
    context: &mut wasmtime_context_t,
    ty: &wasm_functype_t,
    callback: wasmtime_func_unchecked_callback_t,
    env: *mut c_void,
    finalizer: Finalizer,
    ret: *mut wasmtime_func_t,
) {
    let f = crate::abort_on_panic("wasmtime_func_new_unchecked", || {
        let ty = ty.func().ty();
        let body = c_unchecked_callback(ty.clone(), callback, env, finalizer);
        let f = Func::new(&mut context.store, ty, body);
        context.data_mut().func_to_c(f)
    });
    // SAFETY: `ret` is an output pointer of the caller.
    unsafe { ptr::write(ret, f) }
}

/// The function's type.
#[no_mangle]
pub extern "C" fn wasmtime_func_type(
    context: &wasmtime_context_t,
    func: &wasmtime_func_t,
) -> Box<wasm_functype_t> {
    crate::abort_on_panic("wasmtime_func_type", || {
        let f = context
            .data()
            .func_from_c(func)
            .unwrap_or_else(|e| crate::fatal("wasmtime_func_type", &e.to_string()));
        functype_box(&f.ty(&context.store))
    })
}

/// Splits the outcome of a call: traps go to `trap_ret`, other failures become the error.
pub(crate) fn trap_or_error(e: Error, trap_ret: &mut *mut wasm_trap_t) -> CError {
    if e.is::<Trap>() {
        *trap_ret = Box::into_raw(wasm_trap_t::boxed(e));
        None
    } else {
        Some(Box::new(wasmtime_error_t::from(e)))
    }
}

/// Values a call keeps on the stack before it allocates.
pub(crate) const INLINE_VALUES: usize = 8;

/// `n` slots of `inline`, or of `heap` when they don't fit.
pub(crate) fn buffer<'a, T: Copy>(
    inline: &'a mut [T; INLINE_VALUES],
    heap: &'a mut Vec<T>,
    n: usize,
    fill: T,
) -> &'a mut [T] {
    if n <= INLINE_VALUES {
        &mut inline[..n]
    } else {
        heap.resize(n, fill);
        heap
    }
}

/// Calls the function with `nargs` arguments, writing `nresults` results. A trap is returned
/// through `trap` (and NULL), any other failure as the error.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_func_call(
    context: &mut wasmtime_context_t,
    func: &wasmtime_func_t,
    args: *const wasmtime_val_t,
    nargs: usize,
    results: *mut wasmtime_val_t,
    nresults: usize,
    trap: &mut *mut wasm_trap_t,
) -> CError {
    // SAFETY: C passes `nargs` arguments.
    let args = unsafe { crate::slice_from_raw(args, nargs) };
    let prepared = crate::catch_panic(|| {
        let f = context.data().func_from_c(func)?;
        Ok((f, f.ty(&context.store)))
    });
    let (f, ty) = match prepared {
        Ok(p) => p,
        Err(e) => return Some(Box::new(e.into())),
    };
    let outcome = if ty.params().chain(ty.results()).any(|t| t.is_ref()) {
        call_vals(context, f, args, results, nresults)
    } else {
        // SAFETY: forwarded from the caller: room for `nresults` values.
        unsafe { call_vals_numeric(context, f, &ty, args, results, nresults) }
    };
    match outcome {
        Err(e) => Some(Box::new(e.into())),
        Ok(Ok(Ok(()))) => None,
        Ok(Ok(Err(e))) => trap_or_error(e, trap),
        Ok(Err(panic)) => {
            *trap = Box::into_raw(wasm_trap_t::boxed(crate::panic_error(panic)));
            None
        }
    }
}

/// What a call returns when it may have panicked.
type CallOutcome = std::thread::Result<Result<()>>;

/// `wasmtime_func_call` of a function with numbers only: each argument's kind is checked and
/// its bits go straight into a raw slot, the results come straight out of them. An `Err` is
/// a bad argument (no call was made).
///
/// # Safety
/// `results` must have room for `nresults` values.
unsafe fn call_vals_numeric(
    context: &mut wasmtime_context_t,
    f: Func,
    ty: &FuncType,
    args: &[wasmtime_val_t],
    results: *mut wasmtime_val_t,
    nresults: usize,
) -> Result<CallOutcome> {
    if args.len() != ty.params().len() {
        bail!(
            "expected {} arguments, got {}",
            ty.params().len(),
            args.len()
        );
    }
    if nresults != ty.results().len() {
        bail!("expected {} results, got {nresults}", ty.results().len());
    }
    let (mut inline, mut heap) = ([ValRaw::default(); INLINE_VALUES], Vec::new());
    let buf = buffer(
        &mut inline,
        &mut heap,
        args.len().max(nresults),
        ValRaw::default(),
    );
    for (i, ((slot, a), t)) in buf.iter_mut().zip(args).zip(ty.params()).enumerate() {
        // SAFETY: each arm reads the union field the kind names, which C initialized.
        *slot = unsafe {
            match (a.kind, &t) {
                (WASMTIME_I32, ValType::I32) => ValRaw::i32(a.of.i32),
                (WASMTIME_I64, ValType::I64) => ValRaw::i64(a.of.i64),
                (WASMTIME_F32, ValType::F32) => ValRaw::f32(a.of.f32.to_bits()),
                (WASMTIME_F64, ValType::F64) => ValRaw::f64(a.of.f64.to_bits()),
                (WASMTIME_V128, ValType::V128) => ValRaw::u128(u128::from_le_bytes(a.of.v128)),
                _ => bail!(
                    "argument type mismatch: argument {i} is {}, expected {t}",
                    kind_name(a.kind)
                ),
            }
        };
    }
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: `buf` holds arguments of the parameters' types and room for the results.
        unsafe { f.call_unchecked(&mut context.store, std::ptr::from_mut(&mut buf[..])) }
    }));
    if let Ok(Ok(())) = outcome {
        for (i, (raw, t)) in buf.iter().zip(ty.results()).enumerate() {
            let (kind, of) = match t {
                ValType::I32 => (WASMTIME_I32, wasmtime_valunion_t { i32: raw.get_i32() }),
                ValType::I64 => (WASMTIME_I64, wasmtime_valunion_t { i64: raw.get_i64() }),
                ValType::F32 => (
                    WASMTIME_F32,
                    wasmtime_valunion_t {
                        f32: f32::from_bits(raw.get_f32()),
                    },
                ),
                ValType::F64 => (
                    WASMTIME_F64,
                    wasmtime_valunion_t {
                        f64: f64::from_bits(raw.get_f64()),
                    },
                ),
                ValType::V128 => (
                    WASMTIME_V128,
                    wasmtime_valunion_t {
                        v128: raw.get_u128().to_le_bytes(),
                    },
                ),
                ValType::Ref(_) => unreachable!("only called for functions without references"),
            };
            // SAFETY: `results` has room for `nresults` values, possibly uninitialized.
            unsafe { ptr::write(results.add(i), wasmtime_val_t { kind, of }) };
        }
    }
    Ok(outcome)
}

/// The type a `wasmtime_valkind_t` stands for, for messages.
fn kind_name(kind: u8) -> String {
    match kind {
        WASMTIME_I32 => "i32".into(),
        WASMTIME_I64 => "i64".into(),
        WASMTIME_F32 => "f32".into(),
        WASMTIME_F64 => "f64".into(),
        WASMTIME_V128 => "v128".into(),
        WASMTIME_FUNCREF => "funcref".into(),
        WASMTIME_EXTERNREF => "externref".into(),
        WASMTIME_ANYREF => "anyref".into(),
        k => format!("of unknown kind {k}"),
    }
}

/// `wasmtime_func_call` through `Func::call`, converting every value (the path for functions
/// with references among their parameters or results). An `Err` is a bad argument.
fn call_vals(
    context: &mut wasmtime_context_t,
    f: Func,
    args: &[wasmtime_val_t],
    results: *mut wasmtime_val_t,
    nresults: usize,
) -> Result<CallOutcome> {
    let (mut inline_params, mut heap_params) = ([Val::I32(0); INLINE_VALUES], Vec::new());
    let (mut inline_outs, mut heap_outs) = ([Val::I32(0); INLINE_VALUES], Vec::new());
    let params = buffer(
        &mut inline_params,
        &mut heap_params,
        args.len(),
        Val::I32(0),
    );
    let outs = buffer(&mut inline_outs, &mut heap_outs, nresults, Val::I32(0));
    crate::catch_panic(|| {
        let data = context.data();
        for (slot, a) in params.iter_mut().zip(args) {
            *slot = data.val_from_c(a)?;
        }
        Ok(())
    })?;
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        f.call(&mut context.store, params, outs)
    }));
    if let Ok(Ok(())) = outcome {
        let data = context.data_mut();
        for (i, v) in outs.iter().enumerate() {
            // SAFETY: `results` has room for `nresults` values, possibly uninitialized.
            unsafe { ptr::write(results.add(i), data.val_to_c(*v)) };
        }
    }
    Ok(outcome)
}

/// Calls the function with arguments read from, and results written to, the raw buffer,
/// which must hold max(parameters, results) slots typed as the function says.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_func_call_unchecked(
    context: &mut wasmtime_context_t,
    func: &wasmtime_func_t,
    args_and_results: *mut wasmtime_val_raw_t,
    args_and_results_len: usize,
    trap: &mut *mut wasm_trap_t,
) -> CError {
    // SAFETY: C passes a buffer of `args_and_results_len` slots.
    let raw = unsafe { crate::slice_from_raw_mut(args_and_results, args_and_results_len) };
    let f = match context.data().func_from_c(func) {
        Ok(f) => f,
        Err(e) => return Some(Box::new(e.into())),
    };
    // C's raw slots hold exactly the bits of the runtime's (references in their raw forms too,
    // see `val_from_raw`): they are copied into 16-byte aligned slots and back, unchanged.
    let (mut inline, mut heap) = ([ValRaw::default(); INLINE_VALUES], Vec::new());
    let buf = buffer(&mut inline, &mut heap, raw.len(), ValRaw::default());
    for (to, from) in buf.iter_mut().zip(raw.iter()) {
        // SAFETY: a raw slot is 16 initialized bytes whatever its type.
        *to = ValRaw::u128(u128::from_le_bytes(unsafe { from.v128 }));
    }
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: the C caller promises arguments of the parameters' types in a buffer with
        // room for the results; the runtime checks the length.
        unsafe { f.call_unchecked(&mut context.store, std::ptr::from_mut(&mut buf[..])) }
    }));
    match outcome {
        Ok(Ok(())) => {
            for (to, from) in raw.iter_mut().zip(buf.iter()) {
                to.v128 = from.get_u128().to_le_bytes();
            }
            None
        }
        Ok(Err(e)) => trap_or_error(e, trap),
        Err(panic) => {
            *trap = Box::into_raw(wasm_trap_t::boxed(crate::panic_error(panic)));
            None
        }
    }
}

/// The export `name` of the calling instance; false when there is none (or no caller
/// instance, or the name is not UTF-8).
#[no_mangle]
pub unsafe extern "C" fn wasmtime_caller_export_get(
    caller: &mut wasmtime_caller_t,
    name: *const u8,
    name_len: usize,
    item: *mut wasmtime_extern_t,
) -> bool {
    // SAFETY: C passes `name_len` readable bytes.
    let Ok(name) = (unsafe { crate::str_from_raw(name, name_len) }) else {
        return false;
    };
    crate::abort_on_panic("wasmtime_caller_export_get", || {
        let Some(e) = caller.caller.get_export(name) else {
            return false;
        };
        let Some(c) = caller.caller.data_mut().extern_to_c(e) else {
            return false;
        };
        // SAFETY: `item` is an output pointer of the caller.
        unsafe { ptr::write(item, c) };
        true
    })
}

/// The context of the store the call happens in.
#[no_mangle]
pub extern "C" fn wasmtime_caller_context(
    caller: &mut wasmtime_caller_t,
) -> *mut wasmtime_context_t {
    caller.caller.data().context()
}

/// The function of a raw funcref (from `wasmtime_func_to_raw` or a raw value slot).
#[no_mangle]
pub unsafe extern "C" fn wasmtime_func_from_raw(
    context: &mut wasmtime_context_t,
    raw: *mut c_void,
    ret: *mut wasmtime_func_t,
) {
    let f = crate::abort_on_panic("wasmtime_func_from_raw", || {
        // SAFETY: the runtime validates the pointer against the store's functions.
        match unsafe { Func::from_raw(&mut context.store, raw) } {
            Some(f) => context.data_mut().func_to_c(f),
            None => wasmtime_func_t {
                store_id: 0,
                index: 0,
            },
        }
    });
    // SAFETY: `ret` is an output pointer of the caller.
    unsafe { ptr::write(ret, f) }
}

/// The raw funcref of a function (NULL for another store's function).
#[no_mangle]
pub extern "C" fn wasmtime_func_to_raw(
    context: &mut wasmtime_context_t,
    func: &wasmtime_func_t,
) -> *mut c_void {
    crate::abort_on_panic("wasmtime_func_to_raw", || {
        match context.data().func_from_c(func) {
            Ok(f) => f.to_raw(&mut context.store),
            Err(_) => ptr::null_mut(),
        }
    })
}
