//! `wasm_*_vec_t`: a length and a pointer to elements, owned by whoever holds the vector.
//!
//! Every vector type has the five functions of `wasm.h`: `new_empty`, `new_uninitialized`,
//! `new`, `copy` and `delete`. Elements that are pointers own what they point to (or are NULL).

use crate::{
    wasm_exporttype_t, wasm_extern_t, wasm_externtype_t, wasm_frame_t, wasm_functype_t,
    wasm_globaltype_t, wasm_importtype_t, wasm_memorytype_t, wasm_tabletype_t, wasm_val_t,
    wasm_valtype_t,
};
use std::ptr;

/// The C layout of every `wasm_*_vec_t`. Has no destructor of its own: the owner frees it
/// with [`WasmVec::take`] (what the `_delete` functions do).
#[repr(C)]
pub struct WasmVec<T> {
    pub size: usize,
    pub data: *mut T,
}

impl<T> WasmVec<T> {
    /// The empty vector of `wasm_*_vec_new_empty` (and of a vector taken back): NULL data.
    pub const fn empty() -> Self {
        Self {
            size: 0,
            data: ptr::null_mut(),
        }
    }

    /// Hands `v`'s elements over to a C vector. An empty one gets a non-null (dangling,
    /// aligned) `data`, as Wasmtime's vectors and names do: clients dereference it.
    pub fn from_vec(v: Vec<T>) -> Self {
        if v.is_empty() {
            return Self {
                size: 0,
                data: ptr::NonNull::dangling().as_ptr(),
            };
        }
        let boxed = v.into_boxed_slice();
        let size = boxed.len();
        let data = Box::into_raw(boxed) as *mut T;
        Self { size, data }
    }

    /// The elements.
    pub fn as_slice(&self) -> &[T] {
        // SAFETY: a vector's `data` points to `size` initialized elements (or is unused when
        // `size` is 0), as every constructor guarantees and C must keep.
        unsafe { crate::slice_from_raw(self.data, self.size) }
    }

    /// The elements, mutably.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        // SAFETY: as in `as_slice`; `&mut self` makes the borrow exclusive.
        unsafe { crate::slice_from_raw_mut(self.data, self.size) }
    }

    /// Takes the elements back, leaving the vector empty.
    pub fn take(&mut self) -> Vec<T> {
        if self.data.is_null() || self.size == 0 {
            *self = Self::empty();
            return Vec::new();
        }
        // SAFETY: non-empty vectors are only made by `from_vec`, from a boxed slice of exactly
        // `size` elements.
        let v = unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(self.data, self.size)) };
        *self = Self::empty();
        v.into_vec()
    }

    /// Writes `v` into the possibly uninitialized `out` without reading it.
    ///
    /// # Safety
    /// `out` must be valid for a write.
    pub unsafe fn write(out: *mut Self, v: Vec<T>) {
        // SAFETY: forwarded from the caller.
        unsafe { ptr::write(out, Self::from_vec(v)) }
    }
}

impl<T: Clone> WasmVec<T> {
    /// A copy of the elements.
    pub fn to_vec(&self) -> Vec<T> {
        self.as_slice().to_vec()
    }
}

/// A vector owned by a Rust value, lent to C as `const wasm_*_vec_t *`.
pub struct OwnedVec<T>(WasmVec<T>);

impl<T> OwnedVec<T> {
    pub fn new(v: Vec<T>) -> Self {
        Self(WasmVec::from_vec(v))
    }
    pub fn as_c(&self) -> &WasmVec<T> {
        &self.0
    }
    pub fn as_slice(&self) -> &[T] {
        self.0.as_slice()
    }
}

impl<T: Clone> Clone for OwnedVec<T> {
    fn clone(&self) -> Self {
        Self::new(self.0.to_vec())
    }
}

impl<T> Drop for OwnedVec<T> {
    fn drop(&mut self) {
        drop(self.0.take());
    }
}

// SAFETY: an `OwnedVec` owns its elements exactly like a `Vec` would.
unsafe impl<T: Send> Send for OwnedVec<T> {}
// SAFETY: as above.
unsafe impl<T: Sync> Sync for OwnedVec<T> {}

/// Defines a vector type and its five functions. `$elem` must be `Clone` (copies are deep)
/// and `$uninit` is the value `new_uninitialized` fills in.
macro_rules! declare_vec {
    ($vec:ident, $elem:ty, $uninit:expr,
     $new_empty:ident, $new_uninit:ident, $new:ident, $copy:ident, $delete:ident) => {
        pub type $vec = WasmVec<$elem>;

        /// An empty vector (NULL data, as in Wasmtime).
        #[no_mangle]
        pub unsafe extern "C" fn $new_empty(out: *mut $vec) {
            // SAFETY: `out` is an output pointer of the caller.
            unsafe { ptr::write(out, WasmVec::empty()) }
        }

        /// A vector of `size` placeholder elements.
        #[no_mangle]
        pub unsafe extern "C" fn $new_uninit(out: *mut $vec, size: usize) {
            let v: Vec<$elem> = (0..size).map(|_| $uninit).collect();
            // SAFETY: `out` is an output pointer of the caller.
            unsafe { WasmVec::write(out, v) }
        }

        /// A vector taking over `size` elements from `data`.
        #[no_mangle]
        pub unsafe extern "C" fn $new(out: *mut $vec, size: usize, data: *const $elem) {
            let v: Vec<$elem> = (0..size)
                // SAFETY: C passes `size` elements whose ownership moves into the vector: they
                // are read bit for bit and never used again through `data`.
                .map(|i| unsafe { ptr::read(data.add(i)) })
                .collect();
            // SAFETY: `out` is an output pointer of the caller.
            unsafe { WasmVec::write(out, v) }
        }

        /// A deep copy of `src`.
        #[no_mangle]
        pub unsafe extern "C" fn $copy(out: *mut $vec, src: &$vec) {
            let v = crate::abort_on_panic(stringify!($copy), || src.to_vec());
            // SAFETY: `out` is an output pointer of the caller.
            unsafe { WasmVec::write(out, v) }
        }

        /// Frees the elements and empties the vector.
        #[no_mangle]
        pub extern "C" fn $delete(v: Option<&mut $vec>) {
            if let Some(v) = v {
                crate::abort_on_panic(stringify!($delete), || drop(v.take()));
            }
        }
    };
}

declare_vec!(
    wasm_byte_vec_t,
    u8,
    0,
    wasm_byte_vec_new_empty,
    wasm_byte_vec_new_uninitialized,
    wasm_byte_vec_new,
    wasm_byte_vec_copy,
    wasm_byte_vec_delete
);
/// `wasm_name_t` is a byte vector.
pub type wasm_name_t = wasm_byte_vec_t;
/// `wasm_message_t` is a NUL-terminated byte vector.
pub type wasm_message_t = wasm_byte_vec_t;

declare_vec!(
    wasm_val_vec_t,
    wasm_val_t,
    wasm_val_t::default(),
    wasm_val_vec_new_empty,
    wasm_val_vec_new_uninitialized,
    wasm_val_vec_new,
    wasm_val_vec_copy,
    wasm_val_vec_delete
);
declare_vec!(
    wasm_valtype_vec_t,
    Option<Box<wasm_valtype_t>>,
    None,
    wasm_valtype_vec_new_empty,
    wasm_valtype_vec_new_uninitialized,
    wasm_valtype_vec_new,
    wasm_valtype_vec_copy,
    wasm_valtype_vec_delete
);
declare_vec!(
    wasm_functype_vec_t,
    Option<Box<wasm_functype_t>>,
    None,
    wasm_functype_vec_new_empty,
    wasm_functype_vec_new_uninitialized,
    wasm_functype_vec_new,
    wasm_functype_vec_copy,
    wasm_functype_vec_delete
);
declare_vec!(
    wasm_globaltype_vec_t,
    Option<Box<wasm_globaltype_t>>,
    None,
    wasm_globaltype_vec_new_empty,
    wasm_globaltype_vec_new_uninitialized,
    wasm_globaltype_vec_new,
    wasm_globaltype_vec_copy,
    wasm_globaltype_vec_delete
);
declare_vec!(
    wasm_tabletype_vec_t,
    Option<Box<wasm_tabletype_t>>,
    None,
    wasm_tabletype_vec_new_empty,
    wasm_tabletype_vec_new_uninitialized,
    wasm_tabletype_vec_new,
    wasm_tabletype_vec_copy,
    wasm_tabletype_vec_delete
);
declare_vec!(
    wasm_memorytype_vec_t,
    Option<Box<wasm_memorytype_t>>,
    None,
    wasm_memorytype_vec_new_empty,
    wasm_memorytype_vec_new_uninitialized,
    wasm_memorytype_vec_new,
    wasm_memorytype_vec_copy,
    wasm_memorytype_vec_delete
);
declare_vec!(
    wasm_externtype_vec_t,
    Option<Box<wasm_externtype_t>>,
    None,
    wasm_externtype_vec_new_empty,
    wasm_externtype_vec_new_uninitialized,
    wasm_externtype_vec_new,
    wasm_externtype_vec_copy,
    wasm_externtype_vec_delete
);
declare_vec!(
    wasm_importtype_vec_t,
    Option<Box<wasm_importtype_t>>,
    None,
    wasm_importtype_vec_new_empty,
    wasm_importtype_vec_new_uninitialized,
    wasm_importtype_vec_new,
    wasm_importtype_vec_copy,
    wasm_importtype_vec_delete
);
declare_vec!(
    wasm_exporttype_vec_t,
    Option<Box<wasm_exporttype_t>>,
    None,
    wasm_exporttype_vec_new_empty,
    wasm_exporttype_vec_new_uninitialized,
    wasm_exporttype_vec_new,
    wasm_exporttype_vec_copy,
    wasm_exporttype_vec_delete
);
declare_vec!(
    wasm_frame_vec_t,
    Option<Box<wasm_frame_t>>,
    None,
    wasm_frame_vec_new_empty,
    wasm_frame_vec_new_uninitialized,
    wasm_frame_vec_new,
    wasm_frame_vec_copy,
    wasm_frame_vec_delete
);
declare_vec!(
    wasm_extern_vec_t,
    Option<Box<wasm_extern_t>>,
    None,
    wasm_extern_vec_new_empty,
    wasm_extern_vec_new_uninitialized,
    wasm_extern_vec_new,
    wasm_extern_vec_copy,
    wasm_extern_vec_delete
);
