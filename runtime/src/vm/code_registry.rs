//! Process-wide map from code addresses to what compiled them, used after a trap (in normal
//! context, never in the signal handler) to find the trap code and the wasm frames.

use crate::vm::traphandlers::{register_code_range, CodeRangeHandle};
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use wasmjit_compiler::TrapCode;

/// A frame of wasm code that a program counter belongs to.
#[derive(Debug, Clone)]
pub(crate) struct PcInfo {
    /// Function index in its module; `None` for trampolines.
    pub func_index: Option<u32>,
    /// Offset of the instruction in the module's binary.
    pub wasm_offset: Option<u32>,
    /// Offset of the function's body (its locals, then its code) in the module's binary.
    pub body_start: Option<u32>,
    /// The module's name section name.
    pub module_name: Option<String>,
    /// The function's name section name.
    pub func_name: Option<String>,
}

/// A compiled region that can answer questions about its program counters.
pub(crate) trait CodeInfo: Send + Sync {
    /// The trap code of a trap instruction at `pc`.
    fn trap_code(&self, pc: usize) -> Option<TrapCode>;
    /// What `pc` belongs to.
    fn pc_info(&self, pc: usize) -> Option<PcInfo>;
}

type Registry = BTreeMap<usize, (usize, Arc<dyn CodeInfo>)>;

static REGISTRY: RwLock<Registry> = RwLock::new(BTreeMap::new());

/// Keeps a region registered, both here and with the signal handler; unregisters on drop.
pub(crate) struct CodeRegistration {
    start: usize,
    _range: CodeRangeHandle,
}

/// Registers `[start, end)`.
pub(crate) fn register(start: usize, end: usize, info: Arc<dyn CodeInfo>) -> CodeRegistration {
    let range = register_code_range(start, end);
    REGISTRY
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .insert(start, (end, info));
    CodeRegistration {
        start,
        _range: range,
    }
}

impl Drop for CodeRegistration {
    fn drop(&mut self) {
        REGISTRY
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.start);
    }
}

/// The region containing `pc`.
pub(crate) fn lookup(pc: usize) -> Option<Arc<dyn CodeInfo>> {
    let reg = REGISTRY.read().unwrap_or_else(|e| e.into_inner());
    let (_, (end, info)) = reg.range(..=pc).next_back()?;
    (pc < *end).then(|| info.clone())
}
