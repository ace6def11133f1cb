//! Threads parked by `memory.atomic.wait`, keyed by address, until a `memory.atomic.notify`
//! of that address wakes them or their timeout passes.
//!
//! Addresses hash to a fixed set of buckets, each a mutex over its waiters (in arrival order,
//! so that a notify wakes the longest waiting first) and one condition variable its waiters
//! sleep on. A waiter compares the memory's value with what it expects while holding its
//! bucket's lock, and a notifier takes the same lock, so a notify that follows the store
//! that makes the comparison fail can never be missed.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How many buckets addresses are spread over.
const BUCKETS: usize = 64;

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

/// One parked thread.
struct Waiter {
    addr: usize,
    /// Distinguishes waiters of one address (a thread finds its own entry by it).
    ticket: u64,
    woken: bool,
}

#[derive(Default)]
struct BucketState {
    waiters: Vec<Waiter>,
    next_ticket: u64,
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
        let bucket = self.bucket(addr);
        let mut state = Self::lock(bucket);
        if !still_expected() {
            return WaitResult::Mismatch;
        }
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        if timeout.is_some_and(|t| t.is_zero()) {
            return WaitResult::TimedOut;
        }
        let ticket = state.next_ticket;
        state.next_ticket += 1;
        state.waiters.push(Waiter {
            addr,
            ticket,
            woken: false,
        });
        loop {
            let at = state
                .waiters
                .iter()
                .position(|w| w.ticket == ticket)
                .expect("a waiter's entry stays until it leaves");
            if state.waiters[at].woken {
                state.waiters.remove(at);
                return WaitResult::Ok;
            }
            state = match deadline {
                None => bucket.wakeup.wait(state).unwrap_or_else(|e| e.into_inner()),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        state.waiters.remove(at);
                        return WaitResult::TimedOut;
                    }
                    bucket
                        .wakeup
                        .wait_timeout(state, deadline - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
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
        for waiter in state.waiters.iter_mut() {
            if woken == count {
                break;
            }
            if waiter.addr == addr && !waiter.woken {
                waiter.woken = true;
                woken += 1;
            }
        }
        drop(state);
        if woken > 0 {
            // Waiters of other addresses share the condition variable: wake all, each checks
            // its own entry.
            bucket.wakeup.notify_all();
        }
        woken
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
