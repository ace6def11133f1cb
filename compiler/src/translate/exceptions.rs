//! Exception handling: `throw`, `throw_ref` and `try_table` (Wasm 3.0; the legacy
//! `try`/`catch`/`delegate` operators are not supported).
//!
//! There is no native unwinding. An exception is an object in the store; an `exnref` is its
//! 1-based index there (null = 0). Throwing makes it the store's pending exception
//! (`VMRuntimeLimits::pending_exception`) and jumps to the *handler* of the innermost
//! enclosing `try_table` that has catch clauses: a block of the function, emitted at the
//! `try_table`'s `end`, that tries each clause in order (tags compare by the store-wide
//! identity in the context's tag slots) and either clears the pending exception and branches
//! to the clause's label with the payload and/or the exnref, or goes on to the next enclosing
//! handler. Past the outermost one, the function returns at once (zero results) with the
//! exception still pending. A catch clears the pending exception through the runtime, which
//! frees an exception no `_ref` clause ever caught (nothing else can refer to it), so that
//! throwing and catching in a loop does not grow the store. With exceptions enabled every call is followed by a check of the
//! pending exception (one load and a branch) that enters the same dispatch, so an exception
//! crosses frames one return at a time; the host entry turns an exception still pending when
//! wasm returns into an error. With exceptions disabled nothing here is emitted.

use super::control::FrameKind;
use super::{ir_type, trusted, FuncState};
use crate::builtins::Builtin;
use crate::module_info::TagIndex;
use crate::trap_codes;
use crate::vmoffsets::{limits, VAL_RAW_SIZE};
use anyhow::Result;
use cranelift_codegen::ir::{
    condcodes::IntCC, types, Block, BlockArg, InstBuilder, StackSlotData, StackSlotKind, Value,
};
use wasmparser::{Catch, Operator, WasmFeatures};

impl FuncState<'_, '_> {
    /// Whether the module is compiled with exception handling (calls then check for a
    /// pending exception).
    pub(crate) fn exceptions_enabled(&self) -> bool {
        self.env.config.features.contains(WasmFeatures::EXCEPTIONS)
    }

    /// Translates an exception operator; `false` if `op` is not one.
    pub(crate) fn translate_exception(&mut self, op: &Operator<'_>) -> Result<bool> {
        match op {
            Operator::TryTable { try_table } => {
                let (params, results) = self.block_signature(try_table.ty)?;
                let dest = self.block_with_params(&results);
                let base = self.stack.len() - params.len();
                let mut frame =
                    super::control::Frame::block(dest, params.len(), results.len(), base);
                frame.kind = FrameKind::TryTable {
                    catches: try_table.catches.clone(),
                    handler: None,
                };
                self.control.push(frame);
            }
            Operator::Throw { tag_index } => self.throw(*tag_index),
            Operator::ThrowRef => {
                let exn = self.pop();
                self.trap_if_zero(exn, trap_codes::NULL_REFERENCE);
                self.set_pending_exception(exn);
                self.jump_to_handler(exn);
                self.reachable = false;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// `throw`: the runtime makes the exception (and makes it pending), then dispatch.
    fn throw(&mut self, tag: u32) {
        let ty = self.env.info.tags[TagIndex::from_u32(tag)];
        let n = self.env.info.types[ty].params.len();
        let values = self.pop_n(n);
        let slot = self.value_buffer(n);
        for (i, v) in values.iter().enumerate() {
            self.builder
                .ins()
                .stack_store(types::I64, *v, slot, (i as u32 * VAL_RAW_SIZE) as i32);
        }
        let addr = self.builder.ins().stack_addr(types::I64, slot, 0);
        let tag = self.const_u32(tag);
        let exn = self
            .call_builtin(Builtin::throw(), &[tag, addr])
            .expect("throw returns the exnref");
        // Null: the store refused the exception (too many alive), or the limiter panicked.
        self.trap_if_zero(exn, trap_codes::BUILTIN_TRAP);
        self.jump_to_handler(exn);
        self.reachable = false;
    }

    /// A stack buffer of `n` `ValRaw` slots (at least one, so that it has an address).
    fn value_buffer(&mut self, n: usize) -> cranelift_codegen::ir::StackSlot {
        self.builder.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            VAL_RAW_SIZE * n.max(1) as u32,
            4,
        ))
    }

    fn set_pending_exception(&mut self, exn: Value) {
        let limits = self.limits_ptr();
        self.builder
            .ins()
            .store(trusted(), exn, limits, limits::PENDING_EXCEPTION as i32);
    }

    /// The handler block of the innermost enclosing `try_table` with catch clauses (created
    /// on first use; it takes the exnref), or `None` when no `try_table` encloses this point.
    fn exception_handler(&mut self) -> Option<Block> {
        let builder = &mut self.builder;
        for frame in self.control.iter_mut().rev() {
            if let FrameKind::TryTable { catches, handler } = &mut frame.kind {
                if catches.is_empty() {
                    continue;
                }
                return Some(*handler.get_or_insert_with(|| {
                    let block = builder.create_block();
                    builder.append_block_param(block, types::I64);
                    builder.set_cold_block(block);
                    block
                }));
            }
        }
        None
    }

    /// The block that returns with the exception still pending (results are zeros the
    /// caller never reads: it checks the pending exception first).
    fn propagate_block(&mut self) -> Block {
        if let Some(block) = self.propagate {
            return block;
        }
        let block = self.builder.create_block();
        self.builder.set_cold_block(block);
        self.propagate = Some(block);
        block
    }

    /// Sends the exception `exn` (already pending) to the enclosing handler, or out of the
    /// function.
    fn jump_to_handler(&mut self, exn: Value) {
        match self.exception_handler() {
            Some(handler) => {
                self.builder.ins().jump(handler, &[BlockArg::Value(exn)]);
            }
            None => {
                let block = self.propagate_block();
                self.builder.ins().jump(block, &[]);
            }
        }
    }

    /// After a call: if the callee left an exception pending, dispatch it here.
    pub(crate) fn check_pending_exception(&mut self) {
        if !self.exceptions_enabled() {
            return;
        }
        let limits = self.limits_ptr();
        let exn = self.builder.ins().load(
            types::I64,
            trusted(),
            limits,
            limits::PENDING_EXCEPTION as i32,
        );
        let next = self.builder.create_block();
        match self.exception_handler() {
            Some(handler) => {
                self.builder
                    .ins()
                    .brif(exn, handler, &[BlockArg::Value(exn)], next, &[]);
            }
            None => {
                let block = self.propagate_block();
                self.builder.ins().brif(exn, block, &[], next, &[]);
            }
        }
        self.builder.seal_block(next);
        self.builder.switch_to_block(next);
    }

    /// Emits the handler of a `try_table` that has just been closed (its frame popped, so
    /// the catch labels resolve against the enclosing frames, as they are defined). The
    /// current block must be filled.
    pub(crate) fn emit_exception_handler(&mut self, handler: Block, catches: &[Catch]) {
        self.builder.switch_to_block(handler);
        let exn = self.builder.block_params(handler)[0];
        let needs_tag = catches
            .iter()
            .any(|c| matches!(c, Catch::One { .. } | Catch::OneRef { .. }));
        let exn_tag = if needs_tag {
            self.call_builtin(Builtin::exception_tag(), &[exn])
        } else {
            None
        };
        for catch in catches {
            let (label, tag, with_ref) = match *catch {
                Catch::One { tag, label } => (label, Some(tag), false),
                Catch::OneRef { tag, label } => (label, Some(tag), true),
                Catch::All { label } => (label, None, false),
                Catch::AllRef { label } => (label, None, true),
            };
            let next = tag.map(|tag| {
                let offset = self.env.offsets.tag(tag);
                let expected = self.vmctx_ptr(offset);
                let actual = exn_tag.expect("computed when a clause names a tag");
                let matched = self.builder.ins().icmp(IntCC::Equal, actual, expected);
                let then = self.builder.create_block();
                let next = self.builder.create_block();
                self.builder.ins().brif(matched, then, &[], next, &[]);
                self.builder.seal_block(then);
                self.builder.seal_block(next);
                self.builder.switch_to_block(then);
                next
            });
            let mut values = match tag {
                Some(tag) => self.exception_payload(tag, exn),
                None => Vec::new(),
            };
            // After the payload is read: without a `_ref` clause the exception may be freed.
            let keep = self.const_u32(u32::from(with_ref));
            self.call_builtin(Builtin::exception_caught(), &[exn, keep]);
            if with_ref {
                values.push(exn);
            }
            let (target, _) = self.branch_target_used(label);
            let args: Vec<BlockArg> = values.iter().map(|v| BlockArg::Value(*v)).collect();
            self.builder.ins().jump(target, &args);
            match next {
                Some(next) => self.builder.switch_to_block(next),
                // A catch-all clause catches everything: later clauses are never tried.
                None => return,
            }
        }
        self.jump_to_handler(exn);
    }

    /// The payload values of exception `exn`, whose tag is module tag `tag`.
    fn exception_payload(&mut self, tag: u32, exn: Value) -> Vec<Value> {
        let ty = self.env.info.tags[TagIndex::from_u32(tag)];
        let params = self.env.info.types[ty].params.clone();
        if params.is_empty() {
            return Vec::new();
        }
        let slot = self.value_buffer(params.len());
        let addr = self.builder.ins().stack_addr(types::I64, slot, 0);
        self.call_builtin(Builtin::exception_payload(), &[exn, addr]);
        params
            .iter()
            .enumerate()
            .map(|(i, t)| {
                self.builder.ins().stack_load(
                    types::I64,
                    ir_type(*t),
                    slot,
                    (i as u32 * VAL_RAW_SIZE) as i32,
                )
            })
            .collect()
    }

    /// At the end of the function: emits the block that returns with the exception pending.
    pub(crate) fn emit_propagate_block(&mut self) {
        let Some(block) = self.propagate else {
            return;
        };
        self.builder.switch_to_block(block);
        let results: Vec<Value> = self
            .result_types
            .clone()
            .into_iter()
            .map(|t| self.zero(t))
            .collect();
        let values = self.return_values(&results);
        self.builder.ins().return_(&values);
    }
}
