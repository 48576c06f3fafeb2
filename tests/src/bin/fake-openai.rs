//! fake-openai as a process: prints one JSON line with its URLs (and `env`, the settings that
//! point a client at it), then serves until stdin closes, SIGTERM or Ctrl-C. Control it over HTTP
//! under `/_fake/` (stats, faults, requests, mint, secrets, device/approve, and `unexpected`: the
//! requests it did not expect, which a suite must find empty at its end; `DELETE` takes them).

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Parser;
use fake_openai::{FakeConfig, FakeOpenAi, FakeWorkspace};

#[derive(Parser)]
#[command(about = "A strict local stand-in for the OpenAI sign-in and Codex backend servers")]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    #[arg(long)]
    email: Option<String>,
    #[arg(long)]
    plan: Option<String>,
    /// Lifetime of issued access tokens, seconds.
    #[arg(long)]
    access_ttl_secs: Option<i64>,
    /// Accept only the redirect ports of the real client (1455, 1457).
    #[arg(long)]
    strict_redirect_ports: bool,
    /// Approve device codes only through POST /_fake/device/approve.
    #[arg(long)]
    manual_device_approval: bool,
    /// Keep serving when stdin closes.
    #[arg(long)]
    ignore_stdin: bool,
    /// Another workspace the user belongs to, as ID:NAME:PLAN (repeatable): `accounts/check`
    /// lists it beside the personal one, and a sign-in or request may choose it.
    #[arg(long = "workspace", value_parser = parse_workspace)]
    workspaces: Vec<FakeWorkspace>,
}

fn parse_workspace(text: &str) -> Result<FakeWorkspace, String> {
    let mut parts = text.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(id), Some(name), Some(plan))
            if !id.is_empty() && !name.is_empty() && !plan.is_empty() =>
        {
            Ok(FakeWorkspace {
                id: id.into(),
                name: name.into(),
                plan_type: plan.into(),
            })
        }
        _ => Err(format!("{text:?} is not ID:NAME:PLAN")),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let mut cfg = FakeConfig::default();
    if let Some(e) = args.email {
        cfg.email = e;
    }
    if let Some(p) = args.plan {
        cfg.plan = p;
    }
    if let Some(t) = args.access_ttl_secs {
        cfg.access_ttl_secs = t;
    }
    cfg.strict_redirect_ports = args.strict_redirect_ports;
    cfg.extra_workspaces = args.workspaces;
    if args.manual_device_approval {
        cfg.device_auto_approve_after = 0;
    }
    let fake = match FakeOpenAi::start_on(cfg, args.listen).await {
        Ok(f) => f,
        Err(e) => {
            eprintln!("fake-openai: cannot start on {}: {e}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    let line = serde_json::json!({
        "base_url": fake.base_url(),
        "issuer": fake.issuer(),
        "api_base": fake.api_base(),
        "usage_url": fake.usage_url(),
        "openai_api_base": fake.openai_api_base(),
        "env": fake.env().into_iter().collect::<std::collections::BTreeMap<_, _>>(),
    });
    println!("{line}");
    let stdin_closed = async {
        if args.ignore_stdin {
            std::future::pending::<()>().await;
        }
        let mut buf = [0u8; 256];
        use tokio::io::AsyncReadExt;
        let mut stdin = tokio::io::stdin();
        while let Ok(n) = stdin.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    };
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("fake-openai: {e}");
            return ExitCode::FAILURE;
        }
    };
    tokio::select! {
        _ = stdin_closed => {}
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    // The suites read the record over HTTP; what is left goes to the log rather than a panic.
    let left = fake.take_unexpected();
    drop(fake);
    if left.is_empty() {
        return ExitCode::SUCCESS;
    }
    eprintln!(
        "fake-openai: {} request(s) it did not expect:\n  {}",
        left.len(),
        left.join("\n  ")
    );
    ExitCode::FAILURE
}
