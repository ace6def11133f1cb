//! Per-signature trampolines between the host's "array call" convention and the wasm
//! convention (see the crate docs).

use crate::code::FunctionCode;
use crate::isa::build_isa;
use crate::jit::{self, compile_context, CompiledFunction, JitMemory};
use crate::module_info::FuncType;
use crate::translate::{emit_raise_if, ir_type, wasm_signature};
use crate::vmoffsets::{self, host_ctx, VAL_RAW_SIZE};
use crate::{trap_codes, CompileConfig};
use anyhow::{bail, Result};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    types, AbiParam, Function, InstBuilder, MemFlagsData, Signature, StackSlotData, StackSlotKind,
    UserFuncName, Value,
};
use cranelift_codegen::isa::TargetIsa;
use cranelift_codegen::Context;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

/// The two trampolines of one function signature, in executable memory owned by this value.
pub struct Trampolines {
    /// `extern "C" fn(callee_vmctx, caller_vmctx, wasm_call: *const u8, values: *mut ValRaw)`:
    /// calls `wasm_call` (wasm convention) with the params read from `values[i]`, and writes
    /// result `i` to `values[i]`. `values` must hold `max(params, results)` slots. With fuel
    /// metering, passes the store's fuel counter (read through `callee_vmctx`'s runtime
    /// limits) and writes the returned counter back.
    pub array_to_wasm: CompiledFunction,
    /// Wasm convention `(callee_vmctx = host context, caller_vmctx, params...) -> results`:
    /// stores the params into a stack buffer of `max(params, results, 1)` 16-byte slots and
    /// calls `host_ctx::ARRAY_CALL` as `(host_ctx, caller_vmctx, values, max(params, results))`;
    /// traps with `HOST_ERROR` when it returns false, else returns the results read back from
    /// the buffer. With fuel metering, stores the fuel parameter into the store's counter
    /// (through `caller_vmctx`'s runtime limits) before the call and returns the counter read
    /// back after it.
    pub wasm_to_array: CompiledFunction,
    /// Both before placement (`array_to_wasm`, `wasm_to_array`): what a serialized module
    /// stores.
    pub unlinked: Vec<FunctionCode>,
    _memory: JitMemory,
}

// SAFETY: the code is immutable once finalized; the pointers only point into memory this
// value owns and frees on drop.
unsafe impl Send for Trampolines {}
// SAFETY: as above; nothing is mutated through `&self`.
unsafe impl Sync for Trampolines {}

/// Value slots may be only 8-byte aligned: no `aligned` flag (v128 accesses).
fn slot_flags() -> MemFlagsData {
    MemFlagsData::new().with_notrap()
}

/// Compiles and links the trampolines of signature `ty` for the host.
pub fn compile_trampolines(ty: &FuncType, config: &CompileConfig) -> Result<Trampolines> {
    let isa = build_isa(config, None)?;
    let unlinked = trampoline_code(ty, config, &*isa)?;
    link(isa, unlinked)
}

/// The trampolines of signature `ty` for the host, compiled but not placed:
/// `[array_to_wasm, wasm_to_array]`. They hold no relocation.
pub fn compile_trampolines_unlinked(
    ty: &FuncType,
    config: &CompileConfig,
) -> Result<Vec<FunctionCode>> {
    trampoline_code(ty, config, &*build_isa(config, None)?)
}

fn trampoline_code(
    ty: &FuncType,
    config: &CompileConfig,
    isa: &dyn TargetIsa,
) -> Result<Vec<FunctionCode>> {
    let mut builder_ctx = FunctionBuilderContext::new();
    let unlinked = vec![
        compile(array_to_wasm(ty, config, isa, &mut builder_ctx), isa, 0)?,
        compile(wasm_to_array(ty, config, isa, &mut builder_ctx), isa, 1)?,
    ];
    if unlinked.iter().any(|f| !f.relocs.is_empty()) {
        bail!("a trampoline with relocations");
    }
    Ok(unlinked)
}

fn link(
    isa: cranelift_codegen::isa::OwnedTargetIsa,
    unlinked: Vec<FunctionCode>,
) -> Result<Trampolines> {
    let (memory, mut functions) = jit::link(isa, &unlinked)?;
    let wasm_to_array = functions.pop().expect("two trampolines");
    let array_to_wasm = functions.pop().expect("two trampolines");
    Ok(Trampolines {
        array_to_wasm,
        wasm_to_array,
        unlinked,
        _memory: memory,
    })
}

fn compile(func: Function, isa: &dyn TargetIsa, index: u32) -> Result<FunctionCode> {
    let mut ctx = Context::for_function(func);
    compile_context(&mut ctx, isa, index, || "a trampoline".to_string())
}

/// The store's `VMRuntimeLimits`, read through a wasm instance's `VMContext`.
fn limits_ptr(b: &mut FunctionBuilder<'_>, vmctx: Value) -> Value {
    b.ins().load(
        types::I64,
        MemFlagsData::trusted(),
        vmctx,
        vmoffsets::vmctx::RUNTIME_LIMITS as i32,
    )
}

fn array_to_wasm(
    ty: &FuncType,
    config: &CompileConfig,
    isa: &dyn TargetIsa,
    ctx: &mut FunctionBuilderContext,
) -> Function {
    let mut sig = Signature::new(isa.default_call_conv());
    sig.params.extend([AbiParam::new(types::I64); 4]);
    let mut func = Function::with_name_signature(UserFuncName::user(1, 0), sig);
    let mut b = FunctionBuilder::new(&mut func, ctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let &[callee_vmctx, caller_vmctx, wasm_call, values] = b.block_params(entry) else {
        unreachable!("four parameters")
    };

    let mut args = vec![callee_vmctx, caller_vmctx];
    // The callee is a wasm function: its context leads to the store's limits.
    let limits = config
        .consume_fuel
        .then(|| limits_ptr(&mut b, callee_vmctx));
    if let Some(limits) = limits {
        let fuel = b.ins().load(
            types::I64,
            MemFlagsData::trusted(),
            limits,
            vmoffsets::limits::FUEL_CONSUMED as i32,
        );
        args.push(fuel);
    }
    for (i, t) in ty.params.iter().enumerate() {
        let offset = (i as u32 * VAL_RAW_SIZE) as i32;
        // An externref's raw form is 32 bits (as in Wasmtime's C API, whose callers write only
        // the `externref` field of a slot): the rest of the slot may be garbage.
        let arg = match t {
            t if t.is_extern_ref() => b.ins().uload32(slot_flags(), values, offset),
            _ => b.ins().load(ir_type(*t), slot_flags(), values, offset),
        };
        args.push(arg);
    }
    let wasm_sig = b.import_signature(wasm_signature(ty, config.consume_fuel));
    let call = b.ins().call_indirect(wasm_sig, wasm_call, &args);
    let mut results = b.inst_results(call).to_vec();
    if let Some(limits) = limits {
        let fuel = results.remove(0);
        b.ins().store(
            MemFlagsData::trusted(),
            fuel,
            limits,
            vmoffsets::limits::FUEL_CONSUMED as i32,
        );
    }
    for (i, r) in results.into_iter().enumerate() {
        let offset = (i as u32 * VAL_RAW_SIZE) as i32;
        b.ins().store(slot_flags(), r, values, offset);
    }
    b.ins().return_(&[]);
    b.finalize(isa.frontend_config());
    func
}

fn wasm_to_array(
    ty: &FuncType,
    config: &CompileConfig,
    isa: &dyn TargetIsa,
    ctx: &mut FunctionBuilderContext,
) -> Function {
    let fuel = config.consume_fuel;
    let mut func =
        Function::with_name_signature(UserFuncName::user(1, 1), wasm_signature(ty, fuel));
    let mut b = FunctionBuilder::new(&mut func, ctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let params = b.block_params(entry).to_vec();
    let (host_ctx, caller_vmctx) = (params[0], params[1]);
    // Called from wasm only: the caller's context leads to the store's limits. The host sees
    // (and may change) the counter in memory.
    let limits = fuel.then(|| {
        let limits = limits_ptr(&mut b, caller_vmctx);
        b.ins().store(
            MemFlagsData::trusted(),
            params[2],
            limits,
            vmoffsets::limits::FUEL_CONSUMED as i32,
        );
        limits
    });
    let wasm_params = &params[2 + usize::from(fuel)..];

    let capacity = ty.params.len().max(ty.results.len());
    let slot = b.create_sized_stack_slot(StackSlotData::new(
        StackSlotKind::ExplicitSlot,
        capacity.max(1) as u32 * VAL_RAW_SIZE,
        4,
    ));
    for (i, p) in wasm_params.iter().enumerate() {
        b.ins()
            .stack_store(types::I64, *p, slot, (i as u32 * VAL_RAW_SIZE) as i32);
    }
    let values = b.ins().stack_addr(types::I64, slot, 0);
    let len = b.ins().iconst(types::I64, capacity as i64);

    let mut host_sig = Signature::new(isa.default_call_conv());
    host_sig.params.extend([AbiParam::new(types::I64); 4]);
    host_sig.returns.push(AbiParam::new(types::I8));
    let host_sig = b.import_signature(host_sig);
    let array_call = b.ins().load(
        types::I64,
        MemFlagsData::trusted(),
        host_ctx,
        host_ctx::ARRAY_CALL as i32,
    );
    let call = b
        .ins()
        .call_indirect(host_sig, array_call, &[host_ctx, caller_vmctx, values, len]);
    let ok = b.inst_results(call)[0];
    if config.signals_based_traps {
        b.ins().trapz(ok, trap_codes::HOST_ERROR);
    } else {
        // The caller is wasm, whose context holds the builtin table.
        let failed = b.ins().icmp_imm_s(IntCC::Equal, ok, 0);
        let call_conv = isa.default_call_conv();
        emit_raise_if(
            &mut b,
            call_conv,
            caller_vmctx,
            failed,
            trap_codes::HOST_ERROR,
        );
    }

    let mut results = Vec::with_capacity(ty.results.len() + 1);
    if let Some(limits) = limits {
        results.push(b.ins().load(
            types::I64,
            MemFlagsData::trusted(),
            limits,
            vmoffsets::limits::FUEL_CONSUMED as i32,
        ));
    }
    results.extend(ty.results.iter().enumerate().map(|(i, t)| {
        b.ins().stack_load(
            types::I64,
            ir_type(*t),
            slot,
            (i as u32 * VAL_RAW_SIZE) as i32,
        )
    }));
    b.ins().return_(&results);
    b.finalize(isa.frontend_config());
    func
}
