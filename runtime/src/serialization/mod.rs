//! Serialized modules: `Module::serialize` / `Module::deserialize` and
//! `Engine::precompile_module`, shaped like Wasmtime's.
//!
//! A serialized module holds machine code: each function's code as compiled, before it was
//! placed (with its relocations, trap sites and address map), the trampolines of each of its
//! types, and the module's binary, which loading parses again for the metadata (without
//! validating or compiling the bodies). Loading places the code and applies the relocations;
//! it never runs Cranelift. The layout (see ARCHITECTURE.md):
//!
//! ```text
//! magic "\0wasmjit" | format version: u32 | header (length-prefixed, `header::Header`)
//! | wasm binary | defined functions: u32 | functions: FunctionCode*
//! | per module type: its two trampolines: FunctionCode*
//! ```
//!
//! Integers are little-endian, byte strings and lists are prefixed by a `u32` length
//! (`bytes`). The code bytes are trusted, as in Wasmtime (`deserialize` is `unsafe`); the
//! framing is not: lengths, counts, relocation offsets and targets are checked, so a
//! truncated or corrupt file is an error.

mod bytes;
mod header;

use crate::{Engine, Module};
use anyhow::{bail, Context, Result};
use bytes::{expect_end, Reader, Writer};
use header::Header;
use std::fs::File;
use std::path::Path;
use std::ptr::NonNull;
use wasmjit_compiler as c;

/// Starts every serialized module (and can't start a wasm binary, which starts with `\0asm`).
const MAGIC: &[u8; 8] = b"\0wasmjit";
/// The layout after the magic; bumped whenever it changes. 1 held the binary alone.
const FORMAT_VERSION: u32 = 2;
/// The least a serialized function takes (its five length and alignment fields).
const MIN_FUNCTION_SIZE: usize = 16;

impl Module {
    /// The module's compiled code in the form [`Module::deserialize`] loads again (into an
    /// engine of the same settings).
    pub fn serialize(&self) -> Result<Vec<u8>> {
        let m = &self.inner;
        let mut w = Writer::default();
        w.out.extend_from_slice(MAGIC);
        w.u32(FORMAT_VERSION);
        w.bytes(&header_bytes(&m.engine)?);
        w.bytes(&m.info.wasm);
        w.len(m.code.functions.len());
        w.len(m.code.unlinked.len());
        for f in &m.code.unlinked {
            w.function(f);
        }
        w.len(m.types.len());
        for t in &m.types {
            w.len(t.trampolines.unlinked.len());
            for f in &t.trampolines.unlinked {
                w.function(f);
            }
        }
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
        let mut r = open(bytes.as_ref())?;
        let mut header = Reader::new(r.bytes()?);
        let stored = Header::read(&mut header)?;
        expect_end(&header)?;
        stored.check_compatible(&Header::for_engine(engine)?, engine)?;

        let wasm = r.bytes()?;
        let num_defined = r.u32()? as usize;
        let functions = (0..r.count(MIN_FUNCTION_SIZE)?)
            .map(|_| r.function())
            .collect::<Result<Vec<_>>>()?;
        let trampolines = (0..r.count(4)?)
            .map(|_| {
                (0..r.count(MIN_FUNCTION_SIZE)?)
                    .map(|_| r.function())
                    .collect::<Result<Vec<_>>>()
            })
            .collect::<Result<Vec<_>>>()?;
        expect_end(&r)?;

        let (info, bodies) = crate::module::parse(engine, wasm)?;
        if bodies.len() != num_defined || info.types.len() != trampolines.len() {
            bail!("the serialized module's code does not match its binary");
        }
        let types = info
            .types
            .values()
            .zip(trampolines)
            .map(|(ty, code)| engine.inner.types.register_precompiled(ty, code))
            .collect::<Result<Vec<_>>>()?;
        let body_starts = bodies.iter().map(|b| b.body.start as u32).collect();
        let code = c::link_code(functions, num_defined, &engine.inner.compile_config)?;
        Ok(Module::from_parts(engine, info, code, types, body_starts))
    }

    /// [`Module::deserialize`] of a file's contents.
    ///
    /// # Safety
    /// As [`Module::deserialize`].
    pub unsafe fn deserialize_file(engine: &Engine, path: impl AsRef<Path>) -> Result<Module> {
        let path = path.as_ref();
        let bytes =
            std::fs::read(path).with_context(|| format!("failed to read {}", path.display()))?;
        // SAFETY: forwarded from the caller.
        unsafe { Module::deserialize(engine, bytes) }
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
