//! The core scripts of the WebAssembly 2.0 spec suite (every `.wast` file at the root of
//! `v2/`, SIMD included) on engines with `signals_based_traps(false)`, in a process where any
//! SIGSEGV, SIGILL, SIGFPE or SIGBUS aborts: every trap the suite expects must be raised
//! without a signal. This binary holds this one test, so that the handlers it installs
//! affect nothing else. The suite is found as in `tests/all/spec.rs`.

use std::io::Write as _;
use std::path::PathBuf;

#[path = "../runtime/tests/all/support/abort_on_fault.rs"]
mod abort_on_fault;

#[test]
fn core_spec_suite_passes_without_signals() {
    let dir = match std::env::var_os("WASMJIT_TESTSUITE") {
        Some(root) => PathBuf::from(root).join("v2"),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/wasm-testsuite/v2"),
    };
    if !dir.is_dir() {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: no spec suite at {} (set WASMJIT_TESTSUITE)",
            dir.display()
        );
        return;
    }
    abort_on_fault::install();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read the spec suite directory")
        .filter_map(|entry| Some(entry.ok()?.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "wast"))
        .collect();
    files.sort();
    assert!(
        files.len() > 100,
        "only {} scripts in {}",
        files.len(),
        dir.display()
    );
    let reports: Vec<_> = files
        .iter()
        .map(|path| {
            wasmjit_wast::run_file_with(path, |config| {
                config.signals_based_traps(false);
            })
        })
        .collect();
    let failures: Vec<String> = reports
        .iter()
        .filter(|report| !report.passed())
        .map(|report| report.to_string())
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let directives: usize = reports.iter().map(|report| report.directives).sum();
    assert!(directives > 20_000, "only {directives} directives ran");
    // The engines installed nothing (with signals on, the runtime's handlers would have
    // replaced these, and caught the traps).
    if let Some(signal) = abort_on_fault::replaced() {
        panic!("the handler of signal {signal} was replaced");
    }
}
