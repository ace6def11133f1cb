//! Instances: `wasmtime_instance_*`, `wasmtime_instance_pre_t`, and `wasm_instance_t` of
//! `wasm.h`.

use crate::func::trap_or_error;
use crate::ref_::{declare_ref, impl_as_ref, RefBase, RefKind};
use crate::store::{StoreData, StoreRef};
use crate::{
    wasm_extern_t, wasm_extern_vec_t, wasm_module_t, wasm_ref_t, wasm_store_t, wasm_trap_t,
    wasmtime_context_t, wasmtime_extern_t, wasmtime_module_t, CError, WasmVec,
};
use anyhow::{anyhow, Result};
use std::ffi::c_char;
use std::ptr;
use wasmjit::{Extern, Instance, InstancePre};

/// `wasmtime_instance_t`: an instance of a store.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct wasmtime_instance_t {
    pub store_id: u64,
    pub index: usize,
}

/// Runs an instantiation, counting it against the store's limit. A trap (from the start
/// function) goes to `trap`, other failures become the error; on success the handle is
/// written to `out`.
pub(crate) fn finish_instantiation(
    context: &mut wasmtime_context_t,
    make: impl FnOnce(&mut wasmtime_context_t) -> Result<Instance>,
    out: *mut wasmtime_instance_t,
    trap: &mut *mut wasm_trap_t,
) -> CError {
    if let Err(e) = context.data().check_instance_limit() {
        return Some(Box::new(e.into()));
    }
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| make(context))) {
        Ok(Ok(i)) => {
            let data = context.data_mut();
            data.instance_count += 1;
            let c = data.instance_to_c(i);
            // SAFETY: `out` is an output pointer of the caller.
            unsafe { ptr::write(out, c) };
            None
        }
        Ok(Err(e)) => trap_or_error(e, trap),
        Err(panic) => Some(Box::new(crate::panic_error(panic).into())),
    }
}

/// Instantiates `module` with `nimports` imports in the module's import order.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_instance_new(
    context: &mut wasmtime_context_t,
    module: &wasmtime_module_t,
    imports: *const wasmtime_extern_t,
    nimports: usize,
    instance: *mut wasmtime_instance_t,
    trap: &mut *mut wasm_trap_t,
) -> CError {
    // SAFETY: C passes `nimports` imports.
    let imports = unsafe { crate::slice_from_raw(imports, nimports) };
    let imports = match imports
        .iter()
        .map(|i| context.data().extern_from_c(i))
        .collect::<Result<Vec<_>>>()
    {
        Ok(i) => i,
        Err(e) => return Some(Box::new(e.into())),
    };
    finish_instantiation(
        context,
        |ctx| Instance::new(&mut ctx.store, &module.module, &imports),
        instance,
        trap,
    )
}

fn instance_of(data: &StoreData, instance: &wasmtime_instance_t, name: &str) -> Instance {
    data.instance_from_c(instance)
        .unwrap_or_else(|e| crate::fatal(name, &e.to_string()))
}

/// The export `name`; false when there is none or the name is not UTF-8.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_instance_export_get(
    context: &mut wasmtime_context_t,
    instance: &wasmtime_instance_t,
    name: *const u8,
    name_len: usize,
    item: *mut wasmtime_extern_t,
) -> bool {
    // SAFETY: C passes `name_len` readable bytes.
    let Ok(name) = (unsafe { crate::str_from_raw(name, name_len) }) else {
        return false;
    };
    crate::abort_on_panic("wasmtime_instance_export_get", || {
        let i = instance_of(context.data(), instance, "wasmtime_instance_export_get");
        let Some(e) = i.get_export(&mut context.store, name) else {
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

/// Export number `index`: its name (owned by the store) and the item; false when out of
/// range.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_instance_export_nth(
    context: &mut wasmtime_context_t,
    instance: &wasmtime_instance_t,
    index: usize,
    name: *mut *mut c_char,
    name_len: *mut usize,
    item: *mut wasmtime_extern_t,
) -> bool {
    crate::abort_on_panic("wasmtime_instance_export_nth", || {
        let i = instance_of(context.data(), instance, "wasmtime_instance_export_nth");
        let Some((n, e)) = i
            .exports(&mut context.store)
            .filter(|e| !matches!(e.clone().into_extern(), Extern::Tag(_)))
            .nth(index)
            .map(|e| ((e.name().as_ptr(), e.name().len()), e.into_extern()))
        else {
            return false;
        };
        let Some(c) = context.data_mut().extern_to_c(e) else {
            return false;
        };
        // SAFETY: the name lives in the instance's module, which the store keeps for its
        // whole life; the out pointers are the caller's.
        unsafe {
            ptr::write(name, n.0 as *mut c_char);
            ptr::write(name_len, n.1);
            ptr::write(item, c);
        }
        true
    })
}

/// A module with its imports resolved by a linker, ready to instantiate.
pub struct wasmtime_instance_pre_t {
    pub(crate) pre: InstancePre<StoreData>,
}

/// Frees an instance-pre.
#[no_mangle]
pub extern "C" fn wasmtime_instance_pre_delete(_pre: Option<Box<wasmtime_instance_pre_t>>) {}

/// Instantiates in `context`'s store.
#[no_mangle]
pub extern "C" fn wasmtime_instance_pre_instantiate(
    pre: &wasmtime_instance_pre_t,
    context: &mut wasmtime_context_t,
    instance: *mut wasmtime_instance_t,
    trap: &mut *mut wasm_trap_t,
) -> CError {
    finish_instantiation(
        context,
        |ctx| pre.pre.instantiate(&mut ctx.store),
        instance,
        trap,
    )
}

/// The module (a new handle the caller deletes).
#[no_mangle]
pub extern "C" fn wasmtime_instance_pre_module(
    pre: &wasmtime_instance_pre_t,
) -> Box<wasmtime_module_t> {
    Box::new(wasmtime_module_t {
        module: pre.pre.module().clone(),
    })
}

/// An instance of the `wasm.h` API.
#[repr(C)]
pub struct wasm_instance_t {
    pub(crate) base: RefBase,
    pub(crate) store: StoreRef,
    pub(crate) instance: Instance,
}

impl Clone for wasm_instance_t {
    fn clone(&self) -> Self {
        Self {
            base: self.base.copy(),
            store: self.store.clone(),
            instance: self.instance,
        }
    }
}

impl wasm_instance_t {
    pub(crate) fn same(&self, other: &Self) -> bool {
        self.store.same(&other.store) && self.instance == other.instance
    }
}

impl_as_ref!(wasm_instance_t);

/// Instantiates `module` with `imports` in import order. On failure returns NULL and, when
/// `trap` is not NULL, stores an owned trap describing why.
#[no_mangle]
pub unsafe extern "C" fn wasm_instance_new(
    store: &wasm_store_t,
    module: &wasm_module_t,
    imports: Option<&wasm_extern_vec_t>,
    trap: *mut *mut wasm_trap_t,
) -> Option<Box<wasm_instance_t>> {
    let made = crate::catch_panic(|| {
        let imports = imports.map_or(&[][..], |v| v.as_slice());
        let imports = imports
            .iter()
            .map(|i| {
                let i = i.as_ref().ok_or_else(|| anyhow!("an import is NULL"))?;
                if !i.store.same(&store.store) {
                    anyhow::bail!("an import belongs to another store");
                }
                Ok(i.which.clone())
            })
            .collect::<Result<Vec<Extern>>>()?;
        store.store.with(|ctx| {
            ctx.data().check_instance_limit()?;
            let i = Instance::new(&mut ctx.store, &module.module, &imports)?;
            ctx.data_mut().instance_count += 1;
            Ok(i)
        })
    });
    match made {
        Ok(instance) => Some(Box::new(wasm_instance_t {
            base: RefBase::new(RefKind::Instance),
            store: store.store.clone(),
            instance,
        })),
        Err(e) => {
            if !trap.is_null() {
                // SAFETY: `trap` is a non-null output pointer of the caller.
                unsafe { ptr::write(trap, Box::into_raw(wasm_trap_t::boxed(e))) };
            }
            None
        }
    }
}

/// Frees an instance handle.
#[no_mangle]
pub extern "C" fn wasm_instance_delete(_i: Option<Box<wasm_instance_t>>) {}

/// The instance's exports, in order, as owned externs.
#[no_mangle]
pub unsafe extern "C" fn wasm_instance_exports(i: &wasm_instance_t, out: *mut wasm_extern_vec_t) {
    let v = crate::abort_on_panic("wasm_instance_exports", || {
        let exts: Vec<Extern> = i.store.with(|ctx| {
            i.instance
                .exports(&mut ctx.store)
                .map(|e| e.into_extern())
                .filter(|e| !matches!(e, Extern::Tag(_)))
                .collect()
        });
        exts.into_iter()
            .map(|e| wasm_extern_t::boxed(i.store.clone(), e))
            .collect::<Vec<_>>()
    });
    // SAFETY: `out` is an output pointer of the caller.
    unsafe { WasmVec::write(out, v) }
}

declare_ref!(
    wasm_instance_t,
    |r: &wasm_ref_t| r.base.kind == RefKind::Instance,
    wasm_instance_copy,
    wasm_instance_same,
    wasm_instance_get_host_info,
    wasm_instance_set_host_info,
    wasm_instance_set_host_info_with_finalizer,
    wasm_instance_as_ref,
    wasm_instance_as_ref_const,
    wasm_ref_as_instance,
    wasm_ref_as_instance_const
);
