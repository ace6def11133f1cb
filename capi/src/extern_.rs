//! Externs: `wasmtime_extern_t` (a tagged union of handles) and `wasm_extern_t` (the
//! `wasm.h` object behind `wasm_func_t`, `wasm_global_t`, `wasm_table_t` and
//! `wasm_memory_t`).

use crate::ref_::{declare_ref, impl_as_ref, RefBase, RefKind};
use crate::store::{StoreData, StoreRef};
use crate::{wasm_externtype_t, wasm_ref_t, wasmtime_context_t};
use anyhow::{bail, Result};
use wasmjit::Extern;

/// `wasmtime_func_t`: a function of a store (`store_id` 0 is the null funcref).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct wasmtime_func_t {
    pub store_id: u64,
    pub index: usize,
}

/// `wasmtime_table_t`: a table of a store.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct wasmtime_table_t {
    pub store_id: u64,
    pub index: usize,
}

/// `wasmtime_memory_t`: a memory of a store.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct wasmtime_memory_t {
    pub store_id: u64,
    pub index: usize,
}

/// `wasmtime_global_t`: a global of a store.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct wasmtime_global_t {
    pub store_id: u64,
    pub index: usize,
}

/// `wasmtime_extern_kind_t` values.
pub const WASMTIME_EXTERN_FUNC: u8 = 0;
pub const WASMTIME_EXTERN_GLOBAL: u8 = 1;
pub const WASMTIME_EXTERN_TABLE: u8 = 2;
pub const WASMTIME_EXTERN_MEMORY: u8 = 3;
pub const WASMTIME_EXTERN_SHAREDMEMORY: u8 = 4;

/// `wasmtime_extern_union_t`.
#[repr(C)]
#[derive(Clone, Copy)]
pub union wasmtime_extern_union_t {
    pub func: wasmtime_func_t,
    pub global: wasmtime_global_t,
    pub table: wasmtime_table_t,
    pub memory: wasmtime_memory_t,
    pub sharedmemory: *mut crate::wasmtime_sharedmemory_t,
}

/// `wasmtime_extern_t`: a kind and a handle.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct wasmtime_extern_t {
    pub kind: u8,
    pub of: wasmtime_extern_union_t,
}

impl StoreData {
    /// The C form of a runtime extern of this store; `None` for a tag, which the 29 API
    /// does not have (lookups of one find nothing).
    pub(crate) fn extern_to_c(&mut self, e: Extern) -> Option<wasmtime_extern_t> {
        Some(match e {
            Extern::Func(f) => wasmtime_extern_t {
                kind: WASMTIME_EXTERN_FUNC,
                of: wasmtime_extern_union_t {
                    func: self.func_to_c(f),
                },
            },
            Extern::Global(g) => wasmtime_extern_t {
                kind: WASMTIME_EXTERN_GLOBAL,
                of: wasmtime_extern_union_t {
                    global: self.global_to_c(g),
                },
            },
            Extern::Table(t) => wasmtime_extern_t {
                kind: WASMTIME_EXTERN_TABLE,
                of: wasmtime_extern_union_t {
                    table: self.table_to_c(t),
                },
            },
            Extern::Memory(m) => wasmtime_extern_t {
                kind: WASMTIME_EXTERN_MEMORY,
                of: wasmtime_extern_union_t {
                    memory: self.memory_to_c(m),
                },
            },
            // A new handle C owns, freed by `wasmtime_extern_delete`, as in Wasmtime.
            Extern::SharedMemory(m) => wasmtime_extern_t {
                kind: WASMTIME_EXTERN_SHAREDMEMORY,
                of: wasmtime_extern_union_t {
                    sharedmemory: crate::wasmtime_sharedmemory_t::boxed(m),
                },
            },
            Extern::Tag(_) => return None,
        })
    }

    /// The runtime extern of a C one; errors for another store's or an unknown kind.
    pub(crate) fn extern_from_c(&self, e: &wasmtime_extern_t) -> Result<Extern> {
        // SAFETY: the kind says which union field C initialized.
        unsafe {
            Ok(match e.kind {
                WASMTIME_EXTERN_FUNC => Extern::Func(self.func_from_c(&e.of.func)?),
                WASMTIME_EXTERN_GLOBAL => Extern::Global(self.global_from_c(&e.of.global)?),
                WASMTIME_EXTERN_TABLE => Extern::Table(self.table_from_c(&e.of.table)?),
                WASMTIME_EXTERN_MEMORY => Extern::Memory(self.memory_from_c(&e.of.memory)?),
                WASMTIME_EXTERN_SHAREDMEMORY => {
                    // SAFETY: a non-null handle is one `wasmtime_sharedmemory_new`, `_clone`
                    // or an extern gave C, still owned by it.
                    match e.of.sharedmemory.as_ref() {
                        Some(handle) => Extern::SharedMemory(handle.memory.clone()),
                        None => bail!("NULL shared memory in a wasmtime_extern_t"),
                    }
                }
                k => bail!("unknown wasmtime_extern_kind_t value {k}"),
            })
        }
    }
}

/// Frees what the extern owns: a shared memory's handle (other handles belong to their
/// store). The extern is left holding a NULL shared memory.
#[no_mangle]
pub extern "C" fn wasmtime_extern_delete(e: Option<&mut wasmtime_extern_t>) {
    crate::abort_on_panic("wasmtime_extern_delete", || {
        let Some(e) = e else { return };
        if e.kind == WASMTIME_EXTERN_SHAREDMEMORY {
            // SAFETY: the kind says the union holds a shared memory handle, which C owns and
            // gives up here (nulled so that a second delete frees nothing).
            unsafe {
                let handle = std::mem::replace(&mut e.of.sharedmemory, std::ptr::null_mut());
                if !handle.is_null() {
                    drop(Box::from_raw(handle));
                }
            }
        }
    })
}

/// The type of an extern.
#[no_mangle]
pub extern "C" fn wasmtime_extern_type(
    context: &mut wasmtime_context_t,
    e: &wasmtime_extern_t,
) -> Box<wasm_externtype_t> {
    crate::abort_on_panic("wasmtime_extern_type", || {
        let ext = context
            .data()
            .extern_from_c(e)
            .unwrap_or_else(|err| crate::fatal("wasmtime_extern_type", &err.to_string()));
        Box::new(wasm_externtype_t::from_ty(&ext.ty(&context.store)))
    })
}

/// A `wasm.h` function, global, table or memory, with the store it lives in.
#[repr(C)]
pub struct wasm_extern_t {
    pub(crate) base: RefBase,
    pub(crate) store: StoreRef,
    pub(crate) which: Extern,
}

impl Clone for wasm_extern_t {
    fn clone(&self) -> Self {
        Self {
            base: self.base.copy(),
            store: self.store.clone(),
            which: self.which.clone(),
        }
    }
}

impl wasm_extern_t {
    pub(crate) fn new(store: StoreRef, which: Extern) -> Self {
        Self {
            base: RefBase::new(RefKind::Extern),
            store,
            which,
        }
    }

    pub(crate) fn boxed(store: StoreRef, which: Extern) -> Option<Box<Self>> {
        Some(Box::new(Self::new(store, which)))
    }

    pub(crate) fn same(&self, other: &Self) -> bool {
        self.store.same(&other.store)
            && match (&self.which, &other.which) {
                (Extern::Func(a), Extern::Func(b)) => a == b,
                (Extern::Global(a), Extern::Global(b)) => a == b,
                (Extern::Table(a), Extern::Table(b)) => a == b,
                (Extern::Memory(a), Extern::Memory(b)) => a == b,
                (Extern::SharedMemory(a), Extern::SharedMemory(b)) => {
                    a.data().as_ptr() == b.data().as_ptr()
                }
                _ => false,
            }
    }

    pub(crate) fn kind(&self) -> u8 {
        match self.which {
            Extern::Func(_) => crate::WASM_EXTERN_FUNC,
            Extern::Global(_) => crate::WASM_EXTERN_GLOBAL,
            Extern::Table(_) => crate::WASM_EXTERN_TABLE,
            // `wasm.h` has no shared memories: one is a memory there (which
            // `wasm_extern_as_memory` does not convert); Wasmtime panics instead.
            Extern::Memory(_) | Extern::SharedMemory(_) => crate::WASM_EXTERN_MEMORY,
            Extern::Tag(_) => unreachable!("tags are never handed to C"),
        }
    }
}

impl_as_ref!(wasm_extern_t);

/// Frees an extern handle.
#[no_mangle]
pub extern "C" fn wasm_extern_delete(_e: Option<Box<wasm_extern_t>>) {}

/// The extern's kind (`WASM_EXTERN_FUNC`, ...).
#[no_mangle]
pub extern "C" fn wasm_extern_kind(e: &wasm_extern_t) -> u8 {
    e.kind()
}

/// The extern's type.
#[no_mangle]
pub extern "C" fn wasm_extern_type(e: &wasm_extern_t) -> Box<wasm_externtype_t> {
    crate::abort_on_panic("wasm_extern_type", || {
        let ty = e.store.with(|ctx| e.which.ty(&ctx.store));
        Box::new(wasm_externtype_t::from_ty(&ty))
    })
}

declare_ref!(
    wasm_extern_t,
    |r: &wasm_ref_t| r.base.kind == RefKind::Extern,
    wasm_extern_copy,
    wasm_extern_same,
    wasm_extern_get_host_info,
    wasm_extern_set_host_info,
    wasm_extern_set_host_info_with_finalizer,
    wasm_extern_as_ref,
    wasm_extern_as_ref_const,
    wasm_ref_as_extern,
    wasm_ref_as_extern_const
);

/// Whether a reference is an extern of the given kind.
pub(crate) fn ref_is_extern_of(r: &wasm_ref_t, kind: u8) -> bool {
    if r.base.kind != RefKind::Extern {
        return false;
    }
    let p: *const wasm_ref_t = r;
    // SAFETY: the base says this is a `wasm_extern_t`.
    unsafe { (*(p as *const wasm_extern_t)).kind() == kind }
}

/// Defines the `wasm.h` functions of one extern kind: delete, the extern conversions and the
/// reference functions.
macro_rules! declare_extern_kind {
    ($ty:ident, $kind:expr, $delete:ident,
     $as_extern:ident, $as_extern_const:ident, $from_extern:ident, $from_extern_const:ident,
     $copy:ident, $same:ident, $get:ident, $set:ident, $set_fin:ident,
     $as_ref:ident, $as_ref_const:ident, $from_ref:ident, $from_ref_const:ident) => {
        /// This kind of extern is a `wasm_extern_t`.
        pub type $ty = crate::wasm_extern_t;

        /// Frees the handle.
        #[no_mangle]
        pub extern "C" fn $delete(_x: Option<Box<$ty>>) {}

        /// The same object viewed as an extern.
        #[no_mangle]
        pub extern "C" fn $as_extern(x: &mut $ty) -> &mut crate::wasm_extern_t {
            x
        }

        /// The same object viewed as an extern.
        #[no_mangle]
        pub extern "C" fn $as_extern_const(x: &$ty) -> &crate::wasm_extern_t {
            x
        }

        /// The extern viewed as this kind; NULL for another kind.
        #[no_mangle]
        pub extern "C" fn $from_extern(e: Option<&mut crate::wasm_extern_t>) -> Option<&mut $ty> {
            e.filter(|e| e.kind() == $kind)
        }

        /// The extern viewed as this kind; NULL for another kind.
        #[no_mangle]
        pub extern "C" fn $from_extern_const(e: Option<&crate::wasm_extern_t>) -> Option<&$ty> {
            e.filter(|e| e.kind() == $kind)
        }

        crate::ref_::declare_ref!(
            $ty,
            |r: &crate::wasm_ref_t| crate::extern_::ref_is_extern_of(r, $kind),
            $copy,
            $same,
            $get,
            $set,
            $set_fin,
            $as_ref,
            $as_ref_const,
            $from_ref,
            $from_ref_const
        );
    };
}
pub(crate) use declare_extern_kind;
