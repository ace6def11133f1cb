//! The wide-arithmetic proposal end to end: `tests/wast/wide_arithmetic.wast` (hand-computed
//! 128-bit results, enabled by its `;;!` configuration comment) through the wast runner, and,
//! with the `compare` feature, the four operators on Wasmtime 48 and wasmjit over the same
//! inputs.

#[test]
fn wast_script_passes() {
    let file =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/wast/wide_arithmetic.wast");
    let report = wasmjit_wast::run_file(&file);
    assert!(report.passed(), "{report}");
}

#[cfg(feature = "compare")]
mod on_wasmtime {
    const WAT: &str = r#"(module
      (func (export "add128") (param i64 i64 i64 i64) (result i64 i64)
        (i64.add128 (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
      (func (export "sub128") (param i64 i64 i64 i64) (result i64 i64)
        (i64.sub128 (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
      (func (export "mul_wide_s") (param i64 i64 i64 i64) (result i64 i64)
        (i64.mul_wide_s (local.get 0) (local.get 2)))
      (func (export "mul_wide_u") (param i64 i64 i64 i64) (result i64 i64)
        (i64.mul_wide_u (local.get 0) (local.get 2))))"#;

    const EXPORTS: [&str; 4] = ["add128", "sub128", "mul_wide_s", "mul_wide_u"];

    /// Operands: edge values, then a fixed xorshift sequence.
    fn inputs() -> Vec<[i64; 4]> {
        let edges = [
            0,
            1,
            -1,
            -2,
            i64::MAX,
            i64::MIN,
            1 << 32,
            0x5555_5555_5555_5555,
        ];
        let mut out = Vec::new();
        for &a in &edges {
            for &b in &edges {
                out.push([a, b, b, a]);
                out.push([a, a, b, b]);
            }
        }
        let mut s = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s as i64
        };
        for _ in 0..2000 {
            out.push([next(), next(), next(), next()]);
        }
        out
    }

    macro_rules! results {
        ($engine:ident, $config:expr) => {{
            use $engine::*;
            let mut config = $config;
            config.wasm_wide_arithmetic(true);
            let engine = Engine::new(&config).unwrap();
            let module = Module::new(&engine, WAT).unwrap();
            let mut store = Store::new(&engine, ());
            let instance = Instance::new(&mut store, &module, &[]).unwrap();
            let mut out = Vec::new();
            for name in EXPORTS {
                let f = instance
                    .get_typed_func::<(i64, i64, i64, i64), (i64, i64)>(&mut store, name)
                    .unwrap();
                for [a, b, c, d] in inputs() {
                    out.push(f.call(&mut store, (a, b, c, d)).unwrap());
                }
            }
            out
        }};
    }

    #[test]
    fn results_match_wasmtime() {
        let ours = results!(wasmjit, wasmjit::Config::new());
        let theirs = results!(wasmtime, wasmtime::Config::new());
        assert_eq!(ours.len(), 4 * (128 + 2000));
        assert!(ours == theirs, "wasmjit and Wasmtime disagree");
    }
}
