//! Engine-wide registry of function types: structurally equal types get one id (what
//! `call_indirect` compares), and each id gets its trampolines, compiled once.

use crate::vm::code_registry::{self, CodeInfo, CodeRegistration, PcInfo};
use anyhow::Result;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use wasmjit_compiler::{CompileConfig, FuncType, Trampolines, TrapCode};

/// A registered function type and its trampolines.
pub(crate) struct RegisteredType {
    pub(crate) id: u32,
    pub(crate) ty: FuncType,
    pub(crate) trampolines: Trampolines,
    _registration: CodeRegistration,
}

impl std::fmt::Debug for RegisteredType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisteredType")
            .field("id", &self.id)
            .field("ty", &self.ty)
            .finish()
    }
}

/// Answers trap lookups for one type's trampolines.
struct TrampolineCode {
    traps: Vec<(usize, TrapCode)>,
}

impl CodeInfo for TrampolineCode {
    fn trap_code(&self, pc: usize) -> Option<TrapCode> {
        self.traps.iter().find(|(at, _)| *at == pc).map(|(_, c)| *c)
    }
    fn pc_info(&self, _pc: usize) -> Option<PcInfo> {
        Some(PcInfo {
            func_index: None,
            wasm_offset: None,
            module_name: None,
            func_name: None,
        })
    }
}

/// The registry.
pub(crate) struct TypeRegistry {
    config: CompileConfig,
    ids: Mutex<HashMap<FuncType, u32>>,
    types: RwLock<Vec<Arc<RegisteredType>>>,
}

impl TypeRegistry {
    pub(crate) fn new(config: CompileConfig) -> Self {
        Self {
            config,
            ids: Mutex::new(HashMap::new()),
            types: RwLock::new(Vec::new()),
        }
    }

    /// The entry for `ty`, compiling its trampolines the first time it is seen.
    pub(crate) fn register(&self, ty: &FuncType) -> Result<Arc<RegisteredType>> {
        let mut ids = self.ids.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(id) = ids.get(ty) {
            return Ok(self.get(*id));
        }
        let trampolines = wasmjit_compiler::compile_trampolines(ty, &self.config)?;
        let parts = [&trampolines.array_to_wasm, &trampolines.wasm_to_array];
        let start = parts.iter().map(|f| f.ptr as usize).min().unwrap_or(0);
        let end = parts
            .iter()
            .map(|f| f.ptr as usize + f.len)
            .max()
            .unwrap_or(0);
        let traps = parts
            .iter()
            .flat_map(|f| {
                f.traps
                    .iter()
                    .map(|(off, code)| (f.ptr as usize + *off as usize, *code))
            })
            .collect();
        let registration = code_registry::register(start, end, Arc::new(TrampolineCode { traps }));
        let mut types = self.types.write().unwrap_or_else(|e| e.into_inner());
        let id = types.len() as u32;
        let entry = Arc::new(RegisteredType {
            id,
            ty: ty.clone(),
            trampolines,
            _registration: registration,
        });
        types.push(entry.clone());
        ids.insert(ty.clone(), id);
        Ok(entry)
    }

    /// The entry with id `id`.
    pub(crate) fn get(&self, id: u32) -> Arc<RegisteredType> {
        self.types.read().unwrap_or_else(|e| e.into_inner())[id as usize].clone()
    }
}
