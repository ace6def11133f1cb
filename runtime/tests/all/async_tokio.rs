//! Async calls driven by tokio: a thousand stores yielding on epochs on a multi-threaded
//! runtime (their futures migrate between worker threads), async host functions awaiting
//! `tokio::time::sleep`, a oneshot and an mpsc channel fed by other tasks, an async host
//! function calling back into wasm of its own store through its `Caller` (with a nested
//! suspension), and traps raised on the fiber coming back as `Trap`s with the store still
//! usable.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use wasmjit::*;

/// Counts how often the wrapped future returned `Poll::Pending`.
struct CountPending<F> {
    inner: Pin<Box<F>>,
    pending: Arc<AtomicUsize>,
}

impl<F: Future> Future for CountPending<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let r = self.inner.as_mut().poll(cx);
        if r.is_pending() {
            self.pending.fetch_add(1, Ordering::SeqCst);
        }
        r
    }
}

fn trap_of(err: &Error) -> Trap {
    *err.downcast_ref::<Trap>()
        .unwrap_or_else(|| panic!("not a trap: {err:?}"))
}

/// Sums `(i * seed) ^ i` for `i < n`, then spins (checking epochs at the loop header) until
/// the host says the call has been suspended at least once, or a cap is reached.
const EPOCH_GUEST: &str = r#"(module
  (import "host" "suspended" (func $suspended (result i32)))
  (func (export "run") (param $n i32) (param $seed i64) (result i64)
    (local $i i32) (local $acc i64) (local $spins i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $acc
          (i64.add (local.get $acc)
            (i64.xor
              (i64.mul (i64.extend_i32_u (local.get $i)) (local.get $seed))
              (i64.extend_i32_u (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (block $seen
      (loop $spin
        (br_if $seen (call $suspended))
        (local.set $spins (i32.add (local.get $spins) (i32.const 1)))
        (br_if $seen (i32.ge_u (local.get $spins) (i32.const 20000000)))
        (br $spin)))
    (local.get $acc)))"#;

fn expected_sum(n: u32, seed: i64) -> i64 {
    (0..n as i64).fold(0i64, |acc, i| acc.wrapping_add(i.wrapping_mul(seed) ^ i))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thousand_stores_yield_on_epochs_and_all_finish_with_correct_results() -> Result<()> {
    const STORES: usize = 1000;
    const N: u32 = 50_000;
    let mut config = Config::new();
    config.async_support(true).epoch_interruption(true);
    let engine = Engine::new(&config)?;
    let module = Module::new(&engine, EPOCH_GUEST)?;
    // The store's data is the number of times its call was pending.
    let mut linker = Linker::<Arc<AtomicUsize>>::new(&engine);
    linker.func_wrap(
        "host",
        "suspended",
        |caller: Caller<'_, Arc<AtomicUsize>>| (caller.data().load(Ordering::SeqCst) > 0) as i32,
    )?;
    let pre = Arc::new(linker.instantiate_pre(&module)?);

    let stop = Arc::new(AtomicBool::new(false));
    let ticker = {
        let (engine, stop) = (engine.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(1));
                engine.increment_epoch();
            }
        })
    };

    let mut tasks = tokio::task::JoinSet::new();
    for id in 0..STORES {
        let (engine, pre) = (engine.clone(), pre.clone());
        tasks.spawn(async move {
            let pending = Arc::new(AtomicUsize::new(0));
            let mut store = Store::new(&engine, pending.clone());
            store.set_epoch_deadline(1);
            store.epoch_deadline_async_yield_and_update(1);
            let instance = pre.instantiate_async(&mut store).await?;
            let run = instance.get_typed_func::<(i32, i64), i64>(&mut store, "run")?;
            let seed = id as i64 * 7919 + 1;
            let result = CountPending {
                inner: Box::pin(run.call_async(&mut store, (N as i32, seed))),
                pending: pending.clone(),
            }
            .await?;
            anyhow::Ok((id, seed, result, pending.load(Ordering::SeqCst)))
        });
    }
    let mut done = vec![false; STORES];
    let mut total_pending = 0;
    while let Some(joined) = tasks.join_next().await {
        let (id, seed, result, pending) = joined??;
        assert_eq!(result, expected_sum(N, seed), "store {id}: wrong result");
        assert!(pending >= 1, "store {id}: the call never yielded");
        assert!(!done[id], "store {id} finished twice");
        done[id] = true;
        total_pending += pending;
    }
    stop.store(true, Ordering::SeqCst);
    ticker.join().unwrap();
    assert!(done.iter().all(|&d| d));
    assert!(total_pending >= STORES);
    eprintln!("{STORES} stores finished after {total_pending} pending polls in all");
    Ok(())
}

#[tokio::test]
async fn async_host_function_awaits_tokio_sleep() -> Result<()> {
    let mut config = Config::new();
    config.async_support(true);
    let engine = Engine::new(&config)?;
    let mut linker = Linker::<u32>::new(&engine);
    linker.func_wrap_async(
        "host",
        "sleep",
        |mut caller: Caller<'_, u32>, (ms,): (i32,)| {
            Box::new(async move {
                tokio::time::sleep(Duration::from_millis(ms as u64)).await;
                *caller.data_mut() += 1;
                ms * 2
            })
        },
    )?;
    let module = Module::new(
        &engine,
        r#"(module (import "host" "sleep" (func $s (param i32) (result i32)))
             (func (export "run") (result i32)
               (i32.add (call $s (i32.const 5))
                        (i32.add (call $s (i32.const 10)) (call $s (i32.const 15))))))"#,
    )?;
    let mut store = Store::new(&engine, 0u32);
    let instance = linker.instantiate_async(&mut store, &module).await?;
    let run = instance.get_typed_func::<(), i32>(&mut store, "run")?;
    let pending = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let r = CountPending {
        inner: Box::pin(run.call_async(&mut store, ())),
        pending: pending.clone(),
    }
    .await?;
    let elapsed = start.elapsed();
    assert_eq!(r, 60);
    assert_eq!(*store.data(), 3, "each sleep completed once");
    assert!(elapsed >= Duration::from_millis(30), "slept {elapsed:?}");
    assert!(pending.load(Ordering::SeqCst) >= 3);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_host_function_awaits_oneshot_fed_by_another_task() -> Result<()> {
    let mut config = Config::new();
    config.async_support(true);
    let engine = Engine::new(&config)?;
    let mut linker = Linker::<Option<oneshot::Receiver<i32>>>::new(&engine);
    linker.func_wrap_async(
        "host",
        "recv",
        |mut caller: Caller<'_, Option<oneshot::Receiver<i32>>>, (): ()| {
            Box::new(async move {
                let rx = caller.data_mut().take().expect("one receive per test");
                rx.await.map_err(|_| anyhow::anyhow!("sender dropped"))
            })
        },
    )?;
    let module = Module::new(
        &engine,
        r#"(module (import "host" "recv" (func $r (result i32)))
             (func (export "run") (result i32) (i32.add (call $r) (i32.const 1))))"#,
    )?;
    let (tx, rx) = oneshot::channel();
    let mut store = Store::new(&engine, Some(rx));
    let instance = linker.instantiate_async(&mut store, &module).await?;
    let run = instance.get_typed_func::<(), i32>(&mut store, "run")?;
    let sender = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(20)).await;
        tx.send(41).unwrap();
    });
    let pending = Arc::new(AtomicUsize::new(0));
    let r = CountPending {
        inner: Box::pin(run.call_async(&mut store, ())),
        pending: pending.clone(),
    }
    .await?;
    sender.await?;
    assert_eq!(r, 42);
    assert!(
        pending.load(Ordering::SeqCst) >= 1,
        "the receive never waited"
    );

    // A dropped sender becomes the host function's error, which the call returns.
    let (tx, rx) = oneshot::channel::<i32>();
    *store.data_mut() = Some(rx);
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(5)).await;
        drop(tx);
    });
    let err = run.call_async(&mut store, ()).await.unwrap_err();
    assert!(format!("{err:?}").contains("sender dropped"), "{err:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_host_function_drains_mpsc_channel_fed_by_another_task() -> Result<()> {
    let mut config = Config::new();
    config.async_support(true);
    let engine = Engine::new(&config)?;
    let mut linker = Linker::<mpsc::Receiver<i32>>::new(&engine);
    linker.func_wrap_async(
        "host",
        "next",
        |mut caller: Caller<'_, mpsc::Receiver<i32>>, (): ()| {
            Box::new(async move { caller.data_mut().recv().await.unwrap_or(-1) })
        },
    )?;
    // Sums values until the channel is closed (-1), returns (sum << 16) | count.
    let module = Module::new(
        &engine,
        r#"(module (import "host" "next" (func $next (result i32)))
             (func (export "run") (result i32) (local $v i32) (local $sum i32) (local $n i32)
               (block $done
                 (loop $l
                   (local.set $v (call $next))
                   (br_if $done (i32.lt_s (local.get $v) (i32.const 0)))
                   (local.set $sum (i32.add (local.get $sum) (local.get $v)))
                   (local.set $n (i32.add (local.get $n) (i32.const 1)))
                   (br $l)))
               (i32.or (i32.shl (local.get $sum) (i32.const 16)) (local.get $n))))"#,
    )?;
    let (tx, rx) = mpsc::channel(4);
    let mut store = Store::new(&engine, rx);
    let instance = linker.instantiate_async(&mut store, &module).await?;
    let run = instance.get_typed_func::<(), i32>(&mut store, "run")?;
    let producer = tokio::spawn(async move {
        for i in 1..=100 {
            tx.send(i).await.unwrap();
            if i % 10 == 0 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
    });
    let pending = Arc::new(AtomicUsize::new(0));
    let r = CountPending {
        inner: Box::pin(run.call_async(&mut store, ())),
        pending: pending.clone(),
    }
    .await?;
    producer.await?;
    assert_eq!(r >> 16, 5050);
    assert_eq!(r & 0xffff, 100);
    assert!(
        pending.load(Ordering::SeqCst) >= 10,
        "the consumer never waited"
    );
    Ok(())
}

const REENTER_GUEST: &str = r#"(module
  (import "host" "reenter" (func $reenter (param i32) (result i32)))
  (import "host" "sleep" (func $sleep (param i32) (result i32)))
  (func (export "run") (param i32) (result i32)
    (i32.add (call $reenter (local.get 0)) (i32.const 1)))
  (func (export "inner") (param i32) (result i32)
    (drop (call $sleep (i32.const 2)))
    (i32.mul (local.get 0) (i32.const 10)))
  (func (export "boom") (param i32) (result i32) unreachable)
  (func (export "ok") (result i32) (i32.const 7)))"#;

/// An engine and linker where `host.reenter(x)` calls the export named in the store data
/// with `x` through its `Caller` and returns twice the result.
fn reenter_setup() -> Result<(Engine, Linker<&'static str>, Module)> {
    let mut config = Config::new();
    config.async_support(true);
    let engine = Engine::new(&config)?;
    let mut linker = Linker::<&'static str>::new(&engine);
    linker.func_wrap_async(
        "host",
        "sleep",
        |_caller: Caller<'_, &'static str>, (ms,): (i32,)| {
            Box::new(async move {
                tokio::time::sleep(Duration::from_millis(ms as u64)).await;
                ms
            })
        },
    )?;
    linker.func_wrap_async(
        "host",
        "reenter",
        |mut caller: Caller<'_, &'static str>, (x,): (i32,)| {
            Box::new(async move {
                let name = *caller.data();
                let f = caller
                    .get_export(name)
                    .and_then(Extern::into_func)
                    .ok_or_else(|| anyhow::anyhow!("no export {name}"))?;
                let mut results = [Val::I32(0)];
                f.call_async(&mut caller, &[Val::I32(x)], &mut results)
                    .await?;
                anyhow::Ok(results[0].unwrap_i32() * 2)
            })
        },
    )?;
    let module = Module::new(&engine, REENTER_GUEST)?;
    Ok((engine, linker, module))
}

#[tokio::test]
async fn async_host_function_calls_back_into_wasm_of_the_same_store() -> Result<()> {
    let (engine, linker, module) = reenter_setup()?;
    let mut store = Store::new(&engine, "inner");
    let instance = linker.instantiate_async(&mut store, &module).await?;
    let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
    let pending = Arc::new(AtomicUsize::new(0));
    // run(3) = reenter(3) + 1 = 2 * inner(3) + 1, where inner sleeps in a nested host call.
    let r = CountPending {
        inner: Box::pin(run.call_async(&mut store, 3)),
        pending: pending.clone(),
    }
    .await?;
    assert_eq!(r, 61);
    assert!(
        pending.load(Ordering::SeqCst) >= 1,
        "the nested sleep never suspended"
    );
    assert_eq!(run.call_async(&mut store, 4).await?, 81);
    Ok(())
}

#[tokio::test]
async fn traps_on_the_fiber_come_back_as_traps_and_the_store_stays_usable() -> Result<()> {
    let (engine, linker, module) = reenter_setup()?;
    let mut store = Store::new(&engine, "boom");
    let instance = linker.instantiate_async(&mut store, &module).await?;
    let boom = instance.get_typed_func::<i32, i32>(&mut store, "boom")?;
    let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
    let ok = instance.get_typed_func::<(), i32>(&mut store, "ok")?;

    // Directly under call_async.
    let err = boom.call_async(&mut store, 1).await.unwrap_err();
    assert_eq!(trap_of(&err), Trap::UnreachableCodeReached);
    assert_eq!(ok.call_async(&mut store, ()).await?, 7);

    // In wasm called back from an async host function: the host function returns the trap
    // as its error and the outer call fails with it.
    let err = run.call_async(&mut store, 1).await.unwrap_err();
    assert_eq!(trap_of(&err), Trap::UnreachableCodeReached);
    assert_eq!(ok.call_async(&mut store, ()).await?, 7);

    // And the nested path still works after the trap.
    *store.data_mut() = "inner";
    assert_eq!(run.call_async(&mut store, 5).await?, 101);
    Ok(())
}
