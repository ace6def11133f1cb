//! The one place that knows the layout of every runtime structure compiled code touches.
//!
//! The compiler emits loads and stores at these offsets; the runtime allocates its structures
//! with the same layout (and its tests assert that its `#[repr(C)]` structs agree).
//! All pointers are 8 bytes: wasmjit targets 64-bit hosts only.

use crate::module_info::ModuleInfo;

/// Size of a pointer on every supported host.
pub const PTR: u32 = 8;

/// `VMRuntimeLimits`: one per store, shared by every instance in it.
pub mod limits {
    /// `usize`: the lowest stack address wasm may use; checked in every prologue.
    pub const STACK_LIMIT: u32 = 0;
    /// `i64`: fuel consumed, counting up from `-fuel`; out of fuel when `>= 0`.
    pub const FUEL_CONSUMED: u32 = 8;
    /// `u64`: the epoch at or past which the running wasm must call the epoch slow path.
    /// Compiled code reads the copy in each `VMContext` (`vmctx::EPOCH_DEADLINE`).
    pub const EPOCH_DEADLINE: u32 = 16;
    /// `u64`: status of the last fuel or epoch slow path (1 = continue, 0 = trap pending),
    /// written by the module's `preserve_all` slow-path stubs, which cannot return a value.
    pub const SLOW_PATH_STATUS: u32 = 24;
    /// `u64`: the exception being thrown (an exnref: a 1-based index into the store's
    /// exceptions), 0 when none. Set by `throw`/`throw_ref`; compiled code with exceptions
    /// enabled reads it after every call, and the host entry turns one still set when wasm
    /// returns into an error (see `translate/exceptions.rs`).
    pub const PENDING_EXCEPTION: u32 = 32;
    /// Size of the structure.
    pub const SIZE: u32 = 40;
}

/// `VMFuncRef`: what a funcref value points to, and what an imported function slot points to.
pub mod funcref {
    /// `*const u8`: native code with the wasm calling convention
    /// `(callee_vmctx, caller_vmctx, params...) -> results` (`CallConv::Tail`; with fuel, the
    /// counter is an extra parameter after `caller_vmctx` and the first result).
    pub const WASM_CALL: u32 = 0;
    /// `*const u8`: the host-callable ("array call") entry, used only by the runtime.
    pub const ARRAY_CALL: u32 = 8;
    /// `*mut u8`: the callee's context (a `VMContext`, or a host function's context).
    pub const VMCTX: u32 = 16;
    /// `u32`: the engine-wide id of the function's type, compared by `call_indirect`.
    pub const TYPE_ID: u32 = 24;
    /// Size of the structure.
    pub const SIZE: u32 = 32;
}

/// `VMMemoryDefinition`: owned by the store's memory object, pointed to from every `VMContext`
/// that defines or imports the memory.
pub mod memory {
    /// `*mut u8`: base of the linear memory.
    pub const BASE: u32 = 0;
    /// `usize`: current length in bytes.
    pub const CURRENT_LENGTH: u32 = 8;
    /// Size of the structure.
    pub const SIZE: u32 = 16;
}

/// `VMTableDefinition`: owned by the store's table object.
/// Elements are 8 bytes: a funcref is `*const VMFuncRef` (null = 0), an externref a `u64`
/// handle (null = 0).
pub mod table {
    /// `*mut u64`: the elements.
    pub const BASE: u32 = 0;
    /// `u64`: current number of elements.
    pub const CURRENT_ELEMENTS: u32 = 8;
    /// Size of the structure.
    pub const SIZE: u32 = 16;
}

/// `VMGlobalDefinition`: 16 bytes of storage owned by the store's global object.
/// i32/f32 live in the low 4 bytes, i64/f64/funcref/externref in the low 8, v128 in all 16,
/// little-endian.
pub mod global {
    /// Size of the structure.
    pub const SIZE: u32 = 16;
}

/// A host function's context (`VMFuncRef::vmctx` of a host function).
pub mod host_ctx {
    /// `*const u8`: `extern "C" fn(host_ctx, caller_vmctx, values: *mut ValRaw, len: usize) -> bool`.
    /// Returns false when the call failed; the runtime then holds the error as pending, and the
    /// wasm-to-host trampoline traps with the compiler's `trap_codes::HOST_ERROR`.
    pub const ARRAY_CALL: u32 = 0;
}

/// Size of one `ValRaw` slot in an array-call buffer.
pub const VAL_RAW_SIZE: u32 = 16;

/// Fixed header of every `VMContext`, followed by the per-module arrays of [`VMOffsets`].
pub mod vmctx {
    /// `*mut VMRuntimeLimits` of the owning store.
    pub const RUNTIME_LIMITS: u32 = 0;
    /// `*const usize`: table of builtin function pointers, indexed by [`crate::builtins::Builtin`].
    pub const BUILTINS: u32 = 8;
    /// `*const AtomicU64`: the engine's epoch counter.
    pub const EPOCH_COUNTER: u32 = 16;
    /// Opaque to compiled code: the runtime's store pointer.
    pub const STORE: u32 = 24;
    /// Opaque to compiled code: the runtime's instance pointer.
    pub const INSTANCE: u32 = 32;
    /// `u64`: a copy of the store's epoch deadline (`limits::EPOCH_DEADLINE`), which the
    /// runtime writes into every instance of the store whenever it changes: an epoch check
    /// then reads it with one load from the context instead of two through the limits.
    pub const EPOCH_DEADLINE: u32 = 40;
    /// `*mut VMContext`: the context itself. The slow path of an epoch check passes its stub
    /// this copy, loaded in the cold block, rather than the function's `vmctx` value: a
    /// fixed-register use of `vmctx` at the stub call pulls it into the first argument
    /// register at the check, and a loop that calls (recursive `fib`) then moves it between
    /// that register and a callee-saved one on every iteration. (Fuel checks keep passing
    /// `vmctx`: there the copy measured slower, the fuel counter changes the allocation.)
    pub const SELF: u32 = 48;
    /// `*const u32`: the engine-wide id of each of the module's types, by type index (what
    /// `call_indirect` compares a callee's id with). Loaded rather than an immediate in code,
    /// since ids are only valid in the process, and engine, that assigned them.
    pub const TYPE_IDS: u32 = 56;
    /// Size of the fixed header.
    pub const HEADER_SIZE: u32 = 64;
}

/// Offsets of the per-module arrays in a `VMContext`.
///
/// Layout after the header, each array 8-byte aligned:
/// - `imported_funcs[num_imported_funcs]`: `*const VMFuncRef`
/// - `memories[num_memories]`: `*mut VMMemoryDefinition` (imported and defined, in index order)
/// - `tables[num_tables]`: `*mut VMTableDefinition`
/// - `globals[num_globals]`: `*mut VMGlobalDefinition`
/// - `defined_funcrefs[num_defined_funcs]`: `VMFuncRef` inline, one per defined function,
///   so `ref.func` of a defined function is `vmctx + defined_funcref(i)`.
/// - `tags[num_tags]`: `u64`, the store-wide identity of each tag (imported and defined, in
///   index order); an exception matches a `catch` clause when their identities are equal.
///   Last, so that modules without tags keep the layout they had before tags existed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VMOffsets {
    /// Number of imported functions.
    pub num_imported_funcs: u32,
    /// Number of functions defined by the module.
    pub num_defined_funcs: u32,
    /// Number of memories (imported + defined).
    pub num_memories: u32,
    /// Number of tables (imported + defined).
    pub num_tables: u32,
    /// Number of globals (imported + defined).
    pub num_globals: u32,
    /// Number of tags (imported + defined).
    pub num_tags: u32,
}

impl VMOffsets {
    /// Layout for a module.
    pub fn new(info: &ModuleInfo) -> Self {
        Self {
            num_imported_funcs: info.num_imported_funcs,
            num_defined_funcs: info.functions.len() as u32 - info.num_imported_funcs,
            num_memories: info.memories.len() as u32,
            num_tables: info.tables.len() as u32,
            num_globals: info.globals.len() as u32,
            num_tags: info.tags.len() as u32,
        }
    }

    /// Offset of `imported_funcs[index]`.
    pub fn imported_func(&self, index: u32) -> u32 {
        debug_assert!(index < self.num_imported_funcs);
        vmctx::HEADER_SIZE + index * PTR
    }

    fn memories_start(&self) -> u32 {
        vmctx::HEADER_SIZE + self.num_imported_funcs * PTR
    }

    /// Offset of `memories[index]` (a pointer to the memory's definition).
    pub fn memory(&self, index: u32) -> u32 {
        debug_assert!(index < self.num_memories);
        self.memories_start() + index * PTR
    }

    fn tables_start(&self) -> u32 {
        self.memories_start() + self.num_memories * PTR
    }

    /// Offset of `tables[index]` (a pointer to the table's definition).
    pub fn table(&self, index: u32) -> u32 {
        debug_assert!(index < self.num_tables);
        self.tables_start() + index * PTR
    }

    fn globals_start(&self) -> u32 {
        self.tables_start() + self.num_tables * PTR
    }

    /// Offset of `globals[index]` (a pointer to the global's definition).
    pub fn global(&self, index: u32) -> u32 {
        debug_assert!(index < self.num_globals);
        self.globals_start() + index * PTR
    }

    fn defined_funcrefs_start(&self) -> u32 {
        self.globals_start() + self.num_globals * PTR
    }

    /// Offset of the inline `VMFuncRef` of defined function `defined_index`
    /// (function index minus the number of imported functions).
    pub fn defined_funcref(&self, defined_index: u32) -> u32 {
        debug_assert!(defined_index < self.num_defined_funcs);
        self.defined_funcrefs_start() + defined_index * funcref::SIZE
    }

    fn tags_start(&self) -> u32 {
        self.defined_funcrefs_start() + self.num_defined_funcs * funcref::SIZE
    }

    /// Offset of `tags[index]` (the tag's store-wide identity).
    pub fn tag(&self, index: u32) -> u32 {
        debug_assert!(index < self.num_tags);
        self.tags_start() + index * PTR
    }

    /// Total size of the `VMContext`.
    pub fn size(&self) -> u32 {
        self.tags_start() + self.num_tags * PTR
    }
}
