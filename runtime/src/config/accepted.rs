//! `Config` settings that Wasmtime programs commonly call and that do nothing in wasmjit:
//! they are accepted so that such programs compile, and each says why it needs no effect
//! here (or which proposal wasmjit lacks). The types they take come with them. Settings that
//! act are in `config/mod.rs`.

use crate::config::Config;
use anyhow::{Context, Result};
use std::num::NonZeroUsize;
use std::path::Path;

/// How much detail wasm backtraces carry (Wasmtime's `WasmBacktraceDetails`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WasmBacktraceDetails {
    /// Add file and line information from DWARF (not available in wasmjit).
    Enable,
    /// Frames only.
    Disable,
    /// Decided by the `WASMTIME_BACKTRACE_DETAILS` environment variable in Wasmtime.
    Environment,
}

/// Which compiler to use (Wasmtime's `Strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Strategy {
    /// The default compiler: Cranelift.
    Auto,
    /// Cranelift.
    Cranelift,
    /// Wasmtime's baseline compiler; wasmjit has none and compiles with Cranelift.
    Winch,
}

/// Which garbage collector GC references use (Wasmtime's `Collector`). wasmjit has no
/// collector (externrefs live as long as their store), so every choice means the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Collector {
    /// Wasmtime picks.
    #[default]
    Auto,
    /// Deferred reference counting.
    DeferredReferenceCounting,
    /// A collector that never collects.
    Null,
}

/// Cranelift's register allocator (Wasmtime's `RegallocAlgorithm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegallocAlgorithm {
    /// Better code, slower compilation (the default).
    Backtracking,
    /// Faster compilation, more spills.
    SinglePass,
}

/// What serialized modules record as their version (Wasmtime's `ModuleVersionStrategy`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum ModuleVersionStrategy {
    /// The runtime's version (the whole of it: the layout of compiled code may change in
    /// any release).
    #[default]
    WasmtimeVersion,
    /// A version string of the embedder's (at most 255 bytes).
    Custom(String),
    /// No version check.
    None,
}

impl ModuleVersionStrategy {
    /// The version as a string: the crate's version, the custom string, or empty.
    pub fn as_str(&self) -> &str {
        match self {
            ModuleVersionStrategy::WasmtimeVersion => env!("CARGO_PKG_VERSION"),
            ModuleVersionStrategy::Custom(v) => v,
            ModuleVersionStrategy::None => "",
        }
    }
}

impl Config {
    /// The garbage collector for GC references. wasmjit has none: accepted, no effect.
    pub fn collector(&mut self, collector: Collector) -> &mut Self {
        let _ = collector;
        self
    }

    /// Cranelift's register allocator. wasmjit keeps Cranelift's default (backtracking):
    /// accepted, no effect.
    pub fn cranelift_regalloc_algorithm(&mut self, algo: RegallocAlgorithm) -> &mut Self {
        let _ = algo;
        self
    }

    /// The branch-hinting proposal's hints. Used only for code layout: accepted, no effect.
    pub fn wasm_branch_hinting(&mut self, enable: bool) -> &mut Self {
        let _ = enable;
        self
    }

    /// Whether traps carry a [`WasmBacktrace`](crate::WasmBacktrace). wasmjit always
    /// captures one (it costs nothing until a trap), so this setting has no effect.
    pub fn wasm_backtrace(&mut self, enable: bool) -> &mut Self {
        let _ = enable;
        self
    }

    /// File and line details in backtraces. wasmjit has no DWARF support: frames carry
    /// function indices, names and offsets whatever this says.
    pub fn wasm_backtrace_details(&mut self, details: WasmBacktraceDetails) -> &mut Self {
        let _ = details;
        self
    }

    /// Native debug information for compiled code. wasmjit emits none; no effect.
    pub fn debug_info(&mut self, enable: bool) -> &mut Self {
        let _ = enable;
        self
    }

    /// The size below which Wasmtime lays a memory's initial image out densely. wasmjit
    /// copies data segments in and makes no images: recorded, no effect.
    pub fn memory_guaranteed_dense_image_size(&mut self, size_in_bytes: u64) -> &mut Self {
        self.memory_guaranteed_dense_image_size = size_in_bytes;
        self
    }

    /// How far compiled code may inline functions. wasmjit inlines no wasm function
    /// (`Engine::get_compiler_inlining` says [`Inlining::No`]): accepted, no effect.
    pub fn compiler_inlining(&mut self, inlining: Inlining) -> &mut Self {
        let _ = inlining;
        self
    }

    /// The function Wasmtime asks which CPU features the host has. wasmjit lets Cranelift
    /// detect them: accepted, no effect.
    ///
    /// # Safety
    /// As in Wasmtime, `detect` must answer truthfully; here it is never called.
    pub unsafe fn detect_host_feature(&mut self, detect: fn(&str) -> Option<bool>) -> &mut Self {
        let _ = detect;
        self
    }

    /// Whether x86 float code without SSE's ABI is acceptable (for targets without it).
    /// wasmjit compiles for the host only: accepted, no effect.
    ///
    /// # Safety
    /// As in Wasmtime; here nothing depends on it.
    pub unsafe fn x86_float_abi_ok(&mut self, enable: bool) -> &mut Self {
        let _ = enable;
        self
    }

    /// Whether symbols are kept for compiled code. wasmjit keeps none (its frames are
    /// named from the name section): accepted, no effect (`Engine::get_debug_symbols` says
    /// false).
    pub fn debug_symbols(&mut self, enable: bool) -> &mut Self {
        let _ = enable;
        self
    }

    /// Whether compiled code carries metadata for internal assertions. wasmjit has none:
    /// accepted, no effect (`Engine::get_metadata_for_internal_asserts` says false).
    pub fn metadata_for_internal_asserts(&mut self, enable: bool) -> &mut Self {
        let _ = enable;
        self
    }

    /// Wasmtime's memory checker for wasm's `malloc`/`free`; not in wasmjit: accepted, no
    /// effect.
    pub fn wmemcheck(&mut self, enable: bool) -> &mut Self {
        let _ = enable;
        self
    }

    /// Whether memories are initialized from a memfd image even where Wasmtime would not.
    /// wasmjit maps an image wherever its layout allows one (see `Config::memory_init_cow`)
    /// and has no other source of images: accepted, no effect.
    pub fn force_memory_init_memfd(&mut self, enable: bool) -> &mut Self {
        let _ = enable;
        self
    }

    /// Wasmtime's extra checks in compiled code (a Cranelift flag of its own). wasmjit's
    /// Cranelift has no such flag: accepted, no effect.
    pub fn cranelift_wasmtime_debug_checks(&mut self, enable: bool) -> &mut Self {
        let _ = enable;
        self
    }

    /// Where Wasmtime writes the Cranelift IR of each function. wasmjit does not write it:
    /// accepted, no effect.
    pub fn emit_clif(&mut self, path: &Path) -> &mut Self {
        let _ = path;
        self
    }

    /// The compiler. wasmjit always compiles with Cranelift.
    pub fn strategy(&mut self, strategy: Strategy) -> &mut Self {
        let _ = strategy;
        self
    }

    /// Native unwind tables for compiled code. wasmjit unwinds through frame pointers and
    /// registers no tables; no effect.
    pub fn native_unwind_info(&mut self, enable: bool) -> &mut Self {
        let _ = enable;
        self
    }

    /// The code-offset to wasm-offset map. wasmjit always keeps it (backtraces use it).
    pub fn generate_address_map(&mut self, enable: bool) -> &mut Self {
        let _ = enable;
        self
    }

    /// Core dumps attached to trap errors. wasmjit produces none; no effect.
    pub fn coredump_on_trap(&mut self, enable: bool) -> &mut Self {
        let _ = enable;
        self
    }

    /// The compilation cache. wasmjit caches nothing; no effect.
    pub fn cache(&mut self, cache: Option<Cache>) -> &mut Self {
        let _ = cache;
        self
    }

    /// Wasmtime 29's way of enabling the compilation cache from a configuration file (see
    /// [`Cache::from_file`]); wasmjit caches nothing.
    pub fn cache_config_load(&mut self, path: impl AsRef<Path>) -> Result<&mut Self> {
        Cache::from_file(Some(path.as_ref()))?;
        Ok(self)
    }

    /// Wasmtime 29's way of enabling the compilation cache with default settings; wasmjit
    /// caches nothing.
    pub fn cache_config_load_default(&mut self) -> Result<&mut Self> {
        Ok(self)
    }

    /// Turns the compilation cache off (it is never on in wasmjit).
    pub fn disable_cache(&mut self) -> &mut Self {
        self
    }

    /// Whether memories may move when they grow. A 32-bit memory with the default
    /// reservation never moves; others move when they outgrow it. No effect.
    pub fn memory_may_move(&mut self, enable: bool) -> &mut Self {
        let _ = enable;
        self
    }

    /// Extra address space reserved for growth. wasmjit reserves `memory_reservation`; no
    /// effect.
    pub fn memory_reservation_for_growth(&mut self, bytes: u64) -> &mut Self {
        let _ = bytes;
        self
    }

    /// A guard region before each memory too. wasmjit places guards after memories only; no
    /// effect.
    pub fn guard_before_linear_memory(&mut self, enable: bool) -> &mut Self {
        let _ = enable;
        self
    }

    /// Lazy initialization of funcref tables. wasmjit initializes tables at instantiation; no
    /// effect.
    pub fn table_lazy_init(&mut self, enable: bool) -> &mut Self {
        let _ = enable;
        self
    }

    /// The most frames a backtrace records. wasmjit records every frame; no effect.
    pub fn wasm_backtrace_max_frames(&mut self, limit: Option<NonZeroUsize>) -> &mut Self {
        let _ = limit;
        self
    }

    /// Mach ports for traps on macOS. wasmjit runs on Linux; no effect.
    pub fn macos_use_mach_ports(&mut self, enable: bool) -> &mut Self {
        let _ = enable;
        self
    }

    /// The component model. Not implemented by wasmjit, which runs core modules only: the
    /// setting is accepted and has no effect.
    pub fn wasm_component_model(&mut self, enable: bool) -> &mut Self {
        let _ = enable;
        self
    }

    /// The custom-page-sizes proposal. Not implemented by wasmjit: the setting is accepted,
    /// and modules using the proposal fail validation.
    pub fn wasm_custom_page_sizes(&mut self, enable: bool) -> &mut Self {
        let _ = enable;
        self
    }
}

/// How instances are allocated (Wasmtime's `InstanceAllocationStrategy`). wasmjit always
/// allocates on demand; see [`Config::allocation_strategy`].
#[derive(Debug, Clone, Default)]
pub enum InstanceAllocationStrategy {
    /// Allocate each instance's memories and tables when it is created.
    #[default]
    OnDemand,
    /// Wasmtime's pooling allocator (accepted; instances are still allocated on demand).
    Pooling(PoolingAllocationConfig),
}

impl InstanceAllocationStrategy {
    /// The pooling strategy with its default limits.
    pub fn pooling() -> Self {
        Self::Pooling(PoolingAllocationConfig::default())
    }
}

impl From<PoolingAllocationConfig> for InstanceAllocationStrategy {
    fn from(config: PoolingAllocationConfig) -> Self {
        Self::Pooling(config)
    }
}

/// How far compiled code may inline functions (Wasmtime's `Inlining`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Inlining {
    /// Wherever possible.
    Yes,
    /// Across modules, and within a module using GC.
    InterModuleAndIntraGc,
    /// Across modules only.
    InterModule,
    /// Only the runtime's intrinsics.
    Intrinsics,
    /// Never.
    No,
}

/// Whether to use a feature of the host (Wasmtime's tri-state for memory protection keys and
/// `PAGEMAP_SCAN`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Enabled {
    /// When the host has it.
    Auto,
    /// Always (Wasmtime fails where the host lacks it).
    Yes,
    /// Never.
    No,
}

/// The limits of Wasmtime's pooling allocator. wasmjit records them and enforces none
/// (every instance is allocated on demand; the store's [`ResourceLimiter`](crate::ResourceLimiter)
/// is the way to bound what a store holds); the getters report what was set, or Wasmtime's
/// defaults (those of a 64-bit host).
#[derive(Debug, Clone)]
pub struct PoolingAllocationConfig {
    max_unused_warm_slots: u32,
    decommit_batch_size: usize,
    async_stack_keep_resident: usize,
    linear_memory_keep_resident: usize,
    table_keep_resident: usize,
    total_component_instances: u32,
    max_component_instance_size: usize,
    max_core_instances_per_component: u32,
    max_memories_per_component: u32,
    max_tables_per_component: u32,
    total_memories: u32,
    total_tables: u32,
    total_stacks: u32,
    total_core_instances: u32,
    max_core_instance_size: usize,
    max_tables_per_module: u32,
    table_elements: usize,
    max_memories_per_module: u32,
    max_memory_size: usize,
    total_gc_heaps: u32,
    memory_protection_keys: Enabled,
    max_memory_protection_keys: usize,
    pagemap_scan: Enabled,
}

impl Default for PoolingAllocationConfig {
    fn default() -> Self {
        Self {
            max_unused_warm_slots: 100,
            decommit_batch_size: 1,
            async_stack_keep_resident: 0,
            linear_memory_keep_resident: 0,
            table_keep_resident: 0,
            total_component_instances: 1000,
            max_component_instance_size: 1 << 20,
            max_core_instances_per_component: u32::MAX,
            max_memories_per_component: u32::MAX,
            max_tables_per_component: u32::MAX,
            total_memories: 1000,
            total_tables: 1000,
            total_stacks: 1000,
            total_core_instances: 1000,
            max_core_instance_size: 1 << 20,
            max_tables_per_module: 1,
            table_elements: 20_000,
            max_memories_per_module: 1,
            max_memory_size: 1 << 32,
            total_gc_heaps: 1000,
            memory_protection_keys: Enabled::No,
            max_memory_protection_keys: 16,
            pagemap_scan: Enabled::No,
        }
    }
}

impl PoolingAllocationConfig {
    /// The default limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `max_unused_warm_slots` (not enforced by wasmjit).
    pub fn max_unused_warm_slots(&mut self, value: u32) -> &mut Self {
        self.max_unused_warm_slots = value;
        self
    }

    /// Records `decommit_batch_size` (not enforced by wasmjit).
    pub fn decommit_batch_size(&mut self, value: usize) -> &mut Self {
        self.decommit_batch_size = value;
        self
    }

    /// Records `async_stack_keep_resident` (not enforced by wasmjit).
    pub fn async_stack_keep_resident(&mut self, value: usize) -> &mut Self {
        self.async_stack_keep_resident = value;
        self
    }

    /// Records `linear_memory_keep_resident` (not enforced by wasmjit).
    pub fn linear_memory_keep_resident(&mut self, value: usize) -> &mut Self {
        self.linear_memory_keep_resident = value;
        self
    }

    /// Records `table_keep_resident` (not enforced by wasmjit).
    pub fn table_keep_resident(&mut self, value: usize) -> &mut Self {
        self.table_keep_resident = value;
        self
    }

    /// Records `total_component_instances` (not enforced by wasmjit).
    pub fn total_component_instances(&mut self, value: u32) -> &mut Self {
        self.total_component_instances = value;
        self
    }

    /// Records `max_component_instance_size` (not enforced by wasmjit).
    pub fn max_component_instance_size(&mut self, value: usize) -> &mut Self {
        self.max_component_instance_size = value;
        self
    }

    /// Records `max_core_instances_per_component` (not enforced by wasmjit).
    pub fn max_core_instances_per_component(&mut self, value: u32) -> &mut Self {
        self.max_core_instances_per_component = value;
        self
    }

    /// Records `max_memories_per_component` (not enforced by wasmjit).
    pub fn max_memories_per_component(&mut self, value: u32) -> &mut Self {
        self.max_memories_per_component = value;
        self
    }

    /// Records `max_tables_per_component` (not enforced by wasmjit).
    pub fn max_tables_per_component(&mut self, value: u32) -> &mut Self {
        self.max_tables_per_component = value;
        self
    }

    /// Records `total_memories` (not enforced by wasmjit).
    pub fn total_memories(&mut self, value: u32) -> &mut Self {
        self.total_memories = value;
        self
    }

    /// Records `total_tables` (not enforced by wasmjit).
    pub fn total_tables(&mut self, value: u32) -> &mut Self {
        self.total_tables = value;
        self
    }

    /// Records `total_stacks` (not enforced by wasmjit).
    pub fn total_stacks(&mut self, value: u32) -> &mut Self {
        self.total_stacks = value;
        self
    }

    /// Records `total_core_instances` (not enforced by wasmjit).
    pub fn total_core_instances(&mut self, value: u32) -> &mut Self {
        self.total_core_instances = value;
        self
    }

    /// Records `max_core_instance_size` (not enforced by wasmjit).
    pub fn max_core_instance_size(&mut self, value: usize) -> &mut Self {
        self.max_core_instance_size = value;
        self
    }

    /// Records `max_tables_per_module` (not enforced by wasmjit).
    pub fn max_tables_per_module(&mut self, value: u32) -> &mut Self {
        self.max_tables_per_module = value;
        self
    }

    /// Records `table_elements` (not enforced by wasmjit).
    pub fn table_elements(&mut self, value: usize) -> &mut Self {
        self.table_elements = value;
        self
    }

    /// Records `max_memories_per_module` (not enforced by wasmjit).
    pub fn max_memories_per_module(&mut self, value: u32) -> &mut Self {
        self.max_memories_per_module = value;
        self
    }

    /// Records `max_memory_size` (not enforced by wasmjit).
    pub fn max_memory_size(&mut self, value: usize) -> &mut Self {
        self.max_memory_size = value;
        self
    }

    /// Records `total_gc_heaps` (not enforced by wasmjit).
    pub fn total_gc_heaps(&mut self, value: u32) -> &mut Self {
        self.total_gc_heaps = value;
        self
    }

    /// Records `memory_protection_keys` (not enforced by wasmjit).
    pub fn memory_protection_keys(&mut self, value: Enabled) -> &mut Self {
        self.memory_protection_keys = value;
        self
    }

    /// Records `max_memory_protection_keys` (not enforced by wasmjit).
    pub fn max_memory_protection_keys(&mut self, value: usize) -> &mut Self {
        self.max_memory_protection_keys = value;
        self
    }

    /// Records `pagemap_scan` (not enforced by wasmjit).
    pub fn pagemap_scan(&mut self, value: Enabled) -> &mut Self {
        self.pagemap_scan = value;
        self
    }

    /// The `max_unused_warm_slots` recorded (Wasmtime's default: 100).
    pub fn get_max_unused_warm_slots(&self) -> u32 {
        self.max_unused_warm_slots
    }

    /// The `decommit_batch_size` recorded (Wasmtime's default: 1).
    pub fn get_decommit_batch_size(&self) -> usize {
        self.decommit_batch_size
    }

    /// The `async_stack_keep_resident` recorded (Wasmtime's default: 0).
    pub fn get_async_stack_keep_resident(&self) -> usize {
        self.async_stack_keep_resident
    }

    /// The `linear_memory_keep_resident` recorded (Wasmtime's default: 0).
    pub fn get_memory_keep_resident(&self) -> usize {
        self.linear_memory_keep_resident
    }

    /// The `table_keep_resident` recorded (Wasmtime's default: 0).
    pub fn get_table_keep_resident(&self) -> usize {
        self.table_keep_resident
    }

    /// The `total_component_instances` recorded (Wasmtime's default: 1000).
    pub fn get_total_component_instances(&self) -> u32 {
        self.total_component_instances
    }

    /// The `max_component_instance_size` recorded (Wasmtime's default: 1 << 20).
    pub fn get_max_component_instance_size(&self) -> usize {
        self.max_component_instance_size
    }

    /// The `max_core_instances_per_component` recorded (Wasmtime's default: u32::MAX).
    pub fn get_max_core_instances_per_component(&self) -> u32 {
        self.max_core_instances_per_component
    }

    /// The `max_memories_per_component` recorded (Wasmtime's default: u32::MAX).
    pub fn get_max_memories_per_component(&self) -> u32 {
        self.max_memories_per_component
    }

    /// The `max_tables_per_component` recorded (Wasmtime's default: u32::MAX).
    pub fn get_max_tables_per_component(&self) -> u32 {
        self.max_tables_per_component
    }

    /// The `total_memories` recorded (Wasmtime's default: 1000).
    pub fn get_total_memories(&self) -> u32 {
        self.total_memories
    }

    /// The `total_tables` recorded (Wasmtime's default: 1000).
    pub fn get_total_tables(&self) -> u32 {
        self.total_tables
    }

    /// The `total_stacks` recorded (Wasmtime's default: 1000).
    pub fn get_total_stacks(&self) -> u32 {
        self.total_stacks
    }

    /// The `total_core_instances` recorded (Wasmtime's default: 1000).
    pub fn get_total_core_instances(&self) -> u32 {
        self.total_core_instances
    }

    /// The `max_core_instance_size` recorded (Wasmtime's default: 1 << 20).
    pub fn get_max_core_instance_size(&self) -> usize {
        self.max_core_instance_size
    }

    /// The `max_tables_per_module` recorded (Wasmtime's default: 1).
    pub fn get_max_tables_per_module(&self) -> u32 {
        self.max_tables_per_module
    }

    /// The `table_elements` recorded (Wasmtime's default: 20_000).
    pub fn get_table_elements(&self) -> usize {
        self.table_elements
    }

    /// The `max_memories_per_module` recorded (Wasmtime's default: 1).
    pub fn get_max_memories_per_module(&self) -> u32 {
        self.max_memories_per_module
    }

    /// The `max_memory_size` recorded (Wasmtime's default: 1 << 32).
    pub fn get_max_memory_size(&self) -> usize {
        self.max_memory_size
    }

    /// The `total_gc_heaps` recorded (Wasmtime's default: 1000).
    pub fn get_total_gc_heaps(&self) -> u32 {
        self.total_gc_heaps
    }

    /// The `memory_protection_keys` recorded (Wasmtime's default: Enabled::No).
    pub fn get_memory_protection_keys(&self) -> Enabled {
        self.memory_protection_keys
    }

    /// The `max_memory_protection_keys` recorded (Wasmtime's default: 16).
    pub fn get_max_memory_protection_keys(&self) -> usize {
        self.max_memory_protection_keys
    }

    /// The `pagemap_scan` recorded (Wasmtime's default: Enabled::No).
    pub fn get_pagemap_scan(&self) -> Enabled {
        self.pagemap_scan
    }

    /// Whether the host has memory protection keys: wasmjit does not use them.
    pub fn are_memory_protection_keys_available() -> bool {
        false
    }
}

/// Wasmtime's compilation cache. wasmjit has none (embedders can keep
/// [`Module::serialize`](crate::Module::serialize)'s output themselves); a `Cache` is accepted
/// by [`Config::cache`] and does nothing.
#[derive(Debug, Clone)]
pub struct Cache(());

impl Cache {
    /// A cache configured from a TOML file, or with the defaults for `None`. The file must
    /// be readable (its settings are not used).
    pub fn from_file(path: Option<&Path>) -> Result<Cache> {
        if let Some(path) = path {
            std::fs::read(path)
                .with_context(|| format!("failed to read cache config file {}", path.display()))?;
        }
        Ok(Cache(()))
    }
}
