//! The wide-arithmetic proposal: `i64.add128`, `i64.sub128`, `i64.mul_wide_s` and
//! `i64.mul_wide_u`, checked against Rust's `u128`/`i128` arithmetic on values at the edges
//! (carries and borrows across the halves, products of the extremes), both with operands
//! from parameters and as constants (which Cranelift may fold); off by default; fuel.

use wasmjit::*;

const WAT: &str = r#"(module
  (func (export "add128") (param i64 i64 i64 i64) (result i64 i64)
    (i64.add128 (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
  (func (export "sub128") (param i64 i64 i64 i64) (result i64 i64)
    (i64.sub128 (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
  (func (export "mul_wide_s") (param i64 i64) (result i64 i64)
    (i64.mul_wide_s (local.get 0) (local.get 1)))
  (func (export "mul_wide_u") (param i64 i64) (result i64 i64)
    (i64.mul_wide_u (local.get 0) (local.get 1)))
  ;; The halves used separately: the high half of a carry alone, the low half of a product.
  (func (export "carry_out") (param i64 i64) (result i64)
    (i64.add128 (local.get 0) (i64.const 0) (local.get 1) (i64.const 0))
    (return))
  (func (export "mul_low") (param i64 i64) (result i64)
    (i64.mul_wide_u (local.get 0) (local.get 1))
    (drop))
  (func (export "const_add") (result i64 i64)
    (i64.add128 (i64.const -1) (i64.const 0x7fffffffffffffff) (i64.const 1) (i64.const 0)))
  (func (export "const_mul_s") (result i64 i64)
    (i64.mul_wide_s (i64.const 0x8000000000000000) (i64.const 0x8000000000000000)))
)"#;

/// 64-bit values at the edges: zero, one, all ones, the signed extremes, mixed patterns.
const EDGES: [u64; 10] = [
    0,
    1,
    2,
    u64::MAX,
    u64::MAX - 1,
    i64::MAX as u64,
    i64::MIN as u64,
    0x8000_0000_0000_0001,
    0x0000_0001_0000_0000,
    0xdead_beef_0123_4567,
];

fn wide_engine() -> Engine {
    let mut config = Config::new();
    config.wasm_wide_arithmetic(true);
    Engine::new(&config).unwrap()
}

fn halves(v: u128) -> (i64, i64) {
    (v as u64 as i64, (v >> 64) as u64 as i64)
}

fn join(lo: u64, hi: u64) -> u128 {
    u128::from(lo) | (u128::from(hi) << 64)
}

#[test]
fn add128_and_sub128_carry_and_borrow_across_the_halves() {
    let engine = wide_engine();
    let module = Module::new(&engine, WAT).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    type Op128 = TypedFunc<(i64, i64, i64, i64), (i64, i64)>;
    let add: Op128 = instance.get_typed_func(&mut store, "add128").unwrap();
    let sub: Op128 = instance.get_typed_func(&mut store, "sub128").unwrap();
    let mut checked = 0;
    for &a_lo in &EDGES {
        for &a_hi in &EDGES[..4] {
            for &b_lo in &EDGES {
                for &b_hi in &EDGES[..4] {
                    let (a, b) = (join(a_lo, a_hi), join(b_lo, b_hi));
                    let args = (a_lo as i64, a_hi as i64, b_lo as i64, b_hi as i64);
                    assert_eq!(
                        add.call(&mut store, args).unwrap(),
                        halves(a.wrapping_add(b)),
                        "{a:#x} + {b:#x}"
                    );
                    assert_eq!(
                        sub.call(&mut store, args).unwrap(),
                        halves(a.wrapping_sub(b)),
                        "{a:#x} - {b:#x}"
                    );
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 1600);
    // The cases named: a carry out of the low half, a borrow into it, and wrap-around.
    assert_eq!(add.call(&mut store, (-1, 0, 1, 0)).unwrap(), (0, 1));
    assert_eq!(sub.call(&mut store, (0, 1, 1, 0)).unwrap(), (-1, 0));
    assert_eq!(add.call(&mut store, (-1, -1, 1, 0)).unwrap(), (0, 0));
    assert_eq!(sub.call(&mut store, (0, 0, 1, 0)).unwrap(), (-1, -1));
}

#[test]
fn mul_wide_gives_the_full_signed_and_unsigned_products() {
    let engine = wide_engine();
    let module = Module::new(&engine, WAT).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    type Mul = TypedFunc<(i64, i64), (i64, i64)>;
    let mul_s: Mul = instance.get_typed_func(&mut store, "mul_wide_s").unwrap();
    let mul_u: Mul = instance.get_typed_func(&mut store, "mul_wide_u").unwrap();
    for &x in &EDGES {
        for &y in &EDGES {
            let (xs, ys) = (x as i64, y as i64);
            let signed = (i128::from(xs) * i128::from(ys)) as u128;
            let unsigned = u128::from(x) * u128::from(y);
            assert_eq!(
                mul_s.call(&mut store, (xs, ys)).unwrap(),
                halves(signed),
                "{xs} * {ys}"
            );
            assert_eq!(
                mul_u.call(&mut store, (xs, ys)).unwrap(),
                halves(unsigned),
                "{x} * {y}"
            );
        }
    }
    // The extremes, by hand: MIN * MIN = 2^126; MAX_u * MAX_u = 2^128 - 2^65 + 1;
    // -1 * -1 = 1 signed.
    assert_eq!(
        mul_s.call(&mut store, (i64::MIN, i64::MIN)).unwrap(),
        (0, 1 << 62)
    );
    assert_eq!(mul_u.call(&mut store, (-1, -1)).unwrap(), (1, -2));
    assert_eq!(mul_s.call(&mut store, (-1, -1)).unwrap(), (1, 0));
    assert_eq!(
        mul_s.call(&mut store, (i64::MIN, -1)).unwrap(),
        (i64::MIN, 0)
    );
}

#[test]
fn one_half_of_a_result_alone_and_constant_operands() {
    let engine = wide_engine();
    let module = Module::new(&engine, WAT).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let carry = instance
        .get_typed_func::<(i64, i64), i64>(&mut store, "carry_out")
        .unwrap();
    assert_eq!(carry.call(&mut store, (-1, 1)).unwrap(), 1);
    assert_eq!(carry.call(&mut store, (-2, 1)).unwrap(), 0);
    assert_eq!(carry.call(&mut store, (-1, -1)).unwrap(), 1);
    let mul_low = instance
        .get_typed_func::<(i64, i64), i64>(&mut store, "mul_low")
        .unwrap();
    assert_eq!(mul_low.call(&mut store, (-1, -1)).unwrap(), 1);
    assert_eq!(mul_low.call(&mut store, (1 << 32, 1 << 32)).unwrap(), 0);
    let const_add = instance
        .get_typed_func::<(), (i64, i64)>(&mut store, "const_add")
        .unwrap();
    assert_eq!(const_add.call(&mut store, ()).unwrap(), (0, i64::MIN));
    let const_mul = instance
        .get_typed_func::<(), (i64, i64)>(&mut store, "const_mul_s")
        .unwrap();
    assert_eq!(const_mul.call(&mut store, ()).unwrap(), (0, 1 << 62));
}

#[test]
fn off_by_default_and_named_in_the_validation_error() {
    let engine = Engine::default();
    assert!(!engine
        .get_wasm_features()
        .contains(WasmFeatures::WIDE_ARITHMETIC));
    let err = Module::new(&engine, WAT).unwrap_err();
    assert!(
        format!("{err:#}").contains("wasm_wide_arithmetic"),
        "{err:#}"
    );
    let mut config = Config::new();
    config.wasm_features(WasmFeatures::WIDE_ARITHMETIC, true);
    assert!(Module::new(&Engine::new(&config).unwrap(), WAT).is_ok());
}

#[test]
fn each_operator_costs_one_unit_of_fuel() {
    let mut config = Config::new();
    config.wasm_wide_arithmetic(true).consume_fuel(true);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, WAT).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let add = instance
        .get_typed_func::<(i64, i64, i64, i64), (i64, i64)>(&mut store, "add128")
        .unwrap();
    store.set_fuel(100).unwrap();
    add.call(&mut store, (1, 2, 3, 4)).unwrap();
    // Entry 1, four `local.get`s, `i64.add128`; `end` is free.
    assert_eq!(store.get_fuel().unwrap(), 100 - 6);
}
