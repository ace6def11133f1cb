//! `Config` settings that Wasmtime programs commonly call and that need no machinery here:
//! they are accepted so that such programs compile, and each says what it does in wasmjit.

use crate::config::Config;

/// How much detail wasm backtraces carry (Wasmtime's `WasmBacktraceDetails`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WasmBacktraceDetails {
    /// Add file and line information from DWARF (not available in wasmjit).
    Enable,
    /// Frames only.
    Disable,
    /// Decided by the `WASMTIME_BACKTRACE_DETAILS` environment variable in Wasmtime.
    Environment,
}

/// Which compiler to use (Wasmtime's `Strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Strategy {
    /// The default compiler: Cranelift.
    Auto,
    /// Cranelift.
    Cranelift,
    /// Wasmtime's baseline compiler; wasmjit has none and compiles with Cranelift.
    Winch,
}

impl Config {
    /// Whether traps carry a [`WasmBacktrace`](crate::WasmBacktrace). wasmjit always
    /// captures one (it costs nothing until a trap), so this setting has no effect.
    pub fn wasm_backtrace(&mut self, enable: bool) -> &mut Self {
        let _ = enable;
        self
    }

    /// File and line details in backtraces. wasmjit has no DWARF support: frames carry
    /// function indices, names and offsets whatever this says.
    pub fn wasm_backtrace_details(&mut self, details: WasmBacktraceDetails) -> &mut Self {
        let _ = details;
        self
    }

    /// Native debug information for compiled code. wasmjit emits none; no effect.
    pub fn debug_info(&mut self, enable: bool) -> &mut Self {
        let _ = enable;
        self
    }

    /// The compiler. wasmjit always compiles with Cranelift.
    pub fn strategy(&mut self, strategy: Strategy) -> &mut Self {
        let _ = strategy;
        self
    }

    /// Runs Cranelift's IR verifier on every function (slower compilation).
    pub fn cranelift_debug_verifier(&mut self, enable: bool) -> &mut Self {
        let value = if enable { "true" } else { "false" };
        self.cranelift_flags
            .push(("enable_verifier".to_string(), value.to_string()));
        self
    }

    /// Native unwind tables for compiled code. wasmjit unwinds through frame pointers and
    /// registers no tables; no effect.
    pub fn native_unwind_info(&mut self, enable: bool) -> &mut Self {
        let _ = enable;
        self
    }

    /// The code-offset to wasm-offset map. wasmjit always keeps it (backtraces use it).
    pub fn generate_address_map(&mut self, enable: bool) -> &mut Self {
        let _ = enable;
        self
    }

    /// Copy-on-write initialization of memories from their data segments. wasmjit copies
    /// the segments at instantiation; no effect.
    pub fn memory_init_cow(&mut self, enable: bool) -> &mut Self {
        let _ = enable;
        self
    }

    /// Core dumps attached to trap errors. wasmjit produces none; no effect.
    pub fn coredump_on_trap(&mut self, enable: bool) -> &mut Self {
        let _ = enable;
        self
    }
}
