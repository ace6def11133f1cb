//! Serialized modules: `Module::serialize` / `Module::deserialize` and
//! `Engine::precompile_module`, shaped like Wasmtime's.
//!
//! The serialized form holds the module's validated binary behind a header, not machine code:
//! deserializing compiles it again (for this engine, so a module serialized by an engine with
//! other settings still loads when those settings accept it). What embedders rely on holds: the
//! bytes round-trip through files and caches, and `deserialize` rejects anything that is not
//! such an artifact with a clear error, never running or trusting it.

use crate::{Engine, Module};
use anyhow::{bail, Context, Result};
use std::path::Path;

/// Starts every serialized module (and can't start a wasm binary, which starts with `\0asm`).
const MAGIC: &[u8; 8] = b"\0wasmjit";
/// The layout after the magic; bumped whenever it changes.
const FORMAT_VERSION: u32 = 1;
const HEADER_LEN: usize = MAGIC.len() + 4;

impl Module {
    /// The module in a form [`Module::deserialize`] loads again.
    pub fn serialize(&self) -> Result<Vec<u8>> {
        Ok(wrap(&self.inner.info.wasm))
    }

    /// Loads a module that [`Module::serialize`] or [`Engine::precompile_module`] produced.
    /// Errors for any other bytes (a plain wasm binary included: use [`Module::new`]).
    ///
    /// # Safety
    /// `unsafe` as in Wasmtime, where the bytes are trusted machine code. wasmjit validates and
    /// compiles the module again, so no property of the bytes is relied upon.
    pub unsafe fn deserialize(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Module> {
        let wasm = unwrap(bytes.as_ref())?;
        Module::from_binary(engine, wasm).context("failed to load a serialized module")
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
            .with_context(|| format!("failed to load {}", path.display()))
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
        unwrap(bytes).ok().map(|_| Precompiled::Module)
    }

    /// [`Engine::detect_precompiled`] of a file's contents.
    pub fn detect_precompiled_file(path: impl AsRef<Path>) -> Result<Option<Precompiled>> {
        let path = path.as_ref();
        let bytes =
            std::fs::read(path).with_context(|| format!("failed to read {}", path.display()))?;
        Ok(Engine::detect_precompiled(&bytes))
    }

    /// Validates and compiles `bytes` (binary or text) and returns what
    /// [`Module::deserialize`] loads.
    pub fn precompile_module(&self, bytes: &[u8]) -> Result<Vec<u8>> {
        Module::new(self, bytes)?.serialize()
    }
}

fn wrap(wasm: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + wasm.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(wasm);
    out
}

fn unwrap(bytes: &[u8]) -> Result<&[u8]> {
    if bytes.len() < HEADER_LEN || &bytes[..MAGIC.len()] != MAGIC {
        if bytes.starts_with(b"\0asm") {
            bail!("not a serialized module but a wasm binary (compile it with Module::new)");
        }
        bail!("not a serialized wasmjit module");
    }
    let version = u32::from_le_bytes(bytes[MAGIC.len()..HEADER_LEN].try_into().unwrap());
    if version != FORMAT_VERSION {
        bail!("serialized module of format version {version}, this wasmjit reads {FORMAT_VERSION}");
    }
    Ok(&bytes[HEADER_LEN..])
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
