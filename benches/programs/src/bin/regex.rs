//! Runs a few regular expressions of different shapes over generated text with `regex`.
use regex::Regex;
use wasmjit_bench_programs::{text, Checksum, Rng};

fn main() {
    let mut rng = Rng::new(3);
    let haystack = text(&mut rng, 2 << 20);
    let patterns = [
        r"\b(quick|lazy) (brown|dog|fox)\b",
        r"[0-9]{4,}",
        r"(?i)ERROR|WARNING",
        r"\w+ion\b",
        r"(\w+) \1",
        r"^[a-z]+ [a-z]+ \d+",
    ];
    let mut sum = Checksum::default();
    for pattern in patterns {
        // `(\w+) \1` has a backreference, which `regex` does not support: skip it on purpose.
        let Ok(re) = Regex::new(&format!("(?m){pattern}")) else {
            sum.u64(u64::MAX);
            continue;
        };
        let mut count = 0u64;
        for m in re.find_iter(&haystack) {
            count += 1;
            sum.u64(m.start() as u64);
        }
        sum.u64(count);
    }
    let pairs = Regex::new(r"(\w+) (\d+)").unwrap();
    for caps in pairs.captures_iter(&haystack) {
        sum.bytes(caps[1].as_bytes());
    }
    let replaced = Regex::new(r"\d+").unwrap().replace_all(&haystack, "#");
    sum.u64(replaced.len() as u64);
    sum.print("regex");
}
