//! `CodeBuilder`: Wasmtime's step-by-step way to compile, for embedders that configure the
//! input (bytes or a file, binary or text) before compiling it.

use crate::engine::Engine;
use crate::module::Module;
use anyhow::{bail, Context, Result};
use std::borrow::Cow;
use std::path::Path;

/// What the configured bytes are, as far as a glance at their header tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeHint {
    /// A core module.
    Module,
    /// A component (which wasmjit does not run).
    Component,
}

/// Compiles a module from configured input.
pub struct CodeBuilder<'a> {
    engine: &'a Engine,
    wasm: Option<Cow<'a, [u8]>>,
    /// DWARF of the module, accepted and unused: wasmjit emits no debug information.
    dwarf_package: Option<Cow<'a, [u8]>>,
}

impl<'a> CodeBuilder<'a> {
    /// A builder compiling for `engine`, with no input yet.
    pub fn new(engine: &'a Engine) -> Self {
        CodeBuilder {
            engine,
            wasm: None,
            dwarf_package: None,
        }
    }

    /// The input: a binary module. `wasm_path` names where it came from (unused here).
    pub fn wasm_binary(
        &mut self,
        wasm_bytes: impl Into<Cow<'a, [u8]>>,
        _wasm_path: Option<&'a Path>,
    ) -> Result<&mut Self> {
        if self.wasm.is_some() {
            bail!("cannot configure wasm bytes twice");
        }
        self.wasm = Some(wasm_bytes.into());
        Ok(self)
    }

    /// The input: a binary module or its text form.
    pub fn wasm_binary_or_text(
        &mut self,
        wasm_bytes: &'a [u8],
        wasm_path: Option<&'a Path>,
    ) -> Result<&mut Self> {
        let binary = wat::parse_bytes(wasm_bytes).map_err(|mut e| {
            if let Some(path) = wasm_path {
                e.set_path(path);
            }
            e
        })?;
        self.wasm_binary(binary, wasm_path)
    }

    /// The input: the binary module in `file`.
    pub fn wasm_binary_file(&mut self, file: &'a Path) -> Result<&mut Self> {
        let wasm = std::fs::read(file)
            .with_context(|| format!("failed to read input file: {}", file.display()))?;
        self.wasm_binary(wasm, Some(file))
    }

    /// The input: the binary or text module in `file`.
    pub fn wasm_binary_or_text_file(&mut self, file: &'a Path) -> Result<&mut Self> {
        let wasm = wat::parse_file(file)?;
        self.wasm_binary(wasm, Some(file))
    }

    /// The module's DWARF package, accepted and unused (wasmjit emits no debug information).
    pub fn dwarf_package(&mut self, dwp_bytes: &'a [u8]) -> Result<&mut Self> {
        if self.dwarf_package.is_some() {
            bail!("cannot call `dwarf_package` or `dwarf_package_file` twice");
        }
        self.dwarf_package = Some(dwp_bytes.into());
        Ok(self)
    }

    /// [`CodeBuilder::dwarf_package`] from a file.
    pub fn dwarf_package_file(&mut self, file: &Path) -> Result<&mut Self> {
        if self.dwarf_package.is_some() {
            bail!("cannot call `dwarf_package` or `dwarf_package_file` twice");
        }
        let bytes = std::fs::read(file)
            .with_context(|| format!("failed to read dwarf input file: {}", file.display()))?;
        self.dwarf_package = Some(bytes.into());
        Ok(self)
    }

    /// Whether the input looks like a module or a component; `None` without input.
    pub fn hint(&self) -> Option<CodeHint> {
        let wasm = self.wasm.as_ref()?;
        Some(match wasmparser::Parser::is_component(wasm) {
            true => CodeHint::Component,
            false => CodeHint::Module,
        })
    }

    fn wasm(&self) -> Result<&[u8]> {
        match &self.wasm {
            Some(wasm) => Ok(wasm),
            None => bail!("no wasm bytes have been configured"),
        }
    }

    /// Compiles the input into a module.
    pub fn compile_module(&self) -> Result<Module> {
        Module::from_binary(self.engine, self.wasm()?)
    }

    /// Compiles the input into what [`Module::deserialize`] loads.
    pub fn compile_module_serialized(&self) -> Result<Vec<u8>> {
        self.engine.precompile_module(self.wasm()?)
    }
}
