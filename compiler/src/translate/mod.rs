//! Lowering of wasm function bodies to Cranelift IR.
//!
//! [`FuncTranslator`] validates and translates one body at a time, operator by operator. The
//! per-function state ([`FuncState`]) keeps an explicit value stack and control stack; locals
//! are Cranelift [`Variable`]s, so cranelift-frontend builds the SSA form. Each concept lives
//! in its own file (control flow, memory, tables, calls, numeric operators, builtins), and
//! [`FuncState::translate_operator`] dispatches every operator to them.

mod atomics;
mod builtin;
mod calls;
mod control;
mod env;
mod exceptions;
mod fuel;
mod gc;
mod globals;
mod interrupt;
mod memory;
mod numeric;
mod simd;
mod table;
mod traps;

use crate::module_info::{DefinedFuncIndex, FuncType, TypeIndex, WasmType};
use crate::parse::FunctionBodyData;
use anyhow::{anyhow, bail, Result};
pub(crate) use builtin::builtin_signature;
use control::Frame;
use cranelift_codegen::ir::{
    self, types, AbiParam, ArgumentPurpose, Function, GlobalValueData, InstBuilder, MemFlagsData,
    Signature, SourceLoc, Type, Value,
};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
pub(crate) use env::ModuleEnv;
use std::collections::HashMap;
pub(crate) use traps::emit_raise_if;
use wasmparser::{FuncValidatorAllocations, Operator, OperatorsReader};

/// The Cranelift type of a wasm value type. References are `i64` pointers/handles, null = 0.
pub(crate) fn ir_type(ty: WasmType) -> Type {
    match ty {
        WasmType::I32 => types::I32,
        WasmType::I64 | WasmType::FuncRef | WasmType::ExternRef | WasmType::Ref(_) => types::I64,
        WasmType::F32 => types::F32,
        WasmType::F64 => types::F64,
        WasmType::V128 => types::I8X16,
    }
}

/// The Cranelift type of a validator's value type (locals, block types): only the
/// representation matters, so concrete reference types need no index translation.
pub(crate) fn ir_type_of(ty: wasmparser::ValType) -> Type {
    match ty {
        wasmparser::ValType::I32 => types::I32,
        wasmparser::ValType::I64 | wasmparser::ValType::Ref(_) => types::I64,
        wasmparser::ValType::F32 => types::F32,
        wasmparser::ValType::F64 => types::F64,
        wasmparser::ValType::V128 => types::I8X16,
    }
}

/// The native signature of a wasm function of type `ty`:
/// `(callee_vmctx, caller_vmctx, params...) -> results` with the `Tail` convention.
///
/// With fuel metering (`fuel`), the fuel counter travels in registers between wasm functions
/// (see `fuel.rs`): `(callee_vmctx, caller_vmctx, fuel, params...) -> (fuel, results...)`.
pub(crate) fn wasm_signature(ty: &FuncType, fuel: bool) -> Signature {
    let mut sig = Signature::new(CallConv::Tail);
    sig.params
        .push(AbiParam::special(types::I64, ArgumentPurpose::VMContext));
    sig.params.push(AbiParam::new(types::I64));
    if fuel {
        sig.params.push(AbiParam::new(types::I64));
        sig.returns.push(AbiParam::new(types::I64));
    }
    sig.params
        .extend(ty.params.iter().map(|t| AbiParam::new(ir_type(*t))));
    sig.returns
        .extend(ty.results.iter().map(|t| AbiParam::new(ir_type(*t))));
    sig
}

/// Flags of loads from runtime structures (`VMContext`, definitions): never trap, aligned.
fn trusted() -> MemFlagsData {
    MemFlagsData::trusted()
}

/// Flags of loads that read data that never changes while wasm runs (pointers in the
/// `VMContext`, function references): may be merged and hoisted.
fn readonly() -> MemFlagsData {
    MemFlagsData::trusted().with_readonly().with_can_move()
}

/// Translates function bodies; reuses its allocations from one function to the next.
pub(crate) struct FuncTranslator {
    builder_ctx: FunctionBuilderContext,
    validator_allocs: Option<FuncValidatorAllocations>,
}

impl FuncTranslator {
    /// A translator with empty buffers.
    pub(crate) fn new() -> Self {
        Self {
            builder_ctx: FunctionBuilderContext::new(),
            validator_allocs: Some(FuncValidatorAllocations::default()),
        }
    }

    /// Validates `body` and translates it into `func`, whose signature must be the wasm
    /// signature of the function's type.
    pub(crate) fn translate(
        &mut self,
        env: &ModuleEnv<'_>,
        body: FunctionBodyData,
        func: &mut Function,
    ) -> Result<()> {
        let reader = body.reader(&env.info.wasm, env.config.features);
        let mut validator = body
            .validator
            .into_validator(self.validator_allocs.take().unwrap_or_default());
        let mut binary = reader.get_binary_reader();
        validator.read_locals(&mut binary)?;

        let call_free_loops = if env.config.epoch_interruption {
            interrupt::call_free_loops(binary.clone())
        } else {
            Vec::new()
        };

        let func_type = env.info.func_type(body.index);
        let mut state = FuncState::new(env, func, &mut self.builder_ctx, func_type);
        state.call_free_loops = call_free_loops;
        state.declare_locals(
            func_type,
            |i| validator.get_local_type(i),
            validator.len_locals(),
        )?;
        state.function_entry()?;

        let mut ops = OperatorsReader::new(binary);
        while !ops.eof() {
            let (op, offset) = ops.read_with_offset()?;
            validator.op(offset, &op)?;
            state.builder.set_srcloc(SourceLoc::new(offset as u32));
            state.fuel_before_op(&op);
            state.bulk_op_checks(&op);
            state
                .translate_operator(&op)
                .map_err(|e| anyhow!("{e} (at offset {offset:#x})"))?;
        }
        let end = ops.original_position();
        ops.get_binary_reader()
            .finish_expression(&validator.visitor(end))?;
        state.finish();
        self.validator_allocs = Some(validator.into_allocations());
        Ok(())
    }
}

/// Translation state of one function.
pub(crate) struct FuncState<'a, 'e> {
    pub(crate) builder: FunctionBuilder<'a>,
    pub(crate) env: &'e ModuleEnv<'e>,
    /// This instance's `VMContext` (the first parameter).
    pub(crate) vmctx: Value,
    /// Variable and IR type of each local, parameters first.
    locals: Vec<(Variable, Type)>,
    /// The wasm operand stack.
    pub(crate) stack: Vec<Value>,
    /// Open blocks, loops and ifs; the function body is the outermost frame.
    pub(crate) control: Vec<Frame>,
    /// Whether the current position can be reached. When not, operators are skipped until the
    /// `else`/`end` that closes the frame in which control was lost.
    pub(crate) reachable: bool,
    /// Number of blocks opened inside unreachable code (not on `control`).
    pub(crate) dead_depth: u32,
    /// Signatures imported into the function, by module type index.
    sigs: HashMap<TypeIndex, ir::SigRef>,
    /// Direct call targets, by function index.
    direct_funcs: HashMap<DefinedFuncIndex, ir::FuncRef>,
    /// Builtin signatures, by builtin index.
    builtin_sigs: HashMap<crate::builtins::Builtin, ir::SigRef>,
    /// The slow-path stubs, once imported (see `stubs.rs`).
    stub_funcs: [Option<ir::FuncRef>; 2],
    /// The fuel counter (`fuel_consumed`) while the function runs, when fuel is metered.
    pub(crate) fuel_var: Option<Variable>,
    /// For each `loop` of the body, in order: whether it makes no call (see `interrupt.rs`).
    pub(crate) call_free_loops: Vec<bool>,
    /// How many `loop` operators were translated or skipped so far.
    pub(crate) loops_seen: usize,
    /// The store's epoch deadline, kept while a call-free loop runs.
    pub(crate) epoch_deadline_var: Option<Variable>,
    /// Cost of the operators of the current straight-line run not yet added to `fuel_var`.
    pub(crate) fuel_pending: u64,
    /// IR types of the function's results.
    pub(crate) result_types: Vec<Type>,
    /// The block that returns with an exception pending, once used (see `exceptions.rs`).
    pub(crate) propagate: Option<ir::Block>,
}

impl<'a, 'e> FuncState<'a, 'e> {
    fn new(
        env: &'e ModuleEnv<'e>,
        func: &'a mut Function,
        builder_ctx: &'a mut FunctionBuilderContext,
        func_type: &FuncType,
    ) -> Self {
        // Every prologue compares SP with the store's stack limit:
        // vmctx -> runtime limits -> stack limit. Cranelift's check traps with a trap
        // instruction; without signals-based traps the body checks instead
        // (`explicit_stack_check`).
        if env.config.signals_based_traps {
            set_stack_limit(func);
        }

        let mut builder = FunctionBuilder::new(func, builder_ctx);
        let entry = builder.create_block();
        builder.append_block_params_for_function_params(entry);
        builder.switch_to_block(entry);
        builder.seal_block(entry);
        let vmctx = builder.block_params(entry)[0];

        // The function body is a block whose end returns its results.
        let exit = builder.create_block();
        for t in &func_type.results {
            builder.append_block_param(exit, ir_type(*t));
        }
        let body_frame = Frame::block(exit, 0, func_type.results.len(), 0);

        Self {
            builder,
            env,
            vmctx,
            locals: Vec::new(),
            stack: Vec::new(),
            control: vec![body_frame],
            reachable: true,
            dead_depth: 0,
            sigs: HashMap::new(),
            direct_funcs: HashMap::new(),
            builtin_sigs: HashMap::new(),
            stub_funcs: [None; 2],
            fuel_var: None,
            call_free_loops: Vec::new(),
            loops_seen: 0,
            epoch_deadline_var: None,
            fuel_pending: 0,
            result_types: func_type.results.iter().map(|t| ir_type(*t)).collect(),
            propagate: None,
        }
    }

    /// Declares a variable per local: parameters take the entry block's values, the others
    /// start at zero.
    fn declare_locals(
        &mut self,
        func_type: &FuncType,
        local_type: impl Fn(u32) -> Option<wasmparser::ValType>,
        count: u32,
    ) -> Result<()> {
        let entry = self.builder.current_block().expect("entry block");
        let first = 2 + usize::from(self.env.config.consume_fuel);
        let params: Vec<Value> = self.builder.block_params(entry)[first..].to_vec();
        debug_assert_eq!(params.len(), func_type.params.len());
        for i in 0..count {
            let ty = local_type(i).ok_or_else(|| anyhow!("local {i} has no type"))?;
            crate::parse::check_body_type(ty, self.env.config.features)?;
            let ty = ir_type_of(ty);
            let var = self.builder.declare_var(ty);
            let init = match params.get(i as usize) {
                Some(&param) => param,
                None => self.zero(ty),
            };
            self.builder.def_var(var, init);
            self.locals.push((var, ty));
        }
        Ok(())
    }

    /// The zero value of `ty` (a declared local's initial value).
    pub(crate) fn zero(&mut self, ty: Type) -> Value {
        match ty {
            types::F32 => self.builder.ins().f32const(0.0),
            types::F64 => self.builder.ins().f64const(0.0),
            ty if ty.is_vector() => {
                let zero = self.builder.func.dfg.constants.insert(vec![0u8; 16].into());
                self.builder.ins().vconst(ty, zero)
            }
            ty => self.builder.ins().iconst(ty, 0),
        }
    }

    /// Hooks run where a function starts executing.
    fn function_entry(&mut self) -> Result<()> {
        // Takes the fuel parameter of the entry block: first.
        self.fuel_function_entry();
        self.epoch_function_entry();
        self.explicit_stack_check();
        self.interruption_checks();
        Ok(())
    }

    /// Closes the function: every block sealed.
    fn finish(mut self) {
        debug_assert!(self.control.is_empty());
        self.emit_propagate_block();
        self.builder.seal_all_blocks();
        self.builder.finalize(self.env.frontend_config);
    }

    /// Pops one operand.
    pub(crate) fn pop(&mut self) -> Value {
        self.stack
            .pop()
            .expect("validated: operand stack underflow")
    }

    /// Pops two operands: `(below, top)`.
    pub(crate) fn pop2(&mut self) -> (Value, Value) {
        let b = self.pop();
        let a = self.pop();
        (a, b)
    }

    /// Pops three operands in push order.
    pub(crate) fn pop3(&mut self) -> (Value, Value, Value) {
        let c = self.pop();
        let (a, b) = self.pop2();
        (a, b, c)
    }

    /// Pops `n` operands in push order.
    pub(crate) fn pop_n(&mut self, n: usize) -> Vec<Value> {
        let at = self.stack.len() - n;
        self.stack.split_off(at)
    }

    /// The top `n` operands in push order, left on the stack.
    pub(crate) fn peek_n(&self, n: usize) -> &[Value] {
        &self.stack[self.stack.len() - n..]
    }

    /// Pushes one operand.
    pub(crate) fn push(&mut self, v: Value) {
        self.stack.push(v);
    }

    /// The pointer stored at `vmctx + offset` (set at instantiation, never changed): a
    /// load that Cranelift may merge with others and hoist out of loops.
    pub(crate) fn vmctx_ptr(&mut self, offset: u32) -> Value {
        self.builder
            .ins()
            .load(types::I64, readonly(), self.vmctx, offset as i32)
    }

    /// Extends an index of a 32-bit memory/table to 64 bits (64-bit indices are unchanged).
    pub(crate) fn index_to_u64(&mut self, index: Value) -> Value {
        if self.builder.func.dfg.value_type(index) == types::I64 {
            index
        } else {
            self.builder.ins().uextend(types::I64, index)
        }
    }

    /// Converts a boolean (`icmp` result) to a wasm `i32`.
    pub(crate) fn bool_to_i32(&mut self, b: Value) -> Value {
        self.builder.ins().uextend(types::I32, b)
    }

    /// Translates one operator (already validated).
    fn translate_operator(&mut self, op: &Operator<'_>) -> Result<()> {
        if !self.reachable {
            return self.translate_unreachable(op);
        }
        use Operator::*;
        match op {
            Nop => {}
            Drop => {
                self.pop();
            }
            Select | TypedSelect { .. } | TypedSelectMulti { .. } => {
                if let TypedSelect { ty } = op {
                    crate::parse::check_body_type(*ty, self.env.config.features)?;
                }
                let (a, b, cond) = self.pop3();
                let v = self.builder.ins().select(cond, a, b);
                self.push(v);
            }
            LocalGet { local_index } => {
                let v = self.builder.use_var(self.locals[*local_index as usize].0);
                self.push(v);
            }
            LocalSet { local_index } => {
                let v = self.pop();
                self.builder
                    .def_var(self.locals[*local_index as usize].0, v);
            }
            LocalTee { local_index } => {
                let v = *self.stack.last().expect("validated");
                self.builder
                    .def_var(self.locals[*local_index as usize].0, v);
            }
            GlobalGet { global_index } => self.global_get(*global_index),
            GlobalSet { global_index } => self.global_set(*global_index),
            _ => {
                if !(self.translate_control(op)?
                    || self.translate_memory(op)?
                    || self.translate_atomic(op)?
                    || self.translate_numeric(op)?
                    || self.translate_table(op)?
                    || self.translate_call(op)?
                    || self.translate_exception(op)?
                    || self.translate_gc(op)?
                    || self.translate_simd(op)?)
                {
                    bail!("unsupported operator {op:?}");
                }
            }
        }
        Ok(())
    }
}

/// Makes Cranelift compare SP with the store's stack limit in `func`'s prologue.
fn set_stack_limit(func: &mut Function) {
    let vmctx_gv = func.create_global_value(GlobalValueData::VMContext);
    let limits = load_gv(
        func,
        vmctx_gv,
        crate::vmoffsets::vmctx::RUNTIME_LIMITS,
        readonly(),
    );
    let stack_limit = load_gv(
        func,
        limits,
        crate::vmoffsets::limits::STACK_LIMIT,
        trusted(),
    );
    func.stack_limit = Some(stack_limit);
}

/// Creates a global value loading an `i64` at `base + offset`.
fn load_gv(
    func: &mut Function,
    base: ir::GlobalValue,
    offset: u32,
    flags: MemFlagsData,
) -> ir::GlobalValue {
    let flags = func.dfg.mem_flags.insert_unchecked(flags);
    func.create_global_value(GlobalValueData::Load {
        base,
        offset: (offset as i32).into(),
        global_type: types::I64,
        flags,
    })
}
