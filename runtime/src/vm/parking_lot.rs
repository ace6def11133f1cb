//! Threads parked by `memory.atomic.wait`, keyed by address, until a `memory.atomic.notify`
//! of that address wakes them or their timeout passes.
//!
//! Addresses hash to a fixed set of buckets, each a mutex over its waiters (in arrival order,
//! so that a notify wakes the longest waiting first) and one condition variable its waiters
//! sleep on. A waiter compares the memory's value with what it expects while holding its
//! bucket's lock, and a notifier takes the same lock, so a notify that follows the store
//! that makes the comparison fail can never be missed.
//!
//! A waiter is a thread (sleeping on its bucket's condition variable) or, for a wait made
//! by an async call, a task ([`AsyncPark`], whose waker a notify wakes): the call's fiber is
//! suspended and its executor thread runs other tasks meanwhile. A wait made for a store
//! with epoch interruption also ends once the engine's epoch reaches the store's deadline,
//! which it checks every [`EPOCH_POLL`] (epochs advance without telling anyone); the caller
//! then runs the store's deadline behaviour.

use crate::vm::wake_timer;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// How many buckets addresses are spread over.
const BUCKETS: usize = 64;

/// How often a wait checks its store's epoch deadline.
const EPOCH_POLL: Duration = Duration::from_millis(1);

/// How a wait made for a store ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Parked {
    /// As the proposal says.
    Done(WaitResult),
    /// The store's epoch deadline passed first.
    EpochReached,
}

/// Why a wait ended (Wasmtime's `WaitResult`, in the order of its wasm result codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WaitResult {
    /// A notify woke the waiter (wasm result 0).
    Ok,
    /// The value at the address was not the expected one: no wait (wasm result 1).
    Mismatch,
    /// The timeout passed first (wasm result 2).
    TimedOut,
}

impl WaitResult {
    /// The result `memory.atomic.wait32/64` leaves on the wasm stack.
    pub(crate) fn code(self) -> u32 {
        match self {
            WaitResult::Ok => 0,
            WaitResult::Mismatch => 1,
            WaitResult::TimedOut => 2,
        }
    }
}

/// One parked thread or task.
struct Waiter {
    addr: usize,
    /// Distinguishes waiters of one address (a waiter finds its own entry by it).
    ticket: u64,
    woken: bool,
    /// A task's waker; `None` for a thread, which sleeps on the bucket's condition variable.
    task: Option<Waker>,
}

#[derive(Default)]
struct BucketState {
    waiters: Vec<Waiter>,
    next_ticket: u64,
}

impl BucketState {
    fn enqueue(&mut self, addr: usize, task: Option<Waker>) -> u64 {
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        self.waiters.push(Waiter {
            addr,
            ticket,
            woken: false,
            task,
        });
        ticket
    }

    fn find(&mut self, ticket: u64) -> &mut Waiter {
        self.waiters
            .iter_mut()
            .find(|w| w.ticket == ticket)
            .expect("a waiter's entry stays until it leaves")
    }

    /// Removes the entry of `ticket`; whether a notify had woken it.
    fn leave(&mut self, ticket: u64) -> bool {
        match self.waiters.iter().position(|w| w.ticket == ticket) {
            Some(at) => self.waiters.remove(at).woken,
            None => false,
        }
    }
}

/// What ends a wait besides a notify: a deadline, and a check of the store's epoch deadline.
#[derive(Clone, Copy)]
pub(crate) struct WaitLimits<'a> {
    pub(crate) deadline: Option<Instant>,
    pub(crate) epoch_reached: Option<&'a (dyn Fn() -> bool + Send + Sync)>,
}

impl WaitLimits<'_> {
    /// Why the wait must end now, if it must (a notify having been checked first).
    fn check(&self, now: Instant) -> Option<Parked> {
        if self.deadline.is_some_and(|d| now >= d) {
            Some(Parked::Done(WaitResult::TimedOut))
        } else if self.epoch_reached.is_some_and(|reached| reached()) {
            Some(Parked::EpochReached)
        } else {
            None
        }
    }

    /// When to look again (`None`: only a notify ends the wait).
    fn next_check(&self, now: Instant) -> Option<Instant> {
        let epoch = self.epoch_reached.map(|_| now + EPOCH_POLL);
        match (self.deadline, epoch) {
            (Some(d), Some(e)) => Some(d.min(e)),
            (d, e) => d.or(e),
        }
    }
}

#[derive(Default)]
struct Bucket {
    state: Mutex<BucketState>,
    wakeup: Condvar,
}

/// The parked threads of one shared memory.
pub(crate) struct ParkingLot {
    buckets: Box<[Bucket]>,
}

impl Default for ParkingLot {
    fn default() -> Self {
        Self {
            buckets: (0..BUCKETS).map(|_| Bucket::default()).collect(),
        }
    }
}

impl ParkingLot {
    fn bucket(&self, addr: usize) -> &Bucket {
        // Waited-on words are 4- or 8-byte aligned: drop the low bits before spreading.
        let hash = (addr >> 2).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        &self.buckets[hash >> 58 & (BUCKETS - 1)]
    }

    fn lock(bucket: &Bucket) -> MutexGuard<'_, BucketState> {
        // Every update keeps the bucket consistent between statements: a poisoned lock is
        // still usable.
        bucket.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Parks the calling thread on `addr` if `still_expected()` holds (checked under the
    /// bucket's lock), until a notify of `addr` or until `timeout` passes (`None`: forever).
    pub(crate) fn wait(
        &self,
        addr: usize,
        still_expected: impl FnOnce() -> bool,
        timeout: Option<Duration>,
    ) -> WaitResult {
        let limits = WaitLimits {
            deadline: timeout.and_then(|t| Instant::now().checked_add(t)),
            epoch_reached: None,
        };
        match self.park(addr, still_expected, limits) {
            Parked::Done(result) => result,
            Parked::EpochReached => unreachable!("no epoch check was given"),
        }
    }

    /// [`ParkingLot::wait`] for a store: ends at `limits` too.
    pub(crate) fn park(
        &self,
        addr: usize,
        still_expected: impl FnOnce() -> bool,
        limits: WaitLimits<'_>,
    ) -> Parked {
        let bucket = self.bucket(addr);
        let mut state = Self::lock(bucket);
        if !still_expected() {
            return Parked::Done(WaitResult::Mismatch);
        }
        let ticket = state.enqueue(addr, None);
        loop {
            if state.find(ticket).woken {
                state.leave(ticket);
                return Parked::Done(WaitResult::Ok);
            }
            let now = Instant::now();
            if let Some(end) = limits.check(now) {
                state.leave(ticket);
                return end;
            }
            state = match limits.next_check(now) {
                None => bucket.wakeup.wait(state).unwrap_or_else(|e| e.into_inner()),
                Some(at) => {
                    bucket
                        .wakeup
                        .wait_timeout(state, at.saturating_duration_since(now))
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
    }

    /// A wait as [`ParkingLot::park`] for an async call: a future that parks its task
    /// instead of the thread. Dropping it leaves the queue.
    pub(crate) fn park_async<'a, F: FnOnce() -> bool + Unpin>(
        &'a self,
        addr: usize,
        still_expected: F,
        limits: WaitLimits<'a>,
    ) -> AsyncPark<'a, F> {
        AsyncPark {
            lot: self,
            addr,
            still_expected: Some(still_expected),
            limits,
            ticket: None,
            timer: None,
        }
    }

    /// Wakes at most `count` threads waiting on `addr`, the longest waiting first; how many.
    pub(crate) fn notify(&self, addr: usize, count: u32) -> u32 {
        if count == 0 {
            return 0;
        }
        let bucket = self.bucket(addr);
        let mut state = Self::lock(bucket);
        let mut woken = 0;
        let mut tasks = Vec::new();
        for waiter in state.waiters.iter_mut() {
            if woken == count {
                break;
            }
            if waiter.addr == addr && !waiter.woken {
                waiter.woken = true;
                woken += 1;
                tasks.extend(waiter.task.clone());
            }
        }
        drop(state);
        // Wakers run executor code: not under the lock.
        tasks.into_iter().for_each(Waker::wake);
        if woken > 0 {
            // Waiters of other addresses share the condition variable: wake all, each checks
            // its own entry.
            bucket.wakeup.notify_all();
        }
        woken
    }
}

/// A wait of an async call (see [`ParkingLot::park_async`]).
pub(crate) struct AsyncPark<'a, F> {
    lot: &'a ParkingLot,
    addr: usize,
    /// Taken by the first poll, which compares and enqueues.
    still_expected: Option<F>,
    limits: WaitLimits<'a>,
    /// The queue entry, while enqueued.
    ticket: Option<u64>,
    /// The earliest wake-up already asked of the timer.
    timer: Option<Instant>,
}

impl<F: FnOnce() -> bool + Unpin> Future for AsyncPark<'_, F> {
    type Output = Parked;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Parked> {
        let this = self.get_mut();
        let mut state = ParkingLot::lock(this.lot.bucket(this.addr));
        match this.ticket {
            None => {
                let still_expected = this.still_expected.take().expect("polled after completion");
                if !still_expected() {
                    return Poll::Ready(Parked::Done(WaitResult::Mismatch));
                }
                this.ticket = Some(state.enqueue(this.addr, Some(cx.waker().clone())));
            }
            Some(ticket) => {
                let waiter = state.find(ticket);
                if waiter.woken {
                    state.leave(ticket);
                    this.ticket = None;
                    return Poll::Ready(Parked::Done(WaitResult::Ok));
                }
                if !waiter
                    .task
                    .as_ref()
                    .is_some_and(|w| w.will_wake(cx.waker()))
                {
                    waiter.task = Some(cx.waker().clone());
                }
            }
        }
        let now = Instant::now();
        if let Some(end) = this.limits.check(now) {
            if let Some(ticket) = this.ticket.take() {
                state.leave(ticket);
            }
            return Poll::Ready(end);
        }
        drop(state);
        if let Some(at) = this.limits.next_check(now) {
            // One timer entry at a time: a new one only when it is earlier, or the last is due.
            if this.timer.is_none_or(|t| at < t || t <= now) {
                wake_timer::wake_at(at, cx.waker().clone());
                this.timer = Some(at);
            }
        }
        Poll::Pending
    }
}

impl<F> Drop for AsyncPark<'_, F> {
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket.take() {
            ParkingLot::lock(self.lot.bucket(self.addr)).leave(ticket);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    #[test]
    fn a_mismatch_or_a_zero_timeout_does_not_park() {
        let lot = ParkingLot::default();
        assert_eq!(lot.wait(8, || false, None), WaitResult::Mismatch);
        assert_eq!(
            lot.wait(8, || true, Some(Duration::ZERO)),
            WaitResult::TimedOut
        );
        assert_eq!(
            lot.wait(8, || true, Some(Duration::from_millis(1))),
            WaitResult::TimedOut
        );
        assert_eq!(lot.notify(8, 1), 0, "timed-out waiters are gone");
    }

    #[test]
    fn notify_wakes_at_most_count_waiters_of_its_address() {
        let lot = Arc::new(ParkingLot::default());
        let parked = Arc::new(AtomicU32::new(0));
        let threads: Vec<_> = (0..3)
            .map(|_| {
                let (lot, parked) = (lot.clone(), parked.clone());
                std::thread::spawn(move || {
                    lot.wait(
                        64,
                        || {
                            parked.fetch_add(1, Ordering::SeqCst);
                            true
                        },
                        None,
                    )
                })
            })
            .collect();
        while parked.load(Ordering::SeqCst) < 3 {
            std::thread::yield_now();
        }
        assert_eq!(lot.notify(128, 5), 0, "another address wakes nobody");
        assert_eq!(lot.notify(64, 2), 2);
        assert_eq!(lot.notify(64, 5), 1);
        for t in threads {
            assert_eq!(t.join().unwrap(), WaitResult::Ok);
        }
    }
}
