//! Process-wide map from code addresses to what compiled them, used after a trap (in normal
//! context, never in the signal handler) to find the trap code and the wasm frames.

use crate::vm::traphandlers::{register_code_range, CodeRangeHandle};
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use wasmjit_environ::trap_codes::TrapCode;

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
    /// Identifies the module's compiled code (the address of its `CodeLookup`); 0 for
    /// trampolines.
    pub code_id: usize,
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
    /// What was registered: the entry at `start` is only removed while it is still this one.
    /// The owner may free the code before this registration drops (a type's trampolines do),
    /// and code compiled meanwhile on another thread may then be registered at the same
    /// address; removing that newer entry would make its traps unrecognizable.
    info: Arc<dyn CodeInfo>,
    _range: CodeRangeHandle,
}

/// Registers `[start, end)`.
pub(crate) fn register(start: usize, end: usize, info: Arc<dyn CodeInfo>) -> CodeRegistration {
    let range = register_code_range(start, end);
    REGISTRY
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .insert(start, (end, info.clone()));
    CodeRegistration {
        start,
        info,
        _range: range,
    }
}

impl Drop for CodeRegistration {
    fn drop(&mut self) {
        let mut registry = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
        if registry
            .get(&self.start)
            .is_some_and(|(_, info)| Arc::ptr_eq(info, &self.info))
        {
            registry.remove(&self.start);
        }
    }
}

/// The region containing `pc`.
pub(crate) fn lookup(pc: usize) -> Option<Arc<dyn CodeInfo>> {
    let reg = REGISTRY.read().unwrap_or_else(|e| e.into_inner());
    let (_, (end, info)) = reg.range(..=pc).next_back()?;
    (pc < *end).then(|| info.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(TrapCode);

    impl CodeInfo for Fixed {
        fn trap_code(&self, _pc: usize) -> Option<TrapCode> {
            Some(self.0)
        }
        fn pc_info(&self, _pc: usize) -> Option<PcInfo> {
            None
        }
    }

    #[test]
    fn a_stale_registration_does_not_remove_its_successor() {
        // Addresses of a live buffer, never executed.
        let buffer = [0u8; 64];
        let start = buffer.as_ptr() as usize;
        let old = register(start, start + 64, Arc::new(Fixed(TrapCode::STACK_OVERFLOW)));
        // The old code was freed and new code landed at the same address before the old
        // registration dropped.
        let new = register(
            start,
            start + 32,
            Arc::new(Fixed(TrapCode::HEAP_OUT_OF_BOUNDS)),
        );
        drop(old);
        let found = lookup(start + 8).expect("the new registration is still there");
        assert_eq!(
            found.trap_code(start + 8),
            Some(TrapCode::HEAP_OUT_OF_BOUNDS)
        );
        drop(new);
        assert!(lookup(start + 8).is_none());
    }
}
