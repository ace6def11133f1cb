//! Async embedding with tokio, written against Wasmtime's API.

use wasmjit as wasmtime;

use std::time::Duration;
use wasmtime::{
    Caller, Config, Engine, Func, FuncType, Instance, Linker, Module, Store, Trap, Val, ValType,
};

fn async_engine(fuel: bool) -> wasmtime::Result<Engine> {
    let mut config = Config::new();
    config.async_support(true);
    if fuel {
        config.consume_fuel(true);
    }
    Engine::new(&config)
}

struct Ctx {
    slept: u32,
}

#[tokio::test]
async fn async_host_functions_and_calls() -> wasmtime::Result<()> {
    let engine = async_engine(false)?;
    let mut store = Store::new(&engine, Ctx { slept: 0 });
    let mut linker: Linker<Ctx> = Linker::new(&engine);
    linker.func_wrap_async(
        "host",
        "sleep_then_double",
        |mut caller: Caller<'_, Ctx>, (ms, x): (u32, i32)| {
            Box::new(async move {
                tokio::time::sleep(Duration::from_millis(ms.into())).await;
                caller.data_mut().slept += 1;
                x * 2
            })
        },
    )?;
    linker.func_wrap_async("host", "fail", |_caller: Caller<'_, Ctx>, (): ()| {
        Box::new(async move {
            tokio::task::yield_now().await;
            Err::<(), _>(anyhow::anyhow!("async failure"))
        })
    })?;
    linker.func_new_async(
        "host",
        "add",
        FuncType::new(&engine, [ValType::I64, ValType::I64], [ValType::I64]),
        |_caller, params, results| {
            Box::new(async move {
                tokio::task::yield_now().await;
                results[0] = Val::I64(params[0].unwrap_i64() + params[1].unwrap_i64());
                Ok(())
            })
        },
    )?;
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "sleep_then_double" (func $sd (param i32 i32) (result i32)))
            (import "host" "fail" (func $fail))
            (import "host" "add" (func $add (param i64 i64) (result i64)))
            (func (export "run") (param i32) (result i32)
              (call $sd (i32.const 1) (call $sd (i32.const 1) (local.get 0))))
            (func (export "sum") (param i64) (result i64)
              (call $add (local.get 0) (i64.const 100)))
            (func (export "fails") call $fail))"#,
    )?;
    let instance = linker.instantiate_async(&mut store, &module).await?;
    let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
    assert_eq!(run.call_async(&mut store, 5).await?, 20);
    assert_eq!(store.data().slept, 2);

    let sum = instance.get_func(&mut store, "sum").unwrap();
    let mut out = [Val::I64(0)];
    sum.call_async(&mut store, &[Val::I64(23)], &mut out)
        .await?;
    assert_eq!(out[0].unwrap_i64(), 123);

    let fails = instance.get_typed_func::<(), ()>(&mut store, "fails")?;
    let err = fails.call_async(&mut store, ()).await.unwrap_err();
    assert!(format!("{err:?}").contains("async failure"));

    // Instance::new_async and an InstancePre.
    let pre = linker.instantiate_pre(&module)?;
    let second = pre.instantiate_async(&mut store).await?;
    let run2 = second.get_typed_func::<i32, i32>(&mut store, "run")?;
    assert_eq!(run2.call_async(&mut store, 1).await?, 4);
    let plain = Module::new(
        &engine,
        r#"(module (func (export "f") (result i32) i32.const 3))"#,
    )?;
    let inst = Instance::new_async(&mut store, &plain, &[]).await?;
    let f = inst.get_typed_func::<(), i32>(&mut store, "f")?;
    assert_eq!(f.call_async(&mut store, ()).await?, 3);
    Ok(())
}

/// `spin(n)` counts a local up to `n` in a loop and returns it.
const SPIN: &str = r#"(module
  (func (export "spin") (param i32) (result i32)
    (local i32)
    (loop
      (local.set 1 (i32.add (local.get 1) (i32.const 1)))
      (br_if 0 (i32.lt_u (local.get 1) (local.get 0))))
    local.get 1))"#;

#[tokio::test]
async fn fuel_yields_let_other_tasks_run() -> wasmtime::Result<()> {
    let engine = async_engine(true)?;
    let mut store = Store::new(&engine, ());
    store.set_fuel(u64::MAX)?;
    store.fuel_async_yield_interval(Some(10_000))?;
    let module = Module::new(&engine, SPIN)?;
    let instance = Instance::new_async(&mut store, &module, &[]).await?;
    let spin = instance.get_typed_func::<i32, i32>(&mut store, "spin")?;
    // A single-threaded runtime: the ticker only runs when wasm yields.
    let ticks = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let t2 = ticks.clone();
    let ticker = tokio::spawn(async move {
        loop {
            t2.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::task::yield_now().await;
        }
    });
    assert_eq!(spin.call_async(&mut store, 1_000_000).await?, 1_000_000);
    ticker.abort();
    assert!(ticks.load(std::sync::atomic::Ordering::SeqCst) > 10);

    // Running out of fuel still traps.
    store.set_fuel(1_000)?;
    let err = spin.call_async(&mut store, 1_000_000).await.unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::OutOfFuel));
    Ok(())
}

#[tokio::test]
async fn epoch_yields_in_async_calls() -> wasmtime::Result<()> {
    let mut config = Config::new();
    config.async_support(true).epoch_interruption(true);
    let engine = Engine::new(&config)?;
    let mut store = Store::new(&engine, ());
    store.epoch_deadline_async_yield_and_update(1);
    store.set_epoch_deadline(1);
    let module = Module::new(&engine, SPIN)?;
    let instance = Instance::new_async(&mut store, &module, &[]).await?;
    let spin = instance.get_typed_func::<i32, i32>(&mut store, "spin")?;
    let ticker_engine = engine.clone();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let done2 = done.clone();
    let thread = std::thread::spawn(move || {
        while !done2.load(std::sync::atomic::Ordering::SeqCst) {
            ticker_engine.increment_epoch();
            std::thread::sleep(Duration::from_millis(1));
        }
    });
    let r = spin.call_async(&mut store, 50_000_000).await;
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    thread.join().unwrap();
    assert_eq!(r?, 50_000_000);
    // A sync call into an async store is an error in Wasmtime; either way it must not panic.
    let _ = Func::wrap(&mut store, || {});
    Ok(())
}

#[tokio::test]
async fn async_without_async_support_in_the_config() -> wasmtime::Result<()> {
    // Wasmtime 48 programs may not call `Config::async_support` at all.
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let slow = Func::wrap_async(&mut store, |_caller: Caller<'_, ()>, (x,): (i32,)| {
        Box::new(async move {
            tokio::task::yield_now().await;
            x + 1
        })
    });
    let module = Module::new(
        &engine,
        r#"(module (import "" "slow" (func $s (param i32) (result i32)))
            (func (export "run") (param i32) (result i32) (call $s (local.get 0))))"#,
    )?;
    let instance = Instance::new_async(&mut store, &module, &[slow.into()]).await?;
    let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
    assert_eq!(run.call_async(&mut store, 41).await?, 42);
    // A sync call that reaches an async host function is an error, not a hang or a panic.
    assert!(run.call(&mut store, 1).is_err());
    Ok(())
}

/// A custom stack allocator written against Wasmtime's paths (`wasmtime::StackCreator`,
/// `wasmtime::StackMemory`): anonymous mappings with a guard page below.
mod custom_stacks {
    use super::wasmtime;
    use std::ops::Range;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    struct MmapStack {
        base: *mut u8,
        len: usize,
    }

    // SAFETY: the mapping is owned by this object alone (freed in Drop).
    unsafe impl Send for MmapStack {}
    // SAFETY: the methods only read fields that never change.
    unsafe impl Sync for MmapStack {}

    const PAGE: usize = 4096;

    // SAFETY: everything above the first page is read-write and owned by this object; the
    // first page is PROT_NONE; nothing changes after creation.
    unsafe impl wasmtime::StackMemory for MmapStack {
        fn top(&self) -> *mut u8 {
            // SAFETY: one past the end of the mapping.
            unsafe { self.base.add(self.len) }
        }
        fn range(&self) -> Range<usize> {
            self.base as usize + PAGE..self.base as usize + self.len
        }
        fn guard_range(&self) -> Range<*mut u8> {
            // SAFETY: the first page of the mapping.
            self.base..unsafe { self.base.add(PAGE) }
        }
    }

    impl Drop for MmapStack {
        fn drop(&mut self) {
            // SAFETY: the mapping made in `new_stack`, not used any more.
            unsafe { libc::munmap(self.base.cast(), self.len) };
        }
    }

    #[derive(Default)]
    struct MyCreator {
        made: AtomicUsize,
    }

    // SAFETY: fresh anonymous mappings (zeroed), `size` usable bytes rounded up to pages, with a
    // guard page below.
    unsafe impl wasmtime::StackCreator for MyCreator {
        fn new_stack(
            &self,
            size: usize,
            _zeroed: bool,
        ) -> Result<Box<dyn wasmtime::StackMemory>, wasmtime::Error> {
            let len = size.div_ceil(PAGE) * PAGE + PAGE;
            // SAFETY: a new private anonymous mapping; the result is checked.
            let base = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                )
            };
            if base == libc::MAP_FAILED {
                return Err(wasmtime::Error::msg("mmap failed"));
            }
            // SAFETY: the first page of the mapping just made.
            if unsafe { libc::mprotect(base, PAGE, libc::PROT_NONE) } != 0 {
                // SAFETY: the mapping just made, not handed out.
                unsafe { libc::munmap(base, len) };
                return Err(wasmtime::Error::msg("mprotect failed"));
            }
            self.made.fetch_add(1, Ordering::SeqCst);
            Ok(Box::new(MmapStack {
                base: base.cast(),
                len,
            }))
        }
    }

    #[tokio::test]
    async fn a_stack_creator_written_for_wasmtime_runs_the_calls() -> wasmtime::Result<()> {
        let creator = Arc::new(MyCreator::default());
        let mut config = wasmtime::Config::new();
        config.async_support(true).with_host_stack(creator.clone());
        let engine = wasmtime::Engine::new(&config)?;
        let module = wasmtime::Module::new(
            &engine,
            r#"(module (func (export "add") (param i32 i32) (result i32)
                 local.get 0 local.get 1 i32.add))"#,
        )?;
        let mut store = wasmtime::Store::new(&engine, ());
        let instance = wasmtime::Instance::new_async(&mut store, &module, &[]).await?;
        let add = instance.get_typed_func::<(i32, i32), i32>(&mut store, "add")?;
        assert_eq!(add.call_async(&mut store, (2, 40)).await?, 42);
        assert!(creator.made.load(Ordering::SeqCst) >= 1);
        Ok(())
    }
}

/// `ResourceLimiterAsync` written as for Wasmtime: decisions are futures, awaited on the fiber
/// of the async call that grows a memory or table.
mod async_limiter {
    use super::wasmtime;
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};
    use wasmtime::{Engine, Instance, Memory, Module, Ref, ResourceLimiterAsync, Store, Table};

    /// Pending once, then ready: a decision that really waits.
    struct PendingOnce(bool);

    impl Future for PendingOnce {
        type Output = ();
        fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if self.0 {
                return Poll::Ready(());
            }
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }

    #[derive(Default)]
    struct Limits {
        asked: Vec<(&'static str, usize, usize)>,
        failed: usize,
    }

    #[async_trait::async_trait]
    impl ResourceLimiterAsync for Limits {
        async fn memory_growing(
            &mut self,
            current: usize,
            desired: usize,
            _maximum: Option<usize>,
        ) -> wasmtime::Result<bool> {
            PendingOnce(false).await;
            self.asked.push(("memory", current, desired));
            if desired > 8 << 16 {
                wasmtime::bail!("memory limiter refuses {desired} bytes loudly");
            }
            Ok(desired <= 3 << 16)
        }

        fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
            self.failed += 1;
            Ok(())
        }

        async fn table_growing(
            &mut self,
            current: usize,
            desired: usize,
            _maximum: Option<usize>,
        ) -> wasmtime::Result<bool> {
            PendingOnce(false).await;
            self.asked.push(("table", current, desired));
            Ok(desired <= 5)
        }
    }

    /// Polls `future` to completion with a waker that does nothing; the result and how many
    /// polls were pending.
    fn drive<F: Future>(future: F) -> (F::Output, usize) {
        let mut future = pin!(future);
        let mut cx = Context::from_waker(Waker::noop());
        let mut pending = 0;
        loop {
            match future.as_mut().poll(&mut cx) {
                Poll::Ready(out) => return (out, pending),
                Poll::Pending => pending += 1,
            }
        }
    }

    #[test]
    fn growth_decisions_are_awaited_on_the_fiber() -> wasmtime::Result<()> {
        let engine = Engine::default();
        let module = Module::new(
            &engine,
            r#"(module
                (memory (export "m") 1)
                (table (export "t") 1 funcref)
                (func (export "grow") (param i32) (result i32)
                  (memory.grow (local.get 0)))
                (func (export "tgrow") (param i32) (result i32)
                  (table.grow (ref.null func) (local.get 0))))"#,
        )?;
        let mut store = Store::new(&engine, Limits::default());
        store.limiter_async(|l| l as &mut dyn ResourceLimiterAsync);

        let (instance, pending) = drive(Instance::new_async(&mut store, &module, &[]));
        let instance = instance?;
        assert_eq!(pending, 2, "the new memory and table were each awaited");
        let grow = instance.get_typed_func::<i32, i32>(&mut store, "grow")?;
        let tgrow = instance.get_typed_func::<i32, i32>(&mut store, "tgrow")?;

        let (old, pending) = drive(grow.call_async(&mut store, 1));
        assert_eq!((old?, pending), (1, 1));
        assert_eq!(drive(grow.call_async(&mut store, 5)).0?, -1);
        assert_eq!(store.data().failed, 1);
        assert_eq!(drive(tgrow.call_async(&mut store, 2)).0?, 1);
        assert_eq!(drive(tgrow.call_async(&mut store, 10)).0?, -1);
        // A limiter error is a trap in wasm.
        let (err, _) = drive(grow.call_async(&mut store, 100));
        assert!(format!("{:?}", err.unwrap_err()).contains("refuses"));
        assert_eq!(
            store.data().asked,
            [
                ("memory", 0, 1 << 16),
                ("table", 0, 1),
                ("memory", 1 << 16, 2 << 16),
                ("memory", 2 << 16, 7 << 16),
                ("table", 1, 3),
                ("table", 3, 13),
                ("memory", 2 << 16, 102 << 16),
            ]
        );

        // From the host: the `*_async` calls await the limiter; the sync ones fail.
        let memory = instance.get_memory(&mut store, "m").unwrap();
        let (old, pending) = drive(memory.grow_async(&mut store, 1));
        assert_eq!((old?, pending), (2, 1));
        let err = memory.grow(&mut store, 1).unwrap_err();
        assert_eq!(
            err.to_string(),
            "when using an async resource limiter `*_async` functions must be used instead"
        );
        assert_eq!(memory.size(&store), 3);
        let table = instance.get_table(&mut store, "t").unwrap();
        assert_eq!(
            drive(table.grow_async(&mut store, 2, Ref::Func(None))).0?,
            3
        );
        assert!(table.grow(&mut store, 1, Ref::Func(None)).is_err());
        let (t, pending) = drive(Table::new_async(
            &mut store,
            wasmtime::TableType::new(wasmtime::RefType::FUNCREF, 2, None),
            Ref::Func(None),
        ));
        assert_eq!((t?.size(&store), pending), (2, 1));
        let (m, _) = drive(Memory::new_async(
            &mut store,
            wasmtime::MemoryType::new(4, None),
        ));
        assert!(m.is_err(), "4 pages exceed the limit");
        assert!(Memory::new(&mut store, wasmtime::MemoryType::new(1, None)).is_err());
        let err = grow.call(&mut store, 0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "store configuration requires that `*_async` functions are used instead"
        );
        Ok(())
    }
}
