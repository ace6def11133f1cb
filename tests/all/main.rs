//! The command's and the whole system's integration tests, one binary with a module per area
//! (each test binary links the whole runtime again). `tests/spec_no_signals.rs` stays a
//! binary of its own: it installs signal handlers that abort, which would affect every other
//! test of a shared process. `wasi_wasmtime.rs` (with `--features compare`) runs the WASI programs under
//! wasmjit and Wasmtime 48. `differential.rs` and `fuel_wasmtime.rs` share the oracle crate
//! `wasmjit-differential` (`differential/`, which the fuzz targets use too).

use wasmjit_differential as oracle;

mod bad_input;
mod cli;
mod differential;
mod fuel_wasmtime;
mod messages_wasmtime;
mod programs;
mod spec;
mod spec_wasm3;
mod wasi;
mod wasi_threads;
#[cfg(feature = "compare")]
mod wasi_wasmtime;
mod wide_arithmetic;
