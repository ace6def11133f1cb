//! A unit of code placed in executable memory: a module's functions, slow-path stubs and the
//! trampolines of its types, or the two trampolines of one function type. Every unit lives
//! one way, whether just compiled or loaded from a precompiled module:
//! - [`lay_out`] puts the functions' code one after another in a *text* (each at its
//!   alignment) and applies the relocations between them that depend only on distances;
//!   what is left are absolute addresses (8-byte sites, zeroed in the text);
//! - [`CodeObject::place`] copies the text into one mapping, writes the absolute addresses
//!   and makes it read-execute (a precompiled file's text may instead be mapped in place);
//! - the trap sites and the code→wasm offset map of the whole text are two sorted tables of
//!   fixed-size little-endian records, kept as bytes (a precompiled module's own bytes).

use crate::vm::code_memory::CodeMemory;
use crate::vm::code_registry::{CodeInfo, PcInfo};
use anyhow::{anyhow, bail, Result};
use std::num::NonZeroU8;
use std::ops::Range;
use std::sync::Arc;
#[cfg(any(feature = "cranelift", test))]
use wasmjit_compiler::code::FunctionCode;
use wasmjit_compiler::code::{LibCall, RelocKind, RelocTarget, Relocation};
use wasmjit_compiler::{DefinedFuncIndex, ModuleInfo};
use wasmjit_environ::trap_codes::TrapCode;

/// Bytes of one trap table record: text offset `u32`, raw trap code `u8`.
pub(crate) const TRAP_RECORD: usize = 5;
/// Bytes of one address map record: text offset `u32`, wasm offset `u32`.
pub(crate) const ADDR_RECORD: usize = 8;
/// The largest function alignment accepted (Cranelift asks for at most 64 bytes).
pub(crate) const MAX_ALIGN_LOG2: u8 = 12;
/// Largest addend a relocation carries (Cranelift's are a few bytes).
const MAX_ADDEND: u64 = 1 << 16;

/// Where a unit's functions are in its text, and what its instructions mean.
#[derive(Debug, Clone, Default)]
pub(crate) struct Layout {
    /// Each function's log2 alignment and length, in text order.
    pub(crate) functions: Vec<(u8, u32)>,
    /// Each function's `(offset, length)` in the text, computed from `functions`.
    pub(crate) ranges: Vec<(u32, u32)>,
    /// Absolute relocations, applied at placement (their sites are zero in the text); offsets
    /// are text offsets, targets are function indices of the unit. Always `Abs8`.
    pub(crate) relocs: Vec<Relocation>,
}

impl Layout {
    /// The layout of functions of these alignments and lengths; `None` if the text would
    /// not fit in 32 bits.
    pub(crate) fn new(functions: Vec<(u8, u32)>) -> Option<Layout> {
        let mut end = 0u64;
        let ranges = functions
            .iter()
            .map(|&(align_log2, len)| {
                let start = end.checked_next_multiple_of(1u64 << align_log2.min(63))?;
                end = start + u64::from(len);
                Some((u32::try_from(start).ok()?, len))
            })
            .collect::<Option<Vec<_>>>()?;
        u32::try_from(end).ok()?;
        Some(Layout {
            functions,
            ranges,
            relocs: Vec::new(),
        })
    }

    /// The text's length.
    pub(crate) fn text_len(&self) -> usize {
        self.ranges
            .last()
            .map_or(0, |&(start, len)| start as usize + len as usize)
    }

    /// Checks a relocation read from a precompiled module: an absolute one, inside the text,
    /// to a function of the unit (or inside one) or a library routine, with a small addend.
    pub(crate) fn check_reloc(&self, r: &Relocation) -> Result<()> {
        if r.kind != RelocKind::Abs8 {
            bail!("relocation of kind {:?} left to placement", r.kind);
        }
        if r.offset as usize + 8 > self.text_len() {
            bail!("relocation at {} outside the code", r.offset);
        }
        if r.addend.unsigned_abs() > MAX_ADDEND {
            bail!("relocation addend {}", r.addend);
        }
        self.target_offset(r.target).map(drop)
    }

    /// The text offset of a relocation's target, or `None` for a library routine.
    fn target_offset(&self, target: RelocTarget) -> Result<Option<u32>> {
        let range = |i: u32| {
            self.ranges
                .get(i as usize)
                .copied()
                .ok_or_else(|| anyhow!("relocation to function {i} of {}", self.ranges.len()))
        };
        Ok(match target {
            RelocTarget::Function(i) => Some(range(i)?.0),
            RelocTarget::FunctionOffset(i, offset) => {
                let (start, len) = range(i)?;
                if offset > len {
                    bail!("relocation to offset {offset} of a function of {len} bytes");
                }
                Some(start + offset)
            }
            RelocTarget::LibCall(_) => None,
        })
    }
}

/// A unit's text before placement, with its layout and tables.
#[cfg(feature = "cranelift")]
pub(crate) struct Image {
    pub(crate) text: Vec<u8>,
    pub(crate) layout: Layout,
    /// Trap table records ([`TRAP_RECORD`] bytes each), sorted by text offset.
    pub(crate) traps: Vec<u8>,
    /// Address map records ([`ADDR_RECORD`] bytes each), sorted by text offset.
    pub(crate) addr_map: Vec<u8>,
}

/// Lays `functions` out in one text. Relocations to function `i` name `functions[i]`.
#[cfg(feature = "cranelift")]
pub(crate) fn lay_out(functions: &[&FunctionCode]) -> Result<Image> {
    let aligns = functions
        .iter()
        .map(|f| {
            if !f.alignment.is_power_of_two()
                || f.alignment.trailing_zeros() > MAX_ALIGN_LOG2.into()
            {
                bail!("function alignment {}", f.alignment);
            }
            let len = u32::try_from(f.bytes.len()).map_err(|_| anyhow!("function too large"))?;
            Ok((f.alignment.trailing_zeros() as u8, len))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut layout = Layout::new(aligns).ok_or_else(|| anyhow!("code larger than 4 GiB"))?;
    let mut text = vec![0u8; layout.text_len()];
    let mut traps = Vec::new();
    let mut addr_map = Vec::new();
    for (f, &(start, _)) in functions.iter().zip(&layout.ranges.clone()) {
        let at = start as usize;
        text[at..at + f.bytes.len()].copy_from_slice(&f.bytes);
        for &(offset, code) in &f.traps {
            traps.extend_from_slice(&(start + offset).to_le_bytes());
            traps.push(code);
        }
        for &(code_offset, wasm_offset) in &f.addr_map {
            addr_map.extend_from_slice(&(start + code_offset).to_le_bytes());
            addr_map.extend_from_slice(&wasm_offset.to_le_bytes());
        }
        for r in &f.relocs {
            if r.offset as usize + r.kind.width() > f.bytes.len() {
                bail!("relocation at {} outside its function", r.offset);
            }
            if r.addend.unsigned_abs() > MAX_ADDEND {
                bail!("relocation addend {}", r.addend);
            }
            let site = start + r.offset;
            match layout.target_offset(r.target)? {
                Some(target) if r.kind.is_relative() => apply(
                    &mut text,
                    site as usize,
                    r.kind,
                    target as u64,
                    site as u64,
                    r.addend,
                )?,
                None if r.kind.is_relative() => {
                    bail!("PC-relative relocation to a library routine")
                }
                _ => {
                    text[site as usize..site as usize + 8].fill(0);
                    layout.relocs.push(Relocation { offset: site, ..*r });
                }
            }
        }
    }
    Ok(Image {
        text,
        layout,
        traps,
        addr_map,
    })
}

/// Patches the instruction or word at `text[site..]` for a target at `target + addend`,
/// the site itself being at `pc` (addresses in the same space as `target`).
fn apply(
    text: &mut [u8],
    site: usize,
    kind: RelocKind,
    target: u64,
    pc: u64,
    addend: i64,
) -> Result<()> {
    let what = target.wrapping_add_signed(addend);
    let delta = what.wrapping_sub(pc) as i64;
    let field = &mut text[site..site + kind.width()];
    let word = |field: &[u8]| u32::from_le_bytes(field.try_into().expect("4 bytes"));
    match kind {
        RelocKind::Abs8 => field.copy_from_slice(&what.to_le_bytes()),
        RelocKind::X86PcRel4 | RelocKind::X86CallPcRel4 => {
            let delta = i32::try_from(delta).map_err(|_| anyhow!("call out of range"))?;
            field.copy_from_slice(&delta.to_le_bytes());
        }
        RelocKind::Arm64Call => {
            if delta % 4 != 0 || !(-(1 << 27)..1 << 27).contains(&delta) {
                bail!("call out of range");
            }
            let imm26 = ((delta >> 2) as u32) & 0x03ff_ffff;
            let insn = (word(field) & !0x03ff_ffff) | imm26;
            field.copy_from_slice(&insn.to_le_bytes());
        }
        RelocKind::Aarch64AdrPrelPgHi21 => {
            let pages = ((what & !0xfff) as i64).wrapping_sub((pc & !0xfff) as i64) >> 12;
            if !(-(1 << 20)..1 << 20).contains(&pages) {
                bail!("page address out of range");
            }
            let imm = pages as u32;
            let insn = (word(field) & !((0x3 << 29) | (0x7ffff << 5)))
                | ((imm & 0x3) << 29)
                | (((imm >> 2) & 0x7ffff) << 5);
            field.copy_from_slice(&insn.to_le_bytes());
        }
        RelocKind::Aarch64AddAbsLo12Nc => {
            let insn = (word(field) & !(0xfff << 10)) | (((what as u32) & 0xfff) << 10);
            field.copy_from_slice(&insn.to_le_bytes());
        }
    }
    Ok(())
}

/// The address of a library routine compiled code may call.
fn libcall_address(call: LibCall) -> u64 {
    extern "C" fn floor_f32(x: f32) -> f32 {
        x.floor()
    }
    extern "C" fn floor_f64(x: f64) -> f64 {
        x.floor()
    }
    extern "C" fn ceil_f32(x: f32) -> f32 {
        x.ceil()
    }
    extern "C" fn ceil_f64(x: f64) -> f64 {
        x.ceil()
    }
    extern "C" fn trunc_f32(x: f32) -> f32 {
        x.trunc()
    }
    extern "C" fn trunc_f64(x: f64) -> f64 {
        x.trunc()
    }
    extern "C" fn nearest_f32(x: f32) -> f32 {
        x.round_ties_even()
    }
    extern "C" fn nearest_f64(x: f64) -> f64 {
        x.round_ties_even()
    }
    extern "C" fn fma_f32(a: f32, b: f32, c: f32) -> f32 {
        a.mul_add(b, c)
    }
    extern "C" fn fma_f64(a: f64, b: f64, c: f64) -> f64 {
        a.mul_add(b, c)
    }
    (match call {
        LibCall::FloorF32 => floor_f32 as extern "C" fn(f32) -> f32 as usize,
        LibCall::FloorF64 => floor_f64 as extern "C" fn(f64) -> f64 as usize,
        LibCall::CeilF32 => ceil_f32 as extern "C" fn(f32) -> f32 as usize,
        LibCall::CeilF64 => ceil_f64 as extern "C" fn(f64) -> f64 as usize,
        LibCall::TruncF32 => trunc_f32 as extern "C" fn(f32) -> f32 as usize,
        LibCall::TruncF64 => trunc_f64 as extern "C" fn(f64) -> f64 as usize,
        LibCall::NearestF32 => nearest_f32 as extern "C" fn(f32) -> f32 as usize,
        LibCall::NearestF64 => nearest_f64 as extern "C" fn(f64) -> f64 as usize,
        LibCall::FmaF32 => fma_f32 as extern "C" fn(f32, f32, f32) -> f32 as usize,
        LibCall::FmaF64 => fma_f64 as extern "C" fn(f64, f64, f64) -> f64 as usize,
    }) as u64
}

/// Bytes a unit's tables are read from: its own, or a precompiled file's mapping.
pub(crate) enum Backing {
    Owned(Vec<u8>),
    Mapped(Arc<FileMapping>),
}

impl std::ops::Deref for Backing {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Backing::Owned(v) => v,
            Backing::Mapped(m) => m.bytes(),
        }
    }
}

/// A whole file mapped read-only.
pub(crate) struct FileMapping {
    ptr: *mut u8,
    len: usize,
}

// SAFETY: the mapping is read-only and only read through.
unsafe impl Send for FileMapping {}
// SAFETY: as above.
unsafe impl Sync for FileMapping {}

impl FileMapping {
    /// Maps `file` (of `len` bytes, at least one) read-only.
    pub(crate) fn new(file: &std::fs::File, len: usize) -> Result<FileMapping> {
        use std::os::fd::AsRawFd;
        if len == 0 {
            bail!("empty file");
        }
        // SAFETY: a fresh private read-only mapping of a file we hold open.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            bail!("mapping the file: {}", std::io::Error::last_os_error());
        }
        Ok(FileMapping {
            ptr: ptr.cast(),
            len,
        })
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY: `len` bytes are mapped readable for the life of `self`; the caller of
        // `deserialize_file` promises the file does not change meanwhile.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl Drop for FileMapping {
    fn drop(&mut self) {
        // SAFETY: our own mapping, no longer borrowed (`bytes` borrows `self`).
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

/// A unit's trap table and address map: ranges of a backing.
pub(crate) struct Tables {
    pub(crate) backing: Backing,
    pub(crate) traps: Range<usize>,
    pub(crate) addr_map: Range<usize>,
}

impl Tables {
    /// Tables of their own bytes.
    pub(crate) fn owned(traps: &[u8], addr_map: &[u8]) -> Tables {
        let mut bytes = Vec::with_capacity(traps.len() + addr_map.len());
        bytes.extend_from_slice(traps);
        bytes.extend_from_slice(addr_map);
        Tables {
            backing: Backing::Owned(bytes),
            traps: 0..traps.len(),
            addr_map: traps.len()..traps.len() + addr_map.len(),
        }
    }

    pub(crate) fn traps(&self) -> &[u8] {
        &self.backing[self.traps.clone()]
    }

    pub(crate) fn addr_map(&self) -> &[u8] {
        &self.backing[self.addr_map.clone()]
    }
}

/// The record of `records` (each `N` bytes, keyed by a leading little-endian `u32`) with the
/// greatest key `<= key`.
fn last_at_or_before<const N: usize>(records: &[u8], key: u32) -> Option<[u8; N]> {
    let count = records.len() / N;
    let key_of = |i: usize| u32::from_le_bytes(records[i * N..i * N + 4].try_into().unwrap());
    let (mut lo, mut hi) = (0, count);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if key_of(mid) <= key {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    let i = lo.checked_sub(1)?;
    Some(records[i * N..i * N + N].try_into().unwrap())
}

/// A unit of code in executable memory.
pub(crate) struct CodeObject {
    memory: CodeMemory,
    pub(crate) layout: Layout,
    pub(crate) tables: Tables,
}

impl CodeObject {
    /// Places `text` (laid out as `layout` says) in a fresh mapping and applies its absolute
    /// relocations.
    pub(crate) fn place(text: &[u8], layout: Layout, tables: Tables) -> Result<CodeObject> {
        if text.len() != layout.text_len() {
            bail!(
                "{} bytes of code for a layout of {}",
                text.len(),
                layout.text_len()
            );
        }
        let memory = CodeMemory::copy(text, |code, base| {
            for r in &layout.relocs {
                let target = match layout.target_offset(r.target)? {
                    Some(offset) => base as u64 + u64::from(offset),
                    None => match r.target {
                        RelocTarget::LibCall(call) => libcall_address(call),
                        _ => unreachable!("only library routines have no offset"),
                    },
                };
                let site = r.offset as usize;
                apply(code, site, r.kind, target, (base + site) as u64, r.addend)?;
            }
            Ok(())
        })?;
        Ok(CodeObject {
            memory,
            layout,
            tables,
        })
    }

    /// Code that was mapped in place, needing no relocation.
    pub(crate) fn mapped(memory: CodeMemory, layout: Layout, tables: Tables) -> CodeObject {
        debug_assert!(layout.relocs.is_empty() && memory.bytes().len() == layout.text_len());
        CodeObject {
            memory,
            layout,
            tables,
        }
    }

    /// An image laid out by [`lay_out`], placed.
    #[cfg(feature = "cranelift")]
    pub(crate) fn from_image(image: Image) -> Result<CodeObject> {
        let tables = Tables::owned(&image.traps, &image.addr_map);
        CodeObject::place(&image.text, image.layout, tables)
    }

    /// The entry point of function `i` of the unit.
    pub(crate) fn function(&self, i: usize) -> *const u8 {
        let (start, _) = self.layout.ranges[i];
        self.memory.as_ptr().wrapping_add(start as usize)
    }

    /// The code's address range.
    pub(crate) fn range(&self) -> (usize, usize) {
        let start = self.memory.as_ptr() as usize;
        (start, start + self.layout.text_len())
    }

    /// The text as a precompiled module stores it: absolute relocation sites zeroed.
    pub(crate) fn text_for_storing(&self) -> Vec<u8> {
        let mut text = self.memory.bytes().to_vec();
        for r in &self.layout.relocs {
            let at = r.offset as usize;
            text[at..at + 8].fill(0);
        }
        text
    }

    /// Function `i`'s code as compiled, for a unit that copies it (a module's serialized form
    /// holds its types' trampolines). Only for functions without relocations.
    #[cfg(feature = "cranelift")]
    pub(crate) fn function_code(&self, i: usize) -> Result<FunctionCode> {
        let (start, len) = self.layout.ranges[i];
        let end = start + len;
        if self
            .layout
            .relocs
            .iter()
            .any(|r| (start..end).contains(&r.offset))
        {
            bail!("copying a function with relocations");
        }
        let traps = self
            .tables
            .traps()
            .chunks_exact(TRAP_RECORD)
            .map(|r| (u32::from_le_bytes(r[..4].try_into().unwrap()), r[4]))
            .filter(|&(at, _)| (start..end).contains(&at))
            .map(|(at, code)| (at - start, code))
            .collect();
        Ok(FunctionCode {
            bytes: self.memory.bytes()[start as usize..end as usize].to_vec(),
            alignment: 1 << self.layout.functions[i].0,
            relocs: Vec::new(),
            traps,
            addr_map: Vec::new(),
        })
    }

    fn text_offset(&self, pc: usize) -> Option<u32> {
        let (start, end) = self.range();
        (start..end).contains(&pc).then(|| (pc - start) as u32)
    }

    /// The trap code of the trap site at `pc`.
    pub(crate) fn trap_code(&self, pc: usize) -> Option<TrapCode> {
        let offset = self.text_offset(pc)?;
        let record = last_at_or_before::<TRAP_RECORD>(self.tables.traps(), offset)?;
        (u32::from_le_bytes(record[..4].try_into().unwrap()) == offset)
            .then(|| NonZeroU8::new(record[4]).map(TrapCode::from_raw))
            .flatten()
    }

    /// The function of the unit whose code holds `pc`.
    pub(crate) fn function_at(&self, pc: usize) -> Option<usize> {
        let offset = self.text_offset(pc)?;
        let i = self
            .layout
            .ranges
            .partition_point(|&(start, _)| start <= offset)
            .checked_sub(1)?;
        let (start, len) = self.layout.ranges[i];
        (offset < start + len).then_some(i)
    }

    /// The wasm offset of the operator whose code holds `pc`, in function `i`.
    fn wasm_offset(&self, i: usize, pc: usize) -> Option<u32> {
        let offset = self.text_offset(pc)?;
        let record = last_at_or_before::<ADDR_RECORD>(self.tables.addr_map(), offset)?;
        let at = u32::from_le_bytes(record[..4].try_into().unwrap());
        (at >= self.layout.ranges[i].0).then(|| u32::from_le_bytes(record[4..].try_into().unwrap()))
    }
}

/// What a module's code is of, for frames.
pub(crate) struct ModuleFrames {
    pub(crate) info: Arc<ModuleInfo>,
    /// The module's defined functions are the unit's first ones.
    pub(crate) num_defined: usize,
    /// Where each defined function's body starts in the binary.
    pub(crate) body_starts: Vec<u32>,
}

/// A placed unit as the code registry sees it: a module's code, or trampolines (no module).
pub(crate) struct CodeLookup {
    pub(crate) object: CodeObject,
    pub(crate) module: Option<ModuleFrames>,
}

impl CodeInfo for CodeLookup {
    fn trap_code(&self, pc: usize) -> Option<TrapCode> {
        self.object.trap_code(pc)
    }

    fn pc_info(&self, pc: usize) -> Option<PcInfo> {
        let trampoline = PcInfo {
            func_index: None,
            wasm_offset: None,
            body_start: None,
            module_name: None,
            func_name: None,
            code_id: 0,
        };
        let Some(m) = &self.module else {
            return Some(trampoline);
        };
        let index = self.object.function_at(pc)?;
        if index >= m.num_defined {
            // A stub or a trampoline of the module's code.
            return Some(trampoline);
        }
        let func_index = m.info.func_index(DefinedFuncIndex::from_u32(index as u32));
        Some(PcInfo {
            func_index: Some(func_index.as_u32()),
            wasm_offset: self.object.wasm_offset(index, pc),
            body_start: m.body_starts.get(index).copied(),
            module_name: m.info.name.clone(),
            func_name: m.info.func_names.get(&func_index).cloned(),
            code_id: self as *const CodeLookup as usize,
        })
    }
}

/// A placed unit registered for trap lookups while it lives; what modules and registered
/// types hold.
pub(crate) struct PlacedCode {
    pub(crate) lookup: Arc<CodeLookup>,
    _registration: Option<crate::vm::code_registry::CodeRegistration>,
}

impl PlacedCode {
    /// Registers `lookup`'s code (unless it is empty).
    pub(crate) fn register(lookup: CodeLookup) -> PlacedCode {
        let lookup = Arc::new(lookup);
        let (start, end) = lookup.object.range();
        let registration =
            (start < end).then(|| crate::vm::code_registry::register(start, end, lookup.clone()));
        PlacedCode {
            lookup,
            _registration: registration,
        }
    }

    pub(crate) fn object(&self) -> &CodeObject {
        &self.lookup.object
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn function(bytes: Vec<u8>, relocs: Vec<Relocation>) -> FunctionCode {
        FunctionCode {
            bytes,
            alignment: 16,
            relocs,
            traps: vec![(1, 9)],
            addr_map: vec![(0, 40)],
        }
    }

    /// Calls between functions are patched when laid out; absolute addresses wait for
    /// placement, with their sites zeroed; tables move to text offsets.
    #[test]
    fn lay_out_applies_relative_relocations_and_keeps_absolute_ones() {
        // f0: `call f1` at 0 (e8 + rel32), then an 8-byte absolute address of f1 + 4.
        let f0 = function(
            [vec![0xe8, 0, 0, 0, 0], vec![0xaa; 8], vec![0xc3]].concat(),
            vec![
                Relocation {
                    offset: 1,
                    kind: RelocKind::X86CallPcRel4,
                    target: RelocTarget::Function(1),
                    addend: -4,
                },
                Relocation {
                    offset: 5,
                    kind: RelocKind::Abs8,
                    target: RelocTarget::FunctionOffset(1, 4),
                    addend: 0,
                },
            ],
        );
        let f1 = function(vec![0xc3; 8], Vec::new());
        let image = lay_out(&[&f0, &f1]).unwrap();
        assert_eq!(image.layout.ranges, [(0, 14), (16, 8)]);
        // rel32 = target - (site + 4) = 16 - 5.
        assert_eq!(image.text[1..5], 11i32.to_le_bytes());
        assert_eq!(image.text[5..13], [0; 8]);
        assert_eq!(image.layout.relocs.len(), 1);
        assert_eq!(image.layout.relocs[0].offset, 5);
        assert_eq!(image.traps, [1, 0, 0, 0, 9, 17, 0, 0, 0, 9]);
        assert_eq!(image.addr_map[8..12], 16u32.to_le_bytes());

        let object = CodeObject::from_image(image).unwrap();
        let base = object.function(0) as u64;
        // SAFETY: reading 8 bytes of the placed, readable code.
        let written = unsafe { std::ptr::read_unaligned(object.function(0).add(5).cast::<u64>()) };
        assert_eq!(written, base + 20);
        assert_eq!(object.function_at(base as usize + 17), Some(1));
        assert_eq!(
            object
                .trap_code(base as usize + 17)
                .map(|c| c.as_raw().get()),
            Some(9)
        );
        assert_eq!(object.trap_code(base as usize + 2), None);
        // Stored again, the absolute site is zero, as laid out.
        assert_eq!(object.text_for_storing()[5..13], [0; 8]);
    }

    #[test]
    fn aarch64_encodings() {
        // `bl` at 0x1000 to 0x0ff8: imm26 = -2.
        let mut text = 0x9400_0000u32.to_le_bytes().to_vec();
        apply(&mut text, 0, RelocKind::Arm64Call, 0x0ff8, 0x1000, 0).unwrap();
        assert_eq!(
            u32::from_le_bytes(text[..].try_into().unwrap()),
            0x97ff_fffe
        );
        // adrp x0 to a page 0x3000 above: immlo = 3, immhi = 0.
        let mut text = 0x9000_0000u32.to_le_bytes().to_vec();
        apply(
            &mut text,
            0,
            RelocKind::Aarch64AdrPrelPgHi21,
            0x4123,
            0x1ffc,
            0,
        )
        .unwrap();
        assert_eq!(
            u32::from_le_bytes(text[..].try_into().unwrap()),
            0x9000_0000 | (3 << 29)
        );
        // add x0, x0, #lo12: the target's offset in its page.
        let mut text = 0x9100_0000u32.to_le_bytes().to_vec();
        apply(&mut text, 0, RelocKind::Aarch64AddAbsLo12Nc, 0x4123, 0, 0).unwrap();
        assert_eq!(
            u32::from_le_bytes(text[..].try_into().unwrap()),
            0x9100_0000 | (0x123 << 10)
        );
        // Out of range calls are errors, not wrapped.
        let mut text = vec![0; 4];
        assert!(apply(&mut text, 0, RelocKind::Arm64Call, 1 << 28, 0, 0).is_err());
        assert!(apply(&mut text, 0, RelocKind::X86CallPcRel4, 1 << 32, 0, 0).is_err());
    }
}
