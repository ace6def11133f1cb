//! Structured control flow: `block`, `loop`, `if`/`else`, `end`, branches (`br_on_null` and
//! `br_on_non_null` included), `return`,
//! `unreachable`, and the skipping of unreachable code.
//!
//! Values flow between blocks as Cranelift block parameters: a frame's continuation block
//! (`dest`) takes the frame's results, a loop header takes the loop's params. The `then` and
//! `else` arms of an `if` need none: the params stay on the value stack, defined before the
//! branch, so both arms can use them.

use super::{ir_type, FuncState};
use crate::module_info::TypeIndex;
use crate::trap_codes;
use anyhow::Result;
use cranelift_codegen::ir::{Block, BlockArg, InstBuilder, JumpTableData, Type, Value};
use wasmparser::{BlockType, Operator};

/// What kind of construct a frame is.
pub(crate) enum FrameKind {
    /// `block`, or the function body.
    Block,
    /// `loop`: branches go back to `header`.
    Loop { header: Block },
    /// `if`: `else_block` is taken when the condition is false; `None` once `else` was seen.
    /// `params` are the values the `else` arm starts with.
    If {
        else_block: Option<Block>,
        params: Vec<Value>,
    },
    /// `try_table`: a block whose `handler` (created when a throw or call inside needs it,
    /// emitted at `end`) dispatches exceptions to `catches` (see `exceptions.rs`).
    TryTable {
        catches: Vec<wasmparser::Catch>,
        handler: Option<Block>,
    },
}

/// An open control construct.
pub(crate) struct Frame {
    pub(crate) kind: FrameKind,
    /// Continuation after `end`; its parameters are the frame's results.
    pub(crate) dest: Block,
    pub(crate) num_params: usize,
    pub(crate) num_results: usize,
    /// Operand stack height below the frame's params.
    pub(crate) stack_base: usize,
    /// Whether anything jumps to `dest` (if not, code after `end` is unreachable).
    pub(crate) dest_used: bool,
}

impl Frame {
    /// A `block` frame.
    pub(crate) fn block(dest: Block, num_params: usize, num_results: usize, base: usize) -> Self {
        Self {
            kind: FrameKind::Block,
            dest,
            num_params,
            num_results,
            stack_base: base,
            dest_used: false,
        }
    }

    /// Where a branch to this frame goes, and how many values it carries.
    fn branch_target(&self) -> (Block, usize) {
        match self.kind {
            FrameKind::Loop { header } => (header, self.num_params),
            _ => (self.dest, self.num_results),
        }
    }
}

fn block_args(values: &[Value]) -> Vec<BlockArg> {
    values.iter().map(|v| BlockArg::Value(*v)).collect()
}

impl FuncState<'_, '_> {
    /// Param and result IR types of a block type.
    pub(crate) fn block_signature(&self, ty: BlockType) -> Result<(Vec<Type>, Vec<Type>)> {
        Ok(match ty {
            BlockType::Empty => (vec![], vec![]),
            BlockType::Type(t) => {
                crate::parse::check_body_type(t, self.env.config.features)?;
                (vec![], vec![super::ir_type_of(t)])
            }
            BlockType::FuncType(index) => {
                let f = &self.env.info.types[TypeIndex::from_u32(index)];
                (
                    f.params.iter().map(|t| ir_type(*t)).collect(),
                    f.results.iter().map(|t| ir_type(*t)).collect(),
                )
            }
        })
    }

    pub(crate) fn block_with_params(&mut self, types: &[Type]) -> Block {
        let block = self.builder.create_block();
        for t in types {
            self.builder.append_block_param(block, *t);
        }
        block
    }

    /// Translates a control operator; `false` if `op` is not one.
    pub(crate) fn translate_control(&mut self, op: &Operator<'_>) -> Result<bool> {
        match op {
            Operator::Block { blockty } => {
                let (params, results) = self.block_signature(*blockty)?;
                let dest = self.block_with_params(&results);
                let base = self.stack.len() - params.len();
                self.control
                    .push(Frame::block(dest, params.len(), results.len(), base));
            }
            Operator::Loop { blockty } => {
                let (params, results) = self.block_signature(*blockty)?;
                let header = self.block_with_params(&params);
                let dest = self.block_with_params(&results);
                let args = block_args(&self.pop_n(params.len()));
                let cached_deadline = self.loop_entry();
                self.builder.ins().jump(header, &args);
                self.builder.switch_to_block(header);
                let base = self.stack.len();
                self.stack
                    .extend_from_slice(self.builder.block_params(header));
                self.control.push(Frame {
                    kind: FrameKind::Loop { header },
                    dest,
                    num_params: params.len(),
                    num_results: results.len(),
                    stack_base: base,
                    dest_used: false,
                });
                // Every edge into the loop, entry and back edges alike, passes the checks.
                self.loop_header_check(cached_deadline);
            }
            Operator::If { blockty } => {
                let (params, results) = self.block_signature(*blockty)?;
                let cond = self.pop();
                let then_block = self.builder.create_block();
                let else_block = self.builder.create_block();
                let dest = self.block_with_params(&results);
                self.builder
                    .ins()
                    .brif(cond, then_block, &[], else_block, &[]);
                self.builder.seal_block(then_block);
                self.builder.seal_block(else_block);
                self.builder.switch_to_block(then_block);
                let base = self.stack.len() - params.len();
                self.control.push(Frame {
                    kind: FrameKind::If {
                        else_block: Some(else_block),
                        params: self.peek_n(params.len()).to_vec(),
                    },
                    dest,
                    num_params: params.len(),
                    num_results: results.len(),
                    stack_base: base,
                    dest_used: false,
                });
            }
            Operator::Else => self.translate_else(),
            Operator::End => self.translate_end(),
            Operator::Br { relative_depth } => {
                self.branch(*relative_depth);
                self.reachable = false;
            }
            Operator::BrIf { relative_depth } => {
                let cond = self.pop();
                self.conditional_branch(*relative_depth, cond, true);
            }
            Operator::BrOnNull { relative_depth } => {
                // Branches without the reference; falls through with it.
                let r = self.pop();
                self.conditional_branch(*relative_depth, r, false);
                self.push(r);
            }
            Operator::BrOnNonNull { relative_depth } => {
                // Branches with the reference (the target's last value); falls through without.
                let r = *self
                    .stack
                    .last()
                    .expect("validated: br_on_non_null operand");
                self.conditional_branch(*relative_depth, r, true);
                self.pop();
            }
            Operator::BrTable { targets } => {
                let index = self.pop();
                let (default, arity) = self.branch_target_used(targets.default());
                let args = block_args(self.peek_n(arity));
                let mut table = Vec::with_capacity(targets.len() as usize);
                for depth in targets.targets() {
                    let (block, _) = self.branch_target_used(depth?);
                    table.push(self.builder.func.dfg.block_call(block, &args));
                }
                let default = self.builder.func.dfg.block_call(default, &args);
                let jt = self
                    .builder
                    .create_jump_table(JumpTableData::new(default, &table));
                self.builder.ins().br_table(index, jt);
                self.reachable = false;
            }
            Operator::Return => {
                let n = self.control[0].num_results;
                let results = self.peek_n(n).to_vec();
                let values = self.return_values(&results);
                self.builder.ins().return_(&values);
                self.reachable = false;
            }
            Operator::Unreachable => {
                self.trap(trap_codes::UNREACHABLE);
                self.reachable = false;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The block a branch of `depth` goes to and its arity; marks the frame as targeted.
    pub(crate) fn branch_target_used(&mut self, depth: u32) -> (Block, usize) {
        let i = self.control.len() - 1 - depth as usize;
        let frame = &mut self.control[i];
        if !matches!(frame.kind, FrameKind::Loop { .. }) {
            frame.dest_used = true;
        }
        frame.branch_target()
    }

    /// Jumps to the target of a branch of `depth`, with the values on top of the stack.
    fn branch(&mut self, depth: u32) {
        let (target, arity) = self.branch_target_used(depth);
        let args = block_args(self.peek_n(arity));
        self.builder.ins().jump(target, &args);
    }

    /// A branch of `depth` with the values on top of the stack, taken when `cond` is non-zero
    /// (`taken_if_nonzero`) or zero; continues in a new block, sealed and current.
    pub(crate) fn conditional_branch(&mut self, depth: u32, cond: Value, taken_if_nonzero: bool) {
        let (target, arity) = self.branch_target_used(depth);
        let args = block_args(self.peek_n(arity));
        let next = self.builder.create_block();
        if taken_if_nonzero {
            self.builder.ins().brif(cond, target, &args, next, &[]);
        } else {
            self.builder.ins().brif(cond, next, &[], target, &args);
        }
        self.builder.seal_block(next);
        self.builder.switch_to_block(next);
    }

    /// Skips `op` in unreachable code, tracking nesting to find the `else`/`end` that
    /// makes code reachable again.
    pub(crate) fn translate_unreachable(&mut self, op: &Operator<'_>) -> Result<()> {
        match op {
            Operator::Loop { .. } => {
                self.skip_loop();
                self.dead_depth += 1;
            }
            Operator::Block { .. } | Operator::If { .. } | Operator::TryTable { .. } => {
                self.dead_depth += 1;
            }
            Operator::Else if self.dead_depth == 0 => self.translate_else(),
            Operator::End if self.dead_depth == 0 => self.translate_end(),
            Operator::End => self.dead_depth -= 1,
            _ => {}
        }
        Ok(())
    }

    fn translate_else(&mut self) {
        let reachable = self.reachable;
        let frame = self.control.last_mut().expect("validated: else in if");
        let (dest, num_results, base) = (frame.dest, frame.num_results, frame.stack_base);
        frame.dest_used |= reachable;
        let FrameKind::If { else_block, params } = &mut frame.kind else {
            unreachable!("validated: else outside if");
        };
        let else_block = else_block.take().expect("validated: one else per if");
        let params = std::mem::take(params);
        if reachable {
            let args = block_args(self.peek_n(num_results));
            self.builder.ins().jump(dest, &args);
        }
        self.stack.truncate(base);
        self.stack.extend_from_slice(&params);
        self.builder.switch_to_block(else_block);
        // An `if` frame is only opened in reachable code, so its else arm is reachable.
        self.reachable = true;
    }

    fn translate_end(&mut self) {
        let mut frame = self.control.pop().expect("validated: end matches a frame");
        if self.reachable {
            frame.dest_used = true;
            let args = block_args(self.peek_n(frame.num_results));
            self.builder.ins().jump(frame.dest, &args);
        }
        self.stack.truncate(frame.stack_base);
        match frame.kind {
            FrameKind::Loop { header } => self.builder.seal_block(header),
            // `if` without `else`: the false path carries the params (= results) to `end`.
            FrameKind::If {
                else_block: Some(else_block),
                params,
            } => {
                self.builder.switch_to_block(else_block);
                self.builder.ins().jump(frame.dest, &block_args(&params));
                frame.dest_used = true;
            }
            FrameKind::TryTable {
                catches,
                handler: Some(handler),
            } => self.emit_exception_handler(handler, &catches),
            _ => {}
        }
        self.builder.seal_block(frame.dest);
        self.reachable = frame.dest_used;
        if frame.dest_used {
            self.builder.switch_to_block(frame.dest);
            let results = self.builder.block_params(frame.dest).to_vec();
            if self.control.is_empty() {
                // End of the function body.
                let values = self.return_values(&results);
                self.builder.ins().return_(&values);
                self.reachable = false;
            } else {
                self.stack.extend(results);
            }
        }
    }
}
