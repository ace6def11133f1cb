//! A pool of stacks of one size, so that a steady stream of fibers allocates nothing.
//!
//! Idle stacks wait in a `Mutex<Vec<_>>` whose capacity is reserved up front: taking a stack is a
//! lock and a pop, returning one a lock and a push. Stacks beyond the bound are freed.

use std::ops::Range;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::stack::{StackCreator, StackMemory};

/// How a [`StackPool`] sizes, keeps and cleans its stacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StackPoolConfig {
    /// Usable size of every stack, in bytes (guard pages not included).
    pub stack_size: usize,
    /// Most idle stacks kept for reuse; stacks returned beyond this are freed.
    pub max_idle: usize,
    /// Zero a stack's memory when it comes back, so no data leaks from one fiber to the next.
    /// New stacks are then also requested zeroed from the creator.
    pub zero_on_reuse: bool,
}

impl Default for StackPoolConfig {
    /// 1 MiB stacks, up to 16 kept idle, no zeroing.
    fn default() -> Self {
        StackPoolConfig {
            stack_size: 1 << 20,
            max_idle: 16,
            zero_on_reuse: false,
        }
    }
}

/// Hands out stacks of one size and takes them back when their [`PooledStack`] is dropped.
///
/// Cloning gives another handle to the same pool. Stacks on loan keep the pool's state alive,
/// so they may outlive every `StackPool` handle.
#[derive(Clone)]
pub struct StackPool {
    shared: Arc<Shared>,
}

/// State shared by the pool handles and the stacks on loan.
struct Shared {
    creator: Arc<dyn StackCreator>,
    config: StackPoolConfig,
    idle: Mutex<Vec<Box<dyn StackMemory>>>,
}

impl Shared {
    fn idle(&self) -> MutexGuard<'_, Vec<Box<dyn StackMemory>>> {
        // Nothing panics while the lock is held (the vector never grows past its reserved
        // capacity), but a poisoned list of stacks would still be intact.
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Puts a stack back for reuse, or frees it when it cannot be cleaned or the pool is full.
    fn give_back(&self, mut memory: Box<dyn StackMemory>) {
        if self.config.zero_on_reuse && memory.zero().is_err() {
            return;
        }
        let mut idle = self.idle();
        if idle.len() < self.config.max_idle {
            idle.push(memory);
        } else {
            // Unmap outside the lock.
            drop(idle);
            drop(memory);
        }
    }
}

impl StackPool {
    /// A pool whose stacks come from `creator`, sized and kept as `config` says.
    pub fn new(creator: Arc<dyn StackCreator>, config: StackPoolConfig) -> Self {
        StackPool {
            shared: Arc::new(Shared {
                creator,
                idle: Mutex::new(Vec::with_capacity(config.max_idle)),
                config,
            }),
        }
    }

    /// The pool's configuration.
    pub fn config(&self) -> StackPoolConfig {
        self.shared.config
    }

    /// Takes an idle stack, or asks the creator for a new one when none is idle.
    pub fn take(&self) -> anyhow::Result<PooledStack> {
        let reused = self.shared.idle().pop();
        let memory = match reused {
            Some(memory) => memory,
            None => {
                let config = &self.shared.config;
                self.shared
                    .creator
                    .new_stack(config.stack_size, config.zero_on_reuse)?
            }
        };
        Ok(PooledStack {
            memory: Some(memory),
            shared: self.shared.clone(),
        })
    }

    /// How many stacks are idle in the pool now.
    pub fn idle_count(&self) -> usize {
        self.shared.idle().len()
    }
}

/// A stack on loan from a [`StackPool`]; it goes back to the pool when dropped.
pub struct PooledStack {
    /// Always `Some` until `drop` hands the stack back.
    memory: Option<Box<dyn StackMemory>>,
    shared: Arc<Shared>,
}

impl PooledStack {
    fn memory(&self) -> &dyn StackMemory {
        self.memory
            .as_deref()
            .expect("pooled stack already returned")
    }
}

impl Drop for PooledStack {
    fn drop(&mut self) {
        if let Some(memory) = self.memory.take() {
            self.shared.give_back(memory);
        }
    }
}

// SAFETY: forwards to the borrowed stack, which satisfies the contract; while the loan lasts the
// memory is owned by this handle alone (the pool keeps only stacks that are not on loan).
unsafe impl StackMemory for PooledStack {
    fn top(&self) -> *mut u8 {
        self.memory().top()
    }

    fn range(&self) -> Range<usize> {
        self.memory().range()
    }

    fn guard_range(&self) -> Range<*mut u8> {
        self.memory().guard_range()
    }

    fn zero(&mut self) -> anyhow::Result<()> {
        self.memory
            .as_deref_mut()
            .expect("pooled stack already returned")
            .zero()
    }
}
