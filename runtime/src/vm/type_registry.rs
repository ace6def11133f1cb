//! Engine-wide registry of function types: structurally equal types get one id (what
//! `call_indirect` compares), and each id gets its trampolines, compiled once.

use crate::vm::code_registry::{self, CodeInfo, CodeRegistration, PcInfo};
use crate::vm::type_canon;
use anyhow::Result;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use wasmjit_compiler::code::FunctionCode;
use wasmjit_compiler::{CompileConfig, FuncType, Trampolines, TrapCode};

/// A registered function type and its trampolines.
pub(crate) struct RegisteredType {
    pub(crate) id: u32,
    pub(crate) ty: Arc<FuncType>,
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
            body_start: None,
            module_name: None,
            func_name: None,
            code_id: 0,
        })
    }
}

/// The registry. It holds its entries weakly: modules and host functions own them, and a
/// signature nothing uses any more gives back its trampolines' memory at once (a process that
/// loads many modules with distinct signatures would otherwise run out of memory mappings).
/// Its id is reused later; nothing can still compare against it, since every holder of an
/// id also holds the entry.
pub(crate) struct TypeRegistry {
    config: CompileConfig,
    slots: Mutex<Slots>,
}

#[derive(Default)]
struct Slots {
    /// Each type's id and entry; the id sits beside the `Weak` because a dead entry can't be
    /// read.
    by_type: HashMap<FuncType, (u32, Weak<RegisteredType>)>,
    /// The canonical type id (`vm::type_canon`) of each engine id, for subtype checks.
    canonical: HashMap<u32, u32>,
    /// Ids of entries found dead by a sweep.
    free_ids: Vec<u32>,
    next_id: u32,
    /// `by_type` is swept of dead entries when it grows to this size.
    sweep_at: usize,
}

impl Slots {
    /// Removes dead entries, keeping their ids for reuse.
    fn sweep(&mut self) {
        let free_ids = &mut self.free_ids;
        self.by_type.retain(|_, (id, entry)| {
            let live = entry.strong_count() > 0;
            if !live {
                free_ids.push(*id);
            }
            live
        });
        self.sweep_at = 2 * self.by_type.len() + 64;
    }

    fn take_id(&mut self) -> u32 {
        self.free_ids.pop().unwrap_or_else(|| {
            let id = self.next_id;
            self.next_id += 1;
            id
        })
    }
}

impl TypeRegistry {
    pub(crate) fn new(config: CompileConfig) -> Self {
        Self {
            config,
            slots: Mutex::new(Slots::default()),
        }
    }

    /// The entry for `ty`, compiling its trampolines when no live entry exists.
    pub(crate) fn register(&self, ty: &FuncType) -> Result<Arc<RegisteredType>> {
        self.register_with(ty, |config| {
            wasmjit_compiler::compile_trampolines(ty, config)
        })
    }

    /// The entry for `ty`, placing the trampolines `unlinked` (compiled earlier for this
    /// engine's settings) when no live entry exists: nothing is compiled.
    pub(crate) fn register_precompiled(
        &self,
        ty: &FuncType,
        unlinked: Vec<FunctionCode>,
    ) -> Result<Arc<RegisteredType>> {
        self.register_with(ty, |config| {
            wasmjit_compiler::link_trampolines(unlinked, config)
        })
    }

    /// Whether the function type of engine id `actual` is that of `expected` or declares it
    /// as a (transitive) supertype. Both ids are live: compiled code holding a funcref or a
    /// module's type ids keeps their entries.
    pub(crate) fn is_subtype(&self, actual: u32, expected: u32) -> bool {
        if actual == expected {
            return true;
        }
        let slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        match (slots.canonical.get(&actual), slots.canonical.get(&expected)) {
            (Some(&a), Some(&b)) => type_canon::is_subtype(a, b),
            _ => false,
        }
    }

    fn register_with(
        &self,
        ty: &FuncType,
        make_trampolines: impl FnOnce(&CompileConfig) -> Result<Trampolines>,
    ) -> Result<Arc<RegisteredType>> {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        let reused_id = match slots.by_type.get(ty) {
            Some((id, entry)) => match entry.upgrade() {
                Some(live) => return Ok(live),
                None => Some(*id),
            },
            None => None,
        };
        if reused_id.is_none() && slots.by_type.len() >= slots.sweep_at {
            slots.sweep();
        }
        let trampolines = make_trampolines(&self.config)?;
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
        let id = reused_id.unwrap_or_else(|| slots.take_id());
        slots.canonical.insert(id, type_canon::id(ty));
        let entry = Arc::new(RegisteredType {
            id,
            ty: Arc::new(ty.clone()),
            trampolines,
            _registration: registration,
        });
        slots
            .by_type
            .insert(ty.clone(), (id, Arc::downgrade(&entry)));
        Ok(entry)
    }
}
