//! `wasmtime/async.h`: async host functions, call futures and custom fiber stacks.
//!
//! Left for the runtime's async support: the header is complete, and this module is where
//! its functions go — `wasmtime_config_async_support_set`,
//! `wasmtime_config_async_stack_size_set`, `wasmtime_config_host_stack_creator_set`,
//! `wasmtime_context_fuel_async_yield_interval`,
//! `wasmtime_context_epoch_deadline_async_yield_and_update`, `wasmtime_call_future_poll`,
//! `wasmtime_call_future_delete`, `wasmtime_func_call_async`,
//! `wasmtime_linker_define_async_func`, `wasmtime_linker_instantiate_async` and
//! `wasmtime_instance_pre_instantiate_async`. The C layouts of the header's structs are
//! below.

use crate::{wasmtime_error_t, Finalizer};
use std::ffi::c_void;

/// `wasmtime_stack_memory_get_callback_t`: the top of a stack and its length.
pub type wasmtime_stack_memory_get_callback_t =
    unsafe extern "C" fn(*mut c_void, *mut usize) -> *mut u8;

/// `wasmtime_stack_memory_t`: a stack made by the embedder.
#[repr(C)]
pub struct wasmtime_stack_memory_t {
    pub env: *mut c_void,
    pub get_stack_memory: Option<wasmtime_stack_memory_get_callback_t>,
    pub finalizer: Finalizer,
}

/// `wasmtime_new_stack_memory_callback_t`: makes a stack of at least `size` bytes.
pub type wasmtime_new_stack_memory_callback_t =
    unsafe extern "C" fn(
        *mut c_void,
        usize,
        *mut wasmtime_stack_memory_t,
    ) -> Option<Box<wasmtime_error_t>>;

/// `wasmtime_stack_creator_t`: the embedder's stack factory.
#[repr(C)]
pub struct wasmtime_stack_creator_t {
    pub env: *mut c_void,
    pub new_stack: Option<wasmtime_new_stack_memory_callback_t>,
    pub finalizer: Finalizer,
}
