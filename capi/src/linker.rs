//! `wasmtime_linker_t`: names for host functions and items, resolved at instantiation.

use crate::func::{
    c_callback, c_unchecked_callback, wasmtime_func_callback_t, wasmtime_func_unchecked_callback_t,
};
use crate::instance::finish_instantiation;
use crate::store::StoreData;
use crate::{
    wasm_engine_t, wasm_functype_t, wasm_trap_t, wasmtime_context_t, wasmtime_extern_t,
    wasmtime_func_t, wasmtime_instance_pre_t, wasmtime_instance_t, wasmtime_module_t, CError,
    Finalizer,
};
use anyhow::{bail, Result};
use std::ffi::c_void;
use std::ptr;
use wasmjit::{Extern, Func, FuncType, Linker};

/// A linker.
#[derive(Clone)]
pub struct wasmtime_linker_t {
    pub(crate) linker: Linker<StoreData>,
}

/// A new, empty linker for `engine`.
#[no_mangle]
pub extern "C" fn wasmtime_linker_new(engine: &wasm_engine_t) -> Box<wasmtime_linker_t> {
    Box::new(wasmtime_linker_t {
        linker: Linker::new(&engine.engine),
    })
}

/// A copy of the linker with the same definitions.
#[no_mangle]
pub extern "C" fn wasmtime_linker_clone(linker: &wasmtime_linker_t) -> Box<wasmtime_linker_t> {
    Box::new(linker.clone())
}

/// Frees a linker.
#[no_mangle]
pub extern "C" fn wasmtime_linker_delete(_linker: Option<Box<wasmtime_linker_t>>) {}

/// Whether redefining a name replaces the old definition (otherwise it is an error).
#[no_mangle]
pub extern "C" fn wasmtime_linker_allow_shadowing(
    linker: &mut wasmtime_linker_t,
    allow_shadowing: bool,
) {
    linker.linker.allow_shadowing(allow_shadowing);
}

/// Reads a module/name pair.
///
/// # Safety
/// Both pointers must point to their lengths of readable bytes.
unsafe fn names<'a>(
    module: *const u8,
    module_len: usize,
    name: *const u8,
    name_len: usize,
) -> Result<(&'a str, &'a str)> {
    // SAFETY: forwarded from the caller.
    unsafe {
        Ok((
            crate::str_from_raw(module, module_len)?,
            crate::str_from_raw(name, name_len)?,
        ))
    }
}

/// Defines `module::name` as `item` of `context`'s store.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_linker_define(
    linker: &mut wasmtime_linker_t,
    context: &wasmtime_context_t,
    module: *const u8,
    module_len: usize,
    name: *const u8,
    name_len: usize,
    item: &wasmtime_extern_t,
) -> CError {
    crate::error::guard(|| {
        // SAFETY: C passes the names with their lengths.
        let (module, name) = unsafe { names(module, module_len, name, name_len) }?;
        let item = context.data().extern_from_c(item)?;
        linker.linker.define(&context.store, module, name, item)?;
        Ok(())
    })
}

/// Defines `module::name` as a host function of type `ty` calling `cb` with `data`;
/// `finalizer` runs with `data` when the linker and the functions made from it are gone
/// (also right away when the definition fails).
#[no_mangle]
pub unsafe extern "C" fn wasmtime_linker_define_func(
    linker: &mut wasmtime_linker_t,
    module: *const u8,
    module_len: usize,
    name: *const u8,
    name_len: usize,
    ty: &wasm_functype_t,
    cb: wasmtime_func_callback_t,
    data: *mut c_void,
    finalizer: Finalizer,
) -> CError {
    let body = c_callback(cb, data, finalizer);
    crate::error::guard(|| {
        // SAFETY: C passes the names with their lengths.
        let (module, name) = unsafe { names(module, module_len, name, name_len) }?;
        linker.linker.func_new(module, name, ty.func().ty(), body)?;
        Ok(())
    })
}

/// Like `wasmtime_linker_define_func`, with a callback on raw values.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_linker_define_func_unchecked(
    linker: &mut wasmtime_linker_t,
    module: *const u8,
    module_len: usize,
    name: *const u8,
    name_len: usize,
    ty: &wasm_functype_t,
    cb: wasmtime_func_unchecked_callback_t,
    data: *mut c_void,
    finalizer: Finalizer,
) -> CError {
    let fty = ty.func().ty();
    let body = c_unchecked_callback(fty.clone(), cb, data, finalizer);
    crate::error::guard(|| {
        // SAFETY: C passes the names with their lengths.
        let (module, name) = unsafe { names(module, module_len, name, name_len) }?;
        linker.linker.func_new(module, name, fty, body)?;
        Ok(())
    })
}

/// Defines every export of `instance` under the module name `name`.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_linker_define_instance(
    linker: &mut wasmtime_linker_t,
    context: &mut wasmtime_context_t,
    name: *const u8,
    name_len: usize,
    instance: &wasmtime_instance_t,
) -> CError {
    crate::error::guard(|| {
        // SAFETY: C passes the name with its length.
        let name = unsafe { crate::str_from_raw(name, name_len) }?;
        let i = context.data().instance_from_c(instance)?;
        linker.linker.instance(&mut context.store, name, i)?;
        Ok(())
    })
}

/// Instantiates `module`, resolving its imports by name.
#[no_mangle]
pub extern "C" fn wasmtime_linker_instantiate(
    linker: &wasmtime_linker_t,
    context: &mut wasmtime_context_t,
    module: &wasmtime_module_t,
    instance: *mut wasmtime_instance_t,
    trap: &mut *mut wasm_trap_t,
) -> CError {
    finish_instantiation(
        context,
        |ctx| linker.linker.instantiate(&mut ctx.store, &module.module),
        instance,
        trap,
    )
}

/// Instantiates `module` and defines its exports under `name`.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_linker_module(
    linker: &mut wasmtime_linker_t,
    context: &mut wasmtime_context_t,
    name: *const u8,
    name_len: usize,
    module: &wasmtime_module_t,
) -> CError {
    crate::error::guard(|| {
        // SAFETY: C passes the name with its length.
        let name = unsafe { crate::str_from_raw(name, name_len) }?;
        context.data().check_instance_limit()?;
        linker
            .linker
            .module(&mut context.store, name, &module.module)?;
        context.data_mut().instance_count += 1;
        Ok(())
    })
}

/// The default function of the module defined as `name`: its export `""`, else `_start`,
/// else a function that does nothing.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_linker_get_default(
    linker: &wasmtime_linker_t,
    context: &mut wasmtime_context_t,
    name: *const u8,
    name_len: usize,
    func: *mut wasmtime_func_t,
) -> CError {
    crate::error::guard(|| {
        // SAFETY: C passes the name with its length.
        let name = unsafe { crate::str_from_raw(name, name_len) }?;
        let mut found = None;
        for field in ["", "_start"] {
            match linker.linker.get(&mut context.store, name, field).ok() {
                Some(Extern::Func(f)) => {
                    found = Some(f);
                    break;
                }
                Some(_) => bail!("default export in '{name}' is not a function"),
                None => {}
            }
        }
        let f = match found {
            Some(f) => f,
            None => Func::new(
                &mut context.store,
                FuncType::from_types([], []),
                |_, _, _| Ok(()),
            ),
        };
        let c = context.data_mut().func_to_c(f);
        // SAFETY: `func` is an output pointer of the caller.
        unsafe { ptr::write(func, c) };
        Ok(())
    })
}

/// The item defined as `module::name`, made in `context`'s store; false when there is none
/// or a name is not UTF-8.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_linker_get(
    linker: &wasmtime_linker_t,
    context: &mut wasmtime_context_t,
    module: *const u8,
    module_len: usize,
    name: *const u8,
    name_len: usize,
    item: *mut wasmtime_extern_t,
) -> bool {
    // SAFETY: C passes the names with their lengths.
    let Ok((module, name)) = (unsafe { names(module, module_len, name, name_len) }) else {
        return false;
    };
    crate::abort_on_panic("wasmtime_linker_get", || {
        let Ok(e) = linker.linker.get(&mut context.store, module, name) else {
            return false;
        };
        let Some(c) = context.data_mut().extern_to_c(e) else {
            return false;
        };
        // SAFETY: `item` is an output pointer of the caller.
        unsafe { ptr::write(item, c) };
        true
    })
}

/// Resolves `module`'s imports once, for instantiating it many times.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_linker_instantiate_pre(
    linker: &wasmtime_linker_t,
    module: &wasmtime_module_t,
    instance_pre: *mut *mut wasmtime_instance_pre_t,
) -> CError {
    crate::error::guard(|| {
        let pre = linker.linker.instantiate_pre(&module.module)?;
        // SAFETY: `instance_pre` is an output pointer of the caller.
        unsafe {
            ptr::write(
                instance_pre,
                Box::into_raw(Box::new(wasmtime_instance_pre_t { pre })),
            )
        };
        Ok(())
    })
}
