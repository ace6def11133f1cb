//! wasmjit-environ: the contract between the compiler and the runtime.
//!
//! Everything both sides must agree on is declared here once, and neither side restates it:
//! - [`builtins`]: the runtime functions compiled code calls, their table order and
//!   signatures;
//! - [`vmoffsets`]: the layout of every runtime structure compiled code reads or writes;
//! - [`trap`]: the ways wasm code traps, which compiled code reports by trap code and the
//!   runtime hands to the embedder; [`trap_codes`]: those codes;
//! - [`code`]: machine code before placement, with relocations, as a precompiled module
//!   stores it;
//! - [`module_info`]: a module's metadata (types, imports, exports, memories, tables, globals,
//!   segments), which the compiler produces and the runtime instantiates from.
//!
//! This crate depends on no code generator, so a runtime that only loads precompiled code
//! can depend on it without Cranelift.
//!
//! # Calling conventions
//! - Wasm functions: `CallConv::Tail`, `(callee_vmctx: i64, caller_vmctx: i64, params...) ->
//!   results`. Results that do not fit in return registers are returned through an implicit
//!   return area (Cranelift's `enable_multi_ret_implicit_sret`); every wasm-convention
//!   function and caller is compiled by wasmjit's compiler, with the same flags, so both sides
//!   agree. With fuel metering, the fuel counter is an extra `i64` parameter after
//!   `caller_vmctx` and the first result.
//! - Array call into wasm (the compiler's `array_to_wasm` trampolines), host ABI (`extern
//!   "C"`): `fn(callee_vmctx, caller_vmctx, wasm_call: *const u8, values: *mut ValRaw)`;
//!   params are read from `values[i]` and results written back to `values[i]` (16-byte slots).
//! - Wasm into host (`wasm_to_array` trampolines): has the wasm convention; spills params into
//!   a stack buffer and calls the host context's `ARRAY_CALL` entry (see
//!   [`vmoffsets::host_ctx`]).
//! - Builtins: see [`builtins`].

pub mod builtins;
pub mod code;
pub mod indices;
pub mod module_info;
pub mod trap;
pub mod trap_codes;
pub mod vmoffsets;
