//! A producer hands 100 values one at a time to a consumer through a Mutex and two
//! Condvars (slot full / slot empty); the consumer echoes every tenth and the sum.
use std::sync::{Arc, Condvar, Mutex};

struct Slot {
    value: Mutex<Option<u32>>,
    filled: Condvar,
    emptied: Condvar,
}

fn main() {
    let slot = Arc::new(Slot {
        value: Mutex::new(None),
        filled: Condvar::new(),
        emptied: Condvar::new(),
    });
    let producer = {
        let slot = slot.clone();
        std::thread::spawn(move || {
            for v in 1..=100 {
                let mut value = slot.value.lock().unwrap();
                while value.is_some() {
                    value = slot.emptied.wait(value).unwrap();
                }
                *value = Some(v);
                slot.filled.notify_one();
            }
        })
    };
    let consumer = {
        let slot = slot.clone();
        std::thread::spawn(move || {
            let mut sum = 0;
            for _ in 0..100 {
                let mut value = slot.value.lock().unwrap();
                let v = loop {
                    match value.take() {
                        Some(v) => break v,
                        None => value = slot.filled.wait(value).unwrap(),
                    }
                };
                slot.emptied.notify_one();
                drop(value);
                if v % 10 == 0 {
                    println!("got {v}");
                }
                sum += v;
            }
            sum
        })
    };
    producer.join().unwrap();
    println!("sum: {}", consumer.join().unwrap());
}
