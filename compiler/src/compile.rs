//! Compiling a parsed module: translate and compile every function (in parallel), then link
//! them into executable memory.

use crate::code::FunctionCode;
use crate::isa::build_isa;
use crate::jit::{self, compile_context, JitMemory};
use crate::module_info::ModuleInfo;
use crate::parse::{parse, FunctionBodyData};
use crate::stubs::{self, SlowPath};
use crate::translate::{wasm_signature, FuncTranslator, ModuleEnv};
use crate::CompileConfig;
use anyhow::{bail, Result};
use cranelift_codegen::ir::{Function, UserFuncName};
use cranelift_codegen::isa::TargetIsa;
use cranelift_codegen::Context;
use cranelift_frontend::FunctionBuilderContext;
use rayon::prelude::*;

pub use crate::jit::CompiledFunction;

/// The finalized machine code of a module's defined functions.
///
/// Owns the executable memory: the pointers in [`CompiledCode::functions`] are valid until it
/// is dropped.
pub struct CompiledCode {
    /// One entry per defined function, in order (function index minus imported functions).
    pub functions: Vec<CompiledFunction>,
    /// The code before placement, of the defined functions and then the slow-path stubs:
    /// what a serialized module stores.
    pub unlinked: Vec<FunctionCode>,
    // Declared last: dropped after the function table that points into it.
    _memory: JitMemory,
}

// SAFETY: the code is immutable once finalized and the raw pointers only point into memory
// this value owns (and frees only on drop).
unsafe impl Send for CompiledCode {}
// SAFETY: as above; no method mutates anything.
unsafe impl Sync for CompiledCode {}

impl CompiledCode {
    /// The address range `[start, end)` covering all functions' code (the code is laid out
    /// contiguously), or `None` if the module defines no function.
    pub fn code_range(&self) -> Option<(usize, usize)> {
        let start = self.functions.iter().map(|f| f.ptr as usize).min()?;
        let end = self
            .functions
            .iter()
            .map(|f| f.ptr as usize + f.len)
            .max()?;
        Some((start, end))
    }

    /// The defined function whose code contains `pc`, with its defined index.
    pub fn function_at(&self, pc: usize) -> Option<(u32, &CompiledFunction)> {
        let i = self
            .functions
            .partition_point(|f| (f.ptr as usize) <= pc)
            .checked_sub(1)?;
        let f = &self.functions[i];
        (pc < f.ptr as usize + f.len).then_some((i as u32, f))
    }
}

/// Compiles the module's function bodies for the host (validating them on the way) and links
/// them.
pub fn compile(
    info: &ModuleInfo,
    bodies: Vec<FunctionBodyData>,
    config: &CompileConfig,
) -> Result<CompiledCode> {
    let isa = build_isa(config, config.isa.as_deref())?;
    let num_defined = bodies.len();
    let compiled = compile_for_host(info, bodies, config, &*isa)?;
    link_module(isa, compiled, num_defined)
}

/// Compiles the module's function bodies for the host (validating them on the way) without
/// placing them: the code of the defined functions, in order, then the slow-path stubs
/// (fuel, epochs) when configured. Relocations to function `i` name entry `i`.
pub fn compile_functions(
    info: &ModuleInfo,
    bodies: Vec<FunctionBodyData>,
    config: &CompileConfig,
) -> Result<Vec<FunctionCode>> {
    let isa = build_isa(config, config.isa.as_deref())?;
    compile_for_host(info, bodies, config, &*isa)
}

fn compile_for_host(
    info: &ModuleInfo,
    bodies: Vec<FunctionBodyData>,
    config: &CompileConfig,
    isa: &dyn TargetIsa,
) -> Result<Vec<FunctionCode>> {
    if isa.triple().architecture.to_string() != std::env::consts::ARCH {
        bail!(
            "cannot link code for `{}` on this host; use `compile_for_isa`",
            isa.triple()
        );
    }
    compile_bodies(info, bodies, config, isa)
        .map_err(|err| crate::parse::explain_disabled_feature(err, &info.wasm, config))
}

fn link_module(
    isa: cranelift_codegen::isa::OwnedTargetIsa,
    unlinked: Vec<FunctionCode>,
    num_defined: usize,
) -> Result<CompiledCode> {
    let (memory, mut functions) = jit::link(isa, &unlinked)?;
    // What follows the defined functions are the slow-path stubs, only ever called directly.
    functions.truncate(num_defined);
    // Functions are linked in order, so code addresses increase with the index.
    debug_assert!(functions.windows(2).all(|w| w[0].ptr < w[1].ptr));
    Ok(CompiledCode {
        functions,
        unlinked,
        _memory: memory,
    })
}

/// Parses, validates and compiles every function of `bytes` for the target `triple` (e.g.
/// `"aarch64-unknown-linux-gnu"`) without linking; returns the total size of the code.
/// Proves the translation makes no assumption about the host.
pub fn compile_for_isa(bytes: &[u8], triple: &str) -> Result<usize> {
    compile_for_isa_with(bytes, triple, &CompileConfig::default())
}

/// Like [`compile_for_isa`], with the rest of the configuration from `config` (its `isa` is
/// replaced by `triple`).
pub fn compile_for_isa_with(bytes: &[u8], triple: &str, config: &CompileConfig) -> Result<usize> {
    let config = CompileConfig {
        isa: Some(triple.to_string()),
        ..config.clone()
    };
    let (info, bodies) = parse(bytes, &config)?;
    let isa = build_isa(&config, Some(triple))?;
    let compiled = compile_bodies(&info, bodies, &config, &*isa)?;
    Ok(compiled.iter().map(|f| f.bytes.len()).sum())
}

/// Translates and compiles every body, in parallel when configured; results are in body
/// order, followed by the slow-path stubs when fuel or epochs are configured.
fn compile_bodies(
    info: &ModuleInfo,
    bodies: Vec<FunctionBodyData>,
    config: &CompileConfig,
    isa: &dyn TargetIsa,
) -> Result<Vec<FunctionCode>> {
    let env = ModuleEnv::new(info, config, isa);
    let compile_one = |translator: &mut FuncTranslator, body: FunctionBodyData| {
        compile_function(&env, isa, translator, body)
    };
    let num_defined = bodies.len() as u32;
    let mut compiled: Vec<FunctionCode> = if config.parallel {
        bodies
            .into_par_iter()
            .map_init(FuncTranslator::new, compile_one)
            .collect::<Result<_>>()?
    } else {
        let mut translator = FuncTranslator::new();
        bodies
            .into_iter()
            .map(|body| compile_one(&mut translator, body))
            .collect::<Result<_>>()?
    };
    if stubs::needed(config) {
        let mut builder_ctx = FunctionBuilderContext::new();
        for path in SlowPath::ALL {
            let index = num_defined + path.index();
            let func = stubs::build_stub(path, index, isa, &mut builder_ctx);
            let mut ctx = Context::for_function(func);
            compiled.push(compile_context(&mut ctx, isa, index, || {
                format!("the {path:?} stub")
            })?);
        }
    }
    Ok(compiled)
}

fn compile_function(
    env: &ModuleEnv<'_>,
    isa: &dyn TargetIsa,
    translator: &mut FuncTranslator,
    body: FunctionBodyData,
) -> Result<FunctionCode> {
    let info = env.info;
    let index = body.index;
    let defined = info
        .defined_func_index(index)
        .expect("bodies are of defined functions")
        .as_u32();
    let describe = || match info.func_names.get(&index) {
        Some(name) => format!("function {index} (`{name}`)"),
        None => format!("function {index}"),
    };
    let sig = wasm_signature(info.func_type(index), env.config.consume_fuel);
    let mut func = Function::with_name_signature(UserFuncName::user(0, defined), sig);
    translator
        .translate(env, body, &mut func)
        .map_err(|e| e.context(format!("failed to translate {}", describe())))?;
    let mut ctx = Context::for_function(func);
    compile_context(&mut ctx, isa, defined, describe)
}

/// The Cranelift IR of each defined function of `bytes`, as translated for the host (before
/// optimisation), for tests that check what the translation emits.
#[cfg(test)]
pub(crate) fn translated_ir(bytes: &[u8], config: &CompileConfig) -> Result<Vec<String>> {
    let (info, bodies) = parse(bytes, config)?;
    let isa = build_isa(config, None)?;
    let env = ModuleEnv::new(&info, config, &*isa);
    let mut translator = FuncTranslator::new();
    bodies
        .into_iter()
        .map(|body| {
            let index = body.index;
            let sig = wasm_signature(info.func_type(index), config.consume_fuel);
            let mut func =
                Function::with_name_signature(UserFuncName::user(0, index.as_u32()), sig);
            translator.translate(&env, body, &mut func)?;
            Ok(func.display().to_string())
        })
        .collect()
}

#[cfg(test)]
mod spectre_tests {
    use super::translated_ir;
    use crate::CompileConfig;

    const MODULE: &str = r#"(module
        (memory 1)
        (table 2 funcref)
        (type $t (func (result i32)))
        (func (export "load") (param i32) (result i32) (i32.load offset=8 (local.get 0)))
        (func (export "store") (param i32) (i64.store (local.get 0) (i64.const 1)))
        (func (export "get") (param i32) (result funcref) (table.get (local.get 0)))
        (func (export "indirect") (param i32) (result i32)
            (call_indirect (type $t) (local.get 0))))"#;

    /// Explicit bounds checks, as with a small reservation.
    fn dynamic_memory_config() -> CompileConfig {
        CompileConfig {
            memory_reservation: 1 << 20,
            memory_guard_size: 0,
            ..CompileConfig::default()
        }
    }

    fn guards_per_function(config: &CompileConfig) -> Vec<usize> {
        let wasm = wat::parse_str(MODULE).unwrap();
        translated_ir(&wasm, config)
            .unwrap()
            .iter()
            .map(|ir| ir.matches("select_spectre_guard").count())
            .collect()
    }

    #[test]
    fn bounds_checked_memory_and_table_accesses_are_spectre_guarded() {
        assert_eq!(guards_per_function(&dynamic_memory_config()), [1, 1, 1, 1]);
    }

    #[test]
    fn guard_pages_need_no_memory_guard() {
        // Static memory: no bounds check, nothing to guard; tables are still checked.
        assert_eq!(guards_per_function(&CompileConfig::default()), [0, 0, 1, 1]);
    }

    #[test]
    fn cranelift_settings_turn_the_guards_off() {
        let mut config = dynamic_memory_config();
        config.cranelift_flags = vec![
            (
                "enable_heap_access_spectre_mitigation".into(),
                "false".into(),
            ),
            (
                "enable_table_access_spectre_mitigation".into(),
                "false".into(),
            ),
        ];
        assert_eq!(guards_per_function(&config), [0, 0, 0, 0]);
    }
}
