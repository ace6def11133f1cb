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

impl Default for Engine {
    fn default() -> Self {
        Engine::new(&Config::default()).expect("the default configuration is valid")
    }
}

impl Engine {
    /// An engine with the given configuration; errors when the configuration is inconsistent.
    pub fn new(config: &Config) -> Result<Engine> {
        config.validate()?;
        crate::vm::traphandlers::init_traps();
        let compile_config = crate::vm::compile_config(config);
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
