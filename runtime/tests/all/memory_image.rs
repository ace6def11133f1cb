//! Copy-on-write memory images (`Config::memory_init_cow`): a defined memory whose data
//! segments allow it starts as a private mapping of its module's image; the others are
//! copied into. Either way an instance sees exactly its segments' bytes.

use std::sync::{Arc, Mutex};
use wasmjit::*;

const PAGE: usize = 65536;

/// Whether the page at `addr` is mapped from a memory image (its mapping in
/// `/proc/self/maps` names the image's memfd).
fn mapped_from_image(addr: *const u8) -> bool {
    let addr = addr as usize;
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    maps.lines().any(|line| {
        let range = line.split_whitespace().next().unwrap();
        let (start, end) = range.split_once('-').unwrap();
        let start = usize::from_str_radix(start, 16).unwrap();
        let end = usize::from_str_radix(end, 16).unwrap();
        (start..end).contains(&addr) && line.contains("wasmjit-memory-image")
    })
}

fn memory(store: &mut Store<()>, instance: &Instance) -> Memory {
    instance.get_memory(&mut *store, "memory").unwrap()
}

/// Two pages; segments on both, one overwriting part of an earlier one.
const SEGMENTS: &str = r#"(module
  (memory (export "memory") 2)
  (data (i32.const 16) "hello, image")
  (data (i32.const 23) "IMAGE")
  (data (i32.add (i32.const 70000) (i32.const 1)) "second page")
  (func (export "poke") (param i32 i32) local.get 0 local.get 1 i32.store8))"#;

fn check_segments(data: &[u8]) {
    assert_eq!(&data[16..28], b"hello, IMAGE");
    assert_eq!(&data[70001..70012], b"second page");
    assert!(data[..16].iter().all(|&b| b == 0));
    assert!(data[28..70001].iter().all(|&b| b == 0));
    assert!(data[70012..].iter().all(|&b| b == 0));
}

#[test]
fn a_memory_starts_as_its_image() {
    let engine = Engine::default();
    assert!(
        engine.get_memory_init_cow(),
        "on by default, as in Wasmtime"
    );
    let module = Module::new(&engine, SEGMENTS).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let mem = memory(&mut store, &instance);
    assert!(
        mapped_from_image(mem.data_ptr(&store)),
        "mapped, not copied"
    );
    check_segments(mem.data(&store));
}

/// The image is made at the first instantiation, or ahead of it on request, as in Wasmtime;
/// either way every instance maps the same image.
#[test]
fn an_image_made_ahead_serves_later_instances() {
    let engine = Engine::default();
    let module = Module::new(&engine, SEGMENTS).unwrap();
    module.initialize_copy_on_write_image().unwrap();
    module.initialize_copy_on_write_image().unwrap();
    for _ in 0..2 {
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let mem = memory(&mut store, &instance);
        assert!(mapped_from_image(mem.data_ptr(&store)));
        check_segments(mem.data(&store));
    }
}

#[test]
fn instances_do_not_see_each_others_writes() {
    let engine = Engine::default();
    let module = Module::new(&engine, SEGMENTS).unwrap();
    let mut store = Store::new(&engine, ());
    let a = Instance::new(&mut store, &module, &[]).unwrap();
    let b = Instance::new(&mut store, &module, &[]).unwrap();
    let poke = a
        .get_typed_func::<(i32, i32), ()>(&mut store, "poke")
        .unwrap();
    poke.call(&mut store, (16, i32::from(b'J'))).unwrap();
    poke.call(&mut store, (100, 1)).unwrap();
    let mem_a = memory(&mut store, &a);
    mem_a.data_mut(&mut store)[70001] = b'S';
    assert_eq!(&mem_a.data(&store)[16..21], b"Jello");
    assert_eq!(mem_a.data(&store)[100], 1);

    let mem_b = memory(&mut store, &b);
    check_segments(mem_b.data(&store));
    // A store made afterwards gets the image as it was laid out.
    let mut other = Store::new(&engine, ());
    let c = Instance::new(&mut other, &module, &[]).unwrap();
    let mem_c = memory(&mut other, &c);
    check_segments(mem_c.data(&other));
}

/// A reservation of a layout no other test uses, so that the pool's mappings of it are
/// this test's alone (the pool is process-wide, tests run in parallel).
fn own_layout_engine(guard: u64) -> Engine {
    let mut config = Config::new();
    config.memory_guard_size(guard);
    Engine::new(&config).unwrap()
}

#[test]
fn a_pooled_reservation_after_an_image_is_zero() {
    // Eight pages of image: more than the pool keeps resident, so part of it is handed back
    // to the kernel when pooled (from a file mapping, that would bring the image back).
    let engine = own_layout_engine(11 * PAGE as u64);
    let full = Module::new(
        &engine,
        format!(
            r#"(module (memory (export "memory") 8)
                 (data (i32.const 0) "{}"))"#,
            "\\aa".repeat(8 * PAGE)
        ),
    )
    .unwrap();
    let empty = Module::new(&engine, r#"(module (memory (export "memory") 8))"#).unwrap();

    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &full, &[]).unwrap();
    let mem = memory(&mut store, &instance);
    assert!(mapped_from_image(mem.data_ptr(&store)));
    let base = mem.data_ptr(&store) as usize;
    drop(store);

    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &empty, &[]).unwrap();
    let mem = memory(&mut store, &instance);
    assert_eq!(
        mem.data_ptr(&store) as usize,
        base,
        "the reservation was pooled"
    );
    assert!(!mapped_from_image(mem.data_ptr(&store)));
    assert!(mem.data(&store).iter().all(|&b| b == 0));
    // Grown back over the whole image's range too.
    mem.grow(&mut store, 8).unwrap();
    assert!(mem.data(&store).iter().all(|&b| b == 0));
}

#[test]
fn memories_grow_past_their_image() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (memory (export "memory") 1 4)
             (data (i32.const 65530) "edge!!")
             (func (export "grow") (result i32) i32.const 2 memory.grow)
             (func (export "load") (param i32) (result i32) local.get 0 i32.load8_u))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let grow = instance
        .get_typed_func::<(), i32>(&mut store, "grow")
        .unwrap();
    let load = instance
        .get_typed_func::<i32, i32>(&mut store, "load")
        .unwrap();
    assert_eq!(grow.call(&mut store, ()).unwrap(), 1);
    let mem = memory(&mut store, &instance);
    assert_eq!(mem.data(&store).len(), 3 * PAGE);
    assert_eq!(&mem.data(&store)[65530..65536], b"edge!!");
    assert!(mem.data(&store)[PAGE..].iter().all(|&b| b == 0));
    mem.data_mut(&mut store)[3 * PAGE - 1] = 9;
    assert_eq!(load.call(&mut store, 3 * PAGE as i32 - 1).unwrap(), 9);
    assert_eq!(load.call(&mut store, 65531).unwrap(), i32::from(b'd'));
    assert!(load.call(&mut store, 3 * PAGE as i32).is_err());
}

/// Instantiates `wat` (importing `env.g`, an i32 global, and `env.memory`, one page) and
/// returns its exported memory's bytes, and whether they came from an image.
fn instantiate_fallback(engine: &Engine, wat: &str) -> (Vec<u8>, bool) {
    let module = Module::new(engine, wat).unwrap();
    let mut store = Store::new(engine, ());
    let g = Global::new(
        &mut store,
        GlobalType::new(ValType::I32, Mutability::Const),
        Val::I32(32),
    )
    .unwrap();
    let imported = Memory::new(&mut store, MemoryType::new(1, None)).unwrap();
    let mut linker = Linker::new(engine);
    linker.define(&store, "env", "g", g).unwrap();
    linker.define(&store, "env", "memory", imported).unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let mem = memory(&mut store, &instance);
    let data = mem.data(&store).to_vec();
    (data, mapped_from_image(mem.data_ptr(&store)))
}

const FROM_GLOBAL: &str = r#"(module
  (import "env" "g" (global i32))
  (import "env" "memory" (memory 1))
  (memory (export "memory") 1)
  (data (memory 1) (i32.const 4) "fixed")
  (data (memory 1) (global.get 0) "from a global"))"#;

#[test]
fn offsets_read_from_globals_are_copied() {
    let (data, imaged) = instantiate_fallback(&Engine::default(), FROM_GLOBAL);
    assert!(!imaged);
    assert_eq!(&data[4..9], b"fixed");
    assert_eq!(&data[32..45], b"from a global");
}

#[test]
fn imported_memories_are_copied_into() {
    let (data, imaged) = instantiate_fallback(
        &Engine::default(),
        r#"(module
             (import "env" "g" (global i32))
             (import "env" "memory" (memory 1))
             (memory 1)
             (export "memory" (memory 0))
             (data (memory 0) (i32.const 8) "imported"))"#,
    );
    assert!(!imaged);
    assert_eq!(&data[8..16], b"imported");
}

#[test]
fn a_segment_past_the_minimum_still_traps_after_the_earlier_ones() {
    let engine = Engine::default();
    // Memory 1 has a segment that does not fit: no image; its first segment and the
    // imported memory's land before the trap, the last one does not.
    let module = Module::new(
        &engine,
        r#"(module
             (import "env" "memory" (memory 1))
             (memory 1)
             (data (memory 0) (i32.const 0) "first")
             (data (memory 1) (i32.const 0) "fits")
             (data (memory 1) (i32.const 65534) "does not fit")
             (data (memory 0) (i32.const 100) "never"))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let imported = Memory::new(&mut store, MemoryType::new(1, None)).unwrap();
    let err = Instance::new(&mut store, &module, &[imported.into()]).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::MemoryOutOfBounds));
    let data = imported.data(&store);
    assert_eq!(&data[..5], b"first");
    assert!(data[100..105].iter().all(|&b| b == 0));
}

#[test]
fn with_cow_off_segments_are_copied() {
    let mut config = Config::new();
    config.memory_init_cow(false);
    let engine = Engine::new(&config).unwrap();
    assert!(!engine.get_memory_init_cow());
    let module = Module::new(&engine, SEGMENTS).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let mem = memory(&mut store, &instance);
    assert!(!mapped_from_image(mem.data_ptr(&store)));
    check_segments(mem.data(&store));
}

#[test]
fn memories_of_a_small_reservation_are_copied_into() {
    let mut config = Config::new();
    config.memory_reservation(1 << 20);
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, SEGMENTS).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let mem = memory(&mut store, &instance);
    assert!(!mapped_from_image(mem.data_ptr(&store)));
    check_segments(mem.data(&store));
    // Growing moves it; the contents come along.
    mem.grow(&mut store, 40).unwrap();
    check_segments(&mem.data(&store)[..2 * PAGE]);
}

/// Memories as plain vectors (they move when they grow).
struct VecMemory(Vec<u8>);

// SAFETY: zeroed bytes owned by the vector; growth zeroes the new bytes.
unsafe impl LinearMemory for VecMemory {
    fn byte_size(&self) -> usize {
        self.0.len()
    }
    fn byte_capacity(&self) -> usize {
        self.0.len()
    }
    fn grow_to(&mut self, new_size: usize) -> Result<()> {
        self.0.resize(new_size, 0);
        Ok(())
    }
    fn as_ptr(&self) -> *mut u8 {
        self.0.as_ptr().cast_mut()
    }
}

struct VecCreator(Mutex<usize>);

// SAFETY: makes `VecMemory`s, which keep `LinearMemory`'s promises without a reservation.
unsafe impl MemoryCreator for VecCreator {
    fn new_memory(
        &self,
        _ty: MemoryType,
        minimum: usize,
        _maximum: Option<usize>,
        reserved: Option<usize>,
        _guard: usize,
    ) -> Result<Box<dyn LinearMemory>, String> {
        if reserved.is_some() {
            return Err("no reservations here".into());
        }
        *self.0.lock().unwrap() += 1;
        Ok(Box::new(VecMemory(vec![0; minimum])))
    }
}

#[test]
fn host_made_memories_are_copied_into() {
    let creator = Arc::new(VecCreator(Mutex::new(0)));
    let mut config = Config::new();
    config
        .memory_reservation(0)
        .with_host_memory(creator.clone());
    let engine = Engine::new(&config).unwrap();
    let module = Module::new(&engine, SEGMENTS).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    assert_eq!(*creator.0.lock().unwrap(), 1);
    let mem = memory(&mut store, &instance);
    assert!(!mapped_from_image(mem.data_ptr(&store)));
    check_segments(mem.data(&store));
}

#[test]
fn precompiled_modules_have_images_too() {
    let engine = Engine::default();
    let bytes = Module::new(&engine, SEGMENTS).unwrap().serialize().unwrap();
    // SAFETY: the bytes were just serialized by this engine.
    let module = unsafe { Module::deserialize(&engine, &bytes) }.unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let mem = memory(&mut store, &instance);
    assert!(mapped_from_image(mem.data_ptr(&store)));
    check_segments(mem.data(&store));
}
