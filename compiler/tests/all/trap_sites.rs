//! Compiled code reports trap sites and wasm offsets the runtime can map faults with.

use wasmjit_compiler::{compile, parse, trap_codes, CompileConfig, CompiledCode, TrapCode};

fn compile_wat(wat: &str, config: &CompileConfig) -> (Vec<u8>, CompiledCode) {
    let bytes = wat::parse_str(wat).unwrap();
    let (info, bodies) = parse(&bytes, config).unwrap();
    let code = compile(&info, bodies, config).unwrap();
    (bytes, code)
}

fn codes(code: &CompiledCode, func: usize) -> Vec<TrapCode> {
    code.functions[func].traps.iter().map(|t| t.1).collect()
}

#[test]
fn unreachable_is_a_trap_site_mapped_to_its_operator() {
    let (bytes, code) = compile_wat(
        "(module (func nop nop unreachable))",
        &CompileConfig::default(),
    );
    let f = &code.functions[0];
    let &(offset, trap) = f
        .traps
        .iter()
        .find(|t| t.1 == trap_codes::UNREACHABLE)
        .expect("unreachable trap site");
    assert_eq!(trap, trap_codes::UNREACHABLE);
    assert_eq!(f.trap_code(offset), Some(trap_codes::UNREACHABLE));
    // The unreachable opcode (0x00) is at the mapped wasm offset.
    let wasm_offset = f.wasm_offset(offset).expect("mapped") as usize;
    assert_eq!(bytes[wasm_offset], 0x00);
    assert!(f.addr_map.windows(2).all(|w| w[0].0 <= w[1].0));
    assert!(f.traps.windows(2).all(|w| w[0].0 <= w[1].0));
}

#[test]
fn trapping_operators_have_their_codes() {
    let (_, code) = compile_wat(
        r#"(module
          (table 1 funcref)
          (func (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)
          (func (param f64) (result i32) local.get 0 i32.trunc_f64_s)
          (func (param i32) local.get 0 call_indirect)
          (func (param i32) (result funcref) local.get 0 table.get 0))"#,
        &CompileConfig::default(),
    );
    assert!(codes(&code, 0).contains(&TrapCode::INTEGER_DIVISION_BY_ZERO));
    assert!(codes(&code, 0).contains(&TrapCode::INTEGER_OVERFLOW));
    assert!(codes(&code, 1).contains(&TrapCode::BAD_CONVERSION_TO_INTEGER));
    assert!(codes(&code, 1).contains(&TrapCode::INTEGER_OVERFLOW));
    let indirect = codes(&code, 2);
    for trap in [
        trap_codes::TABLE_OUT_OF_BOUNDS,
        trap_codes::INDIRECT_CALL_TO_NULL,
        trap_codes::BAD_SIGNATURE,
    ] {
        assert!(indirect.contains(&trap), "{trap:?} missing in {indirect:?}");
    }
    assert!(codes(&code, 3).contains(&trap_codes::TABLE_OUT_OF_BOUNDS));
    // Every prologue that uses stack checks the stack limit (leaves without a frame don't).
    assert!(indirect.contains(&TrapCode::STACK_OVERFLOW));
}

#[test]
fn guard_pages_replace_bounds_checks_on_static_memories() {
    let wat = "(module (memory 1) (func (param i32) (result i32) local.get 0 i32.load offset=16))";
    let oob_sites = |config: &CompileConfig| {
        let (_, code) = compile_wat(wat, config);
        codes(&code, 0)
            .iter()
            .filter(|c| **c == TrapCode::HEAP_OUT_OF_BOUNDS)
            .count()
    };
    // Static: the load itself is the only out-of-bounds trap site (a guard-page fault).
    assert_eq!(oob_sites(&CompileConfig::default()), 1);
    // Dynamic: an explicit check precedes the load.
    let dynamic = CompileConfig {
        memory_reservation: 1 << 20,
        ..CompileConfig::default()
    };
    assert_eq!(oob_sites(&dynamic), 2);
}

#[test]
fn compiled_code_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<CompiledCode>();
    assert_send_sync::<wasmjit_compiler::Trampolines>();
}

#[test]
fn code_range_covers_every_function() {
    let (_, code) = compile_wat(
        "(module (func) (func (result i32) i32.const 1) (func))",
        &CompileConfig::default(),
    );
    let (start, end) = code.code_range().unwrap();
    for (i, f) in code.functions.iter().enumerate() {
        assert!(start <= f.ptr as usize && f.ptr as usize + f.len <= end);
        assert_eq!(code.function_at(f.ptr as usize).unwrap().0, i as u32);
    }
}
