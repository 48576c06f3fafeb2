//! The secret filter's cost, for `scripts/bench`: the text files under the given folders, up to
//! `--bytes` in all, each redacted as `codex_query` redacts a file (its name says its syntax),
//! `--runs` times. Prints one JSON line: bytes, files, redactions, median and p95 in ms.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Parser;
use codex_oauth_core::files::redact_file;

#[derive(Parser)]
struct Args {
    /// Folders whose text files make the bundle.
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// The bundle's size at most.
    #[arg(long, default_value_t = 600 * 1024)]
    bytes: usize,
    #[arg(long, default_value_t = 30)]
    runs: usize,
}

fn collect(dir: &Path, budget: &mut usize, out: &mut Vec<(String, String)>) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .collect::<std::io::Result<_>>()?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for e in entries {
        if *budget == 0 {
            break;
        }
        let path = e.path();
        if e.file_type()?.is_dir() {
            collect(&path, budget, out)?;
        } else if let Ok(text) = std::fs::read_to_string(&path) {
            if text.len() > *budget {
                continue;
            }
            *budget -= text.len();
            out.push((path.to_string_lossy().into_owned(), text));
        }
    }
    Ok(())
}

fn main() -> Result<()> {
    let a = Args::parse();
    let mut files = Vec::new();
    let mut budget = a.bytes;
    for d in &a.dirs {
        collect(d, &mut budget, &mut files)?;
    }
    let bytes: usize = files.iter().map(|(_, t)| t.len()).sum();
    if std::env::var_os("FILTER_BENCH_FINDERS").is_some() {
        let all: String = files.iter().map(|(_, t)| t.as_str()).collect();
        let _ = codex_oauth_core::files::secrets::finder_costs(&all);
        let mut costs = codex_oauth_core::files::secrets::finder_costs(&all);
        costs.sort_by_key(|c| std::cmp::Reverse(c.1));
        for (p, us, n) in costs.iter().take(15) {
            eprintln!("{us:>6} us {n:>6} matches  {p}");
        }
    }
    let mut times = Vec::with_capacity(a.runs);
    let mut redactions = 0;
    for _ in 0..a.runs.max(1) {
        let t = Instant::now();
        redactions = 0;
        for (name, text) in &files {
            let (out, found) = redact_file(text, name);
            redactions += found.len();
            std::hint::black_box(out);
        }
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let p95 = times[(times.len() * 95 / 100).min(times.len() - 1)];
    println!(
        "{}",
        serde_json::json!({
            "bytes": bytes, "files": files.len(), "redactions": redactions,
            "median_ms": median, "p95_ms": p95,
        })
    );
    Ok(())
}
