//! A thread panics (on this target a panic aborts: the thread traps) while the main thread
//! waits for it; the trap ends the whole program.
fn main() {
    println!("spawning");
    let handle = std::thread::spawn(|| {
        let v: Vec<u32> = std::env::args().map(|a| a.len() as u32).collect();
        if v.len() < 100 {
            panic!("thread gave up after {} arguments", v.len());
        }
        v.len()
    });
    let r = handle.join();
    println!("joined: {}", r.is_ok());
}
