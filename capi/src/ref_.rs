//! `wasm_ref_t`: the common view of the `wasm.h` reference objects (externs, instances,
//! modules, traps, foreign objects), and `wasm_foreign_t`.
//!
//! Every such object starts with a [`RefBase`] recording its kind and host info, so a
//! `wasm_X_t *` can be viewed as a `wasm_ref_t *` and back with a kind check. Host info is
//! attached to the handle it was set on; its finalizer runs when that handle is deleted.

use crate::store::StoreRef;
use crate::{
    wasm_extern_t, wasm_instance_t, wasm_module_t, wasm_store_t, wasm_trap_t, Finalizer,
    ForeignData,
};
use std::ffi::c_void;
use wasmjit::ExternRef;

/// What a `wasm_ref_t` really is.
#[repr(u8)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum RefKind {
    Extern,
    Instance,
    Module,
    Trap,
    Foreign,
}

/// The first field of every reference object.
#[repr(C)]
pub struct RefBase {
    pub(crate) kind: RefKind,
    host_info: Option<ForeignData>,
}

impl RefBase {
    pub(crate) fn new(kind: RefKind) -> Self {
        Self {
            kind,
            host_info: None,
        }
    }
    /// A copy's base: same kind, no host info.
    pub(crate) fn copy(&self) -> Self {
        Self::new(self.kind)
    }
}

/// The common view of reference objects; only ever behind a pointer.
#[repr(C)]
pub struct wasm_ref_t {
    pub(crate) base: RefBase,
}

/// Frees any reference object through its `wasm_ref_t` view.
#[no_mangle]
pub extern "C" fn wasm_ref_delete(r: Option<Box<wasm_ref_t>>) {
    let Some(r) = r else { return };
    let p = Box::into_raw(r);
    crate::abort_on_panic("wasm_ref_delete", || {
        // SAFETY: `p` came from a box of the concrete type its base names (every reference
        // object is `repr(C)` with its base first).
        unsafe {
            match (*p).base.kind {
                RefKind::Extern => drop(Box::from_raw(p as *mut wasm_extern_t)),
                RefKind::Instance => drop(Box::from_raw(p as *mut wasm_instance_t)),
                RefKind::Module => drop(Box::from_raw(p as *mut wasm_module_t)),
                RefKind::Trap => drop(Box::from_raw(p as *mut wasm_trap_t)),
                RefKind::Foreign => drop(Box::from_raw(p as *mut wasm_foreign_t)),
            }
        }
    })
}

/// A copy of any reference object (as the same concrete type).
#[no_mangle]
pub extern "C" fn wasm_ref_copy(r: Option<&wasm_ref_t>) -> Option<Box<wasm_ref_t>> {
    let r = r?;
    let p: *const wasm_ref_t = r;
    crate::abort_on_panic("wasm_ref_copy", || {
        // SAFETY: as in `wasm_ref_delete`: the base names the concrete type behind `p`.
        let copy: *mut wasm_ref_t = unsafe {
            match r.base.kind {
                RefKind::Extern => {
                    Box::into_raw(Box::new((*(p as *const wasm_extern_t)).clone())).cast()
                }
                RefKind::Instance => {
                    Box::into_raw(Box::new((*(p as *const wasm_instance_t)).clone())).cast()
                }
                RefKind::Module => {
                    Box::into_raw(Box::new((*(p as *const wasm_module_t)).clone())).cast()
                }
                RefKind::Trap => {
                    Box::into_raw(Box::new((*(p as *const wasm_trap_t)).clone())).cast()
                }
                RefKind::Foreign => {
                    Box::into_raw(Box::new((*(p as *const wasm_foreign_t)).clone())).cast()
                }
            }
        };
        // SAFETY: `copy` is a fresh box whose first field is a `RefBase`.
        Some(unsafe { Box::from_raw(copy) })
    })
}

/// Whether two references name the same object.
#[no_mangle]
pub extern "C" fn wasm_ref_same(a: Option<&wasm_ref_t>, b: Option<&wasm_ref_t>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) if a.base.kind == b.base.kind => {
            let (pa, pb): (*const wasm_ref_t, *const wasm_ref_t) = (a, b);
            // SAFETY: as in `wasm_ref_delete`; both have the same concrete type.
            unsafe {
                match a.base.kind {
                    RefKind::Extern => {
                        (*(pa as *const wasm_extern_t)).same(&*(pb as *const wasm_extern_t))
                    }
                    RefKind::Instance => {
                        (*(pa as *const wasm_instance_t)).same(&*(pb as *const wasm_instance_t))
                    }
                    RefKind::Module => {
                        (*(pa as *const wasm_module_t)).same(&*(pb as *const wasm_module_t))
                    }
                    RefKind::Foreign => {
                        (*(pa as *const wasm_foreign_t)).same(&*(pb as *const wasm_foreign_t))
                    }
                    RefKind::Trap => std::ptr::eq(pa, pb),
                }
            }
        }
        _ => false,
    }
}

/// The host info of the handle (NULL when unset).
#[no_mangle]
pub extern "C" fn wasm_ref_get_host_info(r: Option<&wasm_ref_t>) -> *mut c_void {
    r.and_then(|r| r.base.host_info.as_ref())
        .map_or(std::ptr::null_mut(), |h| h.data)
}

/// Sets the host info of the handle, finalizing the previous one.
#[no_mangle]
pub extern "C" fn wasm_ref_set_host_info(r: Option<&mut wasm_ref_t>, info: *mut c_void) {
    wasm_ref_set_host_info_with_finalizer(r, info, None)
}

/// Sets the host info of the handle and the finalizer to run when the handle is deleted.
#[no_mangle]
pub extern "C" fn wasm_ref_set_host_info_with_finalizer(
    r: Option<&mut wasm_ref_t>,
    info: *mut c_void,
    finalizer: Finalizer,
) {
    if let Some(r) = r {
        r.base.host_info = Some(ForeignData::new(info, finalizer));
    }
}

/// Defines the reference functions of one `wasm.h` object type: copy, same, host info and the
/// conversions to and from `wasm_ref_t`. `$is` tells whether a reference is of this type.
macro_rules! declare_ref {
    ($ty:ty, $is:expr,
     $copy:ident, $same:ident, $get:ident, $set:ident, $set_fin:ident,
     $as_ref:ident, $as_ref_const:ident, $from_ref:ident, $from_ref_const:ident) => {
        /// A copy of the handle (without host info).
        #[no_mangle]
        pub extern "C" fn $copy(x: &$ty) -> Box<$ty> {
            crate::abort_on_panic(stringify!($copy), || Box::new(x.clone()))
        }

        /// Whether two handles name the same object.
        #[no_mangle]
        pub extern "C" fn $same(a: &$ty, b: &$ty) -> bool {
            crate::ref_::wasm_ref_same(Some(a.as_ref()), Some(b.as_ref()))
        }

        /// The handle's host info.
        #[no_mangle]
        pub extern "C" fn $get(x: &$ty) -> *mut std::ffi::c_void {
            crate::ref_::wasm_ref_get_host_info(Some(x.as_ref()))
        }

        /// Sets the handle's host info.
        #[no_mangle]
        pub extern "C" fn $set(x: &mut $ty, info: *mut std::ffi::c_void) {
            crate::ref_::wasm_ref_set_host_info(Some(x.as_mut_ref()), info)
        }

        /// Sets the handle's host info and its finalizer.
        #[no_mangle]
        pub extern "C" fn $set_fin(
            x: &mut $ty,
            info: *mut std::ffi::c_void,
            finalizer: crate::Finalizer,
        ) {
            crate::ref_::wasm_ref_set_host_info_with_finalizer(
                Some(x.as_mut_ref()),
                info,
                finalizer,
            )
        }

        /// The handle viewed as a reference.
        #[no_mangle]
        pub extern "C" fn $as_ref(x: &mut $ty) -> &mut crate::wasm_ref_t {
            x.as_mut_ref()
        }

        /// The handle viewed as a reference.
        #[no_mangle]
        pub extern "C" fn $as_ref_const(x: &$ty) -> &crate::wasm_ref_t {
            x.as_ref()
        }

        /// The reference viewed as this type; NULL when it is another kind of object.
        #[no_mangle]
        pub extern "C" fn $from_ref(r: Option<&mut crate::wasm_ref_t>) -> Option<&mut $ty> {
            let r = r?;
            if !($is)(&*r) {
                return None;
            }
            let p: *mut crate::wasm_ref_t = r;
            // SAFETY: the kind check above shows `r` is the base of a `$ty`.
            Some(unsafe { &mut *(p as *mut $ty) })
        }

        /// The reference viewed as this type; NULL when it is another kind of object.
        #[no_mangle]
        pub extern "C" fn $from_ref_const(r: Option<&crate::wasm_ref_t>) -> Option<&$ty> {
            let r = r?;
            if !($is)(r) {
                return None;
            }
            let p: *const crate::wasm_ref_t = r;
            // SAFETY: the kind check above shows `r` is the base of a `$ty`.
            Some(unsafe { &*(p as *const $ty) })
        }
    };
}
pub(crate) use declare_ref;

/// Gives a reference object its `wasm_ref_t` view.
macro_rules! impl_as_ref {
    ($ty:ty) => {
        impl $ty {
            pub(crate) fn as_ref(&self) -> &crate::wasm_ref_t {
                let p: *const $ty = self;
                // SAFETY: the type is `repr(C)` with a `RefBase` first, which is all a
                // `wasm_ref_t` is.
                unsafe { &*(p as *const crate::wasm_ref_t) }
            }
            pub(crate) fn as_mut_ref(&mut self) -> &mut crate::wasm_ref_t {
                let p: *mut $ty = self;
                // SAFETY: as above.
                unsafe { &mut *(p as *mut crate::wasm_ref_t) }
            }
        }
    };
}
pub(crate) use impl_as_ref;

/// A host object that wasm can hold as an `externref`.
#[repr(C)]
pub struct wasm_foreign_t {
    pub(crate) base: RefBase,
    pub(crate) store: StoreRef,
    pub(crate) externref: ExternRef,
}

impl Clone for wasm_foreign_t {
    fn clone(&self) -> Self {
        Self {
            base: self.base.copy(),
            store: self.store.clone(),
            externref: self.externref,
        }
    }
}

impl wasm_foreign_t {
    pub(crate) fn same(&self, other: &Self) -> bool {
        self.store.same(&other.store) && self.externref == other.externref
    }
}

impl_as_ref!(wasm_foreign_t);

/// The payload of the externref behind a `wasm_foreign_t`.
struct ForeignPayload;

/// A new foreign object in `store`.
#[no_mangle]
pub extern "C" fn wasm_foreign_new(store: &wasm_store_t) -> Box<wasm_foreign_t> {
    crate::abort_on_panic("wasm_foreign_new", || {
        let externref = store
            .store
            .with(|ctx| ExternRef::new(&mut ctx.store, ForeignPayload))
            .unwrap_or_else(|e| crate::fatal("wasm_foreign_new", &format!("{e:?}")));
        crate::externref_roots::root_forever(&store.store, externref);
        Box::new(wasm_foreign_t {
            base: RefBase::new(RefKind::Foreign),
            store: store.store.clone(),
            externref,
        })
    })
}

/// Frees a foreign object handle.
#[no_mangle]
pub extern "C" fn wasm_foreign_delete(_f: Option<Box<wasm_foreign_t>>) {}

declare_ref!(
    wasm_foreign_t,
    |r: &wasm_ref_t| r.base.kind == RefKind::Foreign,
    wasm_foreign_copy,
    wasm_foreign_same,
    wasm_foreign_get_host_info,
    wasm_foreign_set_host_info,
    wasm_foreign_set_host_info_with_finalizer,
    wasm_foreign_as_ref,
    wasm_foreign_as_ref_const,
    wasm_ref_as_foreign,
    wasm_ref_as_foreign_const
);
