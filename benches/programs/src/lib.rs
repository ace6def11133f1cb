//! What the programs share: deterministic input data and the checksum they print.

/// A small deterministic generator (xorshift64*): every run makes the same input.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// One of `items`.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

/// 64-bit FNV-1a, folded over everything a program produces.
pub struct Checksum(u64);

impl Default for Checksum {
    fn default() -> Self {
        Checksum(0xcbf2_9ce4_8422_2325)
    }
}

impl Checksum {
    pub fn bytes(&mut self, data: &[u8]) {
        for &b in data {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x100_0000_01b3);
        }
    }

    pub fn u64(&mut self, v: u64) {
        self.bytes(&v.to_le_bytes());
    }

    /// Prints the line the checksum test compares: `<program> checksum <hex>`.
    pub fn print(&self, program: &str) {
        println!("{program} checksum {:016x}", self.0);
    }
}

/// Words for generated text: some repeated often, so text compresses and regexes match.
pub const WORDS: &[&str] = &[
    "the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "wasm", "module",
    "function", "memory", "table", "global", "import", "export", "stack", "frame", "value",
    "branch", "loop", "block", "call", "return", "trap", "fuel", "epoch", "store", "engine",
    "linker", "instance", "compile", "error", "warning", "request", "response", "server",
    "client", "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "theta", "lambda",
];

/// About `len` bytes of lines of words and numbers.
pub fn text(rng: &mut Rng, len: usize) -> String {
    let mut out = String::with_capacity(len + 64);
    while out.len() < len {
        let words = 4 + rng.below(12);
        for i in 0..words {
            if i > 0 {
                out.push(' ');
            }
            if rng.below(8) == 0 {
                out.push_str(&rng.below(100_000).to_string());
            } else {
                out.push_str(rng.pick(WORDS));
            }
        }
        out.push_str(".\n");
    }
    out
}
