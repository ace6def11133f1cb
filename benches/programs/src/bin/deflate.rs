//! Compresses and decompresses generated text with miniz_oxide (zlib's deflate in Rust).
use wasmjit_bench_programs::{text, Checksum, Rng};

fn main() {
    let mut rng = Rng::new(1);
    let input = text(&mut rng, 512 << 10);
    let mut sum = Checksum::default();
    for level in [1u8, 6] {
        let packed = miniz_oxide::deflate::compress_to_vec(input.as_bytes(), level);
        let unpacked = miniz_oxide::inflate::decompress_to_vec(&packed).expect("inflates");
        assert_eq!(unpacked, input.as_bytes());
        sum.u64(packed.len() as u64);
        sum.bytes(&packed);
    }
    sum.print("deflate");
}
