//! The engine: configuration, the engine-wide function type registry, and the epoch counter.

use crate::config::Config;
use crate::vm::type_registry::TypeRegistry;
use anyhow::Result;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use wasmjit_fiber::{DefaultStackCreator, FiberStack, StackCreator, StackPool, StackPoolConfig};

/// Compiles and owns what modules of one configuration share. Cheap to clone; `Send + Sync`.
#[derive(Clone)]
pub struct Engine {
    pub(crate) inner: Arc<EngineInner>,
}

pub(crate) struct EngineInner {
    pub(crate) config: Config,
    pub(crate) compile_config: wasmjit_compiler::CompileConfig,
    pub(crate) types: TypeRegistry,
    /// What a precompiled module must have been compiled for, worked out on first use.
    pub(crate) header: std::sync::OnceLock<crate::serialization::header::Header>,
    /// Boxed so compiled code can hold its address for the engine's whole life.
    pub(crate) epoch: Box<AtomicU64>,
    /// Where async calls get their stacks.
    pub(crate) stacks: StackSource,
}

/// The source of fiber stacks: a pool of default stacks, or the embedder's creator, asked for
/// every new stack.
pub(crate) enum StackSource {
    Pool(StackPool),
    Creator(Arc<dyn StackCreator>),
}

impl StackSource {
    pub(crate) fn stack(&self, size: usize, zeroed: bool) -> Result<FiberStack> {
        Ok(match self {
            StackSource::Pool(pool) => pool.take()?.into(),
            StackSource::Creator(c) => c.new_stack(size, zeroed)?.into(),
        })
    }
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

/// A reference to an [`Engine`] that does not keep it alive (Wasmtime's `EngineWeak`).
#[derive(Clone, Default)]
pub struct EngineWeak {
    inner: std::sync::Weak<EngineInner>,
}

impl EngineWeak {
    /// The engine, if it is still alive.
    pub fn upgrade(&self) -> Option<Engine> {
        self.inner.upgrade().map(|inner| Engine { inner })
    }
}

impl std::fmt::Debug for EngineWeak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineWeak").finish_non_exhaustive()
    }
}

/// What [`Engine::precompile_compatibility_hash`] hashes: the crate version and the header
/// serialized modules carry (every setting their code depends on).
struct CompatibilityHash<'a>(&'a Engine);

impl std::hash::Hash for CompatibilityHash<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        env!("CARGO_PKG_VERSION").hash(state);
        match crate::serialization::header_bytes(self.0) {
            Ok(header) => header.hash(state),
            // Not reached for an engine that was created (its ISA was built then).
            Err(_) => format!("{:?}", self.0.inner.compile_config).hash(state),
        }
    }
}

impl Engine {
    /// A reference that does not keep the engine alive.
    pub fn weak(&self) -> EngineWeak {
        EngineWeak {
            inner: Arc::downgrade(&self.inner),
        }
    }

    /// A value whose hash is equal for engines whose precompiled modules are interchangeable
    /// (as Wasmtime's, for keying caches of [`Engine::precompile_module`] output).
    pub fn precompile_compatibility_hash(&self) -> impl std::hash::Hash + '_ {
        CompatibilityHash(self)
    }

    /// Sets up this thread's state ahead of the first call. wasmjit's per-thread state (the
    /// signal stack) is set up on a thread's first call into wasm; nothing to do here.
    pub fn tls_eager_initialize() {}
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new(&Config::default()).expect("the default configuration is valid")
    }
}

impl Engine {
    /// An engine with the given configuration; errors when the configuration is inconsistent.
    pub fn new(config: &Config) -> Result<Engine> {
        config.validate()?;
        // An engine without signals-based traps never needs the handlers, and must work in
        // a process whose host owns the signals.
        if config.signals_based_traps {
            crate::vm::traphandlers::init_traps();
        }
        let compile_config = config.compile_config();
        #[cfg(feature = "cranelift")]
        wasmjit_compiler::check_config(&compile_config)?;
        let stacks = match &config.stack_creator {
            Some(c) => StackSource::Creator(c.clone()),
            None => StackSource::Pool(StackPool::new(
                Arc::new(DefaultStackCreator),
                StackPoolConfig {
                    stack_size: config.async_stack_size,
                    max_idle: 64,
                    zero_on_reuse: config.async_stack_zeroing,
                },
            )),
        };
        Ok(Engine {
            inner: Arc::new(EngineInner {
                config: config.clone(),
                types: TypeRegistry::new(compile_config.clone()),
                header: std::sync::OnceLock::new(),
                compile_config,
                epoch: Box::new(AtomicU64::new(0)),
                stacks,
            }),
        })
    }

    /// The configuration this engine was made with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Whether shared memories may be created for this engine ([`Config::shared_memory`]).
    pub fn get_shared_memory(&self) -> bool {
        self.inner.config.shared_memory
    }

    /// Whether this engine's code may trap through signals ([`Config::signals_based_traps`]).
    pub fn get_signals_based_traps(&self) -> bool {
        self.inner.config.signals_based_traps
    }

    /// Whether two handles name the same engine.
    pub fn same(a: &Engine, b: &Engine) -> bool {
        Arc::ptr_eq(&a.inner, &b.inner)
    }

    /// Advances the epoch by one. One atomic add: callable from any thread, even a signal
    /// handler.
    pub fn increment_epoch(&self) {
        self.inner.epoch.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn current_epoch(&self) -> u64 {
        self.inner.epoch.load(Ordering::Relaxed)
    }
}
