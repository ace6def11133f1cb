//! The C API of wasmjit.
//!
//! Source- and ABI-compatible with the C API of Wasmtime 29: the headers in `capi/include/`
//! (`wasm.h`, `wasmtime.h`, `wasmtime/*.h`) declare the same names, signatures, struct layouts
//! and constants, and this crate implements them on top of the `wasmjit` runtime. It builds
//! `libwasmjit.so` and `libwasmjit.a`.
//!
//! Every entry point catches Rust panics: where the C signature can report a failure (an error,
//! a trap, a NULL result or `false`) the panic becomes that failure; elsewhere the message is
//! printed and the process aborts.
//!
//! `wasmtime/async.h` is implemented in [`async_`], kept apart from the rest.

#![allow(non_camel_case_types)]
#![allow(clippy::missing_safety_doc)]

pub mod async_;
pub mod config;
pub mod engine;
pub mod error;
pub mod extern_;
mod externref_roots;
pub mod func;
pub mod global;
pub mod instance;
pub mod linker;
pub mod memory;
pub mod module;
pub mod profiling;
pub mod ref_;
pub mod sharedmemory;
pub mod store;
pub mod table;
pub mod trap;
pub mod types;
pub mod val;
pub mod vec;
pub mod wasi;
pub mod wat;

pub use config::*;
pub use engine::*;
pub use error::*;
pub use extern_::*;
pub use func::*;
pub use global::*;
pub use instance::*;
pub use linker::*;
pub use memory::*;
pub use module::*;
pub use profiling::*;
pub use ref_::*;
pub use sharedmemory::*;
pub use store::*;
pub use table::*;
pub use trap::*;
pub use types::*;
pub use val::*;
pub use vec::*;
pub use wat::*;

use std::any::Any;
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// A C finalizer: called once with the pointer it was registered with.
pub type Finalizer = Option<unsafe extern "C" fn(*mut c_void)>;

/// Host data handed over by C together with its finalizer, which runs on drop.
pub struct ForeignData {
    pub(crate) data: *mut c_void,
    pub(crate) finalizer: Finalizer,
}

impl ForeignData {
    pub(crate) fn new(data: *mut c_void, finalizer: Finalizer) -> Self {
        Self { data, finalizer }
    }

    /// The data pointer. (A method, so closures capture the whole value, finalizer and all.)
    pub(crate) fn ptr(&self) -> *mut c_void {
        self.data
    }
}

// SAFETY: the C API requires host data given to it to be usable from whichever thread uses the
// object it is attached to (Wasmtime's documented contract); we only pass the pointer back.
unsafe impl Send for ForeignData {}
// SAFETY: as above; the pointer is never dereferenced on the Rust side.
unsafe impl Sync for ForeignData {}

impl Drop for ForeignData {
    fn drop(&mut self) {
        if let Some(f) = self.finalizer.take() {
            // SAFETY: the finalizer was given together with this data, to be called once.
            unsafe { f(self.data) };
        }
    }
}

/// A readable message out of a panic payload.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_string()
    } else {
        "a Rust panic happened".to_string()
    }
}

/// An error out of a panic payload.
pub(crate) fn panic_error(payload: Box<dyn Any + Send>) -> anyhow::Error {
    anyhow::anyhow!("panic: {}", panic_message(&*payload))
}

/// Runs `f`; a panic that escapes it is reported on stderr and aborts the process. For entry
/// points whose C signature has no way to report a failure.
pub(crate) fn abort_on_panic<R>(name: &str, f: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            eprintln!("wasmjit: {name}: {}", panic_message(&*payload));
            std::process::abort()
        }
    }
}

/// Runs `f`, turning a panic into an error.
pub(crate) fn catch_panic<R>(f: impl FnOnce() -> anyhow::Result<R>) -> anyhow::Result<R> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| Err(panic_error(p)))
}

/// Reports a misuse of the API that leaves no sensible way to continue, then aborts.
pub(crate) fn fatal(name: &str, msg: &str) -> ! {
    eprintln!("wasmjit: {name}: {msg}");
    std::process::abort()
}

/// A slice from a C pointer and length; NULL is allowed when the length is 0.
///
/// # Safety
/// Unless `len` is 0, `ptr` must point to `len` initialized values that outlive `'a`.
pub(crate) unsafe fn slice_from_raw<'a, T>(ptr: *const T, len: usize) -> &'a [T] {
    if len == 0 {
        &[]
    } else {
        // SAFETY: forwarded from the caller.
        unsafe { std::slice::from_raw_parts(ptr, len) }
    }
}

/// A mutable slice from a C pointer and length; NULL is allowed when the length is 0.
///
/// # Safety
/// Unless `len` is 0, `ptr` must point to `len` values, not otherwise borrowed, that outlive
/// `'a`.
pub(crate) unsafe fn slice_from_raw_mut<'a, T>(ptr: *mut T, len: usize) -> &'a mut [T] {
    if len == 0 {
        &mut []
    } else {
        // SAFETY: forwarded from the caller.
        unsafe { std::slice::from_raw_parts_mut(ptr, len) }
    }
}

/// A name given as pointer and length, which must be UTF-8.
///
/// # Safety
/// As for [`slice_from_raw`].
pub(crate) unsafe fn str_from_raw<'a>(ptr: *const u8, len: usize) -> anyhow::Result<&'a str> {
    // SAFETY: forwarded from the caller.
    let bytes = unsafe { slice_from_raw(ptr, len) };
    std::str::from_utf8(bytes).map_err(|_| anyhow::anyhow!("input was not valid utf-8"))
}
