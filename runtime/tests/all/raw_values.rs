//! Raw values: `Func::call_unchecked`, and the raw forms of funcrefs and externrefs.

use wasmjit::{Engine, ExternRef, Func, Instance, Module, Store, ValRaw};

const WAT: &str = r#"(module
  (func (export "sub") (param i32 i32) (result i32) local.get 0 local.get 1 i32.sub)
  (func (export "id_func") (param funcref) (result funcref) local.get 0)
  (func (export "id_ext") (param externref) (result externref) local.get 0))"#;

fn setup() -> (Store<()>, Instance) {
    let engine = Engine::default();
    let module = Module::new(&engine, WAT).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    (store, instance)
}

#[test]
fn call_unchecked_reads_arguments_and_writes_results_in_place() {
    let (mut store, instance) = setup();
    let sub = instance.get_func(&mut store, "sub").unwrap();
    let mut raw = [ValRaw::i32(50), ValRaw::i32(8)];
    // SAFETY: two i32 arguments for an (i32, i32) -> i32 function.
    unsafe { sub.call_unchecked(&mut store, std::ptr::from_mut(&mut raw[..])) }.unwrap();
    assert_eq!(raw[0].get_i32(), 42);
    // A buffer too small for the parameters is an error, not a read past its end.
    // SAFETY: the length is checked before anything is read.
    let err =
        unsafe { sub.call_unchecked(&mut store, std::ptr::from_mut(&mut raw[..1])) }.unwrap_err();
    assert!(err.to_string().contains("smaller"), "{err}");
}

#[test]
fn raw_funcrefs_round_trip_and_pass_through_calls() {
    let (mut store, instance) = setup();
    let sub = instance.get_func(&mut store, "sub").unwrap();
    let id = instance.get_func(&mut store, "id_func").unwrap();
    let raw_sub = sub.to_raw(&mut store);
    assert!(!raw_sub.is_null());
    // SAFETY: `from_raw` validates its argument.
    assert_eq!(unsafe { Func::from_raw(&mut store, raw_sub) }, Some(sub));
    let mut slot = [ValRaw::reference(raw_sub as u64)];
    // SAFETY: one funcref argument of this store.
    unsafe { id.call_unchecked(&mut store, std::ptr::from_mut(&mut slot[..1])) }.unwrap();
    assert_eq!(slot[0].get_reference(), raw_sub as u64);
    // Null and pointers that are no function of the store give `None`.
    // SAFETY: as above.
    unsafe {
        assert_eq!(Func::from_raw(&mut store, std::ptr::null_mut()), None);
        let bogus = &mut slot as *mut _ as *mut std::ffi::c_void;
        assert_eq!(Func::from_raw(&mut store, bogus), None);
        assert_eq!(
            Func::from_raw(&mut store, (raw_sub as usize + 1) as *mut _),
            None
        );
    }
}

#[test]
fn raw_externrefs_are_32_bits_and_round_trip() {
    let (mut store, instance) = setup();
    let id = instance.get_func(&mut store, "id_ext").unwrap();
    let e = ExternRef::new(&mut store, 7u32).unwrap();
    let raw = e.to_raw(&mut store).unwrap();
    assert_ne!(raw, 0);
    assert_eq!(ExternRef::from_raw(&mut store, raw), Some(e));
    assert_eq!(ExternRef::from_raw(&mut store, 0), None);
    assert_eq!(ExternRef::from_raw(&mut store, raw + 100), None);
    // Garbage above the low 32 bits of the slot is ignored.
    let mut slot = [ValRaw::u128(u128::from(raw) | (0xdead_beef_u128 << 32))];
    // SAFETY: one externref argument of this store.
    unsafe { id.call_unchecked(&mut store, std::ptr::from_mut(&mut slot[..1])) }.unwrap();
    assert_eq!(slot[0].get_reference(), u64::from(raw));
}
