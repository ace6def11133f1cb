//! Fuzz target `compile`: compiling never panics or crashes, and valid modules compile.
//!
//! The first input byte picks a mode, the rest is the data:
//! - raw: the bytes go to `Module::new` (binary or text), which must return, `Ok` or `Err`;
//! - smith: a wasm-smith module using the features wasmjit enables (by default Wasm 2.0 with
//!   SIMD; or the default plus the extra proposals `Config` has switches for). If wasmparser
//!   validates it with those features, `Module::new` must succeed;
//! - mutated: a wasm-smith module with a few bytes overwritten by the input: `Module::new` must
//!   not panic, and must succeed exactly when wasmparser validates the result.
#![cfg_attr(feature = "libfuzzer", no_main)]

#[cfg(not(feature = "libfuzzer"))]
mod standalone;

use arbitrary::Unstructured;
use wasmparser::WasmFeatures;

/// The feature sets a case may use: wasmjit's defaults, and the defaults plus every proposal
/// `Config` has a switch for.
fn feature_set(extended: bool) -> (WasmFeatures, wasmjit::Config) {
    let mut config = wasmjit::Config::new();
    config.parallel_compilation(false);
    let mut features = WasmFeatures::WASM2;
    if extended {
        config
            .wasm_relaxed_simd(true)
            .wasm_tail_call(true)
            .wasm_extended_const(true)
            .wasm_multi_memory(true)
            .wasm_memory64(true);
        features |= WasmFeatures::RELAXED_SIMD
            | WasmFeatures::TAIL_CALL
            | WasmFeatures::EXTENDED_CONST
            | WasmFeatures::MULTI_MEMORY
            | WasmFeatures::MEMORY64;
    }
    (features, config)
}

thread_local! {
    static ENGINES: [wasmjit::Engine; 2] = [
        wasmjit::Engine::new(&feature_set(false).1).unwrap(),
        wasmjit::Engine::new(&feature_set(true).1).unwrap(),
    ];
}

fn smith_config(extended: bool) -> wasm_smith::Config {
    wasm_smith::Config {
        gc_enabled: false,
        exceptions_enabled: false,
        threads_enabled: false,
        shared_everything_threads_enabled: false,
        custom_page_sizes_enabled: false,
        wide_arithmetic_enabled: false,
        custom_descriptors_enabled: false,
        compact_imports_enabled: false,
        acquire_release_atomics_enabled: false,
        multibyte_array_access_enabled: false,
        simd_enabled: true,
        relaxed_simd_enabled: extended,
        tail_call_enabled: extended,
        extended_const_enabled: extended,
        memory64_enabled: extended,
        max_memories: if extended { 4 } else { 1 },
        max_tables: 4,
        max_tags: 0,
        min_types: 1,
        min_funcs: 1,
        max_funcs: 20,
        max_instructions: 500,
        ..wasm_smith::Config::default()
    }
}

fn validates(features: WasmFeatures, wasm: &[u8]) -> Result<(), String> {
    wasmparser::Validator::new_with_features(features)
        .validate_all(wasm)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn run(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let extended = mode & 0x80 != 0;
    let (features, _) = feature_set(extended);
    let engine = ENGINES.with(|e| e[usize::from(extended)].clone());
    match mode % 3 {
        0 => {
            let _ = wasmjit::Module::new(&engine, rest);
        }
        1 | 2 => {
            let mut u = Unstructured::new(rest);
            let Ok(module) = wasm_smith::Module::new(smith_config(extended), &mut u) else {
                return;
            };
            let mut wasm = module.to_bytes();
            if mode % 3 == 2 {
                // Overwrite up to 8 bytes (never the header, so the binary parser is used).
                let n = u.int_in_range(1..=8).unwrap_or(1);
                for _ in 0..n {
                    if wasm.len() <= 8 {
                        break;
                    }
                    let Ok(at) = u.int_in_range(8..=wasm.len() - 1) else {
                        break;
                    };
                    wasm[at] = u.arbitrary().unwrap_or(0);
                }
            }
            let valid = validates(features, &wasm);
            let compiled = wasmjit::Module::new(&engine, &wasm);
            match (valid, compiled) {
                (Ok(()), Err(e)) => panic!(
                    "valid module (features {features:?}) failed to compile: {e:#}\nmodule (hex): {}",
                    hex(&wasm)
                ),
                (Err(v), Ok(_)) => panic!(
                    "invalid module compiled (wasmparser: {v})\nmodule (hex): {}",
                    hex(&wasm)
                ),
                _ => {}
            }
        }
        _ => unreachable!(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(feature = "libfuzzer")]
libfuzzer_sys::fuzz_target!(|data: &[u8]| run(data));

#[cfg(not(feature = "libfuzzer"))]
fn main() {
    standalone::main("compile", run);
}
