//! SHA-256 (sha2) and BLAKE3 (blake3, portable code) over generated data.
use sha2::{Digest, Sha256};
use wasmjit_bench_programs::{Checksum, Rng};

fn main() {
    let mut rng = Rng::new(5);
    let data: Vec<u8> = (0..(16 << 20) / 8).flat_map(|_| rng.next_u64().to_le_bytes()).collect();
    let mut sum = Checksum::default();
    // Whole buffer, then many small messages (the per-call overhead).
    sum.bytes(&Sha256::digest(&data));
    sum.bytes(blake3::hash(&data).as_bytes());
    for chunk in data.chunks(64).take(80_000) {
        sum.bytes(&Sha256::digest(chunk));
        sum.bytes(blake3::hash(chunk).as_bytes());
    }
    sum.print("hashes");
}
