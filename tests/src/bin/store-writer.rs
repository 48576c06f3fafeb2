//! Test helper for crash safety: saves two records alternately into a file store, forever, and
//! prints `saved <n>` after each save. The test kills it with SIGKILL at random moments.
//! Usage: store-writer <record-a.json> <record-b.json>   (settings from the environment)

use std::io::Write;
use std::process::ExitCode;

use codex_oauth_core::Settings;
use codex_oauth_core::store::{AuthRecord, Store};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let read = |i: usize| -> Option<AuthRecord> {
        let bytes = std::fs::read(args.get(i)?).ok()?;
        AuthRecord::from_json(&bytes).ok()
    };
    let (Some(a), Some(b)) = (read(1), read(2)) else {
        eprintln!("usage: store-writer <record-a.json> <record-b.json>");
        return ExitCode::from(2);
    };
    let store = match Settings::load().and_then(|s| Store::open(&s)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut out = std::io::stdout().lock();
    for n in 0u64.. {
        let rec = if n % 2 == 0 { &a } else { &b };
        let saved = store.lock().and_then(|g| store.save(&g, rec));
        if let Err(e) = saved {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
        if writeln!(out, "saved {n}")
            .and_then(|_| out.flush())
            .is_err()
        {
            return ExitCode::SUCCESS;
        }
    }
    ExitCode::SUCCESS
}
