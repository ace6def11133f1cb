//! Traps: why wasm stopped, and where.

use std::fmt;

/// One wasm frame of a backtrace.
#[derive(Debug, Clone)]
pub struct FrameInfo {
    pub(crate) module: crate::Module,
    pub(crate) func_index: u32,
    pub(crate) func_name: Option<String>,
    pub(crate) module_name: Option<String>,
    pub(crate) module_offset: Option<usize>,
    pub(crate) func_offset: Option<usize>,
}

impl FrameInfo {
    /// Index of the function in its module.
    pub fn func_index(&self) -> u32 {
        self.func_index
    }
    /// The function's name from the name section.
    pub fn func_name(&self) -> Option<&str> {
        self.func_name.as_deref()
    }
    /// The module the function belongs to.
    pub fn module(&self) -> &crate::Module {
        &self.module
    }
    /// The module's name from the name section.
    pub fn module_name(&self) -> Option<&str> {
        self.module_name.as_deref()
    }
    /// Offset of the instruction in the module's binary.
    pub fn module_offset(&self) -> Option<usize> {
        self.module_offset
    }
    /// Offset of the instruction from the start of its function's body (the body's local
    /// declarations come first) in the module's binary.
    pub fn func_offset(&self) -> Option<usize> {
        self.func_offset
    }
    /// Source locations from the module's DWARF. wasmjit reads no DWARF: always empty, as in
    /// Wasmtime without `WasmBacktraceDetails::Enable`.
    pub fn symbols(&self) -> &[FrameSymbol] {
        &[]
    }
}

/// A source location of a frame, from DWARF (Wasmtime's `FrameSymbol`). wasmjit reads no
/// DWARF, so [`FrameInfo::symbols`] has none; the type exists for programs that name it.
#[derive(Debug, Clone)]
pub struct FrameSymbol {
    name: Option<String>,
    file: Option<String>,
    line: Option<u32>,
    column: Option<u32>,
}

impl FrameSymbol {
    /// The function's name.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
    /// The source file.
    pub fn file(&self) -> Option<&str> {
        self.file.as_deref()
    }
    /// The line in the file.
    pub fn line(&self) -> Option<u32> {
        self.line
    }
    /// The column in the line.
    pub fn column(&self) -> Option<u32> {
        self.column
    }
}

/// The wasm frames active when a trap happened, innermost first. Attached as context to trap
/// errors; `error.downcast_ref::<WasmBacktrace>()` finds it.
#[derive(Debug, Clone, Default)]
pub struct WasmBacktrace {
    pub(crate) frames: Vec<FrameInfo>,
}

impl WasmBacktrace {
    /// The wasm frames on the stack of `store` right now (for a host function called from
    /// wasm). wasmjit walks wasm frames only when a trap unwinds them, so this is always empty,
    /// as Wasmtime's is when backtraces are disabled.
    pub fn capture(store: impl crate::AsContext) -> WasmBacktrace {
        let _ = store.as_context();
        WasmBacktrace::default()
    }

    /// As [`WasmBacktrace::capture`].
    pub fn force_capture(store: impl crate::AsContext) -> WasmBacktrace {
        WasmBacktrace::capture(store)
    }

    /// The frames, innermost first.
    pub fn frames(&self) -> &[FrameInfo] {
        &self.frames
    }
}

impl fmt::Display for WasmBacktrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error while executing at wasm backtrace:")?;
        for (i, frame) in self.frames.iter().enumerate() {
            write!(f, "  {i:>3}: ")?;
            if let Some(off) = frame.module_offset {
                write!(f, "{off:#8x} - ")?;
            }
            // As Wasmtime: the module's name, or `<unknown>` for a module without one.
            write!(
                f,
                "{}!",
                frame.module_name.as_deref().unwrap_or("<unknown>")
            )?;
            match &frame.func_name {
                Some(name) => write!(f, "{name}")?,
                None => write!(f, "<wasm function {}>", frame.func_index)?,
            }
            if i + 1 < self.frames.len() {
                writeln!(f)?;
            }
        }
        Ok(())
    }
}
