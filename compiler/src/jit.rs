//! Linking compiled function bodies into executable memory.

use crate::code::{FunctionCode, LibCall as EnvLibCall, RelocKind, RelocTarget, Relocation};
use anyhow::{anyhow, bail, Result};
use cranelift_codegen::binemit::Reloc;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::{self, LibCall, TrapCode};
use cranelift_codegen::isa::{OwnedTargetIsa, TargetIsa};
use cranelift_codegen::{Context, FinalizedMachReloc};
use cranelift_jit::{ArenaMemoryProvider, JITBuilder, JITModule};
use cranelift_module::{FuncId, Module, ModuleReloc, ModuleRelocTarget};
use std::num::NonZeroU8;
use std::sync::atomic::Ordering;

/// The Cranelift relocation kind of each of the environ's kinds.
fn cranelift_reloc(kind: RelocKind) -> Reloc {
    match kind {
        RelocKind::Abs8 => Reloc::Abs8,
        RelocKind::X86PcRel4 => Reloc::X86PCRel4,
        RelocKind::X86CallPcRel4 => Reloc::X86CallPCRel4,
        RelocKind::Arm64Call => Reloc::Arm64Call,
        RelocKind::Aarch64AdrPrelPgHi21 => Reloc::Aarch64AdrPrelPgHi21,
        RelocKind::Aarch64AddAbsLo12Nc => Reloc::Aarch64AddAbsLo12Nc,
    }
}

/// The Cranelift library routine of each of the environ's.
fn cranelift_libcall(call: EnvLibCall) -> LibCall {
    match call {
        EnvLibCall::FloorF32 => LibCall::FloorF32,
        EnvLibCall::FloorF64 => LibCall::FloorF64,
        EnvLibCall::CeilF32 => LibCall::CeilF32,
        EnvLibCall::CeilF64 => LibCall::CeilF64,
        EnvLibCall::TruncF32 => LibCall::TruncF32,
        EnvLibCall::TruncF64 => LibCall::TruncF64,
        EnvLibCall::NearestF32 => LibCall::NearestF32,
        EnvLibCall::NearestF64 => LibCall::NearestF64,
        EnvLibCall::FmaF32 => LibCall::FmaF32,
        EnvLibCall::FmaF64 => LibCall::FmaF64,
    }
}

/// Runs Cranelift on `ctx`'s function and takes the result as the unit's `index`-th
/// function (the index other functions' relocations name it by).
pub(crate) fn compile_context(
    ctx: &mut Context,
    isa: &dyn TargetIsa,
    index: u32,
    describe: impl FnOnce() -> String,
) -> Result<FunctionCode> {
    crate::COMPILATIONS.fetch_add(1, Ordering::Relaxed);
    ctx.compile(isa, &mut ControlPlane::default())
        .map_err(|e| anyhow!("failed to compile {}: {:?}", describe(), e.inner))?;
    function_code(ctx, index)
}

/// The unplaced code of the function `ctx` compiled.
fn function_code(ctx: &Context, index: u32) -> Result<FunctionCode> {
    let code = ctx.compiled_code().expect("function was compiled");
    let buffer = &code.buffer;
    let id = FuncId::from_u32(index);
    let relocs = buffer
        .relocs()
        .iter()
        .map(|r: &FinalizedMachReloc| {
            let r = ModuleReloc::from_mach_reloc(r, &ctx.func, id);
            let kind = *RelocKind::ALL
                .iter()
                .find(|k| cranelift_reloc(**k) == r.kind)
                .ok_or_else(|| anyhow!("unsupported relocation kind {}", r.kind))?;
            let target = match r.name {
                ModuleRelocTarget::User {
                    namespace: 0,
                    index,
                } => RelocTarget::Function(index),
                ModuleRelocTarget::FunctionOffset(f, offset) => {
                    RelocTarget::FunctionOffset(f.as_u32(), offset)
                }
                ModuleRelocTarget::LibCall(call) => RelocTarget::LibCall(
                    *EnvLibCall::ALL
                        .iter()
                        .find(|c| cranelift_libcall(**c) == call)
                        .ok_or_else(|| anyhow!("unsupported library routine {call}"))?,
                ),
                other => bail!("unsupported relocation target {other}"),
            };
            Ok(Relocation {
                offset: r.offset,
                kind,
                target,
                addend: r.addend,
            })
        })
        .collect::<Result<_>>()?;
    let mut traps: Vec<_> = buffer
        .traps()
        .iter()
        .map(|t| (t.offset, t.code.as_raw().get()))
        .collect();
    traps.sort_by_key(|t| t.0);
    let addr_map = buffer
        .get_srclocs_sorted()
        .iter()
        .filter(|s| !s.loc.is_default())
        .map(|s| (s.start, s.loc.bits()))
        .collect();
    Ok(FunctionCode {
        bytes: buffer.data().to_vec(),
        alignment: buffer.alignment,
        relocs,
        traps,
        addr_map,
    })
}

/// Largest addend a relocation of compiled code carries (Cranelift's are a few bytes).
const MAX_ADDEND: u64 = 1 << 16;

/// The Cranelift form of a stored relocation, after checking what linking relies on: the
/// kind is one `cranelift_jit` applies to position-dependent code, the patched bytes lie in
/// the function, the target is a function of the unit (`lens`: their code sizes) or a
/// library routine reached by an absolute address, and the addend is small, so applying it
/// cannot overflow its field (the unit's code is one region far smaller than 2 GiB).
fn module_reloc(r: &Relocation, code_len: usize, lens: &[usize]) -> Result<ModuleReloc> {
    let kind = cranelift_reloc(r.kind);
    let pc_relative = r.kind.is_relative();
    if r.offset as usize + r.kind.width() > code_len {
        bail!("relocation at {} outside its function", r.offset);
    }
    if r.addend.unsigned_abs() > MAX_ADDEND {
        bail!("relocation addend {}", r.addend);
    }
    let function = |index: u32| match lens.get(index as usize) {
        Some(&len) => Ok((FuncId::from_u32(index), len)),
        None => bail!("relocation to function {index} of {}", lens.len()),
    };
    let name = match r.target {
        RelocTarget::Function(index) => ModuleRelocTarget::from(function(index)?.0),
        RelocTarget::FunctionOffset(index, offset) => {
            let (id, len) = function(index)?;
            if offset as usize > len {
                bail!("relocation to offset {offset} of a function of {len} bytes");
            }
            ModuleRelocTarget::FunctionOffset(id, offset)
        }
        RelocTarget::LibCall(_) if pc_relative => {
            bail!("PC-relative relocation to a library routine")
        }
        RelocTarget::LibCall(call) => ModuleRelocTarget::LibCall(cranelift_libcall(call)),
    };
    Ok(ModuleReloc {
        offset: r.offset,
        kind,
        name,
        addend: r.addend,
    })
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

/// Places `functions` in one contiguous executable region, resolving calls between them (a
/// relocation to function `i` targets `functions[i]`) and library routines. Every
/// relocation is checked to lie in its function and name one of `functions`; the code
/// itself is trusted.
pub(crate) fn link(
    isa: OwnedTargetIsa,
    functions: &[FunctionCode],
) -> Result<(JitMemory, Vec<CompiledFunction>)> {
    let min_align = u64::from(isa.function_alignment().minimum).max(isa.symbol_alignment());
    // Trap codes are checked before anything is placed.
    let traps = functions
        .iter()
        .map(|f| {
            f.traps
                .iter()
                .map(|&(offset, raw)| {
                    let code = NonZeroU8::new(raw)
                        .map(TrapCode::from_raw)
                        .ok_or_else(|| anyhow!("trap code 0"))?;
                    Ok((offset, code))
                })
                .collect::<Result<Vec<_>>>()
        })
        .collect::<Result<Vec<_>>>()?;
    let lens: Vec<usize> = functions.iter().map(|f| f.bytes.len()).collect();
    let relocs = functions
        .iter()
        .map(|f| {
            if !f.alignment.is_power_of_two() || f.alignment > 1 << 16 {
                bail!("function alignment {}", f.alignment);
            }
            f.relocs
                .iter()
                .map(|r| module_reloc(r, f.bytes.len(), &lens))
                .collect::<Result<Vec<_>>>()
        })
        .collect::<Result<Vec<_>>>()?;
    // One arena for the module: contiguous code keeps PC-relative calls in range and gives
    // the runtime a single code range. Generous slack for alignment and AArch64 veneers.
    let page = 64 << 10;
    let reserve: usize = functions
        .iter()
        .map(|f| {
            f.bytes.len() + u64::from(f.alignment).max(min_align) as usize + 32 * f.relocs.len()
        })
        .sum::<usize>()
        + page;
    let arena = ArenaMemoryProvider::new_with_size(reserve.next_multiple_of(page))
        .map_err(|e| anyhow!("reserving {reserve} bytes of JIT memory: {e}"))?;
    let mut builder = JITBuilder::with_isa(isa, cranelift_module::default_libcall_names());
    builder.memory_provider(Box::new(arena));
    let mut module = JITModule::new(builder);

    let sig = ir::Signature::new(module.isa().default_call_conv());
    let mut ids = Vec::with_capacity(functions.len());
    for (i, (f, relocs)) in functions.iter().zip(&relocs).enumerate() {
        let id = module.declare_anonymous_function(&sig)?;
        debug_assert_eq!(id.as_u32(), i as u32);
        module.define_function_bytes(id, u64::from(f.alignment), &f.bytes, relocs)?;
        ids.push(id);
    }
    module.finalize_definitions()?;

    let placed = functions
        .iter()
        .zip(traps)
        .zip(ids)
        .map(|((f, traps), id)| CompiledFunction {
            ptr: module.get_finalized_function(id),
            len: f.bytes.len(),
            traps,
            addr_map: f.addr_map.clone(),
        })
        .collect();
    Ok((
        JitMemory {
            module: Some(module),
        },
        placed,
    ))
}
