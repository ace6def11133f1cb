//! `wasmtime_wat2wasm`: the text format to the binary format.

use crate::{wasm_byte_vec_t, CError, WasmVec};

/// Converts `wat_len` bytes of WebAssembly text into a binary module in `ret`.
#[no_mangle]
pub unsafe extern "C" fn wasmtime_wat2wasm(
    wat: *const u8,
    wat_len: usize,
    ret: *mut wasm_byte_vec_t,
) -> CError {
    crate::error::guard(|| {
        // SAFETY: C passes `wat_len` readable bytes.
        let text = unsafe { crate::str_from_raw(wat, wat_len) }?;
        let binary = wat::parse_str(text)?;
        // SAFETY: `ret` is an output pointer of the caller.
        unsafe { WasmVec::write(ret, binary) };
        Ok(())
    })
}
