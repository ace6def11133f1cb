//! wasmjit: a WebAssembly runtime that compiles with Cranelift.
//!
//! The embedding API follows Wasmtime's: an [`Engine`] compiles [`Module`]s, a [`Store`] owns
//! instances and their objects, a [`Linker`] resolves imports, and [`Func`]/[`TypedFunc`] call
//! into wasm. Traps come back as `anyhow::Error`s that downcast to [`Trap`].

mod anyref;
mod async_;
mod call_hook;
mod code_builder;
mod config;
mod default_values;
mod engine;
mod epoch;
mod exnref;
mod externals;
mod externref;
mod fuel;
mod func;
mod global;
mod host_memory;
mod instance;
mod limits;
mod linker;
mod matching;
mod memory;
mod module;
mod profiling;
mod serialization;
mod shared_memory;
pub use serialization::Precompiled;
/// How many functions (bodies, stubs, trampolines) Cranelift compiled in this process so
/// far; for tests that check what compiles nothing.
#[doc(hidden)]
pub use wasmjit_compiler::compilations;
mod store;
mod table;
mod tag;
mod trap;
mod types;
mod values;
pub(crate) mod vm;

pub use anyhow::{bail, ensure, format_err, Error, Result};

/// Errors, as Wasmtime's `wasmtime::error` module has them: here `Error` is `anyhow::Error`,
/// so errors convert both ways with no cost.
pub mod error {
    pub use anyhow::{anyhow, bail, ensure, format_err, Context, Error, Result};
}
#[doc(hidden)]
pub use anyref::{AnyRef, EqRef, I31};
pub use async_::AsyncHostCall;
pub use call_hook::CallHook;
pub use code_builder::{CodeBuilder, CodeHint};
pub use config::{
    Cache, Collector, Config, Enabled, Inlining, InstanceAllocationStrategy, ModuleVersionStrategy,
    OptLevel, PoolingAllocationConfig, RegallocAlgorithm, Strategy, WasmBacktraceDetails,
    WasmFeatures,
};
pub use engine::{Engine, EngineWeak};
pub use epoch::UpdateDeadline;
pub use exnref::{ExnRef, ExnRefPre, ExnType, ThrownException};
pub use externals::Extern;
pub use externref::{ExternRef, GcHeapOutOfMemory, ManuallyRooted, RootScope, Rooted};
pub use func::{Caller, Func, IntoFunc, TypedFunc, WasmParams, WasmResults, WasmRet, WasmTy};
pub use global::Global;
pub use host_memory::{LinearMemory, MemoryCreator};
pub use instance::{Export, Instance};
pub use limits::{
    ResourceLimiter, ResourceLimiterAsync, StoreLimits, StoreLimitsBuilder,
    DEFAULT_EXCEPTION_LIMIT, DEFAULT_INSTANCE_LIMIT, DEFAULT_MEMORY_LIMIT, DEFAULT_TABLE_LIMIT,
};
pub use linker::{InstancePre, Linker, UnknownImportError};
pub use memory::{Memory, MemoryAccessError};
pub use module::{Module, ModuleExport, ResourcesRequired};
pub use profiling::ProfilingStrategy;
pub use shared_memory::{SharedMemory, WaitResult};
pub use store::{AsContext, AsContextMut, Store, StoreContext, StoreContextMut};
pub use table::Table;
pub use tag::{Tag, TagType};
pub use trap::{FrameInfo, FrameSymbol, WasmBacktrace};
pub use types::{
    ArrayType, ExportType, ExternType, FieldType, FuncType, GlobalType, HeapType, ImportType,
    MemoryType, MemoryTypeBuilder, Mutability, RefType, StorageType, StructType, TableType,
    ValType,
};
pub use values::{Ref, Val, V128};
pub use vm::vmcontext::ValRaw;
pub use wasmjit_environ::trap::Trap;
/// Custom fiber stacks for async calls (`Config::with_host_stack`), at Wasmtime's paths.
pub use wasmjit_fiber::{StackCreator, StackMemory};
