//! Serialized modules: `Module::serialize` / `Module::deserialize` and
//! `Engine::precompile_module`, shaped like Wasmtime's.
//!
//! A serialized module holds its code as placed code is laid out (`vm::code_object`): one
//! text with the defined functions, the slow-path stubs and the trampolines of each module
//! type, the relocations between them already applied; only absolute addresses are left to
//! write. Beside it: each function's alignment and length, the text's trap table and address
//! map, and the module's binary, which loading parses again for the metadata (without
//! validating or compiling the bodies). Loading copies the text into one mapping (or, from a
//! file and with no relocation to write, maps the file's pages), and never runs Cranelift.
//! The layout (see ARCHITECTURE.md):
//!
//! ```text
//! magic "\0wasmjit" | format version: u32 | header (length-prefixed, `header::Header`)
//! | wasm binary | defined functions: u32 | functions: u32, (log2 alignment u8, length u32)*
//! | trap table (bytes) | address map (bytes)
//! | relocations: u32, (text offset u32, target kind u8, u32, u32, addend i64)*
//! | padding (bytes, zeros) | text (bytes, starting at a multiple of `TEXT_ALIGN`)
//! ```
//!
//! Integers are little-endian, byte strings and lists are prefixed by a `u32` length
//! (`bytes`). The code bytes are trusted, as in Wasmtime (`deserialize` is `unsafe`); the
//! framing is not: lengths, counts, alignments, relocation offsets and targets are checked,
//! so a truncated or corrupt file is an error.

mod bytes;
pub(crate) mod header;

use crate::module::place_module_code;
use crate::vm::code_memory::CodeMemory;
use crate::vm::code_object::{
    Backing, CodeObject, FileMapping, Layout, Tables, ADDR_RECORD, MAX_ALIGN_LOG2, TRAP_RECORD,
};
use crate::{Engine, Module};
use anyhow::{bail, Context, Result};
use bytes::{expect_end, truncated, Reader, Writer};
use header::Header;
use std::fs::File;
use std::ops::Range;
use std::path::Path;
use std::ptr::NonNull;
use std::sync::Arc;
use wasmjit_compiler::code::{LibCall, RelocKind, RelocTarget, Relocation};

/// Starts every serialized module (and can't start a wasm binary, which starts with `\0asm`).
const MAGIC: &[u8; 8] = b"\0wasmjit";
/// The layout after the magic; bumped whenever it changes. 1 held the binary alone, 2 each
/// function's code and relocations apart.
const FORMAT_VERSION: u32 = 3;
/// Where the text starts in a serialized module: a multiple of the largest page size of the
/// target, so that a file's text can be mapped in place.
const TEXT_ALIGN: usize = if cfg!(target_arch = "aarch64") {
    64 << 10
} else {
    4 << 10
};
/// Bytes of one stored relocation.
const RELOC_RECORD: usize = 21;

/// A serialized module's parts, checked for framing, as ranges of its bytes.
struct Parts<'a> {
    wasm: &'a [u8],
    num_defined: usize,
    layout: Layout,
    traps: Range<usize>,
    addr_map: Range<usize>,
    text: Range<usize>,
}

impl Module {
    /// The module's compiled code in the form [`Module::deserialize`] loads again (into an
    /// engine of the same settings).
    pub fn serialize(&self) -> Result<Vec<u8>> {
        let m = &self.inner;
        let object = m.code.object();
        let layout = &object.layout;
        let mut w = Writer::default();
        w.out.extend_from_slice(MAGIC);
        w.u32(FORMAT_VERSION);
        w.bytes(&header_bytes(&m.engine)?);
        w.bytes(&m.info.wasm);
        w.len(m.info.functions.len() - m.info.num_imported_funcs as usize);
        w.len(layout.functions.len());
        for &(align_log2, len) in &layout.functions {
            w.u8(align_log2);
            w.u32(len);
        }
        w.bytes(object.tables.traps());
        w.bytes(object.tables.addr_map());
        w.len(layout.relocs.len());
        for r in &layout.relocs {
            w.u32(r.offset);
            let (kind, a, b) = match r.target {
                RelocTarget::Function(i) => (0, i, 0),
                RelocTarget::FunctionOffset(i, offset) => (1, i, offset),
                RelocTarget::LibCall(call) => (2, u32::from(call as u8), 0),
            };
            w.u8(kind);
            w.u32(a);
            w.u32(b);
            w.u64(r.addend as u64);
        }
        // The padding's length and the text's length come before the text.
        let text_start = (w.out.len() + 8).next_multiple_of(TEXT_ALIGN);
        let pad = text_start - w.out.len() - 8;
        w.len(pad);
        w.out.resize(w.out.len() + pad, 0);
        w.bytes(&object.text_for_storing());
        Ok(w.out)
    }

    /// Loads a module that [`Module::serialize`] or [`Engine::precompile_module`] produced,
    /// placing its code without compiling anything. Errors for other bytes (a plain wasm
    /// binary included: use [`Module::new`]), and for modules compiled with settings that
    /// differ from `engine`'s in a way the code depends on (the error names the setting).
    ///
    /// # Safety
    /// The bytes are machine code that will run: they must come from `serialize` (of this
    /// wasmjit version) or a source as trusted. Corrupt framing is detected, corrupt code
    /// is not.
    pub unsafe fn deserialize(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Module> {
        let bytes = bytes.as_ref();
        let parts = read_parts(engine, bytes)?;
        let tables = Tables::owned(&bytes[parts.traps.clone()], &bytes[parts.addr_map.clone()]);
        let text = &bytes[parts.text.clone()];
        let place = |layout| CodeObject::place(text, layout, tables);
        load(engine, parts.wasm, parts.num_defined, place, parts.layout)
    }

    /// [`Module::deserialize`] of a file. The file is mapped rather than read, and when its
    /// code needs no relocation (no absolute address in it) its pages become the module's
    /// code in place, read as they first run.
    ///
    /// # Safety
    /// As [`Module::deserialize`], and the file must not change while the module lives.
    pub unsafe fn deserialize_file(engine: &Engine, path: impl AsRef<Path>) -> Result<Module> {
        let path = path.as_ref();
        let failed = || format!("failed to read {}", path.display());
        let file = File::open(path).with_context(failed)?;
        let len = usize::try_from(file.metadata().with_context(failed)?.len())?;
        if len < MAGIC.len() {
            // Nothing to map: the reader names what is wrong with so few bytes.
            let bytes = std::fs::read(path).with_context(failed)?;
            // SAFETY: forwarded from the caller.
            return unsafe { Module::deserialize(engine, bytes) };
        }
        let mapping = Arc::new(FileMapping::new(&file, len).with_context(failed)?);
        let bytes = mapping.bytes();
        let parts = read_parts(engine, bytes)?;
        let tables = Tables {
            backing: Backing::Mapped(mapping.clone()),
            traps: parts.traps.clone(),
            addr_map: parts.addr_map.clone(),
        };
        let in_place = if parts.layout.relocs.is_empty() && !parts.text.is_empty() {
            CodeMemory::map_file(&file, parts.text.start, parts.text.len()).ok()
        } else {
            None
        };
        let text = &bytes[parts.text.clone()];
        let place = |layout| match in_place {
            Some(memory) => Ok(CodeObject::mapped(memory, layout, tables)),
            None => CodeObject::place(text, layout, tables),
        };
        load(engine, parts.wasm, parts.num_defined, place, parts.layout)
    }

    /// [`Module::deserialize`] of an open file's contents (read from its current position).
    ///
    /// # Safety
    /// As [`Module::deserialize`].
    pub unsafe fn deserialize_open_file(engine: &Engine, file: File) -> Result<Module> {
        use std::io::Read;
        let mut bytes = Vec::new();
        (&file)
            .read_to_end(&mut bytes)
            .context("failed to read the precompiled module's file")?;
        // SAFETY: forwarded from the caller.
        unsafe { Module::deserialize(engine, bytes) }
    }

    /// [`Module::deserialize`] of `memory` in place, as Wasmtime's. wasmjit places the code
    /// in its own executable memory either way, so `memory` is only read during this call.
    ///
    /// # Safety
    /// As [`Module::deserialize`], and `memory` must be valid for reads for this call.
    pub unsafe fn deserialize_raw(engine: &Engine, memory: NonNull<[u8]>) -> Result<Module> {
        // SAFETY: the caller guarantees `memory` is readable for this call; nothing keeps it.
        let bytes = unsafe { memory.as_ref() };
        // SAFETY: forwarded from the caller.
        unsafe { Module::deserialize(engine, bytes) }
    }

    /// A module from a file holding either a precompiled module (as
    /// [`Module::deserialize_file`]) or a wasm binary or text (compiled, as
    /// [`Module::from_file`]).
    ///
    /// # Safety
    /// As [`Module::deserialize`] when the file is a precompiled module.
    pub unsafe fn from_trusted_file(engine: &Engine, file: impl AsRef<Path>) -> Result<Module> {
        let path = file.as_ref();
        match Engine::detect_precompiled_file(path)? {
            // SAFETY: forwarded from the caller.
            Some(Precompiled::Module) => unsafe { Module::deserialize_file(engine, path) },
            _ => Module::from_file(engine, path),
        }
    }
}

/// What [`Engine::detect_precompiled`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Precompiled {
    /// A serialized module.
    Module,
    /// A serialized component (never produced by wasmjit).
    Component,
}

impl Engine {
    /// Whether `bytes` look like a serialized module ([`Module::deserialize`] may still
    /// reject them). An associated function, as in Wasmtime 48.
    pub fn detect_precompiled(bytes: &[u8]) -> Option<Precompiled> {
        bytes.starts_with(MAGIC).then_some(Precompiled::Module)
    }

    /// [`Engine::detect_precompiled`] of a file's first bytes.
    pub fn detect_precompiled_file(path: impl AsRef<Path>) -> Result<Option<Precompiled>> {
        use std::io::Read;
        let path = path.as_ref();
        let mut start = Vec::with_capacity(MAGIC.len());
        std::fs::File::open(path)
            .and_then(|f| f.take(MAGIC.len() as u64).read_to_end(&mut start))
            .with_context(|| format!("failed to read {}", path.display()))?;
        Ok(Engine::detect_precompiled(&start))
    }

    /// Validates and compiles `bytes` (binary or text) and returns what
    /// [`Module::deserialize`] loads.
    pub fn precompile_module(&self, bytes: &[u8]) -> Result<Vec<u8>> {
        Module::new(self, bytes)?.serialize()
    }
}

/// The encoded header of the modules `engine` compiles: equal for engines whose serialized
/// modules are interchangeable (`Engine::precompile_compatibility_hash` hashes it).
pub(crate) fn header_bytes(engine: &Engine) -> Result<Vec<u8>> {
    let mut w = Writer::default();
    Header::for_engine(engine)?.write(&mut w);
    Ok(w.out)
}

/// Reads and checks the framing of a serialized module, and its header against `engine`.
fn read_parts<'a>(engine: &Engine, bytes: &'a [u8]) -> Result<Parts<'a>> {
    let mut r = open(bytes)?;
    let header = r.bytes()?;
    let mut header_reader = Reader::new(header);
    let stored = Header::read(&mut header_reader)?;
    expect_end(&header_reader)?;
    stored.check_compatible(&Header::for_engine(engine)?, engine)?;

    let wasm = r.bytes()?;
    let num_defined = r.u32()? as usize;
    let functions = (0..r.count(5)?)
        .map(|_| {
            let align_log2 = r.u8()?;
            if align_log2 > MAX_ALIGN_LOG2 {
                bail!("function alignment 2^{align_log2}");
            }
            Ok((align_log2, r.u32()?))
        })
        .collect::<Result<Vec<_>>>()?;
    if num_defined > functions.len() {
        bail!(
            "{num_defined} defined functions among {} functions of code",
            functions.len()
        );
    }
    let mut layout = Layout::new(functions).ok_or_else(truncated)?;
    // Where a byte string just read lies in `bytes`.
    let range = |r: &Reader<'_>, b: &[u8]| {
        let end = bytes.len() - r.remaining();
        end - b.len()..end
    };
    let traps_bytes = r.bytes()?;
    let traps = range(&r, traps_bytes);
    let addr_bytes = r.bytes()?;
    let addr_map = range(&r, addr_bytes);
    if traps.len() % TRAP_RECORD != 0 || addr_map.len() % ADDR_RECORD != 0 {
        bail!("the serialized module's code tables are corrupt");
    }
    layout.relocs = (0..r.count(RELOC_RECORD)?)
        .map(|_| {
            let offset = r.u32()?;
            let (kind, a, b) = (r.u8()?, r.u32()?, r.u32()?);
            let target = match kind {
                0 => RelocTarget::Function(a),
                1 => RelocTarget::FunctionOffset(a, b),
                2 => RelocTarget::LibCall(
                    u8::try_from(a)
                        .ok()
                        .and_then(LibCall::from_u8)
                        .ok_or_else(|| anyhow::anyhow!("unknown library routine {a}"))?,
                ),
                _ => return Err(truncated()),
            };
            let reloc = Relocation {
                offset,
                kind: RelocKind::Abs8,
                target,
                addend: r.u64()? as i64,
            };
            layout.check_reloc(&reloc)?;
            Ok(reloc)
        })
        .collect::<Result<Vec<_>>>()?;
    let pad = r.bytes()?;
    if pad.len() >= TEXT_ALIGN {
        return Err(truncated());
    }
    let text_bytes = r.bytes()?;
    let text = range(&r, text_bytes);
    expect_end(&r)?;
    if text.len() != layout.text_len() {
        bail!(
            "{} bytes of code for functions of {} bytes",
            text.len(),
            layout.text_len()
        );
    }
    Ok(Parts {
        wasm,
        num_defined,
        layout,
        traps,
        addr_map,
        text,
    })
}

/// A module of the binary `wasm` whose code (laid out as `layout`) `place` places: its
/// first `num_defined` functions are the defined ones, its last two per module type the
/// types' trampolines.
fn load(
    engine: &Engine,
    wasm: &[u8],
    num_defined: usize,
    place: impl FnOnce(Layout) -> Result<CodeObject>,
    layout: Layout,
) -> Result<Module> {
    let (info, bodies) = crate::module::parse(engine, wasm)?;
    let num_types = info.types.len();
    let functions = layout.functions.len();
    if bodies.len() != num_defined || num_defined + 2 * num_types > functions {
        bail!("the serialized module's code does not match its binary");
    }
    let first_trampoline = functions - 2 * num_types;
    let body_starts = bodies.iter().map(|b| b.body.start as u32).collect();
    let object = place(layout)?;
    let info = Arc::new(info);
    let code = place_module_code(&info, object, num_defined, body_starts);
    let types = info
        .types
        .values()
        .enumerate()
        .map(|(i, ty)| {
            engine
                .inner
                .types
                .register_precompiled(ty, &code, first_trampoline + 2 * i)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Module::from_parts(engine, info, code, types))
}

/// A reader past the magic and format version of a serialized module.
fn open(bytes: &[u8]) -> Result<Reader<'_>> {
    if !bytes.starts_with(MAGIC) {
        if bytes.starts_with(b"\0asm") {
            bail!("not a serialized module but a wasm binary (compile it with Module::new)");
        }
        bail!("not a serialized wasmjit module");
    }
    let mut r = Reader::new(&bytes[MAGIC.len()..]);
    let version = r.u32()?;
    if version != FORMAT_VERSION {
        bail!("serialized module of format version {version}, this wasmjit reads {FORMAT_VERSION}");
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejections() {
        let engine = Engine::default();
        let module = Module::new(
            &engine,
            r#"(module (func (export "f") (result i32) i32.const 7))"#,
        )
        .unwrap();
        let bytes = module.serialize().unwrap();
        assert_eq!(
            engine.precompile_module(&module.inner.info.wasm).unwrap(),
            bytes
        );
        // SAFETY: the bytes come from `serialize`.
        let back = unsafe { Module::deserialize(&engine, &bytes) }.unwrap();
        assert_eq!(back.exports().count(), 1);
        let mut store = crate::Store::new(&engine, ());
        let instance = crate::Instance::new(&mut store, &back, &[]).unwrap();
        let f = instance.get_typed_func::<(), i32>(&mut store, "f").unwrap();
        assert_eq!(f.call(&mut store, ()).unwrap(), 7);

        let err = |b: &[u8]| {
            // SAFETY: deserialize trusts nothing in its input.
            unsafe { Module::deserialize(&engine, b) }
                .unwrap_err()
                .to_string()
        };
        assert!(err(&module.inner.info.wasm).contains("wasm binary"));
        assert!(err(b"junk").contains("not a serialized"));
        let mut other_version = bytes.clone();
        other_version[8] = 99;
        assert!(err(&other_version).contains("version 99"));
        let truncated = &bytes[..bytes.len() - 3];
        assert!(err(truncated).contains("serialized module"));
    }
}
