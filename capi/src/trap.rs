//! Traps (`wasm_trap_t`) and backtrace frames (`wasm_frame_t`).

use crate::ref_::{declare_ref, impl_as_ref, RefBase, RefKind};
use crate::vec::OwnedVec;
use crate::{
    wasm_frame_vec_t, wasm_instance_t, wasm_message_t, wasm_name_t, wasm_ref_t, wasm_store_t,
    WasmVec,
};
use anyhow::Error;
use wasmjit::{FrameInfo, Trap, WasmBacktrace};

/// A trap: why wasm stopped (a runtime trap, or an error a host function returned).
#[repr(C)]
pub struct wasm_trap_t {
    pub(crate) base: RefBase,
    pub(crate) error: Error,
}

impl wasm_trap_t {
    pub(crate) fn new(error: Error) -> Self {
        Self {
            base: RefBase::new(RefKind::Trap),
            error,
        }
    }
    pub(crate) fn boxed(error: Error) -> Box<Self> {
        Box::new(Self::new(error))
    }
}

impl Clone for wasm_trap_t {
    fn clone(&self) -> Self {
        // Errors cannot be cloned; rebuild one with the same trap code, frames and message.
        let mut error = match self.error.downcast_ref::<Trap>() {
            Some(t) => Error::new(*t),
            None => Error::msg(format!("{:#}", self.error)),
        };
        if let Some(bt) = self.error.downcast_ref::<WasmBacktrace>() {
            error = error.context(bt.clone());
        }
        Self {
            base: self.base.copy(),
            error,
        }
    }
}

impl_as_ref!(wasm_trap_t);

/// `wasmtime_trap_code_t` values, in Wasmtime's order.
pub const WASMTIME_TRAP_CODE_STACK_OVERFLOW: u8 = 0;
pub const WASMTIME_TRAP_CODE_MEMORY_OUT_OF_BOUNDS: u8 = 1;
pub const WASMTIME_TRAP_CODE_HEAP_MISALIGNED: u8 = 2;
pub const WASMTIME_TRAP_CODE_TABLE_OUT_OF_BOUNDS: u8 = 3;
pub const WASMTIME_TRAP_CODE_INDIRECT_CALL_TO_NULL: u8 = 4;
pub const WASMTIME_TRAP_CODE_BAD_SIGNATURE: u8 = 5;
pub const WASMTIME_TRAP_CODE_INTEGER_OVERFLOW: u8 = 6;
pub const WASMTIME_TRAP_CODE_INTEGER_DIVISION_BY_ZERO: u8 = 7;
pub const WASMTIME_TRAP_CODE_BAD_CONVERSION_TO_INTEGER: u8 = 8;
pub const WASMTIME_TRAP_CODE_UNREACHABLE_CODE_REACHED: u8 = 9;
pub const WASMTIME_TRAP_CODE_INTERRUPT: u8 = 10;
pub const WASMTIME_TRAP_CODE_OUT_OF_FUEL: u8 = 11;

fn trap_code(t: &Trap) -> Option<u8> {
    Some(match t {
        Trap::StackOverflow => WASMTIME_TRAP_CODE_STACK_OVERFLOW,
        Trap::MemoryOutOfBounds => WASMTIME_TRAP_CODE_MEMORY_OUT_OF_BOUNDS,
        Trap::HeapMisaligned => WASMTIME_TRAP_CODE_HEAP_MISALIGNED,
        Trap::TableOutOfBounds => WASMTIME_TRAP_CODE_TABLE_OUT_OF_BOUNDS,
        Trap::IndirectCallToNull => WASMTIME_TRAP_CODE_INDIRECT_CALL_TO_NULL,
        Trap::BadSignature => WASMTIME_TRAP_CODE_BAD_SIGNATURE,
        Trap::IntegerOverflow => WASMTIME_TRAP_CODE_INTEGER_OVERFLOW,
        Trap::IntegerDivisionByZero => WASMTIME_TRAP_CODE_INTEGER_DIVISION_BY_ZERO,
        Trap::BadConversionToInteger => WASMTIME_TRAP_CODE_BAD_CONVERSION_TO_INTEGER,
        Trap::UnreachableCodeReached => WASMTIME_TRAP_CODE_UNREACHABLE_CODE_REACHED,
        Trap::Interrupt => WASMTIME_TRAP_CODE_INTERRUPT,
        Trap::OutOfFuel => WASMTIME_TRAP_CODE_OUT_OF_FUEL,
        // Codes Wasmtime 29's C API has no value for (e.g. a null reference).
        _ => return None,
    })
}

/// A new trap with a NUL-terminated message (the NUL is not part of the message).
#[no_mangle]
pub extern "C" fn wasm_trap_new(
    _store: &wasm_store_t,
    message: &wasm_message_t,
) -> Box<wasm_trap_t> {
    let mut bytes = message.as_slice();
    if let [rest @ .., 0] = bytes {
        bytes = rest;
    }
    wasm_trap_t::boxed(Error::msg(String::from_utf8_lossy(bytes).into_owned()))
}

/// A new trap with a message of `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_trap_new(msg: *const u8, len: usize) -> Box<wasm_trap_t> {
    // SAFETY: C passes `len` readable bytes.
    let bytes = unsafe { crate::slice_from_raw(msg, len) };
    wasm_trap_t::boxed(Error::msg(String::from_utf8_lossy(bytes).into_owned()))
}

/// Frees a trap.
#[no_mangle]
pub extern "C" fn wasm_trap_delete(_trap: Option<Box<wasm_trap_t>>) {}

/// The trap's message with its causes, NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn wasm_trap_message(trap: &wasm_trap_t, out: *mut wasm_message_t) {
    let mut bytes = crate::error::error_message(&trap.error).into_bytes();
    bytes.push(0);
    // SAFETY: `out` is an output pointer of the caller.
    unsafe { WasmVec::write(out, bytes) }
}

/// The innermost wasm frame of the trap, or NULL when none was recorded.
#[no_mangle]
pub extern "C" fn wasm_trap_origin(trap: &wasm_trap_t) -> Option<Box<wasm_frame_t>> {
    let bt = trap.error.downcast_ref::<WasmBacktrace>()?;
    bt.frames().first().map(|f| Box::new(wasm_frame_t::new(f)))
}

/// Every wasm frame of the trap, innermost first.
#[no_mangle]
pub unsafe extern "C" fn wasm_trap_trace(trap: &wasm_trap_t, out: *mut wasm_frame_vec_t) {
    let frames = frames_of(&trap.error);
    // SAFETY: `out` is an output pointer of the caller.
    unsafe { WasmVec::write(out, frames) }
}

/// The frames recorded with an error, as owned C frames.
pub(crate) fn frames_of(error: &Error) -> Vec<Option<Box<wasm_frame_t>>> {
    error
        .downcast_ref::<WasmBacktrace>()
        .map(|bt| {
            bt.frames()
                .iter()
                .map(|f| Some(Box::new(wasm_frame_t::new(f))))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether the trap is one of wasm's own traps, and which (`WASMTIME_TRAP_CODE_*`).
#[no_mangle]
pub extern "C" fn wasmtime_trap_code(trap: &wasm_trap_t, code: &mut u8) -> bool {
    match trap.error.downcast_ref::<Trap>().and_then(trap_code) {
        Some(c) => {
            *code = c;
            true
        }
        None => false,
    }
}

declare_ref!(
    wasm_trap_t,
    |r: &wasm_ref_t| r.base.kind == RefKind::Trap,
    wasm_trap_copy,
    wasm_trap_same,
    wasm_trap_get_host_info,
    wasm_trap_set_host_info,
    wasm_trap_set_host_info_with_finalizer,
    wasm_trap_as_ref,
    wasm_trap_as_ref_const,
    wasm_ref_as_trap,
    wasm_ref_as_trap_const
);

/// One frame of a wasm backtrace.
#[derive(Clone)]
pub struct wasm_frame_t {
    frame: FrameInfo,
    func_name: Option<OwnedVec<u8>>,
    module_name: Option<OwnedVec<u8>>,
}

impl wasm_frame_t {
    fn new(frame: &FrameInfo) -> Self {
        let name = |s: Option<&str>| s.map(|s| OwnedVec::new(s.as_bytes().to_vec()));
        Self {
            func_name: name(frame.func_name()),
            module_name: name(frame.module_name()),
            frame: frame.clone(),
        }
    }
}

/// Frees a frame.
#[no_mangle]
pub extern "C" fn wasm_frame_delete(_frame: Option<Box<wasm_frame_t>>) {}

/// A copy of a frame.
#[no_mangle]
pub extern "C" fn wasm_frame_copy(frame: &wasm_frame_t) -> Box<wasm_frame_t> {
    Box::new(frame.clone())
}

/// The instance of the frame's function. Frames do not record their instance in wasmjit, so
/// this is NULL.
#[no_mangle]
pub extern "C" fn wasm_frame_instance(_frame: &wasm_frame_t) -> Option<&mut wasm_instance_t> {
    None
}

/// The index of the frame's function in its module.
#[no_mangle]
pub extern "C" fn wasm_frame_func_index(frame: &wasm_frame_t) -> u32 {
    frame.frame.func_index()
}

/// The offset of the frame's instruction from the start of its function's body
/// (`SIZE_MAX` if unknown).
#[no_mangle]
pub extern "C" fn wasm_frame_func_offset(frame: &wasm_frame_t) -> usize {
    frame.frame.func_offset().unwrap_or(usize::MAX)
}

/// The offset of the frame's instruction in the module binary (`SIZE_MAX` if unknown).
#[no_mangle]
pub extern "C" fn wasm_frame_module_offset(frame: &wasm_frame_t) -> usize {
    frame.frame.module_offset().unwrap_or(usize::MAX)
}

/// The function's name from the name section, or NULL (owned by the frame).
#[no_mangle]
pub extern "C" fn wasmtime_frame_func_name(frame: &wasm_frame_t) -> Option<&wasm_name_t> {
    frame.func_name.as_ref().map(OwnedVec::as_c)
}

/// The module's name from the name section, or NULL (owned by the frame).
#[no_mangle]
pub extern "C" fn wasmtime_frame_module_name(frame: &wasm_frame_t) -> Option<&wasm_name_t> {
    frame.module_name.as_ref().map(OwnedVec::as_c)
}
