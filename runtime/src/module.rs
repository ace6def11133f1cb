//! Compiled modules: validated, compiled once, instantiable in many stores on many threads.

use crate::engine::Engine;
use crate::types::{
    ExportType, ExternType, FuncType, GlobalType, ImportType, MemoryType, TableType,
};
use crate::vm::code_object::{CodeLookup, CodeObject, ModuleFrames, PlacedCode};
use crate::vm::memory_image::{self, MemoryImages};
use crate::vm::type_registry::RegisteredType;
use anyhow::{Context, Result};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use wasmjit_compiler as c;
use wasmjit_compiler::vmoffsets::VMOffsets;

static NEXT_MODULE_ID: AtomicU64 = AtomicU64::new(1);

/// Where an export of a module is: found once by name with [`Module::get_export_index`],
/// then looked up in any instance of that module without comparing names
/// ([`Instance::get_module_export`](crate::Instance::get_module_export)).
#[derive(Debug, Clone, Copy)]
pub struct ModuleExport {
    /// The `id` of the module it belongs to.
    pub(crate) module: u64,
    pub(crate) entity: c::EntityIndex,
}

/// What instantiating a module creates (its own memories and tables, not its imports),
/// for sizing limits ahead of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourcesRequired {
    /// Memories the module defines.
    pub num_memories: u32,
    /// The largest minimum size, in pages, of those memories (`None` without any).
    pub max_initial_memory_size: Option<u64>,
    /// Tables the module defines.
    pub num_tables: u32,
    /// The largest minimum size, in elements, of those tables (`None` without any).
    pub max_initial_table_size: Option<u64>,
}

/// A compiled WebAssembly module. Cheap to clone; `Send + Sync`.
#[derive(Clone)]
pub struct Module {
    pub(crate) inner: Arc<ModuleInner>,
}

pub(crate) struct ModuleInner {
    pub(crate) engine: Engine,
    pub(crate) info: Arc<c::ModuleInfo>,
    /// The module's code: its defined functions (first), slow-path stubs and its types'
    /// trampolines, in one placed unit.
    pub(crate) code: Arc<PlacedCode>,
    /// Registered type of each module type index.
    pub(crate) types: Vec<Arc<RegisteredType>>,
    /// The engine-wide id of each module type index, where `vmctx::TYPE_IDS` points.
    pub(crate) type_ids: Box<[u32]>,
    pub(crate) offsets: VMOffsets,
    /// The copy-on-write image of each defined memory that has one (`Config::memory_init_cow`),
    /// made on first use as in Wasmtime, so that loading a module writes no image.
    memory_images: OnceLock<MemoryImages>,
    /// Unique for the life of the process (`ModuleExport`s name their module by it).
    pub(crate) id: u64,
}

impl ModuleInner {
    /// The copy-on-write image of each defined memory that has one; built on first call.
    pub(crate) fn memory_images(&self) -> &MemoryImages {
        self.memory_images.get_or_init(|| {
            let config = &self.engine.inner.config;
            // A memory creator makes every memory, and none takes an image.
            if config.memory_init_cow && config.memory_creator.is_none() {
                memory_image::build(&self.info)
            } else {
                Vec::new()
            }
        })
    }
}

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Module")
            .field("name", &self.inner.info.name)
            .finish_non_exhaustive()
    }
}

impl Module {
    /// Validates and compiles a module from its binary or text form.
    pub fn new(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Module> {
        let bytes = wat::parse_bytes(bytes.as_ref())?;
        Self::from_binary(engine, &bytes)
    }

    /// Validates and compiles a module from its binary form.
    pub fn from_binary(engine: &Engine, binary: &[u8]) -> Result<Module> {
        #[cfg(feature = "cranelift")]
        {
            let config = &engine.inner.compile_config;
            let (info, bodies) = parse(engine, binary)?;
            let types = info
                .types
                .values()
                .map(|t| engine.inner.types.register(t))
                .collect::<Result<Vec<_>>>()?;
            let body_starts = bodies.iter().map(|b| b.body.start as u32).collect();
            let num_defined = bodies.len();
            let functions = c::compile_functions(&info, bodies, config)?;
            // The types' trampolines join the module's code, so that its serialized form
            // brings them (a runtime without a compiler can't make them).
            let trampolines = types
                .iter()
                .map(|t| t.trampoline_code())
                .collect::<Result<Vec<_>>>()?;
            let all: Vec<_> = functions
                .iter()
                .chain(trampolines.iter().flatten())
                .collect();
            let object = CodeObject::from_image(crate::vm::code_object::lay_out(&all)?)?;
            let info = Arc::new(info);
            let code = place_module_code(&info, object, num_defined, body_starts);
            Ok(Module::from_parts(engine, info, code, types))
        }
        #[cfg(not(feature = "cranelift"))]
        {
            let _ = (engine, binary);
            anyhow::bail!("Engine was not configured with a compiler")
        }
    }

    /// A module of code already placed (`code`, from [`place_module_code`]): `types` are its
    /// registered types.
    pub(crate) fn from_parts(
        engine: &Engine,
        info: Arc<c::ModuleInfo>,
        code: Arc<PlacedCode>,
        types: Vec<Arc<RegisteredType>>,
    ) -> Module {
        if engine.inner.config.profiler == crate::ProfilingStrategy::PerfMap {
            crate::profiling::perf_map_module(&info, code.object());
        }
        Module {
            inner: Arc::new(ModuleInner {
                engine: engine.clone(),
                offsets: VMOffsets::new(&info),
                id: NEXT_MODULE_ID.fetch_add(1, Ordering::Relaxed),
                info,
                code,
                type_ids: types.iter().map(|t| t.id).collect(),
                types,
                memory_images: OnceLock::new(),
            }),
        }
    }

    /// The entry point of each defined function.
    pub(crate) fn defined_functions(&self) -> impl Iterator<Item = *const u8> + '_ {
        let object = self.inner.code.object();
        let defined = self.inner.info.functions.len() - self.inner.info.num_imported_funcs as usize;
        (0..defined).map(move |i| object.function(i))
    }

    /// Reads and compiles a module from a file (binary or text).
    pub fn from_file(engine: &Engine, path: impl AsRef<Path>) -> Result<Module> {
        let path = path.as_ref();
        let bytes =
            std::fs::read(path).with_context(|| format!("failed to read {}", path.display()))?;
        Module::new(engine, bytes).with_context(|| format!("failed to compile {}", path.display()))
    }

    /// Validates a binary module without compiling it.
    pub fn validate(engine: &Engine, binary: &[u8]) -> Result<()> {
        c::validate(binary, &engine.inner.compile_config)
    }

    /// Whether `a` and `b` are the same compiled module (clones of one `Module`).
    pub fn same(a: &Module, b: &Module) -> bool {
        Arc::ptr_eq(&a.inner, &b.inner)
    }

    /// The engine this module was compiled for.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The module's name from the name section.
    pub fn name(&self) -> Option<&str> {
        self.inner.info.name.as_deref()
    }

    /// The imports, in order.
    pub fn imports(&self) -> impl ExactSizeIterator<Item = ImportType<'_>> + '_ {
        self.inner
            .info
            .imports
            .iter()
            .map(|i| ImportType::new(&i.module, &i.name, self.entity_type(&i.ty)))
            .collect::<Vec<_>>()
            .into_iter()
    }

    /// The exports, in order.
    pub fn exports(&self) -> impl ExactSizeIterator<Item = ExportType<'_>> + '_ {
        self.inner
            .info
            .exports
            .iter()
            .map(|e| ExportType::new(&e.name, self.index_type(e.index)))
            .collect::<Vec<_>>()
            .into_iter()
    }

    /// The type of export `name`.
    pub fn get_export(&self, name: &str) -> Option<ExternType> {
        let e = self.inner.info.exports.iter().find(|e| e.name == name)?;
        Some(self.index_type(e.index))
    }

    /// Where export `name` is, for fast lookups in this module's instances; `None` when
    /// there is no such export.
    pub fn get_export_index(&self, name: &str) -> Option<ModuleExport> {
        let e = self.inner.info.exports.iter().find(|e| e.name == name)?;
        Some(ModuleExport {
            module: self.inner.id,
            entity: e.index,
        })
    }

    /// Prepares the images this module's memories are initialized from
    /// (`Config::memory_init_cow`) now rather than at the first instantiation.
    pub fn initialize_copy_on_write_image(&self) -> Result<()> {
        self.inner.memory_images();
        Ok(())
    }

    /// The memories and tables an instance of this module creates.
    pub fn resources_required(&self) -> ResourcesRequired {
        let info = &self.inner.info;
        ResourcesRequired {
            num_memories: info.defined_memories().count() as u32,
            max_initial_memory_size: info.defined_memories().map(|(_, m)| m.minimum).max(),
            num_tables: info.defined_tables().count() as u32,
            max_initial_table_size: info.defined_tables().map(|(_, t)| t.minimum).max(),
        }
    }

    pub(crate) fn entity_type(&self, ty: &c::EntityType) -> ExternType {
        let info = &self.inner.info;
        match ty {
            c::EntityType::Function(t) => {
                ExternType::Func(FuncType::from_wasm(info.types[*t].clone()))
            }
            c::EntityType::Table(t) => ExternType::Table(TableType::from_wasm(t)),
            c::EntityType::Memory(t) => ExternType::Memory(MemoryType::from_wasm(t)),
            c::EntityType::Global(t) => ExternType::Global(GlobalType::from_wasm(t)),
            c::EntityType::Tag(t) => ExternType::Tag(crate::TagType::new(FuncType::from_wasm(
                info.types[*t].clone(),
            ))),
        }
    }

    pub(crate) fn index_type(&self, index: c::EntityIndex) -> ExternType {
        let info = &self.inner.info;
        match index {
            c::EntityIndex::Function(i) => {
                ExternType::Func(FuncType::from_wasm(info.func_type(i).clone()))
            }
            c::EntityIndex::Table(i) => ExternType::Table(TableType::from_wasm(&info.tables[i])),
            c::EntityIndex::Memory(i) => {
                ExternType::Memory(MemoryType::from_wasm(&info.memories[i]))
            }
            c::EntityIndex::Global(i) => {
                ExternType::Global(GlobalType::from_wasm(&info.globals[i]))
            }
            c::EntityIndex::Tag(i) => ExternType::Tag(crate::TagType::new(FuncType::from_wasm(
                info.types[info.tags[i]].clone(),
            ))),
        }
    }
}

/// Parses and validates `binary` (all but the function bodies, which compiling validates) for
/// `engine`, with its types canonicalized.
pub(crate) fn parse(
    engine: &Engine,
    binary: &[u8],
) -> Result<(c::ModuleInfo, Vec<c::FunctionBodyData>)> {
    // Wasmtime's words for a module that does not parse or validate.
    let (mut info, bodies) = c::parse(binary, &engine.inner.compile_config)
        .context("failed to parse WebAssembly module")?;
    crate::types::canonical::canonicalize(&mut info);
    Ok((info, bodies))
}

/// Registers a module's placed code for trap and frame lookups; its first `num_defined`
/// functions are the defined functions, whose bodies start at `body_starts` in the binary.
pub(crate) fn place_module_code(
    info: &Arc<c::ModuleInfo>,
    object: CodeObject,
    num_defined: usize,
    body_starts: Vec<u32>,
) -> Arc<PlacedCode> {
    Arc::new(PlacedCode::register(CodeLookup {
        object,
        module: Some(ModuleFrames {
            info: info.clone(),
            num_defined,
            body_starts,
        }),
    }))
}
