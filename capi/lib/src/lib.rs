//! libwasmjit: the C library. Every exported function is `wasmjit-capi`'s; linking that crate
//! here is all this library does (its `#[no_mangle]` functions are the exports).

pub use wasmjit_capi;
