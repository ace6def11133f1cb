//! Reuse of released linear-memory reservations across stores: reused memories are zeroed,
//! keep their bounds (an access past a smaller reused memory still traps), and a long loop of
//! instantiations in fresh stores does not grow the process without bound.

use wasmjit::{Engine, Instance, Module, Store, Trap};

const WRITER: &str = r#"(module
  (memory (export "memory") 2)
  (func (export "fill") (param $v i32)
    (memory.fill (i32.const 0) (local.get $v) (i32.const 131072))))"#;

const READER: &str = r#"(module
  (memory (export "memory") 1)
  (data (i32.const 64) "x")
  (func (export "load") (param $a i32) (result i32) (i32.load8_u (local.get $a))))"#;

#[test]
fn reused_memories_are_zeroed_and_keep_their_bounds() {
    let engine = Engine::default();
    let writer = Module::new(&engine, WRITER).unwrap();
    let reader = Module::new(&engine, READER).unwrap();
    for round in 0..50 {
        let mut store = Store::new(&engine, ());
        let w = Instance::new(&mut store, &writer, &[]).unwrap();
        let fill = w.get_typed_func::<i32, ()>(&mut store, "fill").unwrap();
        fill.call(&mut store, 0x5A).unwrap();
        drop(store);

        let mut store = Store::new(&engine, ());
        let r = Instance::new(&mut store, &reader, &[]).unwrap();
        let memory = r.get_memory(&mut store, "memory").unwrap();
        assert_eq!(memory.data_size(&store), 65536, "round {round}");
        let data = memory.data(&store);
        assert_eq!(data[64], b'x');
        assert!(
            data.iter()
                .enumerate()
                .all(|(i, &b)| b == if i == 64 { b'x' } else { 0 }),
            "round {round}: a reused memory is all zero but for its data segment"
        );
        let load = r.get_typed_func::<i32, i32>(&mut store, "load").unwrap();
        assert_eq!(load.call(&mut store, 65535).unwrap(), 0);
        let err = load.call(&mut store, 65536).unwrap_err();
        assert_eq!(
            err.downcast_ref::<Trap>(),
            Some(&Trap::MemoryOutOfBounds),
            "round {round}: the second page of the previous memory is out of bounds again"
        );
    }
}

/// Resident set size in bytes, from `/proc/self/statm`.
#[cfg(target_os = "linux")]
fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

#[cfg(target_os = "linux")]
#[test]
fn many_instantiations_in_fresh_stores_keep_rss_bounded() {
    let engine = Engine::default();
    let module = Module::new(&engine, READER).unwrap();
    let cycle = |n: usize| {
        for _ in 0..n {
            let mut store = Store::new(&engine, ());
            let i = Instance::new(&mut store, &module, &[]).unwrap();
            let load = i.get_typed_func::<i32, i32>(&mut store, "load").unwrap();
            assert_eq!(load.call(&mut store, 64).unwrap(), i32::from(b'x'));
        }
    };
    cycle(500);
    let before = rss_bytes();
    cycle(10_000);
    let after = rss_bytes();
    // Each store gives its memory back before the next takes one; nothing may accumulate.
    assert!(
        after < before + (32 << 20),
        "RSS grew from {before} to {after} bytes over 10 000 instantiations"
    );
}
