//! A rotated refresh token survives every interruption a process can see (issue "never sign the
//! user out by accident"). The token endpoint rotates at once and holds its answer back, so the
//! old refresh token is dead while the answer is on its way; each round interrupts a refresh at
//! a random moment of that window (an MCP cancel, SIGTERM, stdin closing, Ctrl-C on `token`, the
//! profile folder made unwritable),
//! then checks that the next call gets a token from the same lineage, with no
//! `refresh_token_reused`. SIGKILL cannot be made safe (no process saves after it): it is
//! measured apart and expected to lose the rotation.
//!
//! Rounds per kind: `ROTATION_ROUNDS` (default 3 in CI; `scripts/rotation-harness` runs more).

use std::time::{Duration, Instant};

use fake_openai::{FakeOpenAi, Faults};
use rand::Rng;
use serde_json::{Value, json};

use crate::bridge_faults::Raw;
use crate::support::{Home, Running, bin, fake};

/// How long the token endpoint holds its answer after rotating: longer than the bridge's 1 s
/// runtime shutdown, as a slow issuer's can be.
const HOLD_MS: u64 = 1500;

fn rounds() -> usize {
    std::env::var("ROTATION_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
}

/// Wait (bounded) until the fake has rotated the refresh token `n` times in all.
fn wait_for_grant(fake: &FakeOpenAi, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while fake.stats().refreshes < n {
        assert!(
            Instant::now() < deadline,
            "no refresh reached the token endpoint"
        );
        std::thread::park_timeout(Duration::from_millis(5));
    }
}

/// A random moment inside the window in which the answer is held back.
fn random_moment() {
    let ms = rand::thread_rng().gen_range(0..HOLD_MS * 2 / 3);
    std::thread::park_timeout(Duration::from_millis(ms));
}

fn signal(pid: u32, sig: libc::c_int) {
    #[allow(unsafe_code)]
    // SAFETY: kill(2) on a child of this test.
    let rc = unsafe { libc::kill(pid as libc::pid_t, sig) };
    assert_eq!(rc, 0);
}

/// After an interruption: a token comes, from the lineage that was rotated (no new refresh, no
/// reuse), and the profile is still signed in.
fn check_survived(fake: &FakeOpenAi, home: &Home, rotations: u64, what: &str) {
    let out = home.cli(&["token"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{what}: the next call failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stats = fake.stats();
    assert_eq!(
        stats.reuse_rejections, 0,
        "{what}: a dead refresh token was used"
    );
    assert_eq!(
        stats.refreshes, rotations,
        "{what}: the rotated token was not kept (the next call refreshed again)"
    );
}

async fn setup() -> (FakeOpenAi, Home) {
    let fake = fake().await;
    fake.set_faults(Faults {
        token_answer_delay_ms: HOLD_MS,
        ..Faults::default()
    });
    let home = Home::new(&fake);
    (fake, home)
}

/// A bridge whose query (request id 1) is refreshing the session inside the model call, the
/// part a cancel stops: the catalog is fetched first with a valid token, then the token expires.
async fn bridge_mid_refresh(fake: &FakeOpenAi, home: &Home, rotations: u64) -> Raw {
    home.seed(fake, 3600).await;
    let mut b = Raw::spawn(home);
    let models = b.call(9, "codex_models", json!({}));
    assert_ne!(models["result"]["isError"], true, "{models}");
    home.seed(fake, -5).await;
    b.send_line(
        &json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "codex_query", "arguments": {"prompt": "hi", "model": "gpt-6.2-sol"}}})
        .to_string(),
    );
    wait_for_grant(fake, rotations);
    random_moment();
    b
}

#[tokio::test]
async fn an_mcp_cancel_during_a_refresh_keeps_the_rotation() {
    let (fake, home) = setup().await;
    for round in 1..=rounds() as u64 {
        let mut b = bridge_mid_refresh(&fake, &home, round).await;
        b.send_line(
            &json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                "params": {"requestId": 1, "reason": "Esc in Claude Code"}})
            .to_string(),
        );
        // The same bridge answers the next call without another refresh.
        b.send_line(
            &json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                "params": {"name": "codex_status", "arguments": {}}})
            .to_string(),
        );
        loop {
            let v: Value = b.next();
            if v["id"] == 2 {
                break;
            }
        }
        let (code, stderr) = b.finish();
        assert_eq!(code, Some(0), "{stderr}");
        check_survived(&fake, &home, round, &format!("MCP cancel, round {round}"));
    }
}

#[tokio::test]
async fn sigterm_or_stdin_closing_during_a_refresh_keeps_the_rotation() {
    let (fake, home) = setup().await;
    let mut rotations = 0;
    for round in 1..=rounds() {
        for how in ["SIGTERM", "stdin closed"] {
            rotations += 1;
            let b = bridge_mid_refresh(&fake, &home, rotations).await;
            if how == "SIGTERM" {
                signal(b.pid(), libc::SIGTERM);
            }
            let (code, stderr) = b.finish();
            assert_eq!(code, Some(0), "{how}: {stderr}");
            check_survived(&fake, &home, rotations, &format!("{how}, round {round}"));
        }
    }
}

#[tokio::test]
async fn ctrl_c_on_token_during_a_refresh_keeps_the_rotation() {
    let (fake, home) = setup().await;
    for round in 1..=rounds() as u64 {
        home.seed(&fake, -5).await;
        let run = Running::spawn({
            let mut c = home.cmd(&bin("codex-mcp-bridge"));
            c.arg("token");
            c
        });
        wait_for_grant(&fake, round);
        random_moment();
        signal(run.child.id(), libc::SIGINT);
        let (code, stderr) = run.finish();
        assert!(
            code == 130 || code == 0,
            "Ctrl-C ends the wait (130), or the token came first (0): {code} {stderr}"
        );
        check_survived(&fake, &home, round, &format!("Ctrl-C, round {round}"));
    }
}

/// Make the profile folder take no write, and give it back: the folder is moved aside and a
/// plain file stands in its place, so every write into it fails (ENOTDIR), as on a full or
/// read-only disk. (A file size limit cannot be set on another process in this sandbox, and
/// modes do not stop root.)
struct Unwritable {
    dir: std::path::PathBuf,
    aside: std::path::PathBuf,
}

impl Unwritable {
    fn now(dir: std::path::PathBuf) -> Self {
        let aside = dir.with_extension("aside");
        std::fs::rename(&dir, &aside).unwrap();
        std::fs::write(&dir, b"not a folder").unwrap();
        Self { dir, aside }
    }
    fn restore(self) {
        std::fs::remove_file(&self.dir).unwrap();
        std::fs::rename(&self.aside, &self.dir).unwrap();
    }
}

/// A store that takes no write while the answer is on its way (at a random moment of the
/// window): the rotation is kept in memory, the answer still comes, and once writes work again
/// the next call saves it.
#[tokio::test]
async fn a_write_failure_during_a_refresh_keeps_the_rotation() {
    let (fake, home) = setup().await;
    for round in 1..=rounds() as u64 {
        let mut b = bridge_mid_refresh(&fake, &home, round).await;
        let broken = Unwritable::now(home.profile_dir());
        let answer = b.answer(1);
        assert_ne!(answer["result"]["isError"], true, "round {round}: {answer}");
        broken.restore();
        b.send_line(
            &json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                "params": {"name": "codex_models", "arguments": {}}})
            .to_string(),
        );
        b.answer(2);
        let (code, stderr) = b.finish();
        assert_eq!(code, Some(0), "{stderr}");
        check_survived(
            &fake,
            &home,
            round,
            &format!("write failure, round {round}"),
        );
    }
}

/// SIGKILL: no process saves after it. Measured, not prevented: the rotation is lost whenever
/// the kill lands before the answer is saved, which in this window is every time.
#[tokio::test]
async fn sigkill_during_a_refresh_loses_the_rotation_as_documented() {
    let (fake, home) = setup().await;
    let b = bridge_mid_refresh(&fake, &home, 1).await;
    signal(b.pid(), libc::SIGKILL);
    let _ = b.finish();
    let out = home.cli(&["token"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("sign in again"), "{err}");
    assert_eq!(fake.stats().reuse_rejections, 1);
}
