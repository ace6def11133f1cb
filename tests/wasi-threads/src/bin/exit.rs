//! While two threads wait forever on a Condvar, a third calls `exit(3)`: the whole program
//! ends with status 3 (the main thread, joining, never prints "joined").
use std::sync::{Arc, Condvar, Mutex};

fn main() {
    let never = Arc::new((Mutex::new(false), Condvar::new()));
    let waiters: Vec<_> = (0..2)
        .map(|_| {
            let never = never.clone();
            std::thread::spawn(move || {
                let (lock, cv) = &*never;
                let mut done = lock.lock().unwrap();
                while !*done {
                    done = cv.wait(done).unwrap();
                }
            })
        })
        .collect();
    let exiter = std::thread::spawn(|| {
        println!("exiting with 3");
        std::process::exit(3);
    });
    exiter.join().unwrap();
    for w in waiters {
        w.join().unwrap();
    }
    println!("joined");
}
