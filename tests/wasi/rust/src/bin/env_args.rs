//! Arguments and environment: what the host passes, in order; absent variables.
use std::env;
use wasi_test_programs::Checks;

fn main() {
    let mut c = Checks::new("rust env_args");
    let args: Vec<String> = env::args().collect();
    c.eq("argc", args.len(), 3);
    c.eq(
        "argv[1..]",
        &args[1..],
        &["first".to_string(), "second".to_string()][..],
    );
    c.is("argv[0]", args[0].ends_with("env_args"));
    let mut vars: Vec<(String, String)> = env::vars().collect();
    vars.sort();
    c.eq(
        "vars",
        vars,
        vec![
            ("EMPTY".into(), String::new()),
            ("GREETING".into(), "hi there".into()),
        ],
    );
    c.eq("var", env::var("GREETING").ok(), Some("hi there".into()));
    c.eq("empty var", env::var("EMPTY").ok(), Some(String::new()));
    c.is("missing var", env::var("MISSING").is_err());
    // SAFETY: the program has one thread.
    unsafe { env::set_var("MISSING", "set inside") };
    c.eq(
        "set_var stays inside",
        env::var("MISSING").ok(),
        Some("set inside".into()),
    );
    for arg in &args {
        println!("arg {arg}");
    }
    c.finish()
}
