//! The `VMContext` layout: arrays in the documented order, aligned, without overlap.

use wasmjit_compiler::vmoffsets::{funcref, limits, memory, table, vmctx, VMOffsets, PTR};
use wasmjit_compiler::{parse, CompileConfig};

fn offsets_of(wat: &str) -> VMOffsets {
    let bytes = wat::parse_str(wat).unwrap();
    let (info, _) = parse(&bytes, &CompileConfig::default()).unwrap();
    VMOffsets::new(&info)
}

#[test]
fn arrays_follow_the_header_in_order() {
    let o = offsets_of(
        r#"(module
          (import "m" "f" (func)) (import "m" "g" (func))
          (import "m" "mem" (memory 1))
          (table 1 funcref) (table 1 externref)
          (global i32 (i32.const 0)) (global (mut i64) (i64.const 0)) (global f32 (f32.const 0))
          (func) (func) (func))"#,
    );
    assert_eq!(
        (
            o.num_imported_funcs,
            o.num_defined_funcs,
            o.num_memories,
            o.num_tables,
            o.num_globals
        ),
        (2, 3, 1, 2, 3)
    );
    assert_eq!(o.imported_func(0), vmctx::HEADER_SIZE);
    assert_eq!(o.imported_func(1), vmctx::HEADER_SIZE + PTR);
    assert_eq!(o.memory(0), o.imported_func(1) + PTR);
    assert_eq!(o.table(0), o.memory(0) + PTR);
    assert_eq!(o.table(1), o.table(0) + PTR);
    assert_eq!(o.global(0), o.table(1) + PTR);
    assert_eq!(o.defined_funcref(0), o.global(2) + PTR);
    assert_eq!(
        o.defined_funcref(2),
        o.defined_funcref(0) + 2 * funcref::SIZE
    );
    assert_eq!(o.size(), o.defined_funcref(2) + funcref::SIZE);
    for offset in [
        o.imported_func(1),
        o.memory(0),
        o.global(2),
        o.defined_funcref(1),
    ] {
        assert_eq!(offset % 8, 0, "every entry is pointer-aligned");
    }
}

#[test]
fn tags_come_last_so_modules_without_tags_keep_their_layout() {
    let wat = r#"(module
      (import "m" "t" (tag (param i32)))
      (global i32 (i32.const 0))
      (tag) (tag (param f64))
      (func))"#;
    let bytes = wat::parse_str(wat).unwrap();
    let mut config = CompileConfig::default();
    config.features |= wasmjit_compiler::WasmFeatures::EXCEPTIONS;
    let (info, _) = parse(&bytes, &config).unwrap();
    assert_eq!((info.tags.len(), info.num_imported_tags), (3, 1));
    let o = VMOffsets::new(&info);
    assert_eq!(o.num_tags, 3);
    assert_eq!(o.tag(0), o.defined_funcref(0) + funcref::SIZE);
    assert_eq!(o.tag(2), o.tag(0) + 2 * PTR);
    assert_eq!(o.size(), o.tag(2) + PTR);
    // Without the feature, tags are rejected and name the switch.
    let err = parse(&bytes, &CompileConfig::default()).unwrap_err();
    assert!(format!("{err:#}").contains("wasm_exceptions"), "{err:#}");
}

#[test]
fn empty_module_is_just_the_header() {
    let o = offsets_of("(module)");
    assert_eq!(o.size(), vmctx::HEADER_SIZE);
}

#[test]
fn structure_fields_fit_their_structures() {
    // Fields are 8 bytes apart except the trailing u32 type id of a funcref.
    const { assert!(funcref::TYPE_ID + 4 <= funcref::SIZE) };
    const { assert!(funcref::WASM_CALL < funcref::ARRAY_CALL && funcref::ARRAY_CALL < funcref::VMCTX) };
    assert_eq!(memory::CURRENT_LENGTH + 8, memory::SIZE);
    assert_eq!(table::CURRENT_ELEMENTS + 8, table::SIZE);
    assert_eq!(limits::EPOCH_DEADLINE + 8, limits::SLOW_PATH_STATUS);
    assert_eq!(limits::SLOW_PATH_STATUS + 8, limits::PENDING_EXCEPTION);
    assert_eq!(limits::PENDING_EXCEPTION + 8, limits::SIZE);
    assert_eq!(vmctx::INSTANCE + PTR, vmctx::EPOCH_DEADLINE);
    assert_eq!(vmctx::EPOCH_DEADLINE + 8, vmctx::SELF);
    assert_eq!(vmctx::SELF + PTR, vmctx::TYPE_IDS);
    assert_eq!(vmctx::TYPE_IDS + PTR, vmctx::HEADER_SIZE);
}
