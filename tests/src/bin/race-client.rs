//! Test helper: N concurrent `Session::access_token()` callers in one process, settings from the
//! environment. Prints one JSON line: {"ok": n, "errors": [...], "tokens": [<sha256 prefix>...]}
//! (hashes, never tokens).

use std::process::ExitCode;

use codex_oauth_core::{Session, Settings};
use sha2::{Digest, Sha256};

#[tokio::main]
async fn main() -> ExitCode {
    let callers: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let session = match Settings::load().and_then(Session::open) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut tasks = Vec::new();
    for _ in 0..callers {
        let s = session.clone();
        tasks.push(tokio::spawn(async move { s.access_token().await }));
    }
    let mut ok = 0;
    let mut errors = Vec::new();
    let mut tokens = Vec::new();
    for t in tasks {
        match t.await {
            Ok(Ok(tok)) => {
                ok += 1;
                let h = Sha256::digest(tok.token.expose().as_bytes());
                tokens.push(
                    h.iter()
                        .take(8)
                        .map(|b| format!("{b:02x}"))
                        .collect::<String>(),
                );
            }
            Ok(Err(e)) => errors.push(e.to_string()),
            Err(e) => errors.push(e.to_string()),
        }
    }
    let line = serde_json::json!({ "ok": ok, "errors": errors, "tokens": tokens });
    println!("{line}");
    ExitCode::SUCCESS
}
