//! Exception tags and the exceptions thrown with them (exception-handling proposal).
//!
//! A tag is an object of the store, like a global: its store index is its identity, the
//! value an instance keeps in its `VMContext` tag slots and that `catch` clauses compare.
//! An exception is an object of the store too (its tag and payload); an `exnref` is a 1-based
//! index into the store's exceptions. One that was only thrown and caught by a plain clause
//! (or reached the host) is freed then, since nothing can refer to it any more, and its slot
//! is reused. One that wasm held as an `exnref` (caught by a `_ref` clause) may be anywhere
//! wasm keeps values: globals, tables, the payloads of other exceptions, and the frames of
//! running wasm, which have no stack maps. Once the live count has doubled since the last
//! look, the store frees those no longer reachable:
//! - when the outermost call from the host returns (no frame holds one then), from globals,
//!   tables and payloads ([`StoreOpaque::collect_exceptions`]);
//! - while wasm runs, in the `throw` that reaches the count, from those plus every word of
//!   the running stack that looks like an exnref (a conservative scan, `vm/stack_scan.rs`,
//!   from the builtin's frame up to the entry of the store's outermost call): a word that is
//!   not one only keeps an exception too long, never frees a live one. The scan needs that
//!   entry on the current stack; when it is not (an async call parked on another stack and
//!   never finished, whose frames cannot be scanned), nothing is freed.
//!
//! Live exceptions are thus bounded by what wasm can reach; the limiter's `exceptions`
//! count (default [`DEFAULT_EXCEPTION_LIMIT`](crate::DEFAULT_EXCEPTION_LIMIT)) caps them
//! outright, for chains of exceptions linked through payloads: a `throw` that would exceed
//! it after a collection traps. A freed slot has a tag identity no tag has, so that an
//! exnref to it (which only a host keeping raw values could still hold) matches only
//! catch-all clauses, which read no payload.

use crate::store::{AsContext, AsContextMut, StoreOpaque, Stored};
use crate::types::FuncType;
use crate::vm::vmcontext::ValRaw;
use anyhow::{bail, Result};
use std::fmt;

/// The type of a tag: the parameters of its function type are the payload of its
/// exceptions; it has no results.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TagType {
    ty: FuncType,
}

impl TagType {
    /// The tag type whose payload is `ty`'s parameters. `ty` must have no results.
    pub fn new(ty: FuncType) -> Self {
        Self { ty }
    }

    /// The function type (parameters = payload).
    pub fn ty(&self) -> &FuncType {
        &self.ty
    }
}

impl fmt::Display for TagType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tag {}", self.ty)
    }
}

/// A tag of a store: defined by an instance, exported, imported by others (which then share
/// its identity: an exception thrown with it is caught by a `catch` of either).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tag(pub(crate) Stored);

impl Tag {
    /// A new tag of type `ty`, distinct from every other.
    pub fn new(mut store: impl AsContextMut, ty: &TagType) -> Result<Tag> {
        if ty.ty.results().len() != 0 {
            bail!("non-empty tag result type");
        }
        let ctx = store.as_context_mut();
        let opaque = &mut ctx.0.opaque;
        let index = opaque.new_tag(ty.ty.clone());
        Ok(Tag(Stored::new(opaque, index)))
    }

    /// The tag's type.
    pub fn ty(&self, store: impl AsContext) -> TagType {
        let ctx = store.as_context();
        let opaque = &ctx.0.opaque;
        TagType::new(opaque.tags[self.0.check(opaque)].ty.clone())
    }

    /// Whether `a` and `b` are the same tag.
    pub fn eq(a: &Tag, b: &Tag, _store: impl AsContext) -> bool {
        a == b
    }
}

/// A tag's data in its store.
pub(crate) struct TagData {
    pub(crate) ty: FuncType,
}

/// A thrown exception: its tag (store index) and payload, one raw slot per tag parameter.
pub(crate) struct ExceptionData {
    pub(crate) tag: usize,
    pub(crate) payload: Box<[ValRaw]>,
    /// Whether wasm or the host ever received it as an `exnref` (then only a collection
    /// frees it).
    pub(crate) kept: bool,
    /// Whether the host holds it (an [`ExnRef`](crate::ExnRef)): then nothing frees it.
    pub(crate) pinned: bool,
}

/// The store's thrown exceptions (its room of `StoreOpaque`): an exnref is a slot's index + 1.
pub(crate) struct ExceptionHeap {
    slots: Vec<ExceptionData>,
    /// Indices of freed slots, for reuse.
    free: Vec<usize>,
    /// Live exceptions at which the store looks for unreachable ones next (and checks the
    /// limit on live exceptions).
    collect_at: usize,
}

impl Default for ExceptionHeap {
    fn default() -> Self {
        ExceptionHeap {
            slots: Vec::new(),
            free: Vec::new(),
            collect_at: MIN_COLLECTION,
        }
    }
}

impl ExceptionHeap {
    /// The exception in slot `i`, freed ones included (their tag is `FREED_TAG`).
    pub(crate) fn get(&self, i: usize) -> Option<&ExceptionData> {
        self.slots.get(i)
    }

    /// The exception in slot `i`, mutably.
    pub(crate) fn get_mut(&mut self, i: usize) -> Option<&mut ExceptionData> {
        self.slots.get_mut(i)
    }

    /// Every slot, freed ones included.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &ExceptionData> {
        self.slots.iter()
    }

    /// Exceptions made and not freed.
    fn live(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// The next `throw` asks the limiter for its count again (a new limiter was installed).
    pub(crate) fn recheck_limit(&mut self) {
        self.collect_at = 0;
    }
}

impl std::ops::Index<usize> for ExceptionHeap {
    type Output = ExceptionData;

    fn index(&self, i: usize) -> &ExceptionData {
        &self.slots[i]
    }
}

impl StoreOpaque {
    /// Adds a tag; returns its index (its identity).
    pub(crate) fn new_tag(&mut self, ty: FuncType) -> usize {
        self.tags.push(TagData { ty });
        self.tags.len() - 1
    }

    /// Adds an exception (in a free slot if there is one); returns its exnref.
    pub(crate) fn new_exception(&mut self, exn: ExceptionData) -> u64 {
        let heap = &mut self.exceptions;
        match heap.free.pop() {
            Some(i) => {
                heap.slots[i] = exn;
                i as u64 + 1
            }
            None => {
                heap.slots.push(exn);
                heap.slots.len() as u64
            }
        }
    }

    /// A `catch` clause took the pending exception `exn`: clears it, and frees it unless wasm
    /// holds (`keep`) or ever held it.
    pub(crate) fn exception_caught(&mut self, exn: u64, keep: bool) {
        // SAFETY: the limits are only touched by this thread while the store is borrowed.
        unsafe { *self.limits.pending_exception.get() = 0 };
        self.release_exception(exn, keep);
    }

    fn release_exception(&mut self, exn: u64, keep: bool) {
        let i = exn as usize - 1;
        // Only a stale exnref (kept by a host through the raw-value API past the call that
        // made it) can name a freed or missing slot: nothing to keep or free then.
        let Some(data) = self.exceptions.get_mut(i).filter(|d| d.tag != FREED_TAG) else {
            return;
        };
        data.kept |= keep;
        if !data.kept {
            self.free_exception(i);
        }
    }

    /// Frees slot `i`: its tag becomes one no clause names, so that a stale exnref to it
    /// is only ever caught by a catch-all clause, which reads no payload.
    fn free_exception(&mut self, i: usize) {
        let heap = &mut self.exceptions;
        let data = &mut heap.slots[i];
        data.tag = FREED_TAG;
        data.kept = false;
        data.pinned = false;
        data.payload = Box::default();
        heap.free.push(i);
    }

    /// The tag identity of exception `exn` (`FREED_TAG` for a stale exnref).
    pub(crate) fn exception_tag(&self, exn: u64) -> usize {
        let i = (exn as usize).wrapping_sub(1);
        self.exceptions.get(i).map_or(FREED_TAG, |e| e.tag)
    }

    /// The payload of exception `exn` (empty for a stale exnref).
    pub(crate) fn exception_payload(&self, exn: u64) -> &[ValRaw] {
        let i = (exn as usize).wrapping_sub(1);
        self.exceptions.get(i).map_or(&[], |e| &e.payload)
    }

    /// Takes the exception left pending by wasm that returned to the host: 0 for none.
    pub(crate) fn take_wasm_pending_exception(&mut self) -> u64 {
        // SAFETY: the limits are only touched by this thread while the store is borrowed.
        unsafe { std::mem::take(&mut *self.limits.pending_exception.get()) }
    }

    /// Frees exception `exn`, which reached the host with an error other than
    /// `ThrownException` (a trap), unless something holds it.
    pub(crate) fn drop_exception(&mut self, exn: u64) {
        self.release_exception(exn, false);
    }
}

/// The tag identity of a freed exception slot: no tag has it (identities are store
/// indices).
pub(crate) const FREED_TAG: usize = usize::MAX;

/// Live exceptions below which the store does not look for unreachable ones.
pub(crate) const MIN_COLLECTION: usize = 1024;

/// Whether values of type `ty` are exception references (that may be non-null).
fn is_exnref(ty: wasmjit_compiler::WasmType) -> bool {
    ty.as_ref_type()
        .is_some_and(|r| r.heap == wasmjit_compiler::WasmHeapType::Exn)
}

/// The live count at which to look again after a look left `live` alive: when it has
/// doubled (amortizing the scan), and no later than at the `limit`.
fn next_collection(live: usize, limit: usize) -> usize {
    (2 * live).max(MIN_COLLECTION).min(limit)
}

impl StoreOpaque {
    fn live_exceptions(&self) -> usize {
        self.exceptions.live()
    }

    /// Frees the exceptions that wasm can no longer reach, once the live count has doubled
    /// since the last look. Only valid while no wasm of the store runs (it is called when
    /// the outermost call from the host returns): exnrefs can then only be in globals, in
    /// tables, and in the payloads of the exceptions reachable from those (the host reads
    /// every exnref as null, and the exception that was pending has been taken).
    pub(crate) fn collect_exceptions(&mut self) {
        if self.live_exceptions() < self.exceptions.collect_at {
            return;
        }
        self.free_unreachable_exceptions(Vec::new());
        let limit = self.exception_limit();
        self.exceptions.collect_at = next_collection(self.live_exceptions(), limit);
    }

    /// Called before the host makes an exception ([`crate::ExnRef::new`]): frees those wasm
    /// can no longer reach when no wasm of the store runs; errors when the new one would
    /// exceed the limit.
    pub(crate) fn make_room_for_host_exception(&mut self) -> Result<()> {
        if self.wasm_entries == 0 && !self.has_parked_calls() {
            self.collect_exceptions();
            return self.check_exception_limit();
        }
        self.make_room_for_exception()
    }

    fn check_exception_limit(&mut self) -> Result<()> {
        let live = self.live_exceptions();
        if live >= self.exception_limit() {
            bail!(
                "resource limit exceeded: exception count too high at {}",
                live + 1
            );
        }
        Ok(())
    }

    /// Called by the `throw` builtin before it makes an exception: once the live count has
    /// doubled since the last look, frees those wasm can no longer reach, scanning the
    /// running stack for exnrefs; errors when the exception would exceed the limit.
    pub(crate) fn make_room_for_exception(&mut self) -> Result<()> {
        if self.live_exceptions() < self.exceptions.collect_at {
            return Ok(());
        }
        // The scan covers the stack from here up to the entry of the store's outermost call,
        // which holds every frame of the store's running wasm, when that entry is in this
        // thread's chain of active calls (so on this stack). Otherwise some wasm of the store
        // is parked on another stack (as it is when any call is parked): nothing can be freed.
        let entry = match self.has_parked_calls() {
            true => None,
            false => crate::vm::traphandlers::active_call_entry(self.wasm_entry_call),
        };
        if let Some(entry) = entry {
            let mut roots = Vec::new();
            let slots = self.exceptions.slots.len() as u64;
            // SAFETY: `entry` is the entry of a call in this thread's chain: on this stack,
            // above this frame, with everything between mapped.
            unsafe {
                crate::vm::stack_scan::scan_stack(entry, &mut |word| {
                    if word.wrapping_sub(1) < slots {
                        roots.push(word);
                    }
                })
            };
            self.free_unreachable_exceptions(roots);
        }
        let limit = self.exception_limit();
        let live = self.live_exceptions();
        self.exceptions.collect_at = next_collection(live, limit);
        self.check_exception_limit()
    }

    /// Frees every kept exception not reachable from `roots` (exnrefs), the globals, the
    /// tables, the pending exceptions (wasm's and the host's), those the host holds and the
    /// exceptions not kept (wasm never received those, so they are being thrown or caught and
    /// are not freed here), through payloads.
    fn free_unreachable_exceptions(&mut self, mut work: Vec<u64>) {
        let mut reached = vec![false; self.exceptions.slots.len()];
        // SAFETY: the limits are only touched by this thread while the store is borrowed.
        work.push(unsafe { *self.limits.pending_exception.get() });
        work.push(self.thrown_exception);
        self.visit_held_references(is_exnref, &mut |word| work.push(word));
        for (i, data) in self.exceptions.iter().enumerate() {
            if (!data.kept || data.pinned) && data.tag != FREED_TAG {
                work.push(i as u64 + 1);
            }
        }
        while let Some(exn) = work.pop() {
            let Some(i) = (exn as usize).checked_sub(1) else {
                continue;
            };
            if i >= reached.len() || reached[i] {
                continue;
            }
            reached[i] = true;
            let data = &self.exceptions[i];
            if data.tag == FREED_TAG {
                continue;
            }
            let params = self.tags[data.tag].ty.params();
            for (ty, value) in params.zip(data.payload.iter()) {
                if is_exnref(ty.to_wasm()) {
                    work.push(value.get_reference());
                }
            }
        }
        for (i, reached) in reached.into_iter().enumerate() {
            if self.exceptions[i].kept && !reached {
                self.free_exception(i);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Config, Engine, Instance, Module, Store, ValRaw};

    /// A store of an engine with exceptions on, and an instance of `wat` in it.
    fn instantiate(wat: &str) -> (Store<()>, Instance) {
        let mut config = Config::new();
        config.wasm_exceptions(true);
        let engine = Engine::new(&config).unwrap();
        let module = Module::new(&engine, wat).unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        (store, instance)
    }

    #[test]
    fn exceptions_caught_without_ref_are_freed_and_reused() {
        let (mut store, instance) = instantiate(
            r#"(module
              (tag $e (param i32))
              (func $throw (param i32) local.get 0 throw $e)
              ;; Throws and catches `n` times; returns the sum of the payloads.
              (func (export "plain") (param $n i32) (result i32)
                (local $sum i32)
                (loop $l
                  (block $h (result i32)
                    (try_table (catch $e $h) local.get $n call $throw)
                    unreachable)
                  local.get $sum i32.add local.set $sum
                  local.get $n i32.const 1 i32.sub local.tee $n
                  br_if $l)
                local.get $sum)
              ;; The same with `catch_ref`: wasm holds each exnref, so none is freed.
              (func (export "with_ref") (param $n i32)
                (loop $l
                  (block $h (result i32 exnref)
                    (try_table (catch_ref $e $h) local.get $n call $throw)
                    unreachable)
                  drop drop
                  local.get $n i32.const 1 i32.sub local.tee $n
                  br_if $l))
              (func (export "uncaught") i32.const 0 call $throw))"#,
        );
        let plain = instance
            .get_typed_func::<i32, i32>(&mut store, "plain")
            .unwrap();
        assert_eq!(plain.call(&mut store, 1000).unwrap(), 500500);
        assert_eq!(
            store.inner.opaque.exceptions.slots.len(),
            1,
            "one slot, reused"
        );
        let uncaught = instance
            .get_typed_func::<(), ()>(&mut store, "uncaught")
            .unwrap();
        assert!(uncaught.call(&mut store, ()).is_err());
        // It waits in the same slot as the store's pending exception, for the host.
        assert_eq!(store.inner.opaque.exceptions.slots.len(), 1);
        assert!(store.has_pending_exception());
        let with_ref = instance
            .get_typed_func::<i32, ()>(&mut store, "with_ref")
            .unwrap();
        with_ref.call(&mut store, 10).unwrap();
        assert_eq!(store.inner.opaque.exceptions.slots.len(), 11);
        assert!(store.inner.opaque.exceptions.iter().all(|e| e.kept));
    }

    #[test]
    fn kept_exceptions_unreachable_between_calls_are_collected() {
        let (mut store, instance) = instantiate(
            r#"(module
              (tag $e (param i32))
              (tag $wrap (param exnref))
              (global $g (mut exnref) (ref.null exn))
              (table $t 2 exnref)
              ;; The cleanup pattern of compiled languages: catch_all_ref, clean up,
              ;; throw_ref; the caller catches with a plain clause. Every exception was held
              ;; as an exnref, so none is freed when caught.
              (func $cleanup (param i32)
                (block $h (result exnref)
                  (try_table (catch_all_ref $h) (throw $e (local.get 0)))
                  unreachable)
                throw_ref)
              (func (export "churn") (param $n i32)
                (loop $l
                  (block $h (result i32)
                    (try_table (catch $e $h) (call $cleanup (local.get $n)))
                    unreachable)
                  drop
                  (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
              (func $catch_ref (param i32) (result exnref)
                (block $h (result exnref)
                  (try_table (catch_all_ref $h) (throw $e (local.get 0)))
                  unreachable))
              ;; Keeps one exception in the global, one in the table, and one only inside
              ;; the payload of another (in the table).
              (func (export "keep")
                (global.set $g (call $catch_ref (i32.const 1)))
                (table.set $t (i32.const 0) (call $catch_ref (i32.const 2)))
                (table.set $t (i32.const 1)
                  (block $h (result exnref)
                    (try_table (catch_all_ref $h)
                      (throw $wrap (call $catch_ref (i32.const 3))))
                    unreachable)))
              (func $payload (param exnref) (result i32)
                (block $h (result i32)
                  (try_table (catch $e $h) (throw_ref (local.get 0)))
                  unreachable))
              (func (export "check") (result i32)
                (i32.add
                  (i32.add (call $payload (global.get $g))
                    (i32.mul (i32.const 10) (call $payload (table.get $t (i32.const 0)))))
                  (i32.mul (i32.const 100)
                    (block $h (result exnref)
                      (try_table (catch $wrap $h) (throw_ref (table.get $t (i32.const 1))))
                      unreachable)
                    (call $payload)))))"#,
        );
        let churn = instance
            .get_typed_func::<i32, ()>(&mut store, "churn")
            .unwrap();
        let keep = instance
            .get_typed_func::<(), ()>(&mut store, "keep")
            .unwrap();
        let check = instance
            .get_typed_func::<(), i32>(&mut store, "check")
            .unwrap();
        keep.call(&mut store, ()).unwrap();
        for _ in 0..50 {
            churn.call(&mut store, 1000).unwrap();
            assert_eq!(check.call(&mut store, ()).unwrap(), 321);
        }
        let live = |store: &Store<()>| {
            store.inner.opaque.exceptions.slots.len() - store.inner.opaque.exceptions.free.len()
        };
        // 50 000 exceptions were kept; the store holds the 4 reachable ones and at most a
        // collection threshold's worth of garbage.
        assert!(
            store.inner.opaque.exceptions.slots.len() < 3 * super::MIN_COLLECTION,
            "{} exceptions",
            store.inner.opaque.exceptions.slots.len()
        );
        assert!(live(&store) <= 2 * super::MIN_COLLECTION);
        assert_eq!(check.call(&mut store, ()).unwrap(), 321);
    }

    #[test]
    fn stale_or_forged_exnrefs_match_no_tag_and_never_abort() {
        let (mut store, instance) = instantiate(
            r#"(module
              (tag $e (param i32))
              (func (export "plain") (result i32)
                (block $h (result i32)
                  (try_table (catch $e $h) (throw $e (i32.const 5)))
                  unreachable))
              ;; -2 when caught by the catch-all clause, the payload by the tag clause.
              (func (export "probe") (param exnref) (result i32)
                (block $all
                  (block $h (result i32)
                    (try_table (catch $e $h) (catch_all $all) (throw_ref (local.get 0)))
                    unreachable)
                  return)
                (i32.const -2)))"#,
        );
        let plain = instance.get_func(&mut store, "plain").unwrap();
        let probe = instance.get_func(&mut store, "probe").unwrap();
        let mut values = [ValRaw::i32(0)];
        // SAFETY: one slot for no parameter and one i32 result.
        unsafe { plain.call_unchecked(&mut store, std::ptr::from_mut(&mut values[..1])) }.unwrap();
        assert_eq!(values[0].get_i32(), 5);
        // Exnref 1 names the freed slot of that exception; the other was never made. The
        // raw-value API does not promise anything for them, but they must stay harmless.
        for raw in [1, 12345, u64::MAX] {
            let mut values = [ValRaw::reference(raw)];
            // SAFETY: one slot for the exnref parameter and the i32 result (the exnref is
            // not one this store produced: that is the point).
            unsafe { probe.call_unchecked(&mut store, std::ptr::from_mut(&mut values[..1])) }
                .unwrap();
            assert_eq!(values[0].get_i32(), -2, "exnref {raw}");
        }
        let uncaught = Module::new(
            store.engine(),
            r#"(module (func (export "f") (param exnref) (throw_ref (local.get 0))))"#,
        )
        .unwrap();
        let uncaught = Instance::new(&mut store, &uncaught, &[]).unwrap();
        let f = uncaught.get_func(&mut store, "f").unwrap();
        let mut values = [ValRaw::reference(777)];
        // SAFETY: as above.
        let err = unsafe { f.call_unchecked(&mut store, std::ptr::from_mut(&mut values[..1])) }
            .unwrap_err();
        assert!(err.downcast_ref::<crate::ThrownException>().is_some());
        assert_eq!(store.inner.opaque.exceptions.slots.len(), 1);
    }

    /// Throws, catches with `catch_all_ref` and keeps the exnref in a local, `n` times (or
    /// until the fuel runs out); returns the last exception's payload.
    const CHURN_WAT: &str = r#"(module
      (tag $e (param i32))
      (func $payload (param exnref) (result i32)
        (block $h (result i32)
          (try_table (catch $e $h) (throw_ref (local.get 0)))
          unreachable))
      (func (export "churn") (param $n i32) (result i32)
        (local $x exnref)
        (loop $l
          (local.set $x
            (block $h (result exnref)
              (try_table (catch_all_ref $h) (throw $e (local.get $n)))
              unreachable))
          (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
        (call $payload (local.get $x))))"#;

    fn exceptions_engine(fuel: bool) -> Engine {
        let mut config = Config::new();
        config.wasm_exceptions(true).consume_fuel(fuel);
        Engine::new(&config).unwrap()
    }

    /// The most exceptions the store ever held at once: its slots are never given back.
    fn peak_exceptions<T>(store: &Store<T>) -> usize {
        store.inner.opaque.exceptions.slots.len()
    }

    #[test]
    fn a_loop_keeping_exnrefs_stays_bounded_while_it_runs() {
        let engine = exceptions_engine(true);
        let module = Module::new(&engine, CHURN_WAT).unwrap();
        let mut store = Store::new(&engine, ());
        store.set_fuel(u64::MAX / 2).unwrap();
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let churn = instance
            .get_typed_func::<i32, i32>(&mut store, "churn")
            .unwrap();
        // One call that returns: the exnref the loop keeps is the one read at the end.
        assert_eq!(churn.call(&mut store, 100_000).unwrap(), 1);
        let bound = 2 * super::MIN_COLLECTION;
        assert!(
            peak_exceptions(&store) <= bound,
            "{}",
            peak_exceptions(&store)
        );
        // One that never returns: it runs out of fuel (the scenario of a `_start`).
        store.set_fuel(4_000_000).unwrap();
        let err = churn.call(&mut store, -1).unwrap_err();
        assert_eq!(
            err.downcast_ref::<crate::Trap>(),
            Some(&crate::Trap::OutOfFuel)
        );
        assert!(
            peak_exceptions(&store) <= bound,
            "{}",
            peak_exceptions(&store)
        );
    }

    /// Every frame of a recursion holds an exnref, reachable only through the payload of
    /// another exnref in a local, while the innermost frame makes garbage enough for several
    /// collections; every frame then reads its payload back.
    const RECURSION_WAT: &str = r#"(module
      (tag $e (param i32))
      (tag $w (param exnref))
      (func $catch_ref (param i32) (result exnref)
        (block $h (result exnref)
          (try_table (catch_all_ref $h) (throw $e (local.get 0)))
          unreachable))
      (func $wrap (param exnref) (result exnref)
        (block $h (result exnref)
          (try_table (catch_all_ref $h) (throw $w (local.get 0)))
          unreachable))
      (func $unwrap (param exnref) (result exnref)
        (block $h (result exnref)
          (try_table (catch $w $h) (throw_ref (local.get 0)))
          unreachable))
      (func $payload (param exnref) (result i32)
        (block $h (result i32)
          (try_table (catch $e $h) (throw_ref (local.get 0)))
          unreachable))
      (func $garbage (param $n i32)
        (loop $l
          (drop (call $catch_ref (local.get $n)))
          (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
      ;; The sum of 0..=d, each term read back from the exception its frame holds.
      (func $rec (export "rec") (param $d i32) (result i32)
        (local $y exnref)
        (local.set $y (call $wrap (call $catch_ref (local.get $d))))
        (if (result i32) (i32.eqz (local.get $d))
          (then (call $garbage (i32.const 10000)) (i32.const 0))
          (else (call $rec (i32.sub (local.get $d) (i32.const 1)))))
        (i32.add (call $payload (call $unwrap (local.get $y))))))"#;

    #[test]
    fn exnrefs_held_by_many_frames_survive_collections() {
        let engine = exceptions_engine(false);
        let module = Module::new(&engine, RECURSION_WAT).unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let rec = instance
            .get_typed_func::<i32, i32>(&mut store, "rec")
            .unwrap();
        for depth in [0, 1, 5, 300] {
            assert_eq!(
                rec.call(&mut store, depth).unwrap(),
                depth * (depth + 1) / 2
            );
        }
        assert!(peak_exceptions(&store) < 10_000, "garbage was collected");
    }

    /// Polls `fut` to completion with a no-op waker.
    fn poll<F: std::future::Future>(fut: std::pin::Pin<&mut F>) -> F::Output {
        let mut fut = fut;
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        loop {
            if let std::task::Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }

    #[test]
    fn exnrefs_held_by_many_frames_survive_collections_on_a_fiber() {
        let mut config = Config::new();
        config
            .wasm_exceptions(true)
            .async_support(true)
            .consume_fuel(true);
        let engine = Engine::new(&config).unwrap();
        let module = Module::new(&engine, RECURSION_WAT).unwrap();
        let mut store = Store::new(&engine, ());
        store.set_fuel(u64::MAX / 2).unwrap();
        store.fuel_async_yield_interval(Some(10_000)).unwrap();
        let instance: Instance = poll(std::pin::pin!(Instance::new_async(
            &mut store,
            &module,
            &[]
        )))
        .unwrap();
        let rec = instance
            .get_typed_func::<i32, i32>(&mut store, "rec")
            .unwrap();
        let sum: i32 = poll(std::pin::pin!(rec.call_async(&mut store, 300))).unwrap();
        assert_eq!(sum, 300 * 301 / 2);
        assert!(peak_exceptions(&store) < 10_000, "garbage was collected");
    }

    #[test]
    fn the_limit_on_live_exceptions_traps_and_the_store_recovers() {
        let engine = exceptions_engine(false);
        let module = Module::new(
            &engine,
            r#"(module
                  (tag $e)
                  (table $t 0 exnref)
                  ;; Keeps `n` exceptions in the table.
                  (func (export "hoard") (param $n i32)
                    (loop $l
                      (drop (table.grow $t
                        (block $h (result exnref)
                          (try_table (catch_all_ref $h) (throw $e))
                          unreachable)
                        (i32.const 1)))
                      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))
                  (func (export "release")
                    (table.fill $t (i32.const 0) (ref.null exn) (table.size $t))))"#,
        )
        .unwrap();
        let churn_module = Module::new(&engine, CHURN_WAT).unwrap();
        let limits = crate::StoreLimitsBuilder::new().exceptions(100).build();
        let mut store = Store::new(&engine, limits);
        store.limiter(|l| l as &mut dyn crate::ResourceLimiter);
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let hoard = instance
            .get_typed_func::<i32, ()>(&mut store, "hoard")
            .unwrap();
        let release = instance
            .get_typed_func::<(), ()>(&mut store, "release")
            .unwrap();
        let churn = Instance::new(&mut store, &churn_module, &[])
            .unwrap()
            .get_typed_func::<i32, i32>(&mut store, "churn")
            .unwrap();
        // Garbage never reaches the limit: it is collected first.
        assert_eq!(churn.call(&mut store, 10_000).unwrap(), 1);
        // Up to the limit, less what the conservative stack scan may still keep: stale
        // words can make an unreachable exception look reachable.
        hoard.call(&mut store, 90).unwrap();
        let err = hoard.call(&mut store, 100).unwrap_err();
        assert!(
            format!("{err:?}").contains("exception count too high at 101"),
            "{err:?}"
        );
        assert!(peak_exceptions(&store) <= 101);
        release.call(&mut store, ()).unwrap();
        hoard.call(&mut store, 50).unwrap();
        assert_eq!(churn.call(&mut store, 1000).unwrap(), 1);
    }
}
