//! Parses, walks and prints a generated JSON document with serde_json.
use serde_json::Value;
use wasmjit_bench_programs::{Checksum, Rng, WORDS};

/// A document of `n` records, each with strings, numbers, a nested object and an array.
fn document(rng: &mut Rng, n: usize) -> String {
    let mut out = String::from("[");
    for i in 0..n {
        if i > 0 {
            out.push(',');
        }
        let name = rng.pick(WORDS);
        let tags: Vec<String> = (0..rng.below(6))
            .map(|_| format!("\"{}\"", rng.pick(WORDS)))
            .collect();
        out.push_str(&format!(
            "{{\"id\":{i},\"name\":\"{name} \\\"{i}\\\"\",\"score\":{}.{},\"active\":{},\
             \"pos\":{{\"x\":{},\"y\":-{}}},\"tags\":[{}],\"note\":null}}",
            rng.below(1000),
            rng.below(1000),
            rng.below(2) == 0,
            rng.below(1 << 20),
            rng.below(1 << 20),
            tags.join(","),
        ));
    }
    out.push(']');
    out
}

/// Folds every leaf of `value` into `sum`.
fn walk(value: &Value, sum: &mut Checksum) {
    match value {
        Value::Null => sum.u64(0),
        Value::Bool(b) => sum.u64(u64::from(*b) + 1),
        Value::Number(n) => sum.u64(n.as_f64().unwrap_or(0.0).to_bits()),
        Value::String(s) => sum.bytes(s.as_bytes()),
        Value::Array(items) => items.iter().for_each(|v| walk(v, sum)),
        Value::Object(map) => map.iter().for_each(|(k, v)| {
            sum.bytes(k.as_bytes());
            walk(v, sum);
        }),
    }
}

fn main() {
    let mut rng = Rng::new(2);
    let doc = document(&mut rng, 5_000);
    let mut sum = Checksum::default();
    for _ in 0..3 {
        let value: Value = serde_json::from_str(&doc).expect("parses");
        walk(&value, &mut sum);
        let printed = serde_json::to_string(&value).expect("prints");
        sum.u64(printed.len() as u64);
    }
    sum.print("json");
}
