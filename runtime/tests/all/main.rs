//! The runtime's integration tests, one binary (each test binary links the whole runtime
//! again, so one binary with a module per area builds much faster than one per area).

mod api_sequences;
mod support;

mod async_api_sequences;
mod async_config_errors;
mod async_fuel_cancel;
mod async_misuse;
mod async_smoke;
mod async_stacks_threads;
mod async_tokio;
mod atomic_wait_interrupt;
mod embedder_panics;
mod epoch;
mod exceptions;
mod exceptions_edge;
mod exceptions_host;
mod fuel;
mod function_references;
mod gc_types;
mod host_funcs;
mod instance_pool;
mod memory_image;
mod memory_table_global;
mod raw_values;
mod serialize;
mod shared_memory;
mod signals_off;
mod smoke;
mod threads;
mod traps;
mod typed_funcs;
mod wasm3_features;
mod wasmtime_api_async;
mod wasmtime_api_basics;
mod wasmtime_api_config_misc;
mod wasmtime_api_dropin;
mod wasmtime_api_errors;
mod wasmtime_api_examples;
mod wasmtime_api_externref_serialize;
mod wasmtime_api_fuel_epoch;
mod wasmtime_api_host_memory;
mod wasmtime_api_linking;
mod wasmtime_api_memory_table_global;
mod wide_arithmetic;
