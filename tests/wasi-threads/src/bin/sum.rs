//! Eight threads add their shares of 1..=8000 into one atomic; the main thread prints the
//! total and each thread's share.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

fn main() {
    let total = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = (0..8u64)
        .map(|t| {
            let total = total.clone();
            std::thread::spawn(move || {
                let mut share = 0;
                for i in t * 1000 + 1..=(t + 1) * 1000 {
                    total.fetch_add(i, Ordering::SeqCst);
                    share += i;
                }
                share
            })
        })
        .collect();
    for (t, handle) in handles.into_iter().enumerate() {
        println!("thread {t}: {}", handle.join().unwrap());
    }
    println!("total: {}", total.load(Ordering::SeqCst));
}
