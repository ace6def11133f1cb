//! `Config` settings that Wasmtime programs commonly call and that need no machinery here:
//! they are accepted so that such programs compile, and each says what it does in wasmjit.

use crate::config::Config;
use anyhow::{bail, Context, Result};
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

    /// The version serialized modules carry; [`Module::deserialize`](crate::Module::deserialize)
    /// refuses one of another version, unless the strategy is `None`. A custom version longer
    /// than 255 bytes is refused, as in Wasmtime.
    pub fn module_version(&mut self, strategy: ModuleVersionStrategy) -> Result<&mut Self> {
        if let ModuleVersionStrategy::Custom(v) = &strategy {
            if v.len() > 255 {
                bail!("custom module version cannot be more than 255 bytes");
            }
        }
        self.module_version = strategy;
        Ok(self)
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

    /// The compiler. wasmjit always compiles with Cranelift.
    pub fn strategy(&mut self, strategy: Strategy) -> &mut Self {
        let _ = strategy;
        self
    }

    /// Runs Cranelift's IR verifier on every function (slower compilation).
    pub fn cranelift_debug_verifier(&mut self, enable: bool) -> &mut Self {
        let value = if enable { "true" } else { "false" };
        self.cranelift_flags
            .push(("enable_verifier".to_string(), value.to_string()));
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

    /// Copy-on-write initialization of memories from their data segments. wasmjit copies
    /// the segments at instantiation; no effect.
    pub fn memory_init_cow(&mut self, enable: bool) -> &mut Self {
        let _ = enable;
        self
    }

    /// Core dumps attached to trap errors. wasmjit produces none; no effect.
    pub fn coredump_on_trap(&mut self, enable: bool) -> &mut Self {
        let _ = enable;
        self
    }

    /// The target to compile for. wasmjit compiles for the host only: its architecture name
    /// (`x86_64`, `aarch64`) or a triple starting with it is accepted, anything else is an
    /// error.
    pub fn target(&mut self, target: &str) -> Result<&mut Self> {
        let arch = target.split('-').next().unwrap_or_default();
        if arch != std::env::consts::ARCH {
            bail!(
                "wasmjit compiles for the host ({}) only, not for `{target}`",
                std::env::consts::ARCH
            );
        }
        Ok(self)
    }

    /// How instances are allocated. wasmjit allocates every instance on demand; a pooling
    /// configuration is accepted and its limits are not enforced.
    pub fn allocation_strategy(
        &mut self,
        strategy: impl Into<InstanceAllocationStrategy>,
    ) -> &mut Self {
        self.pooling = match strategy.into() {
            InstanceAllocationStrategy::Pooling(config) => Some(config),
            InstanceAllocationStrategy::OnDemand => None,
        };
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

    /// The threads proposal (shared memories, atomics). Not implemented by wasmjit: the
    /// setting is accepted, and modules using the proposal fail validation.
    pub fn wasm_threads(&mut self, enable: bool) -> &mut Self {
        let _ = enable;
        self
    }

    /// The GC proposal. Not implemented by wasmjit: the setting is accepted, and modules
    /// using the proposal fail validation.
    pub fn wasm_gc(&mut self, enable: bool) -> &mut Self {
        let _ = enable;
        self
    }

    /// The component model. Not implemented by wasmjit, which runs core modules only: the
    /// setting is accepted and has no effect.
    pub fn wasm_component_model(&mut self, enable: bool) -> &mut Self {
        let _ = enable;
        self
    }

    /// The wide-arithmetic proposal. Not implemented by wasmjit: the setting is accepted,
    /// and modules using the proposal fail validation.
    pub fn wasm_wide_arithmetic(&mut self, enable: bool) -> &mut Self {
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

/// The limits of Wasmtime's pooling allocator. wasmjit records them and enforces none
/// (every instance is allocated on demand; the store's [`ResourceLimiter`](crate::ResourceLimiter)
/// is the way to bound what a store holds).
#[derive(Debug, Clone, Default)]
pub struct PoolingAllocationConfig {
    settings: Vec<(&'static str, u64)>,
}

macro_rules! pooling_setters {
    ($($name:ident($ty:ty)),* $(,)?) => {
        impl PoolingAllocationConfig {
            /// The default limits.
            pub fn new() -> Self {
                Self::default()
            }
            $(
                #[doc = concat!("Records `", stringify!($name), "` (not enforced by wasmjit).")]
                pub fn $name(&mut self, value: $ty) -> &mut Self {
                    self.settings.push((stringify!($name), value as u64));
                    self
                }
            )*
        }
    };
}

pooling_setters! {
    max_unused_warm_slots(u32),
    decommit_batch_size(usize),
    async_stack_keep_resident(usize),
    linear_memory_keep_resident(usize),
    table_keep_resident(usize),
    total_component_instances(u32),
    max_component_instance_size(usize),
    max_core_instances_per_component(u32),
    max_memories_per_component(u32),
    max_tables_per_component(u32),
    total_memories(u32),
    total_tables(u32),
    total_stacks(u32),
    total_core_instances(u32),
    max_core_instance_size(usize),
    max_tables_per_module(u32),
    table_elements(usize),
    max_memories_per_module(u32),
    max_memory_size(usize),
    total_gc_heaps(u32),
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
