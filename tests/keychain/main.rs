//! The store against a real Secret Service (gnome-keyring under dbus-run-session). These tests are
//! `#[ignore]`d in a plain run because they need that session; `scripts/test` starts one and runs
//! them with `--run-ignored only`. They fail (not skip) when the Secret Service is missing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;

use codex_oauth_core::store::{
    AuthRecord, Backend, KEYCHAIN_TIMEOUT, Keychain, OsKeychain, Store, TimedKeychain,
};
use codex_oauth_core::{KeychainError, Secret, Settings, StoreMode};

const NEEDS: &str = "needs a Secret Service: scripts/test runs it under dbus-run-session";

fn unique_profile(tag: &str) -> String {
    format!("t-{tag}-{}", uuid::Uuid::new_v4().simple())
}

fn settings(home: &std::path::Path, profile: &str, mode: StoreMode) -> Settings {
    let mut env = HashMap::new();
    env.insert(
        "CODEX_OAUTH_HOME".to_string(),
        home.to_string_lossy().into_owned(),
    );
    let mut s = Settings::from_env(&env).unwrap();
    s.profile = profile.to_string();
    s.store = mode;
    s
}

fn record(size: usize) -> AuthRecord {
    use base64::Engine;
    let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let jwt = |p: serde_json::Value| {
        format!(
            "{}.{}.sig",
            e.encode(b"{\"alg\":\"none\"}"),
            e.encode(p.to_string())
        )
    };
    let pad = "x".repeat(size);
    AuthRecord::from_tokens(
        Secret::new(jwt(
            serde_json::json!({"email": "ada@example.com", "pad": pad, "https://api.openai.com/auth": {"chatgpt_account_id": "acc-1"}}),
        )),
        Secret::new(jwt(serde_json::json!({"exp": 1_900_000_000, "pad": pad}))),
        Secret::new(format!("rt_{}", uuid::Uuid::new_v4().simple())),
        None,
    )
}

/// `secret-tool search --all service codex-oauth user <user>`: how many items, and their users.
fn items(user_prefix: &str) -> Vec<String> {
    let out = Command::new("secret-tool")
        .args(["search", "--all", "service", "codex-oauth"])
        .output()
        .unwrap();
    // A failed search is not "no items": say so instead of comparing against an empty list.
    assert!(
        out.status.success(),
        "secret-tool search failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("attribute.username = "))
        .filter(|u| u.starts_with(user_prefix))
        .map(str::to_owned)
        .collect()
}

fn lookup(user: &str) -> Option<String> {
    let out = Command::new("secret-tool")
        .args(["lookup", "service", "codex-oauth", "username", user])
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).to_string())
}

#[test]
#[ignore = "needs a Secret Service: scripts/test runs it under dbus-run-session"]
fn the_keyring_store_saves_loads_updates_in_place_and_deletes() {
    let _ = NEEDS;
    let home = tempfile::tempdir().unwrap();
    let profile = unique_profile("basic");
    let store = Store::open(&settings(home.path(), &profile, StoreMode::Keyring)).unwrap();
    let g = store.lock().unwrap();
    let rec = record(10);
    let out = store.save(&g, &rec).unwrap();
    assert_eq!(out.backend, Backend::Keyring);
    assert_eq!(store.load().unwrap().unwrap(), rec);
    // Secret Service sees one item, holding the Codex-shaped record. (A search right after the
    // first write of a fresh gnome-keyring can come back empty once: ask again, bounded.)
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while items(&profile).is_empty() && std::time::Instant::now() < deadline {
        std::thread::park_timeout(std::time::Duration::from_millis(100));
    }
    assert_eq!(items(&profile), vec![profile.clone()]);
    let raw = lookup(&profile).expect("secret-tool finds the item");
    let v: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(v["auth_mode"], "chatgpt");
    // Updated in place: still one item, new content.
    let rec2 = record(20);
    store.save(&g, &rec2).unwrap();
    assert_eq!(items(&profile).len(), 1);
    assert_eq!(store.load().unwrap().unwrap(), rec2);
    assert!(
        !store.auth_path().exists(),
        "nothing on disk in keyring mode"
    );
    assert!(store.delete(&g, None).unwrap());
    assert!(items(&profile).is_empty());
    assert!(store.load().unwrap().is_none());
}

/// The Windows Credential Manager limit, exercised on the real Secret Service.
struct SmallItems(OsKeychain);
impl Keychain for SmallItems {
    fn get(&self, u: &str) -> Result<Option<String>, KeychainError> {
        self.0.get(u)
    }
    fn set(&self, u: &str, v: &str) -> Result<(), KeychainError> {
        assert!(
            v.encode_utf16().count() <= 1_200,
            "an item over the limit was written"
        );
        self.0.set(u, v)
    }
    fn delete(&self, u: &str) -> Result<bool, KeychainError> {
        self.0.delete(u)
    }
    fn max_value_units(&self) -> usize {
        1_200
    }
}

#[test]
#[ignore = "needs a Secret Service: scripts/test runs it under dbus-run-session"]
fn a_record_over_the_item_limit_is_split_and_read_back_whole() {
    let home = tempfile::tempdir().unwrap();
    let profile = unique_profile("big");
    let kc: Arc<dyn Keychain> = Arc::new(TimedKeychain::new(
        Arc::new(SmallItems(OsKeychain::new("codex-oauth"))),
        KEYCHAIN_TIMEOUT,
    ));
    let store =
        Store::with_keychain(&settings(home.path(), &profile, StoreMode::Keyring), kc).unwrap();
    let g = store.lock().unwrap();
    let rec = record(4_000);
    store.save(&g, &rec).unwrap();
    let found = items(&profile);
    assert!(found.len() >= 8, "{found:?}");
    assert_eq!(store.load().unwrap().unwrap(), rec);
    let small = record(5);
    store.save(&g, &small).unwrap();
    assert_eq!(items(&profile), vec![profile.clone()], "old chunks removed");
    store.delete(&g, None).unwrap();
    assert!(items(&profile).is_empty());
}

#[test]
#[ignore = "needs a Secret Service: scripts/test runs it under dbus-run-session"]
fn auto_mode_uses_the_keychain_and_status_says_so() {
    let home = tempfile::tempdir().unwrap();
    let profile = unique_profile("auto");
    let store = Store::open(&settings(home.path(), &profile, StoreMode::Auto)).unwrap();
    let g = store.lock().unwrap();
    let out = store.save(&g, &record(10)).unwrap();
    assert_eq!(out.backend, Backend::Keyring);
    assert!(out.reason.is_none());
    let st = store.state();
    assert_eq!(st.backend, Some(Backend::Keyring));
    assert!(!store.auth_path().exists());
    store.delete(&g, None).unwrap();
}

fn cli(
    home: &std::path::Path,
    profile: &str,
    env: &[(&str, &str)],
    args: &[&str],
    stdin: &[u8],
) -> std::process::Output {
    let own = std::path::PathBuf::from(env!("CARGO_BIN_EXE_race-client"));
    let bridge = own.parent().unwrap().join("codex-mcp-bridge");
    assert!(bridge.exists(), "build the workspace first");
    let mut c = Command::new(bridge);
    c.env("CODEX_OAUTH_HOME", home)
        .env("CODEX_OAUTH_PROFILE", profile)
        .env("CODEX_OAUTH_STORE", "auto");
    for (k, v) in env {
        c.env(k, v);
    }
    let mut child = c
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), stdin).unwrap();
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn status(home: &std::path::Path, profile: &str, env: &[(&str, &str)]) -> serde_json::Value {
    let out = cli(home, profile, env, &["status", "--json"], b"");
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
#[ignore = "needs a Secret Service: scripts/test runs it under dbus-run-session"]
fn the_cli_stores_in_the_keychain_and_without_d_bus_falls_back_to_the_file_saying_why() {
    let home = tempfile::tempdir().unwrap();
    let profile = unique_profile("cli");
    let out = cli(
        home.path(),
        &profile,
        &[],
        &["login", "--with-api-key"],
        b"sk-proj-keychain\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let st = status(home.path(), &profile, &[]);
    assert_eq!(st["store"]["backend"], "keyring", "{st}");
    assert!(st["store"]["reason"].is_null());
    assert_eq!(items(&profile).len(), 1);
    cli(home.path(), &profile, &[], &["logout"], b"");
    assert!(items(&profile).is_empty());

    // No D-Bus session at all.
    let no_bus = [("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")];
    let profile2 = unique_profile("nobus");
    let out = cli(
        home.path(),
        &profile2,
        &no_bus,
        &["login", "--with-api-key"],
        b"sk-proj-file\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let st = status(home.path(), &profile2, &no_bus);
    assert_eq!(st["signed_in"], true);
    assert_eq!(st["store"]["backend"], "file", "{st}");
    let reason = st["store"]["reason"].as_str().unwrap();
    assert!(reason.starts_with("keychain unavailable"), "{reason}");
    assert!(home.path().join(&profile2).join("auth.json").exists());
}

#[test]
#[ignore = "needs dbus-daemon and python3-dbus: run by scripts/test"]
fn a_secret_service_that_never_answers_hits_the_time_limit_instead_of_hanging() {
    // A private bus where something owns org.freedesktop.secrets and never replies.
    let mut daemon = Reaped(
        Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut addr = String::new();
    BufReader::new(daemon.0.stdout.take().unwrap())
        .read_line(&mut addr)
        .unwrap();
    let addr = addr.trim().to_string();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/keychain/silent-secret-service.py"
    );
    // Debian's python3 (with python3-dbus), not whatever python3 comes first on PATH.
    let python = if std::path::Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    };
    let mut silent = Reaped(
        Command::new(python)
            .arg(script)
            .env("DBUS_SESSION_BUS_ADDRESS", &addr)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut ready = String::new();
    BufReader::new(silent.0.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert_eq!(
        ready.trim(),
        "ready",
        "the silent Secret Service did not start (is python3-dbus installed?)"
    );

    let home = tempfile::tempdir().unwrap();
    let profile = unique_profile("silent");
    let env = [("DBUS_SESSION_BUS_ADDRESS", addr.as_str())];
    let t = std::time::Instant::now();
    let out = cli(
        home.path(),
        &profile,
        &env,
        &["login", "--with-api-key"],
        b"sk-proj-silent\n",
    );
    let took = t.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let st = status(home.path(), &profile, &env);
    assert_eq!(st["store"]["backend"], "file", "{st}");
    let reason = st["store"]["reason"].as_str().unwrap();
    // Whichever limit fires first: the D-Bus library's own reply timeout (2 s in the
    // secret-service crate) or ours around every keychain call. The unit test
    // `a_hanging_keychain_hits_the_time_limit_and_then_fails_fast` covers ours alone.
    let ours = format!("did not answer within {} s", KEYCHAIN_TIMEOUT.as_secs());
    assert!(
        reason.starts_with("keychain unavailable")
            && (reason.contains(&ours) || reason.contains("Did not receive a reply")),
        "{reason}"
    );
    assert!(
        took < std::time::Duration::from_secs(2 * KEYCHAIN_TIMEOUT.as_secs() + 4),
        "took {took:?}"
    );
}

/// A child process killed and reaped when the test ends, even when it fails.
struct Reaped(std::process::Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
