//! Runs a script on the Rhai interpreter (a tree-walking interpreter written in Rust).
use rhai::{Engine, INT};
use wasmjit_bench_programs::Checksum;

const SCRIPT: &str = r#"
fn fib(n) { if n < 2 { n } else { fib(n - 1) + fib(n - 2) } }

let total = fib(20);

let primes = [];
for i in 2..3000 {
    let is_prime = true;
    for p in primes {
        if p * p > i { break; }
        if i % p == 0 { is_prime = false; break; }
    }
    if is_prime { primes.push(i); }
}
total += primes.len();

let words = #{};
let text = "";
for i in 0..3000 {
    let key = "k" + (i * 7919 % 257);
    words[key] = (words[key] ?? 0) + i;
    text += key;
}
for k in words.keys() { total += words[k] % 1000; }
total += text.len;

let arr = [];
for i in 0..5000 { arr.push((i * 48271) % 2147483647 % 10007); }
arr.sort();
total += arr[0] + arr[2500] + arr[4999];
total
"#;

fn main() {
    let engine = Engine::new();
    let ast = engine.compile(SCRIPT).expect("script compiles");
    let mut sum = Checksum::default();
    for _ in 0..2 {
        let result: INT = engine.eval_ast(&ast).expect("script runs");
        sum.u64(result as u64);
    }
    sum.print("rhai");
}
