//! Refresh across processes: one refresh for everyone; dead sessions sign out; blips do not.

use fake_openai::Faults;
use serde_json::Value;

use crate::support::*;

#[tokio::test]
async fn eight_processes_with_twenty_callers_each_cause_exactly_one_refresh() {
    let fake = fake().await;
    let home = Home::new(&fake);
    // Valid for 60 s: inside the 5-minute margin, so every caller wants a refresh.
    home.seed(&fake, 60).await;
    fake.set_faults(Faults {
        token_delay_ms: 400,
        ..Faults::default()
    });
    let before = fake.stats();
    let children: Vec<_> = (0..8)
        .map(|_| {
            home.cmd(&own_bin("race-client"))
                .arg("20")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut all_tokens = Vec::new();
    for child in children {
        let out = tokio::task::spawn_blocking(move || child.wait_with_output())
            .await
            .unwrap()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["ok"], 20, "{v}");
        assert_eq!(v["errors"].as_array().unwrap().len(), 0, "{v}");
        all_tokens.extend(
            v["tokens"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap().to_string()),
        );
    }
    let after = fake.stats();
    assert_eq!(
        after.refresh_attempts - before.refresh_attempts,
        1,
        "refresh requests that reached the fake"
    );
    assert_eq!(after.refreshes - before.refreshes, 1);
    assert_eq!(after.reuse_rejections, 0);
    assert_eq!(all_tokens.len(), 160);
    all_tokens.dedup();
    assert_eq!(all_tokens.len(), 1, "everyone ends with the same token");
    // And the saved token is that one, valid for an hour.
    let (st, _) = home.status();
    assert_eq!(st["signed_in"], true);
}

#[tokio::test]
async fn token_refreshes_an_expiring_token_and_saves_the_rotated_refresh_token() {
    let fake = fake().await;
    let home = Home::new(&fake);
    home.seed(&fake, 30).await;
    let old = home.auth_json();
    let out = home.cli(&["token"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let new = home.auth_json();
    assert_eq!(new["tokens"]["access_token"], printed);
    assert_ne!(
        new["tokens"]["refresh_token"],
        old["tokens"]["refresh_token"]
    );
    assert_ne!(new["tokens"]["access_token"], old["tokens"]["access_token"]);
    assert_eq!(fake.stats().refreshes, 1);
    // A second call uses the saved token: no refresh.
    let again = home.cli(&["token"]);
    assert_eq!(String::from_utf8(again.stdout).unwrap().trim(), printed);
    assert_eq!(fake.stats().refresh_attempts, 1);
}

#[tokio::test]
async fn a_dead_refresh_token_signs_out_with_the_reason_kept() {
    for code in [
        "refresh_token_expired",
        "refresh_token_reused",
        "refresh_token_invalidated",
    ] {
        let fake = fake().await;
        let home = Home::new(&fake);
        home.seed(&fake, -10).await;
        fake.set_faults(Faults {
            refresh_error: Some(code.into()),
            ..Faults::default()
        });
        let out = home.cli(&["token"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(out.stdout.is_empty());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("session expired: sign in again") && err.contains(code),
            "{err}"
        );
        let (st, exit) = home.status();
        assert_eq!(exit, 1);
        assert_eq!(st["signed_in"], false);
        assert!(
            st["last_error"]
                .as_str()
                .unwrap()
                .contains("session expired"),
            "{st}"
        );
        assert_eq!(st["last_error_kind"], "sign_in", "{st}");
        assert!(!home.profile_dir().join("auth.json").exists());
    }
}

#[tokio::test]
async fn a_transient_refresh_failure_keeps_the_tokens() {
    for faults in [
        Faults {
            token_status: Some(503),
            ..Faults::default()
        },
        Faults {
            token_garbage: true,
            ..Faults::default()
        },
        Faults {
            token_missing_fields: true,
            ..Faults::default()
        },
    ] {
        let fake = fake().await;
        let home = Home::new(&fake);
        home.seed(&fake, -10).await;
        let before = home.auth_json();
        fake.set_faults(faults.clone());
        let out = home.cli(&["token"]);
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("try again") || err.contains("check the network"),
            "{err}"
        );
        assert!(!err.contains("sign in again"), "{err}");
        assert_eq!(home.auth_json(), before, "tokens kept as they were");
        let (st, exit) = home.status();
        assert_eq!(exit, 0);
        assert!(
            st["last_error"]
                .as_str()
                .unwrap()
                .contains("refresh failed"),
            "{st}"
        );
        assert_eq!(st["last_error_kind"], "retry", "{st}");
        // Once the server is back, the same tokens refresh fine.
        fake.set_faults(Faults::default());
        assert!(home.cli(&["token"]).status.success());
    }
}

#[tokio::test]
async fn a_token_inside_the_margin_is_still_served_when_the_server_is_down() {
    let fake = fake().await;
    let home = Home::new(&fake);
    home.seed(&fake, 120).await;
    let before = home.auth_json();
    fake.set_faults(Faults {
        token_status: Some(500),
        ..Faults::default()
    });
    let out = home.cli(&["token"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        before["tokens"]["access_token"].as_str().unwrap()
    );
}

/// A refresh that fails for a passing reason while other processes wait for it: they are told
/// at once instead of each asking the down issuer again in turn (one backoff for every
/// process). The issuer holds its failure back for 3 s, far longer than the waiters take to
/// start and queue on the lock.
#[tokio::test]
async fn processes_waiting_on_a_failing_refresh_do_not_ask_again() {
    let fake = fake().await;
    let home = Home::new(&fake);
    home.seed(&fake, -10).await;
    fake.set_faults(Faults {
        token_status: Some(503),
        token_delay_ms: 3000,
        ..Faults::default()
    });
    let first = Running::spawn({
        let mut c = home.cmd(&bin("codex-mcp-bridge"));
        c.arg("token");
        c
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while fake.stats().refresh_attempts < 1 {
        assert!(std::time::Instant::now() < deadline, "no refresh started");
        std::thread::park_timeout(std::time::Duration::from_millis(5));
    }
    let waiters: Vec<_> = (0..2)
        .map(|_| {
            Running::spawn({
                let mut c = home.cmd(&bin("codex-mcp-bridge"));
                c.arg("token");
                c
            })
        })
        .collect();
    assert_eq!(first.finish().0, 1);
    for w in waiters {
        let (code, stderr) = w.finish();
        assert_eq!(code, 1, "{stderr}");
        assert!(stderr.contains("try again"), "{stderr}");
        assert!(!stderr.contains("sign in again"), "{stderr}");
    }
    assert_eq!(
        fake.stats().refresh_attempts,
        1,
        "a waiting process asked the down issuer again"
    );
    // A call made after the failure tries again, and succeeds once the issuer is back.
    fake.set_faults(Faults::default());
    assert!(home.cli(&["token"]).status.success());
    assert_eq!(fake.stats().refresh_attempts, 2);
}

#[tokio::test]
async fn not_signed_in_token_says_how_to_sign_in() {
    let fake = fake().await;
    let home = Home::new(&fake);
    let out = home.cli(&["token"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not signed in") && err.contains("codex-mcp-bridge login"),
        "{err}"
    );
}
