//! Linking compiled function bodies into executable memory.

use anyhow::{anyhow, Result};
use cranelift_codegen::ir::{self, TrapCode};
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::{Context, FinalizedMachReloc};
use cranelift_jit::{ArenaMemoryProvider, JITBuilder, JITModule};
use cranelift_module::{FuncId, Module, ModuleReloc};

/// One function compiled but not yet placed in memory.
pub(crate) struct CompiledBody {
    bytes: Vec<u8>,
    alignment: u64,
    relocs: Vec<ModuleReloc>,
    traps: Vec<(u32, TrapCode)>,
    addr_map: Vec<(u32, u32)>,
}

impl CompiledBody {
    /// Takes the result of `ctx.compile` for the function that will be linked as the
    /// `index`-th body (its `FuncId`).
    pub(crate) fn from_context(ctx: &Context, index: u32) -> Self {
        let code = ctx.compiled_code().expect("function was compiled");
        let buffer = &code.buffer;
        let id = FuncId::from_u32(index);
        let relocs = buffer
            .relocs()
            .iter()
            .map(|r: &FinalizedMachReloc| ModuleReloc::from_mach_reloc(r, &ctx.func, id))
            .collect();
        let mut traps: Vec<_> = buffer.traps().iter().map(|t| (t.offset, t.code)).collect();
        traps.sort_by_key(|t| t.0);
        let addr_map = buffer
            .get_srclocs_sorted()
            .iter()
            .filter(|s| !s.loc.is_default())
            .map(|s| (s.start, s.loc.bits()))
            .collect();
        Self {
            bytes: buffer.data().to_vec(),
            alignment: u64::from(buffer.alignment),
            relocs,
            traps,
            addr_map,
        }
    }

    /// Size of the machine code.
    pub(crate) fn len(&self) -> usize {
        self.bytes.len()
    }
}

/// A function placed in executable memory.
#[derive(Debug, Clone)]
pub struct CompiledFunction {
    /// First byte of the function's code (its entry point).
    pub ptr: *const u8,
    /// Length of the code in bytes.
    pub len: usize,
    /// Trap sites: code offset (from `ptr`) of each instruction that may trap, and its code.
    /// Sorted by offset.
    pub traps: Vec<(u32, TrapCode)>,
    /// Code offset (from `ptr`) where a run of instructions of one wasm operator starts, and
    /// that operator's offset in the module binary. Sorted by code offset.
    pub addr_map: Vec<(u32, u32)>,
}

impl CompiledFunction {
    /// The wasm offset of the operator whose code contains `code_offset`, if known.
    pub fn wasm_offset(&self, code_offset: u32) -> Option<u32> {
        let i = self
            .addr_map
            .partition_point(|&(start, _)| start <= code_offset);
        i.checked_sub(1).map(|i| self.addr_map[i].1)
    }

    /// The trap code of the instruction at `code_offset`, if it is a trap site.
    pub fn trap_code(&self, code_offset: u32) -> Option<TrapCode> {
        self.traps
            .binary_search_by_key(&code_offset, |t| t.0)
            .ok()
            .map(|i| self.traps[i].1)
    }
}

/// Executable memory holding linked code; freed on drop.
pub(crate) struct JitMemory {
    module: Option<JITModule>,
}

// SAFETY: after finalization the JIT module is never used again except to free its memory in
// `Drop`, which needs `&mut self`; the code it holds is immutable, so sharing pointers to it
// across threads is sound. `JITModule` is not `Sync` only because of interior caches
// (symbol lookup) that nothing touches after `finalize_definitions`.
unsafe impl Send for JitMemory {}
// SAFETY: see above: no `&self` method touches the module.
unsafe impl Sync for JitMemory {}

impl Drop for JitMemory {
    fn drop(&mut self) {
        if let Some(module) = self.module.take() {
            // SAFETY: the owner of this memory (compiled code or trampolines) is being
            // dropped; the runtime keeps it alive while any of its code may run.
            unsafe { module.free_memory() };
        }
    }
}

/// Places `bodies` in one contiguous executable region, resolving calls between them (a
/// relocation to user function `(0, i)` targets `bodies[i]`) and libcalls.
pub(crate) fn link(
    isa: OwnedTargetIsa,
    bodies: Vec<CompiledBody>,
) -> Result<(JitMemory, Vec<CompiledFunction>)> {
    let min_align = u64::from(isa.function_alignment().minimum).max(isa.symbol_alignment());
    // One arena for the module: contiguous code keeps PC-relative calls in range and gives
    // the runtime a single code range. Generous slack for alignment and AArch64 veneers.
    let page = 64 << 10;
    let reserve: usize = bodies
        .iter()
        .map(|b| b.len() + b.alignment.max(min_align) as usize + 32 * b.relocs.len())
        .sum::<usize>()
        + page;
    let arena = ArenaMemoryProvider::new_with_size(reserve.next_multiple_of(page))
        .map_err(|e| anyhow!("reserving {reserve} bytes of JIT memory: {e}"))?;
    let mut builder = JITBuilder::with_isa(isa, cranelift_module::default_libcall_names());
    builder.memory_provider(Box::new(arena));
    let mut module = JITModule::new(builder);

    let sig = ir::Signature::new(module.isa().default_call_conv());
    let mut ids = Vec::with_capacity(bodies.len());
    for (i, body) in bodies.iter().enumerate() {
        let id = module.declare_anonymous_function(&sig)?;
        debug_assert_eq!(id.as_u32(), i as u32);
        module.define_function_bytes(id, body.alignment, &body.bytes, &body.relocs)?;
        ids.push(id);
    }
    module.finalize_definitions()?;

    let functions = bodies
        .into_iter()
        .zip(ids)
        .map(|(body, id)| CompiledFunction {
            ptr: module.get_finalized_function(id),
            len: body.bytes.len(),
            traps: body.traps,
            addr_map: body.addr_map,
        })
        .collect();
    Ok((
        JitMemory {
            module: Some(module),
        },
        functions,
    ))
}
