//! Engine-wide registry of function types: structurally equal types get one id (what
//! `call_indirect` compares), and each id gets its trampolines, compiled once (or taken from
//! a precompiled module that brought them).

use crate::vm::code_object::PlacedCode;
use crate::vm::type_canon;
use anyhow::Result;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use wasmjit_compiler::{CompileConfig, FuncType};

/// A registered function type and its trampolines.
pub(crate) struct RegisteredType {
    pub(crate) id: u32,
    pub(crate) ty: Arc<FuncType>,
    /// The code holding the trampolines: their own unit, or a precompiled module's.
    code: Arc<PlacedCode>,
    /// The index of `array_to_wasm` in `code` (`wasm_to_array` follows it).
    first: usize,
}

impl std::fmt::Debug for RegisteredType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisteredType")
            .field("id", &self.id)
            .field("ty", &self.ty)
            .finish()
    }
}

impl RegisteredType {
    /// `extern "C" fn(callee_vmctx, caller_vmctx, wasm_call, values)`: calls a wasm function
    /// of this type with the params in `values` and writes its results there.
    pub(crate) fn array_to_wasm(&self) -> *const u8 {
        self.code.object().function(self.first)
    }

    /// A wasm-convention function of this type that calls the host context's array call.
    pub(crate) fn wasm_to_array(&self) -> *const u8 {
        self.code.object().function(self.first + 1)
    }

    /// Both trampolines' code as compiled (`[array_to_wasm, wasm_to_array]`), for a module
    /// that stores them.
    #[cfg(feature = "cranelift")]
    pub(crate) fn trampoline_code(&self) -> Result<[wasmjit_compiler::code::FunctionCode; 2]> {
        let object = self.code.object();
        Ok([
            object.function_code(self.first)?,
            object.function_code(self.first + 1)?,
        ])
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
        self.register_with(ty, |config| compile_trampolines(ty, config))
    }

    /// The entry for `ty`, whose trampolines are functions `first` and `first + 1` of `code`
    /// (a precompiled module's) when no live entry exists: nothing is compiled.
    pub(crate) fn register_precompiled(
        &self,
        ty: &FuncType,
        code: &Arc<PlacedCode>,
        first: usize,
    ) -> Result<Arc<RegisteredType>> {
        self.register_with(ty, |_| Ok((code.clone(), first)))
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
        make_trampolines: impl FnOnce(&CompileConfig) -> Result<(Arc<PlacedCode>, usize)>,
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
        let (code, first) = make_trampolines(&self.config)?;
        let id = reused_id.unwrap_or_else(|| slots.take_id());
        slots.canonical.insert(id, type_canon::id(ty));
        let entry = Arc::new(RegisteredType {
            id,
            ty: Arc::new(ty.clone()),
            code,
            first,
        });
        slots
            .by_type
            .insert(ty.clone(), (id, Arc::downgrade(&entry)));
        Ok(entry)
    }
}

/// Compiles the trampolines of `ty` into a unit of their own.
#[cfg(feature = "cranelift")]
fn compile_trampolines(ty: &FuncType, config: &CompileConfig) -> Result<(Arc<PlacedCode>, usize)> {
    use crate::vm::code_object::{lay_out, CodeLookup, CodeObject};
    let code = wasmjit_compiler::compile_trampolines_unlinked(ty, config)?;
    let object = CodeObject::from_image(lay_out(&[&code[0], &code[1]])?)?;
    let lookup = CodeLookup {
        object,
        module: None,
    };
    Ok((Arc::new(PlacedCode::register(lookup)), 0))
}

/// Without a compiler, trampolines come only from precompiled modules.
#[cfg(not(feature = "cranelift"))]
fn compile_trampolines(ty: &FuncType, _: &CompileConfig) -> Result<(Arc<PlacedCode>, usize)> {
    anyhow::bail!(
        "no trampolines for function type {ty:?}: this build has no compiler (cargo feature \
         `cranelift`), and no loaded precompiled module uses this type"
    )
}
