//! wasmjit-wast: runs WebAssembly spec-test scripts (`.wast` files) against the wasmjit
//! runtime, as `wasmtime-wast` does for Wasmtime. Used by the `wasmjit wast` command, the spec
//! tests and the fuzzers alike, so they all run scripts the same way.

#![warn(missing_docs)]

pub mod config_comments;
mod runner;

pub use config_comments::{config_from_comments, ConfigError};
pub use runner::{config_for, run_file, run_file_with, run_files, run_script, Failure, FileReport};
