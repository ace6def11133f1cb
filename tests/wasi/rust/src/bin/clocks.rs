//! Clocks: the monotonic clock moves forward, `thread::sleep` (poll_oneoff) sleeps at least
//! as long as asked, the wall clock is past 2020.
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use wasi_test_programs::Checks;

fn main() {
    let mut c = Checks::new("rust clocks");
    let start = Instant::now();
    thread::sleep(Duration::from_millis(30));
    let slept = start.elapsed();
    c.is("slept at least 30 ms", slept >= Duration::from_millis(30));
    let before = Instant::now();
    thread::sleep(Duration::ZERO);
    thread::sleep(Duration::from_nanos(1));
    c.is("monotonic", Instant::now() >= before);
    let wall = SystemTime::now().duration_since(UNIX_EPOCH);
    c.is(
        "after 2020",
        wall.map(|d| d.as_secs() > 1_577_836_800).unwrap_or(false),
    );
    let a = SystemTime::now();
    thread::sleep(Duration::from_millis(5));
    c.is("wall clock moves", SystemTime::now() > a);
    c.finish()
}
