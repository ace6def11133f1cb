//! The WebAssembly 2.0 spec test suite, one test per script.
//!
//! The target set is every `.wast` file at the root of the suite's `v2/` directory except the
//! SIMD ones (`simd_*`). The suite is found at `$WASMJIT_TESTSUITE/v2` when that variable is
//! set, else at `../shared/wasm-testsuite/v2` next to the workspace root. When it is missing,
//! each test prints a `SKIPPED` line (straight to stderr, past the test harness's capture) and
//! returns.

use std::io::Write as _;
use std::path::PathBuf;

/// Where the suite's `v2` directory should be, and whether it is there.
fn suite_dir() -> (PathBuf, bool) {
    let dir = match std::env::var_os("WASMJIT_TESTSUITE") {
        Some(root) => PathBuf::from(root).join("v2"),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/wasm-testsuite/v2"),
    };
    let present = dir.is_dir();
    (dir, present)
}

fn run_spec(file: &str) {
    let (dir, present) = suite_dir();
    if !present {
        // Written to the real stderr, not through `eprintln!`, so that it shows even though
        // the harness captures the output of passing tests.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED spec test {file}: no spec suite at {} (set WASMJIT_TESTSUITE to the \
             wasm-testsuite checkout)",
            dir.display()
        );
        return;
    }
    let report = wasmjit_wast::run_file(&dir.join(file));
    assert!(report.passed(), "{report}");
}

macro_rules! spec_tests {
    ($($name:ident => $file:literal,)*) => {
        /// Every file of the target set, as listed below.
        const TARGET_FILES: &[&str] = &[$($file),*];

        $(
            #[test]
            fn $name() {
                run_spec($file);
            }
        )*
    };
}

spec_tests! {
    address => "address.wast",
    align => "align.wast",
    binary_leb128 => "binary-leb128.wast",
    binary => "binary.wast",
    block => "block.wast",
    br => "br.wast",
    br_if => "br_if.wast",
    br_table => "br_table.wast",
    bulk => "bulk.wast",
    call => "call.wast",
    call_indirect => "call_indirect.wast",
    comments => "comments.wast",
    const_ => "const.wast",
    conversions => "conversions.wast",
    custom => "custom.wast",
    data => "data.wast",
    elem => "elem.wast",
    endianness => "endianness.wast",
    exports => "exports.wast",
    f32 => "f32.wast",
    f32_bitwise => "f32_bitwise.wast",
    f32_cmp => "f32_cmp.wast",
    f64 => "f64.wast",
    f64_bitwise => "f64_bitwise.wast",
    f64_cmp => "f64_cmp.wast",
    fac => "fac.wast",
    float_exprs => "float_exprs.wast",
    float_literals => "float_literals.wast",
    float_memory => "float_memory.wast",
    float_misc => "float_misc.wast",
    forward => "forward.wast",
    func => "func.wast",
    func_ptrs => "func_ptrs.wast",
    global => "global.wast",
    i32 => "i32.wast",
    i64 => "i64.wast",
    if_ => "if.wast",
    imports => "imports.wast",
    inline_module => "inline-module.wast",
    int_exprs => "int_exprs.wast",
    int_literals => "int_literals.wast",
    labels => "labels.wast",
    left_to_right => "left-to-right.wast",
    linking => "linking.wast",
    load => "load.wast",
    local_get => "local_get.wast",
    local_set => "local_set.wast",
    local_tee => "local_tee.wast",
    loop_ => "loop.wast",
    memory => "memory.wast",
    memory_copy => "memory_copy.wast",
    memory_fill => "memory_fill.wast",
    memory_grow => "memory_grow.wast",
    memory_init => "memory_init.wast",
    memory_redundancy => "memory_redundancy.wast",
    memory_size => "memory_size.wast",
    memory_trap => "memory_trap.wast",
    names => "names.wast",
    nop => "nop.wast",
    obsolete_keywords => "obsolete-keywords.wast",
    ref_func => "ref_func.wast",
    ref_is_null => "ref_is_null.wast",
    ref_null => "ref_null.wast",
    return_ => "return.wast",
    select => "select.wast",
    skip_stack_guard_page => "skip-stack-guard-page.wast",
    stack => "stack.wast",
    start => "start.wast",
    store => "store.wast",
    switch => "switch.wast",
    table_sub => "table-sub.wast",
    table => "table.wast",
    table_copy => "table_copy.wast",
    table_fill => "table_fill.wast",
    table_get => "table_get.wast",
    table_grow => "table_grow.wast",
    table_init => "table_init.wast",
    table_set => "table_set.wast",
    table_size => "table_size.wast",
    token => "token.wast",
    traps => "traps.wast",
    type_ => "type.wast",
    unreachable => "unreachable.wast",
    unreached_invalid => "unreached-invalid.wast",
    unreached_valid => "unreached-valid.wast",
    unwind => "unwind.wast",
    utf8_custom_section_id => "utf8-custom-section-id.wast",
    utf8_import_field => "utf8-import-field.wast",
    utf8_import_module => "utf8-import-module.wast",
    utf8_invalid_encoding => "utf8-invalid-encoding.wast",
}

/// The list above must be the whole target set, so no script of the suite goes untested.
#[test]
fn target_set_is_fully_listed() {
    let (dir, present) = suite_dir();
    if !present {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED target_set_is_fully_listed: no spec suite at {}",
            dir.display()
        );
        return;
    }
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .expect("read the spec suite directory")
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".wast") && !name.starts_with("simd_"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = TARGET_FILES.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(
        on_disk, listed,
        "tests/all/spec.rs must list exactly the target set"
    );
}
