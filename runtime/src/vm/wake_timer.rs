//! One process-wide thread that wakes async tasks at given instants: the timeouts and epoch
//! checks of `memory.atomic.wait`s that suspended their call's fiber. The runtime works with
//! any executor, so it cannot use one's own timer.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Condvar, Mutex, OnceLock};
use std::task::Waker;
use std::time::Instant;

struct Entry {
    when: Instant,
    /// Arrival order, which breaks ties (and makes entries comparable without the waker).
    seq: u64,
    waker: Waker,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.when, self.seq) == (other.when, other.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.when, self.seq).cmp(&(other.when, other.seq))
    }
}

#[derive(Default)]
struct Queue {
    entries: BinaryHeap<Reverse<Entry>>,
    next_seq: u64,
}

#[derive(Default)]
struct Timer {
    queue: Mutex<Queue>,
    changed: Condvar,
}

/// The timer, its thread started on first use; `None` when no thread could be started.
fn timer() -> Option<&'static Timer> {
    static TIMER: OnceLock<Option<&'static Timer>> = OnceLock::new();
    *TIMER.get_or_init(|| {
        let timer: &'static Timer = Box::leak(Box::default());
        std::thread::Builder::new()
            .name("wasmjit-wake-timer".into())
            .spawn(move || run(timer))
            .ok()
            .map(|_| timer)
    })
}

fn run(timer: &Timer) {
    let mut queue = timer.queue.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let now = Instant::now();
        let mut due = Vec::new();
        while queue.entries.peek().is_some_and(|e| e.0.when <= now) {
            due.push(queue.entries.pop().expect("peeked").0.waker);
        }
        if !due.is_empty() {
            // Wakers run executor code: not under the lock.
            drop(queue);
            due.into_iter().for_each(Waker::wake);
            queue = timer.queue.lock().unwrap_or_else(|e| e.into_inner());
            continue;
        }
        queue = match queue.entries.peek().map(|e| e.0.when) {
            None => timer.changed.wait(queue).unwrap_or_else(|e| e.into_inner()),
            Some(when) => {
                timer
                    .changed
                    .wait_timeout(queue, when.saturating_duration_since(now))
                    .unwrap_or_else(|e| e.into_inner())
                    .0
            }
        };
    }
}

/// Wakes `waker` at `when` (or soon after). Without a timer thread it is woken at once, so
/// the task polls again rather than sleep forever.
pub(crate) fn wake_at(when: Instant, waker: Waker) {
    let Some(timer) = timer() else {
        waker.wake();
        return;
    };
    let mut queue = timer.queue.lock().unwrap_or_else(|e| e.into_inner());
    let seq = queue.next_seq;
    queue.next_seq += 1;
    let earliest = queue.entries.peek().is_none_or(|e| when < e.0.when);
    queue.entries.push(Reverse(Entry { when, seq, waker }));
    drop(queue);
    if earliest {
        timer.changed.notify_one();
    }
}
