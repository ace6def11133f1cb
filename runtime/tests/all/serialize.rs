//! Precompiled modules: `Module::serialize` holds machine code, `Module::deserialize` places it
//! without compiling, refuses engines of other settings naming the setting, and survives
//! corrupt input.

use crate::support::child::{in_child_for, run_in_child};
use wasmjit::*;

/// Indirect calls (two signatures, a mismatch), a host import, a trap with a backtrace
/// position, memory and a loop: what compiled code takes from its environment.
const MODULE: &str = r#"(module
    (type $ii (func (param i32) (result i32)))
    (type $v (func))
    (import "host" "add" (func $add (param i32 i32) (result i32)))
    (memory (export "mem") 1)
    (table 3 funcref)
    (elem (i32.const 0) $double $triple $nothing)
    (func $double (type $ii) (i32.mul (local.get 0) (i32.const 2)))
    (func $triple (type $ii) (i32.mul (local.get 0) (i32.const 3)))
    (func $nothing (type $v))
    (func (export "pick") (param i32 i32) (result i32)
        (call_indirect (type $ii) (local.get 1) (local.get 0)))
    (func (export "sum") (param i32) (result i32) (local $acc i32)
        (loop $l
            (local.set $acc (call $add (local.get $acc) (local.get 0)))
            (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
            (br_if $l (local.get 0)))
        (i32.store (i32.const 8) (local.get $acc))
        (i32.load (i32.const 8)))
    (func (export "floor") (param f64) (result f64) (f64.floor (local.get 0)))
    (func (export "boom") unreachable))"#;

fn run(engine: &Engine, module: &Module) -> Result<()> {
    let mut store = Store::new(engine, ());
    let add = Func::wrap(&mut store, |a: i32, b: i32| a + b);
    let instance = Instance::new(&mut store, module, &[add.into()])?;
    let pick = instance.get_typed_func::<(i32, i32), i32>(&mut store, "pick")?;
    assert_eq!(pick.call(&mut store, (0, 5))?, 10);
    assert_eq!(pick.call(&mut store, (1, 5))?, 15);
    let err = pick.call(&mut store, (2, 5)).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::BadSignature));
    let sum = instance.get_typed_func::<i32, i32>(&mut store, "sum")?;
    assert_eq!(sum.call(&mut store, 100)?, 5050);
    let floor = instance.get_typed_func::<f64, f64>(&mut store, "floor")?;
    assert_eq!(floor.call(&mut store, -1.5)?, -2.0);
    let boom = instance.get_typed_func::<(), ()>(&mut store, "boom")?;
    let err = boom.call(&mut store, ()).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::UnreachableCodeReached)
    );
    let trace = err.downcast_ref::<WasmBacktrace>().expect("a backtrace");
    assert!(trace.frames()[0].module_offset().is_some(), "{trace:?}");
    Ok(())
}

#[test]
fn loading_compiles_nothing() {
    run_in_child(module_path!(), "child_loading_compiles_nothing");
}

/// In a child: the compilation counter is the process's, and other tests compile.
#[test]
#[ignore = "run in a child process by the test above"]
fn child_loading_compiles_nothing() {
    if !in_child_for("child_loading_compiles_nothing") {
        return;
    }
    let bytes = Engine::default()
        .precompile_module(MODULE.as_bytes())
        .unwrap();
    // A fresh engine: its type registry has none of the module's trampolines yet.
    let engine = Engine::default();
    let before = wasmjit::compilations();
    // SAFETY: the bytes come from `precompile_module` of an engine of the same settings.
    let module = unsafe { Module::deserialize(&engine, &bytes) }.unwrap();
    run(&engine, &module).unwrap();
    assert_eq!(
        wasmjit::compilations(),
        before,
        "loading compiled something"
    );
}

#[test]
fn precompiled_code_runs_in_an_engine_with_other_type_ids() {
    let bytes = Engine::default()
        .precompile_module(MODULE.as_bytes())
        .unwrap();
    let engine = Engine::default();
    // Types registered first take this engine's first ids: the module's types get ids other
    // than in the engine that compiled it.
    let _taken = Module::new(
        &engine,
        r#"(module (type (func (param i64 i64 i64))) (type (func (param f32) (result i32)))
                   (type (func (param i32) (result i64))) (type (func (result f64))))"#,
    )
    .unwrap();
    // SAFETY: as above.
    let module = unsafe { Module::deserialize(&engine, &bytes) }.unwrap();
    run(&engine, &module).unwrap();
    // And a file, through `deserialize_file`.
    let path = std::env::temp_dir().join(format!("wasmjit-serialize-{}.cwasm", std::process::id()));
    std::fs::write(&path, &bytes).unwrap();
    // SAFETY: as above.
    let from_file = unsafe { Module::deserialize_file(&engine, &path) };
    std::fs::remove_file(&path).unwrap();
    run(&engine, &from_file.unwrap()).unwrap();
}

#[test]
fn every_loading_entry_point_runs_the_precompiled_code() {
    let engine = Engine::default();
    let bytes = engine.precompile_module(MODULE.as_bytes()).unwrap();
    let dir = std::env::temp_dir().join(format!("wasmjit-serialize-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cwasm = dir.join("m.cwasm");
    let wat = dir.join("m.wat");
    std::fs::write(&cwasm, &bytes).unwrap();
    std::fs::write(&wat, MODULE).unwrap();
    // SAFETY: the bytes were made by `precompile_module` of an engine with these settings, and
    // the files are not changed while loading.
    let modules = unsafe {
        [
            Module::deserialize_open_file(&engine, std::fs::File::open(&cwasm).unwrap()),
            Module::deserialize_raw(&engine, std::ptr::NonNull::from(&bytes[..])),
            Module::from_trusted_file(&engine, &cwasm),
            Module::from_trusted_file(&engine, &wat),
        ]
    };
    for module in modules {
        run(&engine, &module.unwrap()).unwrap();
    }
    // A truncated artifact is refused by each, not run or misread as wasm.
    std::fs::write(&cwasm, &bytes[..bytes.len() / 2]).unwrap();
    // SAFETY: as above; loading fails on framing before any code is placed.
    unsafe {
        let open = std::fs::File::open(&cwasm).unwrap();
        assert!(Module::deserialize_open_file(&engine, open).is_err());
        assert!(Module::from_trusted_file(&engine, &cwasm).is_err());
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn serializing_a_loaded_module_gives_the_same_bytes() {
    let engine = Engine::default();
    let bytes = engine.precompile_module(MODULE.as_bytes()).unwrap();
    // SAFETY: as above.
    let module = unsafe { Module::deserialize(&engine, &bytes) }.unwrap();
    assert_eq!(module.serialize().unwrap(), bytes);
}

/// A setting changed alone: what it is, the change, and words the error must contain.
type Mismatch = (&'static str, Box<dyn Fn(&mut Config)>, &'static str);

/// Each setting code depends on.
fn mismatches() -> Vec<Mismatch> {
    vec![
        (
            "fuel",
            Box::new(|c: &mut Config| {
                c.consume_fuel(true);
            }),
            "Module was compiled without fuel support but it is enabled for the host",
        ),
        (
            "epochs",
            Box::new(|c: &mut Config| {
                c.epoch_interruption(true);
            }),
            "without epoch interruption",
        ),
        (
            "exceptions",
            Box::new(|c: &mut Config| {
                c.wasm_exceptions(true);
            }),
            "WebAssembly feature `exceptions`",
        ),
        (
            "NaN canonicalization",
            Box::new(|c: &mut Config| {
                c.cranelift_nan_canonicalization(true);
            }),
            "\"enable_nan_canonicalization\" is configured to \"false\"",
        ),
        (
            "signals",
            Box::new(|c: &mut Config| {
                c.signals_based_traps(false);
            }),
            "with Signals-based traps but it is not enabled",
        ),
        (
            "reservation",
            Box::new(|c: &mut Config| {
                c.memory_reservation(1 << 20);
            }),
            "memory reservation of '4294967296' but '1048576'",
        ),
        (
            "guard",
            Box::new(|c: &mut Config| {
                c.memory_guard_size(1 << 16);
            }),
            "memory guard size",
        ),
        (
            "spectre",
            Box::new(|c: &mut Config| {
                // SAFETY: a valid Cranelift setting.
                unsafe { c.cranelift_flag_set("enable_heap_access_spectre_mitigation", "false") };
            }),
            "\"enable_heap_access_spectre_mitigation\" is configured to \"true\"",
        ),
        (
            "version",
            Box::new(|c: &mut Config| {
                c.module_version(ModuleVersionStrategy::Custom("other".into()))
                    .unwrap();
            }),
            "Module was compiled with incompatible version",
        ),
        (
            "a missing feature",
            Box::new(|c: &mut Config| {
                c.wasm_simd(false).wasm_relaxed_simd(false);
            }),
            "WebAssembly feature `simd` but it is not enabled for the host",
        ),
    ]
}

#[test]
fn settings_that_change_code_must_match() {
    let bytes = Engine::default()
        .precompile_module(MODULE.as_bytes())
        .unwrap();
    for (what, change, expected) in mismatches() {
        let mut config = Config::new();
        change(&mut config);
        let engine = Engine::new(&config).unwrap();
        // SAFETY: refused before any code is placed.
        let err = unsafe { Module::deserialize(&engine, &bytes) }
            .err()
            .unwrap_or_else(|| panic!("{what}: loaded"));
        let msg = format!("{err:#}");
        assert!(msg.contains(expected), "{what}: {msg}");
        // Engines whose modules don't load into each other don't share a cache key.
        assert_ne!(
            hash(&engine),
            hash(&Engine::default()),
            "{what}: same compatibility hash"
        );
    }
    // The other way round: code compiled with fuel does not load without it.
    let fuel = Engine::new(Config::new().consume_fuel(true)).unwrap();
    let bytes = fuel.precompile_module(MODULE.as_bytes()).unwrap();
    // SAFETY: refused before any code is placed.
    let err = unsafe { Module::deserialize(&Engine::default(), &bytes) }.unwrap_err();
    assert!(
        err.to_string()
            .contains("Module was compiled with fuel support but it is not enabled"),
        "{err}"
    );
    // A setting that does not change what code may assume: accepted.
    let engine = Engine::new(Config::new().cranelift_opt_level(OptLevel::None)).unwrap();
    // SAFETY: the bytes come from `precompile_module`.
    let module = unsafe { Module::deserialize(&engine, &bytes) };
    assert!(module.is_err(), "fuel still differs");
    let bytes = Engine::default()
        .precompile_module(MODULE.as_bytes())
        .unwrap();
    // SAFETY: as above.
    let module = unsafe { Module::deserialize(&engine, &bytes) }.unwrap();
    run(&engine, &module).unwrap();
}

fn hash(engine: &Engine) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    h.finish()
}

/// Truncations at every few bytes, and flips of single bytes in the framing (everything but
/// the code and the binary, which are trusted), are errors, never a crash. Runs in a child
/// so that a crash fails this test alone.
#[test]
fn corrupt_artifacts_are_errors() {
    run_in_child(module_path!(), "child_corrupt_artifacts_are_errors");
}

#[test]
#[ignore = "run in a child process by the test above"]
fn child_corrupt_artifacts_are_errors() {
    if !in_child_for("child_corrupt_artifacts_are_errors") {
        return;
    }
    let engine = Engine::default();
    let bytes = engine.precompile_module(MODULE.as_bytes()).unwrap();
    let load = |b: &[u8]| {
        // SAFETY: corrupt framing must be detected; code bytes are never changed here.
        unsafe { Module::deserialize(&engine, b) }
    };
    let mut refused = 0;
    for len in (0..bytes.len()).step_by(7) {
        assert!(load(&bytes[..len]).is_err(), "truncated to {len} loaded");
        refused += 1;
    }
    let framing = framing_offsets(&bytes);
    assert!(framing.len() > 200, "{} framing bytes", framing.len());
    for &at in &framing {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut b = bytes.clone();
            b[at] ^= flip;
            // Either refused or, when the flip left a valid artifact (an opt_level string,
            // a trap offset), loaded: never a crash.
            refused += usize::from(load(&b).is_err());
        }
    }
    // Foreign bytes: a wasm binary, an ELF header, random noise after the magic.
    assert!(load(&wat::parse_str(MODULE).unwrap()).is_err());
    assert!(load(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0").is_err());
    let mut noise = b"\0wasmjit\x02\0\0\0".to_vec();
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..4096 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        noise.push(x as u8);
    }
    assert!(load(&noise).is_err());
    println!("{refused} corrupt artifacts refused");
}

/// The offsets of every byte of `bytes` (a serialized module, format 3) but the code and
/// the wasm binary: magic, version, header, lengths, counts, each function's alignment and
/// length, the trap table, the address map and the relocations.
fn framing_offsets(bytes: &[u8]) -> Vec<usize> {
    struct Walk<'a> {
        bytes: &'a [u8],
        at: usize,
        framing: Vec<usize>,
    }
    impl Walk<'_> {
        fn keep(&mut self, n: usize) {
            self.framing.extend(self.at..self.at + n);
            self.at += n;
        }
        fn u32(&mut self) -> usize {
            let v = u32::from_le_bytes(self.bytes[self.at..self.at + 4].try_into().unwrap());
            self.keep(4);
            v as usize
        }
        fn skip_bytes(&mut self) {
            let n = self.u32();
            self.at += n;
        }
    }
    let mut w = Walk {
        bytes,
        at: 0,
        framing: Vec::new(),
    };
    w.keep(12);
    let header = w.u32();
    w.keep(header);
    w.skip_bytes(); // the wasm binary
    w.keep(4); // defined functions
    let functions = w.u32();
    w.keep(functions * 5);
    let traps = w.u32();
    w.keep(traps);
    let addr_map = w.u32();
    w.keep(addr_map);
    let relocs = w.u32();
    w.keep(relocs * 21);
    w.skip_bytes(); // padding
    w.skip_bytes(); // the text
    assert_eq!(w.at, bytes.len());
    w.framing
}

/// The lines of `/proc/self/maps` that map `path`.
fn mappings_of(path: &std::path::Path) -> Vec<String> {
    let path = path.to_str().unwrap();
    std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .lines()
        .filter(|l| l.ends_with(path))
        .map(str::to_string)
        .collect()
}

/// `deserialize_file` runs the file's own pages (mapped read-execute, not copied), and they
/// are unmapped when the last module (and the last instance) using them is gone.
#[test]
fn deserialize_file_maps_the_code_in_place_until_the_module_drops() {
    let engine = Engine::default();
    let bytes = engine.precompile_module(MODULE.as_bytes()).unwrap();
    let path = std::env::temp_dir().join(format!("wasmjit-in-place-{}.cwasm", std::process::id()));
    std::fs::write(&path, &bytes).unwrap();
    // SAFETY: made by `precompile_module` of this engine; the file is not changed meanwhile.
    let module = unsafe { Module::deserialize_file(&engine, &path) }.unwrap();
    let maps = mappings_of(&path);
    assert!(
        maps.iter()
            .any(|l| l.split_whitespace().nth(1) == Some("r-xp")),
        "no executable mapping of the file: {maps:?}"
    );
    let clone = module.clone();
    drop(module);
    run(&engine, &clone).unwrap();
    assert!(!mappings_of(&path).is_empty());
    drop(clone);
    assert_eq!(mappings_of(&path), Vec::<String>::new());
    std::fs::remove_file(&path).unwrap();
}
