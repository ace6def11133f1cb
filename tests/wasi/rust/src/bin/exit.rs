//! Exit statuses: `exit N` calls `process::exit(N)`, `error` returns an error from `main`
//! (status 1, the error on stderr), `panic` panics (a trap: the panic message on stderr).
use std::process::ExitCode;

fn main() -> Result<ExitCode, String> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("exit") => {
            let code = args.get(2).and_then(|c| c.parse().ok()).unwrap_or(9);
            println!("exiting with {code}");
            std::process::exit(code)
        }
        Some("error") => Err("asked to fail".to_string()),
        Some("panic") => panic!("asked to panic"),
        Some("code") => Ok(ExitCode::from(17)),
        _ => Ok(ExitCode::SUCCESS),
    }
}
