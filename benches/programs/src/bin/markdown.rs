//! Renders a generated Markdown document to HTML with pulldown-cmark.
use pulldown_cmark::{html, Options, Parser};
use wasmjit_bench_programs::{Checksum, Rng, WORDS};

fn sentence(rng: &mut Rng, out: &mut String) {
    for i in 0..3 + rng.below(10) {
        if i > 0 {
            out.push(' ');
        }
        let word = rng.pick(WORDS);
        match rng.below(12) {
            0 => out.push_str(&format!("*{word}*")),
            1 => out.push_str(&format!("**{word}**")),
            2 => out.push_str(&format!("`{word}()`")),
            3 => out.push_str(&format!("[{word}](https://example.org/{word})")),
            _ => out.push_str(word),
        }
    }
    out.push_str(". ");
}

fn document(rng: &mut Rng, sections: usize) -> String {
    let mut out = String::new();
    for s in 0..sections {
        out.push_str(&format!("## Section {s} {}\n\n", rng.pick(WORDS)));
        for _ in 0..1 + rng.below(3) {
            for _ in 0..2 + rng.below(4) {
                sentence(rng, &mut out);
            }
            out.push_str("\n\n");
        }
        match rng.below(4) {
            0 => {
                for _ in 0..3 + rng.below(4) {
                    out.push_str("- ");
                    sentence(rng, &mut out);
                    out.push('\n');
                }
            }
            1 => {
                out.push_str("```rust\nfn main() {\n    println!(\"hi\");\n}\n```\n");
            }
            2 => {
                out.push_str("| a | b | c |\n|---|---|---|\n");
                for _ in 0..4 {
                    let row = (rng.pick(WORDS), rng.below(100), rng.pick(WORDS));
                    out.push_str(&format!("| {} | {} | {} |\n", row.0, row.1, row.2));
                }
            }
            _ => {
                out.push_str("> ");
                sentence(rng, &mut out);
                out.push('\n');
            }
        }
        out.push('\n');
    }
    out
}

fn main() {
    let mut rng = Rng::new(4);
    let doc = document(&mut rng, 1000);
    let mut sum = Checksum::default();
    let mut rendered = String::new();
    for _ in 0..4 {
        rendered.clear();
        html::push_html(&mut rendered, Parser::new_ext(&doc, Options::all()));
        sum.bytes(rendered.as_bytes());
    }
    sum.print("markdown");
}
