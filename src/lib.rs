//! Library half of the `wasmjit` command-line tool.
//!
//! The binary (`src/main.rs`) is a thin argument parser over these modules; keeping them in a
//! library lets the integration tests (`tests/spec.rs`) drive the same code the CLI runs.

#![warn(missing_docs)]

pub mod wast_config;
pub mod wast_runner;
