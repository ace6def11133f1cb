//! `wasmtime_error_t`: an error out of the runtime or made by the host.

use crate::{wasm_frame_vec_t, wasm_name_t, WasmVec};
use std::ffi::{c_char, CStr};

/// An owned error; C frees it with `wasmtime_error_delete`.
pub struct wasmtime_error_t {
    pub(crate) error: anyhow::Error,
}

impl From<anyhow::Error> for wasmtime_error_t {
    fn from(error: anyhow::Error) -> Self {
        Self { error }
    }
}

/// What entry points return: NULL on success, an owned error otherwise.
pub type CError = Option<Box<wasmtime_error_t>>;

/// The C return value of a result.
pub(crate) fn to_c_error(r: anyhow::Result<()>) -> CError {
    match r {
        Ok(()) => None,
        Err(error) => Some(Box::new(wasmtime_error_t { error })),
    }
}

/// Runs `f` with panics caught, returning its failure as an owned error.
pub(crate) fn guard(f: impl FnOnce() -> anyhow::Result<()>) -> CError {
    to_c_error(crate::catch_panic(f))
}

/// The message of an error followed by its causes (the layout of `anyhow`'s `Debug`, without
/// a Rust backtrace even when one was captured).
pub(crate) fn error_message(e: &anyhow::Error) -> String {
    let mut msg = e.to_string();
    let causes: Vec<String> = e.chain().skip(1).map(|c| c.to_string()).collect();
    if !causes.is_empty() {
        msg.push_str("\n\nCaused by:");
        if let [only] = causes.as_slice() {
            msg.push_str(&format!("\n    {only}"));
        } else {
            for (i, c) in causes.iter().enumerate() {
                msg.push_str(&format!("\n    {i}: {c}"));
            }
        }
    }
    msg
}

/// A new error with the NUL-terminated message `msg`.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_error_new(msg: *const c_char) -> Option<Box<wasmtime_error_t>> {
    let msg = if msg.is_null() {
        String::new()
    } else {
        // SAFETY: C passes a NUL-terminated string.
        unsafe { CStr::from_ptr(msg) }
            .to_string_lossy()
            .into_owned()
    };
    Some(Box::new(anyhow::Error::msg(msg).into()))
}

/// Frees an error.
#[no_mangle]
pub extern "C" fn wasmtime_error_delete(_error: Option<Box<wasmtime_error_t>>) {}

/// The error's message (not NUL-terminated), with its chain of causes.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_error_message(
    error: &wasmtime_error_t,
    message: *mut wasm_name_t,
) {
    let msg = crate::abort_on_panic("wasmtime_error_message", || error_message(&error.error));
    // SAFETY: `message` is an output pointer of the caller.
    unsafe { WasmVec::write(message, msg.into_bytes()) }
}

/// Whether the error is a WASI exit (`proc_exit`); if so its status goes to `status`.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_error_exit_status(
    error: &wasmtime_error_t,
    status: *mut i32,
) -> bool {
    match error.error.downcast_ref::<wasmjit_wasi::I32Exit>() {
        Some(exit) => {
            if !status.is_null() {
                // SAFETY: a non-NULL `status` is an output pointer of the caller.
                unsafe { *status = exit.0 };
            }
            true
        }
        None => false,
    }
}

/// The wasm frames recorded with the error (empty when there are none).
#[no_mangle]
pub unsafe extern "C" fn wasmtime_error_wasm_trace(
    error: &wasmtime_error_t,
    out: *mut wasm_frame_vec_t,
) {
    let frames = crate::abort_on_panic("wasmtime_error_wasm_trace", || {
        crate::trap::frames_of(&error.error)
    });
    // SAFETY: `out` is an output pointer of the caller.
    unsafe { WasmVec::write(out, frames) }
}
